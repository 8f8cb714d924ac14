//! Connection collision detection and resolution (RFC 4271 6.8 and
//! 8.2.1.2, with the tie-break of RFC 6286 2.3 and the Established case of
//! RFC 4724 4.2).
//!
//! There is one [`Session`](crate::Session) per TCP connection. When the
//! peer connects while our own session to it is already past Active (or
//! the other way round), the driver runs a second session on the new
//! connection: created with the same configuration, started with
//! [`Event::ManualStartWithPassiveTcpEstablishment`](crate::Event) (or event
//! 7 if the peer's sessions restart under damping) and fed
//! [`Event::TcpConnectionConfirmed`](crate::Event) (or `TcpCrAcked`).
//!
//! When an OPEN arrives on either connection, before handing it to that
//! connection's session, the driver asks the *other* session whether the
//! two collide: [`Session::detect_collision`](crate::Session::detect_collision)
//! (or the free function [`resolve_collision`]). The answer says which
//! connection to close:
//!
//! - on [`CollisionResolution::CloseNew`], feed
//!   [`Event::OpenCollisionDump`](crate::Event) to the session of the
//!   connection the OPEN arrived on (it sends Cease / Connection Collision
//!   Resolution and goes to Idle) and drop the OPEN;
//! - on [`CollisionResolution::CloseExisting`], feed `OpenCollisionDump` to the
//!   other session, then the OPEN to the new one. With `graceful` set, the
//!   existing session is Established and the peer restarted with graceful
//!   restart (RFC 4724 4.2): feed it `TcpConnectionFails` instead, so that
//!   its routes are kept as stale;
//! - on [`CollisionResolution::NoCollision`], hand the OPEN on.
//!
//! The session that survives should take over the per-peer state (damping
//! back-off, graceful restart helper) of the one that is disposed of:
//! [`Session::inherit_peer_state`](crate::Session::inherit_peer_state).

use std::fmt;
use std::net::Ipv4Addr;

use crate::state::State;

/// Which side opened a TCP connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionOrigin {
    /// We connected to the peer (event 16, Tcp_CR_Acked).
    Outgoing,
    /// The peer connected to us (event 17, TcpConnectionConfirmed).
    Incoming,
}

impl fmt::Display for ConnectionOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConnectionOrigin::Outgoing => "outgoing",
            ConnectionOrigin::Incoming => "incoming",
        })
    }
}

/// Which connection of a collision to close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CollisionResolution {
    /// The connections do not collide.
    NoCollision,
    /// Close the connection the OPEN arrived on.
    CloseNew,
    /// Close the connection that existed before.
    CloseExisting {
        /// The existing session is Established and the peer restarted with
        /// graceful restart: close it as a lost connection (event 18), not
        /// with a NOTIFICATION, so that the peer's routes are kept as stale.
        graceful: bool,
    },
}

/// One side of a collision: a BGP Identifier and an AS number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Speaker {
    /// The BGP Identifier.
    pub id: Ipv4Addr,
    /// The AS number.
    pub asn: u32,
}

/// What is known of the connection that existed before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExistingConnection {
    /// Its state.
    pub state: State,
    /// Who opened it, if known.
    pub origin: Option<ConnectionOrigin>,
    /// The BGP Identifier the peer announced on it (known from OpenConfirm
    /// on; in OpenSent only if known by other means, RFC 4271 6.8).
    pub peer_id: Option<Ipv4Addr>,
    /// The session negotiated graceful restart with the peer, so that an
    /// OPEN on a new connection while it is Established means the peer
    /// restarted (RFC 4724 4.2).
    pub graceful_restart: bool,
}

/// Whether the local speaker's connection survives a collision: the one
/// initiated by the speaker with the higher BGP Identifier does (RFC 4271
/// 6.8, identifiers compared as unsigned integers), and with equal
/// identifiers the one of the larger AS number (RFC 6286 2.3).
pub fn local_wins(local: Speaker, remote: Speaker) -> bool {
    (u32::from(local.id), local.asn) > (u32::from(remote.id), remote.asn)
}

/// Resolves a collision between an `existing` connection and a new one,
/// opened from `new_origin`, on which the peer `remote` sent an OPEN.
/// `collision_detect_established` is the optional attribute
/// CollisionDetectEstablishedState.
///
/// ```
/// use std::net::Ipv4Addr;
/// use bgp_fsm::collision::*;
/// use bgp_fsm::State;
///
/// let local = Speaker { id: Ipv4Addr::new(10, 0, 0, 2), asn: 65001 };
/// let remote = Speaker { id: Ipv4Addr::new(10, 0, 0, 1), asn: 65002 };
/// // Our connection is in OpenConfirm; the peer's own connection brings its OPEN.
/// let existing = ExistingConnection {
///     state: State::OpenConfirm,
///     origin: Some(ConnectionOrigin::Outgoing),
///     peer_id: Some(remote.id),
///     graceful_restart: false,
/// };
/// // Our identifier is higher: the connection we opened survives.
/// assert_eq!(
///     resolve_collision(local, remote, existing, ConnectionOrigin::Incoming, false),
///     CollisionResolution::CloseNew
/// );
/// ```
pub fn resolve_collision(
    local: Speaker,
    remote: Speaker,
    existing: ExistingConnection,
    new_origin: ConnectionOrigin,
    collision_detect_established: bool,
) -> CollisionResolution {
    match existing.state {
        // RFC 4271 6.8: no collision can be detected with these.
        State::Idle | State::Connect | State::Active => return CollisionResolution::NoCollision,
        State::OpenSent | State::OpenConfirm => {}
        State::Established => {
            if existing.graceful_restart && existing.peer_id == Some(remote.id) {
                return CollisionResolution::CloseExisting { graceful: true };
            }
            if !collision_detect_established {
                return CollisionResolution::CloseNew;
            }
        }
    }
    match existing.peer_id {
        Some(id) if id == remote.id => {}
        // Another speaker (or one not identified yet): not a collision.
        _ => return CollisionResolution::NoCollision,
    }
    let keep_origin = if local_wins(local, remote) {
        ConnectionOrigin::Outgoing
    } else {
        ConnectionOrigin::Incoming
    };
    match existing.origin {
        Some(o) if o != new_origin => {
            if o == keep_origin {
                CollisionResolution::CloseNew
            } else {
                CollisionResolution::CloseExisting { graceful: false }
            }
        }
        // Both connections from the same side, or the origin of the
        // existing one unknown: the rule as RFC 4271 6.8 words it, which
        // assumes the new connection is the peer's.
        _ => {
            if local_wins(local, remote) {
                CollisionResolution::CloseNew
            } else {
                CollisionResolution::CloseExisting { graceful: false }
            }
        }
    }
}
