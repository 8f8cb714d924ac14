//! The BIRD-compatible control socket over a real speaker, read by the real
//! BIRD client and by `calico-bgpd health`.
//!
//! Two speakers on loopback addresses (127.0.51.x, ports the system picks):
//! the node under test (AS 64512, 10.0.0.1) with its Calico block, a mesh
//! peer with a block of its own over an Established iBGP session, and a
//! node-specific peer no one answers for. A [`SpeakerSource`] over the node
//! under test serves `bird.ctl` in a temporary folder. Debian's `birdc` and
//! `birdcl` (BIRD 2, the same line protocol as BIRD 1.x) must print what
//! the socket serves: the session `Established`, the routes, the status.
//! The raw replies must pass calico-node's own scanning (its `show
//! protocols` row rules, `0024` before `0013` for graceful restart, the
//! status reporter's fields), and `calico-bgpd health --bird-ready` /
//! `--bird-live` must exit as calico-node's checks do.
//!
//! `cargo test -p calico-bgpd --test birdctl`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use bgp_fsm::State;
use bgp_speaker::{Originate, PeerConfig, Speaker};
use calico_bgpd::birdctl::{
    ControlSocket, ControlSocketHandle, Families, Resolved, SocketConfig, SpeakerSource,
};
use ipnet::IpNet;
use testkit::netns::{require_programs, skip};
use testkit::process::{Output, run};

const WAIT: Duration = Duration::from_secs(20);
const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);

const NODE: &str = "127.0.51.1";
const MESH_PEER: &str = "127.0.51.2";
const SILENT_PEER: &str = "127.0.51.3";

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

