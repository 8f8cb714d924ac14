//! The task of one peer: it owns the peer's transport (bgp-fsm's driver,
//! a task of its own doing the socket I/O and framing), decodes the
//! UPDATEs it receives, runs loop detection and import policy, and sends
//! the accepted routes to the RIB task in batches; a writer task of the
//! same peer takes the RIB task's UPDATEs from the peer's bounded queue and
//! writes them to the transport.
//!
//! Backpressure: the batch channel to the RIB task is bounded, so a peer
//! task waits when the RIB is behind, and the transport stops reading from
//! the socket when its event queue fills: TCP slows that peer down. The
//! writer waits on the transport, which takes UPDATEs only as fast as the
//! peer reads them; the RIB task never waits on either.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bgp_fsm::transport::{
    Listener, Peer, PeerConfig as FsmPeerConfig, PeerEvent, PeerEventKind, PeerEvents, PeerHandle,
    SendUpdateError, Ttl,
};
use bgp_fsm::{Action, GracefulRestartConfig, NotificationDirection, SessionConfig, State, Stop};
use bgp_rib::export::PolicyRef;
use bgp_rib::policy::{Chain, NextHopAction, Peer as PolicyPeer, RouteView};
use bgp_rib::{NextHop, PeerInfo, PeerKind};
use bgp_wire::attribute::PeerType;
use bgp_wire::capability::{AddPathFamily, SendReceive};
use bgp_wire::error::CeaseSubcode;
use bgp_wire::nlri::Nlri;
use bgp_wire::{AfiSafi, PathAttributes, RouteRefresh, SessionContext, Update};
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use crate::SpeakerError;
use crate::config::{AddPathMode, AddPathPaths, Family, MaxPrefix, PeerConfig};
use crate::export::{ExportSettings, Global, Outbound};
use crate::rib_task::{InItem, RibMsg, SessionUp};
use crate::status::{LastError, NegotiatedSummary, PeerShared, bump};

/// Prefixes gathered before a batch goes to the RIB task.
const BATCH_PREFIXES: usize = 4096;
/// UPDATEs queued for the writer of one peer.
const OUT_QUEUE: usize = 256;
/// How long a writer waits for the transport to show its session
/// Established.
const WRITER_START: Duration = Duration::from_secs(10);

/// A peer's settings as its task runs them.
#[derive(Debug, Clone)]
pub(crate) struct PeerRuntime {
    pub(crate) config: PeerConfig,
    pub(crate) families: Vec<Family>,
    pub(crate) import: Option<Chain>,
    pub(crate) export: Option<PolicyRef>,
    pub(crate) global: Global,
}

impl PeerRuntime {
    pub(crate) fn session_local_as(&self) -> u32 {
        self.config.local_as.unwrap_or(self.global.local_as)
    }

    pub(crate) fn export_settings(&self) -> ExportSettings {
        ExportSettings {
            rr_client: self.config.route_reflector_client,
            next_hop: self.config.next_hop,
            ipv4_next_hop: self.config.ipv4_next_hop,
            ipv6_next_hop: self.config.ipv6_next_hop,
            local_as: self.config.local_as.filter(|a| *a != self.global.local_as),
            allow_own_as: self.config.allow_own_as,
            policy: self.export.clone(),
            add_path_paths: self
                .config
                .add_path_paths
                .iter()
                .filter(|(_, m)| **m != AddPathPaths::All)
                .map(|(f, m)| (f.afi_safi(), m.to_rib()))
                .collect(),
        }
    }

