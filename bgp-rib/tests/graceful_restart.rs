//! Graceful-restart helper mode and long-lived graceful restart: paths kept
//! stale per family until End-of-RIB or a timer (time passed in), then
//! swept; LLGR: NO_LLGR paths dropped, the rest least preferred and sent
//! with LLGR_STALE to LLGR peers only.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod export_common;

use std::time::Duration;

use bgp_rib::export::{LocalAddresses, Negotiated, PeerConfig};
use bgp_rib::graceful_restart::{GrEvent, GrFamily, GrParams, GracefulRestart};
use bgp_rib::{AllReachable, NextHop, PathFlags, PeerId, PeerKind as K};
use bgp_wire::AfiSafi;
use bgp_wire::AsPath;
use bgp_wire::attribute::{Communities, Community, Origin, PathAttributes};
use bgp_wire::nlri::Nlri;
use export_common::*;

const V4: AfiSafi = AfiSafi::IPV4_UNICAST;
const V6: AfiSafi = AfiSafi::IPV6_UNICAST;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn base(path: &[u32]) -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(path)),
        ..PathAttributes::default()
    }
}

fn params(families: Vec<GrFamily>) -> GrParams {
    GrParams {
        restart_time: secs(120),
        stale_time: secs(360),
        families,
    }
}

/// A speaker with a restarting peer P (IPv4 and IPv6 routes) and an iBGP
/// receiver.
fn setup() -> (Speaker, PeerId, PeerId) {
    let mut s = Speaker::new(65000, "10.0.0.1");
    let p = s.peer(K::External, 65001, "192.0.2.1", PeerConfig::default());
    let rx = s.peer(
        K::Internal,
        65000,
        "10.0.0.2",
        PeerConfig::default().with_local_addresses(LocalAddresses::v4(ip4("10.0.0.1"))),
    );
    s.join(rx, Negotiated::dual_stack());
    s.announce(
        p,
        &["203.0.113.0/24", "203.0.114.0/24"],
        &base(&[65001]),
        "192.0.2.1",
    );
    let nh6 = NextHop::from("2001:db8::1".parse::<std::net::Ipv6Addr>().unwrap());
    s.announce_nlri(
        p,
        vec![Nlri::new(net("2001:db8:1::/48"))],
        &base(&[65001]),
        nh6,
    );
    s.flush();
    (s, p, rx)
}

fn stale_count(s: &Speaker, p: PeerId) -> usize {
    s.rib
        .adj_rib_in(p)
        .iter()
        .filter(|(_, r)| r.flags.contains(PathFlags::STALE))
        .count()
}

#[test]
fn kept_until_end_of_rib_per_family() {
    let (mut s, p, rx) = setup();
    let mut gr = GracefulRestart::new(p, params(vec![GrFamily::new(V4)]));
    let mut ch = Vec::new();
    let ev = gr.session_down(&mut s.rib, secs(0), &AllReachable, &mut ch);
    // IPv6 is not in the capability: removed at once; IPv4 kept stale
    assert_eq!(
        ev,
        [
            GrEvent::Stale { family: V4 },
            GrEvent::Swept {
                family: V6,
                removed: 1
            }
        ]
    );
    assert_eq!(stale_count(&s, p), 2);
    assert_eq!(s.rib.peer_path_count(p), 2);
    assert_eq!(gr.next_deadline(), Some(secs(120)));
    s.ex.record(&ch);
    s.flush();
    // the stale routes are still advertised; the IPv6 one is withdrawn
    assert!(s.got(rx).has("203.0.113.0/24"));
    assert!(!s.got(rx).has("2001:db8:1::/48"));
    // back at 30 s with the forwarding state kept: waiting for End-of-RIB
    let ev = gr.session_up(
        &mut s.rib,
        secs(30),
        params(vec![GrFamily::new(V4)]),
        &AllReachable,
        &mut ch,
    );
    assert!(ev.is_empty());
    assert_eq!(gr.next_deadline(), Some(secs(390)));
    // the peer sends one route again: it is fresh
    s.announce(p, &["203.0.113.0/24"], &base(&[65001]), "192.0.2.1");
    assert_eq!(stale_count(&s, p), 1);
    // End-of-RIB: the other is swept
    let ev = gr.end_of_rib(&mut s.rib, V4, &AllReachable, &mut ch);
    assert_eq!(
        ev,
        Some(GrEvent::Swept {
            family: V4,
            removed: 1
        })
    );
    assert!(!gr.is_active());
    s.ex.record(&ch);
    s.flush();
    assert!(s.got(rx).has("203.0.113.0/24"));
    assert!(!s.got(rx).has("203.0.114.0/24"));
    assert_eq!(s.rib.peer_path_count(p), 1);
}

