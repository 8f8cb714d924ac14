//! The tokio transport against BIRD, FRR and GoBGP.
//!
//! Each daemon runs in its own network namespace (testkit's harness),
//! joined to the root namespace by a veth whose ends carry addresses from
//! 198.18.0.0/15 and 2001:db8::/32; our driver runs in this process, in the
//! root namespace, on the other end. Covered:
//!
//! - sessions over IPv4 and over IPv6 transport, each with multiprotocol
//!   IPv4 and IPv6 unicast, 4-octet AS numbers (our AS is 4200000001),
//!   route refresh, ADD-PATH both ways and graceful restart negotiated,
//!   and routes crossing both ways (the daemon's prefixes reach us, ours
//!   appear in the daemon's table with our AS path);
//! - TCP MD5 with BIRD and FRR: a wrong password never establishes, the
//!   right one does;
//! - the daemon frozen with SIGSTOP: our hold timer expires, we send
//!   NOTIFICATION Hold Timer Expired, and the session comes back after
//!   SIGCONT;
//! - a simultaneous open with BIRD resolved to one session;
//! - our administrative shutdown with a communication text, as shown by
//!   `birdc show protocols all` and by FRR's `show bgp neighbors` (the
//!   reason in the text form; FRR 8.4 gives the text itself only in the
//!   JSON form, `lastShutdownDescription`).
//!
//! Needs root, iproute2 and the daemons (Debian packages bird2, frr,
//! gobgpd); otherwise each test prints `SKIPPED: <reason>` and passes,
//! unless `BGP_REQUIRE_INTEROP=1`.
//!
//! `cargo test -p bgp-fsm --features tokio --test interop`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use tokio::runtime::Runtime;
use tokio::time::Instant;

use bgp_fsm::transport::{
    Listener, Peer, PeerConfig, PeerEvent, PeerEventKind, PeerEvents, PeerHandle,
};
use bgp_fsm::{
    Action, GracefulRestartConfig, Negotiated, NotificationDirection, SessionConfig, State, Stop,
};
use bgp_wire::attribute::{AsPath, MpNextHop, Origin, PathAttributes, PeerType};
use bgp_wire::capability::{AddPathFamily, SendReceive};
use bgp_wire::message::update::builder;
use bgp_wire::nlri::Nlri;
use bgp_wire::{AfiSafi, Direction, SessionContext, Update};
use testkit::daemon::bird::{self, Bird};
use testkit::daemon::frr::Frr;
use testkit::daemon::gobgp::GoBgp;
use testkit::daemon::{self, AddPath, Daemon, Family, Kind, NeighborConfig, RouterConfig};
use testkit::netns::{Link, Netns};

/// Our AS: 4 octets, so that the 4-octet AS capability is exercised.
const OUR_AS: u32 = 4_200_000_001;
const UP: Duration = Duration::from_secs(30);

fn daemon_as(kind: Kind) -> u32 {
    match kind {
        Kind::Bird => 65001,
        Kind::Frr => 65002,
        Kind::GoBgp => 65003,
    }
}

/// The number in the prefixes a daemon originates (`198.19.N.0/24`,
/// `2001:db8:N::/48`); ours are N + 50.
fn prefix_n(kind: Kind) -> u8 {
    match kind {
        Kind::Bird => 1,
        Kind::Frr => 2,
        Kind::GoBgp => 3,
    }
}

fn v4_prefix(n: u8) -> IpNet {
    IpNet::V4(Ipv4Net::new(Ipv4Addr::new(198, 19, n, 0), 24).unwrap())
}

