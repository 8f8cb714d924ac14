//! The checks of a received OPEN: each failure is answered with the right
//! NOTIFICATION code, subcode and data, by the session in OpenSent, and the
//! session goes to Idle.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::net::Ipv4Addr;

use bytes::{Bytes, BytesMut};

use bgp_fsm::open_validation::{validate_hold_time, validate_open};
use bgp_fsm::{
    Action, DownReason, Event, NotificationData, NotificationDirection, OpenError,
    RequiredCapability, SessionConfig, State,
};
use bgp_wire::capability::four_octet_as::AS_TRANS;
use bgp_wire::capability::{BgpRole, Multiprotocol};
use bgp_wire::{AfiSafi, Capability, Message, Notification, Open, OptionalParameter};
use support::*;

/// Feeds `open` to a session of `config` in OpenSent; returns the
/// NOTIFICATION sent, if any, and checks the session went to Idle if one
/// was.
fn answer(config: SessionConfig, open: Open) -> Option<Notification> {
    let mut s = session_in(config, State::OpenSent, peer_open());
    s.handle_message(t(1), Message::Open(open));
    let actions = drain(&mut s);
    let n = sent(&actions).into_iter().find_map(|m| match m {
        Message::Notification(n) => Some(n),
        _ => None,
    });
    match &n {
        Some(n) => {
            assert_eq!(s.state(), State::Idle);
            assert!(actions.contains(&Action::DropConnection));
            assert_eq!(s.connect_retry_counter(), 1);
            // Surfaced as a report, and as the reason of the session's end.
            assert!(actions.iter().any(|a| matches!(a,
                Action::Notification(r) if r.direction == NotificationDirection::Sent
                    && r.notification == *n)));
            assert!(actions.iter().any(|a| matches!(a,
                Action::SessionDown(d) if d.reason == DownReason::Error(n.clone()))));
        }
        None => assert_eq!(s.state(), State::OpenConfirm, "{actions:?}"),
    }
    n
}

fn pair(n: &Option<Notification>) -> Option<(u8, u8)> {
    n.as_ref().map(|n| n.code.to_pair())
}

#[test]
fn valid_open_is_accepted() {
    assert_eq!(answer(config(), peer_open()), None);
}

#[test]
fn unsupported_version() {
    let mut o = peer_open();
    o.version = 3;
    let n = answer(config(), o);
    assert_eq!(pair(&n), Some((2, 1)));
    // Data: the largest version we support, 2 octets.
    assert_eq!(&n.unwrap().data[..], &[0, 4]);
    // The same error from the codec (a version 5 OPEN on the wire).
    let mut s = session_in(config(), State::OpenSent, peer_open());
    let body = Bytes::from_static(&[5, 0xfd, 0xea, 0, 90, 10, 0, 0, 2, 0]);
    let err = Open::decode(body, &Default::default()).unwrap_err();
    s.handle_decode_error(t(1), err);
    assert_eq!(notifications_sent(&drain(&mut s)), [(2, 1)]);
}

#[test]
fn unsupported_optional_parameter() {
    let mut o = peer_open();
    o.parameters.push(OptionalParameter::Unknown {
        param_type: 1,
        value: Bytes::from_static(&[0, 0]),
    });
    assert_eq!(pair(&answer(config(), o)), Some((2, 4)));
}

#[test]
fn bad_peer_as() {
    // A 2-octet AS that is not the configured one: data is that AS, 2 octets.
    let o = Open::new(64999, 90, PEER_ID, vec![]);
    let n = answer(config(), o);
    assert_eq!(pair(&n), Some((2, 2)));
    assert_eq!(&n.unwrap().data[..], &64999u16.to_be_bytes());

    // With the 4-octet AS capability: its AS is the one checked, and the
    // data has 4 octets.
    let o = Open::new(
        4_200_000_000,
        90,
        PEER_ID,
        vec![Capability::FourOctetAs(4_200_000_000)],
    );
    assert_eq!(o.my_as, AS_TRANS);
    let n = answer(config(), o.clone());
    assert_eq!(pair(&n), Some((2, 2)));
    assert_eq!(&n.unwrap().data[..], &4_200_000_000u32.to_be_bytes());
    // ...and accepted when it is the configured AS.
    let mut c = config();
    c.peer_as = 4_200_000_000;
    assert_eq!(answer(c.clone(), o), None);

    // AS_TRANS without the capability is AS 23456, not the configured one.
    let o = Open::new(u32::from(AS_TRANS), 90, PEER_ID, vec![]);
    assert_eq!(pair(&answer(c, o)), Some((2, 2)));

    // My AS must be AS_TRANS or the capability's AS (RFC 6793 4.1).
    let mut o = peer_open();
    o.my_as = 65010;
    let n = answer(config(), o);
    assert_eq!(pair(&n), Some((2, 2)));

    // AS 0 (RFC 7607).
    let mut c = config();
    c.peer_as = 0;
    let o = Open::new(0, 90, PEER_ID, vec![]);
    assert_eq!(pair(&answer(c, o)), Some((2, 2)));
}

