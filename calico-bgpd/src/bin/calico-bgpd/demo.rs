//! `calico-bgpd demo`: seven speakers in this process, on loopback
//! addresses, without root.
//!
//! ```text
//!                  AS 65000 (iBGP, route reflection)
//!
//!        cluster 0.0.0.1                     cluster 0.0.0.2
//!      +------ rr1 ------------------------------ rr2 ------+
//!      |  127.0.1.1   \                       /  127.0.1.2  |
//!      c1 127.0.1.3    c2 127.0.1.4   c3 127.0.1.5     c4 127.0.1.6
//!        \                             /
//!         +----------- ext -----------+     AS 65100 (eBGP)
//!                    127.0.1.7
//! ```
//!
//! Two route reflectors, each the only reflector of its own cluster (rr1:
//! c1 and c2 in 0.0.0.1; rr2: c3 and c4 in 0.0.0.2), joined by a plain
//! iBGP session. One cluster per reflector keeps each client's view
//! simple (one session) and makes the CLUSTER_LIST visible: a route that
//! crosses from one cluster to the other carries the cluster it left, and
//! a reflector drops a route that comes back to its own cluster. A shared
//! cluster would give every client two reflectors (redundancy), but the
//! reflectors would then drop each other's reflected routes, and the demo
//! would show less. The iBGP sessions negotiate ADD-PATH both ways, so the
//! clients see every path the reflectors hold, not only the best one.
//!
//! The eBGP neighbour `ext` (AS 65100) peers with the border clients c1
//! and c3, which set themselves as next hop towards their reflector.
//! `ext` prepends its AS twice to 198.19.1.0/24 towards c3 only, so that
//! prefix is decided by AS path length everywhere, while 198.19.0.0/24
//! ties up to the router ID and is forwarded by ECMP over both borders.
//! 198.18.100.0/24 is originated by c2 and c4 (anycast): ECMP too.
//!
//! The prefixes are the benchmarking range (198.18.0.0/15) and the IPv6
//! documentation prefix (2001:db8::/32); nothing is installed in a
//! kernel. IPv6 routes travel over the IPv4 sessions (MP-BGP) with the
//! IPv4-mapped address of their speaker as next hop.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bgp_fsm::State;
use bgp_rib::policy::{Actions, Condition, DefaultAction, Policy, PrefixSet, Term};
use bgp_speaker::{AddPathMode, NextHopMode, Originate, PeerConfig, RouteInfo, Speaker};
use ipnet::IpNet;

use crate::show;

/// `demo --help`.
pub(crate) const LONG_ABOUT: &str = "\
Run a demo topology in this process, print it once converged, and exit.

Seven BGP speakers (bgp-speaker, as calico-bgpd runs it) on loopback
addresses 127.0.1.1 to 127.0.1.7, no root needed:

  AS 65000  rr1, rr2   route reflectors, one cluster each, iBGP between them
            c1, c2     clients of rr1 (cluster 0.0.0.1)
            c3, c4     clients of rr2 (cluster 0.0.0.2)
  AS 65100  ext        eBGP neighbour of the border clients c1 and c3

Each originates a few prefixes of 198.18.0.0/15 and 2001:db8::/32 (never
installed anywhere); c2 and c4 both originate 198.18.100.0/24, and ext
makes one of its prefixes longer towards c3, so that ECMP and the decision
process show. Once every session is Established and every Loc-RIB holds
every prefix (and stays the same for a second), it prints for each speaker
its sessions as `birdc show protocols` would (times in UTC) and its
Loc-RIB as `birdc show route` would: every path, the best one marked `*`
and ECMP members `+`, the AS path, every next hop of the ECMP set, and the
step of the decision process that chose the best path (or at which each
other path lost). Then it shuts every session down with Cease /
Administrative Shutdown and exits 0; 1 if the topology did not converge in
time.";

/// The demo's options.
#[derive(Debug, clap::Args)]
pub(crate) struct DemoArgs {
    /// The TCP port every speaker listens on, each on its own loopback
    /// address; 0 lets the system pick a port per speaker.
    #[arg(long, default_value_t = 11790)]
    port: u16,
    /// How many seconds to wait for convergence before giving up.
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    timeout: u64,
}

