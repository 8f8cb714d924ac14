//! Graceful restart: the helper keeping the peer's routes across a
//! restart (RFC 4724 4.2), End-of-RIB, the restart, stale and long-lived
//! stale timers, the N bit and Hard Reset of RFC 8538, long-lived graceful
//! restart (RFC 9494), and the restarting speaker's R bit.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use bgp_fsm::graceful_restart::HelperState;
use bgp_fsm::{
    Action, CollisionResolution, ConnectionOrigin, EndOfRibPolicy, Event, GracefulRestartConfig,
    HardReset, LongLivedGracefulRestartConfig, SendError, Session, SessionConfig, State, Stop,
    Timer,
};
use bgp_wire::capability::{
    GracefulRestart, GracefulRestartFamily, LongLivedGracefulRestart,
    LongLivedGracefulRestartFamily, Multiprotocol,
};
use bgp_wire::error::CeaseSubcode;
use bgp_wire::{AfiSafi, Capability, Message, Notification, Open};
use support::*;

const V4: AfiSafi = AfiSafi::IPV4_UNICAST;
const V6: AfiSafi = AfiSafi::IPV6_UNICAST;

fn gr_config() -> SessionConfig {
    let mut c = config();
    c.capabilities.families = vec![V4, V6];
    c.capabilities.graceful_restart = Some(GracefulRestartConfig::default());
    c
}

/// The peer's OPEN: IPv4 and IPv6 unicast, graceful restart with
/// `flags`, restart time 60, the F bit per family as given.
fn gr_open(flags: u8, forwarding: &[(AfiSafi, bool)]) -> Open {
    Open::new(
        PEER_AS,
        90,
        PEER_ID,
        vec![
            Capability::Multiprotocol(Multiprotocol::new(V4)),
            Capability::Multiprotocol(Multiprotocol::new(V6)),
            Capability::FourOctetAs(PEER_AS),
            Capability::GracefulRestart(GracefulRestart {
                flags,
                restart_time: 60,
                families: forwarding
                    .iter()
                    .map(|(f, fw)| GracefulRestartFamily::new(*f, *fw))
                    .collect(),
            }),
        ],
    )
}

const N: u8 = GracefulRestart::NOTIFICATION;
const R: u8 = GracefulRestart::RESTART_STATE;

fn both_preserved() -> Vec<(AfiSafi, bool)> {
    vec![(V4, true), (V6, true)]
}

/// Brings `s` (in Idle) back to Established at `now` with the peer's `open`.
fn reestablish(s: &mut Session, now: bgp_fsm::Instant, open: Open) -> Vec<Action> {
    feed(
        s,
        now,
        [
            Event::ManualStart,
            Event::TcpCrAcked,
            Event::BgpOpen(open),
            Event::KeepAliveMsg,
        ],
    );
    assert_eq!(s.state(), State::Established);
    drain(s)
}

fn route_actions(actions: &[Action]) -> Vec<Action> {
    actions
        .iter()
        .filter(|a| {
            matches!(
                a,
                Action::DeleteRoutes(_)
                    | Action::RoutesStale(_)
                    | Action::RoutesLongLivedStale(_)
                    | Action::DeleteStaleRoutes(_)
                    | Action::EndOfRibReceived(_)
                    | Action::AllEndOfRibReceived
            )
        })
        .cloned()
        .collect()
}

