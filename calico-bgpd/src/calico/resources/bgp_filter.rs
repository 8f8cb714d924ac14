//! `BGPFilter`: ordered accept/reject rules per direction and family.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::common::{AsNumber, FieldError, nullable};

/// A BGPFilter resource.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BgpFilter {
    /// `metadata`.
    #[serde(default)]
    pub metadata: super::ObjectMeta,
    /// `spec`.
    #[serde(default, deserialize_with = "nullable")]
    pub spec: BgpFilterSpec,
}

/// `spec` of a BGPFilter.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BgpFilterSpec {
    /// IPv4 export rules.
    #[serde(default, rename = "exportV4", deserialize_with = "nullable")]
    pub export_v4: Vec<FilterRule>,
    /// IPv4 import rules.
    #[serde(default, rename = "importV4", deserialize_with = "nullable")]
    pub import_v4: Vec<FilterRule>,
    /// IPv6 export rules.
    #[serde(default, rename = "exportV6", deserialize_with = "nullable")]
    pub export_v6: Vec<FilterRule>,
    /// IPv6 import rules.
    #[serde(default, rename = "importV6", deserialize_with = "nullable")]
    pub import_v6: Vec<FilterRule>,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterRule {
    /// `Accept` or `Reject`.
    pub action: FilterAction,
    /// With `cidr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_operator: Option<MatchOperator>,
    /// With `matchOperator`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cidr: Option<IpNet>,
    /// Prefix-length bounds of the CIDR match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_length: Option<PrefixLength>,
    /// `RemotePeers`: only routes learned over BGP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<RouteSourceMatch>,
    /// Glob on the route's interface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// `eBGP` or `iBGP` (v3.32+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_type: Option<PeerType>,
    /// A community the route must carry (v3.32+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub communities: Option<CommunityMatch>,
    /// The AS path must start with these (v3.32+).
    #[serde(
        default,
        rename = "asPathPrefix",
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "nullable"
    )]
    pub as_path_prefix: Vec<AsNumber>,
    /// Route priority (v3.32+): LOCAL_PREF = 2147483647 - priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u32>,
    /// Changes made before accepting (v3.32+).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "nullable"
    )]
    pub operations: Vec<FilterOperation>,
}

/// `action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilterAction {
    /// Accept: the filter chain ends.
    Accept,
    /// Reject: the filter chain ends.
    Reject,
}

/// `matchOperator`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatchOperator {
    /// `net = cidr`.
    Equal,
    /// `net != cidr`.
    NotEqual,
    /// `net ~ cidr`.
    In,
    /// `net !~ cidr`.
    NotIn,
}

/// `prefixLength`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrefixLength {
    /// Shortest length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u8>,
    /// Longest length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u8>,
}

/// `source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RouteSourceMatch {
    /// Routes learned from BGP peers.
    RemotePeers,
}

/// `peerType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeerType {
    /// External peers (peer AS ≠ effective local AS).
    #[serde(rename = "eBGP")]
    Ebgp,
    /// Internal peers.
    #[serde(rename = "iBGP")]
    Ibgp,
}

/// `communities`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunityMatch {
    /// One value (`aa:nn` or `aa:nn:mm`).
    pub values: Vec<String>,
}

/// One of `operations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FilterOperation {
    /// Add a community.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_community: Option<ValueOf<String>>,
    /// Prepend AS numbers.
    #[serde(
        default,
        rename = "prependASPath",
        skip_serializing_if = "Option::is_none"
    )]
    pub prepend_as_path: Option<PrependAsPath>,
    /// Set the priority.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set_priority: Option<ValueOf<u32>>,
}

/// `{value: ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValueOf<T> {
    /// The value.
    pub value: T,
}

/// `{prefix: [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrependAsPath {
    /// The AS numbers, leftmost first.
    pub prefix: Vec<AsNumber>,
}

impl BgpFilter {
    /// The rules of one direction and family.
    pub fn rules(&self, export: bool, v4: bool) -> &[FilterRule] {
        match (export, v4) {
            (true, true) => &self.spec.export_v4,
            (false, true) => &self.spec.import_v4,
            (true, false) => &self.spec.export_v6,
            (false, false) => &self.spec.import_v6,
        }
    }

    /// Rule consistency: operator with CIDR, families, prefix lengths,
    /// community syntax, operations only with Accept.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        for (list, v4, rules) in [
            ("exportV4", true, &self.spec.export_v4),
            ("importV4", true, &self.spec.import_v4),
            ("exportV6", false, &self.spec.export_v6),
            ("importV6", false, &self.spec.import_v6),
        ] {
            for (i, r) in rules.iter().enumerate() {
                let at = |f: &str| format!("spec.{list}[{i}].{f}");
                match (r.cidr, r.match_operator) {
                    (Some(_), None) => {
                        errs.push(FieldError::new(at("matchOperator"), "required with cidr"))
                    }
                    (None, Some(_)) => {
                        errs.push(FieldError::new(at("cidr"), "required with matchOperator"))
                    }
                    _ => {}
                }
                if let Some(c) = r.cidr.filter(|c| c.addr().is_ipv4() != v4) {
                    errs.push(FieldError::new(
                        at("cidr"),
                        format!("{c} is not an IPv{} CIDR", if v4 { 4 } else { 6 }),
                    ));
                }
                let max_len = if v4 { 32 } else { 128 };
                if let Some(pl) = r.prefix_length {
                    if r.cidr.is_none() {
                        errs.push(FieldError::new(at("prefixLength"), "requires cidr"));
                    }
                    for (f, v) in [("min", pl.min), ("max", pl.max)] {
                        if v.is_some_and(|v| v > max_len) {
                            errs.push(FieldError::new(
                                format!("{}.{f}", at("prefixLength")),
                                format!("over {max_len}"),
                            ));
                        }
                    }
                }
                if r.interface.as_deref() == Some("") {
                    errs.push(FieldError::new(at("interface"), "empty interface pattern"));
                }
                if let Some(c) = &r.communities {
                    if c.values.len() != 1 {
                        errs.push(FieldError::new(
                            at("communities.values"),
                            "exactly one value is supported",
                        ));
                    }
                    for (j, v) in c.values.iter().enumerate() {
                        if super::bgp_configuration::community_parts(v).is_none() {
                            errs.push(FieldError::new(
                                format!("{}[{j}]", at("communities.values")),
                                format!("{v:?} is not a community (aa:nn or aa:nn:mm)"),
                            ));
                        }
                    }
                }
                if !r.operations.is_empty() && r.action != FilterAction::Accept {
                    errs.push(FieldError::new(
                        at("operations"),
                        "operations need action Accept",
                    ));
                }
                for (j, op) in r.operations.iter().enumerate() {
                    let n = usize::from(op.add_community.is_some())
                        + usize::from(op.prepend_as_path.is_some())
                        + usize::from(op.set_priority.is_some());
                    if n != 1 {
                        errs.push(FieldError::new(
                            format!("{}[{j}]", at("operations")),
                            "exactly one of addCommunity, prependASPath, setPriority",
                        ));
                    }
                    if let Some(c) = op
                        .add_community
                        .as_ref()
                        .filter(|c| super::bgp_configuration::community_parts(&c.value).is_none())
                    {
                        errs.push(FieldError::new(
                            format!("{}[{j}].addCommunity.value", at("operations")),
                            format!("{:?} is not a community", c.value),
                        ));
                    }
                }
            }
        }
        errs
    }
}
