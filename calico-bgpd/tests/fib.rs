//! The kernel FIB programmer against a real kernel, in network namespaces
//! created by each test.
//!
//! The programmer runs in a child process, `fib-driver` (this crate's test
//! and benchmark binary), started inside the namespace with `ip netns exec`
//! (netlink sockets belong to the namespace they are opened in) and driven
//! by line commands on its standard input. That also makes "kill -9 and
//! start again" a real process crash. The kernel table is then read with
//! `ip -j route show table main`.
//!
//! Needs root and iproute2; without them each test prints `SKIPPED: ...`
//! and returns (with `BGP_REQUIRE_INTEROP=1`, as in CI, it fails instead).
//! Addresses come from 198.18.0.0/15 and 2001:db8::/32 only.
//!
//! `tunl0` is an IP-in-IP device where the kernel has the `ipip` module.
//! Where it has not (`CONFIG_NET_IPIP` unset, as on the project's test
//! machines), a veth named `tunl0` stands in: what is tested is the route
//! (`via GW dev tunl0 onlink`), which does not depend on the device type;
//! the test says which one it used.
//!
//! The 100k-route test prints its timing (`FIB figure: ...`), asserting
//! only that every route is installed; `fib_install_1m` (ignored by
//! default, `--ignored` to run) prints the figures for 1M IPv6 routes and
//! the whole IPv4 test space.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed step fails the test"
)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use std::net::Ipv4Addr;

use testkit::json::{self, Value};
use testkit::netns::{self, Netns};
use testkit::process::{self, Signal};
use testkit::wait::wait_until;

/// The programmer under test, in its own process.
struct Driver {
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<String>,
    pid: u32,
}

impl Driver {
    /// Starts `fib-driver ARGS` inside `ns` and waits for it to be ready.
    fn start(ns: &Netns, args: &[&str]) -> Driver {
        let mut cmd: Command = ns.command(env!("CARGO_BIN_EXE_fib-driver"));
        cmd.args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("start fib-driver");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let pid = child.id();
        let d = Driver {
            child,
            stdin,
            lines,
            pid,
        };
        let first = d
            .lines
            .recv_timeout(Duration::from_secs(60))
            .expect("fib-driver said nothing");
        assert!(first.starts_with("ready pid="), "fib-driver: {first}");
        d
    }

    /// Sends one command; returns its answer lines (the final `ok` line
    /// included). Panics on `err` or a time-out.
    fn cmd(&mut self, line: &str) -> Vec<String> {
        self.try_cmd(line, Duration::from_secs(120))
            .unwrap_or_else(|e| panic!("`{line}`: {e}"))
    }

    fn try_cmd(&mut self, line: &str, timeout: Duration) -> Result<Vec<String>, String> {
        writeln!(self.stdin, "{line}").map_err(|e| format!("write: {e}"))?;
        self.stdin.flush().map_err(|e| format!("flush: {e}"))?;
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let l = self
                .lines
                .recv_timeout(left)
                .map_err(|e| format!("no answer ({e}); got {out:?}"))?;
            let done = l.starts_with("ok");
            let failed = l.starts_with("err");
            out.push(l);
            if done {
                return Ok(out);
            }
            if failed {
                return Err(out.join("\n"));
            }
        }
    }

    /// `settle`, parsed.
    fn settle(&mut self) -> Status {
        Status::parse(&self.cmd("settle"))
    }

    /// Kills the process with SIGKILL, by the PID we spawned, and reaps it.
    fn kill9(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// A parsed `settle`/`status` answer.
#[derive(Debug, Default)]
struct Status {
    lines: Vec<String>,
}

impl Status {
    fn parse(lines: &[String]) -> Status {
        Status {
            lines: lines.to_vec(),
        }
    }

    /// The value of `key=` on the line starting with `prefix`.
    fn field(&self, prefix: &str, key: &str) -> u64 {
        let line = self
            .lines
            .iter()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in {:#?}", self.lines));
        let k = format!("{key}=");
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(k.as_str()))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in `{line}`"))
    }

    fn v4(&self, key: &str) -> u64 {
        self.field("family v4", key)
    }

    fn v6(&self, key: &str) -> u64 {
        self.field("family v6", key)
    }

    fn counter(&self, key: &str) -> u64 {
        self.field("counters", key)
    }

    fn lines_starting(&self, prefix: &str) -> Vec<&String> {
        self.lines
            .iter()
            .filter(|l| l.starts_with(prefix))
            .collect()
    }
}

/// One next hop as `ip -j route` shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Hop {
    gateway: Option<String>,
    dev: Option<String>,
    onlink: bool,
}

