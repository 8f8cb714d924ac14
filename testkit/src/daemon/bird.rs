//! BIRD 2: `bird -f` (foreground, so the PID is ours) inside a namespace,
//! queried with `birdc -s SOCKET`.
//!
//! Each neighbor becomes a `protocol bgp` named by [`protocol_name`];
//! originated prefixes become blackhole routes of `protocol static`
//! (`static4`, `static6`), exported to every neighbor with `export all`.

use std::fmt::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ipnet::IpNet;

use super::{
    Daemon, DaemonError, Family, InstanceDir, Kind, LOG_TAIL_LINES, NeighborConfig, Origin, Route,
    RouterConfig, SessionInfo, SessionState, logs_tail, parse_as_path, report_if_panicking,
    wait_ready,
};
use crate::netns::{self, Netns};
use crate::process::{self, Process, STOP_GRACE};

/// How long one `birdc` call may take.
pub const BIRDC_TIMEOUT: Duration = Duration::from_secs(10);

/// The `protocol bgp` name for the neighbor at `addr`: `bgp_` and the
/// address with `.` and `:` as `_` (`bgp_198_18_0_1`, `bgp_2001_db8__1`).
pub fn protocol_name(addr: IpAddr) -> String {
    let a: String = addr
        .to_string()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("bgp_{a}")
}

fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn channel(out: &mut String, fam: Family, n: &NeighborConfig) {
    let name = match fam {
        Family::Ipv4 => "ipv4",
        Family::Ipv6 => "ipv6",
    };
    let _ = writeln!(out, "  {name} {{");
    out.push_str("    import all;\n");
    out.push_str(if n.export {
        "    export all;\n"
    } else {
        "    export none;\n"
    });
    let add = match (n.add_path.receive(), n.add_path.send()) {
        (true, true) => Some("on"),
        (true, false) => Some("rx"),
        (false, true) => Some("tx"),
        (false, false) => None,
    };
    if let Some(a) = add {
        let _ = writeln!(out, "    add paths {a};");
    }
    out.push_str("  };\n");
}

/// The `bird.conf` for `cfg`, logging to `log`.
pub fn render_config(cfg: &RouterConfig, log: &Path) -> String {
    let mut c = String::from("# Written by testkit.\n");
    let _ = writeln!(c, "router id {};", cfg.router_id);
    let _ = writeln!(c, "log {} all;", quote(&log.to_string_lossy()));
    c.push_str("debug protocols { states, events };\n");
    c.push_str("protocol device { scan time 10; }\n");
    for (name, fam, v4) in [("static4", "ipv4", true), ("static6", "ipv6", false)] {
        let routes: Vec<&IpNet> = cfg
            .originate
            .iter()
            .filter(|p| p.addr().is_ipv4() == v4)
            .collect();
        if routes.is_empty() {
            continue;
        }
        let _ = writeln!(c, "protocol static {name} {{\n  {fam};");
        for r in routes {
            let _ = writeln!(c, "  route {r} blackhole;");
        }
        c.push_str("}\n");
    }
    for n in &cfg.neighbors {
        let _ = writeln!(c, "protocol bgp {} {{", protocol_name(n.address));
        match n.local_address {
            Some(l) => {
                let _ = writeln!(c, "  local {l} as {};", cfg.asn);
            }
            None => {
                let _ = writeln!(c, "  local as {};", cfg.asn);
            }
        }
        let _ = writeln!(c, "  neighbor {} as {};", n.address, n.remote_as);
        c.push_str("  connect delay time 1;\n");
        let _ = writeln!(c, "  connect retry time {};", n.connect_retry.max(1));
        c.push_str("  error wait time 1, 10;\n");
        if let (Some(h), Some(k)) = (n.hold_time, n.keepalive()) {
            let _ = writeln!(c, "  hold time {h};\n  keepalive time {k};");
        }
        if n.passive {
            c.push_str("  passive on;\n");
        }
        if let Some(p) = &n.password {
            let _ = writeln!(c, "  password {};", quote(p));
        }
        if n.graceful_restart {
            c.push_str("  graceful restart on;\n");
        }
        if let Some(t) = n.multihop {
            let _ = writeln!(c, "  multihop {t};");
        }
        if n.ttl_security {
            c.push_str("  ttl security on;\n");
        }
        for fam in &n.families {
            channel(&mut c, *fam, n);
        }
        for l in &n.extra {
            let _ = writeln!(c, "  {l}");
        }
        c.push_str("}\n");
    }
    if !cfg.extra.is_empty() {
        c.push_str(&cfg.extra);
        c.push('\n');
    }
    c
}