#[test]
fn bad_bgp_identifier() {
    let mut o = peer_open();
    o.bgp_identifier = Ipv4Addr::UNSPECIFIED;
    assert_eq!(pair(&answer(config(), o)), Some((2, 3)));
    // An internal peer with our identifier.
    let mut c = config();
    c.peer_as = LOCAL_AS;
    let o = Open::new(LOCAL_AS, 90, LOCAL_ID, vec![]);
    assert_eq!(pair(&answer(c.clone(), o)), Some((2, 3)));
    // An external peer with our identifier is allowed (RFC 6286).
    let o = Open::new(PEER_AS, 90, LOCAL_ID, vec![]);
    assert_eq!(answer(config(), o), None);
}

#[test]
fn unacceptable_hold_time() {
    for hold in [1, 2] {
        let mut o = peer_open();
        o.hold_time = hold;
        let n = answer(config(), o);
        assert_eq!(pair(&n), Some((2, 6)), "hold {hold}");
        assert!(n.unwrap().data.is_empty());
    }
    // 0 and 3 are fine by default...
    for hold in [0, 3] {
        let mut o = peer_open();
        o.hold_time = hold;
        assert_eq!(answer(config(), o), None, "hold {hold}");
    }
    // ...but local policy may refuse them.
    let mut c = config();
    c.accept_zero_hold_time = false;
    c.min_hold_time = 10;
    for (hold, ok) in [
        (0, false),
        (3, false),
        (9, false),
        (10, true),
        (65535, true),
    ] {
        assert_eq!(validate_hold_time(&c, hold).is_ok(), ok, "hold {hold}");
        let mut o = peer_open();
        o.hold_time = hold;
        assert_eq!(pair(&answer(c.clone(), o)).is_none(), ok, "hold {hold}");
    }
}

#[test]
fn unsupported_capability_lists_what_is_missing() {
    let mut c = config();
    c.capabilities.families = vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST];
    c.capabilities.required = vec![
        RequiredCapability::Code(65),
        RequiredCapability::Family(AfiSafi::IPV6_UNICAST),
        RequiredCapability::Code(2),
    ];
    // The peer announces route refresh with the pre-standard code only: that
    // counts; 4-octet AS and IPv6 unicast are missing.
    let o = Open::new(
        PEER_AS,
        90,
        PEER_ID,
        vec![
            Capability::Multiprotocol(Multiprotocol::new(AfiSafi::IPV4_UNICAST)),
            Capability::RouteRefreshPreStandard,
        ],
    );
    let n = answer(c.clone(), o).unwrap();
    assert_eq!(n.code.to_pair(), (2, 7));
    let mut want = BytesMut::new();
    Capability::FourOctetAs(LOCAL_AS).encode(&mut want).unwrap();
    Capability::Multiprotocol(Multiprotocol::new(AfiSafi::IPV6_UNICAST))
        .encode(&mut want)
        .unwrap();
    assert_eq!(n.data, want.freeze());
    assert_eq!(
        NotificationData::decode(&n),
        NotificationData::UnsupportedCapabilities(vec![
            Capability::FourOctetAs(LOCAL_AS),
            Capability::Multiprotocol(Multiprotocol::new(AfiSafi::IPV6_UNICAST)),
        ])
    );
    // No Multiprotocol capability at all: IPv4 unicast is implied.
    c.capabilities.required = vec![RequiredCapability::Family(AfiSafi::IPV4_UNICAST)];
    assert_eq!(answer(c, Open::new(PEER_AS, 90, PEER_ID, vec![])), None);
}

