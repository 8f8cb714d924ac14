//! The [`Speaker`] handle and its [`SpeakerBuilder`].

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};

use bgp_fsm::Stop;
use bgp_fsm::transport::{Listener, PeerHandle};
use bgp_rib::NextHopResolver;
use bgp_rib::export::PolicyRef;
use bgp_rib::policy::{Chain, Policy, PolicySet, Verdict};
use bgp_wire::error::CeaseSubcode;
use ipnet::IpNet;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument;

use crate::SpeakerError;
use crate::config::{Config, DecisionSettings, Family, Originate, PeerConfig};
use crate::export::Global;
use crate::peer_task::{self, PeerCmd, PeerRuntime};
use crate::resolver::Resolver;
use crate::rib_task::{Query, RibMsg, RibTask};
use crate::status::{BestRoute, PathInfo, PeerShared, PeerStatus, RouteInfo};
use crate::subscribe::Subscription;

/// Batches (and other messages) waiting for the RIB task, all peers
/// together.
const RIB_QUEUE: usize = 256;

/// What [`Speaker::update_peer`] and [`Speaker::reload`] did to a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerChange {
    /// Nothing changed.
    Unchanged,
    /// Settings applied without a reset: soft reconfiguration (re-import
    /// and re-export) where policies changed.
    Soft,
    /// The session was reset (Cease / Other Configuration Change) and
    /// started with the new settings.
    Reset,
    /// Added.
    Added,
    /// Removed (Cease / Peer De-configured).
    Removed,
}

/// What [`Speaker::reload`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadReport {
    /// Each peer that was added, removed, reset or changed softly.
    pub peers: Vec<(IpAddr, PeerChange)>,
    /// Originated prefixes added or changed.
    pub originated: usize,
    /// Originated prefixes withdrawn.
    pub withdrawn: usize,
    /// Whether the decision knobs changed (every prefix reselected).
    pub decision_changed: bool,
}

struct PeerEntry {
    runtime: PeerRuntime,
    shared: Arc<PeerShared>,
    cmd: mpsc::UnboundedSender<PeerCmd>,
    handle: PeerHandle,
    task: Option<tokio::task::JoinHandle<()>>,
}

struct State {
    config: Config,
    policies: Policies,
    peers: HashMap<IpAddr, PeerEntry>,
    stopped: bool,
}

/// The policies peers' chains are built from: the configuration's
/// document, and typed ones given to the builder.
#[derive(Debug, Clone, Default)]
struct Policies {
    set: PolicySet,
    typed: HashMap<String, Arc<Policy>>,
    /// Export chains by (names, fallback): peers with the same chain share
    /// one `PolicyRef`, which update groups compare by identity; kept
    /// across reloads while the chain's content is the same.
    refs: HashMap<(Vec<String>, Verdict), (Chain, PolicyRef)>,
}

impl Policies {
    fn chain(&self, names: &[String], otherwise: Verdict) -> Result<Option<Chain>, SpeakerError> {
        if names.is_empty() {
            return Ok(None);
        }
        let mut v = Vec::new();
        for n in names {
            let p = self
                .typed
                .get(n)
                .or_else(|| self.set.get(n))
                .ok_or_else(|| SpeakerError::UnknownPolicy(n.clone()))?;
            v.push(Arc::clone(p));
        }
        Ok(Some(Chain::new(v).otherwise(otherwise)))
    }

    fn export_ref(
        &mut self,
        names: &[String],
        otherwise: Verdict,
    ) -> Result<Option<PolicyRef>, SpeakerError> {
        let Some(chain) = self.chain(names, otherwise)? else {
            return Ok(None);
        };
        let key = (names.to_vec(), otherwise);
        if let Some((c, r)) = self.refs.get(&key)
            && *c == chain
        {
            return Ok(Some(r.clone()));
        }
        let r = PolicyRef::new(chain.clone());
        self.refs.insert(key, (chain, r.clone()));
        Ok(Some(r))
    }
}

