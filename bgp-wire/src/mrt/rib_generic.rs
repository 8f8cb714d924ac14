//! The TABLE_DUMP_V2 RIB_GENERIC record (RFC 6396 section 4.3.3), subtype
//! 6, and RIB_GENERIC_ADDPATH (RFC 8050), subtype 12: one NLRI of any
//! address family and its routes.
//!
//! ```text
//! Sequence Number (4) | AFI (2) | SAFI (1) | NLRI (variable)
//! Entry Count (2) | RIB Entries (variable)
//! ```
//!
//! The NLRI is kept raw. Its length is not written in the record, so it is
//! found from the NLRI's own encoding: a length octet in bits followed by
//! the octets it covers (IP, labelled, VPN, RT-Constraint and most other
//! families), a 1- or 2-octet length in octets for Flow Spec (SAFI 133,
//! 134), a type and 1-octet length for EVPN (AFI 25 SAFI 70) and MCAST-VPN
//! (SAFI 5), a type and 2-octet length for BGP-LS (AFI 16388).
//!
//! # Where RIB_GENERIC_ADDPATH puts the path identifier
//!
//! RFC 8050 4.2 keeps the RIB entries of subtype 12 as they are and puts
//! the path identifier in front of the NLRI, as RFC 7911 encodes it on the
//! wire ([`RibGeneric::path_id`]). OpenBGPD and GoBGP write instead, as
//! in the other ADD-PATH subtypes, the NLRI alone and a path identifier in
//! every entry ([`RibEntry::path_id`]). Decoding tries the RFC layout
//! first and takes the other when only it accounts for the body exactly;
//! encoding writes the layout the value is in.

use bytes::{BufMut, Bytes, BytesMut};

use super::Cursor;
use super::rib_entry::{RibEntry, decode_entries, encode_entries};
use crate::afi::{Afi, AfiSafi, Safi};
use crate::error::{DecodeError, EncodeError};
use crate::nlri::PathId;

/// Subtype RIB_GENERIC.
pub const RIB_GENERIC: u16 = 6;
/// Subtype RIB_GENERIC_ADDPATH (RFC 8050).
pub const RIB_GENERIC_ADDPATH: u16 = 12;

/// Whether the subtype is RIB_GENERIC or RIB_GENERIC_ADDPATH.
pub const fn is_subtype(subtype: u16) -> bool {
    matches!(subtype, RIB_GENERIC | RIB_GENERIC_ADDPATH)
}

/// One NLRI of any family and its routes from all peers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RibGeneric {
    /// ADD-PATH subtype RIB_GENERIC_ADDPATH (RFC 8050).
    pub add_path: bool,
    /// Sequence number of the record in the dump.
    pub sequence_number: u32,
    /// The address family.
    pub afi: Afi,
    /// The subsequent address family.
    pub safi: Safi,
    /// The path identifier in front of the NLRI: `Some` exactly for an
    /// ADD-PATH record in the RFC 8050 layout (whose entries then have
    /// none); `None` for RIB_GENERIC and for the OpenBGPD/GoBGP layout
    /// (whose entries all have one).
    pub path_id: Option<PathId>,
    /// The single NLRI, raw, as it would appear in MP_REACH_NLRI, without
    /// path identifier.
    pub nlri: Bytes,
    /// The routes.
    pub entries: Vec<RibEntry>,
}

/// The length of the NLRI at the start of `buf` for the family, or `None`
/// when `buf` is too short.
pub fn nlri_len(afi: Afi, safi: Safi, buf: &[u8]) -> Option<usize> {
    let first = usize::from(*buf.first()?);
    let len = match (afi, safi.to_u8()) {
        (_, 133 | 134) => {
            if first < 0xf0 {
                1 + first
            } else {
                2 + (((first & 0x0f) << 8) | usize::from(*buf.get(1)?))
            }
        }
        (Afi::Other(16388), _) => {
            let l = u16::from_be_bytes([*buf.get(2)?, *buf.get(3)?]);
            4 + usize::from(l)
        }
        (Afi::Other(25), 70) | (_, 5) => 2 + usize::from(*buf.get(1)?),
        _ => 1 + first.div_ceil(8),
    };
    (len <= buf.len()).then_some(len)
}

impl RibGeneric {
    /// Decodes the body of subtype 6 or 12.
    pub fn decode(subtype: u16, body: Bytes) -> Result<Self, DecodeError> {
        match subtype {
            RIB_GENERIC => Self::decode_layout(body, false, false),
            RIB_GENERIC_ADDPATH => {
                let rfc = Self::decode_layout(body.clone(), true, true);
                match rfc {
                    Ok(r) => Ok(r),
                    Err(e) => Self::decode_layout(body, true, false).map_err(|_| e),
                }
            }
            _ => Err(DecodeError::Invalid {
                what: "RIB_GENERIC subtype",
            }),
        }
    }

    /// Decodes one layout; with ADD-PATH the body must be used up exactly,
    /// as that is what tells the two layouts apart.
    fn decode_layout(body: Bytes, add_path: bool, id_in_nlri: bool) -> Result<Self, DecodeError> {
        let mut c = Cursor::new(body, "TABLE_DUMP_V2 RIB_GENERIC record");
        let sequence_number = c.u32()?;
        let afi = Afi::from(c.u16()?);
        let safi = Safi::from(c.u8()?);
        let path_id = if id_in_nlri { Some(c.u32()?) } else { None };
        let len = nlri_len(afi, safi, c.peek()).ok_or(DecodeError::Truncated {
            what: "RIB_GENERIC NLRI",
        })?;
        let nlri = c.bytes(len)?;
        let entries = decode_entries(&mut c, add_path && !id_in_nlri)?;
        if add_path && c.remaining() != 0 {
            return Err(DecodeError::Invalid {
                what: "RIB_GENERIC_ADDPATH record length",
            });
        }
        Ok(RibGeneric {
            add_path,
            sequence_number,
            afi,
            safi,
            path_id,
            nlri,
            entries,
        })
    }