fn v6_prefix(n: u8) -> IpNet {
    IpNet::V6(
        Ipv6Net::new(
            Ipv6Addr::new(0x2001, 0xdb8, u16::from(n), 0, 0, 0, 0, 0),
            48,
        )
        .unwrap(),
    )
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn start_daemon(kind: Kind, ns: &Netns, cfg: &RouterConfig) -> Box<dyn Daemon> {
    let r: Result<Box<dyn Daemon>, _> = match kind {
        Kind::Bird => Bird::start(ns, cfg).map(|d| Box::new(d) as Box<dyn Daemon>),
        Kind::Frr => Frr::start(ns, cfg).map(|d| Box::new(d) as Box<dyn Daemon>),
        Kind::GoBgp => GoBgp::start(ns, cfg).map(|d| Box::new(d) as Box<dyn Daemon>),
    };
    r.unwrap_or_else(|e| panic!("{kind} did not start: {e}"))
}

/// What our side of one session looks like.
#[derive(Clone, Default)]
struct Options {
    add_path: bool,
    graceful_restart: bool,
    md5: Option<String>,
    hold: Option<u16>,
    connect_retry: Option<u64>,
}

fn our_session(router_id: Ipv4Addr, kind: Kind, o: &Options) -> SessionConfig {
    let mut c = SessionConfig::new(OUR_AS, router_id, daemon_as(kind));
    c.hold_time = o.hold.unwrap_or(9);
    c.connect_retry_time = Duration::from_secs(o.connect_retry.unwrap_or(2));
    c.capabilities.families = vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST];
    if o.add_path {
        c.capabilities.add_path = c
            .capabilities
            .families
            .iter()
            .map(|f| AddPathFamily {
                family: *f,
                send_receive: SendReceive::Both,
            })
            .collect();
    }
    if o.graceful_restart {
        c.capabilities.graceful_restart = Some(GracefulRestartConfig::default());
    }
    c
}

/// Our peer at `remote` (port 179) from `local`, with a listener on
/// `local`:179 for the daemon's connections.
fn our_peer(
    rt: &Runtime,
    router_id: Ipv4Addr,
    kind: Kind,
    local: IpAddr,
    remote: IpAddr,
    o: &Options,
) -> (PeerHandle, PeerEvents, Listener) {
    let listener = {
        let _guard = rt.enter();
        Listener::bind(SocketAddr::new(local, 179)).unwrap()
    };
    let (h, e) = peer_on(rt, &listener, router_id, kind, remote, o);
    (h, e, listener)
}

/// Our peer at `remote`, on an existing listener.
fn peer_on(
    rt: &Runtime,
    listener: &Listener,
    router_id: Ipv4Addr,
    kind: Kind,
    remote: IpAddr,
    o: &Options,
) -> (PeerHandle, PeerEvents) {
    let _guard = rt.enter();
    let local = listener.local_addr().ip();
    let mut p = PeerConfig::new(
        our_session(router_id, kind, o),
        SocketAddr::new(remote, 179),
    );
    p.local = Some(local);
    p.restart_delay = Some(Duration::from_secs(1));
    p.md5_key = o.md5.as_ref().map(|k| k.as_bytes().to_vec());
    let (h, e) = Peer::spawn(p, Some(listener)).unwrap();
    h.start().unwrap();
    (h, e)
}

/// The daemon's neighbor entry for us.
fn daemon_neighbor(ours: IpAddr, theirs: IpAddr, o: &Options) -> NeighborConfig {
    let mut n = NeighborConfig::new(ours, OUR_AS)
        .local(theirs)
        .families(&[Family::Ipv4, Family::Ipv6])
        .connect_retry(2);
    if o.add_path {
        n = n.add_path(AddPath::Both);
    }
    if o.graceful_restart {
        n = n.graceful_restart();
    }
    if let Some(p) = &o.md5 {
        n = n.password(p.clone());
    }
    if let Some(h) = o.hold {
        n = n.hold_time(h);
    }
    n
}

/// Waits (in the runtime) for the first event matching `f`.
fn wait_event(
    rt: &Runtime,
    events: &mut PeerEvents,
    within: Duration,
    mut f: impl FnMut(&PeerEvent) -> bool,
) -> Option<PeerEvent> {
    rt.block_on(async {
        let end = Instant::now() + within;
        loop {
            match tokio::time::timeout_at(end, events.recv()).await {
                Ok(Some(e)) if f(&e) => return Some(e),
                Ok(Some(_)) => {}
                Ok(None) | Err(_) => return None,
            }
        }
    })
}

