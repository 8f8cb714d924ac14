//! IPv6 Address Specific Extended Community (type code 25, RFC 5701):
//! optional transitive, a list of 20-octet values.

use bytes::{BufMut, BytesMut};
use std::fmt;
use std::net::Ipv6Addr;

use super::{ListItem, list_attribute};

/// One IPv6 address specific extended community, as its twenty octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv6ExtendedCommunity(pub [u8; 20]);

impl Ipv6ExtendedCommunity {
    /// The type octet.
    pub const fn type_high(&self) -> u8 {
        self.0[0]
    }
    /// The sub-type octet (0x02 route target, 0x03 route origin).
    pub const fn subtype(&self) -> u8 {
        self.0[1]
    }
    /// The global administrator: an IPv6 address.
    pub fn global_admin(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(self.0.get(2..18).unwrap_or(&[0; 16]));
        Ipv6Addr::from(a)
    }
    /// The local administrator.
    pub fn local_admin(&self) -> u16 {
        let [.., a, b] = self.0;
        u16::from_be_bytes([a, b])
    }
}

impl fmt::Display for Ipv6ExtendedCommunity {
    /// `target:ADDR:LOCAL` for sub-type 2, `origin:ADDR:LOCAL` for 3,
    /// `0xTTSS:ADDR:LOCAL` otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.type_high(), self.subtype()) {
            (0x00 | 0x40, 0x02) => f.write_str("target:")?,
            (0x00 | 0x40, 0x03) => f.write_str("origin:")?,
            (t, s) => write!(f, "0x{t:02x}{s:02x}:")?,
        }
        write!(f, "{}:{}", self.global_admin(), self.local_admin())
    }
}

impl ListItem for Ipv6ExtendedCommunity {
    const SIZE: usize = 20;
    fn from_wire(b: &[u8]) -> Option<Self> {
        b.first_chunk::<20>().map(|a| Ipv6ExtendedCommunity(*a))
    }
    fn to_wire(&self, buf: &mut BytesMut) {
        buf.put_slice(&self.0);
    }
}

list_attribute!(
    /// The IPv6 Address Specific Extended Community attribute value.
    Ipv6ExtendedCommunities,
    Ipv6ExtendedCommunity,
    "IPv6 Address Specific Extended Community"
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accessors() {
        let mut v = [0u8; 20];
        v[1] = 2;
        v[2] = 0x20;
        v[3] = 0x01;
        v[19] = 5;
        let c = Ipv6ExtendedCommunity(v);
        assert_eq!(c.to_string(), "target:2001:::5");
        assert_eq!(c.local_admin(), 5);
    }

    proptest! {
        #[test]
        fn round_trip(v in prop::collection::vec(any::<[u8; 20]>(), 1..5)) {
            let items: Vec<Ipv6ExtendedCommunity> = v.into_iter().map(Ipv6ExtendedCommunity).collect();
            let c = Ipv6ExtendedCommunities::from_items(&items);
            prop_assert_eq!(Ipv6ExtendedCommunities::decode(c.as_bytes()).unwrap().iter().collect::<Vec<_>>(), items);
        }
    }
}
