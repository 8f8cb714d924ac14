//! Drivers for reference BGP daemons — BIRD 2 ([`bird::Bird`]), FRR
//! ([`frr::Frr`]) and GoBGP ([`gobgp::GoBgp`]) — each running one instance
//! inside a [`Netns`](crate::netns::Netns) with its own configuration, sockets and logs in a
//! temporary folder ([`InstanceDir`]).
//!
//! The three share one configuration model ([`RouterConfig`],
//! [`NeighborConfig`]) and one query shape, the [`Daemon`] trait: session
//! state by neighbor address, routes by [`Family`] as typed [`Route`]s,
//! bounded waits, and freezing (`SIGSTOP`) for hold-timer tests.
//!
//! Dropping a driver stops its processes by PID and reaps them; if the
//! thread is panicking (a failed test) it first prints the tail of the
//! daemon's logs; its folder is removed unless `KEEP_TEST_DIRS=1`.
//!
//! ```no_run
//! use std::time::Duration;
//! use testkit::daemon::{self, bird::Bird, frr::Frr, Daemon, Family, Kind};
//! use testkit::daemon::{NeighborConfig, RouterConfig};
//! use testkit::netns::{Link, Netns};
//!
//! if !daemon::interop_ready(&[Kind::Bird, Kind::Frr]) {
//!     return; // printed "SKIPPED: ..." (or panicked under BGP_REQUIRE_INTEROP=1)
//! }
//! let (a, b) = (Netns::new().unwrap(), Netns::new().unwrap());
//! let link = Link::new(&a, &b).unwrap();
//! let mut ra = RouterConfig::new(65001, link.a.v4);
//! ra.neighbor(NeighborConfig::new(link.b.v4.into(), 65002).local(link.a.v4.into()));
//! ra.originate("198.19.1.0/24".parse().unwrap());
//! let mut rb = RouterConfig::new(65002, link.b.v4);
//! rb.neighbor(NeighborConfig::new(link.a.v4.into(), 65001).local(link.b.v4.into()));
//! let bird = Bird::start(&a, &ra).unwrap();
//! let frr = Frr::start(&b, &rb).unwrap();
//! bird.wait_established(link.b.v4.into(), Duration::from_secs(20)).unwrap();
//! let r = frr.wait_route("198.19.1.0/24".parse().unwrap(), Duration::from_secs(10)).unwrap();
//! assert_eq!(r.asns(), vec![65001]);
//! # let _ = Family::Ipv4;
//! ```

pub mod bird;
pub mod frr;
pub mod gobgp;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;

use crate::netns::{self, NetnsError, Skip};
use crate::process::RunError;
use crate::wait::{WaitTimeout, wait_until};

/// Set to `1` to keep each instance's folder (configuration, logs) after the
/// test, for debugging; the path is printed.
pub const KEEP_DIRS_ENV: &str = "KEEP_TEST_DIRS";

/// How many log lines a failing test prints per log file.
pub const LOG_TAIL_LINES: usize = 40;

/// How long a daemon may take to answer its control socket after start.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// One of the reference daemons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// BIRD 2 (`bird`, `birdc`).
    Bird,
    /// FRR (`zebra`, `bgpd`, `vtysh`).
    Frr,
    /// GoBGP (`gobgpd`, `gobgp`).
    GoBgp,
}

