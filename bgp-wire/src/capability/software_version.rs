//! The Software Version capability (code 75,
//! draft-abraitis-bgp-version-capability).
//!
//! Value: Length (1 octet) and that many octets of UTF-8 text naming the
//! speaker's software. The text is kept as octets so that any value
//! re-encodes as received; [`SoftwareVersion::as_str`] gives it as text. A
//! value whose length octet does not match the capability length is
//! malformed.

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

use super::{malformed, reader::Reader};
use crate::error::{DecodeError, EncodeError};

/// The capability code.
pub const CODE: u8 = 75;

/// A Software Version capability.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SoftwareVersion {
    /// The version text, as received.
    pub version: Bytes,
}

impl SoftwareVersion {
    /// The capability for a version text (at most 255 octets are sent).
    pub fn new(version: &str) -> Self {
        SoftwareVersion {
            version: Bytes::copy_from_slice(version.as_bytes()),
        }
    }

    /// The version as text, if it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.version).ok()
    }

    /// Decodes the capability value.
    pub fn decode(value: Bytes) -> Result<Self, DecodeError> {
        let mut r = Reader::new(value);
        let n = r
            .u8()
            .ok_or_else(|| malformed("software version capability is empty"))?;
        if r.remaining() != usize::from(n) {
            return Err(malformed(
                "software version length does not match the capability length",
            ));
        }
        Ok(SoftwareVersion { version: r.rest() })
    }

    /// Appends the capability value. Fails if the text is longer than 254
    /// octets (the capability value, length octet included, must fit 255).
    pub fn encode_value(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let n = u8::try_from(self.version.len())
            .ok()
            .filter(|n| *n < u8::MAX)
            .ok_or(EncodeError::FieldTooLong {
                what: "software version",
            })?;
        buf.put_u8(n);
        buf.put_slice(&self.version);
        Ok(())
    }
}

impl fmt::Display for SoftwareVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exabgp_version() {
        let mut v = vec![19];
        v.extend_from_slice(b"ExaBGP/5.0.0-0+test");
        let s = SoftwareVersion::decode(Bytes::from(v.clone())).unwrap();
        assert_eq!(s.as_str(), Some("ExaBGP/5.0.0-0+test"));
        let mut buf = BytesMut::new();
        s.encode_value(&mut buf).unwrap();
        assert_eq!(&buf[..], &v[..]);
        v.push(b'!');
        assert!(SoftwareVersion::decode(Bytes::from(v)).is_err());
        assert!(SoftwareVersion::decode(Bytes::new()).is_err());
    }
}
