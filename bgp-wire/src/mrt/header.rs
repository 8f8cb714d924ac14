//! The MRT common header (RFC 6396 section 2).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                           Timestamp                           |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |             Type              |            Subtype            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                             Length                            |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! The length counts the body only (the microsecond field of the extended
//! timestamp types included), not these 12 octets.

use bytes::{BufMut, BytesMut};

/// Length of the common header.
pub const HEADER_LEN: usize = 12;

/// The 12-octet header in front of every MRT record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommonHeader {
    /// Seconds since the Unix epoch.
    pub timestamp: u32,
    /// The MRT type (see [`super::types`]).
    pub mrt_type: u16,
    /// The subtype, whose meaning depends on the type.
    pub subtype: u16,
    /// Length of the body in octets.
    pub length: u32,
}

impl CommonHeader {
    /// Decodes the 12 header octets.
    ///
    /// ```
    /// use bgp_wire::mrt::CommonHeader;
    ///
    /// let h = CommonHeader::decode(&[0x3d, 0x3c, 0x9c, 0xc8, 0, 16, 0, 1, 0, 0, 0, 60]);
    /// assert_eq!((h.mrt_type, h.subtype, h.length), (16, 1, 60));
    /// ```
    pub fn decode(buf: &[u8; HEADER_LEN]) -> Self {
        let [t0, t1, t2, t3, y0, y1, s0, s1, l0, l1, l2, l3] = *buf;
        CommonHeader {
            timestamp: u32::from_be_bytes([t0, t1, t2, t3]),
            mrt_type: u16::from_be_bytes([y0, y1]),
            subtype: u16::from_be_bytes([s0, s1]),
            length: u32::from_be_bytes([l0, l1, l2, l3]),
        }
    }

    /// Appends the 12 header octets.
    pub fn encode(&self, buf: &mut BytesMut) {
        buf.put_u32(self.timestamp);
        buf.put_u16(self.mrt_type);
        buf.put_u16(self.subtype);
        buf.put_u32(self.length);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(timestamp: u32, mrt_type: u16, subtype: u16, length: u32) {
            let h = CommonHeader { timestamp, mrt_type, subtype, length };
            let mut buf = BytesMut::new();
            h.encode(&mut buf);
            let arr: [u8; HEADER_LEN] = buf[..].try_into().unwrap();
            prop_assert_eq!(CommonHeader::decode(&arr), h);
        }
    }
}
