//! RIB benchmarks: a full IPv4 table into the Adj-RIB-In and Loc-RIB of
//! `bgp-rib`, from one peer and from eight; the memory per route held; and
//! the prefix table against the `prefix-trie` crate.
//!
//! The table is synthetic, shaped like a real one: the corpus file
//! `updates.et-header.2015.gz` (one session's full table, 2015) gives the
//! attribute sets used as templates (AS paths, communities, MED...), the
//! distribution of prefixes per attribute set and of prefix lengths; the
//! synthesis scales that to 1,000,000 distinct IPv4 prefixes over 100,000
//! attribute sets (the templates, then variants with another origin AS),
//! keeping the corpus's locality (72% of the consecutive prefixes of a set
//! share their first 16 bits).
//! Each attribute set's prefixes are announced in UPDATE-sized batches of
//! at most 1,000, as a peer sends them.
//!
//! Memory is measured in a child process (this executable run again with
//! `RIB_BENCH_PROBE` set), as the growth of its resident set while a second
//! RIB is built (the first soaks up the memory the allocator kept from
//! building the input), divided by the routes held; the RIB's own size
//! accounting is printed beside it.
//!
//! Run: `cargo bench -p bgp-benches --bench rib` (set `RIB_BENCH_NO_PROBES`
//! to skip the memory probes; pass a filter such as `prefix_table` as usual).

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

use bgp_benches::{ET_HEADER_UPDATES, load, routes};
use bgp_rib::prefix_table::{Ipv4, PrefixTable};
use bgp_rib::{AllReachable, BestChange, DecisionConfig, NextHop, PeerId, PeerInfo, PeerKind, Rib};
use bgp_wire::AfiSafi;
use bgp_wire::AsPath;
use bgp_wire::attribute::PathAttributes;
use bgp_wire::nlri::Nlri;
use criterion::{BatchSize, Criterion, Throughput};
use ipnet::{IpNet, Ipv4Net};

const PREFIXES: usize = 1_000_000;
const SETS: usize = 100_000;
const BATCH: usize = 1_000;
const PEERS: usize = 8;

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
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// What the corpus table looks like.
struct Profile {
    templates: Vec<PathAttributes>,
    /// Prefixes per attribute set, one entry per set.
    set_sizes: Vec<usize>,
    /// Prefixes per length.
    lengths: [u64; 33],
    /// Of the consecutive prefixes of one attribute set, the fraction in
    /// the same /16 as the previous one.
    same_16: f64,
}

