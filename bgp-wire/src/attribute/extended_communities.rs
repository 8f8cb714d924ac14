//! EXTENDED COMMUNITIES (type code 16, RFC 4360, RFC 5668): optional
//! transitive, a list of 8-octet values.
//!
//! Route target and route origin of the 2-octet-AS (type 0x00), IPv4
//! address (0x01) and 4-octet-AS (0x02) kinds have typed accessors; every
//! other kind is available raw.

use bytes::{BufMut, BytesMut};
use std::fmt;
use std::net::Ipv4Addr;

use super::{ListItem, list_attribute};

/// One extended community, as its eight octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExtendedCommunity(pub [u8; 8]);

/// The global administrator of a route target or route origin, with the
/// local administrator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GlobalAdmin {
    /// Type 0x00: 2-octet AS, 4-octet local part.
    TwoOctetAs {
        /// The AS.
        asn: u16,
        /// The local administrator.
        local: u32,
    },
    /// Type 0x01: IPv4 address, 2-octet local part.
    Ipv4 {
        /// The address.
        address: Ipv4Addr,
        /// The local administrator.
        local: u16,
    },
    /// Type 0x02: 4-octet AS, 2-octet local part (RFC 5668).
    FourOctetAs {
        /// The AS.
        asn: u32,
        /// The local administrator.
        local: u16,
    },
}

impl fmt::Display for GlobalAdmin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GlobalAdmin::TwoOctetAs { asn, local } => write!(f, "{asn}:{local}"),
            GlobalAdmin::Ipv4 { address, local } => write!(f, "{address}:{local}"),
            GlobalAdmin::FourOctetAs { asn, local } => write!(f, "{asn}:{local}"),
        }
    }
}

impl ExtendedCommunity {
    /// Sub-type of a route target.
    pub const SUBTYPE_ROUTE_TARGET: u8 = 0x02;
    /// Sub-type of a route origin.
    pub const SUBTYPE_ROUTE_ORIGIN: u8 = 0x03;

    /// The type octet (high-order octet).
    pub const fn type_high(self) -> u8 {
        self.0[0]
    }

    /// The sub-type octet (meaningful for the extended types).
    pub const fn subtype(self) -> u8 {
        self.0[1]
    }

    /// Whether the community is transitive across ASes (the T bit is 0).
    pub const fn is_transitive(self) -> bool {
        self.0[0] & 0x40 == 0
    }

    /// A route target of the given kind (type 0x00, 0x01 or 0x02, sub-type
    /// 0x02).
    pub fn route_target(admin: GlobalAdmin) -> Self {
        Self::build(admin, Self::SUBTYPE_ROUTE_TARGET)
    }

    /// A route origin of the given kind (sub-type 0x03).
    pub fn route_origin(admin: GlobalAdmin) -> Self {
        Self::build(admin, Self::SUBTYPE_ROUTE_ORIGIN)
    }

    fn build(admin: GlobalAdmin, subtype: u8) -> Self {
        let mut v = [0u8; 8];
        let mut buf = BytesMut::with_capacity(8);
        match admin {
            GlobalAdmin::TwoOctetAs { asn, local } => {
                buf.put_u8(0x00);
                buf.put_u8(subtype);
                buf.put_u16(asn);
                buf.put_u32(local);
            }
            GlobalAdmin::Ipv4 { address, local } => {
                buf.put_u8(0x01);
                buf.put_u8(subtype);
                buf.put_slice(&address.octets());
                buf.put_u16(local);
            }
            GlobalAdmin::FourOctetAs { asn, local } => {
                buf.put_u8(0x02);
                buf.put_u8(subtype);
                buf.put_u32(asn);
                buf.put_u16(local);
            }
        }
        v.copy_from_slice(&buf);
        ExtendedCommunity(v)
    }