/// The local AS of the reflectors and their clients.
const AS_CORE: u32 = 65000;
/// The eBGP neighbour's AS.
const AS_EXT: u32 = 65100;

/// One speaker of the topology.
struct Node {
    name: &'static str,
    addr: [u8; 4],
    asn: u32,
    /// The route-reflection cluster of a reflector.
    cluster: Option<[u8; 4]>,
    role: &'static str,
    originate: &'static [&'static str],
}

const NODES: [Node; 7] = [
    Node {
        name: "rr1",
        addr: [127, 0, 1, 1],
        asn: AS_CORE,
        cluster: Some([0, 0, 0, 1]),
        role: "route reflector of cluster 0.0.0.1 (clients c1, c2)",
        originate: &["198.18.1.0/24"],
    },
    Node {
        name: "rr2",
        addr: [127, 0, 1, 2],
        asn: AS_CORE,
        cluster: Some([0, 0, 0, 2]),
        role: "route reflector of cluster 0.0.0.2 (clients c3, c4)",
        originate: &["198.18.2.0/24"],
    },
    Node {
        name: "c1",
        addr: [127, 0, 1, 3],
        asn: AS_CORE,
        cluster: None,
        role: "client of rr1, border to ext",
        originate: &["198.18.11.0/24", "2001:db8:11::/48"],
    },
    Node {
        name: "c2",
        addr: [127, 0, 1, 4],
        asn: AS_CORE,
        cluster: None,
        role: "client of rr1",
        originate: &["198.18.12.0/24", "198.18.100.0/24"],
    },
    Node {
        name: "c3",
        addr: [127, 0, 1, 5],
        asn: AS_CORE,
        cluster: None,
        role: "client of rr2, border to ext",
        originate: &["198.18.13.0/24", "2001:db8:13::/48"],
    },
    Node {
        name: "c4",
        addr: [127, 0, 1, 6],
        asn: AS_CORE,
        cluster: None,
        role: "client of rr2",
        originate: &["198.18.14.0/24", "198.18.100.0/24"],
    },
    Node {
        name: "ext",
        addr: [127, 0, 1, 7],
        asn: AS_EXT,
        cluster: None,
        role: "eBGP neighbour of c1 and c3",
        originate: &["198.19.0.0/24", "198.19.1.0/24", "2001:db8:100::/48"],
    },
];

/// One session: `active` connects, `passive` waits for it.
struct Session {
    active: &'static str,
    passive: &'static str,
    /// The active side is a route-reflection client of the passive side.
    client: bool,
    /// The active side sets itself as next hop towards the passive side
    /// (a border client towards its reflector).
    next_hop_self: bool,
}

const SESSIONS: [Session; 7] = [
    Session {
        active: "rr1",
        passive: "rr2",
        client: false,
        next_hop_self: false,
    },
    Session {
        active: "c1",
        passive: "rr1",
        client: true,
        next_hop_self: true,
    },
    Session {
        active: "c2",
        passive: "rr1",
        client: true,
        next_hop_self: false,
    },
    Session {
        active: "c3",
        passive: "rr2",
        client: true,
        next_hop_self: true,
    },
    Session {
        active: "c4",
        passive: "rr2",
        client: true,
        next_hop_self: false,
    },
    Session {
        active: "c1",
        passive: "ext",
        client: false,
        next_hop_self: false,
    },
    Session {
        active: "c3",
        passive: "ext",
        client: false,
        next_hop_self: false,
    },
];

/// ext's export policy towards c3: 198.19.1.0/24 with AS 65100 twice more.
const PREPEND_POLICY: &str = "prepend-198.19.1.0";
const PREPENDED: &str = "198.19.1.0/24";

/// The shutdown communication (RFC 9003) every session is closed with.
const SHUTDOWN_MESSAGE: &str = "calico-bgpd demo finished";