/// A BIRD 2 instance in a namespace. Dropping it stops `bird` by PID.
#[derive(Debug)]
pub struct Bird {
    process: Process,
    config: RouterConfig,
    conf: PathBuf,
    sock: PathBuf,
    log: PathBuf,
    out: PathBuf,
    dir: InstanceDir,
    ns: Netns,
}

impl Bird {
    /// Writes the configuration for `cfg`, starts `bird -f` in `ns` and
    /// waits until it answers on its socket.
    pub fn start(ns: &Netns, cfg: &RouterConfig) -> Result<Bird, DaemonError> {
        cfg.check()?;
        let dir = InstanceDir::new(Kind::Bird)?;
        let log = dir.file("bird.log");
        let out = dir.file("bird.out");
        let sock = dir.file("bird.ctl");
        let conf = dir.write("bird.conf", &render_config(cfg, &log))?;
        let (c, s, p) = (
            conf.to_string_lossy().into_owned(),
            sock.to_string_lossy().into_owned(),
            dir.file("bird.pid").to_string_lossy().into_owned(),
        );
        let bird = netns::find_program("bird").unwrap_or_else(|| PathBuf::from("bird"));
        let process = ns.spawn(
            &[&bird.to_string_lossy(), "-f", "-c", &c, "-s", &s, "-P", &p],
            &out,
        )?;
        let mut me = Bird {
            process,
            config: cfg.clone(),
            conf,
            sock,
            log,
            out,
            dir,
            ns: ns.clone(),
        };
        let logs = {
            let paths = me.log_paths();
            move || logs_tail(&paths, LOG_TAIL_LINES)
        };
        let sock = me.sock.clone();
        let proc_ref = &mut me.process;
        wait_ready(
            Kind::Bird,
            || proc_ref.exit_status().map(|s| s.to_string()),
            || {
                let out = birdc_at(&sock, "show status").map_err(|e| e.to_string())?;
                if out.contains("Daemon is up and running") {
                    Ok(())
                } else {
                    Err(out)
                }
            },
            logs,
        )?;
        Ok(me)
    }

    fn log_paths(&self) -> Vec<PathBuf> {
        vec![self.log.clone(), self.out.clone()]
    }

    /// The namespace it runs in.
    pub fn netns(&self) -> &Netns {
        &self.ns
    }

    /// The configuration it was started with (or last reconfigured to).
    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    /// The control socket.
    pub fn socket(&self) -> &Path {
        &self.sock
    }

    /// Runs one `birdc` command (e.g. `show route all`), returning its
    /// output without the greeting line.
    pub fn birdc(&self, command: &str) -> Result<String, DaemonError> {
        birdc_at(&self.sock, command)
    }

    /// Rewrites the configuration for `cfg` and has BIRD reload it
    /// (`configure`); sessions whose options changed restart.
    pub fn reconfigure(&mut self, cfg: &RouterConfig) -> Result<(), DaemonError> {
        cfg.check()?;
        std::fs::write(&self.conf, render_config(cfg, &self.log)).map_err(|source| {
            DaemonError::Io {
                what: format!("writing {}", self.conf.display()),
                source,
            }
        })?;
        let out = self.birdc("configure")?;
        if !out.contains("Reconfigur") {
            return Err(DaemonError::Parse {
                what: "birdc configure".into(),
                detail: out,
            });
        }
        self.config = cfg.clone();
        Ok(())
    }

    /// Disables the session with `peer` (`birdc disable`).
    pub fn disable(&self, peer: IpAddr) -> Result<String, DaemonError> {
        self.birdc(&format!("disable {}", protocol_name(peer)))
    }

    /// Enables it again.
    pub fn enable(&self, peer: IpAddr) -> Result<String, DaemonError> {
        self.birdc(&format!("enable {}", protocol_name(peer)))
    }

    fn peer_of(&self, protocol: &str) -> Option<IpAddr> {
        self.config
            .neighbors
            .iter()
            .map(|n| n.address)
            .find(|a| protocol_name(*a) == protocol)
    }
}

fn birdc_at(sock: &Path, command: &str) -> Result<String, DaemonError> {
    let birdc = netns::find_program("birdc").unwrap_or_else(|| PathBuf::from("birdc"));
    let mut cmd = Command::new(birdc);
    cmd.arg("-s").arg(sock).args(command.split_whitespace());
    let out = process::run_ok(&mut cmd, BIRDC_TIMEOUT)?;
    let text = out.stdout;
    // The greeting, e.g. "BIRD 2.0.12 ready.".
    let body = match text.split_once('\n') {
        Some((first, rest)) if first.starts_with("BIRD ") => rest.to_string(),
        _ => text,
    };
    Ok(body)
}

