//! The Long-Lived Graceful Restart capability (code 71, RFC 9494
//! section 3).
//!
//! Value: for each address family AFI (2 octets), SAFI (1 octet), Flags
//! (1 octet, F bit first) and Long-Lived Stale Time in seconds (3 octets).
//! A value whose length is not a multiple of 7 is malformed.

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

use super::{malformed, reader::Reader};
use crate::afi::AfiSafi;
use crate::error::{DecodeError, EncodeError};

/// The capability code.
pub const CODE: u8 = 71;

/// A Long-Lived Graceful Restart capability.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct LongLivedGracefulRestart {
    /// The families and their stale times.
    pub families: Vec<LongLivedGracefulRestartFamily>,
}

/// One address family of a Long-Lived Graceful Restart capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LongLivedGracefulRestartFamily {
    /// The address family.
    pub family: AfiSafi,
    /// The flags octet: [`Self::FORWARDING_STATE`] (F) and seven reserved
    /// bits kept as received.
    pub flags: u8,
    /// How long stale routes are kept, in seconds, from 0 to 16,777,215.
    pub stale_time: u32,
}

impl LongLivedGracefulRestartFamily {
    /// The F bit: forwarding state was preserved.
    pub const FORWARDING_STATE: u8 = 0x80;
    /// The largest stale time (24 bits).
    pub const MAX_STALE_TIME: u32 = 0x00ff_ffff;

    /// Whether the F bit is set.
    pub const fn forwarding_preserved(&self) -> bool {
        self.flags & Self::FORWARDING_STATE != 0
    }
}

impl LongLivedGracefulRestart {
    /// The entry for `family`, if the capability lists it.
    pub fn family(&self, family: AfiSafi) -> Option<&LongLivedGracefulRestartFamily> {
        self.families.iter().find(|f| f.family == family)
    }

    /// Decodes the capability value.
    pub fn decode(value: Bytes) -> Result<Self, DecodeError> {
        if value.len() % 7 != 0 {
            return Err(malformed(
                "long-lived graceful restart capability length is not a multiple of 7",
            ));
        }
        let mut r = Reader::new(value);
        let mut families = Vec::with_capacity(r.remaining() / 7);
        while !r.is_empty() {
            let entry = (|| {
                let (family, _) = super::read_family(&mut r, false)?;
                let flags = r.u8()?;
                let stale_time = r.u24()?;
                Some(LongLivedGracefulRestartFamily {
                    family,
                    flags,
                    stale_time,
                })
            })()
            .ok_or_else(|| malformed("long-lived graceful restart capability truncated"))?;
            families.push(entry);
        }
        Ok(LongLivedGracefulRestart { families })
    }

    /// Appends the capability value. Fails if a stale time does not fit
    /// 24 bits.
    pub fn encode_value(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        for f in &self.families {
            if f.stale_time > LongLivedGracefulRestartFamily::MAX_STALE_TIME {
                return Err(EncodeError::FieldTooLong {
                    what: "long-lived stale time",
                });
            }
            super::put_family(buf, f.family);
            buf.put_u8(f.flags);
            buf.put_uint(u64::from(f.stale_time), 3);
        }
        Ok(())
    }
}

impl fmt::Display for LongLivedGracefulRestart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.families.is_empty() {
            return f.write_str("(no families)");
        }
        for (i, fam) in self.families.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{} stale {}s", fam.family, fam.stale_time)?;
            if fam.forwarding_preserved() {
                f.write_str(" (forwarding preserved)")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcpdump_llgr() {
        // tcpdump bgp-extended-optional-parameters-length: two families, F, 360 s.
        let v = Bytes::from_static(&[0, 1, 1, 0x80, 0, 1, 0x68, 0, 2, 1, 0x80, 0, 1, 0x68]);
        let l = LongLivedGracefulRestart::decode(v.clone()).unwrap();
        assert_eq!(l.families.len(), 2);
        assert_eq!(l.families[1].stale_time, 360);
        assert!(l.families[0].forwarding_preserved());
        let mut buf = BytesMut::new();
        l.encode_value(&mut buf).unwrap();
        assert_eq!(buf, v);
        assert!(LongLivedGracefulRestart::decode(v.slice(..6)).is_err());
    }
}
