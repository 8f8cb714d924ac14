//! The API of one peer: its configuration, the handle that controls it,
//! and the events it reports.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bgp_wire::message::header::MessageType;
use bgp_wire::{AfiSafi, DecodeError, RouteRefresh, Update};
use tokio::sync::{mpsc, oneshot, watch};

use crate::action::Action;
use crate::collision::{CollisionResolution, ConnectionOrigin};
use crate::config::SessionConfig;
use crate::error::{ConfigError, SendError};
use crate::event::Stop;
use crate::session::Session;
use crate::state::State;

use super::driver::Driver;
use super::listener::Listener;
use super::socket::{SocketOptions, Ttl};
use super::sockopt::MD5_MAX_KEY_LEN;

/// The configuration of one peer: its session, where it is, and how to
/// reach it.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// The session's attributes and capabilities.
    pub session: SessionConfig,
    /// The peer's address and port (179 is BGP's), with a scope for a
    /// link-local IPv6 address. Connections are made to it; accepted ones
    /// are taken from its address (any port).
    pub remote: SocketAddr,
    /// The source address of our connections (none: the system picks).
    pub local: Option<IpAddr>,
    /// Wait for the peer to connect (PassiveTcpEstablishment) instead of
    /// connecting.
    pub passive: bool,
    /// The TCP MD5 signature key (RFC 2385), the password's octets (at most
    /// 80), set on our connecting socket and, for the peer's address, on
    /// the listener.
    pub md5_key: Option<Vec<u8>>,
    /// TTL / hop limit: single hop, multihop or GTSM.
    pub ttl: Ttl,
    /// After the session fails (anything but a stop), start it again after
    /// this delay; `None` to leave it in Idle. Not used when the session
    /// damps peer oscillations (`session.damp_peer_oscillations`), where
    /// the IdleHoldTimer decides.
    pub restart_delay: Option<Duration>,
    /// Draw the jitter of RFC 4271 section 10 from a random generator
    /// (otherwise timers run for their exact durations).
    pub jitter: bool,
    /// Octets waiting to be written above which no more UPDATEs are taken
    /// from [`PeerHandle::send_update`]: a slow peer slows its sender.
    pub write_high_water: usize,
    /// How many UPDATEs [`PeerHandle::send_update`] queues before it waits.
    pub update_queue: usize,
    /// How many events wait for the receiver before the peer stops reading
    /// from its connections.
    pub event_queue: usize,
    /// How long a connection being closed may take to flush what was
    /// written to it (a NOTIFICATION) and see the peer close its side.
    pub close_timeout: Duration,
}

impl PeerConfig {
    /// A peer at `remote` with the defaults: active, no source address, no
    /// MD5, [`Ttl::Default`], restart 5 s after a failure, jitter, 256 KiB
    /// write high-water mark, 64 queued UPDATEs, 1,024 queued events,
    /// 5 s close timeout.
    pub fn new(session: SessionConfig, remote: SocketAddr) -> Self {
        PeerConfig {
            session,
            remote,
            local: None,
            passive: false,
            md5_key: None,
            ttl: Ttl::Default,
            restart_delay: Some(Duration::from_secs(5)),
            jitter: true,
            write_high_water: 256 * 1024,
            update_queue: 64,
            event_queue: 1024,
            close_timeout: Duration::from_secs(5),
        }
    }

    pub(crate) fn socket_options(&self) -> SocketOptions {
        SocketOptions {
            ttl: self.ttl.outgoing(self.session.is_internal()),
            min_ttl: self.ttl.minimum(),
            md5_key: self.md5_key.clone(),
        }
    }
}

