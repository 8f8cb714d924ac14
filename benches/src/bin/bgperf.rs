//! `bgperf`: the macro benchmark (see `bgp_benches::bgperf` and
//! `benches/README.md`). Needs root (network namespaces).
//!
//! ```sh
//! cargo build --release -p calico-bgpd
//! cargo run --release -p bgp-benches --bin bgperf -- --readme
//! cargo run --release -p bgp-benches --bin bgperf -- --quick --targets ours,bird
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use bgp_benches::bgperf::{self, Case, Options, TargetKind, report};

const USAGE: &str = "\
usage: bgperf [--quick] [--cases LIST] [--targets LIST] [--calico-bgpd PATH]
              [--hold SECS] [--timeout SECS] [--readme]

A bgperf-style macro benchmark: a target speaker in one network namespace,
senders and a monitor in another. For each case and target it prints the
time from the first UPDATE sent to the monitor holding every expected route,
the target's CPU seconds and peak RSS, and the senders' and monitor's CPU.

  --quick            1x100k, 4x25k and 4x25k-competing only
  --cases LIST       e.g. 1x1M,4x250k,4x250k-competing (default: the full set:
                     1x1M,4x250k,16x50k,64x10k,4x250k-competing)
  --targets LIST     ours,bird,frr,gobgp (default: all four)
  --calico-bgpd PATH the binary (default: calico-bgpd beside this program)
  --hold SECS        hold time of every session (default 180)
  --timeout SECS     convergence limit per measurement (default 600)
  --readme           also write the run's section into benches/README.md

Needs root. Build calico-bgpd first: cargo build --release -p calico-bgpd";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("tester") {
        let code = bgperf::tester::main(args.get(1..).unwrap_or_default());
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("bgperf: {e}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<bool, String> {
    let exe = std::env::current_exe().map_err(|e| format!("own path: {e}"))?;
    let mut opts = Options {
        cases: Case::full(),
        targets: TargetKind::ALL.to_vec(),
        calico_bgpd: exe.with_file_name("calico-bgpd"),
        tester: exe,
        hold_time: 180,
        timeout: Duration::from_secs(600),
    };
    let mut readme = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(true);
            }
            "--quick" => opts.cases = Case::quick(),
            "--cases" => {
                opts.cases = val()?
                    .split(',')
                    .map(Case::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--targets" => {
                opts.targets = val()?
                    .split(',')
                    .map(TargetKind::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--calico-bgpd" => opts.calico_bgpd = PathBuf::from(val()?),
            "--hold" => {
                let v = val()?;
                opts.hold_time = v.parse().map_err(|e| format!("--hold {v}: {e}"))?;
            }
            "--timeout" => {
                let v = val()?;
                opts.timeout =
                    Duration::from_secs(v.parse().map_err(|e| format!("--timeout {v}: {e}"))?);
            }
            "--readme" => readme = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if let Err(skip) = testkit::netns::require_root_netns() {
        return Err(format!("cannot run: {skip}"));
    }
    for t in &opts.targets {
        t.available(&opts.calico_bgpd)
            .map_err(|e| format!("target {t}: {e}"))?;
    }
    let started = utc_now();
    let ms = bgperf::run::run_all(&opts);
    let ended = utc_now();
    let title = format!("Run of {started} to {ended}");
    let command = format!(
        "cargo run --release -p bgp-benches --bin bgperf --{}{}",
        if args.is_empty() { "" } else { " " },
        args.join(" ")
    );
    let section = report::section(&title, &command, &ms);
    println!("\n{section}");
    if readme {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("README.md");
        report::append_to_readme(&path, &section)
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        eprintln!("bgperf: written to {}", path.display());
    }
    for m in &ms {
        if let Err(e) = &m.result {
            eprintln!("bgperf: {} {} failed:\n{e}\n", m.case, m.target);
        }
    }
    Ok(ms.iter().all(|m| m.result.is_ok()) && report::sanity(&ms).is_empty())
}

/// The time now, as `date -u` writes it (UTC, to the second).
fn utc_now() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M:%S UTC"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown time".into())
}