impl Kind {
    /// The programs a driver needs.
    pub fn programs(self) -> &'static [&'static str] {
        match self {
            Kind::Bird => &["bird", "birdc"],
            Kind::Frr => &["/usr/lib/frr/zebra", "/usr/lib/frr/bgpd", "vtysh"],
            Kind::GoBgp => &["gobgpd", "gobgp"],
        }
    }

    /// A short lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Bird => "bird",
            Kind::Frr => "frr",
            Kind::GoBgp => "gobgp",
        }
    }

    /// Whether the driver can run here (its programs installed).
    pub fn available(self) -> Result<(), Skip> {
        netns::require_programs(self.programs())
            .map_err(|s| Skip::new(format!("{} {}", self.name(), s.reason)))
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether interop tests with `kinds` can run: namespaces
/// ([`netns::require_root_netns`]) and the daemons' programs. If not, it
/// reports the skip ([`netns::skip`]: prints `SKIPPED: ...`, or panics when
/// `BGP_REQUIRE_INTEROP=1`) and returns `false`.
pub fn interop_ready(kinds: &[Kind]) -> bool {
    let check =
        netns::require_root_netns().and_then(|()| kinds.iter().try_for_each(|k| k.available()));
    match check {
        Ok(()) => true,
        Err(s) => {
            netns::skip(&s);
            false
        }
    }
}

/// An address family the drivers configure and query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4 unicast.
    Ipv4,
    /// IPv6 unicast.
    Ipv6,
}

impl Family {
    /// The family of an address or prefix's version.
    pub fn of(addr: IpAddr) -> Family {
        if addr.is_ipv4() {
            Family::Ipv4
        } else {
            Family::Ipv6
        }
    }
}

/// A BGP session's state, as the daemons report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionState {
    /// Idle.
    Idle,
    /// Connect.
    Connect,
    /// Active.
    Active,
    /// OpenSent.
    OpenSent,
    /// OpenConfirm.
    OpenConfirm,
    /// Established.
    Established,
    /// Administratively down or disabled.
    Down,
    /// Anything else, as reported (e.g. BIRD's `Close`, FRR's `Clearing`).
    Other(String),
}

impl SessionState {
    /// Reads a state name as BIRD, FRR and GoBGP print them (case and
    /// `BGP_FSM_` prefix ignored).
    pub fn parse(s: &str) -> SessionState {
        let t = s.trim();
        let l = t.to_ascii_lowercase();
        let l = l.strip_prefix("bgp_fsm_").unwrap_or(&l);
        match l {
            "idle" => SessionState::Idle,
            "connect" => SessionState::Connect,
            "active" => SessionState::Active,
            "opensent" => SessionState::OpenSent,
            "openconfirm" => SessionState::OpenConfirm,
            "established" => SessionState::Established,
            "down" => SessionState::Down,
            _ => SessionState::Other(t.to_string()),
        }
    }

    /// Whether this is [`SessionState::Established`].
    pub fn is_established(&self) -> bool {
        *self == SessionState::Established
    }
}

/// A session's state and the daemon's account of its last problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The state.
    pub state: SessionState,
    /// The last error or shutdown message, as the daemon words it (e.g.
    /// BIRD's `Received: Hold timer expired`), if it reports one.
    pub last_error: Option<String>,
}

/// An ORIGIN attribute value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// IGP.
    Igp,
    /// EGP.
    Egp,
    /// INCOMPLETE.
    Incomplete,
}

impl Origin {
    /// Reads `IGP`/`EGP`/`Incomplete` (or `i`/`e`/`?`), any case.
    pub fn parse(s: &str) -> Option<Origin> {
        match s.trim().to_ascii_lowercase().as_str() {
            "igp" | "i" => Some(Origin::Igp),
            "egp" | "e" => Some(Origin::Egp),
            "incomplete" | "?" => Some(Origin::Incomplete),
            _ => None,
        }
    }
}

/// One AS_PATH segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AsSegment {
    /// An AS_SEQUENCE.
    Sequence(Vec<u32>),
    /// An AS_SET.
    Set(Vec<u32>),
}