/// How often convergence is polled, and how many identical polls in a row
/// count as settled.
const POLL: Duration = Duration::from_millis(200);
const STABLE_POLLS: usize = 5;

fn ip(a: [u8; 4]) -> Ipv4Addr {
    Ipv4Addr::from(a)
}

fn node(name: &str) -> Option<(usize, &'static Node)> {
    NODES.iter().enumerate().find(|(_, n)| n.name == name)
}

/// Runs the demo.
pub(crate) async fn run(args: DemoArgs) -> ExitCode {
    let started = Instant::now();
    let speakers = match start(&args).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("calico-bgpd demo: {e}");
            return ExitCode::FAILURE;
        }
    };
    intro(&args, &speakers);
    let deadline = Duration::from_secs(args.timeout);
    let result = converge(&speakers, started, deadline).await;
    let code = match result {
        Ok(took) => {
            println!(
                "Converged in {:.1} s: {} sessions Established, {} prefixes in every Loc-RIB.\n",
                took.as_secs_f64(),
                SESSIONS.len(),
                expected_prefixes().len()
            );
            match print_all(&speakers).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("calico-bgpd demo: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Err(e) => {
            eprintln!("calico-bgpd demo: not converged: {e}");
            for (n, s) in NODES.iter().zip(&speakers) {
                eprintln!(
                    "{}> show protocols\n{}",
                    n.name,
                    show::protocols(&s.peers())
                );
            }
            ExitCode::FAILURE
        }
    };
    // One speaker after the other, so that the peers of each see its
    // Cease / Administrative Shutdown and close their end at once.
    let stop = Instant::now();
    let all = async {
        for s in &speakers {
            s.shutdown(SHUTDOWN_MESSAGE).await;
        }
    };
    if tokio::time::timeout(Duration::from_secs(20), all)
        .await
        .is_err()
    {
        eprintln!("calico-bgpd demo: shutdown did not finish in 20 s");
        return ExitCode::FAILURE;
    }
    println!(
        "Shut down in {:.1} s: every session closed with Cease / Administrative Shutdown \"{SHUTDOWN_MESSAGE}\".",
        stop.elapsed().as_secs_f64()
    );
    code
}

