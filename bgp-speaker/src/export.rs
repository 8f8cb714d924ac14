//! Route propagation to the peers, run by the RIB task: bgp-rib's
//! [`bgp_rib::export::Exporter`] (update groups, the export
//! rules, route reflection, ADD-PATH send, one encoding of each UPDATE
//! shared by every member of a group), and the delivery of its messages to
//! each peer's bounded queue.
//!
//! # Delivery and slow peers
//!
//! After each flush the messages queued for a member are moved to the
//! member's *pending* list (reference-counted buffers shared with the
//! other members of its group), and from there into the peer's outbound
//! queue as far as it has room; the RIB task never waits. A member whose
//! pending list grows past its initial table plus [`LAG_LIMIT`] messages is
//! *lagging*: it leaves its group, so that no more messages pile up for
//! it, and remembers what the group had sent, which is what the peer will
//! hold once its pending list is written. When that list is empty, it
//! joins its group again: the group's Adj-RIB-Out is replayed to it, with
//! withdrawals for what it was sent and the group no longer holds. A slow
//! or stuck peer thus costs at most its backlog (its initial table,
//! [`LAG_LIMIT`] and what the flush that crossed the limit added) and one
//! table's worth of prefixes, and no other peer waits for it.
//!
//! A configuration change of a peer (export policy, route reflection, next
//! hop) is a leave and a join the same way: the new group's table, and
//! withdrawals of what the new configuration no longer sends. A group's
//! routes go to all its members, the peer a route came from included (an
//! external peer drops it as an AS loop, a reflection client by its
//! ORIGINATOR_ID).

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bgp_rib::export::{
    AddPathSend, Exporter, LocalAddresses, LocalAs, Negotiated, NextHopMode as RibNextHop,
    PeerConfig as RibPeerConfig, PolicyRef, SpeakerConfig,
};
use bgp_rib::{BestChange, PeerId, Rib};
use bgp_wire::message::update::builder;
use bgp_wire::nlri::Nlri;
use bgp_wire::{AfiSafi, SessionContext, Update};
use bytes::Bytes;
use ipnet::IpNet;
use tokio::sync::mpsc;

use crate::config::NextHopMode;
use crate::resolver::Resolver;
use crate::status::PeerShared;

/// Messages a member may have pending beyond its initial table before it
/// leaves its group (see the [module documentation](self)).
pub const LAG_LIMIT: usize = 4096;

/// What a peer's writer task sends, in order.
#[derive(Debug)]
pub(crate) enum Outbound {
    /// An UPDATE.
    Update(Update),
    /// The initial table of this family is sent: End-of-RIB.
    EndOfRib(AfiSafi),
}

/// The speaker-wide values propagation and import checks read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Global {
    pub(crate) router_id: Ipv4Addr,
    pub(crate) local_as: u32,
    pub(crate) cluster_id: Ipv4Addr,
}

impl Global {
    /// bgp-rib's speaker configuration.
    pub(crate) fn speaker_config(&self) -> SpeakerConfig {
        SpeakerConfig {
            cluster_id: Some(self.cluster_id),
            ..SpeakerConfig::new(self.local_as, self.router_id)
        }
    }
}

/// A peer's propagation settings (those that change without a reset).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExportSettings {
    pub(crate) rr_client: bool,
    pub(crate) next_hop: NextHopMode,
    pub(crate) ipv4_next_hop: Option<Ipv4Addr>,
    pub(crate) ipv6_next_hop: Option<Ipv6Addr>,
    pub(crate) local_as: Option<u32>,
    pub(crate) allow_own_as: u8,
    pub(crate) policy: Option<PolicyRef>,
    /// ADD-PATH send: the families that send fewer than every path.
    pub(crate) add_path_paths: Vec<(AfiSafi, AddPathSend)>,
}

impl ExportSettings {
    /// What ADD-PATH sends in a family where it was negotiated.
    fn add_path_send(&self, family: AfiSafi) -> AddPathSend {
        self.add_path_paths
            .iter()
            .find(|(f, _)| *f == family)
            .map_or(AddPathSend::All, |(_, m)| *m)
    }
}

