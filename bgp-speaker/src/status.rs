//! What the API reports: the state, capabilities and counters of each peer
//! ([`PeerStatus`], [`PeerCounters`]) and the routes of the RIB
//! ([`RouteInfo`], [`PathInfo`], [`RouteSource`]).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use bgp_fsm::State;
use bgp_fsm::transport::MessageCounts;
use bgp_rib::{AttrSet, DecisionStep, NextHop, PathFlags};
use bgp_wire::attribute::{Communities, LargeCommunities, Origin};
use bgp_wire::{AfiSafi, AsPath, PathAttributes};
use ipnet::IpNet;

/// What a session negotiated, as the status shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedSummary {
    /// The peer's BGP identifier.
    pub peer_id: Ipv4Addr,
    /// The peer's AS.
    pub peer_as: u32,
    /// The negotiated hold time (seconds).
    pub hold_time: u16,
    /// The families both sides announced.
    pub families: Vec<AfiSafi>,
    /// 4-octet AS numbers.
    pub four_octet_as: bool,
    /// Route refresh.
    pub route_refresh: bool,
    /// Enhanced route refresh.
    pub enhanced_route_refresh: bool,
    /// Extended messages.
    pub extended_message: bool,
    /// Graceful restart, both sides.
    pub graceful_restart: bool,
    /// Families with ADD-PATH send.
    pub add_path_send: Vec<AfiSafi>,
    /// Families with ADD-PATH receive.
    pub add_path_receive: Vec<AfiSafi>,
}

impl NegotiatedSummary {
    pub(crate) fn new(n: &bgp_fsm::Negotiated) -> Self {
        NegotiatedSummary {
            peer_id: n.peer_id,
            peer_as: n.peer_as,
            hold_time: n.hold_time,
            families: n.families.clone(),
            four_octet_as: n.four_octet_as(),
            route_refresh: n.route_refresh,
            enhanced_route_refresh: n.enhanced_route_refresh,
            extended_message: n.extended_message(),
            graceful_restart: n.graceful_restart.negotiated(),
            add_path_send: n
                .families
                .iter()
                .copied()
                .filter(|f| n.add_path(*f).send)
                .collect(),
            add_path_receive: n
                .families
                .iter()
                .copied()
                .filter(|f| n.add_path(*f).receive)
                .collect(),
        }
    }
}

/// Counters of one peer, since it was added (they survive session
/// resets; a change that resets the session through
/// [`crate::Speaker::update_peer`] starts a new peer and new counters).
///
/// The message counters are the transport's: every message on the
/// peer's connections, counted once framed (received) or encoded
/// (sent), collisions' second connections included.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeerCounters {
    /// OPENs received.
    pub opens_in: u64,
    /// OPENs sent.
    pub opens_out: u64,
    /// UPDATEs received (End-of-RIB markers and malformed ones included).
    pub updates_in: u64,
    /// UPDATEs sent (End-of-RIB markers included).
    pub updates_out: u64,
    /// NOTIFICATIONs received.
    pub notifications_in: u64,
    /// NOTIFICATIONs sent.
    pub notifications_out: u64,
    /// KEEPALIVEs received.
    pub keepalives_in: u64,
    /// KEEPALIVEs sent.
    pub keepalives_out: u64,
    /// ROUTE-REFRESHes received.
    pub route_refresh_in: u64,
    /// ROUTE-REFRESHes sent.
    pub route_refresh_out: u64,
    /// Prefixes announced by the peer (every announcement counts).
    pub prefixes_received: u64,
    /// Prefixes withdrawn by the peer.
    pub prefixes_withdrawn: u64,
    /// Announcements import policy or loop detection rejected.
    pub prefixes_rejected: u64,
    /// Routes of the peer held now (its post-policy Adj-RIB-In).
    pub prefixes_accepted: u64,
    /// Prefixes advertised to the peer now (its Adj-RIB-Out).
    pub prefixes_advertised: u64,
    /// Sessions that reached Established.
    pub established: u64,
    /// UPDATEs waiting to be written to the peer: its pending list and its
    /// queue (bounded: see [`crate::export`]).
    pub updates_pending: u64,
    /// How many times the peer lagged so far behind that it left its
    /// update group until it caught up.
    pub lagged: u64,
    /// Errors: malformed UPDATEs (and announcements without a usable next
    /// hop), messages that could not be encoded or sent, failed connection
    /// attempts and connections lost without a NOTIFICATION.
    pub errors: u64,
}

