//! `Node`: Calico's node resource (`projectcalico.org/v3`), or the
//! Kubernetes `v1/Node` with Calico's annotations (the KDD form).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;
use serde::Deserialize;

use super::common::{AsNumber, FieldError, nullable};

/// Calico's Node resource (the BGP part).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct CalicoNode {
    /// `metadata`.
    #[serde(default)]
    pub metadata: super::ObjectMeta,
    /// `spec`.
    #[serde(default, deserialize_with = "nullable")]
    pub spec: CalicoNodeSpec,
}

/// `spec` of a Calico Node; only `bgp` is read, the rest (`addresses`,
/// `orchRefs`, `wireguard`, ...) is ignored.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct CalicoNodeSpec {
    /// `spec.bgp`.
    #[serde(default)]
    pub bgp: Option<NodeBgpSpec>,
}

/// `spec.bgp`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeBgpSpec {
    /// `10.0.0.5/24` (or without a length).
    #[serde(default, rename = "ipv4Address")]
    pub ipv4_address: Option<String>,
    /// `2001:db8::5/64` (or without a length).
    #[serde(default, rename = "ipv6Address")]
    pub ipv6_address: Option<String>,
    /// The node's AS.
    #[serde(default, rename = "asNumber")]
    pub as_number: Option<AsNumber>,
    /// Makes the node a route reflector.
    #[serde(default, rename = "routeReflectorClusterID")]
    pub route_reflector_cluster_id: Option<String>,
    /// tunl0's address (Felix's).
    #[serde(default, rename = "ipv4IPIPTunnelAddr")]
    pub ipv4_ipip_tunnel_addr: Option<String>,
}

/// A Kubernetes `v1/Node` (labels and Calico's annotations; `spec` and
/// `status` are ignored).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct KubernetesNode {
    /// `metadata`.
    #[serde(default)]
    pub metadata: super::ObjectMeta,
}

/// A node as BGP sees it, from either form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// The name.
    pub name: String,
    /// Labels (the selectors' view).
    pub labels: BTreeMap<String, String>,
    /// IPv4 address and, when the length was given, its subnet.
    pub ipv4: Option<(Ipv4Addr, Option<IpNet>)>,
    /// IPv6 address and subnet.
    pub ipv6: Option<(std::net::Ipv6Addr, Option<IpNet>)>,
    /// The node's own AS.
    pub as_number: Option<u32>,
    /// Its route-reflector cluster id.
    pub route_reflector_cluster_id: Option<Ipv4Addr>,
}

/// Parses `a.b.c.d/len` or `a.b.c.d`: the address and, with a length, the
/// subnet.
pub fn parse_address(s: &str) -> Result<(IpAddr, Option<IpNet>), String> {
    let s = s.trim();
    if let Ok(net) = s.parse::<IpNet>() {
        return Ok((net.addr(), Some(net.trunc())));
    }
    s.parse::<IpAddr>()
        .map(|a| (a, None))
        .map_err(|_| format!("{s:?} is not an address or address/length"))
}

fn node_info(
    name: &str,
    labels: BTreeMap<String, String>,
    bgp: &NodeBgpSpec,
    fields: [&str; 4],
) -> Result<NodeInfo, Vec<FieldError>> {
    let mut errs = Vec::new();
    let mut ipv4 = None;
    let mut ipv6 = None;
    let [f4, f6, _, frr] = fields;
    if let Some(s) = bgp.ipv4_address.as_deref().filter(|s| !s.trim().is_empty()) {
        match parse_address(s) {
            Ok((IpAddr::V4(a), n)) => ipv4 = Some((a, n)),
            Ok(_) => errs.push(FieldError::new(f4, format!("{s:?} is not IPv4"))),
            Err(e) => errs.push(FieldError::new(f4, e)),
        }
    }
    if let Some(s) = bgp.ipv6_address.as_deref().filter(|s| !s.trim().is_empty()) {
        match parse_address(s) {
            Ok((IpAddr::V6(a), n)) => ipv6 = Some((a, n)),
            Ok(_) => errs.push(FieldError::new(f6, format!("{s:?} is not IPv6"))),
            Err(e) => errs.push(FieldError::new(f6, e)),
        }
    }
    let mut rr = None;
    if let Some(s) = bgp
        .route_reflector_cluster_id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        match s.trim().parse::<Ipv4Addr>() {
            Ok(a) => rr = Some(a),
            Err(_) => errs.push(FieldError::new(
                frr,
                format!("{s:?} is not an IPv4-formatted cluster id"),
            )),
        }
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(NodeInfo {
        name: name.to_string(),
        labels,
        ipv4,
        ipv6,
        as_number: bgp.as_number.map(|a| a.0).filter(|a| *a != 0),
        route_reflector_cluster_id: rr,
    })
}

