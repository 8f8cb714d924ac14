//! One measurement: a fresh pair of network namespaces, the target in one,
//! the tester ([`super::tester`]) in the other, one veth between them.
//!
//! Addresses, all in `198.18.224.0/24` (inside the test range
//! `198.18.0.0/15`; the namespaces are our own, so they cannot collide
//! with anyone's): the target `.1`, the monitor `.2`, sender `k` at
//! `.10 + k`. No route is added to either namespace: every session is on
//! the link's subnet.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use testkit::netns::{Netns, Veth};

use super::case::Case;
use super::measure;
use super::target::{self, Plan, Running, TargetKind, note};
use super::tester::TesterArgs;

/// The link's network: `198.18.224.0/24`.
pub const LINK_BASE: Ipv4Addr = Ipv4Addr::new(198, 18, 224, 0);

/// How long the target and the tester may take to bring every session up.
pub const READY_TIMEOUT: Duration = Duration::from_secs(90);

/// What a run does.
#[derive(Debug, Clone)]
pub struct Options {
    /// The cases, in order.
    pub cases: Vec<Case>,
    /// The targets, in order, for each case.
    pub targets: Vec<TargetKind>,
    /// The calico-bgpd binary.
    pub calico_bgpd: PathBuf,
    /// The program that runs the tester (`bgperf`, given `tester ARGS`).
    pub tester: PathBuf,
    /// The hold time of every session.
    pub hold_time: u16,
    /// How long one measurement may take to converge.
    pub timeout: Duration,
}

/// What one measurement found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    /// Seconds from the first UPDATE sent to the monitor holding every
    /// expected route.
    pub convergence: f64,
    /// The target's CPU seconds over the same time (every process and
    /// thread of it).
    pub target_cpu: f64,
    /// The target's peak resident set, MiB (summed over its processes).
    pub target_rss_mib: f64,
    /// The senders' CPU seconds (writing their UPDATEs).
    pub senders_cpu: f64,
    /// The monitor's CPU seconds (until convergence).
    pub monitor_cpu: f64,
    /// UPDATE messages the monitor received.
    pub updates: u64,
    /// Prefixes the monitor received announced (with repeats).
    pub announced: u64,
    /// Prefixes it received withdrawn.
    pub withdrawn: u64,
    /// Prefixes or paths it did not expect.
    pub unexpected: u64,
    /// Prefixes the target announced to the senders (should be 0).
    pub to_senders: u64,
    /// IPv4 routes in the target namespace's kernel tables at the end,
    /// local and broadcast ones left out (the link's subnet is 1).
    pub kernel_routes: usize,
}

/// One cell of the results.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// The case.
    pub case: Case,
    /// The target.
    pub target: TargetKind,
    /// The 1-minute load average when it started.
    pub load: f64,
    /// The figures, or why there are none.
    pub result: Result<Figures, String>,
}

/// The plan of a case: addresses of the target, the monitor and the
/// senders.
pub fn plan(case: &Case, hold_time: u16) -> Plan {
    let at = |n: u32| Ipv4Addr::from(u32::from(LINK_BASE) + n);
    Plan {
        target: at(1),
        monitor: at(2),
        senders: (0..case.senders as u32).map(|k| at(10 + k)).collect(),
        hold_time,
    }
}

/// The tester process; killed (by its PID) and reaped when dropped.
struct Tester {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
}

impl Tester {
    fn send(&mut self, line: &str) -> Result<(), String> {
        let stdin = self.stdin.as_mut().ok_or("the tester's input is closed")?;
        writeln!(stdin, "{line}")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("writing to the tester: {e}"))
    }

    /// The next line, waiting up to `timeout` while `alive` holds (checked
    /// every second).
    fn line(
        &mut self,
        timeout: Duration,
        mut alive: impl FnMut() -> Result<(), String>,
    ) -> Result<String, String> {
        let end = Instant::now() + timeout;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!("no answer from the tester within {timeout:?}"));
            }
            match self.lines.recv_timeout(left.min(Duration::from_secs(1))) {
                Ok(l) => {
                    return match l.strip_prefix("error ") {
                        Some(e) => Err(format!("tester: {e}")),
                        None => Ok(l),
                    };
                }
                Err(mpsc::RecvTimeoutError::Timeout) => alive()?,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err("the tester exited".into());
                }
            }
        }
    }
}

