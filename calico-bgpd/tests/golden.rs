//! Golden tests of the Calico configuration side: one folder per case in
//! `tests/golden/`, each with
//!
//! * `input/`: Calico resources (YAML), modelled on confd's own test cases;
//! * `settings.yaml`: the node's [`Settings`] (node name, router id, ...);
//! * `secrets/` (optional): the mounted Secrets, `<namespace>/<name>/<key>`;
//! * `endpoint-status/` (optional): Felix's endpoint status files;
//! * `expected.yaml`: the node plan, compared exactly (`BLESS=1` writes it);
//! * `README.md`: what the case is, a `Checklist:` line with the items of
//!   calico-bgp-behaviour.md §5 it covers, and `expect` lines.
//!
//! `checklist` checks each expected plan against the items its README
//! lists: every item has a check here, generic where the rule can be
//! stated on any plan, and the case's `expect <path> has|lacks <text>`
//! lines for the rest.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use calico_bgpd::calico::loader::{Loader, Reload, load_dir};
use calico_bgpd::calico::plan::Settings;
use calico_bgpd::calico::resources::ResourceSet;
use calico_bgpd::calico::router_id::{RouterIdSetting, hash_to_ipv4};
use calico_bgpd::calico::secrets::{NoSecrets, SecretSource, SecretsDir};
use serde_norway::Value;

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("input").is_dir())
        .collect();
    v.sort();
    v
}

fn settings(case: &Path) -> Settings {
    let text = std::fs::read_to_string(case.join("settings.yaml")).unwrap();
    serde_norway::from_str(&text).unwrap()
}

fn secrets(case: &Path) -> Box<dyn SecretSource + Send + Sync> {
    let d = case.join("secrets");
    if d.is_dir() {
        Box::new(SecretsDir::new(d))
    } else {
        Box::new(NoSecrets)
    }
}

fn render(case: &Path) -> String {
    let mut l = Loader::new(case.join("input"), settings(case), secrets(case));
    if case.join("endpoint-status").is_dir() {
        l = l.with_endpoint_status(case.join("endpoint-status"));
    }
    match l.reload() {
        Reload::Applied { plan, .. } => {
            let compiled = plan.policies.compile();
            assert!(
                compiled.is_ok(),
                "{}: policies: {:?}",
                case.display(),
                compiled.err()
            );
            plan.to_yaml()
        }
        Reload::Rejected { error, .. } => panic!("{}: {error}", case.display()),
    }
}

#[test]
fn golden() {
    let bless = std::env::var_os("BLESS").is_some();
    let mut failed = Vec::new();
    let all = cases();
    assert!(all.len() >= 20, "only {} cases", all.len());
    for case in all {
        let got = render(&case);
        let path = case.join("expected.yaml");
        if bless {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if got != want {
            failed.push(case.file_name().unwrap().to_string_lossy().to_string());
            eprintln!("--- {} differs; got:\n{got}", case.display());
        }
    }
    assert!(
        failed.is_empty(),
        "cases differ (BLESS=1 to regenerate): {failed:?}"
    );
}

struct Case {
    name: String,
    plan: Value,
    set: ResourceSet,
    settings: Settings,
    has_secrets: bool,
    expects: Vec<(String, bool, String)>,
}

fn families(v: &Value) -> Vec<&Value> {
    ["ipv4", "ipv6"].iter().filter_map(|f| v.get(*f)).collect()
}

fn sessions(f: &Value) -> Vec<&Value> {
    f["sessions"]
        .as_sequence()
        .map(|s| s.iter().collect())
        .unwrap_or_default()
}

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => serde_norway::to_string(other).unwrap(),
    }
}

fn addr(v: &Value) -> IpAddr {
    s(v).parse().unwrap()
}

fn kind(x: &Value) -> String {
    s(&x["kind"])
}

fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    let mut cur = v;
    for part in path.split('.') {
        if let Some((list, name)) = part.split_once('=') {
            // `sessions=Mesh_192_0_2_3`: the item of the list with that name.
            let items = cur[list]
                .as_sequence()
                .unwrap_or_else(|| panic!("no list {list} in {path}"));
            cur = items
                .iter()
                .find(|i| s(&i["name"]) == name)
                .unwrap_or_else(|| panic!("no {list} item named {name} in {path}"));
        } else if let Ok(i) = part.parse::<usize>() {
            cur = &cur[i];
        } else {
            cur = &cur[part];
        }
    }
    cur
}

fn me(c: &Case) -> &calico_bgpd::calico::resources::NodeInfo {
    &c.set.nodes[&c.settings.node_name]
}

fn global(
    c: &Case,
) -> Option<&calico_bgpd::calico::resources::bgp_configuration::BgpConfigurationSpec> {
    c.set.bgp_configurations.get("default").map(|g| &g.spec)
}

fn node_as(c: &Case, n: &calico_bgpd::calico::resources::NodeInfo) -> u64 {
    u64::from(
        n.as_number
            .unwrap_or_else(|| global(c).and_then(|g| g.as_number).map_or(64512, |a| a.0)),
    )
}

fn node_port(c: &Case, name: &str) -> Option<u64> {
    c.set
        .bgp_configurations
        .get(&format!("node.{name}"))
        .and_then(|n| n.spec.listen_port)
        .or_else(|| global(c).and_then(|g| g.listen_port))
        .filter(|p| *p != 0)
        .map(u64::from)
}

fn fam_addr(n: &calico_bgpd::calico::resources::NodeInfo, v4: bool) -> Option<IpAddr> {
    if v4 {
        n.ipv4.map(|(a, _)| IpAddr::V4(a))
    } else {
        n.ipv6.map(|(a, _)| IpAddr::V6(a))
    }
}

fn peer_of<'a>(c: &'a Case, x: &Value) -> Option<&'a calico_bgpd::calico::resources::BgpPeer> {
    x.get("bgp_peer").and_then(|p| c.set.bgp_peers.get(&s(p)))
}

fn mesh_on(c: &Case) -> bool {
    global(c)
        .and_then(|g| g.node_to_node_mesh_enabled)
        .unwrap_or(true)
        && me(c).route_reflector_cluster_id.is_none()
}

