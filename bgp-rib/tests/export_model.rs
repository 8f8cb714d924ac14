//! The exporter against a recomputation: after any sequence of RIB changes,
//! flushes, late joins and route refreshes, what each member holds (its
//! UPDATEs decoded and applied in order) equals the export of the current
//! Loc-RIB computed from scratch, both by the rules applied directly to
//! every best route and by a fresh exporter's full-table walk.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod export_common;

use std::collections::BTreeMap;
use std::net::Ipv6Addr;

use bgp_rib::export::rules::{self, RouteIn, SourceClass, Target};
use bgp_rib::export::{AddPathSend, Exporter, LocalAddresses, Negotiated, PeerConfig, PolicyRef};
use bgp_rib::policy::{Actions, Condition, Modify, Policy, PrefixSet, Term};
use bgp_rib::{AllReachable, NextHop, PeerId, PeerKind as K};
use bgp_wire::attribute::{Communities, Community, Origin, PathAttributes};
use bgp_wire::nlri::Nlri;
use bgp_wire::{AfiSafi, AsPath};
use export_common::*;
use ipnet::IpNet;
use proptest::prelude::*;

const PREFIXES: [&str; 10] = [
    "10.0.0.0/8",
    "10.1.0.0/16",
    "10.1.2.0/24",
    "192.0.2.0/24",
    "198.51.100.0/24",
    "203.0.113.0/25",
    "203.0.113.128/25",
    "2001:db8::/32",
    "2001:db8:1::/48",
    "2001:db8:2::/48",
];

#[derive(Debug, Clone)]
enum Op {
    Announce {
        src: usize,
        prefix: usize,
        variant: u8,
    },
    Withdraw {
        src: usize,
        prefix: usize,
    },
    Stale {
        src: usize,
        llgr: bool,
    },
    Sweep {
        src: usize,
    },
    Down {
        src: usize,
    },
    Flush,
    Rejoin {
        member: usize,
    },
    Refresh {
        member: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..5usize, 0..PREFIXES.len(), any::<u8>())
            .prop_map(|(src, prefix, variant)| Op::Announce { src, prefix, variant }),
        3 => (0..5usize, 0..PREFIXES.len()).prop_map(|(src, prefix)| Op::Withdraw { src, prefix }),
        1 => (0..5usize, any::<bool>()).prop_map(|(src, llgr)| Op::Stale { src, llgr }),
        1 => (0..5usize).prop_map(|src| Op::Sweep { src }),
        1 => (0..5usize).prop_map(|src| Op::Down { src }),
        3 => Just(Op::Flush),
        1 => (0..MEMBERS).prop_map(|member| Op::Rejoin { member }),
        1 => (0..MEMBERS).prop_map(|member| Op::Refresh { member }),
    ]
}

fn attrs(variant: u8, src_asn: u32, internal: bool) -> PathAttributes {
    let mut path = vec![];
    if !internal && src_asn != 65000 {
        path.push(src_asn);
    }
    for i in 0..(variant % 3) {
        path.push(64600 + u32::from(i));
    }
    let mut a = PathAttributes {
        origin: Some(if variant & 8 == 0 {
            Origin::Igp
        } else {
            Origin::Incomplete
        }),
        as_path: Some(AsPath::from_sequence(&path)),
        ..PathAttributes::default()
    };
    if variant & 4 != 0 {
        a.multi_exit_disc = Some(u32::from(variant % 7));
    }
    if internal || variant & 16 != 0 {
        a.local_pref = Some(100 + u32::from(variant % 5));
    }
    let c = match (variant >> 5) % 8 {
        0 => Some(Community::NO_EXPORT),
        1 => Some(Community::NO_ADVERTISE),
        2 => Some(Community::NO_EXPORT_SUBCONFED),
        3 => Some(Community::new(65000, u16::from(variant))),
        _ => None,
    };
    a.communities = c.map(|c| Communities::from_items(&[c]));
    if variant % 11 == 0 {
        a.otc = Some(64999);
    }
    a
}

const MEMBERS: usize = 6;

struct World {
    s: Speaker,
    sources: Vec<(PeerId, u32, bool)>,
    members: Vec<(PeerId, Negotiated)>,
}