impl Drop for Tester {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn_tester(ns: &Netns, opts: &Options, args: &TesterArgs) -> Result<Tester, String> {
    let mut cmd = ns.command(&opts.tester);
    cmd.arg("tester")
        .args(args.to_args())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("starting the tester {}: {e}", opts.tester.display()))?;
    let stdin = child.stdin.take();
    let stdout = child.stdout.take().ok_or("no tester output")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for l in BufReader::new(stdout).lines() {
            let Ok(l) = l else { return };
            if tx.send(l).is_err() {
                return;
            }
        }
    });
    Ok(Tester {
        child,
        stdin,
        lines: rx,
    })
}

fn cpu_of(pids: &[u32]) -> f64 {
    pids.iter().filter_map(|p| measure::process_cpu(*p)).sum()
}

fn rss_of(pids: &[u32]) -> f64 {
    pids.iter()
        .filter_map(|p| measure::peak_rss_kib(*p))
        .sum::<u64>() as f64
        / 1024.0
}

/// IPv4 routes of every table of `ns` but local and broadcast ones.
pub fn kernel_route_count(ns: &Netns) -> Result<usize, String> {
    let out = ns
        .exec(&["ip", "-4", "route", "show", "table", "all"])
        .map_err(|e| e.to_string())?;
    Ok(out
        .stdout
        .lines()
        .filter(|l| !l.starts_with("local ") && !l.starts_with("broadcast ") && !l.is_empty())
        .count())
}

fn value(stats: &str, key: &str) -> Option<f64> {
    stats
        .split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('=')?.parse().ok())
}

/// Measures `target` on `case`.
pub fn measure(case: &Case, target: TargetKind, opts: &Options) -> Measurement {
    let load = measure::load_average();
    let result = measure_inner(case, target, opts);
    Measurement {
        case: *case,
        target,
        load,
        result,
    }
}

fn measure_inner(case: &Case, kind: TargetKind, opts: &Options) -> Result<Figures, String> {
    kind.available(&opts.calico_bgpd)?;
    let plan = plan(case, opts.hold_time);
    let tns = Netns::new().map_err(|e| format!("target namespace: {e}"))?;
    let sns = Netns::new().map_err(|e| format!("tester namespace: {e}"))?;
    let veth = Veth::new(&tns, &sns).map_err(|e| format!("veth: {e}"))?;
    tns.add_addr(&veth.a_name, IpAddr::V4(plan.target), 24)
        .map_err(|e| e.to_string())?;
    for a in std::iter::once(plan.monitor).chain(plan.senders.iter().copied()) {
        sns.add_addr(&veth.b_name, IpAddr::V4(a), 24)
            .map_err(|e| e.to_string())?;
    }
    tns.link_up(&veth.a_name).map_err(|e| e.to_string())?;
    sns.link_up(&veth.b_name).map_err(|e| e.to_string())?;

    let mut running = target::start(kind, &tns, &plan, &opts.calico_bgpd)?;
    let result = drive(case, &mut running, &tns, &sns, &plan, opts);
    let result = result.map_err(|e| {
        format!(
            "{e}\n{} log tail:\n{}",
            kind,
            running.log_tail(testkit::daemon::LOG_TAIL_LINES)
        )
    });
    running.stop();
    drop(veth);
    result
}

