//! [`NodePlan`]: everything one node must do, computed from a
//! [`ResourceSet`] and the node's [`Settings`].

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr};

use bgp_rib::policy::PolicyDocument;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::Family;
use super::filters::{
    self, CalicoExport, ClusterRoutePolicy, CommunityRule, Direction, FilterFunction, KernelFilter,
    PoolView, Stage,
};
use super::peering::{self, Cluster, Session};
use super::resources::ResourceSet;
use super::resources::bgp_configuration::{BindMode, ProgramClusterRoutes, is_community_value};
use super::resources::block_affinity::AffinityState;
use super::router_id::{RouterIdError, RouterIdSetting, router_id};
use super::secrets::SecretSource;
use super::services;

/// The node's own settings (calico-node's environment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `NODENAME`.
    pub node_name: String,
    /// `CALICO_ROUTER_ID`.
    #[serde(default)]
    pub router_id: RouterIdSetting,
    /// `NAMESPACE`: where the password Secrets are.
    #[serde(default = "default_namespace")]
    pub secrets_namespace: String,
    /// `CALICO_ADVERTISE_CLUSTER_IPS`: replaces `serviceClusterIPs`.
    #[serde(default)]
    pub advertise_cluster_ips: Option<IpNet>,
}

fn default_namespace() -> String {
    "kube-system".into()
}

impl Settings {
    /// Settings for a node, the rest defaults.
    pub fn new(node_name: impl Into<String>) -> Self {
        Settings {
            node_name: node_name.into(),
            router_id: RouterIdSetting::NodeAddress,
            secrets_namespace: default_namespace(),
            advertise_cluster_ips: None,
        }
    }
}

/// BIRD's `debug` setting from `logSeverityScreen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LogLevel {
    /// `debug all`.
    Debug,
    /// `debug { states }` (the default).
    Info,
    /// No debug.
    None,
}

/// Where the node listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Listen {
    /// Only this address (`bindMode: NodeIP`); none: every address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
    /// The port.
    pub port: u16,
}

/// Why a static route exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StaticReason {
    /// One of the node's confirmed blocks.
    Block,
    /// A block whose affinity is being deleted (no aggregate export).
    PendingDeletionBlock,
    /// A service address or range.
    Service,
    /// A BGPPeer's `reachableBy`.
    ReachableBy,
}

/// A route of the static protocol. Like every route it goes through the
/// kernel filter on its way to the kernel (the service ranges are rejected
/// there) and through the export of each session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaticRoute {
    /// The prefix.
    pub prefix: IpNet,
    /// The gateway; none: a blackhole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub via: Option<IpAddr>,
    /// Why.
    pub reason: StaticReason,
}

/// Everything of one address family.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FamilyPlan {
    /// The node's address.
    pub address: IpAddr,
    /// Its subnet, when the length is known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet: Option<IpNet>,
    /// Where to listen.
    pub listen: Listen,
    /// The sessions: mesh, then global, then node-specific.
    pub sessions: Vec<Session>,
    /// The static protocol.
    pub static_routes: Vec<StaticRoute>,
    /// Calico's export function.
    pub export: CalicoExport,
    /// Routes on interfaces matching these are not exported to iBGP peers.
    pub ibgp_rejected_interfaces: Vec<String>,
    /// Routes on interfaces matching these are never exported.
    pub never_exported_interfaces: Vec<String>,
    /// The kernel filter.
    pub kernel: KernelFilter,
    /// Interfaces whose addresses resolve next hops (`protocol direct`):
    /// patterns, `-` for an exclusion, first match wins.
    pub direct_interfaces: Vec<String>,
}

/// What every session has, from Calico's `bgp_template` and BIRD 1.6's
/// defaults (checklist items 66–68); a session's own graceful-restart and
/// keepalive times replace these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SessionTemplate {
    /// Graceful restart (RFC 4724), restarting and receiving.
    pub graceful_restart: bool,
    /// The restart time announced when a session sets none (seconds).
    pub graceful_restart_time: u32,
    /// ADD-PATH (RFC 7911) offered both ways.
    pub add_paths_rx_tx: bool,
    /// Hold time proposed (seconds); keepalive a third of it.
    pub hold_time: u32,
    /// `connect delay time` (seconds).
    pub connect_delay_time: u32,
    /// `connect retry time` (seconds).
    pub connect_retry_time: u32,
    /// `error wait time` back-off, shortest and longest (seconds).
    pub error_wait_time: (u32, u32),
    /// Next hops resolved through the routing table (`gateway recursive`).
    pub gateway_recursive: bool,
    /// Equal BGP paths go to the kernel as one multipath route
    /// (`merge paths on`).
    pub kernel_merge_paths: bool,
}

