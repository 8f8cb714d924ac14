//! The outputs of the state machine: what the driver and the route layer
//! must do, in order.

use bgp_wire::{AfiSafi, Message, Notification, Open, RouteRefresh, Update};

use crate::negotiated::Negotiated;
use crate::notification::NotificationReport;
use crate::state::State;

/// One thing the session asks its driver (or the route layer) to do.
///
/// Actions come out of [`Session::poll_action`](crate::Session::poll_action)
/// in the order the RFC lists them; a driver performs them in that order
/// (so that, for instance, a NOTIFICATION is written before the connection
/// it was sent on is dropped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The state changed.
    StateChanged {
        /// The old state.
        from: State,
        /// The new state.
        to: State,
    },
    /// "Initializes all BGP resources for the peer connection": a start
    /// event left Idle. The driver may now accept connections from the peer.
    InitializeResources,
    /// "Releases all BGP resources": the session went back to Idle.
    ReleaseResources,
    /// Initiate a TCP connection to the peer; report the outcome with
    /// [`Event::TcpCrAcked`](crate::Event) or
    /// [`Event::TcpConnectionFails`](crate::Event).
    Connect,
    /// Drop the TCP connection (or abandon the connection attempt), after
    /// writing the messages sent before this action.
    DropConnection,
    /// Reject the TCP connection request just reported with
    /// [`Event::TcpCrInvalid`](crate::Event).
    RejectConnection,
    /// Send a message: OPEN, KEEPALIVE, NOTIFICATION, or an UPDATE or
    /// ROUTE-REFRESH the route layer passed through the session. Encode it
    /// with [`Session::codec_context`](crate::Session::codec_context).
    Send(Message),
    /// A NOTIFICATION was sent or received, decoded.
    Notification(NotificationReport),
    /// An OPEN arrived (before it is checked).
    OpenReceived(Box<Open>),
    /// The session is Established with these negotiated parameters. The
    /// route layer sends its initial updates, then calls
    /// [`Session::initial_updates_sent`](crate::Session::initial_updates_sent)
    /// for the End-of-RIB markers.
    Established(Box<Negotiated>),
    /// The session went back to Idle.
    SessionDown(SessionDown),
    /// An UPDATE arrived in Established (End-of-RIB markers come as
    /// [`Action::EndOfRibReceived`] instead). Its contents are not looked
    /// at: the RIB decodes them.
    UpdateReceived(Update),
    /// A ROUTE-REFRESH for a negotiated family arrived in Established.
    RouteRefreshReceived(RouteRefresh),
    /// The peer's End-of-RIB marker for a family arrived (RFC 4724 2).
    EndOfRibReceived(AfiSafi),
    /// The peer's End-of-RIB markers have arrived for every negotiated
    /// family: its initial routing table is complete (a restarting speaker
    /// may run its deferred route selection, RFC 4724 4.1).
    AllEndOfRibReceived,
    /// Delete every route received from the peer in these families (the
    /// session ended without graceful restart).
    DeleteRoutes(Vec<AfiSafi>),
    /// Keep the routes received from the peer in these families, marked as
    /// stale (graceful restart helper, RFC 4724 4.2 and RFC 8538).
    RoutesStale(Vec<AfiSafi>),
    /// The routes of these families, stale already, become long-lived stale
    /// (RFC 9494: tagged LLGR_STALE and least preferred).
    RoutesLongLivedStale(Vec<AfiSafi>),
    /// Delete the routes of these families that are still marked as stale
    /// (End-of-RIB received, or a graceful restart timer expired).
    DeleteStaleRoutes(Vec<AfiSafi>),
}

/// Why and how a session went back to Idle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDown {
    /// The state it left.
    pub from: State,
    /// Why.
    pub reason: DownReason,
}

impl SessionDown {
    /// Whether an Established session ended.
    pub fn was_established(&self) -> bool {
        self.from == State::Established
    }
}

/// Why a session went back to Idle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownReason {
    /// Event 2, ManualStop.
    ManualStop,
    /// Event 8, AutomaticStop.
    AutomaticStop,
    /// The HoldTimer expired.
    HoldTimerExpired,
    /// The TCP connection failed or was closed (event 18).
    ConnectionFailed,
    /// Collision resolution closed this connection (event 23).
    Collision,
    /// The peer sent a NOTIFICATION.
    PeerNotification(Notification),
    /// We found an error in what the peer sent: the NOTIFICATION it calls
    /// for (sent, except in Connect and Active without the
    /// SendNOTIFICATIONwithoutOPEN attribute).
    Error(Notification),
    /// An event this state does not expect (answered with a Finite State
    /// Machine Error in OpenSent, OpenConfirm and Established).
    UnexpectedEvent {
        /// The event's name.
        event: &'static str,
    },
}
