//! The Support for 4-octet AS Number capability (code 65, RFC 6793
//! section 3).
//!
//! Value: the speaker's AS number, 4 octets. A speaker whose AS number does
//! not fit in 2 octets puts [`AS_TRANS`] in the OPEN's My Autonomous System
//! field.

use bytes::Bytes;

use super::{malformed, reader::Reader};
use crate::error::DecodeError;

/// The capability code.
pub const CODE: u8 = 65;

/// The 2-octet AS number that stands for a 4-octet one (RFC 6793 9).
pub const AS_TRANS: u16 = 23456;

/// Decodes the capability value, which must be exactly 4 octets.
pub fn decode(value: Bytes) -> Result<u32, DecodeError> {
    if value.len() != 4 {
        return Err(malformed("4-octet AS capability length is not 4"));
    }
    Reader::new(value)
        .u32()
        .ok_or_else(|| malformed("4-octet AS capability truncated"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert_eq!(
            decode(Bytes::from_static(&[0xab, 0xcd, 0xef, 0x12])),
            Ok(2_882_400_018)
        );
        assert!(decode(Bytes::from_static(&[0xab, 0xcd, 0xef])).is_err());
        assert!(decode(Bytes::from_static(&[0xab, 0xcd, 0xef, 0x12, 0x12])).is_err());
        assert!(decode(Bytes::new()).is_err());
    }
}
