//! Update groups: peers that would be sent the same bytes share one
//! Adj-RIB-Out and one stream of encoded UPDATEs.
//!
//! Two members are in one group exactly when their [`GroupKey`]s are
//! equal: the session type and peer AS, the export side of their
//! [`PeerConfig`] (policy by identity, next-hop mode and local addresses,
//! route-reflection client, role, local AS, MED propagation, NO_PEER) and
//! what they negotiated ([`Negotiated`]: 4-octet AS, extended messages,
//! families, ADD-PATH send mode, LLGR).
//!
//! Changes are packed in a batch per family: the prefixes announced,
//! grouped by exported attribute set in order of first appearance, and
//! the prefixes withdrawn. Encoding a batch writes the withdrawals, then
//! one run of UPDATEs per set, each as full as the session's maximum
//! message size allows (bgp-wire's builder).

use std::sync::Arc;

use bgp_wire::attribute::{MpNextHop, PathAttributes};
use bgp_wire::message::update::builder;
use bgp_wire::nlri::Nlri;
use bgp_wire::{AfiSafi, SessionContext};
use bytes::Bytes;
use ipnet::{IpNet, Ipv4Net};

use super::adj_rib_out::AdjRibOut;
use super::config::{Negotiated, PeerConfig};
use super::rules::Target;
use crate::attr_store::{AttrId, AttrStore, NextHop};
use crate::peer::{PeerId, PeerKind};
use crate::policy::Peer;

/// What makes members share a group (see the [module
/// documentation](self)).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GroupKey {
    /// The session type.
    pub kind: PeerKind,
    /// The peer AS.
    pub asn: u32,
    /// The export side of the configuration (import-only fields cleared).
    pub config: PeerConfig,
    /// What was negotiated.
    pub negotiated: Negotiated,
}

impl GroupKey {
    /// The key of a member.
    pub fn new(kind: PeerKind, asn: u32, config: &PeerConfig, negotiated: &Negotiated) -> Self {
        let mut config = config.clone();
        config.originated = false;
        config.allow_own_as = 0;
        if let Some(l) = &mut config.local_as {
            l.no_prepend = false;
        }
        let mut negotiated = negotiated.clone();
        negotiated.families.sort();
        negotiated.families.dedup();
        negotiated.add_path.sort_by_key(|(f, _)| *f);
        GroupKey {
            kind,
            asn,
            config,
            negotiated,
        }
    }
}

/// An update group.
#[derive(Debug)]
pub(crate) struct Group {
    pub(crate) key: GroupKey,
    pub(crate) target: Target,
    pub(crate) policy_peer: Peer,
    pub(crate) ctx: SessionContext,
    pub(crate) members: Vec<PeerId>,
    pub(crate) out: AdjRibOut,
}

impl Group {
    pub(crate) fn families(&self) -> impl Iterator<Item = AfiSafi> + '_ {
        self.key
            .negotiated
            .families
            .iter()
            .copied()
            .filter(|f| *f == AfiSafi::IPV4_UNICAST || *f == AfiSafi::IPV6_UNICAST)
    }
}

/// A set's attributes and next hop, ready for the builder.
#[derive(Debug, Clone)]
pub(crate) struct Encodable {
    pub(crate) attributes: PathAttributes,
    pub(crate) next_hop: NextHop,
}

/// The changes of one family waiting to be encoded: the announcements as
/// (bucket, NLRI) in arrival order, one bucket per exported set in order of
/// first appearance, and the withdrawals.
#[derive(Debug)]
pub(crate) struct Batch {
    pub(crate) family: AfiSafi,
    buckets: Vec<(AttrId, Arc<Encodable>, u32)>,
    /// Bucket index plus one of each set, by set index (0: none).
    slot_of: Vec<u32>,
    entries: Vec<(u32, Nlri)>,
    withdraw: Vec<Nlri>,
    scratch: Vec<Nlri>,
}

/// What encoding a batch produced.
#[derive(Debug, Default)]
pub(crate) struct Encoded {
    pub(crate) messages: Vec<Bytes>,
    pub(crate) announced: usize,
    pub(crate) withdrawn: usize,
    /// NLRI whose attributes could not be encoded (withdrawn instead).
    pub(crate) failed: Vec<Nlri>,
}