#[test]
fn helper_keeps_routes_across_a_lost_connection() {
    let mut s = session_in(
        gr_config(),
        State::Established,
        gr_open(N, &both_preserved()),
    );
    s.handle_event(t(10), Event::TcpConnectionFails).unwrap();
    let a = drain(&mut s);
    assert_eq!(route_actions(&a), [Action::RoutesStale(vec![V4, V6])]);
    assert_eq!(s.state(), State::Idle);
    assert_eq!(
        s.graceful_restart().helper(),
        &HelperState::Restarting(vec![V4, V6])
    );
    // The restart timer runs for the peer's Restart Time.
    let restart = s.timer(Timer::Restart).unwrap();
    assert_eq!((restart.deadline, restart.duration), (t(70), secs(60)));
    assert_eq!(s.poll_timeout(), Some(t(70)));

    // Back before it expires; the peer preserved IPv4 only.
    let a = reestablish(&mut s, t(30), gr_open(N | R, &[(V4, true), (V6, false)]));
    assert_eq!(route_actions(&a), [Action::DeleteStaleRoutes(vec![V6])]);
    assert!(s.timer(Timer::Restart).is_none());
    let stale = s.timer(Timer::Stale).unwrap();
    assert_eq!((stale.deadline, stale.duration), (t(390), secs(360)));
    assert!(s.negotiated().unwrap().graceful_restart.peer_restarted());

    // The peer's End-of-RIB sweeps its family.
    s.handle_message(t(40), Message::Update(eor(V4)));
    let a = drain(&mut s);
    assert_eq!(
        route_actions(&a),
        [
            Action::EndOfRibReceived(V4),
            Action::DeleteStaleRoutes(vec![V4])
        ]
    );
    assert_eq!(s.graceful_restart().helper(), &HelperState::Inactive);
    assert!(s.timer(Timer::Stale).is_none());
    // The last family's End-of-RIB completes the peer's initial table.
    s.handle_message(t(41), Message::Update(eor(V6)));
    assert_eq!(
        route_actions(&drain(&mut s)),
        [Action::EndOfRibReceived(V6), Action::AllEndOfRibReceived]
    );
}

#[test]
fn restart_timer_expiry_deletes_stale_routes() {
    let mut s = session_in(
        gr_config(),
        State::Established,
        gr_open(N, &both_preserved()),
    );
    s.handle_event(t(10), Event::TcpConnectionFails).unwrap();
    drain(&mut s);
    s.handle_timeout(t(69));
    assert!(route_actions(&drain(&mut s)).is_empty());
    s.handle_timeout(t(70));
    assert_eq!(
        route_actions(&drain(&mut s)),
        [Action::DeleteStaleRoutes(vec![V4, V6])]
    );
    assert_eq!(s.graceful_restart().helper(), &HelperState::Inactive);
    assert_eq!(s.poll_timeout(), None);
}

#[test]
fn stale_timer_bounds_the_wait_for_end_of_rib() {
    let mut s = session_in(
        gr_config(),
        State::Established,
        gr_open(N, &both_preserved()),
    );
    s.handle_event(t(10), Event::TcpConnectionFails).unwrap();
    reestablish(&mut s, t(20), gr_open(N | R, &both_preserved()));
    s.handle_message(t(25), Message::Update(eor(V6)));
    drain(&mut s);
    // Keep the session alive with keepalives; the stale timer still fires.
    let mut now = t(25);
    while now < t(380) {
        now = now + secs(30);
        s.handle_message(now, Message::Keepalive(bgp_wire::Keepalive));
        s.handle_timeout(now);
    }
    let a = drain(&mut s);
    assert_eq!(route_actions(&a), [Action::DeleteStaleRoutes(vec![V4])]);
    assert_eq!(s.state(), State::Established);
}

