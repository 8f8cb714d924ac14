//! GoBGP: `gobgpd -f CONF -t toml` inside a namespace, its gRPC API on
//! `127.0.0.1:PORT` of that namespace (a port of its own per instance),
//! queried with `gobgp -u 127.0.0.1 -p PORT ... -j` run in the namespace.
//! Prefixes to originate are added with `gobgp global rib add` once it is
//! up (GoBGP's configuration file has no static routes).

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use ipnet::IpNet;

use super::{
    AsSegment, Daemon, DaemonError, Family, InstanceDir, Kind, LOG_TAIL_LINES, Origin, Route,
    RouterConfig, SessionInfo, SessionState, logs_tail, report_if_panicking, wait_ready,
};
use crate::json::{self, Value};
use crate::netns::{self, Netns};
use crate::process::{Process, STOP_GRACE};

/// How long one `gobgp` call may take.
pub const GOBGP_TIMEOUT: Duration = Duration::from_secs(15);

/// The first API port handed out; each instance of this process takes the
/// next.
pub const FIRST_API_PORT: u16 = 50051;

static NEXT_PORT: AtomicU16 = AtomicU16::new(FIRST_API_PORT);

fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The name of the neighbor set, and of the global export policy that
/// rejects the routes sent to it, of the neighbors without export
/// ([`NeighborConfig::no_export`](super::NeighborConfig::no_export)).
pub const NO_EXPORT: &str = "testkit-no-export";

/// The `gobgpd.toml` for `cfg`.
pub fn render_config(cfg: &RouterConfig) -> String {
    let mut c = String::from("# Written by testkit.\n[global.config]\n");
    let _ = writeln!(c, "  as = {}", cfg.asn);
    let _ = writeln!(c, "  router-id = \"{}\"", cfg.router_id);
    let no_export: Vec<String> = cfg
        .neighbors
        .iter()
        .filter(|n| !n.export)
        .map(|n| format!("\"{}\"", n.address))
        .collect();
    if !no_export.is_empty() {
        let _ = writeln!(
            c,
            "[global.apply-policy.config]\n  export-policy-list = [\"{NO_EXPORT}\"]\n  default-export-policy = \"accept-route\""
        );
    }
    for n in &cfg.neighbors {
        c.push_str("\n[[neighbors]]\n  [neighbors.config]\n");
        let _ = writeln!(c, "    neighbor-address = \"{}\"", n.address);
        let _ = writeln!(c, "    peer-as = {}", n.remote_as);
        if let Some(p) = &n.password {
            let _ = writeln!(c, "    auth-password = {}", toml_str(p));
        }
        for l in &n.extra {
            let _ = writeln!(c, "    {l}");
        }
        c.push_str("  [neighbors.timers.config]\n");
        let retry = n.connect_retry.max(1);
        let _ = writeln!(c, "    connect-retry = {retry}");
        let _ = writeln!(c, "    idle-hold-time-after-reset = {retry}");
        if let (Some(h), Some(k)) = (n.hold_time, n.keepalive()) {
            let _ = writeln!(c, "    hold-time = {h}\n    keepalive-interval = {k}");
        }
        if n.local_address.is_some() || n.passive {
            c.push_str("  [neighbors.transport.config]\n");
            if let Some(l) = n.local_address {
                let _ = writeln!(c, "    local-address = \"{l}\"");
            }
            if n.passive {
                c.push_str("    passive-mode = true\n");
            }
        }
        if let Some(t) = n.multihop {
            let _ = writeln!(
                c,
                "  [neighbors.ebgp-multihop.config]\n    enabled = true\n    multihop-ttl = {t}"
            );
        }
        if n.ttl_security {
            c.push_str(
                "  [neighbors.ttl-security.config]\n    enabled = true\n    ttl-min = 255\n",
            );
        }
        if n.graceful_restart {
            c.push_str("  [neighbors.graceful-restart.config]\n    enabled = true\n");
        }
        for fam in &n.families {
            let name = match fam {
                Family::Ipv4 => "ipv4-unicast",
                Family::Ipv6 => "ipv6-unicast",
            };
            c.push_str("  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n");
            let _ = writeln!(c, "      afi-safi-name = \"{name}\"");
            if n.add_path.receive() || n.add_path.send() {
                c.push_str("    [neighbors.afi-safis.add-paths.config]\n");
                if n.add_path.receive() {
                    c.push_str("      receive = true\n");
                }
                if n.add_path.send() {
                    c.push_str("      send-max = 8\n");
                }
            }
            if n.graceful_restart {
                c.push_str(
                    "    [neighbors.afi-safis.mp-graceful-restart.config]\n      enabled = true\n",
                );
            }
        }
    }
    if !no_export.is_empty() {
        let _ = writeln!(
            c,
            "\n[[defined-sets.neighbor-sets]]\n  neighbor-set-name = \"{NO_EXPORT}\"\n  neighbor-info-list = [{}]",
            no_export.join(", ")
        );
        let _ = writeln!(
            c,
            "\n[[policy-definitions]]\n  name = \"{NO_EXPORT}\"\n  [[policy-definitions.statements]]\n    name = \"{NO_EXPORT}\"\n    [policy-definitions.statements.conditions.match-neighbor-set]\n      neighbor-set = \"{NO_EXPORT}\"\n    [policy-definitions.statements.actions]\n      route-disposition = \"reject-route\""
        );
    }
    if !cfg.extra.is_empty() {
        c.push('\n');
        c.push_str(&cfg.extra);
        c.push('\n');
    }
    c
}