    fn session_config(&self) -> SessionConfig {
        let c = &self.config;
        let mut s = SessionConfig::new(self.session_local_as(), self.global.router_id, c.remote_as);
        s.hold_time = c.hold_time;
        s.keepalive_time = c.keepalive_time.map(|k| Duration::from_secs(u64::from(k)));
        s.connect_retry_time = Duration::from_secs(u64::from(c.connect_retry_time.max(1)));
        s.capabilities.families = self.families.iter().map(|f| f.afi_safi()).collect();
        s.capabilities.four_octet_as = true;
        s.capabilities.route_refresh = true;
        let sr = match c.add_path {
            AddPathMode::Off => None,
            AddPathMode::Receive => Some(SendReceive::Receive),
            AddPathMode::Send => Some(SendReceive::Send),
            AddPathMode::Both => Some(SendReceive::Both),
        };
        if let Some(sr) = sr {
            s.capabilities.add_path = s
                .capabilities
                .families
                .iter()
                .map(|f| AddPathFamily {
                    family: *f,
                    send_receive: sr,
                })
                .collect();
        }
        if let Some(gr) = &c.graceful_restart {
            s.capabilities.graceful_restart = Some(GracefulRestartConfig {
                restart_time: gr.restart_time,
                helper_only: gr.helper_only,
                stale_routes_time: Duration::from_secs(u64::from(gr.stale_routes_time)),
                restarting: gr.restarting,
                forwarding_state: gr.forwarding_state,
                ..GracefulRestartConfig::default()
            });
        }
        s
    }

    pub(crate) fn transport_config(&self) -> FsmPeerConfig {
        let c = &self.config;
        let mut p = FsmPeerConfig::new(self.session_config(), SocketAddr::new(c.address, c.port));
        p.local = c.local_address;
        p.passive = c.passive;
        p.md5_key = c.password.as_ref().map(|k| k.as_bytes().to_vec());
        p.ttl = match (c.multihop, c.ttl_security) {
            (_, Some(h)) => Ttl::Gtsm { hops: h },
            (Some(t), None) => Ttl::Multihop(t),
            (None, None) => Ttl::Default,
        };
        p.restart_delay = Some(Duration::from_secs(u64::from(c.restart_delay.max(1))));
        p
    }
}

/// Commands to a peer task.
#[derive(Debug)]
pub(crate) enum PeerCmd {
    /// New settings that need no reset (policies, reflection, next hop,
    /// limits): re-import when the import side changed.
    Update(Box<PeerRuntime>),
    /// Soft reset inbound: re-run import (kept routes) or ask the peer.
    SoftIn(oneshot::Sender<Result<(), SpeakerError>>),
    /// The prefix limit of this family was passed: close the session.
    MaxPrefix(MaxPrefix, AfiSafi),
    /// Start the session again (after a prefix limit).
    Restart,
    /// Close the session with this Cease, tell the RIB task the peer is
    /// gone, and end.
    Shutdown(Stop, oneshot::Sender<()>),
}

/// The running session's parameters.
#[derive(Debug)]
struct Session {
    info: PeerInfo,
    ctx: SessionContext,
    peer_type: PeerType,
    policy_peer: PolicyPeer,
    route_refresh: bool,
    families: Vec<AfiSafi>,
}

/// What starting a peer gives the speaker.
#[derive(Debug)]
pub(crate) struct Spawned {
    pub(crate) cmd: mpsc::UnboundedSender<PeerCmd>,
    pub(crate) handle: PeerHandle,
    pub(crate) task: tokio::task::JoinHandle<()>,
}

/// Starts the transport and the task of one peer.
pub(crate) fn spawn(
    rt: PeerRuntime,
    listener: Option<&Listener>,
    rib: mpsc::Sender<RibMsg>,
    shared: Arc<PeerShared>,
) -> Result<Spawned, SpeakerError> {
    let (handle, events) = Peer::spawn(rt.transport_config(), listener)
        .map_err(|e| SpeakerError::Peer(rt.config.address, e.to_string()))?;
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let span = tracing::info_span!(
        "peer",
        addr = %rt.config.address,
        asn = rt.config.remote_as,
        name = rt.config.name.as_deref().unwrap_or("")
    );
    let task = PeerTask {
        key: rt.config.address,
        rt,
        handle: handle.clone(),
        cmd_tx: cmd_tx.clone(),
        rib,
        shared,
        session: None,
        adj_in: None,
        batch: Vec::new(),
        batch_prefixes: 0,
        notified: false,
        active: None,
        conns: Vec::new(),
    };
    let task = tokio::spawn(task.run(events, cmd_rx).instrument(span));
    Ok(Spawned {
        cmd: cmd_tx,
        handle,
        task,
    })
}

