//! The tokio transport over loopback TCP (127.0.0.0/8 and ::1 only): two
//! drivers reaching Established over IPv4 and IPv6 and passing UPDATEs, a
//! shutdown communication, a connection from an unknown address rejected,
//! a simultaneous open resolved to one session, the hold timer against a
//! silent peer, backpressure from a peer that does not read, a bad header
//! answered with a Message Header Error, GTSM, and TCP MD5 with the right
//! and a wrong password.
//!
//! Each test uses its own loopback addresses and kernel-chosen ports, so
//! the tests run in parallel; every wait is bounded.
//!
//! `cargo test -p bgp-fsm --features tokio --test transport`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::time::{Instant, timeout};

use bgp_fsm::transport::{
    Listener, Peer, PeerConfig, PeerEvent, PeerEventKind, PeerEvents, PeerHandle,
};
use bgp_fsm::{Action, DownReason, NotificationDirection, SessionConfig, State, Stop};
use bgp_wire::attribute::{AsPath, MpNextHop, Origin, PathAttributes, PeerType};
use bgp_wire::capability::Multiprotocol;
use bgp_wire::message::header::frame;
use bgp_wire::message::update::builder;
use bgp_wire::nlri::Nlri;
use bgp_wire::{AfiSafi, Capability, Keepalive, Message, Open, SessionContext, Update};

const WAIT: Duration = Duration::from_secs(15);

fn v4(d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, d))
}

/// A session with hold time 3 (keepalives every second).
fn session(local_as: u32, id: u8, peer_as: u32) -> SessionConfig {
    let mut c = SessionConfig::new(local_as, Ipv4Addr::new(10, 0, 0, id), peer_as);
    c.hold_time = 3;
    c.connect_retry_time = Duration::from_secs(2);
    c
}

fn peer(session: SessionConfig, remote: SocketAddr, local: IpAddr) -> PeerConfig {
    let mut p = PeerConfig::new(session, remote);
    p.local = Some(local);
    p.restart_delay = Some(Duration::from_millis(500));
    p.close_timeout = Duration::from_secs(2);
    p
}

/// Waits for the first event matching `f`, within `within`.
async fn wait_event(
    events: &mut PeerEvents,
    within: Duration,
    mut f: impl FnMut(&PeerEvent) -> bool,
) -> Option<PeerEvent> {
    let end = Instant::now() + within;
    loop {
        match tokio::time::timeout_at(end, events.recv()).await {
            Ok(Some(e)) if f(&e) => return Some(e),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return None,
        }
    }
}

async fn established(h: &PeerHandle) {
    timeout(WAIT, h.wait_for(|s| s.state == State::Established))
        .await
        .expect("Established in time")
        .expect("driver alive");
}

/// An UPDATE announcing `prefixes` of `family` from `asn`, next hop `nh`.
fn announce(family: AfiSafi, asn: u32, nh: IpAddr, prefixes: &[&str]) -> Update {
    let nlri: Vec<Nlri> = prefixes
        .iter()
        .map(|p| Nlri::new(p.parse().unwrap()))
        .collect();
    let mut attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(&[asn])),
        ..PathAttributes::default()
    };
    let mp = match nh {
        IpAddr::V4(a) => {
            attrs.next_hop = Some(a);
            None
        }
        IpAddr::V6(a) => Some(MpNextHop::Ipv6 {
            global: a,
            link_local: None,
        }),
    };
    let ctx = SessionContext::default().with_four_octet_as(true);
    let msgs = builder::announce(&ctx, family, &attrs, mp.as_ref(), &nlri).unwrap();
    Update::decode(msgs[0].slice(19..), &ctx).unwrap()
}

/// The prefixes an UPDATE announces, NLRI field and MP_REACH_NLRI.
fn announced(u: &Update, ctx: &SessionContext) -> Vec<String> {
    let mut v: Vec<String> = u.nlri().map(|n| n.prefix.to_string()).collect();
    if let Ok(d) = u.attributes(ctx, PeerType::External) {
        if let Some(mp) = d.mp_reach {
            v.extend(mp.prefixes().map(|n| n.prefix.to_string()));
        }
    }
    v
}