fn established_event(rt: &Runtime, events: &mut PeerEvents, what: &str) -> Negotiated {
    let e = wait_event(rt, events, UP, |e| {
        matches!(&e.kind, PeerEventKind::Session(Action::Established(_)))
    })
    .unwrap_or_else(|| panic!("{what}: never Established"));
    match e.kind {
        PeerEventKind::Session(Action::Established(n)) => *n,
        _ => unreachable!(),
    }
}

/// The UPDATEs announcing `prefix` from us with next hop `nh`.
fn announcement(neg: &Negotiated, prefix: IpNet, nh: IpAddr) -> Vec<Update> {
    let family = match prefix {
        IpNet::V4(_) => AfiSafi::IPV4_UNICAST,
        IpNet::V6(_) => AfiSafi::IPV6_UNICAST,
    };
    let mut attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(&[OUR_AS])),
        ..PathAttributes::default()
    };
    let mp = match nh {
        IpAddr::V4(a) if family == AfiSafi::IPV4_UNICAST => {
            attrs.next_hop = Some(a);
            None
        }
        IpAddr::V4(a) => Some(MpNextHop::Ipv4(a)),
        IpAddr::V6(global) => Some(MpNextHop::Ipv6 {
            global,
            link_local: None,
        }),
    };
    let ctx = neg.session_context();
    let msgs = builder::announce(ctx, family, &attrs, mp.as_ref(), &[Nlri::new(prefix)]).unwrap();
    // Read back with path identifiers where we send them.
    let mut readback = SessionContext::default().with_four_octet_as(neg.four_octet_as());
    for f in &neg.families {
        if neg.add_path(*f).send {
            readback = readback.with_add_path(*f, Direction::Receive);
        }
    }
    msgs.iter()
        .map(|m| Update::decode(m.slice(19..), &readback).unwrap())
        .collect()
}

/// The prefixes announced by an UPDATE.
fn announced(u: &Update, ctx: &SessionContext) -> Vec<IpNet> {
    let mut v: Vec<IpNet> = u.nlri().map(|n| n.prefix).collect();
    if let Ok(d) = u.attributes(ctx, PeerType::External) {
        if let Some(mp) = d.mp_reach {
            v.extend(mp.prefixes().map(|n| n.prefix));
        }
    }
    v
}

