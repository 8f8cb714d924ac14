//! RIB entries of the TABLE_DUMP_V2 RIB records (RFC 6396 section 4.3.4,
//! with the path identifier of RFC 8050 section 4 in the ADD-PATH
//! subtypes).
//!
//! ```text
//! Peer Index (2) | Originated Time (4) | [Path Identifier (4), ADD-PATH only]
//! Attribute Length (2) | BGP Attributes (variable)
//! ```
//!
//! # Notes for the path attribute decoder
//!
//! The attribute block is that of an UPDATE, with two differences:
//!
//! - AS numbers in AS_PATH and AGGREGATOR are always 4 octets wide
//!   (RFC 6396 4.3.4), whatever the peer's session negotiated: decode with a
//!   [`SessionContext`](crate::SessionContext) that has `four_octet_as`
//!   set.
//! - MP_REACH_NLRI (type 14) is shortened: RFC 6396 4.3.4 keeps only the
//!   Next Hop Length octet and the next hop address. There is no AFI, SAFI,
//!   reserved octet or NLRI in it (the prefix is the record's, and the
//!   family follows from the subtype or from RIB_GENERIC's AFI/SAFI).
//!   Some writers nevertheless emit the full RFC 4760 form (AFI, SAFI, next
//!   hop length, next hop, reserved octet, NLRI): in the shared corpus,
//!   Quagga's `quagga_rib.mrt` and RIPE's `bview.64k_stream_overflow.gz`
//!   do (29 attributes), every other TABLE_DUMP_V2 file uses the short
//!   form. A decoder tells them apart by the first octet: in the short
//!   form it equals the attribute length minus one; in the full form it is
//!   the high octet of the AFI (0).
//!
//! In the ADD-PATH subtypes 8 to 11 (RFC 8050) the path identifier is
//! here, in the entry, never in the record's prefix. RIB_GENERIC_ADDPATH
//! has two layouts in the wild: see [`super::rib_generic`].

use bytes::{BufMut, Bytes, BytesMut};

use super::{Cursor, put_u16_block};
use crate::error::{DecodeError, EncodeError};
use crate::nlri::PathId;

/// One route of a TABLE_DUMP_V2 RIB record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RibEntry {
    /// Index of the peer in the preceding PEER_INDEX_TABLE.
    pub peer_index: u16,
    /// When the route was received, seconds since the Unix epoch.
    pub originated_time: u32,
    /// The path identifier, present exactly in the ADD-PATH subtypes
    /// (except RIB_GENERIC_ADDPATH in the RFC 8050 layout, where it is in
    /// the record).
    pub path_id: Option<PathId>,
    /// The path attribute block, raw (4-octet AS numbers, shortened
    /// MP_REACH_NLRI: see the module documentation).
    pub attributes: Bytes,
}

/// Decodes the Entry Count and the entries that follow it.
pub(crate) fn decode_entries(c: &mut Cursor, add_path: bool) -> Result<Vec<RibEntry>, DecodeError> {
    let count = usize::from(c.u16()?);
    // Each entry takes at least 8 octets: never reserve beyond the body.
    let mut entries = Vec::with_capacity(count.min(c.remaining() / 8));
    for _ in 0..count {
        let peer_index = c.u16()?;
        let originated_time = c.u32()?;
        let path_id = if add_path { Some(c.u32()?) } else { None };
        let len = c.u16()?;
        let attributes = c.bytes(usize::from(len))?;
        entries.push(RibEntry {
            peer_index,
            originated_time,
            path_id,
            attributes,
        });
    }
    Ok(entries)
}

/// Appends the Entry Count and the entries; every entry must have a path
/// identifier exactly when `add_path` is set.
pub(crate) fn encode_entries(
    entries: &[RibEntry],
    add_path: bool,
    buf: &mut BytesMut,
) -> Result<(), EncodeError> {
    let count = u16::try_from(entries.len()).map_err(|_| EncodeError::FieldTooLong {
        what: "RIB entry count",
    })?;
    buf.put_u16(count);
    for e in entries {
        buf.put_u16(e.peer_index);
        buf.put_u32(e.originated_time);
        match (add_path, e.path_id) {
            (true, Some(id)) => buf.put_u32(id),
            (false, None) => {}
            _ => {
                return Err(EncodeError::Invalid {
                    what: "RIB entry path identifier does not match the ADD-PATH subtype",
                });
            }
        }
        put_u16_block(buf, &e.attributes, "RIB entry attributes")?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod strategies {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn entries(add_path: bool) -> impl Strategy<Value = Vec<RibEntry>> {
        proptest::collection::vec(
            (
                any::<u16>(),
                any::<u32>(),
                any::<u32>(),
                crate::mrt::strategies::bytes(40),
            )
                .prop_map(move |(peer_index, originated_time, id, attributes)| {
                    RibEntry {
                        peer_index,
                        originated_time,
                        path_id: add_path.then_some(id),
                        attributes,
                    }
                }),
            0..6,
        )
    }
}
