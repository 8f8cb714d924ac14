//! FRR: `zebra` and `bgpd` inside a namespace, each with its own
//! configuration file, PID file, zebra socket (`-z`) and vty socket folder
//! (`--vty_socket`) in the instance folder, so several instances run at
//! once; queried with `vtysh --vty_socket DIR -d bgpd -c '... json'`.
//!
//! zebra is needed, not just convenient: without it (`bgpd -Z`) bgpd knows
//! no interfaces, and drops IPv6 routes whose next hop is link-local (as
//! BIRD sends them on a shared link). zebra installs the routes bgpd
//! selects into the namespace's own kernel table, which is harmless there.
//!
//! The daemons run as the `frr` user, as packaged: the instance folder is
//! given to it. (Run as root, zebra refuses to start because root is not in
//! the `frrvty` group; nothing system-wide is changed to avoid that.)

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ipnet::IpNet;

use super::{
    Daemon, DaemonError, Family, InstanceDir, Kind, LOG_TAIL_LINES, Origin, Route, RouterConfig,
    SessionInfo, SessionState, logs_tail, parse_as_path, report_if_panicking, wait_ready,
};
use crate::json::{self, Value};
use crate::netns::{self, Netns};
use crate::process::{self, Process, STOP_GRACE};
use crate::wait::wait_until;

/// Where Debian installs the FRR daemons.
pub const FRR_DIR: &str = "/usr/lib/frr";

/// How long one `vtysh` call may take.
pub const VTYSH_TIMEOUT: Duration = Duration::from_secs(15);

/// The user and group the daemons run as.
pub const FRR_USER: &str = "frr";

fn lookup_id(file: &str, name: &str) -> Option<u32> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.first() == Some(&name))
        .and_then(|f| f.get(2).and_then(|id| id.parse().ok()))
}

/// The route-map that neighbors without export
/// ([`NeighborConfig::no_export`](super::NeighborConfig::no_export)) get
/// outbound: it denies everything.
pub const DENY_ALL: &str = "testkit-deny-all";

/// The `bgpd.conf` for `cfg`, logging to `log`.
pub fn render_config(cfg: &RouterConfig, log: &Path, hostname: &str) -> String {
    let mut c = String::from("! Written by testkit.\nfrr defaults traditional\n");
    let _ = writeln!(c, "hostname {hostname}");
    let _ = writeln!(c, "log file {} informational", log.display());
    c.push_str("!\n");
    let _ = writeln!(c, "router bgp {}", cfg.asn);
    let _ = writeln!(c, " bgp router-id {}", cfg.router_id);
    // FRR 8 filters eBGP exports without a policy unless told not to.
    c.push_str(" no bgp ebgp-requires-policy\n");
    // `network` originates even without a matching route in the RIB.
    c.push_str(" no bgp network import-check\n");
    c.push_str(" no bgp default ipv4-unicast\n");
    if cfg.neighbors.iter().any(|n| n.graceful_restart) {
        c.push_str(" bgp graceful-restart\n");
    }
    for n in &cfg.neighbors {
        let a = n.address;
        let _ = writeln!(c, " neighbor {a} remote-as {}", n.remote_as);
        if let Some(l) = n.local_address {
            let _ = writeln!(c, " neighbor {a} update-source {l}");
        }
        if n.passive {
            let _ = writeln!(c, " neighbor {a} passive");
        }
        if let Some(p) = &n.password {
            let _ = writeln!(c, " neighbor {a} password {p}");
        }
        if let (Some(h), Some(k)) = (n.hold_time, n.keepalive()) {
            let _ = writeln!(c, " neighbor {a} timers {k} {h}");
        }
        let _ = writeln!(c, " neighbor {a} timers connect {}", n.connect_retry.max(1));
        if let Some(t) = n.multihop {
            let _ = writeln!(c, " neighbor {a} ebgp-multihop {t}");
        }
        if n.ttl_security {
            let _ = writeln!(c, " neighbor {a} ttl-security hops 1");
        }
        if n.graceful_restart {
            let _ = writeln!(c, " neighbor {a} graceful-restart");
        }
        for l in &n.extra {
            let _ = writeln!(c, " {l}");
        }
    }
    for (fam, afi) in [(Family::Ipv4, "ipv4"), (Family::Ipv6, "ipv6")] {
        let nets: Vec<&IpNet> = cfg
            .originate
            .iter()
            .filter(|p| Family::of(p.addr()) == fam)
            .collect();
        let peers: Vec<_> = cfg
            .neighbors
            .iter()
            .filter(|n| n.families.contains(&fam))
            .collect();
        if nets.is_empty() && peers.is_empty() {
            continue;
        }
        let _ = writeln!(c, " !\n address-family {afi} unicast");
        for p in nets {
            let _ = writeln!(c, "  network {p}");
        }
        for n in peers {
            let _ = writeln!(c, "  neighbor {} activate", n.address);
            if n.add_path.send() {
                let _ = writeln!(c, "  neighbor {} addpath-tx-all-paths", n.address);
            }
            if !n.export {
                let _ = writeln!(c, "  neighbor {} route-map {DENY_ALL} out", n.address);
            }
        }
        c.push_str(" exit-address-family\n");
    }
    c.push_str("!\n");
    if cfg.neighbors.iter().any(|n| !n.export) {
        let _ = writeln!(c, "route-map {DENY_ALL} deny 10\n!");
    }
    if !cfg.extra.is_empty() {
        c.push_str(&cfg.extra);
        c.push('\n');
    }
    c
}

