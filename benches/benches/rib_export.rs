//! Route propagation benchmarks: a full IPv4 table (1,000,000 prefixes,
//! 100,000 attribute sets) in a RIB, exported to one update group of 1
//! and of 8 eBGP peers: the exported attributes computed per prefix
//! (AS_PATH prepend, next hop self, LOCAL_PREF and MED dropped), interned,
//! recorded in the group's Adj-RIB-Out and packed into 4,096-octet
//! UPDATEs shared by the members.
//!
//! The table is synthetic, shaped like the corpus's 2015 full table
//! (`updates.et-header.2015.gz`): its attribute sets as templates, its
//! distribution of prefixes per set and of prefix lengths, and its
//! locality (the share of a set's consecutive prefixes in one /16).
//!
//! Benchmarks (group `rib_export`, throughput in prefixes):
//! - `flush_1_peer`, `flush_8_peers`: the members joined while the table
//!   was empty; the whole table's changes are recorded and flushed (one
//!   group computation, the messages queued to every member);
//! - `join_1_peer`: a first member joins a loaded RIB (a new group: the
//!   Loc-RIB walk and End-of-RIB);
//! - `join_8_peers`: then seven more join the same group (each a replay of
//!   the group's Adj-RIB-Out).
//!
//! After criterion, a table gives UPDATEs/s and prefixes/s from criterion's
//! median, and the memory per route of the Adj-RIB-Out is measured in a
//! child process (this executable with `EXPORT_BENCH_PROBE` set) as the
//! growth of its resident set while a third exporter is built (the first
//! ones soak up what the allocator kept), beside the exporter's own
//! accounting. `EXPORT_BENCH_NO_PROBES` skips the probe.
//!
//! Run: `cargo bench -p bgp-benches --bench rib_export`.

// A benchmark that cannot load its input must stop.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashSet;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use bgp_benches::{ET_HEADER_UPDATES, criterion_dir, load, median_ns, routes};
use bgp_rib::export::{
    ExportReport, Exporter, LocalAddresses, Negotiated, PeerConfig, SpeakerConfig,
};
use bgp_rib::{AllReachable, DecisionConfig, NextHop, PeerId, PeerInfo, PeerKind, Rib};
use bgp_wire::attribute::PathAttributes;
use bgp_wire::nlri::Nlri;
use bgp_wire::{AfiSafi, AsPath};
use criterion::{BatchSize, Criterion, SamplingMode, Throughput};
use ipnet::{IpNet, Ipv4Net};

const PREFIXES: usize = 1_000_000;
const SETS: usize = 100_000;
const MEMBERS: usize = 8;
const GROUP: &str = "rib_export";

/// SplitMix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The synthetic table: per attribute set, its attributes and prefixes.
struct Table {
    sets: Vec<(PathAttributes, Vec<Nlri>)>,
}

