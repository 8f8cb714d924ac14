//! The session: one BGP FSM (RFC 4271 section 8.2.2), sans I/O.

use std::collections::VecDeque;
use std::fmt;
use std::time::Duration;

use bgp_wire::error::{CeaseSubcode, OpenMessageSubcode};
use bgp_wire::message::header::HEADER_LEN;
use bgp_wire::message::update::builder;
use bgp_wire::{
    AfiSafi, DecodeError, ErrorCode, Keepalive, Message, Notification, Open, RouteRefresh,
    RouteRefreshSubtype, SessionContext, Update,
};

use crate::action::{Action, DownReason, SessionDown};
use crate::collision::{
    CollisionResolution, ConnectionOrigin, ExistingConnection, Speaker, resolve_collision,
};
use crate::config::{EndOfRibPolicy, SessionConfig};
use crate::damping::PeerOscillationDamping;
use crate::error::{ConfigError, EventError, SendError};
use crate::event::{Event, HardReset, Stop};
use crate::graceful_restart::GracefulRestartState;
use crate::negotiated::Negotiated;
use crate::notification::{
    NotificationDirection, NotificationReport, is_hard_reset, suggests_hard_reset,
};
use crate::open_validation::{OpenError, validate_open};
use crate::state::State;
use crate::timers::{ArmedTimer, Instant, Jitter, NoJitter, Timer, Timers, jittered};

/// The most timers [`Session::handle_timeout`] processes in one call, a
/// guard against a timer re-armed with a zero duration.
const MAX_EXPIRIES_PER_CALL: usize = 1024;

/// What happens to the ConnectRetryCounter on a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Counter {
    Zero,
    Increment,
    Keep,
}

/// Which stop, if any, caused a transition to Idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopKind {
    None,
    Manual,
    Automatic,
}

/// How the connection ended, for graceful restart.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Termination {
    /// The connection was lost, or closed without a NOTIFICATION.
    ConnectionLost,
    /// A NOTIFICATION was sent or received.
    Notification(Notification),
}

/// A transition to Idle.
#[derive(Debug, Clone)]
struct Down {
    counter: Counter,
    damp: bool,
    drop: bool,
    stop: StopKind,
    reason: DownReason,
    termination: Termination,
}

impl Down {
    /// The most common one: counter incremented, damping performed,
    /// connection dropped.
    fn error(reason: DownReason, termination: Termination) -> Self {
        Down {
            counter: Counter::Increment,
            damp: true,
            drop: true,
            stop: StopKind::None,
            reason,
            termination,
        }
    }
}

/// The state of a peer that outlives one connection: moved to the
/// surviving session of a collision by [`Session::inherit_peer_state`].
#[derive(Debug, Clone, PartialEq, Eq)]
struct PeerState {
    damping: PeerOscillationDamping,
    graceful_restart: GracefulRestartState,
}

impl PeerState {
    fn new(config: &SessionConfig) -> Self {
        PeerState {
            damping: PeerOscillationDamping::from_config(config),
            graceful_restart: GracefulRestartState::new(
                config
                    .capabilities
                    .graceful_restart
                    .as_ref()
                    .is_some_and(|g| g.restarting),
            ),
        }
    }
}

/// One BGP finite state machine: a session with one peer over one TCP
/// connection, as RFC 4271 section 8 describes it.
///
/// Inputs: [`handle_event`](Session::handle_event) (administrative and TCP
/// events), [`handle_message`](Session::handle_message) and
/// [`handle_decode_error`](Session::handle_decode_error) (what came off the
/// wire), [`handle_timeout`](Session::handle_timeout) (the passage of time),
/// and the route layer's [`send_update`](Session::send_update),
/// [`send_route_refresh`](Session::send_route_refresh) and
/// [`initial_updates_sent`](Session::initial_updates_sent). Every input
/// takes the current time; none reads a clock.
///
/// Outputs: [`poll_action`](Session::poll_action), and
/// [`poll_timeout`](Session::poll_timeout) for when to call
/// `handle_timeout` next. See the [crate documentation](crate) for the
/// driver contract.
pub struct Session {
    config: SessionConfig,
    state: State,
    connect_retry_counter: u32,
    timers: Timers,
    actions: VecDeque<Action>,
    jitter: Box<dyn Jitter>,
    /// PassiveTcpEstablishment, as the last start event set it.
    passive: bool,
    /// DampPeerOscillations, as the last start event set it.
    damped: bool,
    /// An automatic restart waits for the IdleHoldTimer.
    restart_pending: bool,
    origin: Option<ConnectionOrigin>,
    local_open: Option<Open>,
    negotiated: Option<Negotiated>,
    eor_sent: Vec<AfiSafi>,
    eor_awaited: Vec<AfiSafi>,
    peer: PeerState,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("state", &self.state)
            .field("connect_retry_counter", &self.connect_retry_counter)
            .field("timers", &self.timers)
            .field("passive", &self.passive)
            .field("damped", &self.damped)
            .field("origin", &self.origin)
            .field("negotiated", &self.negotiated.is_some())
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session in Idle, after checking `config`.
    pub fn new(config: SessionConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let peer = PeerState::new(&config);
        Ok(Session {
            config,
            state: State::Idle,
            connect_retry_counter: 0,
            timers: Timers::default(),
            actions: VecDeque::new(),
            jitter: Box::new(NoJitter),
            passive: false,
            damped: false,
            restart_pending: false,
            origin: None,
            local_open: None,
            negotiated: None,
            eor_sent: Vec::new(),
            eor_awaited: Vec::new(),
            peer,
        })
    }

