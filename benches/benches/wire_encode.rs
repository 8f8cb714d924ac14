//! Encoding: the routes of a real MRT update file, grouped per attribute
//! set, packed into 4,096-octet UPDATEs by bgp-wire's builder; and the
//! decoded UPDATEs of the same file written back to bytes. See
//! `benches/README.md`.

// A benchmark that cannot load its input or finds wrong counts must stop.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Duration;

use bgp_benches::{
    BGP_RS_UPDATES, ET_HEADER_UPDATES, decoded_updates, encode_context, encode_routes,
    expected_counts, load, reencode, routes,
};
use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    for file in [BGP_RS_UPDATES, ET_HEADER_UPDATES] {
        let name = file.rsplit('/').next().unwrap_or(file);
        let data = load(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let (want, _) = expected_counts(file).unwrap();
        let routes = routes(&data);
        assert_eq!(
            (routes.announced() + routes.withdrawn()) as u64,
            want.total(),
            "{file}: routes"
        );
        let ctx = encode_context();
        let once = encode_routes(&routes, &ctx, |m| assert!(m.len() <= 4096));
        assert_eq!(once.errors, 0, "{file}: builder errors");
        assert_eq!(once.prefixes, want.total(), "{file}: prefixes written");
        eprintln!(
            "{name}: {} attribute sets, {} prefixes -> {} UPDATEs, {} octets",
            routes.announce.len(),
            once.prefixes,
            once.messages,
            once.octets
        );
        for (unit, throughput) in [
            ("messages", Throughput::Elements(once.messages)),
            ("prefixes", Throughput::Elements(once.prefixes)),
        ] {
            let mut g = c.benchmark_group(format!("build_{unit}/{name}"));
            g.throughput(throughput);
            g.bench_function("bgp-wire/builder", |b| {
                b.iter(|| {
                    let mut octets = 0u64;
                    let t = encode_routes(black_box(&routes), &ctx, |m| octets += m.len() as u64);
                    black_box((t, octets))
                })
            });
            g.finish();
        }

        let updates = decoded_updates(&data);
        let mut buf = BytesMut::new();
        let (n, octets) = reencode(&updates, false, &mut buf);
        assert_eq!(n, updates.len() as u64, "{file}: re-encoded messages");
        let (n2, _) = reencode(&updates, true, &mut buf);
        assert_eq!(n2, n, "{file}: re-encoded from values");
        let mut g = c.benchmark_group(format!("reencode_messages/{name}"));
        g.throughput(Throughput::Elements(n));
        for (label, from_values) in [
            ("bgp-wire/update-encode", false),
            ("bgp-wire/from-values", true),
        ] {
            g.bench_function(label, |b| {
                b.iter(|| black_box(reencode(black_box(&updates), from_values, &mut buf)))
            });
        }
        g.finish();
        let mut g = c.benchmark_group(format!("reencode_bytes/{name}"));
        g.throughput(Throughput::Bytes(octets));
        for (label, from_values) in [
            ("bgp-wire/update-encode", false),
            ("bgp-wire/from-values", true),
        ] {
            g.bench_function(label, |b| {
                b.iter(|| black_box(reencode(black_box(&updates), from_values, &mut buf)))
            });
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