impl ExportSettings {
    /// bgp-rib's peer configuration, with this router's address on the
    /// session.
    pub(crate) fn rib_config(&self, local: Option<IpAddr>) -> RibPeerConfig {
        let mut addrs = LocalAddresses::default();
        match local {
            Some(IpAddr::V4(a)) => addrs.v4 = Some(a),
            Some(IpAddr::V6(a)) => addrs.v6 = Some(a),
            None => {}
        }
        if let Some(a) = self.ipv4_next_hop {
            addrs.v4 = Some(a);
        }
        if let Some(a) = self.ipv6_next_hop {
            addrs.v6 = Some(a);
        }
        RibPeerConfig {
            rr_client: self.rr_client,
            local_as: self.local_as.map(|asn| LocalAs {
                asn,
                no_prepend: false,
                replace_as: false,
            }),
            next_hop: match self.next_hop {
                NextHopMode::Default => RibNextHop::Default,
                NextHopMode::SelfAddress => RibNextHop::SelfAddress,
                NextHopMode::Unchanged => RibNextHop::Keep,
            },
            local_addresses: addrs,
            allow_own_as: self.allow_own_as,
            export_policy: self.policy.clone(),
            ..RibPeerConfig::default()
        }
    }
}

/// What export needs of an established session.
#[derive(Debug)]
pub(crate) struct SessionOut {
    pub(crate) rib_id: PeerId,
    pub(crate) ctx: SessionContext,
    pub(crate) families: Vec<AfiSafi>,
    pub(crate) add_path_send: Vec<AfiSafi>,
    pub(crate) llgr: bool,
    pub(crate) local: Option<IpAddr>,
    pub(crate) tx: mpsc::Sender<Outbound>,
    pub(crate) wake: Arc<AtomicBool>,
}

#[derive(Debug)]
struct OutSession {
    s: SessionOut,
    negotiated: Negotiated,
    /// Reads back the messages we encode.
    readback: SessionContext,
    pending: VecDeque<Bytes>,
    /// Pending messages allowed before the member counts as lagging.
    allowed: usize,
    /// Lagging: out of its group; what it will hold once `pending` is
    /// written.
    lag: Option<Vec<Nlri>>,
    eor_sent: HashSet<AfiSafi>,
}

/// One peer, established or not.
#[derive(Debug)]
pub(crate) struct ExportPeer {
    pub(crate) settings: ExportSettings,
    pub(crate) shared: Arc<PeerShared>,
    session: Option<OutSession>,
}

/// Propagation to every peer (see the [module documentation](self)).
#[derive(Debug)]
pub(crate) struct Export {
    ex: Exporter,
    peers: HashMap<IpAddr, ExportPeer>,
    resolver: Resolver,
}

fn families_of(out: &[Nlri]) -> [Vec<Nlri>; 2] {
    let mut v4 = Vec::new();
    let mut v6 = Vec::new();
    for n in out {
        match n.prefix {
            IpNet::V4(_) => v4.push(*n),
            IpNet::V6(_) => v6.push(*n),
        }
    }
    [v4, v6]
}

impl Export {
    /// Propagation for this speaker; `local` is the RIB peer of the
    /// originated routes.
    pub(crate) fn new(global: &Global, local: PeerId, resolver: Resolver) -> Self {
        let mut ex = Exporter::new(global.speaker_config());
        ex.set_peer_config(
            local,
            RibPeerConfig {
                originated: true,
                ..RibPeerConfig::default()
            },
        );
        Export {
            ex,
            peers: HashMap::new(),
            resolver,
        }
    }

    pub(crate) fn add_peer(
        &mut self,
        key: IpAddr,
        settings: ExportSettings,
        shared: Arc<PeerShared>,
    ) {
        self.peers.insert(
            key,
            ExportPeer {
                settings,
                shared,
                session: None,
            },
        );
    }

    pub(crate) fn remove_peer(&mut self, key: IpAddr) {
        self.peer_down(key);
        self.peers.remove(&key);
    }

    /// Whether ADD-PATH groups need the RIB's touched prefixes.
    pub(crate) fn needs_touched(&self) -> bool {
        self.ex.needs_touched()
    }

    /// A session is up: it joins its update group, which queues its table.
    pub(crate) fn peer_up(&mut self, key: IpAddr, rib: &Rib, s: SessionOut) {
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        let negotiated = Negotiated {
            four_octet_as: s.ctx.four_octet_as,
            extended_message: s.ctx.extended_message,
            families: s.families.clone(),
            add_path: s
                .add_path_send
                .iter()
                .map(|f| (*f, p.settings.add_path_send(*f)))
                .collect(),
            llgr: s.llgr,
        };
        self.ex
            .set_peer_config(s.rib_id, p.settings.rib_config(s.local));
        let readback = negotiated.send_context().reversed();
        if let Err(e) = self
            .ex
            .join(rib, s.rib_id, negotiated.clone(), &self.resolver)
        {
            tracing::warn!(peer = %key, error = %e, "cannot join an update group");
            return;
        }
        let pending: VecDeque<Bytes> = self.ex.take_messages(s.rib_id).into();
        let mut o = OutSession {
            allowed: pending.len() + LAG_LIMIT,
            pending,
            readback,
            negotiated,
            lag: None,
            eor_sent: HashSet::new(),
            s,
        };
        deliver(&mut o);
        p.session = Some(o);
        self.count(key);
    }