/// Sessions over IPv4 and IPv6 transport with `kind`, capabilities
/// checked, routes both ways.
fn sessions_and_routes(kind: Kind) {
    if !daemon::interop_ready(&[kind]) {
        return;
    }
    let rt = runtime();
    let ns = Netns::new().unwrap();
    let link = Link::new(&ns, &Netns::root()).unwrap();
    let (theirs, ours) = (link.a, link.b);
    let o = Options {
        add_path: true,
        graceful_restart: true,
        ..Options::default()
    };
    let n = prefix_n(kind);
    let mut cfg = RouterConfig::new(daemon_as(kind), theirs.v4);
    for v4 in [true, false] {
        cfg.neighbor(daemon_neighbor(ours.addr(v4), theirs.addr(v4), &o));
    }
    cfg.originate(v4_prefix(n)).originate(v6_prefix(n));
    let d = start_daemon(kind, &ns, &cfg);

    let mut peers = Vec::new();
    for v4 in [true, false] {
        let (h, mut e, l) = our_peer(&rt, ours.v4, kind, ours.addr(v4), theirs.addr(v4), &o);
        let what = format!("{kind} over {}", if v4 { "IPv4" } else { "IPv6" });
        let neg = established_event(&rt, &mut e, &what);
        assert!(neg.has_family(AfiSafi::IPV4_UNICAST), "{what}: {neg:?}");
        assert!(neg.has_family(AfiSafi::IPV6_UNICAST), "{what}: {neg:?}");
        assert!(neg.four_octet_as(), "{what}: 4-octet AS");
        assert_eq!(neg.peer_as, daemon_as(kind));
        assert!(neg.route_refresh, "{what}: route refresh");
        for f in [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST] {
            let ap = neg.add_path(f);
            assert!(ap.send && ap.receive, "{what}: ADD-PATH {f}: {ap:?}");
        }
        assert!(
            neg.graceful_restart.negotiated(),
            "{what}: graceful restart"
        );
        d.wait_established(ours.addr(v4), UP)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        peers.push((v4, h, e, l, neg));
    }

    // Ours to them: a v4 prefix on the IPv4 session, a v6 one on the IPv6
    // session, then End-of-RIB for both families.
    for (v4, h, _, _, neg) in &peers {
        let (prefix, nh) = if *v4 {
            (v4_prefix(n + 50), ours.addr(true))
        } else {
            (v6_prefix(n + 50), ours.addr(false))
        };
        rt.block_on(async {
            for u in announcement(neg, prefix, nh) {
                h.send_update(u).await.unwrap();
            }
            for f in [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST] {
                h.initial_updates_sent(f).await.unwrap();
            }
        });
    }
    for (prefix, v4) in [(v4_prefix(n + 50), true), (v6_prefix(n + 50), false)] {
        let r = d
            .wait_route(prefix, UP)
            .unwrap_or_else(|e| panic!("{kind} never got {prefix}: {e}"));
        assert_eq!(r.asns(), vec![OUR_AS], "{kind} {prefix}: {r:?}");
        assert_eq!(r.peer, Some(ours.addr(v4)), "{kind} {prefix}: {r:?}");
    }

    // Theirs to us: both prefixes, over whichever session carries them.
    let want: BTreeSet<IpNet> = [v4_prefix(n), v6_prefix(n)].into();
    let mut got = BTreeSet::new();
    for (_, _, e, _, neg) in &mut peers {
        let ctx = neg.session_context().clone();
        let end = std::time::Instant::now() + UP;
        while !want.is_subset(&got) && std::time::Instant::now() < end {
            let Some(ev) = wait_event(&rt, e, Duration::from_secs(2), |e| {
                matches!(&e.kind, PeerEventKind::Session(Action::UpdateReceived(_)))
            }) else {
                break;
            };
            if let PeerEventKind::Session(Action::UpdateReceived(u)) = &ev.kind {
                got.extend(announced(u, &ctx));
            }
        }
    }
    assert!(
        want.is_subset(&got),
        "{kind}: received {got:?}, want {want:?}"
    );
    for (_, h, _, _, _) in &peers {
        rt.block_on(h.shutdown(Stop::administrative_shutdown("test over")));
    }
    eprintln!("{kind}: sessions over IPv4 and IPv6 established, routes exchanged");
}

#[test]
fn bird_sessions_and_routes() {
    sessions_and_routes(Kind::Bird);
}

#[test]
fn frr_sessions_and_routes() {
    sessions_and_routes(Kind::Frr);
}

#[test]
fn gobgp_sessions_and_routes() {
    sessions_and_routes(Kind::GoBgp);
}

/// One IPv4 session with `kind`, daemon side adjusted by `tweak`; returns
/// the daemon, the link and the namespace.
fn one_session(
    kind: Kind,
    o: &Options,
    tweak: impl FnOnce(NeighborConfig) -> NeighborConfig,
) -> (Box<dyn Daemon>, Link, Netns) {
    let ns = Netns::new().unwrap();
    let link = Link::new(&ns, &Netns::root()).unwrap();
    let mut cfg = RouterConfig::new(daemon_as(kind), link.a.v4);
    cfg.neighbor(tweak(daemon_neighbor(
        IpAddr::V4(link.b.v4),
        IpAddr::V4(link.a.v4),
        o,
    )));
    cfg.originate(v4_prefix(prefix_n(kind)));
    let d = start_daemon(kind, &ns, &cfg);
    (d, link, ns)
}

