//! A Speaker with BIRD and FRR as its peers, each daemon in its own network
//! namespace (testkit's harness) joined to the root namespace, where the
//! Speaker runs, by a veth.
//!
//! BIRD (AS 65001) originates 198.19.1.0/24, FRR (AS 65002)
//! 198.19.2.0/24, both 198.19.9.0/24; the Speaker (AS 4200000001)
//! originates 198.19.50.0/24 with a community. Checked: the Speaker
//! learns each daemon's routes with the right AS path and next hop, holds
//! both paths of the shared prefix and selects one with the deciding
//! step; each daemon receives the other's prefix through the Speaker with
//! AS path `4200000001 <origin AS>`, next hop the Speaker's address on
//! its link, and the Speaker's own prefix with its community; the
//! Speaker's shutdown message is shown by BIRD.
//!
//! Needs root, iproute2, bird2 and frr; otherwise it prints `SKIPPED:
//! <reason>` and passes, unless `BGP_REQUIRE_INTEROP=1`.
//!
//! `cargo test -p bgp-speaker --test interop`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use bgp_fsm::State;
use bgp_speaker::{Family, Originate, PeerConfig, RouteSource, Speaker};
use ipnet::IpNet;
use testkit::daemon::bird::{self, Bird};
use testkit::daemon::frr::Frr;
use testkit::daemon::{self, Daemon, Kind, NeighborConfig, RouterConfig};
use testkit::netns::{Link, Netns};

const OUR_AS: u32 = 4_200_000_001;
const UP: Duration = Duration::from_secs(40);
const SHUTDOWN_TEXT: &str = "speaker interop over";

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