#[derive(Debug, Default)]
pub(crate) struct AtomicCounters {
    pub(crate) prefixes_received: AtomicU64,
    pub(crate) prefixes_withdrawn: AtomicU64,
    pub(crate) prefixes_rejected: AtomicU64,
    pub(crate) prefixes_accepted: AtomicU64,
    pub(crate) prefixes_advertised: AtomicU64,
    pub(crate) established: AtomicU64,
    pub(crate) updates_pending: AtomicU64,
    pub(crate) lagged: AtomicU64,
    pub(crate) errors: AtomicU64,
}

pub(crate) fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl AtomicCounters {
    fn snapshot(&self, m: &MessageCounts) -> PeerCounters {
        let l = |c: &AtomicU64| c.load(Ordering::Relaxed);
        PeerCounters {
            opens_in: m.opens_in,
            opens_out: m.opens_out,
            updates_in: m.updates_in,
            updates_out: m.updates_out,
            notifications_in: m.notifications_in,
            notifications_out: m.notifications_out,
            keepalives_in: m.keepalives_in,
            keepalives_out: m.keepalives_out,
            route_refresh_in: m.route_refreshes_in,
            route_refresh_out: m.route_refreshes_out,
            prefixes_received: l(&self.prefixes_received),
            prefixes_withdrawn: l(&self.prefixes_withdrawn),
            prefixes_rejected: l(&self.prefixes_rejected),
            prefixes_accepted: l(&self.prefixes_accepted),
            prefixes_advertised: l(&self.prefixes_advertised),
            established: l(&self.established),
            updates_pending: l(&self.updates_pending),
            lagged: l(&self.lagged),
            errors: l(&self.errors),
        }
    }
}

/// The last error of a peer: a NOTIFICATION or a lost connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastError {
    /// When.
    pub at: SystemTime,
    /// Whether we sent it (a NOTIFICATION we sent) or it came from the
    /// peer or the network.
    pub sent: bool,
    /// The text: `Cease / Administrative Shutdown: "maintenance"`,
    /// `connection lost: closed by the peer`, ...
    pub message: String,
    /// The Shutdown Communication (RFC 9003) of a Cease, if any.
    pub shutdown_communication: Option<String>,
}

/// The status of one peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerStatus {
    /// The configured address.
    pub address: IpAddr,
    /// The configured name.
    pub name: Option<String>,
    /// The configured AS.
    pub remote_as: u32,
    /// The session state.
    pub state: State,
    /// When the current session reached Established.
    pub established_at: Option<SystemTime>,
    /// How long it has been Established.
    pub uptime: Option<Duration>,
    /// How many sessions with this peer (this configuration of it) reached
    /// Established: unchanged across a soft reconfiguration.
    pub established_count: u64,
    /// The TCP connection (local, remote) of the current session.
    pub connection: Option<(SocketAddr, SocketAddr)>,
    /// What the current (or last) session negotiated.
    pub negotiated: Option<NegotiatedSummary>,
    /// The counters.
    pub counters: PeerCounters,
    /// The last error.
    pub last_error: Option<LastError>,
    /// Closed for passing its prefix limit, not restarted yet.
    pub max_prefix_exceeded: bool,
    /// The families whose End-of-RIB the current session has received
    /// (empty while it is not Established).
    pub end_of_rib: Vec<AfiSafi>,
}

/// What a peer task publishes, shared with the API.
#[derive(Debug)]
pub(crate) struct PeerShared {
    pub(crate) counters: AtomicCounters,
    pub(crate) snapshot: Mutex<Snapshot>,
}

#[derive(Debug, Clone)]
pub(crate) struct Snapshot {
    pub(crate) address: IpAddr,
    pub(crate) name: Option<String>,
    pub(crate) remote_as: u32,
    pub(crate) state: State,
    pub(crate) established: Option<(SystemTime, Instant)>,
    pub(crate) established_count: u64,
    pub(crate) connection: Option<(SocketAddr, SocketAddr)>,
    pub(crate) negotiated: Option<NegotiatedSummary>,
    pub(crate) last_error: Option<LastError>,
    pub(crate) max_prefix_exceeded: bool,
    pub(crate) end_of_rib: Vec<AfiSafi>,
}