/// A route as `ip -j route` shows it.
#[derive(Debug, Clone)]
struct Route {
    dst: String,
    kind: String,
    protocol: String,
    metric: u64,
    hops: Vec<Hop>,
}

fn flags_onlink(v: &Value) -> bool {
    v.get("flags")
        .map(|f| f.elements().iter().any(|x| x.as_str() == Some("onlink")))
        .unwrap_or(false)
}

fn hop_of(v: &Value) -> Hop {
    Hop {
        gateway: v.get("gateway").and_then(Value::as_str).map(str::to_string),
        dev: v.get("dev").and_then(Value::as_str).map(str::to_string),
        onlink: flags_onlink(v),
    }
}

/// The main table of `ns` for one family.
fn routes(ns: &Netns, v4: bool) -> Vec<Route> {
    let fam = if v4 { "-4" } else { "-6" };
    let out = ns
        .ip(&["-j", fam, "route", "show", "table", "main"])
        .expect("ip route");
    let v = json::parse(&out.stdout).expect("ip -j route output");
    v.elements()
        .iter()
        .map(|r| {
            let mut hops: Vec<Hop> = match r.get("nexthops") {
                Some(n) => n.elements().iter().map(hop_of).collect(),
                None => vec![hop_of(r)],
            };
            hops.sort();
            Route {
                dst: r
                    .get("dst")
                    .and_then(Value::as_str)
                    .unwrap_or("?")
                    .to_string(),
                kind: r
                    .get("type")
                    .and_then(Value::as_str)
                    .unwrap_or("unicast")
                    .to_string(),
                protocol: r
                    .get("protocol")
                    .and_then(Value::as_str)
                    .unwrap_or("boot")
                    .to_string(),
                metric: r.get("metric").and_then(Value::as_u64).unwrap_or(0),
                hops,
            }
        })
        .collect()
}

fn find<'a>(rs: &'a [Route], dst: &str, protocol: &str) -> Option<&'a Route> {
    rs.iter().find(|r| r.dst == dst && r.protocol == protocol)
}

fn get<'a>(rs: &'a [Route], dst: &str, protocol: &str) -> &'a Route {
    find(rs, dst, protocol).unwrap_or_else(|| panic!("no {dst} proto {protocol} in {rs:#?}"))
}

fn count_bird(ns: &Netns, v4: bool) -> usize {
    let fam = if v4 { "-4" } else { "-6" };
    let out = ns
        .ip(&[fam, "route", "show", "table", "main", "proto", "bird"])
        .expect("ip route");
    out.stdout
        .lines()
        .filter(|l| !l.starts_with(char::is_whitespace))
        .count()
}

fn hop(gw: &str, dev: &str, onlink: bool) -> Hop {
    Hop {
        gateway: Some(gw.to_string()),
        dev: Some(dev.to_string()),
        onlink,
    }
}

/// A namespace with `e0` (198.18.0.1/24, 2001:db8:ff00::1/64; its veth peer
/// `e1` holds 198.18.2.1/24) and a `tunl0`.
struct Setup {
    ns: Netns,
    tunl0_is_ipip: bool,
}

