//! Route propagation: what each peer is sent, computed once per update
//! group, packed into UPDATE messages that every member of the group
//! shares.
//!
//! Pure: no I/O, no clocks, no threads. The caller registers peers'
//! configurations ([`Exporter::set_peer_config`]), makes established
//! sessions members ([`Exporter::join`]), feeds the RIB's change reports
//! ([`Exporter::record`]) and calls [`Exporter::flush`]; each member's
//! messages wait in its queue ([`Exporter::take_messages`]), ready to be
//! written to its socket.
//!
//! - [`rules`]: the export of one route to one receiver (eBGP and iBGP
//!   rules, well-known communities, OTC, next hop, MED, LOCAL_PREF), with
//!   the [`ExportPolicy`] hook;
//! - [`route_reflection`]: RFC 4456;
//! - [`update_group`]: which members share a group, and the packing of
//!   UPDATEs;
//! - [`adj_rib_out`]: the per-group Adj-RIB-Out, as attribute-set handles;
//! - [`add_path_send`]: ADD-PATH send, all paths or the best N, with
//!   stable path identifiers;
//! - [`config`]: the configuration types.
//!
//! # How a flush works
//!
//! The changed prefixes recorded since the last flush are sorted and
//! deduplicated. For each group, each prefix's export is computed from the
//! RIB as it is now (the best path, or the ranked paths with ADD-PATH),
//! compared with the group's Adj-RIB-Out, and the differences go into a
//! batch: announcements grouped by exported attribute set, withdrawals.
//! The batch is encoded into as few UPDATEs as the session's maximum
//! message size allows and the messages (reference-counted [`Bytes`]) are
//! appended to every member's queue. The export of a route whose policy
//! result leaves it unchanged is cached per (attribute set, source peer)
//! for the flush, so a full table with 100,000 sets is exported with
//! 100,000 transformations, not a million.
//!
//! A group's first member is sent the whole table (a walk of the Loc-RIB)
//! and End-of-RIB for each family; a member that joins an existing group
//! is sent the group's Adj-RIB-Out (a walk of that table) and End-of-RIB,
//! while the group goes on incrementally; a route refresh re-sends one
//! family's Adj-RIB-Out to one member only.
//!
//! ```
//! use bgp_rib::{AllReachable, DecisionConfig, NextHop, PeerInfo, PeerKind, Rib};
//! use bgp_rib::export::{Exporter, LocalAddresses, Negotiated, PeerConfig, SpeakerConfig};
//! use bgp_wire::attribute::{AsPath, Origin, PathAttributes, PeerType};
//! use bgp_wire::{nlri::Nlri, Update};
//!
//! let mut rib = Rib::new(DecisionConfig::default());
//! let info = |asn, a: &str| PeerInfo {
//!     kind: PeerKind::External, asn, router_id: a.parse().unwrap(), address: a.parse().unwrap(),
//!     local: false,
//! };
//! let from = rib.add_peer(info(64501, "192.0.2.1")).unwrap();
//! let to = rib.add_peer(info(64502, "198.51.100.2")).unwrap();
//!
//! let mut ex = Exporter::new(SpeakerConfig::new(64500, "203.0.113.1".parse().unwrap()));
//! ex.set_peer_config(to, PeerConfig::default()
//!     .with_local_addresses(LocalAddresses::v4("198.51.100.1".parse().unwrap())));
//! ex.join(&rib, to, Negotiated::default(), &AllReachable).unwrap();
//! assert_eq!(ex.take_messages(to).len(), 1); // End-of-RIB: the table is empty
//!
//! let attrs = PathAttributes {
//!     origin: Some(Origin::Igp),
//!     as_path: Some(AsPath::from_sequence(&[64501])),
//!     next_hop: Some("192.0.2.1".parse().unwrap()),
//!     ..PathAttributes::default()
//! };
//! let mut changes = Vec::new();
//! let prefixes = (0..3u8).map(|i| Nlri::new(format!("10.{i}.0.0/16").parse().unwrap()));
//! rib.announce(from, &attrs, NextHop::V4("192.0.2.1".parse().unwrap()), prefixes, &AllReachable, &mut changes).unwrap();
//! ex.record(&changes);
//! ex.flush(&rib, &AllReachable);
//!
//! let msgs = ex.take_messages(to);
//! assert_eq!(msgs.len(), 1); // three prefixes, one attribute set: one UPDATE
//! let ctx = Negotiated::default().send_context().reversed();
//! let u = Update::decode(msgs[0].slice(19..), &ctx).unwrap();
//! let a = u.attributes(&ctx, PeerType::External).unwrap().attributes;
//! assert_eq!(a.as_path.unwrap().to_string(), "64500 64501");
//! assert_eq!(a.next_hop, Some("198.51.100.1".parse().unwrap()));
//! assert_eq!(u.nlri().count(), 3);
//! ```

