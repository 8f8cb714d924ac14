//! The library's per-peer options on loopback sessions (127.0.41-43.x,
//! ports the system picks): message and prefix counters per peer, ADD-PATH
//! send of the best N paths or of all of them, a caller's next-hop
//! resolver deciding best paths (IGP cost, unreachable next hops) and
//! re-run when it changes, and every peer option of the builder reaching
//! the session.
//!
//! `cargo test -p bgp-speaker --test library`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bgp_fsm::State;
use bgp_rib::DecisionStep;
use bgp_rib::policy::{Condition, DefaultAction, Policy, PrefixSet, Term};
use bgp_speaker::{
    AddPathMode, AddPathPaths, Family, Originate, PeerChange, PeerConfig, PeerStatus, RouteInfo,
    RouteSource, Speaker,
};
use ipnet::IpNet;

const WAIT: Duration = Duration::from_secs(20);

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn v4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn port_of(s: &Speaker, addr: IpAddr) -> u16 {
    s.listen_addrs()
        .iter()
        .find(|a| a.ip() == addr)
        .map(SocketAddr::port)
        .unwrap()
}

/// A peer at `remote` (its speaker's listener port), from `local`, fast
/// timers.
fn peer(remote_speaker: &Speaker, remote: &str, asn: u32, local: &str) -> PeerConfig {
    PeerConfig::new(ip(remote), asn)
        .port(port_of(remote_speaker, ip(remote)))
        .local_address(ip(local))
        .hold_time(9)
        .connect_retry(1)
        .restart_delay(1)
}

/// A speaker listening on `addr` (port picked by the system).
async fn speaker(asn: u32, id: &str, addr: &str, originate: &[&str]) -> Speaker {
    let mut b = Speaker::builder(asn, v4(id)).listen(SocketAddr::new(ip(addr), 0));
    for p in originate {
        b = b.originate(Originate::new(net(p)));
    }
    b.start().await.unwrap()
}

