//! The BGP sessions of a node, as confd computes them (`updatePeersV1` and
//! the bird.cfg / bird6.cfg templates of v3.31).
//!
//! # Steps
//!
//! 1. **Mesh** (unless `nodeToNodeMeshEnabled: false` or this node is a
//!    route reflector): a `Mesh_<ip>` session to every other node with an
//!    address of the family that is not a route reflector, with that node's
//!    AS (else the global one) and listen port (its `node.<name>`
//!    BGPConfiguration, else the global one), our address as the source,
//!    `passive` when the peer's address is greater than ours as text.
//! 2. **Global pass**: BGPPeers with neither `node` nor `nodeSelector`
//!    give `Global_<ip>[_port_<n>]` peerings.
//! 3. **Node pass**: the others give `Node_...` peerings on the nodes that
//!    `node`/`nodeSelector` pick; one to an ip:port that already has a
//!    global peering is not added.
//! 4. **Reverse pass** (unless `reversePeering: Manual`): a BGPPeer whose
//!    `peerSelector` selects this node, or whose `peerIP` (and AS, and port
//!    when given) is this node's, adds `Node_` peerings back to the nodes it
//!    applies to (all nodes when global).
//!
//! A peering key (scope, ip, port) produced twice keeps the first one.
//! BGPPeers are taken in name order (confd iterates a Go map, so its order
//! is unspecified there), selected nodes in name order.
//!
//! 5. **Local workloads**: a BGPPeer with `localWorkloadSelector` peers
//!    with each workload Felix selected on this node (its endpoint status
//!    file names the BGPPeer): `Local_Workload_<ip>`, passive, no source
//!    address, the BGPPeer's AS, local AS and filters.
//!
//! The per-peer options are those of the BGPPeer for every peering it
//! produces, forward or reverse: password, source address (default
//! `UseNodeIP`), graceful-restart time (rounded seconds), keepalive time,
//! TTL security, next-hop mode, keep-original-next-hop (eBGP only),
//! allowed local AS count, local AS, reachable-by and filters.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;

use super::Family;
use super::filters::Stage;
use super::resources::bgp_configuration::BgpConfigurationSpec;
use super::resources::bgp_peer::{NextHopMode, ReversePeering, SourceAddress, split_peer_ip};
use super::resources::{BgpPeer, NodeInfo, ResourceSet};
use super::secrets::{Password, SecretSource, resolve};

/// The cluster-wide values the sessions depend on.
#[derive(Debug, Clone)]
pub struct Cluster<'a> {
    /// The resources.
    pub set: &'a ResourceSet,
    /// `BGPConfiguration/default`'s spec, if there is one.
    pub global: Option<&'a BgpConfigurationSpec>,
    /// The global AS (64512 without one).
    pub global_as: u32,
    /// The mesh.
    pub mesh_enabled: bool,
    /// The global listen port (none: 179).
    pub global_listen_port: Option<u16>,
    /// Per-node listen ports (`node.<name>`).
    pub node_listen_ports: BTreeMap<String, u16>,
    /// Every node address, as text.
    pub node_ips: BTreeSet<String>,
}

/// Calico's default AS.
pub const DEFAULT_AS: u32 = 64512;

impl<'a> Cluster<'a> {
    /// The view of a set of resources.
    pub fn new(set: &'a ResourceSet) -> Self {
        let global = set.bgp_configurations.get("default").map(|c| &c.spec);
        let global_as = global
            .and_then(|g| g.as_number)
            .map(|a| a.0)
            .unwrap_or(DEFAULT_AS);
        let mesh_enabled = global
            .and_then(|g| g.node_to_node_mesh_enabled)
            .unwrap_or(true);
        let global_listen_port = global.and_then(|g| g.listen_port).filter(|p| *p != 0);
        let node_listen_ports = set
            .bgp_configurations
            .iter()
            .filter_map(|(name, c)| {
                let node = name.strip_prefix("node.")?;
                let port = c.spec.listen_port.filter(|p| *p != 0)?;
                Some((node.to_string(), port))
            })
            .collect();
        let node_ips = set
            .nodes
            .values()
            .flat_map(|n| {
                [
                    n.ipv4.map(|(a, _)| a.to_string()),
                    n.ipv6.map(|(a, _)| a.to_string()),
                ]
            })
            .flatten()
            .collect();
        Cluster {
            set,
            global,
            global_as,
            mesh_enabled,
            global_listen_port,
            node_listen_ports,
            node_ips,
        }
    }