/// Polls `f` until it gives `Some`, for at most `WAIT`.
async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let end = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if tokio::time::Instant::now() > end {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn port_of(s: &Speaker, addr: IpAddr) -> u16 {
    s.listen_addrs()
        .iter()
        .find(|a| a.ip() == addr)
        .map(SocketAddr::port)
        .unwrap()
}

/// The node under test, its mesh peer, and the control socket over the
/// node's speaker.
struct Node {
    node: Speaker,
    peer: Speaker,
    source: Arc<SpeakerSource>,
    socket: Option<ControlSocketHandle>,
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

async fn start(with_silent_peer: bool, gr_wait: Option<Duration>) -> Node {
    let node = Speaker::builder(64512, v4("10.0.0.1"))
        .listen(format!("{NODE}:0").parse().unwrap())
        .originate(Originate::new(net("192.168.51.0/26")))
        .start()
        .await
        .unwrap();
    let peer = Speaker::builder(64512, v4("10.0.0.2"))
        .listen(format!("{MESH_PEER}:0").parse().unwrap())
        .originate(Originate::new(net("192.168.52.0/26")))
        .start()
        .await
        .unwrap();
    node.add_peer(
        PeerConfig::new(ip(MESH_PEER), 64512)
            .port(port_of(&peer, ip(MESH_PEER)))
            .local_address(ip(NODE))
            .hold_time(9)
            .connect_retry(1),
    )
    .await
    .unwrap();
    peer.add_peer(
        PeerConfig::new(ip(NODE), 64512)
            .local_address(ip(MESH_PEER))
            .hold_time(9)
            .passive(),
    )
    .await
    .unwrap();
    if with_silent_peer {
        // Nothing listens there: the session keeps trying.
        node.add_peer(
            PeerConfig::new(ip(SILENT_PEER), 64512)
                .port(1)
                .local_address(ip(NODE))
                .connect_retry(1),
        )
        .await
        .unwrap();
    }
    eventually("the mesh session Established and its route", || async {
        let up = node
            .peer(ip(MESH_PEER))
            .is_some_and(|p| p.state == State::Established);
        let route = node.route(net("192.168.52.0/26")).await.unwrap();
        (up && route.is_some()).then_some(())
    })
    .await;

    let names = HashMap::from([
        (ip(MESH_PEER), "Mesh_127_0_51_2".to_string()),
        (ip(SILENT_PEER), "Node_127_0_51_3".to_string()),
    ]);
    // Loopback next hops are in the kernel's local table, which the
    // default resolver (the main table) does not read: resolve them to lo.
    let mut source = SpeakerSource::new(node.clone())
        .with_names(names)
        .with_resolver(Arc::new(|nh| {
            Some(Resolved {
                gateway: nh,
                iface: "lo".into(),
                metric: 0,
            })
        }));
    if let Some(wait) = gr_wait {
        source = source.with_graceful_restart_recovery(wait);
    }
    let source = Arc::new(source);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bird.ctl");
    let socket = ControlSocket::bind(SocketConfig::new(&path, Families::Ipv4), source.clone())
        .unwrap()
        .spawn();
    Node {
        node,
        peer,
        source,
        socket: Some(socket),
        _dir: dir,
        path,
    }
}

impl Node {
    async fn stop(mut self) {
        if let Some(s) = self.socket.take() {
            s.shutdown().await;
        }
        self.node.shutdown("test over").await;
        self.peer.shutdown("test over").await;
    }
}

/// Runs a BIRD client (`birdc` or `birdcl`) on the socket, off the runtime.
async fn client(program: &'static str, socket: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(testkit::netns::find_program(program).unwrap());
    cmd.arg("-s").arg(socket).args(args);
    tokio::task::spawn_blocking(move || run(&mut cmd, CLIENT_TIMEOUT))
        .await
        .unwrap()
        .unwrap_or_else(|e| panic!("{program}: {e}"))
}

/// The line of `out` that starts with `start` (after the client's
/// indentation).
fn line<'a>(out: &'a str, start: &str) -> &'a str {
    out.lines()
        .find(|l| l.trim_start().starts_with(start))
        .unwrap_or_else(|| panic!("no line starting with {start:?} in:\n{out}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bird_clients_read_the_socket() {
    if let Err(s) = require_programs(&["birdc", "birdcl"]) {
        skip(&s);
        return;
    }
    let n = start(true, Some(Duration::from_secs(240))).await;

    for program in ["birdc", "birdcl"] {
        let out = client(program, &n.path, &["show", "protocols"]).await;
        assert!(out.status.success(), "{program}: {out:?}");
        let text = &out.stdout;
        let heading = line(text, "name");
        assert_eq!(
            heading.split_whitespace().collect::<Vec<_>>(),
            ["name", "proto", "table", "state", "since", "info"],
            "{text}"
        );
        let mesh: Vec<&str> = line(text, "Mesh_127_0_51_2").split_whitespace().collect();
        assert_eq!(mesh[1..4], ["BGP", "master", "up"], "{text}");
        assert_eq!(mesh[5], "Established", "{text}");
        let silent: Vec<&str> = line(text, "Node_127_0_51_3").split_whitespace().collect();
        assert_eq!(silent[1..4], ["BGP", "master", "start"], "{text}");
        assert_ne!(silent.get(5), Some(&"Established"), "{text}");
        for system in ["static1", "kernel1", "device1", "direct1"] {
            line(text, system);
        }

        let out = client(program, &n.path, &["show", "route"]).await;
        assert!(out.status.success(), "{program}: {out:?}");
        let text = &out.stdout;
        let theirs: Vec<&str> = line(text, "192.168.52.0/26").split_whitespace().collect();
        assert_eq!(
            theirs[..6],
            [
                "192.168.52.0/26",
                "via",
                MESH_PEER,
                "on",
                "lo",
                "[Mesh_127_0_51_2"
            ],
            "{text}"
        );
        assert!(theirs.contains(&"*"), "{text}");
        assert_eq!(theirs.last(), Some(&"[i]"), "{text}");
        let ours: Vec<&str> = line(text, "192.168.51.0/26").split_whitespace().collect();
        assert_eq!(
            ours[..3],
            ["192.168.51.0/26", "blackhole", "[static1"],
            "{text}"
        );

        let out = client(
            program,
            &n.path,
            &["show", "protocols", "all", "Mesh_127_0_51_2"],
        )
        .await;
        let text = &out.stdout;
        assert_eq!(
            line(text, "BGP state:")
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["BGP", "state:", "Established"],
            "{text}"
        );
        assert_eq!(
            line(text, "Neighbor address:").split_whitespace().last(),
            Some(MESH_PEER),
            "{text}"
        );
        assert_eq!(
            line(text, "Neighbor ID:").split_whitespace().last(),
            Some("10.0.0.2"),
            "{text}"
        );
        assert_eq!(
            line(text, "Source address:").split_whitespace().last(),
            Some(NODE),
            "{text}"
        );
        line(text, "Routes:         1 imported");

        let out = client(program, &n.path, &["show", "status"]).await;
        let text = &out.stdout;
        assert!(
            line(text, "BIRD v").starts_with(concat!("BIRD v", env!("CARGO_PKG_VERSION"))),
            "{text}"
        );
        line(text, "Router ID is 10.0.0.1");
        line(text, "Daemon is up and running");
        // Graceful-restart recovery (BIRD's -R) waits for the silent peer.
        line(text, "Graceful restart recovery in progress");
        line(text, "Waiting for 1 protocols to recover");

        let out = client(program, &n.path, &["show", "route", "count"]).await;
        line(&out.stdout, "2 of 2 routes for 2 networks");
        let out = client(program, &n.path, &["show", "route", "for", "192.168.52.9"]).await;
        line(&out.stdout, "192.168.52.0/26");
        assert!(!out.stdout.contains("192.168.51.0/26"), "{}", out.stdout);
    }
    // Recovery over (the daemon synced the kernel): no more 0024 lines.
    n.source.finish_recovery();
    let out = client("birdc", &n.path, &["show", "status"]).await;
    line(&out.stdout, "Daemon is up and running");
    assert!(!out.stdout.contains("Graceful restart"), "{}", out.stdout);
    n.stop().await;
}

/// `calico-bgpd health ...` with the nodename file and sockets given;
/// its exit code and standard output.
async fn health(args: &[&str], nodename: &Path, socket: &Path) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_calico-bgpd"));
    cmd.arg("health")
        .args(args)
        .arg("--nodename-file")
        .arg(nodename)
        .arg("--bird-socket")
        .arg(socket)
        .arg("--bird6-socket")
        .arg(socket.with_file_name("bird6.ctl"));
    let out = tokio::task::spawn_blocking(move || run(&mut cmd, CLIENT_TIMEOUT))
        .await
        .unwrap()
        .unwrap();
    (out.status.code().unwrap_or(-1), out.stdout)
}

fn set_age(file: &Path, age: Duration) {
    let f = std::fs::File::options().write(true).open(file).unwrap();
    f.set_modified(std::time::SystemTime::now() - age).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_command_exits_as_calico_node() {
    let n = start(true, None).await;
    let dir = tempfile::tempdir().unwrap();
    let nodename = dir.path().join("nodename");
    std::fs::write(&nodename, "node-1").unwrap();

    // Fresh start, one peer not Established: not ready, with its address.
    let (code, out) = health(&["--bird-ready"], &nodename, &n.path).await;
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out,
        "calico/node is not ready: BIRD is not ready: BGP not established with 127.0.51.3\n"
    );
    // Live all the same.
    let (code, out) = health(&["--bird-live"], &nodename, &n.path).await;
    assert_eq!((code, out.as_str()), (0, ""));

    // Ten minutes after the start: one Established peer is enough...
    set_age(&nodename, Duration::from_secs(600));
    let (code, out) = health(&["--bird-ready", "--bird-live"], &nodename, &n.path).await;
    assert_eq!((code, out.as_str()), (0, ""));
    // ... unless the threshold is longer than that.
    let (code, out) = health(
        &["--bird-ready", "--threshold-time", "1h"],
        &nodename,
        &n.path,
    )
    .await;
    assert_eq!(code, 1, "{out}");

    // No nodename file: the daemon's own start (just now) is the start.
    let missing = dir.path().join("missing");
    let (code, out) = health(&["--bird-ready"], &missing, &n.path).await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("BGP not established with 127.0.51.3"), "{out}");

    // No IPv6 daemon: bird6 is neither live nor ready, bird still is.
    let (code, out) = health(
        &["--bird-live", "--bird6-live", "--bird6-ready"],
        &nodename,
        &n.path,
    )
    .await;
    assert_eq!(code, 1, "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].starts_with(
            "calico/node is not ready: bird6/confd is not live: error querying BIRD: "
        ),
        "{out}"
    );
    assert!(
        lines[1].starts_with("calico/node is not ready: BIRD6 is not ready: error querying BIRD: "),
        "{out}"
    );

    // The silent peer removed: every peer Established, ready on a fresh
    // start too.
    n.node.remove_peer(ip(SILENT_PEER)).await.unwrap();
    std::fs::write(&nodename, "node-1").unwrap();
    let (code, out) = health(&["--bird-ready"], &nodename, &n.path).await;
    assert_eq!((code, out.as_str()), (0, ""));

    // No check asked for: an error, as calico-node's.
    let (code, _) = health(&[], &nodename, &n.path).await;
    assert_eq!(code, 1);
    n.stop().await;
}

