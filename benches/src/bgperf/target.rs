//! The targets and their equivalent configurations.
//!
//! Every target gets the same thing to do: eBGP with every sender and with
//! the monitor, all passive (the tester connects), one hold time (keepalive
//! a third of it), IPv4 unicast; import everything from everyone; export
//! nothing to the senders and everything to the monitor; no other policy,
//! no multipath, and no route installed into any kernel.
//!
//! - [`TargetKind::Ours`]: `calico-bgpd --config FILE.toml` with the TOML
//!   of [`ours_config`] (bgp-speaker's configuration; no `[fib]` table, so
//!   nothing goes to the kernel).
//! - [`TargetKind::Bird`]: `bird -f` through testkit's driver (no kernel
//!   protocol; `export none` on the senders' channels).
//! - [`TargetKind::Frr`]: zebra and `bgpd --no_kernel` through testkit's
//!   driver (`no bgp ebgp-requires-policy`, a deny-all route-map out to the
//!   senders, multipath-relax off as by default).
//! - [`TargetKind::GoBgp`]: `gobgpd` through testkit's driver (no zebra; a
//!   global export policy rejecting routes to the senders' neighbor set).

use std::fmt;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::process::Stdio;

use testkit::daemon::bird::Bird;
use testkit::daemon::frr::Frr;
use testkit::daemon::gobgp::GoBgp;
use testkit::daemon::{self, Daemon, Kind, NeighborConfig, RouterConfig};
use testkit::netns::Netns;
use testkit::process::{Process, STOP_GRACE};

use super::case;

/// One of the targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetKind {
    /// This project's speaker: `calico-bgpd --config`.
    Ours,
    /// BIRD 2.
    Bird,
    /// FRR's bgpd (with zebra).
    Frr,
    /// GoBGP.
    GoBgp,
}

impl TargetKind {
    /// Every target, ours first.
    pub const ALL: [TargetKind; 4] = [
        TargetKind::Ours,
        TargetKind::Bird,
        TargetKind::Frr,
        TargetKind::GoBgp,
    ];

    /// The name used on the command line and in tables.
    pub fn name(self) -> &'static str {
        match self {
            TargetKind::Ours => "calico-bgpd",
            TargetKind::Bird => "bird",
            TargetKind::Frr => "frr",
            TargetKind::GoBgp => "gobgp",
        }
    }

    /// Reads a name (`ours` and `calico-bgpd` are the same).
    pub fn parse(s: &str) -> Result<TargetKind, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ours" | "calico-bgpd" | "calico" => Ok(TargetKind::Ours),
            "bird" => Ok(TargetKind::Bird),
            "frr" | "bgpd" => Ok(TargetKind::Frr),
            "gobgp" | "gobgpd" => Ok(TargetKind::GoBgp),
            other => Err(format!("unknown target {other:?} (ours, bird, frr, gobgp)")),
        }
    }

    /// testkit's driver kind, for the reference daemons.
    fn kind(self) -> Option<Kind> {
        match self {
            TargetKind::Ours => None,
            TargetKind::Bird => Some(Kind::Bird),
            TargetKind::Frr => Some(Kind::Frr),
            TargetKind::GoBgp => Some(Kind::GoBgp),
        }
    }

    /// Whether it can run here (the daemon's programs are installed; for
    /// ours, the binary exists).
    pub fn available(self, calico_bgpd: &Path) -> Result<(), String> {
        match self.kind() {
            Some(k) => k.available().map_err(|s| s.reason),
            None if calico_bgpd.is_file() => Ok(()),
            None => Err(format!(
                "no calico-bgpd binary at {} (cargo build --release -p calico-bgpd)",
                calico_bgpd.display()
            )),
        }
    }
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Who the target peers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The target's address (and router ID).
    pub target: Ipv4Addr,
    /// The monitor's address.
    pub monitor: Ipv4Addr,
    /// The senders' addresses; sender `k`'s AS is [`case::sender_as`].
    pub senders: Vec<Ipv4Addr>,
    /// The hold time of every session (keepalive a third of it).
    pub hold_time: u16,
}