pub mod add_path_send;
pub mod adj_rib_out;
pub mod config;
pub mod route_reflection;
pub mod rules;
pub mod update_group;

use std::collections::HashMap;
use std::sync::Arc;

use bgp_wire::AfiSafi;
use bgp_wire::attribute::PathAttributes;
use bgp_wire::message::update::builder;
use bgp_wire::nlri::{Nlri, PathId};
use bytes::Bytes;
use ipnet::IpNet;

pub use adj_rib_out::AdjRibOut;
pub use config::{
    AddPathSend, LocalAddresses, LocalAs, Negotiated, NextHopMode, PeerConfig, PolicyRef,
    SpeakerConfig,
};
pub use rules::{ExportPolicy, Exported, Filtered, PolicyResult, RouteIn, SourceClass, Target};
pub use update_group::GroupKey;

use crate::attr_store::{AttrId, AttrSet, AttrStore};
use crate::change::BestChange;
use crate::decision::Selector;
use crate::loc_rib::Rib;
use crate::path::{PathFlags, PathRec};
use crate::peer::PeerId;
use crate::resolver::NextHopResolver;
use add_path_send::OutPath;
use config::family_of;
use update_group::{Batch, Encodable, Encoded, Group};

/// A batch is encoded once it holds this many distinct attribute sets (a
/// bound on the memory a walk holds: about 0.5 KiB per set plus 60 octets
/// per prefix). A full table has about 100,000 sets whose prefixes are
/// spread over the whole address space, so a smaller bound would split
/// most sets across several batches and send several times more UPDATEs.
const BATCH_SETS: usize = 1 << 18;
/// Slots of the direct-mapped cache of decoded Loc-RIB attribute sets.
const DECODED_SLOTS: usize = 4096;

/// Why an [`Exporter`] call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// The peer is not registered in the RIB.
    #[error("unknown peer {0:?}")]
    UnknownPeer(PeerId),
    /// The peer is not a member of any group.
    #[error("peer {0:?} is not a member of an update group")]
    NotAMember(PeerId),
}

/// An update group's index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(u32);

impl GroupId {
    /// The raw index.
    pub fn index(self) -> u32 {
        self.0
    }
}

/// What a flush, join or refresh produced, all groups together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportReport {
    /// Groups that had something to send.
    pub groups: usize,
    /// Routes announced (per group, not per member).
    pub announced: usize,
    /// Routes withdrawn (per group).
    pub withdrawn: usize,
    /// UPDATE messages written (per group; End-of-RIB included).
    pub updates: usize,
    /// Octets of those messages.
    pub bytes: usize,
    /// Routes whose attributes could not be encoded in one message (sent
    /// as withdrawals).
    pub too_big: usize,
}

impl ExportReport {
    fn add(&mut self, e: &Encoded) {
        if !e.messages.is_empty() {
            self.groups += 1;
        }
        self.announced += e.announced - e.failed.len().min(e.announced);
        self.withdrawn += e.withdrawn;
        self.updates += e.messages.len();
        self.bytes += e.messages.iter().map(Bytes::len).sum::<usize>();
        self.too_big += e.failed.len();
    }
}

/// Sizes of the Adj-RIBs-Out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportMemory {
    /// Update groups.
    pub groups: usize,
    /// Routes held, all groups.
    pub routes: usize,
    /// Distinct exported attribute sets.
    pub attr_sets: usize,
    /// Bytes of the groups' tables.
    pub table_bytes: usize,
    /// Bytes of the exported attribute store.
    pub attr_bytes: usize,
    /// Messages waiting in member queues, and their octets (shared
    /// between members, counted once per message).
    pub queued_bytes: usize,
}

impl ExportMemory {
    /// All bytes held for the Adj-RIBs-Out (queues excluded).
    pub fn total(&self) -> usize {
        self.table_bytes + self.attr_bytes
    }
}

#[derive(Debug)]
struct Member {
    group: usize,
    negotiated: Negotiated,
    queue: Vec<Bytes>,
}

/// The update groups of one RIB, their Adj-RIBs-Out and the members'
/// queues (see the [module documentation](self)).
#[derive(Debug)]
pub struct Exporter {
    speaker: SpeakerConfig,
    configs: Vec<Option<PeerConfig>>,
    groups: Vec<Option<Group>>,
    index: HashMap<GroupKey, usize>,
    members: HashMap<PeerId, Member>,
    attrs: AttrStore,
    dirty: Vec<IpNet>,
    selector: Selector,
    decoded: DecodeCache,
    scratch: Scratch,
}

