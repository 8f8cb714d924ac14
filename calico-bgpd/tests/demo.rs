//! `calico-bgpd demo`, the built binary: it converges, prints every
//! speaker with every session Established and the expected best paths,
//! ECMP next hops and deciding steps, and exits 0 by itself in bounded time.
//!
//! It runs with `--port 0` (ports the system picks), so that it does not
//! collide with a demo someone runs on the default port meanwhile.
//!
//! `cargo test -p calico-bgpd --test demo`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_calico-bgpd");
/// The demo's own convergence limit is 30 s; this bounds the whole run.
const LIMIT: Duration = Duration::from_secs(90);

const SPEAKERS: [&str; 7] = ["rr1", "rr2", "c1", "c2", "c3", "c4", "ext"];

/// Runs the demo; its exit status and output.
fn demo() -> (std::process::ExitStatus, String, String) {
    let mut child = Command::new(BIN)
        .args(["demo", "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("calico-bgpd demo starts");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > LIMIT {
            // Ours, by PID.
            let _ = child.kill();
            let _ = child.wait();
            panic!("the demo did not exit within {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (status, out.join().unwrap(), err.join().unwrap())
}

/// The section of one speaker: from its `=== name:` header to the next.
fn section<'a>(out: &'a str, name: &str) -> &'a str {
    let head = format!("=== {name}: ");
    let start = out
        .find(&head)
        .unwrap_or_else(|| panic!("no section for {name}"));
    let rest = &out[start + head.len()..];
    let end = rest
        .find("\n=== ")
        .or_else(|| rest.find("\nLegend:"))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// The lines of `prefix`'s entry in a section: its first line and every
/// line up to the next prefix.
fn entry<'a>(sec: &'a str, prefix: &str) -> Vec<&'a str> {
    let mut lines = sec
        .lines()
        .skip_while(|l| !l.starts_with(&format!("{prefix} ")));
    let mut v: Vec<&str> = lines.next().into_iter().collect();
    v.extend(lines.take_while(|l| l.starts_with('\t') || l.starts_with(' ')));
    v
}

/// Checks that `prefix`'s best path at `speaker` comes from `source`
/// (`[...]` text) and was decided by `step`, and that its ECMP next hops
/// are `hops`.
fn best(out: &str, speaker: &str, prefix: &str, source: &str, step: &str, hops: &[&str]) {
    let sec = section(out, speaker);
    let e = entry(sec, prefix);
    assert!(!e.is_empty(), "{speaker}: no {prefix}\n{sec}");
    let first = e[0];
    assert!(
        first.contains(&format!("[{source}] *")),
        "{speaker} {prefix}: best not from {source}: {first}"
    );
    assert!(
        first.trim_end().ends_with(&format!("best: {step}")),
        "{speaker} {prefix}: not decided by {step}: {first}"
    );
    // The best path's next hop, then the other ECMP next hops, then the
    // other paths' lines.
    let vias: Vec<&str> = e
        .iter()
        .skip(1)
        .take_while(|l| l.starts_with('\t'))
        .map(|l| l.split_whitespace().nth(1).unwrap_or(""))
        .collect();
    assert_eq!(
        vias,
        hops,
        "{speaker} {prefix}: ECMP next hops\n{}",
        e.join("\n")
    );
}