struct PeerTask {
    key: IpAddr,
    rt: PeerRuntime,
    handle: PeerHandle,
    cmd_tx: mpsc::UnboundedSender<PeerCmd>,
    rib: mpsc::Sender<RibMsg>,
    shared: Arc<PeerShared>,
    session: Option<Session>,
    /// Routes as received, before import policy (soft reconfiguration
    /// inbound).
    adj_in: Option<HashMap<Nlri, (PathAttributes, NextHop)>>,
    batch: Vec<InItem>,
    batch_prefixes: usize,
    /// A NOTIFICATION was recorded for the current session.
    notified: bool,
    /// The transport's number of the Established session.
    active: Option<u64>,
    /// The connections (local, remote) of the recent sessions.
    conns: Vec<(u64, (SocketAddr, SocketAddr))>,
}

impl PeerTask {
    async fn run(mut self, mut events: PeerEvents, mut cmd_rx: mpsc::UnboundedReceiver<PeerCmd>) {
        let added = RibMsg::PeerAdded {
            key: self.key,
            shared: Arc::clone(&self.shared),
            cmd: self.cmd_tx.clone(),
            export: self.rt.export_settings(),
            max_prefix: self.rt.config.max_prefix,
        };
        if self.rib.send(added).await.is_err() {
            return;
        }
        if self.handle.start().is_err() {
            return;
        }
        tracing::debug!("started");
        loop {
            tokio::select! {
                ev = events.recv() => match ev {
                    Some(e) => {
                        let mut next = Some(e);
                        while let Some(e) = next.take() {
                            self.on_event(e).await;
                            if self.batch_prefixes < BATCH_PREFIXES {
                                next = events.try_recv();
                            }
                        }
                        self.flush().await;
                    }
                    None => break,
                },
                cmd = cmd_rx.recv() => match cmd {
                    Some(PeerCmd::Shutdown(stop, done)) => {
                        self.handle.shutdown(stop).await;
                        while let Some(e) = events.recv().await {
                            self.on_event(e).await;
                        }
                        self.flush().await;
                        let (tx, rx) = oneshot::channel();
                        if self.rib.send(RibMsg::PeerGone { key: self.key, done: Some(tx) }).await.is_ok() {
                            let _ = rx.await;
                        }
                        let _ = done.send(());
                        tracing::debug!("removed");
                        return;
                    }
                    Some(c) => self.on_cmd(c).await,
                    None => {
                        self.handle.shutdown(Stop::cease(CeaseSubcode::PeerDeconfigured)).await;
                        break;
                    }
                },
            }
        }
        let _ = self
            .rib
            .send(RibMsg::PeerGone {
                key: self.key,
                done: None,
            })
            .await;
    }

    async fn send_rib(&self, m: RibMsg) {
        // The RIB task is gone only when the speaker stops.
        let _ = self.rib.send(m).await;
    }