/// Reads `birdc show protocols all NAME`: the `BGP state:` and `Last
/// error:` lines. `None` if the protocol is not shown.
pub fn parse_protocol(text: &str) -> Option<SessionInfo> {
    let mut state = None;
    let mut last_error = None;
    let mut header_state = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(v) = t.strip_prefix("BGP state:") {
            state = Some(SessionState::parse(v));
        } else if let Some(v) = t.strip_prefix("Last error:") {
            last_error = Some(v.trim().to_string());
        } else if !line.starts_with(' ') && t.split_whitespace().nth(1) == Some("BGP") {
            header_state = t.split_whitespace().nth(3).map(str::to_string);
        }
    }
    let state = match (state, header_state) {
        (Some(s), _) => s,
        (None, Some(h)) if h == "down" => SessionState::Down,
        (None, Some(h)) => SessionState::Other(h),
        (None, None) => return None,
    };
    Some(SessionInfo { state, last_error })
}

fn parse_pairs(v: &str) -> Vec<Vec<u32>> {
    v.split(')')
        .filter_map(|g| g.split_once('(').map(|(_, inner)| inner))
        .map(|inner| {
            inner
                .split(',')
                .filter_map(|n| n.trim().parse().ok())
                .collect()
        })
        .collect()
}

/// Reads `birdc show route all` output. `peer_of` maps a protocol name to
/// its neighbor address (`None` for non-BGP protocols).
pub fn parse_routes(text: &str, peer_of: impl Fn(&str) -> Option<IpAddr>) -> Vec<Route> {
    let mut out: Vec<Route> = Vec::new();
    let mut prefix: Option<IpNet> = None;
    let mut via: Vec<IpAddr> = Vec::new();
    let mut bgp_nh = false;
    let finish = |out: &mut Vec<Route>, via: &mut Vec<IpAddr>, bgp_nh: bool| {
        if let Some(r) = out.last_mut() {
            if !bgp_nh {
                r.next_hops = std::mem::take(via);
            }
        }
        via.clear();
    };
    for line in text.lines() {
        if line.trim().is_empty() || line.starts_with("Table ") || line.starts_with("BIRD ") {
            continue;
        }
        if let Some(attr) = line.strip_prefix('\t') {
            let Some(r) = out.last_mut() else { continue };
            let attr = attr.trim();
            if let Some(v) = attr.strip_prefix("via ") {
                if let Some(a) = v.split_whitespace().next().and_then(|a| a.parse().ok()) {
                    via.push(a);
                }
            } else if let Some((k, v)) = attr.split_once(':') {
                let v = v.trim();
                match k {
                    "BGP.origin" => r.origin = Origin::parse(v),
                    "BGP.as_path" => r.as_path = parse_as_path(v).unwrap_or_default(),
                    "BGP.next_hop" => {
                        r.next_hops = v
                            .split_whitespace()
                            .filter_map(|a| a.parse().ok())
                            .collect();
                        bgp_nh = true;
                    }
                    "BGP.med" => r.med = v.parse().ok(),
                    "BGP.local_pref" => r.local_pref = v.parse().ok(),
                    "BGP.community" => {
                        r.communities = parse_pairs(v)
                            .into_iter()
                            .filter_map(|p| match p.as_slice() {
                                [a, b] => Some((u16::try_from(*a).ok()?, u16::try_from(*b).ok()?)),
                                _ => None,
                            })
                            .collect();
                    }
                    "BGP.large_community" => {
                        r.large_communities = parse_pairs(v)
                            .into_iter()
                            .filter_map(|p| match p.as_slice() {
                                [a, b, c] => Some((*a, *b, *c)),
                                _ => None,
                            })
                            .collect();
                    }
                    _ => {}
                }
            }
            continue;
        }
        // A route line: "PREFIX  unicast [proto time ...] * (pref) [...]",
        // or, for another route of the same prefix, the same without the
        // prefix, indented with spaces.
        finish(&mut out, &mut via, bgp_nh);
        bgp_nh = false;
        let rest = if line.starts_with(' ') {
            line
        } else {
            let mut it = line.splitn(2, char::is_whitespace);
            prefix = it.next().and_then(|p| p.parse().ok());
            it.next().unwrap_or("")
        };
        let Some(p) = prefix else { continue };
        let Some((_, after_open)) = rest.split_once('[') else {
            continue;
        };
        let Some((inside, after)) = after_open.split_once(']') else {
            continue;
        };
        let proto = inside.split_whitespace().next().unwrap_or("").to_string();
        let mut r = Route::new(p, proto.clone());
        r.peer = peer_of(&proto);
        r.best = after.trim_start().starts_with('*');
        out.push(r);
    }
    finish(&mut out, &mut via, bgp_nh);
    out
}