/// Parses an AS path as BIRD and FRR print it: numbers separated by spaces,
/// sets in braces (`65001 65002 {65003 65004}`; FRR writes sets with
/// commas). `None` if a token is not a number.
pub fn parse_as_path(s: &str) -> Option<Vec<AsSegment>> {
    let spaced = s.replace('{', " { ").replace('}', " } ").replace(',', " ");
    let mut out = Vec::new();
    let mut seq = Vec::new();
    let mut set: Option<Vec<u32>> = None;
    for tok in spaced.split_whitespace() {
        match tok {
            "{" => {
                if !seq.is_empty() {
                    out.push(AsSegment::Sequence(std::mem::take(&mut seq)));
                }
                set = Some(Vec::new());
            }
            "}" => out.push(AsSegment::Set(set.take()?)),
            n => {
                let asn = n.parse().ok()?;
                match &mut set {
                    Some(s) => s.push(asn),
                    None => seq.push(asn),
                }
            }
        }
    }
    if set.is_some() {
        return None;
    }
    if !seq.is_empty() {
        out.push(AsSegment::Sequence(seq));
    }
    Some(out)
}

/// A route as a daemon shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The prefix.
    pub prefix: IpNet,
    /// The neighbor it was learned from (`None` if originated locally or
    /// from a non-BGP source).
    pub peer: Option<IpAddr>,
    /// Where the daemon says it came from (BIRD's protocol name, FRR's and
    /// GoBGP's peer address or `local`).
    pub source: String,
    /// Whether the daemon selected it as best.
    pub best: bool,
    /// Next hops (for IPv6 often a global and a link-local one).
    pub next_hops: Vec<IpAddr>,
    /// The AS_PATH.
    pub as_path: Vec<AsSegment>,
    /// ORIGIN, if shown.
    pub origin: Option<Origin>,
    /// MULTI_EXIT_DISC, if present.
    pub med: Option<u32>,
    /// LOCAL_PREF, if present.
    pub local_pref: Option<u32>,
    /// Standard communities `(asn, value)`.
    pub communities: Vec<(u16, u16)>,
    /// Large communities.
    pub large_communities: Vec<(u32, u32, u32)>,
}

impl Route {
    /// A route with only its prefix and source set.
    pub fn new(prefix: IpNet, source: impl Into<String>) -> Route {
        Route {
            prefix,
            peer: None,
            source: source.into(),
            best: false,
            next_hops: Vec::new(),
            as_path: Vec::new(),
            origin: None,
            med: None,
            local_pref: None,
            communities: Vec::new(),
            large_communities: Vec::new(),
        }
    }

    /// Every AS number of the path in order, sets flattened.
    pub fn asns(&self) -> Vec<u32> {
        self.as_path
            .iter()
            .flat_map(|s| match s {
                AsSegment::Sequence(v) | AsSegment::Set(v) => v.iter().copied(),
            })
            .collect()
    }
}

/// Which ADD-PATH directions to negotiate with a neighbor. (FRR 8.4 offers
/// to receive several paths whatever this says; `Off` there means only
/// that it does not send them.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddPath {
    /// None (the default).
    #[default]
    Off,
    /// Receive several paths.
    Receive,
    /// Send several paths.
    Send,
    /// Both.
    Both,
}

impl AddPath {
    /// Whether receiving is on.
    pub fn receive(self) -> bool {
        matches!(self, AddPath::Receive | AddPath::Both)
    }

    /// Whether sending is on.
    pub fn send(self) -> bool {
        matches!(self, AddPath::Send | AddPath::Both)
    }
}

/// One neighbor of a [`RouterConfig`]. The builder methods set one option
/// each; every daemon renders them in its own syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighborConfig {
    /// The neighbor's address (the session's key in every query).
    pub address: IpAddr,
    /// Its AS.
    pub remote_as: u32,
    /// Our address for the session (update source), if fixed.
    pub local_address: Option<IpAddr>,
    /// Families to negotiate; default: that of `address`.
    pub families: Vec<Family>,
    /// Never connect, only accept.
    pub passive: bool,
    /// TCP MD5 signature password (RFC 2385).
    pub password: Option<String>,
    /// ADD-PATH.
    pub add_path: AddPath,
    /// Graceful restart (RFC 4724).
    pub graceful_restart: bool,
    /// Hold time to offer, seconds (keepalive is a third of it).
    pub hold_time: Option<u16>,
    /// Seconds between connection attempts; default 2, short for tests.
    pub connect_retry: u16,
    /// eBGP multihop TTL.
    pub multihop: Option<u8>,
    /// GTSM (RFC 5082): accept only TTL 255.
    pub ttl_security: bool,
    /// Raw lines in the daemon's own syntax, added inside the neighbor's
    /// block (BIRD: the `protocol bgp` block; FRR: under `router bgp`, so
    /// start them with `neighbor ADDR`; GoBGP: TOML keys of the
    /// `[neighbors.config]` table).
    pub extra: Vec<String>,
    /// Whether routes are advertised to this neighbor (default `true`:
    /// everything the daemon's rules allow). `false`
    /// ([`NeighborConfig::no_export`]): BIRD `export none`, FRR a deny-all
    /// route-map out, GoBGP a global export policy rejecting the routes
    /// sent to it.
    pub export: bool,
}

