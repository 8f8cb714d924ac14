//! AGGREGATOR (type code 7, RFC 4271 4.3 and 5.1.7, RFC 6793): optional
//! transitive, the AS and BGP Identifier of the speaker that aggregated.

use bytes::{BufMut, BytesMut};
use std::fmt;
use std::net::Ipv4Addr;

use super::Malformed;
use super::as_path::AS_TRANS;

/// The aggregating speaker. Also the value of AS4_AGGREGATOR
/// ([`super::as4_aggregator`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Aggregator {
    /// The aggregating AS.
    pub asn: u32,
    /// The aggregating speaker's BGP Identifier.
    pub address: Ipv4Addr,
}

impl Aggregator {
    /// Decodes the attribute value: 6 octets on a 2-octet-AS session, 8 on a
    /// 4-octet-AS session (RFC 7606 7.7).
    pub fn decode(value: &[u8], four_octet_as: bool) -> Result<Aggregator, Malformed> {
        let (asn, addr) = if four_octet_as {
            let (a, rest) = value.split_first_chunk::<4>().unzip();
            (a.map(|a| u32::from_be_bytes(*a)), rest)
        } else {
            let (a, rest) = value.split_first_chunk::<2>().unzip();
            (a.map(|a| u32::from(u16::from_be_bytes(*a))), rest)
        };
        match (
            asn,
            addr.and_then(|r| r.first_chunk::<4>().map(|c| (c, r.len()))),
        ) {
            (Some(asn), Some((addr, 4))) => Ok(Aggregator {
                asn,
                address: Ipv4Addr::from(*addr),
            }),
            _ => Err(Malformed::length(if four_octet_as {
                "AGGREGATOR length is not 8"
            } else {
                "AGGREGATOR length is not 6"
            })),
        }
    }

    /// Length of the encoded value.
    pub const fn value_len(four_octet_as: bool) -> usize {
        if four_octet_as { 8 } else { 6 }
    }

    /// Appends the value; on a 2-octet-AS session an AS above 65535 is
    /// written as AS_TRANS (RFC 6793 4.2.2).
    pub fn encode_value(&self, four_octet_as: bool, buf: &mut BytesMut) {
        if four_octet_as {
            buf.put_u32(self.asn);
        } else {
            buf.put_u16(u16::try_from(self.asn).unwrap_or(AS_TRANS as u16));
        }
        buf.put_slice(&self.address.octets());
    }
}

impl fmt::Display for Aggregator {
    /// `AS address`, as `bgpdump -m` prints it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.asn, self.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn widths() {
        let a = Aggregator::decode(&[0xfd, 0xe8, 10, 0, 0, 1], false).unwrap();
        assert_eq!(a.asn, 65000);
        assert_eq!(a.to_string(), "65000 10.0.0.1");
        assert!(Aggregator::decode(&[0xfd, 0xe8, 10, 0, 0, 1], true).is_err());
        assert!(Aggregator::decode(&[0, 0, 0xfd, 0xe8, 10, 0, 0, 1], true).is_ok());
        assert!(Aggregator::decode(&[0, 0, 0xfd, 0xe8, 10, 0, 0, 1], false).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(asn in any::<u32>(), addr in any::<u32>(), four in any::<bool>()) {
            let asn = if four { asn } else { asn & 0xffff };
            let a = Aggregator { asn, address: Ipv4Addr::from(addr) };
            let mut buf = BytesMut::new();
            a.encode_value(four, &mut buf);
            prop_assert_eq!(buf.len(), Aggregator::value_len(four));
            prop_assert_eq!(Aggregator::decode(&buf, four), Ok(a));
        }
    }
}
