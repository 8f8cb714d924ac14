//! The RIB's operations end to end: UPDATEs built by bgp-wire's builder
//! and decoded as a session would (IPv4 NLRI field, MP_REACH_NLRI for
//! IPv6, withdrawals, RFC 7606 treat-as-withdraw), peer down, lookups,
//! the Adj-RIB-In view, change coalescing and the freeing of attribute
//! sets.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use bgp_rib::change::coalesce;
use bgp_rib::{AllReachable, DecisionConfig, DecisionStep, NextHop, PeerKind as K, Rib, RibError};
use bgp_wire::attribute::{MpNextHop, PeerType};
use bgp_wire::message::update::builder;
use bgp_wire::nlri::Nlri;
use bgp_wire::{AfiSafi, SessionContext, Update};
use bytes::Bytes;
use common::*;

const HEADER: usize = 19;

fn ctx() -> SessionContext {
    SessionContext::default().with_four_octet_as(true)
}

/// Applies one encoded UPDATE message (header included).
fn apply(
    rib: &mut Rib,
    peer: bgp_rib::PeerId,
    msg: &Bytes,
    changes: &mut Vec<bgp_rib::BestChange>,
) -> bgp_rib::UpdateOutcome {
    let u = Update::decode(msg.slice(HEADER..), &ctx()).unwrap();
    let d = u.attributes(&ctx(), PeerType::External).unwrap();
    rib.apply_update(peer, &u, &d, &AllReachable, changes)
        .unwrap()
}

#[test]
fn updates_announce_withdraw_and_treat_as_withdraw() {
    let mut rib = Rib::new(DecisionConfig::default());
    let p = peer(&mut rib, K::External, 65001, "1.1.1.1");
    let mut a = attrs(&[65001, 65002]).0;
    a.next_hop = Some(ip4("192.0.2.1"));
    let v4 = [Nlri::new(net("10.0.0.0/8")), Nlri::new(net("10.1.0.0/16"))];
    let mut ch = Vec::new();
    for m in builder::announce(&ctx(), AfiSafi::IPV4_UNICAST, &a, None, &v4).unwrap() {
        let o = apply(&mut rib, p, &m, &mut ch);
        assert_eq!(o.announced, 2);
        assert!(!o.treated_as_withdraw);
    }
    assert_eq!(ch.len(), 2);
    assert_eq!(
        rib.best(&net("10.0.0.0/8")).unwrap().next_hop(),
        NextHop::V4(ip4("192.0.2.1"))
    );
    // IPv6 in MP_REACH_NLRI, with its own next hop
    let nh6 = MpNextHop::Ipv6 {
        global: "2001:db8::1".parse().unwrap(),
        link_local: Some("fe80::1".parse().unwrap()),
    };
    let v6 = [Nlri::new(net("2001:db8:1::/48"))];
    for m in builder::announce(&ctx(), AfiSafi::IPV6_UNICAST, &a, Some(&nh6), &v6).unwrap() {
        assert_eq!(apply(&mut rib, p, &m, &mut ch).announced, 1);
    }
    let best6 = rib.best(&net("2001:db8:1::/48")).unwrap();
    assert_eq!(best6.next_hop(), NextHop::from_mp(&nh6).unwrap());
    assert_eq!(rib.prefix_count(), 3);
    // one set for the IPv4 routes, one for the IPv6 route (another next hop)
    assert_eq!(rib.attr_store().len(), 2);

    // ORIGIN 3 is malformed: treat-as-withdraw (RFC 7606 7.1)
    let mut body = vec![0u8, 0];
    let attrs_block: &[u8] = &[
        0x40, 1, 1, 3, // ORIGIN 3
        0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, // AS_PATH 65001
        0x40, 3, 4, 192, 0, 2, 1, // NEXT_HOP
    ];
    body.extend_from_slice(&(attrs_block.len() as u16).to_be_bytes());
    body.extend_from_slice(attrs_block);
    body.extend_from_slice(&[8, 10]); // 10.0.0.0/8
    let u = Update::decode(Bytes::from(body), &ctx()).unwrap();
    let d = u.attributes(&ctx(), PeerType::External).unwrap();
    assert!(d.report.treat_as_withdraw());
    ch.clear();
    let o = rib.apply_update(p, &u, &d, &AllReachable, &mut ch).unwrap();
    assert!(o.treated_as_withdraw);
    assert_eq!((o.announced, o.withdrawn), (0, 1));
    assert!(rib.best(&net("10.0.0.0/8")).is_none());
    assert_eq!(ch.len(), 1);
    assert!(ch[0].is_withdrawal());

    // plain withdrawals, IPv4 field and MP_UNREACH_NLRI
    for m in builder::withdraw(&ctx(), AfiSafi::IPV4_UNICAST, &v4[1..]).unwrap() {
        assert_eq!(apply(&mut rib, p, &m, &mut ch).withdrawn, 1);
    }
    for m in builder::withdraw(&ctx(), AfiSafi::IPV6_UNICAST, &v6).unwrap() {
        assert_eq!(apply(&mut rib, p, &m, &mut ch).withdrawn, 1);
    }
    assert_eq!(rib.prefix_count(), 0);
    assert_eq!(rib.path_count(), 0);
    assert!(
        rib.attr_store().is_empty(),
        "sets are freed with their last route"
    );
}