fn profile() -> Profile {
    let data = load(ET_HEADER_UPDATES).unwrap_or_else(|e| panic!("{ET_HEADER_UPDATES}: {e}"));
    let r = routes(&data);
    let mut templates = Vec::new();
    let mut set_sizes = Vec::new();
    let mut lengths = [0u64; 33];
    let (mut pairs, mut near) = (0u64, 0u64);
    for (key, prefixes) in &r.announce {
        if key.family != AfiSafi::IPV4_UNICAST || key.mp_next_hop.is_some() {
            continue;
        }
        templates.push(key.attributes.clone());
        set_sizes.push(prefixes.len());
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
    Profile {
        templates,
        set_sizes,
        lengths,
        same_16: near as f64 / pairs.max(1) as f64,
    }
}

/// One peer's table: batches of (attributes, prefixes).
struct Table {
    batches: Vec<(PathAttributes, Vec<Nlri>)>,
    sets: usize,
}

impl Table {
    fn prefixes(&self) -> usize {
        self.batches.iter().map(|b| b.1.len()).sum()
    }
}

/// `PREFIXES` distinct IPv4 prefixes, in the order of the sets that carry
/// them (`counts`), with the corpus's length distribution and locality:
/// each prefix after a set's first is in the same /16 as the one before
/// with the corpus's probability.
fn synth_prefixes(p: &Profile, counts: &[usize], rng: &mut Rng) -> Vec<Ipv4Net> {
    let total: u64 = p.lengths.iter().sum();
    let mut seen: HashSet<(u32, u8)> = HashSet::with_capacity(PREFIXES);
    let mut out = Vec::with_capacity(PREFIXES);
    for &n in counts {
        let mut prev: Option<u32> = None;
        let mut made = 0;
        while made < n {
            let mut pick = rng.next() % total;
            let mut len = 24u8;
            for (l, c) in p.lengths.iter().enumerate() {
                if pick < *c {
                    len = l as u8;
                    break;
                }
                pick -= c;
            }
            let len = len.max(8);
            let near = (rng.next() % 1000) as f64 / 1000.0 < p.same_16;
            let addr = match prev {
                Some(a) if near && len >= 16 => (a & 0xffff_0000) | (rng.next() as u32 & 0xffff),
                // unicast space 1.0.0.0 - 223.255.255.255
                _ => 0x0100_0000 + (rng.next() as u32) % (0xe000_0000 - 0x0100_0000),
            };
            let net = Ipv4Net::new(Ipv4Addr::from(addr), len).unwrap().trunc();
            if seen.insert((u32::from(net.network()), len)) {
                out.push(net);
                prev = Some(addr);
                made += 1;
            }
        }
    }
    out
}

/// The attributes of set `i` (a template, or a variant of one with another
/// origin AS), as peer `peer` sends them: its AS prepended, its next hop.
fn set_attrs(p: &Profile, i: usize, peer: usize) -> PathAttributes {
    let t = &p.templates[i % p.templates.len()];
    let mut a = t.clone();
    let round = i / p.templates.len();
    let mut asns: Vec<u32> = t
        .as_path
        .as_ref()
        .map(|p| p.asns().collect())
        .unwrap_or_default();
    if round > 0 {
        match asns.last_mut() {
            Some(last) => *last = 4_200_000_000 + (i as u32),
            None => asns.push(4_200_000_000 + (i as u32)),
        }
    }
    if peer > 0 {
        asns.insert(0, 65000 + peer as u32);
    }
    if round > 0 || peer > 0 {
        a.as_path = Some(AsPath::from_sequence(&asns));
    }
    a.next_hop = Some(peer_hop(peer));
    a.as4_path = None;
    a.as4_aggregator = None;
    a
}

fn peer_hop(peer: usize) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, peer as u8, 1)
}

/// Which prefixes go with which set: set sizes drawn from the corpus's,
/// scaled to `PREFIXES` in all.
fn assignment(p: &Profile, rng: &mut Rng) -> Vec<usize> {
    let mut sizes: Vec<f64> = (0..SETS)
        .map(|_| p.set_sizes[rng.below(p.set_sizes.len())] as f64)
        .collect();
    let sum: f64 = sizes.iter().sum();
    let scale = PREFIXES as f64 / sum;
    for s in &mut sizes {
        *s *= scale;
    }
    let mut counts: Vec<usize> = sizes.iter().map(|s| (s.round() as usize).max(1)).collect();
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
    counts
}

struct Input {
    profile: Profile,
    prefixes: Vec<Ipv4Net>,
    counts: Vec<usize>,
}

fn input() -> Input {
    let profile = profile();
    let mut rng = Rng(0x5eed);
    let counts = assignment(&profile, &mut rng);
    let prefixes = synth_prefixes(&profile, &counts, &mut rng);
    Input {
        profile,
        prefixes,
        counts,
    }
}

fn table(inp: &Input, peer: usize) -> Table {
    let mut batches = Vec::new();
    let mut next = 0;
    for (i, &n) in inp.counts.iter().enumerate() {
        let attrs = set_attrs(&inp.profile, i, peer);
        let mine = &inp.prefixes[next..next + n];
        next += n;
        for chunk in mine.chunks(BATCH) {
            batches.push((
                attrs.clone(),
                chunk.iter().map(|p| Nlri::new(IpNet::V4(*p))).collect(),
            ));
        }
    }
    Table {
        batches,
        sets: inp.counts.len(),
    }
}

fn peer_info(k: usize) -> PeerInfo {
    PeerInfo {
        kind: PeerKind::External,
        asn: 65000 + k as u32,
        router_id: Ipv4Addr::new(192, 0, 2, k as u8 + 1),
        address: IpAddr::V4(Ipv4Addr::new(10, 0, k as u8, 1)),
        local: false,
    }
}

