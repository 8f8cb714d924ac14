//! Two sessions wired to each other in memory, in virtual time: messages
//! are encoded and decoded with bgp-wire through each side's codec context.
//! Session establishment (active/passive, DelayOpen), keepalives over
//! hours, a frozen peer and the hold timer, a shutdown communication, UPDATE
//! passthrough and End-of-RIB, graceful restart across a hold timer expiry.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use bgp_fsm::{
    Action, DownReason, Event, FixedJitter, GracefulRestartConfig, NotificationDirection, Session,
    State, Stop, Timer,
};
use bgp_wire::{AfiSafi, Message};
use support::*;

fn count_sent(log: &[Action], pred: impl Fn(&Message) -> bool) -> usize {
    log.iter()
        .filter(|a| matches!(a, Action::Send(m) if pred(m)))
        .count()
}

#[test]
fn active_and_passive_reach_established() {
    let mut p = Pair::new(config(), peer_config());
    p.a.handle_event(p.now, Event::ManualStart).unwrap();
    p.b.handle_event(p.now, Event::ManualStartWithPassiveTcpEstablishment)
        .unwrap();
    p.settle();
    assert_eq!(p.states(), (State::Established, State::Established));
    // Both saw the other's OPEN and reported Established with the same hold.
    for log in [&p.log_a, &p.log_b] {
        assert!(log.iter().any(|a| matches!(a, Action::OpenReceived(_))));
        let neg = log
            .iter()
            .find_map(|a| match a {
                Action::Established(n) => Some(n.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(neg.hold_time, 90);
        assert_eq!(neg.families, [AfiSafi::IPV4_UNICAST]);
    }
    // The passive side never connected.
    assert!(!p.log_b.contains(&Action::Connect));
    assert_eq!(
        p.a.connection_origin(),
        Some(bgp_fsm::ConnectionOrigin::Outgoing)
    );
    assert_eq!(
        p.b.connection_origin(),
        Some(bgp_fsm::ConnectionOrigin::Incoming)
    );
}

#[test]
fn hours_of_keepalives() {
    let mut p = Pair::new(config(), peer_config());
    p.a.handle_event(p.now, Event::ManualStart).unwrap();
    p.b.handle_event(p.now, Event::ManualStartWithPassiveTcpEstablishment)
        .unwrap();
    p.settle();
    let start = p.log_a.len();
    p.run_for(secs(3 * 3600));
    assert_eq!(p.states(), (State::Established, State::Established));
    // One KEEPALIVE every 30 s from each side.
    let ka = count_sent(&p.log_a[start..], |m| matches!(m, Message::Keepalive(_)));
    assert_eq!(ka, 3 * 3600 / 30);
    assert_eq!(p.a.connect_retry_counter(), 0);
}

#[test]
fn both_passive_never_connect() {
    let mut p = Pair::new(config(), peer_config());
    p.a.handle_event(p.now, Event::ManualStartWithPassiveTcpEstablishment)
        .unwrap();
    p.b.handle_event(p.now, Event::ManualStartWithPassiveTcpEstablishment)
        .unwrap();
    p.run_for(secs(3600));
    assert_eq!(p.states(), (State::Active, State::Active));
    assert!(!p.log_a.contains(&Action::Connect) && !p.log_b.contains(&Action::Connect));
    // The ConnectRetryTimer keeps being restarted in Active.
    assert!(p.a.timer(Timer::ConnectRetry).is_some());
}

#[test]
fn active_retries_until_the_peer_listens() {
    let mut p = Pair::new(config(), peer_config());
    // B is not started: A's connection attempts fail, A goes to Idle
    // (Connect, event 18) and restarts automatically (damped start).
    p.a.handle_event(p.now, Event::AutomaticStartWithDampPeerOscillations)
        .unwrap();
    p.run_for(secs(20));
    assert!(p.a.connect_retry_counter() == 0);
    let attempts = p.log_a.iter().filter(|a| **a == Action::Connect).count();
    assert!(attempts >= 3, "{attempts} attempts");
    p.b.handle_event(p.now, Event::ManualStartWithPassiveTcpEstablishment)
        .unwrap();
    p.run_for(secs(10));
    assert_eq!(p.states(), (State::Established, State::Established));
}

#[test]
fn delay_open_waits_for_the_peer() {
    // B delays its OPEN: A's OPEN arrives first, B answers OPEN + KEEPALIVE.
    let mut cb = peer_config();
    cb.delay_open = true;
    let mut p = Pair::new(config(), cb.clone());
    p.b.handle_event(p.now, Event::ManualStartWithPassiveTcpEstablishment)
        .unwrap();
    p.a.handle_event(p.now, Event::ManualStart).unwrap();
    p.settle();
    assert_eq!(p.states(), (State::Established, State::Established));
    let b_sent: Vec<&Message> = p
        .log_b
        .iter()
        .filter_map(|a| match a {
            Action::Send(m) => Some(m),
            _ => None,
        })
        .collect();
    assert!(matches!(b_sent[0], Message::Open(_)));
    assert!(matches!(b_sent[1], Message::Keepalive(_)));

    // Both delay: nobody sends an OPEN until a DelayOpenTimer expires (5 s).
    let mut ca = config();
    ca.delay_open = true;
    let mut p = Pair::new(ca, cb);
    p.b.handle_event(p.now, Event::ManualStartWithPassiveTcpEstablishment)
        .unwrap();
    p.a.handle_event(p.now, Event::ManualStart).unwrap();
    p.settle();
    assert_eq!(p.states(), (State::Connect, State::Active));
    assert!(p.a.timer(Timer::DelayOpen).is_some());
    p.run_for(secs(4));
    assert_eq!(p.states(), (State::Connect, State::Active));
    p.run_for(secs(1));
    assert_eq!(p.states(), (State::Established, State::Established));
}

#[test]
fn frozen_peer_hold_timer_expires_and_session_comes_back() {
    let mut ca = config();
    ca.capabilities.graceful_restart = None;
    let mut p = Pair::new(ca, peer_config());
    p.a.handle_event(p.now, Event::AutomaticStartWithDampPeerOscillations)
        .unwrap();
    p.b.handle_event(
        p.now,
        Event::AutomaticStartWithDampPeerOscillationsAndPassiveTcpEstablishment,
    )
    .unwrap();
    p.settle();
    assert_eq!(p.states(), (State::Established, State::Established));
    p.run_for(secs(100));
    // SIGSTOP: B neither reads nor writes.
    p.b_frozen = true;
    let frozen_at = p.now;
    let log_start = p.log_a.len();
    p.run_for(secs(95));
    assert_eq!(p.a.state(), State::Idle);
    // A sent Hold Timer Expired at most 90 s after the last message from B.
    let hte = p.log_a[log_start..]
        .iter()
        .find_map(|a| match a {
            Action::Notification(r) if r.direction == NotificationDirection::Sent => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!((hte.code(), hte.subcode()), (4, 0));
    assert!(
        p.log_a[log_start..].iter().any(|a| matches!(a,
        Action::SessionDown(d) if d.reason == DownReason::HoldTimerExpired && d.was_established()))
    );
    assert!(p.now - frozen_at <= secs(95));
    // SIGCONT: B finds its connection gone, both restart, Established again.
    p.unfreeze();
    p.run_for(secs(30));
    assert_eq!(p.states(), (State::Established, State::Established));
}

#[test]
fn shutdown_communication_reaches_the_peer() {
    let mut p = Pair::new(config(), peer_config());
    p.a.handle_event(p.now, Event::ManualStart).unwrap();
    p.b.handle_event(p.now, Event::ManualStartWithPassiveTcpEstablishment)
        .unwrap();
    p.settle();
    p.a.handle_event(
        p.now,
        Event::ManualStop(Stop::administrative_shutdown(
            "maintenance window, back at 14:00",
        )),
    )
    .unwrap();
    p.settle();
    assert_eq!(p.states(), (State::Idle, State::Idle));
    let received = p
        .log_b
        .iter()
        .find_map(|a| match a {
            Action::Notification(r) if r.direction == NotificationDirection::Received => Some(r),
            _ => None,
        })
        .unwrap();
    assert_eq!((received.code(), received.subcode()), (6, 2));
    assert_eq!(
        received.data.shutdown_communication(),
        Some("maintenance window, back at 14:00")
    );
    assert_eq!(
        received.to_string(),
        "received Cease / Administrative Shutdown: \"maintenance window, back at 14:00\""
    );
    assert!(p.log_b.iter().any(|a| matches!(a,
        Action::SessionDown(d) if matches!(&d.reason, DownReason::PeerNotification(n) if n.code.to_pair() == (6, 2)))));
}

#[test]
fn updates_and_end_of_rib_pass_through() {
    let mut p = Pair::new(config(), peer_config());
    p.a.handle_event(p.now, Event::ManualStart).unwrap();
    p.b.handle_event(p.now, Event::ManualStartWithPassiveTcpEstablishment)
        .unwrap();
    p.settle();
    p.run_for(secs(10));
    p.a.send_update(p.now, some_update()).unwrap();
    assert!(
        p.a.initial_updates_sent(p.now, AfiSafi::IPV4_UNICAST)
            .unwrap()
    );
    p.settle();
    let got: Vec<&Action> = p
        .log_b
        .iter()
        .filter(|a| {
            matches!(
                a,
                Action::UpdateReceived(_)
                    | Action::EndOfRibReceived(_)
                    | Action::AllEndOfRibReceived
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            &Action::UpdateReceived(some_update()),
            &Action::EndOfRibReceived(AfiSafi::IPV4_UNICAST),
            &Action::AllEndOfRibReceived
        ]
    );
    // The UPDATE restarted B's hold timer and A's keepalive timer.
    assert_eq!(p.b.timer(Timer::Hold).unwrap().deadline, p.now + secs(90));
    assert_eq!(
        p.a.timer(Timer::Keepalive).unwrap().deadline,
        p.now + secs(30)
    );
    // Route refresh.
    p.b.send_route_refresh(p.now, bgp_wire::RouteRefresh::new(AfiSafi::IPV4_UNICAST))
        .unwrap();
    p.settle();
    assert!(
        p.log_a
            .iter()
            .any(|a| matches!(a, Action::RouteRefreshReceived(_)))
    );
}

#[test]
fn graceful_restart_across_a_hold_timer_expiry() {
    let gr = || Some(GracefulRestartConfig::default());
    let mut ca = config();
    ca.capabilities.graceful_restart = gr();
    let mut cb = peer_config();
    cb.capabilities.graceful_restart = gr();
    let mut p = Pair::new(ca, cb);
    p.a.handle_event(p.now, Event::ManualStart).unwrap();
    p.b.handle_event(p.now, Event::ManualStartWithPassiveTcpEstablishment)
        .unwrap();
    p.settle();
    assert!(p.a.negotiated().unwrap().graceful_restart.notification());
    p.b_frozen = true;
    let start = p.log_a.len();
    p.run_for(secs(91));
    assert_eq!(p.a.state(), State::Idle);
    let a = &p.log_a[start..];
    // N bit on both sides: Hold Timer Expired keeps B's routes as stale, for
    // B's restart time.
    assert!(a.contains(&Action::RoutesStale(vec![AfiSafi::IPV4_UNICAST])));
    assert!(!a.iter().any(|x| matches!(x, Action::DeleteRoutes(_))));
    assert_eq!(p.a.timer(Timer::Restart).unwrap().duration, secs(120));
    // B comes back; once its End-of-RIB arrives the stale routes are swept.
    p.unfreeze();
    p.a.handle_event(p.now, Event::ManualStart).unwrap();
    p.b.handle_event(p.now, Event::ManualStartWithPassiveTcpEstablishment)
        .unwrap();
    p.settle();
    assert_eq!(p.states(), (State::Established, State::Established));
    // B's OPEN lists IPv4 without the F bit: the stale routes go at once
    // (RFC 4724 4.2).
    assert!(p.log_a[start..].contains(&Action::DeleteStaleRoutes(vec![AfiSafi::IPV4_UNICAST])));
}

#[test]
fn jitter_comes_from_the_caller() {
    let mut s = Session::new(config())
        .unwrap()
        .with_jitter(FixedJitter(0.75));
    feed(&mut s, t(0), [Event::ManualStart]);
    assert_eq!(s.timer(Timer::ConnectRetry).unwrap().duration, secs(90));
    feed(
        &mut s,
        t(0),
        [Event::TcpCrAcked, Event::BgpOpen(peer_open())],
    );
    // KeepaliveTimer jittered; HoldTimer not.
    assert_eq!(
        s.timer(Timer::Keepalive).unwrap().duration,
        std::time::Duration::from_millis(22_500)
    );
    assert_eq!(s.timer(Timer::Hold).unwrap().duration, secs(90));
    // Out-of-range factors are clamped.
    let mut s = Session::new(config())
        .unwrap()
        .with_jitter(FixedJitter(0.1));
    feed(&mut s, t(0), [Event::ManualStart]);
    assert_eq!(s.timer(Timer::ConnectRetry).unwrap().duration, secs(90));
}