impl Daemon for Bird {
    fn kind(&self) -> Kind {
        Kind::Bird
    }

    fn pid(&self) -> u32 {
        self.process.pid()
    }

    fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn session(&self, peer: IpAddr) -> Result<SessionInfo, DaemonError> {
        if self.config.find_neighbor(peer).is_none() {
            return Err(DaemonError::NoSuchPeer(peer));
        }
        let cmd = format!("show protocols all {}", protocol_name(peer));
        let out = self.birdc(&cmd)?;
        parse_protocol(&out).ok_or(DaemonError::Parse {
            what: format!("birdc {cmd}"),
            detail: out,
        })
    }

    fn routes(&self, family: Family) -> Result<Vec<Route>, DaemonError> {
        let out = self.birdc(&format!("show route all table {}", table(family)))?;
        Ok(parse_routes(&out, |p| self.peer_of(p)))
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
        logs_tail(&self.log_paths(), lines)
    }

    fn originate(&mut self, prefix: IpNet) -> Result<(), DaemonError> {
        let mut cfg = self.config.clone();
        if !cfg.originate.contains(&prefix) {
            cfg.originate.push(prefix);
        }
        self.reconfigure(&cfg)
    }

    fn withdraw(&mut self, prefix: IpNet) -> Result<(), DaemonError> {
        let mut cfg = self.config.clone();
        cfg.originate.retain(|p| *p != prefix);
        self.reconfigure(&cfg)
    }

    fn prefix_count(&self, family: Family) -> Result<usize, DaemonError> {
        let cmd = format!("show route count table {}", table(family));
        let out = self.birdc(&cmd)?;
        parse_count(&out).ok_or(DaemonError::Parse {
            what: format!("birdc {cmd}"),
            detail: out,
        })
    }

    fn received_count(&self, peer: IpAddr, family: Family) -> Result<usize, DaemonError> {
        if self.config.find_neighbor(peer).is_none() {
            return Err(DaemonError::NoSuchPeer(peer));
        }
        let cmd = format!("show protocols all {}", protocol_name(peer));
        let out = self.birdc(&cmd)?;
        Ok(parse_imported(&out, family).unwrap_or(0))
    }
}

fn table(family: Family) -> &'static str {
    match family {
        Family::Ipv4 => "master4",
        Family::Ipv6 => "master6",
    }
}

/// Reads `show route count`: "4 of 4 routes for 4 networks in table
/// master4" gives 4 (networks).
pub fn parse_count(text: &str) -> Option<usize> {
    text.lines().find_map(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        let i = words.iter().position(|w| *w == "networks")?;
        words.get(i.checked_sub(1)?)?.parse().ok()
    })
}

/// Reads the `Routes: N imported, ...` line of the `Channel ipv4|ipv6`
/// section of `show protocols all NAME`; `None` if the channel has none
/// (it is down).
pub fn parse_imported(text: &str, family: Family) -> Option<usize> {
    let want = match family {
        Family::Ipv4 => "Channel ipv4",
        Family::Ipv6 => "Channel ipv6",
    };
    let mut in_channel = false;
    for l in text.lines() {
        let t = l.trim();
        if t.starts_with("Channel ") {
            in_channel = t == want;
        } else if in_channel {
            if let Some(v) = t.strip_prefix("Routes:") {
                return v.split_whitespace().next()?.parse().ok();
            }
        }
    }
    None
}