    /// The same session drawing its jitter factors from `jitter`.
    pub fn with_jitter(mut self, jitter: impl Jitter + 'static) -> Self {
        self.jitter = Box::new(jitter);
        self
    }

    // ----- Observation -----

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The configuration.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The ConnectRetryCounter: how many times in a row the session failed.
    pub fn connect_retry_counter(&self) -> u32 {
        self.connect_retry_counter
    }

    /// The negotiated parameters, from the acceptance of the peer's OPEN
    /// (OpenConfirm) until the session goes back to Idle.
    pub fn negotiated(&self) -> Option<&Negotiated> {
        self.negotiated.as_ref()
    }

    /// The context to encode and decode messages with: the negotiated one
    /// once the peer's OPEN is accepted, the plain RFC 4271 one before.
    pub fn codec_context(&self) -> SessionContext {
        self.negotiated
            .as_ref()
            .map(|n| n.session_context().clone())
            .unwrap_or_default()
    }

    /// The OPEN this session sends (or sent on its current connection).
    pub fn local_open(&self) -> Open {
        self.local_open.clone().unwrap_or_else(|| {
            self.config
                .local_open(self.peer.graceful_restart.restarting())
        })
    }

    /// A running timer: its deadline and the duration it was started with.
    pub fn timer(&self, timer: Timer) -> Option<ArmedTimer> {
        match timer {
            Timer::Restart | Timer::Stale | Timer::LongLivedStale => {
                self.peer.graceful_restart.timer(timer)
            }
            _ => self.timers.get(timer),
        }
    }

    /// The earliest deadline among the running timers: call
    /// [`handle_timeout`](Session::handle_timeout) then.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let own = Timer::ALL
            .iter()
            .filter_map(|t| self.timers.get(*t))
            .map(|t| t.deadline)
            .min();
        match (own, self.peer.graceful_restart.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The next action to perform, in order.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Every pending action, in order.
    pub fn drain_actions(&mut self) -> std::collections::vec_deque::Drain<'_, Action> {
        self.actions.drain(..)
    }

    /// Who opened the current connection, once it is up.
    pub fn connection_origin(&self) -> Option<ConnectionOrigin> {
        self.origin
    }

    /// Whether PassiveTcpEstablishment is in force (set by events 4, 5 and
    /// 7, cleared by the other start events).
    pub fn passive(&self) -> bool {
        self.passive
    }

    /// Whether DampPeerOscillations is in force (set by events 6 and 7).
    pub fn damping_active(&self) -> bool {
        self.damped
    }

    /// The damping back-off of this peer.
    pub fn damping(&self) -> &PeerOscillationDamping {
        &self.peer.damping
    }

    /// The graceful restart state of this peer.
    pub fn graceful_restart(&self) -> &GracefulRestartState {
        &self.peer.graceful_restart
    }

    // ----- Inputs -----

    /// Processes an event as given. Events 3 and 5 to 8 are refused when
    /// the optional attributes they need are off (see [`EventError`]);
    /// every other event is processed. Events 19 and 20 carry an OPEN that
    /// is checked here: one that fails is processed as event 22.
    pub fn handle_event(&mut self, now: Instant, event: Event) -> Result<(), EventError> {
        self.check_attributes(&event)?;
        self.dispatch(now, event);
        Ok(())
    }

    /// Processes a message received on the connection: an OPEN is event 19,
    /// or 20 while the DelayOpenTimer runs; an UPDATE event 27; a
    /// NOTIFICATION event 24 (Unsupported Version Number) or 25; a
    /// KEEPALIVE event 26. A ROUTE-REFRESH is delivered in Established and
    /// is an unexpected message elsewhere.
    pub fn handle_message(&mut self, now: Instant, message: Message) {
        let event = match message {
            Message::Open(open) => {
                if self.timers.delay_open.is_some() {
                    Event::BgpOpenWithDelayOpenTimerRunning(open)
                } else {
                    Event::BgpOpen(open)
                }
            }
            Message::Update(update) => Event::UpdateMsg(update),
            Message::Notification(n) => {
                if n.code == ErrorCode::OpenMessage(OpenMessageSubcode::UnsupportedVersionNumber) {
                    Event::NotifMsgVerErr(n)
                } else {
                    Event::NotifMsg(n)
                }
            }
            Message::Keepalive(_) => Event::KeepAliveMsg,
            Message::RouteRefresh(rr) => {
                self.route_refresh_received(now, rr);
                return;
            }
        };
        self.dispatch(now, event);
    }

    /// Processes an error from framing or decoding a message: a Message
    /// Header Error is event 21, an OPEN Message Error event 22, an UPDATE
    /// Message Error (or ROUTE-REFRESH Message Error) event 28. The
    /// NOTIFICATION sent carries the error's code, subcode and data.
    pub fn handle_decode_error(&mut self, now: Instant, error: DecodeError) {
        let event = match error.code() {
            ErrorCode::OpenMessage(_) => Event::BgpOpenMsgErr(OpenError::Decode(error)),
            ErrorCode::UpdateMessage(_) | ErrorCode::RouteRefreshMessage(_) => {
                Event::UpdateMsgErr(error)
            }
            _ => Event::BgpHeaderErr(error),
        };
        self.dispatch(now, event);
    }

