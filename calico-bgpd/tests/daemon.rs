//! `calico-bgpd --config FILE.toml`, the built binary, against bgp-speakers
//! in this test on loopback addresses (127.0.21.x, ports the system picks):
//! routes learned and passed on; a SIGHUP after the file changed (a policy
//! on one peer, a peer added) applies the change without resetting the
//! other sessions; a SIGHUP with a broken file keeps the running
//! configuration and logs the line and key; SIGTERM closes the sessions
//! with Cease / Administrative Shutdown and exits 0. A bad file at start
//! exits 1 naming the line and key; the example configuration passes
//! `--check`. With root, in a network namespace, `[fib] enabled = true`
//! puts the learned best paths in the kernel (and takes a withdrawn one
//! out, and leaves them on SIGTERM).
//!
//! Only the daemons this test starts are signalled or killed, by PID; every
//! wait is bounded.
//!
//! `cargo test -p calico-bgpd --test daemon`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bgp_fsm::State;
use bgp_speaker::{PeerConfig, RouteSource, Speaker};
use ipnet::IpNet;

const BIN: &str = env!("CARGO_BIN_EXE_calico-bgpd");
const WAIT: Duration = Duration::from_secs(20);

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

/// A daemon process this test started, its stderr collected.
struct Daemon {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Daemon {
    fn start(config: &Path) -> Daemon {
        Daemon::spawn(Command::new(BIN), config)
    }

    /// `cmd` (the binary, possibly through `ip netns exec`) with
    /// `--config FILE`.
    fn spawn(mut cmd: Command, config: &Path) -> Daemon {
        let mut child = cmd
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
        Daemon { child, log }
    }

    /// Sends a signal (`HUP`, `TERM`) to this daemon's PID.
    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name} {}", self.child.id());
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Waits until the log has `n` lines containing `needle`.
    async fn logged(&self, needle: &str, n: usize) -> String {
        eventually(&format!("{n} log lines with {needle:?}"), || async {
            let l = self.log();
            (l.lines().filter(|x| x.contains(needle)).count() >= n).then_some(l)
        })
        .await
    }

