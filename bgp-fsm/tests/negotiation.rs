//! Capability negotiation: one Negotiated value from the two OPENs.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod support;

use std::time::Duration;

use bgp_fsm::negotiated::keepalive_time;
use bgp_fsm::{
    AddPathDirections, GracefulRestartConfig, LongLivedGracefulRestartConfig, Negotiated, State,
    Timer,
};
use bgp_wire::capability::{
    AddPathFamily, BgpRole, ExtendedNextHopEntry, GracefulRestart, GracefulRestartFamily,
    LongLivedGracefulRestart, LongLivedGracefulRestartFamily, Multiprotocol, SendReceive,
};
use bgp_wire::{Afi, AfiSafi, Capability, Open};
use support::*;

fn mp(f: AfiSafi) -> Capability {
    Capability::Multiprotocol(Multiprotocol::new(f))
}

fn negotiate(local: &bgp_fsm::SessionConfig, remote: &Open) -> Negotiated {
    let mut s = session_in(local.clone(), State::OpenConfirm, remote.clone());
    drain(&mut s);
    s.negotiated().unwrap().clone()
}

#[test]
fn families_are_the_intersection() {
    let mut c = config();
    c.capabilities.families = vec![
        AfiSafi::IPV6_UNICAST,
        AfiSafi::IPV4_UNICAST,
        AfiSafi::IPV4_MULTICAST,
    ];
    let o = Open::new(
        PEER_AS,
        90,
        PEER_ID,
        vec![
            mp(AfiSafi::IPV4_UNICAST),
            mp(AfiSafi::IPV6_UNICAST),
            mp(AfiSafi::IPV6_MULTICAST),
        ],
    );
    let n = negotiate(&c, &o);
    assert_eq!(n.families, [AfiSafi::IPV6_UNICAST, AfiSafi::IPV4_UNICAST]);
    assert!(n.has_family(AfiSafi::IPV4_UNICAST) && !n.has_family(AfiSafi::IPV4_MULTICAST));
    // A peer without Multiprotocol capabilities speaks IPv4 unicast only.
    let n = negotiate(&c, &Open::new(PEER_AS, 90, PEER_ID, vec![]));
    assert_eq!(n.families, [AfiSafi::IPV4_UNICAST]);
    // And so do we when we list no family.
    let mut c = config();
    c.capabilities.families.clear();
    assert!(!c.local_open(false).has_capability(1));
    let n = negotiate(&c, &peer_open());
    assert_eq!(n.families, [AfiSafi::IPV4_UNICAST]);
    // Nothing in common.
    let o = Open::new(PEER_AS, 90, PEER_ID, vec![mp(AfiSafi::IPV6_UNICAST)]);
    assert!(negotiate(&config(), &o).families.is_empty());
}

#[test]
fn add_path_per_family_and_direction() {
    let ap = |f, sr| AddPathFamily {
        family: f,
        send_receive: sr,
    };
    let mut c = config();
    c.capabilities.families = vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST];
    c.capabilities.add_path = vec![
        ap(AfiSafi::IPV4_UNICAST, SendReceive::Both),
        ap(AfiSafi::IPV6_UNICAST, SendReceive::Receive),
    ];
    let o = peer_open_with(vec![
        mp(AfiSafi::IPV6_UNICAST),
        Capability::AddPath(bgp_wire::capability::AddPath {
            families: vec![
                ap(AfiSafi::IPV4_UNICAST, SendReceive::Receive),
                ap(AfiSafi::IPV6_UNICAST, SendReceive::Receive),
            ],
        }),
    ]);
    let n = negotiate(&c, &o);
    // IPv4: we send (we said both, the peer receives); IPv6: both only
    // receive, so nothing flows.
    assert_eq!(
        n.add_path(AfiSafi::IPV4_UNICAST),
        AddPathDirections {
            send: true,
            receive: false
        }
    );
    assert_eq!(
        n.add_path(AfiSafi::IPV6_UNICAST),
        AddPathDirections::default()
    );
    assert!(n.session_context().add_path_send(AfiSafi::IPV4_UNICAST));
    // The session's codec context is the negotiated one from OpenConfirm on.
    let s = session_in(c, State::OpenConfirm, o.clone());
    assert_eq!(
        s.codec_context(),
        Open::negotiate(&s.local_open(), &o),
        "the context is bgp-wire's Open::negotiate"
    );
}

