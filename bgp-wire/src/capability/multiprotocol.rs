//! The Multiprotocol Extensions capability (code 1, RFC 4760 section 8).
//!
//! Value: AFI (2 octets), Reserved (1 octet), SAFI (1 octet). A speaker
//! announces one such capability per address family it handles.

use bytes::{BufMut, Bytes, BytesMut};

use super::{malformed, reader::Reader};
use crate::afi::AfiSafi;
use crate::error::DecodeError;

/// The capability code.
pub const CODE: u8 = 1;

/// A Multiprotocol Extensions capability: one address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Multiprotocol {
    /// The address family.
    pub family: AfiSafi,
    /// The reserved octet between AFI and SAFI: sent as 0, ignored on
    /// receipt (RFC 4760 8), kept so that the value re-encodes as received.
    pub reserved: u8,
}

impl Multiprotocol {
    /// The capability for `family`, with the reserved octet 0.
    pub const fn new(family: AfiSafi) -> Self {
        Multiprotocol {
            family,
            reserved: 0,
        }
    }

    /// Decodes the capability value, which must be exactly 4 octets.
    pub fn decode(value: Bytes) -> Result<Self, DecodeError> {
        if value.len() != 4 {
            return Err(malformed("multiprotocol capability length is not 4"));
        }
        let mut r = Reader::new(value);
        let (family, reserved) = super::read_family(&mut r, true)
            .ok_or_else(|| malformed("multiprotocol capability truncated"))?;
        Ok(Multiprotocol { family, reserved })
    }

    /// Appends the capability value.
    pub fn encode_value(&self, buf: &mut BytesMut) {
        buf.put_u16(self.family.afi.to_u16());
        buf.put_u8(self.reserved);
        buf.put_u8(self.family.safi.to_u8());
    }
}

impl From<AfiSafi> for Multiprotocol {
    fn from(family: AfiSafi) -> Self {
        Multiprotocol::new(family)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::afi::{Afi, Safi};
    use proptest::prelude::*;

    #[test]
    fn decodes_rfc_layout() {
        let m = Multiprotocol::decode(Bytes::from_static(&[0, 2, 0, 128])).unwrap();
        assert_eq!(m.family, AfiSafi::new(Afi::Ipv6, Safi::Other(128)));
        assert!(Multiprotocol::decode(Bytes::from_static(&[0, 1, 0])).is_err());
        assert!(Multiprotocol::decode(Bytes::from_static(&[0, 1, 0, 1, 0])).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(afi: u16, reserved: u8, safi: u8) {
            let m = Multiprotocol { family: AfiSafi::new(afi.into(), safi.into()), reserved };
            let mut buf = BytesMut::new();
            m.encode_value(&mut buf);
            prop_assert_eq!(Multiprotocol::decode(buf.freeze()).unwrap(), m);
        }
    }
}
