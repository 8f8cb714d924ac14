//! The interop harness against the real daemons: BIRD, FRR and GoBGP in
//! pairs, each in its own network namespace joined by a veth, with two eBGP
//! sessions per pair (IPv4 unicast over IPv4 transport, IPv6 unicast over
//! IPv6), each side originating prefixes the other must see with the right
//! AS path, peer and next hop; TCP MD5 with right and wrong passwords; a
//! frozen daemon letting its peer's hold timer expire.
//!
//! Each test checks at its end that its namespaces and processes are gone.
//! Needs root, iproute2 and the daemons; otherwise each test prints
//! `SKIPPED: <reason>` and passes, unless `BGP_REQUIRE_INTEROP=1`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers: a failed check panics"
)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use testkit::daemon::bird::Bird;
use testkit::daemon::frr::Frr;
use testkit::daemon::gobgp::GoBgp;
use testkit::daemon::{self, Daemon, Family, Kind, NeighborConfig, RouterConfig, SessionState};
use testkit::netns::{self, End, Link, Netns, Skip};

const SESSION_UP: Duration = Duration::from_secs(20);
const ROUTES_IN: Duration = Duration::from_secs(15);

/// One side of a pair: its AS and the prefixes it originates
/// (`198.19.N.0/24`, `2001:db8:N::/48`).
#[derive(Clone, Copy)]
struct Side {
    asn: u32,
    n: u8,
}

impl Side {
    fn v4(self) -> IpNet {
        IpNet::V4(Ipv4Net::new(Ipv4Addr::new(198, 19, self.n, 0), 24).unwrap())
    }

    fn v6(self) -> IpNet {
        let v6 = Ipv6Addr::new(0x2001, 0xdb8, u16::from(self.n), 0, 0, 0, 0, 0);
        IpNet::V6(Ipv6Net::new(v6, 48).unwrap())
    }
}

const BIRD_SIDE: Side = Side { asn: 65001, n: 1 };
const FRR_SIDE: Side = Side { asn: 65002, n: 2 };
const GOBGP_SIDE: Side = Side { asn: 65003, n: 3 };

/// The configuration of one side: two sessions to the other side, IPv4
/// over IPv4 and IPv6 over IPv6, each adjusted by `tweak(is_v4, n)`.
fn side_config(
    me: Side,
    other: Side,
    mine: End,
    theirs: End,
    tweak: &dyn Fn(bool, NeighborConfig) -> NeighborConfig,
) -> RouterConfig {
    let mut c = RouterConfig::new(me.asn, mine.v4);
    for v4 in [true, false] {
        let n = NeighborConfig::new(theirs.addr(v4), other.asn).local(mine.addr(v4));
        c.neighbor(tweak(v4, n));
    }
    c.originate(me.v4()).originate(me.v6());
    c
}

fn no_tweak(_: bool, n: NeighborConfig) -> NeighborConfig {
    n
}

fn start(kind: Kind, ns: &Netns, cfg: &RouterConfig) -> Box<dyn Daemon> {
    let r: Result<Box<dyn Daemon>, _> = match kind {
        Kind::Bird => Bird::start(ns, cfg).map(|d| Box::new(d) as Box<dyn Daemon>),
        Kind::Frr => Frr::start(ns, cfg).map(|d| Box::new(d) as Box<dyn Daemon>),
        Kind::GoBgp => GoBgp::start(ns, cfg).map(|d| Box::new(d) as Box<dyn Daemon>),
    };
    r.unwrap_or_else(|e| panic!("{kind} did not start: {e}"))
}

fn side_of(kind: Kind) -> Side {
    match kind {
        Kind::Bird => BIRD_SIDE,
        Kind::Frr => FRR_SIDE,
        Kind::GoBgp => GOBGP_SIDE,
    }
}