#[test]
fn peer_down_fails_over_and_reports() {
    let mut rib = Rib::new(DecisionConfig::default());
    let a = peer(&mut rib, K::External, 65001, "1.1.1.1");
    let b = peer(&mut rib, K::External, 65002, "2.2.2.2");
    let r = AllReachable;
    for p in ["10.0.0.0/8", "10.1.0.0/16", "192.0.2.0/24"] {
        announce(&mut rib, a, p, &attrs(&[65001]), "192.0.2.1", &r);
    }
    announce(
        &mut rib,
        b,
        "10.0.0.0/8",
        &attrs(&[65002, 1]),
        "192.0.2.2",
        &r,
    );
    assert_eq!(rib.peer_path_count(a), 3);
    assert_eq!(rib.adj_rib_in(a).len(), 3);
    assert_eq!(
        rib.adj_rib_in(b)
            .get(&Nlri::new(net("10.0.0.0/8")))
            .unwrap()
            .peer,
        b
    );
    assert_eq!(rib.remove_peer(a).unwrap_err(), RibError::PeerHasPaths(a));
    let mut ch = Vec::new();
    assert_eq!(rib.peer_down(a, &r, &mut ch), 3);
    assert_eq!(ch.len(), 3);
    let failover = ch.iter().find(|c| c.prefix == net("10.0.0.0/8")).unwrap();
    assert_eq!(failover.old.as_ref().unwrap().peer, a);
    assert_eq!(failover.new.as_ref().unwrap().peer, b);
    assert_eq!(failover.step, Some(DecisionStep::OnlyPath));
    assert_eq!(ch.iter().filter(|c| c.is_withdrawal()).count(), 2);
    assert_eq!(rib.prefix_count(), 1);
    assert!(rib.remove_peer(a).is_ok());
    assert!(rib.peer(a).is_none());
    // the freed id is reused
    let c = peer(&mut rib, K::Internal, 64500, "3.3.3.3");
    assert_eq!(c, a);
    assert_eq!(rib.peer_path_count(c), 0);
}

#[test]
fn lookups_skip_prefixes_without_a_best_path() {
    let mut rib = Rib::new(DecisionConfig::default());
    let a = peer(&mut rib, K::External, 65001, "1.1.1.1");
    let res = Costs::all(1, &["192.0.2.1"]);
    announce(
        &mut rib,
        a,
        "10.0.0.0/8",
        &attrs(&[65001]),
        "192.0.2.1",
        &res,
    );
    announce(
        &mut rib,
        a,
        "10.1.0.0/16",
        &attrs(&[65001]),
        "192.0.2.9",
        &res,
    );
    announce(
        &mut rib,
        a,
        "10.1.2.0/24",
        &attrs(&[65001]),
        "192.0.2.1",
        &res,
    );
    let (n, _) = rib.longest_match("10.1.2.3".parse().unwrap()).unwrap();
    assert_eq!(n, net("10.1.2.0/24"));
    // 10.1.0.0/16 has an unreachable next hop only
    let (n, _) = rib.longest_match("10.1.3.3".parse().unwrap()).unwrap();
    assert_eq!(n, net("10.0.0.0/8"));
    let under: Vec<_> = rib
        .walk_under(&net("10.0.0.0/8"))
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(under, [net("10.0.0.0/8"), net("10.1.2.0/24")]);
    assert_eq!(rib.loc_rib().count(), 2);
    assert_eq!(rib.all_paths().count(), 3);
    assert!(rib.longest_match("2001:db8::1".parse().unwrap()).is_none());
    let m = rib.memory();
    assert_eq!((m.prefixes, m.paths, m.attr_sets), (3, 3, 2));
    assert!(m.total() > 0);
}

#[test]
fn reannouncing_the_same_route_reports_nothing_and_coalescing_merges() {
    let mut rib = Rib::new(DecisionConfig::default());
    let a = peer(&mut rib, K::External, 65001, "1.1.1.1");
    let b = peer(&mut rib, K::External, 65002, "2.2.2.2");
    let r = AllReachable;
    let mut all = announce(&mut rib, a, "10.0.0.0/8", &attrs(&[65001]), "192.0.2.1", &r);
    assert!(announce(&mut rib, a, "10.0.0.0/8", &attrs(&[65001]), "192.0.2.1", &r).is_empty());
    // a worse path changes nothing
    assert!(
        announce(
            &mut rib,
            b,
            "10.0.0.0/8",
            &attrs(&[65002, 1, 2]),
            "192.0.2.2",
            &r
        )
        .is_empty()
    );
    // new attributes on the best path: a change
    all.extend(announce(
        &mut rib,
        a,
        "10.0.0.0/8",
        &attrs(&[65001]).med(5),
        "192.0.2.1",
        &r,
    ));
    assert_eq!(all.len(), 2);
    let merged = coalesce(all);
    assert_eq!(merged.len(), 1);
    assert!(merged[0].old.is_none());
    assert_eq!(merged[0].new.as_ref().unwrap().attrs.med(), Some(5));
    // two sets live (a's new one, b's); a's old one was freed
    assert_eq!(rib.attr_store().len(), 2);
}

#[test]
fn unknown_peer_is_an_error() {
    let mut rib = Rib::new(DecisionConfig::default());
    let a = peer(&mut rib, K::External, 65001, "1.1.1.1");
    rib.remove_peer(a).unwrap();
    let mut ch = Vec::new();
    let e = rib
        .announce(
            a,
            &attrs(&[1]).0,
            NextHop::V4(ip4("192.0.2.1")),
            [Nlri::new(net("10.0.0.0/8"))],
            &AllReachable,
            &mut ch,
        )
        .unwrap_err();
    assert_eq!(e, RibError::UnknownPeer(a));
}