impl PeerShared {
    pub(crate) fn new(address: IpAddr, name: Option<String>, remote_as: u32) -> Arc<Self> {
        Arc::new(PeerShared {
            counters: AtomicCounters::default(),
            snapshot: Mutex::new(Snapshot {
                address,
                name,
                remote_as,
                state: State::Idle,
                established: None,
                established_count: 0,
                connection: None,
                negotiated: None,
                last_error: None,
                max_prefix_exceeded: false,
                end_of_rib: Vec::new(),
            }),
        })
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Snapshot> {
        // A panic while holding it leaves a snapshot that is still valid.
        self.snapshot.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The status, with the transport's message counts.
    pub(crate) fn status(&self, messages: &MessageCounts) -> PeerStatus {
        let s = self.lock().clone();
        PeerStatus {
            address: s.address,
            name: s.name,
            remote_as: s.remote_as,
            state: s.state,
            established_at: s.established.map(|(t, _)| t),
            uptime: s.established.map(|(_, i)| i.elapsed()),
            established_count: s.established_count,
            connection: s.connection,
            negotiated: s.negotiated,
            counters: self.counters.snapshot(messages),
            last_error: s.last_error,
            max_prefix_exceeded: s.max_prefix_exceeded,
            end_of_rib: s.end_of_rib,
        }
    }
}

/// Where a path came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RouteSource {
    /// Originated by this speaker.
    Local,
    /// Learned from the peer with this (configured) address.
    Peer(IpAddr),
}

/// One path of a prefix, for queries and the best-path stream: where it
/// came from and its attributes (interned, shared with the RIB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathInfo {
    /// Where it came from.
    pub source: RouteSource,
    /// The ADD-PATH path identifier (0 without ADD-PATH).
    pub path_id: u32,
    /// The attribute set: next hop, ORIGIN, LOCAL_PREF, MED, AS_PATH
    /// length, ... (see [`AttrSet`]); [`PathInfo::attributes`] decodes the
    /// rest.
    pub attrs: Arc<AttrSet>,
    /// Stale flags (graceful restart).
    pub flags: PathFlags,
}

impl PathInfo {
    /// The next hop.
    pub fn next_hop(&self) -> NextHop {
        self.attrs.next_hop()
    }
    /// ORIGIN.
    pub fn origin(&self) -> Origin {
        self.attrs.origin()
    }
    /// LOCAL_PREF.
    pub fn local_pref(&self) -> Option<u32> {
        self.attrs.local_pref()
    }
    /// MULTI_EXIT_DISC.
    pub fn med(&self) -> Option<u32> {
        self.attrs.med()
    }
    /// All the path attributes, decoded (NEXT_HOP as received for IPv4).
    pub fn attributes(&self) -> Option<PathAttributes> {
        self.attrs.attributes().ok()
    }
    /// The AS_PATH.
    pub fn as_path(&self) -> Option<AsPath> {
        self.attributes().and_then(|a| a.as_path)
    }
    /// The AS numbers of the AS_PATH in order (sets flattened).
    pub fn as_path_asns(&self) -> Vec<u32> {
        self.as_path()
            .map(|p| p.asns().collect())
            .unwrap_or_default()
    }
    /// COMMUNITIES.
    pub fn communities(&self) -> Option<Communities> {
        self.attributes().and_then(|a| a.communities)
    }
    /// LARGE_COMMUNITY.
    pub fn large_communities(&self) -> Option<LargeCommunities> {
        self.attributes().and_then(|a| a.large_communities)
    }
}

/// One path of [`RouteInfo`], with how it compares with the best.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePath {
    /// The path.
    pub path: PathInfo,
    /// Whether it is the best path.
    pub best: bool,
    /// Whether it is in the ECMP set (the best path is).
    pub multipath: bool,
    /// For the others: the step at which it lost to the best path (or
    /// `None` when it beats the best pairwise, which MED rules allow).
    pub lost_at: Option<DecisionStep>,
}

/// Every path of one prefix and the selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteInfo {
    /// The prefix.
    pub prefix: IpNet,
    /// The step that decided the best path (`None`: no usable path).
    pub step: Option<DecisionStep>,
    /// Every path, in the RIB's order (by peer and path id).
    pub paths: Vec<RoutePath>,
}

impl RouteInfo {
    /// The best path.
    pub fn best(&self) -> Option<&PathInfo> {
        self.paths.iter().find(|p| p.best).map(|p| &p.path)
    }
}

/// The best path of one prefix with every ECMP next hop: an entry of
/// [`crate::Speaker::best_routes`] and of the best-path stream
/// ([`crate::Subscription`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BestRoute {
    /// The prefix.
    pub prefix: IpNet,
    /// The best path; `None` in the stream when the prefix lost its last
    /// usable path (remove it from the FIB).
    pub best: Option<PathInfo>,
    /// The step that decided it.
    pub step: Option<DecisionStep>,
    /// The next hops to forward to: the best path's, then the other ECMP
    /// members', without duplicates (empty for a withdrawal).
    pub next_hops: Vec<NextHop>,
}

impl BestRoute {
    /// Whether this reports the prefix gone.
    pub fn is_withdrawal(&self) -> bool {
        self.best.is_none()
    }
}