/// A established with B (B passive behind a listener), an UPDATE from A
/// to B, then A stops with a shutdown communication that B receives.
async fn pair_exchange(a_addr: IpAddr, b_addr: IpAddr, family: AfiSafi, prefix: &str) {
    let listener = Listener::bind(SocketAddr::new(b_addr, 0)).unwrap();
    let families = vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST];
    let mut sa = session(65001, 1, 65002);
    sa.capabilities.families = families.clone();
    let mut sb = session(65002, 2, 65001);
    sb.capabilities.families = families;
    let a_cfg = peer(sa, listener.local_addr(), a_addr);
    let mut b_cfg = peer(sb, SocketAddr::new(a_addr, 179), b_addr);
    b_cfg.passive = true;
    let (b, mut b_events) = Peer::spawn(b_cfg, Some(&listener)).unwrap();
    let (a, mut a_events) = Peer::spawn(a_cfg, None).unwrap();
    b.start().unwrap();
    a.start().unwrap();
    established(&a).await;
    established(&b).await;

    // The OPEN and the negotiated parameters are reported.
    let e = wait_event(&mut b_events, WAIT, |e| {
        matches!(&e.kind, PeerEventKind::Session(Action::Established(_)))
    })
    .await
    .expect("Established event");
    let PeerEventKind::Session(Action::Established(neg)) = e.kind else {
        unreachable!()
    };
    assert_eq!(neg.hold_time, 3);
    assert_eq!(neg.peer_as, 65001);
    assert!(neg.has_family(AfiSafi::IPV6_UNICAST));
    let ctx = neg.session_context().clone();
    let status = a.status();
    let (a_local, a_remote) = status.connection.unwrap();
    assert_eq!(a_local.ip(), a_addr);
    assert_eq!(a_remote, listener.local_addr());

    a.send_update(announce(family, 65001, a_addr, &[prefix]))
        .await
        .unwrap();
    let e = wait_event(&mut b_events, WAIT, |e| {
        matches!(&e.kind, PeerEventKind::Session(Action::UpdateReceived(_)))
    })
    .await
    .expect("UPDATE received");
    let PeerEventKind::Session(Action::UpdateReceived(u)) = e.kind else {
        unreachable!()
    };
    assert_eq!(announced(&u, &ctx), vec![prefix.to_string()]);

    // Administrative shutdown with a communication.
    a.stop(Stop::administrative_shutdown("maintenance window"))
        .unwrap();
    let e = wait_event(&mut b_events, WAIT, |e| {
        matches!(&e.kind, PeerEventKind::Session(Action::Notification(n))
            if n.direction == NotificationDirection::Received)
    })
    .await
    .expect("NOTIFICATION received");
    let PeerEventKind::Session(Action::Notification(n)) = e.kind else {
        unreachable!()
    };
    assert_eq!(n.code(), 6);
    assert!(matches!(n.subcode(), 2 | 9), "shutdown, or hard reset");
    assert_eq!(n.data.shutdown_communication(), Some("maintenance window"));
    assert!(
        wait_event(&mut a_events, WAIT, |e| matches!(&e.kind,
            PeerEventKind::Session(Action::Notification(n))
                if n.direction == NotificationDirection::Sent && n.code() == 6))
        .await
        .is_some()
    );
    a.shutdown(Stop::default()).await;
    b.shutdown(Stop::default()).await;
}

#[tokio::test]
async fn ipv4_established_update_and_shutdown() {
    pair_exchange(v4(11), v4(12), AfiSafi::IPV4_UNICAST, "10.1.0.0/16").await;
}

#[tokio::test]
async fn ipv6_established_update_and_shutdown() {
    let lo = IpAddr::V6(Ipv6Addr::LOCALHOST);
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("SKIPPED: no IPv6 loopback");
        return;
    }
    pair_exchange(lo, lo, AfiSafi::IPV6_UNICAST, "2001:db8:1::/48").await;
}

