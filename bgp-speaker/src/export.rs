//! Route propagation to the peers, run by the RIB task: which best routes
//! each peer gets, with which attributes, packed into UPDATEs.
//!
//! This is the speaker's own interim rule set, kept behind one seam (the
//! `Exporter`: peers up and down, changed prefixes in, UPDATEs out on
//! each peer's bounded queue) so that bgp-rib's export module (update
//! groups sharing encoded UPDATEs, ADD-PATH send) can take its place
//! without the rest of the speaker changing. The rules:
//!
//! - a route is not sent back to the peer it came from;
//! - NO_ADVERTISE: to nobody; NO_EXPORT and NO_EXPORT_SUBCONFED: not to
//!   external peers;
//! - internal to internal only by reflection (RFC 4456): a client's route
//!   to every internal peer, a non-client's to the clients only, with
//!   ORIGINATOR_ID set and our cluster ID prepended to CLUSTER_LIST;
//! - to external peers: our AS prepended (the session's local AS), next
//!   hop self (unless `next_hop = "unchanged"`), LOCAL_PREF, ORIGINATOR_ID
//!   and CLUSTER_LIST removed, MED kept only on our own routes;
//! - to internal peers: LOCAL_PREF sent (100 if none), next hop unchanged
//!   (self with `next_hop = "self"`, except on reflected routes; our own
//!   routes without a next hop get ours);
//! - then the peer's export policy, whose next-hop request is applied.
//!
//! Each peer has a queue of prefixes to look at again (the *dirty* set,
//! one entry per prefix however often it changed) and the set of prefixes
//! it was sent (its Adj-RIB-Out). A flush takes as many dirty prefixes as
//! the peer's outbound queue has room for, reads their best route *now*
//! (so a prefix that changed ten times while the peer was slow is sent
//! once, in its latest state), and packs those with equal attributes into
//! shared UPDATEs. A peer whose queue is full is skipped without waiting;
//! its writer task asks for a flush when it has taken from the queue. So a
//! slow or stuck peer costs the RIB task nothing but its dirty set,
//! bounded by the number of prefixes.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bgp_rib::policy::{Chain, NextHopAction, Peer as PolicyPeer, RouteView};
use bgp_rib::{NextHop, PeerId, PeerKind, Rib};
use bgp_wire::attribute::{ClusterList, Community, MpNextHop};
use bgp_wire::message::update::builder;
use bgp_wire::nlri::Nlri;
use bgp_wire::{AfiSafi, PathAttributes, SessionContext, Update};
use ipnet::IpNet;
use tokio::sync::mpsc;

use crate::config::NextHopMode;
use crate::status::PeerShared;

/// What a peer's writer task sends, in order.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// An UPDATE.
    Update(Update),
    /// The initial table of this family is sent: End-of-RIB.
    EndOfRib(AfiSafi),
}

/// The speaker-wide values propagation reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Global {
    pub(crate) router_id: Ipv4Addr,
    pub(crate) local_as: u32,
    pub(crate) cluster_id: Ipv4Addr,
}

/// A peer's export settings (those that change without a reset).
#[derive(Debug, Clone)]
pub(crate) struct ExportSettings {
    pub(crate) rr_client: bool,
    pub(crate) next_hop: NextHopMode,
    pub(crate) ipv4_next_hop: Option<Ipv4Addr>,
    pub(crate) ipv6_next_hop: Option<Ipv6Addr>,
    pub(crate) local_as: u32,
    pub(crate) policy: Option<Chain>,
}

/// What the RIB task knows of the source of a path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source {
    pub(crate) kind: PeerKind,
    pub(crate) rr_client: bool,
    pub(crate) router_id: Ipv4Addr,
    pub(crate) local: bool,
}

