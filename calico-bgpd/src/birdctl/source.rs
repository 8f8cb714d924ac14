//! What the control socket shows: the [`StatusSource`] trait and the plain
//! data it returns (daemon status, protocols, routes), with no tie to a
//! speaker so that the server can be tested with a fake source.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime};

use bgp_wire::attribute::Origin;
use ipnet::IpNet;

/// The address families a control socket serves: BIRD 1.x runs one daemon
/// per family (`bird.ctl` for IPv4, `bird6.ctl` for IPv6); one daemon
/// serving both sockets keeps them apart with this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Families {
    /// IPv4 only (`bird.ctl`).
    Ipv4,
    /// IPv6 only (`bird6.ctl`).
    Ipv6,
    /// Both, as one BIRD 2/3 daemon shows them.
    Both,
}

impl Families {
    /// Whether an address belongs to these families.
    pub fn contains(self, addr: IpAddr) -> bool {
        match self {
            Families::Ipv4 => addr.is_ipv4(),
            Families::Ipv6 => addr.is_ipv6(),
            Families::Both => true,
        }
    }

    /// Whether a prefix belongs to these families.
    pub fn contains_net(self, net: &IpNet) -> bool {
        self.contains(net.addr())
    }
}

/// What the daemon is doing, as the last line of `show status` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Phase {
    /// `Daemon is up and running`.
    #[default]
    Running,
    /// `Reconfiguration in progress`.
    Reconfiguring,
    /// `Shutdown in progress`.
    ShuttingDown,
}

/// Graceful-restart recovery after a start (BIRD's `-R`): the daemon waits
/// for its peers before it treats its tables as complete. While it runs,
/// `show status` has the `0024` lines that calico-node's readiness check
/// looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrRecovery {
    /// Protocols (sessions) not recovered yet.
    pub waiting: usize,
    /// Time left on the wait timer.
    pub remaining: Duration,
    /// The whole wait timer.
    pub wait: Duration,
}

/// The daemon's status, for `show status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonStatus {
    /// The router ID (the IPv4 one, on the IPv6 socket too, as Calico
    /// configures it).
    pub router_id: Ipv4Addr,
    /// When the daemon started (`Last reboot on`).
    pub boot_time: SystemTime,
    /// When the configuration was last applied (`Last reconfiguration on`).
    pub reconfig_time: SystemTime,
    /// Running, reconfiguring or shutting down.
    pub phase: Phase,
    /// Graceful-restart recovery, while it runs.
    pub gr_recovery: Option<GrRecovery>,
}

/// The protocol state column of `show protocols`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtoState {
    /// `up`: a BGP session is Established.
    Up,
    /// `start`: trying to bring the session up.
    Start,
    /// `stop`: shutting the session down.
    Stop,
    /// `down`: disabled, or shut down after an error (a prefix limit).
    Down,
}

impl ProtoState {
    /// The word BIRD prints.
    pub fn name(self) -> &'static str {
        match self {
            ProtoState::Up => "up",
            ProtoState::Start => "start",
            ProtoState::Stop => "stop",
            ProtoState::Down => "down",
        }
    }
}

/// The BGP state of the info column and of `BGP state:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BgpState {
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
    /// Close: the session is being closed.
    Close,
    /// Passive: idle, waiting for the peer to connect.
    Passive,
    /// Down: the protocol is down.
    Down,
}

impl BgpState {
    /// The word BIRD prints.
    pub fn name(self) -> &'static str {
        match self {
            BgpState::Idle => "Idle",
            BgpState::Connect => "Connect",
            BgpState::Active => "Active",
            BgpState::OpenSent => "OpenSent",
            BgpState::OpenConfirm => "OpenConfirm",
            BgpState::Established => "Established",
            BgpState::Close => "Close",
            BgpState::Passive => "Passive",
            BgpState::Down => "Down",
        }
    }
}

impl From<bgp_fsm::State> for BgpState {
    fn from(s: bgp_fsm::State) -> Self {
        match s {
            bgp_fsm::State::Idle => BgpState::Idle,
            bgp_fsm::State::Connect => BgpState::Connect,
            bgp_fsm::State::Active => BgpState::Active,
            bgp_fsm::State::OpenSent => BgpState::OpenSent,
            bgp_fsm::State::OpenConfirm => BgpState::OpenConfirm,
            bgp_fsm::State::Established => BgpState::Established,
        }
    }
}

/// Where the last error of a session came from: the prefix BIRD puts
/// before its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// `Error: `: a local error.
    Misc,
    /// `Socket: `: the connection.
    Socket,
    /// `Received: `: a NOTIFICATION from the peer.
    Received,
    /// `BGP Error: `: a NOTIFICATION we sent.
    Sent,
    /// `Automatic shutdown: `: shut down by the daemon (a prefix limit).
    AutoDown,
    /// No prefix: shut down by the operator.
    ManualDown,
}

