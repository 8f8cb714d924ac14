//! One test per best-path step and per knob: each asserts the winner and
//! the step recorded as deciding.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use bgp_rib::{DecisionConfig, DecisionStep as S, PeerId, PeerKind as K, Rib};
use bgp_wire::attribute::{Community, Origin, SegmentType};
use common::*;

const P: &str = "10.0.0.0/8";

fn winner(rib: &Rib) -> (PeerId, S) {
    let s = rib.selected(&net(P)).expect("a best path");
    (s.best.peer, s.step)
}

fn rib(cfg: DecisionConfig) -> Rib {
    Rib::new(cfg)
}

/// Resolver reaching the three usual next hops at cost 10.
fn reach() -> Costs {
    Costs::all(10, &["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"])
}

#[test]
fn only_path() {
    let mut r = rib(DecisionConfig::default());
    let a = peer(&mut r, K::External, 65001, "1.1.1.1");
    let ch = announce(&mut r, a, P, &attrs(&[65001]), "192.0.2.1", &reach());
    assert_eq!(winner(&r), (a, S::OnlyPath));
    assert_eq!(ch.len(), 1);
    assert_eq!(ch[0].step, Some(S::OnlyPath));
}

#[test]
fn next_hop_reachable() {
    let mut r = rib(DecisionConfig::default());
    let a = peer(&mut r, K::External, 65001, "1.1.1.1");
    let b = peer(&mut r, K::External, 65002, "2.2.2.2");
    let res = Costs::all(10, &["192.0.2.2"]);
    // a is better on every later step but its next hop does not resolve
    announce(&mut r, a, P, &attrs(&[65001]).lp(500), "192.0.2.1", &res);
    assert!(
        r.selected(&net(P)).is_none(),
        "an unreachable path is never best"
    );
    announce(&mut r, b, P, &attrs(&[65002, 1, 2]), "192.0.2.2", &res);
    assert_eq!(winner(&r), (b, S::NextHopReachable));
    // the resolver's answer changes: reevaluate
    let mut changes = Vec::new();
    r.reevaluate(&reach(), &mut changes);
    assert_eq!(winner(&r), (a, S::LocalPref));
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].old.as_ref().unwrap().peer, b);
    assert_eq!(changes[0].new.as_ref().unwrap().peer, a);
}

#[test]
fn llgr_stale_last() {
    let mut r = rib(DecisionConfig::default());
    let a = peer(&mut r, K::External, 65001, "1.1.1.1");
    let b = peer(&mut r, K::External, 65002, "2.2.2.2");
    announce(
        &mut r,
        a,
        P,
        &attrs(&[65001]).lp(200),
        "192.0.2.1",
        &reach(),
    );
    announce(&mut r, b, P, &attrs(&[65002]), "192.0.2.2", &reach());
    assert_eq!(winner(&r), (a, S::LocalPref));
    let mut ch = Vec::new();
    assert_eq!(r.mark_stale(a, true, &reach(), &mut ch), 1);
    assert_eq!(winner(&r), (b, S::Stale));
    assert_eq!(ch.len(), 1);
    // the LLGR_STALE community has the same effect
    let mut r = rib(DecisionConfig::default());
    let a = peer(&mut r, K::External, 65001, "1.1.1.1");
    let b = peer(&mut r, K::External, 65002, "2.2.2.2");
    let stale = attrs(&[65001]).lp(200).community(Community::LLGR_STALE);
    announce(&mut r, a, P, &stale, "192.0.2.1", &reach());
    announce(&mut r, b, P, &attrs(&[65002]), "192.0.2.2", &reach());
    assert_eq!(winner(&r), (b, S::Stale));
}

