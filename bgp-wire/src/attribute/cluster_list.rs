//! CLUSTER_LIST (type code 10, RFC 4456 8): optional non-transitive, the
//! route reflection clusters the route passed through.

use bytes::{BufMut, BytesMut};
use std::net::Ipv4Addr;

use super::{ListItem, list_attribute};

impl ListItem for Ipv4Addr {
    const SIZE: usize = 4;
    fn from_wire(b: &[u8]) -> Option<Self> {
        b.first_chunk::<4>().map(|a| Ipv4Addr::from(*a))
    }
    fn to_wire(&self, buf: &mut BytesMut) {
        buf.put_slice(&self.octets());
    }
}

list_attribute!(
    /// The CLUSTER_LIST attribute value: CLUSTER_IDs, most recent first.
    ClusterList,
    Ipv4Addr,
    "CLUSTER_LIST"
);

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use proptest::prelude::*;

    #[test]
    fn lengths() {
        assert!(ClusterList::decode(&Bytes::from_static(&[1, 2, 3])).is_err());
        let c = ClusterList::decode(&Bytes::from_static(&[1, 2, 3, 4])).unwrap();
        assert_eq!(c.to_string(), "1.2.3.4");
    }

    proptest! {
        #[test]
        fn round_trip(v in prop::collection::vec(any::<u32>(), 1..20)) {
            let items: Vec<Ipv4Addr> = v.into_iter().map(Ipv4Addr::from).collect();
            let c = ClusterList::from_items(&items);
            prop_assert_eq!(ClusterList::decode(c.as_bytes()).unwrap().iter().collect::<Vec<_>>(), items);
        }
    }
}