/// The TOML configuration of calico-bgpd for `plan`.
pub fn ours_config(plan: &Plan) -> String {
    let mut c = String::from("# Written by bgperf.\n");
    c.push_str(&format!(
        "router_id = \"{}\"\nlocal_as = {}\nlisten = [\"{}:179\"]\nfamilies = [\"ipv4-unicast\"]\n",
        plan.target,
        case::TARGET_AS,
        plan.target
    ));
    let keepalive = (plan.hold_time / 3).max(1);
    let peer = |c: &mut String, name: &str, addr: Ipv4Addr, asn: u32, export_none: bool| {
        c.push_str(&format!(
            "\n[[peer]]\nname = \"{name}\"\naddress = \"{addr}\"\nremote_as = {asn}\nlocal_address = \"{}\"\npassive = true\nhold_time = {}\nkeepalive_time = {keepalive}\n",
            plan.target, plan.hold_time
        ));
        if export_none {
            c.push_str("export = [\"nothing\"]\n");
        }
    };
    peer(&mut c, "monitor", plan.monitor, case::MONITOR_AS, false);
    for (k, a) in plan.senders.iter().enumerate() {
        peer(&mut c, &format!("sender-{k}"), *a, case::sender_as(k), true);
    }
    c.push_str("\n[[policy]]\nname = \"nothing\"\ndefault = \"reject\"\n");
    c
}

/// testkit's configuration of a reference daemon for `plan`.
pub fn router_config(plan: &Plan) -> RouterConfig {
    let mut r = RouterConfig::new(case::TARGET_AS, plan.target);
    r.no_kernel();
    let n = |addr: Ipv4Addr, asn: u32| {
        NeighborConfig::new(IpAddr::V4(addr), asn)
            .local(IpAddr::V4(plan.target))
            .passive()
            .hold_time(plan.hold_time)
    };
    r.neighbor(n(plan.monitor, case::MONITOR_AS));
    for (k, a) in plan.senders.iter().enumerate() {
        r.neighbor(n(*a, case::sender_as(k)).no_export());
    }
    r
}

/// A running target; dropping it stops its processes by PID.
#[derive(Debug)]
pub enum Running {
    /// calico-bgpd, its configuration folder and log.
    Ours {
        /// The process.
        process: Process,
        /// The folder holding `bgpd.toml` and `calico-bgpd.log`.
        dir: tempfile::TempDir,
    },
    /// BIRD.
    Bird(Bird),
    /// FRR.
    Frr(Frr),
    /// GoBGP.
    GoBgp(GoBgp),
}

impl Running {
    /// The PIDs whose CPU time and memory count as the target's (FRR:
    /// bgpd and zebra).
    pub fn pids(&self) -> Vec<u32> {
        match self {
            Running::Ours { process, .. } => vec![process.pid()],
            Running::Bird(d) => vec![d.pid()],
            Running::Frr(d) => vec![d.pid(), d.zebra_pid()],
            Running::GoBgp(d) => vec![d.pid()],
        }
    }

    /// Whether its processes still run.
    pub fn is_running(&mut self) -> bool {
        match self {
            Running::Ours { process, .. } => process.is_running(),
            Running::Bird(d) => d.is_running(),
            Running::Frr(d) => d.is_running(),
            Running::GoBgp(d) => d.is_running(),
        }
    }

    /// The end of its logs.
    pub fn log_tail(&self, lines: usize) -> String {
        match self {
            Running::Ours { dir, .. } => {
                daemon::logs_tail(&[dir.path().join("calico-bgpd.log")], lines)
            }
            Running::Bird(d) => d.log_tail(lines),
            Running::Frr(d) => d.log_tail(lines),
            Running::GoBgp(d) => d.log_tail(lines),
        }
    }

    /// Stops it (SIGTERM, then SIGKILL after a grace period).
    pub fn stop(&mut self) {
        let _ = match self {
            Running::Ours { process, .. } => process.stop(STOP_GRACE).map(|_| ()).map_err(|_| ()),
            Running::Bird(d) => d.stop().map_err(|_| ()),
            Running::Frr(d) => d.stop().map_err(|_| ()),
            Running::GoBgp(d) => d.stop().map_err(|_| ()),
        };
    }
}