/// TCP MD5: our wrong password never establishes, then the right one does.
fn md5(kind: Kind) {
    if !daemon::interop_ready(&[kind]) {
        return;
    }
    let rt = runtime();
    let right = Options {
        md5: Some("interop-md5-pw".into()),
        ..Options::default()
    };
    let (d, link, _ns) = one_session(kind, &right, |n| n);
    let (ours, theirs) = (IpAddr::V4(link.b.v4), IpAddr::V4(link.a.v4));
    let wrong = Options {
        md5: Some("not-the-password".into()),
        ..Options::default()
    };
    let (h, mut e, l) = our_peer(&rt, link.b.v4, kind, ours, theirs, &wrong);
    // Several connect retries on both sides (2 s each).
    let up = wait_event(&rt, &mut e, Duration::from_secs(10), |e| {
        matches!(&e.kind, PeerEventKind::Session(Action::Established(_)))
    });
    assert!(
        up.is_none(),
        "{kind}: established with a wrong MD5 password"
    );
    assert_ne!(h.state(), State::Established);
    assert!(!d.session(ours).unwrap().state.is_established());
    rt.block_on(h.shutdown(Stop::default()));

    // The same listener: its MD5 key for the daemon's address changes with
    // the peer registered on it.
    let (h, mut e) = peer_on(&rt, &l, link.b.v4, kind, theirs, &right);
    established_event(&rt, &mut e, &format!("{kind} with MD5"));
    d.wait_established(ours, UP).unwrap();
    rt.block_on(h.shutdown(Stop::default()));
    eprintln!("{kind}: MD5 wrong password refused, right one established");
}

#[test]
fn bird_md5() {
    md5(Kind::Bird);
}

#[test]
fn frr_md5() {
    md5(Kind::Frr);
}

/// The daemon frozen: our hold timer (3 s) expires and we send Hold Timer
/// Expired; after SIGCONT the session comes back.
fn frozen_peer(kind: Kind) {
    if !daemon::interop_ready(&[kind]) {
        return;
    }
    let rt = runtime();
    let o = Options {
        hold: Some(3),
        ..Options::default()
    };
    let (mut d, link, _ns) = one_session(kind, &o, |n| n);
    let (ours, theirs) = (IpAddr::V4(link.b.v4), IpAddr::V4(link.a.v4));
    let (h, mut e, _l) = our_peer(&rt, link.b.v4, kind, ours, theirs, &o);
    established_event(&rt, &mut e, &format!("{kind}"));
    d.freeze().unwrap();
    let n = wait_event(&rt, &mut e, Duration::from_secs(10), |e| {
        matches!(&e.kind, PeerEventKind::Session(Action::Notification(n))
            if n.direction == NotificationDirection::Sent)
    })
    .unwrap_or_else(|| panic!("{kind} frozen: no NOTIFICATION sent"));
    let PeerEventKind::Session(Action::Notification(n)) = n.kind else {
        unreachable!()
    };
    assert_eq!((n.code(), n.subcode()), (4, 0), "{kind}: {n}");
    d.thaw().unwrap();
    established_event(&rt, &mut e, &format!("{kind} after SIGCONT"));
    d.wait_established(ours, UP).unwrap();
    assert!(h.status().established_count >= 2);
    rt.block_on(h.shutdown(Stop::default()));
    eprintln!("{kind}: hold timer expired while frozen, session back after SIGCONT");
}

#[test]
fn bird_frozen_hold_timer() {
    frozen_peer(Kind::Bird);
}

#[test]
fn frr_frozen_hold_timer() {
    frozen_peer(Kind::Frr);
}

const SHUTDOWN_TEXT: &str = "interop: maintenance until 14:00";

