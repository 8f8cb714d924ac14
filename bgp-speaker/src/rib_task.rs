//! The RIB task: the one owner of the [`Rib`]. It applies the batches the
//! peer tasks send, originates and withdraws local routes, answers
//! queries, feeds the subscribers and drives propagation (`Exporter`).
//!
//! It waits on one thing only, its input channel; everything it sends
//! (peer queues, subscribers, peer commands) is sent without waiting.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bgp_rib::{
    BestChange, DecisionConfig, NextHop, PathFlags, PeerId, PeerInfo, PeerKind, Rib, Route,
};
use bgp_wire::nlri::Nlri;
use bgp_wire::{Afi, AfiSafi, PathAttributes, SessionContext};
use ipnet::IpNet;
use tokio::sync::{mpsc, oneshot};

use crate::config::MaxPrefix;
use crate::export::{Export, ExportSettings, Global, Outbound, SessionOut};
use crate::peer_task::PeerCmd;
use crate::resolver::Resolver;
use crate::status::{BestRoute, PathInfo, PeerShared, RouteInfo, RoutePath, RouteSource};
use crate::subscribe::SubShared;

/// One item of a batch from a peer task, after import policy.
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "items move inside a Vec; boxing would cost an allocation per UPDATE"
)]
pub(crate) enum InItem {
    /// These prefixes with these attributes and next hop.
    Announce {
        attrs: PathAttributes,
        next_hop: NextHop,
        nlri: Vec<Nlri>,
    },
    /// These prefixes withdrawn (or refused by import policy).
    Withdraw(Vec<Nlri>),
}

/// What an established session tells the RIB task.
#[derive(Debug)]
pub(crate) struct SessionUp {
    pub(crate) info: PeerInfo,
    pub(crate) ctx: SessionContext,
    pub(crate) families: Vec<AfiSafi>,
    pub(crate) add_path_send: Vec<AfiSafi>,
    pub(crate) llgr: bool,
    pub(crate) local: Option<IpAddr>,
    pub(crate) out: mpsc::Sender<Outbound>,
    pub(crate) wake: Arc<AtomicBool>,
}

/// A query answered by the RIB task.
#[derive(Debug)]
pub(crate) enum Query {
    Route(IpNet, oneshot::Sender<Option<RouteInfo>>),
    Best(oneshot::Sender<Vec<BestRoute>>),
    AdjRibIn(IpAddr, oneshot::Sender<Vec<(IpNet, PathInfo)>>),
    Lookup(IpAddr, oneshot::Sender<Option<BestRoute>>),
}

fn family_of(p: &IpNet) -> AfiSafi {
    match p {
        IpNet::V4(_) => AfiSafi::IPV4_UNICAST,
        IpNet::V6(_) => AfiSafi::IPV6_UNICAST,
    }
}

/// Whether both unicast families are listed (everything the RIB holds).
fn covers_unicast(families: &[AfiSafi]) -> bool {
    families.contains(&AfiSafi::IPV4_UNICAST) && families.contains(&AfiSafi::IPV6_UNICAST)
}

