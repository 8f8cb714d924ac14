//! Policy benchmarks: `bgp-rib`'s import and export policies over a
//! synthetic full table of 1,000,000 IPv4 routes sharing 20,000 attribute
//! sets (AS paths of 1 to 8 ASes, some 4-octet and some ending in an
//! AS_SET; 0 to 6 communities; large communities and MED on some), each
//! set's prefixes in a run as UPDATEs bring them, and
//! prefix-set look-ups against lists of 10,000 and 100,000 exact prefixes
//! (half the probes on the list).
//!
//! Each `policy/*` iteration evaluates every route once; throughput is in
//! routes. The policies:
//! - `accept_all`: a policy whose default accepts (the fixed cost);
//! - `import_unchanged`: bogon prefix set, a 10,000-entry prefix list
//!   (exact prefixes),
//!   path length, blackhole communities and a path mask, each rejecting;
//!   almost every route falls through to the accepting default unchanged;
//! - `import_regex`: one AS-path regular expression, then accept;
//! - `import_modify`: set LOCAL_PREF and add a community on every route
//!   (each result is a copy of the attributes);
//! - `export_prepend`: remove `65000:*`, prepend the own AS twice, next
//!   hop self, on every route.
//!
//! Before timing, each policy's counts (accepted, copied) and the fastest
//! of five passes (ns per route) are printed.
//!
//! Run: `cargo bench -p bgp-benches --bench policy`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a benchmark whose set-up fails must stop"
)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bgp_rib::PeerKind;
use bgp_rib::policy::{
    Actions, AsPathRegex, Chain, Condition, DefaultAction, NextHopAction, NumberMatch, Peer,
    Policy, PrefixRange, PrefixSet, RouteView, Term,
};
use bgp_wire::attribute::{
    AsPath, Communities, Community, LargeCommunities, LargeCommunity, Origin, PathAttributes,
    SegmentType,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ipnet::IpNet;

const ROUTES: usize = 1_000_000;
const SETS: usize = 20_000;

/// Deterministic pseudo-random numbers (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn attribute_sets(rng: &mut Rng) -> Vec<PathAttributes> {
    (0..SETS)
        .map(|_| {
            let len = 1 + rng.below(8) as usize;
            let path: Vec<u32> = (0..len)
                .map(|_| match rng.below(10) {
                    0 => 4_200_000_000 + rng.below(1000) as u32,
                    _ => 1 + rng.below(64_000) as u32,
                })
                .collect();
            let as_path = if rng.below(50) == 0 {
                AsPath::from_segments([
                    (SegmentType::AsSequence, &path[..]),
                    (SegmentType::AsSet, &[64512, 64513][..]),
                ])
            } else {
                AsPath::from_sequence(&path)
            };
            let ncomm = rng.below(7) as usize;
            let comms: Vec<Community> = (0..ncomm)
                .map(|_| Community::new(path[0] as u16, rng.below(1000) as u16))
                .collect();
            PathAttributes {
                origin: Some(if rng.below(5) == 0 {
                    Origin::Incomplete
                } else {
                    Origin::Igp
                }),
                as_path: Some(as_path),
                next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
                multi_exit_disc: (rng.below(3) == 0).then(|| rng.below(1000) as u32),
                communities: (!comms.is_empty()).then(|| Communities::from_items(&comms)),
                large_communities: (rng.below(10) == 0).then(|| {
                    LargeCommunities::from_items(&[LargeCommunity {
                        global_admin: path[0],
                        local_data1: 1,
                        local_data2: rng.below(100) as u32,
                    }])
                }),
                ..PathAttributes::default()
            }
        })
        .collect()
}

/// Distinct-enough public-looking IPv4 prefixes of length 8 to 24, mostly 24.
fn prefixes(rng: &mut Rng, n: usize) -> Vec<IpNet> {
    (0..n)
        .map(|_| {
            let len = match rng.below(10) {
                0 => 16 + rng.below(8) as u8,
                1 => 8 + rng.below(8) as u8,
                _ => 24,
            };
            let a = Ipv4Addr::from((rng.next() as u32) | 0x0100_0000);
            IpNet::new(IpAddr::V4(a), len).unwrap().trunc()
        })
        .collect()
}

struct Input {
    attrs: Vec<PathAttributes>,
    routes: Vec<(IpNet, u32)>,
    peer: Peer,
}

fn input() -> Input {
    let mut rng = Rng(7);
    let attrs = attribute_sets(&mut rng);
    // Each attribute set's prefixes come together, as a peer's UPDATEs
    // bring them: runs of 1 to 99 prefixes (50 on average), the sets in
    // turn.
    let mut set = 0u32;
    let mut left = 0u64;
    let routes = prefixes(&mut rng, ROUTES)
        .into_iter()
        .map(|p| {
            if left == 0 {
                set = (set + 1) % SETS as u32;
                left = 1 + rng.below(99);
            }
            left -= 1;
            (p, set)
        })
        .collect();
    Input {
        attrs,
        routes,
        peer: Peer {
            kind: PeerKind::External,
            asn: 64496,
            address: "192.0.2.1".parse().unwrap(),
            router_id: Ipv4Addr::new(192, 0, 2, 1),
            local_as: 65000,
            rr_client: false,
        },
    }
}