impl NeighborConfig {
    /// A neighbor at `address` in `remote_as`, all else default.
    pub fn new(address: IpAddr, remote_as: u32) -> NeighborConfig {
        NeighborConfig {
            address,
            remote_as,
            local_address: None,
            families: vec![Family::of(address)],
            passive: false,
            password: None,
            add_path: AddPath::Off,
            graceful_restart: false,
            hold_time: None,
            connect_retry: 2,
            multihop: None,
            ttl_security: false,
            extra: Vec::new(),
            export: true,
        }
    }

    /// Sets our address for the session.
    pub fn local(mut self, addr: IpAddr) -> Self {
        self.local_address = Some(addr);
        self
    }

    /// Sets the families.
    pub fn families(mut self, f: &[Family]) -> Self {
        self.families = f.to_vec();
        self
    }

    /// Makes it passive.
    pub fn passive(mut self) -> Self {
        self.passive = true;
        self
    }

    /// Sets the TCP MD5 password.
    pub fn password(mut self, p: impl Into<String>) -> Self {
        self.password = Some(p.into());
        self
    }

    /// Sets ADD-PATH.
    pub fn add_path(mut self, a: AddPath) -> Self {
        self.add_path = a;
        self
    }

    /// Turns graceful restart on.
    pub fn graceful_restart(mut self) -> Self {
        self.graceful_restart = true;
        self
    }

    /// Sets the hold time.
    pub fn hold_time(mut self, secs: u16) -> Self {
        self.hold_time = Some(secs);
        self
    }

    /// Sets the connect retry time.
    pub fn connect_retry(mut self, secs: u16) -> Self {
        self.connect_retry = secs;
        self
    }

    /// Sets eBGP multihop.
    pub fn multihop(mut self, ttl: u8) -> Self {
        self.multihop = Some(ttl);
        self
    }

    /// Turns GTSM on.
    pub fn ttl_security(mut self) -> Self {
        self.ttl_security = true;
        self
    }

    /// Advertises nothing to this neighbor (see [`NeighborConfig::export`]);
    /// it still sends us its routes.
    pub fn no_export(mut self) -> Self {
        self.export = false;
        self
    }

    /// Adds a raw configuration line (see [`NeighborConfig::extra`]).
    pub fn extra(mut self, line: impl Into<String>) -> Self {
        self.extra.push(line.into());
        self
    }

    /// The keepalive interval used with the hold time: a third of it.
    pub fn keepalive(&self) -> Option<u16> {
        self.hold_time.map(|h| (h / 3).max(1))
    }
}

/// One router instance: its AS, router ID, neighbors and the prefixes it
/// originates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterConfig {
    /// Our AS.
    pub asn: u32,
    /// Our router ID.
    pub router_id: Ipv4Addr,
    /// The neighbors.
    pub neighbors: Vec<NeighborConfig>,
    /// Prefixes to originate (BIRD: static blackhole routes; FRR: `network`
    /// statements; GoBGP: `gobgp global rib add` after start).
    pub originate: Vec<IpNet>,
    /// Raw configuration in the daemon's own syntax, appended at the end
    /// (BIRD: top level; FRR: after `router bgp`; GoBGP: TOML).
    pub extra: String,
    /// Whether the daemon may install the routes it selects into its
    /// namespace's kernel table (default `true`). Of the three only FRR
    /// does (through zebra); `false` ([`RouterConfig::no_kernel`]) runs its
    /// bgpd with `--no_kernel`. The BIRD configuration has no kernel
    /// protocol and GoBGP runs without zebra, so neither ever installs
    /// routes.
    pub install_routes: bool,
}

