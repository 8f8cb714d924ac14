//! COMMUNITIES (type code 8, RFC 1997): optional transitive, a list of
//! 4-octet community values.

use bytes::{BufMut, BytesMut};
use std::fmt;

use super::{ListItem, list_attribute};

/// One community value: the high 16 bits usually an AS, the low 16 bits a
/// value it defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Community(pub u32);

impl Community {
    /// GRACEFUL_SHUTDOWN (RFC 8326).
    pub const GRACEFUL_SHUTDOWN: Community = Community(0xFFFF_0000);
    /// ACCEPT_OWN (RFC 7611).
    pub const ACCEPT_OWN: Community = Community(0xFFFF_0001);
    /// LLGR_STALE (RFC 9494).
    pub const LLGR_STALE: Community = Community(0xFFFF_0006);
    /// NO_LLGR (RFC 9494).
    pub const NO_LLGR: Community = Community(0xFFFF_0007);
    /// BLACKHOLE (RFC 7999).
    pub const BLACKHOLE: Community = Community(0xFFFF_029A);
    /// NO_EXPORT (RFC 1997).
    pub const NO_EXPORT: Community = Community(0xFFFF_FF01);
    /// NO_ADVERTISE (RFC 1997).
    pub const NO_ADVERTISE: Community = Community(0xFFFF_FF02);
    /// NO_EXPORT_SUBCONFED (RFC 1997).
    pub const NO_EXPORT_SUBCONFED: Community = Community(0xFFFF_FF03);
    /// NOPEER (RFC 3765).
    pub const NO_PEER: Community = Community(0xFFFF_FF04);

    /// A community from its two halves.
    pub const fn new(high: u16, low: u16) -> Self {
        Community(((high as u32) << 16) | low as u32)
    }

    /// The high-order half (usually an AS).
    pub const fn high(self) -> u16 {
        (self.0 >> 16) as u16
    }

    /// The low-order half.
    pub const fn low(self) -> u16 {
        self.0 as u16
    }

    /// The IANA name of a well-known community.
    pub const fn well_known_name(self) -> Option<&'static str> {
        Some(match self {
            Self::GRACEFUL_SHUTDOWN => "graceful-shutdown",
            Self::ACCEPT_OWN => "accept-own",
            Self::LLGR_STALE => "llgr-stale",
            Self::NO_LLGR => "no-llgr",
            Self::BLACKHOLE => "blackhole",
            Self::NO_EXPORT => "no-export",
            Self::NO_ADVERTISE => "no-advertise",
            Self::NO_EXPORT_SUBCONFED => "no-export-subconfed",
            Self::NO_PEER => "no-peer",
            _ => return None,
        })
    }
}

impl fmt::Display for Community {
    /// `high:low`. Use [`Community::well_known_name`] for names.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.high(), self.low())
    }
}

impl ListItem for Community {
    const SIZE: usize = 4;
    fn from_wire(b: &[u8]) -> Option<Self> {
        super::be_u32(b).map(Community)
    }
    fn to_wire(&self, buf: &mut BytesMut) {
        buf.put_u32(self.0);
    }
}

list_attribute!(
    /// The COMMUNITIES attribute value.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use bgp_wire::attribute::{Communities, Community};
    ///
    /// let c = Communities::decode(&Bytes::from_static(&[0, 174, 2, 154, 0xff, 0xff, 0xff, 0x01])).unwrap();
    /// assert_eq!(c.to_string(), "174:666 65535:65281");
    /// assert!(c.contains(&Community::NO_EXPORT));
    /// ```
    Communities,
    Community,
    "COMMUNITIES"
);

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use proptest::prelude::*;

    #[test]
    fn lengths_and_names() {
        assert!(Communities::decode(&Bytes::from_static(&[0, 0, 0])).is_err());
        assert!(Communities::decode(&Bytes::new()).is_err());
        assert_eq!(
            Community::NO_ADVERTISE.well_known_name(),
            Some("no-advertise")
        );
        assert_eq!(Community::new(65535, 0), Community::GRACEFUL_SHUTDOWN);
    }

    proptest! {
        #[test]
        fn round_trip(v in prop::collection::vec(any::<u32>(), 1..20)) {
            let items: Vec<Community> = v.into_iter().map(Community).collect();
            let c = Communities::from_items(&items);
            let mut buf = BytesMut::new();
            c.encode_value(&mut buf);
            let d = Communities::decode(&buf.freeze()).unwrap();
            prop_assert_eq!(d.iter().collect::<Vec<_>>(), items);
            prop_assert_eq!(d, c);
        }
    }
}