fn table() -> Table {
    let data = load(ET_HEADER_UPDATES).unwrap_or_else(|e| panic!("{ET_HEADER_UPDATES}: {e}"));
    let r = routes(&data);
    let mut templates = Vec::new();
    let mut sizes = Vec::new();
    let mut lengths = [0u64; 33];
    let (mut pairs, mut near) = (0u64, 0u64);
    for (key, prefixes) in &r.announce {
        if key.family != AfiSafi::IPV4_UNICAST || key.mp_next_hop.is_some() {
            continue;
        }
        templates.push(key.attributes.clone());
        sizes.push(prefixes.len());
        for p in prefixes {
            lengths[usize::from(p.prefix.prefix_len()).min(32)] += 1;
        }
        for w in prefixes.windows(2) {
            if let (IpNet::V4(a), IpNet::V4(b)) = (w[0].prefix, w[1].prefix) {
                pairs += 1;
                near += u64::from(u32::from(a.network()) >> 16 == u32::from(b.network()) >> 16);
            }
        }
    }
    let same_16 = near as f64 / pairs.max(1) as f64;
    let mut rng = Rng(0xe4_90_47);
    // prefixes per set: drawn from the corpus's, scaled to PREFIXES
    let drawn: Vec<usize> = (0..SETS)
        .map(|_| sizes[(rng.next() % sizes.len() as u64) as usize])
        .collect();
    let sum: usize = drawn.iter().sum();
    let mut counts: Vec<usize> = drawn
        .iter()
        .map(|&d| ((d as f64 * PREFIXES as f64 / sum as f64).round() as usize).max(1))
        .collect();
    let mut total: usize = counts.iter().sum();
    let mut i = 0;
    while total != PREFIXES {
        let c = &mut counts[i % SETS];
        if total > PREFIXES && *c > 1 {
            *c -= 1;
            total -= 1;
        } else if total < PREFIXES {
            *c += 1;
            total += 1;
        }
        i += 1;
    }
    let all_lengths: u64 = lengths.iter().sum();
    let mut seen: HashSet<(u32, u8)> = HashSet::with_capacity(PREFIXES);
    let mut sets = Vec::with_capacity(SETS);
    for (s, &n) in counts.iter().enumerate() {
        let mut a = templates[s % templates.len()].clone();
        if s >= templates.len() {
            // another origin AS for the later rounds of templates
            let mut asns: Vec<u32> = a
                .as_path
                .as_ref()
                .map(|p| p.asns().collect())
                .unwrap_or_default();
            match asns.last_mut() {
                Some(last) => *last = 4_200_000_000 + s as u32,
                None => asns.push(4_200_000_000 + s as u32),
            }
            a.as_path = Some(AsPath::from_sequence(&asns));
        }
        a.next_hop = Some(source_hop());
        a.as4_path = None;
        a.as4_aggregator = None;
        let mut prefixes = Vec::with_capacity(n);
        let mut prev: Option<u32> = None;
        while prefixes.len() < n {
            let mut pick = rng.next() % all_lengths;
            let mut len = 24u8;
            for (l, c) in lengths.iter().enumerate() {
                if pick < *c {
                    len = l as u8;
                    break;
                }
                pick -= c;
            }
            let len = len.max(8);
            let close = (rng.next() % 1000) as f64 / 1000.0 < same_16;
            let addr = match prev {
                Some(p) if close && len >= 16 => (p & 0xffff_0000) | (rng.next() as u32 & 0xffff),
                _ => 0x0100_0000 + (rng.next() as u32) % (0xe000_0000 - 0x0100_0000),
            };
            let net = Ipv4Net::new(Ipv4Addr::from(addr), len).unwrap().trunc();
            if seen.insert((u32::from(net.network()), len)) {
                prefixes.push(Nlri::new(IpNet::V4(net)));
                prev = Some(addr);
            }
        }
        sets.push((a, prefixes));
    }
    Table { sets }
}

fn source_hop() -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, 1)
}

/// A RIB with the source peer and the receivers registered (ids: source
/// 0, members 1..=MEMBERS).
fn new_rib() -> (Rib, PeerId, Vec<PeerId>) {
    let mut rib = Rib::new(DecisionConfig::default());
    let src = rib
        .add_peer(PeerInfo {
            kind: PeerKind::External,
            asn: 65001,
            router_id: source_hop(),
            address: IpAddr::V4(source_hop()),
            local: false,
        })
        .unwrap();
    let members = (0..MEMBERS)
        .map(|k| {
            rib.add_peer(PeerInfo {
                kind: PeerKind::External,
                asn: 65100,
                router_id: Ipv4Addr::new(198, 51, 100, 10 + k as u8),
                address: IpAddr::V4(Ipv4Addr::new(198, 51, 100, 10 + k as u8)),
                local: false,
            })
            .unwrap()
        })
        .collect();
    (rib, src, members)
}

fn load_rib(t: &Table) -> (Rib, PeerId, Vec<PeerId>, Vec<IpNet>) {
    let (mut rib, src, members) = new_rib();
    let mut changes = Vec::new();
    let mut prefixes = Vec::with_capacity(PREFIXES);
    for (a, nlri) in &t.sets {
        for chunk in nlri.chunks(1000) {
            rib.announce(
                src,
                a,
                NextHop::V4(source_hop()),
                chunk.iter().copied(),
                &AllReachable,
                &mut changes,
            )
            .unwrap();
            prefixes.extend(changes.drain(..).map(|c| c.prefix));
        }
    }
    assert_eq!(rib.prefix_count(), PREFIXES);
    (rib, src, members, prefixes)
}