/// Reads lines from a raw connection until one starts with `end`.
async fn raw_until(
    rd: &mut tokio::io::BufReader<tokio::net::unix::OwnedReadHalf>,
    end: &str,
) -> Vec<String> {
    use tokio::io::AsyncBufReadExt;
    let mut out = Vec::new();
    for _ in 0..1000 {
        let mut l = String::new();
        let n = tokio::time::timeout(CLIENT_TIMEOUT, rd.read_line(&mut l))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "closed after {out:?}");
        let l = l.trim_end_matches('\n').to_string();
        let done = l.starts_with(end);
        out.push(l);
        if done {
            return out;
        }
    }
    panic!("no {end} line in {out:?}");
}

/// The rows calico-node's `scanBIRDPeers` and calicoctl's `node status`
/// accept: `0001` (greeting), `2002` (the heading, exactly these words),
/// `1002` (the first row), ` ` (more rows), `0000` (the end); any other
/// line is an error to them. Each BGP row named `Mesh_|Global_|Node_` of
/// six columns or more is a peer: (address, state, BGP state).
fn calico_scan(lines: &[String]) -> Vec<(String, String, String)> {
    let mut peers = Vec::new();
    for l in lines {
        let row = if l.starts_with("0000") {
            break;
        } else if l.starts_with("0001") {
            continue;
        } else if let Some(h) = l.strip_prefix("2002-") {
            assert_eq!(
                h.split_whitespace().collect::<Vec<_>>(),
                ["name", "proto", "table", "state", "since", "info"]
            );
            continue;
        } else if let Some(r) = l.strip_prefix("1002-") {
            r
        } else if let Some(r) = l.strip_prefix(' ') {
            r
        } else {
            panic!("calico-node refuses the line {l:?}");
        };
        let cols: Vec<&str> = row.split_whitespace().collect();
        if cols.len() < 6 || cols[1] != "BGP" {
            continue;
        }
        let Some((kind, id)) = cols[0].split_once('_') else {
            continue;
        };
        if ["Mesh", "Global", "Node"].contains(&kind) {
            peers.push((id.replace('_', "."), cols[3].into(), cols[5].into()));
        }
    }
    peers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calico_node_parses_the_replies() {
    use tokio::io::AsyncWriteExt;
    let n = start(true, Some(Duration::from_secs(240))).await;
    let s = tokio::net::UnixStream::connect(&n.path).await.unwrap();
    let (rd, mut wr) = s.into_split();
    let mut rd = tokio::io::BufReader::new(rd);
    // As bird.go: write the command at once, then scan to `0000`.
    wr.write_all(b"show protocols\n").await.unwrap();
    let lines = raw_until(&mut rd, "0000").await;
    assert!(lines[0].starts_with("0001 BIRD v"), "{lines:?}");
    let mut peers = calico_scan(&lines);
    peers.sort();
    assert_eq!(peers.len(), 2, "{lines:?}");
    assert_eq!(
        peers[0],
        (MESH_PEER.to_string(), "up".into(), "Established".into())
    );
    assert_eq!(peers[1].0, SILENT_PEER);
    assert_eq!(peers[1].1, "start");
    assert_ne!(peers[1].2, "Established");

    // As grInProgress: `show status` on a new connection, `0024` before
    // `0013` means recovery is running.
    let s = tokio::net::UnixStream::connect(&n.path).await.unwrap();
    let (rd, mut wr) = s.into_split();
    let mut rd = tokio::io::BufReader::new(rd);
    wr.write_all(b"show status\n").await.unwrap();
    let lines = raw_until(&mut rd, "0013").await;
    assert!(lines.iter().any(|l| l.starts_with("0024")), "{lines:?}");
    // The status reporter's fields.
    assert!(
        lines.iter().any(|l| l.starts_with("1000-BIRD v")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l == "1011-Router ID is 10.0.0.1"),
        "{lines:?}"
    );
    for field in ["Last reboot on ", "Last reconfiguration on "] {
        assert!(
            lines.iter().any(|l| l.starts_with(&format!(" {field}"))),
            "{field}: {lines:?}"
        );
    }
    n.source.finish_recovery();
    wr.write_all(b"show status\n").await.unwrap();
    let lines = raw_until(&mut rd, "0013").await;
    assert!(!lines.iter().any(|l| l.starts_with("0024")), "{lines:?}");

    // As the status reporter: `show protocols all <name>` gives `BGP state:`
    // and `Neighbor address:` lines.
    wr.write_all(b"show protocols all Mesh_127_0_51_2\n")
        .await
        .unwrap();
    let lines = raw_until(&mut rd, "0000").await;
    let field = |f: &str| {
        lines
            .iter()
            .find_map(|l| l.trim_start_matches("1006-").trim().strip_prefix(f))
            .map(str::trim)
            .unwrap_or_else(|| panic!("{f} missing: {lines:?}"))
            .to_string()
    };
    assert_eq!(field("BGP state:"), "Established");
    assert_eq!(field("Neighbor address:"), MESH_PEER);
    n.stop().await;
}
