//! Calico mode end to end, in network namespaces (needs root): two nodes,
//! each a `calico-bgpd --config FILE` with a `[calico]` table reading the
//! same Calico resources (two Nodes, an IP-in-IP pool, one block each),
//! connected by a veth.
//!
//! - The mesh session `Mesh_<peer>` comes up, the passive side chosen as
//!   confd does.
//! - Each node's kernel holds its own block as `blackhole ... proto bird`
//!   and the other's `via NODE dev tunl0 proto bird onlink`.
//! - The control socket answers BIRD's `show protocols` with the session
//!   Established, and `calico-bgpd health --bird-ready` passes over it.
//! - A `kill -9` of one node leaves its kernel routes in place and the
//!   other node's route to its block (graceful restart keeps it stale);
//!   started again, it comes back and its routes are still all there.
//!
//! Every wait is bounded; the namespaces and the daemons this test started
//! (by PID) go when it ends.
//!
//! `cargo test -p calico-bgpd --test calico_node`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use testkit::netns::{self, Netns, Veth, alloc_link};

const BIN: &str = env!("CARGO_BIN_EXE_calico-bgpd");
const WAIT: Duration = Duration::from_secs(40);

/// A calico-bgpd this test started in a namespace, its stderr collected.
struct Node {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Node {
    fn start(ns: &Netns, config: &Path) -> Node {
        let mut child = ns
            .command(BIN)
            .arg("--config")
            .arg(config)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("calico-bgpd starts");
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        Node { child, log }
    }

    fn log(&self) -> String {
        let l = self.log.lock().unwrap();
        let start = l.len().saturating_sub(4000);
        l.get(start..).unwrap_or_default().to_string()
    }