impl RouterConfig {
    /// A router in `asn` with `router_id`, no neighbors yet.
    pub fn new(asn: u32, router_id: Ipv4Addr) -> RouterConfig {
        RouterConfig {
            asn,
            router_id,
            neighbors: Vec::new(),
            originate: Vec::new(),
            extra: String::new(),
            install_routes: true,
        }
    }

    /// Installs no route into the kernel (see
    /// [`RouterConfig::install_routes`]).
    pub fn no_kernel(&mut self) -> &mut Self {
        self.install_routes = false;
        self
    }

    /// Adds a neighbor.
    pub fn neighbor(&mut self, n: NeighborConfig) -> &mut Self {
        self.neighbors.push(n);
        self
    }

    /// Adds a prefix to originate.
    pub fn originate(&mut self, p: IpNet) -> &mut Self {
        self.originate.push(p);
        self
    }

    /// The neighbor at `addr`, if configured.
    pub fn find_neighbor(&self, addr: IpAddr) -> Option<&NeighborConfig> {
        self.neighbors.iter().find(|n| n.address == addr)
    }

    fn check(&self) -> Result<(), DaemonError> {
        for n in &self.neighbors {
            for a in [Some(n.address), n.local_address].into_iter().flatten() {
                if !netns::is_test_addr(a) {
                    return Err(DaemonError::Config(format!(
                        "neighbor address {a} is outside the test ranges"
                    )));
                }
            }
        }
        for p in &self.originate {
            if !netns::is_test_net(*p) {
                return Err(DaemonError::Config(format!(
                    "prefix {p} is outside the test ranges"
                )));
            }
        }
        Ok(())
    }
}

/// Why a driver operation failed.
#[derive(Debug)]
pub enum DaemonError {
    /// The configuration cannot be used.
    Config(String),
    /// A file operation failed.
    Io {
        /// What was being done.
        what: String,
        /// Why.
        source: std::io::Error,
    },
    /// A namespace operation failed.
    Netns(NetnsError),
    /// A control command failed.
    Command(RunError),
    /// A control command's output could not be read.
    Parse {
        /// The command.
        what: String,
        /// What was wrong.
        detail: String,
    },
    /// No session with this neighbor is configured or shown.
    NoSuchPeer(IpAddr),
    /// The daemon exited.
    Exited {
        /// Which process.
        name: String,
        /// Its status.
        status: String,
        /// The tail of its logs.
        log: String,
    },
    /// A wait ran out of time.
    Timeout {
        /// What was waited for.
        what: String,
        /// The wait's report, with the last state observed.
        detail: String,
    },
}

impl fmt::Display for DaemonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DaemonError::Config(s) => write!(f, "bad configuration: {s}"),
            DaemonError::Io { what, source } => write!(f, "{what}: {source}"),
            DaemonError::Netns(e) => e.fmt(f),
            DaemonError::Command(e) => e.fmt(f),
            DaemonError::Parse { what, detail } => {
                write!(f, "cannot read the output of `{what}`: {detail}")
            }
            DaemonError::NoSuchPeer(a) => write!(f, "no session with {a}"),
            DaemonError::Exited { name, status, log } => {
                write!(f, "{name} exited ({status}); its logs:\n{log}")
            }
            DaemonError::Timeout { what, detail } => {
                write!(f, "waiting for {what}: {detail}")
            }
        }
    }
}

impl std::error::Error for DaemonError {}