    /// A session is down: it leaves its group, its pending messages go.
    pub(crate) fn peer_down(&mut self, key: IpAddr) {
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        if let Some(o) = p.session.take()
            && o.lag.is_none()
        {
            let _ = self.ex.leave(o.s.rib_id);
        }
        p.shared
            .counters
            .prefixes_advertised
            .store(0, Ordering::Relaxed);
    }

    /// Best-path changes, for the next flush.
    pub(crate) fn record(&mut self, changes: &[BestChange], touched: Vec<IpNet>) {
        self.ex.record(changes);
        if !touched.is_empty() {
            self.ex.record_prefixes(touched);
        }
    }

    /// New settings for a peer: if it is up, it leaves its group and joins
    /// the one of its new settings.
    pub(crate) fn reconfigure(&mut self, key: IpAddr, settings: ExportSettings, rib: &Rib) {
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        let source_changed = p.settings.rr_client != settings.rr_client
            || p.settings.allow_own_as != settings.allow_own_as;
        p.settings = settings;
        if let Some(o) = p.session.as_mut() {
            for (f, m) in &mut o.negotiated.add_path {
                *m = p.settings.add_path_send(*f);
            }
            self.ex
                .set_peer_config(o.s.rib_id, p.settings.rib_config(o.s.local));
            if o.lag.is_none() {
                // What the peer will hold once its pending messages are
                // written: the group's table now.
                let held = held(&self.ex, o.s.rib_id);
                let _ = self.ex.leave(o.s.rib_id);
                o.lag = Some(held);
                if !o.pending.is_empty() {
                    // Rejoins once they are written.
                    deliver(o);
                    return;
                }
            }
            rejoin(&mut self.ex, o, rib, key, &self.resolver);
        }
        if source_changed {
            self.ex.reexport(rib, &self.resolver);
        }
        self.collect_all();
        self.count(key);
    }

    /// The peer asked for its routes again (ROUTE-REFRESH), or a soft
    /// reset out.
    pub(crate) fn refresh(&mut self, key: IpAddr) {
        let Some(o) = self.peers.get_mut(&key).and_then(|p| p.session.as_mut()) else {
            return;
        };
        if o.lag.is_some() {
            // It is sent the whole table when it rejoins anyway.
            return;
        }
        match self.ex.route_refresh(o.s.rib_id, None) {
            Ok(_) => {
                o.pending.extend(self.ex.take_messages(o.s.rib_id));
                deliver(o);
            }
            Err(e) => tracing::warn!(peer = %key, error = %e, "route refresh"),
        }
    }

    /// Computes every group's changes and delivers them.
    pub(crate) fn flush(&mut self, rib: &Rib) {
        self.ex.flush(rib, &self.resolver);
        self.collect_all();
        let mut rejoin_keys = Vec::new();
        for (key, p) in &mut self.peers {
            if let Some(o) = p.session.as_mut()
                && o.lag.is_some()
                && o.pending.is_empty()
            {
                rejoin_keys.push(*key);
            }
        }
        for key in rejoin_keys {
            self.drained(key, rib);
        }
        let keys: Vec<IpAddr> = self.peers.keys().copied().collect();
        for k in keys {
            self.count(k);
        }
    }

    /// A peer's writer took from its queue: deliver more, rejoin if it was
    /// lagging and has caught up.
    pub(crate) fn drained(&mut self, key: IpAddr, rib: &Rib) {
        let Some(o) = self.peers.get_mut(&key).and_then(|p| p.session.as_mut()) else {
            return;
        };
        deliver(o);
        if o.lag.is_some() && o.pending.is_empty() {
            rejoin(&mut self.ex, o, rib, key, &self.resolver);
            deliver(o);
        }
        self.count(key);
    }

