//! The BGP Role capability (code 9, RFC 9234 section 4.1).
//!
//! Value: one octet, the role the speaker plays towards its peer on this
//! session. The role pairs that fit are Provider / Customer,
//! Route Server / Route Server Client, and Peer / Peer (RFC 9234 4.2);
//! [`BgpRole::fits`] checks a pair.

use bytes::Bytes;
use std::fmt;

use super::malformed;
use crate::error::DecodeError;

/// The capability code.
pub const CODE: u8 = 9;

/// A BGP role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BgpRole {
    /// Provider (0).
    Provider,
    /// Route Server (1).
    RouteServer,
    /// Route Server Client (2).
    RouteServerClient,
    /// Customer (3).
    Customer,
    /// Lateral peer (4).
    Peer,
    /// A value not assigned when this crate was written, as received.
    Other(u8),
}

impl BgpRole {
    /// The on-wire value.
    pub const fn to_u8(self) -> u8 {
        match self {
            BgpRole::Provider => 0,
            BgpRole::RouteServer => 1,
            BgpRole::RouteServerClient => 2,
            BgpRole::Customer => 3,
            BgpRole::Peer => 4,
            BgpRole::Other(v) => v,
        }
    }

    /// The role for an on-wire value.
    pub const fn from_u8(v: u8) -> Self {
        match v {
            0 => BgpRole::Provider,
            1 => BgpRole::RouteServer,
            2 => BgpRole::RouteServerClient,
            3 => BgpRole::Customer,
            4 => BgpRole::Peer,
            v => BgpRole::Other(v),
        }
    }

    /// The role the peer must announce when we announce `self`, or `None`
    /// for an unassigned value.
    pub const fn expected_peer_role(self) -> Option<BgpRole> {
        match self {
            BgpRole::Provider => Some(BgpRole::Customer),
            BgpRole::Customer => Some(BgpRole::Provider),
            BgpRole::RouteServer => Some(BgpRole::RouteServerClient),
            BgpRole::RouteServerClient => Some(BgpRole::RouteServer),
            BgpRole::Peer => Some(BgpRole::Peer),
            BgpRole::Other(_) => None,
        }
    }

    /// Whether our role `self` and the peer's role `peer` form one of the
    /// pairs of RFC 9234 4.2. When they do not, the session is refused with
    /// OPEN Message Error / Role Mismatch.
    pub fn fits(self, peer: BgpRole) -> bool {
        self.expected_peer_role() == Some(peer)
    }

    /// Decodes the capability value, which must be exactly 1 octet.
    pub fn decode(value: Bytes) -> Result<Self, DecodeError> {
        match value.as_ref() {
            [v] => Ok(BgpRole::from_u8(*v)),
            _ => Err(malformed("BGP role capability length is not 1")),
        }
    }
}

impl fmt::Display for BgpRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BgpRole::Provider => f.write_str("provider"),
            BgpRole::RouteServer => f.write_str("route server"),
            BgpRole::RouteServerClient => f.write_str("route server client"),
            BgpRole::Customer => f.write_str("customer"),
            BgpRole::Peer => f.write_str("peer"),
            BgpRole::Other(v) => write!(f, "unassigned role {v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_pairs() {
        for v in 0..=u8::MAX {
            assert_eq!(BgpRole::from_u8(v).to_u8(), v);
        }
        assert!(BgpRole::Provider.fits(BgpRole::Customer));
        assert!(BgpRole::Peer.fits(BgpRole::Peer));
        assert!(!BgpRole::Peer.fits(BgpRole::Customer));
        assert!(!BgpRole::Other(7).fits(BgpRole::Other(7)));
        assert_eq!(
            BgpRole::decode(Bytes::from_static(&[3])),
            Ok(BgpRole::Customer)
        );
        assert!(BgpRole::decode(Bytes::new()).is_err());
        assert!(BgpRole::decode(Bytes::from_static(&[0, 0, 0, 1])).is_err());
    }
}