impl From<NetnsError> for DaemonError {
    fn from(e: NetnsError) -> Self {
        DaemonError::Netns(e)
    }
}

impl From<RunError> for DaemonError {
    fn from(e: RunError) -> Self {
        DaemonError::Command(e)
    }
}

fn timeout_error(what: impl Into<String>, t: WaitTimeout<String>) -> DaemonError {
    DaemonError::Timeout {
        what: what.into(),
        detail: format!(
            "timed out after {:.1?} ({} checks); last observed: {}",
            t.waited,
            t.polls,
            t.last.as_deref().unwrap_or("nothing")
        ),
    }
}

/// The common shape of the three drivers.
pub trait Daemon {
    /// Which daemon this is.
    fn kind(&self) -> Kind;

    /// The PID of the BGP process we spawned.
    fn pid(&self) -> u32;

    /// The instance's folder (configuration, sockets, logs).
    fn dir(&self) -> &Path;

    /// The session with the neighbor at `peer`.
    fn session(&self, peer: IpAddr) -> Result<SessionInfo, DaemonError>;

    /// All routes of `family` in the daemon's table (best and not).
    fn routes(&self, family: Family) -> Result<Vec<Route>, DaemonError>;

    /// Freezes the BGP process (`SIGSTOP` to our PID).
    fn freeze(&mut self) -> Result<(), DaemonError>;

    /// Thaws it (`SIGCONT`).
    fn thaw(&mut self) -> Result<(), DaemonError>;

    /// Stops the daemon's processes (`SIGTERM`, then `SIGKILL`) and reaps
    /// them. Dropping the driver does the same.
    fn stop(&mut self) -> Result<(), DaemonError>;

    /// Whether its processes are all still running.
    fn is_running(&mut self) -> bool;

    /// The last `lines` lines of each of its log files, headed by the
    /// file's name.
    fn log_tail(&self, lines: usize) -> String;

    /// Starts originating `prefix` (BIRD: a static route and `configure`;
    /// FRR: a `network` statement through vtysh; GoBGP: `global rib add`).
    fn originate(&mut self, prefix: IpNet) -> Result<(), DaemonError>;

    /// Stops originating `prefix`.
    fn withdraw(&mut self, prefix: IpNet) -> Result<(), DaemonError>;

    /// How many distinct prefixes of `family` its table holds (one cheap
    /// query, for large tables).
    fn prefix_count(&self, family: Family) -> Result<usize, DaemonError>;

    /// How many prefixes of `family` it has accepted from `peer`.
    fn received_count(&self, peer: IpAddr, family: Family) -> Result<usize, DaemonError>;

    /// The session state with `peer`.
    fn session_state(&self, peer: IpAddr) -> Result<SessionState, DaemonError> {
        self.session(peer).map(|s| s.state)
    }

    /// Waits until the session with `peer` is established.
    fn wait_established(&self, peer: IpAddr, timeout: Duration) -> Result<(), DaemonError> {
        self.wait_session(peer, timeout, &|s| s.state.is_established())
            .map(|_| ())
    }

    /// Waits until the session with `peer` satisfies `pred`; returns what
    /// satisfied it.
    fn wait_session(
        &self,
        peer: IpAddr,
        timeout: Duration,
        pred: &dyn Fn(&SessionInfo) -> bool,
    ) -> Result<SessionInfo, DaemonError> {
        wait_until(timeout, Duration::from_millis(200), || {
            match self.session(peer) {
                Ok(s) if pred(&s) => Ok(s),
                Ok(s) => Err(format!("{:?} (last error: {:?})", s.state, s.last_error)),
                Err(e) => Err(e.to_string()),
            }
        })
        .map_err(|t| timeout_error(format!("{} session with {peer}", self.kind()), t))
    }

