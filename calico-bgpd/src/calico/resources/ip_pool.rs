//! `IPPool`: the pools whose routes are exported and programmed.

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::common::{FieldError, nullable};

/// An IPPool resource.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct IpPool {
    /// `metadata`.
    #[serde(default)]
    pub metadata: super::ObjectMeta,
    /// `spec`.
    #[serde(default, deserialize_with = "nullable")]
    pub spec: IpPoolSpec,
}

/// `spec` of an IPPool.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IpPoolSpec {
    /// The pool.
    pub cidr: Option<IpNet>,
    /// Affinity block size (26 for IPv4, 122 for IPv6 if unset).
    #[serde(default)]
    pub block_size: Option<u8>,
    /// IP-in-IP mode.
    #[serde(default, rename = "ipipMode")]
    pub ipip_mode: Option<EncapMode>,
    /// VXLAN mode.
    #[serde(default, rename = "vxlanMode")]
    pub vxlan_mode: Option<EncapMode>,
    /// No BGP effect.
    #[serde(default)]
    pub nat_outgoing: bool,
    /// No BGP effect (the pool is still exported).
    #[serde(default)]
    pub disabled: bool,
    /// Routes inside the pool are never exported.
    #[serde(default, rename = "disableBGPExport")]
    pub disable_bgp_export: bool,
    /// No BGP effect.
    #[serde(default)]
    pub node_selector: Option<String>,
    /// No BGP effect.
    #[serde(default, deserialize_with = "nullable")]
    pub allowed_uses: Vec<String>,
    /// No BGP effect.
    #[serde(default)]
    pub assignment_mode: Option<String>,
}

/// `ipipMode` / `vxlanMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum EncapMode {
    /// No encapsulation.
    #[default]
    Never,
    /// Always.
    Always,
    /// Only to nodes in another subnet.
    CrossSubnet,
}

impl IpPool {
    /// The CIDR is required.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        match self.spec.cidr {
            None => errs.push(FieldError::new("spec.cidr", "required")),
            Some(c) => {
                if let Some(b) = self
                    .spec
                    .block_size
                    .filter(|b| *b < c.prefix_len() || *b > c.max_prefix_len())
                {
                    errs.push(FieldError::new(
                        "spec.blockSize",
                        format!("{b} does not fit in {c}"),
                    ));
                }
                if c.addr().is_ipv6() && self.ipip() != EncapMode::Never {
                    errs.push(FieldError::new("spec.ipipMode", "IP-in-IP is IPv4 only"));
                }
            }
        }
        errs
    }

    /// The IP-in-IP mode (Never if unset).
    pub fn ipip(&self) -> EncapMode {
        self.spec.ipip_mode.unwrap_or_default()
    }

    /// The VXLAN mode (Never if unset).
    pub fn vxlan(&self) -> EncapMode {
        self.spec.vxlan_mode.unwrap_or_default()
    }
}
