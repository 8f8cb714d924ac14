//! Speakers in one process on loopback addresses (127.0.x.y, ports the
//! system picks): an eBGP pair with two sessions (ECMP), an iBGP route
//! reflector and its client; routes exchanged, best-path changes with
//! every ECMP next hop at a subscriber, peers added, changed (with and
//! without a reset) and removed at run time, originate and withdraw, soft
//! resets, graceful shutdown with a message the other side shows; a slow
//! subscriber's memory bounded by coalescing; a peer that stops reading
//! kept to a bounded backlog, then caught up exactly; configuration from
//! TOML and reload; soft reconfiguration inbound; TCP MD5; graceful restart
//! helper (stale routes kept, swept at End-of-RIB); a prefix limit; a dropped
//! handle closing its sessions.
//!
//! `cargo test -p bgp-speaker --test loopback`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use bgp_fsm::State;
use bgp_rib::policy::{Actions, Condition, DefaultAction, Policy, PrefixSet, Term};
use bgp_rib::{DecisionStep, NextHop};
use bgp_speaker::{Config, Originate, PeerChange, PeerConfig, RouteSource, Speaker, Subscription};
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

/// A peer at `remote` (its speaker's listener port), from `local`, fast
/// timers for tests.
fn peer(remote_speaker: &Speaker, remote: &str, asn: u32, local: &str) -> PeerConfig {
    PeerConfig::new(ip(remote), asn)
        .port(port_of(remote_speaker, ip(remote)))
        .local_address(ip(local))
        .hold_time(9)
        .connect_retry(1)
}

async fn established(s: &Speaker, peer: &str) {
    let a = ip(peer);
    eventually(&format!("{peer} established"), || async {
        s.peer(a)
            .filter(|p| p.state == State::Established)
            .map(|_| ())
    })
    .await;
}

