//! BGP path attributes (RFC 4271 4.3 and 5, and the RFCs that define each
//! attribute), one module per attribute, the decoded attribute set
//! [`PathAttributes`], and the RFC 7606 classification of their errors
//! ([`error_handling`]).
//!
//! Attribute values that have a variable length (AS_PATH, COMMUNITIES, ...)
//! are kept as [`Bytes`] in their wire form and read through typed,
//! allocation-free iterators. Decoding from an UPDATE shares the message's
//! buffer; [`PathAttributes::unshare`] copies all values into one fresh
//! allocation for long-lived storage (a RIB).

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

use crate::error::UpdateMessageSubcode;

pub mod aggregator;
pub mod aigp;
pub mod as4_aggregator;
pub mod as4_path;
pub mod as_path;
pub mod atomic_aggregate;
pub mod cluster_list;
pub mod communities;
pub mod error_handling;
pub mod extended_communities;
pub mod ipv6_extended_communities;
pub mod large_communities;
pub mod local_pref;
pub mod mp_reach_nlri;
pub mod mp_unreach_nlri;
pub mod multi_exit_disc;
pub mod next_hop;
pub mod origin;
pub mod originator_id;
pub mod otc;
pub mod path_attributes;
pub mod unknown;

pub use aggregator::Aggregator;
pub use aigp::Aigp;
pub use as_path::{AsPath, Segment, SegmentType};
pub use cluster_list::ClusterList;
pub use communities::{Communities, Community};
pub use error_handling::{Action, AttributeProblem, ErrorReport, PeerType};
pub use extended_communities::{ExtendedCommunities, ExtendedCommunity, GlobalAdmin};
pub use ipv6_extended_communities::{Ipv6ExtendedCommunities, Ipv6ExtendedCommunity};
pub use large_communities::{LargeCommunities, LargeCommunity};
pub use mp_reach_nlri::{MpNextHop, MpReachNlri};
pub use mp_unreach_nlri::MpUnreachNlri;
pub use origin::Origin;
pub use path_attributes::{DecodedAttributes, PathAttributes};
pub use unknown::RawAttribute;

/// Attribute type codes (IANA "BGP Path Attributes").
pub mod type_code {
    /// ORIGIN (RFC 4271).
    pub const ORIGIN: u8 = 1;
    /// AS_PATH (RFC 4271).
    pub const AS_PATH: u8 = 2;
    /// NEXT_HOP (RFC 4271).
    pub const NEXT_HOP: u8 = 3;
    /// MULTI_EXIT_DISC (RFC 4271).
    pub const MULTI_EXIT_DISC: u8 = 4;
    /// LOCAL_PREF (RFC 4271).
    pub const LOCAL_PREF: u8 = 5;
    /// ATOMIC_AGGREGATE (RFC 4271).
    pub const ATOMIC_AGGREGATE: u8 = 6;
    /// AGGREGATOR (RFC 4271).
    pub const AGGREGATOR: u8 = 7;
    /// COMMUNITIES (RFC 1997).
    pub const COMMUNITIES: u8 = 8;
    /// ORIGINATOR_ID (RFC 4456).
    pub const ORIGINATOR_ID: u8 = 9;
    /// CLUSTER_LIST (RFC 4456).
    pub const CLUSTER_LIST: u8 = 10;
    /// MP_REACH_NLRI (RFC 4760).
    pub const MP_REACH_NLRI: u8 = 14;
    /// MP_UNREACH_NLRI (RFC 4760).
    pub const MP_UNREACH_NLRI: u8 = 15;
    /// EXTENDED COMMUNITIES (RFC 4360).
    pub const EXTENDED_COMMUNITIES: u8 = 16;
    /// AS4_PATH (RFC 6793).
    pub const AS4_PATH: u8 = 17;
    /// AS4_AGGREGATOR (RFC 6793).
    pub const AS4_AGGREGATOR: u8 = 18;
    /// IPv6 Address Specific Extended Community (RFC 5701).
    pub const IPV6_EXTENDED_COMMUNITIES: u8 = 25;
    /// AIGP (RFC 7311).
    pub const AIGP: u8 = 26;
    /// LARGE_COMMUNITY (RFC 8092).
    pub const LARGE_COMMUNITY: u8 = 32;
    /// Only to Customer (RFC 9234).
    pub const OTC: u8 = 35;
}

