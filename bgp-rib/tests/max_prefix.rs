//! Maximum-prefix limits: the warning at the threshold once, warning-only
//! and tear-down at the limit, per family, with the RFC 4486 NOTIFICATION
//! bytes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod export_common;

use std::time::Duration;

use bgp_rib::max_prefix::{MaxPrefix, MaxPrefixEvent, MaxPrefixLimit, MaxPrefixMode};
use bgp_rib::{AllReachable, DecisionConfig, NextHop, PeerInfo, PeerKind as K, Rib};
use bgp_wire::attribute::{Origin, PathAttributes};
use bgp_wire::nlri::Nlri;
use bgp_wire::{AfiSafi, Message, Notification, SessionContext};
use bytes::BytesMut;
use export_common::*;

#[test]
fn warning_only_reports_threshold_and_limit_once() {
    let mut m = MaxPrefix::new();
    m.set(MaxPrefixLimit::new(
        AfiSafi::IPV4_UNICAST,
        100,
        MaxPrefixMode::WarningOnly,
    ));
    let f = AfiSafi::IPV4_UNICAST;
    assert_eq!(m.check(f, 74), None);
    assert_eq!(
        m.check(f, 75),
        Some(MaxPrefixEvent::Threshold {
            family: f,
            count: 75,
            limit: 100
        })
    );
    assert_eq!(m.check(f, 90), None, "reported once");
    assert_eq!(m.check(f, 100), None, "at the limit is not over it");
    assert_eq!(
        m.check(f, 101),
        Some(MaxPrefixEvent::Exceeded {
            family: f,
            count: 101,
            limit: 100
        })
    );
    assert_eq!(m.check(f, 150), None, "reported once");
    // back under the threshold: armed again
    assert_eq!(m.check(f, 10), None);
    assert!(matches!(
        m.check(f, 80),
        Some(MaxPrefixEvent::Threshold { .. })
    ));
    assert!(matches!(
        m.check(f, 120),
        Some(MaxPrefixEvent::Exceeded { .. })
    ));
    // other families are not limited
    assert_eq!(m.check(AfiSafi::IPV6_UNICAST, 1_000_000), None);
}

#[test]
fn tear_down_with_cease_6_1_and_rfc_4486_data() {
    let mut m = MaxPrefix::new();
    let mut l = MaxPrefixLimit::new(AfiSafi::IPV6_UNICAST, 1000, MaxPrefixMode::TearDown);
    l.threshold_percent = 90;
    l.restart_after = Some(Duration::from_secs(300));
    m.set(l);
    let f = AfiSafi::IPV6_UNICAST;
    assert!(matches!(
        m.check(f, 900),
        Some(MaxPrefixEvent::Threshold { .. })
    ));
    let Some(MaxPrefixEvent::TearDown {
        family,
        count,
        notification,
        restart_after,
    }) = m.check(f, 1001)
    else {
        panic!("no tear-down")
    };
    assert_eq!(family, f);
    assert_eq!(count, 1001);
    assert_eq!(restart_after, Some(Duration::from_secs(300)));
    assert_eq!(notification.code.to_pair(), (6, 1));
    // the whole message on the wire
    let mut buf = BytesMut::new();
    Message::Notification(notification.clone())
        .encode(&SessionContext::default(), &mut buf)
        .unwrap();
    let mut want = vec![0xff; 16];
    want.extend_from_slice(&[0, 28, 3]); // length 19 + 2 + 7, NOTIFICATION
    want.extend_from_slice(&[6, 1]); // Cease / Maximum Number of Prefixes Reached
    want.extend_from_slice(&[0, 2, 1]); // AFI 2 (IPv6), SAFI 1 (unicast)
    want.extend_from_slice(&1000u32.to_be_bytes()); // the limit
    assert_eq!(&buf[..], &want[..]);
    assert_eq!(
        Notification::decode(buf.freeze().slice(19..), &SessionContext::default()).unwrap(),
        notification
    );
    // a tear-down is returned on every check while over the limit
    assert!(matches!(
        m.check(f, 1002),
        Some(MaxPrefixEvent::TearDown { .. })
    ));
    m.reset();
    assert_eq!(m.check(f, 10), None);
}

#[test]
fn counts_from_the_rib_per_family() {
    let mut rib = Rib::new(DecisionConfig::default());
    let p = rib
        .add_peer(PeerInfo {
            kind: K::External,
            asn: 65001,
            router_id: ip4("192.0.2.1"),
            address: "192.0.2.1".parse().unwrap(),
            local: false,
        })
        .unwrap();
    let mut m = MaxPrefix::new();
    m.set(MaxPrefixLimit::new(
        AfiSafi::IPV4_UNICAST,
        10,
        MaxPrefixMode::TearDown,
    ));
    m.set(MaxPrefixLimit::new(
        AfiSafi::IPV6_UNICAST,
        4,
        MaxPrefixMode::WarningOnly,
    ));
    let a = PathAttributes {
        origin: Some(Origin::Igp),
        ..PathAttributes::default()
    };
    let mut ch = Vec::new();
    let v4: Vec<Nlri> = (0..8)
        .map(|i| Nlri::new(net(&format!("10.{i}.0.0/16"))))
        .collect();
    rib.announce(
        p,
        &a,
        NextHop::V4(ip4("192.0.2.1")),
        v4,
        &AllReachable,
        &mut ch,
    )
    .unwrap();
    let v6: Vec<Nlri> = (0..5)
        .map(|i| Nlri::new(net(&format!("2001:db8:{i}::/48"))))
        .collect();
    let nh6 = NextHop::from("2001:db8::1".parse::<std::net::Ipv6Addr>().unwrap());
    rib.announce(p, &a, nh6, v6, &AllReachable, &mut ch)
        .unwrap();
    let ev = m.check_rib(&rib, p);
    // IPv4: 8 of 10 is past 75%; IPv6: 5 is over 4
    assert_eq!(ev.len(), 2);
    assert!(ev.iter().any(|e| matches!(e, MaxPrefixEvent::Threshold { family, count: 8, .. } if *family == AfiSafi::IPV4_UNICAST)));
    assert!(ev.iter().any(|e| matches!(e, MaxPrefixEvent::Exceeded { family, count: 5, .. } if *family == AfiSafi::IPV6_UNICAST)));
    let more: Vec<Nlri> = (8..11)
        .map(|i| Nlri::new(net(&format!("10.{i}.0.0/16"))))
        .collect();
    rib.announce(
        p,
        &a,
        NextHop::V4(ip4("192.0.2.1")),
        more,
        &AllReachable,
        &mut ch,
    )
    .unwrap();
    let ev = m.check_rib(&rib, p);
    assert!(matches!(
        ev.first(),
        Some(MaxPrefixEvent::TearDown { count: 11, .. })
    ));
}