#[test]
fn no_graceful_restart_deletes_routes() {
    // The peer did not announce graceful restart.
    let mut s = session_in(
        gr_config(),
        State::Established,
        Open::new(
            PEER_AS,
            90,
            PEER_ID,
            vec![
                Capability::Multiprotocol(Multiprotocol::new(V4)),
                Capability::Multiprotocol(Multiprotocol::new(V6)),
            ],
        ),
    );
    s.handle_event(t(10), Event::TcpConnectionFails).unwrap();
    assert_eq!(
        route_actions(&drain(&mut s)),
        [Action::DeleteRoutes(vec![V4, V6])]
    );
    // We did not.
    let mut c = gr_config();
    c.capabilities.graceful_restart = None;
    let mut s = session_in(c, State::Established, gr_open(N, &both_preserved()));
    s.handle_event(t(10), Event::TcpConnectionFails).unwrap();
    assert_eq!(
        route_actions(&drain(&mut s)),
        [Action::DeleteRoutes(vec![V4, V6])]
    );
    // The peer listed IPv4 only: IPv6 routes go at once.
    let mut s = session_in(gr_config(), State::Established, gr_open(N, &[(V4, false)]));
    s.handle_event(t(10), Event::TcpConnectionFails).unwrap();
    assert_eq!(
        route_actions(&drain(&mut s)),
        [
            Action::DeleteRoutes(vec![V6]),
            Action::RoutesStale(vec![V4])
        ]
    );
    // Re-established without the capability: every stale route goes.
    let a = reestablish(
        &mut s,
        t(20),
        Open::new(
            PEER_AS,
            90,
            PEER_ID,
            vec![
                Capability::Multiprotocol(Multiprotocol::new(V4)),
                Capability::Multiprotocol(Multiprotocol::new(V6)),
            ],
        ),
    );
    assert_eq!(route_actions(&a), [Action::DeleteStaleRoutes(vec![V4])]);
}

/// RFC 8538: with the N bit on both sides, a NOTIFICATION (Hold Timer
/// Expired included) keeps the helper procedures; a Hard Reset does not.
#[test]
fn notifications_with_and_without_the_n_bit() {
    let received = |flags: u8, n: Notification| {
        let mut s = session_in(
            gr_config(),
            State::Established,
            gr_open(flags, &both_preserved()),
        );
        s.handle_message(t(10), Message::Notification(n));
        route_actions(&drain(&mut s))
    };
    let stale = vec![Action::RoutesStale(vec![V4, V6])];
    let deleted = vec![Action::DeleteRoutes(vec![V4, V6])];
    let admin_reset = Notification::reset("upgrade");
    assert_eq!(received(N, admin_reset.clone()), stale);
    assert_eq!(received(0, admin_reset.clone()), deleted);
    assert_eq!(received(N, Notification::hard_reset(&admin_reset)), deleted);
    assert_eq!(received(N, Notification::hold_timer_expired()), stale);

    // Our hold timer expires: Hold Timer Expired sent (never a Hard Reset).
    for (flags, want) in [(N, &stale), (0, &deleted)] {
        let mut s = session_in(
            gr_config(),
            State::Established,
            gr_open(flags, &both_preserved()),
        );
        s.handle_timeout(t(90));
        let a = drain(&mut s);
        assert_eq!(notifications_sent(&a), [(4, 0)]);
        assert_eq!(&route_actions(&a), want);
    }
    // The N bit of our own side counts too.
    let mut c = gr_config();
    c.capabilities
        .graceful_restart
        .as_mut()
        .unwrap()
        .notification = false;
    let mut s = session_in(c, State::Established, gr_open(N, &both_preserved()));
    s.handle_message(t(10), Message::Notification(admin_reset));
    assert_eq!(route_actions(&drain(&mut s)), deleted);
}