#[test]
fn graceful_restart_stale_only_with_knob() {
    for stale_last in [false, true] {
        let cfg = DecisionConfig {
            stale_last,
            ..DecisionConfig::default()
        };
        let mut r = rib(cfg);
        let a = peer(&mut r, K::External, 65001, "1.1.1.1");
        let b = peer(&mut r, K::External, 65002, "2.2.2.2");
        announce(
            &mut r,
            a,
            P,
            &attrs(&[65001]).lp(200),
            "192.0.2.1",
            &reach(),
        );
        announce(&mut r, b, P, &attrs(&[65002]), "192.0.2.2", &reach());
        let mut ch = Vec::new();
        r.mark_stale(a, false, &reach(), &mut ch);
        if stale_last {
            assert_eq!(winner(&r), (b, S::Stale));
        } else {
            assert_eq!(winner(&r), (a, S::LocalPref));
        }
        // announced again: fresh
        announce(
            &mut r,
            a,
            P,
            &attrs(&[65001]).lp(200),
            "192.0.2.1",
            &reach(),
        );
        assert_eq!(winner(&r), (a, S::LocalPref));
        // sweep removes only stale paths
        r.mark_stale(b, false, &reach(), &mut ch);
        assert_eq!(r.sweep_stale(b, &reach(), &mut ch), 1);
        assert_eq!(r.paths(&net(P)).len(), 1);
        assert_eq!(winner(&r), (a, S::OnlyPath));
    }
}

#[test]
fn local_pref_higher_and_default_for_ebgp() {
    let mut r = rib(DecisionConfig::default());
    let e = peer(&mut r, K::External, 65001, "1.1.1.1");
    let i = peer(&mut r, K::Internal, 64500, "2.2.2.2");
    // eBGP without LOCAL_PREF counts 100; iBGP 90 loses
    announce(
        &mut r,
        e,
        P,
        &attrs(&[65001, 1, 2, 3]),
        "192.0.2.1",
        &reach(),
    );
    announce(&mut r, i, P, &attrs(&[65002]).lp(90), "192.0.2.2", &reach());
    assert_eq!(winner(&r), (e, S::LocalPref));
    // 110 wins
    announce(
        &mut r,
        i,
        P,
        &attrs(&[65002]).lp(110),
        "192.0.2.2",
        &reach(),
    );
    assert_eq!(winner(&r), (i, S::LocalPref));
    // 100 ties: decided later (AS_PATH length)
    announce(
        &mut r,
        i,
        P,
        &attrs(&[65002]).lp(100),
        "192.0.2.2",
        &reach(),
    );
    assert_eq!(winner(&r), (i, S::AsPathLength));
    // the default is a knob
    let mut r = rib(DecisionConfig {
        default_local_pref: 80,
        ..DecisionConfig::default()
    });
    let e = peer(&mut r, K::External, 65001, "1.1.1.1");
    let i = peer(&mut r, K::Internal, 64500, "2.2.2.2");
    announce(&mut r, e, P, &attrs(&[65001]), "192.0.2.1", &reach());
    announce(
        &mut r,
        i,
        P,
        &attrs(&[65002, 1]).lp(90),
        "192.0.2.2",
        &reach(),
    );
    assert_eq!(winner(&r), (i, S::LocalPref));
}

#[test]
fn as_path_length_set_counts_one_confed_none() {
    let mut r = rib(DecisionConfig::default());
    let a = peer(&mut r, K::External, 65001, "1.1.1.1");
    let b = peer(&mut r, K::External, 65002, "2.2.2.2");
    // a: 65001 65010 {1 2 3} = 3; b: 65002 1 2 3 = 4
    let with_set = attrs(&[]).segments(&[
        (SegmentType::AsSequence, &[65001, 65010]),
        (SegmentType::AsSet, &[1, 2, 3]),
    ]);
    announce(&mut r, a, P, &with_set, "192.0.2.1", &reach());
    announce(
        &mut r,
        b,
        P,
        &attrs(&[65002, 1, 2, 3]),
        "192.0.2.2",
        &reach(),
    );
    assert_eq!(winner(&r), (a, S::AsPathLength));
    // confederation segments count nothing: (64512 64513 64514) 65002 = 1
    let confed = attrs(&[]).segments(&[
        (SegmentType::AsConfedSequence, &[64512, 64513, 64514]),
        (SegmentType::AsSequence, &[65002]),
    ]);
    announce(&mut r, b, P, &confed, "192.0.2.2", &reach());
    assert_eq!(winner(&r), (b, S::AsPathLength));
}