impl ErrorClass {
    /// The prefix BIRD puts before the message.
    pub fn prefix(self) -> &'static str {
        match self {
            ErrorClass::Misc => "Error: ",
            ErrorClass::Socket => "Socket: ",
            ErrorClass::Received => "Received: ",
            ErrorClass::Sent => "BGP Error: ",
            ErrorClass::AutoDown => "Automatic shutdown: ",
            ErrorClass::ManualDown => "",
        }
    }
}

/// The last error of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BgpError {
    /// Where it came from.
    pub class: ErrorClass,
    /// The text (peer-supplied text included: the server removes control
    /// characters before it writes a line).
    pub message: String,
}

/// The capabilities the neighbor announced (`Neighbor caps:`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NeighborCaps {
    /// Route refresh.
    pub refresh: bool,
    /// Enhanced route refresh.
    pub enhanced_refresh: bool,
    /// Graceful restart with preserved families (`restart-able`).
    pub restart_able: bool,
    /// Graceful restart without families (`restart-aware`).
    pub restart_aware: bool,
    /// 4-octet AS numbers.
    pub as4: bool,
    /// ADD-PATH: the neighbor receives several paths.
    pub add_path_rx: bool,
    /// ADD-PATH: the neighbor sends several paths.
    pub add_path_tx: bool,
    /// Extended messages.
    pub ext_messages: bool,
}

/// What an Established session negotiated, for `show protocols all`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BgpSession {
    /// The neighbor's BGP identifier.
    pub neighbor_id: Ipv4Addr,
    /// What the neighbor announced.
    pub caps: NeighborCaps,
    /// iBGP (`internal`) or eBGP (`external`).
    pub internal: bool,
    /// Multihop (BIRD's default for iBGP).
    pub multihop: bool,
    /// The neighbor is a route-reflector client of ours.
    pub rr_client: bool,
    /// 4-octet AS numbers on this session.
    pub as4: bool,
    /// ADD-PATH receive on this session.
    pub add_path_rx: bool,
    /// ADD-PATH send on this session.
    pub add_path_tx: bool,
    /// Extended messages on this session.
    pub ext_messages: bool,
    /// Our address on the connection.
    pub source_address: Option<IpAddr>,
    /// The negotiated hold time (seconds).
    pub hold_time: u16,
    /// The keepalive time (seconds).
    pub keepalive_time: u16,
}

/// The BGP side of a protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BgpInfo {
    /// The neighbor's address (the family of the socket that lists it).
    pub neighbor: IpAddr,
    /// The neighbor's AS.
    pub neighbor_as: u32,
    /// Our AS on this session.
    pub local_as: u32,
    /// The BGP state.
    pub state: BgpState,
    /// The neighbor restarted and we keep its routes (graceful restart).
    pub gr_active: bool,
    /// What the session negotiated, when Established.
    pub session: Option<BgpSession>,
    /// The last error, shown while the session is not Established.
    pub last_error: Option<BgpError>,
}

/// The kind of a protocol: its `proto` column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolKind {
    /// A BGP session.
    Bgp(Box<BgpInfo>),
    /// The kernel table (`kernel1`).
    Kernel,
    /// Interfaces (`device1`).
    Device,
    /// Connected networks (`direct1`).
    Direct,
    /// Static routes (`static1`: Calico's blocks).
    Static,
}

impl ProtocolKind {
    /// The `proto` column.
    pub fn name(&self) -> &'static str {
        match self {
            ProtocolKind::Bgp(_) => "BGP",
            ProtocolKind::Kernel => "Kernel",
            ProtocolKind::Device => "Device",
            ProtocolKind::Direct => "Direct",
            ProtocolKind::Static => "Static",
        }
    }
}

/// One row of the route change statistics (`show protocols all`); BIRD
/// prints `---` where a column does not apply to the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StatRow {
    /// Received.
    pub received: u64,
    /// Rejected (invalid).
    pub rejected: u64,
    /// Filtered (by policy).
    pub filtered: u64,
    /// Ignored (no change).
    pub ignored: u64,
    /// Accepted.
    pub accepted: u64,
}

/// The route counts of a protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RouteStats {
    /// Routes held from it.
    pub imported: u64,
    /// Routes sent to it.
    pub exported: u64,
    /// Its routes that are the best.
    pub preferred: u64,
    /// Import updates.
    pub import_updates: StatRow,
    /// Import withdraws.
    pub import_withdraws: StatRow,
    /// Export updates.
    pub export_updates: StatRow,
    /// Export withdraws.
    pub export_withdraws: StatRow,
}