/// RFC 8538 3 and 5: the Cease we send is a Hard Reset for the subcodes
/// that suggest one, and then the routes go.
#[test]
fn stops_send_hard_reset_when_suggested() {
    let stop = |flags: u8, stop: Stop| {
        let mut s = session_in(
            gr_config(),
            State::Established,
            gr_open(flags, &both_preserved()),
        );
        s.handle_event(t(10), Event::ManualStop(stop)).unwrap();
        let a = drain(&mut s);
        let n = sent(&a)
            .into_iter()
            .find_map(|m| match m {
                Message::Notification(n) => Some(n),
                _ => None,
            })
            .unwrap();
        (n, route_actions(&a))
    };
    let stale = vec![Action::RoutesStale(vec![V4, V6])];
    let deleted = vec![Action::DeleteRoutes(vec![V4, V6])];

    let (n, routes) = stop(N, Stop::administrative_shutdown("decommissioned"));
    assert_eq!(n.code.to_pair(), (6, 9));
    assert_eq!(
        n.hard_reset_cause(),
        Some(Notification::shutdown("decommissioned"))
    );
    assert_eq!(routes, deleted);

    let (n, routes) = stop(N, Stop::administrative_reset("software upgrade"));
    assert_eq!(n, Notification::reset("software upgrade"));
    assert_eq!(routes, stale);

    let (n, _) = stop(
        N,
        Stop::administrative_reset("").with_hard_reset(HardReset::Always),
    );
    assert_eq!(n.code.to_pair(), (6, 9));
    let (n, routes) = stop(
        N,
        Stop::administrative_shutdown("").with_hard_reset(HardReset::Never),
    );
    assert_eq!(n.code.to_pair(), (6, 2));
    assert_eq!(routes, stale);
    let (n, _) = stop(N, Stop::cease(CeaseSubcode::MaximumNumberOfPrefixesReached));
    assert_eq!(n.code.to_pair(), (6, 9));
    // Without the N bit: a plain Cease, routes deleted.
    let (n, routes) = stop(0, Stop::administrative_shutdown("bye"));
    assert_eq!(n, Notification::shutdown("bye"));
    assert_eq!(routes, deleted);
}

#[test]
fn hard_reset_outside_established_flushes_stale_routes() {
    let mut s = session_in(
        gr_config(),
        State::Established,
        gr_open(N, &both_preserved()),
    );
    s.handle_event(t(10), Event::TcpConnectionFails).unwrap();
    feed(
        &mut s,
        t(20),
        [
            Event::ManualStart,
            Event::TcpCrAcked,
            Event::BgpOpen(gr_open(N | R, &both_preserved())),
        ],
    );
    drain(&mut s);
    assert_eq!(s.state(), State::OpenConfirm);
    s.handle_message(
        t(21),
        Message::Notification(Notification::hard_reset(&Notification::cease(
            CeaseSubcode::PeerDeconfigured,
        ))),
    );
    assert_eq!(
        route_actions(&drain(&mut s)),
        [Action::DeleteStaleRoutes(vec![V4, V6])]
    );
    assert_eq!(s.graceful_restart().helper(), &HelperState::Inactive);
    assert!(s.timer(Timer::Restart).is_none());
}

#[test]
fn a_second_loss_while_recovering_restarts_the_helper() {
    let mut s = session_in(
        gr_config(),
        State::Established,
        gr_open(N, &both_preserved()),
    );
    s.handle_event(t(10), Event::TcpConnectionFails).unwrap();
    reestablish(&mut s, t(20), gr_open(N | R, &both_preserved()));
    s.handle_event(t(30), Event::TcpConnectionFails).unwrap();
    assert_eq!(
        route_actions(&drain(&mut s)),
        [Action::RoutesStale(vec![V4, V6])]
    );
    assert_eq!(s.timer(Timer::Restart).unwrap().deadline, t(90));
    assert!(s.timer(Timer::Stale).is_none());
}

fn llgr_open(restart_time: u16, stale_time: u32) -> Open {
    Open::new(
        PEER_AS,
        90,
        PEER_ID,
        vec![
            Capability::Multiprotocol(Multiprotocol::new(V4)),
            Capability::Multiprotocol(Multiprotocol::new(V6)),
            Capability::GracefulRestart(GracefulRestart {
                flags: N,
                restart_time,
                families: vec![
                    GracefulRestartFamily::new(V4, true),
                    GracefulRestartFamily::new(V6, true),
                ],
            }),
            Capability::LongLivedGracefulRestart(LongLivedGracefulRestart {
                families: vec![LongLivedGracefulRestartFamily {
                    family: V4,
                    flags: LongLivedGracefulRestartFamily::FORWARDING_STATE,
                    stale_time,
                }],
            }),
        ],
    )
}

