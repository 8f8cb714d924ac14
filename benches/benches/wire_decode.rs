//! Decoding two real MRT update files held in memory: MRT framing only, the
//! full decode by bgp-wire (borrowed and owned results), and the same input
//! parsed by bgpkit-parser as the reference. See `benches/README.md`.
//!
//! Groups (one throughput unit each, as criterion allows):
//! `decode_bytes/<file>` (MB/s), `decode_messages/<file>` (BGP messages/s),
//! `decode_prefixes/<file>` (prefixes/s). The same functions run in each
//! group; a summary with all three rates per function is printed at the end.

// A benchmark that cannot load its input or finds wrong counts must stop.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::io::Cursor;
use std::time::{Duration, Instant};

use bgp_benches::{
    BGP_RS_UPDATES, ET_HEADER_UPDATES, Tally, decode_full, decode_owned, expected_counts, frame,
    load,
};
use bgpkit_parser::BgpkitParser;
use bgpkit_parser::models::{AttributeValue, Bgp4MpEnum, BgpMessage, MrtMessage, NetworkPrefix};
use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

struct Input {
    name: &'static str,
    data: Bytes,
    records: u64,
    messages: u64,
    prefixes: u64,
}

fn inputs() -> Vec<Input> {
    [BGP_RS_UPDATES, ET_HEADER_UPDATES]
        .into_iter()
        .map(|file| {
            let data = load(file).unwrap_or_else(|e| panic!("{file}: {e}"));
            let (want, want_messages) = expected_counts(file).unwrap();
            // Correctness checks, outside any timing.
            let ours = decode_full(&data);
            assert_eq!(ours.prefixes, want, "{file}: bgp-wire vs SOURCES.md");
            assert_eq!(ours.messages, want_messages, "{file}: messages");
            assert_eq!(ours.errors, 0, "{file}: decode errors");
            let owned = decode_owned(&data, |o| {
                black_box(o);
            });
            assert_eq!(owned.prefixes, want, "{file}: owned vs SOURCES.md");
            assert_eq!(owned.checksum, ours.checksum, "{file}: owned vs borrowed");
            let theirs = bgpkit(&data);
            assert_eq!(theirs.prefixes, want, "{file}: bgpkit-parser vs SOURCES.md");
            assert_eq!(
                theirs.messages, ours.messages,
                "{file}: bgpkit-parser messages"
            );
            assert_eq!(
                theirs.records, ours.records,
                "{file}: bgpkit-parser records"
            );
            let (records, _) = frame(&data);
            assert_eq!(records, ours.records, "{file}: framing");
            let (records, _) = bgpkit_frame(&data);
            assert_eq!(records, ours.records, "{file}: bgpkit-parser framing");
            eprintln!(
                "{file}: {} octets, {} records, {} messages, {} prefixes, {} attributes \
                 (bgp-wire = bgpkit-parser = SOURCES.md)",
                data.len(),
                ours.records,
                ours.messages,
                want.total(),
                ours.attributes,
            );
            Input {
                name: file.rsplit('/').next().unwrap_or(file),
                data,
                records: ours.records,
                messages: ours.messages,
                prefixes: want.total(),
            }
        })
        .collect()
}

