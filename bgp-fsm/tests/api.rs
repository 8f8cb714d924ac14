//! The rest of the API: configuration checks, event numbering, ROUTE-REFRESH
//! handling, decode errors, route-layer send errors, and arbitrary bytes off
//! the wire (framed and decoded by bgp-wire) never panicking the session.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::collections::HashSet;
use std::net::Ipv4Addr;

use bytes::Bytes;
use proptest::prelude::*;

use bgp_fsm::{
    Action, ConfigError, Event, Instant, SendError, Session, SessionConfig, State, Timer,
};
use bgp_wire::{AfiSafi, DecodeError, Message, RouteRefresh, RouteRefreshSubtype};
use support::*;

#[test]
fn configuration_checks() {
    let base = config();
    let bad = |f: &dyn Fn(&mut SessionConfig)| {
        let mut c = base.clone();
        f(&mut c);
        Session::new(c).unwrap_err()
    };
    assert_eq!(
        bad(&|c| c.local_id = Ipv4Addr::UNSPECIFIED),
        ConfigError::ZeroIdentifier
    );
    assert_eq!(bad(&|c| c.hold_time = 2), ConfigError::HoldTime(2));
    assert_eq!(bad(&|c| c.min_hold_time = 1), ConfigError::MinHoldTime(1));
    assert_eq!(
        bad(&|c| c.connect_retry_time = secs(0)),
        ConfigError::ZeroDuration("ConnectRetryTime")
    );
    assert_eq!(
        bad(&|c| c.keepalive_time = Some(secs(0))),
        ConfigError::ZeroDuration("KeepaliveTime")
    );
    assert_eq!(
        bad(&|c| c.max_idle_hold_time = secs(1)),
        ConfigError::IdleHoldTimes
    );
    assert_eq!(
        bad(&|c| {
            c.local_as = 4_200_000_000;
            c.capabilities.four_octet_as = false;
        }),
        ConfigError::FourOctetAsRequired(4_200_000_000)
    );
    assert_eq!(
        bad(&|c| {
            c.capabilities.graceful_restart = Some(bgp_fsm::GracefulRestartConfig {
                restart_time: 5000,
                ..Default::default()
            });
        }),
        ConfigError::RestartTime(5000)
    );
    // A 4-octet AS is announced with AS_TRANS in My AS.
    let mut c = base.clone();
    c.local_as = 4_200_000_000;
    let open = c.local_open(false);
    assert_eq!(open.my_as, 23456);
    assert_eq!(open.four_octet_as(), Some(4_200_000_000));
    assert!(Session::new(base).is_ok());
}

#[test]
fn events_are_numbered_and_named_as_the_rfc() {
    let events = [
        Event::ManualStart,
        Event::manual_stop(),
        Event::AutomaticStart,
        Event::ManualStartWithPassiveTcpEstablishment,
        Event::AutomaticStartWithPassiveTcpEstablishment,
        Event::AutomaticStartWithDampPeerOscillations,
        Event::AutomaticStartWithDampPeerOscillationsAndPassiveTcpEstablishment,
        Event::automatic_stop(),
        Event::ConnectRetryTimerExpires,
        Event::HoldTimerExpires,
        Event::KeepaliveTimerExpires,
        Event::DelayOpenTimerExpires,
        Event::IdleHoldTimerExpires,
        Event::TcpConnectionValid,
        Event::TcpCrInvalid,
        Event::TcpCrAcked,
        Event::TcpConnectionConfirmed,
        Event::TcpConnectionFails,
        Event::BgpOpen(peer_open()),
        Event::BgpOpenWithDelayOpenTimerRunning(peer_open()),
        Event::BgpHeaderErr(DecodeError::ConnectionNotSynchronized),
        Event::BgpOpenMsgErr(bgp_fsm::OpenError::UnsupportedVersion { version: 3 }),
        Event::OpenCollisionDump,
        Event::NotifMsgVerErr(bgp_wire::Notification::shutdown("")),
        Event::NotifMsg(bgp_wire::Notification::shutdown("")),
        Event::KeepAliveMsg,
        Event::UpdateMsg(some_update()),
        Event::UpdateMsgErr(DecodeError::ConnectionNotSynchronized),
    ];
    for (i, e) in events.iter().enumerate() {
        assert_eq!(usize::from(e.number()), i + 1);
    }
    let names: HashSet<&str> = events.iter().map(|e| e.name()).collect();
    assert_eq!(names.len(), 28);
    assert_eq!(events[14].to_string(), "Event 15 (Tcp_CR_Invalid)");
    assert_eq!(
        State::ALL.map(|s| s.mib_value()),
        [1, 2, 3, 4, 5, 6],
        "BGP-4 MIB numbering"
    );
    assert_eq!(Timer::ALL.len(), 8);
    assert_eq!(Timer::Hold.to_string(), "HoldTimer");
}