/// An FRR instance (zebra and bgpd) in a namespace. Dropping it stops
/// bgpd, then zebra, by PID.
#[derive(Debug)]
pub struct Frr {
    bgpd: Process,
    zebra: Process,
    config: RouterConfig,
    dir: InstanceDir,
    ns: Netns,
}

impl Frr {
    /// Writes the configuration for `cfg`, starts zebra and bgpd in `ns` and
    /// waits until bgpd answers vtysh.
    pub fn start(ns: &Netns, cfg: &RouterConfig) -> Result<Frr, DaemonError> {
        cfg.check()?;
        let uid = lookup_id("/etc/passwd", FRR_USER);
        let gid = lookup_id("/etc/group", FRR_USER);
        let (Some(uid), Some(gid)) = (uid, gid) else {
            return Err(DaemonError::Config(format!(
                "no `{FRR_USER}` user or group (is the frr package installed?)"
            )));
        };
        let dir = InstanceDir::new(Kind::Frr)?;
        std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).map_err(|source| {
            DaemonError::Io {
                what: format!("giving {} to {FRR_USER}", dir.path().display()),
                source,
            }
        })?;
        let host = format!(
            "bgpt-frr-{}",
            dir.path()
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
                .rsplit('-')
                .next()
                .unwrap_or("x")
        );
        let zlog = dir.file("zebra.log");
        let blog = dir.file("bgpd.log");
        let zconf = dir.write(
            "zebra.conf",
            &format!(
                "hostname {host}\nlog file {} informational\n",
                zlog.display()
            ),
        )?;
        let bconf = dir.write("bgpd.conf", &render_config(cfg, &blog, &host))?;
        let d = dir.path().to_string_lossy().into_owned();
        let zsock = dir.file("zserv.api").to_string_lossy().into_owned();
        let prog = |name: &str| {
            netns::find_program(&format!("{FRR_DIR}/{name}"))
                .unwrap_or_else(|| PathBuf::from(name))
                .to_string_lossy()
                .into_owned()
        };
        let common = |conf: &Path, pid: &str| -> Vec<String> {
            vec![
                "-f".into(),
                conf.to_string_lossy().into_owned(),
                "-i".into(),
                format!("{d}/{pid}"),
                "-z".into(),
                zsock.clone(),
                "--vty_socket".into(),
                d.clone(),
                // No TCP vty.
                "-P".into(),
                "0".into(),
            ]
        };
        let mut zargs = vec![prog("zebra")];
        zargs.extend(common(&zconf, "zebra.pid"));
        let zargs: Vec<&str> = zargs.iter().map(String::as_str).collect();
        let mut zebra = ns.spawn(&zargs, &dir.file("zebra.out"))?;
        // bgpd connects to zebra's socket; wait until it exists.
        let zsock_path = PathBuf::from(&zsock);
        let waited = wait_until(
            Duration::from_secs(10),
            Duration::from_millis(20),
            || match zebra.exit_status() {
                Some(st) => Ok(Some(st)),
                None if zsock_path.exists() => Ok(None),
                None => Err(()),
            },
        );
        match waited {
            Ok(None) => {}
            Ok(Some(st)) => {
                return Err(DaemonError::Exited {
                    name: "zebra".into(),
                    status: st.to_string(),
                    log: logs_tail(&[zlog, dir.file("zebra.out")], LOG_TAIL_LINES),
                });
            }
            Err(t) => {
                return Err(DaemonError::Timeout {
                    what: "zebra's socket".into(),
                    detail: t.to_string(),
                });
            }
        }
        let mut bargs = vec![prog("bgpd")];
        bargs.extend(common(&bconf, "bgpd.pid"));
        if !cfg.install_routes {
            bargs.push("--no_kernel".into());
        }
        let bargs: Vec<&str> = bargs.iter().map(String::as_str).collect();
        let bgpd = ns.spawn(&bargs, &dir.file("bgpd.out"))?;
        let mut me = Frr {
            bgpd,
            zebra,
            config: cfg.clone(),
            dir,
            ns: ns.clone(),
        };
        let logs = {
            let paths = me.log_paths();
            move || logs_tail(&paths, LOG_TAIL_LINES)
        };
        let vty = me.dir.path().to_path_buf();
        let (b, z) = (&mut me.bgpd, &mut me.zebra);
        wait_ready(
            Kind::Frr,
            || {
                b.exit_status()
                    .map(|s| format!("bgpd: {s}"))
                    .or_else(|| z.exit_status().map(|s| format!("zebra: {s}")))
            },
            || {
                let out = vtysh_at(&vty, "show bgp summary json").map_err(|e| e.to_string())?;
                json::parse(&out)
                    .map(|_| ())
                    .map_err(|e| format!("{e}: {out}"))
            },
            logs,
        )?;
        // bgpd goes on past configuration lines it cannot read; a test
        // would then run with another configuration than it asked for.
        let bad: Vec<String> = ["bgpd.log", "bgpd.out"]
            .iter()
            .filter_map(|f| std::fs::read_to_string(me.dir.file(f)).ok())
            .flat_map(|t| {
                t.lines()
                    .filter(|l| l.contains("on config line"))
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
        if !bad.is_empty() {
            return Err(DaemonError::Config(format!(
                "bgpd rejected configuration lines:\n{}",
                bad.join("\n")
            )));
        }
        Ok(me)
    }

    /// The neighbor's full entry of `show bgp neighbors ADDR json` (timers,
    /// capabilities, counters) for checks the typed queries do not cover.
    pub fn neighbor_json(&self, peer: IpAddr) -> Result<Value, DaemonError> {
        let v = self.vtysh_json(&format!("show bgp neighbors {peer} json"))?;
        v.members()
            .iter()
            .find(|(k, _)| k.parse::<IpAddr>().ok() == Some(peer))
            .map(|(_, n)| n.clone())
            .ok_or(DaemonError::NoSuchPeer(peer))
    }

    fn log_paths(&self) -> Vec<PathBuf> {
        ["bgpd.log", "bgpd.out", "zebra.log", "zebra.out"]
            .into_iter()
            .map(|f| self.dir.file(f))
            .collect()
    }

    /// The namespace it runs in.
    pub fn netns(&self) -> &Netns {
        &self.ns
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    /// zebra's PID.
    pub fn zebra_pid(&self) -> u32 {
        self.zebra.pid()
    }

    /// Runs vtysh with one `-c` per command (e.g. `["configure terminal",
    /// "router bgp 65002", "neighbor 198.18.0.0 shutdown"]`), returning its
    /// output.
    pub fn vtysh(&self, commands: &[&str]) -> Result<String, DaemonError> {
        vtysh_at_many(self.dir.path(), commands)
    }

    /// Runs one vtysh command and parses its JSON output.
    pub fn vtysh_json(&self, command: &str) -> Result<Value, DaemonError> {
        let out = vtysh_at(self.dir.path(), command)?;
        json::parse(&out).map_err(|e| DaemonError::Parse {
            what: format!("vtysh -c '{command}'"),
            detail: format!("{e}: {}", out.chars().take(300).collect::<String>()),
        })
    }
}

fn vtysh_at(dir: &Path, command: &str) -> Result<String, DaemonError> {
    vtysh_at_many(dir, &[command])
}

fn vtysh_at_many(dir: &Path, commands: &[&str]) -> Result<String, DaemonError> {
    let vtysh = netns::find_program("vtysh").unwrap_or_else(|| PathBuf::from("vtysh"));
    let mut cmd = Command::new(vtysh);
    cmd.arg("--vty_socket").arg(dir).args(["-d", "bgpd"]);
    for c in commands {
        cmd.args(["-c", c]);
    }
    Ok(process::run_ok(&mut cmd, VTYSH_TIMEOUT)?.stdout)
}

fn as_bool(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Bool(true)))
}