/// Reads one message from a raw socket (default context), within `within`.
async fn read_message(s: &mut TcpStream, buf: &mut BytesMut, within: Duration) -> Option<Message> {
    let end = Instant::now() + within;
    loop {
        if let Some((h, body)) = frame(buf, &SessionContext::default()).unwrap() {
            return Some(Message::decode(&h, body, &SessionContext::default()).unwrap());
        }
        match tokio::time::timeout_at(end, s.read_buf(buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return None,
            Ok(Ok(_)) => {}
        }
    }
}

async fn raw_connect(from: IpAddr, to: SocketAddr) -> TcpStream {
    let s = if to.is_ipv4() {
        TcpSocket::new_v4().unwrap()
    } else {
        TcpSocket::new_v6().unwrap()
    };
    s.bind(SocketAddr::new(from, 0)).unwrap();
    timeout(WAIT, s.connect(to)).await.unwrap().unwrap()
}

#[tokio::test]
async fn unknown_address_is_rejected() {
    let listener = Listener::bind(SocketAddr::new(v4(21), 0)).unwrap();
    let mut b_cfg = peer(
        session(65002, 2, 65001),
        SocketAddr::new(v4(22), 179),
        v4(21),
    );
    b_cfg.passive = true;
    let (b, _b_events) = Peer::spawn(b_cfg, Some(&listener)).unwrap();
    b.start().unwrap();
    // From 127.0.0.23, which no peer is configured for.
    let mut s = raw_connect(v4(23), listener.local_addr()).await;
    let mut buf = BytesMut::new();
    match read_message(&mut s, &mut buf, WAIT).await {
        Some(Message::Notification(n)) => assert_eq!(n.code.to_pair(), (6, 5)),
        other => panic!("expected Cease / Connection Rejected, got {other:?}"),
    }
    // Then the connection is closed.
    assert!(read_message(&mut s, &mut buf, WAIT).await.is_none());
    assert_eq!(listener.rejected(), 1);
    // The configured peer's session is untouched.
    assert_eq!(b.state(), State::Active);
    b.shutdown(Stop::default()).await;
}

#[tokio::test]
async fn idle_peer_rejects_its_connections() {
    let listener = Listener::bind(SocketAddr::new(v4(25), 0)).unwrap();
    let b_cfg = peer(
        session(65002, 2, 65001),
        SocketAddr::new(v4(26), 179),
        v4(25),
    );
    // Never started: Idle refuses connections.
    let (b, mut b_events) = Peer::spawn(b_cfg, Some(&listener)).unwrap();
    let mut s = raw_connect(v4(26), listener.local_addr()).await;
    let mut buf = BytesMut::new();
    match read_message(&mut s, &mut buf, WAIT).await {
        Some(Message::Notification(n)) => assert_eq!(n.code.to_pair(), (6, 5)),
        other => panic!("expected Cease / Connection Rejected, got {other:?}"),
    }
    assert!(
        wait_event(&mut b_events, WAIT, |e| matches!(
            e.kind,
            PeerEventKind::Rejected { .. }
        ))
        .await
        .is_some()
    );
    b.shutdown(Stop::default()).await;
}

/// Both sides connect to each other at once: each gets two connections,
/// collision resolution keeps one, and each side ends with one Established
/// session, on the same connection.
#[tokio::test]
async fn simultaneous_open_resolves_to_one_session() {
    let la = Listener::bind(SocketAddr::new(v4(31), 0)).unwrap();
    let lb = Listener::bind(SocketAddr::new(v4(32), 0)).unwrap();
    let a_cfg = peer(session(65001, 1, 65002), lb.local_addr(), v4(31));
    let b_cfg = peer(session(65002, 2, 65001), la.local_addr(), v4(32));
    let (a, mut a_events) = Peer::spawn(a_cfg, Some(&la)).unwrap();
    let (b, mut b_events) = Peer::spawn(b_cfg, Some(&lb)).unwrap();
    // Both starts are queued before either driver runs (current-thread
    // runtime), so both connect at once.
    a.start().unwrap();
    b.start().unwrap();
    established(&a).await;
    established(&b).await;
    // Give a losing connection time to be closed, then look again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (sa, sb) = (a.status(), b.status());
    assert_eq!(
        (sa.state, sb.state),
        (State::Established, State::Established)
    );
    let (a_local, a_remote) = sa.connection.unwrap();
    let (b_local, b_remote) = sb.connection.unwrap();
    assert_eq!(
        (a_local, a_remote),
        (b_remote, b_local),
        "the same connection"
    );
    // The connection kept is the one opened by the higher identifier (B,
    // 10.0.0.2): A's end of it is A's listener.
    assert_eq!(a_local, la.local_addr());
    assert_eq!(sa.established_count, 1, "A established once");
    assert_eq!(sb.established_count, 1, "B established once");
    let mut collisions = 0;
    let mut ceases = 0;
    for ev in [&mut a_events, &mut b_events] {
        while let Some(e) = ev.try_recv() {
            match &e.kind {
                PeerEventKind::Collision { .. } => collisions += 1,
                PeerEventKind::Session(Action::Notification(n))
                    if n.direction == NotificationDirection::Sent
                        && (n.code(), n.subcode()) == (6, 7) =>
                {
                    ceases += 1;
                }
                _ => {}
            }
        }
    }
    assert!(collisions >= 1, "a collision was resolved");
    assert!(ceases >= 1, "Cease / Connection Collision Resolution sent");
    a.shutdown(Stop::default()).await;
    b.shutdown(Stop::default()).await;
}

/// The OPEN of a raw peer: AS 65002, 10.0.0.2, IPv4 unicast, 4-octet AS.
fn raw_open(hold: u16) -> Message {
    Message::Open(Open::new(
        65002,
        hold,
        Ipv4Addr::new(10, 0, 0, 2),
        vec![
            Capability::Multiprotocol(Multiprotocol::new(AfiSafi::IPV4_UNICAST)),
            Capability::FourOctetAs(65002),
        ],
    ))
}

/// Accepts our driver's connection on a raw listener and completes the
/// OPEN exchange; returns the raw end.
async fn raw_peer_established(raw: &TcpListener, hold: u16) -> TcpStream {
    let (mut s, _) = timeout(WAIT, raw.accept()).await.unwrap().unwrap();
    let mut buf = BytesMut::new();
    match read_message(&mut s, &mut buf, WAIT).await {
        Some(Message::Open(_)) => {}
        other => panic!("expected our OPEN, got {other:?}"),
    }
    let mut out = BytesMut::new();
    let ctx = SessionContext::default();
    raw_open(hold).encode(&ctx, &mut out).unwrap();
    Message::Keepalive(Keepalive)
        .encode(&ctx, &mut out)
        .unwrap();
    s.write_all(&out).await.unwrap();
    s
}

/// A peer that completes the OPEN exchange then goes silent: our hold
/// timer expires and NOTIFICATION Hold Timer Expired (4/0) is sent, and
/// arrives.
#[tokio::test]
async fn hold_timer_expires_on_a_silent_peer() {
    let raw = TcpListener::bind(SocketAddr::new(v4(41), 0)).await.unwrap();
    let a_cfg = peer(session(65001, 1, 65002), raw.local_addr().unwrap(), v4(42));
    let (a, mut a_events) = Peer::spawn(a_cfg, None).unwrap();
    a.start().unwrap();
    let mut s = raw_peer_established(&raw, 3).await;
    established(&a).await;
    let up = Instant::now();
    let e = wait_event(&mut a_events, Duration::from_secs(10), |e| {
        matches!(&e.kind, PeerEventKind::Session(Action::Notification(n))
            if n.direction == NotificationDirection::Sent)
    })
    .await
    .expect("a NOTIFICATION sent");
    let PeerEventKind::Session(Action::Notification(n)) = e.kind else {
        unreachable!()
    };
    assert_eq!((n.code(), n.subcode()), (4, 0));
    let waited = up.elapsed();
    assert!(
        waited >= Duration::from_millis(2500) && waited < Duration::from_secs(6),
        "hold time 3 s, expired after {waited:?}"
    );
    assert!(
        wait_event(&mut a_events, WAIT, |e| matches!(&e.kind,
            PeerEventKind::Session(Action::SessionDown(d)) if d.reason == DownReason::HoldTimerExpired))
        .await
        .is_some()
    );
    // On the wire: keepalives, then the NOTIFICATION, then the close.
    let mut buf = BytesMut::new();
    let mut last = None;
    while let Some(m) = read_message(&mut s, &mut buf, WAIT).await {
        last = Some(m);
    }
    match last {
        Some(Message::Notification(n)) => assert_eq!(n.code.to_pair(), (4, 0)),
        other => panic!("expected Hold Timer Expired last, got {other:?}"),
    }
    a.shutdown(Stop::default()).await;
}

/// A peer that does not read: once the socket buffers and the driver's
/// high-water mark are full, `send_update` waits instead of queuing
/// without bound.
#[tokio::test]
async fn a_peer_that_does_not_read_slows_the_sender() {
    let raw = TcpListener::bind(SocketAddr::new(v4(51), 0)).await.unwrap();
    let mut sc = session(65001, 1, 65002);
    sc.hold_time = 60;
    let mut a_cfg = peer(sc, raw.local_addr().unwrap(), v4(52));
    a_cfg.write_high_water = 64 * 1024;
    a_cfg.update_queue = 8;
    let (a, _a_events) = Peer::spawn(a_cfg, None).unwrap();
    a.start().unwrap();
    let _s = raw_peer_established(&raw, 60).await;
    established(&a).await;
    // About 4 KB per UPDATE.
    let prefixes: Vec<String> = (0..1000u32)
        .map(|i| format!("10.{}.{}.0/24", i / 256, i % 256))
        .collect();
    let refs: Vec<&str> = prefixes.iter().map(String::as_str).collect();
    let update = announce(AfiSafi::IPV4_UNICAST, 65001, v4(52), &refs);
    let mut sent = 0usize;
    let mut blocked = false;
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end {
        match timeout(Duration::from_secs(1), a.send_update(update.clone())).await {
            Ok(r) => {
                r.unwrap();
                sent += 1;
            }
            Err(_) => {
                blocked = true;
                break;
            }
        }
    }
    assert!(blocked, "send_update waited (after {sent} UPDATEs)");
    // Socket buffers on loopback hold a few MB; the driver adds 64 KiB and
    // 8 queued UPDATEs.
    assert!(sent < 10_000, "{sent} UPDATEs queued");
    assert_eq!(a.state(), State::Established);
    a.shutdown(Stop::default()).await;
}

/// Whether TCP MD5 can be used here (root, kernel support).
fn md5_supported() -> bool {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    bgp_fsm::transport::sockopt::set_tcp_md5(&l, v4(2), b"probe").is_ok()
}

async fn md5_pair(
    a_addr: u8,
    b_addr: u8,
    a_key: &[u8],
    b_key: &[u8],
) -> (PeerHandle, PeerHandle, PeerEvents) {
    let listener = Listener::bind(SocketAddr::new(v4(b_addr), 0)).unwrap();
    let mut a_cfg = peer(session(65001, 1, 65002), listener.local_addr(), v4(a_addr));
    a_cfg.md5_key = Some(a_key.to_vec());
    let mut b_cfg = peer(
        session(65002, 2, 65001),
        SocketAddr::new(v4(a_addr), 179),
        v4(b_addr),
    );
    b_cfg.passive = true;
    b_cfg.md5_key = Some(b_key.to_vec());
    let (b, b_events) = Peer::spawn(b_cfg, Some(&listener)).unwrap();
    let (a, _a_events) = Peer::spawn(a_cfg, None).unwrap();
    b.start().unwrap();
    a.start().unwrap();
    (a, b, b_events)
}

#[tokio::test]
async fn md5_right_password_establishes() {
    if !md5_supported() {
        eprintln!(
            "SKIPPED: TCP MD5 signatures unavailable (not root, or kernel without TCP_MD5SIG)"
        );
        return;
    }
    let (a, b, _) = md5_pair(61, 62, b"s3cret!", b"s3cret!").await;
    established(&a).await;
    established(&b).await;
    a.shutdown(Stop::default()).await;
    b.shutdown(Stop::default()).await;
}

#[tokio::test]
async fn md5_wrong_password_never_establishes() {
    if !md5_supported() {
        eprintln!(
            "SKIPPED: TCP MD5 signatures unavailable (not root, or kernel without TCP_MD5SIG)"
        );
        return;
    }
    let (a, b, mut b_events) = md5_pair(63, 64, b"s3cret!", b"wrong").await;
    // The listener's kernel drops the unsigned-for-it SYNs: no connection
    // at all, for longer than a connect retry.
    let connected = wait_event(&mut b_events, Duration::from_secs(5), |e| {
        matches!(e.kind, PeerEventKind::Connected { .. })
    })
    .await;
    assert!(
        connected.is_none(),
        "connected with a wrong key: {connected:?}"
    );
    assert_ne!(a.state(), State::Established);
    assert_eq!(b.state(), State::Active);
    a.shutdown(Stop::default()).await;
    b.shutdown(Stop::default()).await;
}

#[tokio::test]
async fn gtsm_and_ttl_configurations_establish() {
    // GTSM on both sides: TTL 255 out, minimum 255 in; loopback keeps 255.
    let listener = Listener::bind(SocketAddr::new(v4(71), 0)).unwrap();
    let mut a_cfg = peer(session(65001, 1, 65002), listener.local_addr(), v4(72));
    a_cfg.ttl = bgp_fsm::transport::Ttl::Gtsm { hops: 1 };
    let mut b_cfg = peer(
        session(65002, 2, 65001),
        SocketAddr::new(v4(72), 179),
        v4(71),
    );
    b_cfg.passive = true;
    b_cfg.ttl = bgp_fsm::transport::Ttl::Gtsm { hops: 1 };
    let (b, _be) = Peer::spawn(b_cfg, Some(&listener)).unwrap();
    let (a, _ae) = Peer::spawn(a_cfg, None).unwrap();
    b.start().unwrap();
    a.start().unwrap();
    established(&a).await;
    established(&b).await;
    a.shutdown(Stop::default()).await;
    b.shutdown(Stop::default()).await;
}

/// A peer whose TTL is too low for GTSM never gets through: A sends with
/// TTL 1 (plain eBGP), B requires 255. B refuses A's connection as soon as
/// it is accepted, from the TTL of its SYN: the minimum TTL, set on the
/// accepted socket only, would not drop A's OPEN if it arrived before.
#[tokio::test]
async fn gtsm_refuses_a_low_ttl() {
    let listener = Listener::bind(SocketAddr::new(v4(73), 0)).unwrap();
    let a_cfg = peer(session(65001, 1, 65002), listener.local_addr(), v4(74));
    let mut b_cfg = peer(
        session(65002, 2, 65001),
        SocketAddr::new(v4(74), 179),
        v4(73),
    );
    b_cfg.passive = true;
    b_cfg.ttl = bgp_fsm::transport::Ttl::Gtsm { hops: 1 };
    let (b, mut be) = Peer::spawn(b_cfg, Some(&listener)).unwrap();
    let (a, _ae) = Peer::spawn(a_cfg, None).unwrap();
    b.start().unwrap();
    a.start().unwrap();
    let refused = timeout(WAIT, async {
        loop {
            match be.recv().await {
                Some(e) => {
                    assert!(
                        !matches!(e.kind, PeerEventKind::Session(Action::Established(_))),
                        "B established with a TTL 1 peer"
                    );
                    if let PeerEventKind::Rejected { remote } = e.kind {
                        return remote;
                    }
                }
                None => panic!("B's events ended"),
            }
        }
    })
    .await
    .expect("B never refused A's connection");
    assert_eq!(refused.ip(), v4(74));
    assert_ne!(b.state(), State::Established);
    a.shutdown(Stop::default()).await;
    b.shutdown(Stop::default()).await;
}

/// Bytes that are no BGP message: the header check fails, the session
/// answers with a Message Header Error (Connection Not Synchronized, 1/1)
/// and reads nothing more from that connection.
#[tokio::test]
async fn a_bad_header_is_answered_with_a_header_error() {
    let raw = TcpListener::bind(SocketAddr::new(v4(81), 0)).await.unwrap();
    let a_cfg = peer(session(65001, 1, 65002), raw.local_addr().unwrap(), v4(82));
    let (a, mut a_events) = Peer::spawn(a_cfg, None).unwrap();
    a.start().unwrap();
    let (mut s, _) = timeout(WAIT, raw.accept()).await.unwrap().unwrap();
    let mut buf = BytesMut::new();
    assert!(matches!(
        read_message(&mut s, &mut buf, WAIT).await,
        Some(Message::Open(_))
    ));
    // A header whose marker is not all ones.
    let mut junk = vec![0u8; 16];
    junk.extend_from_slice(&[0, 19, 4]);
    s.write_all(&junk).await.unwrap();
    let e = wait_event(&mut a_events, WAIT, |e| {
        matches!(&e.kind, PeerEventKind::Session(Action::Notification(n))
            if n.direction == NotificationDirection::Sent)
    })
    .await
    .expect("a NOTIFICATION sent");
    let PeerEventKind::Session(Action::Notification(n)) = e.kind else {
        unreachable!()
    };
    assert_eq!((n.code(), n.subcode()), (1, 1));
    match read_message(&mut s, &mut buf, WAIT).await {
        Some(Message::Notification(n)) => assert_eq!(n.code.to_pair(), (1, 1)),
        other => panic!("expected the header error, got {other:?}"),
    }
    assert!(
        read_message(&mut s, &mut buf, WAIT).await.is_none(),
        "closed"
    );
    a.shutdown(Stop::default()).await;
}

/// `PeerHandle::shutdown` of an Established session returns as soon as the
/// peer has closed its end after our NOTIFICATION, not at
/// `close_timeout`: the driver used to notice the last closed connection
/// only at its next input, the shutdown deadline.
#[tokio::test]
async fn shutdown_returns_when_the_peer_has_closed() {
    let (a_addr, b_addr) = (v4(91), v4(92));
    let listener = Listener::bind(SocketAddr::new(b_addr, 0)).unwrap();
    let close_timeout = Duration::from_secs(10);
    let mut a_cfg = peer(session(65001, 1, 65002), listener.local_addr(), a_addr);
    a_cfg.close_timeout = close_timeout;
    let mut b_cfg = peer(
        session(65002, 2, 65001),
        SocketAddr::new(a_addr, 179),
        b_addr,
    );
    b_cfg.passive = true;
    let (b, mut b_events) = Peer::spawn(b_cfg, Some(&listener)).unwrap();
    let (a, _a_events) = Peer::spawn(a_cfg, None).unwrap();
    b.start().unwrap();
    a.start().unwrap();
    established(&a).await;
    established(&b).await;

    let t = Instant::now();
    timeout(WAIT, a.shutdown(Stop::administrative_shutdown("bye")))
        .await
        .expect("shutdown returns");
    let took = t.elapsed();
    assert!(
        took < Duration::from_secs(3),
        "shutdown took {took:?} (close_timeout {close_timeout:?})"
    );
    assert!(
        wait_event(&mut b_events, WAIT, |e| matches!(&e.kind,
            PeerEventKind::Session(Action::Notification(n))
                if n.direction == NotificationDirection::Received && n.code() == 6))
        .await
        .is_some(),
        "the peer got the Cease"
    );
    b.shutdown(Stop::default()).await;
}