#[test]
fn route_refresh_handling() {
    // Delivered in Established for a negotiated family; restarts the hold timer.
    let mut s = session_in(config(), State::Established, peer_open());
    s.handle_message(
        t(10),
        Message::RouteRefresh(RouteRefresh::new(AfiSafi::IPV4_UNICAST)),
    );
    let a = drain(&mut s);
    assert_eq!(
        a,
        [Action::RouteRefreshReceived(RouteRefresh::new(
            AfiSafi::IPV4_UNICAST
        ))]
    );
    assert_eq!(s.timer(Timer::Hold).unwrap().deadline, t(100));
    // Ignored for another family, or an unknown subtype (RFC 7313 5).
    s.handle_message(
        t(11),
        Message::RouteRefresh(RouteRefresh::new(AfiSafi::IPV6_UNICAST)),
    );
    s.handle_message(
        t(11),
        Message::RouteRefresh(RouteRefresh::with_subtype(
            AfiSafi::IPV4_UNICAST,
            RouteRefreshSubtype::Other(7),
        )),
    );
    assert!(drain(&mut s).is_empty());
    assert_eq!(s.state(), State::Established);
    // A ROUTE-REFRESH of bad length: NOTIFICATION 7/1 with the message.
    let bad = Bytes::from_static(&[0xff; 24]);
    s.handle_decode_error(
        t(12),
        DecodeError::RouteRefreshLength {
            message: bad.clone(),
        },
    );
    let a = drain(&mut s);
    let n = sent(&a)
        .into_iter()
        .find_map(|m| match m {
            Message::Notification(n) => Some(n),
            _ => None,
        })
        .unwrap();
    assert_eq!(n.code.to_pair(), (7, 1));
    assert_eq!(n.data, bad);
    assert_eq!(s.state(), State::Idle);
    // One too long for a NOTIFICATION to carry whole: the Data field is
    // cut to what fits one message (4,096 octets here).
    let mut s = session_in(config(), State::Established, peer_open());
    let huge = Bytes::from(vec![0xffu8; 4096]);
    s.handle_decode_error(
        t(12),
        DecodeError::RouteRefreshLength {
            message: huge.clone(),
        },
    );
    let n = sent(&drain(&mut s))
        .into_iter()
        .find_map(|m| match m {
            Message::Notification(n) => Some(n),
            _ => None,
        })
        .unwrap();
    assert_eq!(n.data, huge.slice(..4096 - 21));
    let mut wire = bytes::BytesMut::new();
    n.encode(&bgp_wire::SessionContext::default(), &mut wire)
        .unwrap();
    assert_eq!(wire.len(), 4096);
    // Before Established it is an unexpected message.
    let mut s = session_in(config(), State::OpenSent, peer_open());
    s.handle_message(
        t(1),
        Message::RouteRefresh(RouteRefresh::new(AfiSafi::IPV4_UNICAST)),
    );
    assert_eq!(notifications_sent(&drain(&mut s)), [(5, 1)]);
    let mut s = session_in(config(), State::OpenConfirm, peer_open());
    s.handle_message(
        t(1),
        Message::RouteRefresh(RouteRefresh::new(AfiSafi::IPV4_UNICAST)),
    );
    assert_eq!(notifications_sent(&drain(&mut s)), [(5, 2)]);
    assert_eq!(s.state(), State::Idle);
}