/// Calico's values.
pub const SESSION_TEMPLATE: SessionTemplate = SessionTemplate {
    graceful_restart: true,
    graceful_restart_time: 120,
    add_paths_rx_tx: true,
    hold_time: 240,
    connect_delay_time: 2,
    connect_retry_time: 5,
    error_wait_time: (5, 30),
    gateway_recursive: true,
    kernel_merge_paths: true,
};

/// Everything this node must do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodePlan {
    /// The node.
    pub node: String,
    /// The BGP identifier (both families).
    pub router_id: Ipv4Addr,
    /// The node's AS.
    pub local_as: u32,
    /// BIRD's debug level.
    pub log_level: LogLevel,
    /// Set when the node is a route reflector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_reflector_cluster_id: Option<Ipv4Addr>,
    /// Which pools' routes this daemon installs.
    pub cluster_routes: ClusterRoutePolicy,
    /// What every session has.
    pub session_template: SessionTemplate,
    /// IPv4 (none: "IPv4 disabled on this node").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv4: Option<FamilyPlan>,
    /// IPv6.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipv6: Option<FamilyPlan>,
    /// The BGPFilter functions the sessions use.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub filter_functions: Vec<FilterFunction>,
    /// The policies the stages name, in bgp-rib's serde form.
    pub policies: PolicyDocument,
    /// What was skipped or could not be read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// Why no plan can be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// There is no Node resource of this name.
    #[error("there is no Node {0:?} among the resources")]
    UnknownNode(String),
    /// No router id.
    #[error(transparent)]
    RouterId(#[from] RouterIdError),
}

fn family_of_net(n: &IpNet) -> Family {
    match n {
        IpNet::V4(_) => Family::Ipv4,
        IpNet::V6(_) => Family::Ipv6,
    }
}

/// Pools and blocks sort as confd's keys do: by the CIDR's text with `/`
/// written `-`.
fn key_order(a: &IpNet, b: &IpNet) -> std::cmp::Ordering {
    a.to_string()
        .replace('/', "-")
        .cmp(&b.to_string().replace('/', "-"))
}

fn cluster_route_policy(p: Option<ProgramClusterRoutes>) -> ClusterRoutePolicy {
    // Unset: v3.31 (and v3.32) behaviour, everything but VXLAN.
    let (ipip, no_encap) = match p {
        None | Some(ProgramClusterRoutes::Enabled) => (true, true),
        Some(ProgramClusterRoutes::Disabled) => (false, false),
        Some(ProgramClusterRoutes::EnabledIpipOnly) => (true, false),
        Some(ProgramClusterRoutes::EnabledNoEncapOnly) => (false, true),
    };
    ClusterRoutePolicy { ipip, no_encap }
}