/// A GoBGP instance in a namespace. Dropping it stops `gobgpd` by PID.
#[derive(Debug)]
pub struct GoBgp {
    process: Process,
    port: u16,
    config: RouterConfig,
    log: PathBuf,
    dir: InstanceDir,
    ns: Netns,
}

impl GoBgp {
    /// Writes the configuration for `cfg`, starts `gobgpd` in `ns`, waits
    /// for its API and adds the prefixes to originate.
    pub fn start(ns: &Netns, cfg: &RouterConfig) -> Result<GoBgp, DaemonError> {
        cfg.check()?;
        let dir = InstanceDir::new(Kind::GoBgp)?;
        let conf = dir.write("gobgpd.toml", &render_config(cfg))?;
        let log = dir.file("gobgpd.log");
        let port = NEXT_PORT.fetch_add(1, Ordering::SeqCst);
        let api = format!("127.0.0.1:{port}");
        let prog = netns::find_program("gobgpd").unwrap_or_else(|| PathBuf::from("gobgpd"));
        let process = ns.spawn(
            &[
                &prog.to_string_lossy(),
                "-f",
                &conf.to_string_lossy(),
                "-t",
                "toml",
                "--api-hosts",
                &api,
                "--pprof-disable",
                "--log-plain",
                "--log-level",
                "info",
            ],
            &log,
        )?;
        let mut me = GoBgp {
            process,
            port,
            config: cfg.clone(),
            log,
            dir,
            ns: ns.clone(),
        };
        let logs = {
            let paths = vec![me.log.clone()];
            move || logs_tail(&paths, LOG_TAIL_LINES)
        };
        let (ns2, port2) = (me.ns.clone(), me.port);
        let proc_ref = &mut me.process;
        wait_ready(
            Kind::GoBgp,
            || proc_ref.exit_status().map(|s| s.to_string()),
            || {
                gobgp_at(&ns2, port2, &["global", "-j"])
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            },
            logs,
        )?;
        for p in &cfg.originate {
            me.add_route(*p, &[])?;
        }
        Ok(me)
    }