fn llgr_config() -> SessionConfig {
    let mut c = gr_config();
    c.capabilities.long_lived_graceful_restart = Some(LongLivedGracefulRestartConfig {
        stale_time: 1000,
        forwarding_state: true,
    });
    c
}

#[test]
fn long_lived_graceful_restart() {
    let mut s = session_in(llgr_config(), State::Established, llgr_open(60, 3600));
    s.handle_event(t(10), Event::TcpConnectionFails).unwrap();
    assert_eq!(
        route_actions(&drain(&mut s)),
        [Action::RoutesStale(vec![V4, V6])]
    );
    // The restart timer expires: IPv4 becomes long-lived stale for the
    // peer's 3600 s, IPv6 (no long-lived time) is deleted.
    s.handle_timeout(t(70));
    assert_eq!(
        route_actions(&drain(&mut s)),
        [
            Action::DeleteStaleRoutes(vec![V6]),
            Action::RoutesLongLivedStale(vec![V4])
        ]
    );
    assert_eq!(
        s.graceful_restart().helper(),
        &HelperState::LongLivedStale(vec![V4])
    );
    let ll = s.timer(Timer::LongLivedStale).unwrap();
    assert_eq!((ll.deadline, ll.duration), (t(3670), secs(3600)));
    s.handle_timeout(t(3670));
    assert_eq!(
        route_actions(&drain(&mut s)),
        [Action::DeleteStaleRoutes(vec![V4])]
    );
    assert_eq!(s.graceful_restart().helper(), &HelperState::Inactive);

    // Back during the long-lived phase: recovery as for graceful restart.
    let mut s = session_in(llgr_config(), State::Established, llgr_open(60, 3600));
    s.handle_event(t(10), Event::TcpConnectionFails).unwrap();
    s.handle_timeout(t(70));
    drain(&mut s);
    reestablish(&mut s, t(100), llgr_open(60, 3600));
    assert_eq!(
        s.graceful_restart().helper(),
        &HelperState::Recovering(vec![V4])
    );
    assert!(s.timer(Timer::LongLivedStale).is_none());
    s.handle_message(t(101), Message::Update(eor(V4)));
    assert!(route_actions(&drain(&mut s)).contains(&Action::DeleteStaleRoutes(vec![V4])));

    // A restart time of 0 goes straight to the long-lived phase.
    let mut s = session_in(llgr_config(), State::Established, llgr_open(0, 50));
    s.handle_event(t(10), Event::TcpConnectionFails).unwrap();
    assert_eq!(
        route_actions(&drain(&mut s)),
        [
            Action::RoutesStale(vec![V4, V6]),
            Action::DeleteStaleRoutes(vec![V6]),
            Action::RoutesLongLivedStale(vec![V4])
        ]
    );
    assert_eq!(s.timer(Timer::LongLivedStale).unwrap().deadline, t(60));
}

#[test]
fn restarting_speaker_sets_the_r_bit_once() {
    let mut c = gr_config();
    c.capabilities.graceful_restart.as_mut().unwrap().restarting = true;
    c.capabilities
        .graceful_restart
        .as_mut()
        .unwrap()
        .forwarding_state = true;
    let mut s = Session::new(c).unwrap();
    feed(&mut s, t(0), [Event::ManualStart, Event::TcpCrAcked]);
    let open = sent(&drain(&mut s))
        .into_iter()
        .find_map(|m| match m {
            Message::Open(o) => Some(o),
            _ => None,
        })
        .unwrap();
    let gr = open.graceful_restart().unwrap();
    assert!(gr.restart_state() && gr.notification());
    assert!(gr.families.iter().all(|f| f.forwarding_preserved()));
    // A session that fails before Established keeps the R bit.
    s.handle_event(t(1), Event::TcpConnectionFails).unwrap();
    assert!(s.local_open().graceful_restart().unwrap().restart_state());
    feed(
        &mut s,
        t(2),
        [
            Event::TcpConnectionConfirmed,
            Event::BgpOpen(gr_open(N, &both_preserved())),
            Event::KeepAliveMsg,
        ],
    );
    assert_eq!(s.state(), State::Established);
    assert!(!s.graceful_restart().restarting());
    s.handle_event(t(3), Event::TcpConnectionFails).unwrap();
    assert!(!s.local_open().graceful_restart().unwrap().restart_state());
}