    /// Waits until the routes of `family` satisfy `pred`; returns them.
    fn wait_routes(
        &self,
        family: Family,
        timeout: Duration,
        pred: &dyn Fn(&[Route]) -> bool,
    ) -> Result<Vec<Route>, DaemonError> {
        wait_until(timeout, Duration::from_millis(200), || {
            match self.routes(family) {
                Ok(r) if pred(&r) => Ok(r),
                Ok(r) => Err(r
                    .iter()
                    .map(|r| format!("{} from {}", r.prefix, r.source))
                    .collect::<Vec<_>>()
                    .join(", ")),
                Err(e) => Err(e.to_string()),
            }
        })
        .map_err(|t| timeout_error(format!("{} {family:?} routes", self.kind()), t))
    }

    /// Waits until `prefix` is gone from the routes learned from neighbors
    /// (e.g. after the origin withdrew it).
    fn wait_route_gone(&self, prefix: IpNet, timeout: Duration) -> Result<(), DaemonError> {
        let family = Family::of(prefix.addr());
        self.wait_routes(family, timeout, &|rs| {
            !rs.iter().any(|r| r.prefix == prefix && r.peer.is_some())
        })
        .map(|_| ())
    }

    /// Waits until it has accepted at least `n` prefixes of `family` from
    /// `peer`; returns the count.
    fn wait_received(
        &self,
        peer: IpAddr,
        family: Family,
        n: usize,
        timeout: Duration,
    ) -> Result<usize, DaemonError> {
        wait_until(timeout, Duration::from_millis(200), || {
            match self.received_count(peer, family) {
                Ok(c) if c >= n => Ok(c),
                Ok(c) => Err(format!("{c} of {n}")),
                Err(e) => Err(e.to_string()),
            }
        })
        .map_err(|t| {
            timeout_error(
                format!("{} {family:?} prefixes from {peer}", self.kind()),
                t,
            )
        })
    }

    /// Waits until a route for exactly `prefix` learned from a neighbor is
    /// present, and returns it (the best one if several).
    fn wait_route(&self, prefix: IpNet, timeout: Duration) -> Result<Route, DaemonError> {
        let family = Family::of(prefix.addr());
        let routes = self.wait_routes(family, timeout, &|rs| {
            rs.iter().any(|r| r.prefix == prefix && r.peer.is_some())
        })?;
        let mut found: Vec<Route> = routes
            .into_iter()
            .filter(|r| r.prefix == prefix && r.peer.is_some())
            .collect();
        found.sort_by_key(|r| !r.best);
        found
            .into_iter()
            .next()
            .ok_or(DaemonError::NoSuchPeer(prefix.addr()))
    }
}

