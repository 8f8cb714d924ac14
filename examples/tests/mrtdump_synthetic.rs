//! `mrtdump -m` on hand-made records, one case of the line format each
//! (see `data/synthetic.md` for the cases and where bgpdump 1.6 differs).

#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;

use common::first_difference;

mod common;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join(name)
}

#[test]
fn synthetic_records() {
    let mut got = Vec::new();
    let stats = bgp_examples::bgpdump::dump_path(data("synthetic.mrt"), &mut got).unwrap();
    let expected = std::fs::read(data("synthetic.mrt.txt")).unwrap();
    if let Some(d) = first_difference(&expected, &got) {
        panic!("synthetic.mrt: {d}");
    }
    assert_eq!(stats.lines, 35);
    assert_eq!(stats.unknown_peers, 1);
    assert_eq!(stats.decode_errors, 0);
    assert!(stats.read_error.is_none());
}

/// Records of the synthetic file and of corpus files with random octets
/// changed: never a panic, whatever the body says.
#[test]
fn mutated_records_do_not_panic() {
    use bgp_wire::mrt::{MrtParser, MrtRecord, read_decompressed};

    let corpus = testkit::corpus_dir().join("mrt");
    let files = [
        data("synthetic.mrt"),
        corpus.join("mrtparse-samples/bird_bgp.mrt"),
        corpus.join("mrtparse-samples/openbgpd_bgp.mrt"),
        corpus.join("mrtparse-samples/quagga_rib.mrt"),
        corpus.join("mrtparse-samples/bird6-mrtdump_rib.mrt"),
        corpus.join("ripe-bgpdump/bview.ipv4_unicast_add_path.gz"),
    ];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut dumped = 0;
    for file in &files {
        let data = read_decompressed(file).unwrap();
        let raw: Vec<_> = MrtParser::new(data)
            .map_while(|r| r.ok().map(|_| ()))
            .collect();
        assert!(!raw.is_empty());
        let mut parser = MrtParser::new(read_decompressed(file).unwrap());
        let mut records = Vec::new();
        while let Some(Ok((header, body))) = parser.next_raw() {
            records.push((header, body));
        }
        assert!(!records.is_empty(), "{}", file.display());
        for round in 0..200 {
            let mut dumper = bgp_examples::bgpdump::Dumper::new();
            let mut out = Vec::new();
            for (header, body) in &records {
                let mut b = body.to_vec();
                if !b.is_empty() && round > 0 {
                    for _ in 0..1 + next() % 4 {
                        let i = (next() % b.len() as u64) as usize;
                        b[i] = next() as u8;
                    }
                    if next() % 8 == 0 {
                        b.truncate((next() % b.len() as u64) as usize);
                    }
                }
                if let Ok(r) = MrtRecord::decode(header, bytes::Bytes::from(b)) {
                    dumper.record(r, &mut out).unwrap();
                    dumped += 1;
                }
            }
            dumper.finish(&mut out).unwrap();
        }
    }
    assert!(dumped > 1000);
}
