//! Attribute interning: every distinct attribute set (path attributes plus
//! next hop) is allocated once, and every route that carries it refers to
//! it by a 4-octet [`AttrId`].
//!
//! Sets are equal when their *key bytes* are equal: the next hop followed
//! by the attributes encoded as [`PathAttributes::encode`] writes them for
//! a 4-octet-AS session (type-code order, flags as received), so the same
//! attributes received from 2- and 4-octet-AS peers share one set. Each
//! set also keeps the few decoded values best-path selection reads, so
//! selection never decodes.
//!
//! The store counts the references to each set: a path holds one, and a
//! set whose count falls to zero is freed at once (its slot is reused).
//! Callers outside the RIB see a set as an [`Arc<AttrSet>`], which stays
//! valid after the RIB lets the set go (a change report can outlive the
//! route it describes).
//!
//! Memory per set is the key bytes plus about 150 octets (see
//! [`AttrStore::heap_bytes`]); a full IPv4 table from one peer has about one
//! set per ten prefixes.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use bgp_wire::attribute::{Community, Origin, PathAttributes, PeerType, SegmentType};
use bgp_wire::{DecodeError, EncodeError, MpNextHop, SessionContext};
use bytes::{BufMut, Bytes, BytesMut};

/// The next hop of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NextHop {
    /// An IPv4 next hop (NEXT_HOP, or a 4-octet MP_REACH_NLRI next hop).
    V4(Ipv4Addr),
    /// An IPv6 next hop, with its link-local address when one was sent.
    V6 {
        /// The global address.
        global: Ipv6Addr,
        /// The link-local address (RFC 2545 3).
        link_local: Option<Ipv6Addr>,
    },
}

impl NextHop {
    /// The address to resolve: the IPv4 address or the IPv6 global one.
    pub fn addr(&self) -> IpAddr {
        match self {
            NextHop::V4(a) => IpAddr::V4(*a),
            NextHop::V6 { global, .. } => IpAddr::V6(*global),
        }
    }

    /// The next hop of MP_REACH_NLRI, `None` for an opaque one.
    pub fn from_mp(nh: &MpNextHop) -> Option<NextHop> {
        match nh {
            MpNextHop::Ipv4(a) => Some(NextHop::V4(*a)),
            MpNextHop::Ipv6 { global, link_local } => Some(NextHop::V6 {
                global: *global,
                link_local: *link_local,
            }),
            MpNextHop::Opaque(_) => None,
        }
    }

    fn put(&self, buf: &mut BytesMut) {
        match self {
            NextHop::V4(a) => {
                buf.put_u8(4);
                buf.put_slice(&a.octets());
            }
            NextHop::V6 {
                global,
                link_local: None,
            } => {
                buf.put_u8(16);
                buf.put_slice(&global.octets());
            }
            NextHop::V6 {
                global,
                link_local: Some(l),
            } => {
                buf.put_u8(32);
                buf.put_slice(&global.octets());
                buf.put_slice(&l.octets());
            }
        }
    }
}

impl From<Ipv4Addr> for NextHop {
    fn from(a: Ipv4Addr) -> Self {
        NextHop::V4(a)
    }
}

impl From<Ipv6Addr> for NextHop {
    fn from(a: Ipv6Addr) -> Self {
        NextHop::V6 {
            global: a,
            link_local: None,
        }
    }
}

impl From<IpAddr> for NextHop {
    fn from(a: IpAddr) -> Self {
        match a {
            IpAddr::V4(a) => a.into(),
            IpAddr::V6(a) => a.into(),
        }
    }
}

/// The AS a route was learned from, for the MED comparison (RFC 4271
/// 9.1.2.2 c): the first AS of the AS_PATH after any confederation
/// segments (RFC 5065 5.3), when that part starts with an AS_SEQUENCE.
/// `None` when the path has no such AS (empty, locally originated or
/// learned inside the AS or confederation, or starting with an AS_SET);
/// routes with `None` count as coming from one and the same neighbour.
pub fn neighbour_as(attrs: &PathAttributes) -> Option<u32> {
    let path = attrs.as_path.as_ref()?;
    let first = path.segments().find(|s| !s.kind().is_confed())?;
    if first.kind() == SegmentType::AsSequence {
        first.asns().next()
    } else {
        None
    }
}