#[test]
fn origin_igp_egp_incomplete() {
    let mut r = rib(DecisionConfig::default());
    let a = peer(&mut r, K::External, 65001, "1.1.1.1");
    let b = peer(&mut r, K::External, 65002, "2.2.2.2");
    announce(
        &mut r,
        a,
        P,
        &attrs(&[65001]).origin(Origin::Incomplete),
        "192.0.2.1",
        &reach(),
    );
    announce(
        &mut r,
        b,
        P,
        &attrs(&[65002]).origin(Origin::Egp),
        "192.0.2.2",
        &reach(),
    );
    assert_eq!(winner(&r), (b, S::Origin));
    announce(
        &mut r,
        a,
        P,
        &attrs(&[65001]).origin(Origin::Igp),
        "192.0.2.1",
        &reach(),
    );
    assert_eq!(winner(&r), (a, S::Origin));
}

#[test]
fn med_same_neighbour_only() {
    let mut r = rib(DecisionConfig::default());
    // b has the lower router id, so without MED b wins at RouterId
    let a = peer(&mut r, K::External, 65001, "2.2.2.2");
    let b = peer(&mut r, K::External, 65001, "1.1.1.1");
    announce(&mut r, a, P, &attrs(&[65001]).med(5), "192.0.2.1", &reach());
    announce(
        &mut r,
        b,
        P,
        &attrs(&[65001]).med(10),
        "192.0.2.2",
        &reach(),
    );
    assert_eq!(winner(&r), (a, S::Med));
    // from another neighbouring AS the MED is not compared
    announce(
        &mut r,
        b,
        P,
        &attrs(&[65002]).med(10),
        "192.0.2.2",
        &reach(),
    );
    assert_eq!(winner(&r), (b, S::RouterId));
}

#[test]
fn always_compare_med() {
    let mut r = rib(DecisionConfig {
        always_compare_med: true,
        ..DecisionConfig::default()
    });
    let a = peer(&mut r, K::External, 65001, "2.2.2.2");
    let b = peer(&mut r, K::External, 65002, "1.1.1.1");
    announce(&mut r, a, P, &attrs(&[65001]).med(5), "192.0.2.1", &reach());
    announce(
        &mut r,
        b,
        P,
        &attrs(&[65002]).med(10),
        "192.0.2.2",
        &reach(),
    );
    assert_eq!(winner(&r), (a, S::Med));
}

#[test]
fn missing_med_zero_or_worst() {
    for worst in [false, true] {
        let mut r = rib(DecisionConfig {
            missing_med_worst: worst,
            ..DecisionConfig::default()
        });
        let a = peer(&mut r, K::External, 65001, "1.1.1.1");
        let b = peer(&mut r, K::External, 65001, "2.2.2.2");
        announce(&mut r, a, P, &attrs(&[65001]), "192.0.2.1", &reach());
        announce(
            &mut r,
            b,
            P,
            &attrs(&[65001]).med(10),
            "192.0.2.2",
            &reach(),
        );
        if worst {
            assert_eq!(winner(&r), (b, S::Med));
        } else {
            assert_eq!(winner(&r), (a, S::Med));
        }
    }
}

#[test]
fn deterministic_med_groups_by_neighbour_as() {
    // A (65001, MED 10, IGP 30) beats B (65001, MED 20, IGP 10) on MED,
    // B beats C (65002, IGP 20) on IGP cost, C beats A on IGP cost: a
    // cycle. Peers are registered C, A, B, which is the fold's order.
    let costs = {
        let mut c = Costs::default();
        c.set("192.0.2.1", 30)
            .set("192.0.2.2", 10)
            .set("192.0.2.3", 20);
        c
    };
    for dmed in [false, true] {
        let mut r = rib(DecisionConfig {
            deterministic_med: dmed,
            ..DecisionConfig::default()
        });
        let c = peer(&mut r, K::Internal, 64500, "3.3.3.3");
        let a = peer(&mut r, K::Internal, 64500, "1.1.1.1");
        let b = peer(&mut r, K::Internal, 64500, "2.2.2.2");
        announce(
            &mut r,
            a,
            P,
            &attrs(&[65001]).lp(100).med(10),
            "192.0.2.1",
            &costs,
        );
        announce(
            &mut r,
            b,
            P,
            &attrs(&[65001]).lp(100).med(20),
            "192.0.2.2",
            &costs,
        );
        announce(&mut r, c, P, &attrs(&[65002]).lp(100), "192.0.2.3", &costs);
        if dmed {
            // group 65001: A (MED); then A against C: C (IGP cost)
            assert_eq!(winner(&r), (c, S::IgpCost));
        } else {
            // fold C, A, B: C beats A, B beats C
            assert_eq!(winner(&r), (b, S::IgpCost));
        }
    }
}