    /// Processes every timer that has expired at `now`, earliest first:
    /// the RFC 4271 timers as events 9 to 13, and the graceful restart
    /// timers.
    pub fn handle_timeout(&mut self, now: Instant) {
        for _ in 0..MAX_EXPIRIES_PER_CALL {
            let next = Timer::ALL
                .iter()
                .filter_map(|t| self.timer(*t).map(|a| (a.deadline, *t)))
                .filter(|(deadline, _)| *deadline <= now)
                .min();
            let Some((_, timer)) = next else {
                return;
            };
            let event = match timer {
                Timer::ConnectRetry => Event::ConnectRetryTimerExpires,
                Timer::Hold => Event::HoldTimerExpires,
                Timer::Keepalive => Event::KeepaliveTimerExpires,
                Timer::DelayOpen => Event::DelayOpenTimerExpires,
                Timer::IdleHold => Event::IdleHoldTimerExpires,
                Timer::Restart | Timer::Stale | Timer::LongLivedStale => {
                    self.peer
                        .graceful_restart
                        .expire(now, timer, &mut self.actions);
                    continue;
                }
            };
            self.timers.stop(timer);
            self.dispatch(now, event);
        }
    }

    /// Sends an UPDATE built by the route layer (Established only); the
    /// KeepaliveTimer restarts (RFC 4271 8.2.2).
    pub fn send_update(&mut self, now: Instant, update: Update) -> Result<(), SendError> {
        self.require_established()?;
        self.actions
            .push_back(Action::Send(Message::Update(update)));
        self.restart_keepalive(now);
        Ok(())
    }

    /// Sends a ROUTE-REFRESH (Established only, Route Refresh negotiated,
    /// family negotiated).
    pub fn send_route_refresh(
        &mut self,
        _now: Instant,
        route_refresh: RouteRefresh,
    ) -> Result<(), SendError> {
        self.require_established()?;
        let neg = self
            .negotiated
            .as_ref()
            .ok_or(SendError::NotEstablished(self.state))?;
        if !neg.route_refresh {
            return Err(SendError::RouteRefreshNotNegotiated);
        }
        if !neg.has_family(route_refresh.family) {
            return Err(SendError::FamilyNotNegotiated(route_refresh.family));
        }
        self.actions
            .push_back(Action::Send(Message::RouteRefresh(route_refresh)));
        Ok(())
    }

    /// The route layer has sent its initial updates for `family`: sends
    /// the End-of-RIB marker as the [`EndOfRibPolicy`] says, once per
    /// session and family. Returns whether a marker was sent.
    pub fn initial_updates_sent(
        &mut self,
        now: Instant,
        family: AfiSafi,
    ) -> Result<bool, SendError> {
        self.require_established()?;
        let neg = self
            .negotiated
            .as_ref()
            .ok_or(SendError::NotEstablished(self.state))?;
        if !neg.has_family(family) {
            return Err(SendError::FamilyNotNegotiated(family));
        }
        let send = match self.config.end_of_rib {
            EndOfRibPolicy::Always => true,
            EndOfRibPolicy::WithGracefulRestart => neg.graceful_restart.negotiated(),
            EndOfRibPolicy::Never => false,
        };
        if !send || self.eor_sent.contains(&family) {
            return Ok(false);
        }
        let Some(eor) = end_of_rib(family) else {
            return Ok(false);
        };
        self.eor_sent.push(family);
        self.send_update(now, eor)?;
        Ok(true)
    }

    // ----- Collisions -----

    /// Whether this session collides with a new connection, opened from
    /// `new_origin`, on which `open` arrived; see [`crate::collision`].
    pub fn detect_collision(
        &self,
        open: &Open,
        new_origin: ConnectionOrigin,
    ) -> CollisionResolution {
        let local = Speaker {
            id: self.config.local_id,
            asn: self.config.local_as,
        };
        let remote = Speaker {
            id: open.bgp_identifier,
            asn: open.effective_as(),
        };
        let existing = ExistingConnection {
            state: self.state,
            origin: self.origin,
            peer_id: self.negotiated.as_ref().map(|n| n.peer_id),
            graceful_restart: self
                .negotiated
                .as_ref()
                .is_some_and(|n| n.graceful_restart.helper()),
        };
        resolve_collision(
            local,
            remote,
            existing,
            new_origin,
            self.config.collision_detect_established_state,
        )
    }

    /// Takes over the per-peer state of `other` (damping back-off,
    /// graceful restart state and timers), which gets a fresh one: for the
    /// session that survives a collision, before the other is disposed of.
    pub fn inherit_peer_state(&mut self, other: &mut Session) {
        self.peer = std::mem::replace(&mut other.peer, PeerState::new(&other.config));
    }

    // ----- Internals: helpers -----

    fn check_attributes(&self, event: &Event) -> Result<(), EventError> {
        let c = &self.config;
        let n = event.number();
        match n {
            3 | 5 if !c.allow_automatic_start => {
                Err(EventError::AutomaticStartNotAllowed { event: n })
            }
            6 | 7 if !c.allow_automatic_start => {
                Err(EventError::AutomaticStartNotAllowed { event: n })
            }
            6 | 7 if !c.damp_peer_oscillations => Err(EventError::DampingNotEnabled { event: n }),
            8 if !c.allow_automatic_stop => Err(EventError::AutomaticStopNotAllowed),
            _ => Ok(()),
        }
    }

    fn require_established(&self) -> Result<(), SendError> {
        if self.state == State::Established {
            Ok(())
        } else {
            Err(SendError::NotEstablished(self.state))
        }
    }

    fn set_state(&mut self, to: State) {
        let from = self.state;
        if from != to {
            self.state = to;
            self.actions.push_back(Action::StateChanged { from, to });
        }
    }

