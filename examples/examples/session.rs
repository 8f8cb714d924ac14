//! `session`: runs one BGP session with bgp-fsm's tokio transport and
//! prints one JSON line per event on standard output; a tool for debugging
//! a peering, and for the interop tests.
//!
//! ```text
//! cargo run --release -p bgp-examples --example session -- \
//!     --local-as 65001 --router-id 192.0.2.1 --peer 192.0.2.2 --peer-as 65002 \
//!     [--local 192.0.2.1] [--passive] [--md5 PASSWORD] [--listen 192.0.2.1:179] \
//!     [--hold 90] [--announce 198.51.100.0/24 2001:db8:100::/48 ...]
//! ```
//!
//! Lines have an `"event"` field: `state` (from, to), `connected`,
//! `connect_failed`, `connection_lost`, `rejected`, `collision`, `open`
//! (AS, hold time, identifier, capabilities), `established` (the
//! negotiated parameters), `update` (announced and withdrawn prefixes,
//! attributes summary), `end_of_rib`, `notification` (direction, code,
//! subcode, name, shutdown communication, data), `session_down`,
//! `route_refresh`, the graceful restart actions, `send_failed`,
//! `encode_failed`; each has `time` (seconds since the start) and
//! `session` (the session number; two exist during a collision). Logs go
//! to standard error.
//!
//! More options: `--family ipv4|ipv6` (repeatable; default both),
//! `--add-path` (send and receive, every family), `--graceful-restart
//! SECS`, `--ttl N` (multihop), `--gtsm [HOPS]`, `--connect-retry SECS`,
//! `--restart-delay SECS`, `--next-hop ADDR` (repeatable, one per address
//! family; default the connection's local address), `--stop-after SECS`
//! and `--stop-message TEXT` (an administrative shutdown, then the session
//! stays down), `--exit-after SECS`.
//!
//! Commands on standard input, one per line: `stop [TEXT]` (administrative
//! shutdown with that communication), `start`, `announce PREFIX...`,
//! `withdraw PREFIX...`, `refresh ipv4|ipv6`, `quit [TEXT]`.
//!
//! A link-local peer takes its scope as `fe80::1%eth0` or `[fe80::1%eth0]:179`
//! (an interface name or index).
//!
//! Exit status: 0 after `quit` or `--exit-after`, 2 for a usage error, 1 if
//! the session could not be set up.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::process::ExitCode;
use std::time::Duration;

use bgp_fsm::transport::{Listener, Peer, PeerConfig, PeerEvent, PeerEventKind, PeerHandle, Ttl};
use bgp_fsm::{Action, GracefulRestartConfig, Negotiated, NotificationReport, SessionConfig, Stop};
use bgp_wire::attribute::{AsPath, MpNextHop, Origin, PathAttributes, PeerType};
use bgp_wire::capability::{AddPathFamily, SendReceive};
use bgp_wire::message::update::builder;
use bgp_wire::nlri::Nlri;
use bgp_wire::{Afi, AfiSafi, Capability, Direction, RouteRefresh, SessionContext, Update};
use ipnet::IpNet;
use serde_json::{Value, json};

const USAGE: &str = "usage: session --local-as A --router-id R --peer ADDR[:PORT] --peer-as B\n\
    \x20      [--local SOURCE_ADDR] [--passive] [--md5 PASSWORD] [--listen ADDR:PORT]\n\
    \x20      [--hold SECS] [--announce PREFIX ...] [--family ipv4|ipv6]... [--add-path]\n\
    \x20      [--graceful-restart SECS] [--ttl N | --gtsm [HOPS]] [--connect-retry SECS]\n\
    \x20      [--restart-delay SECS] [--next-hop ADDR]... [--stop-after SECS]\n\
    \x20      [--stop-message TEXT] [--exit-after SECS]\n\
    Runs one BGP session; prints one JSON line per event on stdout.\n\
    stdin commands: stop [TEXT] | start | announce PREFIX... | withdraw PREFIX... |\n\
    \x20               refresh ipv4|ipv6 | quit [TEXT]\n";