#[test]
fn hold_time_and_keepalive() {
    let open_hold = |h| {
        let mut o = peer_open();
        o.hold_time = h;
        o
    };
    // The smaller hold time; keepalive a third of it.
    for (ours, theirs, hold, ka) in [
        (90, 180, 90, Some(30_000u32)),
        (90, 30, 30, Some(10_000)),
        (90, 10, 10, Some(3_333)),
        (90, 3, 3, Some(1_000)),
        (90, 0, 0, None),
        (0, 90, 0, None),
    ] {
        let mut c = config();
        c.hold_time = ours;
        let n = negotiate(&c, &open_hold(theirs));
        assert_eq!(n.hold_time, hold, "{ours}/{theirs}");
        assert_eq!(
            n.keepalive_time.map(|d| d.as_millis()),
            ka.map(u128::from),
            "{ours}/{theirs}"
        );
        // The timers of OpenConfirm follow: none at all for 0.
        let s = session_in(c, State::OpenConfirm, open_hold(theirs));
        assert_eq!(
            s.timer(Timer::Hold).map(|t| t.duration),
            n.hold_duration(),
            "{ours}/{theirs}"
        );
        assert_eq!(
            s.timer(Timer::Keepalive).map(|t| t.duration),
            n.keepalive_time
        );
    }
    // A configured KeepaliveTime is used when smaller than a third.
    let mut c = config();
    c.keepalive_time = Some(Duration::from_secs(10));
    assert_eq!(
        negotiate(&c, &peer_open()).keepalive_time,
        Some(Duration::from_secs(10))
    );
    c.keepalive_time = Some(Duration::from_secs(60));
    assert_eq!(
        negotiate(&c, &peer_open()).keepalive_time,
        Some(Duration::from_secs(30))
    );
    assert_eq!(keepalive_time(0, Some(Duration::from_secs(1))), None);
}

#[test]
fn four_octet_as_extended_message_and_next_hop() {
    let mut c = config();
    c.capabilities.extended_message = true;
    c.capabilities.extended_next_hop = vec![ExtendedNextHopEntry {
        family: AfiSafi::IPV4_UNICAST,
        next_hop_afi: Afi::Ipv6,
    }];
    let o = peer_open_with(vec![
        Capability::ExtendedMessage,
        Capability::ExtendedNextHop(bgp_wire::capability::ExtendedNextHop {
            entries: vec![ExtendedNextHopEntry {
                family: AfiSafi::IPV4_UNICAST,
                next_hop_afi: Afi::Ipv6,
            }],
        }),
    ]);
    let n = negotiate(&c, &o);
    assert!(n.four_octet_as() && n.extended_message());
    assert!(n.extended_next_hop(AfiSafi::IPV4_UNICAST, Afi::Ipv6));
    assert_eq!(n.session_context().max_message_len(), 65535);
    // Without the peer's: plain.
    let n = negotiate(&c, &Open::new(PEER_AS, 90, PEER_ID, vec![]));
    assert!(!n.four_octet_as() && !n.extended_message());
    assert!(!n.extended_next_hop(AfiSafi::IPV4_UNICAST, Afi::Ipv6));
    assert_eq!(n.peer_as, PEER_AS);
    assert_eq!(n.peer_id, PEER_ID);
    assert!(!n.internal);
}