impl Setup {
    fn new() -> Option<Setup> {
        if let Err(s) = netns::require_root_netns() {
            netns::skip(&s);
            return None;
        }
        let ns = Netns::new().expect("namespace");
        ns.ip(&["link", "add", "e0", "type", "veth", "peer", "name", "e1"])
            .expect("veth");
        ns.add_addr("e0", "198.18.0.1".parse().unwrap(), 24)
            .unwrap();
        ns.add_addr("e0", "2001:db8:ff00::1".parse().unwrap(), 64)
            .unwrap();
        ns.add_addr("e1", "198.18.2.1".parse().unwrap(), 24)
            .unwrap();
        ns.link_up("e0").unwrap();
        ns.link_up("e1").unwrap();
        // tunl0: the real IP-in-IP device if the kernel has it (loading
        // the module creates it in each namespace), else a stand-in.
        let tunl0_is_ipip = ns.ip(&["link", "show", "tunl0"]).is_ok()
            || ns
                .ip(&["link", "add", "name", "tunl0", "type", "ipip"])
                .is_ok();
        if !tunl0_is_ipip {
            ns.ip(&[
                "link", "add", "tunl0", "type", "veth", "peer", "name", "tunl0p",
            ])
            .expect("veth tunl0");
            ns.link_up("tunl0p").unwrap();
        }
        ns.link_up("tunl0").unwrap();
        ns.add_addr("tunl0", "198.18.1.1".parse().unwrap(), 32)
            .unwrap();
        ns.wait_addrs_ready(Duration::from_secs(5)).unwrap();
        if !tunl0_is_ipip {
            eprintln!(
                "NOTE: no IP-in-IP in this kernel (`ip link add tunl0 type ipip` fails: CONFIG_NET_IPIP); \
                 tunl0 is a veth stand-in for the onlink routes"
            );
        }
        Some(Setup { ns, tunl0_is_ipip })
    }
}

fn wait_for(what: &str, mut check: impl FnMut() -> Result<(), String>) {
    if let Err(e) = wait_until(
        Duration::from_secs(20),
        Duration::from_millis(20),
        &mut check,
    ) {
        panic!("{what}: {e}");
    }
}