fn fold_prefixes(sum: &mut u64, prefixes: &[NetworkPrefix]) {
    for p in prefixes {
        let a = match p.prefix {
            ipnet::IpNet::V4(n) => u64::from(u32::from(n.addr())),
            ipnet::IpNet::V6(n) => {
                let a = u128::from(n.addr());
                (a >> 64) as u64 ^ a as u64
            }
        };
        let k = a ^ (u64::from(p.prefix.prefix_len()) << 56) ^ u64::from(p.path_id.unwrap_or(0));
        *sum = sum.rotate_left(5) ^ k.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// The reference: bgpkit-parser over the same buffer, every record parsed
/// into its owned model; every prefix and AS number read back.
fn bgpkit(data: &[u8]) -> Tally {
    let mut t = Tally::default();
    let parser = BgpkitParser::from_reader(Cursor::new(data)).disable_warnings();
    for record in parser.into_record_iter() {
        t.records += 1;
        let MrtMessage::Bgp4Mp(Bgp4MpEnum::Message(m)) = &record.message else {
            continue;
        };
        t.messages += 1;
        let BgpMessage::Update(u) = &m.bgp_message else {
            continue;
        };
        t.updates += 1;
        let mut sum = t.checksum;
        t.prefixes.withdrawn += u.withdrawn_prefixes.len() as u64;
        fold_prefixes(&mut sum, &u.withdrawn_prefixes);
        t.prefixes.announced += u.announced_prefixes.len() as u64;
        fold_prefixes(&mut sum, &u.announced_prefixes);
        for a in &u.attributes {
            t.attributes += 1;
            match a {
                AttributeValue::MpReachNlri(n) => {
                    t.prefixes.mp_announced += n.prefixes.len() as u64;
                    fold_prefixes(&mut sum, &n.prefixes);
                }
                AttributeValue::MpUnreachNlri(n) => {
                    t.prefixes.mp_withdrawn += n.prefixes.len() as u64;
                    fold_prefixes(&mut sum, &n.prefixes);
                }
                AttributeValue::AsPath(p) => {
                    for s in p.iter_segments() {
                        for asn in s.iter() {
                            sum = sum.rotate_left(5) ^ u64::from(asn.to_u32());
                        }
                    }
                }
                AttributeValue::Communities(c) => sum ^= c.len() as u64,
                _ => {}
            }
        }
        t.checksum = sum;
    }
    t
}

/// bgpkit-parser's framing: raw records (header parsed, body copied out).
fn bgpkit_frame(data: &[u8]) -> (u64, u64) {
    let parser = BgpkitParser::from_reader(Cursor::new(data)).disable_warnings();
    let (mut records, mut octets) = (0u64, 0u64);
    for r in parser.into_raw_record_iter() {
        records += 1;
        octets += r.message_bytes.len() as u64;
    }
    (records, octets)
}

type Job = (&'static str, fn(&Bytes) -> u64);

fn jobs() -> Vec<Job> {
    vec![
        ("bgp-wire/framing", |d| frame(d).0),
        ("bgpkit-parser/framing", |d| bgpkit_frame(d).0),
        ("bgp-wire/full", |d| {
            let t = decode_full(d);
            t.checksum ^ t.prefixes.total()
        }),
        ("bgp-wire/full-owned", |d| {
            let mut n = 0u64;
            let t = decode_owned(d, |o| {
                n += o.announced.len() as u64;
                drop(black_box(o));
            });
            t.checksum ^ n
        }),
        ("bgpkit-parser/full", |d| {
            let t = bgpkit(d);
            t.checksum ^ t.prefixes.total()
        }),
    ]
}

fn settings(big: bool) -> Criterion {
    let c = Criterion::default().warm_up_time(Duration::from_secs(1));
    if big {
        c.sample_size(10).measurement_time(Duration::from_secs(6))
    } else {
        c.sample_size(10).measurement_time(Duration::from_secs(3))
    }
}

fn bench(c: &mut Criterion) {
    let inputs = inputs();
    for input in &inputs {
        for (unit, throughput) in [
            ("bytes", Throughput::Bytes(input.data.len() as u64)),
            ("messages", Throughput::Elements(input.messages)),
            ("prefixes", Throughput::Elements(input.prefixes)),
        ] {
            let mut g = c.benchmark_group(format!("decode_{unit}/{}", input.name));
            g.throughput(throughput);
            for (name, f) in jobs() {
                // Framing has no prefixes to speak of: only its MB/s group.
                if name.ends_with("framing") && unit != "bytes" {
                    continue;
                }
                g.bench_function(name, |b| b.iter(|| black_box(f(black_box(&input.data)))));
            }
            g.finish();
        }
    }
    summary(&inputs);
}

/// Prints MB/s, messages/s and prefixes/s of every function from timings
/// of its own (median of 5 runs), so that one table holds all three, with
/// the speed relative to bgpkit-parser doing the same job.
fn summary(inputs: &[Input]) {
    eprintln!("\nsummary (median of 5 runs each; criterion's figures above are the reference)");
    eprintln!(
        "{:<26} {:<22} {:>9} {:>9} {:>12} {:>12} {:>9}",
        "input", "function", "ms", "MB/s", "messages/s", "prefixes/s", "vs bgpkit"
    );
    for input in inputs {
        let timed: Vec<(&str, f64)> = jobs()
            .into_iter()
            .map(|(name, f)| {
                let mut times: Vec<Duration> = (0..5)
                    .map(|_| {
                        let t0 = Instant::now();
                        black_box(f(black_box(&input.data)));
                        t0.elapsed()
                    })
                    .collect();
                times.sort();
                (
                    name,
                    times.get(2).copied().unwrap_or_default().as_secs_f64(),
                )
            })
            .collect();
        let of = |n: &str| timed.iter().find(|(m, _)| *m == n).map(|(_, t)| *t);
        for (name, t) in &timed {
            let job = name.split('/').nth(1).unwrap_or("");
            let reference = if job == "framing" {
                of("bgpkit-parser/framing")
            } else {
                of("bgpkit-parser/full")
            };
            eprintln!(
                "{:<26} {:<22} {:>9.2} {:>9.1} {:>12.0} {:>12.0} {:>8.2}x",
                input.name,
                name,
                t * 1e3,
                input.data.len() as f64 / t / 1e6,
                input.messages as f64 / t,
                input.prefixes as f64 / t,
                reference.unwrap_or(*t) / t,
            );
        }
        eprintln!("{:<26} ({} records)", input.name, input.records);
    }
}

fn decode_benches(c: &mut Criterion) {
    bench(c);
}

criterion_group! {
    name = benches;
    config = settings(true);
    targets = decode_benches
}
criterion_main!(benches);