#[test]
fn deterministic_med_does_not_depend_on_order() {
    let costs = {
        let mut c = Costs::default();
        c.set("192.0.2.1", 30)
            .set("192.0.2.2", 10)
            .set("192.0.2.3", 20);
        c
    };
    let cfg = DecisionConfig {
        deterministic_med: true,
        ..DecisionConfig::default()
    };
    let orders: [[usize; 3]; 6] = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for order in orders {
        let mut r = rib(cfg);
        let ids = ["1.1.1.1", "2.2.2.2", "3.3.3.3"];
        let mut peers = [None; 3];
        for &i in &order {
            peers[i] = Some(peer(&mut r, K::Internal, 64500, ids[i]));
        }
        let [a, b, c] = peers.map(Option::unwrap);
        announce(&mut r, a, P, &attrs(&[65001]).med(10), "192.0.2.1", &costs);
        announce(&mut r, b, P, &attrs(&[65001]).med(20), "192.0.2.2", &costs);
        announce(&mut r, c, P, &attrs(&[65002]), "192.0.2.3", &costs);
        assert_eq!(winner(&r), (c, S::IgpCost), "order {order:?}");
    }
}

#[test]
fn ebgp_over_ibgp_and_confed_as_internal() {
    let mut r = rib(DecisionConfig::default());
    let e = peer(&mut r, K::External, 65001, "9.9.9.9");
    let i = peer(&mut r, K::Internal, 64500, "1.1.1.1");
    announce(&mut r, e, P, &attrs(&[65001]), "192.0.2.1", &reach());
    announce(
        &mut r,
        i,
        P,
        &attrs(&[65002]).lp(100),
        "192.0.2.2",
        &reach(),
    );
    assert_eq!(winner(&r), (e, S::PeerType));
    // confederation eBGP ranks with iBGP: decided later
    let mut r = rib(DecisionConfig::default());
    let c = peer(&mut r, K::ConfedExternal, 64512, "9.9.9.9");
    let i = peer(&mut r, K::Internal, 64500, "1.1.1.1");
    announce(
        &mut r,
        c,
        P,
        &attrs(&[65001]).lp(100),
        "192.0.2.1",
        &reach(),
    );
    announce(
        &mut r,
        i,
        P,
        &attrs(&[65002]).lp(100),
        "192.0.2.2",
        &reach(),
    );
    assert_eq!(winner(&r), (i, S::RouterId));
    let e = peer(&mut r, K::External, 65003, "8.8.8.8");
    announce(&mut r, e, P, &attrs(&[65003]), "192.0.2.3", &reach());
    assert_eq!(winner(&r), (e, S::PeerType));
}

#[test]
fn igp_cost_lower() {
    let mut r = rib(DecisionConfig::default());
    let a = peer(&mut r, K::Internal, 64500, "1.1.1.1");
    let b = peer(&mut r, K::Internal, 64500, "2.2.2.2");
    let mut costs = Costs::default();
    costs.set("192.0.2.1", 20).set("192.0.2.2", 10);
    announce(&mut r, a, P, &attrs(&[65001]).lp(100), "192.0.2.1", &costs);
    announce(&mut r, b, P, &attrs(&[65002]).lp(100), "192.0.2.2", &costs);
    assert_eq!(winner(&r), (b, S::IgpCost));
}

#[test]
fn router_id_or_originator_id() {
    let mut r = rib(DecisionConfig::default());
    let a = peer(&mut r, K::Internal, 64500, "1.1.1.1");
    let b = peer(&mut r, K::Internal, 64500, "2.2.2.2");
    announce(
        &mut r,
        a,
        P,
        &attrs(&[65001]).lp(100),
        "192.0.2.1",
        &reach(),
    );
    announce(
        &mut r,
        b,
        P,
        &attrs(&[65002]).lp(100),
        "192.0.2.2",
        &reach(),
    );
    assert_eq!(winner(&r), (a, S::RouterId));
    // a reflected route: its ORIGINATOR_ID stands for the router id
    announce(
        &mut r,
        a,
        P,
        &attrs(&[65001]).lp(100).originator("3.3.3.3"),
        "192.0.2.1",
        &reach(),
    );
    assert_eq!(winner(&r), (b, S::RouterId));
}

