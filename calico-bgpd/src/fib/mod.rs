//! The kernel FIB programmer: what BIRD's kernel protocol does inside
//! calico-node (`protocol kernel { learn; persist; graceful restart; merge
//! paths on; }`, behaviour spec §2.8.3, §4.5, §4.6), over netlink.
//!
//! ```no_run
//! # async fn f() -> Result<(), calico_bgpd::fib::FibError> {
//! use calico_bgpd::fib::{Family, FibConfig, FibProgrammer, NextHop, RouteKind};
//!
//! let fib = FibProgrammer::start(FibConfig::default()).await?;
//! let gw = "198.18.0.12".parse().unwrap();
//! // IP-in-IP: via the remote node, on-link through tunl0.
//! fib.set("198.19.4.0/26".parse().unwrap(), RouteKind::onlink(gw, "tunl0")).await?;
//! // The node's own block.
//! fib.set("198.19.0.0/26".parse().unwrap(), RouteKind::Blackhole).await?;
//! // ECMP: one multipath route.
//! let (a, b) = ("198.18.0.1".parse().unwrap(), "198.18.0.3".parse().unwrap());
//! fib.set("0.0.0.0/0".parse().unwrap(), RouteKind::ecmp([NextHop::via(a), NextHop::via(b)])).await?;
//! // After the speaker's End-of-RIB: stale routes of the previous run go.
//! fib.mark_synced(Family::V4).await?;
//! let status = fib.settled().await?;
//! println!("{} installed, {} failed", status.v4.installed, status.v4.failed);
//! # Ok(()) }
//! ```
//!
//! # What it does
//!
//! - **Desired routes** are set per prefix ([`FibProgrammer::set`],
//!   [`FibProgrammer::update`] for batches): unicast through one or more
//!   next hops (several make one multipath route), each next hop plain
//!   (`via GW`, the device found by the kernel), through a device, or
//!   on-link through a device (`via GW dev tunl0 onlink`); blackhole; or
//!   [`RouteKind::NotInstalled`] (VXLAN pools: any route of ours goes). They
//!   are written to one table (main) with one protocol (12, `bird`, which
//!   Felix recognises) and one metric (1024 by default, Calico v3.32+'s;
//!   configurable, [`FibConfig::metric`]).
//! - **Ownership** ([`ownership`]): only routes of our protocol in our
//!   table are ever changed or deleted. The kernel table is learned by a
//!   netlink dump at start and by multicast events afterwards
//!   (`RTNLGRP_IPV4_ROUTE`, `RTNLGRP_IPV6_ROUTE`), never by polling. An alien
//!   route (Felix's `boot` and 80, `kernel`, `static`, `dhcp`...) in the
//!   slot of ours (same prefix and metric) is left alone and reported as a
//!   [`Conflict`], as BIRD does (it replaces only routes it owns); ours goes
//!   in when the alien goes. If someone deletes one of our routes, the event
//!   makes it come back.
//! - **Graceful restart, both ways**: stopping or crashing leaves our routes
//!   in the kernel (nothing is removed on exit unless
//!   [`FibProgrammer::shutdown`] is asked to). On start, routes of our
//!   protocol already in the table are adopted as stale: a desired route
//!   equal to one is not rewritten, and those not desired stay until
//!   [`FibProgrammer::mark_synced`] says recovery is complete for the
//!   family (after the speaker's End-of-RIB or its restart timer); then
//!   exactly the routes that are gone are deleted. A prefix explicitly
//!   withdrawn or marked not-installed is removed at once.
//! - **IPv4 and IPv6 are independent**: each has its own desired set,
//!   recovery state, errors and dumps.
//! - **Batching**: changes go into a desired map and a set of dirty
//!   prefixes, so a burst of changes to one prefix costs one write, and
//!   memory is bounded by the number of prefixes, not the rate of change;
//!   the command channel is bounded (callers wait when it is full). Writes
//!   are packed many to a datagram ([`FibConfig::batch_size`]).
//! - **Errors** are per route ([`RouteFailure`], [`FibStatus`]): an
//!   unreachable next hop (`ENETUNREACH`) fails that route only, and is
//!   retried with back-off ([`retry`]) and at once when links or addresses
//!   change.
//! - **Events the kernel does not send**: Linux flushes IPv4 routes through
//!   a device that goes down, or loses its last address, without route
//!   events. A link or address event on an interface that one of our routes
//!   uses makes the family be dumped again, and lost routes re-installed.
//!   A receive-buffer overflow (`ENOBUFS`, lost events) does the same.
//!
//! # Modules
//!
//! - [`route`]: the route model; [`ownership`]: whose route is what;
//! - [`table`]: the kernel mirror fed by dumps and events;
//! - [`reconcile`]: pure planning, desired vs kernel to operations;
//! - [`retry`]: error classes and back-off;
//! - [`filter`]: Calico's kernel programming filter as route kinds;
//! - [`feed`]: from the speaker's best-path stream to updates;
//! - `netlink` (private): the socket and the messages; `engine`
//!   (private): the task that ties them together.
//!
//! The programmer runs in the network namespace of the thread that calls
//! [`FibProgrammer::start`] (netlink sockets belong to a namespace).