    /// Waits for the process to exit, for at most `within`.
    fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let end = Instant::now() + within;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            if Instant::now() > end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // Still running after a failed assertion: kill this one (our PID).
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
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
        assert!(
            tokio::time::Instant::now() < end,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A test speaker on `addr` (port picked by the system), passive towards
/// the daemon at `daemon`, originating `prefix`.
async fn speaker(asn: u32, addr: &str, daemon: &str, prefix: &str) -> Speaker {
    Speaker::builder(asn, addr.parse().unwrap())
        .listen(SocketAddr::new(ip(addr), 0))
        .peer(
            PeerConfig::new(ip(daemon), 65100)
                .local_address(ip(addr))
                .passive()
                .hold_time(9),
        )
        .originate(bgp_speaker::Originate::new(net(prefix)))
        .start()
        .await
        .unwrap()
}

fn port(s: &Speaker) -> u16 {
    s.listen_addrs()[0].port()
}

async fn established(s: &Speaker, peer: &str) {
    eventually(&format!("session with {peer} Established"), || async {
        s.peer(ip(peer))
            .filter(|p| p.state == State::Established)
            .map(|_| ())
    })
    .await;
}

/// The AS path of `prefix` at `s`, once it has a route.
async fn as_path(s: &Speaker, prefix: &str) -> Vec<u32> {
    eventually(&format!("a route to {prefix}"), || async {
        let r = s.route(net(prefix)).await.unwrap()?;
        r.best().map(|b| b.as_path_asns())
    })
    .await
}

fn peer_block(name: &str, addr: &str, asn: u32, port: u16, extra: &str) -> String {
    format!(
        "\n[[peer]]\nname = \"{name}\"\naddress = \"{addr}\"\nremote_as = {asn}\nport = {port}\n\
         local_address = \"127.0.21.1\"\nhold_time = 9\nconnect_retry_time = 1\n{extra}"
    )
}

const HEAD: &str =
    "router_id = \"127.0.21.1\"\nlocal_as = 65100\n\n[[originate]]\nprefix = \"198.18.20.0/24\"\n";

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_mode_reload_and_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bgpd.toml");
    let t1 = speaker(65101, "127.0.21.2", "127.0.21.1", "198.18.21.0/24").await;
    let t2 = speaker(65102, "127.0.21.3", "127.0.21.1", "198.18.22.0/24").await;
    let t3 = speaker(65103, "127.0.21.4", "127.0.21.1", "198.18.23.0/24").await;
    let v1 = format!(
        "{HEAD}{}{}",
        peer_block("t1", "127.0.21.2", 65101, port(&t1), ""),
        peer_block("t2", "127.0.21.3", 65102, port(&t2), "")
    );
    write(&file, &v1);
    let mut d = Daemon::start(&file);

    established(&t1, "127.0.21.1").await;
    established(&t2, "127.0.21.1").await;
    // The daemon's own route, and t1's passed on to t2 through the daemon.
    assert_eq!(as_path(&t1, "198.18.20.0/24").await, vec![65100]);
    assert_eq!(as_path(&t2, "198.18.21.0/24").await, vec![65100, 65101]);
    assert_eq!(as_path(&t1, "198.18.22.0/24").await, vec![65100, 65102]);
    let t1_before = t1.peer(ip("127.0.21.1")).unwrap();
    let t2_before = t2.peer(ip("127.0.21.1")).unwrap();
    assert_eq!(t1_before.established_count, 1);

    // Reload: t2 gets an export policy that keeps t1's prefix from it; t3
    // is added; t1 is unchanged.
    let v2 = format!(
        "{HEAD}{}{}{}\n[prefix_set]\nfrom_t1 = [\"198.18.21.0/24\"]\n\n[[policy]]\nname = \"not-t1\"\n\
         default = \"accept\"\n[[policy.term]]\nname = \"t1\"\nthen = \"reject\"\nmatch.prefix_set = \"from_t1\"\n",
        peer_block("t1", "127.0.21.2", 65101, port(&t1), ""),
        peer_block(
            "t2",
            "127.0.21.3",
            65102,
            port(&t2),
            "export = [\"not-t1\"]\n"
        ),
        peer_block("t3", "127.0.21.4", 65103, port(&t3), "")
    );
    write(&file, &v2);
    d.signal("HUP");
    established(&t3, "127.0.21.1").await;
    assert_eq!(as_path(&t3, "198.18.21.0/24").await, vec![65100, 65101]);
    eventually("t1's prefix withdrawn from t2", || async {
        t2.route(net("198.18.21.0/24"))
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    let log = d.logged("configuration reloaded", 1).await;
    assert!(log.contains("peer added"), "{log}");
    assert!(log.contains("peer changed without a reset"), "{log}");
    for (s, before) in [(&t1, &t1_before), (&t2, &t2_before)] {
        let now = s.peer(ip("127.0.21.1")).unwrap();
        assert_eq!(now.state, State::Established);
        assert_eq!(now.established_count, 1, "session reset: {now:?}");
        assert_eq!(now.established_at, before.established_at);
    }
    // t2 still has the daemon's own route (a soft change, not a reset).
    let r = t2.route(net("198.18.20.0/24")).await.unwrap().unwrap();
    assert_eq!(
        r.best().unwrap().source,
        RouteSource::Peer(ip("127.0.21.1"))
    );

    // A broken file: refused with its line and key, nothing changes.
    let broken = format!("{v2}\n[[peer]]\naddress = \"127.0.21.5\"\nremote_as = 1\nhold_tme = 3\n");
    let line = broken.lines().count();
    write(&file, &broken);
    d.signal("HUP");
    let log = d.logged("reload refused", 1).await;
    assert!(
        log.contains(&format!("line {line}")) && log.contains("peer[3].hold_tme"),
        "{log}"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    for s in [&t1, &t2, &t3] {
        let p = s.peer(ip("127.0.21.1")).unwrap();
        assert_eq!(p.state, State::Established);
        assert_eq!(p.established_count, 1);
    }

    // SIGTERM: Cease / Administrative Shutdown with a message, exit 0.
    d.signal("TERM");
    for s in [&t1, &t2, &t3] {
        let e = eventually("the Cease at the peer", || async {
            s.peer(ip("127.0.21.1"))
                .filter(|p| p.state != State::Established)
                .and_then(|p| p.last_error)
        })
        .await;
        assert!(!e.sent);
        assert!(e.message.contains("Administrative Shutdown"), "{e:?}");
        assert_eq!(
            e.shutdown_communication.as_deref(),
            Some("calico-bgpd stopping (SIGTERM)")
        );
    }
    let status = tokio::task::block_in_place(|| d.wait_exit(WAIT)).expect("exits after SIGTERM");
    assert!(status.success(), "{status:?}\n{}", d.log());
    for s in [t1, t2, t3] {
        s.shutdown("test over").await;
    }
}

fn run(args: &[&str]) -> (ExitStatus, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_bad_file_names_the_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    write(
        &file,
        "router_id = \"192.0.2.1\"\nlocal_as = 65001\n\n[[peer]]\naddress = \"192.0.2.2\"\nremote_as = 65002\nhold_tme = 30\n",
    );
    let f = file.to_str().unwrap();
    for args in [vec!["--config", f], vec!["--config", f, "--check"]] {
        let (status, _, err) = run(&args);
        assert_eq!(status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains("line 7"), "{err}");
        assert!(err.contains("peer[0].hold_tme"), "{err}");
    }
    // A value of the wrong type, and a check only the daemon makes.
    write(
        &file,
        "router_id = \"192.0.2.1\"\nlocal_as = 65001\n[decision]\nmax_paths = \"four\"\n",
    );
    let (status, _, err) = run(&["--config", f]);
    assert_eq!(status.code(), Some(1));
    assert!(
        err.contains("line 4") && err.contains("decision.max_paths"),
        "{err}"
    );
    write(
        &file,
        "router_id = \"192.0.2.1\"\nlocal_as = 65001\n[[peer]]\naddress = \"192.0.2.2\"\nremote_as = 2\npassive = true\n",
    );
    let (status, _, err) = run(&["--config", f, "--check"]);
    assert_eq!(status.code(), Some(1));
    assert!(
        err.contains("line 6") && err.contains("peer[0].passive"),
        "{err}"
    );
    // No such file.
    let (status, _, err) = run(&["--config", "/nonexistent/bgpd.toml"]);
    assert_eq!(status.code(), Some(1));
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn the_example_configuration_is_valid() {
    let example: PathBuf = [env!("CARGO_MANIFEST_DIR"), "examples", "bgpd.toml"]
        .iter()
        .collect();
    let (status, out, err) = run(&["--config", example.to_str().unwrap(), "--check"]);
    assert!(status.success(), "{err}");
    assert!(
        out.contains("valid: router ID 192.0.2.1, AS 65001"),
        "{out}"
    );
    assert!(out.contains("3 peer(s)"), "{out}");
}

#[test]
fn the_readme_configuration_is_valid() {
    let readme: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", "README.md"]
        .iter()
        .collect();
    let text = std::fs::read_to_string(readme).unwrap();
    let section = text
        .split("## Running calico-bgpd as a BGP daemon")
        .nth(1)
        .expect("the README's daemon section");
    let toml = section
        .split("```toml\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("a TOML example in it");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("readme.toml");
    write(&file, toml);
    let (status, out, err) = run(&["--config", file.to_str().unwrap(), "--check"]);
    assert!(status.success(), "{err}\n{toml}");
    assert!(out.contains("1 peer(s)"), "{out}");
}

/// Our routes (protocol 12) of `family` (`-4`, `-6`) in the namespace's
/// main table, as `ip route` prints them.
fn kernel_routes(ns: &testkit::netns::Netns, family: &str) -> String {
    let out = ns
        .ip(&[family, "route", "show", "table", "main", "proto", "12"])
        .unwrap();
    out.stdout
}

async fn kernel_eventually(ns: &testkit::netns::Netns, what: &str, f: impl Fn(&str, &str) -> bool) {
    eventually(what, || async {
        let (v4, v6) = (kernel_routes(ns, "-4"), kernel_routes(ns, "-6"));
        f(&v4, &v6).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fib_enabled_installs_learned_best_paths() {
    use testkit::netns::{self, Netns};
    if let Err(s) = netns::require_root_netns() {
        netns::skip(&s);
        return;
    }
    let ns = Netns::new().unwrap();
    // A veth pair (a dummy device needs a module these kernels may lack):
    // the next hops are on d0's subnet.
    ns.ip(&["link", "add", "d0", "type", "veth", "peer", "name", "d1"])
        .unwrap();
    ns.link_up("d0").unwrap();
    ns.link_up("d1").unwrap();
    ns.add_addr("d0", ip("198.18.200.1"), 24).unwrap();
    ns.add_addr("d0", ip("198.18.200.2"), 24).unwrap();
    ns.add_addr("d0", ip("2001:db8:200::1"), 64).unwrap();

    let dir = tempfile::tempdir().unwrap();
    // B: the peer, announcing routes with next hops on d0 (not its own
    // addresses, which the kernel would refuse as gateways).
    let b_file = dir.path().join("b.toml");
    let b_head = "router_id = \"198.18.200.2\"\nlocal_as = 65002\nlisten = [\"198.18.200.2:179\"]\n\n\
        [[peer]]\naddress = \"198.18.200.1\"\nremote_as = 65001\npassive = true\nnext_hop = \"unchanged\"\nhold_time = 9\n\n\
        [[originate]]\nprefix = \"198.19.5.0/24\"\nnext_hop = \"198.18.200.9\"\n\n\
        [[originate]]\nprefix = \"2001:db8:5::/48\"\nnext_hop = \"2001:db8:200::9\"\n";
    let b_more = "\n[[originate]]\nprefix = \"198.19.6.0/24\"\nnext_hop = \"198.18.200.10\"\n";
    write(&b_file, &format!("{b_head}{b_more}"));
    // A: the daemon under test, with the FIB on; its own route must not be
    // installed.
    let a_file = dir.path().join("a.toml");
    write(
        &a_file,
        "router_id = \"198.18.200.1\"\nlocal_as = 65001\n\n[fib]\nenabled = true\n\n\
         [[peer]]\naddress = \"198.18.200.2\"\nremote_as = 65002\nlocal_address = \"198.18.200.1\"\n\
         hold_time = 9\nconnect_retry_time = 1\nrestart_delay = 1\n\n[[originate]]\nprefix = \"198.19.9.0/24\"\n",
    );
    // A may try before B listens: it tries again after a second
    // (restart_delay).
    let mut b = Daemon::spawn(ns.command(BIN), &b_file);
    let mut a = Daemon::spawn(ns.command(BIN), &a_file);

    kernel_eventually(&ns, "the learned routes in the kernel", |v4, v6| {
        v4.contains("198.19.5.0/24 via 198.18.200.9 dev d0")
            && v4.contains("198.19.6.0/24 via 198.18.200.10 dev d0")
            && v6.contains("2001:db8:5::/48 via 2001:db8:200::9 dev d0")
    })
    .await;
    assert!(
        !kernel_routes(&ns, "-4").contains("198.19.9.0"),
        "A's own route installed"
    );

    // B withdraws one: it leaves the kernel.
    write(&b_file, b_head);
    b.signal("HUP");
    kernel_eventually(&ns, "the withdrawn route gone", |v4, _| {
        !v4.contains("198.19.6.0/24") && v4.contains("198.19.5.0/24")
    })
    .await;

    // SIGTERM: A exits 0 and leaves its routes for the next run.
    a.signal("TERM");
    let status = tokio::task::block_in_place(|| a.wait_exit(WAIT)).expect("A exits");
    assert!(status.success(), "{status:?}\n{}", a.log());
    let v4 = kernel_routes(&ns, "-4");
    assert!(
        v4.contains("198.19.5.0/24 via 198.18.200.9"),
        "{v4}\n{}",
        a.log()
    );
    b.signal("TERM");
    let status = tokio::task::block_in_place(|| b.wait_exit(WAIT)).expect("B exits");
    assert!(status.success(), "{status:?}\n{}", b.log());
}