#[test]
fn cluster_list_shorter() {
    let mut r = rib(DecisionConfig::default());
    let a = peer(&mut r, K::Internal, 64500, "1.1.1.1");
    let b = peer(&mut r, K::Internal, 64500, "2.2.2.2");
    let base = attrs(&[65001]).lp(100).originator("7.7.7.7");
    announce(
        &mut r,
        a,
        P,
        &base.clone().clusters(&["10.0.0.1", "10.0.0.2"]),
        "192.0.2.1",
        &reach(),
    );
    announce(
        &mut r,
        b,
        P,
        &base.clusters(&["10.0.0.3"]),
        "192.0.2.2",
        &reach(),
    );
    assert_eq!(winner(&r), (b, S::ClusterListLength));
}

/// ORIGINATOR_ID and CLUSTER_LIST on eBGP paths: counted by default (RFC
/// 4456 9 names no session type), ignored with
/// `reflection_attrs_internal_only` (BIRD discards them from non-internal
/// peers), while they still count on iBGP paths.
#[test]
fn reflection_attrs_from_external_peers_with_knob() {
    for internal_only in [false, true] {
        let mut r = rib(DecisionConfig {
            reflection_attrs_internal_only: internal_only,
            ..DecisionConfig::default()
        });
        let a = peer(&mut r, K::External, 65001, "1.1.1.1");
        let b = peer(&mut r, K::External, 65001, "2.2.2.2");
        // b's ORIGINATOR_ID is lower than a's router id
        announce(&mut r, a, P, &attrs(&[65001]), "192.0.2.1", &reach());
        let b_attrs = attrs(&[65001]).originator("0.0.0.9");
        announce(&mut r, b, P, &b_attrs, "192.0.2.2", &reach());
        let want = if internal_only { a } else { b };
        assert_eq!(winner(&r), (want, S::RouterId), "{internal_only}");
        let ex = r.explain(&net(P), &reach());
        let cand_b = &ex.iter().find(|e| e.route.peer == b).unwrap().candidate;
        let want_id = if internal_only { "2.2.2.2" } else { "0.0.0.9" };
        assert_eq!(cand_b.router_id, ip4(want_id));

        // a CLUSTER_LIST on an eBGP path with the same ORIGINATOR_ID as a
        // path without one: the length decides only without the knob
        let mut r = rib(DecisionConfig {
            reflection_attrs_internal_only: internal_only,
            ..DecisionConfig::default()
        });
        let a = peer_at(&mut r, K::External, 65001, "1.1.1.1", "198.51.100.1");
        let b = peer_at(&mut r, K::External, 65001, "1.1.1.1", "198.51.100.2");
        let a_attrs = attrs(&[65001]).clusters(&["10.0.0.1"]);
        announce(&mut r, a, P, &a_attrs, "192.0.2.1", &reach());
        announce(&mut r, b, P, &attrs(&[65001]), "192.0.2.2", &reach());
        let want = if internal_only {
            (a, S::PeerAddress)
        } else {
            (b, S::ClusterListLength)
        };
        assert_eq!(winner(&r), want, "{internal_only}");

        // confederation-external paths are not internal either; internal
        // ones keep their ORIGINATOR_ID with the knob too
        let mut r = rib(DecisionConfig {
            reflection_attrs_internal_only: internal_only,
            ..DecisionConfig::default()
        });
        let i = peer(&mut r, K::Internal, 64500, "5.5.5.5");
        let c = peer(&mut r, K::ConfedExternal, 65010, "4.4.4.4");
        let from_c = attrs(&[65001]).lp(100).originator("0.0.0.8");
        announce(&mut r, c, P, &from_c, "192.0.2.1", &reach());
        let from_i = attrs(&[65001]).lp(100).originator("0.0.0.9");
        announce(&mut r, i, P, &from_i, "192.0.2.2", &reach());
        let want = if internal_only { i } else { c };
        assert_eq!(winner(&r), (want, S::RouterId), "{internal_only}");
    }
}