/// One established session's export state.
#[derive(Debug)]
pub(crate) struct OutSession {
    pub(crate) rib_id: PeerId,
    pub(crate) kind: PeerKind,
    pub(crate) policy_peer: PolicyPeer,
    pub(crate) ctx: SessionContext,
    pub(crate) readback: SessionContext,
    pub(crate) families: Vec<AfiSafi>,
    pub(crate) local: Option<IpAddr>,
    pub(crate) tx: mpsc::Sender<Outbound>,
    /// Set when the queue was found full: the writer asks for a flush.
    pub(crate) wake: Arc<AtomicBool>,
    dirty: VecDeque<IpNet>,
    dirty_set: HashSet<IpNet>,
    advertised: HashSet<IpNet>,
    eor_pending: Vec<AfiSafi>,
}

impl OutSession {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        rib_id: PeerId,
        kind: PeerKind,
        policy_peer: PolicyPeer,
        ctx: SessionContext,
        families: Vec<AfiSafi>,
        local: Option<IpAddr>,
        tx: mpsc::Sender<Outbound>,
        wake: Arc<AtomicBool>,
    ) -> Self {
        OutSession {
            rib_id,
            kind,
            policy_peer,
            readback: ctx.reversed(),
            ctx,
            eor_pending: families.clone(),
            families,
            local,
            tx,
            wake,
            dirty: VecDeque::new(),
            dirty_set: HashSet::new(),
            advertised: HashSet::new(),
        }
    }

    fn mark(&mut self, prefix: IpNet) {
        if self.dirty_set.insert(prefix) {
            self.dirty.push_back(prefix);
        }
    }
}

/// One peer, established or not.
#[derive(Debug)]
pub(crate) struct ExportPeer {
    pub(crate) settings: ExportSettings,
    pub(crate) session: Option<OutSession>,
    pub(crate) shared: Arc<PeerShared>,
}

/// Propagation to every peer (see the [module documentation](self)).
#[derive(Debug, Default)]
pub(crate) struct Exporter {
    pub(crate) peers: HashMap<IpAddr, ExportPeer>,
}

/// Prefixes per flush step (bounded by the queue's room as well).
const CHUNK: usize = 2048;

fn family_of(p: &IpNet) -> AfiSafi {
    match p {
        IpNet::V4(_) => AfiSafi::IPV4_UNICAST,
        IpNet::V6(_) => AfiSafi::IPV6_UNICAST,
    }
}

impl Exporter {
    /// A changed prefix: every established peer looks at it again.
    pub(crate) fn changed(&mut self, prefix: IpNet) {
        let f = family_of(&prefix);
        for p in self.peers.values_mut() {
            if let Some(s) = p.session.as_mut() {
                if s.families.contains(&f) {
                    s.mark(prefix);
                }
            }
        }
    }

    /// Marks every prefix of the Loc-RIB dirty for one peer (initial
    /// table, route refresh, export policy change), and every prefix it
    /// was sent (so that those now refused are withdrawn).
    pub(crate) fn resend_all(&mut self, key: IpAddr, rib: &Rib) {
        let Some(s) = self.peers.get_mut(&key).and_then(|p| p.session.as_mut()) else {
            return;
        };
        let adv: Vec<IpNet> = s.advertised.iter().copied().collect();
        for p in adv {
            s.mark(p);
        }
        for (prefix, _) in rib.loc_rib() {
            if s.families.contains(&family_of(&prefix)) {
                s.mark(prefix);
            }
        }
    }

    /// Sends what fits in each peer's queue.
    pub(crate) fn flush(&mut self, rib: &Rib, sources: &HashMap<PeerId, Source>, g: &Global) {
        for p in self.peers.values_mut() {
            flush_peer(p, rib, sources, g);
        }
    }

    /// Sends what fits in one peer's queue.
    pub(crate) fn flush_one(
        &mut self,
        key: IpAddr,
        rib: &Rib,
        sources: &HashMap<PeerId, Source>,
        g: &Global,
    ) {
        if let Some(p) = self.peers.get_mut(&key) {
            flush_peer(p, rib, sources, g);
        }
    }
}