/// Our administrative shutdown with a communication, as the daemon shows
/// it (`show`). The daemon is passive, so that it does not reconnect and
/// replace its last error with a refused connection.
fn shutdown_text<D: Daemon>(
    kind: Kind,
    start: impl FnOnce(&Netns, &RouterConfig) -> Result<D, daemon::DaemonError>,
    show: impl Fn(&D, IpAddr) -> String,
) {
    if !daemon::interop_ready(&[kind]) {
        return;
    }
    let rt = runtime();
    let o = Options::default();
    let ns = Netns::new().unwrap();
    let link = Link::new(&ns, &Netns::root()).unwrap();
    let (ours, theirs) = (IpAddr::V4(link.b.v4), IpAddr::V4(link.a.v4));
    let mut cfg = RouterConfig::new(daemon_as(kind), link.a.v4);
    cfg.neighbor(daemon_neighbor(ours, theirs, &o).passive());
    let d = start(&ns, &cfg).unwrap_or_else(|e| panic!("{kind} did not start: {e}"));
    let (h, mut e, _l) = our_peer(&rt, link.b.v4, kind, ours, theirs, &o);
    established_event(&rt, &mut e, &format!("{kind}"));
    d.wait_established(ours, UP).unwrap();
    h.stop(Stop::administrative_shutdown(SHUTDOWN_TEXT))
        .unwrap();
    let sent = wait_event(&rt, &mut e, Duration::from_secs(10), |e| {
        matches!(&e.kind, PeerEventKind::Session(Action::Notification(n))
            if n.direction == NotificationDirection::Sent)
    })
    .unwrap();
    let PeerEventKind::Session(Action::Notification(n)) = sent.kind else {
        unreachable!()
    };
    assert_eq!((n.code(), n.subcode()), (6, 2));
    let t = testkit::wait::wait_until(Duration::from_secs(10), Duration::from_millis(300), || {
        let out = show(&d, ours);
        if out.contains(SHUTDOWN_TEXT) {
            Ok(out)
        } else {
            Err(out)
        }
    });
    match t {
        Ok(out) => {
            let line = out
                .lines()
                .find(|l| l.contains(SHUTDOWN_TEXT))
                .unwrap_or("");
            eprintln!("{kind} shows: {}", line.trim());
        }
        Err(t) => panic!(
            "{kind} does not show {SHUTDOWN_TEXT:?}; last output:\n{}",
            t.last.unwrap_or_default()
        ),
    }
    rt.block_on(h.shutdown(Stop::default()));
}

#[test]
fn bird_shows_shutdown_communication() {
    shutdown_text(Kind::Bird, Bird::start, |d, peer| {
        d.birdc(&format!("show protocols all {}", bird::protocol_name(peer)))
            .unwrap_or_else(|e| e.to_string())
    });
}

/// FRR 8.4 prints the reason in `show bgp neighbors` ("Notification
/// received (Cease/Administrative Shutdown)") and the communication itself
/// only in the JSON form of the same command, as `lastShutdownDescription`.
#[test]
fn frr_shows_shutdown_communication() {
    shutdown_text(Kind::Frr, Frr::start, |d, _| {
        let text = d
            .vtysh(&["show bgp neighbors"])
            .unwrap_or_else(|e| e.to_string());
        if !text.contains("Notification received (Cease/Administrative Shutdown)") {
            return text;
        }
        d.vtysh(&["show bgp neighbors json"])
            .unwrap_or_else(|e| e.to_string())
    });
}