#[test]
fn routes_as_calico_installs_them() {
    let Some(s) = Setup::new() else { return };
    let ns = &s.ns;
    eprintln!(
        "tunl0 is {}",
        if s.tunl0_is_ipip {
            "ipip"
        } else {
            "a veth stand-in"
        }
    );
    let mut d = Driver::start(ns, &[]);
    for line in [
        // A route learned from a peer on the link.
        "set 198.19.1.0/24 via 198.18.0.2",
        // The node's own block.
        "set 198.19.2.0/26 blackhole",
        // ECMP over two next hops on two links.
        "set 198.19.3.0/24 via 198.18.0.2 via 198.18.2.2",
        // IP-in-IP: on-link through tunl0 to another node's address.
        "set 198.19.4.0/26 via 198.18.9.12 dev tunl0 onlink",
        // ECMP on-link through tunl0.
        "set 198.19.5.0/26 via 198.18.9.12 dev tunl0 onlink via 198.18.9.13 dev tunl0 onlink",
        // Through a named device, not on-link.
        "set 198.19.6.0/24 via 198.18.0.3 dev e0",
        // A VXLAN pool's block: not installed.
        "set 198.19.7.0/26 none",
        // A default route from a top-of-rack router.
        "set 0.0.0.0/0 via 198.18.0.254",
        // An unreachable next hop: that route fails, the others go in.
        "set 198.19.8.0/24 via 198.18.77.1",
        "set 2001:db8:1::/48 via 2001:db8:ff00::2",
        "set 2001:db8:2::/122 blackhole",
        "set 2001:db8:3::/48 via 2001:db8:ff00::2 via 2001:db8:ff00::3",
        "set ::/0 via 2001:db8:ff00::fe",
    ] {
        d.cmd(line);
    }
    let st = d.settle();
    assert_eq!(st.v4("desired"), 8, "{:#?}", st.lines);
    assert_eq!(st.v4("installed"), 7, "{:#?}", st.lines);
    assert_eq!(st.v4("failed"), 1);
    let failures = st.lines_starting("failure v4 198.19.8.0/24 ENETUNREACH");
    assert_eq!(failures.len(), 1, "{:#?}", st.lines);
    assert_eq!(st.v6("installed"), 4, "{:#?}", st.lines);

    let v4 = routes(ns, true);
    for r in v4.iter().filter(|r| r.protocol == "bird") {
        assert_eq!(r.metric, 1024, "{r:?}");
    }
    let r = get(&v4, "198.19.1.0/24", "bird");
    assert_eq!(r.kind, "unicast");
    assert_eq!(r.hops, vec![hop("198.18.0.2", "e0", false)]);
    let r = get(&v4, "198.19.2.0/26", "bird");
    assert_eq!(r.kind, "blackhole");
    let r = get(&v4, "198.19.3.0/24", "bird");
    assert_eq!(
        r.hops,
        vec![
            hop("198.18.0.2", "e0", false),
            hop("198.18.2.2", "e1", false)
        ]
    );
    let r = get(&v4, "198.19.4.0/26", "bird");
    assert_eq!(r.hops, vec![hop("198.18.9.12", "tunl0", true)]);
    let r = get(&v4, "198.19.5.0/26", "bird");
    assert_eq!(
        r.hops,
        vec![
            hop("198.18.9.12", "tunl0", true),
            hop("198.18.9.13", "tunl0", true)
        ]
    );
    assert_eq!(
        get(&v4, "198.19.6.0/24", "bird").hops,
        vec![hop("198.18.0.3", "e0", false)]
    );
    assert!(find(&v4, "198.19.7.0/26", "bird").is_none());
    assert!(find(&v4, "198.19.8.0/24", "bird").is_none());
    assert_eq!(
        get(&v4, "default", "bird").hops,
        vec![hop("198.18.0.254", "e0", false)]
    );

    let v6 = routes(ns, false);
    assert_eq!(
        get(&v6, "2001:db8:1::/48", "bird").hops,
        vec![hop("2001:db8:ff00::2", "e0", false)]
    );
    assert_eq!(get(&v6, "2001:db8:2::/122", "bird").kind, "blackhole");
    assert_eq!(
        get(&v6, "2001:db8:3::/48", "bird").hops,
        vec![
            hop("2001:db8:ff00::2", "e0", false),
            hop("2001:db8:ff00::3", "e0", false)
        ]
    );
    assert_eq!(get(&v6, "2001:db8:3::/48", "bird").metric, 1024);
    assert!(find(&v6, "default", "bird").is_some());

    // Changes: a new next hop (replace in place), the same ECMP set in
    // another order (nothing written), ECMP to single path, unicast to
    // blackhole, a VXLAN block that was installed goes, a withdrawal.
    let before = d.settle();
    d.cmd("set 198.19.1.0/24 via 198.18.0.5");
    d.cmd("set 198.19.3.0/24 via 198.18.2.2 via 198.18.0.2");
    d.cmd("set 2001:db8:3::/48 via 2001:db8:ff00::3");
    d.cmd("set 198.19.6.0/24 blackhole");
    d.cmd("set 198.19.4.0/26 none");
    d.cmd("del 198.19.5.0/26");
    let after = d.settle();
    assert_eq!(
        after.counter("replaces") - before.counter("replaces"),
        3,
        "{:#?}",
        after.lines
    );
    assert_eq!(after.counter("deletes") - before.counter("deletes"), 2);
    let v4 = routes(ns, true);
    assert_eq!(
        get(&v4, "198.19.1.0/24", "bird").hops,
        vec![hop("198.18.0.5", "e0", false)]
    );
    assert_eq!(get(&v4, "198.19.6.0/24", "bird").kind, "blackhole");
    assert!(find(&v4, "198.19.4.0/26", "bird").is_none());
    assert!(find(&v4, "198.19.5.0/26", "bird").is_none());
    assert_eq!(
        get(&routes(ns, false), "2001:db8:3::/48", "bird").hops,
        vec![hop("2001:db8:ff00::3", "e0", false)]
    );
    // The failed route is retried on its own, and goes in once its next
    // hop is reachable: an address on e1 in its subnet.
    ns.add_addr("e1", "198.18.77.2".parse().unwrap(), 24)
        .unwrap();
    wait_for("198.19.8.0/24 installed once reachable", || {
        match find(&routes(ns, true), "198.19.8.0/24", "bird") {
            Some(_) => Ok(()),
            None => Err("not yet".into()),
        }
    });
    let st = d.settle();
    assert_eq!(st.v4("failed"), 0, "{:#?}", st.lines);
    // The table was learned once per family at start, then only from
    // events: no polling, no re-dump.
    assert_eq!(st.counter("dumps"), 3, "{:#?}", st.lines);
    d.cmd("quit");
}