struct Inner {
    state: Mutex<State>,
    listeners: Vec<Listener>,
    rib: mpsc::Sender<RibMsg>,
    global: Global,
}

impl Drop for Inner {
    /// The last handle is gone without [`Speaker::shutdown`]: the peers are
    /// told to close their sessions (Cease / Administrative Shutdown) and
    /// the RIB task to stop, without waiting for either.
    fn drop(&mut self) {
        let s = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        for (_, e) in s.peers.drain() {
            let (tx, _rx) = oneshot::channel();
            let _ = e
                .cmd
                .send(PeerCmd::Shutdown(Stop::administrative_shutdown(""), tx));
        }
        let (tx, _rx) = oneshot::channel();
        let _ = self.rib.try_send(RibMsg::Stop(tx));
    }
}

/// A running BGP speaker: its peers, its RIB, its listeners. Cheap to
/// clone (a handle); every method may be called from any task.
///
/// See the [crate documentation](crate) for an example.
#[derive(Clone)]
pub struct Speaker {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Speaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Speaker")
            .field("router_id", &self.inner.global.router_id)
            .field("local_as", &self.inner.global.local_as)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Speaker`]: [`Speaker::builder`], or
/// [`SpeakerBuilder::from_config`] to start from a configuration.
#[derive(Debug, Clone)]
pub struct SpeakerBuilder {
    config: Config,
    typed: HashMap<String, Arc<Policy>>,
    resolver: Resolver,
}

impl SpeakerBuilder {
    /// A builder holding this configuration (peers, routes and policies
    /// included), to add what TOML cannot give: typed policies, a
    /// resolver.
    pub fn from_config(config: Config) -> Self {
        SpeakerBuilder {
            config,
            typed: HashMap::new(),
            resolver: Resolver::default(),
        }
    }
    /// Resolves next hops with `resolver`: whether each is reachable and
    /// at which IGP cost, as best-path selection (RFC 4271 9.1.2.2 (e), and
    /// 9.1.2.1's unresolvable next hops) and ADD-PATH send use them. Tell
    /// the speaker when its answers change with [`Speaker::reresolve`].
    /// Without one, every next hop is reachable at cost 0. The unspecified
    /// next hop of a route originated without one is never asked (it is
    /// reachable at cost 0). It is called from the RIB task, often: it
    /// should answer from memory, without blocking.
    pub fn resolver(mut self, resolver: impl NextHopResolver + Send + Sync + 'static) -> Self {
        self.resolver = Resolver::new(Arc::new(resolver));
        self
    }
    /// Adds an address (and port) to listen on; port 0 picks one.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.config.listen.push(addr);
        self
    }
    /// Sets the address families.
    pub fn families(mut self, f: impl IntoIterator<Item = Family>) -> Self {
        self.config.families = f.into_iter().collect();
        self
    }
    /// Sets the route-reflection cluster ID.
    pub fn cluster_id(mut self, id: std::net::Ipv4Addr) -> Self {
        self.config.cluster_id = Some(id);
        self
    }
    /// Sets the decision knobs.
    pub fn decision(mut self, d: DecisionSettings) -> Self {
        self.config.decision = d;
        self
    }
    /// Sets the ECMP width (`decision.max_paths`).
    pub fn max_paths(mut self, n: u16) -> Self {
        self.config.decision.max_paths = n;
        self
    }
    /// Adds a peer.
    pub fn peer(mut self, p: PeerConfig) -> Self {
        self.config.peers.push(p);
        self
    }
    /// Adds a route to originate.
    pub fn originate(mut self, o: Originate) -> Self {
        self.config.originate.push(o);
        self
    }
    /// Adds a typed policy, which peers name in `import` and `export`.
    pub fn policy(mut self, p: Policy) -> Self {
        self.typed.insert(p.name.clone(), Arc::new(p));
        self
    }
    /// The configuration so far.
    pub fn config(&self) -> &Config {
        &self.config
    }
    /// Starts the speaker (inside a tokio runtime): binds the listeners,
    /// starts the RIB task and every peer.
    pub async fn start(self) -> Result<Speaker, SpeakerError> {
        Speaker::start_with(self.config, self.typed, self.resolver).await
    }
}

impl Speaker {
    /// A builder for a speaker of `local_as` with this router ID.
    pub fn builder(local_as: u32, router_id: std::net::Ipv4Addr) -> SpeakerBuilder {
        SpeakerBuilder::from_config(Config::new(local_as, router_id))
    }

    /// Starts a speaker from a configuration (inside a tokio runtime).
    pub async fn from_config(config: Config) -> Result<Speaker, SpeakerError> {
        SpeakerBuilder::from_config(config).start().await
    }

    async fn start_with(
        config: Config,
        typed: HashMap<String, Arc<Policy>>,
        resolver: Resolver,
    ) -> Result<Speaker, SpeakerError> {
        config.validate_with(&typed)?;
        let set = config
            .policy_document()
            .compile()
            .map_err(|e| SpeakerError::Config(e.to_string()))?;
        let global = Global {
            router_id: config.router_id,
            local_as: config.local_as,
            cluster_id: config.cluster_id.unwrap_or(config.router_id),
        };
        let mut listeners = Vec::new();
        for a in &config.listen {
            listeners.push(Listener::bind(*a).map_err(|e| SpeakerError::Listen(*a, e))?);
        }
        let (rib_tx, rib_rx) = mpsc::channel(RIB_QUEUE);
        let task = RibTask::new(config.decision.to_rib(), global, resolver, rib_rx)
            .map_err(|e| SpeakerError::Config(e.to_string()))?;
        let span = tracing::info_span!("rib", router_id = %config.router_id, asn = config.local_as);
        tokio::spawn(task.run().instrument(span));
        let speaker = Speaker {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    config: Config {
                        peers: Vec::new(),
                        originate: Vec::new(),
                        ..config.clone()
                    },
                    policies: Policies {
                        set,
                        typed,
                        refs: HashMap::new(),
                    },
                    peers: HashMap::new(),
                    stopped: false,
                }),
                listeners,
                rib: rib_tx,
                global,
            }),
        };
        for p in &config.peers {
            speaker.add_peer(p.clone()).await?;
        }
        for o in &config.originate {
            speaker.originate(o.clone()).await?;
        }
        tracing::info!(router_id = %config.router_id, asn = config.local_as, "speaker started");
        Ok(speaker)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The addresses listened on (with the ports the system picked).
    pub fn listen_addrs(&self) -> Vec<SocketAddr> {
        self.inner
            .listeners
            .iter()
            .map(Listener::local_addr)
            .collect()
    }

    /// The router ID.
    pub fn router_id(&self) -> std::net::Ipv4Addr {
        self.inner.global.router_id
    }

    /// The local AS.
    pub fn local_as(&self) -> u32 {
        self.inner.global.local_as
    }

    /// The current configuration (peers and originated routes included).
    pub fn config(&self) -> Config {
        let s = self.state();
        let mut c = s.config.clone();
        let mut peers: Vec<PeerConfig> =
            s.peers.values().map(|p| p.runtime.config.clone()).collect();
        peers.sort_by_key(|p| p.address);
        c.peers = peers;
        c
    }

    /// The listener that takes a peer's connections: the one on its local
    /// address, else a wildcard one of its family, else any of its family.
    fn listener_for(&self, p: &PeerConfig) -> Option<&Listener> {
        let ls = &self.inner.listeners;
        let v4 = p.address.is_ipv4();
        let fam = |l: &&Listener| l.local_addr().is_ipv4() == v4;
        p.local_address
            .and_then(|a| ls.iter().find(|l| l.local_addr().ip() == a))
            .or_else(|| {
                ls.iter()
                    .filter(fam)
                    .find(|l| l.local_addr().ip().is_unspecified())
            })
            .or_else(|| ls.iter().find(fam))
    }

    fn runtime(&self, p: &PeerConfig) -> Result<PeerRuntime, SpeakerError> {
        let mut s = self.state();
        if s.stopped {
            return Err(SpeakerError::Stopped);
        }
        Ok(PeerRuntime {
            families: p.families_or(&s.config.families).to_vec(),
            import: s.policies.chain(&p.import, p.import_default)?,
            export: s.policies.export_ref(&p.export, p.export_default)?,
            global: self.inner.global,
            config: p.clone(),
        })
    }

    /// Adds a peer and starts its session.
    pub async fn add_peer(&self, p: PeerConfig) -> Result<(), SpeakerError> {
        if self.state().peers.contains_key(&p.address) {
            return Err(SpeakerError::PeerExists(p.address));
        }
        let rt = self.runtime(&p)?;
        if p.passive && self.listener_for(&p).is_none() {
            return Err(SpeakerError::NoListener(p.address));
        }
        let shared = PeerShared::new(p.address, p.name.clone(), p.remote_as);
        let spawned = peer_task::spawn(
            rt.clone(),
            self.listener_for(&p),
            self.inner.rib.clone(),
            Arc::clone(&shared),
        )?;
        tracing::info!(peer = %p.address, asn = p.remote_as, "peer added");
        self.state().peers.insert(
            p.address,
            PeerEntry {
                runtime: rt,
                shared,
                cmd: spawned.cmd,
                handle: spawned.handle,
                task: Some(spawned.task),
            },
        );
        Ok(())
    }

    /// Removes a peer: Cease / Peer De-configured, its routes withdrawn.
    pub async fn remove_peer(&self, address: IpAddr) -> Result<(), SpeakerError> {
        let entry = self
            .state()
            .peers
            .remove(&address)
            .ok_or(SpeakerError::UnknownPeer(address))?;
        stop_entry(entry, Stop::cease(CeaseSubcode::PeerDeconfigured)).await;
        tracing::info!(peer = %address, "peer removed");
        Ok(())
    }

    /// Changes a peer's settings. What needs no reset (policies, route
    /// reflection, next hop, allow-own-AS, max-prefix, name) is applied to
    /// the running session: import policy changes re-run import (from the
    /// kept routes with soft reconfiguration inbound, else by route
    /// refresh), export changes re-send. Anything else (AS, addresses,
    /// timers, password, TTL, capabilities) resets the session.
    pub async fn update_peer(&self, p: PeerConfig) -> Result<PeerChange, SpeakerError> {
        let old = {
            let s = self.state();
            let e = s
                .peers
                .get(&p.address)
                .ok_or(SpeakerError::UnknownPeer(p.address))?;
            e.runtime.clone()
        };
        let rt = self.runtime(&p)?;
        if old.config == p && old.import == rt.import && old.export == rt.export {
            return Ok(PeerChange::Unchanged);
        }
        if old.config.needs_reset(&p) || old.families != rt.families {
            let entry = self.state().peers.remove(&p.address);
            if let Some(e) = entry {
                stop_entry(e, Stop::cease(CeaseSubcode::OtherConfigurationChange)).await;
            }
            self.add_peer(p).await?;
            return Ok(PeerChange::Reset);
        }
        let mut s = self.state();
        let e = s
            .peers
            .get_mut(&p.address)
            .ok_or(SpeakerError::UnknownPeer(p.address))?;
        {
            let mut snap = e.shared.lock();
            snap.name = p.name.clone();
        }
        e.runtime = rt.clone();
        e.cmd
            .send(PeerCmd::Update(Box::new(rt)))
            .map_err(|_| SpeakerError::Stopped)?;
        Ok(PeerChange::Soft)
    }

    /// Closes and restarts a peer's session (a hard reset), with Cease /
    /// Administrative Reset and `message`.
    pub async fn reset_peer(&self, address: IpAddr, message: &str) -> Result<(), SpeakerError> {
        let p = {
            let s = self.state();
            let e = s
                .peers
                .get(&address)
                .ok_or(SpeakerError::UnknownPeer(address))?;
            e.runtime.config.clone()
        };
        let entry = self.state().peers.remove(&address);
        if let Some(e) = entry {
            stop_entry(e, Stop::administrative_reset(message)).await;
        }
        self.add_peer(p).await
    }

    /// Soft reset inbound: import runs again on the peer's routes (kept
    /// ones with soft reconfiguration inbound, else a ROUTE-REFRESH asks
    /// the peer to send them again).
    pub async fn soft_reset_in(&self, address: IpAddr) -> Result<(), SpeakerError> {
        let cmd = self.peer_cmd(address)?;
        let (tx, rx) = oneshot::channel();
        cmd.send(PeerCmd::SoftIn(tx))
            .map_err(|_| SpeakerError::Stopped)?;
        rx.await.map_err(|_| SpeakerError::Stopped)?
    }

    /// Soft reset outbound: every route is sent to the peer again (what a
    /// ROUTE-REFRESH from the peer does).
    pub async fn soft_reset_out(&self, address: IpAddr) -> Result<(), SpeakerError> {
        self.peer_cmd(address)?;
        self.rib(RibMsg::RefreshOut { key: address }).await
    }

    fn peer_cmd(&self, address: IpAddr) -> Result<mpsc::UnboundedSender<PeerCmd>, SpeakerError> {
        self.state()
            .peers
            .get(&address)
            .map(|e| e.cmd.clone())
            .ok_or(SpeakerError::UnknownPeer(address))
    }

    async fn rib(&self, m: RibMsg) -> Result<(), SpeakerError> {
        self.inner
            .rib
            .send(m)
            .await
            .map_err(|_| SpeakerError::Stopped)
    }

    /// Originates a route (replacing the one of the same prefix).
    pub async fn originate(&self, o: Originate) -> Result<(), SpeakerError> {
        self.originate_many([o]).await
    }

    /// Originates routes.
    pub async fn originate_many(
        &self,
        routes: impl IntoIterator<Item = Originate>,
    ) -> Result<(), SpeakerError> {
        let mut v = Vec::new();
        let mut kept = Vec::new();
        for o in routes {
            let attrs = o.attributes().map_err(|(k, m)| {
                SpeakerError::Config(format!("originate {}: {k}: {m}", o.prefix))
            })?;
            v.push((o.prefix.trunc(), attrs, o.next_hop));
            kept.push(o);
        }
        {
            let mut s = self.state();
            for o in kept {
                s.config
                    .originate
                    .retain(|q| q.prefix.trunc() != o.prefix.trunc());
                s.config.originate.push(o);
            }
        }
        let (tx, rx) = oneshot::channel();
        self.rib(RibMsg::Originate(v, tx)).await?;
        rx.await.map_err(|_| SpeakerError::Stopped)
    }

    /// Withdraws originated routes; returns how many there were.
    pub async fn withdraw(
        &self,
        prefixes: impl IntoIterator<Item = IpNet>,
    ) -> Result<usize, SpeakerError> {
        let v: Vec<IpNet> = prefixes.into_iter().map(|p| p.trunc()).collect();
        self.state()
            .config
            .originate
            .retain(|o| !v.contains(&o.prefix.trunc()));
        let (tx, rx) = oneshot::channel();
        self.rib(RibMsg::WithdrawLocal(v, tx)).await?;
        rx.await.map_err(|_| SpeakerError::Stopped)
    }

    /// The resolver's answers changed (an IGP or kernel route change): every
    /// prefix is selected again with them, subscribers get the changes and
    /// peers the resulting UPDATEs. Returns how many prefixes' selection
    /// changed.
    pub async fn reresolve(&self) -> Result<usize, SpeakerError> {
        let (tx, rx) = oneshot::channel();
        self.rib(RibMsg::Reresolve(tx)).await?;
        rx.await.map_err(|_| SpeakerError::Stopped)
    }

    /// Subscribes to Loc-RIB best-path changes: the whole Loc-RIB first,
    /// then each change (coalesced per prefix when the subscriber is
    /// slow; see [`Subscription`]).
    pub async fn subscribe(&self) -> Result<Subscription, SpeakerError> {
        let (sub, shared) = Subscription::new();
        let (tx, rx) = oneshot::channel();
        self.rib(RibMsg::Subscribe(shared, tx)).await?;
        rx.await.map_err(|_| SpeakerError::Stopped)?;
        Ok(sub)
    }

    /// The status of every peer, by address.
    pub fn peers(&self) -> Vec<PeerStatus> {
        let s = self.state();
        let mut v: Vec<PeerStatus> = s.peers.values().map(entry_status).collect();
        v.sort_by_key(|p| p.address);
        v
    }

    /// The status of one peer.
    pub fn peer(&self, address: IpAddr) -> Option<PeerStatus> {
        self.state().peers.get(&address).map(entry_status)
    }

    /// Every path of a prefix, the best one, the ECMP set and the step
    /// that decided.
    pub async fn route(&self, prefix: IpNet) -> Result<Option<RouteInfo>, SpeakerError> {
        let (tx, rx) = oneshot::channel();
        self.rib(RibMsg::Query(Query::Route(prefix.trunc(), tx)))
            .await?;
        rx.await.map_err(|_| SpeakerError::Stopped)
    }

    /// The Loc-RIB: each prefix's best path and ECMP next hops.
    pub async fn best_routes(&self) -> Result<Vec<BestRoute>, SpeakerError> {
        let (tx, rx) = oneshot::channel();
        self.rib(RibMsg::Query(Query::Best(tx))).await?;
        rx.await.map_err(|_| SpeakerError::Stopped)
    }

    /// The most specific route covering `addr`.
    pub async fn lookup(&self, addr: IpAddr) -> Result<Option<BestRoute>, SpeakerError> {
        let (tx, rx) = oneshot::channel();
        self.rib(RibMsg::Query(Query::Lookup(addr, tx))).await?;
        rx.await.map_err(|_| SpeakerError::Stopped)
    }

    /// The routes a peer sent that import accepted (its post-policy
    /// Adj-RIB-In).
    pub async fn adj_rib_in(
        &self,
        address: IpAddr,
    ) -> Result<Vec<(IpNet, PathInfo)>, SpeakerError> {
        let (tx, rx) = oneshot::channel();
        self.rib(RibMsg::Query(Query::AdjRibIn(address, tx)))
            .await?;
        rx.await.map_err(|_| SpeakerError::Stopped)
    }

    /// Applies a new configuration, changing only what differs: peers
    /// added, removed, reset (session settings changed) or changed softly
    /// (policies and the like); originated routes added, changed or
    /// withdrawn; policies recompiled, and the peers whose chains changed
    /// re-import or re-export; decision knobs. The router ID, the local AS
    /// and the listen addresses cannot change on a running speaker
    /// ([`SpeakerError::RestartRequired`]).
    pub async fn reload(&self, new: Config) -> Result<ReloadReport, SpeakerError> {
        let typed = self.state().policies.typed.clone();
        new.validate_with(&typed)?;
        let set = new
            .policy_document()
            .compile()
            .map_err(|e| SpeakerError::Config(e.to_string()))?;
        let old = self.config();
        for (what, same) in [
            ("router_id", old.router_id == new.router_id),
            ("local_as", old.local_as == new.local_as),
            ("listen", old.listen == new.listen),
            ("cluster_id", old.cluster_id == new.cluster_id),
        ] {
            if !same {
                return Err(SpeakerError::RestartRequired(what));
            }
        }
        let mut report = ReloadReport::default();
        {
            let mut s = self.state();
            s.policies.set = set;
            s.config.families = new.families.clone();
            s.config.prefix_set = new.prefix_set.clone();
            s.config.policy = new.policy.clone();
        }
        if old.decision != new.decision {
            self.state().config.decision = new.decision;
            self.rib(RibMsg::SetDecision(new.decision.to_rib())).await?;
            report.decision_changed = true;
        }
        for p in &old.peers {
            if new.peer(p.address).is_none() {
                self.remove_peer(p.address).await?;
                report.peers.push((p.address, PeerChange::Removed));
            }
        }
        for p in &new.peers {
            if old.peer(p.address).is_some() {
                let c = self.update_peer(p.clone()).await?;
                if c != PeerChange::Unchanged {
                    report.peers.push((p.address, c));
                }
            } else {
                self.add_peer(p.clone()).await?;
                report.peers.push((p.address, PeerChange::Added));
            }
        }
        let gone: Vec<IpNet> = old
            .originate
            .iter()
            .map(|o| o.prefix.trunc())
            .filter(|p| !new.originate.iter().any(|o| o.prefix.trunc() == *p))
            .collect();
        if !gone.is_empty() {
            report.withdrawn = self.withdraw(gone).await?;
        }
        let changed: Vec<Originate> = new
            .originate
            .iter()
            .filter(|o| !old.originate.contains(o))
            .cloned()
            .collect();
        report.originated = changed.len();
        if !changed.is_empty() {
            self.originate_many(changed).await?;
        }
        tracing::info!(?report, "configuration reloaded");
        Ok(report)
    }

    /// Stops the speaker: every session is closed with Cease /
    /// Administrative Shutdown and `message` (RFC 9003, at most 255
    /// octets), their NOTIFICATIONs flushed; then the RIB task ends and
    /// subscriptions end.
    pub async fn shutdown(&self, message: &str) {
        let entries: Vec<PeerEntry> = {
            let mut s = self.state();
            s.stopped = true;
            s.peers.drain().map(|(_, e)| e).collect()
        };
        let stops = entries
            .into_iter()
            .map(|e| tokio::spawn(stop_entry(e, Stop::administrative_shutdown(message))));
        for h in stops.collect::<Vec<_>>() {
            let _ = h.await;
        }
        let (tx, rx) = oneshot::channel();
        if self.inner.rib.send(RibMsg::Stop(tx)).await.is_ok() {
            let _ = rx.await;
        }
        tracing::info!("speaker stopped");
    }
}

fn entry_status(e: &PeerEntry) -> PeerStatus {
    let mut st = e.shared.status(&e.handle.message_counts());
    let t = e.handle.status();
    st.state = t.state;
    if t.state != bgp_fsm::State::Established {
        st.connection = None;
    }
    st
}

/// Stops a peer's task (its session closed with `stop`) and waits for it.
async fn stop_entry(mut e: PeerEntry, stop: Stop) {
    let (tx, rx) = oneshot::channel();
    if e.cmd.send(PeerCmd::Shutdown(stop, tx)).is_ok() {
        let _ = rx.await;
    }
    if let Some(t) = e.task.take() {
        let _ = t.await;
    }
}

impl Config {
    /// [`Config::validate`], with typed policies known too.
    fn validate_with(&self, typed: &HashMap<String, Arc<Policy>>) -> Result<(), SpeakerError> {
        if typed.is_empty() {
            return self
                .validate()
                .map_err(|e| SpeakerError::Config(e.to_string()));
        }
        // Policy names the typed ones provide are not errors.
        let mut c = self.clone();
        for p in &mut c.peers {
            p.import.retain(|n| !typed.contains_key(n));
            p.export.retain(|n| !typed.contains_key(n));
        }
        c.validate()
            .map_err(|e| SpeakerError::Config(e.to_string()))
    }
}
