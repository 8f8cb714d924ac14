//! Decoding two real MRT update files held in memory: MRT framing only, the
//! full decode by bgp-wire (borrowed and owned results), and the same input
//! parsed by bgpkit-parser as the reference. See `benches/README.md`.
//!
//! One group per file, `decode/<file>`, with a throughput in bytes (MB/s);
//! at the end a table gives, from criterion's median estimates, the rate of
//! every function in MB/s, BGP messages/s and prefixes/s, and its speed
//! relative to bgpkit-parser.

// A benchmark that cannot load its input or finds wrong counts must stop.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::io::Cursor;
use std::time::Duration;

use bgp_benches::{
    BGP_RS_UPDATES, ET_HEADER_UPDATES, Tally, criterion_dir, decode_full, decode_owned,
    expected_counts, frame, load, median_ns,
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

fn bench(c: &mut Criterion) {
    let inputs = inputs();
    let dir = criterion_dir();
    let mut rows = Vec::new();
    for input in &inputs {
        let group = format!("decode/{}", input.name);
        let mut g = c.benchmark_group(&group);
        g.throughput(Throughput::Bytes(input.data.len() as u64));
        for (name, f) in jobs() {
            g.bench_function(name, |b| b.iter(|| black_box(f(black_box(&input.data)))));
        }
        g.finish();
        let times: Vec<(&str, Option<f64>)> = jobs()
            .into_iter()
            .map(|(name, _)| (name, median_ns(&dir, &group, name)))
            .collect();
        rows.push((input, times));
    }
    summary(&rows);
}

/// An input and the median time of each function on it, in nanoseconds.
type Row<'a> = (&'a Input, Vec<(&'static str, Option<f64>)>);

/// One table with every rate of every function, from criterion's median
/// estimates: MB/s, BGP messages/s, prefixes/s, and the speed relative to
/// bgpkit-parser doing the same job (framing or full decode).
fn summary(rows: &[Row<'_>]) {
    eprintln!(
        "\n| input | function | median ms | MB/s | messages/s | prefixes/s | vs bgpkit-parser |"
    );
    eprintln!("|---|---|---|---|---|---|---|");
    for (input, times) in rows {
        let of = |n: &str| times.iter().find(|(m, _)| *m == n).and_then(|(_, t)| *t);
        for (name, t) in times {
            let Some(ns) = t else {
                eprintln!("| {} | {name} | (no estimate) | | | | |", input.name);
                continue;
            };
            let secs = ns / 1e9;
            let job = name.split('/').nth(1).unwrap_or("");
            let reference = if job == "framing" {
                of("bgpkit-parser/framing")
            } else {
                of("bgpkit-parser/full")
            };
            let ratio = reference.map_or(String::new(), |r| format!("{:.2}x", r / ns));
            eprintln!(
                "| {} | {name} | {:.2} | {:.0} | {:.0} | {:.0} | {ratio} |",
                input.name,
                secs * 1e3,
                input.data.len() as f64 / secs / 1e6,
                input.messages as f64 / secs,
                input.prefixes as f64 / secs,
            );
        }
    }
    for (input, _) in rows {
        eprintln!(
            "{}: {} records, {} messages, {} prefixes, {} octets",
            input.name,
            input.records,
            input.messages,
            input.prefixes,
            input.data.len()
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .output_directory(&criterion_dir())
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    targets = bench
}
criterion_main!(benches);
