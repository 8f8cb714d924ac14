//! The BGP-4 session state machine of RFC 4271 section 8, without I/O.
//!
//! A [`Session`] is one BGP finite state machine: the six states, the 28
//! events of section 8.1 (the optional ones included: passive TCP
//! establishment, automatic start and stop, DelayOpen, damping of peer
//! oscillations, collision handling), the OPEN checks and the capability
//! negotiation that produce one [`Negotiated`] value, graceful restart
//! (RFC 4724, RFC 8538, RFC 9494) on both sides. Events go in, [`Action`]s
//! come out; the current time is a parameter of every call; nothing reads a
//! clock, opens a socket or draws a random number. The same code therefore
//! runs under a tokio driver and under a test that advances a virtual clock
//! by hours in microseconds.
//!
//! Module map, following the RFC:
//! - [`state`]: the six states;
//! - [`event`]: the 28 events, and the [`Stop`] a stop event sends;
//! - [`timers`]: [`Instant`], the [`Timer`]s, jitter;
//! - [`config`]: the session attributes (mandatory and optional) and the
//!   capabilities to announce;
//! - [`open_validation`]: the checks of a received OPEN, each failure with
//!   its NOTIFICATION;
//! - [`negotiated`]: capability negotiation;
//! - [`collision`]: connection collision resolution (section 6.8);
//! - [`damping`]: damping of peer oscillations (IdleHoldTimer);
//! - [`graceful_restart`]: restarting speaker and helper;
//! - [`notification`]: NOTIFICATIONs sent and received, decoded;
//! - [`action`]: the outputs;
//! - [`session`]: the state machine itself.
//!
//! # The split: core and transport
//!
//! Those modules are the core: no sockets, no tokio, no clock, no
//! randomness; `cargo test -p bgp-fsm` builds and tests them alone. The
//! `transport` module (cargo feature `tokio`, off by default) is a thin
//! tokio driver of the core over TCP: active and passive connections, a
//! listener shared by the peers of one address, TCP MD5, GTSM, TTL, a
//! bounded output queue. It is the only part of the crate with I/O, and
//! its `transport::sockopt` module the only code of the workspace allowed
//! to be unsafe (three socket options socket2 does not set). bgp-speaker
//! builds on it; `cargo test -p bgp-fsm --features tokio` runs its tests,
//! on loopback (`tests/transport.rs`) and, as root with BIRD, FRR and
//! GoBGP installed, against them in network namespaces
//! (`tests/interop.rs`, which says SKIPPED otherwise).
//!
//! # The driver contract
//!
//! A driver owns one [`Session`] per configured peer and does the I/O for
//! it:
//!
//! 1. **Time.** It picks an origin for its clock and passes
//!    [`Instant::from_duration`]`(now - origin)` to every call. After every
//!    call it re-arms one OS timer for [`Session::poll_timeout`], and calls
//!    [`Session::handle_timeout`] when that time has come (calling it early
//!    or late is harmless: it processes what has expired).
//! 2. **Inputs.** Administrative events ([`Event::ManualStart`],
//!    [`Event::manual_stop`], ...) and TCP outcomes go to
//!    [`Session::handle_event`]: [`Event::TcpCrAcked`] when the connection
//!    it was asked to open is up, [`Event::TcpConnectionConfirmed`] when it
//!    accepted one from the peer (in any state but Idle, see
//!    [`State::accepts_connections`]), [`Event::TcpConnectionFails`] when
//!    the connection fails or the peer closes it. The session speaks on the
//!    first connection reported up; one that completes later (our attempt
//!    after the peer's connection was accepted, or the other way round) is a
//!    second connection, for a second session (item 8). Each message framed and
//!    decoded from the connection goes to [`Session::handle_message`]; a
//!    framing or decoding error to [`Session::handle_decode_error`]
//!    (and nothing more is read from that connection).
//! 3. **Codec.** Bytes are encoded and decoded with
//!    [`Session::codec_context`], read again after every input: it becomes
//!    the negotiated context as soon as the peer's OPEN is accepted.
//! 4. **Outputs.** After every input it drains [`Session::poll_action`] and
//!    performs each [`Action`] in order: [`Action::Connect`] opens a
//!    connection, [`Action::Send`] writes a message, [`Action::DropConnection`]
//!    closes the connection once what was written before is flushed; the
//!    route-layer actions ([`Action::UpdateReceived`],
//!    [`Action::RoutesStale`], [`Action::DeleteStaleRoutes`], ...) go to
//!    the RIB; the rest is for logs and status.
//! 5. **Route layer.** UPDATEs to send go through [`Session::send_update`]
//!    (which restarts the KeepaliveTimer); after the initial table,
//!    [`Session::initial_updates_sent`] sends the End-of-RIB markers.
//! 6. **Jitter.** RFC 4271 section 10 jitter comes from the [`Jitter`]
//!    given to [`Session::with_jitter`]; without one, timers run for their
//!    exact configured durations.
//! 7. **Automatic restart.** A session started with event 6 or 7 restarts
//!    itself after each failure, when the IdleHoldTimer expires (see
//!    [`damping`]). Otherwise restarting is the driver's choice (event 3).
//! 8. **Collisions.** A second connection with the same peer gets its own
//!    session; [`Session::detect_collision`] says which to close (see
//!    [`collision`]).
//!
//! # Where the RFC leaves a choice, or says what cannot be meant
//!
//! The transitions follow the rows of RFC 4271 8.2.2 (the tests walk each
//! of them). Where a row cannot be taken literally, or an optional
//! behaviour had to be chosen, this crate does the following:
//!
//! - **OpenSent, NotifMsg (25).** The "any other event" row would answer a
//!   NOTIFICATION with a Finite State Machine Error; no NOTIFICATION is sent
//!   in answer to one (RFC 4271 6.4, RFC 6608). The rest of the row applies.
//! - **OpenConfirm and Established, BGPOpen (19).** An OPEN on the
//!   session's own connection is an unexpected message: FSM Error 5/2 or 5/3
//!   (RFC 6608). Collisions are between two connections, each with its own
//!   session; the driver resolves them and signals OpenCollisionDump (23)
//!   to the loser (see [`collision`]).
//! - **Established, BGPHeaderErr (21).** Answered with the Message Header
//!   Error of section 6.1 rather than the FSM Error of the "any other
//!   event" row.
//! - **Established, OpenCollisionDump (23)** without
//!   CollisionDetectEstablishedState: ignored.
//! - **Active, ConnectRetryTimer_Expires (9) with PassiveTcpEstablishment:**
//!   the timer restarts, the session stays in Active and does not connect.
//! - **Active, TcpConnectionFails (18):** the row restarts the
//!   ConnectRetryTimer then goes to Idle; no ConnectRetryTimer runs in Idle,
//!   so it is stopped. Likewise an out-of-turn DelayOpenTimer_Expires (12)
//!   in Connect stops it.
//! - **Idle, ManualStop (2) and AutomaticStop (8)** are ignored, except
//!   that they cancel an automatic restart waiting for the IdleHoldTimer.
//! - **Damping** ("(optionally) performs peer oscillation damping") is done
//!   on every row that says so, and also when an Established session ends
//!   on a NOTIFICATION or a lost connection; not on OpenCollisionDump, which
//!   is no oscillation of the peer. See [`damping`].
//! - **Events 19 and 20** carry the OPEN; it is checked when processed, and
//!   one that fails is processed as event 22 in the same state.
//!   [`Session::handle_event`] takes events as given (event 20 while no
//!   DelayOpenTimer runs included), [`Session::handle_message`] classifies.
//! - **ROUTE-REFRESH** (RFC 2918, not in RFC 4271's event list) is delivered
//!   in Established, ignored there for a family not negotiated or an
//!   unknown subtype (RFC 7313 5), and is an unexpected message elsewhere; a
//!   ROUTE-REFRESH Message Error is processed as event 28.
//! - **Any message in Established** restarts the HoldTimer, KEEPALIVE and
//!   UPDATE as the RFC says and ROUTE-REFRESH too.
//!
//! # Example: two sessions in memory
//!
//! Two speakers brought to Established by handing each one's output
//! messages, encoded and decoded with bgp-wire, to the other; then an hour
//! of keepalives in virtual time.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use std::time::Duration;
//! use bytes::BytesMut;
//! use bgp_fsm::{Action, Event, Instant, Session, SessionConfig, State};
//! use bgp_wire::Message;
//!
//! let mut a = Session::new(SessionConfig::new(65001, Ipv4Addr::new(10, 0, 0, 1), 65002)).unwrap();
//! let mut b = Session::new(SessionConfig::new(65002, Ipv4Addr::new(10, 0, 0, 2), 65001)).unwrap();
//!
//! /// Performs `from`'s actions against `to`; returns whether there were any.
//! fn pump(now: Instant, from: &mut Session, to: &mut Session) -> bool {
//!     let mut any = false;
//!     while let Some(action) = from.poll_action() {
//!         any = true;
//!         match action {
//!             // The network connects at once.
//!             Action::Connect => {
//!                 from.handle_event(now, Event::TcpCrAcked).unwrap();
//!                 to.handle_event(now, Event::TcpConnectionConfirmed).unwrap();
//!             }
//!             Action::Send(msg) => {
//!                 let mut wire = BytesMut::new();
//!                 msg.encode(&from.codec_context(), &mut wire).unwrap();
//!                 match Message::from_bytes(wire.freeze(), &to.codec_context()) {
//!                     Ok(msg) => to.handle_message(now, msg),
//!                     Err(e) => to.handle_decode_error(now, e),
//!                 }
//!             }
//!             _ => {}
//!         }
//!     }
//!     any
//! }
//!
//! let mut now = Instant::ORIGIN;
//! a.handle_event(now, Event::ManualStart).unwrap();
//! b.handle_event(now, Event::ManualStartWithPassiveTcpEstablishment).unwrap();
//! while pump(now, &mut a, &mut b) | pump(now, &mut b, &mut a) {}
//! assert_eq!((a.state(), b.state()), (State::Established, State::Established));
//! assert_eq!(a.negotiated().unwrap().hold_time, 90);
//!
//! // One hour, jumping from deadline to deadline.
//! let end = now + Duration::from_secs(3600);
//! while let Some(next) = [a.poll_timeout(), b.poll_timeout()].into_iter().flatten().min() {
//!     if next > end { break; }
//!     now = next;
//!     a.handle_timeout(now);
//!     b.handle_timeout(now);
//!     while pump(now, &mut a, &mut b) | pump(now, &mut b, &mut a) {}
//! }
//! assert_eq!((a.state(), b.state()), (State::Established, State::Established));
//! ```

pub mod action;
pub mod collision;
pub mod config;
pub mod damping;
pub mod error;
pub mod event;
pub mod graceful_restart;
pub mod negotiated;
pub mod notification;
pub mod open_validation;
pub mod session;
pub mod state;
pub mod timers;
#[cfg(feature = "tokio")]
pub mod transport;

pub use action::{Action, DownReason, SessionDown};
pub use collision::{CollisionResolution, ConnectionOrigin};
pub use config::{
    Capabilities, EndOfRibPolicy, GracefulRestartConfig, LongLivedGracefulRestartConfig,
    RequiredCapability, SessionConfig,
};
pub use error::{ConfigError, EventError, SendError};
pub use event::{Event, HardReset, Stop};
pub use negotiated::{AddPathDirections, GracefulRestartParameters, Negotiated};
pub use notification::{NotificationData, NotificationDirection, NotificationReport};
pub use open_validation::OpenError;
pub use session::Session;
pub use state::State;
pub use timers::{ArmedTimer, FixedJitter, Instant, Jitter, NoJitter, Timer};
