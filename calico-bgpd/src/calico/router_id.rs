//! The BGP router id, chosen as calico-node chooses it (checklist item 1).
//!
//! `CALICO_ROUTER_ID` (here [`RouterIdSetting`]) is either an IPv4 address,
//! used as it is, or `hash`: the first four bytes of SHA-256 of the node
//! name as a dotted quad, with 32 taken off the first octet when it is over
//! 223 (so that the id is never a multicast or class E address). Unset, the
//! id is the node's IPv4 address (so an IPv6-only node needs the setting).
//! The same id serves both address families.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// How the router id is chosen (`CALICO_ROUTER_ID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RouterIdSetting {
    /// Unset: the node's IPv4 address.
    #[default]
    NodeAddress,
    /// `hash`: derived from the node name ([`hash_to_ipv4`]).
    Hash,
    /// An address, used as it is.
    Fixed(Ipv4Addr),
}

/// No router id can be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouterIdError {
    /// The setting is neither empty, `hash` nor an IPv4 address.
    #[error("CALICO_ROUTER_ID {0:?} is neither \"hash\" nor an IPv4 address")]
    BadSetting(String),
    /// The id comes from the node's IPv4 address and the node has none.
    #[error("node {0:?} has no IPv4 address: set the router id to \"hash\" or an address")]
    NoIpv4Address(String),
}

impl FromStr for RouterIdSetting {
    type Err = RouterIdError;

    /// `""` is [`RouterIdSetting::NodeAddress`], `"hash"` is
    /// [`RouterIdSetting::Hash`], anything else must be an IPv4 address.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "" => Ok(RouterIdSetting::NodeAddress),
            "hash" => Ok(RouterIdSetting::Hash),
            t => t
                .parse()
                .map(RouterIdSetting::Fixed)
                .map_err(|_| RouterIdError::BadSetting(s.to_string())),
        }
    }
}

impl fmt::Display for RouterIdSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouterIdSetting::NodeAddress => Ok(()),
            RouterIdSetting::Hash => f.write_str("hash"),
            RouterIdSetting::Fixed(a) => a.fmt(f),
        }
    }
}

impl Serialize for RouterIdSetting {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RouterIdSetting {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// Calico's `HashToIPv4`: SHA-256 of the name, first four bytes, first
/// octet less 32 when over 223.
///
/// ```
/// use calico_bgpd::calico::router_id::hash_to_ipv4;
/// // confd's test case mesh/hash renders "router id 25.79.212.8;" for it.
/// assert_eq!(hash_to_ipv4("kube-master").to_string(), "25.79.212.8");
/// ```
pub fn hash_to_ipv4(node_name: &str) -> Ipv4Addr {
    let digest = Sha256::digest(node_name.as_bytes());
    let b = |i: usize| digest.get(i).copied().unwrap_or(0);
    let first = b(0);
    let first = if first > 223 { first - 32 } else { first };
    Ipv4Addr::new(first, b(1), b(2), b(3))
}

/// The router id of a node.
pub fn router_id(
    setting: RouterIdSetting,
    node_name: &str,
    node_ipv4: Option<Ipv4Addr>,
) -> Result<Ipv4Addr, RouterIdError> {
    match setting {
        RouterIdSetting::Fixed(a) => Ok(a),
        RouterIdSetting::Hash => Ok(hash_to_ipv4(node_name)),
        RouterIdSetting::NodeAddress => {
            node_ipv4.ok_or_else(|| RouterIdError::NoIpv4Address(node_name.to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_calico() {
        // sha256("kube-master") = 194fd408...: 0x19.0x4f.0xd4.0x08, as confd's
        // compiled mesh/hash bird.cfg says.
        assert_eq!(hash_to_ipv4("kube-master"), Ipv4Addr::new(25, 79, 212, 8));
        // The first octet is lowered by 32 only when over 223.
        for name in ["node-0", "node-1", "node-2", "node-3", "a", "b", "c", ""] {
            let d = Sha256::digest(name.as_bytes());
            let id = hash_to_ipv4(name).octets();
            let want0 = if d[0] > 223 { d[0] - 32 } else { d[0] };
            assert_eq!(id, [want0, d[1], d[2], d[3]], "{name}");
            assert!(id[0] <= 223);
        }
    }

    #[test]
    fn first_octet_over_223_is_lowered() {
        // Search a name whose hash starts above 223 and one at exactly 223.
        let mut over = None;
        for i in 0..10_000 {
            let name = format!("n{i}");
            let d = Sha256::digest(name.as_bytes());
            if d[0] > 223 {
                over = Some((name, d[0]));
                break;
            }
        }
        let (name, b0) = over.unwrap();
        assert_eq!(hash_to_ipv4(&name).octets()[0], b0 - 32);
    }

    #[test]
    fn settings() {
        assert_eq!("".parse(), Ok(RouterIdSetting::NodeAddress));
        assert_eq!("hash".parse(), Ok(RouterIdSetting::Hash));
        assert_eq!(
            "192.0.2.9".parse(),
            Ok(RouterIdSetting::Fixed(Ipv4Addr::new(192, 0, 2, 9)))
        );
        assert!(matches!(
            "2001:db8::1".parse::<RouterIdSetting>(),
            Err(RouterIdError::BadSetting(_))
        ));
        let v4 = Some(Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(
            router_id(RouterIdSetting::NodeAddress, "n", v4),
            Ok(Ipv4Addr::new(192, 0, 2, 1))
        );
        assert_eq!(
            router_id(RouterIdSetting::NodeAddress, "n", None),
            Err(RouterIdError::NoIpv4Address("n".into()))
        );
        assert_eq!(
            router_id(RouterIdSetting::Hash, "kube-master", None),
            Ok(Ipv4Addr::new(25, 79, 212, 8))
        );
    }
}