/// Why a peer could not be spawned.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The session configuration is not valid.
    #[error("invalid session configuration: {0}")]
    Config(#[from] ConfigError),
    /// The MD5 key is longer than 80 octets.
    #[error("a TCP MD5 key has at most {MD5_MAX_KEY_LEN} octets")]
    Md5KeyTooLong,
    /// Registering with the listener failed (address taken, MD5 refused).
    #[error("listener: {0}")]
    Listener(#[from] io::Error),
}

/// The peer's driver has stopped (after [`PeerHandle::shutdown`], or a
/// panic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the peer's driver is gone")]
pub struct Closed;

/// Why [`PeerHandle::send_update`] did not queue an UPDATE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendUpdateError {
    /// The session is not Established.
    #[error("the session is {0}, not Established")]
    NotEstablished(State),
    /// The driver is gone.
    #[error("the peer's driver is gone")]
    Closed,
}

/// Where the peer is: published after every input, and before the
/// [`Action::Established`] event of the peer's session is sent, so that
/// whoever receives that event can [`PeerHandle::send_update`] at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerStatus {
    /// The state of the peer's session (the one that survives collisions).
    pub state: State,
    /// Its number (see [`PeerEvent::session`]).
    pub session: u64,
    /// How many times a session reached Established.
    pub established_count: u64,
    /// The addresses of its connection, local and remote, when it has one.
    pub connection: Option<(SocketAddr, SocketAddr)>,
}

/// How many messages of each type the peer's connections carried since it
/// was spawned: every session, those a collision closed included. A
/// received message counts once framed (one that then fails to decode
/// too); a sent one once encoded into the connection's buffer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageCounts {
    /// OPENs received.
    pub opens_in: u64,
    /// OPENs sent.
    pub opens_out: u64,
    /// UPDATEs received (End-of-RIB markers included).
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
    pub route_refreshes_in: u64,
    /// ROUTE-REFRESHes sent.
    pub route_refreshes_out: u64,
}

/// The driver's counters behind [`MessageCounts`], shared with the handle.
#[derive(Debug, Default)]
pub(crate) struct MessageCounters {
    received: [AtomicU64; 5],
    sent: [AtomicU64; 5],
}

impl MessageCounters {
    /// Counts one message of type `t`, received or sent.
    pub(crate) fn count(&self, t: MessageType, sent: bool) {
        let i = usize::from(t.to_u8().saturating_sub(1));
        let side = if sent { &self.sent } else { &self.received };
        if let Some(c) = side.get(i) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn snapshot(&self) -> MessageCounts {
        let r = |i: usize| {
            self.received
                .get(i)
                .map_or(0, |c| c.load(Ordering::Relaxed))
        };
        let s = |i: usize| self.sent.get(i).map_or(0, |c| c.load(Ordering::Relaxed));
        MessageCounts {
            opens_in: r(0),
            opens_out: s(0),
            updates_in: r(1),
            updates_out: s(1),
            notifications_in: r(2),
            notifications_out: s(2),
            keepalives_in: r(3),
            keepalives_out: s(3),
            route_refreshes_in: r(4),
            route_refreshes_out: s(4),
        }
    }
}

/// Something a peer's driver reports.
#[derive(Debug, Clone, PartialEq)]
pub struct PeerEvent {
    /// Which session: each TCP connection has its own (RFC 4271 6.8), so
    /// that during a collision two sessions report; sessions are numbered
    /// from 1 in the order they are created.
    pub session: u64,
    /// What happened.
    pub kind: PeerEventKind,
}

/// What happened (see [`PeerEvent`]).
#[derive(Debug, Clone, PartialEq)]
pub enum PeerEventKind {
    /// A TCP connection is up.
    Connected {
        /// Who opened it.
        origin: ConnectionOrigin,
        /// Our address.
        local: SocketAddr,
        /// The peer's.
        remote: SocketAddr,
    },
    /// Our connection attempt failed.
    ConnectFailed {
        /// The system's error.
        error: String,
    },
    /// The connection was lost: closed by the peer, reset, or a write
    /// failed.
    ConnectionLost {
        /// What the system said ("closed by the peer" for a FIN).
        error: String,
    },
    /// A connection from the peer was refused: the session is Idle, or two
    /// connections exist already. A NOTIFICATION Cease / Connection
    /// Rejected was sent on it.
    Rejected {
        /// The peer's address and port.
        remote: SocketAddr,
    },
    /// Collision resolution (RFC 4271 6.8) closed the connection of
    /// session `closed`; this session's survives.
    Collision {
        /// The session whose connection is closed.
        closed: u64,
        /// The resolution as the core gave it.
        resolution: CollisionResolution,
    },
    /// Something to send could not be sent: an UPDATE queued for a session
    /// that is gone, a ROUTE-REFRESH not negotiated, and so on.
    SendFailed {
        /// Why.
        error: SendError,
    },
    /// A message could not be encoded (for example an UPDATE longer than
    /// the session's maximum message length) and was not sent.
    EncodeFailed {
        /// The codec's error.
        error: String,
    },
    /// What the session reports, as the core gives it: state changes
    /// ([`Action::StateChanged`]), OPENs received, Established with the
    /// negotiated parameters, NOTIFICATIONs sent and received (decoded),
    /// UPDATEs and ROUTE-REFRESHes received, End-of-RIB, route-layer
    /// actions of graceful restart, and [`Action::SessionDown`]. The
    /// actions the driver performs itself (connect, send, drop, ...) are
    /// not reported.
    Session(Action),
}

/// Commands from the handle to the driver.
#[derive(Debug)]
pub(crate) enum Control {
    Start,
    Stop(Stop),
    UpdateError(DecodeError),
    RouteRefresh(RouteRefresh),
    Shutdown(Stop, oneshot::Sender<()>),
}

/// What the route layer queues, in order, for one Established session.
#[derive(Debug)]
pub(crate) enum Outbound {
    Update(Update),
    EndOfRib(AfiSafi),
}

/// The receiving end of a peer's events.
#[derive(Debug)]
pub struct PeerEvents {
    pub(crate) rx: mpsc::Receiver<PeerEvent>,
}

impl PeerEvents {
    /// The next event; `None` once the driver is gone and every event was
    /// received.
    pub async fn recv(&mut self) -> Option<PeerEvent> {
        self.rx.recv().await
    }

