//! Every row of the RFC 4271 section 8.2.2 transition description, state by
//! state, event by event, the "any other event" rows included, checked in
//! virtual time: the new state, the ConnectRetryCounter, the messages sent,
//! the connection actions, and the timers started (with their durations)
//! or stopped.
//!
//! Each session is brought to its state at t=0; the event comes at t=10 s,
//! so a timer "started" by the event has its deadline at 10 s plus its
//! duration, and one left alone keeps its old deadline.
//!
//! Where this crate departs from the letter of the RFC, the row says so
//! (see also the crate documentation of `Session`):
//! - OpenSent, event 25: no FSM Error NOTIFICATION in answer to a
//!   NOTIFICATION (RFC 4271 6.4, RFC 6608);
//! - OpenConfirm and Established, event 19 on the session's own connection:
//!   FSM Error 5/2 or 5/3 (RFC 6608); collisions between two connections are
//!   resolved by the driver through event 23 (tests/collision.rs);
//! - Established, event 21: the Message Header Error NOTIFICATION of
//!   section 6.1 rather than an FSM Error;
//! - Active, event 9 with PassiveTcpEstablishment: stays in Active without
//!   connecting;
//! - Active, event 18: "restarts the ConnectRetryTimer" then goes to Idle,
//!   where no ConnectRetryTimer runs: it is stopped.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::net::Ipv4Addr;

use bgp_fsm::{
    Action, ArmedTimer, Event, Instant, OpenError, Session, SessionConfig, State, Timer,
};
use bgp_wire::{DecodeError, ErrorCode, Message, Notification};
use support::*;

/// The sessions the rows start from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    /// Idle after a failure: ConnectRetryCounter 1.
    Idle,
    /// Connect, connection attempt in progress.
    Connect,
    /// Connect with DelayOpen configured, connection not up yet.
    ConnectDelayOpen,
    /// Connect with the connection up and the DelayOpenTimer running.
    ConnectDelayed,
    /// Active, passive (event 4).
    Active,
    /// Active after a lost connection in OpenSent (not passive).
    ActiveNotPassive,
    /// Active, passive, DelayOpen configured, no connection.
    ActiveDelayOpen,
    /// Active, passive, connection up and DelayOpenTimer running.
    ActiveDelayed,
    OpenSent,
    OpenConfirm,
    Established,
}

#[derive(Debug, Clone, Copy, Default)]
struct Opts {
    send_notification_without_open: bool,
    collision_detect_established: bool,
}

fn setup(which: Setup, opts: Opts) -> Session {
    let mut c = config();
    c.send_notification_without_open = opts.send_notification_without_open;
    c.collision_detect_established_state = opts.collision_detect_established;
    if matches!(
        which,
        Setup::ConnectDelayOpen
            | Setup::ConnectDelayed
            | Setup::ActiveDelayOpen
            | Setup::ActiveDelayed
    ) {
        c.delay_open = true;
    }
    let mut s = Session::new(c).unwrap();
    let now = Instant::ORIGIN;
    let steps = match which {
        Setup::Idle => vec![
            Event::ManualStart,
            Event::TcpCrAcked,
            Event::HoldTimerExpires,
        ],
        Setup::Connect | Setup::ConnectDelayOpen => vec![Event::ManualStart],
        Setup::ConnectDelayed => vec![Event::ManualStart, Event::TcpCrAcked],
        Setup::Active | Setup::ActiveDelayOpen => {
            vec![Event::ManualStartWithPassiveTcpEstablishment]
        }
        Setup::ActiveNotPassive => vec![
            Event::ManualStart,
            Event::TcpCrAcked,
            Event::TcpConnectionFails,
        ],
        Setup::ActiveDelayed => vec![
            Event::ManualStartWithPassiveTcpEstablishment,
            Event::TcpConnectionConfirmed,
        ],
        Setup::OpenSent => vec![Event::ManualStart, Event::TcpCrAcked],
        Setup::OpenConfirm => vec![
            Event::ManualStart,
            Event::TcpCrAcked,
            Event::BgpOpen(peer_open()),
        ],
        Setup::Established => vec![
            Event::ManualStart,
            Event::TcpCrAcked,
            Event::BgpOpen(peer_open()),
            Event::KeepAliveMsg,
        ],
    };
    feed(&mut s, now, steps);
    drain(&mut s);
    let expected = match which {
        Setup::Idle => State::Idle,
        Setup::Connect | Setup::ConnectDelayOpen | Setup::ConnectDelayed => State::Connect,
        Setup::Active | Setup::ActiveNotPassive | Setup::ActiveDelayOpen | Setup::ActiveDelayed => {
            State::Active
        }
        Setup::OpenSent => State::OpenSent,
        Setup::OpenConfirm => State::OpenConfirm,
        Setup::Established => State::Established,
    };
    assert_eq!(s.state(), expected, "setup {which:?}");
    if matches!(which, Setup::ConnectDelayed | Setup::ActiveDelayed) {
        assert!(s.timer(Timer::DelayOpen).is_some());
    }
    s
}