#[test]
fn configured_metric() {
    let Some(s) = Setup::new() else { return };
    let mut d = Driver::start(&s.ns, &["--metric", "77"]);
    d.cmd("set 198.19.1.0/24 via 198.18.0.2");
    d.cmd("set 2001:db8:1::/48 via 2001:db8:ff00::2");
    d.settle();
    assert_eq!(
        get(&routes(&s.ns, true), "198.19.1.0/24", "bird").metric,
        77
    );
    assert_eq!(
        get(&routes(&s.ns, false), "2001:db8:1::/48", "bird").metric,
        77
    );
    d.cmd("quit remove");
    assert_eq!(count_bird(&s.ns, true) + count_bird(&s.ns, false), 0);
}

#[test]
fn alien_routes_are_never_touched_and_ours_come_back() {
    let Some(s) = Setup::new() else { return };
    let ns = &s.ns;
    // Felix-style routes: a workload route (proto boot, metric 0), a VXLAN
    // block (proto 80) in our very slot (metric 1024), and a static route.
    ns.ip(&[
        "route",
        "add",
        "198.19.10.5/32",
        "dev",
        "e1",
        "proto",
        "boot",
    ])
    .unwrap();
    ns.ip(&[
        "route",
        "add",
        "198.19.11.0/26",
        "via",
        "198.18.0.9",
        "proto",
        "80",
        "metric",
        "1024",
    ])
    .unwrap();
    ns.ip(&[
        "route",
        "add",
        "198.19.12.0/24",
        "via",
        "198.18.0.9",
        "proto",
        "static",
    ])
    .unwrap();
    ns.ip(&[
        "-6",
        "route",
        "add",
        "2001:db8:10::/64",
        "via",
        "2001:db8:ff00::9",
        "proto",
        "80",
        "metric",
        "1024",
    ])
    .unwrap();
    let aliens = |ns: &Netns| -> Vec<String> {
        let mut v: Vec<String> = routes(ns, true)
            .into_iter()
            .chain(routes(ns, false))
            .filter(|r| ["boot", "80", "static"].contains(&r.protocol.as_str()))
            .map(|r| format!("{} {} {} {:?}", r.dst, r.protocol, r.metric, r.hops))
            .collect();
        v.sort();
        v
    };
    let original = aliens(ns);
    assert_eq!(original.len(), 4, "{original:#?}");

    let mut d = Driver::start(ns, &[]);
    // Ours beside the workload route (another metric): both in the kernel.
    d.cmd("set 198.19.10.5/32 via 198.18.0.2");
    // Ours where proto 80 holds the slot: a conflict, nothing written.
    d.cmd("set 198.19.11.0/26 via 198.18.0.2");
    d.cmd("set 2001:db8:10::/64 via 2001:db8:ff00::2");
    // And one more of ours, to delete by hand.
    d.cmd("set 198.19.13.0/24 via 198.18.0.2");
    let st = d.settle();
    assert_eq!(st.v4("conflicted"), 1, "{:#?}", st.lines);
    assert_eq!(st.v6("conflicted"), 1, "{:#?}", st.lines);
    assert_eq!(
        st.lines_starting("conflict v4 198.19.11.0/26 1024 80")
            .len(),
        1,
        "{:#?}",
        st.lines
    );
    let v4 = routes(ns, true);
    assert!(find(&v4, "198.19.10.5", "bird").is_some(), "{v4:#?}");
    assert!(find(&v4, "198.19.11.0/26", "bird").is_none());
    assert_eq!(aliens(ns), original);

    // Someone deletes our route: the event brings it back.
    ns.ip(&["route", "del", "198.19.13.0/24", "proto", "bird"])
        .unwrap();
    wait_for("our deleted route re-installed", || {
        match find(&routes(ns, true), "198.19.13.0/24", "bird") {
            Some(_) => Ok(()),
            None => Err("missing".into()),
        }
    });
    // The alien in our slot goes: ours goes in (event driven).
    ns.ip(&[
        "route",
        "del",
        "198.19.11.0/26",
        "proto",
        "80",
        "metric",
        "1024",
    ])
    .unwrap();
    wait_for("ours installed once the slot is free", || {
        match find(&routes(ns, true), "198.19.11.0/26", "bird") {
            Some(_) => Ok(()),
            None => Err("missing".into()),
        }
    });
    let st = d.settle();
    assert_eq!(st.v4("conflicted"), 0, "{:#?}", st.lines);
    assert_eq!(st.counter("dumps"), 3, "events only: {:#?}", st.lines);
    // Put it back the way it was for the last checks.
    ns.ip(&[
        "route",
        "add",
        "198.19.11.0/26",
        "via",
        "198.18.0.9",
        "proto",
        "80",
        "metric",
        "1000",
    ])
    .unwrap();

    // Recovery complete with nothing wanted: all of ours go, aliens stay.
    d.cmd("sync all");
    for p in [
        "198.19.10.5/32",
        "198.19.11.0/26",
        "198.19.13.0/24",
        "2001:db8:10::/64",
    ] {
        d.cmd(&format!("del {p}"));
    }
    d.settle();
    assert_eq!(count_bird(ns, true) + count_bird(ns, false), 0);
    let mut expected = original.clone();
    expected.retain(|a| !a.starts_with("198.19.11.0/26"));
    let now = aliens(ns);
    assert!(expected.iter().all(|e| now.contains(e)), "{now:#?}");
    d.cmd("quit remove");
    let now = aliens(ns);
    assert!(expected.iter().all(|e| now.contains(e)), "{now:#?}");
}