#[test]
fn peer_address_lower() {
    let mut r = rib(DecisionConfig::default());
    // same router id (two sessions to one router), different addresses
    let a = peer_at(&mut r, K::Internal, 64500, "1.1.1.1", "198.51.100.2");
    let b = peer_at(&mut r, K::Internal, 64500, "1.1.1.1", "198.51.100.1");
    announce(
        &mut r,
        a,
        P,
        &attrs(&[65001]).lp(100),
        "192.0.2.1",
        &reach(),
    );
    announce(
        &mut r,
        b,
        P,
        &attrs(&[65001]).lp(100),
        "192.0.2.2",
        &reach(),
    );
    assert_eq!(winner(&r), (b, S::PeerAddress));
}

#[test]
fn path_id_last_resort() {
    let mut r = rib(DecisionConfig::default());
    let a = peer(&mut r, K::Internal, 64500, "1.1.1.1");
    let base = attrs(&[65001]).lp(100);
    announce_id(&mut r, a, P, 7, &base, "192.0.2.1", &reach());
    announce_id(&mut r, a, P, 3, &base, "192.0.2.2", &reach());
    let s = r.selected(&net(P)).unwrap();
    assert_eq!((s.best.peer, s.best.path_id, s.step), (a, 3, S::PathId));
    assert_eq!(r.paths(&net(P)).len(), 2);
}

#[test]
fn recorded_step_is_against_the_closest_rival() {
    let mut r = rib(DecisionConfig::default());
    let a = peer(&mut r, K::External, 65001, "1.1.1.1");
    let b = peer(&mut r, K::External, 65002, "2.2.2.2");
    let c = peer(&mut r, K::External, 65003, "3.3.3.3");
    announce(
        &mut r,
        a,
        P,
        &attrs(&[65001]).lp(200),
        "192.0.2.1",
        &reach(),
    );
    announce(
        &mut r,
        b,
        P,
        &attrs(&[65002]).lp(100),
        "192.0.2.2",
        &reach(),
    );
    assert_eq!(winner(&r), (a, S::LocalPref));
    // c ties a until the router id
    announce(
        &mut r,
        c,
        P,
        &attrs(&[65003]).lp(200),
        "192.0.2.3",
        &reach(),
    );
    assert_eq!(winner(&r), (a, S::RouterId));
    let ex = r.explain(&net(P), &reach());
    assert_eq!(ex.len(), 3);
    let lost: Vec<_> = ex.iter().map(|e| e.against_best.map(|x| x.1)).collect();
    assert_eq!(lost, [None, Some(S::LocalPref), Some(S::RouterId)]);
}

fn ecmp(max_paths: u16, relax: bool, dmed: bool) -> DecisionConfig {
    DecisionConfig {
        max_paths,
        multipath_relax: relax,
        deterministic_med: dmed,
        ..DecisionConfig::default()
    }
}

#[test]
fn multipath_equal_through_igp_cost() {
    let mut r = rib(ecmp(4, false, false));
    let a = peer(&mut r, K::External, 65001, "1.1.1.1");
    let b = peer(&mut r, K::External, 65001, "2.2.2.2");
    let c = peer(&mut r, K::External, 65001, "3.3.3.3");
    let d = peer(&mut r, K::External, 65001, "4.4.4.4");
    let mut costs = Costs::all(10, &["192.0.2.1", "192.0.2.2", "192.0.2.3"]);
    costs.set("192.0.2.4", 11);
    for (p, nh) in [
        (a, "192.0.2.1"),
        (b, "192.0.2.2"),
        (c, "192.0.2.3"),
        (d, "192.0.2.4"),
    ] {
        announce(&mut r, p, P, &attrs(&[65001, 7]), nh, &costs);
    }
    let s = r.selected(&net(P)).unwrap();
    assert_eq!((s.best.peer, s.step), (a, S::RouterId));
    let mp: Vec<_> = s.multipath.iter().map(|m| m.peer).collect();
    assert_eq!(mp, [b, c], "d has a higher IGP cost");
    assert_eq!(s.next_hops().len(), 3);
}