/// A representative of each event, by number.
fn ev(n: u8) -> Event {
    match n {
        1 => Event::ManualStart,
        2 => Event::manual_stop(),
        3 => Event::AutomaticStart,
        4 => Event::ManualStartWithPassiveTcpEstablishment,
        5 => Event::AutomaticStartWithPassiveTcpEstablishment,
        6 => Event::AutomaticStartWithDampPeerOscillations,
        7 => Event::AutomaticStartWithDampPeerOscillationsAndPassiveTcpEstablishment,
        8 => Event::automatic_stop(),
        9 => Event::ConnectRetryTimerExpires,
        10 => Event::HoldTimerExpires,
        11 => Event::KeepaliveTimerExpires,
        12 => Event::DelayOpenTimerExpires,
        13 => Event::IdleHoldTimerExpires,
        14 => Event::TcpConnectionValid,
        15 => Event::TcpCrInvalid,
        16 => Event::TcpCrAcked,
        17 => Event::TcpConnectionConfirmed,
        18 => Event::TcpConnectionFails,
        19 => Event::BgpOpen(peer_open()),
        20 => Event::BgpOpenWithDelayOpenTimerRunning(peer_open()),
        21 => Event::BgpHeaderErr(DecodeError::BadMessageType { message_type: 9 }),
        22 => Event::BgpOpenMsgErr(OpenError::BadBgpIdentifier {
            identifier: Ipv4Addr::UNSPECIFIED,
        }),
        23 => Event::OpenCollisionDump,
        24 => Event::NotifMsgVerErr(Notification::new(ErrorCode::from_pair(2, 1), vec![0, 4])),
        25 => Event::NotifMsg(Notification::shutdown("bye")),
        26 => Event::KeepAliveMsg,
        27 => Event::UpdateMsg(some_update()),
        28 => Event::UpdateMsgErr(DecodeError::update(
            bgp_wire::error::UpdateMessageSubcode::MalformedAttributeList,
            vec![],
            "test",
        )),
        _ => panic!("no event {n}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Open,
    Keepalive,
    Notification(u8, u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctr {
    Zero,
    Inc,
    Same,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tm {
    /// Started by the event, for this many seconds.
    Started(u64),
    Stopped,
    Unchanged,
}

#[derive(Debug, Clone)]
struct Expect {
    state: Option<State>,
    counter: Ctr,
    sent: Vec<Sent>,
    connect: bool,
    drop: bool,
    reject: bool,
    timers: Vec<(Timer, Tm)>,
}

const RFC_TIMERS: [Timer; 5] = [
    Timer::ConnectRetry,
    Timer::Hold,
    Timer::Keepalive,
    Timer::DelayOpen,
    Timer::IdleHold,
];

impl Expect {
    /// No change: same state, nothing sent, every timer unchanged.
    fn stay() -> Self {
        Expect {
            state: None,
            counter: Ctr::Same,
            sent: vec![],
            connect: false,
            drop: false,
            reject: false,
            timers: RFC_TIMERS.iter().map(|t| (*t, Tm::Unchanged)).collect(),
        }
    }

    /// To another state; timers as listed.
    fn to(state: State) -> Self {
        Expect {
            state: Some(state),
            counter: Ctr::Same,
            sent: vec![],
            connect: false,
            drop: false,
            reject: false,
            timers: vec![],
        }
    }

    /// To Idle: connection dropped, every RFC 4271 timer of the connection
    /// stopped.
    fn idle(counter: Ctr) -> Self {
        Expect {
            state: Some(State::Idle),
            counter,
            sent: vec![],
            connect: false,
            drop: true,
            reject: false,
            timers: [
                Timer::ConnectRetry,
                Timer::Hold,
                Timer::Keepalive,
                Timer::DelayOpen,
            ]
            .iter()
            .map(|t| (*t, Tm::Stopped))
            .collect(),
        }
    }

    fn send(mut self, s: Sent) -> Self {
        self.sent.push(s);
        self
    }

    fn notify(self, code: u8, subcode: u8) -> Self {
        self.send(Sent::Notification(code, subcode))
    }

    fn timer(mut self, t: Timer, tm: Tm) -> Self {
        self.timers.retain(|(x, _)| *x != t);
        self.timers.push((t, tm));
        self
    }

    fn counter(mut self, c: Ctr) -> Self {
        self.counter = c;
        self
    }

    fn connect(mut self) -> Self {
        self.connect = true;
        self
    }

    fn drop(mut self) -> Self {
        self.drop = true;
        self
    }

    fn no_drop(mut self) -> Self {
        self.drop = false;
        self
    }

    fn reject(mut self) -> Self {
        self.reject = true;
        self
    }
}

struct Row {
    setup: Setup,
    opts: Opts,
    event: Event,
    expect: Expect,
    note: &'static str,
}

fn row(setup: Setup, event: u8, expect: Expect) -> Row {
    Row {
        setup,
        opts: Opts::default(),
        event: ev(event),
        expect,
        note: "",
    }
}

impl Row {
    fn opts(mut self, opts: Opts) -> Self {
        self.opts = opts;
        self
    }

    fn event(mut self, e: Event) -> Self {
        self.event = e;
        self
    }

    fn note(mut self, note: &'static str) -> Self {
        self.note = note;
        self
    }
}

const T1: Instant = Instant::from_secs(10);

fn check(row: &Row) -> Result<(), String> {
    let mut s = setup(row.setup, row.opts);
    let before_state = s.state();
    let before_counter = s.connect_retry_counter();
    let before: Vec<Option<ArmedTimer>> = RFC_TIMERS.iter().map(|t| s.timer(*t)).collect();
    s.handle_event(T1, row.event.clone())
        .map_err(|e| format!("refused: {e}"))?;
    let actions = drain(&mut s);
    let e = &row.expect;
    let mut errors = Vec::new();
    let want_state = e.state.unwrap_or(before_state);
    if s.state() != want_state {
        errors.push(format!("state {} (want {want_state})", s.state()));
    }
    let want_counter = match e.counter {
        Ctr::Zero => 0,
        Ctr::Inc => before_counter + 1,
        Ctr::Same => before_counter,
    };
    if s.connect_retry_counter() != want_counter {
        errors.push(format!(
            "ConnectRetryCounter {} (want {want_counter})",
            s.connect_retry_counter()
        ));
    }
    let got_sent: Vec<Sent> = sent(&actions)
        .iter()
        .map(|m| match m {
            Message::Open(_) => Sent::Open,
            Message::Keepalive(_) => Sent::Keepalive,
            Message::Notification(n) => {
                let (c, sc) = n.code.to_pair();
                Sent::Notification(c, sc)
            }
            other => panic!("unexpected message sent: {other:?}"),
        })
        .collect();
    if got_sent != e.sent {
        errors.push(format!("sent {got_sent:?} (want {:?})", e.sent));
    }
    for (what, want, action) in [
        ("Connect", e.connect, Action::Connect),
        ("DropConnection", e.drop, Action::DropConnection),
        ("RejectConnection", e.reject, Action::RejectConnection),
    ] {
        if actions.contains(&action) != want {
            errors.push(format!("{what} {} (want {want})", !want));
        }
    }
    for (timer, tm) in &e.timers {
        let got = s.timer(*timer);
        let idx = RFC_TIMERS.iter().position(|t| t == timer).unwrap();
        let ok = match tm {
            Tm::Started(d) => {
                got == Some(ArmedTimer {
                    deadline: T1 + secs(*d),
                    duration: secs(*d),
                })
            }
            Tm::Stopped => got.is_none(),
            Tm::Unchanged => got == before[idx],
        };
        if !ok {
            errors.push(format!("{timer}: {got:?} (want {tm:?})"));
        }
    }
    // A state change is announced exactly when the state changed.
    let changed = actions
        .iter()
        .any(|a| matches!(a, Action::StateChanged { .. }));
    if changed != (s.state() != before_state) {
        errors.push("StateChanged action does not match".into());
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}

fn run(rows: Vec<Row>) {
    let mut failures = Vec::new();
    let n = rows.len();
    eprintln!("{n} rows");
    for r in &rows {
        if let Err(e) = check(r) {
            failures.push(format!(
                "{:?} {:?} + {}{}: {e}",
                r.setup,
                r.opts,
                r.event,
                if r.note.is_empty() {
                    String::new()
                } else {
                    format!(" [{}]", r.note)
                }
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {n} rows fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

const STARTS: [u8; 6] = [1, 3, 4, 5, 6, 7];
const NOTIF_WITHOUT_OPEN: Opts = Opts {
    send_notification_without_open: true,
    collision_detect_established: false,
};

#[test]
fn idle_state() {
    use Setup::Idle;
    let mut rows = vec![
        // Events 1 and 3: Connect, counter zeroed, ConnectRetryTimer, connect.
        row(
            Idle,
            1,
            Expect::to(State::Connect)
                .counter(Ctr::Zero)
                .connect()
                .timer(Timer::ConnectRetry, Tm::Started(120)),
        ),
        row(
            Idle,
            3,
            Expect::to(State::Connect)
                .counter(Ctr::Zero)
                .connect()
                .timer(Timer::ConnectRetry, Tm::Started(120)),
        ),
        // Events 4 and 5: Active, counter zeroed, ConnectRetryTimer, listen only.
        row(
            Idle,
            4,
            Expect::to(State::Active)
                .counter(Ctr::Zero)
                .timer(Timer::ConnectRetry, Tm::Started(120)),
        ),
        row(
            Idle,
            5,
            Expect::to(State::Active)
                .counter(Ctr::Zero)
                .timer(Timer::ConnectRetry, Tm::Started(120)),
        ),
        // Events 6 and 7 with no IdleHoldTimer running: start at once.
        row(
            Idle,
            6,
            Expect::to(State::Connect)
                .counter(Ctr::Zero)
                .connect()
                .timer(Timer::ConnectRetry, Tm::Started(120)),
        )
        .note("damping: no back-off pending"),
        row(
            Idle,
            7,
            Expect::to(State::Active)
                .counter(Ctr::Zero)
                .timer(Timer::ConnectRetry, Tm::Started(120)),
        )
        .note("damping: no back-off pending"),
        // Events 2 and 8 are ignored.
        row(Idle, 2, Expect::stay()),
        row(Idle, 8, Expect::stay()),
    ];
    // Any other event (9-28): no change.
    for n in 9..=28 {
        rows.push(row(Idle, n, Expect::stay()));
    }
    run(rows);
}

#[test]
fn connect_state() {
    use Setup::*;
    let idle_inc = || Expect::idle(Ctr::Inc);
    let mut rows = vec![
        row(
            Connect,
            2,
            Expect::idle(Ctr::Zero).timer(Timer::ConnectRetry, Tm::Stopped),
        ),
        row(
            Connect,
            9,
            Expect::stay()
                .drop()
                .connect()
                .timer(Timer::ConnectRetry, Tm::Started(120))
                .timer(Timer::DelayOpen, Tm::Stopped),
        ),
        row(
            ConnectDelayed,
            9,
            Expect::stay()
                .drop()
                .connect()
                .timer(Timer::ConnectRetry, Tm::Started(120))
                .timer(Timer::DelayOpen, Tm::Stopped),
        )
        .note("DelayOpenTimer stopped"),
        row(
            ConnectDelayed,
            12,
            Expect::to(State::OpenSent)
                .send(Sent::Open)
                .timer(Timer::Hold, Tm::Started(240)),
        ),
        row(Connect, 14, Expect::stay()),
        row(Connect, 15, Expect::stay().reject()),
        // Events 16 and 17 without DelayOpen: OPEN, HoldTimer large, OpenSent.
        row(
            Connect,
            16,
            Expect::to(State::OpenSent)
                .send(Sent::Open)
                .timer(Timer::ConnectRetry, Tm::Stopped)
                .timer(Timer::Hold, Tm::Started(240)),
        ),
        row(
            Connect,
            17,
            Expect::to(State::OpenSent)
                .send(Sent::Open)
                .timer(Timer::ConnectRetry, Tm::Stopped)
                .timer(Timer::Hold, Tm::Started(240)),
        ),
        // With DelayOpen: ConnectRetryTimer stopped, DelayOpenTimer, stay.
        row(
            ConnectDelayOpen,
            16,
            Expect::stay()
                .timer(Timer::ConnectRetry, Tm::Stopped)
                .timer(Timer::DelayOpen, Tm::Started(5)),
        ),
        row(
            ConnectDelayOpen,
            17,
            Expect::stay()
                .timer(Timer::ConnectRetry, Tm::Stopped)
                .timer(Timer::DelayOpen, Tm::Started(5)),
        ),
        // Event 18 with the DelayOpenTimer running: Active.
        row(
            ConnectDelayed,
            18,
            Expect::to(State::Active)
                .timer(Timer::ConnectRetry, Tm::Started(120))
                .timer(Timer::DelayOpen, Tm::Stopped),
        ),
        // Event 18 without: Idle, counter unchanged.
        row(Connect, 18, Expect::idle(Ctr::Same)),
        // Event 20: OPEN, KEEPALIVE, KeepaliveTimer and HoldTimer negotiated.
        row(
            ConnectDelayed,
            20,
            Expect::to(State::OpenConfirm)
                .send(Sent::Open)
                .send(Sent::Keepalive)
                .timer(Timer::ConnectRetry, Tm::Stopped)
                .timer(Timer::DelayOpen, Tm::Stopped)
                .timer(Timer::Keepalive, Tm::Started(30))
                .timer(Timer::Hold, Tm::Started(90)),
        ),
        // Event 20 with an OPEN that fails its checks is event 22.
        row(ConnectDelayed, 20, idle_inc())
            .event(Event::BgpOpenWithDelayOpenTimerRunning(bad_as_open()))
            .note("invalid OPEN: event 22"),
        row(ConnectDelayed, 20, idle_inc().notify(2, 2))
            .event(Event::BgpOpenWithDelayOpenTimerRunning(bad_as_open()))
            .opts(NOTIF_WITHOUT_OPEN)
            .note("invalid OPEN: event 22, SendNOTIFICATIONwithoutOPEN"),
        // Events 21 and 22: Idle, counter +1; NOTIFICATION only with
        // SendNOTIFICATIONwithoutOPEN.
        row(ConnectDelayed, 21, idle_inc()),
        row(ConnectDelayed, 22, idle_inc()),
        row(ConnectDelayed, 21, idle_inc().notify(1, 3)).opts(NOTIF_WITHOUT_OPEN),
        row(ConnectDelayed, 22, idle_inc().notify(2, 3)).opts(NOTIF_WITHOUT_OPEN),
        // Event 24: with the DelayOpenTimer running the counter is unchanged.
        row(ConnectDelayed, 24, Expect::idle(Ctr::Same)),
        row(Connect, 24, idle_inc()),
    ];
    for n in STARTS {
        rows.push(row(Connect, n, Expect::stay()));
    }
    // Any other event: 8, 10-11, 13, 19, 23, 25-28.
    for n in [8, 10, 11, 13, 19, 23, 25, 26, 27, 28] {
        rows.push(row(Connect, n, idle_inc()));
        rows.push(row(ConnectDelayed, n, idle_inc()).note("DelayOpenTimer running"));
    }
    run(rows);
}

fn bad_as_open() -> bgp_wire::Open {
    let mut o = peer_open();
    o.parameters.clear();
    o.my_as = 64999;
    o
}

#[test]
fn active_state() {
    use Setup::*;
    let idle_inc = || Expect::idle(Ctr::Inc);
    let mut rows = vec![
        row(
            Active,
            2,
            Expect::idle(Ctr::Zero).timer(Timer::ConnectRetry, Tm::Stopped),
        ),
        row(ActiveDelayed, 2, Expect::idle(Ctr::Zero)),
        row(ActiveDelayed, 2, Expect::idle(Ctr::Zero).notify(6, 2))
            .opts(NOTIF_WITHOUT_OPEN)
            .note("DelayOpenTimer running and SendNOTIFICATIONwithoutOPEN: Cease"),
        row(Active, 2, Expect::idle(Ctr::Zero))
            .opts(NOTIF_WITHOUT_OPEN)
            .note("no DelayOpenTimer: no Cease"),
        // Event 9: restart the ConnectRetryTimer, connect, Connect...
        row(
            ActiveNotPassive,
            9,
            Expect::to(State::Connect)
                .connect()
                .timer(Timer::ConnectRetry, Tm::Started(120)),
        ),
        // ...unless passive: keep waiting.
        row(
            Active,
            9,
            Expect::stay().timer(Timer::ConnectRetry, Tm::Started(120)),
        )
        .note("PassiveTcpEstablishment"),
        row(
            ActiveDelayed,
            12,
            Expect::to(State::OpenSent)
                .send(Sent::Open)
                .timer(Timer::ConnectRetry, Tm::Stopped)
                .timer(Timer::DelayOpen, Tm::Stopped)
                .timer(Timer::Hold, Tm::Started(240)),
        ),
        row(Active, 14, Expect::stay()),
        row(Active, 15, Expect::stay().reject()),
        row(
            Active,
            16,
            Expect::to(State::OpenSent)
                .send(Sent::Open)
                .timer(Timer::ConnectRetry, Tm::Stopped)
                .timer(Timer::Hold, Tm::Started(240)),
        ),
        row(
            Active,
            17,
            Expect::to(State::OpenSent)
                .send(Sent::Open)
                .timer(Timer::ConnectRetry, Tm::Stopped)
                .timer(Timer::Hold, Tm::Started(240)),
        ),
        row(
            ActiveDelayOpen,
            16,
            Expect::stay()
                .timer(Timer::ConnectRetry, Tm::Stopped)
                .timer(Timer::DelayOpen, Tm::Started(5)),
        ),
        row(
            ActiveDelayOpen,
            17,
            Expect::stay()
                .timer(Timer::ConnectRetry, Tm::Stopped)
                .timer(Timer::DelayOpen, Tm::Started(5)),
        ),
        // Event 18: Idle, counter +1 (the connection is gone already).
        row(ActiveDelayed, 18, idle_inc().no_drop()),
        row(
            ActiveDelayed,
            20,
            Expect::to(State::OpenConfirm)
                .send(Sent::Open)
                .send(Sent::Keepalive)
                .timer(Timer::ConnectRetry, Tm::Stopped)
                .timer(Timer::DelayOpen, Tm::Stopped)
                .timer(Timer::Keepalive, Tm::Started(30))
                .timer(Timer::Hold, Tm::Started(90)),
        ),
        row(ActiveDelayed, 20, idle_inc())
            .event(Event::BgpOpenWithDelayOpenTimerRunning(bad_as_open()))
            .note("invalid OPEN: event 22"),
        row(ActiveDelayed, 21, idle_inc()),
        row(ActiveDelayed, 22, idle_inc()),
        row(ActiveDelayed, 21, idle_inc().notify(1, 3)).opts(NOTIF_WITHOUT_OPEN),
        row(ActiveDelayed, 22, idle_inc().notify(2, 3)).opts(NOTIF_WITHOUT_OPEN),
        row(ActiveDelayed, 24, Expect::idle(Ctr::Same)),
        row(Active, 24, idle_inc()),
    ];
    for n in STARTS {
        rows.push(row(Active, n, Expect::stay()));
    }
    // Any other event: 8, 10-11, 13, 19, 23, 25-28.
    for n in [8, 10, 11, 13, 19, 23, 25, 26, 27, 28] {
        rows.push(row(Active, n, idle_inc()));
        rows.push(row(ActiveDelayed, n, idle_inc()).note("DelayOpenTimer running"));
    }
    run(rows);
}

#[test]
fn open_sent_state() {
    use Setup::OpenSent;
    let idle_inc = || Expect::idle(Ctr::Inc);
    let mut rows = vec![
        row(OpenSent, 2, Expect::idle(Ctr::Zero).notify(6, 2)),
        row(OpenSent, 8, idle_inc().notify(6, 0)),
        row(OpenSent, 10, idle_inc().notify(4, 0)),
        // A second connection: tracked by the driver, no change here.
        row(OpenSent, 14, Expect::stay()),
        row(OpenSent, 15, Expect::stay()),
        row(OpenSent, 16, Expect::stay()),
        row(OpenSent, 17, Expect::stay()),
        // Event 18: close, restart the ConnectRetryTimer, Active.
        row(
            OpenSent,
            18,
            Expect::to(State::Active)
                .drop()
                .timer(Timer::ConnectRetry, Tm::Started(120))
                .timer(Timer::Hold, Tm::Stopped),
        ),
        // Event 19: KEEPALIVE, KeepaliveTimer, HoldTimer negotiated.
        row(
            OpenSent,
            19,
            Expect::to(State::OpenConfirm)
                .send(Sent::Keepalive)
                .timer(Timer::ConnectRetry, Tm::Stopped)
                .timer(Timer::DelayOpen, Tm::Stopped)
                .timer(Timer::Keepalive, Tm::Started(30))
                .timer(Timer::Hold, Tm::Started(90)),
        ),
        row(OpenSent, 19, idle_inc().notify(2, 2))
            .event(Event::BgpOpen(bad_as_open()))
            .note("OPEN that fails its checks: event 22"),
        row(OpenSent, 21, idle_inc().notify(1, 3)),
        row(OpenSent, 22, idle_inc().notify(2, 3)),
        row(OpenSent, 23, idle_inc().notify(6, 7)),
        row(OpenSent, 24, Expect::idle(Ctr::Same)),
        row(OpenSent, 25, idle_inc()).note("no NOTIFICATION in answer to a NOTIFICATION"),
    ];
    for n in STARTS {
        rows.push(row(OpenSent, n, Expect::stay()));
    }
    // Any other event: 9, 11-13 (FSM Error, unspecified), 20, 26-28
    // (unexpected message in OpenSent).
    for n in [9, 11, 12, 13] {
        rows.push(row(OpenSent, n, idle_inc().notify(5, 0)));
    }
    for n in [20, 26, 27, 28] {
        rows.push(row(OpenSent, n, idle_inc().notify(5, 1)));
    }
    run(rows);
}

#[test]
fn open_confirm_state() {
    use Setup::OpenConfirm;
    let idle_inc = || Expect::idle(Ctr::Inc);
    let mut rows = vec![
        row(OpenConfirm, 2, Expect::idle(Ctr::Zero).notify(6, 2)),
        row(OpenConfirm, 8, idle_inc().notify(6, 0)),
        row(OpenConfirm, 10, idle_inc().notify(4, 0)),
        row(
            OpenConfirm,
            11,
            Expect::stay()
                .send(Sent::Keepalive)
                .timer(Timer::Keepalive, Tm::Started(30)),
        ),
        row(OpenConfirm, 14, Expect::stay()),
        row(OpenConfirm, 15, Expect::stay()),
        row(OpenConfirm, 16, Expect::stay()),
        row(OpenConfirm, 17, Expect::stay()),
        row(OpenConfirm, 18, idle_inc()),
        row(OpenConfirm, 25, idle_inc()),
        row(OpenConfirm, 24, Expect::idle(Ctr::Same)),
        row(OpenConfirm, 19, idle_inc().notify(5, 2))
            .note("an OPEN on this connection: RFC 6608 unexpected message"),
        row(OpenConfirm, 21, idle_inc().notify(1, 3)),
        row(OpenConfirm, 22, idle_inc().notify(2, 3)),
        row(OpenConfirm, 23, idle_inc().notify(6, 7)),
        row(
            OpenConfirm,
            26,
            Expect::to(State::Established)
                .timer(Timer::Hold, Tm::Started(90))
                .timer(Timer::Keepalive, Tm::Unchanged),
        ),
    ];
    for n in STARTS {
        rows.push(row(OpenConfirm, n, Expect::stay()));
    }
    // Any other event: 9, 12-13, 20, 27-28.
    for n in [9, 12, 13] {
        rows.push(row(OpenConfirm, n, idle_inc().notify(5, 0)));
    }
    for n in [20, 27, 28] {
        rows.push(row(OpenConfirm, n, idle_inc().notify(5, 2)));
    }
    run(rows);
}

#[test]
fn established_state() {
    use Setup::Established;
    let idle_inc = || Expect::idle(Ctr::Inc);
    let mut rows = vec![
        row(Established, 2, Expect::idle(Ctr::Zero).notify(6, 2)),
        row(Established, 8, idle_inc().notify(6, 0)),
        row(Established, 10, idle_inc().notify(4, 0)),
        row(
            Established,
            11,
            Expect::stay()
                .send(Sent::Keepalive)
                .timer(Timer::Keepalive, Tm::Started(30)),
        ),
        row(Established, 14, Expect::stay()),
        row(Established, 15, Expect::stay()),
        row(Established, 16, Expect::stay()),
        row(Established, 17, Expect::stay()),
        row(Established, 19, idle_inc().notify(5, 3))
            .note("an OPEN on this connection: RFC 6608 unexpected message"),
        row(Established, 23, Expect::stay()).note("CollisionDetectEstablishedState off"),
        row(Established, 23, idle_inc().notify(6, 7)).opts(Opts {
            send_notification_without_open: false,
            collision_detect_established: true,
        }),
        row(Established, 18, idle_inc()),
        row(Established, 24, idle_inc()),
        row(Established, 25, idle_inc()),
        row(
            Established,
            26,
            Expect::stay().timer(Timer::Hold, Tm::Started(90)),
        ),
        row(
            Established,
            27,
            Expect::stay().timer(Timer::Hold, Tm::Started(90)),
        ),
        row(Established, 28, idle_inc().notify(3, 1)),
        row(Established, 21, idle_inc().notify(1, 3))
            .note("section 6.1 Message Header Error rather than FSM Error"),
    ];
    for n in STARTS {
        rows.push(row(Established, n, Expect::stay()));
    }
    // Any other event: 9, 12-13 (unspecified), 20, 22 (unexpected message in
    // Established).
    for n in [9, 12, 13] {
        rows.push(row(Established, n, idle_inc().notify(5, 0)));
    }
    for n in [20, 22] {
        rows.push(row(Established, n, idle_inc().notify(5, 3)));
    }
    run(rows);
}

/// The "deletes all routes associated with this connection" of the
/// Established rows that go to Idle, without graceful restart.
#[test]
fn established_to_idle_deletes_routes() {
    for n in [2, 8, 10, 18, 19, 20, 21, 22, 24, 25, 28, 9, 12, 13] {
        let mut s = setup(Setup::Established, Opts::default());
        s.handle_event(T1, ev(n)).unwrap();
        let actions = drain(&mut s);
        assert_eq!(s.state(), State::Idle, "event {n}");
        assert!(
            actions.contains(&Action::DeleteRoutes(vec![bgp_wire::AfiSafi::IPV4_UNICAST])),
            "event {n}: {actions:?}"
        );
        assert!(actions.contains(&Action::ReleaseResources), "event {n}");
    }
}

/// The configurations used by the tables are valid and the start events of
/// the tables are allowed.
#[test]
fn table_configuration() {
    let c: SessionConfig = config();
    assert!(c.validate().is_ok());
    assert!(c.allow_automatic_start && c.allow_automatic_stop && c.damp_peer_oscillations);
}
