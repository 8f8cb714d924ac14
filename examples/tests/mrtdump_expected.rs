//! `mrtdump -m` against the expected `bgpdump -m` output that RIPE NCC's
//! bgpdump ships with its test data (corpus `mrt/ripe-bgpdump/`, expected
//! files in `expected/<name>.bgp.gz`): byte for byte, every file.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use bgp_examples::bgpdump;

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

/// `None` when equal, else where and how the two differ: the first
/// differing line (1-based) with both versions, and the line counts.
fn first_difference(expected: &[u8], got: &[u8]) -> Option<String> {
    if expected == got {
        return None;
    }
    let e: Vec<&[u8]> = expected.split_inclusive(|&b| b == b'\n').collect();
    let g: Vec<&[u8]> = got.split_inclusive(|&b| b == b'\n').collect();
    let n = e
        .iter()
        .zip(&g)
        .position(|(a, b)| a != b)
        .unwrap_or(e.len().min(g.len()));
    let show = |l: Option<&&[u8]>| match l {
        Some(l) => format!("{:?}", String::from_utf8_lossy(l)),
        None => "<end of output>".to_string(),
    };
    Some(format!(
        "first difference at line {}:\n  expected: {}\n  got:      {}\n  ({} lines expected, {} got)",
        n + 1,
        show(e.get(n)),
        show(g.get(n)),
        e.len(),
        g.len()
    ))
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