#[test]
fn demo_converges_prints_and_exits() {
    let t = Instant::now();
    let (status, out, err) = demo();
    assert!(status.success(), "exit {status:?}\n{err}\n{out}");
    assert!(t.elapsed() < LIMIT);
    assert!(
        out.contains("Converged in")
            && out.contains("7 sessions Established, 12 prefixes in every Loc-RIB"),
        "{out}"
    );

    // Every speaker, with every session Established (7 sessions, both ends).
    let mut ends = 0;
    for name in SPEAKERS {
        let sec = section(&out, name);
        assert!(sec.contains(&format!("{name}> show protocols")), "{sec}");
        assert!(sec.contains(&format!("{name}> show route")), "{sec}");
        assert!(
            sec.contains("Name       Proto  Table  State  Since     Info"),
            "{sec}"
        );
        for l in sec.lines().filter(|l| l.contains(" BGP ")) {
            assert!(
                l.contains(" up ") && l.trim_end().ends_with("Established"),
                "{name}: {l}"
            );
            ends += 1;
        }
        assert!(
            sec.contains("Table master4:") && sec.contains("Table master6:"),
            "{sec}"
        );
    }
    assert_eq!(ends, 14, "{out}");

    // A prefix ext made longer towards c3: AS 65000 leaves through c1.
    best(
        &out,
        "rr1",
        "198.19.1.0/24",
        "c1 from 127.0.1.3",
        "shorter AS path",
        &["127.0.1.3"],
    );
    best(
        &out,
        "c3",
        "198.19.1.0/24",
        "rr2 from 127.0.1.2",
        "shorter AS path",
        &["127.0.1.3"],
    );
    best(
        &out,
        "c1",
        "198.19.1.0/24",
        "ext from 127.0.1.7",
        "shorter AS path",
        &["127.0.1.7"],
    );
    // Equal through both borders: ECMP on the iBGP speakers, the border
    // routers use their own eBGP session.
    for (s, src) in [
        ("rr1", "c1 from 127.0.1.3"),
        ("rr2", "rr1 from 127.0.1.1"),
        ("c2", "rr1 from 127.0.1.1"),
        ("c4", "rr2 from 127.0.1.2"),
    ] {
        best(
            &out,
            s,
            "198.19.0.0/24",
            src,
            "lower router ID",
            &["127.0.1.3", "127.0.1.5"],
        );
        best(
            &out,
            s,
            "2001:db8:100::/48",
            src,
            "lower router ID",
            &["::ffff:127.0.1.3", "::ffff:127.0.1.5"],
        );
    }
    best(
        &out,
        "c1",
        "198.19.0.0/24",
        "ext from 127.0.1.7",
        "eBGP over iBGP",
        &["127.0.1.7"],
    );
    best(
        &out,
        "c3",
        "198.19.0.0/24",
        "ext from 127.0.1.7",
        "eBGP over iBGP",
        &["127.0.1.7"],
    );
    // Anycast from c2 and c4: ECMP elsewhere, ext over both borders; each
    // originator keeps its own route.
    best(
        &out,
        "c4",
        "198.18.100.0/24",
        "originated",
        "locally originated",
        &["127.0.1.6"],
    );
    best(
        &out,
        "rr1",
        "198.18.100.0/24",
        "c2 from 127.0.1.4",
        "lower router ID",
        &["127.0.1.4", "127.0.1.6"],
    );
    best(
        &out,
        "rr2",
        "198.18.100.0/24",
        "rr1 from 127.0.1.1",
        "lower router ID",
        &["127.0.1.4", "127.0.1.6"],
    );
    best(
        &out,
        "ext",
        "198.18.100.0/24",
        "c1 from 127.0.1.3",
        "lower router ID",
        &["127.0.1.3", "127.0.1.5"],
    );
    // Single paths, with the cluster list of a route that crossed clusters.
    best(
        &out,
        "rr1",
        "198.18.13.0/24",
        "rr2 from 127.0.1.2",
        "only path",
        &["127.0.1.5"],
    );
    let e = entry(section(&out, "c1"), "198.18.13.0/24");
    assert!(
        e.join("\n")
            .contains("originator 127.0.1.5  cluster-list 0.0.0.1 0.0.0.2"),
        "{e:?}"
    );
    best(
        &out,
        "ext",
        "198.19.0.0/24",
        "originated",
        "only path",
        &["127.0.1.7"],
    );
    // The path that lost says where.
    let e = entry(section(&out, "c1"), "198.19.0.0/24").join("\n");
    assert!(
        e.contains("[rr1 from 127.0.1.1]") && e.contains("lost at: eBGP over iBGP"),
        "{e}"
    );

    assert!(
        out.contains("every session closed with Cease / Administrative Shutdown"),
        "{out}"
    );
}

#[test]
fn demo_help_explains_it() {
    let out = Command::new(BIN).args(["demo", "--help"]).output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "127.0.1.1",
        "route reflectors",
        "show protocols",
        "ECMP",
        "--port",
        "--timeout",
    ] {
        assert!(help.contains(needle), "{needle}: {help}");
    }
}