#[derive(Debug)]
struct Args {
    local_as: u32,
    router_id: Ipv4Addr,
    peer: SocketAddr,
    peer_as: u32,
    local: Option<IpAddr>,
    passive: bool,
    md5: Option<String>,
    listen: Option<SocketAddr>,
    hold: u16,
    announce: Vec<IpNet>,
    families: Vec<AfiSafi>,
    add_path: bool,
    graceful_restart: Option<u16>,
    ttl: Ttl,
    connect_retry: Option<u64>,
    restart_delay: Option<f64>,
    next_hops: Vec<IpAddr>,
    stop_after: Option<f64>,
    stop_message: String,
    exit_after: Option<f64>,
}

/// The interface index of `name` (a number, or an interface name read
/// from sysfs).
fn scope_id(name: &str) -> Result<u32, String> {
    if let Ok(n) = name.parse() {
        return Ok(n);
    }
    std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex"))
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .ok_or_else(|| format!("unknown interface {name}"))
}

/// `ADDR`, `ADDR:PORT`, `[ADDR]:PORT`, with `%SCOPE` on IPv6.
fn parse_peer(s: &str) -> Result<SocketAddr, String> {
    let bad = || format!("bad peer address {s}");
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, p) = rest.split_once(']').ok_or_else(bad)?;
        let port = match p.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad())?,
            None if p.is_empty() => 179,
            None => return Err(bad()),
        };
        (h, port)
    } else if s.matches(':').count() == 1 {
        let (h, p) = s.split_once(':').ok_or_else(bad)?;
        (h, p.parse().map_err(|_| bad())?)
    } else {
        (s, 179)
    };
    let (addr, scope) = match host.split_once('%') {
        Some((a, sc)) => (a, Some(scope_id(sc)?)),
        None => (host, None),
    };
    let ip: IpAddr = addr.parse().map_err(|_| bad())?;
    Ok(match (ip, scope) {
        (IpAddr::V6(v6), Some(sc)) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, sc)),
        (ip, None) => SocketAddr::new(ip, port),
        (IpAddr::V4(_), Some(_)) => return Err(bad()),
    })
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1).peekable();
    let mut local_as = None;
    let mut router_id = None;
    let mut peer = None;
    let mut peer_as = None;
    let mut a = Args {
        local_as: 0,
        router_id: Ipv4Addr::UNSPECIFIED,
        peer: SocketAddr::from(([0, 0, 0, 0], 179)),
        peer_as: 0,
        local: None,
        passive: false,
        md5: None,
        listen: None,
        hold: 90,
        announce: Vec::new(),
        families: Vec::new(),
        add_path: false,
        graceful_restart: None,
        ttl: Ttl::Default,
        connect_retry: None,
        restart_delay: None,
        next_hops: Vec::new(),
        stop_after: None,
        stop_message: String::new(),
        exit_after: None,
    };
    fn value(it: &mut impl Iterator<Item = String>, opt: &str) -> Result<String, String> {
        it.next().ok_or_else(|| format!("{opt} needs a value"))
    }
    fn num<T: std::str::FromStr>(s: &str, opt: &str) -> Result<T, String> {
        s.parse().map_err(|_| format!("bad value {s} for {opt}"))
    }
    while let Some(opt) = it.next() {
        let o = opt.as_str();
        match o {
            "-h" | "--help" => return Err(String::new()),
            "--local-as" => local_as = Some(num(&value(&mut it, o)?, o)?),
            "--router-id" => router_id = Some(num(&value(&mut it, o)?, o)?),
            "--peer" => peer = Some(parse_peer(&value(&mut it, o)?)?),
            "--peer-as" => peer_as = Some(num(&value(&mut it, o)?, o)?),
            "--local" => a.local = Some(num(&value(&mut it, o)?, o)?),
            "--passive" => a.passive = true,
            "--md5" => a.md5 = Some(value(&mut it, o)?),
            "--listen" => a.listen = Some(parse_peer(&value(&mut it, o)?)?),
            "--hold" => a.hold = num(&value(&mut it, o)?, o)?,
            "--announce" => {
                a.announce.push(num(&value(&mut it, o)?, o)?);
                while let Some(next) = it.next_if(|s| !s.starts_with("--")) {
                    a.announce.push(num(&next, o)?);
                }
            }
            "--family" => a.families.push(match value(&mut it, o)?.as_str() {
                "ipv4" => AfiSafi::IPV4_UNICAST,
                "ipv6" => AfiSafi::IPV6_UNICAST,
                f => return Err(format!("unknown family {f} (ipv4 or ipv6)")),
            }),
            "--add-path" => a.add_path = true,
            "--graceful-restart" => a.graceful_restart = Some(num(&value(&mut it, o)?, o)?),
            "--ttl" => a.ttl = Ttl::Multihop(num(&value(&mut it, o)?, o)?),
            "--gtsm" => {
                let hops = match it.next_if(|s| !s.starts_with("--")) {
                    Some(h) => num(&h, o)?,
                    None => 1,
                };
                a.ttl = Ttl::Gtsm { hops };
            }
            "--connect-retry" => a.connect_retry = Some(num(&value(&mut it, o)?, o)?),
            "--restart-delay" => a.restart_delay = Some(num(&value(&mut it, o)?, o)?),
            "--next-hop" => a.next_hops.push(num(&value(&mut it, o)?, o)?),
            "--stop-after" => a.stop_after = Some(num(&value(&mut it, o)?, o)?),
            "--stop-message" => a.stop_message = value(&mut it, o)?,
            "--exit-after" => a.exit_after = Some(num(&value(&mut it, o)?, o)?),
            other => return Err(format!("unknown option {other}")),
        }
    }
    a.local_as = local_as.ok_or("--local-as is required")?;
    a.router_id = router_id.ok_or("--router-id is required")?;
    a.peer = peer.ok_or("--peer is required")?;
    a.peer_as = peer_as.ok_or("--peer-as is required")?;
    if a.families.is_empty() {
        a.families = vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST];
    }
    Ok(a)
}