#[test]
fn multipath_count_caps_the_set() {
    let mut r = rib(ecmp(2, false, false));
    let a = peer(&mut r, K::External, 65001, "3.3.3.3");
    let b = peer(&mut r, K::External, 65001, "2.2.2.2");
    let c = peer(&mut r, K::External, 65001, "1.1.1.1");
    let mut last = Vec::new();
    for (p, nh) in [(a, "192.0.2.1"), (b, "192.0.2.2"), (c, "192.0.2.3")] {
        last = announce(&mut r, p, P, &attrs(&[65001]), nh, &reach());
    }
    let s = r.selected(&net(P)).unwrap();
    assert_eq!(s.best.peer, c);
    // the next by the remaining tie-breaks: lower router id, b
    let mp: Vec<_> = s.multipath.iter().map(|m| m.peer).collect();
    assert_eq!(mp, [b]);
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].next_hops().len(), 2);
    // max_paths 1: no multipath
    let mut r = rib(ecmp(1, false, false));
    let a = peer(&mut r, K::External, 65001, "1.1.1.1");
    let b = peer(&mut r, K::External, 65001, "2.2.2.2");
    announce(&mut r, a, P, &attrs(&[65001]), "192.0.2.1", &reach());
    announce(&mut r, b, P, &attrs(&[65001]), "192.0.2.2", &reach());
    assert!(r.selected(&net(P)).unwrap().multipath.is_empty());
}

#[test]
fn multipath_relax_across_neighbouring_as() {
    for relax in [false, true] {
        let mut r = rib(ecmp(4, relax, false));
        let a = peer(&mut r, K::External, 65001, "1.1.1.1");
        let b = peer(&mut r, K::External, 65002, "2.2.2.2");
        let c = peer(&mut r, K::External, 65003, "3.3.3.3");
        announce(&mut r, a, P, &attrs(&[65001, 9]), "192.0.2.1", &reach());
        announce(&mut r, b, P, &attrs(&[65002, 9]), "192.0.2.2", &reach());
        // longer AS_PATH: never a member
        announce(&mut r, c, P, &attrs(&[65003, 8, 9]), "192.0.2.3", &reach());
        let s = r.selected(&net(P)).unwrap();
        assert_eq!((s.best.peer, s.step), (a, S::RouterId));
        let mp: Vec<_> = s.multipath.iter().map(|m| m.peer).collect();
        if relax {
            assert_eq!(mp, [b]);
        } else {
            assert!(mp.is_empty());
        }
    }
}

#[test]
fn multipath_relax_with_deterministic_med_skips_med_losers() {
    let mut r = rib(ecmp(4, true, true));
    let a = peer(&mut r, K::External, 65001, "1.1.1.1");
    let b = peer(&mut r, K::External, 65002, "2.2.2.2");
    let c = peer(&mut r, K::External, 65002, "3.3.3.3");
    announce(&mut r, a, P, &attrs(&[65001]), "192.0.2.1", &reach());
    announce(
        &mut r,
        b,
        P,
        &attrs(&[65002]).med(50),
        "192.0.2.2",
        &reach(),
    );
    announce(
        &mut r,
        c,
        P,
        &attrs(&[65002]).med(10),
        "192.0.2.3",
        &reach(),
    );
    let s = r.selected(&net(P)).unwrap();
    assert_eq!(s.best.peer, a);
    let mp: Vec<_> = s.multipath.iter().map(|m| m.peer).collect();
    assert_eq!(mp, [c], "b loses its group's MED elimination");
}

#[test]
fn locally_originated_first() {
    let mut r = rib(DecisionConfig::default());
    // A peer's path better on every later step (higher LOCAL_PREF, eBGP,
    // lower router id) still loses to the speaker's own route.
    let a = peer(&mut r, K::External, 65001, "1.1.1.1");
    let own = r
        .add_peer(bgp_rib::PeerInfo {
            kind: K::Internal,
            asn: 65000,
            router_id: ip4("9.9.9.9"),
            address: "0.0.0.0".parse().unwrap(),
            local: true,
        })
        .unwrap();
    announce(
        &mut r,
        a,
        P,
        &attrs(&[65001]).lp(500),
        "192.0.2.1",
        &reach(),
    );
    announce(&mut r, own, P, &attrs(&[]), "192.0.2.2", &reach());
    assert_eq!(winner(&r), (own, S::LocalOrigin));
}
