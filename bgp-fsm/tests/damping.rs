//! Damping of peer oscillations: the IdleHoldTimer, its exponential
//! back-off, its reset after a stable session, and the automatic restarts
//! it paces; and the administrative events refused without the optional
//! attributes they need.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use bgp_fsm::{Action, Event, EventError, Instant, Session, State, Timer};
use bgp_wire::Message;
use support::*;

/// Runs `s` through a failure: from Idle, waits for the automatic restart
/// (at the IdleHoldTimer's deadline), connects, gets the peer's OPEN and
/// fails on a hold timer expiry in OpenConfirm. Returns the time of the
/// failure and the IdleHoldTime then started.
fn flap(s: &mut Session, now: &mut Instant) -> std::time::Duration {
    if s.state() == State::Idle {
        let at = s.timer(Timer::IdleHold).expect("IdleHoldTimer").deadline;
        *now = at;
        s.handle_timeout(*now);
        assert_ne!(s.state(), State::Idle, "automatic restart");
    }
    assert!(drain(s).contains(&Action::InitializeResources));
    feed(s, *now, [Event::TcpCrAcked, Event::BgpOpen(peer_open())]);
    s.handle_event(*now, Event::HoldTimerExpires).unwrap();
    assert_eq!(s.state(), State::Idle);
    drain(s);
    let hold = s.timer(Timer::IdleHold).expect("IdleHoldTimer armed");
    assert_eq!(hold.deadline, *now + hold.duration);
    hold.duration
}

#[test]
fn back_off_doubles_up_to_the_maximum() {
    let mut c = config();
    c.idle_hold_time = secs(5);
    c.max_idle_hold_time = secs(60);
    let mut s = Session::new(c).unwrap();
    let mut now = t(0);
    s.handle_event(now, Event::AutomaticStartWithDampPeerOscillations)
        .unwrap();
    assert!(s.damping_active());
    let holds: Vec<u64> = (0..7).map(|_| flap(&mut s, &mut now).as_secs()).collect();
    assert_eq!(holds, [5, 10, 20, 40, 60, 60, 60]);
    assert_eq!(s.damping().oscillations(), 7);
}

#[test]
fn stable_session_resets_the_back_off() {
    let mut c = config();
    c.idle_hold_reset_time = secs(300);
    let mut s = Session::new(c).unwrap();
    let mut now = t(0);
    s.handle_event(now, Event::AutomaticStartWithDampPeerOscillations)
        .unwrap();
    assert_eq!(flap(&mut s, &mut now), secs(5));
    assert_eq!(flap(&mut s, &mut now), secs(10));
    assert_eq!(flap(&mut s, &mut now), secs(20));
    // Next restart: Established for 10 minutes (keepalives flowing), then a
    // failure: the back-off starts over.
    now = s.timer(Timer::IdleHold).unwrap().deadline;
    s.handle_timeout(now);
    feed(
        &mut s,
        now,
        [
            Event::TcpCrAcked,
            Event::BgpOpen(peer_open()),
            Event::KeepAliveMsg,
        ],
    );
    assert_eq!(s.state(), State::Established);
    let end = now + secs(600);
    while now < end {
        now = now + secs(30);
        s.handle_message(now, Message::Keepalive(bgp_wire::Keepalive));
        s.handle_timeout(now);
    }
    assert_eq!(s.state(), State::Established);
    s.handle_event(now, Event::TcpConnectionFails).unwrap();
    assert_eq!(s.timer(Timer::IdleHold).unwrap().duration, secs(5));
    assert_eq!(s.damping().idle_hold_time(), secs(10));
    // A session that was up for less than the stable time does not reset it.
    now = s.timer(Timer::IdleHold).unwrap().deadline;
    s.handle_timeout(now);
    feed(
        &mut s,
        now,
        [
            Event::TcpCrAcked,
            Event::BgpOpen(peer_open()),
            Event::KeepAliveMsg,
        ],
    );
    now = now + secs(60);
    s.handle_event(now, Event::TcpConnectionFails).unwrap();
    assert_eq!(s.timer(Timer::IdleHold).unwrap().duration, secs(10));
}

#[test]
fn transitions_without_damping_keep_the_current_hold() {
    let mut s = Session::new(config()).unwrap();
    let mut now = t(0);
    s.handle_event(now, Event::AutomaticStartWithDampPeerOscillations)
        .unwrap();
    assert_eq!(flap(&mut s, &mut now), secs(5));
    // Connect fails (Connect, event 18, no DelayOpen): back to Idle without
    // damping: the IdleHoldTime is held, not doubled.
    now = s.timer(Timer::IdleHold).unwrap().deadline;
    s.handle_timeout(now);
    assert_eq!(s.state(), State::Connect);
    s.handle_event(now, Event::TcpConnectionFails).unwrap();
    assert_eq!(s.state(), State::Idle);
    assert_eq!(s.timer(Timer::IdleHold).unwrap().duration, secs(10));
    assert_eq!(s.damping().idle_hold_time(), secs(10));
}

