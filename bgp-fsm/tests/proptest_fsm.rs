//! Property tests: random sequences of events, messages, decode errors,
//! route-layer calls and advances of virtual time never panic, and after
//! every step the session is in a legal state:
//!
//! - OpenConfirm and Established, and only they, have a Negotiated value,
//!   whose hold time is never 1 or 2 and whose keepalive is at most a third
//!   of it;
//! - each timer runs only in the states where RFC 4271 starts it
//!   (ConnectRetryTimer and DelayOpenTimer in Connect and Active, HoldTimer
//!   from OpenSent on, KeepaliveTimer in OpenConfirm and Established,
//!   IdleHoldTimer in Idle), never with a zero hold time;
//! - `poll_timeout` is the earliest deadline, and nothing has expired after
//!   `handle_timeout`;
//! - the StateChanged actions of a step chain from the old state to the new;
//!   Established and SessionDown come exactly with the transitions into
//!   Established and into Idle; OPENs are sent only on the way to OpenSent
//!   or OpenConfirm, UPDATEs only in Established.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::net::Ipv4Addr;
use std::time::Duration;

use proptest::prelude::*;

use bgp_fsm::{
    Action, Event, GracefulRestartConfig, Instant, OpenError, Session, SessionConfig, State, Stop,
    Timer,
};
use bgp_wire::capability::{GracefulRestart, GracefulRestartFamily};
use bgp_wire::error::CeaseSubcode;
use bgp_wire::{
    AfiSafi, Capability, DecodeError, ErrorCode, Keepalive, Message, Notification, Open,
    RouteRefresh,
};
use support::*;

#[derive(Debug, Clone)]
enum Op {
    Event(Event),
    Message(Message),
    DecodeError(DecodeError),
    Advance(u64),
    UntilNextTimeout,
    SendUpdate,
    InitialUpdatesSent,
    /// The next step towards Established from wherever the session is.
    Forward,
}

fn open_variant() -> impl Strategy<Value = Open> {
    prop_oneof![
        4 => Just(peer_open()),
        1 => Just({
            let mut o = peer_open();
            o.hold_time = 0;
            o
        }),
        1 => Just({
            let mut o = peer_open();
            o.hold_time = 3;
            o
        }),
        1 => Just({
            let mut o = peer_open();
            o.hold_time = 2;
            o
        }),
        1 => Just({
            let mut o = peer_open();
            o.bgp_identifier = Ipv4Addr::UNSPECIFIED;
            o
        }),
        1 => Just({
            let mut o = peer_open();
            o.version = 3;
            o
        }),
        1 => Just(Open::new(64999, 90, PEER_ID, vec![])),
        2 => Just(peer_open_with(vec![Capability::GracefulRestart(GracefulRestart {
            flags: GracefulRestart::NOTIFICATION,
            restart_time: 30,
            families: vec![GracefulRestartFamily::new(AfiSafi::IPV4_UNICAST, true)],
        })])),
    ]
}

