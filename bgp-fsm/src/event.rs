//! The 28 events of the BGP FSM (RFC 4271 section 8.1).
//!
//! [`Event`] has one variant per event, numbered and named as the RFC
//! numbers and names them ([`Event::number`], [`Event::name`]). The events
//! that carry a message or an error carry the bgp-wire value.
//!
//! [`Session::handle_event`](crate::Session::handle_event) takes an event
//! as given, which is what the transition tables of the tests need. A
//! driver normally does not build message events itself:
//! [`Session::handle_message`](crate::Session::handle_message) and
//! [`Session::handle_decode_error`](crate::Session::handle_decode_error)
//! classify what came off the wire (an OPEN is Event 19, or Event 20 while
//! the DelayOpenTimer runs; a NOTIFICATION with Unsupported Version Number
//! is Event 24, any other Event 25; and so on), and the timer events come
//! from [`Session::handle_timeout`](crate::Session::handle_timeout).

use std::fmt;

use bgp_wire::error::CeaseSubcode;
use bgp_wire::{AfiSafi, DecodeError, ErrorCode, Notification, Open, Update};
use bytes::Bytes;

use crate::open_validation::OpenError;

/// Whether a Cease sent on a session that negotiated the N bit of RFC 8538
/// is wrapped in a Hard Reset (Cease subcode 9), which tells the peer not
/// to keep our routes as stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HardReset {
    /// As RFC 8538 section 5 suggests for the subcode: Hard Reset for
    /// Maximum Number of Prefixes Reached, Administrative Shutdown and Peer
    /// De-configured, a graceful Cease for the others (Administrative Reset
    /// included, for which the RFC leaves the choice to the operator).
    #[default]
    Suggested,
    /// Always a Hard Reset.
    Always,
    /// Never: a graceful Cease, the peer keeps our routes as stale.
    Never,
}

/// What a ManualStop or AutomaticStop sends: a Cease NOTIFICATION with a
/// subcode and, for Administrative Shutdown and Reset, a Shutdown
/// Communication (RFC 9003).
///
/// ```
/// use bgp_fsm::Stop;
///
/// let stop = Stop::administrative_shutdown("maintenance until 14:00");
/// assert_eq!(stop.notification().code.to_pair(), (6, 2));
/// assert_eq!(stop.notification().to_string(),
///            "Cease / Administrative Shutdown: \"maintenance until 14:00\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Stop {
    /// The Cease subcode.
    pub subcode: CeaseSubcode,
    /// The Shutdown Communication, sent with Administrative Shutdown and
    /// Administrative Reset when not empty (cut to 255 octets).
    pub communication: String,
    /// Whether to send it as a Hard Reset when the N bit was negotiated.
    pub hard_reset: HardReset,
    /// The Data field for the other subcodes (empty for none): for Maximum
    /// Number of Prefixes Reached, the AFI, SAFI and limit of RFC 4486 4.
    pub data: Bytes,
}

impl Stop {
    /// Cease / Administrative Shutdown with a communication (possibly empty).
    pub fn administrative_shutdown(communication: impl Into<String>) -> Self {
        Stop {
            subcode: CeaseSubcode::AdministrativeShutdown,
            communication: communication.into(),
            hard_reset: HardReset::Suggested,
            data: Bytes::new(),
        }
    }

    /// Cease / Administrative Reset with a communication (possibly empty).
    pub fn administrative_reset(communication: impl Into<String>) -> Self {
        Stop {
            subcode: CeaseSubcode::AdministrativeReset,
            communication: communication.into(),
            hard_reset: HardReset::Suggested,
            data: Bytes::new(),
        }
    }

    /// Cease with any subcode and no communication, for example Maximum
    /// Number of Prefixes Reached for an AutomaticStop.
    pub fn cease(subcode: CeaseSubcode) -> Self {
        Stop {
            subcode,
            communication: String::new(),
            hard_reset: HardReset::Suggested,
            data: Bytes::new(),
        }
    }

    /// Cease / Maximum Number of Prefixes Reached with the data RFC 4486 4
    /// gives it: the family (AFI, SAFI) and the upper bound, as 4 octets.
    ///
    /// ```
    /// use bgp_fsm::Stop;
    /// use bgp_wire::AfiSafi;
    ///
    /// let n = Stop::maximum_prefixes(AfiSafi::IPV4_UNICAST, 1000).notification();
    /// assert_eq!(n.code.to_pair(), (6, 1));
    /// assert_eq!(&n.data[..], &[0, 1, 1, 0, 0, 0x03, 0xe8]);
    /// ```
    pub fn maximum_prefixes(family: AfiSafi, limit: u32) -> Self {
        let mut data = Vec::with_capacity(7);
        data.extend_from_slice(&family.afi.to_u16().to_be_bytes());
        data.push(family.safi.to_u8());
        data.extend_from_slice(&limit.to_be_bytes());
        Stop {
            data: Bytes::from(data),
            ..Stop::cease(CeaseSubcode::MaximumNumberOfPrefixesReached)
        }
    }