mod engine;
pub mod feed;
pub mod filter;
mod intern;
pub(crate) mod netlink;
pub mod ownership;
pub mod reconcile;
pub mod retry;
pub mod route;
pub mod table;

use std::time::Duration;

use ipnet::IpNet;
use tokio::sync::{mpsc, oneshot};

pub use ownership::{PROTO_BIRD, TABLE_MAIN};
pub use reconcile::{Conflict, OpKind};
pub use retry::{ErrorClass, RetryPolicy, RouteError};
pub use route::{Family, NextHop, RouteKind};

use engine::Command;

/// How the programmer writes routes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FibConfig {
    /// The metric (`RTA_PRIORITY`) of our routes: 1024 by default, as
    /// Calico v3.32+ installs BGP routes (classic BIRD used 0). For IPv6 the
    /// kernel turns 0 into 1024.
    pub metric: u32,
    /// The table (main, 254).
    pub table: u32,
    /// Our protocol number (12, `bird`).
    pub protocol: u8,
    /// The most route writes in one datagram; lowered to what the socket's
    /// receive buffer can take (a write's event comes back to it), and
    /// halved after an overflow.
    pub batch_size: usize,
    /// The netlink socket's receive buffer, in bytes (8 MiB; the kernel
    /// caps it at `net.core.rmem_max`). Events of other programs' bursts
    /// must fit; when they do not (`ENOBUFS`), the tables are dumped again.
    pub receive_buffer: usize,
    /// Capacity of the command channel.
    pub queue: usize,
    /// How failed routes are retried.
    pub retry: RetryPolicy,
    /// How long to wait, after a link or address event that may have
    /// flushed routes, before dumping the family again (events come in
    /// bursts).
    pub resync_delay: Duration,
}

impl Default for FibConfig {
    fn default() -> Self {
        FibConfig {
            metric: 1024,
            table: TABLE_MAIN,
            protocol: PROTO_BIRD,
            batch_size: 512,
            receive_buffer: 8 << 20,
            queue: 32,
            retry: RetryPolicy::default(),
            resync_delay: Duration::from_millis(50),
        }
    }
}

impl FibConfig {
    /// The metric the kernel will actually use for `family` (IPv6 turns 0
    /// into 1024).
    pub fn effective_metric(&self, family: Family) -> u32 {
        match (family, self.metric) {
            (Family::V6, 0) => 1024,
            (_, m) => m,
        }
    }
}

/// Why the programmer cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum FibError {
    /// The netlink socket could not be opened or used.
    #[error("netlink: {0}")]
    Netlink(#[from] std::io::Error),
    /// The initial dump of the kernel table failed.
    #[error("dumping the kernel's {family} routes: {reason}")]
    Dump {
        /// The family.
        family: Family,
        /// What went wrong.
        reason: String,
    },
    /// The programmer's task has stopped.
    #[error("the FIB programmer has stopped")]
    Stopped,
}

/// One change of the desired state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteUpdate {
    /// The prefix (host bits are cleared).
    pub prefix: IpNet,
    /// What to install; `None`: withdrawn (no route of ours).
    pub kind: Option<RouteKind>,
}

impl RouteUpdate {
    /// Install `kind` for `prefix`.
    pub fn set(prefix: IpNet, kind: RouteKind) -> RouteUpdate {
        RouteUpdate {
            prefix,
            kind: Some(kind),
        }
    }

    /// `prefix` withdrawn.
    pub fn withdraw(prefix: IpNet) -> RouteUpdate {
        RouteUpdate { prefix, kind: None }
    }
}

/// A route that is not in the kernel as wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteFailure {
    /// The prefix.
    pub prefix: IpNet,
    /// The last error.
    pub error: RouteError,
    /// How many writes failed in a row.
    pub attempts: u32,
    /// Whether a timed retry is scheduled.
    pub retrying: bool,
}

/// The state of one family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FamilyStatus {
    /// Whether recovery is complete ([`FibProgrammer::mark_synced`]).
    pub synced: bool,
    /// Routes wanted in the kernel.
    pub desired: usize,
    /// Of those, how many the kernel holds as wanted.
    pub installed: usize,
    /// Routes of ours in the kernel.
    pub ours_in_kernel: usize,
    /// Routes of ours in the kernel that are not wanted (stale until sync).
    pub stale: usize,
    /// Alien routes in the table.
    pub aliens: usize,
    /// How many prefixes have an alien route in our slot.
    pub conflicted: usize,
    /// How many prefixes failed to be written.
    pub failed: usize,
    /// Conflicts, by prefix, at most [`STATUS_LIST_MAX`].
    pub conflicts: Vec<Conflict>,
    /// Failures, by prefix, at most [`STATUS_LIST_MAX`].
    pub failures: Vec<RouteFailure>,
}