fn world() -> World {
    let mut s = Speaker::new(65000, "10.0.0.1");
    let v4v6 = |a: &str| {
        LocalAddresses::v4(a.parse().unwrap()).with_v6("2001:db8:ffff::1".parse().unwrap())
    };
    let sources = vec![
        (
            s.peer(K::External, 65001, "192.0.2.1", PeerConfig::default()),
            65001,
            false,
        ),
        (
            s.peer(K::External, 65002, "192.0.2.2", PeerConfig::default()),
            65002,
            false,
        ),
        (
            s.peer(K::Internal, 65000, "10.0.0.2", PeerConfig::default()),
            65000,
            true,
        ),
        (
            s.peer(
                K::Internal,
                65000,
                "10.0.0.3",
                PeerConfig {
                    rr_client: true,
                    ..PeerConfig::default()
                },
            ),
            65000,
            true,
        ),
        (
            s.peer(
                K::Internal,
                65000,
                "10.0.0.1",
                PeerConfig {
                    originated: true,
                    ..PeerConfig::default()
                },
            ),
            65000,
            true,
        ),
    ];
    let policy = PolicyRef::new(
        Policy::new("out")
            .term(
                Term::new("no-10-8")
                    .when(Condition::prefix_in(
                        PrefixSet::parse(["10.0.0.0/8"]).unwrap(),
                    ))
                    .reject(),
            )
            .term(
                Term::new("med")
                    .when(Condition::prefix_in(
                        PrefixSet::parse(["203.0.113.0/24+"]).unwrap(),
                    ))
                    .set(Actions::new().med(Modify::Set(42)))
                    .accept(),
            )
            .term(Term::new("rest").accept()),
    );
    let f4 = AfiSafi::IPV4_UNICAST;
    let f6 = AfiSafi::IPV6_UNICAST;
    let members = vec![
        (
            s.peer(
                K::External,
                65010,
                "198.51.100.10",
                PeerConfig::default().with_local_addresses(v4v6("198.51.100.1")),
            ),
            Negotiated::dual_stack(),
        ),
        (
            s.peer(
                K::External,
                65011,
                "198.51.100.11",
                PeerConfig {
                    export_policy: Some(policy),
                    ..PeerConfig::default().with_local_addresses(v4v6("198.51.100.1"))
                },
            ),
            Negotiated {
                four_octet_as: false,
                ..Negotiated::dual_stack()
            },
        ),
        (
            s.peer(
                K::Internal,
                65000,
                "10.0.0.20",
                PeerConfig {
                    rr_client: true,
                    ..PeerConfig::default().with_local_addresses(v4v6("10.0.0.1"))
                },
            ),
            Negotiated::dual_stack(),
        ),
        (
            s.peer(
                K::Internal,
                65000,
                "10.0.0.21",
                PeerConfig::default().with_local_addresses(v4v6("10.0.0.1")),
            ),
            Negotiated {
                llgr: true,
                ..Negotiated::dual_stack()
            }
            .with_add_path(f4, AddPathSend::All)
            .with_add_path(f6, AddPathSend::All),
        ),
        (
            s.peer(
                K::Internal,
                65000,
                "10.0.0.22",
                PeerConfig {
                    rr_client: true,
                    ..PeerConfig::default().with_local_addresses(v4v6("10.0.0.1"))
                },
            ),
            Negotiated::dual_stack().with_add_path(f4, AddPathSend::Best(2)),
        ),
        // a second member of the first group
        (
            s.peer(
                K::External,
                65010,
                "198.51.100.12",
                PeerConfig::default().with_local_addresses(v4v6("198.51.100.1")),
            ),
            Negotiated::dual_stack(),
        ),
    ];
    for (m, n) in &members {
        s.join(*m, n.clone());
    }
    World {
        s,
        sources,
        members,
    }
}

fn next_hop(src: usize, prefix: &str) -> NextHop {
    let v6 = prefix.contains(':');
    match (src, v6) {
        (4, false) => NextHop::V4("0.0.0.0".parse().unwrap()),
        (4, true) => NextHop::from(Ipv6Addr::UNSPECIFIED),
        (i, false) => NextHop::V4(format!("192.0.2.{}", i + 1).parse().unwrap()),
        (i, true) => NextHop::from(
            format!("2001:db8:ee::{}", i + 1)
                .parse::<Ipv6Addr>()
                .unwrap(),
        ),
    }
}

/// The routes of a member without path ids: (prefix, attributes, next
/// hop), sorted, for ADD-PATH members whose ids depend on history.
fn without_ids(rx: &Rx) -> Vec<(IpNet, String)> {
    let mut v: Vec<(IpNet, String)> = rx
        .routes
        .iter()
        .map(|((p, _), (a, nh))| (*p, format!("{a:?} {nh:?}")))
        .collect();
    v.sort();
    v
}

/// The export of the current Loc-RIB by the rules alone, for a member
/// without ADD-PATH.
fn direct(
    w: &World,
    member: PeerId,
    neg: &Negotiated,
) -> BTreeMap<(IpNet, Option<u32>), (PathAttributes, NextHop)> {
    let s = &w.s;
    let info = s.rib.peer(member).unwrap();
    let target = Target {
        kind: info.kind,
        asn: info.asn,
        address: info.address,
        router_id: info.router_id,
        config: s.ex.peer_config(member).clone(),
        llgr: neg.llgr,
    };
    let peer = target.policy_peer(s.ex.speaker());
    let mut out = BTreeMap::new();
    for (prefix, sel) in s.rib.loc_rib() {
        let fam = if prefix.addr().is_ipv6() {
            AfiSafi::IPV6_UNICAST
        } else {
            AfiSafi::IPV4_UNICAST
        };
        if !neg.has_family(fam) {
            continue;
        }
        let r = &sel.best;
        let src = s.rib.peer(r.peer).unwrap();
        let a = r.attrs.attributes().unwrap();
        let rin = RouteIn {
            prefix,
            attributes: &a,
            next_hop: r.attrs.next_hop(),
            flags: r.flags,
            source: SourceClass::of(src, s.ex.peer_config(r.peer)),
            source_router_id: src.router_id,
        };
        if let Ok(mut e) = rules::export(s.ex.speaker(), &rin, &target, &peer) {
            if !neg.four_octet_as {
                // what a 2-octet receiver reconstructs
                e.attributes.as4_path = None;
            }
            out.insert((prefix, None), (e.attributes, e.next_hop));
        }
    }
    out
}

