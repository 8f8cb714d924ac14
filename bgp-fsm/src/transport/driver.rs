//! The task that drives a peer's sessions: one loop that waits for the
//! next input (a command, a timer, a connection, bytes to read or room to
//! write), feeds it to the core, and performs the actions that come out.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bgp_wire::Message;
use bgp_wire::message::header::frame;
use bytes::{Buf, BytesMut};
use tokio::net::TcpStream;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::mpsc::{self, OwnedPermit};
use tokio::sync::{oneshot, watch};
use tokio::time::Sleep;

use crate::action::Action;
use crate::collision::{CollisionResolution, ConnectionOrigin};
use crate::error::SendError;
use crate::event::{Event, Stop};
use crate::session::Session;
use crate::state::State;
use crate::timers::{Instant, Jitter, Timer};

use super::listener::{Incoming, Registration, reject};
use super::peer::{
    Control, MessageCounters, Outbound, PeerConfig, PeerError, PeerEvent, PeerEventKind, PeerStatus,
};
use super::socket::{self, SocketOptions};

/// How much is read from a socket at a time.
const READ_CHUNK: usize = 64 * 1024;

type ConnectFuture = Pin<Box<dyn Future<Output = io::Result<TcpStream>> + Send>>;
type ReserveFuture = Pin<
    Box<dyn Future<Output = Result<OwnedPermit<PeerEvent>, mpsc::error::SendError<()>>> + Send>,
>;

/// Jitter factors from a xorshift generator seeded from the clock: the
/// randomness of RFC 4271 section 10 stays in the driver.
#[derive(Debug)]
struct XorShiftJitter(u64);

impl XorShiftJitter {
    fn seeded(salt: u64) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let seed = (nanos ^ salt.rotate_left(32)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        XorShiftJitter(seed | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

impl Jitter for XorShiftJitter {
    fn factor(&mut self, _timer: Timer) -> f64 {
        // 53 random bits as a fraction in [0, 1), scaled to [0.75, 1.0).
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        0.75 + 0.25 * unit
    }
}

/// A TCP connection a session speaks on.
#[derive(Debug)]
struct Conn {
    stream: TcpStream,
    local: SocketAddr,
    remote: SocketAddr,
    rbuf: BytesMut,
    wbuf: BytesMut,
    /// False after end of stream, a read error or a decoding error:
    /// nothing more is read.
    reading: bool,
}

impl Conn {
    fn new(stream: TcpStream, remote: SocketAddr) -> Self {
        let local = stream
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)));
        Conn {
            stream,
            local,
            remote,
            rbuf: BytesMut::with_capacity(READ_CHUNK),
            wbuf: BytesMut::new(),
            reading: true,
        }
    }

