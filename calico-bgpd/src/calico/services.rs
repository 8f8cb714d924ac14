//! Service address advertisement (checklist items 48–52), from the
//! BGPConfiguration's service ranges and the Kubernetes Services and
//! Endpoints / EndpointSlices of the resource directory.
//!
//! * **Global ranges**: `serviceClusterIPs` (or the
//!   `CALICO_ADVERTISE_CLUSTER_IPS` override), the `serviceExternalIPs`
//!   that are not single addresses, and, with
//!   `serviceLoadBalancerAggregation: Enabled` (the default), the
//!   `serviceLoadBalancerIPs` that are not single addresses. They are
//!   advertised from every node (as blackhole static routes) and never
//!   installed in the kernel. A node labelled
//!   `node.kubernetes.io/exclude-from-external-load-balancers=true` keeps
//!   them out of its kernel but does not advertise them.
//! * **Per-service /32 (/128) routes** of a Service of type ClusterIP,
//!   NodePort or LoadBalancer with a cluster IP: its cluster IP (when
//!   cluster ranges are configured), its external IPs inside an allowed
//!   range and its load-balancer ingress IPs inside an allowed range, when
//!   - `externalTrafficPolicy: Local` and a ready endpoint of the cluster
//!     IP's family runs on this node; or
//!   - `externalTrafficPolicy: Cluster` and it has a load-balancer address
//!     (LoadBalancer type) or an external IP that a single-address entry of
//!     the allow list names; or aggregation is Disabled and it has a ready
//!     endpoint anywhere.

use std::collections::BTreeSet;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;

use super::resources::ResourceSet;
use super::resources::bgp_configuration::{Aggregation, BgpConfigurationSpec};
use super::resources::kubernetes::{SERVICE_NAME_LABEL, Service};

/// The node label that stops service advertisement from a node.
pub const EXCLUDE_LABEL: &str = "node.kubernetes.io/exclude-from-external-load-balancers";

/// What a node advertises for services, and what it keeps out of its
/// kernel.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServiceRoutes {
    /// Advertised (blackhole static routes, exported).
    pub advertised: BTreeSet<IpNet>,
    /// Never installed in the kernel.
    pub kernel_reject: BTreeSet<IpNet>,
}

fn single(n: &IpNet) -> bool {
    n.prefix_len() == n.max_prefix_len()
}

fn host(ip: IpAddr) -> IpNet {
    IpNet::from(ip)
}

fn ready_endpoints(set: &ResourceSet, key: &str, svc: &Service) -> Vec<(IpAddr, Option<String>)> {
    let mut out = Vec::new();
    if let Some(ep) = set.endpoints.get(key) {
        for s in &ep.subsets {
            for a in &s.addresses {
                if let Ok(ip) = a.ip.parse() {
                    out.push((ip, a.node_name.clone()));
                }
            }
        }
    }
    let ns = svc.metadata.namespace.as_deref().unwrap_or("default");
    for slice in set.endpoint_slices.values() {
        if slice.metadata.namespace.as_deref().unwrap_or("default") != ns
            || slice.metadata.labels.get(SERVICE_NAME_LABEL) != Some(&svc.metadata.name)
        {
            continue;
        }
        for e in &slice.endpoints {
            if e.conditions.ready == Some(false) {
                continue;
            }
            for a in &e.addresses {
                if let Ok(ip) = a.parse() {
                    out.push((ip, e.node_name.clone()));
                }
            }
        }
    }
    out
}

/// The service routes of node `node_name` (`excluded`: it has the
/// exclusion label).
pub fn service_routes(
    global: Option<&BgpConfigurationSpec>,
    cluster_ips_override: Option<IpNet>,
    set: &ResourceSet,
    node_name: &str,
    excluded: bool,
) -> ServiceRoutes {
    let cidrs = |v: Option<&Vec<super::resources::bgp_configuration::CidrEntry>>| -> Vec<IpNet> {
        v.map(|v| v.iter().map(|c| c.cidr.trunc()).collect())
            .unwrap_or_default()
    };
    let cluster: Vec<IpNet> = match cluster_ips_override {
        Some(c) => vec![c.trunc()],
        None => cidrs(global.map(|g| &g.service_cluster_ips)),
    };
    let external = cidrs(global.map(|g| &g.service_external_ips));
    let lb = cidrs(global.map(|g| &g.service_load_balancer_ips));
    let aggregation = global
        .and_then(|g| g.service_load_balancer_aggregation)
        .unwrap_or_default();

    let mut global_ranges: BTreeSet<IpNet> = cluster.iter().copied().collect();
    global_ranges.extend(external.iter().filter(|n| !single(n)));
    if aggregation == Aggregation::Enabled {
        global_ranges.extend(lb.iter().filter(|n| !single(n)));
    }
    let mut out = ServiceRoutes {
        advertised: if excluded {
            BTreeSet::new()
        } else {
            global_ranges.clone()
        },
        kernel_reject: global_ranges,
    };
    if excluded {
        return out;
    }
    let in_any = |ip: IpAddr, nets: &[IpNet], only_single: bool| {
        nets.iter()
            .any(|n| n.contains(&ip) && (!only_single || single(n)))
    };
    for (key, svc) in &set.services {
        let kind = svc.spec.kind.as_deref().unwrap_or("ClusterIP");
        if !matches!(kind, "ClusterIP" | "NodePort" | "LoadBalancer") {
            continue;
        }
        let Some(cluster_ip) = svc
            .spec
            .cluster_ip
            .as_deref()
            .filter(|c| !c.is_empty() && *c != "None")
            .and_then(|c| c.parse::<IpAddr>().ok())
        else {
            continue;
        };
        let externals: Vec<IpAddr> = svc
            .spec
            .external_ips
            .iter()
            .filter_map(|e| e.parse().ok())
            .collect();
        let lb_ips: Vec<IpAddr> = svc
            .status
            .load_balancer
            .ingress
            .iter()
            .filter_map(|i| i.ip.as_deref()?.parse().ok())
            .collect();
        let requested_lb: Option<IpAddr> = svc
            .spec
            .load_balancer_ip
            .as_deref()
            .and_then(|s| s.parse().ok());
        let endpoints = ready_endpoints(set, key, svc);
        let advertise = match svc.spec.external_traffic_policy.as_deref() {
            Some("Cluster") => {
                (kind == "LoadBalancer"
                    && requested_lb
                        .iter()
                        .chain(&lb_ips)
                        .any(|ip| in_any(*ip, &lb, true)))
                    || externals.iter().any(|ip| in_any(*ip, &external, true))
                    || (aggregation == Aggregation::Disabled && !endpoints.is_empty())
            }
            Some("Local") => endpoints.iter().any(|(ip, node)| {
                node.as_deref() == Some(node_name) && ip.is_ipv4() == cluster_ip.is_ipv4()
            }),
            _ => false,
        };
        if !advertise {
            continue;
        }
        if !cluster.is_empty() {
            out.advertised.insert(host(cluster_ip));
        }
        for ip in externals.iter().filter(|ip| in_any(**ip, &external, false)) {
            out.advertised.insert(host(*ip));
        }
        for ip in lb_ips.iter().filter(|ip| in_any(**ip, &lb, false)) {
            out.advertised.insert(host(*ip));
        }
    }
    out
}