/// The Attribute Flags octet (RFC 4271 4.3), kept whole so that the four
/// low-order bits and the choice of length encoding survive re-encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u8);

impl Flags {
    /// Optional bit (high-order bit).
    pub const OPTIONAL: u8 = 0x80;
    /// Transitive bit.
    pub const TRANSITIVE: u8 = 0x40;
    /// Partial bit.
    pub const PARTIAL: u8 = 0x20;
    /// Extended Length bit: the length field is two octets.
    pub const EXTENDED_LENGTH: u8 = 0x10;

    /// Flags of a well-known attribute: transitive, not optional.
    pub const WELL_KNOWN: Flags = Flags(Self::TRANSITIVE);
    /// Flags of an optional transitive attribute.
    pub const OPTIONAL_TRANSITIVE: Flags = Flags(Self::OPTIONAL | Self::TRANSITIVE);
    /// Flags of an optional non-transitive attribute.
    pub const OPTIONAL_NON_TRANSITIVE: Flags = Flags(Self::OPTIONAL);

    /// Whether the Optional bit is set.
    pub const fn optional(self) -> bool {
        self.0 & Self::OPTIONAL != 0
    }
    /// Whether the Transitive bit is set.
    pub const fn transitive(self) -> bool {
        self.0 & Self::TRANSITIVE != 0
    }
    /// Whether the Partial bit is set.
    pub const fn partial(self) -> bool {
        self.0 & Self::PARTIAL != 0
    }
    /// Whether the Extended Length bit is set.
    pub const fn extended_length(self) -> bool {
        self.0 & Self::EXTENDED_LENGTH != 0
    }
    /// The Optional and Transitive bits only, the part RFC 7606 3(c) checks.
    pub const fn category(self) -> u8 {
        self.0 & (Self::OPTIONAL | Self::TRANSITIVE)
    }
    /// These flags with `bit` set.
    pub const fn with(self, bit: u8) -> Flags {
        Flags(self.0 | bit)
    }
}

impl fmt::Display for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:02x}", self.0)
    }
}

/// Why one attribute value is malformed: the UPDATE Message Error subcode a
/// NOTIFICATION would carry, and a short reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Malformed {
    /// The subcode (RFC 4271 6.3).
    pub subcode: UpdateMessageSubcode,
    /// What was wrong.
    pub reason: &'static str,
}

impl Malformed {
    /// An Attribute Length Error.
    pub const fn length(reason: &'static str) -> Self {
        Malformed {
            subcode: UpdateMessageSubcode::AttributeLengthError,
            reason,
        }
    }
    /// An Optional Attribute Error.
    pub const fn optional(reason: &'static str) -> Self {
        Malformed {
            subcode: UpdateMessageSubcode::OptionalAttributeError,
            reason,
        }
    }
}

/// The value of an attribute that is exactly four octets long (LOCAL_PREF,
/// MULTI_EXIT_DISC, ORIGINATOR_ID, OTC); any other length is an Attribute
/// Length Error with the given reason.
pub(crate) fn four_octets(value: &[u8], reason: &'static str) -> Result<[u8; 4], Malformed> {
    match value.first_chunk::<4>() {
        Some(a) if value.len() == 4 => Ok(*a),
        _ => Err(Malformed::length(reason)),
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.subcode, self.reason)
    }
}

/// Appends an attribute header (flags, type code, length) for a value of
/// `len` octets. The Extended Length bit is set when `flags` asks for it or
/// when `len` exceeds 255; it is the only change made to `flags`.
///
/// Returns the flags actually written. Values longer than 65,535 octets
/// cannot be encoded; the caller checks that (every message limit is lower).
pub fn put_header(flags: Flags, code: u8, len: usize, buf: &mut BytesMut) -> Flags {
    let flags = if len > 255 {
        flags.with(Flags::EXTENDED_LENGTH)
    } else {
        flags
    };
    buf.put_u8(flags.0);
    buf.put_u8(code);
    if flags.extended_length() {
        buf.put_u16(u16::try_from(len).unwrap_or(u16::MAX));
    } else {
        buf.put_u8(u8::try_from(len).unwrap_or(u8::MAX));
    }
    flags
}

