//! A rough throughput figure (not a benchmark, and not run by default): a
//! sender peer (bgp-fsm's transport) announces N IPv4 /24s in packed
//! UPDATEs, one attribute set per 10 prefixes, to a speaker, which passes
//! them to a monitor speaker; the time until the monitor holds them all,
//! and the speaker's CPU time, are printed.
//!
//! `THROUGHPUT_PREFIXES=1000000 cargo test --release -p bgp-speaker --test throughput -- --ignored --nocapture`
//!
//! Measured once on this 2-core machine (load average about 2), release
//! build: 1,000,000 prefixes in 1.64 s wall clock, 2.3 s of CPU for the
//! whole process (the sender's transport, the speaker and the monitor
//! speaker together); 200,000 in 0.27 s.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use bgp_fsm::transport::{Peer, PeerConfig as FsmPeerConfig, PeerEventKind};
use bgp_fsm::{Action, SessionConfig, State};
use bgp_speaker::{Family, PeerConfig, Speaker};
use bgp_wire::attribute::{AsPath, Origin, PathAttributes};
use bgp_wire::message::update::builder;
use bgp_wire::nlri::Nlri;
use bgp_wire::{AfiSafi, Update};
use ipnet::{IpNet, Ipv4Net};

fn cpu_seconds() -> f64 {
    // utime + stime of this process, from /proc (Linux).
    let Ok(s) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let after = s.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let t = |i: usize| f.get(i).and_then(|x| x.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run with --ignored --release"]
async fn one_sender_to_monitor() {
    let n: u32 = std::env::var("THROUGHPUT_PREFIXES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
    let s = Speaker::builder(65100, "10.0.0.100".parse().unwrap())
        .listen("127.0.10.1:0".parse().unwrap())
        .families([Family::Ipv4Unicast])
        .start()
        .await
        .unwrap();
    let m = Speaker::builder(65102, "10.0.0.102".parse().unwrap())
        .listen("127.0.10.3:0".parse().unwrap())
        .families([Family::Ipv4Unicast])
        .start()
        .await
        .unwrap();
    let sport = s.listen_addrs()[0].port();
    let mport = m.listen_addrs()[0].port();
    s.add_peer(
        PeerConfig::new(ip("127.0.10.2"), 65101)
            .local_address(ip("127.0.10.1"))
            .hold_time(90)
            .passive(),
    )
    .await
    .unwrap();
    s.add_peer(
        PeerConfig::new(ip("127.0.10.3"), 65102)
            .port(mport)
            .local_address(ip("127.0.10.1"))
            .hold_time(90),
    )
    .await
    .unwrap();
    m.add_peer(
        PeerConfig::new(ip("127.0.10.1"), 65100)
            .local_address(ip("127.0.10.3"))
            .hold_time(90)
            .passive(),
    )
    .await
    .unwrap();
    let mut sc = SessionConfig::new(65101, "10.0.0.101".parse().unwrap(), 65100);
    sc.hold_time = 90;
    let mut pc = FsmPeerConfig::new(sc, SocketAddr::new(ip("127.0.10.1"), sport));
    pc.local = Some(ip("127.0.10.2"));
    let (h, mut ev) = Peer::spawn(pc, None).unwrap();
    h.start().unwrap();
    let neg = loop {
        let e = ev.recv().await.unwrap();
        if let PeerEventKind::Session(Action::Established(n)) = e.kind {
            break n;
        }
    };
    tokio::spawn(async move { while ev.recv().await.is_some() {} });
    loop {
        let up = m
            .peer(ip("127.0.10.1"))
            .is_some_and(|p| p.state == State::Established);
        if up {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The UPDATEs, built before the clock starts.
    let ctx = neg.session_context().clone();
    let rb = ctx.reversed();
    let mut updates = Vec::new();
    let prefixes: Vec<Nlri> = (0..n)
        .map(|i| {
            let a = Ipv4Addr::from(0x0b00_0000u32 + (i << 8));
            Nlri::new(IpNet::V4(Ipv4Net::new(a, 24).unwrap()))
        })
        .collect();
    for (k, chunk) in prefixes.chunks(10).enumerate() {
        let attrs = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(&[65101, 64512 + (k as u32 % 500)])),
            next_hop: Some("127.0.10.2".parse().unwrap()),
            multi_exit_disc: Some(k as u32),
            ..PathAttributes::default()
        };
        for b in builder::announce(&ctx, AfiSafi::IPV4_UNICAST, &attrs, None, chunk).unwrap() {
            updates.push(Update::decode(b.slice(19..), &rb).unwrap());
        }
    }
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let sender = tokio::spawn(async move {
        for u in updates {
            h.send_update(u).await.unwrap();
        }
        h
    });
    let mut sub = m.subscribe().await.unwrap();
    let mut seen = 0usize;
    while seen < n as usize {
        let Ok(b) = tokio::time::timeout(Duration::from_secs(30), sub.recv_batch()).await else {
            panic!(
                "stalled at {seen} of {n}:\nspeaker {:#?}\nmonitor {:#?}",
                s.peers()
                    .iter()
                    .map(|p| (p.address, p.state, p.counters))
                    .collect::<Vec<_>>(),
                m.peers()
                    .iter()
                    .map(|p| (p.address, p.state, p.counters))
                    .collect::<Vec<_>>()
            );
        };
        seen += b.unwrap().iter().filter(|c| !c.is_withdrawal()).count();
    }
    let wall = t0.elapsed();
    let cpu = cpu_seconds() - cpu0;
    let h = sender.await.unwrap();
    eprintln!(
        "{n} prefixes ({} per attribute set) sender -> speaker -> monitor: {:.2} s, {:.0} prefixes/s; \
         CPU of the whole process (sender, speaker, monitor) {:.2} s",
        10,
        wall.as_secs_f64(),
        f64::from(n) / wall.as_secs_f64(),
        cpu
    );
    h.shutdown(bgp_fsm::Stop::default()).await;
    s.shutdown("").await;
    m.shutdown("").await;
}
