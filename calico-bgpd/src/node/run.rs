//! The running daemon of Calico mode: resources in, sessions and kernel
//! routes out, kept current as the files and the kernel change.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bgp_speaker::{BestRoute, Config, PeerChange, Speaker, SpeakerError};
use bgp_wire::AfiSafi;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::config::CalicoSection;
use super::kernel::{Composer, learned_hops};
use super::speaker::{KernelFacts, speaker_config};
use super::watch::DirWatch;
use crate::birdctl::{ControlSocket, ControlSocketHandle, Families, SocketConfig, SpeakerSource};
use crate::calico::NodePlan;
use crate::calico::loader::{Loader, Reload};
use crate::calico::secrets::{NoSecrets, SecretSource, SecretsDir};
use crate::fib::{self, FibConfig, FibProgrammer, RouteUpdate};

/// What the process asks of the daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Read the directories again now (SIGHUP).
    Reload,
    /// Stop (SIGTERM, SIGINT).
    Stop,
}

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The FIB programmer could not start (needs CAP_NET_ADMIN).
    #[error("cannot start the FIB programmer (needs CAP_NET_ADMIN): {0}")]
    Fib(#[from] fib::FibError),
    /// The kernel route learner could not start.
    #[error("cannot learn the kernel's routes: {0}")]
    Learn(std::io::Error),
    /// The speaker could not start (a listen address in use...).
    #[error("cannot start the BGP speaker: {0}")]
    Speaker(#[from] SpeakerError),
}

/// How often the graceful-restart recovery is checked.
const SYNC_TICK: Duration = Duration::from_millis(250);
/// How long recovery's condition must hold before the kernel table is
/// reconciled (the last routes before End-of-RIB reach the RIB).
const SYNC_SETTLE: Duration = Duration::from_millis(750);
/// How long a burst of kernel route changes is waited out.
const FACTS_DEBOUNCE: Duration = Duration::from_millis(100);
/// How long a stop may take.
const STOP_WAIT: Duration = Duration::from_secs(10);

fn secrets_of(section: &CalicoSection) -> Box<dyn SecretSource + Send + Sync> {
    match &section.secrets {
        Some(d) => Box::new(SecretsDir::new(d.clone())),
        None => Box::new(NoSecrets),
    }
}

/// A loader for the section's directories.
pub fn loader(section: &CalicoSection) -> Loader {
    let l = Loader::new(
        section.resources.clone(),
        section.settings(),
        secrets_of(section),
    );
    match &section.endpoint_status {
        Some(d) => l.with_endpoint_status(d.clone()),
        None => l,
    }
}

/// Recovery of one family after a start (graceful restart, restarting side).
#[derive(Debug, Clone, Copy)]
struct Recovery {
    afi: AfiSafi,
    v4: bool,
    /// When the condition was first seen to hold.
    since: Option<Instant>,
    done: bool,
}

/// The daemon's state.
struct Daemon {
    section: CalicoSection,
    plan: Arc<NodePlan>,
    facts: KernelFacts,
    speaker: Speaker,
    config: Config,
    composer: Composer,
    fib: Option<FibProgrammer>,
    feed_tx: mpsc::Sender<(u64, Vec<BestRoute>)>,
    generation: u64,
    started: Instant,
    recovery: [Recovery; 2],
    control: Option<ControlSockets>,
}

/// The BIRD-compatible control sockets over the running speaker.
struct ControlSockets {
    source: Arc<SpeakerSource>,
    handles: Vec<ControlSocketHandle>,
}

impl ControlSockets {
    /// Binds the sockets of the families the section runs; one that cannot
    /// be bound is logged and left out (calico-node's checks then report
    /// the daemon not ready).
    fn serve(section: &CalicoSection, speaker: &Speaker, recovering: bool) -> Option<Self> {
        if !section.control.enabled {
            return None;
        }
        let mut source = SpeakerSource::new(speaker.clone());
        if recovering {
            source =
                source.with_graceful_restart_recovery(Duration::from_secs(section.fib.sync_after));
        }
        let source = Arc::new(source);
        let mut handles = Vec::new();
        let sockets = [
            (section.ipv4, &section.control.ipv4, Families::Ipv4),
            (section.ipv6, &section.control.ipv6, Families::Ipv6),
        ];
        for (on, path, families) in sockets {
            if !on {
                continue;
            }
            match ControlSocket::bind(SocketConfig::new(path.clone(), families), source.clone()) {
                Ok(s) => {
                    tracing::info!(path = %path.display(), "control socket ready");
                    handles.push(s.spawn());
                }
                Err(e) => {
                    tracing::error!(path = %path.display(), "cannot serve the control socket: {e}")
                }
            }
        }
        Some(ControlSockets { source, handles })
    }

    /// Stops serving and removes the socket files.
    async fn shutdown(self) -> Arc<SpeakerSource> {
        for h in self.handles {
            h.shutdown().await;
        }
        self.source
    }
}

fn family_of(a: &IpAddr) -> AfiSafi {
    if a.is_ipv4() {
        AfiSafi::IPV4_UNICAST
    } else {
        AfiSafi::IPV6_UNICAST
    }
}

/// Waits for a first plan: nothing is programmed before the resources
/// make one (checklist item 72).
async fn first_plan(
    loader: &mut Loader,
    changes: &mut mpsc::Receiver<()>,
    control: &mut mpsc::Receiver<Control>,
) -> Option<Arc<NodePlan>> {
    loop {
        match loader.reload() {
            Reload::Applied { plan, warnings, .. } => {
                for w in warnings {
                    tracing::warn!("{w}");
                }
                for w in &plan.warnings {
                    tracing::warn!("{w}");
                }
                return Some(plan);
            }
            Reload::Rejected { error, .. } => {
                tracing::error!(
                    "no configuration yet: {error}; waiting for the resources to change"
                );
            }
        }
        tokio::select! {
            Some(()) = changes.recv() => {}
            c = control.recv() => match c {
                Some(Control::Reload) => {}
                Some(Control::Stop) | None => return None,
            },
        }
    }
}

/// Runs Calico mode until [`Control::Stop`] (or the sender is dropped).
pub async fn run(
    section: CalicoSection,
    mut control: mpsc::Receiver<Control>,
) -> Result<(), RunError> {
    let mut dirs = vec![section.resources.clone()];
    dirs.extend(section.secrets.clone());
    dirs.extend(section.endpoint_status.clone());
    let mut dir_watch = DirWatch::new(dirs, section.watch.clone());
    // In a task of its own: a change noticed is never lost to the other
    // branches of the loop below.
    let (changes_tx, mut changes) = mpsc::channel(1);
    tokio::spawn(async move {
        loop {
            dir_watch.changed().await;
            if changes_tx.send(()).await.is_err() {
                break;
            }
        }
    });
    let mut loader = loader(&section);
    let Some(plan) = first_plan(&mut loader, &mut changes, &mut control).await else {
        return Ok(());
    };
    // The kernel first: our routes of a previous run are adopted before
    // anything is learned, and the learned routes of other owners are
    // known before the first UPDATE goes out.
    let fib = if section.fib.enabled {
        Some(
            FibProgrammer::start(FibConfig {
                metric: section.fib.metric,
                ..FibConfig::default()
            })
            .await?,
        )
    } else {
        None
    };
    let mut facts_rx = if section.fib.learn {
        Some(super::learn::start().await.map_err(RunError::Learn)?)
    } else {
        None
    };
    let facts = facts_rx
        .as_mut()
        .map(|r| r.borrow_and_update().clone())
        .unwrap_or_default();
    let mut composer = Composer::new(section.fib.tunnel_device.clone());
    let first = composer.set_plan(&plan, |a| section.runs(a));
    if let Some(f) = &fib {
        f.update(first).await?;
    }
    let config = speaker_config(&plan, &section, &facts);
    let speaker = Speaker::from_config(config.clone()).await?;
    let (feed_tx, mut feed_rx) = mpsc::channel(4);
    let control_sockets = ControlSockets::serve(&section, &speaker, fib.is_some());
    let mut d = Daemon {
        section,
        plan,
        facts,
        speaker,
        config,
        composer,
        fib,
        feed_tx,
        generation: 0,
        started: Instant::now(),
        recovery: [
            Recovery {
                afi: AfiSafi::IPV4_UNICAST,
                v4: true,
                since: None,
                done: false,
            },
            Recovery {
                afi: AfiSafi::IPV6_UNICAST,
                v4: false,
                since: None,
                done: false,
            },
        ],
        control: control_sockets,
    };
    d.follow().await?;
    d.log_started();
    let mut sync_tick = tokio::time::interval(SYNC_TICK);
    let mut facts_changed = false;
    let mut facts_at = Instant::now();
    loop {
        let recovering = d.fib.is_some() && d.recovery.iter().any(|r| !r.done);
        tokio::select! {
            c = control.recv() => match c {
                Some(Control::Reload) => {
                    tracing::info!("SIGHUP: reading the resources again");
                    d.reload(&mut loader).await;
                }
                Some(Control::Stop) | None => break,
            },
            Some(()) = changes.recv() => {
                tracing::info!("the resources changed: reading them again");
                d.reload(&mut loader).await;
            }
            Some((generation, batch)) = feed_rx.recv() => {
                if generation == d.generation {
                    let updates = d.composer.apply(batch.iter().map(learned_hops));
                    d.program(updates).await;
                }
            }
            r = async {
                match facts_rx.as_mut() {
                    Some(rx) => rx.changed().await,
                    None => std::future::pending().await,
                }
            } => {
                if r.is_err() {
                    tracing::error!("the kernel route learner stopped");
                    facts_rx = None;
                } else {
                    facts_changed = true;
                    facts_at = Instant::now();
                }
            }
            () = tokio::time::sleep_until(facts_at + FACTS_DEBOUNCE), if facts_changed => {
                facts_changed = false;
                if let Some(rx) = facts_rx.as_mut() {
                    d.facts = rx.borrow_and_update().clone();
                    let plan = d.plan.clone();
                    d.apply(&plan, None).await;
                }
            }
            _ = sync_tick.tick(), if recovering => d.check_recovery().await,
        }
    }
    d.stop().await;
    Ok(())
}

impl Daemon {
    fn log_started(&self) {
        let sessions: Vec<String> = self
            .config
            .peers
            .iter()
            .filter_map(|p| p.name.clone())
            .collect();
        tracing::info!(
            node = %self.section.node_name,
            router_id = %self.plan.router_id,
            asn = self.plan.local_as,
            listen = ?self.speaker.listen_addrs(),
            sessions = ?sessions,
            originated = self.config.originate.len(),
            fib = self.fib.is_some(),
            "calico-bgpd running in Calico mode; resource changes apply without resetting unchanged sessions"
        );
    }

    /// Subscribes to the speaker's best paths (a new generation: batches of
    /// an older speaker are ignored).
    async fn follow(&mut self) -> Result<(), SpeakerError> {
        self.generation += 1;
        let generation = self.generation;
        let mut sub = self.speaker.subscribe().await?;
        let tx = self.feed_tx.clone();
        tokio::spawn(async move {
            while let Some(batch) = sub.recv_batch().await {
                if tx.send((generation, batch)).await.is_err() {
                    break;
                }
            }
        });
        Ok(())
    }

    async fn program(&self, updates: Vec<RouteUpdate>) {
        if let Some(f) = &self.fib
            && let Err(e) = f.update(updates).await
        {
            tracing::error!("FIB: {e}");
        }
    }

    /// Reads the directories and applies a new plan; a bad file leaves the
    /// running one in force.
    async fn reload(&mut self, loader: &mut Loader) {
        match loader.reload() {
            Reload::Applied {
                plan,
                changed,
                warnings,
            } => {
                for w in warnings {
                    tracing::warn!("{w}");
                }
                if !changed {
                    tracing::info!("the resources make the same plan: nothing to do");
                    return;
                }
                for w in &plan.warnings {
                    tracing::warn!("{w}");
                }
                let old = std::mem::replace(&mut self.plan, plan.clone());
                self.apply(&plan, Some(&old)).await;
            }
            Reload::Rejected { error, .. } => {
                tracing::error!("configuration refused, the running one stays: {error}");
            }
        }
    }

    /// Applies `plan` (and the current kernel facts) to the speaker and the
    /// kernel.
    async fn apply(&mut self, plan: &NodePlan, old: Option<&NodePlan>) {
        if let Some(old) = old {
            let diff = plan.session_diff(old);
            let names = |v: &[(crate::calico::Family, String)]| {
                v.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>()
            };
            tracing::info!(
                added = ?names(&diff.added),
                removed = ?names(&diff.removed),
                changed = ?names(&diff.changed),
                unchanged = diff.unchanged.len(),
                "new plan"
            );
        }
        let config = speaker_config(plan, &self.section, &self.facts);
        if config != self.config {
            match self.speaker.reload(config.clone()).await {
                Ok(report) => {
                    for (addr, change) in &report.peers {
                        let name = config
                            .peer(*addr)
                            .and_then(|p| p.name.clone())
                            .or_else(|| self.config.peer(*addr).and_then(|p| p.name.clone()))
                            .unwrap_or_default();
                        let what = match change {
                            PeerChange::Added => "session added",
                            PeerChange::Removed => "session removed",
                            PeerChange::Reset => {
                                "session reset: a setting of its OPEN or transport changed"
                            }
                            PeerChange::Soft => "session changed without a reset",
                            PeerChange::Unchanged => continue,
                        };
                        tracing::info!(peer = %addr, session = %name, "{what}");
                    }
                    tracing::info!(
                        originated = report.originated,
                        withdrawn = report.withdrawn,
                        "speaker reconfigured"
                    );
                    if let Some(c) = &self.control {
                        c.source.reconfigured();
                    }
                    self.config = config;
                }
                Err(SpeakerError::RestartRequired(what)) => {
                    tracing::warn!("{what} changed: restarting the speaker (every session resets)");
                    if let Err(e) = self.restart(config).await {
                        tracing::error!("the speaker could not start again: {e}");
                    }
                }
                Err(e) => tracing::error!("the speaker refused the new configuration: {e}"),
            }
        }
        let updates = self.composer.set_plan(plan, |a| self.section.runs(a));
        self.program(updates).await;
    }

    async fn restart(&mut self, config: Config) -> Result<(), SpeakerError> {
        self.speaker
            .shutdown("calico-bgpd: router id, AS, listen port or cluster id changed")
            .await;
        if let Some(c) = self.control.take() {
            drop(c.shutdown().await);
        }
        self.speaker = Speaker::from_config(config.clone()).await?;
        self.control = ControlSockets::serve(&self.section, &self.speaker, self.fib.is_some());
        self.config = config;
        // What the old speaker had learned is reconciled as after a start.
        self.started = Instant::now();
        for r in &mut self.recovery {
            r.done = false;
            r.since = None;
        }
        self.follow().await
    }

    /// Graceful restart, restarting side: once every session of a family
    /// has sent End-of-RIB (or after `sync_after`), the kernel table of that
    /// family is reconciled: the Loc-RIB is read whole, and our routes of
    /// a previous run that nobody announced again are deleted.
    async fn check_recovery(&mut self) {
        let peers = self.speaker.peers();
        let limit = Duration::from_secs(self.section.fib.sync_after);
        let timed_out = self.started.elapsed() >= limit;
        for i in 0..self.recovery.len() {
            let Some(r) = self.recovery.get(i).copied() else {
                continue;
            };
            if r.done {
                continue;
            }
            let ready = peers
                .iter()
                .filter(|p| family_of(&p.address) == r.afi)
                .all(|p| p.state == bgp_fsm::State::Established && p.end_of_rib.contains(&r.afi));
            let since = if ready || timed_out {
                r.since.unwrap_or_else(Instant::now)
            } else {
                if let Some(x) = self.recovery.get_mut(i) {
                    x.since = None;
                }
                continue;
            };
            if since.elapsed() < SYNC_SETTLE && !timed_out {
                if let Some(x) = self.recovery.get_mut(i) {
                    x.since = Some(since);
                }
                continue;
            }
            let routes = match self.speaker.best_routes().await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!("cannot read the routes to reconcile the kernel: {e}");
                    continue;
                }
            };
            let updates = self
                .composer
                .replace_family(r.v4, routes.iter().map(learned_hops));
            self.program(updates).await;
            if let Some(f) = &self.fib {
                let fam = if r.v4 {
                    fib::Family::V4
                } else {
                    fib::Family::V6
                };
                if let Err(e) = f.mark_synced(fam).await {
                    tracing::error!("FIB: {e}");
                }
            }
            tracing::info!(
                family = if r.v4 { "IPv4" } else { "IPv6" },
                after = ?self.started.elapsed(),
                end_of_rib = ready,
                "graceful restart recovery done: kernel routes of a previous run that are gone are removed"
            );
            if let Some(x) = self.recovery.get_mut(i) {
                x.done = true;
            }
        }
        if self.recovery.iter().all(|r| r.done)
            && let Some(c) = &self.control
        {
            c.source.finish_recovery();
        }
    }

    async fn stop(mut self) {
        // The control sockets first: their files go, and their tasks let go
        // of the speaker.
        let source = match self.control.take() {
            Some(c) => Some(c.shutdown().await),
            None => None,
        };
        if self.section.shutdown_notification {
            drop(source);
            tracing::info!("stopping: Cease / Administrative Shutdown to every peer");
            let _ = tokio::time::timeout(STOP_WAIT, self.speaker.shutdown("calico-bgpd stopping"))
                .await;
        } else {
            tracing::info!(
                "stopping without NOTIFICATION: peers keep our routes for the graceful-restart time"
            );
            // The sessions' sockets close with the process; dropping the
            // speaker (or the control sockets' handle on it) here would
            // send Cease to every peer.
            std::mem::forget(source);
            std::mem::forget(self.speaker);
        }
        if let Some(f) = self.fib {
            let remove = self.section.fib.remove_on_exit;
            match tokio::time::timeout(STOP_WAIT, f.shutdown(remove)).await {
                Ok(Ok(s)) => tracing::info!(
                    v4 = s.v4.installed,
                    v6 = s.v6.installed,
                    removed = remove,
                    "kernel routes {}",
                    if remove { "removed" } else { "left in place" }
                ),
                Ok(Err(e)) => tracing::warn!("FIB: {e}"),
                Err(_) => tracing::warn!("the FIB programmer did not stop in time"),
            }
        }
        tracing::info!("stopped");
    }
}

/// The directories a section reads (for messages).
pub fn directories(section: &CalicoSection) -> Vec<PathBuf> {
    let mut v = vec![section.resources.clone()];
    v.extend(section.secrets.clone());
    v.extend(section.endpoint_status.clone());
    v
}

/// Watches kernel facts (re-exported for the binary's `--check`).
pub type FactsReceiver = watch::Receiver<KernelFacts>;