impl Exporter {
    /// An exporter with no group.
    pub fn new(speaker: SpeakerConfig) -> Self {
        Exporter {
            speaker,
            configs: Vec::new(),
            groups: Vec::new(),
            index: HashMap::new(),
            members: HashMap::new(),
            attrs: AttrStore::new(),
            dirty: Vec::new(),
            selector: Selector::default(),
            decoded: DecodeCache::new(),
            scratch: Scratch::default(),
        }
    }

    /// The speaker's configuration.
    pub fn speaker(&self) -> &SpeakerConfig {
        &self.speaker
    }

    /// Sets a peer's configuration (a source of routes, a receiver, or
    /// both). A member keeps the group it joined with: call
    /// [`Exporter::rejoin`] to apply a new receiver configuration, and
    /// [`Exporter::reexport`] after a change that affects the routes a peer
    /// is the source of (`rr_client`, `originated`).
    pub fn set_peer_config(&mut self, peer: PeerId, cfg: PeerConfig) {
        let i = usize::from(peer.index());
        if self.configs.len() <= i {
            self.configs.resize(i + 1, None);
        }
        if let Some(slot) = self.configs.get_mut(i) {
            *slot = Some(cfg);
        }
    }

    /// A peer's configuration (the default if none was set).
    pub fn peer_config(&self, peer: PeerId) -> &PeerConfig {
        config_of(&self.configs, peer)
    }

    /// Makes an established session a member of its update group and
    /// queues what it must be sent first: the whole table and End-of-RIB
    /// for each family (from the Loc-RIB for a new group, from the group's
    /// Adj-RIB-Out otherwise). A peer that is a member already leaves its
    /// group first.
    pub fn join(
        &mut self,
        rib: &Rib,
        peer: PeerId,
        negotiated: Negotiated,
        resolver: &impl NextHopResolver,
    ) -> Result<(GroupId, ExportReport), ExportError> {
        let info = rib
            .peer(peer)
            .ok_or(ExportError::UnknownPeer(peer))?
            .clone();
        if self.members.contains_key(&peer) {
            self.leave(peer)?;
        }
        let cfg = self.peer_config(peer).clone();
        let key = GroupKey::new(info.kind, info.asn, &cfg, &negotiated);
        let mut report = ExportReport::default();
        let gi = match self.index.get(&key) {
            Some(&gi) => {
                let mut enc = self.replay(gi, None);
                eor(&mut enc, self.groups.get(gi).and_then(Option::as_ref));
                report.add(&enc);
                self.members.insert(
                    peer,
                    Member {
                        group: gi,
                        negotiated,
                        queue: enc.messages,
                    },
                );
                gi
            }
            None => {
                let target = Target {
                    kind: info.kind,
                    asn: info.asn,
                    address: info.address,
                    router_id: info.router_id,
                    config: cfg,
                    llgr: negotiated.llgr,
                };
                let ap = |f| negotiated.add_path(f).is_some();
                let group = Group {
                    policy_peer: target.policy_peer(&self.speaker),
                    ctx: negotiated.send_context(),
                    out: AdjRibOut::new(ap(AfiSafi::IPV4_UNICAST), ap(AfiSafi::IPV6_UNICAST)),
                    members: Vec::new(),
                    key: key.clone(),
                    target,
                };
                let gi = match self.groups.iter().position(Option::is_none) {
                    Some(i) => {
                        if let Some(s) = self.groups.get_mut(i) {
                            *s = Some(group);
                        }
                        i
                    }
                    None => {
                        self.groups.push(Some(group));
                        self.groups.len() - 1
                    }
                };
                self.index.insert(key, gi);
                let mut enc = self.run(gi, rib, resolver, Work::Full);
                eor(&mut enc, self.groups.get(gi).and_then(Option::as_ref));
                report.add(&enc);
                self.members.insert(
                    peer,
                    Member {
                        group: gi,
                        negotiated,
                        queue: enc.messages,
                    },
                );
                gi
            }
        };
        if let Some(Some(g)) = self.groups.get_mut(gi) {
            g.members.push(peer);
        }
        Ok((GroupId(gi_u32(gi)), report))
    }

    /// Leaves the group it is in and joins again with the same negotiated
    /// parameters and its current configuration (its table is sent again).
    pub fn rejoin(
        &mut self,
        rib: &Rib,
        peer: PeerId,
        resolver: &impl NextHopResolver,
    ) -> Result<(GroupId, ExportReport), ExportError> {
        let neg = self
            .members
            .get(&peer)
            .map(|m| m.negotiated.clone())
            .ok_or(ExportError::NotAMember(peer))?;
        self.join(rib, peer, neg, resolver)
    }

