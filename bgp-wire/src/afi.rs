//! Address Family Identifiers and Subsequent Address Family Identifiers
//! (RFC 4760 section 3, IANA "Address Family Numbers" and "SAFI Values").

use std::fmt;

/// An Address Family Identifier.
///
/// Families this crate decodes have named variants; every other value is kept
/// as [`Afi::Other`] so that nothing received is lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Afi {
    /// IP version 4 (1).
    Ipv4,
    /// IP version 6 (2).
    Ipv6,
    /// Layer 2 VPN (25), BGP-LS (16388) and every other family, by number.
    Other(u16),
}

impl Afi {
    /// The on-wire number.
    pub const fn to_u16(self) -> u16 {
        match self {
            Afi::Ipv4 => 1,
            Afi::Ipv6 => 2,
            Afi::Other(v) => v,
        }
    }

    /// Length in octets of an address of this family, when it is an IP family.
    pub const fn address_len(self) -> Option<usize> {
        match self {
            Afi::Ipv4 => Some(4),
            Afi::Ipv6 => Some(16),
            Afi::Other(_) => None,
        }
    }

    /// Maximum prefix length in bits, when it is an IP family.
    pub const fn max_prefix_len(self) -> Option<u8> {
        match self {
            Afi::Ipv4 => Some(32),
            Afi::Ipv6 => Some(128),
            Afi::Other(_) => None,
        }
    }
}

impl From<u16> for Afi {
    fn from(v: u16) -> Self {
        match v {
            1 => Afi::Ipv4,
            2 => Afi::Ipv6,
            v => Afi::Other(v),
        }
    }
}

impl From<Afi> for u16 {
    fn from(a: Afi) -> u16 {
        a.to_u16()
    }
}

impl fmt::Display for Afi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Afi::Ipv4 => f.write_str("ipv4"),
            Afi::Ipv6 => f.write_str("ipv6"),
            Afi::Other(v) => write!(f, "afi-{v}"),
        }
    }
}

/// A Subsequent Address Family Identifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Safi {
    /// Unicast forwarding (1).
    Unicast,
    /// Multicast forwarding (2).
    Multicast,
    /// Every other SAFI (MPLS labels 4, VPN 128, Flow Spec 133, ...), by number.
    Other(u8),
}

impl Safi {
    /// The on-wire number.
    pub const fn to_u8(self) -> u8 {
        match self {
            Safi::Unicast => 1,
            Safi::Multicast => 2,
            Safi::Other(v) => v,
        }
    }
}

impl From<u8> for Safi {
    fn from(v: u8) -> Self {
        match v {
            1 => Safi::Unicast,
            2 => Safi::Multicast,
            v => Safi::Other(v),
        }
    }
}

impl From<Safi> for u8 {
    fn from(s: Safi) -> u8 {
        s.to_u8()
    }
}

impl fmt::Display for Safi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Safi::Unicast => f.write_str("unicast"),
            Safi::Multicast => f.write_str("multicast"),
            Safi::Other(v) => write!(f, "safi-{v}"),
        }
    }
}

/// An address family: the pair of AFI and SAFI that names what an NLRI is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AfiSafi {
    /// The address family.
    pub afi: Afi,
    /// The subsequent address family.
    pub safi: Safi,
}

impl AfiSafi {
    /// IPv4 unicast.
    pub const IPV4_UNICAST: AfiSafi = AfiSafi::new(Afi::Ipv4, Safi::Unicast);
    /// IPv6 unicast.
    pub const IPV6_UNICAST: AfiSafi = AfiSafi::new(Afi::Ipv6, Safi::Unicast);
    /// IPv4 multicast.
    pub const IPV4_MULTICAST: AfiSafi = AfiSafi::new(Afi::Ipv4, Safi::Multicast);
    /// IPv6 multicast.
    pub const IPV6_MULTICAST: AfiSafi = AfiSafi::new(Afi::Ipv6, Safi::Multicast);

    /// Pairs an AFI with a SAFI.
    pub const fn new(afi: Afi, safi: Safi) -> Self {
        AfiSafi { afi, safi }
    }

    /// Whether NLRI of this family are plain IP prefixes (unicast or
    /// multicast of IPv4 or IPv6), which this crate decodes; other families
    /// are carried as opaque bytes.
    pub const fn is_ip_prefix_family(self) -> bool {
        matches!(self.afi, Afi::Ipv4 | Afi::Ipv6)
            && matches!(self.safi, Safi::Unicast | Safi::Multicast)
    }
}

impl fmt::Display for AfiSafi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.afi, self.safi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for v in 0..=u16::MAX {
            assert_eq!(Afi::from(v).to_u16(), v);
        }
        for v in 0..=u8::MAX {
            assert_eq!(Safi::from(v).to_u8(), v);
        }
        assert_eq!(AfiSafi::IPV6_UNICAST.to_string(), "ipv6-unicast");
    }
}