fn exporter(members: &[PeerId]) -> Exporter {
    let mut ex = Exporter::new(SpeakerConfig::new(65000, Ipv4Addr::new(198, 51, 100, 1)));
    for &m in members {
        ex.set_peer_config(
            m,
            PeerConfig::default()
                .with_local_addresses(LocalAddresses::v4(Ipv4Addr::new(198, 51, 100, 1))),
        );
    }
    ex
}

/// Members joined on an empty RIB, then the whole table flushed.
fn flush(
    empty: &Rib,
    rib: &Rib,
    prefixes: &[IpNet],
    members: &[PeerId],
) -> (Exporter, ExportReport) {
    let mut ex = exporter(members);
    for &m in members {
        ex.join(empty, m, Negotiated::default(), &AllReachable)
            .unwrap();
        ex.take_messages(m);
    }
    ex.record_prefixes(prefixes.iter().copied());
    let r = ex.flush(rib, &AllReachable);
    (ex, r)
}

/// Members joining a loaded RIB one after the other.
fn join(rib: &Rib, members: &[PeerId]) -> (Exporter, ExportReport) {
    let mut ex = exporter(members);
    let mut total = ExportReport::default();
    for &m in members {
        let (_, r) = ex
            .join(rib, m, Negotiated::default(), &AllReachable)
            .unwrap();
        total.updates += r.updates;
        total.announced += r.announced;
        total.bytes += r.bytes;
    }
    (ex, total)
}

fn rss() -> usize {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    s.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0)
        * 4096
}

fn cpu_time() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    let rest = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// The child's side: memory per route of the Adj-RIB-Out, and CPU time.
fn probe() {
    let t = table();
    let (rib, _, members, prefixes) = load_rib(&t);
    let (empty, _, _) = new_rib();
    drop(t);
    let mut kept = Vec::new();
    let mut growth = Vec::new();
    let mut cpu = Vec::new();
    for _ in 0..3 {
        let before = rss();
        let c0 = cpu_time();
        let (mut ex, r) = flush(&empty, &rib, &prefixes, &members[..1]);
        cpu.push((cpu_time() - c0, r.updates));
        // the queued messages are the socket's, not the Adj-RIB-Out's
        ex.take_messages(members[0]);
        growth.push(rss().saturating_sub(before));
        kept.push(ex);
    }
    let c0 = cpu_time();
    let (jx, jr) = join(&rib, &members[..1]);
    let join_cpu = cpu_time() - c0;
    black_box(&jx);
    drop(jx);
    let ex = kept.last().unwrap();
    let m = ex.memory();
    let grown = *growth.last().unwrap();
    let (took, updates) = *cpu.last().unwrap();
    println!(
        "probe: Adj-RIB-Out of one group: {} routes, {} exported sets | resident {:.1} MiB = {:.1} B/route (growths {:?} MiB) | accounted {:.1} MiB = {:.1} B/route (table {:.1}, exported sets {:.1}) | flush in {:.3} s CPU: {:.2} M prefixes/s, {:.0} k UPDATEs/s | first join (walk) in {:.3} s CPU: {:.2} M prefixes/s, {:.0} k UPDATEs/s",
        m.routes,
        m.attr_sets,
        grown as f64 / 1048576.0,
        grown as f64 / m.routes as f64,
        growth
            .iter()
            .map(|g| (*g as f64 / 1048576.0).round())
            .collect::<Vec<_>>(),
        m.total() as f64 / 1048576.0,
        m.total() as f64 / m.routes as f64,
        m.table_bytes as f64 / m.routes as f64,
        m.attr_bytes as f64 / m.routes as f64,
        took,
        PREFIXES as f64 / took / 1e6,
        updates as f64 / took / 1e3,
        join_cpu,
        PREFIXES as f64 / join_cpu / 1e6,
        jr.updates as f64 / join_cpu / 1e3,
    );
    black_box(&kept);
}

