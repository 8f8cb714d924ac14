//! LARGE_COMMUNITY (type code 32, RFC 8092): optional transitive, a list of
//! 12-octet communities.

use bytes::{BufMut, BytesMut};
use std::fmt;

use super::{ListItem, list_attribute};

/// One large community: global administrator (an AS) and two local parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LargeCommunity {
    /// Global administrator.
    pub global_admin: u32,
    /// Local data part 1.
    pub local_data1: u32,
    /// Local data part 2.
    pub local_data2: u32,
}

impl fmt::Display for LargeCommunity {
    /// `global:local1:local2` (RFC 8092 6 canonical form).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}",
            self.global_admin, self.local_data1, self.local_data2
        )
    }
}

impl ListItem for LargeCommunity {
    const SIZE: usize = 12;
    fn from_wire(b: &[u8]) -> Option<Self> {
        Some(LargeCommunity {
            global_admin: super::be_u32(b.get(0..4)?)?,
            local_data1: super::be_u32(b.get(4..8)?)?,
            local_data2: super::be_u32(b.get(8..12)?)?,
        })
    }
    fn to_wire(&self, buf: &mut BytesMut) {
        buf.put_u32(self.global_admin);
        buf.put_u32(self.local_data1);
        buf.put_u32(self.local_data2);
    }
}

list_attribute!(
    /// The LARGE_COMMUNITY attribute value.
    LargeCommunities,
    LargeCommunity,
    "LARGE_COMMUNITY"
);

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use proptest::prelude::*;

    #[test]
    fn rfc_example() {
        let v = Bytes::from_static(&[0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 0, 0, 0, 2]);
        let c = LargeCommunities::decode(&v).unwrap();
        assert_eq!(c.to_string(), "65000:1:2");
        assert!(LargeCommunities::decode(&v.slice(..8)).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(v in prop::collection::vec(any::<(u32, u32, u32)>(), 1..10)) {
            let items: Vec<LargeCommunity> = v.into_iter()
                .map(|(a, b, c)| LargeCommunity { global_admin: a, local_data1: b, local_data2: c }).collect();
            let c = LargeCommunities::from_items(&items);
            prop_assert_eq!(LargeCommunities::decode(c.as_bytes()).unwrap().iter().collect::<Vec<_>>(), items);
        }
    }
}
