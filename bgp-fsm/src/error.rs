//! The errors of this crate's own API. The errors found in what the peer
//! sends become NOTIFICATIONs, not Rust errors: see
//! [`OpenError`](crate::open_validation::OpenError) for the OPEN checks and
//! [`bgp_wire::DecodeError`] for everything the codec finds.

use bgp_wire::AfiSafi;

use crate::state::State;

/// A configuration the protocol does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The BGP Identifier is 0.0.0.0 (RFC 6286 2.1).
    #[error("the BGP identifier must not be zero")]
    ZeroIdentifier,
    /// A hold time of 1 or 2 seconds (RFC 4271 4.2).
    #[error("hold time {0} is neither 0 nor at least 3 seconds")]
    HoldTime(u16),
    /// A smallest acceptable hold time below 3 seconds.
    #[error("minimum acceptable hold time {0} is below 3 seconds")]
    MinHoldTime(u16),
    /// A timer that must not be zero is.
    #[error("{0} must not be zero")]
    ZeroDuration(&'static str),
    /// The largest IdleHoldTime is smaller than the initial one.
    #[error("the largest IdleHoldTime is smaller than the initial one")]
    IdleHoldTimes,
    /// An AS number above 65535 without the 4-octet AS capability.
    #[error("AS {0} needs the 4-octet AS capability")]
    FourOctetAsRequired(u32),
    /// A graceful restart time above 4,095 seconds.
    #[error("restart time {0} does not fit 12 bits")]
    RestartTime(u16),
    /// A long-lived stale time above 2^24 - 1 seconds.
    #[error("long-lived stale time {0} does not fit 24 bits")]
    LongLivedStaleTime(u32),
}

/// An administrative event refused because the optional session attribute
/// it needs is not set (RFC 4271 8.1.2: "the local system should log an FSM
/// error"). The session is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// Events 3, 5, 6 and 7 need AllowAutomaticStart.
    #[error("event {event} needs AllowAutomaticStart")]
    AutomaticStartNotAllowed {
        /// The event number.
        event: u8,
    },
    /// Event 8 needs AllowAutomaticStop.
    #[error("event 8 (AutomaticStop) needs AllowAutomaticStop")]
    AutomaticStopNotAllowed,
    /// Events 6, 7 and 13 need DampPeerOscillations.
    #[error("event {event} needs DampPeerOscillations")]
    DampingNotEnabled {
        /// The event number.
        event: u8,
    },
}

/// A message the route layer asked to send that the session cannot send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// UPDATE, ROUTE-REFRESH and End-of-RIB are sent in Established only.
    #[error("the session is {0}, not Established")]
    NotEstablished(State),
    /// The family was not negotiated.
    #[error("family {0} was not negotiated")]
    FamilyNotNegotiated(AfiSafi),
    /// ROUTE-REFRESH without the Route Refresh capability on both sides.
    #[error("route refresh was not negotiated")]
    RouteRefreshNotNegotiated,
}