/// Checks one daemon: both sessions established, the other side's two
/// prefixes learned from the right peer with AS path `[other AS]` and the
/// peer as next hop, and its own two prefixes present as local routes.
fn check_side(d: &dyn Daemon, own: Side, other: Side, peer_end: End) {
    for v4 in [true, false] {
        let peer = peer_end.addr(v4);
        d.wait_established(peer, SESSION_UP)
            .unwrap_or_else(|e| panic!("{} with {peer}: {e}", d.kind()));
    }
    for (prefix, peer) in [
        (other.v4(), peer_end.addr(true)),
        (other.v6(), peer_end.addr(false)),
    ] {
        let r = d
            .wait_route(prefix, ROUTES_IN)
            .unwrap_or_else(|e| panic!("{} never got {prefix}: {e}", d.kind()));
        assert_eq!(r.asns(), vec![other.asn], "{} {prefix}: {r:?}", d.kind());
        assert_eq!(r.peer, Some(peer), "{} {prefix}: {r:?}", d.kind());
        assert!(r.best, "{} {prefix} not best: {r:?}", d.kind());
        assert!(
            r.next_hops.contains(&peer),
            "{} {prefix}: next hops {:?}, want {peer}",
            d.kind(),
            r.next_hops
        );
    }
    for (fam, want) in [(Family::Ipv4, own.v4()), (Family::Ipv6, own.v6())] {
        let routes = d.routes(fam).unwrap();
        assert!(
            routes.iter().any(|r| r.prefix == want && r.peer.is_none()),
            "{} has no local {want}: {routes:?}",
            d.kind()
        );
    }
}

/// A prefix `side` originates later: `198.19.(N + 100).0/24`.
fn late(side: Side) -> IpNet {
    IpNet::V4(Ipv4Net::new(Ipv4Addr::new(198, 19, side.n + 100, 0), 24).unwrap())
}

/// Each side withdraws its IPv4 prefix and originates a new one; the
/// other side must see both changes, and the counts must follow.
fn churn(a: &mut dyn Daemon, sa: Side, b: &mut dyn Daemon, sb: Side, link: &Link) {
    a.withdraw(sa.v4()).unwrap();
    a.originate(late(sa)).unwrap();
    b.withdraw(sb.v4()).unwrap();
    b.originate(late(sb)).unwrap();
    for (d, other, peer) in [(&*a, sb, link.b.addr(true)), (&*b, sa, link.a.addr(true))] {
        d.wait_route_gone(other.v4(), ROUTES_IN)
            .unwrap_or_else(|e| panic!("{} still has {}: {e}", d.kind(), other.v4()));
        let r = d.wait_route(late(other), ROUTES_IN).unwrap();
        assert_eq!(r.asns(), vec![other.asn], "{} {r:?}", d.kind());
        assert_eq!(r.peer, Some(peer));
        assert_eq!(
            d.received_count(peer, Family::Ipv4).unwrap(),
            1,
            "{}",
            d.kind()
        );
        assert_eq!(
            d.received_count(peer, Family::Ipv6).unwrap(),
            0,
            "{}",
            d.kind()
        );
        let v6_peer = if peer == link.b.addr(true) {
            link.b.addr(false)
        } else {
            link.a.addr(false)
        };
        assert_eq!(
            d.received_count(v6_peer, Family::Ipv6).unwrap(),
            1,
            "{}",
            d.kind()
        );
        // Its own new prefix and the other's.
        assert_eq!(
            d.prefix_count(Family::Ipv4).unwrap(),
            2,
            "{}: {:?}",
            d.kind(),
            d.routes(Family::Ipv4)
        );
        assert_eq!(d.prefix_count(Family::Ipv6).unwrap(), 2, "{}", d.kind());
    }
}

/// After everything is dropped: the namespaces and processes are gone.
fn assert_cleaned(names: &[String], pids: &[u32]) {
    for n in names {
        assert!(!netns::namespace_exists(n), "namespace {n} left behind");
    }
    for p in pids {
        assert!(
            !std::path::Path::new(&format!("/proc/{p}")).exists(),
            "process {p} left behind"
        );
    }
}