#[test]
fn restart_keeps_routes_and_sweeps_only_after_sync() {
    let Some(s) = Setup::new() else { return };
    let ns = &s.ns;
    ns.ip(&[
        "route",
        "add",
        "198.19.99.0/24",
        "via",
        "198.18.0.9",
        "proto",
        "boot",
    ])
    .unwrap();
    let mut d = Driver::start(ns, &[]);
    for i in 0..10 {
        d.cmd(&format!("set 198.19.{i}.0/24 via 198.18.0.2"));
    }
    for i in 0..4 {
        d.cmd(&format!(
            "set 2001:db8:{i}::/48 via 2001:db8:ff00::2 via 2001:db8:ff00::3"
        ));
    }
    d.cmd("set 198.19.20.0/26 blackhole");
    d.settle();
    assert_eq!(count_bird(ns, true), 11);
    assert_eq!(count_bird(ns, false), 4);

    // Crash: SIGKILL by PID. Our routes stay in the kernel.
    let pid = d.pid;
    d.kill9();
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    assert_eq!(count_bird(ns, true), 11);
    assert_eq!(count_bird(ns, false), 4);

    // Start again: the routes are adopted as stale.
    let mut d = Driver::start(ns, &[]);
    let st = d.settle();
    assert_eq!(st.v4("ours"), 11, "{:#?}", st.lines);
    assert_eq!(st.v4("stale"), 11);
    assert_eq!(st.v6("stale"), 4);
    // The speaker re-learns six IPv4 routes (one changed) and two IPv6.
    for i in 0..5 {
        d.cmd(&format!("set 198.19.{i}.0/24 via 198.18.0.2"));
    }
    d.cmd("set 198.19.5.0/24 via 198.18.0.7");
    d.cmd("set 198.19.20.0/26 blackhole");
    d.cmd("set 2001:db8:0::/48 via 2001:db8:ff00::3 via 2001:db8:ff00::2");
    d.cmd("set 2001:db8:1::/48 via 2001:db8:ff00::2 via 2001:db8:ff00::3");
    // Withdrawn explicitly: goes at once, before sync.
    d.cmd("del 198.19.9.0/24");
    let st = d.settle();
    // Unchanged routes adopted without a write; one replaced; one deleted.
    assert_eq!(st.counter("adds"), 0, "{:#?}", st.lines);
    assert_eq!(st.counter("replaces"), 1, "{:#?}", st.lines);
    assert_eq!(st.counter("deletes"), 1, "{:#?}", st.lines);
    // Nothing else removed before sync.
    assert_eq!(count_bird(ns, true), 10);
    assert_eq!(count_bird(ns, false), 4);
    assert_eq!(st.v4("stale"), 3, "{:#?}", st.lines);
    assert_eq!(
        get(&routes(ns, true), "198.19.5.0/24", "bird").hops,
        vec![hop("198.18.0.7", "e0", false)]
    );

    // IPv4 recovery completes: exactly the three gone IPv4 routes go; IPv6
    // is independent and keeps its stale routes.
    d.cmd("sync v4");
    let st = d.settle();
    assert_eq!(st.counter("deletes"), 4, "{:#?}", st.lines);
    let mut left: Vec<String> = routes(ns, true)
        .into_iter()
        .filter(|r| r.protocol == "bird")
        .map(|r| r.dst)
        .collect();
    left.sort();
    let mut want: Vec<String> = (0..6).map(|i| format!("198.19.{i}.0/24")).collect();
    want.push("198.19.20.0/26".into());
    want.sort();
    assert_eq!(left, want);
    assert_eq!(count_bird(ns, false), 4);
    d.cmd("sync v6");
    d.settle();
    let mut left6: Vec<String> = routes(ns, false)
        .into_iter()
        .filter(|r| r.protocol == "bird")
        .map(|r| r.dst)
        .collect();
    left6.sort();
    assert_eq!(left6, vec!["2001:db8:1::/48", "2001:db8::/48"]);
    // The alien route survived it all.
    assert!(find(&routes(ns, true), "198.19.99.0/24", "boot").is_some());
    // A normal stop leaves the routes too.
    d.cmd("quit");
    assert_eq!(count_bird(ns, true), 7);
}