#[test]
fn timers_sweep() {
    // not back within the restart time
    let (mut s, p, _) = setup();
    let mut gr = GracefulRestart::new(p, params(vec![GrFamily::new(V4), GrFamily::new(V6)]));
    let mut ch = Vec::new();
    gr.session_down(&mut s.rib, secs(0), &AllReachable, &mut ch);
    assert_eq!(stale_count(&s, p), 3);
    assert!(
        gr.tick(&mut s.rib, secs(119), &AllReachable, &mut ch)
            .is_empty()
    );
    let ev = gr.tick(&mut s.rib, secs(120), &AllReachable, &mut ch);
    assert_eq!(ev.len(), 2);
    assert_eq!(s.rib.peer_path_count(p), 0);
    assert_eq!(gr.next_deadline(), None);

    // back, but no End-of-RIB within the stale time
    let (mut s, p, _) = setup();
    let mut gr = GracefulRestart::new(p, params(vec![GrFamily::new(V4), GrFamily::new(V6)]));
    gr.session_down(&mut s.rib, secs(0), &AllReachable, &mut ch);
    gr.session_up(
        &mut s.rib,
        secs(10),
        params(vec![GrFamily::new(V4), GrFamily::new(V6)]),
        &AllReachable,
        &mut ch,
    );
    s.announce(p, &["203.0.113.0/24"], &base(&[65001]), "192.0.2.1");
    let ev = gr.end_of_rib(&mut s.rib, V6, &AllReachable, &mut ch);
    assert_eq!(
        ev,
        Some(GrEvent::Swept {
            family: V6,
            removed: 1
        })
    );
    assert!(
        gr.tick(&mut s.rib, secs(369), &AllReachable, &mut ch)
            .is_empty()
    );
    let ev = gr.tick(&mut s.rib, secs(370), &AllReachable, &mut ch);
    assert_eq!(
        ev,
        [GrEvent::Swept {
            family: V4,
            removed: 1
        }]
    );
    assert_eq!(s.rib.peer_path_count(p), 1, "the route sent again stays");
}

#[test]
fn forwarding_state_lost_sweeps_at_once() {
    let (mut s, p, _) = setup();
    let mut gr = GracefulRestart::new(p, params(vec![GrFamily::new(V4), GrFamily::new(V6)]));
    let mut ch = Vec::new();
    gr.session_down(&mut s.rib, secs(0), &AllReachable, &mut ch);
    let mut lost = GrFamily::new(V4);
    lost.forwarding_preserved = false;
    // IPv4 without the F bit, IPv6 missing from the new capability
    let ev = gr.session_up(
        &mut s.rib,
        secs(5),
        params(vec![lost]),
        &AllReachable,
        &mut ch,
    );
    assert_eq!(ev.len(), 2);
    assert_eq!(s.rib.peer_path_count(p), 0);
    assert!(!gr.is_active());
}

