//! The TABLE_DUMP_V2 PEER_INDEX_TABLE record (RFC 6396 section 4.3.1),
//! type 13 subtype 1: the collector's BGP identifier, an optional view
//! name, and the peers that the RIB records that follow refer to by index.
//!
//! ```text
//! Collector BGP ID (4) | View Name Length (2) | View Name (variable)
//! Peer Count (2) | Peer Entries (variable)
//!
//! Peer entry: Peer Type (1) | Peer BGP ID (4) | Peer IP Address (4 or 16)
//!             | Peer AS (2 or 4)
//! ```
//!
//! Peer Type bit 0 (value 1) selects an IPv6 address, bit 1 (value 2) a
//! 4-octet AS number; other bits are ignored.

use bytes::{BufMut, Bytes, BytesMut};
use std::net::{IpAddr, Ipv4Addr};

use super::{Cursor, put_ip, put_u16_block};
use crate::error::{DecodeError, EncodeError};

/// Subtype PEER_INDEX_TABLE.
pub const SUBTYPE: u16 = 1;

/// Peer Type bit: the peer address is IPv6.
pub const PEER_TYPE_IPV6: u8 = 0x01;
/// Peer Type bit: the peer AS number is 4 octets.
pub const PEER_TYPE_AS4: u8 = 0x02;

/// One entry of the peer table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerEntry {
    /// The peer's BGP identifier.
    pub bgp_id: Ipv4Addr,
    /// The peer's address (IPv4 or IPv6 after the Peer Type).
    pub ip: IpAddr,
    /// The peer's AS number.
    pub asn: u32,
    /// Whether the AS number is written in 4 octets (Peer Type bit 1).
    pub as4: bool,
}

/// A PEER_INDEX_TABLE record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerIndexTable {
    /// The collector's BGP identifier.
    pub collector_bgp_id: Ipv4Addr,
    /// The view name, raw (usually empty or UTF-8 text).
    pub view_name: Bytes,
    /// The peers; RIB entries refer to them by position.
    pub peers: Vec<PeerEntry>,
}

impl PeerIndexTable {
    /// Decodes a PEER_INDEX_TABLE body.
    pub fn decode(body: Bytes) -> Result<Self, DecodeError> {
        let mut c = Cursor::new(body, "PEER_INDEX_TABLE");
        let collector_bgp_id = c.ipv4()?;
        let name_len = c.u16()?;
        let view_name = c.bytes(usize::from(name_len))?;
        let count = usize::from(c.u16()?);
        // Each entry takes at least 7 octets: never reserve beyond the body.
        let mut peers = Vec::with_capacity(count.min(c.remaining() / 7));
        for _ in 0..count {
            let peer_type = c.u8()?;
            let bgp_id = c.ipv4()?;
            let ip = c.ip(peer_type & PEER_TYPE_IPV6 != 0)?;
            let as4 = peer_type & PEER_TYPE_AS4 != 0;
            let asn = if as4 { c.u32()? } else { u32::from(c.u16()?) };
            peers.push(PeerEntry {
                bgp_id,
                ip,
                asn,
                as4,
            });
        }
        Ok(PeerIndexTable {
            collector_bgp_id,
            view_name,
            peers,
        })
    }

    /// The view name as text, with invalid UTF-8 replaced.
    pub fn view_name_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.view_name)
    }

    /// The peer a RIB entry's `peer_index` refers to.
    pub fn peer(&self, index: u16) -> Option<&PeerEntry> {
        self.peers.get(usize::from(index))
    }

    /// Appends the body (without common header).
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        buf.put_slice(&self.collector_bgp_id.octets());
        put_u16_block(buf, &self.view_name, "PEER_INDEX_TABLE view name")?;
        let count = u16::try_from(self.peers.len()).map_err(|_| EncodeError::FieldTooLong {
            what: "PEER_INDEX_TABLE peer count",
        })?;
        buf.put_u16(count);
        for p in &self.peers {
            let mut peer_type = 0;
            if p.ip.is_ipv6() {
                peer_type |= PEER_TYPE_IPV6;
            }
            if p.as4 {
                peer_type |= PEER_TYPE_AS4;
            }
            buf.put_u8(peer_type);
            buf.put_slice(&p.bgp_id.octets());
            put_ip(buf, &p.ip);
            if p.as4 {
                buf.put_u32(p.asn);
            } else {
                let asn = u16::try_from(p.asn).map_err(|_| EncodeError::FieldTooLong {
                    what: "2-octet peer AS",
                })?;
                buf.put_u16(asn);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mrt::strategies;
    use proptest::prelude::*;

    fn arb_peer() -> impl Strategy<Value = PeerEntry> {
        (any::<bool>(), any::<bool>()).prop_flat_map(|(v6, as4)| {
            let asn = if as4 {
                any::<u32>().boxed()
            } else {
                any::<u16>().prop_map(u32::from).boxed()
            };
            (strategies::ipv4(), strategies::ip(v6), asn).prop_map(move |(bgp_id, ip, asn)| {
                PeerEntry {
                    bgp_id,
                    ip,
                    asn,
                    as4,
                }
            })
        })
    }

    proptest! {
        #[test]
        fn round_trip(
            collector_bgp_id in strategies::ipv4(),
            view_name in strategies::bytes(20),
            peers in proptest::collection::vec(arb_peer(), 0..20),
        ) {
            let t = PeerIndexTable { collector_bgp_id, view_name, peers };
            let mut buf = BytesMut::new();
            t.encode(&mut buf).unwrap();
            prop_assert_eq!(PeerIndexTable::decode(buf.freeze()).unwrap(), t);
        }

        #[test]
        fn never_panics(body in strategies::bytes(100)) {
            let _ = PeerIndexTable::decode(body);
        }
    }

    #[test]
    fn huge_count_is_truncated_not_allocated() {
        let body = Bytes::from_static(&[10, 0, 0, 1, 0, 0, 0xff, 0xff, 0]);
        assert_eq!(
            PeerIndexTable::decode(body),
            Err(DecodeError::Truncated {
                what: "PEER_INDEX_TABLE"
            })
        );
    }
}