/// One interned attribute set: the key bytes and the values best-path
/// selection reads.
#[derive(Debug, PartialEq, Eq)]
pub struct AttrSet {
    key: Box<[u8]>,
    next_hop: NextHop,
    origin: Origin,
    local_pref: Option<u32>,
    med: Option<u32>,
    as_path_len: u32,
    neighbour_as: Option<u32>,
    originator_id: Option<Ipv4Addr>,
    cluster_list_len: u32,
    llgr_stale: bool,
}

impl AttrSet {
    /// The next hop.
    pub fn next_hop(&self) -> NextHop {
        self.next_hop
    }
    /// ORIGIN; INCOMPLETE when the set has none.
    pub fn origin(&self) -> Origin {
        self.origin
    }
    /// LOCAL_PREF as received (or set by import policy).
    pub fn local_pref(&self) -> Option<u32> {
        self.local_pref
    }
    /// MULTI_EXIT_DISC.
    pub fn med(&self) -> Option<u32> {
        self.med
    }
    /// The AS_PATH length used in selection ([`bgp_wire::AsPath::len`]:
    /// an AS_SET counts one, confederation segments none).
    pub fn as_path_len(&self) -> u32 {
        self.as_path_len
    }
    /// The neighbouring AS for MED comparison (see [`neighbour_as`]).
    pub fn neighbour_as(&self) -> Option<u32> {
        self.neighbour_as
    }
    /// ORIGINATOR_ID (RFC 4456).
    pub fn originator_id(&self) -> Option<Ipv4Addr> {
        self.originator_id
    }
    /// CLUSTER_LIST length, 0 without one.
    pub fn cluster_list_len(&self) -> u32 {
        self.cluster_list_len
    }
    /// Whether COMMUNITIES holds LLGR_STALE (RFC 9494): the route is then
    /// least preferred.
    pub fn llgr_stale(&self) -> bool {
        self.llgr_stale
    }

    fn attr_offset(&self) -> usize {
        1 + usize::from(self.key.first().copied().unwrap_or(0))
    }

    /// The path attributes encoded for a 4-octet-AS session.
    pub fn encoded(&self) -> &[u8] {
        self.key.get(self.attr_offset()..).unwrap_or_default()
    }

    /// The path attributes, decoded again from [`AttrSet::encoded`].
    pub fn attributes(&self) -> Result<PathAttributes, DecodeError> {
        let ctx = SessionContext::default().with_four_octet_as(true);
        let bytes = Bytes::copy_from_slice(self.encoded());
        PathAttributes::decode(&bytes, &ctx, PeerType::Oad, false).map(|d| d.attributes)
    }

    /// Heap bytes of this set: the set itself inside its `Arc` and the key
    /// bytes.
    pub fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + 16 + self.key.len()
    }
}

/// The index of an interned set in its [`AttrStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttrId(pub(crate) u32);

impl AttrId {
    /// The raw index.
    pub fn index(self) -> u32 {
        self.0
    }
}

/// Map key: a set, hashed and compared by its key bytes, and so findable
/// by a byte slice.
#[derive(Debug, Clone)]
struct KeyRef(Arc<AttrSet>);

impl Borrow<[u8]> for KeyRef {
    fn borrow(&self) -> &[u8] {
        &self.0.key
    }
}
impl Hash for KeyRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.key[..].hash(state);
    }
}
impl PartialEq for KeyRef {
    fn eq(&self, other: &Self) -> bool {
        self.0.key == other.0.key
    }
}
impl Eq for KeyRef {}

#[derive(Debug, Default)]
struct Slot {
    set: Option<Arc<AttrSet>>,
    refs: u32,
}

/// Why an attribute set could not be interned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InternError {
    /// The attributes do not encode (an attribute longer than 65,535 octets).
    #[error("attributes cannot be encoded: {0}")]
    Encode(#[from] EncodeError),
    /// More than 2^32 distinct sets.
    #[error("attribute store full")]
    Full,
}

/// The interned attribute sets, with a reference count each.
#[derive(Debug, Default)]
pub struct AttrStore {
    slots: Vec<Slot>,
    free: Vec<u32>,
    /// Seeded per store (a peer cannot predict collisions from one run to
    /// the next); several times faster than SipHash on ~100-octet keys.
    map: HashMap<KeyRef, u32, foldhash::fast::RandomState>,
    scratch: BytesMut,
}