    /// `kill -9` of this process (by its PID), waited for.
    fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn wait_for(what: &str, diag: impl Fn() -> String, mut ok: impl FnMut() -> bool) {
    let start = Instant::now();
    while start.elapsed() < WAIT {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{what}: not within {WAIT:?}\n{}", diag());
}

fn bird_routes(ns: &Netns) -> String {
    ns.ip(&["-4", "route", "show", "proto", "bird"])
        .unwrap()
        .stdout
}

/// `ip route show proto bird` has a line starting with `start` and holding
/// every one of `parts`.
fn has_route(routes: &str, start: &str, parts: &[&str]) -> bool {
    routes
        .lines()
        .any(|l| l.starts_with(start) && parts.iter().all(|p| l.contains(p)))
}

fn resources(a: Ipv4Addr, b: Ipv4Addr) -> String {
    format!(
        "apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  asNumber: 64512
  nodeToNodeMeshEnabled: true
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: n1
spec:
  bgp:
    ipv4Address: {a}/31
---
apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: n2
spec:
  bgp:
    ipv4Address: {b}/31
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-1
spec:
  cidr: 198.19.0.0/16
  ipipMode: Always
---
apiVersion: projectcalico.org/v3
kind: BlockAffinity
metadata:
  name: n1-198-19-201-0-26
spec:
  state: confirmed
  node: n1
  cidr: 198.19.201.0/26
  deleted: false
---
apiVersion: projectcalico.org/v3
kind: BlockAffinity
metadata:
  name: n2-198-19-202-0-26
spec:
  state: confirmed
  node: n2
  cidr: 198.19.202.0/26
  deleted: false
"
    )
}

fn config(dir: &Path, node: &str, resources: &Path) -> PathBuf {
    let file = dir.join(format!("{node}.toml"));
    let text = format!(
        "[calico]
node_name = {node:?}
resources = {resources:?}
ipv6 = false

[calico.timers]
connect_retry = 1
error_wait = 1
hold_time = 9

[calico.fib]
sync_after = 20
learn = false

[calico.control]
ipv4 = {:?}
ipv6 = {:?}
",
        dir.join(format!("{node}-bird.ctl")),
        dir.join(format!("{node}-bird6.ctl")),
    );
    std::fs::write(&file, text).unwrap();
    file
}

/// A namespace with the veth end `dev` at `addr`/31 and a `tunl0`.
fn prepare(ns: &Netns, dev: &str, addr: Ipv4Addr) {
    ns.link_up("lo").unwrap();
    ns.add_addr(dev, addr.into(), 31).unwrap();
    ns.link_up(dev).unwrap();
    let ipip = ns.ip(&["link", "show", "tunl0"]).is_ok()
        || ns
            .ip(&["link", "add", "name", "tunl0", "type", "ipip"])
            .is_ok();
    if !ipip {
        // No IP-in-IP in this kernel: a veth named tunl0 stands in; the
        // route (via GW dev tunl0 onlink) does not depend on the type.
        ns.ip(&[
            "link", "add", "tunl0", "type", "veth", "peer", "name", "tunl0p",
        ])
        .unwrap();
        ns.link_up("tunl0p").unwrap();
    }
    ns.link_up("tunl0").unwrap();
    ns.wait_addrs_ready(Duration::from_secs(5)).unwrap();
}

/// BIRD 2's `birdcl` (the same line protocol as BIRD 1.x) on `socket`.
fn birdcl(ns: &Netns, socket: &Path, cmd: &str) -> String {
    match netns::find_program("birdcl") {
        Some(p) => {
            let o = ns
                .command(p)
                .arg("-s")
                .arg(socket)
                .arg(cmd)
                .output()
                .unwrap();
            String::from_utf8_lossy(&o.stdout).to_string()
        }
        None => String::new(),
    }
}

#[test]
fn two_nodes_mesh_kernel_routes_control_socket_and_kill9() {
    if let Err(s) = netns::require_root_netns() {
        netns::skip(&s);
        return;
    }
    let n1 = Netns::new().unwrap();
    let n2 = Netns::new().unwrap();
    let veth = Veth::new(&n1, &n2).unwrap();
    let link = alloc_link().unwrap();
    let (a, b) = (link.a().v4, link.b().v4);
    prepare(&n1, &veth.a_name, a);
    prepare(&n2, &veth.b_name, b);

    let dir = tempfile::tempdir().unwrap();
    let res = dir.path().join("resources");
    std::fs::create_dir(&res).unwrap();
    std::fs::write(res.join("all.yaml"), resources(a, b)).unwrap();
    let c1 = config(dir.path(), "n1", &res);
    let c2 = config(dir.path(), "n2", &res);

    let node1 = Node::start(&n1, &c1);
    let mut node2 = Node::start(&n2, &c2);
    let diag = |n1l: &Node, n2l: &Node| {
        format!(
            "n1 routes:\n{}\nn2 routes:\n{}\nn1 log:\n{}\nn2 log:\n{}",
            bird_routes(&n1),
            bird_routes(&n2),
            n1l.log(),
            n2l.log()
        )
    };
    let mesh_to_b = format!("Mesh_{}", b.to_string().replace('.', "_"));
    let mesh_to_a = format!("Mesh_{}", a.to_string().replace('.', "_"));

    // Each node: its own block blackholed, the other's through tunl0.
    let a_s = a.to_string();
    let b_s = b.to_string();
    let want_n1 = |r: &str| {
        has_route(r, "blackhole 198.19.201.0/26", &[])
            && has_route(
                r,
                "198.19.202.0/26",
                &[&format!("via {b_s}"), "dev tunl0", "onlink"],
            )
    };
    let want_n2 = |r: &str| {
        has_route(r, "blackhole 198.19.202.0/26", &[])
            && has_route(
                r,
                "198.19.201.0/26",
                &[&format!("via {a_s}"), "dev tunl0", "onlink"],
            )
    };
    wait_for(
        "kernel routes of both nodes",
        || diag(&node1, &node2),
        || want_n1(&bird_routes(&n1)) && want_n2(&bird_routes(&n2)),
    );

    // The control socket: the session as BIRD shows it, and calico-node's
    // readiness check over it.
    let sock1 = dir.path().join("n1-bird.ctl");
    if netns::find_program("birdcl").is_some() {
        let p = birdcl(&n1, &sock1, "show protocols");
        assert!(
            p.lines()
                .any(|l| l.contains(&mesh_to_b) && l.contains("BGP") && l.contains("Established")),
            "show protocols on n1:\n{p}"
        );
        let p = birdcl(&n2, &dir.path().join("n2-bird.ctl"), "show protocols");
        assert!(
            p.lines()
                .any(|l| l.contains(&mesh_to_a) && l.contains("Established")),
            "show protocols on n2:\n{p}"
        );
    }
    // A fresh node (the nodename file just written): every peer must be
    // Established and no recovery running, as calico-node requires.
    let nodename = dir.path().join("nodename");
    std::fs::write(&nodename, "n1").unwrap();
    let mut ready = false;
    let mut health_text = String::new();
    let start = Instant::now();
    while start.elapsed() < WAIT && !ready {
        let health = n1
            .command(BIN)
            .args(["health", "--bird-ready", "--bird-socket"])
            .arg(&sock1)
            .arg("--nodename-file")
            .arg(&nodename)
            .output()
            .unwrap();
        ready = health.status.success();
        health_text = format!(
            "{}{}",
            String::from_utf8_lossy(&health.stdout),
            String::from_utf8_lossy(&health.stderr)
        );
        if !ready {
            std::thread::sleep(Duration::from_millis(250));
        }
    }
    assert!(
        ready,
        "health --bird-ready on n1: {health_text}\n{}",
        node1.log()
    );

    // kill -9 n2: its kernel routes stay, and n1 keeps n2's block (stale,
    // graceful restart) for as long as we look (3 s, well inside the
    // restart time).
    node2.kill9();
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        let r1 = bird_routes(&n1);
        let r2 = bird_routes(&n2);
        assert!(want_n2(&r2), "n2's kernel routes after kill -9:\n{r2}");
        assert!(
            has_route(&r1, "198.19.202.0/26", &["dev tunl0"]),
            "n1 lost n2's block after n2's kill -9:\n{r1}\n{}",
            node1.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    // n2 again: the session comes back, every route is still there and
    // stays through the recovery.
    let node2 = Node::start(&n2, &c2);
    wait_for(
        "n2 back: the session and both nodes' routes",
        || diag(&node1, &node2),
        || {
            node2.log().contains("graceful restart recovery done")
                && want_n1(&bird_routes(&n1))
                && want_n2(&bird_routes(&n2))
        },
    );
    drop(node2);
    drop(node1);
}
