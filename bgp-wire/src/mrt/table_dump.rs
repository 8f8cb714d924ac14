//! TABLE_DUMP records (RFC 6396 section 4.2), type 12: one RIB entry per
//! record, for subtypes AFI_IPv4 (1) and AFI_IPv6 (2), with 2-octet AS
//! numbers.
//!
//! ```text
//! View Number (2) | Sequence Number (2) | Prefix (4 or 16) | Prefix Length (1)
//! Status (1) | Originated Time (4) | Peer IP Address (4 or 16) | Peer AS (2)
//! Attribute Length (2) | BGP Attributes (variable)
//! ```
//!
//! The subtype gives the family of both the prefix and the peer address.
//! The prefix is stored with host bits cleared (see [`crate::nlri`]). The
//! attributes are those of an UPDATE on a 2-octet AS session.

use bytes::{BufMut, Bytes, BytesMut};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::IpAddr;

use super::{Cursor, put_ip, put_u16_block};
use crate::error::{DecodeError, EncodeError};

/// Subtype AFI_IPv4.
pub const AFI_IPV4: u16 = 1;
/// Subtype AFI_IPv6.
pub const AFI_IPV6: u16 = 2;

/// Whether this crate decodes this TABLE_DUMP subtype.
pub const fn is_subtype(subtype: u16) -> bool {
    matches!(subtype, AFI_IPV4 | AFI_IPV6)
}

/// One TABLE_DUMP record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDump {
    /// View number (normally 0).
    pub view_number: u16,
    /// Sequence number, wrapping at 65535.
    pub sequence_number: u16,
    /// The prefix, host bits cleared; its family gives the subtype.
    pub prefix: IpNet,
    /// Status octet (unused, normally 1).
    pub status: u8,
    /// When the route was received, seconds since the Unix epoch.
    pub originated_time: u32,
    /// The peer's address, of the same family as the prefix.
    pub peer_ip: IpAddr,
    /// The peer's 2-octet AS number.
    pub peer_as: u16,
    /// The path attribute block, raw (2-octet AS numbers).
    pub attributes: Bytes,
}

impl TableDump {
    /// Decodes a body of subtype AFI_IPv4 (1) or AFI_IPv6 (2).
    pub fn decode(subtype: u16, body: Bytes) -> Result<Self, DecodeError> {
        let v6 = match subtype {
            AFI_IPV4 => false,
            AFI_IPV6 => true,
            _ => {
                return Err(DecodeError::Invalid {
                    what: "TABLE_DUMP subtype",
                });
            }
        };
        let mut c = Cursor::new(body, "TABLE_DUMP record");
        let view_number = c.u16()?;
        let sequence_number = c.u16()?;
        let addr = c.ip(v6)?;
        let len = c.u8()?;
        let prefix = match addr {
            IpAddr::V4(a) => Ipv4Net::new(a, len).map(|n| IpNet::V4(n.trunc())),
            IpAddr::V6(a) => Ipv6Net::new(a, len).map(|n| IpNet::V6(n.trunc())),
        }
        .map_err(|_| DecodeError::Invalid {
            what: "TABLE_DUMP prefix length",
        })?;
        let status = c.u8()?;
        let originated_time = c.u32()?;
        let peer_ip = c.ip(v6)?;
        let peer_as = c.u16()?;
        let attr_len = c.u16()?;
        let attributes = c.bytes(usize::from(attr_len))?;
        Ok(TableDump {
            view_number,
            sequence_number,
            prefix,
            status,
            originated_time,
            peer_ip,
            peer_as,
            attributes,
        })
    }

    /// The subtype: AFI_IPv4 or AFI_IPv6 after the prefix's family.
    pub fn subtype(&self) -> u16 {
        match self.prefix {
            IpNet::V4(_) => AFI_IPV4,
            IpNet::V6(_) => AFI_IPV6,
        }
    }

    /// Appends the body (without common header).
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        if self.prefix.addr().is_ipv6() != self.peer_ip.is_ipv6() {
            return Err(EncodeError::Invalid {
                what: "TABLE_DUMP prefix and peer address of different families",
            });
        }
        buf.put_u16(self.view_number);
        buf.put_u16(self.sequence_number);
        put_ip(buf, &self.prefix.network());
        buf.put_u8(self.prefix.prefix_len());
        buf.put_u8(self.status);
        buf.put_u32(self.originated_time);
        put_ip(buf, &self.peer_ip);
        buf.put_u16(self.peer_as);
        put_u16_block(buf, &self.attributes, "TABLE_DUMP attributes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mrt::strategies;
    use proptest::prelude::*;

    fn arb() -> impl Strategy<Value = TableDump> {
        any::<bool>().prop_flat_map(|v6| {
            (
                any::<(u16, u16, u8, u32, u16)>(),
                strategies::prefix(v6),
                strategies::ip(v6),
                strategies::bytes(64),
            )
                .prop_map(
                    |((view, seq, status, t, asn), prefix, peer_ip, attributes)| TableDump {
                        view_number: view,
                        sequence_number: seq,
                        prefix,
                        status,
                        originated_time: t,
                        peer_ip,
                        peer_as: asn,
                        attributes,
                    },
                )
        })
    }

    proptest! {
        #[test]
        fn round_trip(r in arb()) {
            let mut buf = BytesMut::new();
            r.encode(&mut buf).unwrap();
            prop_assert_eq!(TableDump::decode(r.subtype(), buf.freeze()).unwrap(), r);
        }

        #[test]
        fn never_panics(sub in 0u16..4, body in strategies::bytes(80)) {
            let _ = TableDump::decode(sub, body);
        }
    }

    #[test]
    fn decodes_a_v4_entry() {
        let body: Vec<u8> = [
            &[0, 0, 0, 7][..],
            &[192, 0, 2, 77, 24, 1],
            &[0x3d, 0x3c, 0x9c, 0xc8],
            &[198, 51, 100, 1, 0xfd, 0xe8],
            &[0, 3, 0x40, 1, 0],
        ]
        .concat();
        let r = TableDump::decode(AFI_IPV4, Bytes::from(body.clone())).unwrap();
        assert_eq!(r.sequence_number, 7);
        assert_eq!(r.prefix.to_string(), "192.0.2.0/24");
        assert_eq!(r.peer_ip.to_string(), "198.51.100.1");
        assert_eq!(r.peer_as, 65000);
        assert_eq!(&r.attributes[..], &[0x40, 1, 0]);
        assert_eq!(
            TableDump::decode(AFI_IPV4, Bytes::from(body[..body.len() - 1].to_vec())),
            Err(DecodeError::Truncated {
                what: "TABLE_DUMP record"
            })
        );
    }
}