#[test]
fn events_during_the_idle_hold() {
    let mut s = Session::new(config()).unwrap();
    let mut now = t(0);
    s.handle_event(now, Event::AutomaticStartWithDampPeerOscillations)
        .unwrap();
    flap(&mut s, &mut now);
    let deadline = s.timer(Timer::IdleHold).unwrap().deadline;
    // An automatic start waits for the IdleHoldTimer (now passive).
    s.handle_event(
        now,
        Event::AutomaticStartWithDampPeerOscillationsAndPassiveTcpEstablishment,
    )
    .unwrap();
    assert_eq!(s.state(), State::Idle);
    s.handle_timeout(deadline);
    assert_eq!(s.state(), State::Active, "passive restart");
    assert!(!drain(&mut s).contains(&Action::Connect));

    // A manual start does not wait.
    let mut s = Session::new(config()).unwrap();
    let mut now = t(0);
    s.handle_event(now, Event::AutomaticStartWithDampPeerOscillations)
        .unwrap();
    flap(&mut s, &mut now);
    s.handle_event(now, Event::ManualStart).unwrap();
    assert_eq!(s.state(), State::Connect);
    assert!(s.timer(Timer::IdleHold).is_none());
    assert!(!s.damping_active());

    // A manual stop in Idle cancels the automatic restart and the back-off.
    let mut s = Session::new(config()).unwrap();
    let mut now = t(0);
    s.handle_event(now, Event::AutomaticStartWithDampPeerOscillations)
        .unwrap();
    flap(&mut s, &mut now);
    flap(&mut s, &mut now);
    s.handle_event(now, Event::manual_stop()).unwrap();
    assert!(s.timer(Timer::IdleHold).is_none());
    s.handle_timeout(now + secs(1000));
    assert_eq!(s.state(), State::Idle);
    assert_eq!(s.damping().idle_hold_time(), secs(5));

    // A manual stop of a running damped session: no automatic restart.
    let mut s = Session::new(config()).unwrap();
    s.handle_event(t(0), Event::AutomaticStartWithDampPeerOscillations)
        .unwrap();
    s.handle_event(t(1), Event::manual_stop()).unwrap();
    assert_eq!(s.poll_timeout(), None);

    // An automatic stop counts as an oscillation and restarts later.
    let mut s = session_in(config(), State::Idle, peer_open());
    s.handle_event(t(0), Event::AutomaticStartWithDampPeerOscillations)
        .unwrap();
    feed(
        &mut s,
        t(0),
        [
            Event::TcpCrAcked,
            Event::BgpOpen(peer_open()),
            Event::KeepAliveMsg,
        ],
    );
    s.handle_event(t(1), Event::automatic_stop()).unwrap();
    assert_eq!(s.timer(Timer::IdleHold).unwrap().deadline, t(6));
    // Without damping no IdleHoldTimer runs at all.
    let mut s = session_in(config(), State::Established, peer_open());
    s.handle_event(t(1), Event::automatic_stop()).unwrap();
    assert_eq!(s.timer(Timer::IdleHold), None);
    s.handle_event(t(2), Event::IdleHoldTimerExpires).unwrap();
    assert_eq!(s.state(), State::Idle);
}

#[test]
fn administrative_events_need_their_attributes() {
    let mut c = config();
    c.allow_automatic_start = false;
    c.allow_automatic_stop = false;
    c.damp_peer_oscillations = false;
    let mut s = Session::new(c.clone()).unwrap();
    for (e, want) in [
        (
            Event::AutomaticStart,
            EventError::AutomaticStartNotAllowed { event: 3 },
        ),
        (
            Event::AutomaticStartWithPassiveTcpEstablishment,
            EventError::AutomaticStartNotAllowed { event: 5 },
        ),
        (
            Event::AutomaticStartWithDampPeerOscillations,
            EventError::AutomaticStartNotAllowed { event: 6 },
        ),
        (Event::automatic_stop(), EventError::AutomaticStopNotAllowed),
    ] {
        assert_eq!(s.handle_event(t(0), e), Err(want));
        assert_eq!(s.state(), State::Idle);
        assert!(s.poll_action().is_none());
    }
    c.allow_automatic_start = true;
    let mut s = Session::new(c).unwrap();
    assert_eq!(
        s.handle_event(
            t(0),
            Event::AutomaticStartWithDampPeerOscillationsAndPassiveTcpEstablishment
        ),
        Err(EventError::DampingNotEnabled { event: 7 })
    );
    assert!(s.handle_event(t(0), Event::AutomaticStart).is_ok());
    assert_eq!(s.state(), State::Connect);
    // Manual events need nothing.
    assert!(s.handle_event(t(1), Event::manual_stop()).is_ok());
}
