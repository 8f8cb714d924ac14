//! The six states of the BGP FSM (RFC 4271 section 8.2.2).

use std::fmt;

use bgp_wire::error::FsmSubcode;

/// A state of the BGP finite state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum State {
    /// Idle: refuses connections, allocates nothing; waits for a start
    /// event.
    #[default]
    Idle,
    /// Connect: waiting for the TCP connection to complete.
    Connect,
    /// Active: listening for a connection from the peer (or waiting for
    /// the ConnectRetryTimer to try again).
    Active,
    /// OpenSent: our OPEN is sent, waiting for the peer's.
    OpenSent,
    /// OpenConfirm: OPENs exchanged, waiting for the peer's KEEPALIVE or
    /// NOTIFICATION.
    OpenConfirm,
    /// Established: UPDATE, NOTIFICATION and KEEPALIVE messages flow.
    Established,
}

impl State {
    /// Every state, in the order of the RFC.
    pub const ALL: [State; 6] = [
        State::Idle,
        State::Connect,
        State::Active,
        State::OpenSent,
        State::OpenConfirm,
        State::Established,
    ];

    /// The name the RFC gives the state.
    pub const fn name(self) -> &'static str {
        match self {
            State::Idle => "Idle",
            State::Connect => "Connect",
            State::Active => "Active",
            State::OpenSent => "OpenSent",
            State::OpenConfirm => "OpenConfirm",
            State::Established => "Established",
        }
    }

    /// The number of the state in the BGP-4 MIB (`bgpPeerState`, RFC 4273)
    /// and in MRT state-change records (RFC 6396 4.4.1): Idle is 1,
    /// Established 6.
    pub const fn mib_value(self) -> u16 {
        match self {
            State::Idle => 1,
            State::Connect => 2,
            State::Active => 3,
            State::OpenSent => 4,
            State::OpenConfirm => 5,
            State::Established => 6,
        }
    }

    /// Whether the driver should accept a TCP connection from the peer in
    /// this state: in every state but Idle (RFC 4271 8.2.2: "In this state,
    /// BGP FSM refuses all incoming BGP connections"). In OpenSent,
    /// OpenConfirm and Established a new connection is a second one, to be
    /// tracked for collision detection (see [`crate::collision`]).
    pub const fn accepts_connections(self) -> bool {
        !matches!(self, State::Idle)
    }

    /// Whether the session has a TCP connection it speaks BGP on: OpenSent,
    /// OpenConfirm and Established (and Connect or Active while the
    /// DelayOpenTimer runs, which this method does not see).
    pub const fn is_connected(self) -> bool {
        matches!(
            self,
            State::OpenSent | State::OpenConfirm | State::Established
        )
    }

    /// The Finite State Machine Error subcode for an unexpected message
    /// received in this state (RFC 6608 3): OpenSent 1, OpenConfirm 2,
    /// Established 3, Unspecified elsewhere.
    pub const fn unexpected_message_subcode(self) -> FsmSubcode {
        match self {
            State::OpenSent => FsmSubcode::UnexpectedMessageInOpenSent,
            State::OpenConfirm => FsmSubcode::UnexpectedMessageInOpenConfirm,
            State::Established => FsmSubcode::UnexpectedMessageInEstablished,
            State::Idle | State::Connect | State::Active => FsmSubcode::Unspecified,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
