//! A thin tokio driver of the state machine over TCP (cargo feature
//! `tokio`, off by default).
//!
//! Everything above this module is sans I/O; this module is the one place
//! with sockets, a clock and random numbers. It follows the
//! [driver contract](crate#the-driver-contract) and adds nothing to the
//! protocol: every decision is the core's.
//!
//! # Pieces
//!
//! - [`Listener`]: one listening socket per local address and port, shared
//!   by the peers that accept connections there. It hands each accepted
//!   connection to the peer registered for the remote address, and answers
//!   the others with NOTIFICATION Cease / Connection Rejected (6/5).
//! - [`Peer::spawn`] starts the task of one peer from a [`PeerConfig`] and
//!   returns a [`PeerHandle`] (start, stop with a shutdown communication,
//!   [`send_update`](PeerHandle::send_update), status) and its
//!   [`PeerEvents`].
//! - [`PeerEvent`]s: connections up and lost, collisions, refused
//!   connections, and the core's reports as they are ([`crate::Action`]:
//!   state changes, OPEN received, Established with [`crate::Negotiated`],
//!   NOTIFICATIONs sent and received with their decoded data, UPDATEs
//!   received...).
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use std::net::Ipv4Addr;
//! use bgp_fsm::{Action, SessionConfig, State, Stop};
//! use bgp_fsm::transport::{Listener, Peer, PeerConfig, PeerEventKind};
//!
//! let listener = Listener::bind("192.0.2.1:179".parse()?)?;
//! let session = SessionConfig::new(65001, Ipv4Addr::new(192, 0, 2, 1), 65002);
//! let mut config = PeerConfig::new(session, "192.0.2.2:179".parse()?);
//! config.local = Some("192.0.2.1".parse()?);
//! config.md5_key = Some(b"secret".to_vec());
//! let (peer, mut events) = Peer::spawn(config, Some(&listener))?;
//! peer.start()?;
//! while let Some(event) = events.recv().await {
//!     if let PeerEventKind::Session(Action::Established(negotiated)) = &event.kind {
//!         println!("up, hold time {}", negotiated.hold_time);
//!         break;
//!     }
//! }
//! peer.shutdown(Stop::administrative_shutdown("maintenance")).await;
//! # Ok(()) }
//! ```
//!
//! # Connections and collisions
//!
//! A peer connects when its session asks ([`crate::Action::Connect`]) and
//! takes the connections the listener hands it. The first connection up is
//! the session's; one that completes while the session has a connection
//! already (the peer connected while our attempt was in progress, or the
//! other way round) gets a second session, and when an OPEN arrives on
//! either, the other session's [`crate::Session::detect_collision`] says
//! which one to close; the survivor inherits the peer's state
//! ([`crate::Session::inherit_peer_state`]) and, once the other connection
//! is gone, is the peer's session. A third connection, or one while the
//! session is Idle, is refused with Cease / Connection Rejected.
//!
//! After a failure the driver starts the session again after
//! [`PeerConfig::restart_delay`] (events 3 or 5); with
//! `damp_peer_oscillations` the core's IdleHoldTimer does it (events 6 or
//! 7). A stop ends that until the next start.
//!
//! # Framing, buffers and backpressure
//!
//! Each connection reads into one reused buffer; messages are split off by
//! the header's length ([`bgp_wire::message::header::frame`], 4,096 octets
//! at most, 65,535 once extended messages are negotiated) and decoded with
//! the session's [`codec_context`](crate::Session::codec_context) as it is
//! after the message before, so that the peer's OPEN switches the codec to
//! the negotiated context for everything after it. A framing or decoding
//! error goes to [`crate::Session::handle_decode_error`] and nothing more
//! is read from that connection.
//!
//! Writing is bounded: UPDATEs come from a queue of
//! [`PeerConfig::update_queue`] entries that the driver takes from only
//! while less than [`PeerConfig::write_high_water`] octets wait to be
//! written, so [`PeerHandle::send_update`] waits when the peer reads slowly.
//! Events wait in a queue of [`PeerConfig::event_queue`] entries; while the
//! receiver is behind, the driver stops reading (TCP slows the peer down in
//! turn; a receiver that stops altogether lets the hold timer expire, as
//! a peer that stops reading would). A connection that is dropped first flushes what was written to
//! it (the NOTIFICATION), shuts down our side and reads until the peer
//! closes (at most [`PeerConfig::close_timeout`]), so that the NOTIFICATION
//! is not lost to a reset.
//!
//! # Time and jitter
//!
//! The driver takes its origin when it starts and gives the core
//! `Instant::from_duration(tokio_now - origin)`; it sleeps with
//! `tokio::time::sleep_until` until the earliest of
//! [`crate::Session::poll_timeout`] (both sessions during a collision), a
//! pending restart and the close deadlines. With [`PeerConfig::jitter`] the
//! sessions draw their RFC 4271 section 10 jitter from a xorshift generator
//! seeded from the system clock; the core itself stays deterministic.
//!
//! # Socket options
//!
//! | option | how | where |
//! | --- | --- | --- |
//! | source address | `bind` before `connect` (a link-local IPv6 source takes the peer's scope) | [`PeerConfig::local`] |
//! | TCP_NODELAY | socket2 | every connection |
//! | TTL / hop limit (`IP_TTL`, `IPV6_UNICAST_HOPS`) | socket2 | [`Ttl`]: 1 for eBGP by default, multihop, or 255 with GTSM; on the connecting socket before the SYN, on accepted ones when handed over |
//! | minimum TTL / hop count (`IP_MINTTL`, `IPV6_MINHOPCOUNT`) | [`sockopt`] (unsafe `setsockopt`) | [`Ttl::Gtsm`]: 256 - hops |
//! | TCP MD5 (`TCP_MD5SIG`, RFC 2385) | [`sockopt`] (unsafe `setsockopt`) | [`PeerConfig::md5_key`]: on the connecting socket for the peer's address, and on the listener for the peer's address |
//!
//! socket2 has no call for the last two, nor has any maintained crate we
//! know of (nix 0.32 and rustix 1.1 neither, when this was written), so [`sockopt`] makes
//! them with `libc::setsockopt`: the one module of the workspace that
//! allows unsafe code (the workspace lint is `deny`, not `forbid`, for it),
//! two unsafe blocks with their SAFETY comments, and tests of the struct
//! layout and of the options read back. These options are Linux's; on
//! other systems setting them fails with `Unsupported`.

mod driver;
mod listener;
mod peer;
mod socket;
pub mod sockopt;

pub use listener::Listener;
pub use peer::{
    Closed, MessageCounts, Peer, PeerConfig, PeerError, PeerEvent, PeerEventKind, PeerEvents,
    PeerHandle, PeerStatus, SendUpdateError,
};
pub use socket::Ttl;