    /// Removes a member (its session went down); a group left without
    /// members is dropped with its Adj-RIB-Out. Returns the messages it
    /// had not taken.
    pub fn leave(&mut self, peer: PeerId) -> Result<Vec<Bytes>, ExportError> {
        let m = self
            .members
            .remove(&peer)
            .ok_or(ExportError::NotAMember(peer))?;
        let empty = match self.groups.get_mut(m.group) {
            Some(Some(g)) => {
                g.members.retain(|p| *p != peer);
                g.members.is_empty()
            }
            _ => false,
        };
        if empty {
            if let Some(mut g) = self.groups.get_mut(m.group).and_then(Option::take) {
                self.index.remove(&g.key);
                for a in g.out.drain_refs() {
                    self.attrs.release(a);
                }
            }
        }
        Ok(m.queue)
    }

    /// Records best-path changes for the next flush. They cover every
    /// change of what groups without ADD-PATH send, except a change of
    /// the best path's flags alone (entering LLGR): feed the touched
    /// prefixes ([`Exporter::record_prefixes`]) for those.
    pub fn record(&mut self, changes: &[BestChange]) {
        self.dirty.extend(changes.iter().map(|c| c.prefix));
    }

    /// Records changed prefixes for the next flush: every prefix a RIB
    /// operation touched ([`Rib::track_touched`] and
    /// [`Rib::take_touched`]), which covers what best-path changes miss:
    /// changes of paths that are not best (ADD-PATH groups send them) and
    /// flag-only changes (LLGR-stale paths are sent differently). The
    /// recommended feed; prefixes recorded twice cost nothing more.
    pub fn record_prefixes(&mut self, prefixes: impl IntoIterator<Item = IpNet>) {
        self.dirty.extend(prefixes);
    }

    /// Whether any group sends ADD-PATH (the caller must then feed touched
    /// prefixes, not only best-path changes).
    pub fn needs_touched(&self) -> bool {
        self.groups
            .iter()
            .flatten()
            .any(|g| !g.key.negotiated.add_path.is_empty())
    }

    /// Computes every group's changes for the prefixes recorded since the
    /// last flush and queues the UPDATEs to the members.
    pub fn flush(&mut self, rib: &Rib, resolver: &impl NextHopResolver) -> ExportReport {
        let mut dirty = std::mem::take(&mut self.dirty);
        sort_prefixes(&mut dirty);
        let mut report = ExportReport::default();
        if !dirty.is_empty() {
            for gi in 0..self.groups.len() {
                if self.groups.get(gi).is_some_and(Option::is_some) {
                    let enc = self.run(gi, rib, resolver, Work::Prefixes(&dirty));
                    report.add(&enc);
                    self.deliver(gi, &enc.messages);
                }
            }
        }
        dirty.clear();
        // a full table's worth of changes is not kept allocated
        if dirty.capacity() > 1 << 16 {
            dirty = Vec::new();
        }
        self.dirty = dirty;
        report
    }

    /// Recomputes every route of every group (after an export policy
    /// changed its behaviour, or a source peer's configuration changed)
    /// and queues the differences. Pending recorded changes are flushed
    /// with it.
    pub fn reexport(&mut self, rib: &Rib, resolver: &impl NextHopResolver) -> ExportReport {
        for g in self.groups.iter().flatten() {
            self.dirty.extend(g.out.prefix_list());
        }
        self.dirty.extend(rib.loc_rib().map(|(p, _)| p));
        self.flush(rib, resolver)
    }

    /// Queues to one member only the group's Adj-RIB-Out of `family` (all
    /// families with `None`): the answer to a ROUTE-REFRESH. The other
    /// members are not disturbed. With enhanced route refresh (RFC 7313)
    /// the caller sends BoRR before and EoRR after.
    pub fn route_refresh(
        &mut self,
        peer: PeerId,
        family: Option<AfiSafi>,
    ) -> Result<ExportReport, ExportError> {
        let gi = self
            .members
            .get(&peer)
            .map(|m| m.group)
            .ok_or(ExportError::NotAMember(peer))?;
        let enc = self.replay(gi, family);
        let mut report = ExportReport::default();
        report.add(&enc);
        if let Some(m) = self.members.get_mut(&peer) {
            m.queue.extend(enc.messages);
        }
        Ok(report)
    }

    /// Takes the messages queued for a member, in the order to send them.
    pub fn take_messages(&mut self, peer: PeerId) -> Vec<Bytes> {
        self.members
            .get_mut(&peer)
            .map(|m| std::mem::take(&mut m.queue))
            .unwrap_or_default()
    }

    /// Number of messages queued for a member.
    pub fn queued(&self, peer: PeerId) -> usize {
        self.members.get(&peer).map_or(0, |m| m.queue.len())
    }

    /// The group of a member.
    pub fn group_of(&self, peer: PeerId) -> Option<GroupId> {
        self.members.get(&peer).map(|m| GroupId(gi_u32(m.group)))
    }

    /// The members of a group.
    pub fn members(&self, group: GroupId) -> &[PeerId] {
        self.group(group).map_or(&[], |g| &g.members[..])
    }

