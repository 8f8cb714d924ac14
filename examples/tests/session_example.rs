//! The `session` example as a program: two instances on loopback
//! (127.0.0.91 passive, 127.0.0.92 active) reach Established, the active
//! one's `--announce` prefixes arrive as `update` lines, a `stop TEXT`
//! command on its standard input arrives as a NOTIFICATION with that
//! shutdown communication, and `quit` ends both.
//!
//! The example's binary is built by `cargo test -p bgp-examples` (every
//! example is); run alone, the test says SKIPPED if it is missing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

/// `target/<profile>/examples/session`, next to this test's `deps` folder.
fn example_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?.parent()?;
    let bin = profile_dir.join("examples").join("session");
    bin.is_file().then_some(bin)
}

struct Instance {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<Value>,
    seen: Vec<Value>,
}

impl Instance {
    fn spawn(bin: &PathBuf, args: &[&str]) -> Instance {
        let mut child = Command::new(bin)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let v: Value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        Instance {
            child,
            stdin,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line matching `f` (looking at those seen before too).
    fn wait(&mut self, what: &str, f: impl Fn(&Value) -> bool) -> Value {
        if let Some(v) = self.seen.iter().find(|v| f(v)) {
            return v.clone();
        }
        let end = Instant::now() + Duration::from_secs(20);
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(v) => {
                    self.seen.push(v.clone());
                    if f(&v) {
                        return v;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("no {what} line; got:\n{:#?}", self.seen);
    }

    fn command(&mut self, line: &str) {
        writeln!(self.stdin, "{line}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// Sends `quit` and waits for the exit (kills the process after 10 s).
    fn quit(mut self) -> bool {
        let _ = writeln!(self.stdin, "quit");
        let _ = self.stdin.flush();
        let end = Instant::now() + Duration::from_secs(10);
        while Instant::now() < end {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

fn event(v: &Value) -> &str {
    v.get("event").and_then(Value::as_str).unwrap_or("")
}

fn announced(v: &Value, prefix: &str) -> bool {
    event(v) == "update"
        && v.get("announced")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|p| p.as_str() == Some(prefix)))
}

#[test]
fn two_instances_establish_exchange_and_shut_down() {
    let Some(bin) = example_binary() else {
        eprintln!(
            "SKIPPED: the session example is not built (cargo test -p bgp-examples builds it)"
        );
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.91:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.91:{port}");
    let mut b = Instance::spawn(
        &bin,
        &[
            "--local-as",
            "65002",
            "--router-id",
            "10.0.0.2",
            "--peer",
            "127.0.0.92",
            "--peer-as",
            "65001",
            "--passive",
            "--listen",
            &listen,
            "--hold",
            "9",
            "--local",
            "127.0.0.91",
        ],
    );
    b.wait("state Active", |v| {
        event(v) == "state" && v["to"] == "Active"
    });
    let mut a = Instance::spawn(
        &bin,
        &[
            "--local-as",
            "65001",
            "--router-id",
            "10.0.0.1",
            "--peer",
            &listen,
            "--peer-as",
            "65002",
            "--local",
            "127.0.0.92",
            "--hold",
            "9",
            "--restart-delay",
            "1",
            "--announce",
            "10.77.0.0/16",
            "2001:db8:77::/48",
        ],
    );
    let open = a.wait("open", |v| event(v) == "open");
    assert_eq!(open["as"], 65002);
    assert_eq!(open["router_id"], "10.0.0.2");
    let codes: Vec<u64> = open["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["code"].as_u64())
        .collect();
    assert!(codes.contains(&65) && codes.contains(&1), "{codes:?}");
    let est = a.wait("established", |v| event(v) == "established");
    assert_eq!(est["hold_time"], 9);
    assert_eq!(
        est["families"],
        serde_json::json!(["ipv4-unicast", "ipv6-unicast"])
    );
    let u4 = b.wait("update 10.77.0.0/16", |v| announced(v, "10.77.0.0/16"));
    assert_eq!(u4["attributes"]["as_path"], "65001");
    assert_eq!(u4["attributes"]["next_hop"], "127.0.0.92");
    b.wait("update 2001:db8:77::/48", |v| {
        announced(v, "2001:db8:77::/48")
    });
    b.wait("end_of_rib", |v| event(v) == "all_end_of_rib");

    a.command("stop bye for now");
    let n = b.wait("notification received", |v| {
        event(v) == "notification" && v["direction"] == "received"
    });
    assert_eq!(n["code"], 6);
    assert_eq!(n["subcode"], 2);
    assert_eq!(n["shutdown_communication"], "bye for now");
    a.wait("notification sent", |v| {
        event(v) == "notification" && v["direction"] == "sent"
    });
    b.wait("session_down", |v| event(v) == "session_down");
    assert!(a.quit(), "A exits 0 after quit");
    assert!(b.quit(), "B exits 0 after quit");
}