    /// The namespace it runs in.
    pub fn netns(&self) -> &Netns {
        &self.ns
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    /// The API port (on `127.0.0.1` inside the namespace).
    pub fn api_port(&self) -> u16 {
        self.port
    }

    /// Runs `gobgp -u 127.0.0.1 -p PORT ARGS...` in the namespace.
    pub fn gobgp(&self, args: &[&str]) -> Result<String, DaemonError> {
        gobgp_at(&self.ns, self.port, args)
    }

    /// Originates `prefix` (`gobgp global rib add`), with `attrs` appended
    /// (e.g. `["community", "65003:7", "med", "5"]`).
    pub fn add_route(&self, prefix: IpNet, attrs: &[&str]) -> Result<(), DaemonError> {
        let p = prefix.to_string();
        let fam = if prefix.addr().is_ipv4() {
            "ipv4"
        } else {
            "ipv6"
        };
        let mut args = vec!["global", "rib", "add", "-a", fam, p.as_str()];
        args.extend_from_slice(attrs);
        self.gobgp(&args).map(|_| ())
    }

    /// Withdraws a prefix added with [`GoBgp::add_route`].
    pub fn del_route(&self, prefix: IpNet) -> Result<(), DaemonError> {
        let p = prefix.to_string();
        let fam = if prefix.addr().is_ipv4() {
            "ipv4"
        } else {
            "ipv6"
        };
        self.gobgp(&["global", "rib", "del", "-a", fam, &p])
            .map(|_| ())
    }

    fn json(&self, args: &[&str]) -> Result<Value, DaemonError> {
        let out = self.gobgp(args)?;
        json::parse(&out).map_err(|e| DaemonError::Parse {
            what: format!("gobgp {}", args.join(" ")),
            detail: format!("{e}: {}", out.chars().take(300).collect::<String>()),
        })
    }
}

fn gobgp_at(ns: &Netns, port: u16, args: &[&str]) -> Result<String, DaemonError> {
    let p = port.to_string();
    let mut all = vec!["gobgp", "-u", "127.0.0.1", "-p", p.as_str()];
    all.extend_from_slice(args);
    Ok(ns.exec_timeout(&all, GOBGP_TIMEOUT)?.stdout)
}

/// GoBGP's numeric session states (its API's `PeerState.SessionState`).
fn state_from_number(n: u64) -> SessionState {
    match n {
        1 => SessionState::Idle,
        2 => SessionState::Connect,
        3 => SessionState::Active,
        4 => SessionState::OpenSent,
        5 => SessionState::OpenConfirm,
        6 => SessionState::Established,
        n => SessionState::Other(format!("unknown ({n})")),
    }
}

/// Reads the neighbor at `peer` from `gobgp neighbor -j`.
pub fn parse_neighbor(v: &Value, peer: IpAddr) -> Option<SessionInfo> {
    let n = v.elements().iter().find(|n| {
        n.get("conf")
            .and_then(|c| c.get("neighbor_address"))
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<IpAddr>().ok())
            == Some(peer)
    })?;
    let st = n.get("state");
    let mut state = match st.and_then(|s| s.get("session_state")) {
        Some(Value::Number(_)) => state_from_number(
            st.and_then(|s| s.get("session_state"))
                .and_then(Value::as_u64)?,
        ),
        Some(Value::String(s)) => SessionState::parse(s),
        // Zero values are left out: UNKNOWN.
        _ => SessionState::Other("unknown".into()),
    };
    let admin = st.and_then(|s| s.get("admin_state"));
    if admin.and_then(Value::as_u64) == Some(1) || admin.and_then(Value::as_str) == Some("down") {
        state = SessionState::Down;
    }
    Some(SessionInfo {
        state,
        last_error: None,
    })
}

fn u32_of(v: Option<&Value>) -> Option<u32> {
    v.and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
}

/// Reads `gobgp global rib -a FAMILY -j`: an object from prefix to paths.
pub fn parse_routes(v: &Value) -> Vec<Route> {
    let mut out = Vec::new();
    for (key, paths) in v.members() {
        let Ok(prefix) = key.parse::<IpNet>() else {
            continue;
        };
        for p in paths.elements() {
            let peer = p
                .get("neighbor-ip")
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<IpAddr>().ok());
            let source = peer.map_or_else(|| "local".to_string(), |a| a.to_string());
            let mut r = Route::new(prefix, source);
            r.peer = peer;
            r.best = matches!(p.get("best"), Some(Value::Bool(true)));
            for a in p.get("attrs").map(Value::elements).unwrap_or_default() {
                match a.get("type").and_then(Value::as_u64) {
                    Some(1) => {
                        r.origin = match a.get("value").and_then(Value::as_u64) {
                            Some(0) => Some(Origin::Igp),
                            Some(1) => Some(Origin::Egp),
                            Some(2) => Some(Origin::Incomplete),
                            _ => None,
                        }
                    }
                    Some(2) => {
                        for seg in a.get("as_paths").map(Value::elements).unwrap_or_default() {
                            let asns: Vec<u32> = seg
                                .get("asns")
                                .map(Value::elements)
                                .unwrap_or_default()
                                .iter()
                                .filter_map(|n| u32_of(Some(n)))
                                .collect();
                            match seg.get("segment_type").and_then(Value::as_u64) {
                                Some(1) => r.as_path.push(AsSegment::Set(asns)),
                                _ => r.as_path.push(AsSegment::Sequence(asns)),
                            }
                        }
                    }
                    Some(3) | Some(14) => {
                        if let Some(nh) = a
                            .get("nexthop")
                            .and_then(Value::as_str)
                            .and_then(|s| s.parse().ok())
                        {
                            r.next_hops.push(nh);
                        }
                    }
                    Some(4) => r.med = u32_of(a.get("metric")),
                    Some(5) => r.local_pref = u32_of(a.get("value")),
                    Some(8) => {
                        r.communities = a
                            .get("communities")
                            .map(Value::elements)
                            .unwrap_or_default()
                            .iter()
                            .filter_map(|c| u32_of(Some(c)))
                            .map(|c| ((c >> 16) as u16, (c & 0xffff) as u16))
                            .collect();
                    }
                    Some(32) => {
                        r.large_communities = a
                            .get("value")
                            .map(Value::elements)
                            .unwrap_or_default()
                            .iter()
                            .filter_map(|c| {
                                Some((
                                    u32_of(c.get("ASN").or(c.get("asn")))?,
                                    u32_of(c.get("LocalData1").or(c.get("local_data1")))?,
                                    u32_of(c.get("LocalData2").or(c.get("local_data2")))?,
                                ))
                            })
                            .collect();
                    }
                    _ => {}
                }
            }
            out.push(r);
        }
    }
    out
}