    /// An event if one is waiting.
    pub fn try_recv(&mut self) -> Option<PeerEvent> {
        self.rx.try_recv().ok()
    }
}

/// Controls a running peer. Cloning it is cheap; when the last clone is
/// dropped the driver stops the session (Cease / Administrative Shutdown)
/// and ends.
#[derive(Debug, Clone)]
pub struct PeerHandle {
    control: mpsc::UnboundedSender<Control>,
    updates: mpsc::Sender<(u64, Outbound)>,
    status: watch::Receiver<PeerStatus>,
    counters: Arc<MessageCounters>,
}

/// One peer: a session (two during a collision) driven over TCP by a tokio
/// task.
#[derive(Debug)]
pub struct Peer;

impl Peer {
    /// Spawns the driver of a peer on the current tokio runtime. With a
    /// `listener`, the peer is registered on it and accepts connections
    /// from `config.remote`'s address (a passive peer needs one). The
    /// session stays in Idle until [`PeerHandle::start`].
    pub fn spawn(
        config: PeerConfig,
        listener: Option<&Listener>,
    ) -> Result<(PeerHandle, PeerEvents), PeerError> {
        // The session is checked here rather than in the task.
        Session::new(config.session.clone())?;
        if config
            .md5_key
            .as_ref()
            .is_some_and(|k| k.len() > MD5_MAX_KEY_LEN)
        {
            return Err(PeerError::Md5KeyTooLong);
        }
        let registration = match listener {
            Some(l) => Some(l.register(config.remote.ip(), config.md5_key.as_deref())?),
            None => None,
        };
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let (update_tx, update_rx) = mpsc::channel(config.update_queue.max(1));
        let (event_tx, event_rx) = mpsc::channel(config.event_queue.max(1));
        let (status_tx, status_rx) = watch::channel(PeerStatus {
            state: State::Idle,
            session: 1,
            established_count: 0,
            connection: None,
        });
        let counters = Arc::new(MessageCounters::default());
        let driver = Driver::new(
            config,
            registration,
            control_rx,
            update_rx,
            event_tx,
            status_tx,
            Arc::clone(&counters),
        )?;
        tokio::spawn(driver.run());
        Ok((
            PeerHandle {
                control: control_tx,
                updates: update_tx,
                status: status_rx,
                counters,
            },
            PeerEvents { rx: event_rx },
        ))
    }
}

impl PeerHandle {
    fn control(&self, c: Control) -> Result<(), Closed> {
        self.control.send(c).map_err(|_| Closed)
    }