    fn arm(&mut self, now: Instant, timer: Timer, base: Duration) {
        let duration = if timer.jittered() {
            jittered(base, self.jitter.factor(timer))
        } else {
            base
        };
        self.timers.set(timer, ArmedTimer::start(now, duration));
    }

    fn start_connect_retry(&mut self, now: Instant) {
        self.arm(now, Timer::ConnectRetry, self.config.connect_retry_time);
    }

    fn stop_connect_retry(&mut self) {
        self.timers.stop(Timer::ConnectRetry);
    }

    fn start_delay_open(&mut self, now: Instant) {
        self.arm(now, Timer::DelayOpen, self.config.delay_open_time);
    }

    fn stop_delay_open(&mut self) {
        self.timers.stop(Timer::DelayOpen);
    }

    fn delay_open_running(&self) -> bool {
        self.timers.delay_open.is_some()
    }

    /// Sets the HoldTimer to the "large value" of OpenSent.
    fn start_open_hold(&mut self, now: Instant) {
        self.arm(now, Timer::Hold, self.config.open_hold_time);
    }

    /// Restarts the HoldTimer with the negotiated hold time; stops it for 0.
    fn restart_hold(&mut self, now: Instant) {
        match self.negotiated.as_ref().and_then(Negotiated::hold_duration) {
            Some(hold) => self.arm(now, Timer::Hold, hold),
            None => self.timers.stop(Timer::Hold),
        }
    }

    /// Restarts the KeepaliveTimer with the negotiated keepalive time;
    /// stops it for a hold time of 0.
    fn restart_keepalive(&mut self, now: Instant) {
        match self.negotiated.as_ref().and_then(|n| n.keepalive_time) {
            Some(k) => self.arm(now, Timer::Keepalive, k),
            None => self.timers.stop(Timer::Keepalive),
        }
    }

    fn send(&mut self, message: Message) {
        self.actions.push_back(Action::Send(message));
    }

    fn send_keepalive(&mut self) {
        self.send(Message::Keepalive(Keepalive));
    }

    fn send_open(&mut self) {
        let open = self.local_open();
        self.local_open = Some(open.clone());
        self.send(Message::Open(open));
    }

    fn report(&mut self, direction: NotificationDirection, n: Notification) {
        self.actions
            .push_back(Action::Notification(NotificationReport::new(direction, n)));
    }

    fn send_notification(&mut self, mut n: Notification) {
        // The Data field is cut to what one message can carry: what RFC
        // 7313 (the whole ROUTE-REFRESH) or RFC 8538 (a NOTIFICATION inside
        // a Hard Reset) put there can be longer.
        let room = self
            .codec_context()
            .max_message_len()
            .saturating_sub(bgp_wire::message::header::HEADER_LEN + 2);
        if n.data.len() > room {
            n.data.truncate(room);
        }
        self.report(NotificationDirection::Sent, n.clone());
        self.send(Message::Notification(n));
    }

    /// The Cease of a stop, as a Hard Reset when the N bit was negotiated
    /// and the stop asks for one (RFC 8538).
    fn stop_notification(&self, stop: &Stop) -> Notification {
        let inner = stop.notification();
        let n_bit = self
            .negotiated
            .as_ref()
            .is_some_and(|n| n.graceful_restart.notification());
        let hard = match stop.hard_reset {
            HardReset::Suggested => suggests_hard_reset(stop.subcode),
            HardReset::Always => true,
            HardReset::Never => false,
        };
        if n_bit && hard && !is_hard_reset(&inner) {
            Notification::hard_reset(&inner)
        } else {
            inner
        }
    }

    fn fsm_error(&self, event: &Event) -> Notification {
        let subcode = if event.is_message() {
            self.state.unexpected_message_subcode()
        } else {
            bgp_wire::error::FsmSubcode::Unspecified
        };
        Notification::new(ErrorCode::FiniteStateMachine(subcode), bytes::Bytes::new())
    }

    /// Starts the session from Idle (events 1, 3 to 7).
    fn start(&mut self, now: Instant, passive: bool, damped: bool) {
        self.passive = passive;
        self.damped = damped;
        self.restart_pending = false;
        self.timers.stop(Timer::IdleHold);
        self.actions.push_back(Action::InitializeResources);
        self.connect_retry_counter = 0;
        self.start_connect_retry(now);
        if passive {
            self.set_state(State::Active);
        } else {
            self.actions.push_back(Action::Connect);
            self.set_state(State::Connect);
        }
    }

    /// Events 6 and 7: start now, or when the IdleHoldTimer expires.
    fn damped_start(&mut self, now: Instant, passive: bool) {
        if self.timers.idle_hold.is_some() {
            self.damped = true;
            self.passive = passive;
            self.restart_pending = true;
        } else {
            self.start(now, passive, true);
        }
    }

    /// Checks the peer's OPEN; on success the negotiated value is set.
    fn accept_open(&mut self, open: &Open) -> Result<(), OpenError> {
        let local = self.local_open();
        validate_open(&self.config, &local, open)?;
        self.negotiated = Some(Negotiated::new(&self.config, &local, open));
        self.local_open = Some(local);
        Ok(())
    }

    /// The HoldTimer and KeepaliveTimer of OpenConfirm, from the negotiated
    /// hold time (neither runs for 0).
    fn start_negotiated_timers(&mut self, now: Instant) {
        self.restart_keepalive(now);
        self.restart_hold(now);
    }

    fn connection_up(&mut self, event: &Event) {
        self.origin = Some(if matches!(event, Event::TcpCrAcked) {
            ConnectionOrigin::Outgoing
        } else {
            ConnectionOrigin::Incoming
        });
    }