    /// Writes what the socket takes now; an error if it failed.
    fn flush_now(&mut self) -> io::Result<()> {
        while !self.wbuf.is_empty() {
            match self.stream.try_write(&self.wbuf) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.wbuf.advance(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// A connection being closed: its last messages are flushed, then our side
/// is shut down and what the peer still sends is read and discarded until
/// it closes too (closing with unread data would reset the connection and
/// could lose the NOTIFICATION we just wrote).
#[derive(Debug)]
struct Closing {
    stream: TcpStream,
    wbuf: BytesMut,
    fin_sent: bool,
    deadline: tokio::time::Instant,
}

impl Closing {
    /// Makes progress; `Ready` when done.
    fn poll(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        while !self.wbuf.is_empty() {
            match self.stream.poll_write_ready(cx) {
                Poll::Ready(Ok(())) => match self.stream.try_write(&self.wbuf) {
                    Ok(0) => return Poll::Ready(()),
                    Ok(n) => self.wbuf.advance(n),
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => return Poll::Ready(()),
                },
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
        if !self.fin_sent {
            self.fin_sent = true;
            if socket2::SockRef::from(&self.stream)
                .shutdown(std::net::Shutdown::Write)
                .is_err()
            {
                return Poll::Ready(());
            }
        }
        let mut sink = [0u8; 2048];
        loop {
            match self.stream.poll_read_ready(cx) {
                Poll::Ready(Ok(())) => match self.stream.try_read(&mut sink) {
                    Ok(0) => return Poll::Ready(()),
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(_) => return Poll::Ready(()),
                },
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// One session and its connection.
#[derive(Debug)]
struct Slot {
    id: u64,
    session: Session,
    conn: Option<Conn>,
    /// The peer state was handed to the other session already.
    inherited_from: bool,
}

/// A session of `config`, with the driver's jitter if asked for.
fn make_session(config: &PeerConfig, id: u64) -> Result<Session, PeerError> {
    let s = Session::new(config.session.clone())?;
    Ok(if config.jitter {
        s.with_jitter(XorShiftJitter::seeded(id ^ u64::from(config.remote.port())))
    } else {
        s
    })
}

/// Where the events go; holds them back (and the peer stops reading) while
/// the receiver is behind.
struct EventSink {
    tx: mpsc::Sender<PeerEvent>,
    overflow: VecDeque<PeerEvent>,
    reserve: Option<ReserveFuture>,
    closed: bool,
}

impl EventSink {
    fn emit(&mut self, event: PeerEvent) {
        if self.closed {
            return;
        }
        if !self.overflow.is_empty() {
            self.overflow.push_back(event);
            return;
        }
        match self.tx.try_send(event) {
            Ok(()) => {}
            Err(TrySendError::Full(e)) => self.overflow.push_back(e),
            Err(TrySendError::Closed(_)) => self.closed = true,
        }
    }

    /// Whether events are held back.
    fn behind(&self) -> bool {
        !self.overflow.is_empty()
    }

    /// Moves held-back events to the channel as room appears.
    fn poll_flush(&mut self, cx: &mut Context<'_>) {
        while !self.overflow.is_empty() && !self.closed {
            let fut = self
                .reserve
                .get_or_insert_with(|| Box::pin(self.tx.clone().reserve_owned()));
            match fut.as_mut().poll(cx) {
                Poll::Ready(Ok(permit)) => {
                    self.reserve = None;
                    if let Some(e) = self.overflow.pop_front() {
                        permit.send(e);
                    }
                    while let Some(e) = self.overflow.pop_front() {
                        match self.tx.try_send(e) {
                            Ok(()) => {}
                            Err(TrySendError::Full(e)) => {
                                self.overflow.push_front(e);
                                break;
                            }
                            Err(TrySendError::Closed(_)) => {
                                self.closed = true;
                                break;
                            }
                        }
                    }
                }
                Poll::Ready(Err(_)) => {
                    self.reserve = None;
                    self.closed = true;
                }
                Poll::Pending => return,
            }
        }
        if self.closed {
            self.overflow.clear();
        }
    }
}

/// The next thing to handle.
enum Input {
    Control(Option<Control>),
    Outbound(u64, Outbound),
    Timer,
    Connected(io::Result<TcpStream>),
    Incoming(Incoming),
    Readable(u64),
    Writable(u64),
    /// A closing connection finished: nothing to do but check whether a
    /// shutdown is complete.
    Closed,
}

/// The driver of one peer.
pub(crate) struct Driver {
    config: PeerConfig,
    opts: SocketOptions,
    origin: tokio::time::Instant,
    main: Slot,
    second: Option<Slot>,
    next_id: u64,
    closing: Vec<Closing>,
    connecting: Option<ConnectFuture>,
    registration: Option<Registration>,
    control: mpsc::UnboundedReceiver<Control>,
    control_open: bool,
    updates: mpsc::Receiver<(u64, Outbound)>,
    events: EventSink,
    status: watch::Sender<PeerStatus>,
    sleep: Pin<Box<Sleep>>,
    started: bool,
    restart_at: Option<Instant>,
    established_count: u64,
    shutdown: Option<(oneshot::Sender<()>, tokio::time::Instant)>,
    counters: Arc<MessageCounters>,
}

impl Driver {
    pub(crate) fn new(
        config: PeerConfig,
        registration: Option<Registration>,
        control: mpsc::UnboundedReceiver<Control>,
        updates: mpsc::Receiver<(u64, Outbound)>,
        events: mpsc::Sender<PeerEvent>,
        status: watch::Sender<PeerStatus>,
        counters: Arc<MessageCounters>,
    ) -> Result<Self, PeerError> {
        let origin = tokio::time::Instant::now();
        let opts = config.socket_options();
        Ok(Driver {
            main: Slot {
                id: 1,
                session: make_session(&config, 1)?,
                conn: None,
                inherited_from: false,
            },
            config,
            opts,
            origin,
            second: None,
            next_id: 2,
            closing: Vec::new(),
            connecting: None,
            registration,
            control,
            control_open: true,
            updates,
            events: EventSink {
                tx: events,
                overflow: VecDeque::new(),
                reserve: None,
                closed: false,
            },
            status,
            sleep: Box::pin(tokio::time::sleep_until(origin)),
            started: false,
            restart_at: None,
            established_count: 0,
            shutdown: None,
            counters,
        })
    }

    /// The core's time: elapsed since this driver's origin.
    fn now(&self) -> Instant {
        Instant::from_duration(tokio::time::Instant::now().saturating_duration_since(self.origin))
    }

    fn emit(&mut self, session: u64, kind: PeerEventKind) {
        self.events.emit(PeerEvent { session, kind });
    }

    pub(crate) async fn run(mut self) {
        loop {
            self.rearm_timer();
            if self.finished() {
                break;
            }
            let input = poll_fn(|cx| self.poll_input(cx)).await;
            self.handle(input);
            self.normalize();
            self.publish_status();
        }
        if let Some((tx, _)) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Whether the driver is done: shut down (or every handle dropped), no
    /// session left speaking, every connection closed or out of time.
    fn finished(&self) -> bool {
        let Some((_, deadline)) = &self.shutdown else {
            return false;
        };
        let quiet = self.main.conn.is_none() && self.second.is_none() && self.closing.is_empty();
        quiet || tokio::time::Instant::now() >= *deadline
    }

    fn slot(&mut self, id: u64) -> Option<&mut Slot> {
        if self.main.id == id {
            return Some(&mut self.main);
        }
        self.second.as_mut().filter(|s| s.id == id)
    }

    fn deadline(&self) -> Option<tokio::time::Instant> {
        let core = [
            self.main.session.poll_timeout(),
            self.second.as_ref().and_then(|s| s.session.poll_timeout()),
            self.restart_at,
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|t| self.origin + t.since_origin());
        let closing = self.closing.iter().map(|c| c.deadline).min();
        let shutdown = self.shutdown.as_ref().map(|(_, d)| *d);
        [core, closing, shutdown].into_iter().flatten().min()
    }

    fn rearm_timer(&mut self) {
        let at = self
            .deadline()
            .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(86_400));
        if self.sleep.deadline() != at {
            self.sleep.as_mut().reset(at);
        }
    }

    fn poll_input(&mut self, cx: &mut Context<'_>) -> Poll<Input> {
        self.events.poll_flush(cx);
        if self.control_open {
            if let Poll::Ready(c) = self.control.poll_recv(cx) {
                return Poll::Ready(Input::Control(c));
            }
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Input::Timer);
        }
        if let Some(fut) = self.connecting.as_mut() {
            if let Poll::Ready(r) = fut.as_mut().poll(cx) {
                self.connecting = None;
                return Poll::Ready(Input::Connected(r));
            }
        }
        if let Some(reg) = self.registration.as_mut() {
            if let Poll::Ready(Some(i)) = reg.rx.poll_recv(cx) {
                return Poll::Ready(Input::Incoming(i));
            }
        }
        let read = !self.events.behind();
        for slot in std::iter::once(&mut self.main).chain(self.second.as_mut()) {
            let Some(conn) = slot.conn.as_mut() else {
                continue;
            };
            if !conn.wbuf.is_empty() && conn.stream.poll_write_ready(cx).is_ready() {
                return Poll::Ready(Input::Writable(slot.id));
            }
            if read && conn.reading && conn.stream.poll_read_ready(cx).is_ready() {
                return Poll::Ready(Input::Readable(slot.id));
            }
        }
        let room = self.main.session.state() == State::Established
            && self
                .main
                .conn
                .as_ref()
                .is_some_and(|c| c.wbuf.len() < self.config.write_high_water);
        if room {
            if let Poll::Ready(Some((epoch, out))) = self.updates.poll_recv(cx) {
                return Poll::Ready(Input::Outbound(epoch, out));
            }
        }
        let before = self.closing.len();
        self.closing.retain_mut(|c| c.poll(cx).is_pending());
        if self.closing.len() < before && self.shutdown.is_some() {
            // The last one may have gone: the run loop checks `finished`,
            // instead of waiting for the shutdown deadline.
            return Poll::Ready(Input::Closed);
        }
        Poll::Pending
    }

    fn handle(&mut self, input: Input) {
        match input {
            Input::Control(Some(c)) => self.on_control(c),
            Input::Control(None) => {
                // Every handle is gone: stop and end.
                self.control_open = false;
                self.begin_shutdown(Stop::administrative_shutdown(""), None);
            }
            Input::Outbound(epoch, out) => self.on_outbound(epoch, out),
            Input::Timer => self.on_timer(),
            Input::Connected(r) => self.on_connected(r),
            Input::Incoming(i) => self.on_incoming(i),
            Input::Readable(id) => self.on_readable(id),
            Input::Writable(id) => self.on_writable(id),
            Input::Closed => {}
        }
    }

    fn start_event(&self) -> Event {
        let c = &self.config.session;
        let damped = c.damp_peer_oscillations && c.allow_automatic_start;
        match (damped, self.config.passive) {
            (true, true) => Event::AutomaticStartWithDampPeerOscillationsAndPassiveTcpEstablishment,
            (true, false) => Event::AutomaticStartWithDampPeerOscillations,
            (false, true) => Event::ManualStartWithPassiveTcpEstablishment,
            (false, false) => Event::ManualStart,
        }
    }

    fn feed(&mut self, id: u64, event: Event) {
        let now = self.now();
        if let Some(slot) = self.slot(id) {
            // Refused events leave the session unchanged; the only ones
            // this driver sends that can be refused are checked in
            // start_event.
            let _ = slot.session.handle_event(now, event);
        }
        self.perform(id);
    }

    fn on_control(&mut self, c: Control) {
        match c {
            Control::Start => {
                self.started = true;
                self.restart_at = None;
                if self.main.session.state() == State::Idle {
                    let ev = self.start_event();
                    let id = self.main.id;
                    self.feed(id, ev);
                }
            }
            Control::Stop(stop) => self.stop_all(stop),
            Control::UpdateError(error) => {
                let now = self.now();
                let id = self.main.id;
                self.main.session.handle_decode_error(now, error);
                self.perform(id);
            }
            Control::RouteRefresh(rr) => {
                let now = self.now();
                let id = self.main.id;
                if let Err(error) = self.main.session.send_route_refresh(now, rr) {
                    self.emit(id, PeerEventKind::SendFailed { error });
                }
                self.perform(id);
            }
            Control::Shutdown(stop, tx) => self.begin_shutdown(stop, Some(tx)),
        }
    }

    fn stop_all(&mut self, stop: Stop) {
        self.started = false;
        self.restart_at = None;
        let ids = [Some(self.main.id), self.second.as_ref().map(|s| s.id)];
        for id in ids.into_iter().flatten() {
            self.feed(id, Event::ManualStop(stop.clone()));
        }
        self.connecting = None;
    }

    fn begin_shutdown(&mut self, stop: Stop, tx: Option<oneshot::Sender<()>>) {
        self.stop_all(stop);
        let deadline = tokio::time::Instant::now() + self.config.close_timeout;
        match (self.shutdown.take(), tx) {
            (_, Some(tx)) => self.shutdown = Some((tx, deadline)),
            (Some(prev), None) => self.shutdown = Some(prev),
            (None, None) => {
                let (tx, _) = oneshot::channel();
                self.shutdown = Some((tx, deadline));
            }
        }
        self.registration = None;
    }

    fn on_outbound(&mut self, epoch: u64, out: Outbound) {
        let id = self.main.id;
        if epoch != self.established_count || self.main.session.state() != State::Established {
            let error = SendError::NotEstablished(self.main.session.state());
            self.emit(id, PeerEventKind::SendFailed { error });
            return;
        }
        let now = self.now();
        let r = match out {
            Outbound::Update(u) => self.main.session.send_update(now, u),
            Outbound::EndOfRib(f) => self.main.session.initial_updates_sent(now, f).map(|_| ()),
        };
        if let Err(error) = r {
            self.emit(id, PeerEventKind::SendFailed { error });
        }
        self.perform(id);
    }

    fn on_timer(&mut self) {
        let now = self.now();
        let ids = [Some(self.main.id), self.second.as_ref().map(|s| s.id)];
        for id in ids.into_iter().flatten() {
            if let Some(slot) = self.slot(id) {
                slot.session.handle_timeout(now);
            }
            self.perform(id);
        }
        let t = tokio::time::Instant::now();
        self.closing.retain(|c| c.deadline > t);
        if self.restart_at.is_some_and(|r| r <= now) {
            self.restart_at = None;
            if self.started && self.main.session.state() == State::Idle {
                let c = &self.config.session;
                let ev = match (c.allow_automatic_start, self.config.passive) {
                    (true, true) => Event::AutomaticStartWithPassiveTcpEstablishment,
                    (true, false) => Event::AutomaticStart,
                    (false, _) => self.start_event(),
                };
                let id = self.main.id;
                self.feed(id, ev);
            }
        }
    }

    fn start_connect(&mut self) {
        let fut = socket::connect(self.config.remote, self.config.local, self.opts.clone());
        self.connecting = Some(Box::pin(fut));
    }

    /// Attaches a connection to `id`'s session and tells it.
    fn attach(&mut self, id: u64, stream: TcpStream, remote: SocketAddr, origin: ConnectionOrigin) {
        let conn = Conn::new(stream, remote);
        let (local, remote) = (conn.local, conn.remote);
        if let Some(slot) = self.slot(id) {
            slot.conn = Some(conn);
        }
        self.emit(
            id,
            PeerEventKind::Connected {
                origin,
                local,
                remote,
            },
        );
        let ev = match origin {
            ConnectionOrigin::Outgoing => Event::TcpCrAcked,
            ConnectionOrigin::Incoming => Event::TcpConnectionConfirmed,
        };
        self.feed(id, ev);
    }

    /// A connection for the session that exists already: a second session
    /// takes it (RFC 4271 6.8), or it is refused. Returns the stream back
    /// if refused.
    fn second_connection(
        &mut self,
        stream: TcpStream,
        remote: SocketAddr,
        origin: ConnectionOrigin,
    ) -> Option<TcpStream> {
        if self.second.is_some() || self.main.session.state() == State::Idle {
            return Some(stream);
        }
        let id = self.next_id;
        self.next_id += 1;
        let Ok(session) = make_session(&self.config, id) else {
            return Some(stream);
        };
        self.second = Some(Slot {
            id,
            session,
            conn: None,
            inherited_from: false,
        });
        // Started passive (it has its connection already), and damped if
        // the peer's sessions are (RFC 4271 8.1.1, event 7).
        let start = if self.main.session.damping_active() {
            Event::AutomaticStartWithDampPeerOscillationsAndPassiveTcpEstablishment
        } else {
            Event::ManualStartWithPassiveTcpEstablishment
        };
        self.feed(id, start);
        self.attach(id, stream, remote, origin);
        None
    }

    fn on_connected(&mut self, r: io::Result<TcpStream>) {
        let id = self.main.id;
        match r {
            Err(e) => {
                self.emit(
                    id,
                    PeerEventKind::ConnectFailed {
                        error: e.to_string(),
                    },
                );
                if self.main.conn.is_none() && self.main.session.state() == State::Connect {
                    self.feed(id, Event::TcpConnectionFails);
                }
            }
            Ok(stream) => {
                let remote = stream.peer_addr().unwrap_or(self.config.remote);
                let free = self.main.conn.is_none()
                    && matches!(self.main.session.state(), State::Connect | State::Active);
                if free {
                    self.attach(id, stream, remote, ConnectionOrigin::Outgoing);
                } else if let Some(stream) =
                    self.second_connection(stream, remote, ConnectionOrigin::Outgoing)
                {
                    // Nobody wants it: close it quietly.
                    drop(stream);
                }
            }
        }
    }

    fn on_incoming(&mut self, i: Incoming) {
        let id = self.main.id;
        let remote = i.remote;
        let refused = if socket::apply(
            &i.stream,
            i.stream.local_addr().is_ok_and(|a| a.is_ipv6()),
            &self.opts,
        )
        .is_err()
        {
            Some(i.stream)
        } else {
            let free = self.main.conn.is_none()
                && matches!(self.main.session.state(), State::Connect | State::Active);
            if free {
                self.attach(id, i.stream, remote, ConnectionOrigin::Incoming);
                None
            } else {
                self.second_connection(i.stream, remote, ConnectionOrigin::Incoming)
            }
        };
        if let Some(stream) = refused {
            self.emit(id, PeerEventKind::Rejected { remote });
            tokio::spawn(reject(stream));
        }
    }

    fn connection_lost(&mut self, id: u64, error: String) {
        if let Some(conn) = self.slot(id).and_then(|s| s.conn.as_mut()) {
            conn.reading = false;
        }
        self.emit(id, PeerEventKind::ConnectionLost { error });
        self.feed(id, Event::TcpConnectionFails);
    }

    fn on_readable(&mut self, id: u64) {
        let Some(conn) = self.slot(id).and_then(|s| s.conn.as_mut()) else {
            return;
        };
        conn.rbuf.reserve(READ_CHUNK);
        match conn.stream.try_read_buf(&mut conn.rbuf) {
            Ok(0) => self.connection_lost(id, "closed by the peer".into()),
            Ok(_) => self.process_frames(id),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => self.connection_lost(id, e.to_string()),
        }
    }

    fn on_writable(&mut self, id: u64) {
        let Some(conn) = self.slot(id).and_then(|s| s.conn.as_mut()) else {
            return;
        };
        if let Err(e) = conn.flush_now() {
            self.connection_lost(id, e.to_string());
        }
    }

    /// Frames, decodes and delivers every complete message in `id`'s read
    /// buffer, each with the codec context as it is after the message
    /// before.
    fn process_frames(&mut self, id: u64) {
        let counters = Arc::clone(&self.counters);
        loop {
            let now = self.now();
            let Some(slot) = self.slot(id) else {
                return;
            };
            let Some(conn) = slot.conn.as_mut() else {
                return;
            };
            if !conn.reading {
                return;
            }
            let ctx = slot.session.codec_context();
            let decoded = match frame(&mut conn.rbuf, &ctx) {
                Ok(None) => return,
                Ok(Some((header, body))) => {
                    counters.count(header.message_type, false);
                    Message::decode(&header, body, &ctx)
                }
                Err(e) => Err(e),
            };
            match decoded {
                Ok(msg) => self.deliver(id, msg),
                Err(e) => {
                    conn.reading = false;
                    slot.session.handle_decode_error(now, e);
                    self.perform(id);
                    return;
                }
            }
        }
    }

    /// Hands a message to `id`'s session; an OPEN first goes through
    /// collision detection against the other session (RFC 4271 6.8).
    fn deliver(&mut self, id: u64, msg: Message) {
        let now = self.now();
        if let Message::Open(open) = &msg {
            let origin = self.slot(id).and_then(|s| s.session.connection_origin());
            let other = if self.main.id == id {
                self.second.as_ref()
            } else {
                Some(&self.main)
            };
            if let (Some(origin), Some(other)) = (origin, other) {
                let other_id = other.id;
                let resolution = other.session.detect_collision(open, origin);
                match resolution {
                    CollisionResolution::NoCollision => {}
                    CollisionResolution::CloseNew => {
                        self.emit(
                            other_id,
                            PeerEventKind::Collision {
                                closed: id,
                                resolution,
                            },
                        );
                        self.feed(id, Event::OpenCollisionDump);
                        return;
                    }
                    CollisionResolution::CloseExisting { graceful } => {
                        self.emit(
                            id,
                            PeerEventKind::Collision {
                                closed: other_id,
                                resolution,
                            },
                        );
                        let ev = if graceful {
                            Event::TcpConnectionFails
                        } else {
                            Event::OpenCollisionDump
                        };
                        self.feed(other_id, ev);
                        // The survivor takes over the peer's state (damping,
                        // graceful restart) as the disposed session left it.
                        let (new, old) = if self.main.id == id {
                            (Some(&mut self.main), self.second.as_mut())
                        } else {
                            (self.second.as_mut(), Some(&mut self.main))
                        };
                        if let (Some(new), Some(old)) = (new, old) {
                            new.session.inherit_peer_state(&mut old.session);
                            old.inherited_from = true;
                        }
                    }
                }
            }
        }
        if let Some(slot) = self.slot(id) {
            slot.session.handle_message(now, msg);
        }
        self.perform(id);
    }

    /// Performs `id`'s pending actions, in order.
    fn perform(&mut self, id: u64) {
        let is_main = self.main.id == id;
        let counters = Arc::clone(&self.counters);
        loop {
            let Some(slot) = self.slot(id) else {
                return;
            };
            let Some(action) = slot.session.poll_action() else {
                break;
            };
            match action {
                Action::Connect => {
                    if is_main {
                        self.start_connect();
                    }
                }
                Action::DropConnection => {
                    if let Some(conn) = slot.conn.take() {
                        let deadline = tokio::time::Instant::now() + self.config.close_timeout;
                        self.closing.push(Closing {
                            stream: conn.stream,
                            wbuf: conn.wbuf,
                            fin_sent: false,
                            deadline,
                        });
                    } else if is_main {
                        self.connecting = None;
                    }
                }
                Action::Send(msg) => {
                    let ctx = slot.session.codec_context();
                    if let Some(conn) = slot.conn.as_mut() {
                        match msg.encode(&ctx, &mut conn.wbuf) {
                            Ok(()) => counters.count(msg.message_type(), true),
                            Err(e) => self.emit(
                                id,
                                PeerEventKind::EncodeFailed {
                                    error: e.to_string(),
                                },
                            ),
                        }
                    }
                }
                Action::InitializeResources
                | Action::ReleaseResources
                | Action::RejectConnection => {}
                Action::Established(n) => {
                    if is_main {
                        self.established_count += 1;
                        // The event's receiver may run on another thread
                        // at once and send: `PeerHandle::send_update`
                        // checks the published status, which must say
                        // Established (and give this session's count)
                        // before the event is out, not at the end of the
                        // input.
                        self.publish_status();
                    }
                    self.emit(id, PeerEventKind::Session(Action::Established(n)));
                }
                other => self.emit(id, PeerEventKind::Session(other)),
            }
        }
        // Write what can be written now rather than on the next turn.
        let failed = match self.slot(id).and_then(|s| s.conn.as_mut()) {
            Some(conn) => conn.flush_now().err(),
            None => None,
        };
        if let Some(e) = failed {
            self.connection_lost(id, e.to_string());
        }
    }

    /// Keeps one session per peer once a collision is over, and schedules
    /// the restart of a failed one.
    fn normalize(&mut self) {
        if let Some(second) = &self.second {
            if second.session.state() == State::Idle && second.conn.is_none() {
                self.second = None;
            }
        }
        if self.main.conn.is_none() && !self.main.session.state().is_connected() {
            if let Some(mut second) = self.second.take() {
                // The second session has the only connection: it becomes
                // the peer's session.
                if !self.main.inherited_from {
                    second.session.inherit_peer_state(&mut self.main.session);
                }
                self.main = second;
            }
        }
        let now = self.now();
        if self.main.session.state() == State::Idle {
            self.connecting = None;
            let damped = self.main.session.damping_active();
            if self.started && !damped && self.restart_at.is_none() {
                self.restart_at = self.config.restart_delay.map(|d| now + d);
            }
        } else {
            self.restart_at = None;
        }
    }

    fn publish_status(&mut self) {
        let s = PeerStatus {
            state: self.main.session.state(),
            session: self.main.id,
            established_count: self.established_count,
            connection: self.main.conn.as_ref().map(|c| (c.local, c.remote)),
        };
        self.status.send_if_modified(|old| {
            let changed = *old != s;
            *old = s;
            changed
        });
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use bgp_wire::capability::Multiprotocol;
    use bgp_wire::{AfiSafi, Capability, Keepalive, Open, SessionContext};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;
    use tokio::time::timeout;

    use super::*;
    use crate::config::SessionConfig;

    const WAIT: Duration = Duration::from_secs(15);

    /// The peer's OPEN and KEEPALIVE come in one segment, so that the
    /// session goes from OpenSent to Established in one input. The
    /// receiver of the Established event may run on another thread before
    /// that input is over, and send at once (`PeerHandle::send_update`
    /// checks the published status): the driver is stepped here as its
    /// run loop does, and after each input, before the run loop would
    /// publish the status, an Established event already sent must find the
    /// status Established, with this session's count, and an UPDATE queued
    /// with that count must be taken.
    #[tokio::test]
    async fn the_status_is_established_when_the_established_event_is_out() {
        let local = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 102));
        let raw = TcpListener::bind(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, 101)),
            0,
        ))
        .await
        .unwrap();
        let session = SessionConfig::new(65001, Ipv4Addr::new(10, 0, 0, 1), 65002);
        let mut config = PeerConfig::new(session, raw.local_addr().unwrap());
        config.local = Some(local);
        let (control_tx, control_rx) = mpsc::unbounded_channel();
        let (_updates_tx, updates_rx) = mpsc::channel(8);
        let (events_tx, mut events_rx) = mpsc::channel(64);
        let (status_tx, status_rx) = watch::channel(PeerStatus {
            state: State::Idle,
            session: 1,
            established_count: 0,
            connection: None,
        });
        let counters = Arc::new(MessageCounters::default());
        let mut driver = Driver::new(
            config,
            None,
            control_rx,
            updates_rx,
            events_tx,
            status_tx,
            Arc::clone(&counters),
        )
        .unwrap();
        control_tx.send(Control::Start).unwrap();

        // The peer: reads our OPEN, answers with its OPEN and a KEEPALIVE
        // in one write, then keeps the connection open.
        let peer = tokio::spawn(async move {
            let (mut s, _) = raw.accept().await.unwrap();
            let ctx = SessionContext::default();
            let mut buf = BytesMut::new();
            while frame(&mut buf, &ctx).unwrap().is_none() {
                assert_ne!(s.read_buf(&mut buf).await.unwrap(), 0, "closed");
            }
            let open = Open::new(
                65002,
                90,
                Ipv4Addr::new(10, 0, 0, 2),
                vec![
                    Capability::Multiprotocol(Multiprotocol::new(AfiSafi::IPV4_UNICAST)),
                    Capability::FourOctetAs(65002),
                ],
            );
            let mut out = BytesMut::new();
            Message::Open(open).encode(&ctx, &mut out).unwrap();
            Message::Keepalive(Keepalive)
                .encode(&ctx, &mut out)
                .unwrap();
            s.write_all(&out).await.unwrap();
            s
        });

        let mut seen_open_sent = false;
        let status = 'run: loop {
            driver.rearm_timer();
            let input = timeout(WAIT, poll_fn(|cx| driver.poll_input(cx)))
                .await
                .expect("an input in time");
            driver.handle(input);
            while let Ok(e) = events_rx.try_recv() {
                match e.kind {
                    PeerEventKind::Session(Action::StateChanged {
                        to: State::OpenSent,
                        ..
                    }) => seen_open_sent = true,
                    PeerEventKind::Session(Action::Established(_)) => {
                        break 'run *status_rx.borrow();
                    }
                    _ => {}
                }
            }
            driver.normalize();
            driver.publish_status();
        };
        assert!(seen_open_sent);
        assert_eq!(status.state, State::Established, "{status:?}");
        assert_eq!(status.established_count, 1, "{status:?}");
        assert!(status.connection.is_some(), "{status:?}");
        // What send_update would queue with that status is sent, not
        // refused.
        driver.on_outbound(
            status.established_count,
            Outbound::EndOfRib(AfiSafi::IPV4_UNICAST),
        );
        while let Ok(e) = events_rx.try_recv() {
            assert!(!matches!(e.kind, PeerEventKind::SendFailed { .. }), "{e:?}");
        }
        // Every message counted by type: the peer's OPEN and KEEPALIVE in;
        // our OPEN, the KEEPALIVE answering the peer's OPEN and the
        // End-of-RIB (an UPDATE) out.
        let c = counters.snapshot();
        assert_eq!(
            (c.opens_in, c.keepalives_in, c.updates_in),
            (1, 1, 0),
            "{c:?}"
        );
        assert_eq!(
            (c.opens_out, c.keepalives_out, c.updates_out),
            (1, 1, 1),
            "{c:?}"
        );
        assert_eq!(c.notifications_in + c.notifications_out, 0, "{c:?}");
        let _s = peer.await.unwrap();
    }
}