    /// A group's key.
    pub fn group_key(&self, group: GroupId) -> Option<&GroupKey> {
        self.group(group).map(|g| &g.key)
    }

    /// A group's Adj-RIB-Out.
    pub fn adj_rib_out(&self, group: GroupId) -> Option<&AdjRibOut> {
        self.group(group).map(|g| &g.out)
    }

    /// A group's Adj-RIB-Out of one family as routes: the NLRI sent and
    /// the exported set.
    pub fn sent_routes(&self, group: GroupId, family: AfiSafi) -> Vec<(Nlri, Arc<AttrSet>)> {
        let Some(g) = self.group(group) else {
            return Vec::new();
        };
        g.out
            .iter(family)
            .filter_map(|(n, a)| Some((n, self.attrs.get(a)?.clone())))
            .collect()
    }

    /// The groups.
    pub fn groups(&self) -> impl Iterator<Item = GroupId> + '_ {
        self.groups
            .iter()
            .enumerate()
            .filter(|(_, g)| g.is_some())
            .map(|(i, _)| GroupId(gi_u32(i)))
    }

    /// The exported attribute sets.
    pub fn attr_store(&self) -> &AttrStore {
        &self.attrs
    }

    /// Sizes of the Adj-RIBs-Out.
    pub fn memory(&self) -> ExportMemory {
        let mut m = ExportMemory {
            attr_sets: self.attrs.len(),
            attr_bytes: self.attrs.heap_bytes(),
            ..ExportMemory::default()
        };
        let mut seen = std::collections::HashSet::new();
        for g in self.groups.iter().flatten() {
            m.groups += 1;
            m.routes += g.out.routes();
            m.table_bytes += g.out.heap_bytes();
        }
        for mem in self.members.values() {
            for b in &mem.queue {
                if seen.insert(b.as_ptr()) {
                    m.queued_bytes += b.len();
                }
            }
        }
        m
    }

    fn group(&self, g: GroupId) -> Option<&Group> {
        self.groups.get(g.0 as usize)?.as_ref()
    }

    fn deliver(&mut self, gi: usize, messages: &[Bytes]) {
        if messages.is_empty() {
            return;
        }
        let Some(Some(g)) = self.groups.get(gi) else {
            return;
        };
        for p in &g.members {
            if let Some(m) = self.members.get_mut(p) {
                m.queue.extend(messages.iter().cloned());
            }
        }
    }

    /// The group's Adj-RIB-Out as UPDATEs (one family, or all).
    fn replay(&mut self, gi: usize, only: Option<AfiSafi>) -> Encoded {
        let mut enc = Encoded::default();
        let Some(Some(g)) = self.groups.get(gi) else {
            return enc;
        };
        let store = &mut self.attrs;
        for family in g.families().filter(|f| only.is_none_or(|o| o == *f)) {
            let mut batch = Batch::new(family);
            for (nlri, attr) in g.out.iter(family) {
                // decoded once per set and batch
                let e = if batch.has(attr) {
                    None
                } else {
                    store.get(attr).and_then(encodable)
                };
                batch.announce(store, attr, || e, nlri);
                if batch.sets() >= BATCH_SETS {
                    batch.encode(&g.ctx, store, &mut enc);
                }
            }
            batch.encode(&g.ctx, store, &mut enc);
        }
        enc
    }

    /// Runs one group over some prefixes or the whole table.
    fn run(
        &mut self,
        gi: usize,
        rib: &Rib,
        resolver: &impl NextHopResolver,
        work: Work<'_>,
    ) -> Encoded {
        let Some(Some(group)) = self.groups.get_mut(gi) else {
            return Encoded::default();
        };
        let mut pass = Pass {
            speaker: &self.speaker,
            configs: &self.configs,
            store: &mut self.attrs,
            decoded: &mut self.decoded,
            selector: &mut self.selector,
            scratch: &mut self.scratch,
            held: Vec::new(),
            rib,
            resolver,
            v4: Batch::new(AfiSafi::IPV4_UNICAST),
            v6: Batch::new(AfiSafi::IPV6_UNICAST),
            enc: Encoded::default(),
        };
        let families: Vec<AfiSafi> = group.families().collect();
        let has = |f: AfiSafi| families.contains(&f);
        match work {
            Work::Prefixes(ps) => {
                for p in ps {
                    if !has(family_of(p)) {
                        continue;
                    }
                    if group.out.is_add_path(p) {
                        pass.prefix_paths(group, *p, rib.stored_paths(p));
                    } else {
                        let best = rib.stored_best(p).map(|r| Src::of(&r));
                        pass.prefix_best(group, *p, best);
                    }
                }
            }
            Work::Full => {
                let v4 = has(AfiSafi::IPV4_UNICAST);
                let v6 = has(AfiSafi::IPV6_UNICAST);
                for (p, paths, best) in rib.stored_iter() {
                    if !(if p.addr().is_ipv6() { v6 } else { v4 }) {
                        continue;
                    }
                    if group.out.is_add_path(&p) {
                        pass.prefix_paths(group, p, paths);
                    } else if let Some(b) = best {
                        pass.prefix_best(group, p, Some(Src::of(b)));
                    }
                }
            }
        }
        pass.finish(group)
    }
}