/// Runs a pair `ka` (namespace A) and `kb` (namespace B) and checks both
/// sides.
fn pair(ka: Kind, kb: Kind) {
    if !daemon::interop_ready(&[ka, kb]) {
        return;
    }
    let t0 = Instant::now();
    let (names, pids);
    {
        let (na, nb) = (Netns::new().unwrap(), Netns::new().unwrap());
        let link = Link::new(&na, &nb).unwrap();
        let (sa, sb) = (side_of(ka), side_of(kb));
        let a = start(ka, &na, &side_config(sa, sb, link.a, link.b, &no_tweak));
        let b = start(kb, &nb, &side_config(sb, sa, link.b, link.a, &no_tweak));
        let (mut a, mut b) = (a, b);
        check_side(a.as_ref(), sa, sb, link.b);
        check_side(b.as_ref(), sb, sa, link.a);
        churn(a.as_mut(), sa, b.as_mut(), sb, &link);
        if kb == Kind::Frr {
            // zebra put the learned routes into B's own kernel table.
            let want = late(sa);
            testkit::wait::wait_until(Duration::from_secs(5), Duration::from_millis(100), || {
                let routes = nb.kernel_routes(true).unwrap();
                match routes.iter().find(|r| r.dst == want) {
                    Some(r) if r.gateways == vec![link.a.addr(true)] => Ok(()),
                    _ => Err(routes),
                }
            })
            .unwrap();
        }
        names = vec![na.name().to_string(), nb.name().to_string()];
        pids = vec![a.pid(), b.pid()];
    }
    assert_cleaned(&names, &pids);
    eprintln!("{ka} <-> {kb}: {:.1?}", t0.elapsed());
}

#[test]
fn bird_frr() {
    pair(Kind::Bird, Kind::Frr);
}

#[test]
fn bird_gobgp() {
    pair(Kind::Bird, Kind::GoBgp);
}

#[test]
fn frr_gobgp() {
    pair(Kind::Frr, Kind::GoBgp);
}

/// TCP MD5 (RFC 2385) between BIRD and FRR: the IPv4 session has the same
/// password on both sides and must come up; the IPv6 session has different
/// ones and must stay down while the other is up and for some seconds more.
#[test]
fn md5_bird_frr() {
    if !daemon::interop_ready(&[Kind::Bird, Kind::Frr]) {
        return;
    }
    let t0 = Instant::now();
    let (names, pids);
    {
        let (na, nb) = (Netns::new().unwrap(), Netns::new().unwrap());
        let link = Link::new(&na, &nb).unwrap();
        let bird_cfg = side_config(BIRD_SIDE, FRR_SIDE, link.a, link.b, &|v4, n| {
            n.password(if v4 { "right-one" } else { "bird-says" })
        });
        let frr_cfg = side_config(FRR_SIDE, BIRD_SIDE, link.b, link.a, &|v4, n| {
            n.password(if v4 { "right-one" } else { "frr-says" })
        });
        let bird = Bird::start(&na, &bird_cfg).unwrap();
        let frr = Frr::start(&nb, &frr_cfg).unwrap();
        let (good, bad) = (IpAddr::V4(link.b.v4), IpAddr::V6(link.b.v6));
        if let Err(e) = bird.wait_established(good, SESSION_UP) {
            let log = bird.log_tail(200);
            if log.contains("TCP_MD5SIG") || log.contains("MD5") && log.contains("not supported") {
                netns::skip(&Skip::new(format!(
                    "the kernel refuses TCP_MD5SIG in a namespace: {e}"
                )));
                return;
            }
            panic!("MD5 session with the right password did not come up: {e}");
        }
        frr.wait_established(IpAddr::V4(link.a.v4), SESSION_UP)
            .unwrap();
        let r = frr.wait_route(BIRD_SIDE.v4(), ROUTES_IN).unwrap();
        assert_eq!(r.asns(), vec![BIRD_SIDE.asn]);
        // Several connect retries (2 s each side) with the wrong password.
        for _ in 0..12 {
            let b = bird.session(bad).unwrap();
            let f = frr.session(IpAddr::V6(link.a.v6)).unwrap();
            assert_ne!(
                b.state,
                SessionState::Established,
                "wrong password accepted: {b:?}"
            );
            assert_ne!(
                f.state,
                SessionState::Established,
                "wrong password accepted: {f:?}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        // The kernel did see, and drop, segments signed with the wrong key.
        let failures = md5_failures(&na) + md5_failures(&nb);
        assert!(
            failures > 0,
            "no TCPMD5Failure counted: were the sessions tried?"
        );
        eprintln!("md5: {failures} segments dropped for a wrong signature");
        // Nothing of the IPv6 session's routes crossed.
        let v6 = frr.routes(Family::Ipv6).unwrap();
        assert!(v6.iter().all(|r| r.peer.is_none()), "{v6:?}");
        names = vec![na.name().to_string(), nb.name().to_string()];
        pids = vec![bird.pid(), frr.pid(), frr.zebra_pid()];
    }
    assert_cleaned(&names, &pids);
    eprintln!("md5: {:.1?}", t0.elapsed());
}

/// The namespace's `TcpExt: TCPMD5Failure` counter (segments whose MD5
/// signature did not match).
fn md5_failures(ns: &Netns) -> u64 {
    let text = ns.exec(&["cat", "/proc/net/netstat"]).unwrap().stdout;
    let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("TcpExt:")).collect();
    let [names, values] = rows[..] else {
        panic!("no TcpExt rows: {text}")
    };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(n, _)| *n == "TCPMD5Failure")
        .map_or(0, |(_, v)| v.parse().unwrap())
}

