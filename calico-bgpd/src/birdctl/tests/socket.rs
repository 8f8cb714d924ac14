//! The server over a real Unix socket: the greeting, replies in order on one
//! connection (pipelined too), several connections at once, long lines,
//! the socket file's life, and the health checks over it.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

use super::fixture::{Fixture, VERSION, lines, now};
use crate::birdctl::health::{self, HealthError, NotReady, ReadyOptions};
use crate::birdctl::{BirdClient, ControlSocket, Families, GrRecovery, SocketConfig, StatusSource};

const WAIT: Duration = Duration::from_secs(5);

fn config(path: &Path, families: Families) -> SocketConfig {
    let mut c = SocketConfig::new(path, families).version(VERSION);
    c.clock = now;
    c
}

/// Reads `n` replies' worth of raw text (up to `n` final lines).
async fn read_replies(r: &mut BufReader<tokio::net::unix::OwnedReadHalf>, n: usize) -> String {
    let mut out = String::new();
    let mut done = 0;
    while done < n {
        let mut l = String::new();
        let got = tokio::time::timeout(WAIT, r.read_line(&mut l))
            .await
            .expect("a line in time")
            .unwrap();
        assert!(got > 0, "closed early after {out:?}");
        if l.as_bytes().get(4) == Some(&b' ') && l.as_bytes()[0].is_ascii_digit() {
            done += 1;
        }
        out.push_str(&l);
    }
    out
}

#[tokio::test]
async fn greeting_and_replies_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run/calico/bird.ctl");
    let source = Arc::new(Fixture::default());
    let handle = ControlSocket::bind(config(&path, Families::Ipv4), source.clone())
        .unwrap()
        .spawn();
    // The parent folder was made; the socket is root's and its group's.
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o660);

    let s = UnixStream::connect(&path).await.unwrap();
    let (rd, mut wr) = s.into_split();
    let mut rd = BufReader::new(rd);
    assert_eq!(
        read_replies(&mut rd, 1).await,
        "0001 BIRD v0.3.3+birdv1.6.8 ready.\n"
    );
    // Three requests at once (one with CRLF, one unknown): three replies in
    // order.
    wr.write_all(b"show route count\r\nbogus\nshow protocols \"Global*\"\n")
        .await
        .unwrap();
    assert_eq!(
        read_replies(&mut rd, 3).await,
        lines(&[
            "0014 5 of 5 routes for 4 networks",
            "9001 syntax error",
            "2002-name     proto    table    state  since       info",
            "1002-Global_10_0_0_9 BGP      master   up     20:11:00    Established   ",
            "0000 ",
        ])
    );
    // A line longer than MAX_REQUEST: 9000, and the connection goes on.
    let long = format!("show route {}\n", "x".repeat(crate::birdctl::MAX_REQUEST));
    wr.write_all(long.as_bytes()).await.unwrap();
    wr.write_all(b"show status\n").await.unwrap();
    let got = read_replies(&mut rd, 2).await;
    assert!(
        got.starts_with("9000 Command too long\n1000-BIRD v0.3.3+birdv1.6.8\n"),
        "{got}"
    );

    // Another connection at the same time.
    let (mut c2, hello) = BirdClient::connect(&path, WAIT).await.unwrap();
    assert_eq!(hello.text, "BIRD v0.3.3+birdv1.6.8 ready.");
    let r = c2
        .command("show protocols all Mesh_10_0_0_2")
        .await
        .unwrap();
    assert!(
        r.iter()
            .any(|l| l.code == 1006 && l.text == "  BGP state:          Established")
    );
    assert!(r.last().is_some_and(|l| l.last && l.code == 0));
    // The first one still answers.
    wr.write_all(b"show route for 192.168.1.1\n").await.unwrap();
    assert_eq!(
        read_replies(&mut rd, 1).await,
        lines(&[
            "1007-192.168.1.0/26     blackhole [static1 20:10:56] * (200)",
            "0000 "
        ])
    );

    // A second server on the same path is refused while this one runs.
    let again = ControlSocket::bind(config(&path, Families::Ipv4), source.clone());
    assert_eq!(
        again.err().map(|e| e.kind()),
        Some(std::io::ErrorKind::AddrInUse)
    );
    handle.shutdown().await;
    assert!(!path.exists(), "the socket file is removed on shutdown");
}

#[tokio::test]
async fn a_stale_socket_is_replaced_and_a_file_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bird.ctl");
    // A socket file no one listens on, as a crashed daemon leaves it.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(path.exists());
    let h = ControlSocket::bind(config(&path, Families::Ipv4), Arc::new(Fixture::default()))
        .unwrap()
        .spawn();
    let (mut c, _) = BirdClient::connect(&path, WAIT).await.unwrap();
    assert_eq!(
        c.command("show route count").await.unwrap()[0].text,
        "5 of 5 routes for 4 networks"
    );
    drop(h);
    assert!(!path.exists());

    std::fs::write(&path, b"not a socket").unwrap();
    let e = ControlSocket::bind(config(&path, Families::Ipv4), Arc::new(Fixture::default()))
        .err()
        .map(|e| e.kind());
    assert_eq!(e, Some(std::io::ErrorKind::AlreadyExists));
    assert_eq!(std::fs::read(&path).unwrap(), b"not a socket");
}