    /// The transition to Idle, with everything it entails.
    fn go_idle(&mut self, now: Instant, down: Down) {
        let from = self.state;
        for t in [
            Timer::ConnectRetry,
            Timer::DelayOpen,
            Timer::Hold,
            Timer::Keepalive,
        ] {
            self.timers.stop(t);
        }
        if down.drop {
            self.actions.push_back(Action::DropConnection);
        }
        let hard_reset =
            matches!(&down.termination, Termination::Notification(n) if is_hard_reset(n));
        let negotiated = self.negotiated.take();
        match (&negotiated, from) {
            (Some(neg), State::Established) => {
                let retain = match &down.termination {
                    Termination::ConnectionLost => true,
                    Termination::Notification(n) => {
                        neg.graceful_restart.notification() && !is_hard_reset(n)
                    }
                };
                self.peer
                    .graceful_restart
                    .session_lost(now, neg, retain, &mut self.actions);
                self.peer.damping.session_ended(now);
            }
            _ if hard_reset => self.peer.graceful_restart.flush(&mut self.actions),
            _ => {}
        }
        self.actions.push_back(Action::ReleaseResources);
        match down.counter {
            Counter::Zero => self.connect_retry_counter = 0,
            Counter::Increment => {
                self.connect_retry_counter = self.connect_retry_counter.saturating_add(1);
            }
            Counter::Keep => {}
        }
        self.set_state(State::Idle);
        self.actions.push_back(Action::SessionDown(SessionDown {
            from,
            reason: down.reason,
        }));
        self.origin = None;
        self.local_open = None;
        self.eor_sent.clear();
        self.eor_awaited.clear();
        if down.stop == StopKind::Manual {
            self.damped = false;
            self.restart_pending = false;
            self.timers.stop(Timer::IdleHold);
            self.peer.damping.reset();
        } else if self.damped {
            let hold = if down.damp {
                self.peer.damping.penalize()
            } else {
                self.peer.damping.idle_hold_time()
            };
            self.timers
                .set(Timer::IdleHold, ArmedTimer::start(now, hold));
            self.restart_pending = true;
        }
    }

    fn reason_for(event: &Event) -> DownReason {
        match event {
            Event::ManualStop(_) => DownReason::ManualStop,
            Event::AutomaticStop(_) => DownReason::AutomaticStop,
            Event::HoldTimerExpires => DownReason::HoldTimerExpired,
            Event::TcpConnectionFails => DownReason::ConnectionFailed,
            Event::OpenCollisionDump => DownReason::Collision,
            Event::NotifMsg(n) | Event::NotifMsgVerErr(n) => {
                DownReason::PeerNotification(n.clone())
            }
            other => DownReason::UnexpectedEvent {
                event: other.name(),
            },
        }
    }

    fn termination_for(event: &Event) -> Termination {
        match event {
            Event::NotifMsg(n) | Event::NotifMsgVerErr(n) => Termination::Notification(n.clone()),
            _ => Termination::ConnectionLost,
        }
    }

    fn stop_kind(event: &Event) -> StopKind {
        match event {
            Event::ManualStop(_) => StopKind::Manual,
            Event::AutomaticStop(_) => StopKind::Automatic,
            _ => StopKind::None,
        }
    }

    // ----- Internals: the transitions of RFC 4271 8.2.2 -----

    fn dispatch(&mut self, now: Instant, event: Event) {
        match &event {
            Event::NotifMsg(n) | Event::NotifMsgVerErr(n) => {
                self.report(NotificationDirection::Received, n.clone());
            }
            Event::BgpOpen(open) | Event::BgpOpenWithDelayOpenTimerRunning(open) => {
                self.actions
                    .push_back(Action::OpenReceived(Box::new(open.clone())));
            }
            _ => {}
        }
        match self.state {
            State::Idle => self.idle(now, event),
            State::Connect => self.connect(now, event),
            State::Active => self.active(now, event),
            State::OpenSent => self.open_sent(now, event),
            State::OpenConfirm => self.open_confirm(now, event),
            State::Established => self.established(now, event),
        }
    }

    fn idle(&mut self, now: Instant, event: Event) {
        match event {
            Event::ManualStart | Event::AutomaticStart => self.start(now, false, false),
            Event::ManualStartWithPassiveTcpEstablishment
            | Event::AutomaticStartWithPassiveTcpEstablishment => self.start(now, true, false),
            Event::AutomaticStartWithDampPeerOscillations => self.damped_start(now, false),
            Event::AutomaticStartWithDampPeerOscillationsAndPassiveTcpEstablishment => {
                self.damped_start(now, true);
            }
            Event::IdleHoldTimerExpires => {
                self.timers.stop(Timer::IdleHold);
                if self.damped && self.restart_pending {
                    self.start(now, self.passive, true);
                }
            }
            // Ignored in Idle (RFC 4271), except that a stop cancels an
            // automatic restart waiting for the IdleHoldTimer.
            Event::ManualStop(_) => {
                self.damped = false;
                self.restart_pending = false;
                self.timers.stop(Timer::IdleHold);
                self.peer.damping.reset();
            }
            Event::AutomaticStop(_) => {
                self.restart_pending = false;
                self.timers.stop(Timer::IdleHold);
            }
            // Events 9-12 and 14-28: no change.
            _ => {}
        }
    }