fn flush_peer(p: &mut ExportPeer, rib: &Rib, sources: &HashMap<PeerId, Source>, g: &Global) {
    let Some(s) = p.session.as_mut() else {
        return;
    };
    let mut cache: HashMap<*const bgp_rib::AttrSet, Option<PathAttributes>> = HashMap::new();
    loop {
        // Each prefix gives at most one message, withdrawals at most one
        // per family: this many fit.
        let room = s.tx.capacity().saturating_sub(2);
        if s.dirty.is_empty() {
            while let Some(f) = s.eor_pending.first().copied() {
                if s.tx.try_send(Outbound::EndOfRib(f)).is_err() {
                    s.wake.store(true, Ordering::Relaxed);
                    break;
                }
                s.eor_pending.remove(0);
            }
            break;
        }
        if room == 0 {
            s.wake.store(true, Ordering::Relaxed);
            break;
        }
        let n = room.min(CHUNK).min(s.dirty.len());
        let chunk: Vec<IpNet> = s.dirty.drain(..n).collect();
        let mut groups: HashMap<(AfiSafi, PathAttributes, NextHop), Vec<Nlri>> = HashMap::new();
        let mut order: Vec<(AfiSafi, PathAttributes, NextHop)> = Vec::new();
        let mut withdraw: [Vec<Nlri>; 2] = [Vec::new(), Vec::new()];
        for prefix in chunk {
            s.dirty_set.remove(&prefix);
            let f = family_of(&prefix);
            match export_one(s, &p.settings, g, rib, sources, prefix, &mut cache) {
                Some((attrs, nh)) => {
                    s.advertised.insert(prefix);
                    let key = (f, attrs, nh);
                    match groups.get_mut(&key) {
                        Some(v) => v.push(Nlri::new(prefix)),
                        None => {
                            order.push(key.clone());
                            groups.insert(key, vec![Nlri::new(prefix)]);
                        }
                    }
                }
                None => {
                    if s.advertised.remove(&prefix) {
                        let i = usize::from(f != AfiSafi::IPV4_UNICAST);
                        if let Some(w) = withdraw.get_mut(i) {
                            w.push(Nlri::new(prefix));
                        }
                    }
                }
            }
        }
        let mut msgs = Vec::new();
        for (i, w) in withdraw.iter().enumerate() {
            if w.is_empty() {
                continue;
            }
            let f = if i == 0 {
                AfiSafi::IPV4_UNICAST
            } else {
                AfiSafi::IPV6_UNICAST
            };
            match builder::withdraw(&s.ctx, f, w) {
                Ok(m) => msgs.extend(m),
                Err(e) => tracing::warn!(error = %e, "cannot encode withdrawals"),
            }
        }
        for key in order {
            let Some(nlri) = groups.remove(&key) else {
                continue;
            };
            let (f, attrs, nh) = key;
            let mp = match (f, nh) {
                (AfiSafi::IPV4_UNICAST, NextHop::V4(_)) => None,
                (_, NextHop::V4(a)) => Some(MpNextHop::Ipv4(a)),
                (_, NextHop::V6 { global, link_local }) => {
                    Some(MpNextHop::Ipv6 { global, link_local })
                }
            };
            match builder::announce(&s.ctx, f, &attrs, mp.as_ref(), &nlri) {
                Ok(m) => msgs.extend(m),
                Err(e) => tracing::warn!(error = %e, "cannot encode an UPDATE"),
            }
        }
        for m in msgs {
            let Some(body) = m.get(19..).map(|_| m.slice(19..)) else {
                continue;
            };
            match Update::decode(body, &s.readback) {
                Ok(u) => {
                    if s.tx.try_send(Outbound::Update(u)).is_err() {
                        // The writer is gone (session down): nothing to do.
                        break;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "built an UPDATE that does not decode"),
            }
        }
    }
    p.shared
        .counters
        .prefixes_advertised
        .store(s.advertised.len() as u64, Ordering::Relaxed);
}

/// The attributes and next hop `prefix` is sent to the peer with, if it
/// is sent.
fn export_one(
    s: &OutSession,
    settings: &ExportSettings,
    g: &Global,
    rib: &Rib,
    sources: &HashMap<PeerId, Source>,
    prefix: IpNet,
    cache: &mut HashMap<*const bgp_rib::AttrSet, Option<PathAttributes>>,
) -> Option<(PathAttributes, NextHop)> {
    let best = rib.best(&prefix)?;
    if best.peer == s.rib_id {
        return None;
    }
    let src = sources.get(&best.peer)?;
    let attrs = cache
        .entry(Arc::as_ptr(&best.attrs))
        .or_insert_with(|| best.attrs.attributes().ok())
        .as_ref()?;
    let external = s.kind == PeerKind::External;
    if let Some(c) = &attrs.communities {
        if c.contains(&Community::NO_ADVERTISE) {
            return None;
        }
        if external
            && (c.contains(&Community::NO_EXPORT) || c.contains(&Community::NO_EXPORT_SUBCONFED))
        {
            return None;
        }
    }
    let src_internal = !src.local && src.kind != PeerKind::External;
    let mut reflected = false;
    if src_internal && !external {
        // Only a route reflector passes an internal route to an internal
        // peer: a client's to everyone, a non-client's to clients.
        if !(src.rr_client || settings.rr_client) {
            return None;
        }
        reflected = true;
    }
    let mut a = attrs.clone();
    let mut nh = best.attrs.next_hop();
    let unspecified = nh.addr().is_unspecified();
    let mut want_self = unspecified;
    if external {
        let path = a.as_path.take().unwrap_or_default();
        a.as_path = Some(path.prepended(settings.local_as, 1));
        a.local_pref = None;
        if !src.local {
            a.multi_exit_disc = None;
        }
        a.originator_id = None;
        a.cluster_list = None;
        if settings.next_hop != NextHopMode::Unchanged {
            want_self = true;
        }
    } else {
        a.local_pref = Some(a.local_pref.unwrap_or(100));
        if reflected {
            if a.originator_id.is_none() {
                a.originator_id = Some(src.router_id);
            }
            let mut ids = vec![g.cluster_id];
            if let Some(cl) = &a.cluster_list {
                ids.extend(cl.iter());
            }
            a.cluster_list = Some(ClusterList::from_items(&ids));
        } else if settings.next_hop == NextHopMode::SelfAddress {
            want_self = true;
        }
    }
    if let Some(chain) = &settings.policy {
        let view = RouteView::new(prefix, &a, &s.policy_peer).with_next_hop(nh.addr());
        let out = chain.evaluate(&view);
        if !out.accepted() {
            return None;
        }
        match out.next_hop {
            Some(NextHopAction::SelfAddress) => want_self = true,
            Some(NextHopAction::Unchanged) => want_self = unspecified,
            Some(NextHopAction::Address(addr)) => {
                nh = NextHop::from(addr);
                want_self = false;
            }
            None => {}
        }
        if out.changed() {
            a = out.attributes.into_owned();
        }
    }
    if want_self {
        nh = self_next_hop(s, settings, &prefix)?;
    }
    match (prefix, nh) {
        (IpNet::V4(_), NextHop::V4(v4)) => a.next_hop = Some(v4),
        (IpNet::V6(_), NextHop::V6 { .. }) => a.next_hop = None,
        // A next hop of the other family (RFC 8950) is not sent.
        _ => return None,
    }
    Some((a, nh))
}

/// This router's address on the session, of the prefix's family.
fn self_next_hop(s: &OutSession, settings: &ExportSettings, prefix: &IpNet) -> Option<NextHop> {
    match prefix {
        IpNet::V4(_) => settings
            .ipv4_next_hop
            .or(match s.local {
                Some(IpAddr::V4(a)) => Some(a),
                _ => None,
            })
            .map(NextHop::V4),
        IpNet::V6(_) => settings
            .ipv6_next_hop
            .or(match s.local {
                Some(IpAddr::V6(a)) => Some(a),
                _ => None,
            })
            .map(NextHop::from),
    }
}
