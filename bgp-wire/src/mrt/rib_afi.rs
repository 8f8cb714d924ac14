//! The AFI/SAFI-specific TABLE_DUMP_V2 RIB records (RFC 6396 section
//! 4.3.2, RFC 8050 section 4): RIB_IPV4_UNICAST (2), RIB_IPV4_MULTICAST
//! (3), RIB_IPV6_UNICAST (4), RIB_IPV6_MULTICAST (5) and their ADD-PATH
//! variants (8 to 11).
//!
//! ```text
//! Sequence Number (4) | Prefix Length (1) | Prefix (variable)
//! Entry Count (2) | RIB Entries (variable)
//! ```
//!
//! The prefix is decoded as in [`crate::nlri`], host bits cleared.

use bytes::{BufMut, Bytes, BytesMut};
use ipnet::IpNet;

use super::rib_entry::{RibEntry, decode_entries, encode_entries};
use super::{Cursor, decode_prefix};
use crate::afi::{Afi, AfiSafi, Safi};
use crate::error::{DecodeError, EncodeError};
use crate::nlri::encode_prefix;

/// Subtype RIB_IPV4_UNICAST.
pub const RIB_IPV4_UNICAST: u16 = 2;
/// Subtype RIB_IPV4_MULTICAST.
pub const RIB_IPV4_MULTICAST: u16 = 3;
/// Subtype RIB_IPV6_UNICAST.
pub const RIB_IPV6_UNICAST: u16 = 4;
/// Subtype RIB_IPV6_MULTICAST.
pub const RIB_IPV6_MULTICAST: u16 = 5;
/// Subtype RIB_IPV4_UNICAST_ADDPATH (RFC 8050).
pub const RIB_IPV4_UNICAST_ADDPATH: u16 = 8;
/// Subtype RIB_IPV4_MULTICAST_ADDPATH (RFC 8050).
pub const RIB_IPV4_MULTICAST_ADDPATH: u16 = 9;
/// Subtype RIB_IPV6_UNICAST_ADDPATH (RFC 8050).
pub const RIB_IPV6_UNICAST_ADDPATH: u16 = 10;
/// Subtype RIB_IPV6_MULTICAST_ADDPATH (RFC 8050).
pub const RIB_IPV6_MULTICAST_ADDPATH: u16 = 11;

/// Whether the subtype is one of the AFI/SAFI-specific RIB subtypes.
pub const fn is_subtype(subtype: u16) -> bool {
    matches!(subtype, 2..=5 | 8..=11)
}

/// One prefix and its routes from all peers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RibAfi {
    /// Multicast rather than unicast SAFI.
    pub multicast: bool,
    /// ADD-PATH subtype (RFC 8050): every entry has a path identifier.
    pub add_path: bool,
    /// Sequence number of the record in the dump.
    pub sequence_number: u32,
    /// The prefix, host bits cleared; its family gives the AFI.
    pub prefix: IpNet,
    /// The routes.
    pub entries: Vec<RibEntry>,
}

impl RibAfi {
    /// Decodes the body of one of the subtypes 2-5 and 8-11.
    pub fn decode(subtype: u16, body: Bytes) -> Result<Self, DecodeError> {
        if !is_subtype(subtype) {
            return Err(DecodeError::Invalid {
                what: "RIB subtype",
            });
        }
        let add_path = subtype >= RIB_IPV4_UNICAST_ADDPATH;
        let base = if add_path { subtype - 6 } else { subtype };
        let afi = if base <= RIB_IPV4_MULTICAST {
            Afi::Ipv4
        } else {
            Afi::Ipv6
        };
        let multicast = matches!(base, RIB_IPV4_MULTICAST | RIB_IPV6_MULTICAST);
        let mut c = Cursor::new(body, "TABLE_DUMP_V2 RIB record");
        let sequence_number = c.u32()?;
        let prefix = decode_prefix(&mut c, afi)?;
        let entries = decode_entries(&mut c, add_path)?;
        Ok(RibAfi {
            multicast,
            add_path,
            sequence_number,
            prefix,
            entries,
        })
    }

    /// The subtype after family, SAFI and ADD-PATH.
    pub fn subtype(&self) -> u16 {
        let base = match (self.prefix, self.multicast) {
            (IpNet::V4(_), false) => RIB_IPV4_UNICAST,
            (IpNet::V4(_), true) => RIB_IPV4_MULTICAST,
            (IpNet::V6(_), false) => RIB_IPV6_UNICAST,
            (IpNet::V6(_), true) => RIB_IPV6_MULTICAST,
        };
        if self.add_path { base + 6 } else { base }
    }

    /// The address family of the record.
    pub fn family(&self) -> AfiSafi {
        let afi = match self.prefix {
            IpNet::V4(_) => Afi::Ipv4,
            IpNet::V6(_) => Afi::Ipv6,
        };
        let safi = if self.multicast {
            Safi::Multicast
        } else {
            Safi::Unicast
        };
        AfiSafi::new(afi, safi)
    }

    /// Appends the body (without common header). Fails when an entry's
    /// path identifier does not match `add_path`.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        buf.put_u32(self.sequence_number);
        encode_prefix(&self.prefix, buf);
        encode_entries(&self.entries, self.add_path, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mrt::strategies;
    use proptest::prelude::*;

    fn arb() -> impl Strategy<Value = RibAfi> {
        (any::<bool>(), any::<bool>(), any::<bool>()).prop_flat_map(|(v6, multicast, add_path)| {
            (
                any::<u32>(),
                strategies::prefix(v6),
                crate::mrt::rib_entry::strategies::entries(add_path),
            )
                .prop_map(move |(sequence_number, prefix, entries)| RibAfi {
                    multicast,
                    add_path,
                    sequence_number,
                    prefix,
                    entries,
                })
        })
    }

    proptest! {
        #[test]
        fn round_trip(r in arb()) {
            let mut buf = BytesMut::new();
            r.encode(&mut buf).unwrap();
            prop_assert_eq!(RibAfi::decode(r.subtype(), buf.freeze()).unwrap(), r);
        }

        #[test]
        fn never_panics(sub in 0u16..13, body in strategies::bytes(80)) {
            let _ = RibAfi::decode(sub, body);
        }
    }

    #[test]
    fn decodes_add_path_entry_and_clears_host_bits() {
        // seq 1, 11.13.0.0/13 (host bits set), one entry with path id 5.
        let body = Bytes::from_static(&[
            0, 0, 0, 1, 13, 11, 13, 0, 1, 0, 2, 0, 0, 0, 9, 0, 0, 0, 5, 0, 1, 0xaa,
        ]);
        let r = RibAfi::decode(RIB_IPV4_UNICAST_ADDPATH, body).unwrap();
        assert_eq!(r.prefix.to_string(), "11.8.0.0/13");
        assert_eq!(r.family(), AfiSafi::IPV4_UNICAST);
        assert_eq!(
            r.entries,
            [RibEntry {
                peer_index: 2,
                originated_time: 9,
                path_id: Some(5),
                attributes: Bytes::from_static(&[0xaa]),
            }]
        );
        assert_eq!(
            RibAfi::decode(
                RIB_IPV4_UNICAST,
                Bytes::from_static(&[0, 0, 0, 1, 33, 1, 2, 3, 4, 5])
            ),
            Err(DecodeError::Invalid {
                what: "MRT prefix length"
            })
        );
    }
}