#[test]
fn routes_flushed_by_a_link_going_down_come_back() {
    let Some(s) = Setup::new() else { return };
    let ns = &s.ns;
    let mut d = Driver::start(ns, &[]);
    d.cmd("set 198.19.1.0/24 via 198.18.2.2");
    d.cmd("set 198.19.2.0/24 via 198.18.0.2");
    d.settle();
    // e1 down: the kernel drops IPv4 routes through it without a route
    // event; the link event makes the programmer dump IPv4 again.
    ns.ip(&["link", "set", "e1", "down"]).unwrap();
    wait_for("the route through e1 reported failing", || {
        let st = Status::parse(&d.cmd("status"));
        if st.v4("failed") == 1 && st.v4("installed") == 1 {
            Ok(())
        } else {
            Err(format!("{:?}", st.lines))
        }
    });
    ns.ip(&["link", "set", "e1", "up"]).unwrap();
    wait_for("the route through e1 back", || {
        match find(&routes(ns, true), "198.19.1.0/24", "bird") {
            Some(_) => Ok(()),
            None => Err("missing".into()),
        }
    });
    let st = d.settle();
    assert_eq!(st.v4("installed"), 2, "{:#?}", st.lines);
    assert!(st.counter("dumps") > 3, "{:#?}", st.lines);
    d.cmd("quit");
}

#[test]
fn event_overruns_make_it_dump_again() {
    let Some(s) = Setup::new() else { return };
    let ns = &s.ns;
    // A small receive buffer, 2000 routes of ours, then, while the
    // programmer is frozen (SIGSTOP), a burst of another program's routes
    // (30k static /32s from `ip -batch`) and 100 of ours deleted by hand:
    // the events overflow the buffer (ENOBUFS) and those deletions are
    // lost with them. Thawed, the programmer dumps the table again, sees
    // what is gone and puts it back.
    let mut d = Driver::start(ns, &["--rcvbuf", "16384"]);
    d.cmd("gen4 2000 via 198.18.0.2");
    let file = std::env::temp_dir().join(format!("fib-burst-{}.txt", std::process::id()));
    let mut text = String::new();
    for i in 0..30_000u32 {
        let a = Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 18, 128, 0)) + i);
        text.push_str(&format!("route add {a}/32 via 198.18.0.9 proto static\n"));
    }
    for i in 0..100u32 {
        let a = Ipv4Addr::from(u32::from(Ipv4Addr::new(198, 19, 0, 0)) + i * 7);
        text.push_str(&format!("route del {a}/32 proto bird\n"));
    }
    std::fs::write(&file, text).unwrap();
    process::send_signal(d.pid, Signal::Stop).unwrap();
    let burst = ns.exec(&["ip", "-batch", &file.to_string_lossy()]);
    let _ = std::fs::remove_file(&file);
    // Counted while the programmer is still frozen.
    let left = count_bird(ns, true);
    process::send_signal(d.pid, Signal::Cont).unwrap();
    burst.unwrap();
    assert_eq!(left, 1900);
    wait_for(
        "our deleted routes back after the re-dump",
        || match count_bird(ns, true) {
            2000 => Ok(()),
            n => Err(format!("{n} routes of ours")),
        },
    );
    let st = d.settle();
    eprintln!(
        "FIB overruns: {} (dumps {})",
        st.counter("overruns"),
        st.counter("dumps")
    );
    assert!(st.counter("overruns") > 0, "{:#?}", st.lines);
    assert!(st.counter("dumps") > 3, "{:#?}", st.lines);
    assert_eq!(st.v4("installed"), 2000, "{:#?}", st.lines);
    assert_eq!(st.counter("adds"), 2100, "{:#?}", st.lines);
    let statics = ns
        .ip(&["-4", "route", "show", "proto", "static"])
        .unwrap()
        .stdout
        .lines()
        .count();
    assert_eq!(statics, 30_000);
    // The mirror is right: a forced re-dump changes nothing.
    d.cmd("resync");
    let after = d.settle();
    assert_eq!(after.counter("adds"), 2100);
    assert_eq!(after.v4("aliens"), st.v4("aliens"));
    d.cmd("quit");
}

