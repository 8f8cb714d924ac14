//! Encoding: the routes of a real MRT update file, grouped per attribute
//! set, packed into 4,096-octet UPDATEs by bgp-wire's builder; and the
//! decoded UPDATEs of the same file written back to bytes. See
//! `benches/README.md`.

// A benchmark that cannot load its input or finds wrong counts must stop.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Duration;

use bgp_benches::{
    BGP_RS_UPDATES, ET_HEADER_UPDATES, criterion_dir, decoded_updates, encode_context,
    encode_routes, expected_counts, load, median_ns, reencode, routes,
};
use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn bench(c: &mut Criterion) {
    let dir = criterion_dir();
    let mut rows = Vec::new();
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
        let group = format!("build/{name}");
        let mut g = c.benchmark_group(&group);
        g.throughput(Throughput::Elements(once.messages));
        g.bench_function("bgp-wire/builder", |b| {
            b.iter(|| {
                let mut octets = 0u64;
                let t = encode_routes(black_box(&routes), &ctx, |m| octets += m.len() as u64);
                black_box((t, octets))
            })
        });
        g.finish();
        if let Some(ns) = median_ns(&dir, &group, "bgp-wire/builder") {
            let secs = ns / 1e9;
            rows.push(format!(
                "| {name} | builder: {} attribute sets -> {} UPDATEs | {:.2} | {:.0} | {:.0} | {:.0} |",
                routes.announce.len(),
                once.messages,
                secs * 1e3,
                once.octets as f64 / secs / 1e6,
                once.messages as f64 / secs,
                once.prefixes as f64 / secs,
            ));
        }

        let updates = decoded_updates(&data);
        let prefixes: u64 = updates
            .iter()
            .map(|d| {
                let c = d.update.prefix_counts(&d.ctx);
                (c.announced + c.withdrawn + c.mp_announced + c.mp_withdrawn) as u64
            })
            .sum();
        let mut buf = BytesMut::new();
        let (n, octets) = reencode(&updates, false, &mut buf);
        assert_eq!(n, updates.len() as u64, "{file}: re-encoded messages");
        let (n2, _) = reencode(&updates, true, &mut buf);
        assert_eq!(n2, n, "{file}: re-encoded from values");
        let group = format!("reencode/{name}");
        let mut g = c.benchmark_group(&group);
        g.throughput(Throughput::Elements(n));
        let jobs = [
            ("bgp-wire/update-encode", false),
            ("bgp-wire/from-values", true),
        ];
        for (label, from_values) in jobs {
            g.bench_function(label, |b| {
                b.iter(|| black_box(reencode(black_box(&updates), from_values, &mut buf)))
            });
        }
        g.finish();
        for (label, _) in jobs {
            if let Some(ns) = median_ns(&dir, &group, label) {
                let secs = ns / 1e9;
                rows.push(format!(
                    "| {name} | {label}: {n} UPDATEs | {:.2} | {:.0} | {:.0} | {:.0} |",
                    secs * 1e3,
                    octets as f64 / secs / 1e6,
                    n as f64 / secs,
                    prefixes as f64 / secs,
                ));
            }
        }
    }
    eprintln!("\n| input | job | median ms | MB/s written | messages/s | prefixes/s |");
    eprintln!("|---|---|---|---|---|---|");
    for r in rows {
        eprintln!("{r}");
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .output_directory(&criterion_dir())
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