#[test]
fn long_lived_stale() {
    let (mut s, p, rx) = setup();
    // another peer with a worse path for one prefix
    let q = s.peer(K::External, 65002, "192.0.2.2", PeerConfig::default());
    s.announce(
        q,
        &["203.0.113.0/24"],
        &base(&[65002, 65003, 65004]),
        "192.0.2.2",
    );
    // a route of P with NO_LLGR
    let mut no_llgr = base(&[65001]);
    no_llgr.communities = Some(Communities::from_items(&[Community::NO_LLGR]));
    s.announce(p, &["203.0.115.0/24"], &no_llgr, "192.0.2.1");
    // an LLGR receiver
    let llgr_rx = s.peer(
        K::Internal,
        65000,
        "10.0.0.3",
        PeerConfig::default().with_local_addresses(LocalAddresses::v4(ip4("10.0.0.1"))),
    );
    s.join(
        llgr_rx,
        Negotiated {
            llgr: true,
            ..Negotiated::dual_stack()
        },
    );
    s.flush();
    assert_eq!(s.rib.best(&net("203.0.113.0/24")).unwrap().peer, p);
    let fams = vec![GrFamily::new(V4).with_llgr(secs(3600)), GrFamily::new(V6)];
    let mut gr = GracefulRestart::new(p, params(fams));
    let mut ch = Vec::new();
    gr.session_down(&mut s.rib, secs(0), &AllReachable, &mut ch);
    let ev = gr.tick(&mut s.rib, secs(120), &AllReachable, &mut ch);
    // IPv6 has no long-lived time: swept; IPv4 enters LLGR, the NO_LLGR
    // route dropped
    assert!(ev.contains(&GrEvent::Swept {
        family: V6,
        removed: 1
    }));
    assert!(ev.contains(&GrEvent::LongLived {
        family: V4,
        dropped: 1
    }));
    assert_eq!(gr.next_deadline(), Some(secs(3720)));
    assert!(
        s.rib
            .adj_rib_in(p)
            .iter()
            .all(|(_, r)| r.flags.contains(PathFlags::LLGR_STALE))
    );
    assert_eq!(s.rib.peer_path_count(p), 2);
    // LLGR-stale paths are least preferred: Q's longer path wins now
    assert_eq!(s.rib.best(&net("203.0.113.0/24")).unwrap().peer, q);
    assert_eq!(s.rib.best(&net("203.0.114.0/24")).unwrap().peer, p);
    s.ex.record(&ch);
    s.flush();
    // to the receiver without LLGR: the LLGR-stale route is withdrawn
    assert!(!s.got(rx).has("203.0.114.0/24"));
    assert!(!s.got(rx).has("203.0.115.0/24"));
    assert_eq!(
        s.got(rx)
            .attrs("203.0.113.0/24")
            .as_path
            .as_ref()
            .unwrap()
            .to_string(),
        "65002 65003 65004"
    );
    // to the LLGR receiver: sent, with the LLGR_STALE community
    let a = s.got(llgr_rx).attrs("203.0.114.0/24");
    assert!(
        a.communities
            .as_ref()
            .unwrap()
            .contains(&Community::LLGR_STALE)
    );
    // the long-lived stale time ends: swept
    let ev = gr.tick(&mut s.rib, secs(3720), &AllReachable, &mut ch);
    assert_eq!(
        ev,
        [GrEvent::Swept {
            family: V4,
            removed: 2
        }]
    );
    assert_eq!(s.rib.peer_path_count(p), 0);
    s.ex.record(&ch);
    s.flush();
    assert!(!s.got(llgr_rx).has("203.0.114.0/24"));
}

#[test]
fn zero_restart_time_goes_straight_to_llgr() {
    let (mut s, p, _) = setup();
    let mut gr = GracefulRestart::new(
        p,
        GrParams {
            restart_time: Duration::ZERO,
            stale_time: secs(360),
            families: vec![GrFamily::new(V4).with_llgr(secs(60))],
        },
    );
    let mut ch = Vec::new();
    let ev = gr.session_down(&mut s.rib, secs(1000), &AllReachable, &mut ch);
    assert!(ev.contains(&GrEvent::LongLived {
        family: V4,
        dropped: 0
    }));
    assert_eq!(gr.next_deadline(), Some(secs(1060)));
    // back during LLGR: End-of-RIB ends it
    gr.session_up(
        &mut s.rib,
        secs(1010),
        params(vec![GrFamily::new(V4)]),
        &AllReachable,
        &mut ch,
    );
    s.announce(p, &["203.0.113.0/24"], &base(&[65001]), "192.0.2.1");
    let ev = gr.end_of_rib(&mut s.rib, V4, &AllReachable, &mut ch);
    assert_eq!(
        ev,
        Some(GrEvent::Swept {
            family: V4,
            removed: 1
        })
    );
    let r = s.rib.best(&net("203.0.113.0/24")).unwrap();
    assert_eq!(r.flags, PathFlags::empty(), "announced again: fresh");
}
