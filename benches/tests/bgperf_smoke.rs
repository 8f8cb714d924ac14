//! The macro benchmark's quick mode against our speaker (calico-bgpd) and
//! BIRD: every case converges, the monitor ends with every prefix on the
//! expected path (the sender's own in the distinct cases, the shortest AS
//! path's in the competing one), nothing goes to the senders or into the
//! target's kernel. Correctness only: no timing is asserted.
//!
//! Needs root (network namespaces), the calico-bgpd binary of the same
//! build (`cargo build -p calico-bgpd`, or `--release`; or its path in
//! `BGPERF_CALICO_BGPD`) and BIRD; without them it prints `SKIPPED: ...`
//! (a failure under `BGP_REQUIRE_INTEROP=1`). Namespaces and processes are
//! removed by PID when each measurement ends, also on failure.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bgp_benches::bgperf::{Case, Options, TargetKind, report, run};
use testkit::netns::{self, Skip};

fn calico_bgpd() -> Result<PathBuf, Skip> {
    if let Some(p) = std::env::var_os("BGPERF_CALICO_BGPD") {
        return Ok(PathBuf::from(p));
    }
    // The binary of the same profile sits beside bgperf.
    let p = PathBuf::from(env!("CARGO_BIN_EXE_bgperf")).with_file_name("calico-bgpd");
    if p.is_file() {
        Ok(p)
    } else {
        Err(Skip::new(format!(
            "no calico-bgpd binary at {} (cargo build -p calico-bgpd with this test's profile, or set BGPERF_CALICO_BGPD)",
            p.display()
        )))
    }
}

#[test]
fn quick_mode_converges_to_the_expected_paths() {
    let start = Instant::now();
    let binary = match netns::require_root_netns().and_then(|()| calico_bgpd()) {
        Ok(b) => b,
        Err(s) => {
            netns::skip(&s);
            return;
        }
    };
    let mut targets = vec![TargetKind::Ours];
    match TargetKind::Bird.available(&binary) {
        Ok(()) => targets.push(TargetKind::Bird),
        Err(reason) => netns::skip(&Skip::new(format!("BIRD part: {reason}"))),
    }
    let opts = Options {
        cases: Case::quick(),
        targets,
        calico_bgpd: binary,
        tester: PathBuf::from(env!("CARGO_BIN_EXE_bgperf")),
        hold_time: 180,
        timeout: Duration::from_secs(20),
    };
    let ms = run::run_all(&opts);
    eprintln!("{}", report::table(&ms));
    for m in &ms {
        let f = match &m.result {
            Ok(f) => f,
            Err(e) => panic!("{} against {}: {e}", m.case, m.target),
        };
        let what = format!("{} against {}", m.case, m.target);
        assert!(f.convergence > 0.0, "{what}: {f:?}");
        assert!(f.announced >= m.case.total() as u64, "{what}: {f:?}");
        assert_eq!(f.unexpected, 0, "{what}: unexpected prefixes or paths");
        assert_eq!(f.to_senders, 0, "{what}: routes sent to the senders");
        assert!(
            f.kernel_routes <= 2,
            "{what}: {} routes in the target's kernel",
            f.kernel_routes
        );
    }
    assert!(report::sanity(&ms).is_empty());
    eprintln!("bgperf smoke test: {:.1?}", start.elapsed());
}