#[test]
fn send_errors() {
    let mut s = session_in(config(), State::OpenConfirm, peer_open());
    assert_eq!(
        s.send_update(t(1), some_update()),
        Err(SendError::NotEstablished(State::OpenConfirm))
    );
    let mut c = config();
    c.capabilities.route_refresh = false;
    let mut s = session_in(c, State::Established, peer_open());
    assert_eq!(
        s.send_route_refresh(t(1), RouteRefresh::new(AfiSafi::IPV4_UNICAST)),
        Err(SendError::RouteRefreshNotNegotiated)
    );
    let mut s = session_in(config(), State::Established, peer_open());
    assert_eq!(
        s.send_route_refresh(t(1), RouteRefresh::new(AfiSafi::IPV6_UNICAST)),
        Err(SendError::FamilyNotNegotiated(AfiSafi::IPV6_UNICAST))
    );
    assert!(
        s.send_route_refresh(t(1), RouteRefresh::new(AfiSafi::IPV4_UNICAST))
            .is_ok()
    );
}

/// The decode error classes map to events 21, 22, 28. In Established, an
/// OPEN error (event 22: an OPEN arrived where none may) is a Finite State
/// Machine Error; in OpenSent it is answered with its own code.
#[test]
fn decode_error_classes() {
    let open_err = DecodeError::open(bgp_wire::error::OpenMessageSubcode::Unspecific, vec![], "x");
    let mut s = session_in(config(), State::OpenSent, peer_open());
    s.handle_decode_error(t(1), open_err.clone());
    assert_eq!(notifications_sent(&drain(&mut s)), [(2, 0)]);
    for (err, want) in [
        (DecodeError::ConnectionNotSynchronized, (1, 1)),
        (DecodeError::BadMessageType { message_type: 7 }, (1, 3)),
        (DecodeError::Truncated { what: "x" }, (1, 2)),
        (open_err, (5, 3)),
        (
            DecodeError::update(
                bgp_wire::error::UpdateMessageSubcode::MalformedAsPath,
                vec![],
                "x",
            ),
            (3, 11),
        ),
    ] {
        let mut s = session_in(config(), State::Established, peer_open());
        s.handle_decode_error(t(1), err.clone());
        assert_eq!(notifications_sent(&drain(&mut s)), [want], "{err}");
        assert_eq!(s.state(), State::Idle);
    }
}

fn arbitrary_message_bytes() -> impl Strategy<Value = Vec<u8>> {
    (
        1u8..=6,
        prop::collection::vec(any::<u8>(), 0..64),
        any::<bool>(),
    )
        .prop_map(|(ty, body, good_marker)| {
            let mut v = vec![if good_marker { 0xff } else { 0xfe }; 16];
            let len = u16::try_from(19 + body.len()).unwrap();
            v.extend_from_slice(&len.to_be_bytes());
            v.push(ty);
            v.extend_from_slice(&body);
            v
        })
}

proptest! {
    /// Whatever comes off the wire, once framed and decoded by bgp-wire, is
    /// handled without panicking, in every state.
    #[test]
    fn arbitrary_wire_input_never_panics(
        state in prop::sample::select(State::ALL.to_vec()),
        inputs in prop::collection::vec(arbitrary_message_bytes(), 1..20),
    ) {
        let mut s = session_in(config(), state, peer_open());
        let mut now = Instant::ORIGIN;
        for bytes in inputs {
            now = now + secs(1);
            match Message::from_bytes(Bytes::from(bytes), &s.codec_context()) {
                Ok(m) => s.handle_message(now, m),
                Err(e) => s.handle_decode_error(now, e),
            }
            s.handle_timeout(now);
            let _ = s.drain_actions().count();
            prop_assert_eq!(
                s.negotiated().is_some(),
                matches!(s.state(), State::OpenConfirm | State::Established)
            );
        }
    }
}