/// The RIB task's input.
#[derive(Debug)]
pub(crate) enum RibMsg {
    PeerAdded {
        key: IpAddr,
        shared: Arc<PeerShared>,
        cmd: mpsc::UnboundedSender<PeerCmd>,
        export: ExportSettings,
        max_prefix: Option<MaxPrefix>,
    },
    PeerUp {
        key: IpAddr,
        up: Box<SessionUp>,
    },
    Batch {
        key: IpAddr,
        items: Vec<InItem>,
    },
    RoutesStale {
        key: IpAddr,
        llgr: bool,
    },
    DeleteStale {
        key: IpAddr,
        families: Vec<AfiSafi>,
    },
    DeleteRoutes {
        key: IpAddr,
        families: Vec<AfiSafi>,
    },
    /// The session ended: export to it stops.
    PeerDown {
        key: IpAddr,
    },
    /// The peer was removed (or is being reset): every route goes.
    PeerGone {
        key: IpAddr,
        done: Option<oneshot::Sender<()>>,
    },
    ExportChanged {
        key: IpAddr,
        export: ExportSettings,
        max_prefix: Option<MaxPrefix>,
    },
    RefreshOut {
        key: IpAddr,
    },
    Drained {
        key: IpAddr,
    },
    Originate(
        Vec<(IpNet, PathAttributes, Option<IpAddr>)>,
        oneshot::Sender<()>,
    ),
    WithdrawLocal(Vec<IpNet>, oneshot::Sender<usize>),
    Subscribe(Arc<SubShared>, oneshot::Sender<()>),
    Query(Query),
    SetDecision(DecisionConfig),
    /// The resolver's answers changed: every prefix is selected again.
    Reresolve(oneshot::Sender<usize>),
    Stop(oneshot::Sender<()>),
}

struct RibPeer {
    shared: Arc<PeerShared>,
    cmd: mpsc::UnboundedSender<PeerCmd>,
    rib_id: Option<PeerId>,
    max_prefix: Option<MaxPrefix>,
    /// Prefix limit already reported for this session.
    limit_reported: bool,
}

/// The RIB task.
pub(crate) struct RibTask {
    rib: Rib,
    local_id: PeerId,
    peers: HashMap<IpAddr, RibPeer>,
    by_id: HashMap<PeerId, IpAddr>,
    export: Export,
    subs: Vec<Arc<SubShared>>,
    changes: Vec<BestChange>,
    resolver: Resolver,
    rx: mpsc::Receiver<RibMsg>,
}

/// How many messages are taken before changes are published and UPDATEs
/// sent: a bound on latency under load.
const TURN: usize = 64;

impl RibTask {
    pub(crate) fn new(
        decision: DecisionConfig,
        global: Global,
        resolver: Resolver,
        rx: mpsc::Receiver<RibMsg>,
    ) -> Result<Self, bgp_rib::RibError> {
        let mut rib = Rib::new(decision);
        let local_id = rib.add_peer(PeerInfo {
            kind: PeerKind::Internal,
            asn: global.local_as,
            router_id: global.router_id,
            address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            local: true,
        })?;
        Ok(RibTask {
            export: Export::new(&global, local_id, resolver.clone()),
            resolver,
            rib,
            local_id,
            peers: HashMap::new(),
            by_id: HashMap::new(),
            subs: Vec::new(),
            changes: Vec::new(),
            rx,
        })
    }