/// Freezing a daemon (SIGSTOP) lets its peer's hold timer expire; thawing
/// it lets the session come back.
#[test]
fn freeze_expires_peer_hold_timer() {
    if !daemon::interop_ready(&[Kind::Bird, Kind::Frr]) {
        return;
    }
    let t0 = Instant::now();
    let (names, pids);
    {
        let (na, nb) = (Netns::new().unwrap(), Netns::new().unwrap());
        let link = Link::new(&na, &nb).unwrap();
        let only_v4 = |v4: bool, n: NeighborConfig| if v4 { n.hold_time(3) } else { n.passive() };
        let mut bird = Bird::start(
            &na,
            &side_config(BIRD_SIDE, FRR_SIDE, link.a, link.b, &only_v4),
        )
        .unwrap();
        let frr = Frr::start(
            &nb,
            &side_config(FRR_SIDE, BIRD_SIDE, link.b, link.a, &only_v4),
        )
        .unwrap();
        let (to_frr, to_bird) = (IpAddr::V4(link.b.v4), IpAddr::V4(link.a.v4));
        bird.wait_established(to_frr, SESSION_UP).unwrap();
        frr.wait_established(to_bird, SESSION_UP).unwrap();
        bird.freeze().unwrap();
        let down = frr
            .wait_session(to_bird, Duration::from_secs(10), &|s| {
                !s.state.is_established()
            })
            .unwrap();
        let why = frr
            .wait_session(to_bird, Duration::from_secs(5), &|s| {
                s.last_error
                    .as_deref()
                    .is_some_and(|e| e.to_lowercase().contains("hold"))
            })
            .unwrap_or_else(|e| panic!("FRR's reason is not the hold timer ({down:?}): {e}"));
        eprintln!("FRR after the freeze: {why:?}");
        bird.thaw().unwrap();
        frr.wait_established(to_bird, SESSION_UP).unwrap();
        bird.wait_established(to_frr, SESSION_UP).unwrap();
        names = vec![na.name().to_string(), nb.name().to_string()];
        pids = vec![bird.pid(), frr.pid(), frr.zebra_pid()];
    }
    assert_cleaned(&names, &pids);
    eprintln!("freeze: {:.1?}", t0.elapsed());
}

/// The harness's own guards: a namespace, a veth to the root namespace and
/// a process in the namespace are all gone after drop; addresses outside
/// the test ranges are refused.
#[test]
fn guards_clean_up() {
    if let Err(s) = netns::require_root_netns() {
        netns::skip(&s);
        return;
    }
    let (name, veth, pid);
    {
        let ns = Netns::new().unwrap();
        let root = Netns::root();
        let link = Link::new(&ns, &root).unwrap();
        assert!(netns::namespace_exists(ns.name()));
        let out = ns.exec(&["ip", "-br", "addr"]).unwrap();
        assert!(
            out.stdout.contains(&link.a.v4.to_string()),
            "{}",
            out.stdout
        );
        let shown = root
            .ip(&["-br", "addr", "show", "dev", &link.veth.b_name])
            .unwrap();
        assert!(
            shown.stdout.contains(&link.b.v4.to_string()),
            "{}",
            shown.stdout
        );
        let dir = tempfile::tempdir().unwrap();
        let p = ns.spawn(&["sleep", "60"], &dir.path().join("log")).unwrap();
        // `ip netns exec` enters the namespace, then execs `sleep`.
        testkit::wait::wait_until(Duration::from_secs(2), Duration::from_millis(10), || {
            let pids = ns.pids();
            if pids == vec![p.pid()] {
                Ok(())
            } else {
                Err(pids)
            }
        })
        .unwrap();
        assert!(ns.add_addr("lo", "10.1.2.3".parse().unwrap(), 32).is_err());
        assert!(
            ns.add_route("0.0.0.0/0".parse().unwrap(), IpAddr::V4(link.b.v4))
                .is_err()
        );
        ns.add_route("198.19.200.0/24".parse().unwrap(), IpAddr::V4(link.b.v4))
            .unwrap();
        (name, veth, pid) = (ns.name().to_string(), link.veth.b_name.clone(), p.pid());
    }
    assert_cleaned(&[name], &[pid]);
    let links = Netns::root().ip(&["-br", "link"]).unwrap().stdout;
    assert!(!links.contains(&veth), "veth {veth} left behind: {links}");
}