impl Drop for Bird {
    fn drop(&mut self) {
        report_if_panicking(Kind::Bird, self.dir.path(), || {
            self.log_tail(LOG_TAIL_LINES)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTES: &str = "Table master4:
198.19.1.0/24        blackhole [static4 20:43:50.682] * (200)
\tType: static univ
198.19.3.0/24        unicast [bgp_198_18_0_1 20:43:55.286] * (100) [AS65003?]
\tvia 198.18.0.1 on bgptma
\tType: BGP univ
\tBGP.origin: Incomplete
\tBGP.as_path: 65003 65010
\tBGP.next_hop: 198.18.0.1
\tBGP.med: 5
\tBGP.local_pref: 100
\tBGP.community: (65003,7) (65003,8)
\tBGP.large_community: (1, 2, 3)
                     unicast [bgp_198_18_0_3 20:43:56.000] (100) [AS65004i]
\tvia 198.18.0.3 on bgptmc
\tType: BGP univ
\tBGP.origin: IGP
\tBGP.as_path: 65004 {1 2}
\tBGP.next_hop: 198.18.0.3
\tBGP.local_pref: 100
";

    #[test]
    fn routes() {
        let peer = |p: &str| match p {
            "bgp_198_18_0_1" => "198.18.0.1".parse().ok(),
            "bgp_198_18_0_3" => "198.18.0.3".parse().ok(),
            _ => None,
        };
        let rs = parse_routes(ROUTES, peer);
        assert_eq!(rs.len(), 3, "{rs:#?}");
        assert_eq!(rs[0].source, "static4");
        assert_eq!(rs[0].peer, None);
        assert!(rs[0].best);
        let r = &rs[1];
        assert_eq!(r.prefix.to_string(), "198.19.3.0/24");
        assert_eq!(r.peer, "198.18.0.1".parse().ok());
        assert!(r.best);
        assert_eq!(r.asns(), vec![65003, 65010]);
        assert_eq!(r.origin, Some(Origin::Incomplete));
        assert_eq!(r.med, Some(5));
        assert_eq!(r.local_pref, Some(100));
        assert_eq!(r.communities, vec![(65003, 7), (65003, 8)]);
        assert_eq!(r.large_communities, vec![(1, 2, 3)]);
        assert_eq!(r.next_hops, vec!["198.18.0.1".parse::<IpAddr>().unwrap()]);
        let r = &rs[2];
        assert_eq!(r.prefix.to_string(), "198.19.3.0/24");
        assert!(!r.best);
        assert_eq!(r.peer, "198.18.0.3".parse().ok());
        assert_eq!(r.asns(), vec![65004, 1, 2]);
        assert_eq!(r.med, None);
    }

    #[test]
    fn protocol() {
        let text = "Name       Proto      Table      State  Since         Info
bgp_198_18_0_1 BGP        ---        start  20:42:09.014  Idle          Received: Invalid network field
  BGP state:          Idle
    Neighbor address: 198.18.0.1
    Last error:       Received: Invalid network field
";
        let s = parse_protocol(text).unwrap();
        assert_eq!(s.state, SessionState::Idle);
        assert_eq!(
            s.last_error.as_deref(),
            Some("Received: Invalid network field")
        );
        assert_eq!(parse_protocol("syntax error\n"), None);
    }

    #[test]
    fn counts() {
        let text = "Name       Proto      Table      State  Since         Info
bgp_198_18_60_1 BGP        ---        up     21:00:01.624  Established
  BGP state:          Established
  Channel ipv4
    State:          UP
    Routes:         1 imported, 3 exported, 1 preferred
  Channel ipv6
    State:          UP
    Routes:         7 imported, 0 exported, 7 preferred
";
        assert_eq!(parse_imported(text, Family::Ipv4), Some(1));
        assert_eq!(parse_imported(text, Family::Ipv6), Some(7));
        assert_eq!(
            parse_imported("  Channel ipv4\n    State: DOWN\n", Family::Ipv4),
            None
        );
        let count = "4 of 5 routes for 4 networks in table master4\n";
        assert_eq!(parse_count(count), Some(4));
    }

    #[test]
    fn names_and_config() {
        assert_eq!(
            protocol_name("198.18.0.1".parse().unwrap()),
            "bgp_198_18_0_1"
        );
        assert_eq!(
            protocol_name("2001:db8::1".parse().unwrap()),
            "bgp_2001_db8__1"
        );
        let mut cfg = RouterConfig::new(65001, "198.18.0.0".parse().unwrap());
        cfg.neighbor(
            NeighborConfig::new("198.18.0.1".parse().unwrap(), 65002)
                .local("198.18.0.0".parse().unwrap())
                .password("se\"cret")
                .hold_time(9)
                .passive(),
        );
        cfg.originate("198.19.1.0/24".parse().unwrap());
        let c = render_config(&cfg, Path::new("/tmp/x/bird.log"));
        assert!(c.contains("local 198.18.0.0 as 65001;"), "{c}");
        assert!(c.contains("neighbor 198.18.0.1 as 65002;"), "{c}");
        assert!(c.contains("password \"se\\\"cret\";"), "{c}");
        assert!(c.contains("hold time 9;"), "{c}");
        assert!(c.contains("passive on;"), "{c}");
        assert!(c.contains("route 198.19.1.0/24 blackhole;"), "{c}");
        assert!(!c.contains("static6"), "{c}");
        assert!(
            c.contains("export all;") && !c.contains("export none;"),
            "{c}"
        );
        cfg.neighbor(NeighborConfig::new("198.18.0.3".parse().unwrap(), 65003).no_export());
        let c = render_config(&cfg, Path::new("/tmp/x/bird.log"));
        assert!(c.contains("export none;"), "{c}");
    }
}