/// Computes the plan of `settings.node_name`.
pub fn compute(
    set: &ResourceSet,
    settings: &Settings,
    secrets: &dyn SecretSource,
) -> Result<NodePlan, PlanError> {
    let me = settings.node_name.as_str();
    let node = set
        .nodes
        .get(me)
        .ok_or_else(|| PlanError::UnknownNode(me.to_string()))?;
    let cluster = Cluster::new(set);
    let mut warnings = Vec::new();
    let rid = router_id(settings.router_id, me, node.ipv4.map(|(a, _)| a))?;
    let node_cfg = set
        .bgp_configurations
        .get(&format!("node.{me}"))
        .map(|c| &c.spec);
    let log_level = match node_cfg
        .and_then(|c| c.log_severity_screen.clone())
        .or_else(|| cluster.global.and_then(|g| g.log_severity_screen.clone()))
        .map(|l| l.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("info") => LogLevel::Info,
        Some("debug") => LogLevel::Debug,
        Some(_) => LogLevel::None,
    };
    let cluster_routes =
        cluster_route_policy(cluster.global.and_then(|g| g.program_cluster_routes));
    let excluded = node
        .labels
        .get(services::EXCLUDE_LABEL)
        .is_some_and(|v| v == "true");
    let svc = services::service_routes(
        cluster.global,
        settings.advertise_cluster_ips,
        set,
        me,
        excluded,
    );
    // prefixAdvertisements: the node's own list replaces the global one.
    let adv_source = node_cfg
        .filter(|c| !c.prefix_advertisements.is_empty())
        .or(cluster.global);
    let mut functions: BTreeMap<String, FilterFunction> = BTreeMap::new();
    let mut families = [None, None];
    for (slot, family) in families.iter_mut().zip([Family::Ipv4, Family::Ipv6]) {
        let (address, subnet) = match family {
            Family::Ipv4 => match node.ipv4 {
                Some((a, n)) => (IpAddr::V4(a), n),
                None => continue,
            },
            Family::Ipv6 => match node.ipv6 {
                Some((a, n)) => (IpAddr::V6(a), n),
                None => continue,
            },
        };
        let mut sessions = peering::sessions(
            &cluster,
            me,
            family,
            secrets,
            &settings.secrets_namespace,
            &mut warnings,
        );
        // Import and export steps.
        let calico_policy = CalicoExport::policy_name(family);
        for s in &mut sessions {
            let mut import = Vec::new();
            let mut export = Vec::new();
            for f in &s.filters {
                let Some(res) = set.bgp_filters.get(f) else {
                    warnings.push(format!(
                        "session {}: BGPFilter {f} does not exist: skipped",
                        s.name
                    ));
                    continue;
                };
                for (dir, steps) in [
                    (Direction::Import, &mut import),
                    (Direction::Export, &mut export),
                ] {
                    if let Some(func) = filters::filter_function(res, dir, family, &mut warnings) {
                        steps.push(Stage::BgpFilter(func.name.clone()));
                        functions.entry(func.name.clone()).or_insert(func);
                    }
                }
            }
            import.push(Stage::Accept);
            let mut gate: Vec<String> = filters::NEVER_EXPORTED_INTERFACES
                .iter()
                .map(|s| s.to_string())
                .collect();
            if s.internal {
                gate.extend(
                    filters::IBGP_REJECTED_INTERFACES
                        .iter()
                        .map(|s| s.to_string()),
                );
            }
            gate.sort();
            export.push(Stage::InterfaceGate(gate));
            export.push(Stage::Policy(calico_policy.clone()));
            s.import = import;
            s.export = export;
        }
        // Blocks of this node.
        let mut blocks: Vec<(IpNet, bool)> = set
            .block_affinities
            .values()
            .filter(|b| b.spec.node == me && !b.spec.deleted)
            .filter_map(|b| {
                let cidr = b.spec.cidr?.trunc();
                let confirmed = match b.spec.state {
                    None | Some(AffinityState::Confirmed) => true,
                    Some(AffinityState::PendingDeletion) => false,
                    Some(AffinityState::Pending) => return None,
                };
                (family_of_net(&cidr) == family).then_some((cidr, confirmed))
            })
            .collect();
        blocks.sort_by(|a, b| key_order(&a.0, &b.0));
        let mut static_routes: Vec<StaticRoute> = blocks
            .iter()
            .filter(|(b, _)| b.prefix_len() != b.max_prefix_len())
            .map(|(b, confirmed)| StaticRoute {
                prefix: *b,
                via: None,
                reason: if *confirmed {
                    StaticReason::Block
                } else {
                    StaticReason::PendingDeletionBlock
                },
            })
            .collect();
        let svc_routes: Vec<IpNet> = svc
            .advertised
            .iter()
            .filter(|n| family_of_net(n) == family)
            .copied()
            .collect();
        static_routes.extend(svc_routes.iter().map(|p| StaticRoute {
            prefix: *p,
            via: None,
            reason: StaticReason::Service,
        }));
        let mut reach: BTreeSet<(IpAddr, IpAddr)> = BTreeSet::new();
        for s in &sessions {
            if let Some(g) = s.reachable_by {
                reach.insert((s.peer_address, g));
            }
        }
        static_routes.extend(reach.into_iter().map(|(p, g)| StaticRoute {
            prefix: IpNet::from(p),
            via: Some(g),
            reason: StaticReason::ReachableBy,
        }));
        // Pools.
        let mut pools: Vec<&super::resources::IpPool> = set
            .ip_pools
            .values()
            .filter(|p| p.spec.cidr.is_some_and(|c| family_of_net(&c) == family))
            .collect();
        pools.sort_by(|a, b| match (a.spec.cidr, b.spec.cidr) {
            (Some(x), Some(y)) => key_order(&x.trunc(), &y.trunc()),
            _ => std::cmp::Ordering::Equal,
        });
        let cidr = |p: &super::resources::IpPool| p.spec.cidr.map(|c| c.trunc());
        let communities = adv_source
            .map(|src| {
                src.prefix_advertisements
                    .iter()
                    .filter(|a| family_of_net(&a.cidr) == family)
                    .map(|a| {
                        let mut values: BTreeSet<String> = BTreeSet::new();
                        // A value is used as it is, a name through `communities`.
                        for c in &a.communities {
                            if is_community_value(c) {
                                values.insert(c.clone());
                            } else if let Some(n) = src.communities.iter().find(|n| &n.name == c) {
                                values.insert(n.value.clone());
                            }
                        }
                        let (large, std): (Vec<String>, Vec<String>) = values
                            .into_iter()
                            .partition(|v| v.matches(':').count() == 2);
                        CommunityRule {
                            cidr: a.cidr.trunc(),
                            communities: std,
                            large_communities: large,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let reflected_load_balancer_ranges = if node.route_reflector_cluster_id.is_some() {
            cluster
                .global
                .map(|g| {
                    g.service_load_balancer_ips
                        .iter()
                        .map(|c| c.cidr.trunc())
                        .filter(|c| family_of_net(c) == family)
                        .collect()
                })
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let export = CalicoExport {
            disabled_pools: pools
                .iter()
                .filter(|p| p.spec.disable_bgp_export)
                .filter_map(|p| cidr(p))
                .collect(),
            communities,
            own_blocks: blocks.iter().filter(|(_, c)| *c).map(|(b, _)| *b).collect(),
            static_routes: svc_routes,
            reflected_load_balancer_ranges,
            pools: pools
                .iter()
                .filter(|p| !p.spec.disable_bgp_export)
                .filter_map(|p| cidr(p))
                .collect(),
        };
        let pool_views: Vec<PoolView> = pools
            .iter()
            .filter_map(|p| {
                Some(PoolView {
                    cidr: cidr(p)?,
                    ipip: p.ipip(),
                    vxlan: p.vxlan(),
                })
            })
            .collect();
        let reject: Vec<IpNet> = svc
            .kernel_reject
            .iter()
            .filter(|n| family_of_net(n) == family)
            .copied()
            .collect();
        let kernel = filters::kernel_filter(family, &reject, &pool_views, subnet, cluster_routes);
        let listen = Listen {
            address: match cluster.global.and_then(|g| g.bind_mode) {
                Some(BindMode::NodeIp) => Some(address),
                _ => None,
            },
            port: cluster.node_port(me).unwrap_or(179),
        };
        let mut direct_interfaces: Vec<String> = cluster
            .global
            .map(|g| {
                g.ignored_interfaces
                    .iter()
                    .map(|i| format!("-{i}"))
                    .collect()
            })
            .unwrap_or_default();
        direct_interfaces.extend(["-cali*".to_string(), "-kube-ipvs*".into(), "*".into()]);
        *slot = Some(FamilyPlan {
            address,
            subnet,
            listen,
            sessions,
            static_routes,
            export,
            ibgp_rejected_interfaces: filters::IBGP_REJECTED_INTERFACES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            never_exported_interfaces: filters::NEVER_EXPORTED_INTERFACES
                .iter()
                .map(|s| s.to_string())
                .collect(),
            kernel,
            direct_interfaces,
        });
    }
    let [ipv4, ipv6] = families;
    let mut policies = PolicyDocument::default();
    for (f, fam) in [(&ipv4, Family::Ipv4), (&ipv6, Family::Ipv6)] {
        if let Some(p) = f {
            policies.policy.push(p.export.policy(fam));
        }
    }
    for func in functions.values() {
        if let Some(p) = func.policy() {
            policies.policy.push(p);
        }
    }
    Ok(NodePlan {
        node: me.to_string(),
        router_id: rid,
        local_as: cluster.node_as(node),
        log_level,
        route_reflector_cluster_id: node.route_reflector_cluster_id,
        cluster_routes,
        session_template: SESSION_TEMPLATE,
        ipv4,
        ipv6,
        filter_functions: functions.into_values().collect(),
        policies,
        warnings,
    })
}

impl NodePlan {
    /// The plan as YAML (stable: fields in declaration order, lists
    /// sorted where the order does not matter).
    /// Enums are written as one-key maps (`hops: {multihop: 64}`), not
    /// YAML tags.
    pub fn to_yaml(&self) -> String {
        let mut out = Vec::new();
        let mut ser = serde_norway::Serializer::new(&mut out);
        match serde_norway::with::singleton_map_recursive::serialize(self, &mut ser) {
            Ok(()) => String::from_utf8_lossy(&out).into_owned(),
            Err(e) => format!("# cannot render the plan: {e}\n"),
        }
    }
}

/// How the sessions of two plans differ, by family and name: what a reload
/// must start, stop and reconfigure. Sessions that are equal in both are
/// left alone (BIRD's soft reconfiguration on SIGHUP restarts only the
/// protocols whose configuration changed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionDiff {
    /// Only in the new plan.
    pub added: Vec<(Family, String)>,
    /// Only in the old plan.
    pub removed: Vec<(Family, String)>,
    /// In both, with other parameters.
    pub changed: Vec<(Family, String)>,
    /// In both, equal.
    pub unchanged: Vec<(Family, String)>,
}

impl NodePlan {
    fn sessions_by_name(&self) -> BTreeMap<(Family, String), &Session> {
        let mut m = BTreeMap::new();
        for (fam, f) in [(Family::Ipv4, &self.ipv4), (Family::Ipv6, &self.ipv6)] {
            for s in f.iter().flat_map(|f| &f.sessions) {
                m.insert((fam, s.name.clone()), s);
            }
        }
        m
    }

    /// The session changes from `old` to this plan. A change of the router
    /// id or of the node's AS changes every session.
    pub fn session_diff(&self, old: &NodePlan) -> SessionDiff {
        let new = self.sessions_by_name();
        let before = old.sessions_by_name();
        let all_changed = self.router_id != old.router_id || self.local_as != old.local_as;
        let mut d = SessionDiff::default();
        for (k, s) in &new {
            match before.get(k) {
                None => d.added.push(k.clone()),
                Some(o) if all_changed || o != s => d.changed.push(k.clone()),
                Some(_) => d.unchanged.push(k.clone()),
            }
        }
        d.removed = before
            .keys()
            .filter(|k| !new.contains_key(*k))
            .cloned()
            .collect();
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calico::secrets::NoSecrets;

    const NODES: &str = r#"
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: a}
spec: {bgp: {ipv4Address: 192.0.2.1/24}}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: b}
spec: {bgp: {ipv4Address: 192.0.2.2/24}}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: c}
spec: {bgp: {ipv4Address: 192.0.2.3/24}}
"#;

    fn plan(extra: &str) -> NodePlan {
        let text = format!("{NODES}---\n{extra}");
        let (set, _) = ResourceSet::from_yaml("t.yaml".as_ref(), &text).unwrap();
        compute(&set, &Settings::new("a"), &NoSecrets).unwrap()
    }

    #[test]
    fn diff_leaves_unchanged_sessions_alone() {
        let before = plan(
            "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: tor}\nspec: {peerIP: 198.51.100.1, asNumber: 64600}\n",
        );
        let after = plan(
            "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: tor}\nspec: {peerIP: 198.51.100.1, asNumber: 64600, maxRestartTime: 300s}\n---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: tor2}\nspec: {peerIP: 198.51.100.2, asNumber: 64600}\n",
        );
        let d = after.session_diff(&before);
        let names = |v: &[(Family, String)]| v.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&d.unchanged), ["Mesh_192_0_2_2", "Mesh_192_0_2_3"]);
        assert_eq!(names(&d.changed), ["Global_198_51_100_1"]);
        assert_eq!(names(&d.added), ["Global_198_51_100_2"]);
        assert!(d.removed.is_empty());
        let back = before.session_diff(&after);
        assert_eq!(names(&back.removed), ["Global_198_51_100_2"]);
    }

    #[test]
    fn unknown_node_and_router_id_errors() {
        let (set, _) = ResourceSet::from_yaml("t.yaml".as_ref(), NODES).unwrap();
        assert_eq!(
            compute(&set, &Settings::new("zz"), &NoSecrets).unwrap_err(),
            PlanError::UnknownNode("zz".into())
        );
        let v6 = "apiVersion: projectcalico.org/v3\nkind: Node\nmetadata: {name: six}\nspec: {bgp: {ipv6Address: 2001:db8::1/64}}\n";
        let (set, _) = ResourceSet::from_yaml("t.yaml".as_ref(), v6).unwrap();
        assert!(matches!(
            compute(&set, &Settings::new("six"), &NoSecrets),
            Err(PlanError::RouterId(RouterIdError::NoIpv4Address(_)))
        ));
    }
}