/// The longest list of conflicts or failures a status carries.
pub const STATUS_LIST_MAX: usize = 256;

/// Counters since start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counters {
    /// Routes added.
    pub adds: u64,
    /// Routes replaced.
    pub replaces: u64,
    /// Routes deleted.
    pub deletes: u64,
    /// Writes the kernel refused.
    pub failed_writes: u64,
    /// Datagrams of writes sent.
    pub batches: u64,
    /// Route events received (not counting dumps).
    pub route_events: u64,
    /// Table dumps done (both families, start included).
    pub dumps: u64,
    /// Receive-buffer overflows (`ENOBUFS`).
    pub overruns: u64,
    /// Messages that could not be decoded.
    pub malformed: u64,
}

/// A snapshot of the programmer's state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FibStatus {
    /// IPv4.
    pub v4: FamilyStatus,
    /// IPv6.
    pub v6: FamilyStatus,
    /// Counters.
    pub counters: Counters,
}

impl FibStatus {
    /// The state of `family`.
    pub fn family(&self, family: Family) -> &FamilyStatus {
        match family {
            Family::V4 => &self.v4,
            Family::V6 => &self.v6,
        }
    }
}

/// The handle of a running programmer; clones share it. When the last
/// handle is dropped, the task stops and our routes stay in the kernel.
#[derive(Debug, Clone)]
pub struct FibProgrammer {
    tx: mpsc::Sender<Command>,
}

impl FibProgrammer {
    /// Opens the netlink socket in the calling thread's network namespace,
    /// learns the links and both families' tables (adopting our routes as
    /// stale), and starts the programmer's task on the current tokio
    /// runtime.
    pub async fn start(config: FibConfig) -> Result<FibProgrammer, FibError> {
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let mut engine = engine::Engine::new(config)?;
        engine.initial_sync().await?;
        tokio::spawn(engine.run(rx));
        Ok(FibProgrammer { tx })
    }

    async fn send(&self, cmd: Command) -> Result<(), FibError> {
        self.tx.send(cmd).await.map_err(|_| FibError::Stopped)
    }

    async fn ask(
        &self,
        make: impl FnOnce(oneshot::Sender<FibStatus>) -> Command,
    ) -> Result<FibStatus, FibError> {
        let (tx, rx) = oneshot::channel();
        self.send(make(tx)).await?;
        rx.await.map_err(|_| FibError::Stopped)
    }

    /// Applies a batch of changes, in order (a later change of a prefix
    /// wins).
    pub async fn update(&self, changes: Vec<RouteUpdate>) -> Result<(), FibError> {
        if changes.is_empty() {
            return Ok(());
        }
        self.send(Command::Update(changes)).await
    }

    /// Wants `kind` for `prefix`.
    pub async fn set(&self, prefix: IpNet, kind: RouteKind) -> Result<(), FibError> {
        self.update(vec![RouteUpdate::set(prefix, kind)]).await
    }

    /// `prefix` is withdrawn: our route for it goes.
    pub async fn withdraw(&self, prefix: IpNet) -> Result<(), FibError> {
        self.update(vec![RouteUpdate::withdraw(prefix)]).await
    }

    /// Recovery is complete for `family`: our routes in the kernel that are
    /// not wanted are deleted from now on.
    pub async fn mark_synced(&self, family: Family) -> Result<(), FibError> {
        self.send(Command::MarkSynced(family)).await
    }

    /// Dumps both families' tables again (normally never needed: events keep
    /// the mirror current).
    pub async fn resync(&self) -> Result<(), FibError> {
        self.send(Command::Resync).await
    }

    /// The current state.
    pub async fn status(&self) -> Result<FibStatus, FibError> {
        self.ask(Command::Status).await
    }

    /// Waits until every change given so far has been written (or has
    /// failed, see [`FamilyStatus::failures`]) and the kernel mirror is
    /// current, then returns the state.
    pub async fn settled(&self) -> Result<FibStatus, FibError> {
        self.ask(Command::Settled).await
    }

    /// Stops the task. With `remove_routes`, first deletes every route of
    /// ours (both families); without, they stay in the kernel for the next
    /// run to adopt (the normal stop). Returns the last state.
    pub async fn shutdown(self, remove_routes: bool) -> Result<FibStatus, FibError> {
        self.ask(|done| Command::Shutdown {
            remove_routes,
            done,
        })
        .await
    }
}