/// Sorts prefixes into address order (IPv4 first, then IPv6; shorter
/// first at one address) and removes repeats, through integer keys.
fn sort_prefixes(v: &mut Vec<IpNet>) {
    let mut v4: Vec<u64> = Vec::with_capacity(v.len());
    let mut v6: Vec<(u128, u8)> = Vec::new();
    for p in v.iter() {
        match p {
            IpNet::V4(n) => {
                v4.push((u64::from(u32::from(n.network())) << 8) | u64::from(n.prefix_len()))
            }
            IpNet::V6(n) => v6.push((u128::from(n.network()), n.prefix_len())),
        }
    }
    v4.sort_unstable();
    v4.dedup();
    v6.sort_unstable();
    v6.dedup();
    v.clear();
    v.extend(v4.iter().filter_map(|k| {
        let addr = std::net::Ipv4Addr::from(u32::try_from(k >> 8).ok()?);
        let len = u8::try_from(k & 0xff).ok()?;
        ipnet::Ipv4Net::new(addr, len).ok().map(IpNet::V4)
    }));
    v.extend(v6.iter().filter_map(|(a, len)| {
        ipnet::Ipv6Net::new(std::net::Ipv6Addr::from(*a), *len)
            .ok()
            .map(IpNet::V6)
    }));
}

fn gi_u32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

static DEFAULT_CONFIG: std::sync::LazyLock<PeerConfig> =
    std::sync::LazyLock::new(PeerConfig::default);

fn config_of(configs: &[Option<PeerConfig>], peer: PeerId) -> &PeerConfig {
    configs
        .get(usize::from(peer.index()))
        .and_then(Option::as_ref)
        .unwrap_or(&DEFAULT_CONFIG)
}

/// End-of-RIB for each of the group's families.
fn eor(enc: &mut Encoded, g: Option<&Group>) {
    if let Some(g) = g {
        enc.messages.extend(g.families().map(builder::end_of_rib));
    }
}

/// A stored exported set, ready for the builder.
fn encodable(set: &Arc<AttrSet>) -> Option<Arc<Encodable>> {
    Some(Arc::new(Encodable {
        attributes: set.attributes().ok()?,
        next_hop: set.next_hop(),
    }))
}

enum Work<'a> {
    Prefixes(&'a [IpNet]),
    Full,
}

/// A Loc-RIB path as the exporter reads it: no handle on its set is
/// taken unless its export must be computed.
#[derive(Debug, Clone, Copy)]
struct Src {
    peer: PeerId,
    path_id: PathId,
    attr: AttrId,
    flags: PathFlags,
}

impl Src {
    fn of(r: &PathRec) -> Self {
        Src {
            peer: r.peer,
            path_id: r.path_id,
            attr: r.attr_id(),
            flags: r.public_flags(),
        }
    }
}

/// Cached: dropped by the filters before policy, whatever policy says.
const FILTERED: u32 = u32::MAX;
/// Cached: not exported (after the filters, without policy changes).
const NOT_SENT: u32 = u32::MAX - 1;

/// One entry of the export cache: which (source peer, flags, family) it
/// is for (0: empty), and the exported set's index or a sentinel.
#[derive(Debug, Clone, Copy, Default)]
struct Dense {
    tag: u32,
    value: u32,
}

fn cache_tag(src: &Src, v6: bool) -> u32 {
    (1 << 31)
        | (u32::from(v6) << 24)
        | (u32::from(src.flags.bits()) << 16)
        | u32::from(src.peer.index())
}

/// The export cache of a pass, kept allocated between passes and reset
/// entry by entry: the result per Loc-RIB attribute set (by its index),
/// with a map for a set seen from several peers or with several flags;
/// and the encodable form of each exported set made in the pass.
#[derive(Debug, Default)]
struct Scratch {
    dense: Vec<Dense>,
    filled: Vec<u32>,
    overflow: HashMap<(u32, u32), u32, foldhash::fast::RandomState>,
    encs: Vec<Option<Arc<Encodable>>>,
}

impl Scratch {
    fn get(&self, idx: u32, tag: u32) -> Option<u32> {
        match self.dense.get(idx as usize) {
            Some(d) if d.tag == tag => Some(d.value),
            Some(d) if d.tag != 0 => self.overflow.get(&(idx, tag)).copied(),
            _ => None,
        }
    }