/// Every prefix originated somewhere: what each Loc-RIB must hold.
fn expected_prefixes() -> Vec<IpNet> {
    let mut v: Vec<IpNet> = NODES
        .iter()
        .flat_map(|n| n.originate.iter())
        .filter_map(|p| p.parse().ok())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Starts the speakers (listening), then adds the sessions, both ends.
async fn start(args: &DemoArgs) -> Result<Vec<Speaker>, String> {
    let mut speakers = Vec::new();
    for n in &NODES {
        let listen = SocketAddr::new(IpAddr::V4(ip(n.addr)), args.port);
        let mut b = Speaker::builder(n.asn, ip(n.addr))
            .listen(listen)
            .max_paths(4);
        if let Some(c) = n.cluster {
            b = b.cluster_id(ip(c));
        }
        if n.asn == AS_EXT {
            let set = PrefixSet::parse([PREPENDED]).map_err(|e| e.to_string())?;
            b = b.policy(
                Policy::new(PREPEND_POLICY)
                    .term(
                        Term::new("longer")
                            .when(Condition::prefix_in(Arc::new(set)))
                            .set(Actions::new().prepend_own(2))
                            .accept(),
                    )
                    .default_action(DefaultAction::Accept),
            );
        }
        for p in n.originate {
            let prefix: IpNet = p.parse().map_err(|e| format!("{p}: {e}"))?;
            // This router's address as next hop (what it announces anyway),
            // so that the Loc-RIB shows where the route leads.
            let nh = match prefix {
                IpNet::V4(_) => IpAddr::V4(ip(n.addr)),
                IpNet::V6(_) => IpAddr::V6(ip(n.addr).to_ipv6_mapped()),
            };
            b = b.originate(Originate::new(prefix).next_hop(nh));
        }
        let s = b.start().await.map_err(|e| {
            format!(
                "{}: cannot start on {listen}: {e} (is another demo running? try --port 0)",
                n.name
            )
        })?;
        speakers.push(s);
    }
    for s in &SESSIONS {
        let ((ai, a), (pi, p)) = match (node(s.active), node(s.passive)) {
            (Some(a), Some(p)) => (a, p),
            _ => {
                return Err(format!(
                    "session {}-{}: no such speaker",
                    s.active, s.passive
                ));
            }
        };
        let (Some(sa), Some(sp)) = (speakers.get(ai), speakers.get(pi)) else {
            return Err("speaker missing".into());
        };
        let port = |sp: &Speaker, addr: Ipv4Addr| {
            sp.listen_addrs()
                .iter()
                .find(|l| l.ip() == IpAddr::V4(addr))
                .map_or(args.port, SocketAddr::port)
        };
        let ibgp = a.asn == p.asn;
        let mut to_passive = session_end(a, p, ibgp).port(port(sp, ip(p.addr)));
        if s.next_hop_self {
            to_passive.next_hop = NextHopMode::SelfAddress;
        }
        let mut to_active = session_end(p, a, ibgp).port(port(sa, ip(a.addr))).passive();
        if s.client {
            to_active = to_active.rr_client();
        }
        if p.asn == AS_EXT && a.name == "c3" {
            to_active = to_active.export([PREPEND_POLICY]);
        }
        sp.add_peer(to_active)
            .await
            .map_err(|e| format!("{}: peer {}: {e}", p.name, a.name))?;
        sa.add_peer(to_passive)
            .await
            .map_err(|e| format!("{}: peer {}: {e}", a.name, p.name))?;
    }
    Ok(speakers)
}

/// The configuration of `from`'s end of a session with `to`.
fn session_end(from: &Node, to: &Node, ibgp: bool) -> PeerConfig {
    let mut c = PeerConfig::new(IpAddr::V4(ip(to.addr)), to.asn)
        .local_address(IpAddr::V4(ip(from.addr)))
        .hold_time(30)
        .connect_retry(1);
    c.name = Some(to.name.into());
    c.restart_delay = 1;
    c.ipv6_next_hop = Some(ip(from.addr).to_ipv6_mapped());
    if ibgp {
        c.add_path = AddPathMode::Both;
    }
    c
}

fn intro(args: &DemoArgs, speakers: &[Speaker]) {
    println!("calico-bgpd demo: 7 BGP speakers in one process, on loopback addresses\n");
    println!("  AS 65000 (iBGP)  rr1, rr2  route reflectors, one cluster each, iBGP between them");
    println!("                   c1, c2    clients of rr1, cluster 0.0.0.1 (c1 borders ext)");
    println!("                   c3, c4    clients of rr2, cluster 0.0.0.2 (c3 borders ext)");
    println!(
        "  AS 65100 (eBGP)  ext       neighbour of c1 and c3; prepends 65100 65100 to 198.19.1.0/24 towards c3"
    );
    println!("  anycast          198.18.100.0/24 originated by both c2 and c4\n");
    for (n, s) in NODES.iter().zip(speakers) {
        let at = match s.listen_addrs().first() {
            Some(a) if args.port != 0 => a.to_string(),
            Some(a) => a.ip().to_string(),
            None => String::new(),
        };
        println!("  {:<4} {:<16} AS {}  {}", n.name, at, n.asn, n.role);
    }
    if args.port == 0 {
        println!("  (listening on ports the system picked)");
    }
    println!();
}

/// Waits until every session is Established, every Loc-RIB holds every
/// prefix, nothing waits to be sent, and the routes stay the same for
/// [`STABLE_POLLS`] polls in a row.
async fn converge(
    speakers: &[Speaker],
    started: Instant,
    limit: Duration,
) -> Result<Duration, String> {
    let expected = expected_prefixes();
    let mut last: Option<Vec<String>> = None;
    let mut same = 0;
    loop {
        let state = snapshot(speakers, &expected).await;
        match state {
            Ok(fingerprint) => {
                if last.as_ref() == Some(&fingerprint) {
                    same += 1;
                } else {
                    same = 1;
                    last = Some(fingerprint);
                }
                if same >= STABLE_POLLS {
                    return Ok(started.elapsed());
                }
            }
            Err(why) => {
                same = 0;
                last = None;
                if started.elapsed() > limit {
                    return Err(format!("after {} s: {why}", limit.as_secs()));
                }
            }
        }
        if started.elapsed() > limit {
            return Err(format!(
                "after {} s: the routes kept changing",
                limit.as_secs()
            ));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// What is not converged yet, or a fingerprint of every speaker's routes.
async fn snapshot(speakers: &[Speaker], expected: &[IpNet]) -> Result<Vec<String>, String> {
    let mut fp = Vec::new();
    for (n, s) in NODES.iter().zip(speakers) {
        let peers = s.peers();
        let want = SESSIONS
            .iter()
            .filter(|x| x.active == n.name || x.passive == n.name)
            .count();
        if peers.len() != want {
            return Err(format!(
                "{}: {} of {want} peers configured",
                n.name,
                peers.len()
            ));
        }
        for p in &peers {
            let name = p.name.as_deref().unwrap_or("?");
            if p.state != State::Established {
                return Err(format!("{}: session {name} is {}", n.name, p.state));
            }
            if p.counters.updates_pending > 0 {
                return Err(format!("{}: UPDATEs waiting for {name}", n.name));
            }
        }
        let best = s
            .best_routes()
            .await
            .map_err(|e| format!("{}: {e}", n.name))?;
        for prefix in expected {
            let Some(b) = best.iter().find(|b| b.prefix == *prefix) else {
                return Err(format!("{}: no route to {prefix} yet", n.name));
            };
            let r = s
                .route(*prefix)
                .await
                .map_err(|e| format!("{}: {e}", n.name))?;
            fp.push(format!("{} {prefix} {:?} {:?}", n.name, b.next_hops, r));
        }
    }
    Ok(fp)
}

/// Prints every speaker's sessions and Loc-RIB.
async fn print_all(speakers: &[Speaker]) -> Result<(), String> {
    let names: show::Names = NODES
        .iter()
        .map(|n| (IpAddr::V4(ip(n.addr)), n.name.to_string()))
        .collect();
    for (n, s) in NODES.iter().zip(speakers) {
        let best = s
            .best_routes()
            .await
            .map_err(|e| format!("{}: {e}", n.name))?;
        let mut info: BTreeMap<IpNet, RouteInfo> = BTreeMap::new();
        for b in &best {
            if let Some(r) = s
                .route(b.prefix)
                .await
                .map_err(|e| format!("{}: {e}", n.name))?
            {
                info.insert(b.prefix, r);
            }
        }
        println!(
            "=== {}: {}, AS {}, {} ===\n",
            n.name,
            ip(n.addr),
            n.asn,
            n.role
        );
        println!("{}> show protocols", n.name);
        println!("{}", show::protocols(&s.peers()));
        println!("{}> show route", n.name);
        println!("{}", show::routes(&best, &info, &names));
    }
    println!("Legend: * best path, + other member of the ECMP set (forwarded to as well);");
    println!("        best: the step of the decision process that chose the best path;");
    println!("        lost at: the step at which that path lost to the best one.\n");
    println!("To notice:");
    println!("  198.19.1.0/24   ext made it longer towards c3, so AS 65000 leaves through c1");
    println!("                  (shorter AS path), c3 included: its iBGP path beats its eBGP one.");
    println!("  198.19.0.0/24   equal through c1 and c3: ECMP over both borders on every iBGP");
    println!("                  speaker (best by lower router ID); c1 and c3 use their own eBGP");
    println!("                  session (eBGP over iBGP).");
    println!("  198.18.100.0/24 anycast from c2 and c4: ECMP across the clusters; c2 and c4 keep");
    println!("                  their own route (locally originated beats learned).");
    println!("  cluster-list    a route reflected from one cluster into the other carries both");
    println!(
        "                  cluster IDs; ADD-PATH lets clients see every path, not only the best.\n"
    );
    Ok(())
}