#[test]
fn route_refresh_and_enhanced() {
    let mut c = config();
    c.capabilities.enhanced_route_refresh = true;
    let n = negotiate(&c, &peer_open_with(vec![Capability::EnhancedRouteRefresh]));
    assert!(n.route_refresh && n.enhanced_route_refresh);
    // The pre-standard code counts as Route Refresh.
    let o = Open::new(
        PEER_AS,
        90,
        PEER_ID,
        vec![Capability::RouteRefreshPreStandard],
    );
    let n = negotiate(&c, &o);
    assert!(n.route_refresh && !n.enhanced_route_refresh);
    let n = negotiate(&c, &Open::new(PEER_AS, 90, PEER_ID, vec![]));
    assert!(!n.route_refresh);
    let mut c = config();
    c.capabilities.route_refresh = false;
    assert!(!negotiate(&c, &peer_open()).route_refresh);
}

#[test]
fn graceful_restart_parameters_of_both_sides() {
    let mut c = config();
    c.capabilities.graceful_restart = Some(GracefulRestartConfig {
        restart_time: 200,
        forwarding_state: true,
        ..GracefulRestartConfig::default()
    });
    c.capabilities.long_lived_graceful_restart = Some(LongLivedGracefulRestartConfig {
        stale_time: 3600,
        forwarding_state: false,
    });
    let peer_gr = GracefulRestart {
        flags: GracefulRestart::RESTART_STATE,
        restart_time: 60,
        families: vec![GracefulRestartFamily::new(AfiSafi::IPV4_UNICAST, true)],
    };
    let peer_ll = LongLivedGracefulRestart {
        families: vec![LongLivedGracefulRestartFamily {
            family: AfiSafi::IPV4_UNICAST,
            flags: 0,
            stale_time: 7200,
        }],
    };
    let o = peer_open_with(vec![
        Capability::GracefulRestart(peer_gr.clone()),
        Capability::LongLivedGracefulRestart(peer_ll.clone()),
    ]);
    let n = negotiate(&c, &o);
    let gr = &n.graceful_restart;
    assert_eq!(gr.remote.as_ref(), Some(&peer_gr));
    let local = gr.local.as_ref().unwrap();
    assert_eq!(local.restart_time, 200);
    assert!(local.notification() && !local.restart_state());
    assert!(
        local
            .family(AfiSafi::IPV4_UNICAST)
            .unwrap()
            .forwarding_preserved()
    );
    assert!(gr.negotiated() && gr.peer_restarted());
    assert!(!gr.notification(), "the peer did not set N");
    assert_eq!(gr.peer_restart_time(), 60);
    assert_eq!(gr.remote_long_lived.as_ref(), Some(&peer_ll));
    assert_eq!(
        gr.local_long_lived.as_ref().unwrap().families[0].stale_time,
        3600
    );
    assert_eq!(gr.long_lived_stale_time(AfiSafi::IPV4_UNICAST), Some(7200));
    assert_eq!(gr.long_lived_stale_time(AfiSafi::IPV6_UNICAST), None);
    // Restarting speaker: the R bit in our OPEN.
    let mut r = c.clone();
    r.capabilities.graceful_restart.as_mut().unwrap().restarting = true;
    let s = session_in(r, State::OpenSent, peer_open());
    assert!(s.local_open().graceful_restart().unwrap().restart_state());
    // Helper only: no families.
    let mut h = c.clone();
    h.capabilities
        .graceful_restart
        .as_mut()
        .unwrap()
        .helper_only = true;
    assert!(
        h.local_open(false)
            .graceful_restart()
            .unwrap()
            .families
            .is_empty()
    );
}

#[test]
fn roles_and_internal() {
    let mut c = config();
    c.capabilities.role = Some(BgpRole::Customer);
    let n = negotiate(
        &c,
        &peer_open_with(vec![Capability::Role(BgpRole::Provider)]),
    );
    assert_eq!(n.local_role, Some(BgpRole::Customer));
    assert_eq!(n.remote_role, Some(BgpRole::Provider));
    let mut c = config();
    c.peer_as = LOCAL_AS;
    let n = negotiate(&c, &Open::new(LOCAL_AS, 90, PEER_ID, vec![]));
    assert!(n.internal);
}