    pub(crate) async fn run(mut self) {
        let mut stop: Option<oneshot::Sender<()>> = None;
        'outer: while let Some(m) = self.rx.recv().await {
            let mut n = 0;
            let mut next = Some(m);
            while let Some(m) = next.take() {
                if let RibMsg::Stop(tx) = m {
                    stop = Some(tx);
                    break 'outer;
                }
                self.handle(m);
                n += 1;
                if n < TURN {
                    next = self.rx.try_recv().ok();
                }
            }
            self.publish();
            self.export.flush(&self.rib);
        }
        self.publish();
        for s in &self.subs {
            s.close();
        }
        if let Some(tx) = stop {
            let _ = tx.send(());
        }
    }

    fn handle(&mut self, m: RibMsg) {
        match m {
            RibMsg::PeerAdded {
                key,
                shared,
                cmd,
                export,
                max_prefix,
            } => {
                self.export.add_peer(key, export, Arc::clone(&shared));
                self.peers.insert(
                    key,
                    RibPeer {
                        shared,
                        cmd,
                        rib_id: None,
                        max_prefix,
                        limit_reported: false,
                    },
                );
            }
            RibMsg::PeerUp { key, up } => self.peer_up(key, *up),
            RibMsg::Batch { key, items } => self.batch(key, items),
            RibMsg::DeleteStale { key, families } => {
                if let Some(id) = self.rib_id(key) {
                    if covers_unicast(&families) {
                        self.rib.sweep_stale(id, &self.resolver, &mut self.changes);
                    } else {
                        let stale = PathFlags::STALE.union(PathFlags::LLGR_STALE);
                        self.withdraw_where(id, &families, |r| r.flags.intersects(stale));
                    }
                    self.accepted(key);
                }
            }
            RibMsg::RoutesStale { key, llgr } => {
                if let Some(id) = self.rib_id(key) {
                    self.rib
                        .mark_stale(id, llgr, &self.resolver, &mut self.changes);
                }
            }
            RibMsg::DeleteRoutes { key, families } => {
                match self.rib_id(key) {
                    Some(id) if !covers_unicast(&families) => {
                        // Graceful restart keeps the other families.
                        self.withdraw_where(id, &families, |_| true);
                        if self.rib.peer_path_count(id) == 0 {
                            self.delete_routes(key);
                        }
                        self.accepted(key);
                    }
                    _ => self.delete_routes(key),
                }
            }
            RibMsg::PeerDown { key } => {
                self.export.peer_down(key);
                if let Some(p) = self.peers.get_mut(&key) {
                    p.limit_reported = false;
                }
            }
            RibMsg::PeerGone { key, done } => {
                self.delete_routes(key);
                self.export.remove_peer(key);
                self.peers.remove(&key);
                if let Some(d) = done {
                    let _ = d.send(());
                }
            }
            RibMsg::ExportChanged {
                key,
                export,
                max_prefix,
            } => {
                if let Some(p) = self.peers.get_mut(&key) {
                    p.max_prefix = max_prefix;
                }
                self.check_limit(key);
                self.publish();
                self.export.reconfigure(key, export, &self.rib);
            }
            RibMsg::RefreshOut { key } => {
                self.publish();
                self.export.refresh(key);
            }
            RibMsg::Drained { key } => self.export.drained(key, &self.rib),
            RibMsg::Originate(routes, done) => {
                for (prefix, attrs, nh) in routes {
                    let nh = match (prefix, nh) {
                        (_, Some(a)) => NextHop::from(a),
                        (IpNet::V4(_), None) => NextHop::V4(Ipv4Addr::UNSPECIFIED),
                        (IpNet::V6(_), None) => NextHop::from(std::net::Ipv6Addr::UNSPECIFIED),
                    };
                    if let Err(e) = self.rib.announce(
                        self.local_id,
                        &attrs,
                        nh,
                        [Nlri::new(prefix)],
                        &self.resolver,
                        &mut self.changes,
                    ) {
                        tracing::warn!(%prefix, error = %e, "cannot originate");
                    }
                }
                // The subscribers have the changes when the caller returns.
                self.publish();
                let _ = done.send(());
            }
            RibMsg::WithdrawLocal(prefixes, done) => {
                let n = self.rib.withdraw(
                    self.local_id,
                    prefixes.into_iter().map(Nlri::new),
                    &self.resolver,
                    &mut self.changes,
                );
                self.publish();
                let _ = done.send(n);
            }
            RibMsg::Subscribe(sub, done) => {
                let all: Vec<BestRoute> = self
                    .rib
                    .loc_rib()
                    .map(|(prefix, sel)| {
                        let next_hops = sel.next_hops();
                        BestRoute {
                            prefix,
                            best: Some(self.path_info(&sel.best)),
                            step: Some(sel.step),
                            next_hops,
                        }
                    })
                    .collect();
                sub.push(all);
                self.subs.push(sub);
                let _ = done.send(());
            }
            RibMsg::Query(q) => self.query(q),
            RibMsg::SetDecision(cfg) => {
                self.rib.set_config(cfg, &self.resolver, &mut self.changes);
            }
            RibMsg::Reresolve(done) => {
                let before = self.changes.len();
                self.rib.reevaluate(&self.resolver, &mut self.changes);
                let n = self.changes.len() - before;
                // Every prefix counts as touched: ADD-PATH groups, whose
                // paths also depend on reachability, look at each.
                self.publish();
                let _ = done.send(n);
            }
            RibMsg::Stop(_) => {}
        }
    }

    fn rib_id(&self, key: IpAddr) -> Option<PeerId> {
        self.peers.get(&key).and_then(|p| p.rib_id)
    }

    fn peer_up(&mut self, key: IpAddr, up: SessionUp) {
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        // A restarting peer's stale routes keep their id; otherwise a
        // fresh registration with the new session's identifier.
        let id = match p.rib_id {
            Some(id) => id,
            None => match self.rib.add_peer(up.info.clone()) {
                Ok(id) => id,
                Err(e) => {
                    tracing::error!(peer = %key, error = %e, "cannot register the peer");
                    return;
                }
            },
        };
        p.rib_id = Some(id);
        p.limit_reported = false;
        self.by_id.insert(id, key);
        // Changes so far go out before the new member's table is taken.
        self.publish();
        self.export.flush(&self.rib);
        self.export.peer_up(
            key,
            &self.rib,
            SessionOut {
                rib_id: id,
                ctx: up.ctx,
                families: up.families,
                add_path_send: up.add_path_send,
                llgr: up.llgr,
                local: up.local,
                tx: up.out,
                wake: up.wake,
            },
        );
    }

    fn batch(&mut self, key: IpAddr, items: Vec<InItem>) {
        let Some(id) = self.rib_id(key) else {
            return;
        };
        for item in items {
            match item {
                InItem::Announce {
                    attrs,
                    next_hop,
                    nlri,
                } => {
                    if let Err(e) = self.rib.announce(
                        id,
                        &attrs,
                        next_hop,
                        nlri,
                        &self.resolver,
                        &mut self.changes,
                    ) {
                        tracing::warn!(peer = %key, error = %e, "routes not stored");
                    }
                }
                InItem::Withdraw(nlri) => {
                    self.rib
                        .withdraw(id, nlri, &self.resolver, &mut self.changes);
                }
            }
        }
        self.accepted(key);
        self.check_limit(key);
    }

    /// Withdraws the routes of `id` in `families` that `pred` picks.
    fn withdraw_where(&mut self, id: PeerId, families: &[AfiSafi], pred: impl Fn(&Route) -> bool) {
        let nlri: Vec<Nlri> = self
            .rib
            .adj_rib_in(id)
            .iter()
            .filter(|(n, r)| families.contains(&family_of(&n.prefix)) && pred(r))
            .map(|(n, _)| n)
            .collect();
        self.rib
            .withdraw(id, nlri, &self.resolver, &mut self.changes);
    }

    fn accepted(&self, key: IpAddr) {
        if let Some(p) = self.peers.get(&key) {
            let n = p.rib_id.map_or(0, |id| self.rib.peer_path_count(id));
            p.shared
                .counters
                .prefixes_accepted
                .store(n as u64, Ordering::Relaxed);
        }
    }

    fn check_limit(&mut self, key: IpAddr) {
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        let (Some(limit), Some(id)) = (p.max_prefix, p.rib_id) else {
            return;
        };
        if p.limit_reported {
            return;
        }
        for afi in [Afi::Ipv4, Afi::Ipv6] {
            let n = self.rib.peer_family_path_count(id, afi);
            if n > limit.limit as usize {
                p.limit_reported = true;
                tracing::warn!(peer = %key, count = n, limit = limit.limit, "prefix limit passed");
                if !limit.warning_only {
                    let family = match afi {
                        Afi::Ipv6 => AfiSafi::IPV6_UNICAST,
                        _ => AfiSafi::IPV4_UNICAST,
                    };
                    let _ = p.cmd.send(PeerCmd::MaxPrefix(limit, family));
                }
                return;
            }
        }
    }

    fn delete_routes(&mut self, key: IpAddr) {
        let Some(p) = self.peers.get_mut(&key) else {
            return;
        };
        let Some(id) = p.rib_id.take() else {
            return;
        };
        self.rib.peer_down(id, &self.resolver, &mut self.changes);
        // Changes are published now, while the id still maps to the peer.
        self.publish();
        if let Err(e) = self.rib.remove_peer(id) {
            tracing::warn!(peer = %key, error = %e, "peer not unregistered");
        }
        self.by_id.remove(&id);
        self.accepted(key);
    }

    fn source_of(&self, id: PeerId) -> RouteSource {
        if id == self.local_id {
            return RouteSource::Local;
        }
        match self.by_id.get(&id) {
            Some(a) => RouteSource::Peer(*a),
            None => RouteSource::Local,
        }
    }

    fn path_info(&self, r: &Route) -> PathInfo {
        PathInfo {
            source: self.source_of(r.peer),
            path_id: r.path_id,
            attrs: Arc::clone(&r.attrs),
            flags: r.flags,
        }
    }

    /// Hands the changes to the subscribers and marks them for export.
    fn publish(&mut self) {
        // ADD-PATH groups need every touched prefix, not only best-path
        // changes.
        let touched_on = self.export.needs_touched();
        self.rib.track_touched(touched_on);
        let mut touched = Vec::new();
        if touched_on {
            self.rib.take_touched(&mut touched);
        }
        if self.changes.is_empty() {
            if !touched.is_empty() {
                self.export.record(&[], touched);
            }
            return;
        }
        let changes = std::mem::take(&mut self.changes);
        self.subs.retain(|s| !s.is_dropped());
        if !self.subs.is_empty() {
            let out: Vec<BestRoute> = changes
                .iter()
                .map(|c| BestRoute {
                    prefix: c.prefix,
                    best: c.new.as_ref().map(|r| self.path_info(r)),
                    step: c.step,
                    next_hops: c.next_hops(),
                })
                .collect();
            if let Some((last, rest)) = self.subs.split_last() {
                for s in rest {
                    s.push(out.iter().cloned());
                }
                last.push(out);
            }
        }
        self.export.record(&changes, touched);
        let mut changes = changes;
        changes.clear();
        self.changes = changes;
    }

    fn query(&self, q: Query) {
        match q {
            Query::Route(prefix, tx) => {
                let ex = self.rib.explain(&prefix, &self.resolver);
                let info = (!ex.is_empty()).then(|| RouteInfo {
                    prefix,
                    step: self.rib.selected(&prefix).map(|s| s.step),
                    paths: ex
                        .iter()
                        .map(|e| RoutePath {
                            path: self.path_info(&e.route),
                            best: e.best,
                            multipath: e.multipath,
                            lost_at: match e.against_best {
                                Some((std::cmp::Ordering::Less, step)) => Some(step),
                                _ => None,
                            },
                        })
                        .collect(),
                });
                let _ = tx.send(info);
            }
            Query::Best(tx) => {
                let all = self
                    .rib
                    .loc_rib()
                    .map(|(prefix, sel)| BestRoute {
                        prefix,
                        next_hops: sel.next_hops(),
                        best: Some(self.path_info(&sel.best)),
                        step: Some(sel.step),
                    })
                    .collect();
                let _ = tx.send(all);
            }
            Query::AdjRibIn(key, tx) => {
                let out = match self.rib_id(key) {
                    Some(id) => self
                        .rib
                        .adj_rib_in(id)
                        .iter()
                        .map(|(n, r)| (n.prefix, self.path_info(&r)))
                        .collect(),
                    None => Vec::new(),
                };
                let _ = tx.send(out);
            }
            Query::Lookup(addr, tx) => {
                let r = self.rib.longest_match(addr).map(|(prefix, sel)| BestRoute {
                    prefix,
                    next_hops: sel.next_hops(),
                    best: Some(self.path_info(&sel.best)),
                    step: Some(sel.step),
                });
                let _ = tx.send(r);
            }
        }
    }
}