fn notification_variant() -> impl Strategy<Value = Notification> {
    prop_oneof![
        Just(Notification::shutdown("bye")),
        Just(Notification::hold_timer_expired()),
        Just(Notification::hard_reset(&Notification::shutdown("x"))),
        Just(Notification::new(ErrorCode::from_pair(2, 1), vec![0, 4])),
        Just(Notification::cease(
            CeaseSubcode::ConnectionCollisionResolution
        )),
    ]
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        Just(Event::ManualStart),
        Just(Event::manual_stop()),
        Just(Event::ManualStop(Stop::administrative_reset("r"))),
        Just(Event::AutomaticStart),
        Just(Event::ManualStartWithPassiveTcpEstablishment),
        Just(Event::AutomaticStartWithPassiveTcpEstablishment),
        Just(Event::AutomaticStartWithDampPeerOscillations),
        Just(Event::AutomaticStartWithDampPeerOscillationsAndPassiveTcpEstablishment),
        Just(Event::automatic_stop()),
        Just(Event::ConnectRetryTimerExpires),
        Just(Event::HoldTimerExpires),
        Just(Event::KeepaliveTimerExpires),
        Just(Event::DelayOpenTimerExpires),
        Just(Event::IdleHoldTimerExpires),
        Just(Event::TcpConnectionValid),
        Just(Event::TcpCrInvalid),
        Just(Event::TcpCrAcked),
        Just(Event::TcpConnectionConfirmed),
        Just(Event::TcpConnectionFails),
        open_variant().prop_map(Event::BgpOpen),
        open_variant().prop_map(Event::BgpOpenWithDelayOpenTimerRunning),
        Just(Event::BgpHeaderErr(DecodeError::ConnectionNotSynchronized)),
        Just(Event::BgpOpenMsgErr(OpenError::UnacceptableHoldTime {
            hold_time: 1
        })),
        Just(Event::OpenCollisionDump),
        notification_variant().prop_map(Event::NotifMsgVerErr),
        notification_variant().prop_map(Event::NotifMsg),
        Just(Event::KeepAliveMsg),
        Just(Event::UpdateMsg(some_update())),
        Just(Event::UpdateMsg(eor(AfiSafi::IPV4_UNICAST))),
        Just(Event::UpdateMsgErr(DecodeError::update(
            bgp_wire::error::UpdateMessageSubcode::MalformedAsPath,
            vec![],
            "x"
        ))),
    ]
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        3 => open_variant().prop_map(Message::Open),
        3 => Just(Message::Keepalive(Keepalive)),
        2 => Just(Message::Update(some_update())),
        2 => Just(Message::Update(eor(AfiSafi::IPV4_UNICAST))),
        1 => Just(Message::Update(eor(AfiSafi::IPV6_UNICAST))),
        2 => notification_variant().prop_map(Message::Notification),
        1 => Just(Message::RouteRefresh(RouteRefresh::new(AfiSafi::IPV4_UNICAST))),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => event().prop_map(Op::Event),
        6 => message().prop_map(Op::Message),
        1 => prop_oneof![
            Just(DecodeError::BadMessageLength { length: 5 }),
            Just(DecodeError::open(
                bgp_wire::error::OpenMessageSubcode::Unspecific,
                vec![],
                "x"
            )),
            Just(DecodeError::update(
                bgp_wire::error::UpdateMessageSubcode::InvalidNetworkField,
                vec![],
                "x"
            )),
            Just(DecodeError::RouteRefreshLength { message: bytes::Bytes::new() }),
        ]
        .prop_map(Op::DecodeError),
        4 => (0u64..400).prop_map(Op::Advance),
        3 => Just(Op::UntilNextTimeout),
        1 => Just(Op::SendUpdate),
        1 => Just(Op::InitialUpdatesSent),
        6 => Just(Op::Forward),
    ]
}

#[derive(Debug, Clone)]
struct Knobs {
    delay_open: bool,
    notif_without_open: bool,
    collision_established: bool,
    allow_auto: bool,
    graceful_restart: Option<bool>,
    hold_time: u16,
    keepalive: Option<u64>,
}

fn knobs() -> impl Strategy<Value = Knobs> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop::bool::weighted(0.8),
        prop::option::of(any::<bool>()),
        prop_oneof![Just(0u16), Just(3), Just(9), Just(90), Just(180)],
        prop::option::of(1u64..60),
    )
        .prop_map(|(d, n, c, a, g, h, k)| Knobs {
            delay_open: d,
            notif_without_open: n,
            collision_established: c,
            allow_auto: a,
            graceful_restart: g,
            hold_time: h,
            keepalive: k,
        })
}

fn build(k: &Knobs) -> SessionConfig {
    let mut c = config();
    c.delay_open = k.delay_open;
    c.send_notification_without_open = k.notif_without_open;
    c.collision_detect_established_state = k.collision_established;
    c.allow_automatic_start = k.allow_auto;
    c.allow_automatic_stop = k.allow_auto;
    c.hold_time = k.hold_time;
    c.keepalive_time = k.keepalive.map(Duration::from_secs);
    c.capabilities.graceful_restart = k.graceful_restart.map(|n| GracefulRestartConfig {
        notification: n,
        ..GracefulRestartConfig::default()
    });
    c
}

fn check_invariants(s: &Session, now: Instant) -> Result<(), TestCaseError> {
    let st = s.state();
    let neg = s.negotiated();
    prop_assert_eq!(
        neg.is_some(),
        matches!(st, State::OpenConfirm | State::Established),
        "negotiated in {}",
        st
    );
    if let Some(n) = neg {
        prop_assert!(!matches!(n.hold_time, 1 | 2));
        match n.keepalive_time {
            Some(k) => {
                prop_assert!(n.hold_time > 0);
                prop_assert!(k <= Duration::from_secs(u64::from(n.hold_time)) / 3);
                prop_assert!(!k.is_zero());
            }
            None => prop_assert_eq!(n.hold_time, 0),
        }
        prop_assert_eq!(
            s.timer(Timer::Hold).is_some(),
            n.hold_time > 0,
            "HoldTimer in {} with hold time {}",
            st,
            n.hold_time
        );
        if s.timer(Timer::Keepalive).is_some() {
            prop_assert!(n.hold_time > 0);
        }
    }
    let allowed = |t: Timer| match t {
        Timer::ConnectRetry | Timer::DelayOpen => matches!(st, State::Connect | State::Active),
        Timer::Hold => matches!(
            st,
            State::OpenSent | State::OpenConfirm | State::Established
        ),
        Timer::Keepalive => matches!(st, State::OpenConfirm | State::Established),
        Timer::IdleHold => st == State::Idle,
        Timer::Restart | Timer::Stale | Timer::LongLivedStale => true,
    };
    for t in Timer::ALL {
        if let Some(a) = s.timer(t) {
            prop_assert!(allowed(t), "{} running in {}", t, st);
            prop_assert_eq!(a.deadline, now.max(a.deadline), "{} expired and left", t);
            if t == Timer::Hold {
                prop_assert!(!a.duration.is_zero(), "HoldTimer with 0");
            }
        }
    }
    if s.timer(Timer::DelayOpen).is_some() {
        prop_assert!(s.config().delay_open);
    }
    if s.timer(Timer::IdleHold).is_some() {
        prop_assert!(s.damping_active());
    }
    if st == State::OpenSent {
        prop_assert!(s.timer(Timer::ConnectRetry).is_none());
        prop_assert!(s.timer(Timer::Hold).is_some());
    }
    let earliest = Timer::ALL
        .iter()
        .filter_map(|t| s.timer(*t))
        .map(|a| a.deadline)
        .min();
    prop_assert_eq!(s.poll_timeout(), earliest);
    Ok(())
}