#[test]
fn role_mismatch() {
    let with_role = |r: Option<BgpRole>| {
        let mut c = config();
        c.capabilities.role = r;
        c
    };
    let open_role =
        |roles: &[BgpRole]| peer_open_with(roles.iter().map(|r| Capability::Role(*r)).collect());
    // Fitting pairs.
    for (ours, theirs) in [
        (BgpRole::Provider, BgpRole::Customer),
        (BgpRole::Customer, BgpRole::Provider),
        (BgpRole::RouteServer, BgpRole::RouteServerClient),
        (BgpRole::RouteServerClient, BgpRole::RouteServer),
        (BgpRole::Peer, BgpRole::Peer),
    ] {
        assert_eq!(answer(with_role(Some(ours)), open_role(&[theirs])), None);
    }
    // Pairs that do not fit.
    for (ours, theirs) in [
        (BgpRole::Provider, BgpRole::Provider),
        (BgpRole::Peer, BgpRole::Customer),
        (BgpRole::Customer, BgpRole::RouteServer),
    ] {
        let n = answer(with_role(Some(ours)), open_role(&[theirs]));
        assert_eq!(pair(&n), Some((2, 11)), "{ours} / {theirs}");
    }
    // Two different roles in one OPEN.
    let n = answer(
        with_role(Some(BgpRole::Provider)),
        open_role(&[BgpRole::Customer, BgpRole::Peer]),
    );
    assert_eq!(pair(&n), Some((2, 11)));
    // No role from the peer: fine, unless strict.
    assert_eq!(answer(with_role(Some(BgpRole::Peer)), peer_open()), None);
    let mut strict = with_role(Some(BgpRole::Peer));
    strict.capabilities.strict_role = true;
    assert_eq!(pair(&answer(strict, peer_open())), Some((2, 11)));
    // No role of ours: the peer's is not checked.
    assert_eq!(
        answer(with_role(None), open_role(&[BgpRole::Provider])),
        None
    );
    // On an internal session roles are neither sent nor checked.
    let mut c = with_role(Some(BgpRole::Provider));
    c.peer_as = LOCAL_AS;
    assert!(!c.local_open(false).has_capability(9));
    let o = Open::new(
        LOCAL_AS,
        90,
        PEER_ID,
        vec![Capability::Role(BgpRole::Provider)],
    );
    assert_eq!(answer(c, o), None);
}

#[test]
fn errors_carry_their_notification() {
    let cases: Vec<(OpenError, (u8, u8))> = vec![
        (OpenError::UnsupportedVersion { version: 3 }, (2, 1)),
        (
            OpenError::UnsupportedOptionalParameter { param_type: 1 },
            (2, 4),
        ),
        (
            OpenError::BadBgpIdentifier {
                identifier: Ipv4Addr::UNSPECIFIED,
            },
            (2, 3),
        ),
        (OpenError::UnacceptableHoldTime { hold_time: 1 }, (2, 6)),
        (
            OpenError::UnsupportedCapability {
                missing: vec![Capability::RouteRefresh],
            },
            (2, 7),
        ),
        (
            OpenError::RoleMismatch {
                local: Some(BgpRole::Peer),
                remote: None,
            },
            (2, 11),
        ),
    ];
    for (e, want) in cases {
        assert_eq!(e.code().to_pair(), want, "{e}");
        assert_eq!(e.notification().code.to_pair(), want);
        assert!(!e.to_string().is_empty());
    }
    let e = OpenError::UnsupportedCapability {
        missing: vec![Capability::RouteRefresh],
    };
    assert_eq!(&e.data()[..], &[2, 0]);
}

/// Events 22 and 21 from the codec carry the codec's code, subcode and data.
#[test]
fn decode_errors_become_their_notification() {
    let ctx = Default::default();
    // A malformed capability: OPEN Message Error / Unspecific.
    let err = Open::decode(
        Bytes::from_static(&[4, 0xfd, 0xea, 0, 90, 10, 0, 0, 2, 3, 2, 1, 1]),
        &ctx,
    )
    .unwrap_err();
    let mut s = session_in(config(), State::OpenSent, peer_open());
    s.handle_decode_error(t(1), err.clone());
    let actions = drain(&mut s);
    assert_eq!(notifications_sent(&actions), [err.code().to_pair()]);
    // A bad header: Message Header Error with the length as data.
    let mut s = session_in(config(), State::OpenConfirm, peer_open());
    s.handle_decode_error(
        t(1),
        bgp_wire::DecodeError::BadMessageLength { length: 5000 },
    );
    let actions = drain(&mut s);
    let n = sent(&actions)
        .into_iter()
        .find_map(|m| match m {
            Message::Notification(n) => Some(n),
            _ => None,
        })
        .unwrap();
    assert_eq!(n.code.to_pair(), (1, 2));
    assert_eq!(&n.data[..], &5000u16.to_be_bytes());
    assert_eq!(s.state(), State::Idle);
}

/// The free function agrees with the session.
#[test]
fn validate_open_directly() {
    let c = config();
    let local = c.local_open(false);
    assert!(validate_open(&c, &local, &peer_open()).is_ok());
    let mut o = peer_open();
    o.hold_time = 2;
    assert_eq!(
        validate_open(&c, &local, &o),
        Err(OpenError::UnacceptableHoldTime { hold_time: 2 })
    );
    // Event 22 injected as such in OpenSent.
    let mut s = session_in(config(), State::OpenSent, peer_open());
    s.handle_event(
        t(1),
        Event::BgpOpenMsgErr(OpenError::UnacceptableHoldTime { hold_time: 2 }),
    )
    .unwrap();
    assert_eq!(notifications_sent(&drain(&mut s)), [(2, 6)]);
}