    /// Connect and Active: event 20, an OPEN while the DelayOpenTimer runs.
    fn open_while_delayed(&mut self, now: Instant, open: &Open) {
        if let Err(e) = self.accept_open(open) {
            self.connect_or_active_message_error(now, e.notification());
            return;
        }
        self.stop_connect_retry();
        self.stop_delay_open();
        self.send_open();
        self.send_keepalive();
        self.start_negotiated_timers(now);
        self.set_state(State::OpenConfirm);
    }

    /// Connect and Active: events 21 and 22.
    fn connect_or_active_message_error(&mut self, now: Instant, n: Notification) {
        if self.config.send_notification_without_open {
            self.send_notification(n.clone());
        }
        self.go_idle(
            now,
            Down::error(DownReason::Error(n.clone()), Termination::Notification(n)),
        );
    }

    /// Connect and Active: event 24.
    fn connect_or_active_version_error(&mut self, now: Instant, n: Notification) {
        let delayed = self.delay_open_running();
        self.go_idle(
            now,
            Down {
                counter: if delayed {
                    Counter::Keep
                } else {
                    Counter::Increment
                },
                damp: !delayed,
                drop: true,
                stop: StopKind::None,
                reason: DownReason::PeerNotification(n.clone()),
                termination: Termination::Notification(n),
            },
        );
    }

    /// Connect and Active: the TCP connection is up (events 16 and 17).
    fn connect_or_active_connected(&mut self, now: Instant, event: &Event) {
        self.connection_up(event);
        self.stop_connect_retry();
        if self.config.delay_open {
            self.start_delay_open(now);
        } else {
            self.send_open();
            self.start_open_hold(now);
            self.set_state(State::OpenSent);
        }
    }

    /// Connect and Active: "any other event".
    fn connect_or_active_other(&mut self, now: Instant, event: &Event) {
        let mut down = Down::error(Self::reason_for(event), Self::termination_for(event));
        down.stop = Self::stop_kind(event);
        self.go_idle(now, down);
    }

    fn connect(&mut self, now: Instant, event: Event) {
        match event {
            e if e.is_start() => {}
            Event::ManualStop(_) => self.go_idle(
                now,
                Down {
                    counter: Counter::Zero,
                    damp: false,
                    drop: true,
                    stop: StopKind::Manual,
                    reason: DownReason::ManualStop,
                    termination: Termination::ConnectionLost,
                },
            ),
            Event::ConnectRetryTimerExpires => {
                self.actions.push_back(Action::DropConnection);
                self.start_connect_retry(now);
                self.stop_delay_open();
                self.actions.push_back(Action::Connect);
            }
            Event::DelayOpenTimerExpires => {
                // The ConnectRetryTimer was stopped when the DelayOpenTimer
                // started; stopped here too for an event 12 out of turn.
                self.stop_connect_retry();
                self.stop_delay_open();
                self.send_open();
                self.start_open_hold(now);
                self.set_state(State::OpenSent);
            }
            Event::TcpConnectionValid => {}
            Event::TcpCrInvalid => self.actions.push_back(Action::RejectConnection),
            Event::TcpCrAcked | Event::TcpConnectionConfirmed => {
                self.connect_or_active_connected(now, &event);
            }
            Event::TcpConnectionFails => {
                if self.delay_open_running() {
                    self.start_connect_retry(now);
                    self.stop_delay_open();
                    self.origin = None;
                    self.set_state(State::Active);
                } else {
                    self.go_idle(
                        now,
                        Down {
                            counter: Counter::Keep,
                            damp: false,
                            drop: true,
                            stop: StopKind::None,
                            reason: DownReason::ConnectionFailed,
                            termination: Termination::ConnectionLost,
                        },
                    );
                }
            }
            Event::BgpOpenWithDelayOpenTimerRunning(open) => self.open_while_delayed(now, &open),
            Event::BgpHeaderErr(e) => {
                self.connect_or_active_message_error(now, Notification::from(&e));
            }
            Event::BgpOpenMsgErr(e) => self.connect_or_active_message_error(now, e.notification()),
            Event::NotifMsgVerErr(n) => self.connect_or_active_version_error(now, n),
            // Events 8, 10, 11, 13, 19, 23, 25-28.
            other => self.connect_or_active_other(now, &other),
        }
    }

    fn active(&mut self, now: Instant, event: Event) {
        match event {
            e if e.is_start() => {}
            Event::ManualStop(stop) => {
                if self.delay_open_running() && self.config.send_notification_without_open {
                    let n = self.stop_notification(&stop);
                    self.send_notification(n);
                }
                self.go_idle(
                    now,
                    Down {
                        counter: Counter::Zero,
                        damp: false,
                        drop: true,
                        stop: StopKind::Manual,
                        reason: DownReason::ManualStop,
                        termination: Termination::ConnectionLost,
                    },
                );
            }
            Event::ConnectRetryTimerExpires => {
                self.start_connect_retry(now);
                // PassiveTcpEstablishment: keep waiting for the peer.
                if !self.passive {
                    self.actions.push_back(Action::Connect);
                    self.set_state(State::Connect);
                }
            }
            Event::DelayOpenTimerExpires => {
                self.stop_connect_retry();
                self.stop_delay_open();
                self.send_open();
                self.start_open_hold(now);
                self.set_state(State::OpenSent);
            }
            Event::TcpConnectionValid => {}
            Event::TcpCrInvalid => self.actions.push_back(Action::RejectConnection),
            Event::TcpCrAcked | Event::TcpConnectionConfirmed => {
                self.connect_or_active_connected(now, &event);
            }
            Event::TcpConnectionFails => self.go_idle(
                now,
                Down {
                    drop: false,
                    ..Down::error(DownReason::ConnectionFailed, Termination::ConnectionLost)
                },
            ),
            Event::BgpOpenWithDelayOpenTimerRunning(open) => self.open_while_delayed(now, &open),
            Event::BgpHeaderErr(e) => {
                self.connect_or_active_message_error(now, Notification::from(&e));
            }
            Event::BgpOpenMsgErr(e) => self.connect_or_active_message_error(now, e.notification()),
            Event::NotifMsgVerErr(n) => self.connect_or_active_version_error(now, n),
            // Events 8, 10, 11, 13, 19, 23, 25-28.
            other => self.connect_or_active_other(now, &other),
        }
    }

