//! `BGPConfiguration`: the `default` one (global) and the `node.<name>`
//! ones (per node: only `listenPort`, `logSeverityScreen` and
//! `prefixAdvertisements` count there, as in confd).

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::common::{AsNumber, Duration, FieldError, PasswordSource, nullable};

/// A BGPConfiguration resource.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BgpConfiguration {
    /// `metadata`.
    #[serde(default)]
    pub metadata: super::ObjectMeta,
    /// `spec` (may be empty).
    #[serde(default, deserialize_with = "nullable")]
    pub spec: BgpConfigurationSpec,
}

/// `spec` of a BGPConfiguration.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BgpConfigurationSpec {
    /// Log level: `Debug`, `Info`, anything else means none.
    #[serde(default)]
    pub log_severity_screen: Option<String>,
    /// The full iBGP mesh (default on).
    #[serde(default)]
    pub node_to_node_mesh_enabled: Option<bool>,
    /// Default AS of every node.
    #[serde(default, rename = "asNumber")]
    pub as_number: Option<AsNumber>,
    /// Service cluster IP ranges to advertise.
    #[serde(default, rename = "serviceClusterIPs", deserialize_with = "nullable")]
    pub service_cluster_ips: Vec<CidrEntry>,
    /// Allowed service external IPs.
    #[serde(default, rename = "serviceExternalIPs", deserialize_with = "nullable")]
    pub service_external_ips: Vec<CidrEntry>,
    /// Allowed service load-balancer IPs.
    #[serde(
        default,
        rename = "serviceLoadBalancerIPs",
        deserialize_with = "nullable"
    )]
    pub service_load_balancer_ips: Vec<CidrEntry>,
    /// Whether whole load-balancer ranges are advertised (default Enabled).
    #[serde(default)]
    pub service_load_balancer_aggregation: Option<Aggregation>,
    /// Named communities.
    #[serde(default, deserialize_with = "nullable")]
    pub communities: Vec<NamedCommunity>,
    /// Communities added to exported routes by prefix.
    #[serde(default, deserialize_with = "nullable")]
    pub prefix_advertisements: Vec<PrefixAdvertisement>,
    /// BGP port (0: unset, 179).
    #[serde(default)]
    pub listen_port: Option<u16>,
    /// MD5 password of mesh sessions.
    #[serde(default)]
    pub node_mesh_password: Option<PasswordSource>,
    /// Graceful-restart time of mesh sessions.
    #[serde(default)]
    pub node_mesh_max_restart_time: Option<Duration>,
    /// `None` (all addresses) or `NodeIP`.
    #[serde(default)]
    pub bind_mode: Option<BindMode>,
    /// Interface patterns left out of next-hop resolution.
    #[serde(default, deserialize_with = "nullable")]
    pub ignored_interfaces: Vec<String>,
    /// Felix's workload peering address (not used by BGP).
    #[serde(default, rename = "localWorkloadPeeringIPV4")]
    pub local_workload_peering_ipv4: Option<String>,
    /// Felix's workload peering address (not used by BGP).
    #[serde(default, rename = "localWorkloadPeeringIPV6")]
    pub local_workload_peering_ipv6: Option<String>,
    /// Which cluster routes this daemon programs (v3.32+).
    #[serde(default)]
    pub program_cluster_routes: Option<ProgramClusterRoutes>,
    /// Felix's normal route metric, IPv4 (v3.32+; recorded, not used).
    #[serde(default, rename = "ipv4NormalRoutePriority")]
    pub ipv4_normal_route_priority: Option<u32>,
    /// Felix's normal route metric, IPv6 (v3.32+; recorded, not used).
    #[serde(default, rename = "ipv6NormalRoutePriority")]
    pub ipv6_normal_route_priority: Option<u32>,
}

/// `{cidr: ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CidrEntry {
    /// The range.
    pub cidr: IpNet,
}

/// `serviceLoadBalancerAggregation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Aggregation {
    /// Advertise the whole ranges (the default).
    #[default]
    Enabled,
    /// Only per-service addresses.
    Disabled,
}

/// `bindMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum BindMode {
    /// Listen on every address.
    #[default]
    None,
    /// Listen on the node's address only.
    #[serde(rename = "NodeIP")]
    NodeIp,
}

/// `programClusterRoutes` (v3.32+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProgramClusterRoutes {
    /// IP-in-IP and unencapsulated pools.
    Enabled,
    /// None (Felix programs them all).
    Disabled,
    /// IP-in-IP pools only.
    #[serde(rename = "EnabledIPIPOnly")]
    EnabledIpipOnly,
    /// Unencapsulated pools only.
    EnabledNoEncapOnly,
}

/// `{name, value}` of `communities`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedCommunity {
    /// The name.
    pub name: String,
    /// `aa:nn` or `aa:nn:mm`.
    pub value: String,
}

/// `{cidr, communities}` of `prefixAdvertisements`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefixAdvertisement {
    /// Routes matching `net ~ cidr`.
    pub cidr: IpNet,
    /// Community names or values.
    #[serde(default, deserialize_with = "nullable")]
    pub communities: Vec<String>,
}

/// Whether text is a community value (`aa:nn` or `aa:nn:mm`, decimal), as
/// confd tests it.
pub fn is_community_value(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    (parts.len() == 2 || parts.len() == 3)
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

impl BgpConfiguration {
    /// Checks the fields serde cannot.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let name = &self.metadata.name;
        if name != "default" && !name.starts_with("node.") {
            errs.push(FieldError::new(
                "metadata.name",
                format!("{name:?} is neither \"default\" nor \"node.<nodename>\""),
            ));
        }
        for (i, c) in self.spec.communities.iter().enumerate() {
            if !is_community_value(&c.value) || community_parts(&c.value).is_none() {
                errs.push(FieldError::new(
                    format!("spec.communities[{i}].value"),
                    format!("{:?} is not a community (aa:nn or aa:nn:mm)", c.value),
                ));
            }
        }
        for (i, p) in self.spec.prefix_advertisements.iter().enumerate() {
            for (j, c) in p.communities.iter().enumerate() {
                let known = self.spec.communities.iter().any(|n| &n.name == c);
                if !known && !is_community_value(c) {
                    errs.push(FieldError::new(
                        format!("spec.prefixAdvertisements[{i}].communities[{j}]"),
                        format!(
                            "{c:?} is neither a community value nor a name in spec.communities"
                        ),
                    ));
                } else if !known && community_parts(c).is_none() {
                    errs.push(FieldError::new(
                        format!("spec.prefixAdvertisements[{i}].communities[{j}]"),
                        format!("{c:?} is out of range"),
                    ));
                }
            }
        }
        errs
    }
}

/// The numbers of a community value: two 16-bit ones (standard) or three
/// 32-bit ones (large).
pub fn community_parts(s: &str) -> Option<Vec<u32>> {
    let parts: Vec<&str> = s.split(':').collect();
    match parts.len() {
        2 => parts
            .iter()
            .map(|p| p.parse::<u16>().ok().map(u32::from))
            .collect(),
        3 => parts.iter().map(|p| p.parse::<u32>().ok()).collect(),
        _ => None,
    }
}