    /// Starts the session (event 1, or 4 for a passive peer; with damping,
    /// event 6 or 7), and restarts it after failures from then on.
    pub fn start(&self) -> Result<(), Closed> {
        self.control(Control::Start)
    }

    /// Stops the session (event 2) with `stop`'s Cease (for example
    /// [`Stop::administrative_shutdown`] with a communication text), and
    /// does not restart it until the next [`start`](PeerHandle::start).
    pub fn stop(&self, stop: Stop) -> Result<(), Closed> {
        self.control(Control::Stop(stop))
    }

    /// Reports an UPDATE received on the Established session that the route
    /// layer found malformed beyond RFC 7606's repairs (its attributes ask
    /// for a session reset): the session sends the NOTIFICATION the error
    /// carries (UPDATE Message Error with its subcode and data, event 28
    /// UpdateMsgErr) and closes; it restarts as after any other error.
    pub fn update_error(&self, error: DecodeError) -> Result<(), Closed> {
        self.control(Control::UpdateError(error))
    }

    /// Queues an UPDATE for the Established session (as the status shows
    /// it: Established from before the [`Action::Established`] event is
    /// sent). Waits while the queue is full: the queue drains only as fast
    /// as the peer reads, so a slow peer slows its sender. An UPDATE queued
    /// on a session that ends before it is written is dropped (reported as
    /// [`PeerEventKind::SendFailed`]): the next session starts from its own
    /// initial table.
    pub async fn send_update(&self, update: Update) -> Result<(), SendUpdateError> {
        self.outbound(Outbound::Update(update)).await
    }

    async fn outbound(&self, out: Outbound) -> Result<(), SendUpdateError> {
        let status = *self.status.borrow();
        if status.state != State::Established {
            return Err(SendUpdateError::NotEstablished(status.state));
        }
        self.updates
            .send((status.established_count, out))
            .await
            .map_err(|_| SendUpdateError::Closed)
    }

    /// Sends a ROUTE-REFRESH (failures are reported as
    /// [`PeerEventKind::SendFailed`]).
    pub fn send_route_refresh(&self, route_refresh: RouteRefresh) -> Result<(), Closed> {
        self.control(Control::RouteRefresh(route_refresh))
    }

    /// The initial updates of `family` are queued: the End-of-RIB marker
    /// follows them, in the same queue, as the session's
    /// [`EndOfRibPolicy`](crate::EndOfRibPolicy) says
    /// ([`Session::initial_updates_sent`]).
    pub async fn initial_updates_sent(&self, family: AfiSafi) -> Result<(), SendUpdateError> {
        self.outbound(Outbound::EndOfRib(family)).await
    }

    /// The messages of each type sent and received so far.
    pub fn message_counts(&self) -> MessageCounts {
        self.counters.snapshot()
    }

    /// The current status.
    pub fn status(&self) -> PeerStatus {
        *self.status.borrow()
    }

    /// The current state of the session.
    pub fn state(&self) -> State {
        self.status.borrow().state
    }

    /// Waits until the status satisfies `f` (or the driver is gone).
    pub async fn wait_for(&self, f: impl FnMut(&PeerStatus) -> bool) -> Result<PeerStatus, Closed> {
        let mut rx = self.status.clone();
        let s = rx.wait_for(f).await.map_err(|_| Closed)?;
        Ok(*s)
    }

    /// Stops the session with `stop`, waits for the connections to close
    /// (their NOTIFICATION flushed, within the close timeout), and ends the
    /// driver.
    pub async fn shutdown(&self, stop: Stop) {
        let (tx, rx) = oneshot::channel();
        if self.control(Control::Shutdown(stop, tx)).is_ok() {
            let _ = rx.await;
        }
    }
}