fn policies(rng: &mut Rng) -> Vec<(&'static str, Chain)> {
    let bogons = PrefixSet::parse([
        "0.0.0.0/8+",
        "10.0.0.0/8+",
        "100.64.0.0/10+",
        "127.0.0.0/8+",
        "169.254.0.0/16+",
        "172.16.0.0/12+",
        "192.0.2.0/24+",
        "192.168.0.0/16+",
        "198.18.0.0/15+",
        "198.51.100.0/24+",
        "203.0.113.0/24+",
        "224.0.0.0/3+",
        "0.0.0.0/0{25,32}",
    ])
    .unwrap();
    let big: PrefixSet = prefixes(rng, 10_000)
        .into_iter()
        .map(PrefixRange::exact)
        .collect();
    let one = |p: Policy| Chain::new([Arc::new(p)]);
    vec![
        (
            "accept_all",
            one(Policy::new("accept").default_action(DefaultAction::Accept)),
        ),
        (
            "import_unchanged",
            one(Policy::new("import")
                .term(
                    Term::new("bogons")
                        .when(Condition::prefix_in(bogons))
                        .reject(),
                )
                .term(Term::new("list").when(Condition::prefix_in(big)).reject())
                .term(
                    Term::new("long")
                        .when(Condition::as_path_length(NumberMatch::Gt(30)))
                        .reject(),
                )
                .term(
                    Term::new("blackhole")
                        .when(Condition::community_any([
                            Community::BLACKHOLE.into(),
                            "65535:666".parse().unwrap(),
                        ]))
                        .reject(),
                )
                .term(
                    Term::new("mask")
                        .when(Condition::as_path_mask("[= * 64666 * =]".parse().unwrap()))
                        .reject(),
                )
                .default_action(DefaultAction::Accept)),
        ),
        (
            "import_regex",
            one(Policy::new("regex")
                .term(
                    Term::new("through")
                        .when(Condition::as_path_regex(
                            AsPathRegex::new("_6466[0-9]_").unwrap(),
                        ))
                        .reject(),
                )
                .default_action(DefaultAction::Accept)),
        ),
        (
            "import_modify",
            one(Policy::new("modify").term(
                Term::new("all")
                    .set(
                        Actions::new()
                            .local_pref(200)
                            .add_community(Community::new(65000, 1)),
                    )
                    .accept(),
            )),
        ),
        (
            "export_prepend",
            one(Policy::new("export").term(
                Term::new("all")
                    .set(
                        Actions::new()
                            .remove_communities("65000:*".parse().unwrap())
                            .prepend_own(2)
                            .next_hop(NextHopAction::SelfAddress),
                    )
                    .accept(),
            )),
        ),
    ]
}

fn bench_policies(c: &mut Criterion) {
    let inp = input();
    let mut rng = Rng(11);
    let mut g = c.benchmark_group("policy");
    g.throughput(Throughput::Elements(ROUTES as u64));
    for (name, chain) in policies(&mut rng) {
        // Before timing: how many are accepted and how many copied.
        let (mut accepted, mut copied) = (0usize, 0usize);
        for (p, i) in &inp.routes {
            let out = chain.evaluate(&RouteView::new(*p, &inp.attrs[*i as usize], &inp.peer));
            accepted += usize::from(out.accepted());
            copied += usize::from(out.changed());
        }
        // The fastest of five passes: steadier than a mean on a shared
        // machine.
        let fastest = (0..5)
            .map(|_| {
                let t = Instant::now();
                for (p, i) in &inp.routes {
                    let out =
                        chain.evaluate(&RouteView::new(*p, &inp.attrs[*i as usize], &inp.peer));
                    black_box(&out);
                }
                t.elapsed()
            })
            .min()
            .unwrap_or_default();
        println!(
            "policy/{name}: {accepted} of {ROUTES} accepted, {copied} copied; fastest pass {:.1} ns/route",
            fastest.as_secs_f64() * 1e9 / ROUTES as f64
        );
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut n = 0usize;
                for (p, i) in &inp.routes {
                    let out =
                        chain.evaluate(&RouteView::new(*p, &inp.attrs[*i as usize], &inp.peer));
                    n += usize::from(black_box(&out).accepted());
                }
                n
            })
        });
    }
    g.finish();

    // A prefix list of exact prefixes (as built from routing registries);
    // half the probes are on the list, half random (almost all misses).
    let mut g = c.benchmark_group("prefix_set");
    const PROBES: usize = 100_000;
    g.throughput(Throughput::Elements(PROBES as u64));
    for entries in [10_000usize, 100_000] {
        let list = prefixes(&mut rng, entries);
        let set: PrefixSet = list.iter().copied().map(PrefixRange::exact).collect();
        let probes: Vec<IpNet> = list
            .iter()
            .copied()
            .cycle()
            .take(PROBES / 2)
            .chain(prefixes(&mut rng, PROBES / 2))
            .collect();
        let hits = probes.iter().filter(|p| set.contains(p)).count();
        assert!(hits >= PROBES / 2);
        println!(
            "prefix_set/contains/{entries}: {hits} of {} probes hit",
            probes.len()
        );
        g.bench_function(format!("contains/{entries}"), |b| {
            b.iter(|| probes.iter().filter(|p| set.contains(p)).count())
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = bench_policies
}
criterion_main!(benches);