    /// A node's AS: its own, else the global one.
    pub fn node_as(&self, n: &NodeInfo) -> u32 {
        n.as_number.unwrap_or(self.global_as)
    }

    /// The port to reach a node on: its own listen port, else the global
    /// one, else none (179).
    pub fn node_port(&self, name: &str) -> Option<u16> {
        self.node_listen_ports
            .get(name)
            .copied()
            .or(self.global_listen_port)
    }

    fn nodes_matching(&self, sel: &super::selector::Selector) -> Vec<&'a NodeInfo> {
        self.set
            .nodes
            .values()
            .filter(|n| sel.matches(&n.labels))
            .collect()
    }

    /// confd's `nodesWithIPPortAndAS`, quirks included: with a port given,
    /// a node with its own listen port must have that one, and then (as
    /// the Go `else if` reads) a global listen port must also be that one
    /// whenever the node's own port did not rule it out.
    fn nodes_with_ip_port_as(
        &self,
        ip: &str,
        asn: Option<u32>,
        port: Option<u16>,
    ) -> Vec<&'a NodeInfo> {
        let want_as = asn.filter(|a| *a != 0).unwrap_or(self.global_as);
        self.set
            .nodes
            .values()
            .filter(|n| {
                let v4 = n.ipv4.map(|(a, _)| a.to_string());
                let v6 = n.ipv6.map(|(a, _)| a.to_string());
                if v4.as_deref() != Some(ip) && v6.as_deref() != Some(ip) {
                    return false;
                }
                if self.node_as(n) != want_as {
                    return false;
                }
                if let Some(p) = port {
                    let own = self.node_listen_ports.get(&n.name);
                    if own.is_some_and(|o| *o != p) {
                        return false;
                    }
                    if self.global_listen_port.is_some_and(|g| g != p) {
                        return false;
                    }
                }
                true
            })
            .collect()
    }
}

/// The kind of session (the name's prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum SessionKind {
    /// `Mesh_`.
    Mesh,
    /// `Global_`.
    Global,
    /// `Node_`.
    Node,
    /// `Local_Workload_`: a workload on this node, always passive.
    LocalWorkload,
}

/// NEXT_HOP handling towards the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NextHop {
    /// BIRD 1.6's default: our address for routes originated here and
    /// towards eBGP peers; kept towards iBGP peers.
    Auto,
    /// `next hop self`.
    #[serde(rename = "self")]
    SelfAddress,
    /// `next hop keep`.
    Keep,
}

/// TTL handling of the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hops {
    /// Directly connected (TTL 1): BIRD's eBGP default, mesh sessions to
    /// a node in another AS.
    Direct,
    /// Multihop with this TTL (`multihop;` is 64).
    Multihop(u8),
    /// GTSM (RFC 5082): `ttl security on; multihop N`.
    TtlSecurity(u8),
}

/// One BGP session of the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Session {
    /// `Mesh_10_0_0_2`, `Global_192_0_2_1_port_1790`, `Node_...`.
    pub name: String,
    /// The kind.
    pub kind: SessionKind,
    /// The BGPPeer it comes from (none for the mesh).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bgp_peer: Option<String>,
    /// Forward peering, or the reverse of a BGPPeer selecting this node.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reverse: bool,
    /// The neighbour.
    pub peer_address: IpAddr,
    /// Its port (none: 179).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_port: Option<u16>,
    /// Its AS.
    pub peer_as: u32,
    /// The session's local AS (`localASNumber`, else the node's).
    pub local_as: u32,
    /// Whether `local as` is set on the session.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub local_as_override: bool,
    /// iBGP (peer AS = local AS): Calico's `internal_peer`.
    pub internal: bool,
    /// Wait for the peer to connect.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub passive: bool,
    /// Our source address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_address: Option<IpAddr>,
    /// MD5 password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Password>,
    /// Graceful-restart time announced (none: 120).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graceful_restart_time: Option<u32>,
    /// Keepalive time (none: a third of the hold time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keepalive_time: Option<u32>,
    /// TTL handling.
    pub hops: Hops,
    /// Next hop handling.
    pub next_hop: NextHop,
    /// `allow local as N`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_local_as: Option<u32>,
    /// Route-reflector client of ours, with our cluster id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rr_client_cluster_id: Option<Ipv4Addr>,
    /// The gateway a static route to the peer goes through.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reachable_by: Option<IpAddr>,
    /// BGPFilters, in order (those without rules for the family included;
    /// the filters module skips them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<String>,
    /// The import steps (filled in by the plan).
    pub import: Vec<Stage>,
    /// The export steps (filled in by the plan).
    pub export: Vec<Stage>,
}