    fn admin(self, subtype: u8) -> Option<GlobalAdmin> {
        let [t, s, a, b, c, d, e, g] = self.0;
        if s != subtype {
            return None;
        }
        Some(match t {
            0x00 => GlobalAdmin::TwoOctetAs {
                asn: u16::from_be_bytes([a, b]),
                local: u32::from_be_bytes([c, d, e, g]),
            },
            0x01 => GlobalAdmin::Ipv4 {
                address: Ipv4Addr::new(a, b, c, d),
                local: u16::from_be_bytes([e, g]),
            },
            0x02 => GlobalAdmin::FourOctetAs {
                asn: u32::from_be_bytes([a, b, c, d]),
                local: u16::from_be_bytes([e, g]),
            },
            _ => return None,
        })
    }

    /// The route target this community is, if it is one of the three
    /// typed kinds.
    pub fn as_route_target(self) -> Option<GlobalAdmin> {
        self.admin(Self::SUBTYPE_ROUTE_TARGET)
    }

    /// The route origin this community is, if it is one of the three typed
    /// kinds.
    pub fn as_route_origin(self) -> Option<GlobalAdmin> {
        self.admin(Self::SUBTYPE_ROUTE_ORIGIN)
    }
}

impl fmt::Display for ExtendedCommunity {
    /// `target:ADMIN:LOCAL`, `origin:ADMIN:LOCAL`, or the eight octets in
    /// hexadecimal (`0x0002fde800000064`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(a) = self.as_route_target() {
            return write!(f, "target:{a}");
        }
        if let Some(a) = self.as_route_origin() {
            return write!(f, "origin:{a}");
        }
        write!(f, "0x")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl ListItem for ExtendedCommunity {
    const SIZE: usize = 8;
    fn from_wire(b: &[u8]) -> Option<Self> {
        b.first_chunk::<8>().map(|a| ExtendedCommunity(*a))
    }
    fn to_wire(&self, buf: &mut BytesMut) {
        buf.put_slice(&self.0);
    }
}

list_attribute!(
    /// The EXTENDED COMMUNITIES attribute value.
    ExtendedCommunities,
    ExtendedCommunity,
    "EXTENDED COMMUNITIES"
);

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use proptest::prelude::*;

    #[test]
    fn route_targets() {
        // target:65000:100 as ExaBGP encodes it.
        let v = Bytes::from_static(&[0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 100]);
        let c = ExtendedCommunities::decode(&v).unwrap();
        let first = c.iter().next().unwrap();
        assert_eq!(
            first.as_route_target(),
            Some(GlobalAdmin::TwoOctetAs {
                asn: 65000,
                local: 100
            })
        );
        assert_eq!(c.to_string(), "target:65000:100");
        let ip = ExtendedCommunity::route_origin(GlobalAdmin::Ipv4 {
            address: Ipv4Addr::new(192, 0, 2, 1),
            local: 7,
        });
        assert_eq!(ip.to_string(), "origin:192.0.2.1:7");
        let four = ExtendedCommunity::route_target(GlobalAdmin::FourOctetAs {
            asn: 4200000000,
            local: 1,
        });
        assert_eq!(four.0[0], 2);
        assert_eq!(
            four.as_route_target(),
            Some(GlobalAdmin::FourOctetAs {
                asn: 4200000000,
                local: 1
            })
        );
        assert!(ExtendedCommunities::decode(&v.slice(..7)).is_err());
        assert_eq!(
            ExtendedCommunity([0x80, 6, 0, 0, 0, 0, 0, 0]).to_string(),
            "0x8006000000000000"
        );
    }

    proptest! {
        #[test]
        fn round_trip(v in prop::collection::vec(any::<[u8; 8]>(), 1..10)) {
            let items: Vec<ExtendedCommunity> = v.into_iter().map(ExtendedCommunity).collect();
            let c = ExtendedCommunities::from_items(&items);
            prop_assert_eq!(ExtendedCommunities::decode(c.as_bytes()).unwrap().iter().collect::<Vec<_>>(), items);
        }
    }
}