impl Daemon for GoBgp {
    fn kind(&self) -> Kind {
        Kind::GoBgp
    }

    fn pid(&self) -> u32 {
        self.process.pid()
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn session(&self, peer: IpAddr) -> Result<SessionInfo, DaemonError> {
        let v = self.json(&["neighbor", "-j"])?;
        parse_neighbor(&v, peer).ok_or(DaemonError::NoSuchPeer(peer))
    }

    fn routes(&self, family: Family) -> Result<Vec<Route>, DaemonError> {
        let v = self.json(&["global", "rib", "-a", fam(family), "-j"])?;
        Ok(parse_routes(&v))
    }

    fn freeze(&mut self) -> Result<(), DaemonError> {
        Ok(self.process.freeze()?)
    }

    fn thaw(&mut self) -> Result<(), DaemonError> {
        Ok(self.process.thaw()?)
    }

    fn stop(&mut self) -> Result<(), DaemonError> {
        self.process.stop(STOP_GRACE)?;
        Ok(())
    }

    fn is_running(&mut self) -> bool {
        self.process.is_running()
    }

    fn log_tail(&self, lines: usize) -> String {
        logs_tail(std::slice::from_ref(&self.log), lines)
    }

    fn originate(&mut self, prefix: IpNet) -> Result<(), DaemonError> {
        self.add_route(prefix, &[])?;
        if !self.config.originate.contains(&prefix) {
            self.config.originate.push(prefix);
        }
        Ok(())
    }

    fn withdraw(&mut self, prefix: IpNet) -> Result<(), DaemonError> {
        self.del_route(prefix)?;
        self.config.originate.retain(|p| *p != prefix);
        Ok(())
    }

    fn prefix_count(&self, family: Family) -> Result<usize, DaemonError> {
        let v = self.json(&["global", "rib", "summary", "-a", fam(family), "-j"])?;
        Ok(v.get("num_destination")
            .and_then(Value::as_u64)
            .and_then(|c| usize::try_from(c).ok())
            .unwrap_or(0))
    }

    fn received_count(&self, peer: IpAddr, family: Family) -> Result<usize, DaemonError> {
        let v = self.json(&["neighbor", "-j"])?;
        parse_accepted(&v, peer, family).ok_or(DaemonError::NoSuchPeer(peer))
    }
}

fn fam(family: Family) -> &'static str {
    match family {
        Family::Ipv4 => "ipv4",
        Family::Ipv6 => "ipv6",
    }
}

/// Reads how many prefixes of `family` the neighbor at `peer` has accepted
/// from `gobgp neighbor -j` (`afi_safis[].state.accepted`; left out when
/// zero). `None` if there is no such neighbor.
pub fn parse_accepted(v: &Value, peer: IpAddr, family: Family) -> Option<usize> {
    let n = v.elements().iter().find(|n| {
        n.get("conf")
            .and_then(|c| c.get("neighbor_address"))
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<IpAddr>().ok())
            == Some(peer)
    })?;
    let afi = match family {
        Family::Ipv4 => 1,
        Family::Ipv6 => 2,
    };
    let count = n
        .get("afi_safis")
        .map(Value::elements)
        .unwrap_or_default()
        .iter()
        .filter_map(|a| a.get("state"))
        .find(|st| {
            st.get("family")
                .and_then(|f| f.get("afi"))
                .and_then(Value::as_u64)
                == Some(afi)
        })
        .and_then(|st| st.get("accepted"))
        .and_then(Value::as_u64)
        .and_then(|c| usize::try_from(c).ok());
    Some(count.unwrap_or(0))
}