/// A simultaneous open with BIRD: while static neighbor entries with a
/// wrong MAC address hold every segment back, both sides try to connect;
/// once the entries are removed, each side's pending SYN reaches the
/// other's listener, both sides see two connections, and collision
/// resolution (RFC 4271 6.8) leaves one session, which does not reset.
/// `SIMOPEN_DEBUG=1` prints our events as they come.
#[test]
fn bird_simultaneous_open_resolves_to_one_session() {
    let kind = Kind::Bird;
    if !daemon::interop_ready(&[kind]) {
        return;
    }
    let rt = runtime();
    let o = Options::default();
    let ns = Netns::new().unwrap();
    let root = Netns::root();
    let link = Link::new(&ns, &root).unwrap();
    let (ours, theirs) = (IpAddr::V4(link.b.v4), IpAddr::V4(link.a.v4));
    let (our_s, their_s) = (ours.to_string(), theirs.to_string());
    let hold = [
        (
            &ns,
            our_s.as_str(),
            link.veth.a_name.as_str(),
            "02:00:00:00:00:01",
        ),
        (
            &root,
            their_s.as_str(),
            link.veth.b_name.as_str(),
            "02:00:00:00:00:02",
        ),
    ];
    for (n, addr, dev, mac) in hold {
        n.ip(&[
            "neigh",
            "replace",
            addr,
            "lladdr",
            mac,
            "dev",
            dev,
            "nud",
            "permanent",
        ])
        .unwrap();
    }
    let mut cfg = RouterConfig::new(daemon_as(kind), link.a.v4);
    cfg.neighbor(daemon_neighbor(ours, theirs, &o).connect_retry(1));
    let d = start_daemon(kind, &ns, &cfg);
    // Our ConnectRetryTimer is long, so that our one connection attempt
    // stays in progress, its SYN retransmitted by the kernel 1, 3, 7 and
    // 15 s after it started, while BIRD makes a new attempt every few
    // seconds. Unblocking just after our third retransmission lets BIRD's
    // connection come first; ours completes at the next retransmission,
    // while the first is up: two connections, whatever BIRD does with its
    // own attempt once its session is up.
    let (h, mut e, _l) = {
        let listener = {
            let _guard = rt.enter();
            Listener::bind(SocketAddr::new(ours, 179)).unwrap()
        };
        let o = Options {
            connect_retry: Some(30),
            ..o.clone()
        };
        let (h, e) = peer_on(&rt, &listener, link.b.v4, kind, theirs, &o);
        (h, e, listener)
    };
    let started = std::time::Instant::now();
    std::thread::sleep(Duration::from_millis(7300));
    for (n, addr, dev, _) in hold {
        n.ip(&["neigh", "del", addr, "dev", dev]).unwrap();
    }
    let mut collisions = 0;
    let mut connections = 0;
    let end = std::time::Instant::now() + UP;
    let mut up = false;
    while std::time::Instant::now() < end && !up {
        let Some(ev) = wait_event(&rt, &mut e, Duration::from_secs(1), |_| true) else {
            continue;
        };
        if std::env::var_os("SIMOPEN_DEBUG").is_some() {
            eprintln!("{:?}", ev);
        }
        match &ev.kind {
            PeerEventKind::Collision { .. } => collisions += 1,
            PeerEventKind::Connected { .. } => connections += 1,
            PeerEventKind::Session(Action::Established(_)) => up = true,
            _ => {}
        }
    }
    assert!(up, "never Established");
    d.wait_established(ours, UP).unwrap();
    // Our retransmission at 15 s brings the second connection; let it be
    // resolved and closed, then count.
    std::thread::sleep(Duration::from_secs(19).saturating_sub(started.elapsed()));
    while let Some(ev) = e.try_recv() {
        match &ev.kind {
            PeerEventKind::Collision { .. } => collisions += 1,
            PeerEventKind::Connected { .. } => connections += 1,
            _ => {}
        }
    }
    let ss = ns
        .exec(&[
            "ss",
            "-Htn",
            "state",
            "established",
            "( sport = :179 or dport = :179 )",
        ])
        .unwrap()
        .stdout;
    let open: Vec<&str> = ss.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(open.len(), 1, "one BGP connection left: {ss}");
    assert_eq!(h.state(), State::Established);
    assert_eq!(h.status().established_count, 1, "no reset");
    eprintln!(
        "bird simultaneous open: {connections} connections seen by us, {collisions} \
         collision(s) resolved, one session left"
    );
    assert!(
        connections >= 2,
        "both sides connected ({connections} connections)"
    );
    assert!(collisions >= 1, "a collision was resolved");
    rt.block_on(h.shutdown(Stop::default()));
}
