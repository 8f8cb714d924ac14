//! `BlockAffinity`: the IPAM blocks a node owns (its blackhole routes and
//! the aggregates it exports).

use ipnet::IpNet;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};

use super::common::{FieldError, nullable};

/// A BlockAffinity resource (`projectcalico.org/v3`, or the
/// `crd.projectcalico.org/v1` form whose `deleted` is a string).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct BlockAffinity {
    /// `metadata`.
    #[serde(default)]
    pub metadata: super::ObjectMeta,
    /// `spec`.
    #[serde(default, deserialize_with = "nullable")]
    pub spec: BlockAffinitySpec,
}

/// `spec` of a BlockAffinity.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct BlockAffinitySpec {
    /// `confirmed`, `pending`, `pendingDeletion` (empty: confirmed).
    #[serde(default)]
    pub state: Option<AffinityState>,
    /// The node.
    #[serde(default)]
    pub node: String,
    /// The block.
    pub cidr: Option<IpNet>,
    /// Marked for deletion (a bool, or `"true"`/`"false"` in the v1 CRD).
    #[serde(default, deserialize_with = "bool_or_string")]
    pub deleted: bool,
    /// `host` (or `virtual`): not used.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// The state of an affinity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AffinityState {
    /// In use: blackhole route and aggregate export.
    Confirmed,
    /// Not yet: ignored.
    Pending,
    /// Going away: blackhole route, no aggregate export.
    PendingDeletion,
}

fn bool_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum B {
        Bool(bool),
        Text(String),
    }
    match Option::<B>::deserialize(d)? {
        None => Ok(false),
        Some(B::Bool(b)) => Ok(b),
        Some(B::Text(t)) => match t.as_str() {
            "true" => Ok(true),
            "false" | "" => Ok(false),
            _ => Err(de::Error::custom(format!(
                "expected true or false, not {t:?}"
            ))),
        },
    }
}

impl BlockAffinity {
    /// The node and the CIDR are required.
    pub fn validate(&self) -> Vec<FieldError> {
        let mut errs = Vec::new();
        if self.spec.cidr.is_none() {
            errs.push(FieldError::new("spec.cidr", "required"));
        }
        if self.spec.node.is_empty() {
            errs.push(FieldError::new("spec.node", "required"));
        }
        errs
    }
}
