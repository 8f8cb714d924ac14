//! The Graceful Restart capability (code 64, RFC 4724 section 3, with the
//! N bit of RFC 8538).
//!
//! Value: Restart Flags (4 bits) and Restart Time in seconds (12 bits), then
//! for each address family AFI (2 octets), SAFI (1 octet) and Flags for
//! Address Family (1 octet). A value that is not 2 + 4n octets is malformed.

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

use super::{malformed, reader::Reader};
use crate::afi::AfiSafi;
use crate::error::{DecodeError, EncodeError};

/// The capability code.
pub const CODE: u8 = 64;

/// A Graceful Restart capability.
///
/// ```
/// use bytes::Bytes;
/// use bgp_wire::capability::GracefulRestart;
///
/// let gr = GracefulRestart::decode(Bytes::from_static(&[0x80, 0x78, 0, 1, 1, 0x80])).unwrap();
/// assert!(gr.restart_state());
/// assert_eq!(gr.restart_time, 120);
/// assert!(gr.families[0].forwarding_preserved());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct GracefulRestart {
    /// The four Restart Flags bits, as a number from 0 to 15:
    /// [`Self::RESTART_STATE`] (R), [`Self::NOTIFICATION`] (N) and two
    /// reserved bits kept as received.
    pub flags: u8,
    /// The Restart Time in seconds, from 0 to 4,095.
    pub restart_time: u16,
    /// The families whose forwarding state may be preserved.
    pub families: Vec<GracefulRestartFamily>,
}

/// One address family of a Graceful Restart capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GracefulRestartFamily {
    /// The address family.
    pub family: AfiSafi,
    /// The Flags for Address Family octet: [`Self::FORWARDING_STATE`] (F)
    /// and seven reserved bits kept as received.
    pub flags: u8,
}

impl GracefulRestartFamily {
    /// The F bit: forwarding state was preserved across the restart.
    pub const FORWARDING_STATE: u8 = 0x80;

    /// A family, with the F bit set or not.
    pub const fn new(family: AfiSafi, forwarding_preserved: bool) -> Self {
        GracefulRestartFamily {
            family,
            flags: if forwarding_preserved {
                Self::FORWARDING_STATE
            } else {
                0
            },
        }
    }

    /// Whether the F bit is set.
    pub const fn forwarding_preserved(&self) -> bool {
        self.flags & Self::FORWARDING_STATE != 0
    }
}

impl GracefulRestart {
    /// The R bit of the Restart Flags: the speaker has restarted.
    pub const RESTART_STATE: u8 = 0b1000;
    /// The N bit of the Restart Flags (RFC 8538): the speaker supports
    /// Graceful Restart for BGP NOTIFICATION messages.
    pub const NOTIFICATION: u8 = 0b0100;
    /// The largest Restart Time.
    pub const MAX_RESTART_TIME: u16 = 0x0fff;

    /// Whether the R bit is set.
    pub const fn restart_state(&self) -> bool {
        self.flags & Self::RESTART_STATE != 0
    }

    /// Whether the N bit is set.
    pub const fn notification(&self) -> bool {
        self.flags & Self::NOTIFICATION != 0
    }

    /// The entry for `family`, if the capability lists it.
    pub fn family(&self, family: AfiSafi) -> Option<&GracefulRestartFamily> {
        self.families.iter().find(|f| f.family == family)
    }

    /// Decodes the capability value.
    pub fn decode(value: Bytes) -> Result<Self, DecodeError> {
        if value.len() < 2 || (value.len() - 2) % 4 != 0 {
            return Err(malformed(
                "graceful restart capability length is not 2 + 4n",
            ));
        }
        let mut r = Reader::new(value);
        let head = r
            .u16()
            .ok_or_else(|| malformed("graceful restart capability truncated"))?;
        let mut families = Vec::with_capacity(r.remaining() / 4);
        while !r.is_empty() {
            let (family, _) = super::read_family(&mut r, false)
                .ok_or_else(|| malformed("graceful restart capability truncated"))?;
            let flags = r
                .u8()
                .ok_or_else(|| malformed("graceful restart capability truncated"))?;
            families.push(GracefulRestartFamily { family, flags });
        }
        Ok(GracefulRestart {
            flags: (head >> 12) as u8,
            restart_time: head & Self::MAX_RESTART_TIME,
            families,
        })
    }

    /// Appends the capability value. Fails if the flags do not fit 4 bits or
    /// the restart time 12 bits.
    pub fn encode_value(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        if self.flags > 0x0f {
            return Err(EncodeError::FieldTooLong {
                what: "graceful restart flags",
            });
        }
        if self.restart_time > Self::MAX_RESTART_TIME {
            return Err(EncodeError::FieldTooLong {
                what: "graceful restart time",
            });
        }
        buf.put_u16((u16::from(self.flags) << 12) | self.restart_time);
        for f in &self.families {
            super::put_family(buf, f.family);
            buf.put_u8(f.flags);
        }
        Ok(())
    }
}

impl fmt::Display for GracefulRestart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "time {}s", self.restart_time)?;
        if self.restart_state() {
            f.write_str(" restarted")?;
        }
        if self.notification() {
            f.write_str(" notification")?;
        }
        for fam in &self.families {
            write!(f, " {}", fam.family)?;
            if fam.forwarding_preserved() {
                f.write_str("(forwarding preserved)")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc8538_n_bit() {
        // tcpdump bgp-cease-hard-reset: N set, 60 s, IPv4 unicast with F.
        let gr = GracefulRestart::decode(Bytes::from_static(&[0x40, 0x3c, 0, 1, 1, 0x80])).unwrap();
        assert!(gr.notification() && !gr.restart_state());
        assert_eq!(gr.restart_time, 60);
        assert_eq!(
            gr.families,
            [GracefulRestartFamily::new(AfiSafi::IPV4_UNICAST, true)]
        );
        assert!(GracefulRestart::decode(Bytes::new()).is_err());
        assert!(GracefulRestart::decode(Bytes::from_static(&[0, 0, 0, 1, 1])).is_err());
    }

    pub(crate) fn arb() -> impl Strategy<Value = GracefulRestart> {
        (
            0u8..16,
            0u16..4096,
            proptest::collection::vec((any::<u16>(), any::<u8>(), any::<u8>()), 0..8),
        )
            .prop_map(|(flags, restart_time, fams)| GracefulRestart {
                flags,
                restart_time,
                families: fams
                    .into_iter()
                    .map(|(a, s, fl)| GracefulRestartFamily {
                        family: AfiSafi::new(a.into(), s.into()),
                        flags: fl,
                    })
                    .collect(),
            })
    }

    proptest! {
        #[test]
        fn round_trip(gr in arb()) {
            let mut buf = BytesMut::new();
            gr.encode_value(&mut buf).unwrap();
            prop_assert_eq!(GracefulRestart::decode(buf.freeze()).unwrap(), gr);
        }
    }
}