/// An instance's temporary folder: `bgpt-<pid>-<kind>-XXXX` under the
/// system's temporary folder. Removed on drop unless `KEEP_TEST_DIRS=1`.
#[derive(Debug)]
pub struct InstanceDir {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl InstanceDir {
    /// Creates a fresh folder for an instance of `kind`.
    pub fn new(kind: Kind) -> Result<InstanceDir, DaemonError> {
        let prefix = format!("bgpt-{}-{}-", std::process::id(), kind.name());
        let dir = tempfile::Builder::new()
            .prefix(&prefix)
            .tempdir()
            .map_err(|source| DaemonError::Io {
                what: "creating the instance folder".into(),
                source,
            })?;
        let path = dir.path().to_path_buf();
        Ok(InstanceDir {
            dir: Some(dir),
            path,
        })
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A file in it.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Writes `name` in it.
    pub fn write(&self, name: &str, text: &str) -> Result<PathBuf, DaemonError> {
        let p = self.file(name);
        std::fs::write(&p, text).map_err(|source| DaemonError::Io {
            what: format!("writing {}", p.display()),
            source,
        })?;
        Ok(p)
    }
}

impl Drop for InstanceDir {
    fn drop(&mut self) {
        if std::env::var(KEEP_DIRS_ENV).is_ok_and(|v| v == "1") {
            if let Some(d) = self.dir.take() {
                eprintln!("testkit: kept {}", d.keep().display());
            }
        }
    }
}

/// The last `lines` lines of a text file (lossily decoded), or a note that
/// it cannot be read.
pub fn file_tail(path: &Path, lines: usize) -> String {
    match std::fs::read(path) {
        Ok(b) => {
            let text = String::from_utf8_lossy(&b);
            let all: Vec<&str> = text.lines().collect();
            let from = all.len().saturating_sub(lines);
            all.get(from..).unwrap_or_default().join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

/// The tails of several log files, each headed by its name.
pub fn logs_tail(paths: &[PathBuf], lines: usize) -> String {
    let mut out = String::new();
    for p in paths {
        out.push_str(&format!("--- {} (last {lines} lines)\n", p.display()));
        out.push_str(&file_tail(p, lines));
        out.push('\n');
    }
    out
}

/// Called by the drivers' drops: when the thread is panicking (a failing
/// test), prints the daemon's log tails to standard error.
pub fn report_if_panicking(kind: Kind, dir: &Path, tail: impl FnOnce() -> String) {
    if std::thread::panicking() {
        eprintln!(
            "==== {kind} instance in {} (test failed) ====\n{}",
            dir.display(),
            tail()
        );
    }
}

/// Waits until `f` succeeds once, for a freshly started daemon's control
/// socket; fails early if `alive` says the process exited (`logs` then
/// gives the log tail for the error).
fn wait_ready<T>(
    kind: Kind,
    mut alive: impl FnMut() -> Option<String>,
    mut f: impl FnMut() -> Result<T, String>,
    logs: impl Fn() -> String,
) -> Result<T, DaemonError> {
    let mut exited = None;
    let r = wait_until(START_TIMEOUT, Duration::from_millis(50), || {
        if let Some(status) = alive() {
            exited = Some(status);
            // Stop waiting: the process is gone.
            return Ok(None);
        }
        f().map(Some)
    });
    match (r, exited) {
        (_, Some(status)) => Err(DaemonError::Exited {
            name: kind.name().to_string(),
            status,
            log: logs(),
        }),
        (Ok(Some(v)), None) => Ok(v),
        (Ok(None), None) => Err(DaemonError::Exited {
            name: kind.name().to_string(),
            status: "unknown".into(),
            log: logs(),
        }),
        (Err(t), None) => Err(DaemonError::Timeout {
            what: format!("{kind} to start"),
            detail: format!("{t}; its logs:\n{}", logs()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_paths() {
        assert_eq!(parse_as_path(""), Some(vec![]));
        assert_eq!(
            parse_as_path("65001 65002"),
            Some(vec![AsSegment::Sequence(vec![65001, 65002])])
        );
        assert_eq!(
            parse_as_path("1 {2 3} 4"),
            Some(vec![
                AsSegment::Sequence(vec![1]),
                AsSegment::Set(vec![2, 3]),
                AsSegment::Sequence(vec![4]),
            ])
        );
        assert_eq!(
            parse_as_path("1 {2,3}"),
            Some(vec![
                AsSegment::Sequence(vec![1]),
                AsSegment::Set(vec![2, 3])
            ])
        );
        assert_eq!(parse_as_path("1 x"), None);
        assert_eq!(parse_as_path("1 {2"), None);
    }

    #[test]
    fn states() {
        assert_eq!(
            SessionState::parse("Established"),
            SessionState::Established
        );
        assert_eq!(
            SessionState::parse("BGP_FSM_OPENCONFIRM"),
            SessionState::OpenConfirm
        );
        assert_eq!(
            SessionState::parse("Close"),
            SessionState::Other("Close".into())
        );
    }

    #[test]
    fn config_refuses_other_ranges() {
        let mut c = RouterConfig::new(1, Ipv4Addr::new(198, 18, 0, 1));
        c.neighbor(NeighborConfig::new("10.0.0.1".parse().unwrap(), 2));
        assert!(c.check().is_err());
        let mut c = RouterConfig::new(1, Ipv4Addr::new(198, 18, 0, 1));
        c.originate("192.168.0.0/24".parse().unwrap());
        assert!(c.check().is_err());
    }
}