/// The generic check of one checklist item; `None`: no generic form (the
/// README's `expect` lines must say it).
fn check(item: u32, c: &Case) -> Option<Result<(), String>> {
    let v = &c.plan;
    let mut errs: Vec<String> = Vec::new();
    let mut fail = |m: String| errs.push(m);
    let fams = ["ipv4", "ipv6"];
    match item {
        1 => {
            let want = match c.settings.router_id {
                RouterIdSetting::Hash => hash_to_ipv4(&c.settings.node_name).to_string(),
                RouterIdSetting::Fixed(a) => a.to_string(),
                RouterIdSetting::NodeAddress => me(c).ipv4.unwrap().0.to_string(),
            };
            if s(&v["router_id"]) != want {
                fail(format!("router id {} != {want}", s(&v["router_id"])));
            }
        }
        2 => {
            if v["local_as"].as_u64() != Some(node_as(c, me(c))) {
                fail("local AS".into());
            }
        }
        3 => {
            for f in families(v) {
                let port = node_port(c, &c.settings.node_name).unwrap_or(179);
                if f["listen"]["port"].as_u64() != Some(port) {
                    fail(format!("listen port, want {port}"));
                }
                let node_ip = global(c)
                    .and_then(|g| g.bind_mode)
                    .map(|b| format!("{b:?}"))
                    == Some("NodeIp".into());
                if f["listen"].get("address").is_some() != node_ip {
                    fail("listen address vs bindMode".into());
                }
                if node_ip && f["listen"]["address"] != f["address"] {
                    fail("listen address is not the node's".into());
                }
            }
        }
        4 => {
            for (i, f) in fams.iter().enumerate() {
                if v.get(*f).is_some() != fam_addr(me(c), i == 0).is_some() {
                    fail(format!("{f} present iff the node has an address"));
                }
            }
        }
        5 | 6 | 7 | 8 | 12 => {
            for (i, fname) in fams.iter().enumerate() {
                let Some(f) = v.get(*fname) else { continue };
                let mine = fam_addr(me(c), i == 0).unwrap();
                let mesh: Vec<&Value> = sessions(f)
                    .into_iter()
                    .filter(|x| kind(x) == "Mesh")
                    .collect();
                let want: Vec<&calico_bgpd::calico::resources::NodeInfo> = if mesh_on(c) {
                    c.set
                        .nodes
                        .values()
                        .filter(|n| {
                            n.route_reflector_cluster_id.is_none()
                                && fam_addr(n, i == 0).is_some_and(|a| a != mine)
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                if item == 12 && !mesh_on(c) && !mesh.is_empty() {
                    fail("mesh sessions while the mesh is off".into());
                }
                if mesh.len() != want.len() {
                    fail(format!(
                        "{fname}: {} mesh sessions, want {}",
                        mesh.len(),
                        want.len()
                    ));
                }
                for n in want {
                    let a = fam_addr(n, i == 0).unwrap();
                    let name = format!("Mesh_{}", a.to_string().replace(['.', ':'], "_"));
                    let Some(x) = mesh.iter().find(|x| s(&x["name"]) == name) else {
                        fail(format!("no {name}"));
                        continue;
                    };
                    if addr(&x["peer_address"]) != a {
                        fail(format!("{name}: address"));
                    }
                    if x["peer_as"].as_u64() != Some(node_as(c, n)) {
                        fail(format!("{name}: peer AS"));
                    }
                    if x.get("peer_port").and_then(Value::as_u64) != node_port(c, &n.name) {
                        fail(format!("{name}: port"));
                    }
                    if x.get("source_address").map(addr) != Some(mine) {
                        fail(format!("{name}: source address"));
                    }
                    let passive = x.get("passive").and_then(Value::as_bool).unwrap_or(false);
                    if passive != (a.to_string() > mine.to_string()) {
                        fail(format!(
                            "{name}: passive must follow the textual comparison"
                        ));
                    }
                }
            }
        }
        9 => {
            for f in families(v) {
                for x in sessions(f).into_iter().filter(|x| kind(x) == "Mesh") {
                    let a = addr(&x["peer_address"]);
                    if c.set.nodes.values().any(|n| {
                        n.route_reflector_cluster_id.is_some()
                            && (fam_addr(n, true) == Some(a) || fam_addr(n, false) == Some(a))
                    }) {
                        fail(format!(
                            "{}: mesh session to a route reflector",
                            s(&x["name"])
                        ));
                    }
                }
                if me(c).route_reflector_cluster_id.is_some()
                    && sessions(f).iter().any(|x| kind(x) == "Mesh")
                {
                    fail("a route reflector has mesh sessions".into());
                }
            }
        }
        10 | 11 => {
            let g = global(c)?;
            for f in families(v) {
                for x in sessions(f).into_iter().filter(|x| kind(x) == "Mesh") {
                    if item == 11 {
                        let want = g
                            .node_mesh_max_restart_time
                            .as_ref()
                            .map(|d| u64::from(d.rounded_seconds()));
                        if x.get("graceful_restart_time").and_then(Value::as_u64) != want {
                            fail(format!("{}: restart time", s(&x["name"])));
                        }
                    } else {
                        let r = g
                            .node_mesh_password
                            .as_ref()
                            .and_then(|p| p.secret_key_ref.as_ref());
                        let want = r.filter(|_| c.has_secrets).map(|r| {
                            format!(
                                "secret {}/{}/{}",
                                c.settings.secrets_namespace, r.name, r.key
                            )
                        });
                        let got = x
                            .get("password")
                            .map(s)
                            .map(|p| p.split(" (").next().unwrap_or("").to_string());
                        if got != want {
                            fail(format!("{}: password {got:?} != {want:?}", s(&x["name"])));
                        }
                    }
                }
            }
        }
        13 | 14 | 16 | 17 | 20 | 21 | 22 | 24 | 25 | 26 | 27 | 29 | 30 | 31 => {
            for (i, fname) in fams.iter().enumerate() {
                let Some(f) = v.get(*fname) else { continue };
                let mine = fam_addr(me(c), i == 0).unwrap();
                let all = sessions(f);
                for x in all.iter().filter(|x| kind(x) != "Mesh") {
                    let name = s(&x["name"]);
                    let p = peer_of(c, x).unwrap();
                    let sp = &p.spec;
                    let reverse = x.get("reverse").and_then(Value::as_bool).unwrap_or(false);
                    let a = addr(&x["peer_address"]);
                    let port = x.get("peer_port").and_then(Value::as_u64);
                    let is_global = sp.node.is_empty() && sp.node_selector.is_none();
                    let ok = match item {
                        13 => (kind(x) == "Global") == (is_global && !reverse),
                        14 => {
                            let id = a.to_string().replace(['.', ':'], "_");
                            name == match port {
                                Some(p) => format!("{}_{id}_port_{p}", kind(x)),
                                None => format!("{}_{id}", kind(x)),
                            }
                        }
                        16 => {
                            kind(x) != "Node"
                                || !all.iter().any(|y| {
                                    kind(y) == "Global"
                                        && y["peer_address"] == x["peer_address"]
                                        && y.get("peer_port") == x.get("peer_port")
                                })
                        }
                        17 => a != mine,
                        20 => {
                            (x.get("source_address").map(addr) == Some(mine))
                                == !matches!(
                                sp.source_address,
                                Some(calico_bgpd::calico::resources::bgp_peer::SourceAddress::None)
                            )
                        }
                        21 => {
                            x.get("graceful_restart_time").and_then(Value::as_u64)
                                == sp
                                    .max_restart_time
                                    .as_ref()
                                    .map(|d| u64::from(d.rounded_seconds()))
                        }
                        22 => {
                            s(&x["hops"])
                                == match sp.ttl_security.filter(|t| *t > 0) {
                                    Some(t) => format!("ttl-security: {t}\n"),
                                    None => "multihop: 64\n".into(),
                                }
                        }
                        24 => {
                            x.get("allow_local_as").and_then(Value::as_u64)
                                == sp
                                    .num_allowed_local_as_numbers
                                    .filter(|n| *n > 0)
                                    .map(u64::from)
                        }
                        25 => {
                            let local = x["local_as"].as_u64();
                            let want = sp
                                .local_as_number
                                .map(|a| u64::from(a.0))
                                .unwrap_or(node_as(c, me(c)));
                            local == Some(want)
                                && x["internal"].as_bool() == Some(x["peer_as"].as_u64() == local)
                        }
                        26 | 27 => {
                            use calico_bgpd::calico::resources::bgp_peer::NextHopMode as M;
                            let internal = x["internal"].as_bool() == Some(true);
                            let want = match sp.next_hop_mode {
                                Some(M::SelfAddress) => "self",
                                Some(M::Keep) => "keep",
                                _ if sp.keep_original_next_hop && !internal => "keep",
                                _ => "auto",
                            };
                            s(&x["next_hop"]) == want
                        }
                        29 => {
                            let passive =
                                x.get("passive").and_then(Value::as_bool).unwrap_or(false);
                            let calico_node = sp.peer_selector.is_none()
                                && c.set.nodes.values().any(|n| {
                                    fam_addr(n, true) == Some(a) || fam_addr(n, false) == Some(a)
                                });
                            passive
                                == (kind(x) == "Global"
                                    && calico_node
                                    && a.to_string() > mine.to_string())
                        }
                        30 => {
                            x.get("keepalive_time").and_then(Value::as_u64)
                                == sp
                                    .keepalive_time
                                    .as_ref()
                                    .map(|d| u64::from(d.rounded_seconds()))
                        }
                        31 => {
                            let internal = x["internal"].as_bool() == Some(true);
                            let rr = x.get("rr_client_cluster_id").map(s);
                            match me(c).route_reflector_cluster_id {
                                None => rr.is_none(),
                                Some(id) => {
                                    let peer_rr = c
                                        .set
                                        .nodes
                                        .values()
                                        .find(|n| {
                                            fam_addr(n, i == 0) == Some(a) && sp.peer_ip.is_empty()
                                        })
                                        .and_then(|n| n.route_reflector_cluster_id);
                                    let client = internal && peer_rr != Some(id);
                                    rr == client.then(|| id.to_string())
                                }
                            }
                        }
                        _ => true,
                    };
                    if !ok {
                        fail(format!("{name}: item {item}"));
                    }
                }
            }
        }
        28 => {
            for f in families(v) {
                for x in sessions(f) {
                    if let Some(g) = x.get("reachable_by") {
                        let a = addr(&x["peer_address"]);
                        let host = format!("{a}/{}", if a.is_ipv4() { 32 } else { 128 });
                        let found = f["static_routes"]
                            .as_sequence()
                            .unwrap()
                            .iter()
                            .any(|r| r.get("via") == Some(g) && s(&r["prefix"]) == host);
                        if !found {
                            fail(format!("{}: no static route via {}", s(&x["name"]), s(g)));
                        }
                    }
                }
            }
            return Some(if errs.is_empty() {
                Ok(())
            } else {
                Err(errs.join("; "))
            });
        }
        38 | 39 | 42 | 43 => {
            for f in families(v) {
                for x in sessions(f) {
                    let export: Vec<String> =
                        x["export"].as_sequence().unwrap().iter().map(s).collect();
                    let import: Vec<String> =
                        x["import"].as_sequence().unwrap().iter().map(s).collect();
                    let gate: Vec<String> = x["export"]
                        .as_sequence()
                        .unwrap()
                        .iter()
                        .find_map(|e| e.get("interface-gate"))
                        .and_then(Value::as_sequence)
                        .map(|g| g.iter().map(s).collect())
                        .unwrap_or_default();
                    let has = |p: &str| gate.iter().any(|g| g == p);
                    let internal = x["internal"].as_bool() == Some(true);
                    let ok = match item {
                        38 => has("*.cali") == internal && has("*.calico") == internal,
                        39 => has("bpf*.cali"),
                        42 => {
                            let n = export.len();
                            n >= 2
                                && export[n - 2].starts_with("interface-gate")
                                && export[n - 1].starts_with("policy: calico_export_v")
                                && export[..n - 2].iter().all(|e| e.starts_with("bgp-filter"))
                        }
                        _ => {
                            import.last().map(String::as_str) == Some("accept")
                                && import[..import.len() - 1]
                                    .iter()
                                    .all(|e| e.starts_with("bgp-filter"))
                        }
                    };
                    if !ok {
                        fail(format!("{}: item {item}", s(&x["name"])));
                    }
                }
            }
        }
        66..=68 => {
            let t = &v["session_template"];
            let ok = match item {
                66 => {
                    t["graceful_restart"].as_bool() == Some(true)
                        && t["graceful_restart_time"].as_u64() == Some(120)
                }
                67 => t["add_paths_rx_tx"].as_bool() == Some(true),
                _ => {
                    t["hold_time"].as_u64() == Some(240)
                        && t["connect_delay_time"].as_u64() == Some(2)
                        && t["connect_retry_time"].as_u64() == Some(5)
                        && s(&t["error_wait_time"]) == "- 5\n- 30\n"
                }
            };
            if !ok {
                fail(format!("session template: item {item}"));
            }
        }
        40 => {
            for p in v["policies"]["policy"].as_sequence().unwrap() {
                if s(&p["name"]).starts_with("calico_export_v") && s(&p["default"]) != "reject" {
                    fail("the Calico export does not end with reject".into());
                }
            }
        }
        34 | 35 | 71 => {
            let mine = &c.settings.node_name;
            for (i, f) in fams.iter().enumerate() {
                let Some(f) = v.get(*f) else { continue };
                let mut want: Vec<String> = c
                    .set
                    .block_affinities
                    .values()
                    .filter(|b| {
                        use calico_bgpd::calico::resources::block_affinity::AffinityState as S;
                        &b.spec.node == mine
                            && !b.spec.deleted
                            && matches!(b.spec.state, None | Some(S::Confirmed))
                            && b.spec.cidr.unwrap().addr().is_ipv4() == (i == 0)
                    })
                    .map(|b| b.spec.cidr.unwrap().trunc().to_string())
                    .collect();
                want.sort();
                let mut got: Vec<String> = f["export"]
                    .get("own_blocks")
                    .and_then(Value::as_sequence)
                    .map(|b| b.iter().map(s).collect())
                    .unwrap_or_default();
                got.sort();
                if got != want {
                    fail(format!("own blocks {got:?} != {want:?}"));
                }
                let text = serde_norway::to_string(&v["policies"]).unwrap();
                for b in &got {
                    if item == 35 && !text.contains(&format!("inside block {b}")) {
                        fail(format!("no reject inside {b}"));
                    }
                }
            }
        }
        36 | 37 => {
            for (i, fname) in fams.iter().enumerate() {
                let Some(f) = v.get(*fname) else { continue };
                for p in c.set.ip_pools.values() {
                    let cidr = p.spec.cidr.unwrap().trunc();
                    if cidr.addr().is_ipv4() != (i == 0) {
                        continue;
                    }
                    let list = if p.spec.disable_bgp_export {
                        "disabled_pools"
                    } else {
                        "pools"
                    };
                    let other = if p.spec.disable_bgp_export {
                        "pools"
                    } else {
                        "disabled_pools"
                    };
                    let has = |l: &str| {
                        f["export"]
                            .get(l)
                            .and_then(Value::as_sequence)
                            .is_some_and(|x| x.iter().any(|y| s(y) == cidr.to_string()))
                    };
                    if !has(list) || has(other) {
                        fail(format!("pool {cidr} in the wrong export list"));
                    }
                }
            }
        }
        41 => {
            let node_cfg = c
                .set
                .bgp_configurations
                .get(&format!("node.{}", c.settings.node_name));
            let src = node_cfg
                .filter(|n| !n.spec.prefix_advertisements.is_empty())
                .or_else(|| c.set.bgp_configurations.get("default"))?;
            for f in families(v) {
                let got = f["export"]
                    .get("communities")
                    .and_then(Value::as_sequence)
                    .map(|x| x.len())
                    .unwrap_or(0);
                let want = src
                    .spec
                    .prefix_advertisements
                    .iter()
                    .filter(|a| {
                        a.cidr.addr().is_ipv4() == (f["address"].as_str().unwrap().contains('.'))
                    })
                    .count();
                if got != want {
                    fail(format!("{got} community rules, want {want}"));
                }
            }
        }
        44..=46 => {
            let funcs = v
                .get("filter_functions")
                .and_then(Value::as_sequence)
                .cloned()
                .unwrap_or_default();
            for fu in &funcs {
                let name = s(&fu["name"]);
                let filter = &c.set.bgp_filters[&s(&fu["filter"])];
                let export = s(&fu["direction"]) == "export";
                let v4 = name.ends_with("V4");
                let ok = match item {
                    44 => {
                        fu["rules"].as_sequence().unwrap().len() == filter.rules(export, v4).len()
                    }
                    45 => {
                        name.len() <= 64
                            && (filter.metadata.name.len() <= 45)
                                == name.contains(&filter.metadata.name)
                    }
                    _ => !filter.rules(export, v4).is_empty(),
                };
                if !ok {
                    fail(format!("{name}: item {item}"));
                }
            }
        }
        48 | 49 => {
            let g = global(c)?;
            let excluded = me(c)
                .labels
                .get("node.kubernetes.io/exclude-from-external-load-balancers")
                .map(String::as_str)
                == Some("true");
            for f in families(v) {
                let v4 = f["address"].as_str().unwrap().contains('.');
                let ranges: Vec<String> = g
                    .service_cluster_ips
                    .iter()
                    .map(|x| x.cidr.trunc())
                    .filter(|x| x.addr().is_ipv4() == v4)
                    .map(|x| x.to_string())
                    .collect();
                let kernel = serde_norway::to_string(&f["kernel"]).unwrap();
                let statics = serde_norway::to_string(&f["static_routes"]).unwrap();
                for r in &ranges {
                    if !kernel.contains(&format!("cidr: {r}\n    reason: service-range")) {
                        fail(format!("{r} not kept out of the kernel"));
                    }
                    if statics.contains(&format!("prefix: {r}\n")) == excluded {
                        fail(format!("{r}: advertised must be {}", !excluded));
                    }
                }
            }
        }
        53 | 54 | 55 | 56 | 58 | 59 => {
            for p in c.set.ip_pools.values() {
                use calico_bgpd::calico::resources::ip_pool::EncapMode as E;
                let cidr = p.spec.cidr.unwrap().trunc();
                let Some(f) = v.get(if cidr.addr().is_ipv4() {
                    "ipv4"
                } else {
                    "ipv6"
                }) else {
                    continue;
                };
                let kernel = serde_norway::to_string(&f["kernel"]).unwrap();
                let ok = match (item, p.vxlan(), p.ipip()) {
                    (53, E::Never, _)
                    | (54, _, E::Never | E::CrossSubnet)
                    | (55, _, E::Never | E::Always) => true,
                    (53, _, _) => kernel.contains(&format!("cidr: {cidr}\n    reason: vxlan")),
                    (54, E::Never, E::Always) => {
                        kernel.contains(&format!("cidr: {cidr}\n    tunnel: tunl0"))
                    }
                    (55, E::Never, E::CrossSubnet) => {
                        kernel.contains(&format!("cidr: {cidr}\n    tunnel:\n      cross-subnet:"))
                    }
                    (56, E::Never, E::Never) if cidr.addr().is_ipv4() => {
                        kernel.contains(&format!("cidr: {cidr}\n    tunnel: none"))
                    }
                    _ => true,
                };
                if !ok {
                    fail(format!("pool {cidr}: item {item}"));
                }
            }
            if item == 58 || item == 59 {
                // 58: blocks are blackhole static routes; 59: the kernel filter
                // has no final reject (everything else is installed).
                for f in families(v) {
                    for b in f["export"]
                        .get("own_blocks")
                        .and_then(Value::as_sequence)
                        .cloned()
                        .unwrap_or_default()
                    {
                        let statics = serde_norway::to_string(&f["static_routes"]).unwrap();
                        if !statics.contains(&format!("prefix: {}\n  reason: block", s(&b)))
                            && item == 58
                        {
                            fail(format!("block {} has no blackhole route", s(&b)));
                        }
                    }
                }
            }
        }
        _ => return None,
    }
    Some(if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("; "))
    })
}

fn read_case(case: &Path) -> (Case, Vec<u32>) {
    let readme = std::fs::read_to_string(case.join("README.md")).unwrap();
    let mut items = Vec::new();
    let mut expects = Vec::new();
    for line in readme.lines() {
        if let Some(rest) = line.strip_prefix("Checklist:") {
            items = rest.split(',').map(|x| x.trim().parse().unwrap()).collect();
        }
        if let Some(rest) = line.trim().strip_prefix("- expect ") {
            let (path, rest) = rest.split_once(' ').unwrap();
            let (op, text) = rest.split_once(' ').unwrap();
            let text = text.trim().trim_matches('`').to_string();
            expects.push((path.to_string(), op == "has", text));
        }
    }
    let plan: Value =
        serde_norway::from_str(&std::fs::read_to_string(case.join("expected.yaml")).unwrap())
            .unwrap();
    let (set, _) = load_dir(&case.join("input")).unwrap();
    let c = Case {
        name: case.file_name().unwrap().to_string_lossy().to_string(),
        plan,
        set,
        settings: settings(case),
        has_secrets: case.join("secrets").is_dir(),
        expects,
    };
    (c, items)
}

/// Items that have no generic check; a case listing one must say what it
/// expects with `expect` lines.
const BY_EXPECT: &[u32] = &[15, 18, 19, 23, 33, 47, 50, 51, 52, 57, 70];

#[test]
fn checklist() {
    let mut covered: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mut errors = Vec::new();
    for case in cases() {
        let (c, items) = read_case(&case);
        assert!(
            !items.is_empty(),
            "{}: README has no Checklist: line",
            c.name
        );
        for (path, has, text) in &c.expects {
            let sub = serde_norway::to_string(at(&c.plan, path)).unwrap();
            if sub.contains(text.as_str()) != *has {
                errors.push(format!(
                    "{}: expect {path} {} {text:?}; it is:\n{sub}",
                    c.name,
                    if *has { "has" } else { "lacks" }
                ));
            }
        }
        for item in items {
            covered.entry(item).or_default().push(c.name.clone());
            match check(item, &c) {
                Some(Ok(())) => {}
                Some(Err(e)) => errors.push(format!("{}: item {item}: {e}", c.name)),
                None if BY_EXPECT.contains(&item) => {
                    if c.expects.is_empty() {
                        errors.push(format!("{}: item {item} needs expect lines", c.name));
                    }
                }
                None => errors.push(format!("{}: item {item} has no check", c.name)),
            }
        }
    }
    for (item, cases) in &covered {
        eprintln!("item {item}: {}", cases.join(", "));
    }
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

/// A directory with one bad file: the error names the file, the resource
/// and the field, and the plan in force stays.
#[test]
fn bad_file_keeps_the_previous_plan() {
    let dir = std::env::temp_dir().join(format!("calico-bgpd-golden-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let case = cases()
        .into_iter()
        .find(|c| c.ends_with("mesh-default"))
        .unwrap();
    for e in std::fs::read_dir(case.join("input")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
    }
    let mut l = Loader::new(&dir, settings(&case), Box::new(NoSecrets));
    let first = match l.reload() {
        Reload::Applied { plan, changed, .. } => {
            assert!(changed);
            plan
        }
        Reload::Rejected { error, .. } => panic!("{error}"),
    };
    std::fs::write(
        dir.join("zz-bad.yaml"),
        "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: tor}\nspec:\n  peerIP: 192.0.2.300\n  asNumber: 64600\n",
    )
    .unwrap();
    match l.reload() {
        Reload::Rejected { error, kept } => {
            let text = error.to_string();
            assert!(text.contains("zz-bad.yaml"), "{text}");
            assert!(text.contains("BGPPeer/tor"), "{text}");
            assert!(text.contains("field spec.peerIP"), "{text}");
            assert!(std::sync::Arc::ptr_eq(kept.as_ref().unwrap(), &first));
        }
        Reload::Applied { .. } => panic!("a bad file was accepted"),
    }
    assert!(std::sync::Arc::ptr_eq(l.current().unwrap(), &first));
    // Fixed: applied; unchanged content: not changed.
    std::fs::write(
        dir.join("zz-bad.yaml"),
        "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: tor}\nspec:\n  peerIP: 192.0.2.200\n  asNumber: 64600\n",
    )
    .unwrap();
    assert!(matches!(l.reload(), Reload::Applied { changed: true, .. }));
    assert!(matches!(l.reload(), Reload::Applied { changed: false, .. }));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Item 71 as a change: deleting a Node removes its mesh session, and a
/// pending affinity counts once it is confirmed.
#[test]
fn node_deletion_and_affinity_confirmation() {
    use calico_bgpd::calico::plan::compute;
    use calico_bgpd::calico::resources::block_affinity::AffinityState;
    let case = cases()
        .into_iter()
        .find(|c| c.ends_with("mesh-default"))
        .unwrap();
    let (mut set, _) = load_dir(&case.join("input")).unwrap();
    let st = settings(&case);
    let names = |set: &ResourceSet| -> Vec<String> {
        let p = compute(set, &st, &NoSecrets).unwrap();
        p.ipv4
            .unwrap()
            .sessions
            .into_iter()
            .map(|s| s.name)
            .collect()
    };
    assert_eq!(names(&set), ["Mesh_192_0_2_3", "Mesh_192_0_2_10"]);
    set.nodes.remove("node-c");
    assert_eq!(names(&set), ["Mesh_192_0_2_3"]);
    let blocks = |set: &ResourceSet| {
        compute(set, &st, &NoSecrets)
            .unwrap()
            .ipv4
            .unwrap()
            .export
            .own_blocks
    };
    assert_eq!(blocks(&set).len(), 1);
    for a in set.block_affinities.values_mut() {
        if a.spec.state == Some(AffinityState::Pending) {
            a.spec.state = Some(AffinityState::Confirmed);
        }
    }
    assert_eq!(
        blocks(&set)
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["10.244.1.0/26", "10.244.2.0/26"]
    );
}