fn check_actions(before: State, after: State, actions: &[Action]) -> Result<(), TestCaseError> {
    let mut cur = before;
    let mut entered_established = false;
    let mut entered_idle = 0;
    for a in actions {
        match a {
            Action::StateChanged { from, to } => {
                prop_assert_eq!(*from, cur);
                prop_assert_ne!(from, to);
                cur = *to;
                if *to == State::Established {
                    entered_established = true;
                }
                if *to == State::Idle {
                    entered_idle += 1;
                }
            }
            Action::Send(Message::Open(_)) => {
                prop_assert!(matches!(after, State::OpenSent | State::OpenConfirm));
            }
            Action::Send(Message::Update(_)) | Action::Send(Message::RouteRefresh(_)) => {
                prop_assert_eq!(before, State::Established);
            }
            _ => {}
        }
    }
    prop_assert_eq!(cur, after);
    let established = actions
        .iter()
        .filter(|a| matches!(a, Action::Established(_)))
        .count();
    prop_assert_eq!(established, usize::from(entered_established));
    let downs = actions
        .iter()
        .filter(|a| matches!(a, Action::SessionDown(_)))
        .count();
    prop_assert_eq!(downs, entered_idle);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_keep_the_session_legal(
        k in knobs(),
        ops in prop::collection::vec(op(), 1..80),
    ) {
        let mut s = Session::new(build(&k)).unwrap();
        let mut now = Instant::ORIGIN;
        check_invariants(&s, now)?;
        for op in ops {
            let before = s.state();
            let counter = s.connect_retry_counter();
            match op {
                Op::Event(e) => {
                    let n = e.number();
                    let r = s.handle_event(now, e);
                    if r.is_err() {
                        prop_assert!(matches!(n, 3 | 5..=8));
                        prop_assert!(s.poll_action().is_none());
                    }
                }
                Op::Message(m) => s.handle_message(now, m),
                Op::DecodeError(e) => s.handle_decode_error(now, e),
                Op::Advance(secs) => {
                    now = now + Duration::from_secs(secs);
                    s.handle_timeout(now);
                }
                Op::UntilNextTimeout => {
                    if let Some(t) = s.poll_timeout() {
                        now = now.max(t);
                        s.handle_timeout(now);
                    }
                }
                Op::SendUpdate => {
                    let r = s.send_update(now, some_update());
                    prop_assert_eq!(r.is_ok(), before == State::Established);
                }
                Op::Forward => match before {
                    State::Idle => s.handle_event(now, Event::ManualStart).unwrap(),
                    State::Connect => s.handle_event(now, Event::TcpCrAcked).unwrap(),
                    State::Active => s.handle_event(now, Event::TcpConnectionConfirmed).unwrap(),
                    State::OpenSent => s.handle_message(now, Message::Open(peer_open())),
                    State::OpenConfirm => s.handle_message(now, Message::Keepalive(Keepalive)),
                    State::Established => s.handle_message(now, Message::Update(some_update())),
                },
                Op::InitialUpdatesSent => {
                    let r = s.initial_updates_sent(now, AfiSafi::IPV4_UNICAST);
                    prop_assert_eq!(r.is_ok(), before == State::Established);
                }
            }
            let actions: Vec<Action> = s.drain_actions().collect();
            check_actions(before, s.state(), &actions)?;
            check_invariants(&s, now)?;
            // The counter only goes back to zero through a start or a stop.
            if s.connect_retry_counter() < counter {
                prop_assert_eq!(s.connect_retry_counter(), 0);
            }
        }
    }
}