fn as_u32(v: Option<&Value>) -> Option<u32> {
    v.and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

/// Reads one neighbor of `show bgp neighbors json`.
pub fn parse_neighbor(v: &Value, peer: IpAddr) -> Option<SessionInfo> {
    let n = v
        .members()
        .iter()
        .find(|(k, _)| k.parse::<IpAddr>().ok() == Some(peer))
        .map(|(_, n)| n)?;
    let state = n.get("bgpState").and_then(Value::as_str)?;
    let mut state = SessionState::parse(state);
    if let Some(Value::String(s)) = n.get("adminShutDown").or(n.get("bgpAdminShutDown")) {
        if s == "true" {
            state = SessionState::Down;
        }
    }
    if as_bool(n.get("adminShutDown")) {
        state = SessionState::Down;
    }
    let last_error = [
        "lastNotificationReason",
        "lastShutdownDescription",
        "lastResetDueTo",
    ]
    .iter()
    .filter_map(|k| n.get(k).and_then(Value::as_str))
    .map(str::to_string)
    .reduce(|a, b| format!("{a}; {b}"));
    Some(SessionInfo { state, last_error })
}

/// The prefixes of `show bgp ipv4|ipv6 unicast json` (the table view, which
/// lacks communities; [`parse_prefix_detail`] reads the full paths).
pub fn parse_table_prefixes(v: &Value) -> Vec<IpNet> {
    v.get("routes")
        .map(Value::members)
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, _)| k.parse().ok())
        .collect()
}

