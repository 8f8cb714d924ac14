//! `BGPPeer`: explicit peerings, global or per node, by address or by
//! node selector.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::common::{AsNumber, Duration, FieldError, PasswordSource, nullable};
use crate::calico::selector::Selector;

/// A BGPPeer resource.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BgpPeer {
    /// `metadata`.
    #[serde(default)]
    pub metadata: super::ObjectMeta,
    /// `spec`.
    #[serde(default, deserialize_with = "nullable")]
    pub spec: BgpPeerSpec,
}

/// `spec` of a BGPPeer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BgpPeerSpec {
    /// The one node that gets this peering.
    #[serde(default)]
    pub node: String,
    /// The nodes that get this peering.
    #[serde(default)]
    pub node_selector: Option<Selector>,
    /// `IPv4`, `IPv4:port`, `IPv6` or `[IPv6]:port`.
    #[serde(default, rename = "peerIP")]
    pub peer_ip: String,
    /// Remote AS.
    #[serde(default, rename = "asNumber")]
    pub as_number: Option<AsNumber>,
    /// Local AS for this peering.
    #[serde(default, rename = "localASNumber")]
    pub local_as_number: Option<AsNumber>,
    /// Peer with the Calico nodes that match.
    #[serde(default)]
    pub peer_selector: Option<Selector>,
    /// `next hop keep` towards eBGP peers (deprecated).
    #[serde(default)]
    pub keep_original_next_hop: bool,
    /// `Auto`, `Self` or `Keep`.
    #[serde(default)]
    pub next_hop_mode: Option<NextHopMode>,
    /// MD5 password.
    #[serde(default)]
    pub password: Option<PasswordSource>,
    /// `UseNodeIP` (default) or `None`.
    #[serde(default)]
    pub source_address: Option<SourceAddress>,
    /// Graceful-restart time.
    #[serde(default)]
    pub max_restart_time: Option<Duration>,
    /// Keepalive time (v3.32+).
    #[serde(default)]
    pub keepalive_time: Option<Duration>,
    /// `allow local as N`.
    #[serde(default, rename = "numAllowedLocalASNumbers")]
    pub num_allowed_local_as_numbers: Option<u32>,
    /// GTSM hop count.
    #[serde(default, rename = "ttlSecurity")]
    pub ttl_security: Option<u8>,
    /// Gateway to the peer (a static route is added).
    #[serde(default)]
    pub reachable_by: Option<IpAddr>,
    /// BGPFilter names, in order.
    #[serde(default, deserialize_with = "nullable")]
    pub filters: Vec<String>,
    /// Peer with the local workloads that match (Felix writes which in its
    /// endpoint status files).
    #[serde(default)]
    pub local_workload_selector: Option<Selector>,
    /// `Auto` (default) or `Manual`.
    #[serde(default)]
    pub reverse_peering: Option<ReversePeering>,
}

/// `nextHopMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NextHopMode {
    /// BIRD's default.
    Auto,
    /// `next hop self`.
    #[serde(rename = "Self")]
    SelfAddress,
    /// `next hop keep`.
    Keep,
}

/// `sourceAddress`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SourceAddress {
    /// The node's address.
    #[serde(rename = "UseNodeIP")]
    UseNodeIp,
    /// None.
    None,
}

/// `reversePeering`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReversePeering {
    /// Add the reverse peering on the selected Calico nodes.
    Auto,
    /// Do not.
    Manual,
}

/// `peerIP` split as confd splits it (`net.SplitHostPort`, else the whole
/// text is the address).
pub fn split_peer_ip(s: &str) -> Result<(IpAddr, Option<u16>), String> {
    let s = s.trim();
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, p) = rest
            .split_once("]:")
            .ok_or_else(|| format!("{s:?}: expected [IPv6]:port"))?;
        (h, Some(p))
    } else if s.matches(':').count() == 1 {
        let (h, p) = s.split_once(':').unwrap_or((s, ""));
        (h, Some(p))
    } else {
        (s, None)
    };
    let ip: IpAddr = host
        .parse()
        .map_err(|_| format!("{host:?} is not an IP address"))?;
    let port = match port {
        None => None,
        Some(p) => {
            let n: u16 = p
                .parse()
                .map_err(|_| format!("{p:?} is not a port number"))?;
            (n != 0).then_some(n)
        }
    };
    if port.is_some() && ip.is_ipv6() && !s.starts_with('[') {
        return Err(format!(
            "{s:?}: write an IPv6 address with a port as [IPv6]:port"
        ));
    }
    Ok((ip, port))
}

impl BgpPeer {
    /// The CEL rules of the CRD and the address syntax.
    pub fn validate(&self) -> Vec<FieldError> {
        let s = &self.spec;
        let mut errs = Vec::new();
        if !s.node.is_empty() && s.node_selector.is_some() {
            errs.push(FieldError::new(
                "spec.nodeSelector",
                "node and nodeSelector cannot both be set",
            ));
        }
        if !s.peer_ip.is_empty() && s.peer_selector.is_some() {
            errs.push(FieldError::new(
                "spec.peerSelector",
                "peerIP and peerSelector cannot both be set",
            ));
        }
        if s.peer_selector.is_some() && s.as_number.is_some_and(|a| a.0 != 0) {
            errs.push(FieldError::new(
                "spec.asNumber",
                "asNumber must be empty with peerSelector (each node's own AS is used)",
            ));
        }
        if s.keep_original_next_hop && s.next_hop_mode.is_some() {
            errs.push(FieldError::new(
                "spec.nextHopMode",
                "keepOriginalNextHop and nextHopMode cannot both be set",
            ));
        }
        if let Some(w) = s
            .local_workload_selector
            .as_ref()
            .filter(|_| !s.peer_ip.is_empty() || s.peer_selector.is_some())
        {
            errs.push(FieldError::new(
                "spec.localWorkloadSelector",
                format!("{w} cannot be set with peerIP or peerSelector"),
            ));
        }
        let mut peer = None;
        if !s.peer_ip.is_empty() {
            match split_peer_ip(&s.peer_ip) {
                Ok(p) => peer = Some(p),
                Err(e) => errs.push(FieldError::new("spec.peerIP", e)),
            }
        } else if s.peer_selector.is_none() && s.local_workload_selector.is_none() {
            errs.push(FieldError::new(
                "spec.peerIP",
                "one of peerIP, peerSelector or localWorkloadSelector is required",
            ));
        }
        if let Some(g) = s.reachable_by {
            match peer {
                None if s.peer_ip.is_empty() => errs.push(FieldError::new(
                    "spec.reachableBy",
                    "reachableBy requires peerIP",
                )),
                Some((ip, _)) if ip.is_ipv4() != g.is_ipv4() => errs.push(FieldError::new(
                    "spec.reachableBy",
                    format!("{g} is not of the address family of peerIP {ip}"),
                )),
                _ => {}
            }
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peer_ip_forms() {
        let p = |s| split_peer_ip(s);
        assert_eq!(p("192.0.2.1"), Ok(("192.0.2.1".parse().unwrap(), None)));
        assert_eq!(
            p("192.0.2.1:166"),
            Ok(("192.0.2.1".parse().unwrap(), Some(166)))
        );
        assert_eq!(
            p("[2001:db8::1]:50"),
            Ok(("2001:db8::1".parse().unwrap(), Some(50)))
        );
        assert_eq!(p("2001:db8::1"), Ok(("2001:db8::1".parse().unwrap(), None)));
        assert!(p("192.0.2.1:x").is_err());
        assert!(p("[2001:db8::1]").is_err());
        assert!(p("host:1").is_err());
    }
}