async fn serve<S: StatusSource>(
    dir: &Path,
    name: &str,
    families: Families,
    s: S,
) -> (crate::birdctl::ControlSocketHandle, std::path::PathBuf) {
    let path = dir.join(name);
    let h = ControlSocket::bind(config(&path, families), Arc::new(s))
        .unwrap()
        .spawn();
    (h, path)
}

fn opts(started: SystemTime) -> ReadyOptions {
    ReadyOptions {
        started: Some(started),
        timeout: WAIT,
        ..ReadyOptions::default()
    }
}

fn opts6(started: SystemTime) -> ReadyOptions {
    ReadyOptions {
        ipv6: true,
        ..opts(started)
    }
}

fn not_ready(r: Result<(), HealthError>) -> NotReady {
    match r {
        Err(HealthError::NotReady(n)) => n,
        other => panic!("expected not ready, got {other:?}"),
    }
}

#[tokio::test]
async fn health_checks_over_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = SystemTime::now() - Duration::from_secs(5);
    let old = SystemTime::now() - Duration::from_secs(600);

    // Two mesh peers up, the global one up.
    let all_up = Fixture::only(&["Mesh_10_0_0_2", "Global_10_0_0_9", "Mesh_2001_db8__2"]);
    let (_h4, v4) = serve(dir.path(), "up.ctl", Families::Ipv4, all_up).await;
    health::check_live(&v4).await.unwrap();
    health::check_ready(&v4, &opts(fresh)).await.unwrap();
    health::check_ready(&v4, &opts(old)).await.unwrap();

    // One peer trying: not ready on a fresh start, ready later.
    let one_down = Fixture::only(&["Mesh_10_0_0_2", "Node_10_0_0_3"]);
    let (_h, p) = serve(dir.path(), "one.ctl", Families::Ipv4, one_down).await;
    assert_eq!(
        not_ready(health::check_ready(&p, &opts(fresh)).await),
        NotReady::NotEstablished(vec!["10.0.0.3".into()])
    );
    health::check_ready(&p, &opts(old)).await.unwrap();
    // Still live.
    health::check_live(&p).await.unwrap();

    // Every peer down (and one shut down by its limit): not ready at all.
    let all_down = Fixture::only(&["Node_10_0_0_3", "Node_10_0_0_4"]);
    let (_h, p) = serve(dir.path(), "down.ctl", Families::Ipv4, all_down).await;
    assert_eq!(
        not_ready(health::check_ready(&p, &opts(old)).await),
        NotReady::NotEstablished(vec!["10.0.0.3".into(), "10.0.0.4".into()])
    );

    // Graceful-restart recovery running: not ready on a fresh start even
    // with every peer up.
    let gr = Fixture::only(&["Mesh_10_0_0_2"]);
    *gr.inner.gr.lock().unwrap() = Some(GrRecovery {
        waiting: 1,
        remaining: Duration::from_secs(200),
        wait: Duration::from_secs(240),
    });
    let (_h, p) = serve(dir.path(), "gr.ctl", Families::Ipv4, gr).await;
    assert_eq!(
        not_ready(health::check_ready(&p, &opts(fresh)).await),
        NotReady::GracefulRestart
    );
    health::check_ready(&p, &opts(old)).await.unwrap();

    // No BGP peers: ready.
    let none = Fixture::only(&[]);
    let (_h, p) = serve(dir.path(), "none.ctl", Families::Ipv4, none).await;
    health::check_ready(&p, &opts(fresh)).await.unwrap();

    // The IPv6 socket: its peers only; an IPv6 name back to its address.
    let v6 = Fixture::only(&["Mesh_10_0_0_2", "Mesh_2001_db8__2"]);
    let (_h6, p6) = serve(dir.path(), "v6.ctl", Families::Ipv6, v6).await;
    health::check_ready(&p6, &opts6(fresh)).await.unwrap();
    let v6_down = Fixture::only(&["Mesh_2001_db8__2"]);
    *v6_down.inner.down.lock().unwrap() = vec!["Mesh_2001_db8__2"];
    let (_h6d, p6d) = serve(dir.path(), "v6d.ctl", Families::Ipv6, v6_down).await;
    assert_eq!(
        not_ready(health::check_ready(&p6d, &opts6(old)).await),
        NotReady::NotEstablished(vec!["2001:db8::2".into()])
    );

    // No socket: an I/O error, for both checks.
    let missing = dir.path().join("missing.ctl");
    assert!(matches!(
        health::check_live(&missing).await,
        Err(HealthError::Io(_))
    ));
    assert!(matches!(
        health::check_ready(&missing, &opts(fresh)).await,
        Err(HealthError::Io(_))
    ));
}