impl Drop for GoBgp {
    fn drop(&mut self) {
        report_if_panicking(Kind::GoBgp, self.dir.path(), || {
            self.log_tail(LOG_TAIL_LINES)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rib_json() {
        let text = r#"{"198.19.1.0/24":[{"nlri":{"prefix":"198.19.1.0/24"},"age":1,"best":true,"attrs":[{"type":1,"value":0},{"type":2,"as_paths":[{"segment_type":2,"num":1,"asns":[65001]}]},{"type":3,"nexthop":"198.18.0.0"}],"stale":false,"source-id":"198.18.0.0","neighbor-ip":"198.18.0.0"}],"198.19.3.0/24":[{"nlri":{"prefix":"198.19.3.0/24"},"age":1,"best":true,"attrs":[{"type":1,"value":2},{"type":4,"metric":5},{"type":8,"communities":[4260036615]},{"type":3,"nexthop":"0.0.0.0"}],"stale":false}]}"#;
        let rs = parse_routes(&json::parse(text).unwrap());
        assert_eq!(rs.len(), 2);
        assert_eq!(rs[0].asns(), vec![65001]);
        assert_eq!(rs[0].peer, "198.18.0.0".parse().ok());
        assert_eq!(rs[0].origin, Some(Origin::Igp));
        assert_eq!(rs[1].peer, None);
        assert_eq!(rs[1].med, Some(5));
        assert_eq!(rs[1].communities, vec![(65003, 7)]);
        assert_eq!(rs[1].origin, Some(Origin::Incomplete));
    }

    #[test]
    fn neighbor_json() {
        let text = r#"[{"conf":{"neighbor_address":"2001:db8::","peer_asn":65001},"state":{"session_state":6}},{"conf":{"neighbor_address":"198.18.0.0"},"state":{"session_state":3}}]"#;
        let v = json::parse(text).unwrap();
        let s = parse_neighbor(&v, "2001:db8::".parse().unwrap()).unwrap();
        assert_eq!(s.state, SessionState::Established);
        let s = parse_neighbor(&v, "198.18.0.0".parse().unwrap()).unwrap();
        assert_eq!(s.state, SessionState::Active);
        assert!(parse_neighbor(&v, "198.18.0.9".parse().unwrap()).is_none());
        let text = r#"[{"conf":{"neighbor_address":"198.18.0.0"},"afi_safis":[{"state":{"family":{"afi":1,"safi":1},"received":2,"accepted":2}},{"state":{"family":{"afi":2,"safi":1}}}]}]"#;
        let v = json::parse(text).unwrap();
        let peer = "198.18.0.0".parse().unwrap();
        assert_eq!(parse_accepted(&v, peer, Family::Ipv4), Some(2));
        assert_eq!(parse_accepted(&v, peer, Family::Ipv6), Some(0));
    }

    #[test]
    fn config() {
        let mut cfg = RouterConfig::new(65003, "198.18.0.1".parse().unwrap());
        cfg.neighbor(
            super::super::NeighborConfig::new("198.18.0.0".parse().unwrap(), 65001)
                .password("pw")
                .passive()
                .hold_time(6),
        );
        let c = render_config(&cfg);
        assert!(c.contains("auth-password = \"pw\""), "{c}");
        assert!(c.contains("passive-mode = true"), "{c}");
        assert!(c.contains("hold-time = 6"), "{c}");
        assert!(c.contains("afi-safi-name = \"ipv4-unicast\""), "{c}");
        assert!(!c.contains(NO_EXPORT), "{c}");
        cfg.neighbor(
            super::super::NeighborConfig::new("198.18.0.2".parse().unwrap(), 65002).no_export(),
        );
        let c = render_config(&cfg);
        assert!(c.contains("neighbor-info-list = [\"198.18.0.2\"]"), "{c}");
        assert!(
            c.contains("export-policy-list = [\"testkit-no-export\"]"),
            "{c}"
        );
        assert!(c.contains("route-disposition = \"reject-route\""), "{c}");
    }
}