fn session_config(a: &Args) -> SessionConfig {
    let mut c = SessionConfig::new(a.local_as, a.router_id, a.peer_as);
    c.hold_time = a.hold;
    if let Some(s) = a.connect_retry {
        c.connect_retry_time = Duration::from_secs(s.max(1));
    }
    c.capabilities.families = a.families.clone();
    c.capabilities.enhanced_route_refresh = true;
    if a.add_path {
        c.capabilities.add_path = a
            .families
            .iter()
            .map(|f| AddPathFamily {
                family: *f,
                send_receive: SendReceive::Both,
            })
            .collect();
    }
    if let Some(t) = a.graceful_restart {
        c.capabilities.graceful_restart = Some(GracefulRestartConfig {
            restart_time: t,
            ..GracefulRestartConfig::default()
        });
    }
    c
}

/// Prints one JSON line.
fn print(mut v: Value, start: std::time::Instant, session: u64) {
    if let Value::Object(m) = &mut v {
        m.insert(
            "time".into(),
            json!((start.elapsed().as_secs_f64() * 1000.0).round() / 1000.0),
        );
        m.insert("session".into(), json!(session));
    }
    println!("{v}");
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn capability_json(c: &Capability) -> Value {
    json!({"code": c.code(), "text": c.to_string()})
}

fn negotiated_json(n: &Negotiated) -> Value {
    let add_path: serde_json::Map<String, Value> = n
        .families
        .iter()
        .map(|f| {
            let d = n.add_path(*f);
            (f.to_string(), json!({"send": d.send, "receive": d.receive}))
        })
        .collect();
    json!({
        "event": "established",
        "peer_as": n.peer_as,
        "peer_id": n.peer_id.to_string(),
        "internal": n.internal,
        "hold_time": n.hold_time,
        "keepalive_time": n.keepalive_time.map(|k| k.as_secs_f64()),
        "families": n.families.iter().map(|f| f.to_string()).collect::<Vec<_>>(),
        "four_octet_as": n.four_octet_as(),
        "extended_message": n.extended_message(),
        "route_refresh": n.route_refresh,
        "enhanced_route_refresh": n.enhanced_route_refresh,
        "add_path": add_path,
        "graceful_restart": n.graceful_restart.negotiated(),
        "graceful_restart_notification": n.graceful_restart.notification(),
        "peer_restart_time": n.graceful_restart.peer_restart_time(),
        "peer_restarted": n.graceful_restart.peer_restarted(),
        "long_lived_graceful_restart": n.graceful_restart.long_lived(),
    })
}

fn notification_json(r: &NotificationReport) -> Value {
    json!({
        "event": "notification",
        "direction": r.direction.to_string(),
        "code": r.code(),
        "subcode": r.subcode(),
        "name": r.notification.code.to_string(),
        "shutdown_communication": r.data.shutdown_communication(),
        "hard_reset": r.is_hard_reset(),
        "data": hex(&r.notification.data),
    })
}

fn update_json(u: &Update, ctx: &SessionContext, peer: PeerType) -> Value {
    let mut announced: Vec<String> = u.nlri().map(|n| n.to_string()).collect();
    let mut withdrawn: Vec<String> = u.withdrawn().map(|n| n.to_string()).collect();
    let mut attrs = serde_json::Map::new();
    match u.attributes(ctx, peer) {
        Ok(d) => {
            if let Some(mp) = &d.mp_reach {
                announced.extend(mp.prefixes().map(|n| n.to_string()));
                attrs.insert("mp_next_hop".into(), json!(mp.next_hop.to_string()));
                attrs.insert("mp_family".into(), json!(mp.family.to_string()));
            }
            if let Some(mp) = &d.mp_unreach {
                withdrawn.extend(mp.prefixes().map(|n| n.to_string()));
            }
            let a = &d.attributes;
            if let Some(o) = a.origin {
                attrs.insert("origin".into(), json!(o.to_string()));
            }
            if let Some(p) = &a.as_path {
                attrs.insert("as_path".into(), json!(p.to_string()));
            }
            if let Some(nh) = a.next_hop {
                attrs.insert("next_hop".into(), json!(nh.to_string()));
            }
            if let Some(m) = a.multi_exit_disc {
                attrs.insert("med".into(), json!(m));
            }
            if let Some(l) = a.local_pref {
                attrs.insert("local_pref".into(), json!(l));
            }
            if let Some(c) = &a.communities {
                attrs.insert("communities".into(), json!(c.to_string()));
            }
            if let Some(c) = &a.large_communities {
                attrs.insert("large_communities".into(), json!(c.to_string()));
            }
            if let Some(c) = &a.extended_communities {
                attrs.insert("extended_communities".into(), json!(c.to_string()));
            }
            if !d.report.is_empty() {
                let problems: Vec<String> =
                    d.report.problems.iter().map(|p| p.to_string()).collect();
                attrs.insert("problems".into(), json!(problems));
            }
        }
        Err(e) => {
            attrs.insert("error".into(), json!(e.to_string()));
        }
    }
    json!({"event": "update", "announced": announced, "withdrawn": withdrawn, "attributes": attrs})
}

fn families(f: &[AfiSafi]) -> Vec<String> {
    f.iter().map(|f| f.to_string()).collect()
}

/// The JSON line of an event (none for the few that say nothing new).
fn event_json(e: &PeerEvent, contexts: &HashMap<u64, (SessionContext, PeerType)>) -> Option<Value> {
    Some(match &e.kind {
        PeerEventKind::Connected {
            origin,
            local,
            remote,
        } => json!({"event": "connected", "origin": origin.to_string(),
                    "local": local.to_string(), "remote": remote.to_string()}),
        PeerEventKind::ConnectFailed { error } => {
            json!({"event": "connect_failed", "error": error})
        }
        PeerEventKind::ConnectionLost { error } => {
            json!({"event": "connection_lost", "error": error})
        }
        PeerEventKind::Rejected { remote } => {
            json!({"event": "rejected", "remote": remote.to_string()})
        }
        PeerEventKind::Collision { closed, resolution } => {
            json!({"event": "collision", "closed": closed, "resolution": format!("{resolution:?}")})
        }
        PeerEventKind::SendFailed { error } => {
            json!({"event": "send_failed", "error": error.to_string()})
        }
        PeerEventKind::EncodeFailed { error } => json!({"event": "encode_failed", "error": error}),
        PeerEventKind::Session(a) => match a {
            Action::StateChanged { from, to } => {
                json!({"event": "state", "from": from.name(), "to": to.name()})
            }
            Action::OpenReceived(open) => json!({
                "event": "open",
                "version": open.version,
                "as": open.effective_as(),
                "hold_time": open.hold_time,
                "router_id": open.bgp_identifier.to_string(),
                "capabilities": open.capabilities().map(capability_json).collect::<Vec<_>>(),
            }),
            Action::Established(n) => negotiated_json(n),
            Action::Notification(r) => notification_json(r),
            Action::UpdateReceived(u) => {
                let (ctx, peer) = contexts
                    .get(&e.session)
                    .cloned()
                    .unwrap_or((SessionContext::default(), PeerType::External));
                update_json(u, &ctx, peer)
            }
            Action::EndOfRibReceived(f) => json!({"event": "end_of_rib", "family": f.to_string()}),
            Action::AllEndOfRibReceived => json!({"event": "all_end_of_rib"}),
            Action::RouteRefreshReceived(rr) => json!({"event": "route_refresh",
                "family": rr.family.to_string(), "subtype": rr.subtype.to_string()}),
            Action::SessionDown(d) => json!({"event": "session_down", "from": d.from.name(),
                "reason": format!("{:?}", d.reason)}),
            Action::DeleteRoutes(f) => json!({"event": "delete_routes", "families": families(f)}),
            Action::RoutesStale(f) => json!({"event": "routes_stale", "families": families(f)}),
            Action::RoutesLongLivedStale(f) => {
                json!({"event": "routes_long_lived_stale", "families": families(f)})
            }
            Action::DeleteStaleRoutes(f) => {
                json!({"event": "delete_stale_routes", "families": families(f)})
            }
            _ => return None,
        },
    })
}

/// The family of a prefix.
fn family_of(p: &IpNet) -> AfiSafi {
    match p {
        IpNet::V4(_) => AfiSafi::IPV4_UNICAST,
        IpNet::V6(_) => AfiSafi::IPV6_UNICAST,
    }
}

/// What is needed to build our UPDATEs for the current session.
#[derive(Debug, Clone)]
struct Outgoing {
    negotiated: Negotiated,
    local: IpAddr,
}

impl Outgoing {
    /// The context to read back UPDATEs we built: path identifiers where we
    /// send them.
    fn readback(&self) -> SessionContext {
        let n = &self.negotiated;
        let mut ctx = SessionContext::default()
            .with_four_octet_as(n.four_octet_as())
            .with_extended_message(n.extended_message());
        for f in &n.families {
            if n.add_path(*f).send {
                ctx = ctx.with_add_path(*f, Direction::Receive);
            }
        }
        ctx
    }

    fn next_hop(&self, family: AfiSafi, configured: &[IpAddr]) -> Option<IpAddr> {
        let want_v4 = family.afi == Afi::Ipv4;
        configured
            .iter()
            .copied()
            .find(|a| a.is_ipv4() == want_v4)
            .or(match (self.local, want_v4) {
                (IpAddr::V4(a), true) => Some(IpAddr::V4(a)),
                (IpAddr::V6(a), false) => Some(IpAddr::V6(a)),
                (IpAddr::V4(a), false) => Some(IpAddr::V6(a.to_ipv6_mapped())),
                (IpAddr::V6(a), true) => a.to_ipv4_mapped().map(IpAddr::V4),
            })
    }

    /// The UPDATEs announcing (or withdrawing) `prefixes`, by family.
    fn updates(&self, args: &Args, prefixes: &[IpNet], withdraw: bool) -> Vec<Update> {
        let n = &self.negotiated;
        let ctx = n.session_context();
        let readback = self.readback();
        let mut out = Vec::new();
        for family in [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST] {
            let nlri: Vec<Nlri> = prefixes
                .iter()
                .filter(|p| family_of(p) == family)
                .map(|p| {
                    let mut x = Nlri::new(*p);
                    if n.add_path(family).send {
                        x.path_id = Some(1);
                    }
                    x
                })
                .collect();
            if nlri.is_empty() {
                continue;
            }
            if !n.has_family(family) {
                eprintln!("session: {family} was not negotiated; not sent");
                continue;
            }
            let built = if withdraw {
                builder::withdraw(ctx, family, &nlri)
            } else {
                let Some(nh) = self.next_hop(family, &args.next_hops) else {
                    eprintln!("session: no next hop for {family}; use --next-hop");
                    continue;
                };
                let mut attrs = PathAttributes {
                    origin: Some(Origin::Igp),
                    as_path: Some(if n.internal {
                        AsPath::default()
                    } else {
                        AsPath::from_sequence(&[args.local_as])
                    }),
                    local_pref: n.internal.then_some(100),
                    ..PathAttributes::default()
                };
                let mp = match (family == AfiSafi::IPV4_UNICAST, nh) {
                    (true, IpAddr::V4(a)) => {
                        attrs.next_hop = Some(a);
                        None
                    }
                    (_, IpAddr::V6(global)) => Some(MpNextHop::Ipv6 {
                        global,
                        link_local: None,
                    }),
                    (false, IpAddr::V4(a)) => Some(MpNextHop::Ipv4(a)),
                };
                builder::announce(ctx, family, &attrs, mp.as_ref(), &nlri)
            };
            match built {
                Ok(msgs) => {
                    for m in msgs {
                        match Update::decode(m.slice(19..), &readback) {
                            Ok(u) => out.push(u),
                            Err(e) => {
                                eprintln!("session: built an UPDATE that does not decode: {e}")
                            }
                        }
                    }
                }
                Err(e) => eprintln!("session: cannot build UPDATE for {family}: {e}"),
            }
        }
        out
    }
}

async fn send_all(peer: &PeerHandle, updates: Vec<Update>) {
    for u in updates {
        if let Err(e) = peer.send_update(u).await {
            eprintln!("session: UPDATE not sent: {e}");
            return;
        }
    }
}

fn parse_prefixes(words: &[&str]) -> Vec<IpNet> {
    words
        .iter()
        .filter_map(|w| match w.parse() {
            Ok(p) => Some(p),
            Err(_) => {
                eprintln!("session: bad prefix {w}");
                None
            }
        })
        .collect()
}

/// Reads stdin lines on a thread (stdin has no async reader without more
/// tokio features); the channel closes at end of input.
fn stdin_lines() -> tokio::sync::mpsc::UnboundedReceiver<String> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        loop {
            line.clear();
            match std::io::stdin().read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    if tx.send(line.trim().to_string()).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

fn at(start: tokio::time::Instant, secs: Option<f64>) -> Option<tokio::time::Instant> {
    secs.map(|s| start + Duration::from_secs_f64(s.max(0.0)))
}

async fn sleep_until_opt(t: Option<tokio::time::Instant>) {
    match t {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

async fn run(args: Args) -> ExitCode {
    let start = std::time::Instant::now();
    let tstart = tokio::time::Instant::now();
    let listen = args.listen.or(if args.passive {
        Some(if args.peer.is_ipv6() {
            SocketAddr::from((Ipv6Addr::UNSPECIFIED, 179))
        } else {
            SocketAddr::from((Ipv4Addr::UNSPECIFIED, 179))
        })
    } else {
        None
    });
    let listener = match listen.map(Listener::bind).transpose() {
        Ok(l) => l,
        Err(e) => {
            eprintln!("session: cannot listen on {listen:?}: {e}");
            return ExitCode::from(1);
        }
    };
    let mut config = PeerConfig::new(session_config(&args), args.peer);
    config.local = args.local;
    config.passive = args.passive;
    config.md5_key = args.md5.as_ref().map(|p| p.as_bytes().to_vec());
    config.ttl = args.ttl;
    if let Some(d) = args.restart_delay {
        config.restart_delay = Some(Duration::from_secs_f64(d.max(0.0)));
    }
    let (peer, mut events) = match Peer::spawn(config, listener.as_ref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("session: {e}");
            return ExitCode::from(1);
        }
    };
    eprintln!(
        "session: AS {} ({}) with {} AS {}{}{}",
        args.local_as,
        args.router_id,
        args.peer,
        args.peer_as,
        if args.passive { ", passive" } else { "" },
        listener
            .as_ref()
            .map(|l| format!(", listening on {}", l.local_addr()))
            .unwrap_or_default()
    );
    if peer.start().is_err() {
        return ExitCode::from(1);
    }
    let mut stdin = stdin_lines();
    let mut stdin_open = true;
    let mut contexts: HashMap<u64, (SessionContext, PeerType)> = HashMap::new();
    let mut locals: HashMap<u64, IpAddr> = HashMap::new();
    let mut outgoing: Option<Outgoing> = None;
    let mut stop_at = at(tstart, args.stop_after);
    let exit_at = at(tstart, args.exit_after);
    loop {
        tokio::select! {
            ev = events.recv() => {
                let Some(ev) = ev else { break };
                if let Some(v) = event_json(&ev, &contexts) {
                    print(v, start, ev.session);
                }
                match &ev.kind {
                    PeerEventKind::Connected { local, .. } => {
                        locals.insert(ev.session, local.ip().to_canonical());
                    }
                    PeerEventKind::Session(Action::Established(n)) => {
                        let peer_type = if n.internal { PeerType::Internal } else { PeerType::External };
                        contexts.insert(ev.session, (n.session_context().clone(), peer_type));
                        let local = locals.get(&ev.session).copied()
                            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
                        let out = Outgoing { negotiated: (**n).clone(), local };
                        send_all(&peer, out.updates(&args, &args.announce, false)).await;
                        for f in &n.families {
                            let _ = peer.initial_updates_sent(*f).await;
                        }
                        outgoing = Some(out);
                    }
                    PeerEventKind::Session(Action::SessionDown(_))
                        if peer.status().session == ev.session =>
                    {
                        outgoing = None;
                    }
                    _ => {}
                }
            }
            line = stdin.recv(), if stdin_open => {
                let Some(line) = line else { stdin_open = false; continue };
                let words: Vec<&str> = line.split_whitespace().collect();
                let rest = |skip: usize| line.splitn(skip + 1, ' ').nth(skip).unwrap_or("").trim().to_string();
                match words.first().copied() {
                    Some("stop") => { let _ = peer.stop(Stop::administrative_shutdown(rest(1))); }
                    Some("start") => { let _ = peer.start(); }
                    Some(cmd @ ("announce" | "withdraw")) => {
                        let prefixes = parse_prefixes(words.get(1..).unwrap_or_default());
                        match &outgoing {
                            Some(out) => send_all(&peer, out.updates(&args, &prefixes, cmd == "withdraw")).await,
                            None => eprintln!("session: not Established; {cmd} ignored"),
                        }
                    }
                    Some("refresh") => {
                        let family = match words.get(1).copied() {
                            Some("ipv6") => AfiSafi::IPV6_UNICAST,
                            _ => AfiSafi::IPV4_UNICAST,
                        };
                        let _ = peer.send_route_refresh(RouteRefresh::new(family));
                    }
                    Some("quit") => {
                        peer.shutdown(Stop::administrative_shutdown(rest(1))).await;
                        break;
                    }
                    Some(other) => eprintln!("session: unknown command {other}"),
                    None => {}
                }
            }
            () = sleep_until_opt(stop_at) => {
                stop_at = None;
                let _ = peer.stop(Stop::administrative_shutdown(args.stop_message.clone()));
            }
            () = sleep_until_opt(exit_at) => {
                peer.shutdown(Stop::administrative_shutdown(args.stop_message.clone())).await;
                break;
            }
        }
    }
    // What the driver reported while shutting down.
    while let Some(ev) = events.try_recv() {
        if let Some(v) = event_json(&ev, &contexts) {
            print(v, start, ev.session);
        }
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) if e.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprint!("session: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("session: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    rt.block_on(run(args))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn peer_addresses() {
        assert_eq!(
            parse_peer("192.0.2.1"),
            Ok("192.0.2.1:179".parse().unwrap())
        );
        assert_eq!(parse_peer("192.0.2.1:1179").map(|a| a.port()), Ok(1179));
        assert_eq!(parse_peer("2001:db8::1").map(|a| a.port()), Ok(179));
        assert_eq!(parse_peer("[2001:db8::1]:1790").map(|a| a.port()), Ok(1790));
        let ll = parse_peer("[fe80::1%3]:179");
        assert!(matches!(ll, Ok(SocketAddr::V6(a)) if a.scope_id() == 3));
        assert!(parse_peer("fe80::1%lo").is_ok());
        assert!(parse_peer("192.0.2.1%3").is_err());
        assert!(parse_peer("[::1]x").is_err());
    }
}