    /// Moves the exporter's queued messages to the members' pending lists,
    /// makes lagging members leave, and delivers.
    fn collect_all(&mut self) {
        for (key, p) in &mut self.peers {
            let Some(o) = p.session.as_mut() else {
                continue;
            };
            if o.lag.is_none() {
                o.pending.extend(self.ex.take_messages(o.s.rib_id));
                if o.pending.len() > o.allowed {
                    tracing::info!(peer = %key, pending = o.pending.len(), "peer lagging: leaves its update group until it catches up");
                    o.lag = Some(held(&self.ex, o.s.rib_id));
                    let _ = self.ex.leave(o.s.rib_id);
                    p.shared.counters.lagged.fetch_add(1, Ordering::Relaxed);
                }
            }
            deliver(o);
        }
    }

    fn count(&self, key: IpAddr) {
        let Some(p) = self.peers.get(&key) else {
            return;
        };
        let n = match &p.session {
            None => 0,
            Some(o) => match &o.lag {
                Some(h) => h.len(),
                None => self
                    .ex
                    .group_of(o.s.rib_id)
                    .and_then(|g| self.ex.adj_rib_out(g))
                    .map_or(0, |a| a.routes()),
            },
        };
        p.shared
            .counters
            .prefixes_advertised
            .store(n as u64, Ordering::Relaxed);
        let pending = p.session.as_ref().map_or(0, |o| {
            o.pending.len() + o.s.tx.max_capacity() - o.s.tx.capacity()
        });
        p.shared
            .counters
            .updates_pending
            .store(pending as u64, Ordering::Relaxed);
    }
}

/// What a member's group has sent (its Adj-RIB-Out), as NLRI.
fn held(ex: &Exporter, id: PeerId) -> Vec<Nlri> {
    let Some(g) = ex.group_of(id) else {
        return Vec::new();
    };
    let Some(out) = ex.adj_rib_out(g) else {
        return Vec::new();
    };
    let mut v: Vec<Nlri> = out.iter(AfiSafi::IPV4_UNICAST).map(|(n, _)| n).collect();
    v.extend(out.iter(AfiSafi::IPV6_UNICAST).map(|(n, _)| n));
    v
}

/// A lagging (or reconfigured) member joins its group again: withdrawals
/// of what it holds and the group does not, then the group's table.
fn rejoin(ex: &mut Exporter, o: &mut OutSession, rib: &Rib, key: IpAddr, resolver: &Resolver) {
    let before = o.lag.take().unwrap_or_default();
    if let Err(e) = ex.join(rib, o.s.rib_id, o.negotiated.clone(), resolver) {
        tracing::warn!(peer = %key, error = %e, "cannot rejoin an update group");
        return;
    }
    let now: HashSet<Nlri> = held(ex, o.s.rib_id).into_iter().collect();
    let gone: Vec<Nlri> = before.into_iter().filter(|n| !now.contains(n)).collect();
    let ctx = o.negotiated.send_context();
    let [v4, v6] = families_of(&gone);
    for (f, list) in [(AfiSafi::IPV4_UNICAST, v4), (AfiSafi::IPV6_UNICAST, v6)] {
        if list.is_empty() {
            continue;
        }
        match builder::withdraw(&ctx, f, &list) {
            Ok(m) => o.pending.extend(m),
            Err(e) => tracing::warn!(peer = %key, error = %e, "cannot encode withdrawals"),
        }
    }
    let msgs = ex.take_messages(o.s.rib_id);
    o.allowed = msgs.len() + o.pending.len() + LAG_LIMIT;
    o.pending.extend(msgs);
}

/// Moves pending messages into the peer's queue while it has room.
fn deliver(o: &mut OutSession) {
    while !o.pending.is_empty() {
        if o.s.tx.capacity() == 0 {
            o.s.wake.store(true, Ordering::Relaxed);
            return;
        }
        let Some(m) = o.pending.pop_front() else {
            return;
        };
        if m.len() < 19 {
            continue;
        }
        let out = match Update::decode(m.slice(19..), &o.readback) {
            Ok(u) => match u.end_of_rib() {
                // The session sends End-of-RIB itself, once per family.
                Some(f) if !o.eor_sent.insert(f) => continue,
                Some(f) => Outbound::EndOfRib(f),
                None => Outbound::Update(u),
            },
            Err(e) => {
                tracing::warn!(error = %e, "an exported UPDATE does not decode");
                continue;
            }
        };
        if o.s.tx.try_send(out).is_err() {
            // The writer is gone: the session is down.
            o.pending.clear();
            return;
        }
    }
}