fn main() {
    if std::env::var_os("EXPORT_BENCH_PROBE").is_some() {
        probe();
        return;
    }
    let t = table();
    let (rib, _, members, prefixes) = load_rib(&t);
    let (empty, _, _) = new_rib();
    drop(t);
    let one = &members[..1];
    // correctness before timing: one group, every prefix once, packed
    let (ex, r1) = flush(&empty, &rib, &prefixes, one);
    assert_eq!(r1.announced, PREFIXES);
    assert_eq!(ex.memory().routes, PREFIXES);
    let (ex8, r8) = flush(&empty, &rib, &prefixes, &members);
    assert_eq!(ex8.memory().groups, 1);
    assert_eq!(r8.updates, r1.updates);
    let (_, j1) = join(&rib, one);
    let (_, j8) = join(&rib, &members);
    eprintln!(
        "table: {PREFIXES} prefixes, {} exported sets, {} UPDATEs ({:.1} MiB) per group",
        ex.memory().attr_sets,
        r1.updates,
        r1.bytes as f64 / 1048576.0
    );
    drop((ex, ex8));

    let mut c = Criterion::default()
        .output_directory(&criterion_dir())
        .configure_from_args();
    {
        let mut g = c.benchmark_group(GROUP);
        g.sample_size(10);
        g.sampling_mode(SamplingMode::Flat);
        g.measurement_time(Duration::from_secs(10));
        g.throughput(Throughput::Elements(PREFIXES as u64));
        for (name, ms) in [("flush_1_peer", one), ("flush_8_peers", &members[..])] {
            g.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let mut ex = exporter(ms);
                        for &m in ms {
                            ex.join(&empty, m, Negotiated::default(), &AllReachable)
                                .unwrap();
                            ex.take_messages(m);
                        }
                        let start = Instant::now();
                        ex.record_prefixes(prefixes.iter().copied());
                        let r = ex.flush(&rib, &AllReachable);
                        total += start.elapsed();
                        assert_eq!(r.announced, PREFIXES);
                        black_box(&ex);
                    }
                    total
                })
            });
        }
        g.bench_function("join_1_peer", |b| {
            b.iter_batched(
                || exporter(one),
                |mut ex| {
                    ex.join(&rib, one[0], Negotiated::default(), &AllReachable)
                        .unwrap();
                    ex
                },
                BatchSize::PerIteration,
            )
        });
        g.bench_function("join_8_peers", |b| {
            b.iter_batched(
                || exporter(&members),
                |mut ex| {
                    for &m in &members {
                        ex.join(&rib, m, Negotiated::default(), &AllReachable)
                            .unwrap();
                    }
                    ex
                },
                BatchSize::PerIteration,
            )
        });
        g.finish();
    }
    c.final_summary();

    let dir = criterion_dir();
    println!(
        "\n| {GROUP} | median | prefixes/s | UPDATEs/s (per group) | UPDATEs queued/s (all members) |"
    );
    println!("|---|---|---|---|---|");
    for (name, updates, members_n, prefixes_n) in [
        ("flush_1_peer", r1.updates, 1usize, PREFIXES),
        ("flush_8_peers", r8.updates, MEMBERS, PREFIXES),
        ("join_1_peer", j1.updates, 1, j1.announced),
        ("join_8_peers", j8.updates, 1, j8.announced),
    ] {
        if let Some(ns) = median_ns(&dir, GROUP, name) {
            let s = ns / 1e9;
            let queued = if name.starts_with("flush") {
                updates * members_n
            } else {
                updates
            };
            println!(
                "| {name} | {:.3} s | {:.2} M | {:.0} k | {:.0} k |",
                s,
                prefixes_n as f64 / s / 1e6,
                updates as f64 / s / 1e3,
                queued as f64 / s / 1e3,
            );
        }
    }
    if std::env::var_os("EXPORT_BENCH_NO_PROBES").is_none() {
        let exe = std::env::current_exe().unwrap();
        let out = std::process::Command::new(exe)
            .env("EXPORT_BENCH_PROBE", "1")
            .output()
            .unwrap();
        print!("{}", String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            eprintln!("probe failed: {}", String::from_utf8_lossy(&out.stderr));
        }
    }
}