    fn put(&mut self, idx: u32, tag: u32, value: u32) {
        let i = idx as usize;
        if self.dense.len() <= i {
            self.dense.resize(i + 1, Dense::default());
        }
        let Some(d) = self.dense.get_mut(i) else {
            return;
        };
        if d.tag == 0 {
            *d = Dense { tag, value };
            self.filled.push(idx);
        } else if d.tag == tag {
            d.value = value;
        } else {
            self.overflow.insert((idx, tag), value);
        }
    }

    fn set_enc(&mut self, id: AttrId, e: Arc<Encodable>) {
        let i = id.index() as usize;
        if self.encs.len() <= i {
            self.encs.resize(i + 1, None);
        }
        if let Some(slot) = self.encs.get_mut(i) {
            *slot = Some(e);
        }
    }

    fn enc(&self, id: AttrId) -> Option<Arc<Encodable>> {
        self.encs.get(id.index() as usize).cloned().flatten()
    }

    fn reset(&mut self, held: &[AttrId]) {
        for &i in &self.filled {
            if let Some(d) = self.dense.get_mut(i as usize) {
                *d = Dense::default();
            }
        }
        self.filled.clear();
        self.overflow.clear();
        for id in held {
            if let Some(e) = self.encs.get_mut(id.index() as usize) {
                *e = None;
            }
        }
    }
}

/// Decoded Loc-RIB attribute sets, direct-mapped by the set's address.
#[derive(Debug)]
struct DecodeCache {
    slots: Vec<Option<(Arc<AttrSet>, Arc<PathAttributes>)>>,
}

impl DecodeCache {
    fn new() -> Self {
        DecodeCache {
            slots: vec![None; DECODED_SLOTS],
        }
    }

    fn get(&mut self, set: &Arc<AttrSet>) -> Option<Arc<PathAttributes>> {
        let addr = Arc::as_ptr(set) as usize;
        let i = (addr >> 4).wrapping_mul(0x9E37_79B9) % DECODED_SLOTS;
        let slot = self.slots.get_mut(i)?;
        if let Some((s, a)) = slot {
            if Arc::ptr_eq(s, set) {
                return Some(a.clone());
            }
        }
        let a = Arc::new(set.attributes().ok()?);
        *slot = Some((set.clone(), a.clone()));
        Some(a)
    }

    fn clear(&mut self) {
        self.slots.iter_mut().for_each(|s| *s = None);
    }
}

/// One group's run over prefixes.
struct Pass<'a, R> {
    speaker: &'a SpeakerConfig,
    configs: &'a [Option<PeerConfig>],
    store: &'a mut AttrStore,
    decoded: &'a mut DecodeCache,
    selector: &'a mut Selector,
    scratch: &'a mut Scratch,
    /// One reference per exported set made in the pass, released at its
    /// end.
    held: Vec<AttrId>,
    rib: &'a Rib,
    resolver: &'a R,
    v4: Batch,
    v6: Batch,
    enc: Encoded,
}