/// One protocol: a row of `show protocols` and the details of
/// `show protocols all`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protocol {
    /// The name: `Mesh_10_0_0_2`, `Global_...`, `Node_...`, `kernel1`, ...
    /// (the server turns characters BIRD symbols cannot have into `_`).
    pub name: String,
    /// The kind, with the BGP details.
    pub kind: ProtocolKind,
    /// The table (`master`).
    pub table: String,
    /// up, start, stop or down.
    pub state: ProtoState,
    /// When the state last changed.
    pub since: SystemTime,
    /// `Description:` (Calico's template says `Connection to BGP peer`).
    pub description: Option<String>,
    /// The route preference (BGP 100, static 200, kernel 10, direct 240).
    pub preference: u32,
    /// `Input filter:`.
    pub input_filter: String,
    /// `Output filter:`.
    pub output_filter: String,
    /// The route counts.
    pub stats: RouteStats,
}

impl Protocol {
    /// A protocol of a kind other than BGP, up since `since`, with no
    /// routes.
    pub fn system(name: &str, kind: ProtocolKind, since: SystemTime, preference: u32) -> Self {
        Protocol {
            name: name.to_string(),
            kind,
            table: "master".to_string(),
            state: ProtoState::Up,
            since,
            description: None,
            preference,
            input_filter: "ACCEPT".to_string(),
            output_filter: "REJECT".to_string(),
            stats: RouteStats::default(),
        }
    }

    /// The BGP details, for a BGP protocol.
    pub fn bgp(&self) -> Option<&BgpInfo> {
        match &self.kind {
            ProtocolKind::Bgp(b) => Some(b),
            _ => None,
        }
    }
}

/// Where a route sends packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteDest {
    /// `via <gateway> on <iface>`.
    Via {
        /// The gateway (the resolved next hop).
        gateway: IpAddr,
        /// The interface.
        iface: String,
    },
    /// `dev <iface>`: a connected network.
    Dev(String),
    /// `blackhole`: Calico's own blocks.
    Blackhole,
    /// `unreachable`: a next hop that does not resolve.
    Unreachable,
    /// `prohibited`.
    Prohibited,
}

/// The IGP metric of a BGP route's next hop, after the preference:
/// `(100/0)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IgpMetric {
    /// Resolved, with this metric.
    Known(u32),
    /// Resolved, metric unknown (`/?`).
    Unknown,
    /// Not resolvable (`/-`).
    Unresolvable,
}

/// The BGP part of a route line: `(100/0) [AS65001i]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BgpRouteInfo {
    /// The next hop's IGP metric (`None`: a next hop not resolved
    /// recursively, no `/metric`).
    pub igp_metric: Option<IgpMetric>,
    /// The last AS of the AS_PATH (`None` for an empty path).
    pub origin_as: Option<u32>,
    /// ORIGIN.
    pub origin: Option<Origin>,
}

/// One route of `show route`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The prefix.
    pub prefix: IpNet,
    /// Where it sends packets.
    pub dest: RouteDest,
    /// The protocol it came from (`Mesh_10_0_0_2`, `static1`, ...).
    pub protocol: String,
    /// When it last changed.
    pub since: SystemTime,
    /// The neighbor it came from, printed as `from <addr>` when it is not
    /// the gateway.
    pub from: Option<IpAddr>,
    /// The best route of its prefix (`*`).
    pub primary: bool,
    /// The preference.
    pub preference: u32,
    /// BGP attributes, for a BGP route.
    pub bgp: Option<BgpRouteInfo>,
}

/// What the control socket shows, from wherever it lives: a speaker
/// ([`super::SpeakerSource`]) or a test fixture.
///
/// `families` is the family of the socket that asks; a source may use it
/// to skip work, and the server drops what belongs to the other family
/// anyway (BGP protocols by neighbor address, routes by prefix; other
/// protocols are listed on every socket).
pub trait StatusSource: Send + Sync + 'static {
    /// The daemon's status.
    fn status(&self, families: Families) -> DaemonStatus;

    /// The protocols, in the order to list them. `detail` is false for
    /// `show protocols` (the table only) and true for `show protocols all`
    /// (the statistics and session details too), so that a source may
    /// leave the costly parts out of the plain table.
    fn protocols(
        &self,
        families: Families,
        detail: bool,
    ) -> impl Future<Output = Vec<Protocol>> + Send;

    /// Every route: each path of a prefix, its best marked primary.
    fn routes(&self, families: Families) -> impl Future<Output = Vec<Route>> + Send;
}