    /// The same stop with this Data field (for subcodes other than
    /// Administrative Shutdown and Reset, which carry their communication).
    pub fn with_data(mut self, data: impl Into<Bytes>) -> Self {
        self.data = data.into();
        self
    }

    /// The same stop with another Hard Reset choice.
    pub fn with_hard_reset(mut self, hard_reset: HardReset) -> Self {
        self.hard_reset = hard_reset;
        self
    }

    /// The Cease NOTIFICATION, before any Hard Reset wrapping.
    pub fn notification(&self) -> Notification {
        match self.subcode {
            CeaseSubcode::AdministrativeShutdown => Notification::shutdown(&self.communication),
            CeaseSubcode::AdministrativeReset => Notification::reset(&self.communication),
            other => Notification::new(ErrorCode::Cease(other), self.data.clone()),
        }
    }
}

impl Default for Stop {
    /// Administrative Shutdown without a communication.
    fn default() -> Self {
        Stop::administrative_shutdown("")
    }
}

/// An input of the BGP FSM: one of the events 1 to 28 of RFC 4271 section
/// 8.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Event 1: the operator starts the session.
    ManualStart,
    /// Event 2: the operator stops the session; the Cease to send.
    ManualStop(Stop),
    /// Event 3: the local system starts the session (needs
    /// AllowAutomaticStart).
    AutomaticStart,
    /// Event 4: the operator starts the session, waiting for the peer to
    /// connect (PassiveTcpEstablishment).
    ManualStartWithPassiveTcpEstablishment,
    /// Event 5: automatic start, passive.
    AutomaticStartWithPassiveTcpEstablishment,
    /// Event 6: automatic start with damping of peer oscillations (needs
    /// DampPeerOscillations).
    AutomaticStartWithDampPeerOscillations,
    /// Event 7: automatic start with damping, passive.
    AutomaticStartWithDampPeerOscillationsAndPassiveTcpEstablishment,
    /// Event 8: the local system stops the session (needs
    /// AllowAutomaticStop), for example on a prefix limit; the Cease to send.
    AutomaticStop(Stop),
    /// Event 9: the ConnectRetryTimer expired.
    ConnectRetryTimerExpires,
    /// Event 10: the HoldTimer expired.
    HoldTimerExpires,
    /// Event 11: the KeepaliveTimer expired.
    KeepaliveTimerExpires,
    /// Event 12: the DelayOpenTimer expired.
    DelayOpenTimerExpires,
    /// Event 13: the IdleHoldTimer expired.
    IdleHoldTimerExpires,
    /// Event 14: a TCP connection request with valid addresses and ports
    /// arrived (TrackTcpState).
    TcpConnectionValid,
    /// Event 15: a TCP connection request with an invalid address or port
    /// arrived (TrackTcpState).
    TcpCrInvalid,
    /// Event 16: our connection attempt succeeded (SYN, SYN/ACK, ACK).
    TcpCrAcked,
    /// Event 17: the peer's connection was accepted.
    TcpConnectionConfirmed,
    /// Event 18: the TCP connection failed or was closed by the peer.
    TcpConnectionFails,
    /// Event 19: an OPEN arrived. The session checks it (section 6.2); one
    /// that fails is processed as Event 22.
    BgpOpen(Open),
    /// Event 20: an OPEN arrived while the DelayOpenTimer runs; checked as
    /// for Event 19.
    BgpOpenWithDelayOpenTimerRunning(Open),
    /// Event 21: a message header was invalid (section 6.1), or a message
    /// could not be decoded for a reason that is not an OPEN or UPDATE
    /// error.
    BgpHeaderErr(DecodeError),
    /// Event 22: an OPEN had errors (section 6.2).
    BgpOpenMsgErr(OpenError),
    /// Event 23: collision resolution (section 6.8) chose to close this
    /// connection.
    OpenCollisionDump,
    /// Event 24: a NOTIFICATION with OPEN Message Error / Unsupported
    /// Version Number arrived.
    NotifMsgVerErr(Notification),
    /// Event 25: any other NOTIFICATION arrived.
    NotifMsg(Notification),
    /// Event 26: a KEEPALIVE arrived.
    KeepAliveMsg,
    /// Event 27: a valid UPDATE arrived.
    UpdateMsg(Update),
    /// Event 28: an UPDATE had an error that RFC 7606 answers with a session
    /// reset (and, in this crate, a ROUTE-REFRESH of invalid length, RFC
    /// 7313 5, which is answered the same way with its own error code).
    UpdateMsgErr(DecodeError),
}