fn figure(d: &mut Driver, what: &str, cmd: &str, n: u64, ns: &Netns, v4: bool) {
    let lines = d.cmd(cmd);
    let st = Status::parse(&lines);
    let last = lines.last().cloned().unwrap_or_default();
    let fam = if v4 { "v4" } else { "v6" };
    assert_eq!(
        st.field(&format!("family {fam}"), "installed"),
        n,
        "{lines:#?}"
    );
    assert_eq!(count_bird(ns, v4) as u64, n);
    let mem = st
        .lines_starting("memory")
        .first()
        .map(|s| s.to_string())
        .unwrap_or_default();
    let c = st
        .lines_starting("counters")
        .first()
        .map(|s| s.to_string())
        .unwrap_or_default();
    eprintln!("FIB figure: {what}: {last}; {mem}; {c}");
}

#[test]
fn install_100k_routes() {
    let Some(s) = Setup::new() else { return };
    let ns = &s.ns;
    let mut d = Driver::start(ns, &[]);
    figure(
        &mut d,
        "100k IPv4 routes via one gateway",
        "gen4 100000 via 198.18.0.2",
        100_000,
        ns,
        true,
    );
    figure(
        &mut d,
        "100k IPv6 routes via one gateway",
        "gen6 100000 via 2001:db8:ff00::2",
        100_000,
        ns,
        false,
    );
    // And all of them replaced by ECMP routes.
    let t = Instant::now();
    d.cmd("gen4 100000 via 198.18.0.2 via 198.18.2.2");
    eprintln!(
        "FIB figure: 100k IPv4 routes replaced by 2-way ECMP: {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    // A clean stop that removes them.
    let t = Instant::now();
    d.cmd("quit remove");
    eprintln!(
        "FIB figure: 200k routes removed: {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    assert_eq!(count_bird(ns, true) + count_bird(ns, false), 0);
}

#[test]
#[ignore = "benchmark: 1M IPv6 routes and the whole IPv4 test space; run with --ignored"]
fn install_1m_routes() {
    let Some(s) = Setup::new() else { return };
    let ns = &s.ns;
    let mut d = Driver::start(ns, &[]);
    figure(
        &mut d,
        "131070 IPv4 routes (all of 198.19.0.0/16)",
        "gen4 131070 via 198.18.0.2",
        131_070,
        ns,
        true,
    );
    figure(
        &mut d,
        "1M IPv6 routes via one gateway",
        "gen6 1000000 via 2001:db8:ff00::2",
        1_000_000,
        ns,
        false,
    );
    // A restart with 1M routes in the kernel: learn and adopt.
    d.kill9();
    let t = Instant::now();
    let mut d = Driver::start(ns, &[]);
    let st = d.settle();
    eprintln!(
        "FIB figure: restart adopting {} IPv6 + {} IPv4 routes: {:.0} ms",
        st.v6("ours"),
        st.v4("ours"),
        t.elapsed().as_secs_f64() * 1000.0
    );
    let t = Instant::now();
    d.cmd("quit remove");
    eprintln!(
        "FIB figure: 1.13M routes removed: {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
}