#[test]
fn bird_and_frr_peers() {
    if !daemon::interop_ready(&[Kind::Bird, Kind::Frr]) {
        return;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (ns_b, ns_f) = (Netns::new().unwrap(), Netns::new().unwrap());
    let lb = Link::new(&ns_b, &Netns::root()).unwrap();
    let lf = Link::new(&ns_f, &Netns::root()).unwrap();
    let (bird_ip, our_b) = (IpAddr::V4(lb.a.v4), IpAddr::V4(lb.b.v4));
    let (frr_ip, our_f) = (IpAddr::V4(lf.a.v4), IpAddr::V4(lf.b.v4));

    // The daemons wait for us (passive), so that after our shutdown they
    // do not reconnect and replace the message they show.
    let mut cb = RouterConfig::new(65001, lb.a.v4);
    cb.neighbor(
        NeighborConfig::new(our_b, OUR_AS)
            .local(bird_ip)
            .passive()
            .hold_time(9),
    );
    cb.originate(net("198.19.1.0/24"))
        .originate(net("198.19.9.0/24"));
    let bird = Bird::start(&ns_b, &cb).unwrap();
    let mut cf = RouterConfig::new(65002, lf.a.v4);
    cf.neighbor(
        NeighborConfig::new(our_f, OUR_AS)
            .local(frr_ip)
            .passive()
            .hold_time(9),
    );
    cf.originate(net("198.19.2.0/24"))
        .originate(net("198.19.9.0/24"));
    let frr = Frr::start(&ns_f, &cf).unwrap();

    let speaker = rt.block_on(async {
        Speaker::builder(OUR_AS, lb.b.v4)
            .families([Family::Ipv4Unicast])
            .listen(SocketAddr::new(our_b, 179))
            .listen(SocketAddr::new(our_f, 179))
            .peer(
                PeerConfig::new(bird_ip, 65001)
                    .local_address(our_b)
                    .hold_time(9)
                    .connect_retry(2),
            )
            .peer(
                PeerConfig::new(frr_ip, 65002)
                    .local_address(our_f)
                    .hold_time(9)
                    .connect_retry(2),
            )
            .originate(Originate::new(net("198.19.50.0/24")).community("65050:7"))
            .start()
            .await
            .unwrap()
    });
    bird.wait_established(our_b, UP).unwrap();
    frr.wait_established(our_f, UP).unwrap();
    for p in [bird_ip, frr_ip] {
        let st = speaker.peer(p).unwrap();
        assert_eq!(st.state, State::Established, "{st:?}");
        assert!(st.negotiated.as_ref().unwrap().four_octet_as, "{st:?}");
    }

    // Routes learned.
    let wait_route = |prefix: IpNet, paths: usize| {
        rt.block_on(async {
            let end = tokio::time::Instant::now() + UP;
            loop {
                if let Some(r) = speaker.route(prefix).await.unwrap()
                    && r.paths.len() >= paths
                {
                    return r;
                }
                assert!(tokio::time::Instant::now() < end, "{prefix}: not learned");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let r = wait_route(net("198.19.1.0/24"), 1);
    let b = r.best().unwrap();
    assert_eq!(b.source, RouteSource::Peer(bird_ip));
    assert_eq!(b.as_path_asns(), vec![65001]);
    assert_eq!(b.next_hop().addr(), bird_ip);
    let r = wait_route(net("198.19.2.0/24"), 1);
    let b = r.best().unwrap();
    assert_eq!(b.source, RouteSource::Peer(frr_ip));
    assert_eq!(b.as_path_asns(), vec![65002]);
    assert_eq!(b.next_hop().addr(), frr_ip);
    let r = wait_route(net("198.19.9.0/24"), 2);
    assert!(r.best().is_some() && r.step.is_some(), "{r:?}");
    let losers: Vec<_> = r.paths.iter().filter(|p| !p.best).collect();
    assert_eq!(losers.len(), 1, "{r:?}");
    eprintln!(
        "198.19.9.0/24: best from {:?} by {:?}; other lost at {:?}",
        r.best().unwrap().source,
        r.step,
        losers[0].lost_at
    );

    // Advertised back with the right attributes.
    let rb = bird.wait_route(net("198.19.2.0/24"), UP).unwrap();
    assert_eq!(rb.asns(), vec![OUR_AS, 65002], "{rb:?}");
    assert_eq!(rb.peer, Some(our_b), "{rb:?}");
    assert!(rb.next_hops.contains(&our_b), "{rb:?}");
    let rf = frr.wait_route(net("198.19.1.0/24"), UP).unwrap();
    assert_eq!(rf.asns(), vec![OUR_AS, 65001], "{rf:?}");
    assert!(rf.next_hops.contains(&our_f), "{rf:?}");
    for (d, ours) in [(&bird as &dyn Daemon, our_b), (&frr as &dyn Daemon, our_f)] {
        let r = d.wait_route(net("198.19.50.0/24"), UP).unwrap();
        assert_eq!(r.asns(), vec![OUR_AS], "{:?}: {r:?}", d.kind());
        assert!(r.next_hops.contains(&ours), "{:?}: {r:?}", d.kind());
        assert_eq!(r.communities, vec![(65050, 7)], "{:?}: {r:?}", d.kind());
    }
    // The shared prefix is sent to the daemon that is not its best path's
    // source (never back to its source).
    let from = r.best().unwrap().source;
    let other: &dyn Daemon = if from == RouteSource::Peer(bird_ip) {
        &frr
    } else {
        &bird
    };
    let rs = other.wait_route(net("198.19.9.0/24"), UP).unwrap();
    assert_eq!(rs.asns().first(), Some(&OUR_AS), "{rs:?}");

    // Counters.
    let c = speaker.peer(bird_ip).unwrap().counters;
    assert!(
        c.prefixes_accepted >= 2 && c.prefixes_advertised >= 2,
        "{c:?}"
    );

    // Shutdown with a message BIRD shows.
    rt.block_on(speaker.shutdown(SHUTDOWN_TEXT));
    let shown =
        testkit::wait::wait_until(Duration::from_secs(10), Duration::from_millis(300), || {
            let out = bird
                .birdc(&format!(
                    "show protocols all {}",
                    bird::protocol_name(our_b)
                ))
                .unwrap_or_else(|e| e.to_string());
            if out.contains(SHUTDOWN_TEXT) {
                Ok(out)
            } else {
                Err(out)
            }
        });
    if let Err(t) = shown {
        panic!(
            "BIRD does not show {SHUTDOWN_TEXT:?}:\n{}",
            t.last.unwrap_or_default()
        );
    }
    eprintln!("BIRD and FRR: routes learned, best paths chosen, routes advertised back");
}
