//! Test support shared by the workspace's tests and benchmarks: the shared
//! corpus, pcap reading, TCP reassembly and BGP framing.
//!
//! The path from a capture file to BGP messages:
//!
//! 1. [`capture::read_capture`] reads pcap, pcapng, gzip-compressed or not;
//! 2. [`packet::tcp_segment`] takes each frame down to its TCP segment;
//! 3. [`reassembly::Reassembler`] builds one byte stream per direction;
//! 4. [`bgp::Splitter`] splits a stream into messages by their headers.
//!
//! [`read_bgp_capture`] does all of it. Nothing here panics on malformed
//! input: every loop moves forward through a finite buffer, and what cannot
//! be read is reported, not fatal.
//!
//! ```
//! let (streams, _stats) = testkit::bgp_streams(&testkit::capture::Capture::default());
//! assert!(streams.is_empty());
//! ```
//!
//! The interop harness, for tests against reference daemons:
//!
//! - [`netns`]: network namespaces, veth links and test-range addresses,
//!   all removed on drop;
//! - [`daemon`]: BIRD, FRR and GoBGP drivers behind one [`daemon::Daemon`]
//!   trait;
//! - [`process`]: commands with time limits, processes stopped by PID;
//! - [`wait`]: bounded waits that report the last state seen.

pub mod bgp;
pub mod capture;
pub mod daemon;
pub mod json;
pub mod netns;
pub mod packet;
pub mod process;
pub mod reassembly;
pub mod wait;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use capture::{Capture, CaptureError};
use packet::Skip;
use reassembly::{Reassembler, Stream};

/// The shared corpus folder (`../shared/corpus` beside the checkout), or the
/// folder named by the `BGP_CORPUS` environment variable when it is set and
/// not empty.
pub fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BGP_CORPUS").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    root.join("..").join("..").join("shared").join("corpus")
}

/// Whether a file name is that of a packet capture: `.pcap`, `.pcapng`,
/// `.cap`, each optionally followed by `.gz`.
pub fn is_capture_name(name: &str) -> bool {
    let name = name.strip_suffix(".gz").unwrap_or(name);
    [".pcap", ".pcapng", ".cap"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// Every packet capture under `dir`, recursively, as paths relative to
/// `dir` with `/` separators, sorted. Unreadable folders are skipped.
pub fn capture_files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![PathBuf::new()];
    // Bounded: each folder is visited once (symlinks are not followed).
    while let Some(rel) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(dir.join(&rel)) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            let name = e.file_name().to_string_lossy().into_owned();
            if ft.is_dir() {
                todo.push(rel.join(&name));
            } else if ft.is_file() && is_capture_name(&name) {
                let p = rel.join(&name);
                let s: Vec<String> = p
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(s.join("/"));
            }
        }
    }
    out.sort();
    out
}

/// What happened to the packets of a capture on the way to TCP streams.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Packets in the file.
    pub packets: usize,
    /// Packets that carried a TCP segment.
    pub tcp_segments: usize,
    /// Packets without a TCP segment, by reason.
    pub skipped: BTreeMap<String, usize>,
    /// Problems of the file itself ([`Capture::problems`]).
    pub file_problems: Vec<String>,
}

/// Reassembles every TCP stream of a capture and keeps those that look like
/// BGP ([`bgp::is_bgp_stream`]).
pub fn bgp_streams(cap: &Capture) -> (Vec<Stream>, CaptureStats) {
    let mut stats = CaptureStats {
        packets: cap.packets.len(),
        file_problems: cap.problems.clone(),
        ..CaptureStats::default()
    };
    let mut r = Reassembler::new();
    for p in &cap.packets {
        match packet::tcp_segment(p) {
            Ok(seg) => {
                stats.tcp_segments += 1;
                r.push(seg);
            }
            Err(skip) => {
                let key = match skip {
                    Skip::NotIp(_) => "not IP".to_string(),
                    Skip::NotTcp(_) => "not TCP".to_string(),
                    other => other.to_string(),
                };
                *stats.skipped.entry(key).or_default() += 1;
            }
        }
    }
    let streams = r.finish().into_iter().filter(bgp::is_bgp_stream).collect();
    (streams, stats)
}

/// Reads a capture file and reassembles its BGP streams.
pub fn read_bgp_capture(
    path: impl AsRef<Path>,
) -> Result<(Vec<Stream>, CaptureStats), CaptureError> {
    let cap = capture::read_capture(path)?;
    Ok(bgp_streams(&cap))
}
