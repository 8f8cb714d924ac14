//! `mrtdump -m` against the expected `bgpdump -m` output that RIPE NCC's
//! bgpdump ships with its test data (corpus `mrt/ripe-bgpdump/`, expected
//! files in `expected/<name>.bgp.gz`): byte for byte, every file.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use bgp_examples::bgpdump;
use common::first_difference;

mod common;

fn ripe_dir() -> PathBuf {
    testkit::corpus_dir().join("mrt").join("ripe-bgpdump")
}

fn gunzip(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn ripe_bgpdump_expected_output_byte_for_byte() {
    let dir = ripe_dir();
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus folder {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert_eq!(files.len(), 11, "MRT files in {}", dir.display());

    let mut failures = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let expected = gunzip(&dir.join("expected").join(format!("{name}.bgp.gz")));
        let mut got = Vec::with_capacity(expected.len());
        let stats = bgpdump::dump_path(file, &mut got).unwrap();
        assert!(stats.read_error.is_none(), "{name}: {:?}", stats.read_error);
        match first_difference(&expected, &got) {
            None => println!("{name}: {} lines, identical", stats.lines),
            Some(d) => failures.push(format!("{name}: {d}")),
        }
    }
    assert!(
        failures.is_empty(),
        "output differs from bgpdump's expected output:\n{}",
        failures.join("\n")
    );
}

#[test]
fn difference_report_names_the_line() {
    let d = first_difference(b"a\nb\nc\n", b"a\nx\nc\n").unwrap();
    assert!(
        d.contains("line 2") && d.contains("\"b\\n\"") && d.contains("\"x\\n\""),
        "{d}"
    );
    let d = first_difference(b"a\nb\n", b"a\n").unwrap();
    assert!(d.contains("line 2") && d.contains("<end of output>"), "{d}");
    assert!(first_difference(b"a\n", b"a\n").is_none());
}