    /// OpenSent, OpenConfirm, Established: a NOTIFICATION is sent, then
    /// the transition to Idle.
    fn notify_and_idle(&mut self, now: Instant, n: Notification, mut down: Down) {
        self.send_notification(n.clone());
        down.termination = Termination::Notification(n);
        self.go_idle(now, down);
    }

    /// ManualStop and AutomaticStop in OpenSent, OpenConfirm, Established.
    fn stop(&mut self, now: Instant, stop: &Stop, manual: bool) {
        let n = self.stop_notification(stop);
        let down = if manual {
            Down {
                counter: Counter::Zero,
                damp: false,
                drop: true,
                stop: StopKind::Manual,
                reason: DownReason::ManualStop,
                termination: Termination::ConnectionLost,
            }
        } else {
            Down {
                stop: StopKind::Automatic,
                ..Down::error(DownReason::AutomaticStop, Termination::ConnectionLost)
            }
        };
        self.notify_and_idle(now, n, down);
    }

    fn hold_timer_expired(&mut self, now: Instant) {
        self.notify_and_idle(
            now,
            Notification::hold_timer_expired(),
            Down::error(DownReason::HoldTimerExpired, Termination::ConnectionLost),
        );
    }

    fn collision_dump(&mut self, now: Instant) {
        self.notify_and_idle(
            now,
            Notification::cease(CeaseSubcode::ConnectionCollisionResolution),
            Down {
                damp: false,
                ..Down::error(DownReason::Collision, Termination::ConnectionLost)
            },
        );
    }

    /// OpenSent, OpenConfirm: event 24.
    fn version_error(&mut self, now: Instant, n: Notification) {
        self.go_idle(
            now,
            Down {
                counter: Counter::Keep,
                damp: false,
                drop: true,
                stop: StopKind::None,
                reason: DownReason::PeerNotification(n.clone()),
                termination: Termination::Notification(n),
            },
        );
    }

    /// A detected error: its NOTIFICATION, then Idle.
    fn error_and_idle(&mut self, now: Instant, n: Notification) {
        self.notify_and_idle(
            now,
            n.clone(),
            Down::error(DownReason::Error(n), Termination::ConnectionLost),
        );
    }

    /// "Any other event" of OpenSent, OpenConfirm, Established: a Finite
    /// State Machine Error.
    fn unexpected(&mut self, now: Instant, event: &Event) {
        let n = self.fsm_error(event);
        self.notify_and_idle(
            now,
            n,
            Down::error(Self::reason_for(event), Termination::ConnectionLost),
        );
    }

    fn open_sent(&mut self, now: Instant, event: Event) {
        match event {
            e if e.is_start() => {}
            Event::ManualStop(stop) => self.stop(now, &stop, true),
            Event::AutomaticStop(stop) => self.stop(now, &stop, false),
            Event::HoldTimerExpires => self.hold_timer_expired(now),
            // A second connection, tracked by the driver (RFC 4271 6.8).
            Event::TcpConnectionValid
            | Event::TcpCrAcked
            | Event::TcpConnectionConfirmed
            | Event::TcpCrInvalid => {}
            Event::TcpConnectionFails => {
                self.actions.push_back(Action::DropConnection);
                self.timers.stop(Timer::Hold);
                self.origin = None;
                self.local_open = None;
                self.start_connect_retry(now);
                self.set_state(State::Active);
            }
            Event::BgpOpen(open) => match self.accept_open(&open) {
                Err(e) => self.open_sent(now, Event::BgpOpenMsgErr(e)),
                Ok(()) => {
                    self.stop_delay_open();
                    self.stop_connect_retry();
                    self.send_keepalive();
                    self.start_negotiated_timers(now);
                    self.set_state(State::OpenConfirm);
                }
            },
            Event::BgpHeaderErr(e) => self.error_and_idle(now, Notification::from(&e)),
            Event::BgpOpenMsgErr(e) => self.error_and_idle(now, e.notification()),
            Event::OpenCollisionDump => self.collision_dump(now),
            Event::NotifMsgVerErr(n) => self.version_error(now, n),
            // A NOTIFICATION is not answered with one (RFC 4271 6.4), although
            // the "any other event" row would send a Finite State Machine Error.
            Event::NotifMsg(n) => self.go_idle(
                now,
                Down::error(
                    DownReason::PeerNotification(n.clone()),
                    Termination::Notification(n),
                ),
            ),
            // Events 9, 11-13, 20, 26-28.
            other => self.unexpected(now, &other),
        }
    }