/// Octets an attribute header takes for these flags and value length.
pub const fn header_len(flags: Flags, len: usize) -> usize {
    if flags.extended_length() || len > 255 {
        4
    } else {
        3
    }
}

/// Copies `src` into `dst` at the end and returns the shared slice: used by
/// [`PathAttributes::unshare`] to move every value into one allocation.
pub(crate) fn rehome(b: &Bytes, arena: &Bytes, offset: &mut usize) -> Bytes {
    let start = *offset;
    *offset += b.len();
    arena.slice(start..*offset)
}

/// Reads a big-endian `u32` from exactly four octets.
pub(crate) fn be_u32(v: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(*v.first_chunk::<4>()?))
}

/// Reads a big-endian `u16` from the first two octets.
pub(crate) fn be_u16(v: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes(*v.first_chunk::<2>()?))
}

/// A fixed-size element of a list-valued attribute (communities, cluster
/// list, ...).
pub trait ListItem: Sized {
    /// Octets one element takes.
    const SIZE: usize;
    /// Reads one element from exactly `SIZE` octets.
    fn from_wire(b: &[u8]) -> Option<Self>;
    /// Appends the element.
    fn to_wire(&self, buf: &mut BytesMut);
}

/// Defines a list-valued attribute type: a newtype over the wire bytes with
/// decode, iteration, construction and encoding.
macro_rules! list_attribute {
    ($(#[$meta:meta])* $name:ident, $item:ty, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
        pub struct $name(bytes::Bytes);

        impl $name {
            /// Decodes the attribute value: a non-zero multiple of the
            /// element size (RFC 7606 7).
            pub fn decode(value: &bytes::Bytes) -> Result<Self, $crate::attribute::Malformed> {
                Self::decode_value(value.clone())
            }

            /// Like `decode`, keeping `value` itself.
            #[allow(dead_code, reason = "not every list attribute is decoded this way")]
            pub(crate) fn decode_value(
                value: bytes::Bytes,
            ) -> Result<Self, $crate::attribute::Malformed> {
                let size = <$item as $crate::attribute::ListItem>::SIZE;
                if value.is_empty() || value.len() % size != 0 {
                    return Err($crate::attribute::Malformed::length(concat!(
                        $what,
                        " length is not a non-zero multiple of the element size"
                    )));
                }
                Ok($name(value))
            }

            /// Builds the attribute from elements.
            pub fn from_items<'a>(items: impl IntoIterator<Item = &'a $item>) -> Self
            where
                $item: 'a,
            {
                let mut buf = bytes::BytesMut::new();
                for i in items {
                    $crate::attribute::ListItem::to_wire(i, &mut buf);
                }
                $name(buf.freeze())
            }

            /// The elements, in wire order.
            pub fn iter(&self) -> impl Iterator<Item = $item> + '_ {
                self.0
                    .chunks_exact(<$item as $crate::attribute::ListItem>::SIZE)
                    .filter_map(<$item as $crate::attribute::ListItem>::from_wire)
            }

            /// Number of elements.
            pub fn len(&self) -> usize {
                self.0.len() / <$item as $crate::attribute::ListItem>::SIZE
            }

            /// Whether there are no elements (never true for a decoded value).
            pub fn is_empty(&self) -> bool {
                self.0.is_empty()
            }

            /// Whether `item` is in the list.
            pub fn contains(&self, item: &$item) -> bool
            where
                $item: PartialEq,
            {
                self.iter().any(|i| i == *item)
            }

            /// The wire form of the value.
            pub fn as_bytes(&self) -> &bytes::Bytes {
                &self.0
            }

            /// Length of the encoded value.
            pub fn value_len(&self) -> usize {
                self.0.len()
            }

            /// Appends the value.
            pub fn encode_value(&self, buf: &mut bytes::BytesMut) {
                bytes::BufMut::put_slice(buf, &self.0);
            }

            pub(crate) fn rehome(&self, arena: &bytes::Bytes, offset: &mut usize) -> Self {
                $name($crate::attribute::rehome(&self.0, arena, offset))
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_list().entries(self.iter()).finish()
            }
        }

        impl std::fmt::Display for $name {
            /// The elements separated by spaces.
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                for (i, c) in self.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "{c}")?;
                }
                Ok(())
            }
        }
    };
}
pub(crate) use list_attribute;