impl Batch {
    pub(crate) fn new(family: AfiSafi) -> Self {
        Batch {
            family,
            buckets: Vec::new(),
            slot_of: Vec::new(),
            entries: Vec::new(),
            withdraw: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Number of distinct sets waiting.
    pub(crate) fn sets(&self) -> usize {
        self.buckets.len()
    }

    /// Whether a set has a bucket already.
    pub(crate) fn has(&self, attr: AttrId) -> bool {
        self.slot_of
            .get(attr.index() as usize)
            .is_some_and(|b| *b != 0)
    }

    /// Adds an announcement. A new bucket takes a reference to its set
    /// (so that its id is not reused while the batch waits), released by
    /// [`Batch::encode`].
    pub(crate) fn announce(
        &mut self,
        store: &mut AttrStore,
        attr: AttrId,
        enc: impl FnOnce() -> Option<Arc<Encodable>>,
        nlri: Nlri,
    ) {
        let i = attr.index() as usize;
        let b = match self.slot_of.get(i).copied() {
            Some(b) if b != 0 => b - 1,
            _ => {
                let Some(e) = enc() else {
                    return;
                };
                store.retain(attr);
                if self.slot_of.len() <= i {
                    self.slot_of.resize(i + 1, 0);
                }
                let b = u32::try_from(self.buckets.len()).unwrap_or(u32::MAX);
                if let Some(s) = self.slot_of.get_mut(i) {
                    *s = b + 1;
                }
                self.buckets.push((attr, e, 0));
                b
            }
        };
        if let Some(bucket) = self.buckets.get_mut(b as usize) {
            bucket.2 += 1;
        }
        self.entries.push((b, nlri));
    }

    pub(crate) fn withdraw(&mut self, nlri: Nlri) {
        self.withdraw.push(nlri);
    }

    /// Encodes and empties the batch.
    pub(crate) fn encode(
        &mut self,
        ctx: &SessionContext,
        store: &mut AttrStore,
        out: &mut Encoded,
    ) {
        let family = self.family;
        let mut withdraw = std::mem::take(&mut self.withdraw);
        let buckets = std::mem::take(&mut self.buckets);
        // the prefixes of each bucket together, in arrival order
        let mut starts: Vec<usize> = Vec::with_capacity(buckets.len() + 1);
        let mut at = 0;
        for (_, _, n) in &buckets {
            starts.push(at);
            at += *n as usize;
        }
        starts.push(at);
        let mut fill = starts.clone();
        let filler = Nlri::new(IpNet::V4(Ipv4Net::default()));
        self.scratch.clear();
        self.scratch.resize(self.entries.len(), filler);
        for (b, n) in self.entries.drain(..) {
            if let Some(f) = fill.get_mut(b as usize) {
                if let Some(slot) = self.scratch.get_mut(*f) {
                    *slot = n;
                }
                *f += 1;
            }
        }
        let mut sent = Vec::new();
        for (k, (attr, enc, _)) in buckets.iter().enumerate() {
            if let Some(s) = self.slot_of.get_mut(attr.index() as usize) {
                *s = 0;
            }
            let (Some(&from), Some(&to)) = (starts.get(k), starts.get(k + 1)) else {
                continue;
            };
            let nlri = self.scratch.get(from..to).unwrap_or_default();
            let mp = mp_next_hop(family, enc.next_hop);
            match builder::announce(ctx, family, &enc.attributes, mp.as_ref(), nlri) {
                Ok(m) => {
                    out.announced += nlri.len();
                    sent.extend(m);
                }
                Err(_) => {
                    out.failed.extend(nlri.iter().copied());
                    withdraw.extend(nlri.iter().copied());
                }
            }
        }
        if !withdraw.is_empty() {
            out.withdrawn += withdraw.len();
            // Withdrawals always fit: each NLRI is at most 21 octets.
            if let Ok(m) = builder::withdraw(ctx, family, &withdraw) {
                out.messages.extend(m);
            }
        }
        out.messages.append(&mut sent);
        for (a, _, _) in &buckets {
            store.release(*a);
        }
        // a full table's worth is not kept allocated
        if self.scratch.capacity() > 1 << 16 {
            self.scratch = Vec::new();
            self.entries = Vec::new();
        }
    }
}

/// The MP_REACH_NLRI next hop of a route of `family` (`None`: IPv4 in the
/// NLRI field).
pub(crate) fn mp_next_hop(family: AfiSafi, nh: NextHop) -> Option<MpNextHop> {
    match (family == AfiSafi::IPV4_UNICAST, nh) {
        (true, NextHop::V4(_)) => None,
        (_, NextHop::V4(a)) => Some(MpNextHop::Ipv4(a)),
        (_, NextHop::V6 { global, link_local }) => Some(MpNextHop::Ipv6 { global, link_local }),
    }
}