fn check(w: &mut World) {
    w.s.flush();
    // a fresh exporter, same configuration, one member at a time: the
    // full-table walk of a new group
    for (i, (m, neg)) in w.members.iter().enumerate() {
        let mut fresh = Exporter::new(w.s.ex.speaker().clone());
        for (p, _) in w.s.rib.peers() {
            fresh.set_peer_config(p, w.s.ex.peer_config(p).clone());
        }
        fresh
            .join(&w.s.rib, *m, neg.clone(), &AllReachable)
            .unwrap();
        let mut scratch = Rx::default();
        let ctx = neg.send_context().reversed();
        scratch.apply(&fresh.take_messages(*m), &ctx);
        let got = w.s.got(*m);
        let mut got_routes = got.routes.clone();
        let mut scratch_routes = scratch.routes.clone();
        if !neg.four_octet_as {
            for (a, _) in got_routes.values_mut().chain(scratch_routes.values_mut()) {
                a.reconcile_as4();
            }
        }
        if neg.add_path.is_empty() {
            assert_eq!(
                got_routes, scratch_routes,
                "member {i}: incremental vs fresh walk"
            );
            assert_eq!(
                got_routes,
                direct(w, *m, neg),
                "member {i}: incremental vs rules"
            );
        } else {
            let a = Rx {
                routes: got_routes,
                ..Rx::default()
            };
            let b = Rx {
                routes: scratch_routes,
                ..Rx::default()
            };
            assert_eq!(
                without_ids(&a),
                without_ids(&b),
                "member {i}: ADD-PATH routes"
            );
        }
        // the group's Adj-RIB-Out says the same as the member holds
        let g = w.s.ex.group_of(*m).unwrap();
        let mut held = 0;
        for fam in [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST] {
            held += w.s.ex.sent_routes(g, fam).len();
        }
        assert_eq!(held, got.routes.len(), "member {i}: Adj-RIB-Out size");
    }
}

fn run(ops: &[Op]) {
    let mut w = world();
    for o in ops {
        match *o {
            Op::Announce {
                src,
                prefix,
                variant,
            } => {
                let (p, asn, internal) = w.sources[src];
                let pfx = PREFIXES[prefix];
                let a = attrs(variant, asn, internal);
                let path_id = if variant % 13 == 0 { 1 } else { 0 };
                let nlri = if path_id == 0 {
                    Nlri::new(net(pfx))
                } else {
                    Nlri::with_path_id(net(pfx), path_id)
                };
                w.s.announce_nlri(p, vec![nlri], &a, next_hop(src, pfx));
            }
            Op::Withdraw { src, prefix } => {
                let (p, _, _) = w.sources[src];
                w.s.withdraw(p, &[PREFIXES[prefix]]);
            }
            Op::Stale { src, llgr } => {
                let mut ch = Vec::new();
                w.s.rib
                    .mark_stale(w.sources[src].0, llgr, &AllReachable, &mut ch);
                w.s.ex.record(&ch);
            }
            Op::Sweep { src } => {
                let mut ch = Vec::new();
                w.s.rib
                    .sweep_stale(w.sources[src].0, &AllReachable, &mut ch);
                w.s.ex.record(&ch);
            }
            Op::Down { src } => {
                let mut ch = Vec::new();
                w.s.rib.peer_down(w.sources[src].0, &AllReachable, &mut ch);
                w.s.ex.record(&ch);
            }
            Op::Flush => {
                w.s.flush();
            }
            Op::Rejoin { member } => {
                let (m, neg) = w.members[member].clone();
                // the session restarts: the member starts from nothing
                w.s.ex.leave(m).unwrap();
                w.s.join(m, neg);
            }
            Op::Refresh { member } => {
                let m = w.members[member].0;
                w.s.ex.route_refresh(m, None).unwrap();
                w.s.deliver(m);
            }
        }
    }
    check(&mut w);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn members_hold_the_export_of_the_loc_rib(ops in prop::collection::vec(op(), 1..60)) {
        run(&ops);
    }
}

#[test]
fn a_fixed_sequence() {
    use Op::*;
    run(&[
        Announce {
            src: 0,
            prefix: 0,
            variant: 200,
        },
        Announce {
            src: 2,
            prefix: 0,
            variant: 201,
        },
        Flush,
        Announce {
            src: 3,
            prefix: 7,
            variant: 3,
        },
        Stale { src: 0, llgr: true },
        Rejoin { member: 5 },
        Announce {
            src: 4,
            prefix: 5,
            variant: 1,
        },
        Refresh { member: 3 },
        Withdraw { src: 2, prefix: 0 },
    ]);
}
