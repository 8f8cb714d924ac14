//! The Outbound Route Filtering capability (code 3, RFC 5291 section 4).
//!
//! Value: one or more entries, each AFI (2 octets), Reserved (1 octet), SAFI
//! (1 octet), Number of ORFs (1 octet), then that many ORF Type (1 octet) and
//! Send/Receive (1 octet) pairs.
//!
//! RFC 5291 defines no error handling for this value. This crate requires
//! the first entry to be complete (otherwise the capability is malformed, as
//! FRR also decides), reads every further entry that is complete, and keeps
//! whatever follows the last complete entry as [`OutboundRouteFiltering::trailing`]
//! so that the value re-encodes as received. FRR reads the first entry only
//! and accepts such values; a count that does not match the pairs that follow
//! is therefore accepted here too, at the price of later entries being read
//! from shifted octets.

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

use super::{SendReceive, malformed, reader::Reader};
use crate::afi::AfiSafi;
use crate::error::{DecodeError, EncodeError};

/// The capability code.
pub const CODE: u8 = 3;

/// An Outbound Route Filtering capability.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct OutboundRouteFiltering {
    /// The complete entries, in order.
    pub families: Vec<OrfFamily>,
    /// Octets after the last complete entry, as received (normally empty).
    pub trailing: Bytes,
}

/// One address family of an Outbound Route Filtering capability.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrfFamily {
    /// The address family.
    pub family: AfiSafi,
    /// The reserved octet between AFI and SAFI, kept as received.
    pub reserved: u8,
    /// The ORF types the speaker handles for this family.
    pub orfs: Vec<OrfEntry>,
}

/// One ORF type of an [`OrfFamily`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OrfEntry {
    /// The ORF type (64 for Address Prefix ORF, RFC 5292).
    pub orf_type: u8,
    /// Whether the speaker sends, receives or both.
    pub send_receive: SendReceive,
}

impl OutboundRouteFiltering {
    fn read_entry(r: &mut Reader) -> Option<OrfFamily> {
        let (family, reserved) = super::read_family(r, true)?;
        let n = r.u8()?;
        let mut orfs = Vec::with_capacity(usize::from(n).min(r.remaining() / 2));
        for _ in 0..n {
            orfs.push(OrfEntry {
                orf_type: r.u8()?,
                send_receive: SendReceive::from_u8(r.u8()?),
            });
        }
        Some(OrfFamily {
            family,
            reserved,
            orfs,
        })
    }

    /// Decodes the capability value.
    pub fn decode(value: Bytes) -> Result<Self, DecodeError> {
        let mut r = Reader::new(value);
        let first = Self::read_entry(&mut r)
            .ok_or_else(|| malformed("outbound route filtering capability truncated"))?;
        let mut families = vec![first];
        loop {
            let mut attempt = r.clone();
            match Self::read_entry(&mut attempt) {
                Some(e) => {
                    families.push(e);
                    r = attempt;
                }
                _ => break,
            }
        }
        Ok(OutboundRouteFiltering {
            families,
            trailing: r.rest(),
        })
    }

    /// Appends the capability value. Fails if an entry has more than 255
    /// ORF types.
    pub fn encode_value(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        for f in &self.families {
            let n = u8::try_from(f.orfs.len())
                .map_err(|_| EncodeError::FieldTooLong { what: "ORF count" })?;
            buf.put_u16(f.family.afi.to_u16());
            buf.put_u8(f.reserved);
            buf.put_u8(f.family.safi.to_u8());
            buf.put_u8(n);
            for o in &f.orfs {
                buf.put_u8(o.orf_type);
                buf.put_u8(o.send_receive.to_u8());
            }
        }
        buf.put_slice(&self.trailing);
        Ok(())
    }
}

impl fmt::Display for OutboundRouteFiltering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, fam) in self.families.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}", fam.family)?;
            for o in &fam.orfs {
                write!(f, " type {} {}", o.orf_type, o.send_receive)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_and_trailing() {
        // IPv4 unicast, Address Prefix ORF (64), both.
        let v = Bytes::from_static(&[0, 1, 0, 1, 1, 64, 3]);
        let o = OutboundRouteFiltering::decode(v.clone()).unwrap();
        assert_eq!(o.families[0].orfs[0].orf_type, 64);
        assert_eq!(o.families[0].orfs[0].send_receive, SendReceive::Both);
        assert!(o.trailing.is_empty());
        let padded = Bytes::from_static(&[0, 1, 0, 1, 1, 64, 3, 0]);
        let p = OutboundRouteFiltering::decode(padded.clone()).unwrap();
        assert_eq!(p.families.len(), 1);
        assert_eq!(&p.trailing[..], &[0]);
        let mut buf = BytesMut::new();
        p.encode_value(&mut buf).unwrap();
        assert_eq!(buf, padded);
        assert!(OutboundRouteFiltering::decode(Bytes::from_static(&[0, 0])).is_err());
        assert!(OutboundRouteFiltering::decode(Bytes::new()).is_err());
        assert!(OutboundRouteFiltering::decode(v.slice(..6)).is_err());
    }
}