    async fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let items = std::mem::take(&mut self.batch);
        self.batch_prefixes = 0;
        self.send_rib(RibMsg::Batch {
            key: self.key,
            items,
        })
        .await;
    }

    fn set_error(&mut self, sent: bool, message: String, communication: Option<String>) {
        let mut s = self.shared.lock();
        s.last_error = Some(LastError {
            at: SystemTime::now(),
            sent,
            message,
            shutdown_communication: communication,
        });
    }

    async fn on_event(&mut self, e: PeerEvent) {
        let shared = Arc::clone(&self.shared);
        let c = &shared.counters;
        match e.kind {
            PeerEventKind::Session(Action::UpdateReceived(u)) if self.active == Some(e.session) => {
                self.import_update(&u);
                return;
            }
            _ => {}
        }
        // Everything else keeps its order with the routes before it.
        self.flush().await;
        match e.kind {
            PeerEventKind::Connected { local, remote, .. } => {
                self.conns.retain(|(id, _)| *id + 4 > e.session);
                self.conns.push((e.session, (local, remote)));
            }
            PeerEventKind::Rejected { .. } => {}
            PeerEventKind::ConnectFailed { error } => {
                bump(&c.errors, 1);
                tracing::debug!(%error, "connect failed");
            }
            PeerEventKind::ConnectionLost { error } => {
                if self.session.is_some() && !self.notified {
                    bump(&c.errors, 1);
                    self.set_error(false, format!("connection lost: {error}"), None);
                }
            }
            PeerEventKind::Collision { closed, .. } => {
                tracing::debug!(closed, "connection collision");
            }
            PeerEventKind::SendFailed { error } => {
                bump(&c.errors, 1);
                tracing::debug!(%error, "send failed");
            }
            PeerEventKind::EncodeFailed { error } => {
                bump(&c.errors, 1);
                tracing::warn!(%error, "encode failed");
            }
            PeerEventKind::Session(a) => {
                // During a collision two sessions report; only the one that
                // reached Established speaks for the peer's routes.
                let other = self.active.is_some_and(|id| id != e.session);
                if other && !matches!(a, Action::Established(_)) {
                    return;
                }
                self.on_action(e.session, a).await;
            }
        }
    }

    async fn on_action(&mut self, session: u64, a: Action) {
        match a {
            Action::StateChanged { from, to } => {
                tracing::debug!(session, %from, %to, "state");
                if to == State::OpenSent {
                    self.notified = false;
                }
                self.shared.lock().state = to;
            }
            Action::Established(n) => {
                if self.session.is_some() {
                    // The other session of a collision took over.
                    self.send_rib(RibMsg::PeerDown { key: self.key }).await;
                }
                self.active = Some(session);
                let conn = self
                    .conns
                    .iter()
                    .find(|(id, _)| *id == session)
                    .map(|(_, c)| *c);
                self.on_established(&n, conn).await;
            }
            Action::Notification(r) => {
                let sent = r.direction == NotificationDirection::Sent;
                let text = r.notification.to_string();
                tracing::info!(direction = %r.direction, notification = %text, "NOTIFICATION");
                let comm = r.data.shutdown_communication().map(str::to_owned);
                self.notified = true;
                self.set_error(sent, text, comm);
            }
            Action::SessionDown(d) => {
                tracing::info!(from = %d.from, reason = ?d.reason, "session down");
                self.active = None;
                if self.session.take().is_some() {
                    self.send_rib(RibMsg::PeerDown { key: self.key }).await;
                }
                let mut s = self.shared.lock();
                s.established = None;
                s.connection = None;
                s.end_of_rib.clear();
            }
            Action::RouteRefreshReceived(_) => {
                self.send_rib(RibMsg::RefreshOut { key: self.key }).await;
            }
            Action::DeleteRoutes(families) => {
                let families = self.rib_families(families);
                self.send_rib(RibMsg::DeleteRoutes {
                    key: self.key,
                    families,
                })
                .await;
            }
            Action::RoutesStale(_) => {
                self.send_rib(RibMsg::RoutesStale {
                    key: self.key,
                    llgr: false,
                })
                .await;
            }
            Action::RoutesLongLivedStale(_) => {
                self.send_rib(RibMsg::RoutesStale {
                    key: self.key,
                    llgr: true,
                })
                .await;
            }
            Action::EndOfRibReceived(family) => {
                let mut s = self.shared.lock();
                if !s.end_of_rib.contains(&family) {
                    s.end_of_rib.push(family);
                }
            }
            Action::DeleteStaleRoutes(families) => {
                let families = self.rib_families(families);
                self.send_rib(RibMsg::DeleteStale {
                    key: self.key,
                    families,
                })
                .await;
            }
            _ => {}
        }
    }

    /// The families of an action, as the RIB holds them: a session that
    /// negotiated no unicast family of the other version holds none of its
    /// routes, so it counts as listed.
    fn rib_families(&self, mut families: Vec<AfiSafi>) -> Vec<AfiSafi> {
        let negotiated = self
            .shared
            .lock()
            .negotiated
            .as_ref()
            .map(|n| n.families.clone())
            .unwrap_or_default();
        for f in [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST] {
            if !negotiated.contains(&f) && !families.contains(&f) {
                families.push(f);
            }
        }
        families
    }

    async fn on_established(
        &mut self,
        n: &bgp_fsm::Negotiated,
        conn: Option<(SocketAddr, SocketAddr)>,
    ) {
        let local_as = self.rt.session_local_as();
        let kind = if n.peer_as == local_as {
            PeerKind::Internal
        } else {
            PeerKind::External
        };
        let local = conn.map(|(l, _)| l.ip());
        tracing::info!(peer_id = %n.peer_id, hold = n.hold_time, "established");
        bump(&self.shared.counters.established, 1);
        {
            let mut s = self.shared.lock();
            s.state = State::Established;
            s.established = Some((SystemTime::now(), Instant::now()));
            s.established_count += 1;
            s.connection = conn;
            s.negotiated = Some(NegotiatedSummary::new(n));
            s.max_prefix_exceeded = false;
            s.end_of_rib.clear();
        }
        let policy_peer = PolicyPeer {
            kind,
            asn: n.peer_as,
            address: self.key,
            router_id: n.peer_id,
            local_as,
            rr_client: self.rt.config.route_reflector_client,
        };
        let families: Vec<AfiSafi> = n
            .families
            .iter()
            .copied()
            .filter(|f| *f == AfiSafi::IPV4_UNICAST || *f == AfiSafi::IPV6_UNICAST)
            .collect();
        let info = PeerInfo {
            kind,
            asn: n.peer_as,
            router_id: n.peer_id,
            address: self.key,
            local: false,
        };
        self.session = Some(Session {
            info: info.clone(),
            ctx: n.session_context().clone(),
            peer_type: if kind == PeerKind::Internal {
                PeerType::Internal
            } else {
                PeerType::External
            },
            policy_peer: policy_peer.clone(),
            route_refresh: n.route_refresh,
            families: families.clone(),
        });
        self.adj_in = self
            .rt
            .config
            .soft_reconfiguration_inbound
            .then(HashMap::new);
        let (out_tx, out_rx) = mpsc::channel(OUT_QUEUE);
        let wake = Arc::new(AtomicBool::new(false));
        tokio::spawn(
            writer(
                self.handle.clone(),
                out_rx,
                Arc::clone(&wake),
                self.rib.clone(),
                self.key,
                Arc::clone(&self.shared),
            )
            .in_current_span(),
        );
        let add_path_send = families
            .iter()
            .copied()
            .filter(|f| n.add_path(*f).send)
            .collect();
        let up = SessionUp {
            info,
            ctx: n.session_context().clone(),
            add_path_send,
            llgr: n.graceful_restart.long_lived(),
            families,
            local,
            out: out_tx,
            wake,
        };
        self.send_rib(RibMsg::PeerUp {
            key: self.key,
            up: Box::new(up),
        })
        .await;
    }

    async fn on_cmd(&mut self, c: PeerCmd) {
        match c {
            PeerCmd::Update(rt) => {
                let import_changed = rt.config.import != self.rt.config.import
                    || rt.config.import_default != self.rt.config.import_default
                    || rt.import != self.rt.import
                    || rt.config.allow_own_as != self.rt.config.allow_own_as;
                self.rt = *rt;
                if let Some(s) = self.session.as_mut() {
                    s.policy_peer.rr_client = self.rt.config.route_reflector_client;
                }
                self.send_rib(RibMsg::ExportChanged {
                    key: self.key,
                    export: self.rt.export_settings(),
                    max_prefix: self.rt.config.max_prefix,
                })
                .await;
                if import_changed && let Err(e) = self.soft_in().await {
                    tracing::warn!(error = %e, "import policy changed, routes not re-imported");
                }
            }
            PeerCmd::SoftIn(tx) => {
                let r = self.soft_in().await;
                let _ = tx.send(r);
            }
            PeerCmd::MaxPrefix(limit, family) => {
                self.shared.lock().max_prefix_exceeded = true;
                let _ = self
                    .handle
                    .stop(Stop::maximum_prefixes(family, limit.limit));
                if limit.restart_after > 0 {
                    let cmd = self.cmd_tx.clone();
                    let after = Duration::from_secs(u64::from(limit.restart_after));
                    tokio::spawn(async move {
                        tokio::time::sleep(after).await;
                        let _ = cmd.send(PeerCmd::Restart);
                    });
                }
            }
            PeerCmd::Restart => {
                self.shared.lock().max_prefix_exceeded = false;
                let _ = self.handle.start();
            }
            PeerCmd::Shutdown(..) => {}
        }
    }

    /// Re-runs import on the kept routes, or asks the peer to send its
    /// routes again.
    async fn soft_in(&mut self) -> Result<(), SpeakerError> {
        let Some(s) = &self.session else {
            return Ok(());
        };
        if let Some(adj) = self.adj_in.take() {
            for (nlri, (attrs, nh)) in &adj {
                self.import_routes(attrs, *nh, std::slice::from_ref(nlri));
                if self.batch_prefixes >= BATCH_PREFIXES {
                    self.flush().await;
                }
            }
            self.adj_in = Some(adj);
            self.flush().await;
            return Ok(());
        }
        if !s.route_refresh {
            return Err(SpeakerError::NoRouteRefresh(self.key));
        }
        for f in s.families.clone() {
            self.handle
                .send_route_refresh(RouteRefresh::new(f))
                .map_err(|_| SpeakerError::Stopped)?;
        }
        Ok(())
    }

    fn push(&mut self, item: InItem) {
        let n = match &item {
            InItem::Announce { nlri, .. } | InItem::Withdraw(nlri) => nlri.len(),
        };
        self.batch_prefixes += n;
        self.batch.push(item);
    }

    /// Decodes one UPDATE and adds its routes to the batch.
    fn import_update(&mut self, u: &Update) {
        let Some(s) = &self.session else {
            return;
        };
        let shared = Arc::clone(&self.shared);
        let c = &shared.counters;
        let decoded = match u.attributes(&s.ctx, s.peer_type) {
            Ok(d) => d,
            Err(e) => {
                self.malformed(e);
                return;
            }
        };
        let reset = decoded
            .report
            .problems
            .iter()
            .find(|p| p.action == bgp_wire::Action::SessionReset);
        if let Some(p) = reset {
            self.malformed(bgp_wire::DecodeError::Update {
                subcode: p.subcode,
                data: p.data.clone(),
                reason: p.reason,
            });
            return;
        }
        let unicast = |f: AfiSafi| f == AfiSafi::IPV4_UNICAST || f == AfiSafi::IPV6_UNICAST;
        let mut withdrawn: Vec<Nlri> = u.withdrawn().collect();
        if let Some(m) = decoded.mp_unreach.as_ref().filter(|m| unicast(m.family)) {
            withdrawn.extend(m.prefixes());
        }
        let mut announced: Vec<(NextHop, Vec<Nlri>)> = Vec::new();
        let v4: Vec<Nlri> = u.nlri().collect();
        let mp = decoded.mp_reach.as_ref().filter(|m| unicast(m.family));
        if decoded.report.treat_as_withdraw() {
            withdrawn.extend(v4);
            if let Some(m) = mp {
                withdrawn.extend(m.prefixes());
            }
        } else {
            if !v4.is_empty() {
                match decoded.attributes.next_hop {
                    Some(nh) => announced.push((NextHop::V4(nh), v4)),
                    None => bump(&c.errors, 1),
                }
            }
            if let Some(m) = mp {
                match NextHop::from_mp(&m.next_hop) {
                    Some(nh) => announced.push((nh, m.prefixes().collect())),
                    None => bump(&c.errors, 1),
                }
            }
        }
        if !withdrawn.is_empty() {
            bump(&c.prefixes_withdrawn, withdrawn.len() as u64);
            if let Some(adj) = self.adj_in.as_mut() {
                for n in &withdrawn {
                    adj.remove(n);
                }
            }
            self.push(InItem::Withdraw(withdrawn));
        }
        for (nh, nlri) in announced {
            bump(&c.prefixes_received, nlri.len() as u64);
            if let Some(adj) = self.adj_in.as_mut() {
                let mut kept = decoded.attributes.clone();
                kept.unshare();
                for n in &nlri {
                    adj.insert(*n, (kept.clone(), nh));
                }
            }
            self.import_routes(&decoded.attributes, nh, &nlri);
        }
    }

    /// A malformed UPDATE that calls for a session reset.
    /// An UPDATE RFC 7606 cannot repair: the session answers with the
    /// UPDATE Message Error NOTIFICATION the error carries, and closes; the
    /// transport restarts it as after any other error.
    fn malformed(&mut self, error: bgp_wire::DecodeError) {
        bump(&self.shared.counters.errors, 1);
        tracing::warn!(%error, "malformed UPDATE, closing the session");
        self.set_error(true, format!("malformed UPDATE: {error}"), None);
        let _ = self.handle.update_error(error);
    }

    /// Runs loop detection and import policy on routes with the same
    /// attributes and next hop, and batches what is accepted (a refused
    /// route is a withdrawal).
    fn import_routes(&mut self, attrs: &PathAttributes, nh: NextHop, nlri: &[Nlri]) {
        let Some(s) = &self.session else {
            return;
        };
        // The protocol's checks (AS and reflection loops, RFC 9234 leaks,
        // local-as prepend), then policy.
        let mut checked = attrs.clone();
        let speaker = self.rt.global.speaker_config();
        let cfg = self.rt.export_settings().rib_config(None);
        if let Err(why) = bgp_rib::import::check(&speaker, &s.info, &cfg, &mut checked) {
            tracing::trace!(?why, "route refused");
            bump(&self.shared.counters.prefixes_rejected, nlri.len() as u64);
            self.push(InItem::Withdraw(nlri.to_vec()));
            return;
        }
        let attrs = &checked;
        let Some(chain) = self.rt.import.clone() else {
            self.push(InItem::Announce {
                attrs: attrs.clone(),
                next_hop: nh,
                nlri: nlri.to_vec(),
            });
            return;
        };
        let peer = s.policy_peer.clone();
        let mut same: Vec<Nlri> = Vec::new();
        let mut rejected: Vec<Nlri> = Vec::new();
        let mut changed: Vec<(PathAttributes, NextHop, Vec<Nlri>)> = Vec::new();
        for n in nlri {
            let view = RouteView::new(n.prefix, attrs, &peer).with_next_hop(nh.addr());
            let out = chain.evaluate(&view);
            if !out.accepted() {
                rejected.push(*n);
                continue;
            }
            let new_nh = match out.next_hop {
                Some(NextHopAction::Address(a)) => NextHop::from(a),
                Some(NextHopAction::SelfAddress) => NextHop::from(self.key),
                _ => nh,
            };
            if !out.changed() && new_nh == nh {
                same.push(*n);
                continue;
            }
            let a = out.attributes.into_owned();
            match changed.last_mut() {
                Some((la, lnh, v)) if *la == a && *lnh == new_nh => v.push(*n),
                _ => changed.push((a, new_nh, vec![*n])),
            }
        }
        if !same.is_empty() {
            self.push(InItem::Announce {
                attrs: attrs.clone(),
                next_hop: nh,
                nlri: same,
            });
        }
        for (a, nh, v) in changed {
            self.push(InItem::Announce {
                attrs: a,
                next_hop: nh,
                nlri: v,
            });
        }
        if !rejected.is_empty() {
            bump(
                &self.shared.counters.prefixes_rejected,
                rejected.len() as u64,
            );
            self.push(InItem::Withdraw(rejected));
        }
    }
}