impl Event {
    /// Event 2 with an Administrative Shutdown without communication.
    pub fn manual_stop() -> Self {
        Event::ManualStop(Stop::default())
    }

    /// Event 8 with Cease / Unspecific.
    pub fn automatic_stop() -> Self {
        Event::AutomaticStop(Stop::cease(CeaseSubcode::Unspecific))
    }

    /// The event number of RFC 4271 section 8.1.
    pub const fn number(&self) -> u8 {
        match self {
            Event::ManualStart => 1,
            Event::ManualStop(_) => 2,
            Event::AutomaticStart => 3,
            Event::ManualStartWithPassiveTcpEstablishment => 4,
            Event::AutomaticStartWithPassiveTcpEstablishment => 5,
            Event::AutomaticStartWithDampPeerOscillations => 6,
            Event::AutomaticStartWithDampPeerOscillationsAndPassiveTcpEstablishment => 7,
            Event::AutomaticStop(_) => 8,
            Event::ConnectRetryTimerExpires => 9,
            Event::HoldTimerExpires => 10,
            Event::KeepaliveTimerExpires => 11,
            Event::DelayOpenTimerExpires => 12,
            Event::IdleHoldTimerExpires => 13,
            Event::TcpConnectionValid => 14,
            Event::TcpCrInvalid => 15,
            Event::TcpCrAcked => 16,
            Event::TcpConnectionConfirmed => 17,
            Event::TcpConnectionFails => 18,
            Event::BgpOpen(_) => 19,
            Event::BgpOpenWithDelayOpenTimerRunning(_) => 20,
            Event::BgpHeaderErr(_) => 21,
            Event::BgpOpenMsgErr(_) => 22,
            Event::OpenCollisionDump => 23,
            Event::NotifMsgVerErr(_) => 24,
            Event::NotifMsg(_) => 25,
            Event::KeepAliveMsg => 26,
            Event::UpdateMsg(_) => 27,
            Event::UpdateMsgErr(_) => 28,
        }
    }

    /// The name RFC 4271 section 8.1 gives the event.
    pub const fn name(&self) -> &'static str {
        match self {
            Event::ManualStart => "ManualStart",
            Event::ManualStop(_) => "ManualStop",
            Event::AutomaticStart => "AutomaticStart",
            Event::ManualStartWithPassiveTcpEstablishment => {
                "ManualStart_with_PassiveTcpEstablishment"
            }
            Event::AutomaticStartWithPassiveTcpEstablishment => {
                "AutomaticStart_with_PassiveTcpEstablishment"
            }
            Event::AutomaticStartWithDampPeerOscillations => {
                "AutomaticStart_with_DampPeerOscillations"
            }
            Event::AutomaticStartWithDampPeerOscillationsAndPassiveTcpEstablishment => {
                "AutomaticStart_with_DampPeerOscillations_and_PassiveTcpEstablishment"
            }
            Event::AutomaticStop(_) => "AutomaticStop",
            Event::ConnectRetryTimerExpires => "ConnectRetryTimer_Expires",
            Event::HoldTimerExpires => "HoldTimer_Expires",
            Event::KeepaliveTimerExpires => "KeepaliveTimer_Expires",
            Event::DelayOpenTimerExpires => "DelayOpenTimer_Expires",
            Event::IdleHoldTimerExpires => "IdleHoldTimer_Expires",
            Event::TcpConnectionValid => "TcpConnection_Valid",
            Event::TcpCrInvalid => "Tcp_CR_Invalid",
            Event::TcpCrAcked => "Tcp_CR_Acked",
            Event::TcpConnectionConfirmed => "TcpConnectionConfirmed",
            Event::TcpConnectionFails => "TcpConnectionFails",
            Event::BgpOpen(_) => "BGPOpen",
            Event::BgpOpenWithDelayOpenTimerRunning(_) => "BGPOpen with DelayOpenTimer running",
            Event::BgpHeaderErr(_) => "BGPHeaderErr",
            Event::BgpOpenMsgErr(_) => "BGPOpenMsgErr",
            Event::OpenCollisionDump => "OpenCollisionDump",
            Event::NotifMsgVerErr(_) => "NotifMsgVerErr",
            Event::NotifMsg(_) => "NotifMsg",
            Event::KeepAliveMsg => "KeepAliveMsg",
            Event::UpdateMsg(_) => "UpdateMsg",
            Event::UpdateMsgErr(_) => "UpdateMsgErr",
        }
    }

    /// Whether the event is one of the start events (1, 3 to 7).
    pub const fn is_start(&self) -> bool {
        matches!(self.number(), 1 | 3..=7)
    }

    /// Whether the event reports a message (or a message error) from the
    /// peer (19 to 28, 23 excepted).
    pub const fn is_message(&self) -> bool {
        matches!(self.number(), 19..=22 | 24..=28)
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Event {} ({})", self.number(), self.name())
    }
}
