//! Helpers shared by the mrtdump tests.

#![allow(dead_code)]

/// `None` when equal, else where and how the two differ: the first
/// differing line (1-based) with both versions, and the line counts.
pub(crate) fn first_difference(expected: &[u8], got: &[u8]) -> Option<String> {
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

/// The mrtdump lines of a corpus file (path relative to the corpus's
/// `mrt/` folder).
pub(crate) fn dump(rel: &str) -> Vec<u8> {
    let path = testkit::corpus_dir().join("mrt").join(rel);
    let mut out = Vec::new();
    let stats = bgp_examples::bgpdump::dump_path(&path, &mut out)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(stats.read_error.is_none(), "{rel}: {:?}", stats.read_error);
    out
}