/// Splits text holding several JSON values one after another (vtysh's
/// output for several `-c ... json` commands) into the values' texts.
pub fn split_json_values(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut in_str, mut esc) = (0usize, false, false);
    let mut start = None;
    for (i, c) in text.char_indices() {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, '\\') => esc = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '{' | '[' => {
                if depth == 0 {
                    start = Some(i);
                }
                depth += 1;
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    if let Some(s) = start.take() {
                        out.push(text.get(s..=i).unwrap_or_default());
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// Reads `show bgp ipv4|ipv6 unicast PREFIX json`: every path of one
/// prefix, with communities.
pub fn parse_prefix_detail(v: &Value) -> Vec<Route> {
    let Some(prefix) = v
        .get("prefix")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<IpNet>().ok())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for p in v.get("paths").map(Value::elements).unwrap_or_default() {
        let local = as_bool(p.get("local")) || as_bool(p.get("sourced"));
        let peer = p
            .get("peer")
            .and_then(|x| x.get("peerId"))
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<IpAddr>().ok())
            .filter(|a| !local && !a.is_unspecified());
        let source = peer.map_or_else(|| "local".to_string(), |a| a.to_string());
        let mut r = Route::new(prefix, source);
        r.peer = peer;
        r.best = match p.get("bestpath") {
            Some(b @ Value::Object(_)) => as_bool(b.get("overall")),
            b => as_bool(b),
        };
        r.as_path = match p.get("aspath") {
            Some(a) if a.get("length").and_then(Value::as_u64) == Some(0) => Vec::new(),
            Some(a) => a
                .get("string")
                .and_then(Value::as_str)
                .and_then(parse_as_path)
                .unwrap_or_default(),
            None => Vec::new(),
        };
        r.origin = p
            .get("origin")
            .and_then(Value::as_str)
            .and_then(Origin::parse);
        r.med = as_u32(p.get("metric"));
        r.local_pref = as_u32(p.get("locPrf"));
        r.next_hops = p
            .get("nexthops")
            .map(Value::elements)
            .unwrap_or_default()
            .iter()
            .filter_map(|nh| nh.get("ip").and_then(Value::as_str))
            .filter_map(|s| s.parse().ok())
            .collect();
        let list = |key: &str| -> Vec<String> {
            p.get(key)
                .and_then(|c| c.get("list"))
                .map(Value::elements)
                .unwrap_or_default()
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        };
        r.communities = list("community")
            .iter()
            .filter_map(|s| {
                let (a, b) = s.split_once(':')?;
                Some((a.parse().ok()?, b.parse().ok()?))
            })
            .collect();
        r.large_communities = list("largeCommunity")
            .iter()
            .filter_map(|c| {
                let mut it = c.split(':').map(|n| n.parse().ok());
                Some((it.next()??, it.next()??, it.next()??))
            })
            .collect();
        out.push(r);
    }
    out
}