impl<R: NextHopResolver> Pass<'_, R> {
    /// The exported set of one Loc-RIB path for the group, or `None`.
    fn export(&mut self, group: &Group, prefix: IpNet, src: Src) -> Option<AttrId> {
        let tag = cache_tag(&src, prefix.addr().is_ipv6());
        let idx = src.attr.index();
        let policy = group.target.config.export_policy.as_ref();
        let cached = self.scratch.get(idx, tag);
        match cached {
            Some(FILTERED) => return None,
            Some(v) if policy.is_none() => return (v != NOT_SENT).then_some(AttrId(v)),
            _ => {}
        }
        let set = self.rib.attr_store().get(src.attr)?;
        let info = self.rib.peer(src.peer)?;
        let src_cfg = config_of(self.configs, src.peer);
        let attrs = self.decoded.get(set)?;
        let rin = RouteIn {
            prefix,
            attributes: &attrs,
            next_hop: set.next_hop(),
            flags: src.flags,
            source: SourceClass::of(info, src_cfg),
            source_router_id: info.router_id,
        };
        if rules::filter(self.speaker, &rin, &group.target).is_err() {
            self.scratch.put(idx, tag, FILTERED);
            return None;
        }
        let (changed, request) = match policy {
            None => (None, None),
            Some(p) => match p
                .0
                .evaluate(prefix, &attrs, rin.next_hop, &group.policy_peer)
            {
                PolicyResult::Reject => return None,
                r if r.is_unchanged_accept() => (None, None),
                PolicyResult::Accept {
                    attributes,
                    next_hop,
                } => (Some(attributes.into_owned()), next_hop),
            },
        };
        let plain = changed.is_none() && request.is_none();
        if let (true, Some(v)) = (plain, cached) {
            return (v != NOT_SENT).then_some(AttrId(v));
        }
        let ex = rules::transform(
            self.speaker,
            &rin,
            &group.target,
            changed.as_ref().unwrap_or(&attrs),
            request,
        );
        let id = match ex {
            Ok(ex) => {
                let id = self.store.intern(&ex.attributes, ex.next_hop).ok();
                if let Some(id) = id {
                    self.store.retain(id);
                    self.held.push(id);
                    self.scratch.set_enc(
                        id,
                        Arc::new(Encodable {
                            attributes: ex.attributes,
                            next_hop: ex.next_hop,
                        }),
                    );
                }
                id
            }
            Err(_) => None,
        };
        if plain {
            self.scratch
                .put(idx, tag, id.map_or(NOT_SENT, AttrId::index));
        }
        id
    }

    fn batch(&mut self, prefix: &IpNet) -> &mut Batch {
        if prefix.addr().is_ipv6() {
            &mut self.v6
        } else {
            &mut self.v4
        }
    }

    fn announce(&mut self, group: &Group, nlri: Nlri, attr: AttrId) {
        let scratch = &*self.scratch;
        let store = &mut *self.store;
        let batch = if nlri.prefix.addr().is_ipv6() {
            &mut self.v6
        } else {
            &mut self.v4
        };
        batch.announce(store, attr, || scratch.enc(attr), nlri);
        if batch.sets() >= BATCH_SETS {
            batch.encode(&group.ctx, store, &mut self.enc);
        }
    }

    /// One prefix of a family without ADD-PATH.
    fn prefix_best(&mut self, group: &mut Group, prefix: IpNet, best: Option<Src>) {
        let desired = best.and_then(|r| self.export(group, prefix, r));
        let old = group.out.get(&prefix);
        match desired {
            Some(a) if old != Some(a) => {
                self.store.retain(a);
                group.out.set(&prefix, Some(a));
                if let Some(o) = old {
                    self.store.release(o);
                }
                self.announce(group, Nlri::new(prefix), a);
            }
            Some(_) => {}
            None => {
                if let Some(o) = old {
                    group.out.set(&prefix, None);
                    self.store.release(o);
                    self.batch(&prefix).withdraw(Nlri::new(prefix));
                }
            }
        }
    }

    /// One prefix of an ADD-PATH family.
    fn prefix_paths(&mut self, group: &mut Group, prefix: IpNet, paths: &[PathRec]) {
        let limit = match group.key.negotiated.add_path(family_of(&prefix)) {
            Some(AddPathSend::Best(n)) => usize::from(n),
            _ => usize::MAX,
        };
        let order = add_path_send::rank_stored(self.rib, paths, self.resolver, self.selector);
        let mut desired: Vec<((PeerId, PathId), AttrId)> = Vec::new();
        for i in order {
            if desired.len() >= limit {
                break;
            }
            let Some(r) = paths.get(i) else { continue };
            let src = Src::of(r);
            if let Some(a) = self.export(group, prefix, src) {
                desired.push(((src.peer, src.path_id), a));
            }
        }
        let old: Vec<OutPath> = group.out.paths(&prefix).to_vec();
        let new = add_path_send::assign(&old, &desired);
        if new == old {
            return;
        }
        for n in &new {
            self.store.retain(n.attr);
            let same = old
                .iter()
                .any(|o| o.path_id == n.path_id && o.attr == n.attr);
            if !same {
                self.announce(group, Nlri::with_path_id(prefix, n.path_id), n.attr);
            }
        }
        for o in &old {
            if !new.iter().any(|n| n.path_id == o.path_id) {
                self.batch(&prefix)
                    .withdraw(Nlri::with_path_id(prefix, o.path_id));
            }
            self.store.release(o.attr);
        }
        group.out.set_paths(&prefix, new);
    }

    fn finish(mut self, group: &mut Group) -> Encoded {
        let store = &mut *self.store;
        self.v4.encode(&group.ctx, store, &mut self.enc);
        self.v6.encode(&group.ctx, store, &mut self.enc);
        self.scratch.reset(&self.held);
        for id in self.held.drain(..) {
            self.store.release(id);
        }
        self.decoded.clear();
        let failed = std::mem::take(&mut self.enc.failed);
        for n in &failed {
            let released: Vec<AttrId> = match n.path_id {
                None => group.out.set(&n.prefix, None).into_iter().collect(),
                Some(id) => {
                    let mut paths = group.out.paths(&n.prefix).to_vec();
                    let gone: Vec<AttrId> = paths
                        .iter()
                        .filter(|o| o.path_id == id)
                        .map(|o| o.attr)
                        .collect();
                    paths.retain(|o| o.path_id != id);
                    group.out.set_paths(&n.prefix, paths);
                    gone
                }
            };
            for a in released {
                self.store.release(a);
            }
        }
        self.enc.failed = failed;
        self.enc
    }
}