    /// The subtype: RIB_GENERIC or RIB_GENERIC_ADDPATH.
    pub fn subtype(&self) -> u16 {
        if self.add_path {
            RIB_GENERIC_ADDPATH
        } else {
            RIB_GENERIC
        }
    }

    /// The address family.
    pub fn family(&self) -> AfiSafi {
        AfiSafi::new(self.afi, self.safi)
    }

    /// Appends the body (without common header). The NLRI is written as
    /// it is; it must be one NLRI of the family for the record to decode.
    /// Fails when the path identifiers fit neither layout: without
    /// `add_path` none may be present; with it, either
    /// [`RibGeneric::path_id`] or every entry's.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let in_entries = match (self.add_path, self.path_id) {
            (false, None) => false,
            (true, Some(_)) => false,
            (true, None) => true,
            (false, Some(_)) => {
                return Err(EncodeError::Invalid {
                    what: "RIB_GENERIC path identifier without ADD-PATH subtype",
                });
            }
        };
        buf.put_u32(self.sequence_number);
        buf.put_u16(self.afi.to_u16());
        buf.put_u8(self.safi.to_u8());
        if let Some(id) = self.path_id {
            buf.put_u32(id);
        }
        buf.put_slice(&self.nlri);
        encode_entries(&self.entries, in_entries, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mrt::strategies;
    use proptest::prelude::*;

    /// A VPNv4 or plain NLRI: bit length and that many octets.
    fn arb_nlri() -> impl Strategy<Value = Bytes> {
        (0u8..=255).prop_flat_map(|bits| {
            proptest::collection::vec(any::<u8>(), usize::from(bits).div_ceil(8)).prop_map(
                move |v| {
                    let mut b = vec![bits];
                    b.extend(v);
                    Bytes::from(b)
                },
            )
        })
    }

    proptest! {
        #[test]
        fn round_trip(
            layout in 0u8..3,
            sequence_number: u32,
            id: u32,
            afi in prop_oneof![Just(1u16), Just(2u16)],
            safi in prop_oneof![Just(1u8), Just(4u8), Just(128u8)],
            nlri in arb_nlri(),
            entries in crate::mrt::rib_entry::strategies::entries(false),
        ) {
            // 0: RIB_GENERIC; 1: ADD-PATH, RFC 8050 layout; 2: ADD-PATH,
            // path identifiers in the entries.
            let entries = entries
                .into_iter()
                .enumerate()
                .map(|(i, mut e)| { e.path_id = (layout == 2).then_some(i as u32); e })
                .collect();
            let r = RibGeneric {
                add_path: layout != 0,
                sequence_number,
                afi: afi.into(),
                safi: safi.into(),
                path_id: (layout == 1).then_some(id),
                nlri,
                entries,
            };
            let mut buf = BytesMut::new();
            r.encode(&mut buf).unwrap();
            let bytes = buf.freeze();
            let d = RibGeneric::decode(r.subtype(), bytes.clone()).unwrap();
            if layout == 2 && d.path_id.is_some() {
                // These octets are also a whole record in the RFC 8050
                // layout, which decoding prefers: the reading differs, the
                // octets must not.
                let mut again = BytesMut::new();
                d.encode(&mut again).unwrap();
                prop_assert_eq!(again.freeze(), bytes);
            } else {
                prop_assert_eq!(d, r);
            }
        }

        #[test]
        fn never_panics(sub in 5u16..13, body in strategies::bytes(80)) {
            let _ = RibGeneric::decode(sub, body);
        }
    }

    #[test]
    fn both_add_path_layouts() {
        // VPNv4 NLRI 112 bits: label, RD, 10.0.0.0/24 (14 octets).
        let nlri: &[u8] = &[112, 0, 0, 1, 0, 0, 0, 100, 0, 0, 0, 1, 10, 0, 0];
        let rfc = [
            &[0, 0, 0, 9, 0, 1, 128, 0, 0, 0, 7][..],
            nlri,
            &[0, 1, 0, 3, 0, 0, 0, 5, 0, 0],
        ]
        .concat();
        let r = RibGeneric::decode(RIB_GENERIC_ADDPATH, Bytes::from(rfc)).unwrap();
        assert_eq!(
            (r.path_id, r.nlri.len(), r.entries[0].path_id),
            (Some(7), 15, None)
        );
        let gobgp = [
            &[0, 0, 0, 9, 0, 1, 128][..],
            nlri,
            &[0, 1, 0, 3, 0, 0, 0, 5, 0, 0, 0, 7, 0, 0],
        ]
        .concat();
        let r = RibGeneric::decode(RIB_GENERIC_ADDPATH, Bytes::from(gobgp)).unwrap();
        assert_eq!(
            (r.path_id, r.nlri.len(), r.entries[0].path_id),
            (None, 15, Some(7))
        );
    }

    #[test]
    fn nlri_lengths() {
        assert_eq!(
            nlri_len(
                Afi::Ipv4,
                Safi::Other(128),
                &[112, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
            ),
            Some(15)
        );
        assert_eq!(nlri_len(Afi::Ipv4, Safi::Other(133), &[2, 1, 2]), Some(3));
        assert_eq!(nlri_len(Afi::Ipv4, Safi::Other(133), &[0xf0, 5, 0]), None);
        assert_eq!(
            nlri_len(Afi::Other(16388), Safi::Other(71), &[0, 1, 0, 1, 9]),
            Some(5)
        );
        assert_eq!(nlri_len(Afi::Ipv4, Safi::Unicast, &[]), None);
    }
}