impl CalicoNode {
    /// What BGP uses of it.
    pub fn info(&self) -> Result<NodeInfo, Vec<FieldError>> {
        let bgp = self.spec.bgp.clone().unwrap_or_default();
        node_info(
            &self.metadata.name,
            self.metadata.labels.clone(),
            &bgp,
            [
                "spec.bgp.ipv4Address",
                "spec.bgp.ipv6Address",
                "spec.bgp.asNumber",
                "spec.bgp.routeReflectorClusterID",
            ],
        )
    }
}

/// The annotations of the KDD form.
pub mod annotations {
    /// `spec.bgp.ipv4Address`.
    pub const IPV4_ADDRESS: &str = "projectcalico.org/IPv4Address";
    /// `spec.bgp.ipv6Address`.
    pub const IPV6_ADDRESS: &str = "projectcalico.org/IPv6Address";
    /// `spec.bgp.asNumber`.
    pub const AS_NUMBER: &str = "projectcalico.org/ASNumber";
    /// `spec.bgp.routeReflectorClusterID`.
    pub const RR_CLUSTER_ID: &str = "projectcalico.org/RouteReflectorClusterID";
    /// Calico's own labels (JSON), under the Kubernetes labels.
    pub const LABELS: &str = "projectcalico.org/labels";
}

impl KubernetesNode {
    /// What BGP uses of it: Calico's annotations, and the Kubernetes labels
    /// over the Calico ones.
    pub fn info(&self) -> Result<NodeInfo, Vec<FieldError>> {
        let a = &self.metadata.annotations;
        let field = |k: &str| format!("metadata.annotations[{k:?}]");
        let mut errs = Vec::new();
        let as_number = match a.get(annotations::AS_NUMBER) {
            None => None,
            Some(s) if s.trim().is_empty() => None,
            Some(s) => match AsNumber::parse(s) {
                Some(n) => Some(n),
                None => {
                    errs.push(FieldError::new(
                        field(annotations::AS_NUMBER),
                        format!("invalid AS number {s:?}"),
                    ));
                    None
                }
            },
        };
        let mut labels: BTreeMap<String, String> = BTreeMap::new();
        if let Some(j) = a.get(annotations::LABELS) {
            match serde_norway::from_str::<BTreeMap<String, String>>(j) {
                Ok(l) => labels = l,
                Err(e) => errs.push(FieldError::new(
                    field(annotations::LABELS),
                    format!("not a JSON map of strings: {e}"),
                )),
            }
        }
        labels.extend(self.metadata.labels.clone());
        let bgp = NodeBgpSpec {
            ipv4_address: a.get(annotations::IPV4_ADDRESS).cloned(),
            ipv6_address: a.get(annotations::IPV6_ADDRESS).cloned(),
            as_number,
            route_reflector_cluster_id: a.get(annotations::RR_CLUSTER_ID).cloned(),
            ipv4_ipip_tunnel_addr: None,
        };
        let f4 = field(annotations::IPV4_ADDRESS);
        let f6 = field(annotations::IPV6_ADDRESS);
        let fas = field(annotations::AS_NUMBER);
        let frr = field(annotations::RR_CLUSTER_ID);
        match node_info(&self.metadata.name, labels, &bgp, [&f4, &f6, &fas, &frr]) {
            Ok(i) if errs.is_empty() => Ok(i),
            Ok(_) => Err(errs),
            Err(mut e) => {
                errs.append(&mut e);
                Err(errs)
            }
        }
    }
}
