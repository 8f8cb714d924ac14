//! The two RIB additions the propagation side needs: per-family path counts
//! of a peer (prefix limits) and the record of touched prefixes (ADD-PATH
//! send sees changes of paths that are not best).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use bgp_rib::{AllReachable, DecisionConfig, NextHop, PeerKind as K, Rib};
use bgp_wire::Afi;
use bgp_wire::nlri::Nlri;
use common::*;

#[test]
fn family_counts_follow_announce_withdraw_and_sweep() {
    let mut rib = Rib::new(DecisionConfig::default());
    let p = peer(&mut rib, K::External, 65001, "1.1.1.1");
    let a = attrs(&[65001]).0;
    let nh4 = NextHop::V4(ip4("192.0.2.1"));
    let nh6 = NextHop::from("2001:db8::1".parse::<std::net::Ipv6Addr>().unwrap());
    let mut ch = Vec::new();
    let v4 = [Nlri::new(net("10.0.0.0/8")), Nlri::new(net("10.1.0.0/16"))];
    rib.announce(p, &a, nh4, v4, &AllReachable, &mut ch)
        .unwrap();
    let v6 = [Nlri::new(net("2001:db8:1::/48"))];
    rib.announce(p, &a, nh6, v6, &AllReachable, &mut ch)
        .unwrap();
    assert_eq!(rib.peer_family_path_count(p, Afi::Ipv4), 2);
    assert_eq!(rib.peer_family_path_count(p, Afi::Ipv6), 1);
    assert_eq!(rib.peer_path_count(p), 3);
    rib.withdraw(p, [Nlri::new(net("10.0.0.0/8"))], &AllReachable, &mut ch);
    assert_eq!(rib.peer_family_path_count(p, Afi::Ipv4), 1);
    rib.mark_stale(p, false, &AllReachable, &mut ch);
    rib.sweep_stale(p, &AllReachable, &mut ch);
    assert_eq!(rib.peer_family_path_count(p, Afi::Ipv4), 0);
    assert_eq!(rib.peer_family_path_count(p, Afi::Ipv6), 0);
    assert_eq!(rib.peer_family_path_count(p, Afi::Other(25)), 0);
}

#[test]
fn touched_prefixes_include_changes_of_paths_that_are_not_best() {
    let mut rib = Rib::new(DecisionConfig::default());
    let a = peer(&mut rib, K::External, 65001, "1.1.1.1");
    let b = peer(&mut rib, K::External, 65002, "2.2.2.2");
    let nh = NextHop::V4(ip4("192.0.2.1"));
    let mut ch = Vec::new();
    let pfx = net("10.0.0.0/8");
    // not tracking: nothing recorded
    rib.announce(
        a,
        &attrs(&[65001]).0,
        nh,
        [Nlri::new(pfx)],
        &AllReachable,
        &mut ch,
    )
    .unwrap();
    let mut t = Vec::new();
    rib.take_touched(&mut t);
    assert!(t.is_empty());
    rib.track_touched(true);
    ch.clear();
    // a worse path from b: no best change, but touched
    let worse = attrs(&[65002, 1, 2]).0;
    rib.announce(b, &worse, nh, [Nlri::new(pfx)], &AllReachable, &mut ch)
        .unwrap();
    assert!(ch.is_empty());
    rib.take_touched(&mut t);
    assert_eq!(t, vec![pfx]);
    // withdrawing the non-best path, and flagging stale, touch it too
    rib.withdraw(b, [Nlri::new(pfx)], &AllReachable, &mut ch);
    rib.mark_stale(a, false, &AllReachable, &mut ch);
    t.clear();
    rib.take_touched(&mut t);
    assert_eq!(t, vec![pfx, pfx]);
    // an unknown prefix withdrawn touches nothing
    rib.withdraw(b, [Nlri::new(net("11.0.0.0/8"))], &AllReachable, &mut ch);
    t.clear();
    rib.take_touched(&mut t);
    assert!(t.is_empty());
    rib.track_touched(false);
    rib.withdraw(a, [Nlri::new(pfx)], &AllReachable, &mut ch);
    rib.take_touched(&mut t);
    assert!(t.is_empty());
}
