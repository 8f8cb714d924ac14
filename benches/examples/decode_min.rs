//! Times one job over the corpus files: the fastest of N runs, which stays
//! meaningful on a loaded machine. For before/after comparisons of bgp-wire
//! changes; `cargo bench` gives the reported figures.
//!
//! `cargo run -p bgp-benches --release --example decode_min -- [full|owned|framing|build|values] [runs]`
//!
//! `build` packs the file's routes with the UPDATE builder, `values`
//! re-encodes the decoded UPDATEs from their values (both prepared before
//! timing).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use bgp_benches::{
    BGP_RS_UPDATES, ET_HEADER_UPDATES, decode_full, decode_owned, decoded_updates, encode_context,
    encode_routes, frame, load, reencode, routes,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let job = args.next().unwrap_or_else(|| "full".to_string());
    let runs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(20);
    for file in [BGP_RS_UPDATES, ET_HEADER_UPDATES] {
        let data = load(file).unwrap();
        let routes = (job == "build").then(|| routes(&data));
        let updates = (job == "values").then(|| decoded_updates(&data));
        let ctx = encode_context();
        let mut buf = bytes::BytesMut::new();
        let mut best = Duration::MAX;
        for _ in 0..runs {
            let t0 = Instant::now();
            let v = match job.as_str() {
                "framing" => frame(black_box(&data)).0,
                "owned" => decode_owned(black_box(&data), |o| drop(black_box(o))).checksum,
                "build" => match &routes {
                    Some(r) => {
                        encode_routes(r, &ctx, |m| {
                            black_box(m);
                        })
                        .messages
                    }
                    None => 0,
                },
                "values" => match &updates {
                    Some(u) => reencode(u, true, &mut buf).1,
                    None => 0,
                },
                _ => decode_full(black_box(&data)).checksum,
            };
            black_box(v);
            best = best.min(t0.elapsed());
        }
        println!(
            "{job:8} {:28} {:8.2} ms {:7.1} MB/s",
            file.rsplit('/').next().unwrap_or(file),
            best.as_secs_f64() * 1e3,
            data.len() as f64 / best.as_secs_f64() / 1e6
        );
    }
}