/// Reads the subscription until `prefix` shows `n` next hops.
async fn next_hops_seen(sub: &mut Subscription, prefix: IpNet, n: usize) -> Vec<NextHop> {
    let end = tokio::time::Instant::now() + WAIT;
    loop {
        let left = end.saturating_duration_since(tokio::time::Instant::now());
        let batch = tokio::time::timeout(left, sub.recv_batch())
            .await
            .unwrap_or_else(|_| panic!("{prefix} never had {n} next hops"))
            .unwrap();
        for c in batch.into_iter().rev() {
            if c.prefix == prefix {
                if c.next_hops.len() == n {
                    return c.next_hops;
                }
                break;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_speakers() {
    // S1 (AS 65001) on 127.0.1.1 and 127.0.1.11; S2 (AS 65002, route
    // reflector) on 127.0.1.2 and 127.0.1.12; S3 (AS 65002, its client) on
    // 127.0.1.3. S1 and S2 have two eBGP sessions: .1-.2 and .11-.12.
    let s1 = Speaker::builder(65001, v4("10.0.0.1"))
        .listen("127.0.1.1:0".parse().unwrap())
        .listen("127.0.1.11:0".parse().unwrap())
        .max_paths(4)
        .originate(Originate::new(net("10.1.0.0/24")).med(5))
        .start()
        .await
        .unwrap();
    let s2 = Speaker::builder(65002, v4("10.0.0.2"))
        .listen("127.0.1.2:0".parse().unwrap())
        .listen("127.0.1.12:0".parse().unwrap())
        .max_paths(4)
        .policy(
            Policy::new("not-10.1")
                .term(
                    Term::new("deny")
                        .when(Condition::prefix_in(std::sync::Arc::new(
                            PrefixSet::parse(["10.1.0.0/24"]).unwrap(),
                        )))
                        .reject(),
                )
                .default_action(DefaultAction::Accept),
        )
        .start()
        .await
        .unwrap();
    let s3 = Speaker::builder(65002, v4("10.0.0.3"))
        .listen("127.0.1.3:0".parse().unwrap())
        .originate(Originate::new(net("10.3.0.0/24")).community("65002:3"))
        .start()
        .await
        .unwrap();

    let mut fib2 = s2.subscribe().await.unwrap();

    s1.add_peer(peer(&s2, "127.0.1.2", 65002, "127.0.1.1"))
        .await
        .unwrap();
    s1.add_peer(peer(&s2, "127.0.1.12", 65002, "127.0.1.11"))
        .await
        .unwrap();
    // S2 waits for its peers to connect (no collisions to resolve).
    s2.add_peer(peer(&s1, "127.0.1.1", 65001, "127.0.1.2").passive())
        .await
        .unwrap();
    s2.add_peer(peer(&s1, "127.0.1.11", 65001, "127.0.1.12").passive())
        .await
        .unwrap();
    s2.add_peer(
        peer(&s3, "127.0.1.3", 65002, "127.0.1.2")
            .rr_client()
            .passive(),
    )
    .await
    .unwrap();
    s3.add_peer(peer(&s2, "127.0.1.2", 65002, "127.0.1.3"))
        .await
        .unwrap();
    for (s, p) in [
        (&s1, "127.0.1.2"),
        (&s1, "127.0.1.12"),
        (&s2, "127.0.1.1"),
        (&s2, "127.0.1.11"),
        (&s2, "127.0.1.3"),
        (&s3, "127.0.1.2"),
    ] {
        established(s, p).await;
    }

    // S2: S1's prefix over both sessions, both next hops (ECMP), at the
    // subscriber.
    let p1 = net("10.1.0.0/24");
    let mut hops = next_hops_seen(&mut fib2, p1, 2).await;
    hops.sort();
    assert_eq!(
        hops,
        vec![
            NextHop::from(ip("127.0.1.1")),
            NextHop::from(ip("127.0.1.11"))
        ]
    );
    let r = s2.route(p1).await.unwrap().unwrap();
    assert_eq!(r.paths.len(), 2, "{r:?}");
    assert!(r.paths.iter().all(|p| p.multipath), "{r:?}");
    let best = r.best().unwrap();
    assert_eq!(best.as_path_asns(), vec![65001]);
    assert_eq!(best.med(), Some(5), "MED of S1's own route is sent to eBGP");
    assert_eq!(best.local_pref(), None);

    // S3 (client): S1's prefix through the reflector, next hop unchanged,
    // LOCAL_PREF 100.
    let r3 = eventually("10.1.0.0/24 at S3", || async {
        s3.route(p1).await.unwrap()
    })
    .await;
    let b3 = r3.best().unwrap();
    assert_eq!(b3.source, RouteSource::Peer(ip("127.0.1.2")));
    assert_eq!(b3.as_path_asns(), vec![65001]);
    assert_eq!(b3.local_pref(), Some(100));
    assert!(matches!(b3.next_hop().addr(), a if a == ip("127.0.1.1") || a == ip("127.0.1.11")));

    // S1: S3's prefix through S2 over both sessions: AS path 65002, next
    // hop S2's address on each session, ECMP; community kept.
    let p3 = net("10.3.0.0/24");
    let r1 = eventually("10.3.0.0/24 at S1 over both sessions", || async {
        s1.route(p3).await.unwrap().filter(|r| r.paths.len() == 2)
    })
    .await;
    let b1 = r1.best().unwrap();
    assert_eq!(b1.as_path_asns(), vec![65002]);
    assert_eq!(b1.local_pref(), None);
    assert_eq!(b1.communities().unwrap().to_string(), "65002:3");
    let mut nh: Vec<IpAddr> = r1.paths.iter().map(|p| p.path.next_hop().addr()).collect();
    nh.sort();
    assert_eq!(nh, vec![ip("127.0.1.2"), ip("127.0.1.12")]);
    let best1 = s1.best_routes().await.unwrap();
    let e = best1.iter().find(|b| b.prefix == p3).unwrap();
    assert_eq!(e.next_hops.len(), 2, "{e:?}");

    // Counters.
    let c = s2.peer(ip("127.0.1.3")).unwrap().counters;
    assert!(c.updates_in >= 1 && c.updates_out >= 1, "{c:?}");
    assert_eq!(c.prefixes_accepted, 1, "{c:?}");
    assert!(c.prefixes_advertised >= 1, "{c:?}");
    let n = s2.peer(ip("127.0.1.3")).unwrap().negotiated.unwrap();
    assert!(n.route_refresh && n.four_octet_as, "{n:?}");

    // An export policy change towards S3: soft, no reset; S3 loses S1's
    // prefix, then gets it back when the policy goes.
    let before = s2.peer(ip("127.0.1.3")).unwrap();
    let changed = peer(&s3, "127.0.1.3", 65002, "127.0.1.2")
        .rr_client()
        .passive()
        .export(["not-10.1"]);
    assert_eq!(s2.update_peer(changed).await.unwrap(), PeerChange::Soft);
    eventually("S3 without 10.1.0.0/24", || async {
        s3.route(p1).await.unwrap().is_none().then_some(())
    })
    .await;
    assert!(s3.route(p3).await.unwrap().is_some());
    let after = s2.peer(ip("127.0.1.3")).unwrap();
    assert_eq!(after.established_count, before.established_count);
    assert_eq!(after.connection, before.connection);
    assert_eq!(after.established_at, before.established_at);
    let plain = peer(&s3, "127.0.1.3", 65002, "127.0.1.2")
        .rr_client()
        .passive();
    assert_eq!(s2.update_peer(plain).await.unwrap(), PeerChange::Soft);
    eventually("10.1.0.0/24 back at S3", || async {
        s3.route(p1).await.unwrap()
    })
    .await;

    // An import policy change on S1 (LOCAL_PREF 200 from .2): soft, by
    // route refresh; the best path is now decided by LOCAL_PREF.
    let before = s1.peer(ip("127.0.1.2")).unwrap();
    let lp = peer(&s2, "127.0.1.2", 65002, "127.0.1.1").import(["prefer"]);
    assert!(
        s1.update_peer(lp.clone()).await.is_err(),
        "no policy named prefer yet"
    );
    let cfg = {
        let mut c = s1.config();
        c.policy = toml::from_str::<bgp_rib::policy::PolicyDocument>(
            r#"
            [[policy]]
            name = "prefer"
            default = "accept"
            [[policy.term]]
            set.local_pref = 200
            "#,
        )
        .unwrap()
        .policy;
        for p in &mut c.peers {
            if p.address == ip("127.0.1.2") {
                p.import = vec!["prefer".into()];
            }
        }
        c
    };
    let report = s1.reload(cfg).await.unwrap();
    assert_eq!(report.peers, vec![(ip("127.0.1.2"), PeerChange::Soft)]);
    let r = eventually("LOCAL_PREF 200 on 10.3.0.0/24 at S1", || async {
        s1.route(p3)
            .await
            .unwrap()
            .filter(|r| r.best().is_some_and(|b| b.local_pref() == Some(200)))
    })
    .await;
    assert_eq!(r.step, Some(DecisionStep::LocalPref));
    assert_eq!(r.best().unwrap().source, RouteSource::Peer(ip("127.0.1.2")));
    let after = s1.peer(ip("127.0.1.2")).unwrap();
    assert_eq!(after.established_count, before.established_count);
    assert_eq!(after.connection, before.connection);
    assert!(after.counters.route_refresh_out > before.counters.route_refresh_out);
    let s2c = s2.peer(ip("127.0.1.1")).unwrap().counters;
    assert!(s2c.route_refresh_in >= 1, "{s2c:?}");

    // Soft reset out: everything sent again, no reset.
    let before = s2.peer(ip("127.0.1.3")).unwrap();
    s2.soft_reset_out(ip("127.0.1.3")).await.unwrap();
    eventually("UPDATEs sent again to S3", || async {
        let p = s2.peer(ip("127.0.1.3")).unwrap();
        (p.counters.updates_out > before.counters.updates_out).then_some(())
    })
    .await;
    assert_eq!(
        s2.peer(ip("127.0.1.3")).unwrap().established_count,
        before.established_count
    );
    s3.soft_reset_in(ip("127.0.1.2")).await.unwrap();

    // Originate and withdraw at run time.
    let p1b = net("10.1.1.0/24");
    s1.originate(Originate::new(p1b)).await.unwrap();
    next_hops_seen(&mut fib2, p1b, 2).await;
    eventually("10.1.1.0/24 at S3", || async {
        s3.route(p1b).await.unwrap()
    })
    .await;
    assert_eq!(s1.withdraw([p1b]).await.unwrap(), 1);
    next_hops_seen(&mut fib2, p1b, 0).await;
    eventually("10.1.1.0/24 gone at S3", || async {
        s3.route(p1b).await.unwrap().is_none().then_some(())
    })
    .await;

    // A reset change: a new hold time; S2 sees a new session.
    let before = s2.peer(ip("127.0.1.11")).unwrap().established_count;
    let reset = peer(&s2, "127.0.1.12", 65002, "127.0.1.11").hold_time(12);
    assert_eq!(s1.update_peer(reset).await.unwrap(), PeerChange::Reset);
    eventually("a new session .11-.12", || async {
        s2.peer(ip("127.0.1.11"))
            .filter(|p| p.state == State::Established && p.established_count > before)
            .map(|_| ())
    })
    .await;
    established(&s1, "127.0.1.12").await;

    // Peer removal: S2 sees Cease / Peer De-configured, loses one next hop.
    let before = s2.peer(ip("127.0.1.11")).unwrap().counters.notifications_in;
    s1.remove_peer(ip("127.0.1.12")).await.unwrap();
    assert!(s1.peer(ip("127.0.1.12")).is_none());
    next_hops_seen(&mut fib2, p1, 1).await;
    eventually("S2's session .11 closed by a NOTIFICATION", || async {
        s2.peer(ip("127.0.1.11"))
            .filter(|p| p.state != State::Established && p.counters.notifications_in > before)
            .map(|_| ())
    })
    .await;
    // And back.
    s1.add_peer(peer(&s2, "127.0.1.12", 65002, "127.0.1.11"))
        .await
        .unwrap();
    next_hops_seen(&mut fib2, p1, 2).await;

    // Graceful shutdown of S1: S2 shows its message.
    s1.shutdown("maintenance window").await;
    let st = eventually("S2 sees S1's shutdown", || async {
        s2.peer(ip("127.0.1.1")).filter(|p| {
            p.last_error
                .as_ref()
                .is_some_and(|e| e.shutdown_communication.is_some())
        })
    })
    .await;
    let err = st.last_error.unwrap();
    assert_eq!(
        err.shutdown_communication.as_deref(),
        Some("maintenance window")
    );
    assert!(err.message.contains("Administrative Shutdown"), "{err:?}");
    next_hops_seen(&mut fib2, p1, 0).await;
    s3.shutdown("done").await;
    s2.shutdown("done").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_subscriber_is_coalesced() {
    let s = Speaker::builder(65010, v4("10.0.0.10"))
        .start()
        .await
        .unwrap();
    let mut sub = s.subscribe().await.unwrap();
    let prefixes: Vec<IpNet> = (0..200u32)
        .map(|i| net(&format!("10.{}.{}.0/24", 20 + i / 256, i % 256)))
        .collect();
    // 50 rounds of changes to the same 200 prefixes, none read.
    for round in 0..50u32 {
        s.originate_many(prefixes.iter().map(|p| Originate::new(*p).med(round)))
            .await
            .unwrap();
        assert!(
            sub.pending() <= prefixes.len(),
            "round {round}: {}",
            sub.pending()
        );
    }
    assert_eq!(sub.pending(), prefixes.len());
    assert!(sub.coalesced() >= 49 * 200 - 200, "{}", sub.coalesced());
    let batch = sub.try_recv_batch().unwrap();
    assert_eq!(batch.len(), prefixes.len());
    assert!(
        batch
            .iter()
            .all(|b| b.best.as_ref().unwrap().med() == Some(49))
    );
    assert_eq!(sub.pending(), 0);
    // Withdrawn while unread: one withdrawal each.
    s.withdraw(prefixes.iter().copied()).await.unwrap();
    let batch = sub.recv_batch().await.unwrap();
    assert_eq!(batch.len(), prefixes.len());
    assert!(batch.iter().all(|b| b.is_withdrawal()));
    s.shutdown("").await;
    assert!(sub.recv_batch().await.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn from_toml_and_reload() {
    let a = Speaker::from_config(
        Config::from_toml(
            r#"
            router_id = "10.0.0.21"
            local_as = 65021
            listen = ["127.0.2.1:0"]
            [[originate]]
            prefix = "10.21.0.0/16"
            large_communities = ["65021:1:2"]
            "#,
        )
        .unwrap(),
    )
    .await
    .unwrap();
    let port = port_of(&a, ip("127.0.2.1"));
    let text = format!(
        r#"
        router_id = "10.0.0.22"
        local_as = 65022
        listen = ["127.0.2.2:0"]
        [[peer]]
        address = "127.0.2.1"
        port = {port}
        remote_as = 65021
        local_address = "127.0.2.2"
        hold_time = 9
        connect_retry_time = 1
        passive = false
        "#
    );
    let cb = Config::from_toml(&text).unwrap();
    let b = Speaker::from_config(cb.clone()).await.unwrap();
    let bport = port_of(&b, ip("127.0.2.2"));
    a.add_peer(
        PeerConfig::new(ip("127.0.2.2"), 65022)
            .port(bport)
            .local_address(ip("127.0.2.1"))
            .hold_time(9)
            .connect_retry(1)
            .passive(),
    )
    .await
    .unwrap();
    established(&b, "127.0.2.1").await;
    let r = eventually("10.21.0.0/16 at B", || async {
        b.route(net("10.21.0.0/16")).await.unwrap()
    })
    .await;
    assert_eq!(
        r.best().unwrap().large_communities().unwrap().to_string(),
        "65021:1:2"
    );
    // Same configuration: nothing changes.
    let mut same = cb.clone();
    same.listen = b.config().listen;
    assert_eq!(b.reload(same.clone()).await.unwrap().peers, vec![]);
    // An import policy rejecting everything: soft, the route goes.
    let mut reject = same.clone();
    reject.policy = toml::from_str::<bgp_rib::policy::PolicyDocument>(
        "[[policy]]\nname = \"none\"\ndefault = \"reject\"\n",
    )
    .unwrap()
    .policy;
    reject.peers[0].import = vec!["none".into()];
    reject.peers[0].soft_reconfiguration_inbound = false;
    let before = b.peer(ip("127.0.2.1")).unwrap().established_count;
    let rep = b.reload(reject).await.unwrap();
    assert_eq!(rep.peers, vec![(ip("127.0.2.1"), PeerChange::Soft)]);
    eventually("10.21.0.0/16 rejected at B", || async {
        b.route(net("10.21.0.0/16"))
            .await
            .unwrap()
            .is_none()
            .then_some(())
    })
    .await;
    assert_eq!(b.peer(ip("127.0.2.1")).unwrap().established_count, before);
    // The router ID cannot change on a running speaker.
    let mut rid = same.clone();
    rid.router_id = v4("10.0.0.99");
    assert!(b.reload(rid).await.is_err());
    // Removing the peer.
    let mut none = same.clone();
    none.peers.clear();
    let rep = b.reload(none).await.unwrap();
    assert_eq!(rep.peers, vec![(ip("127.0.2.1"), PeerChange::Removed)]);
    assert!(b.peers().is_empty());
    a.shutdown("").await;
    b.shutdown("").await;
}

/// Import with soft reconfiguration inbound: a policy change re-runs
/// import from the kept routes, no ROUTE-REFRESH.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soft_reconfiguration_inbound() {
    let a = Speaker::builder(65031, v4("10.0.0.31"))
        .listen("127.0.3.1:0".parse().unwrap())
        .originate(Originate::new(net("10.31.0.0/24")))
        .originate(Originate::new(net("10.31.1.0/24")))
        .start()
        .await
        .unwrap();
    let b = Speaker::builder(65032, v4("10.0.0.32"))
        .listen("127.0.3.2:0".parse().unwrap())
        .policy(
            Policy::new("only-first")
                .term(
                    Term::new("first")
                        .when(Condition::prefix_in(std::sync::Arc::new(
                            PrefixSet::parse(["10.31.0.0/24"]).unwrap(),
                        )))
                        .set(Actions::new().local_pref(50))
                        .accept(),
                )
                .default_action(DefaultAction::Reject),
        )
        .start()
        .await
        .unwrap();
    a.add_peer(peer(&b, "127.0.3.2", 65032, "127.0.3.1"))
        .await
        .unwrap();
    let mut pb = peer(&a, "127.0.3.1", 65031, "127.0.3.2").passive();
    pb.soft_reconfiguration_inbound = true;
    b.add_peer(pb.clone()).await.unwrap();
    established(&b, "127.0.3.1").await;
    eventually("both prefixes at B", || async {
        let v = b.best_routes().await.unwrap();
        (v.len() == 2).then_some(())
    })
    .await;
    let before = b.peer(ip("127.0.3.1")).unwrap();
    assert_eq!(
        b.update_peer(pb.clone().import(["only-first"]))
            .await
            .unwrap(),
        PeerChange::Soft
    );
    eventually("one prefix at B", || async {
        let v = b.best_routes().await.unwrap();
        (v.len() == 1 && v[0].best.as_ref().unwrap().local_pref() == Some(50)).then_some(())
    })
    .await;
    let after = b.peer(ip("127.0.3.1")).unwrap();
    assert_eq!(
        after.counters.route_refresh_out,
        before.counters.route_refresh_out
    );
    assert_eq!(after.established_count, before.established_count);
    assert_eq!(after.counters.prefixes_accepted, 1);
    assert!(after.counters.prefixes_rejected >= 1);
    b.update_peer(pb).await.unwrap();
    eventually("both prefixes back at B", || async {
        let v = b.best_routes().await.unwrap();
        (v.len() == 2).then_some(())
    })
    .await;
    // Dropping the last handle without shutdown closes the sessions too.
    drop(a);
    eventually("B sees A go", || async {
        let p = b.peer(ip("127.0.3.1")).unwrap();
        (p.state != State::Established && b.best_routes().await.unwrap().is_empty()).then_some(())
    })
    .await;
    b.shutdown("").await;
}

/// A peer that stops reading: the speaker's backlog for it stays bounded
/// (it leaves its update group), a healthy peer gets every change at
/// once, and when the stuck peer reads again it catches up to the exact
/// final table (the rejoin's replay and withdrawals).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stuck_peer_is_bounded_and_catches_up() {
    use bgp_fsm::transport::{Peer, PeerConfig as FsmPeerConfig, PeerEventKind};
    use bgp_fsm::{Action, SessionConfig};
    use bgp_wire::attribute::PeerType;
    use std::collections::HashMap;

    let s = Speaker::builder(65040, v4("10.0.0.40"))
        .listen("127.0.4.1:0".parse().unwrap())
        .families([bgp_speaker::Family::Ipv4Unicast])
        .start()
        .await
        .unwrap();
    let b = Speaker::builder(65041, v4("10.0.0.41"))
        .listen("127.0.4.2:0".parse().unwrap())
        .families([bgp_speaker::Family::Ipv4Unicast])
        .start()
        .await
        .unwrap();
    let sport = port_of(&s, ip("127.0.4.1"));
    s.add_peer(peer(&b, "127.0.4.2", 65041, "127.0.4.1").passive())
        .await
        .unwrap();
    b.add_peer(peer(&s, "127.0.4.1", 65040, "127.0.4.2"))
        .await
        .unwrap();
    s.add_peer(
        PeerConfig::new(ip("127.0.4.3"), 65042)
            .local_address(ip("127.0.4.1"))
            .hold_time(120)
            .passive(),
    )
    .await
    .unwrap();

    // The stuck peer: bgp-fsm's transport, whose events we stop reading
    // once it is up (its driver then stops reading its socket).
    let mut sc = SessionConfig::new(65042, v4("10.0.0.42"), 65040);
    sc.hold_time = 120;
    let mut pc = FsmPeerConfig::new(sc, SocketAddr::new(ip("127.0.4.1"), sport));
    pc.local = Some(ip("127.0.4.3"));
    pc.event_queue = 4;
    let (h, mut events) = Peer::spawn(pc, None).unwrap();
    h.start().unwrap();
    let ctx = loop {
        let e = tokio::time::timeout(WAIT, events.recv())
            .await
            .unwrap()
            .unwrap();
        if let PeerEventKind::Session(Action::Established(n)) = e.kind {
            break n.session_context().clone();
        }
    };
    established(&s, "127.0.4.3").await;
    established(&b, "127.0.4.1").await;

    // Churn: rounds of changes to 2,000 prefixes, one attribute set each
    // (one UPDATE each, ~900 octets with their communities).
    let n = 2000u32;
    let prefixes: Vec<IpNet> = (0..n)
        .map(|i| net(&format!("10.{}.{}.0/24", 100 + i / 256, i % 256)))
        .collect();
    let rounds = 8u32;
    let mut max_pending = 0;
    for round in 0..rounds {
        let routes = prefixes.iter().enumerate().map(|(i, p)| {
            let mut o = Originate::new(*p).med(round * n + i as u32);
            for c in 0..200u16 {
                o = o.community(format!("65040:{c}"));
            }
            o
        });
        s.originate_many(routes).await.unwrap();
        let c = s.peer(ip("127.0.4.3")).unwrap().counters;
        max_pending = max_pending.max(c.updates_pending);
    }
    let last = |i: usize| (rounds - 1) * n + i as u32;
    // A withdrawal while stuck, which the catch-up must carry.
    s.withdraw([prefixes[0]]).await.unwrap();

    // The healthy peer has the final state already.
    eventually("B has the final MEDs", || async {
        let v = b.best_routes().await.unwrap();
        let ok = v.len() == prefixes.len() - 1
            && v.iter().all(|r| {
                let i = prefixes.iter().position(|p| *p == r.prefix).unwrap();
                r.best.as_ref().unwrap().med() == Some(last(i))
            });
        ok.then_some(())
    })
    .await;
    let c = s.peer(ip("127.0.4.3")).unwrap().counters;
    assert!(c.lagged >= 1, "the stuck peer never left its group: {c:?}");
    // The limit, plus what one flush (a round) added, plus the queue.
    let bound = (bgp_speaker::export::LAG_LIMIT + n as usize + 256 + 16) as u64;
    assert!(
        max_pending <= bound && c.updates_pending <= bound,
        "backlog {max_pending} / {} past {bound}",
        c.updates_pending
    );
    assert_eq!(s.peer(ip("127.0.4.3")).unwrap().state, State::Established);

    // Reading again: the stuck peer converges to the final table.
    let mut table: HashMap<IpNet, Option<u32>> = HashMap::new();
    let want = |t: &HashMap<IpNet, Option<u32>>| {
        !t.contains_key(&prefixes[0])
            && (1..prefixes.len()).all(|i| t.get(&prefixes[i]) == Some(&Some(last(i))))
    };
    let end = tokio::time::Instant::now() + Duration::from_secs(60);
    while !want(&table) {
        let left = end.saturating_duration_since(tokio::time::Instant::now());
        let Ok(Some(e)) = tokio::time::timeout(left, events.recv()).await else {
            panic!("the stuck peer did not catch up: {} prefixes", table.len());
        };
        if let PeerEventKind::Session(Action::UpdateReceived(u)) = e.kind {
            for w in u.withdrawn() {
                table.remove(&w.prefix);
            }
            let a = u.attributes(&ctx, PeerType::External).unwrap().attributes;
            for p in u.nlri() {
                table.insert(p.prefix, a.multi_exit_disc);
            }
        }
    }
    h.shutdown(bgp_fsm::Stop::default()).await;
    s.shutdown("").await;
    b.shutdown("").await;
}

/// TCP MD5 (RFC 2385): the same password establishes; a password change on
/// one side is a reset, and with different passwords the session stays
/// down.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn md5_password() {
    let a = Speaker::builder(65051, v4("10.0.0.51"))
        .listen("127.0.5.1:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let b = Speaker::builder(65052, v4("10.0.0.52"))
        .listen("127.0.5.2:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let pa = peer(&b, "127.0.5.2", 65052, "127.0.5.1").password("s3cret");
    a.add_peer(pa.clone()).await.unwrap();
    b.add_peer(
        peer(&a, "127.0.5.1", 65051, "127.0.5.2")
            .password("s3cret")
            .passive(),
    )
    .await
    .unwrap();
    established(&a, "127.0.5.2").await;
    assert_eq!(
        a.update_peer(pa.password("wrong")).await.unwrap(),
        PeerChange::Reset
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_ne!(a.peer(ip("127.0.5.2")).unwrap().state, State::Established);
    assert_ne!(b.peer(ip("127.0.5.1")).unwrap().state, State::Established);
    a.shutdown("").await;
    b.shutdown("").await;
}

/// Graceful restart helper (RFC 4724, RFC 8538): a peer that closes with
/// a graceful Cease has its routes kept as stale; when it comes back and
/// sends End-of-RIB, what it did not announce again is swept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_restart_helper() {
    use bgp_fsm::transport::{Peer, PeerConfig as FsmPeerConfig, PeerEventKind};
    use bgp_fsm::{Action, GracefulRestartConfig, HardReset, SessionConfig, Stop};
    use bgp_rib::PathFlags;
    use bgp_wire::attribute::{AsPath, Origin, PathAttributes};
    use bgp_wire::message::update::builder;
    use bgp_wire::nlri::Nlri;
    use bgp_wire::{AfiSafi, Update};

    let b = Speaker::builder(65061, v4("10.0.0.61"))
        .listen("127.0.6.1:0".parse().unwrap())
        .families([bgp_speaker::Family::Ipv4Unicast])
        .start()
        .await
        .unwrap();
    let bport = port_of(&b, ip("127.0.6.1"));
    let mut pb = PeerConfig::new(ip("127.0.6.2"), 65062)
        .local_address(ip("127.0.6.1"))
        .hold_time(30)
        .passive();
    pb.graceful_restart = Some(bgp_speaker::GracefulRestart::default());
    b.add_peer(pb).await.unwrap();

    let (p0, p1) = (net("10.62.0.0/24"), net("10.62.1.0/24"));
    // The restarting peer: bgp-fsm's transport announcing `prefixes`.
    let run = |prefixes: Vec<IpNet>, restarting: bool| async move {
        let mut sc = SessionConfig::new(65062, v4("10.0.0.62"), 65061);
        sc.hold_time = 30;
        sc.capabilities.graceful_restart = Some(GracefulRestartConfig {
            restarting,
            ..GracefulRestartConfig::default()
        });
        let mut pc = FsmPeerConfig::new(sc, SocketAddr::new(ip("127.0.6.1"), bport));
        pc.local = Some(ip("127.0.6.2"));
        let (h, mut ev) = Peer::spawn(pc, None).unwrap();
        h.start().unwrap();
        let neg = loop {
            let e = tokio::time::timeout(WAIT, ev.recv())
                .await
                .unwrap()
                .unwrap();
            if let PeerEventKind::Session(Action::Established(n)) = e.kind {
                break n;
            }
        };
        let attrs = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(&[65062])),
            next_hop: Some(v4("127.0.6.2")),
            ..PathAttributes::default()
        };
        let nlri: Vec<Nlri> = prefixes.into_iter().map(Nlri::new).collect();
        let ctx = neg.session_context().clone();
        for m in builder::announce(&ctx, AfiSafi::IPV4_UNICAST, &attrs, None, &nlri).unwrap() {
            let u = Update::decode(m.slice(19..), &ctx.reversed()).unwrap();
            h.send_update(u).await.unwrap();
        }
        h.initial_updates_sent(AfiSafi::IPV4_UNICAST).await.unwrap();
        tokio::spawn(async move { while ev.recv().await.is_some() {} });
        h
    };

    let h = run(vec![p0, p1], false).await;
    eventually("both prefixes at B", || async {
        (b.best_routes().await.unwrap().len() == 2).then_some(())
    })
    .await;
    assert!(
        b.peer(ip("127.0.6.2"))
            .unwrap()
            .negotiated
            .unwrap()
            .graceful_restart
    );
    // A graceful Cease: B keeps the routes, stale.
    h.shutdown(Stop::administrative_reset("restarting").with_hard_reset(HardReset::Never))
        .await;
    eventually("the routes stale at B", || async {
        let v = b.best_routes().await.unwrap();
        let stale = v.len() == 2
            && v.iter()
                .all(|r| r.best.as_ref().unwrap().flags.contains(PathFlags::STALE));
        stale.then_some(())
    })
    .await;
    // Back, announcing one of them: the other is swept at End-of-RIB.
    let h = run(vec![p0], true).await;
    eventually("only 10.62.0.0/24, fresh", || async {
        let v = b.best_routes().await.unwrap();
        let ok = v.len() == 1
            && v[0].prefix == p0
            && !v[0].best.as_ref().unwrap().flags.contains(PathFlags::STALE);
        ok.then_some(())
    })
    .await;
    h.shutdown(Stop::default()).await;
    b.shutdown("").await;
}

/// A prefix limit: passing it closes the session with Cease / Maximum
/// Number of Prefixes Reached, which the sender shows; warning-only keeps
/// it up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_prefix() {
    let a = Speaker::builder(65071, v4("10.0.0.71"))
        .listen("127.0.7.1:0".parse().unwrap())
        .originate(Originate::new(net("10.71.0.0/24")))
        .originate(Originate::new(net("10.71.1.0/24")))
        .originate(Originate::new(net("10.71.2.0/24")))
        .start()
        .await
        .unwrap();
    let b = Speaker::builder(65072, v4("10.0.0.72"))
        .listen("127.0.7.2:0".parse().unwrap())
        .start()
        .await
        .unwrap();
    let mut pb = peer(&a, "127.0.7.1", 65071, "127.0.7.2").passive();
    pb.max_prefix = Some(bgp_speaker::MaxPrefix {
        limit: 5,
        warning_only: false,
        restart_after: 0,
    });
    b.add_peer(pb.clone()).await.unwrap();
    a.add_peer(peer(&b, "127.0.7.2", 65072, "127.0.7.1"))
        .await
        .unwrap();
    established(&b, "127.0.7.1").await;
    eventually("three prefixes at B", || async {
        (b.best_routes().await.unwrap().len() == 3).then_some(())
    })
    .await;
    // Lowered to 2: soft, but the limit is passed now.
    pb.max_prefix = Some(bgp_speaker::MaxPrefix {
        limit: 2,
        warning_only: false,
        restart_after: 0,
    });
    assert_eq!(b.update_peer(pb).await.unwrap(), PeerChange::Soft);
    let st = eventually("B closes the session", || async {
        b.peer(ip("127.0.7.1"))
            .filter(|p| p.max_prefix_exceeded && p.state != State::Established)
    })
    .await;
    assert!(st.last_error.unwrap().sent);
    let err = eventually("A sees the Cease", || async {
        a.peer(ip("127.0.7.2"))
            .and_then(|p| p.last_error)
            .filter(|e| e.message.contains("Maximum Number of Prefixes"))
    })
    .await;
    assert!(!err.sent, "{err:?}");
    assert!(b.best_routes().await.unwrap().is_empty());
    a.shutdown("").await;
    b.shutdown("").await;
}
