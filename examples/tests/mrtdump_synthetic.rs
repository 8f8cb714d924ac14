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