fn drive(
    case: &Case,
    running: &mut Running,
    tns: &Netns,
    sns: &Netns,
    plan: &Plan,
    opts: &Options,
) -> Result<Figures, String> {
    let args = TesterArgs {
        target: plan.target,
        monitor: plan.monitor,
        senders: plan.senders.clone(),
        case: *case,
        hold_time: plan.hold_time,
        timeout: opts.timeout,
    };
    let mut tester = spawn_tester(sns, opts, &args)?;
    let pids = running.pids();
    let mut alive = || {
        if running.is_running() {
            Ok(())
        } else {
            Err("the target exited".to_string())
        }
    };
    let l = tester.line(READY_TIMEOUT, &mut alive)?;
    if l != "ready" {
        return Err(format!("tester: expected ready, got {l:?}"));
    }
    let cpu0 = cpu_of(&pids);
    tester.send("go")?;
    let l = tester.line(opts.timeout + Duration::from_secs(30), &mut alive)?;
    let cpu1 = cpu_of(&pids);
    let rss = rss_of(&pids);
    let convergence = match l.strip_prefix("converged ") {
        Some(s) => s
            .trim()
            .parse::<f64>()
            .map_err(|e| format!("tester: {l:?}: {e}"))?,
        None if l == "timeout" => {
            let stats = tester
                .line(Duration::from_secs(60), &mut alive)
                .unwrap_or_default();
            return Err(format!("not converged within {:?} ({stats})", opts.timeout));
        }
        None => return Err(format!("tester: unexpected {l:?}")),
    };
    let stats = tester.line(Duration::from_secs(60), &mut alive)?;
    if !stats.starts_with("stats ") {
        return Err(format!("tester: expected stats, got {stats:?}"));
    }
    let kernel_routes = kernel_route_count(tns)?;
    tester.send("stop")?;
    drop(tester);
    let v = |k: &str| value(&stats, k).unwrap_or(f64::NAN);
    Ok(Figures {
        convergence,
        target_cpu: cpu1 - cpu0,
        target_rss_mib: rss,
        senders_cpu: v("senders_cpu"),
        monitor_cpu: v("monitor_cpu"),
        updates: v("updates") as u64,
        announced: v("announced") as u64,
        withdrawn: v("withdrawn") as u64,
        unexpected: v("unexpected") as u64,
        to_senders: v("to_senders") as u64,
        kernel_routes,
    })
}

/// Runs every case against every target, printing progress on standard
/// error.
pub fn run_all(opts: &Options) -> Vec<Measurement> {
    let mut out = Vec::new();
    for case in &opts.cases {
        for t in &opts.targets {
            note(&format!("bgperf: {case} against {t} ..."));
            let m = measure(case, *t, opts);
            match &m.result {
                Ok(f) => note(&format!(
                    "bgperf: {case} {t}: {:.3} s, target CPU {:.2} s, peak RSS {:.0} MiB, senders {:.3} s, monitor {:.3} s (load {:.2})",
                    f.convergence,
                    f.target_cpu,
                    f.target_rss_mib,
                    f.senders_cpu,
                    f.monitor_cpu,
                    m.load
                )),
                Err(e) => note(&format!("bgperf: {case} {t}: FAILED: {e}")),
            }
            out.push(m);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_addresses_are_test_addresses() {
        let p = plan(&Case::distinct(64, 10), 180);
        assert_eq!(p.target, Ipv4Addr::new(198, 18, 224, 1));
        assert_eq!(p.senders.len(), 64);
        assert_eq!(p.senders[63], Ipv4Addr::new(198, 18, 224, 73));
        for a in std::iter::once(p.target)
            .chain(std::iter::once(p.monitor))
            .chain(p.senders.iter().copied())
        {
            assert!(testkit::netns::is_test_addr(IpAddr::V4(a)), "{a}");
        }
        let p = plan(&Case::distinct(super::super::case::MAX_SENDERS, 1), 180);
        assert_eq!(p.senders.last(), Some(&Ipv4Addr::new(198, 18, 224, 209)));
    }

    #[test]
    fn stats_values() {
        let s = "stats senders_cpu=0.5 monitor_cpu=0.25 to_senders=0";
        assert_eq!(value(s, "senders_cpu"), Some(0.5));
        assert_eq!(value(s, "monitor_cpu"), Some(0.25));
        assert_eq!(value(s, "cpu"), None);
    }
}