fn new_rib(peers: usize) -> (Rib, Vec<PeerId>) {
    let mut rib = Rib::new(DecisionConfig {
        max_paths: 4,
        ..DecisionConfig::default()
    });
    let ids = (0..peers)
        .map(|k| rib.add_peer(peer_info(k)).unwrap())
        .collect();
    (rib, ids)
}

/// Announces a peer's table; returns the changes reported.
fn feed(rib: &mut Rib, peer: PeerId, k: usize, t: &Table, changes: &mut Vec<BestChange>) -> usize {
    let mut n = 0;
    let nh = NextHop::V4(peer_hop(k));
    for (a, nlri) in &t.batches {
        rib.announce(peer, a, nh, nlri.iter().copied(), &AllReachable, changes)
            .unwrap();
        n += changes.len();
        changes.clear();
    }
    n
}

/// Resident set size of this process, from /proc.
fn rss() -> usize {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    s.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0)
        * 4096
}

/// CPU time of this thread so far, in seconds (from /proc, 10 ms
/// resolution): wall time overstates the cost on a machine shared with
/// other jobs.
fn cpu_time() -> f64 {
    let s = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // fields after the command name's closing parenthesis: utime is the
    // 12th, stime the 13th
    let rest = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Builds `n` times, keeping every result, and returns the last result
/// and the resident-set growth of each build. The first builds soak up the
/// memory the allocator kept resident from making the input (it would
/// hand that memory out again without the resident set growing); the
/// last build's growth is what one structure takes.
fn measure<T>(n: usize, build: impl Fn() -> T) -> (T, Vec<usize>, Vec<T>) {
    let mut kept = Vec::new();
    let mut growth = Vec::new();
    loop {
        let before = rss();
        let t = build();
        growth.push(rss().saturating_sub(before));
        if growth.len() == n {
            return (t, growth, kept);
        }
        kept.push(t);
    }
}

/// The child's side of a memory measurement.
fn probe(what: &str) {
    let inp = input();
    match what {
        "rib1" | "rib8" => {
            let peers = if what == "rib1" { 1 } else { PEERS };
            let tables: Vec<Table> = (0..peers).map(|k| table(&inp, k)).collect();
            let build = || {
                let (mut rib, ids) = new_rib(peers);
                let mut ch = Vec::new();
                let cpu = cpu_time();
                for (k, t) in tables.iter().enumerate() {
                    feed(&mut rib, ids[k], k, t, &mut ch);
                }
                (rib, cpu_time() - cpu)
            };
            let ((rib, took), growth, kept) = measure(3, build);
            let grown = *growth.last().unwrap();
            black_box(&kept);
            let m = rib.memory();
            println!(
                "probe {what}: routes {} prefixes {} sets {} | built in {:.3} s CPU = {:.2} M routes/s | resident {:.1} MiB = {:.1} B/route (growths {growth:?}) | accounted {:.1} MiB = {:.1} B/route (tables {:.1}, lists {:.1}, attributes {:.1} B/route)",
                m.paths,
                m.prefixes,
                m.attr_sets,
                took,
                m.paths as f64 / took / 1e6,
                grown as f64 / 1048576.0,
                grown as f64 / m.paths as f64,
                m.total() as f64 / 1048576.0,
                m.per_path(),
                m.table_bytes as f64 / m.paths as f64,
                m.list_bytes as f64 / m.paths as f64,
                m.attr_bytes as f64 / m.paths as f64,
            );
            black_box(&rib);
        }
        "table" => {
            let build = || {
                let mut t: PrefixTable<Ipv4, u32> = PrefixTable::new();
                for (i, p) in inp.prefixes.iter().enumerate() {
                    t.insert(*p, i as u32);
                }
                t
            };
            let (t, growth, kept) = measure(4, build);
            let grown = *growth.last().unwrap();
            black_box(&kept);
            println!(
                "probe table: bgp-rib PrefixTable<Ipv4, u32>: {} prefixes, resident {:.1} B/prefix (growths {growth:?}), accounted {:.1} B/prefix",
                t.len(),
                grown as f64 / t.len() as f64,
                t.heap_bytes() as f64 / t.len() as f64
            );
            black_box(&t);
        }
        "trie" => {
            let build = || {
                let mut t: prefix_trie::PrefixMap<Ipv4Net, u32> = prefix_trie::PrefixMap::new();
                for (i, p) in inp.prefixes.iter().enumerate() {
                    t.insert(*p, i as u32);
                }
                t
            };
            let (t, growth, kept) = measure(4, build);
            let grown = *growth.last().unwrap();
            black_box(&kept);
            println!(
                "probe trie: prefix-trie PrefixMap<Ipv4Net, u32>: {} prefixes, resident {:.1} B/prefix (growths {growth:?})",
                t.len(),
                grown as f64 / t.len() as f64
            );
            black_box(&t);
        }
        "profile" => {
            // for `perf record`: builds a one-peer RIB five times
            let t = table(&inp, 0);
            for _ in 0..5 {
                let (mut rib, ids) = new_rib(1);
                let mut ch = Vec::new();
                let cpu = cpu_time();
                let start = Instant::now();
                feed(&mut rib, ids[0], 0, &t, &mut ch);
                println!(
                    "built in {:.3} s wall, {:.3} s CPU",
                    start.elapsed().as_secs_f64(),
                    cpu_time() - cpu
                );
                black_box(&rib);
            }
        }
        "shape" => {
            let sizes = &inp.profile.set_sizes;
            let mut sorted = sizes.clone();
            sorted.sort_unstable();
            println!(
                "corpus: {} IPv4 sets, {} prefixes, median {} max {} per set, {:.1}% of consecutive prefixes of a set in the same /16, /24 share {:.1}%",
                sizes.len(),
                sizes.iter().sum::<usize>(),
                sorted[sorted.len() / 2],
                sorted[sorted.len() - 1],
                inp.profile.same_16 * 100.0,
                inp.profile.lengths[24] as f64 * 100.0
                    / inp.profile.lengths.iter().sum::<u64>() as f64
            );
        }
        other => panic!("unknown probe {other}"),
    }
}

fn run_probes() {
    let exe = std::env::current_exe().unwrap();
    for what in ["table", "trie", "rib1", "rib8"] {
        let out = std::process::Command::new(&exe)
            .env("RIB_BENCH_PROBE", what)
            .output()
            .unwrap();
        print!("{}", String::from_utf8_lossy(&out.stdout));
        if !out.status.success() {
            eprintln!(
                "probe {what} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

fn bench_rib(c: &mut Criterion, inp: &Input) {
    let t0 = table(inp, 0);
    eprintln!(
        "table: {} prefixes, {} attribute sets, {} batches (from {} corpus sets; {:.0}% of a set's consecutive prefixes share a /16)",
        t0.prefixes(),
        t0.sets,
        t0.batches.len(),
        inp.profile.templates.len(),
        inp.profile.same_16 * 100.0
    );
    let mut g = c.benchmark_group("rib");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(t0.prefixes() as u64));
    g.bench_function("full_table_1_peer", |b| {
        b.iter_batched(
            || new_rib(1),
            |(mut rib, ids)| {
                let mut ch = Vec::new();
                let n = feed(&mut rib, ids[0], 0, &t0, &mut ch);
                assert_eq!(n, PREFIXES);
                (rib, n)
            },
            BatchSize::PerIteration,
        )
    });
    // withdraw the whole table (the RIB is rebuilt untimed each time)
    g.bench_function("withdraw_full_table_1_peer", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (mut rib, ids) = new_rib(1);
                let mut ch = Vec::new();
                feed(&mut rib, ids[0], 0, &t0, &mut ch);
                let start = Instant::now();
                for (_, nlri) in &t0.batches {
                    rib.withdraw(ids[0], nlri.iter().copied(), &AllReachable, &mut ch);
                    ch.clear();
                }
                total += start.elapsed();
                assert_eq!(rib.prefix_count(), 0);
            }
            total
        })
    });
    g.bench_function("peer_down_full_table_1_peer", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (mut rib, ids) = new_rib(1);
                let mut ch = Vec::new();
                feed(&mut rib, ids[0], 0, &t0, &mut ch);
                let start = Instant::now();
                let n = rib.peer_down(ids[0], &AllReachable, &mut ch);
                total += start.elapsed();
                assert_eq!(n, PREFIXES);
            }
            total
        })
    });
    drop(t0);
    let tables: Vec<Table> = (0..PEERS).map(|k| table(inp, k)).collect();
    g.throughput(Throughput::Elements((PEERS * PREFIXES) as u64));
    g.bench_function("full_table_8_peers", |b| {
        b.iter_batched(
            || new_rib(PEERS),
            |(mut rib, ids)| {
                let mut ch = Vec::new();
                for (k, t) in tables.iter().enumerate() {
                    feed(&mut rib, ids[k], k, t, &mut ch);
                }
                assert_eq!(rib.path_count(), PEERS * PREFIXES);
                rib
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn bench_tables(c: &mut Criterion, inp: &Input) {
    let mut rng = Rng(7);
    let probes: Vec<Ipv4Addr> = (0..PREFIXES)
        .map(|_| {
            let p = inp.prefixes[rng.below(inp.prefixes.len())];
            Ipv4Addr::from(u32::from(p.network()) | (rng.next() as u32 & !u32::from(p.netmask())))
        })
        .collect();
    let mut g = c.benchmark_group("prefix_table");
    g.sample_size(10);
    g.throughput(Throughput::Elements(PREFIXES as u64));
    g.bench_function("insert/bgp-rib", |b| {
        b.iter(|| {
            let mut t: PrefixTable<Ipv4, u32> = PrefixTable::new();
            for (i, p) in inp.prefixes.iter().enumerate() {
                t.insert(*p, i as u32);
            }
            t
        })
    });
    g.bench_function("insert/prefix-trie", |b| {
        b.iter(|| {
            let mut t: prefix_trie::PrefixMap<Ipv4Net, u32> = prefix_trie::PrefixMap::new();
            for (i, p) in inp.prefixes.iter().enumerate() {
                t.insert(*p, i as u32);
            }
            t
        })
    });
    let mut mine: PrefixTable<Ipv4, u32> = PrefixTable::new();
    let mut trie: prefix_trie::PrefixMap<Ipv4Net, u32> = prefix_trie::PrefixMap::new();
    for (i, p) in inp.prefixes.iter().enumerate() {
        mine.insert(*p, i as u32);
        trie.insert(*p, i as u32);
    }
    g.bench_function("exact/bgp-rib", |b| {
        b.iter(|| inp.prefixes.iter().filter_map(|p| mine.get(p)).count())
    });
    g.bench_function("exact/prefix-trie", |b| {
        b.iter(|| inp.prefixes.iter().filter_map(|p| trie.get(p)).count())
    });
    // every probe address lies in a table prefix
    for (a, _) in probes.iter().zip(0..1000) {
        let m = mine.longest_match(*a).map(|(n, v)| (n, *v));
        let t = trie
            .get_lpm(&Ipv4Net::new(*a, 32).unwrap())
            .map(|(n, v)| (n, *v));
        assert_eq!(m, t, "{a}");
    }
    g.bench_function("longest_match/bgp-rib", |b| {
        b.iter(|| probes.iter().filter_map(|a| mine.longest_match(*a)).count())
    });
    g.bench_function("longest_match/prefix-trie", |b| {
        b.iter(|| {
            probes
                .iter()
                .filter_map(|a| trie.get_lpm(&Ipv4Net::new(*a, 32).unwrap()))
                .count()
        })
    });
    g.finish();
}

fn main() {
    if let Ok(what) = std::env::var("RIB_BENCH_PROBE") {
        probe(&what);
        return;
    }
    let mut c = Criterion::default().configure_from_args();
    let inp = input();
    if std::env::var_os("RIB_BENCH_NO_PROBES").is_none() {
        run_probes();
    }
    bench_tables(&mut c, &inp);
    bench_rib(&mut c, &inp);
    c.final_summary();
}