/// The less common options render into configurations each daemon accepts
/// and that work together: BIRD (A) peers with FRR (B) and GoBGP (C) over
/// two links; the IPv4 sessions use ADD-PATH both ways, graceful restart,
/// hold time 9 and multihop 2, the IPv6 sessions GTSM and an MD5 password
/// with BIRD passive.
#[test]
fn options_accepted() {
    if !daemon::interop_ready(&[Kind::Bird, Kind::Frr, Kind::GoBgp]) {
        return;
    }
    let t0 = Instant::now();
    let (names, pids);
    {
        let (na, nb, nc) = (
            Netns::new().unwrap(),
            Netns::new().unwrap(),
            Netns::new().unwrap(),
        );
        let (ab, ac) = (Link::new(&na, &nb).unwrap(), Link::new(&na, &nc).unwrap());
        let opts = |bird: bool| {
            move |v4: bool, n: NeighborConfig| {
                if v4 {
                    n.add_path(daemon::AddPath::Both)
                        .graceful_restart()
                        .hold_time(9)
                        .multihop(2)
                } else {
                    let n = n.ttl_security().password("pw6");
                    if bird { n.passive() } else { n }
                }
            }
        };
        let mut bird_cfg = side_config(BIRD_SIDE, FRR_SIDE, ab.a, ab.b, &opts(true));
        let to_gobgp = side_config(BIRD_SIDE, GOBGP_SIDE, ac.a, ac.b, &opts(true));
        bird_cfg.neighbors.extend(to_gobgp.neighbors);
        let bird = Bird::start(&na, &bird_cfg).unwrap();
        let frr = Frr::start(
            &nb,
            &side_config(FRR_SIDE, BIRD_SIDE, ab.b, ab.a, &opts(false)),
        )
        .unwrap();
        let gobgp = GoBgp::start(
            &nc,
            &side_config(GOBGP_SIDE, BIRD_SIDE, ac.b, ac.a, &opts(false)),
        )
        .unwrap();
        for v4 in [true, false] {
            for (d, peer) in [
                (&bird as &dyn Daemon, ab.b.addr(v4)),
                (&bird, ac.b.addr(v4)),
                (&frr, ab.a.addr(v4)),
                (&gobgp, ac.a.addr(v4)),
            ] {
                d.wait_established(peer, SESSION_UP)
                    .unwrap_or_else(|e| panic!("{} with {peer}: {e}", d.kind()));
            }
        }
        for d in [&frr as &dyn Daemon, &gobgp] {
            for p in [BIRD_SIDE.v4(), BIRD_SIDE.v6()] {
                let r = d.wait_route(p, ROUTES_IN).unwrap();
                assert_eq!(r.asns(), vec![BIRD_SIDE.asn], "{} {p}", d.kind());
            }
        }
        // FRR's view of what was negotiated on the IPv4 session.
        let n = frr.neighbor_json(ab.a.addr(true)).unwrap();
        assert_eq!(
            n.get("bgpTimerHoldTimeMsecs").and_then(|v| v.as_u64()),
            Some(9000)
        );
        let caps = n.get("neighborCapabilities").unwrap();
        assert!(caps.get("addPath").is_some(), "{caps:?}");
        assert!(caps.get("gracefulRestart").is_some(), "{caps:?}");
        names = [&na, &nb, &nc].map(|n| n.name().to_string()).to_vec();
        pids = vec![bird.pid(), frr.pid(), frr.zebra_pid(), gobgp.pid()];
    }
    assert_cleaned(&names, &pids);
    eprintln!("options: {:.1?}", t0.elapsed());
}