/// A peering before it is rendered as a session.
#[derive(Debug, Clone)]
struct Peering {
    ip: IpAddr,
    port: Option<u16>,
    asn: u32,
    rr_cluster_id: Option<Ipv4Addr>,
    calico_node: bool,
    peer: String,
    reverse: bool,
    local_workload: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Scope {
    Global,
    Node,
}

fn family_of(ip: &IpAddr) -> Family {
    if ip.is_ipv4() {
        Family::Ipv4
    } else {
        Family::Ipv6
    }
}

fn node_addr(n: &NodeInfo, f: Family) -> Option<IpAddr> {
    match f {
        Family::Ipv4 => n.ipv4.map(|(a, _)| IpAddr::V4(a)),
        Family::Ipv6 => n.ipv6.map(|(a, _)| IpAddr::V6(a)),
    }
}

/// `Mesh_10_0_0_2`: the address with `.` or `:` as `_`.
pub fn session_name(prefix: &str, ip: &IpAddr, port: Option<u16>) -> String {
    let id = ip.to_string().replace(['.', ':'], "_");
    match port {
        Some(p) => format!("{prefix}_{id}_port_{p}"),
        None => format!("{prefix}_{id}"),
    }
}

/// The peerings of nodes the BGPPeer's peer side selects (`nodeAsBGPPeers`).
fn node_peerings(
    c: &Cluster<'_>,
    nodes: &[&NodeInfo],
    families: &[Family],
    peer: &BgpPeer,
    reverse: bool,
) -> Vec<Peering> {
    let mut out = Vec::new();
    for n in nodes {
        for f in families {
            let Some(ip) = node_addr(n, *f) else { continue };
            out.push(Peering {
                ip,
                port: c.node_port(&n.name),
                asn: c.node_as(n),
                rr_cluster_id: n.route_reflector_cluster_id,
                calico_node: false,
                peer: peer.metadata.name.clone(),
                reverse,
                local_workload: false,
            });
        }
    }
    out
}

/// Every peering of `me` (global and node-specific), in emission order.
fn peerings(c: &Cluster<'_>, me: &str, warnings: &mut Vec<String>) -> Vec<(Scope, Peering)> {
    let mut out: Vec<(Scope, Peering)> = Vec::new();
    let mut keys: BTreeSet<(Scope, IpAddr, Option<u16>)> = BTreeSet::new();
    let mut emit = |scope: Scope, p: Peering, out: &mut Vec<(Scope, Peering)>| {
        if !keys.insert((scope, p.ip, p.port)) {
            return;
        }
        if scope == Scope::Node && keys.contains(&(Scope::Global, p.ip, p.port)) {
            return;
        }
        out.push((scope, p));
    };
    let all_families = [Family::Ipv4, Family::Ipv6];
    for global_pass in [true, false] {
        for (name, peer) in &c.set.bgp_peers {
            let s = &peer.spec;
            let is_global = s.node.is_empty() && s.node_selector.is_none();
            if global_pass != is_global {
                continue;
            }
            let applies_here = if let Some(sel) = &s.node_selector {
                c.set.nodes.get(me).is_some_and(|n| sel.matches(&n.labels))
            } else {
                is_global || s.node == me
            };
            if !applies_here {
                continue;
            }
            let mut ps = Vec::new();
            if s.local_workload_selector.is_some() {
                // The workloads Felix matched on this node (§2.6).
                let Some(asn) = s.as_number.map(|a| a.0).filter(|a| *a != 0) else {
                    warnings.push(format!(
                        "BGPPeer {name}: localWorkloadSelector without asNumber: skipped"
                    ));
                    continue;
                };
                for w in c
                    .set
                    .local_workloads
                    .values()
                    .filter(|w| &w.bgp_peer_name == name)
                {
                    for v4 in [true, false] {
                        let Some(ip) = w.address(v4) else { continue };
                        ps.push(Peering {
                            ip,
                            port: None,
                            asn,
                            rr_cluster_id: None,
                            calico_node: false,
                            peer: name.clone(),
                            reverse: false,
                            local_workload: true,
                        });
                    }
                }
            } else if let Some(sel) = &s.peer_selector {
                ps = node_peerings(c, &c.nodes_matching(sel), &all_families, peer, false);
            } else {
                let Ok((ip, mut port)) = split_peer_ip(&s.peer_ip) else {
                    continue;
                };
                let Some(asn) = s.as_number.map(|a| a.0).filter(|a| *a != 0) else {
                    warnings.push(format!("BGPPeer {name}: peerIP without asNumber: skipped"));
                    continue;
                };
                let host = ip.to_string();
                if let Some(n) = port
                    .is_none()
                    .then(|| c.nodes_with_ip_port_as(&host, Some(asn), None))
                    .and_then(|v| v.first().copied())
                {
                    port = c.node_port(&n.name);
                }
                ps.push(Peering {
                    ip,
                    port,
                    asn,
                    rr_cluster_id: None,
                    calico_node: c.node_ips.contains(&host),
                    peer: name.clone(),
                    reverse: false,
                    local_workload: false,
                });
            }
            let scope = if global_pass {
                Scope::Global
            } else {
                Scope::Node
            };
            for p in ps {
                emit(scope, p, &mut out);
            }
        }
    }
    // Reverse pass.
    let Some(me_node) = c.set.nodes.get(me) else {
        return out;
    };
    for peer in c.set.bgp_peers.values() {
        let s = &peer.spec;
        if s.reverse_peering == Some(ReversePeering::Manual) || s.local_workload_selector.is_some()
        {
            continue;
        }
        let (selected, families): (bool, Vec<Family>) = if let Some(sel) = &s.peer_selector {
            (sel.matches(&me_node.labels), all_families.to_vec())
        } else {
            let Ok((ip, port)) = split_peer_ip(&s.peer_ip) else {
                continue;
            };
            let hits = c.nodes_with_ip_port_as(&ip.to_string(), s.as_number.map(|a| a.0), port);
            (hits.iter().any(|n| n.name == me), vec![family_of(&ip)])
        };
        if !selected {
            continue;
        }
        let peer_nodes: Vec<&NodeInfo> = if let Some(sel) = &s.node_selector {
            c.nodes_matching(sel)
        } else if !s.node.is_empty() {
            c.set.nodes.get(&s.node).into_iter().collect()
        } else {
            c.set.nodes.values().collect()
        };
        for p in node_peerings(c, &peer_nodes, &families, peer, true) {
            emit(Scope::Node, p, &mut out);
        }
    }
    out
}

/// The sessions of node `me` for one family (empty when the node has no
/// address of the family: "IPv4 disabled on this node").
pub fn sessions(
    c: &Cluster<'_>,
    me: &str,
    family: Family,
    secrets: &dyn SecretSource,
    namespace: &str,
    warnings: &mut Vec<String>,
) -> Vec<Session> {
    let Some(me_node) = c.set.nodes.get(me) else {
        return Vec::new();
    };
    let Some(my_ip) = node_addr(me_node, family) else {
        return Vec::new();
    };
    let my_ip_text = my_ip.to_string();
    let my_as = c.node_as(me_node);
    let my_cluster = me_node.route_reflector_cluster_id;
    let mut out = Vec::new();

    // Mesh.
    if c.mesh_enabled && my_cluster.is_none() {
        let password = c
            .global
            .and_then(|g| g.node_mesh_password.as_ref())
            .and_then(|p| p.secret_key_ref.as_ref())
            .and_then(|r| resolve(secrets, namespace, r, "the node mesh", warnings));
        let gr = c
            .global
            .and_then(|g| g.node_mesh_max_restart_time.as_ref())
            .map(|d| d.rounded_seconds());
        for n in c.set.nodes.values() {
            let Some(ip) = node_addr(n, family) else {
                continue;
            };
            if ip == my_ip || n.route_reflector_cluster_id.is_some() {
                continue;
            }
            let peer_as = c.node_as(n);
            let internal = peer_as == my_as;
            out.push(Session {
                name: session_name("Mesh", &ip, None),
                kind: SessionKind::Mesh,
                bgp_peer: None,
                reverse: false,
                peer_address: ip,
                peer_port: c.node_port(&n.name),
                peer_as,
                local_as: my_as,
                local_as_override: false,
                internal,
                passive: ip.to_string() > my_ip_text,
                source_address: Some(my_ip),
                password: password.clone(),
                graceful_restart_time: gr,
                keepalive_time: None,
                hops: if internal {
                    Hops::Multihop(64)
                } else {
                    Hops::Direct
                },
                next_hop: NextHop::Auto,
                allow_local_as: None,
                rr_client_cluster_id: None,
                reachable_by: None,
                filters: Vec::new(),
                import: Vec::new(),
                export: Vec::new(),
            });
        }
    }

    // Explicit peers: global first, then node-specific.
    let mut explicit: Vec<(Scope, Peering)> = peerings(c, me, warnings)
        .into_iter()
        .filter(|(_, p)| family_of(&p.ip) == family)
        .collect();
    explicit.sort_by_key(|(scope, p)| (p.local_workload, *scope, p.ip.to_string(), p.port));
    let mut passwords: BTreeMap<String, Option<Password>> = BTreeMap::new();
    for (scope, p) in explicit {
        if p.ip == my_ip {
            continue;
        }
        let Some(res) = c.set.bgp_peers.get(&p.peer) else {
            continue;
        };
        let s = &res.spec;
        let password = passwords
            .entry(p.peer.clone())
            .or_insert_with(|| {
                s.password
                    .as_ref()
                    .and_then(|pw| pw.secret_key_ref.as_ref())
                    .and_then(|r| {
                        resolve(
                            secrets,
                            namespace,
                            r,
                            &format!("BGPPeer {}", p.peer),
                            warnings,
                        )
                    })
            })
            .clone();
        let local_as_override = s.local_as_number.map(|a| a.0).filter(|a| *a != 0);
        let local_as = local_as_override.unwrap_or(my_as);
        let internal = p.asn == local_as;
        let next_hop = match s.next_hop_mode {
            Some(NextHopMode::SelfAddress) => NextHop::SelfAddress,
            Some(NextHopMode::Keep) => NextHop::Keep,
            _ if s.keep_original_next_hop && !internal => NextHop::Keep,
            _ => NextHop::Auto,
        };
        let rr_client_cluster_id = match my_cluster {
            Some(mine) if internal && p.rr_cluster_id != Some(mine) => Some(mine),
            _ => None,
        };
        let (prefix, kind) = match scope {
            _ if p.local_workload => ("Local_Workload", SessionKind::LocalWorkload),
            Scope::Global => ("Global", SessionKind::Global),
            Scope::Node => ("Node", SessionKind::Node),
        };
        out.push(Session {
            name: session_name(prefix, &p.ip, p.port),
            kind,
            bgp_peer: Some(p.peer.clone()),
            reverse: p.reverse,
            peer_address: p.ip,
            peer_port: p.port,
            peer_as: p.asn,
            local_as,
            local_as_override: local_as_override.is_some(),
            internal,
            passive: p.local_workload
                || (scope == Scope::Global && p.calico_node && p.ip.to_string() > my_ip_text),
            source_address: match s.source_address {
                _ if p.local_workload => None,
                Some(SourceAddress::None) => None,
                _ => Some(my_ip),
            },
            password,
            graceful_restart_time: s.max_restart_time.as_ref().map(|d| d.rounded_seconds()),
            keepalive_time: s.keepalive_time.as_ref().map(|d| d.rounded_seconds()),
            hops: match s.ttl_security.filter(|t| *t > 0) {
                Some(t) => Hops::TtlSecurity(t),
                None => Hops::Multihop(64),
            },
            next_hop,
            allow_local_as: s.num_allowed_local_as_numbers.filter(|n| *n > 0),
            rr_client_cluster_id,
            reachable_by: s.reachable_by.filter(|g| family_of(g) == family),
            filters: s.filters.clone(),
            import: Vec::new(),
            export: Vec::new(),
        });
    }
    out
}