/// Starts `kind` in `ns` for `plan`.
pub fn start(
    kind: TargetKind,
    ns: &Netns,
    plan: &Plan,
    calico_bgpd: &Path,
) -> Result<Running, String> {
    match kind {
        TargetKind::Ours => start_ours(ns, plan, calico_bgpd),
        TargetKind::Bird => Bird::start(ns, &router_config(plan))
            .map(Running::Bird)
            .map_err(|e| e.to_string()),
        TargetKind::Frr => Frr::start(ns, &router_config(plan))
            .map(Running::Frr)
            .map_err(|e| e.to_string()),
        TargetKind::GoBgp => GoBgp::start(ns, &router_config(plan))
            .map(Running::GoBgp)
            .map_err(|e| e.to_string()),
    }
}

fn start_ours(ns: &Netns, plan: &Plan, calico_bgpd: &Path) -> Result<Running, String> {
    let dir = tempfile::Builder::new()
        .prefix(&format!("bgperf-{}-calico-bgpd-", std::process::id()))
        .tempdir()
        .map_err(|e| format!("temporary folder: {e}"))?;
    let conf: PathBuf = dir.path().join("bgpd.toml");
    std::fs::write(&conf, ours_config(plan)).map_err(|e| format!("{}: {e}", conf.display()))?;
    let log = dir.path().join("calico-bgpd.log");
    let out = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut cmd = ns.command(calico_bgpd);
    cmd.arg("--config")
        .arg(&conf)
        .env("RUST_LOG", "info")
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err));
    let process = Process::spawn(&mut cmd, "calico-bgpd", Some(log)).map_err(|e| e.to_string())?;
    Ok(Running::Ours { process, dir })
}

/// Writes `text` to standard error at once (progress lines).
pub fn note(text: &str) {
    let mut e = std::io::stderr().lock();
    let _ = writeln!(e, "{text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            target: Ipv4Addr::new(198, 18, 224, 1),
            monitor: Ipv4Addr::new(198, 18, 224, 2),
            senders: vec![
                Ipv4Addr::new(198, 18, 224, 10),
                Ipv4Addr::new(198, 18, 224, 11),
            ],
            hold_time: 180,
        }
    }

    #[test]
    fn ours_config_is_valid_and_equivalent() {
        let text = ours_config(&plan());
        let c = bgp_speaker::Config::from_toml(&text).unwrap();
        assert_eq!(c.local_as, case::TARGET_AS);
        assert_eq!(c.peers.len(), 3);
        assert!(c.peers.iter().all(|p| p.passive && p.hold_time == 180));
        assert!(c.peers[0].export.is_empty(), "everything to the monitor");
        assert!(c.peers.iter().skip(1).all(|p| p.export == ["nothing"]));
        assert!(c.peers.iter().all(|p| p.import.is_empty()));
        assert_eq!(c.decision.max_paths, 1);
        assert!(!text.contains("[fib]"));
    }

    #[test]
    fn reference_configs() {
        let r = router_config(&plan());
        assert!(!r.install_routes);
        assert_eq!(r.neighbors.len(), 3);
        assert!(r.neighbors[0].export);
        assert!(r.neighbors.iter().skip(1).all(|n| !n.export && n.passive));
        let bird = testkit::daemon::bird::render_config(&r, Path::new("/tmp/b.log"));
        assert_eq!(bird.matches("export none;").count(), 2, "{bird}");
        assert!(!bird.contains("protocol kernel"), "{bird}");
        let frr = testkit::daemon::frr::render_config(&r, Path::new("/tmp/f.log"), "h");
        assert!(frr.contains("no bgp ebgp-requires-policy"), "{frr}");
        assert!(!frr.contains("multipath-relax"), "{frr}");
        assert_eq!(frr.matches("route-map testkit-deny-all out").count(), 2);
        let gobgp = testkit::daemon::gobgp::render_config(&r);
        assert!(
            gobgp.contains("\"198.18.224.10\", \"198.18.224.11\""),
            "{gobgp}"
        );
        for k in ["ours", "bird", "frr", "gobgp", "calico-bgpd"] {
            TargetKind::parse(k).unwrap();
        }
        assert!(TargetKind::parse("quagga").is_err());
    }
}