impl AttrStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of live sets.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no set is live.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Finds or adds the set of these attributes and next hop. A new set
    /// starts with no reference: take one with [`AttrStore::retain`] for
    /// each route that uses it, and call [`AttrStore::release_if_unused`]
    /// when done adding, so that a set no route took is freed.
    pub fn intern(
        &mut self,
        attrs: &PathAttributes,
        next_hop: NextHop,
    ) -> Result<AttrId, InternError> {
        let ctx = SessionContext::default().with_four_octet_as(true);
        let mut buf = std::mem::take(&mut self.scratch);
        buf.clear();
        next_hop.put(&mut buf);
        let r = attrs.encode(&ctx, &mut buf);
        let out = match r {
            Err(e) => Err(InternError::Encode(e)),
            Ok(()) => match self.map.get(&buf[..]) {
                Some(&i) => Ok(AttrId(i)),
                None => self.insert_new(&buf, attrs, next_hop),
            },
        };
        self.scratch = buf;
        out
    }

    fn insert_new(
        &mut self,
        key: &[u8],
        attrs: &PathAttributes,
        next_hop: NextHop,
    ) -> Result<AttrId, InternError> {
        let set = Arc::new(AttrSet {
            key: key.into(),
            next_hop,
            origin: attrs.origin.unwrap_or(Origin::Incomplete),
            local_pref: attrs.local_pref,
            med: attrs.multi_exit_disc,
            as_path_len: attrs
                .as_path
                .as_ref()
                .map_or(0, |p| u32::try_from(p.len()).unwrap_or(u32::MAX)),
            neighbour_as: neighbour_as(attrs),
            originator_id: attrs.originator_id,
            cluster_list_len: attrs
                .cluster_list
                .as_ref()
                .map_or(0, |c| u32::try_from(c.len()).unwrap_or(u32::MAX)),
            llgr_stale: attrs
                .communities
                .as_ref()
                .is_some_and(|c| c.contains(&Community::LLGR_STALE)),
        });
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                let i = u32::try_from(self.slots.len()).map_err(|_| InternError::Full)?;
                self.slots.push(Slot::default());
                i
            }
        };
        if let Some(slot) = self.slots.get_mut(index as usize) {
            slot.set = Some(set.clone());
            slot.refs = 0;
        }
        self.map.insert(KeyRef(set), index);
        Ok(AttrId(index))
    }

    /// The set of an id (`None` for a freed id).
    pub fn get(&self, id: AttrId) -> Option<&Arc<AttrSet>> {
        self.slots.get(id.0 as usize)?.set.as_ref()
    }

    /// The number of references to a set.
    pub fn refs(&self, id: AttrId) -> u32 {
        self.slots.get(id.0 as usize).map_or(0, |s| s.refs)
    }

    /// Takes one reference.
    pub fn retain(&mut self, id: AttrId) {
        if let Some(s) = self.slots.get_mut(id.0 as usize) {
            s.refs = s.refs.saturating_add(1);
        }
    }

    /// Drops one reference, freeing the set when none is left.
    pub fn release(&mut self, id: AttrId) {
        if let Some(s) = self.slots.get_mut(id.0 as usize) {
            s.refs = s.refs.saturating_sub(1);
        }
        self.release_if_unused(id);
    }

    /// Frees the set if no reference is held.
    pub fn release_if_unused(&mut self, id: AttrId) {
        let Some(s) = self.slots.get_mut(id.0 as usize) else {
            return;
        };
        if s.refs > 0 {
            return;
        }
        if let Some(set) = s.set.take() {
            self.map.remove(&set.key[..]);
            self.free.push(id.0);
        }
    }

    /// Heap bytes held: slots, the hash index (at its capacity, one control
    /// octet per bucket), the sets and their key bytes.
    pub fn heap_bytes(&self) -> usize {
        let slots = self.slots.capacity() * std::mem::size_of::<Slot>();
        let index = self.map.capacity() * (std::mem::size_of::<(KeyRef, u32)>() + 1);
        let sets: usize = self.map.keys().map(|k| k.0.heap_bytes()).sum();
        slots + index + sets + self.free.capacity() * 4 + self.scratch.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgp_wire::AsPath;
    use bgp_wire::attribute::Communities;

    fn attrs(path: &[u32], med: Option<u32>) -> PathAttributes {
        PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(path)),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
            multi_exit_disc: med,
            ..PathAttributes::default()
        }
    }

    #[test]
    fn one_allocation_per_distinct_set() {
        let mut s = AttrStore::new();
        let nh = NextHop::V4(Ipv4Addr::new(192, 0, 2, 1));
        let a = s.intern(&attrs(&[65001, 65002], None), nh).unwrap();
        let b = s.intern(&attrs(&[65001, 65002], None), nh).unwrap();
        let c = s.intern(&attrs(&[65001, 65002], Some(5)), nh).unwrap();
        let d = s
            .intern(
                &attrs(&[65001, 65002], None),
                NextHop::V4(Ipv4Addr::new(192, 0, 2, 2)),
            )
            .unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_eq!(s.len(), 3);
        assert!(Arc::ptr_eq(s.get(a).unwrap(), s.get(b).unwrap()));
        let set = s.get(c).unwrap().clone();
        assert_eq!(set.med(), Some(5));
        assert_eq!(set.as_path_len(), 2);
        assert_eq!(set.neighbour_as(), Some(65001));
        assert_eq!(set.attributes().unwrap(), attrs(&[65001, 65002], Some(5)));
        // references: two routes on `a`, none on `c`
        s.retain(a);
        s.retain(a);
        s.release_if_unused(c);
        s.release_if_unused(d);
        assert_eq!(s.len(), 1);
        assert!(s.get(c).is_none());
        // the Arc handed out outlives the set's slot
        assert_eq!(set.med(), Some(5));
        s.release(a);
        assert_eq!(s.refs(a), 1);
        s.release(a);
        assert!(s.is_empty());
        // freed slots are reused
        let e = s.intern(&attrs(&[1], None), nh).unwrap();
        assert!(e.index() <= 2);
    }

    #[test]
    fn selection_values() {
        let mut s = AttrStore::new();
        let mut a = attrs(&[], None);
        a.as_path = Some(AsPath::from_segments([
            (SegmentType::AsConfedSequence, &[64512u32, 64513][..]),
            (SegmentType::AsSequence, &[65010, 65011][..]),
            (SegmentType::AsSet, &[1, 2, 3][..]),
        ]));
        a.local_pref = Some(200);
        a.originator_id = Some(Ipv4Addr::new(1, 1, 1, 1));
        a.cluster_list = Some(bgp_wire::attribute::ClusterList::from_items(&[
            Ipv4Addr::new(2, 2, 2, 2),
            Ipv4Addr::new(3, 3, 3, 3),
        ]));
        a.communities = Some(Communities::from_items(&[Community::LLGR_STALE]));
        let id = s.intern(&a, NextHop::V4(Ipv4Addr::LOCALHOST)).unwrap();
        let set = s.get(id).unwrap();
        assert_eq!(set.as_path_len(), 3);
        assert_eq!(set.neighbour_as(), Some(65010));
        assert_eq!(set.local_pref(), Some(200));
        assert_eq!(set.cluster_list_len(), 2);
        assert!(set.llgr_stale());
        assert_eq!(set.origin(), Origin::Igp);
        // AS_SET first or empty: no neighbouring AS
        let mut b = attrs(&[], None);
        assert_eq!(neighbour_as(&b), None);
        b.as_path = Some(AsPath::from_segments([(SegmentType::AsSet, &[7u32][..])]));
        assert_eq!(neighbour_as(&b), None);
        // 2-octet and 4-octet sessions: the same key
        let ctx2 = SessionContext::default();
        let mut buf = BytesMut::new();
        attrs(&[65001], None).encode(&ctx2, &mut buf).unwrap();
        let d = PathAttributes::decode(&buf.freeze(), &ctx2, PeerType::Oad, true).unwrap();
        let x = s
            .intern(&d.attributes, NextHop::V4(Ipv4Addr::LOCALHOST))
            .unwrap();
        let y = s
            .intern(&attrs(&[65001], None), NextHop::V4(Ipv4Addr::LOCALHOST))
            .unwrap();
        assert_eq!(x, y);
    }
}