#[test]
fn end_of_rib_is_sent_after_the_initial_updates() {
    let mut s = session_in(
        gr_config(),
        State::Established,
        gr_open(N, &both_preserved()),
    );
    assert_eq!(s.initial_updates_sent(t(1), V4), Ok(true));
    let a = drain(&mut s);
    let updates: Vec<_> = sent(&a)
        .into_iter()
        .filter_map(|m| match m {
            Message::Update(u) => Some(u),
            _ => None,
        })
        .collect();
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].end_of_rib(), Some(V4));
    // Sending restarts the KeepaliveTimer.
    assert_eq!(s.timer(Timer::Keepalive).unwrap().deadline, t(31));
    // Once per family and session.
    assert_eq!(s.initial_updates_sent(t(2), V4), Ok(false));
    assert_eq!(s.initial_updates_sent(t(2), V6), Ok(true));
    assert_eq!(
        s.initial_updates_sent(t(2), AfiSafi::IPV4_MULTICAST),
        Err(SendError::FamilyNotNegotiated(AfiSafi::IPV4_MULTICAST))
    );
    // Policies.
    let mut c = config();
    c.end_of_rib = EndOfRibPolicy::WithGracefulRestart;
    let mut s = session_in(c.clone(), State::Established, peer_open());
    assert_eq!(s.initial_updates_sent(t(1), V4), Ok(false));
    c.end_of_rib = EndOfRibPolicy::Never;
    let mut s = session_in(c, State::Established, peer_open());
    assert_eq!(s.initial_updates_sent(t(1), V4), Ok(false));
    let mut s = session_in(config(), State::OpenConfirm, peer_open());
    assert_eq!(
        s.initial_updates_sent(t(1), V4),
        Err(SendError::NotEstablished(State::OpenConfirm))
    );
}

/// RFC 4724 4.2: an OPEN on a new connection while the session is
/// Established means the peer restarted: the old session is closed as a
/// lost connection, its routes kept as stale.
#[test]
fn new_open_while_established_is_a_restart() {
    let mut s = session_in(
        gr_config(),
        State::Established,
        gr_open(N, &both_preserved()),
    );
    let new_open = gr_open(N | R, &both_preserved());
    assert_eq!(
        s.detect_collision(&new_open, ConnectionOrigin::Incoming),
        CollisionResolution::CloseExisting { graceful: true }
    );
    s.handle_event(t(5), Event::TcpConnectionFails).unwrap();
    assert_eq!(
        route_actions(&drain(&mut s)),
        [Action::RoutesStale(vec![V4, V6])]
    );
    // The new connection's session takes over the helper state.
    let mut fresh = Session::new(gr_config()).unwrap();
    feed(
        &mut fresh,
        t(5),
        [
            Event::ManualStartWithPassiveTcpEstablishment,
            Event::TcpConnectionConfirmed,
        ],
    );
    fresh.inherit_peer_state(&mut s);
    assert_eq!(s.graceful_restart().helper(), &HelperState::Inactive);
    assert_eq!(s.poll_timeout(), None);
    feed(
        &mut fresh,
        t(6),
        [Event::BgpOpen(new_open), Event::KeepAliveMsg],
    );
    assert_eq!(fresh.state(), State::Established);
    assert_eq!(
        fresh.graceful_restart().helper(),
        &HelperState::Recovering(vec![V4, V6])
    );
    // Without graceful restart the new connection is the one closed.
    let s = session_in(config(), State::Established, peer_open());
    assert_eq!(
        s.detect_collision(&peer_open(), ConnectionOrigin::Incoming),
        CollisionResolution::CloseNew
    );
}