/// How many prefixes one vtysh call asks details for.
pub const DETAIL_CHUNK: usize = 100;

impl Frr {
    /// The prefixes in the table of `family` (one fast query, no path
    /// details; for large tables).
    pub fn prefixes(&self, family: Family) -> Result<Vec<IpNet>, DaemonError> {
        let v = self.vtysh_json(&format!("show bgp {} unicast json", afi(family)))?;
        Ok(parse_table_prefixes(&v))
    }
}

fn afi(family: Family) -> &'static str {
    match family {
        Family::Ipv4 => "ipv4",
        Family::Ipv6 => "ipv6",
    }
}

impl Daemon for Frr {
    fn kind(&self) -> Kind {
        Kind::Frr
    }

    fn pid(&self) -> u32 {
        self.bgpd.pid()
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn session(&self, peer: IpAddr) -> Result<SessionInfo, DaemonError> {
        let cmd = format!("show bgp neighbors {peer} json");
        let v = self.vtysh_json(&cmd)?;
        parse_neighbor(&v, peer).ok_or(DaemonError::NoSuchPeer(peer))
    }

    /// The table's prefixes ([`Frr::prefixes`]), then each one's paths
    /// (`show bgp ... PREFIX json`, [`DETAIL_CHUNK`] prefixes a call: FRR
    /// 8.4 has no detailed JSON of a whole table).
    fn routes(&self, family: Family) -> Result<Vec<Route>, DaemonError> {
        let prefixes = self.prefixes(family)?;
        let mut out = Vec::new();
        for chunk in prefixes.chunks(DETAIL_CHUNK) {
            let cmds: Vec<String> = chunk
                .iter()
                .map(|p| format!("show bgp {} unicast {p} json", afi(family)))
                .collect();
            let cmds: Vec<&str> = cmds.iter().map(String::as_str).collect();
            let text = self.vtysh(&cmds)?;
            for doc in split_json_values(&text) {
                let v = json::parse(doc).map_err(|e| DaemonError::Parse {
                    what: "vtysh show bgp ... PREFIX json".into(),
                    detail: e.to_string(),
                })?;
                out.extend(parse_prefix_detail(&v));
            }
        }
        Ok(out)
    }

    fn freeze(&mut self) -> Result<(), DaemonError> {
        Ok(self.bgpd.freeze()?)
    }

    fn thaw(&mut self) -> Result<(), DaemonError> {
        Ok(self.bgpd.thaw()?)
    }

    fn stop(&mut self) -> Result<(), DaemonError> {
        self.bgpd.stop(STOP_GRACE)?;
        self.zebra.stop(STOP_GRACE)?;
        Ok(())
    }

    fn is_running(&mut self) -> bool {
        self.bgpd.is_running() && self.zebra.is_running()
    }

    fn log_tail(&self, lines: usize) -> String {
        logs_tail(&self.log_paths(), lines)
    }

    fn originate(&mut self, prefix: IpNet) -> Result<(), DaemonError> {
        self.network(prefix, true)?;
        if !self.config.originate.contains(&prefix) {
            self.config.originate.push(prefix);
        }
        Ok(())
    }

    fn withdraw(&mut self, prefix: IpNet) -> Result<(), DaemonError> {
        self.network(prefix, false)?;
        self.config.originate.retain(|p| *p != prefix);
        Ok(())
    }

    fn prefix_count(&self, family: Family) -> Result<usize, DaemonError> {
        self.prefixes(family).map(|p| p.len())
    }

    fn received_count(&self, peer: IpAddr, family: Family) -> Result<usize, DaemonError> {
        let v = self.vtysh_json(&format!("show bgp {} unicast summary json", afi(family)))?;
        let n = v
            .get("peers")
            .map(Value::members)
            .unwrap_or_default()
            .iter()
            .find(|(k, _)| k.parse::<IpAddr>().ok() == Some(peer))
            .map(|(_, n)| n);
        match n {
            Some(n) => Ok(n
                .get("pfxRcd")
                .and_then(Value::as_u64)
                .and_then(|c| usize::try_from(c).ok())
                .unwrap_or(0)),
            // Not activated for this family: nothing received.
            None if self.config.find_neighbor(peer).is_some() => Ok(0),
            None => Err(DaemonError::NoSuchPeer(peer)),
        }
    }
}

impl Frr {
    /// Adds (`on`) or removes a `network` statement through vtysh.
    fn network(&self, prefix: IpNet, on: bool) -> Result<(), DaemonError> {
        let router = format!("router bgp {}", self.config.asn);
        let af = format!("address-family {} unicast", afi(Family::of(prefix.addr())));
        let net = format!("{}network {prefix}", if on { "" } else { "no " });
        let out = self.vtysh(&["configure terminal", &router, &af, &net])?;
        match out.lines().find(|l| l.trim_start().starts_with('%')) {
            Some(err) => Err(DaemonError::Config(format!("vtysh `{net}`: {err}"))),
            None => Ok(()),
        }
    }
}

impl Drop for Frr {
    fn drop(&mut self) {
        report_if_panicking(Kind::Frr, self.dir.path(), || self.log_tail(LOG_TAIL_LINES));
        // bgpd before zebra (the fields would drop in this order anyway).
        let _ = self.bgpd.stop(STOP_GRACE);
        let _ = self.zebra.stop(STOP_GRACE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::NeighborConfig;

    #[test]
    fn no_export_route_map() {
        let mut cfg = RouterConfig::new(65001, "198.18.0.0".parse().unwrap());
        cfg.neighbor(NeighborConfig::new("198.18.0.1".parse().unwrap(), 65002));
        let c = render_config(&cfg, Path::new("/tmp/x/bgpd.log"), "h");
        assert!(!c.contains(DENY_ALL), "{c}");
        cfg.neighbor(NeighborConfig::new("198.18.0.3".parse().unwrap(), 65003).no_export());
        let c = render_config(&cfg, Path::new("/tmp/x/bgpd.log"), "h");
        assert!(
            c.contains("  neighbor 198.18.0.3 route-map testkit-deny-all out\n"),
            "{c}"
        );
        assert!(!c.contains("neighbor 198.18.0.1 route-map"), "{c}");
        assert!(c.contains("route-map testkit-deny-all deny 10\n"), "{c}");
    }
}
