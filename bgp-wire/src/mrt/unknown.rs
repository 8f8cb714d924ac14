//! Records of types and subtypes this crate does not decode: OSPF, IS-IS,
//! the deprecated BGP4MP_ENTRY and BGP4MP_SNAPSHOT, GEO_PEER_TABLE (RFC
//! 6397), and anything registered later. They are kept raw so that a file
//! can be copied record for record.

use bytes::Bytes;

/// A record kept as its type, subtype and raw body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// The MRT type.
    pub mrt_type: u16,
    /// The subtype.
    pub subtype: u16,
    /// The body, without the microsecond field when the type has an
    /// extended timestamp (that is in [`super::MrtRecord::microseconds`]).
    pub data: Bytes,
}
