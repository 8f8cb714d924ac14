//! Text in the spirit of `birdc show protocols` and `birdc show route`, from
//! bgp-speaker's status and route queries.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use bgp_fsm::State;
use bgp_rib::NextHop;
use bgp_speaker::{BestRoute, PathInfo, PeerStatus, RouteInfo, RoutePath, RouteSource};
use bgp_wire::attribute::Origin;
use ipnet::IpNet;

/// `HH:MM:SS` (UTC) of a time, as BIRD's Since column shows today's times.
pub(crate) fn clock(t: SystemTime) -> String {
    let s = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// The sessions of one speaker as `birdc show protocols` lists them:
/// Name, Proto, Table, State (`up`, or `start` before Established), Since
/// (when it reached Established, UTC) and Info (the session state, and the
/// last error of a session that is not up).
pub(crate) fn protocols(peers: &[PeerStatus]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<10} {:<6} {:<6} {:<6} {:<9} Info",
        "Name", "Proto", "Table", "State", "Since"
    );
    let mut rows: Vec<&PeerStatus> = peers.iter().collect();
    rows.sort_by(|a, b| (&a.name, a.address).cmp(&(&b.name, b.address)));
    for p in rows {
        let name = p.name.clone().unwrap_or_else(|| p.address.to_string());
        let up = p.state == State::Established;
        let since = match (up, p.established_at) {
            (true, Some(t)) => clock(t),
            _ => "--:--:--".into(),
        };
        let mut info = p.state.to_string();
        if !up && let Some(e) = &p.last_error {
            let _ = write!(
                info,
                "  {}: {}",
                if e.sent { "Sent" } else { "Received" },
                e.message
            );
        }
        let _ = writeln!(
            out,
            "{:<10} {:<6} {:<6} {:<6} {:<9} {}",
            name,
            "BGP",
            "---",
            if up { "up" } else { "start" },
            since,
            info
        );
    }
    out
}

/// Names of the route sources: peer addresses to peer names.
pub(crate) type Names = BTreeMap<IpAddr, String>;

fn source(s: RouteSource, names: &Names) -> String {
    match s {
        RouteSource::Local => "originated".into(),
        RouteSource::Peer(a) => match names.get(&a) {
            Some(n) => format!("{n} from {a}"),
            None => format!("from {a}"),
        },
    }
}

fn next_hop(nh: &NextHop) -> String {
    nh.addr().to_string()
}

/// `[65100 65200 i]`: the AS path and the origin code, as BIRD ends its
/// route lines with them.
fn as_path(p: &PathInfo) -> String {
    let origin = match p.origin() {
        Origin::Igp => "i",
        Origin::Egp => "e",
        Origin::Incomplete => "?",
    };
    match p.as_path().map(|a| a.to_string()) {
        Some(a) if !a.is_empty() => format!("[{a} {origin}]"),
        _ => format!("[{origin}]"),
    }
}

/// The attributes that explain a decision: LOCAL_PREF, MED, and the route
/// reflection attributes.
fn attrs(p: &PathInfo) -> String {
    let mut s = String::new();
    if let Some(lp) = p.local_pref() {
        let _ = write!(s, "  local-pref {lp}");
    }
    if let Some(m) = p.med() {
        let _ = write!(s, "  med {m}");
    }
    if let Some(a) = p.attributes() {
        if let Some(o) = a.originator_id {
            let _ = write!(s, "  originator {o}");
        }
        if let Some(c) = a.cluster_list {
            let _ = write!(s, "  cluster-list {c}");
        }
    }
    s
}

/// The Loc-RIB of one speaker in the spirit of `birdc show route`: a table
/// per family; per prefix, its paths, best first (`*`), then the other
/// members of the ECMP set (`+`), then the rest. A path's line ends with
/// the step of the decision process that chose it (the best path), or at
/// which it lost to the best path; the line under it gives its next hop
/// and the attributes that decide (LOCAL_PREF, MED, ORIGINATOR_ID,
/// CLUSTER_LIST). Under the best path, one `via` line per next hop the
/// prefix is forwarded to: the ECMP set.
pub(crate) fn routes(
    best: &[BestRoute],
    info: &BTreeMap<IpNet, RouteInfo>,
    names: &Names,
) -> String {
    // Lines as (route text, decision text), or plain lines (decision
    // empty and no alignment), then aligned on the widest route text.
    let mut lines: Vec<(String, Option<String>)> = Vec::new();
    let mut sorted: Vec<&BestRoute> = best.iter().filter(|b| b.best.is_some()).collect();
    sorted.sort_by_key(|b| b.prefix);
    let mut table = "";
    for b in sorted {
        let t = match b.prefix {
            IpNet::V4(_) => "master4",
            IpNet::V6(_) => "master6",
        };
        if t != table {
            if !table.is_empty() {
                lines.push((String::new(), None));
            }
            lines.push((format!("Table {t}:"), None));
            table = t;
        }
        let Some(r) = info.get(&b.prefix) else {
            continue;
        };
        let mut paths: Vec<&RoutePath> = r.paths.iter().collect();
        // Best, then ECMP members, then the rest; by source inside each.
        paths.sort_by_key(|p| (!p.best, !p.multipath, p.path.source, p.path.path_id));
        for (i, p) in paths.into_iter().enumerate() {
            let (mark, why) = if p.best {
                let why = r.step.map_or_else(String::new, |s| format!("best: {s}"));
                ("*", why)
            } else {
                let why = match p.lost_at {
                    Some(s) if p.multipath => format!("ECMP, lost at: {s}"),
                    Some(s) => format!("lost at: {s}"),
                    None => "not compared".into(),
                };
                (if p.multipath { "+" } else { " " }, why)
            };
            let prefix = if i == 0 {
                b.prefix.to_string()
            } else {
                String::new()
            };
            let line = format!(
                "{prefix:<20} unicast [{}] {mark} {}",
                source(p.path.source, names),
                as_path(&p.path),
            );
            lines.push((line, Some(why)));
            let own = p.path.next_hop();
            lines.push((format!("\tvia {}{}", next_hop(&own), attrs(&p.path)), None));
            if p.best {
                for nh in b.next_hops.iter().filter(|nh| **nh != own) {
                    lines.push((format!("\tvia {}  (ECMP)", next_hop(nh)), None));
                }
            }
        }
    }
    let width = lines
        .iter()
        .filter(|(_, why)| why.is_some())
        .map(|(l, _)| l.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (line, why) in lines {
        match why {
            Some(why) => {
                let _ = writeln!(out, "{line:<width$}  {why}");
            }
            None => {
                let _ = writeln!(out, "{line}");
            }
        }
    }
    out
}