/// Writes the RIB task's UPDATEs for one session to the transport, and
/// asks the RIB task for more when it had found the queue full.
async fn writer(
    handle: PeerHandle,
    mut rx: mpsc::Receiver<Outbound>,
    wake: Arc<AtomicBool>,
    rib: mpsc::Sender<RibMsg>,
    key: IpAddr,
    shared: Arc<PeerShared>,
) {
    // The transport publishes its status, which `send_update` checks,
    // before the Established event this writer was started on: remember
    // which session this is (waiting only if that session is gone already).
    let up = tokio::time::timeout(
        WRITER_START,
        handle.wait_for(|s| s.state == State::Established),
    )
    .await;
    let Ok(Ok(status)) = up else {
        return;
    };
    let epoch = status.established_count;
    while let Some(o) = rx.recv().await {
        let r = match o {
            Outbound::Update(u) => handle.send_update(u).await,
            Outbound::EndOfRib(f) => handle.initial_updates_sent(f).await,
        };
        if rx.is_empty() && !wake.load(Ordering::Relaxed) {
            // Nothing waits in the RIB task either (it sets `wake` when it
            // keeps messages back).
            shared.counters.updates_pending.store(0, Ordering::Relaxed);
        }
        match r {
            Ok(()) => {}
            Err(SendUpdateError::NotEstablished(_)) => {
                if handle.status().established_count != epoch {
                    // A later session: it gets its own table.
                    return;
                }
            }
            Err(SendUpdateError::Closed) => return,
        }
        if rx.len() < OUT_QUEUE / 2
            && wake.swap(false, Ordering::Relaxed)
            && rib.send(RibMsg::Drained { key }).await.is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::config::{AddPathPaths, GracefulRestart, NextHopMode};
    use bgp_rib::export::AddPathSend;

    fn runtime(config: PeerConfig) -> PeerRuntime {
        PeerRuntime {
            families: config
                .families
                .clone()
                .unwrap_or(vec![Family::Ipv4Unicast, Family::Ipv6Unicast]),
            config,
            import: None,
            export: None,
            global: Global {
                router_id: "192.0.2.1".parse().unwrap(),
                local_as: 65001,
                cluster_id: "192.0.2.1".parse().unwrap(),
            },
        }
    }

    /// The session options of the builder reach the transport's
    /// configuration, the propagation options the export settings.
    #[test]
    fn builder_options_reach_the_session() {
        let p = PeerConfig::new("192.0.2.2".parse().unwrap(), 65002)
            .port(1179)
            .local_address("192.0.2.1".parse().unwrap())
            .local_as(65100)
            .passive()
            .password("secret")
            .hold_time(30)
            .keepalive_time(10)
            .connect_retry(7)
            .restart_delay(3)
            .families([Family::Ipv4Unicast])
            .multihop(4)
            .rr_client()
            .next_hop_mode(NextHopMode::SelfAddress)
            .allow_own_as(2)
            .add_path(AddPathMode::Both)
            .add_path_paths(Family::Ipv4Unicast, AddPathPaths::Best(3))
            .graceful_restart(GracefulRestart {
                restart_time: 90,
                ..GracefulRestart::default()
            });
        let rt = runtime(p);
        let t = rt.transport_config();
        assert_eq!(t.remote, "192.0.2.2:1179".parse().unwrap());
        assert_eq!(t.local, Some("192.0.2.1".parse().unwrap()));
        assert!(t.passive);
        assert_eq!(t.md5_key.as_deref(), Some(&b"secret"[..]));
        assert_eq!(t.ttl, Ttl::Multihop(4));
        assert_eq!(t.restart_delay, Some(Duration::from_secs(3)));
        let s = &t.session;
        assert_eq!((s.local_as, s.peer_as), (65100, 65002));
        assert_eq!(s.hold_time, 30);
        assert_eq!(s.keepalive_time, Some(Duration::from_secs(10)));
        assert_eq!(s.connect_retry_time, Duration::from_secs(7));
        assert_eq!(s.capabilities.families, vec![AfiSafi::IPV4_UNICAST]);
        assert_eq!(
            s.capabilities.add_path,
            vec![AddPathFamily {
                family: AfiSafi::IPV4_UNICAST,
                send_receive: SendReceive::Both
            }]
        );
        let gr = s.capabilities.graceful_restart.as_ref().unwrap();
        assert_eq!(gr.restart_time, 90);
        let e = rt.export_settings();
        assert!(e.rr_client);
        assert_eq!(e.next_hop, NextHopMode::SelfAddress);
        assert_eq!(e.local_as, Some(65100));
        assert_eq!(e.allow_own_as, 2);
        assert_eq!(
            e.add_path_paths,
            vec![(AfiSafi::IPV4_UNICAST, AddPathSend::Best(3))]
        );

        // GTSM instead of multihop.
        let g = runtime(PeerConfig::new("192.0.2.3".parse().unwrap(), 65001).ttl_security(1));
        assert_eq!(g.transport_config().ttl, Ttl::Gtsm { hops: 1 });
        assert!(
            g.transport_config()
                .session
                .capabilities
                .add_path
                .is_empty()
        );
    }
}