/// Waits until `s`'s peer `addr` passes `f`, and returns its status.
async fn peer_where(
    s: &Speaker,
    addr: &str,
    what: &str,
    f: impl Fn(&PeerStatus) -> bool,
) -> PeerStatus {
    let end = tokio::time::Instant::now() + WAIT;
    loop {
        let st = s.peer(ip(addr)).unwrap();
        if f(&st) {
            return st;
        }
        if tokio::time::Instant::now() > end {
            panic!("timed out waiting for {what}: {st:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn established(s: &Speaker, addr: &str) -> PeerStatus {
    peer_where(s, addr, &format!("{addr} established"), |p| {
        p.state == State::Established
    })
    .await
}

/// Waits until `s` holds `prefix` with `f` true of it.
async fn route_where(
    s: &Speaker,
    prefix: &str,
    what: &str,
    f: impl Fn(&RouteInfo) -> bool,
) -> RouteInfo {
    let p = net(prefix);
    let end = tokio::time::Instant::now() + WAIT;
    loop {
        let r = s.route(p).await.unwrap();
        if let Some(r) = r.as_ref().filter(|r| f(r)) {
            return r.clone();
        }
        if tokio::time::Instant::now() > end {
            panic!("timed out waiting for {what}: {r:?} {:?}", s.peers());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_per_peer() {
    // S1 (AS 65041) originates three prefixes to S2 (AS 65042), whose
    // import policy refuses one of them; S2 originates one.
    let s1 = speaker(
        65041,
        "10.41.0.1",
        "127.0.41.1",
        &["10.141.1.0/24", "10.141.2.0/24", "10.141.3.0/24"],
    )
    .await;
    let refuse = Policy::new("refuse-3")
        .term(
            Term::new("three")
                .when(Condition::prefix_in(Arc::new(
                    PrefixSet::parse(["10.141.3.0/24"]).unwrap(),
                )))
                .reject(),
        )
        .default_action(DefaultAction::Accept);
    let s2 = Speaker::builder(65042, v4("10.41.0.2"))
        .listen("127.0.41.2:0".parse().unwrap())
        .policy(refuse)
        .originate(Originate::new(net("10.142.0.0/24")))
        .start()
        .await
        .unwrap();
    // An unreachable third peer: its failed connection attempts are
    // errors (nothing listens on 127.0.41.3's port 9).
    s1.add_peer(
        PeerConfig::new(ip("127.0.41.3"), 65043)
            .port(9)
            .local_address(ip("127.0.41.1"))
            .connect_retry(1),
    )
    .await
    .unwrap();
    // S2 (passive) knows S1 before S1 connects: a connection from an
    // address it does not know yet would be refused with a Cease.
    s2.add_peer(
        peer(&s1, "127.0.41.1", 65041, "127.0.41.2")
            .passive()
            .import(["refuse-3"]),
    )
    .await
    .unwrap();
    s1.add_peer(peer(&s2, "127.0.41.2", 65042, "127.0.41.1"))
        .await
        .unwrap();

    // Establishing took an OPEN and a KEEPALIVE each way, counted.
    let at_s2 = established(&s2, "127.0.41.1").await;
    let c = at_s2.counters;
    assert!(c.opens_in >= 1 && c.opens_out >= 1, "{c:?}");
    assert!(c.keepalives_in >= 1 && c.keepalives_out >= 1, "{c:?}");
    assert_eq!(c.established, 1, "{c:?}");

    // Prefixes: S2 received 3 from S1 and accepted 2; it advertises its
    // own and S1's two back (S1 refuses those two as AS loops); S1
    // advertises its 3 and S2's one back.
    let at_s2 = peer_where(&s2, "127.0.41.1", "S2's prefix counters", |p| {
        p.counters.prefixes_received >= 3
            && p.counters.prefixes_accepted == 2
            && p.counters.prefixes_advertised == 3
    })
    .await;
    // Every announcement counts: a connection collision or S1's routes
    // from S2 coming back may add some.
    assert!(
        at_s2.counters.prefixes_rejected >= 1,
        "{:?}",
        at_s2.counters
    );
    let at_s1 = peer_where(&s1, "127.0.41.2", "S1's prefix counters", |p| {
        p.counters.prefixes_received >= 3
            && p.counters.prefixes_accepted == 1
            && p.counters.prefixes_advertised == 4
    })
    .await;
    let c = at_s1.counters;
    assert!(c.prefixes_rejected >= 2, "{c:?}");
    // UPDATEs each way (with End-of-RIB), no errors on a clean session.
    assert!(c.updates_in >= 2 && c.updates_out >= 2, "{c:?}");
    assert_eq!(c.errors, 0, "{c:?}");
    assert_eq!(c.notifications_in + c.notifications_out, 0, "{c:?}");

    // ROUTE-REFRESH: a soft reset in at S2 sends one, S1 counts it in.
    s2.soft_reset_in(ip("127.0.41.1")).await.unwrap();
    peer_where(&s1, "127.0.41.2", "ROUTE-REFRESH at S1", |p| {
        p.counters.route_refresh_in >= 1
    })
    .await;
    assert!(
        s2.peer(ip("127.0.41.1"))
            .unwrap()
            .counters
            .route_refresh_out
            >= 1
    );

    // A withdrawal counts at the receiver.
    s1.withdraw([net("10.141.1.0/24")]).await.unwrap();
    peer_where(&s2, "127.0.41.1", "a withdrawal at S2", |p| {
        p.counters.prefixes_withdrawn >= 1 && p.counters.prefixes_accepted == 1
    })
    .await;

    // A NOTIFICATION: S2's hold time changes, which resets the session
    // (Cease / Other Configuration Change) and starts a new peer with new
    // counters at S2; S1's, the same peer, counts the Cease in and
    // survives the reset.
    let before_in = s1.peer(ip("127.0.41.2")).unwrap().counters.notifications_in;
    s2.update_peer(
        peer(&s1, "127.0.41.1", 65041, "127.0.41.2")
            .passive()
            .import(["refuse-3"])
            .hold_time(12),
    )
    .await
    .unwrap();
    peer_where(&s1, "127.0.41.2", "the Cease at S1", |p| {
        p.counters.notifications_in > before_in
    })
    .await;
    peer_where(&s1, "127.0.41.2", "S1 established again", |p| {
        p.state == State::Established && p.counters.established >= 2
    })
    .await;

    // The unreachable peer: failed connections are errors.
    peer_where(&s1, "127.0.41.3", "connect errors", |p| {
        p.counters.errors >= 1
    })
    .await;

    s1.shutdown("done").await;
    s2.shutdown("done").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_path_best_n_and_all() {
    // Three eBGP sources of one prefix (AS 65051-65053) at R (AS 65050),
    // which sends with ADD-PATH to its iBGP client C: the best 2, then
    // (changed without a reset) all 3.
    let prefix = "10.150.0.0/24";
    let mut sources = Vec::new();
    for i in 1..=3u32 {
        sources.push(
            speaker(
                65050 + i,
                &format!("10.42.0.{i}"),
                &format!("127.0.42.{i}"),
                &[prefix],
            )
            .await,
        );
    }
    let r = speaker(65050, "10.42.0.10", "127.0.42.10", &[]).await;
    let c = speaker(65050, "10.42.0.20", "127.0.42.20", &[]).await;
    for (i, s) in sources.iter().enumerate() {
        let a = format!("127.0.42.{}", i + 1);
        s.add_peer(peer(&r, "127.0.42.10", 65050, &a))
            .await
            .unwrap();
        r.add_peer(peer(s, &a, 65051 + i as u32, "127.0.42.10").passive())
            .await
            .unwrap();
    }
    let to_c = peer(&c, "127.0.42.20", 65050, "127.0.42.10")
        .rr_client()
        .add_path(AddPathMode::Send)
        .add_path_paths(Family::Ipv4Unicast, AddPathPaths::Best(2));
    r.add_peer(to_c.clone()).await.unwrap();
    c.add_peer(
        peer(&r, "127.0.42.10", 65050, "127.0.42.20")
            .passive()
            .add_path(AddPathMode::Receive),
    )
    .await
    .unwrap();

    let at_r = route_where(&r, prefix, "3 paths at R", |ri| ri.paths.len() == 3).await;
    let best_at_r = at_r.best().unwrap().next_hop();
    let st = established(&c, "127.0.42.10").await;
    assert!(
        st.negotiated
            .unwrap()
            .add_path_receive
            .contains(&bgp_wire::AfiSafi::IPV4_UNICAST)
    );
    let at_c = route_where(&c, prefix, "2 paths at C", |ri| ri.paths.len() == 2).await;
    // Both from R, with their own path identifiers, R's best among them.
    assert!(
        at_c.paths
            .iter()
            .all(|p| p.path.source == RouteSource::Peer(ip("127.0.42.10")))
    );
    assert_ne!(at_c.paths[0].path.path_id, at_c.paths[1].path.path_id);
    assert!(
        at_c.paths.iter().any(|p| p.path.next_hop() == best_at_r),
        "{at_c:?}"
    );

    // All paths: a soft change.
    let all = to_c.add_path_paths(Family::Ipv4Unicast, AddPathPaths::All);
    assert_eq!(r.update_peer(all).await.unwrap(), PeerChange::Soft);
    let at_c = route_where(&c, prefix, "3 paths at C", |ri| ri.paths.len() == 3).await;
    let mut hops: Vec<_> = at_c.paths.iter().map(|p| p.path.next_hop()).collect();
    hops.dedup();
    assert_eq!(hops.len(), 3, "{at_c:?}");
    assert_eq!(c.peer(ip("127.0.42.10")).unwrap().counters.established, 1);

    for s in sources.iter().chain([&r, &c]) {
        s.shutdown("done").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolver_decides_and_is_rerun() {
    // A1 (AS 65061) and A2 (AS 65062) send the same prefix to R (AS
    // 65060), whose resolver gives each next hop's IGP cost (or
    // unreachable); R sends its best to M (AS 65063).
    let prefix = "10.160.0.0/24";
    let a1 = speaker(65061, "10.43.0.1", "127.0.43.1", &[prefix]).await;
    let a2 = speaker(65062, "10.43.0.2", "127.0.43.2", &[prefix]).await;
    let costs: Arc<Mutex<HashMap<IpAddr, Option<u32>>>> = Arc::default();
    let table = Arc::clone(&costs);
    let r = Speaker::builder(65060, v4("10.43.0.10"))
        .listen("127.0.43.10:0".parse().unwrap())
        .resolver(move |nh: IpAddr| table.lock().unwrap().get(&nh).copied().unwrap_or(Some(10)))
        .start()
        .await
        .unwrap();
    let m = speaker(65063, "10.43.0.20", "127.0.43.20", &[]).await;
    for (s, a, asn) in [(&a1, "127.0.43.1", 65061), (&a2, "127.0.43.2", 65062)] {
        s.add_peer(peer(&r, "127.0.43.10", 65060, a)).await.unwrap();
        r.add_peer(peer(s, a, asn, "127.0.43.10").passive())
            .await
            .unwrap();
    }
    r.add_peer(peer(&m, "127.0.43.20", 65063, "127.0.43.10"))
        .await
        .unwrap();
    m.add_peer(peer(&r, "127.0.43.10", 65060, "127.0.43.20").passive())
        .await
        .unwrap();
    let first_as = |ri: &RouteInfo| ri.best().map(|b| b.as_path_asns()).unwrap_or_default();

    // Equal costs: the lower router ID (A1) wins.
    let ri = route_where(&r, prefix, "both paths at R", |ri| ri.paths.len() == 2).await;
    assert_eq!(
        ri.best().unwrap().source,
        RouteSource::Peer(ip("127.0.43.1"))
    );
    assert_eq!(ri.step, Some(DecisionStep::RouterId));
    route_where(&m, prefix, "A1's path at M", |ri| {
        first_as(ri) == vec![65060, 65061]
    })
    .await;

    // A1's next hop costs more: A2 wins by IGP cost, and M is told.
    costs.lock().unwrap().insert(ip("127.0.43.1"), Some(100));
    assert_eq!(r.reresolve().await.unwrap(), 1);
    let ri = r.route(net(prefix)).await.unwrap().unwrap();
    assert_eq!(
        ri.best().unwrap().source,
        RouteSource::Peer(ip("127.0.43.2"))
    );
    assert_eq!(ri.step, Some(DecisionStep::IgpCost));
    route_where(&m, prefix, "A2's path at M", |ri| {
        first_as(ri) == vec![65060, 65062]
    })
    .await;

    // A2's next hop becomes unreachable: it loses to A1 although A1's
    // costs more.
    costs.lock().unwrap().insert(ip("127.0.43.2"), None);
    assert_eq!(r.reresolve().await.unwrap(), 1);
    let ri = r.route(net(prefix)).await.unwrap().unwrap();
    assert_eq!(
        ri.best().unwrap().source,
        RouteSource::Peer(ip("127.0.43.1"))
    );
    let lost = ri.paths.iter().find(|p| !p.best).unwrap();
    assert_eq!(lost.lost_at, Some(DecisionStep::NextHopReachable), "{ri:?}");
    route_where(&m, prefix, "A1's path at M again", |ri| {
        first_as(ri) == vec![65060, 65061]
    })
    .await;

    // Nothing changed: nothing reselected.
    assert_eq!(r.reresolve().await.unwrap(), 0);

    for s in [&a1, &a2, &r, &m] {
        s.shutdown("done").await;
    }
}