    fn open_confirm(&mut self, now: Instant, event: Event) {
        match event {
            e if e.is_start() => {}
            Event::ManualStop(stop) => self.stop(now, &stop, true),
            Event::AutomaticStop(stop) => self.stop(now, &stop, false),
            Event::HoldTimerExpires => self.hold_timer_expired(now),
            Event::KeepaliveTimerExpires => {
                self.send_keepalive();
                self.restart_keepalive(now);
            }
            Event::TcpConnectionValid
            | Event::TcpCrAcked
            | Event::TcpConnectionConfirmed
            | Event::TcpCrInvalid => {}
            Event::TcpConnectionFails | Event::NotifMsg(_) => {
                let down = Down::error(Self::reason_for(&event), Self::termination_for(&event));
                self.go_idle(now, down);
            }
            Event::NotifMsgVerErr(n) => self.version_error(now, n),
            Event::BgpHeaderErr(e) => self.error_and_idle(now, Notification::from(&e)),
            Event::BgpOpenMsgErr(e) => self.error_and_idle(now, e.notification()),
            Event::OpenCollisionDump => self.collision_dump(now),
            Event::KeepAliveMsg => {
                self.restart_hold(now);
                self.set_state(State::Established);
                self.enter_established(now);
            }
            // Events 9, 12-13, 19 (a second OPEN on this connection: RFC 6608
            // makes it an unexpected message; collisions between connections
            // are resolved by the driver, see `collision`), 20, 27-28.
            other => self.unexpected(now, &other),
        }
    }

    fn enter_established(&mut self, now: Instant) {
        let Some(neg) = self.negotiated.clone() else {
            return;
        };
        self.actions
            .push_back(Action::Established(Box::new(neg.clone())));
        self.peer.damping.session_established(now);
        let stale_time = self
            .config
            .capabilities
            .graceful_restart
            .as_ref()
            .map_or(Duration::ZERO, |g| g.stale_routes_time);
        self.peer
            .graceful_restart
            .session_established(now, &neg, stale_time, &mut self.actions);
        self.eor_sent.clear();
        self.eor_awaited = neg.families.clone();
    }

    fn established(&mut self, now: Instant, event: Event) {
        match event {
            e if e.is_start() => {}
            Event::ManualStop(stop) => self.stop(now, &stop, true),
            Event::AutomaticStop(stop) => self.stop(now, &stop, false),
            Event::HoldTimerExpires => self.hold_timer_expired(now),
            Event::KeepaliveTimerExpires => {
                self.send_keepalive();
                self.restart_keepalive(now);
            }
            Event::TcpConnectionValid
            | Event::TcpCrAcked
            | Event::TcpConnectionConfirmed
            | Event::TcpCrInvalid => {}
            Event::OpenCollisionDump => {
                if self.config.collision_detect_established_state {
                    self.collision_dump(now);
                }
            }
            Event::NotifMsg(_) | Event::NotifMsgVerErr(_) | Event::TcpConnectionFails => {
                let down = Down::error(Self::reason_for(&event), Self::termination_for(&event));
                self.go_idle(now, down);
            }
            Event::KeepAliveMsg => self.restart_hold(now),
            Event::UpdateMsg(update) => self.update_received(now, update),
            Event::UpdateMsgErr(e) => self.error_and_idle(now, Notification::from(&e)),
            // Section 6.1 asks for a Message Header Error NOTIFICATION, which
            // is what is sent, rather than the Finite State Machine Error of
            // the "any other event" row.
            Event::BgpHeaderErr(e) => self.error_and_idle(now, Notification::from(&e)),
            // Events 9, 12-13, 19 (an OPEN on an Established connection: RFC
            // 6608 3), 20-22.
            other => self.unexpected(now, &other),
        }
    }

    fn update_received(&mut self, now: Instant, update: Update) {
        self.restart_hold(now);
        let Some(family) = update.end_of_rib() else {
            self.actions.push_back(Action::UpdateReceived(update));
            return;
        };
        self.actions.push_back(Action::EndOfRibReceived(family));
        self.peer
            .graceful_restart
            .end_of_rib(family, &mut self.actions);
        if self.eor_awaited.contains(&family) {
            self.eor_awaited.retain(|f| *f != family);
            if self.eor_awaited.is_empty() {
                self.actions.push_back(Action::AllEndOfRibReceived);
            }
        }
    }

    fn route_refresh_received(&mut self, now: Instant, rr: RouteRefresh) {
        match self.state {
            State::Established => {
                self.restart_hold(now);
                let wanted = !matches!(rr.subtype, RouteRefreshSubtype::Other(_))
                    && self
                        .negotiated
                        .as_ref()
                        .is_some_and(|n| n.has_family(rr.family));
                if wanted {
                    self.actions.push_back(Action::RouteRefreshReceived(rr));
                }
            }
            State::Idle => {}
            State::Connect | State::Active => self.go_idle(
                now,
                Down::error(
                    DownReason::UnexpectedEvent {
                        event: "ROUTE-REFRESH",
                    },
                    Termination::ConnectionLost,
                ),
            ),
            State::OpenSent | State::OpenConfirm => {
                let n = Notification::new(
                    ErrorCode::FiniteStateMachine(self.state.unexpected_message_subcode()),
                    bytes::Bytes::new(),
                );
                self.notify_and_idle(
                    now,
                    n,
                    Down::error(
                        DownReason::UnexpectedEvent {
                            event: "ROUTE-REFRESH",
                        },
                        Termination::ConnectionLost,
                    ),
                );
            }
        }
    }
}

/// The End-of-RIB UPDATE of `family`.
pub fn end_of_rib(family: AfiSafi) -> Option<Update> {
    let bytes = builder::end_of_rib(family);
    if bytes.len() < HEADER_LEN {
        return None;
    }
    Update::decode(bytes.slice(HEADER_LEN..), &SessionContext::default()).ok()
}
