//! MRT routing information export format (RFC 6396, with the ADD-PATH
//! extensions of RFC 8050): a reader for files and in-memory buffers, the
//! record types, and their encoders.
//!
//! An MRT file is a sequence of records, each a 12-octet
//! [`CommonHeader`] (timestamp, type, subtype, length) and a body of the
//! stated length. [`MrtRecord`] is one decoded record; its [`MrtBody`] says
//! which kind:
//!
//! | type / subtype | body | module |
//! |---|---|---|
//! | 12 / 1, 2 (TABLE_DUMP) | [`TableDump`] | [`table_dump`] |
//! | 13 / 1 (PEER_INDEX_TABLE) | [`PeerIndexTable`] | [`peer_index_table`] |
//! | 13 / 2 to 5, 8 to 11 (RIB_IPV4_UNICAST ... RIB_IPV6_MULTICAST_ADDPATH) | [`RibAfi`] | [`rib_afi`] |
//! | 13 / 6, 12 (RIB_GENERIC, RIB_GENERIC_ADDPATH) | [`RibGeneric`] | [`rib_generic`] |
//! | 16, 17 / 0, 5 (BGP4MP_STATE_CHANGE, _AS4) | [`Bgp4mpStateChange`] | [`bgp4mp_state_change`] |
//! | 16, 17 / 1, 4, 6 to 11 (BGP4MP_MESSAGE and variants) | [`Bgp4mpMessage`] | [`bgp4mp_message`] |
//! | anything else | [`MrtBody::Unknown`] | [`unknown`] |
//!
//! The RIB entries of TABLE_DUMP_V2 are [`RibEntry`] values ([`rib_entry`]);
//! the fields shared by all BGP4MP subtypes are a [`Bgp4mpPeering`]
//! ([`bgp4mp`]).
//!
//! Types with an extended timestamp (17 BGP4MP_ET, 33 ISIS_ET,
//! 49 OSPFv3_ET) carry a microsecond field at the start of the body, counted
//! in the header's length; it is decoded into [`MrtRecord::microseconds`]
//! and not part of the body. A BGP4MP body with microseconds is written as
//! type 17, without as type 16.
//!
//! # Raw BGP data
//!
//! The reader does not decode BGP messages or path attributes: a
//! [`Bgp4mpMessage`] carries the whole BGP message (header included) as
//! [`bytes::Bytes`], a [`RibEntry`] and a [`TableDump`] their path attribute
//! block. To decode them, a message decoder needs a
//! [`SessionContext`](crate::SessionContext): see [`session`] for the
//! per-session state (4-octet AS, ADD-PATH) an MRT file implies, and
//! [`rib_entry`] for the shortened MP_REACH_NLRI found in TABLE_DUMP_V2.
//!
//! # Reading
//!
//! [`open_path`] opens a plain, gzip or bzip2 file; [`MrtReader`] yields
//! the records of any [`std::io::Read`] one by one, in bounded memory;
//! [`MrtParser`] walks an in-memory [`Bytes`] buffer without copying
//! ([`read_decompressed`] loads a file into one). A
//! record whose body is malformed is an [`MrtError::Decode`] and the next
//! call continues with the next record; unknown types and subtypes are
//! [`MrtBody::Unknown`] records, not errors.
//!
//! ```no_run
//! use bgp_wire::mrt::{self, MrtBody};
//!
//! # fn main() -> Result<(), mrt::MrtError> {
//! let mut updates = 0;
//! for record in mrt::open_path("updates.20190101.0000.gz")? {
//!     match record {
//!         Ok(record) => {
//!             if let MrtBody::Bgp4mpMessage(m) = &record.body {
//!                 // m.message is the whole BGP message; byte 18 is its type.
//!                 if m.message_type() == Some(2) {
//!                     updates += 1;
//!                 }
//!             }
//!         }
//!         // A malformed record: reported, and the reader goes on.
//!         Err(mrt::MrtError::Decode { header, error }) => {
//!             eprintln!("record type {} skipped: {error}", header.mrt_type);
//!         }
//!         // I/O error or a record length beyond reason: the reader stops.
//!         Err(e) => return Err(e),
//!     }
//! }
//! println!("{updates} UPDATE messages");
//! # Ok(())
//! # }
//! ```
//!
//! Writing: [`MrtRecord::encode`] appends a whole record (header included).
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use bgp_wire::mrt::{MrtBody, MrtParser, MrtRecord, Unknown};
//!
//! let record = MrtRecord {
//!     timestamp: 1_700_000_000,
//!     microseconds: None,
//!     body: MrtBody::Unknown(Unknown { mrt_type: 99, subtype: 1, data: Bytes::from_static(b"x") }),
//! };
//! let mut buf = BytesMut::new();
//! record.encode(&mut buf).unwrap();
//! let mut parser = MrtParser::new(buf.freeze());
//! assert_eq!(parser.next().unwrap().unwrap(), record);
//! assert!(parser.next().is_none());
//! ```

use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::{DecodeError, EncodeError};

pub mod bgp4mp;
pub mod bgp4mp_message;
pub mod bgp4mp_state_change;
pub mod header;
pub mod peer_index_table;
pub mod reader;
pub mod rib_afi;
pub mod rib_entry;
pub mod rib_generic;
pub mod session;
pub mod table_dump;
pub mod unknown;

pub use bgp4mp::Bgp4mpPeering;
pub use bgp4mp_message::Bgp4mpMessage;
pub use bgp4mp_state_change::Bgp4mpStateChange;
pub use header::CommonHeader;
pub use peer_index_table::{PeerEntry, PeerIndexTable};
pub use reader::{
    DEFAULT_MAX_RECORD_LEN, MrtError, MrtParser, MrtReader, open_path, read_decompressed,
};
pub use rib_afi::RibAfi;
pub use rib_entry::RibEntry;
pub use rib_generic::RibGeneric;
pub use session::{MrtSession, MrtSessions, SessionKey};
pub use table_dump::TableDump;
pub use unknown::Unknown;

/// MRT type numbers (RFC 6396 section 4, IANA "MRT Types").
pub mod types {
    /// OSPFv2 (11).
    pub const OSPF2: u16 = 11;
    /// TABLE_DUMP (12).
    pub const TABLE_DUMP: u16 = 12;
    /// TABLE_DUMP_V2 (13).
    pub const TABLE_DUMP_V2: u16 = 13;
    /// BGP4MP (16).
    pub const BGP4MP: u16 = 16;
    /// BGP4MP_ET (17), BGP4MP with microsecond timestamps.
    pub const BGP4MP_ET: u16 = 17;
    /// ISIS (32).
    pub const ISIS: u16 = 32;
    /// ISIS_ET (33).
    pub const ISIS_ET: u16 = 33;
    /// OSPFv3 (48).
    pub const OSPF3: u16 = 48;
    /// OSPFv3_ET (49).
    pub const OSPF3_ET: u16 = 49;

    /// Whether records of this type start their body with a 4-octet
    /// microsecond timestamp (RFC 6396 3).
    pub const fn has_extended_timestamp(mrt_type: u16) -> bool {
        matches!(mrt_type, BGP4MP_ET | ISIS_ET | OSPF3_ET)
    }
}

/// The body of an MRT record, by type and subtype.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MrtBody {
    /// TABLE_DUMP (12), subtypes AFI_IPv4 (1) and AFI_IPv6 (2).
    TableDump(TableDump),
    /// TABLE_DUMP_V2 PEER_INDEX_TABLE (13/1).
    PeerIndexTable(PeerIndexTable),
    /// TABLE_DUMP_V2 RIB_IPV4_UNICAST ... RIB_IPV6_MULTICAST (13/2-5) and
    /// their ADD-PATH variants (13/8-11).
    RibAfi(RibAfi),
    /// TABLE_DUMP_V2 RIB_GENERIC (13/6) and RIB_GENERIC_ADDPATH (13/12).
    RibGeneric(RibGeneric),
    /// BGP4MP / BGP4MP_ET STATE_CHANGE (0) and STATE_CHANGE_AS4 (5).
    Bgp4mpStateChange(Bgp4mpStateChange),
    /// BGP4MP / BGP4MP_ET MESSAGE (1), MESSAGE_AS4 (4), MESSAGE_LOCAL (6),
    /// MESSAGE_AS4_LOCAL (7) and their ADD-PATH variants (8-11).
    Bgp4mpMessage(Bgp4mpMessage),
    /// Any other type or subtype, kept raw.
    Unknown(Unknown),
}

/// One MRT record: the timestamp of its header and its decoded body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MrtRecord {
    /// Seconds since the Unix epoch (header timestamp).
    pub timestamp: u32,
    /// The microsecond field of the extended timestamp types (17, 33, 49).
    /// On encoding, `Some` makes a BGP4MP body a BGP4MP_ET record; it is
    /// ignored for TABLE_DUMP and TABLE_DUMP_V2 bodies, and for an
    /// [`Unknown`] body it is written (0 when `None`) exactly when the
    /// unknown's type is an extended timestamp type.
    pub microseconds: Option<u32>,
    /// The body.
    pub body: MrtBody,
}

impl MrtRecord {
    /// Decodes the body of the record described by `header`. `body` is the
    /// whole body of `header.length` octets (microseconds included for the
    /// extended timestamp types).
    ///
    /// Unknown types and subtypes give an [`MrtBody::Unknown`]; malformed
    /// known records give a [`DecodeError::Truncated`] or
    /// [`DecodeError::Invalid`].
    pub fn decode(header: &CommonHeader, mut body: Bytes) -> Result<Self, DecodeError> {
        let microseconds = if types::has_extended_timestamp(header.mrt_type) {
            if body.len() < 4 {
                return Err(DecodeError::Truncated {
                    what: "MRT extended timestamp",
                });
            }
            Some(body.get_u32())
        } else {
            None
        };
        let sub = header.subtype;
        let body = match header.mrt_type {
            types::TABLE_DUMP if table_dump::is_subtype(sub) => {
                MrtBody::TableDump(TableDump::decode(sub, body)?)
            }
            types::TABLE_DUMP_V2 if sub == peer_index_table::SUBTYPE => {
                MrtBody::PeerIndexTable(PeerIndexTable::decode(body)?)
            }
            types::TABLE_DUMP_V2 if rib_afi::is_subtype(sub) => {
                MrtBody::RibAfi(RibAfi::decode(sub, body)?)
            }
            types::TABLE_DUMP_V2 if rib_generic::is_subtype(sub) => {
                MrtBody::RibGeneric(RibGeneric::decode(sub, body)?)
            }
            types::BGP4MP | types::BGP4MP_ET if bgp4mp_state_change::is_subtype(sub) => {
                MrtBody::Bgp4mpStateChange(Bgp4mpStateChange::decode(sub, body)?)
            }
            types::BGP4MP | types::BGP4MP_ET if bgp4mp_message::is_subtype(sub) => {
                MrtBody::Bgp4mpMessage(Bgp4mpMessage::decode(sub, body)?)
            }
            mrt_type => MrtBody::Unknown(Unknown {
                mrt_type,
                subtype: sub,
                data: body,
            }),
        };
        Ok(MrtRecord {
            timestamp: header.timestamp,
            microseconds,
            body,
        })
    }

    /// The MRT type this record is written with.
    pub fn mrt_type(&self) -> u16 {
        match &self.body {
            MrtBody::TableDump(_) => types::TABLE_DUMP,
            MrtBody::PeerIndexTable(_) | MrtBody::RibAfi(_) | MrtBody::RibGeneric(_) => {
                types::TABLE_DUMP_V2
            }
            MrtBody::Bgp4mpStateChange(_) | MrtBody::Bgp4mpMessage(_) => {
                if self.microseconds.is_some() {
                    types::BGP4MP_ET
                } else {
                    types::BGP4MP
                }
            }
            MrtBody::Unknown(u) => u.mrt_type,
        }
    }

    /// The MRT subtype this record is written with.
    pub fn subtype(&self) -> u16 {
        match &self.body {
            MrtBody::TableDump(r) => r.subtype(),
            MrtBody::PeerIndexTable(_) => peer_index_table::SUBTYPE,
            MrtBody::RibAfi(r) => r.subtype(),
            MrtBody::RibGeneric(r) => r.subtype(),
            MrtBody::Bgp4mpStateChange(r) => r.subtype(),
            MrtBody::Bgp4mpMessage(r) => r.subtype(),
            MrtBody::Unknown(u) => u.subtype,
        }
    }

    /// Appends the whole record, common header included.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let mrt_type = self.mrt_type();
        let start = buf.len();
        CommonHeader {
            timestamp: self.timestamp,
            mrt_type,
            subtype: self.subtype(),
            length: 0,
        }
        .encode(buf);
        let body_start = buf.len();
        if types::has_extended_timestamp(mrt_type) {
            buf.put_u32(self.microseconds.unwrap_or(0));
        }
        let res = match &self.body {
            MrtBody::TableDump(r) => r.encode(buf),
            MrtBody::PeerIndexTable(r) => r.encode(buf),
            MrtBody::RibAfi(r) => r.encode(buf),
            MrtBody::RibGeneric(r) => r.encode(buf),
            MrtBody::Bgp4mpStateChange(r) => r.encode(buf),
            MrtBody::Bgp4mpMessage(r) => r.encode(buf),
            MrtBody::Unknown(u) => {
                buf.put_slice(&u.data);
                Ok(())
            }
        };
        if let Err(e) = res {
            buf.truncate(start);
            return Err(e);
        }
        let Ok(length) = u32::try_from(buf.len() - body_start) else {
            buf.truncate(start);
            return Err(EncodeError::FieldTooLong {
                what: "MRT record length",
            });
        };
        if let Some(field) = buf.get_mut(start + 8..start + 12) {
            field.copy_from_slice(&length.to_be_bytes());
        }
        Ok(())
    }
}

/// A bounds-checked reader over a record body; every short read is a
/// [`DecodeError::Truncated`] naming `what`.
#[derive(Debug)]
pub(crate) struct Cursor {
    buf: Bytes,
    what: &'static str,
}

impl Cursor {
    pub(crate) fn new(buf: Bytes, what: &'static str) -> Self {
        Cursor { buf, what }
    }

    fn need(&self, n: usize) -> Result<(), DecodeError> {
        if self.buf.len() < n {
            Err(DecodeError::Truncated { what: self.what })
        } else {
            Ok(())
        }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn peek(&self) -> &[u8] {
        &self.buf
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        self.need(1)?;
        Ok(self.buf.get_u8())
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        self.need(2)?;
        Ok(self.buf.get_u16())
    }

    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        self.need(4)?;
        Ok(self.buf.get_u32())
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<Bytes, DecodeError> {
        self.need(n)?;
        Ok(self.buf.split_to(n))
    }

    pub(crate) fn ipv4(&mut self) -> Result<Ipv4Addr, DecodeError> {
        Ok(Ipv4Addr::from(self.u32()?))
    }

    pub(crate) fn ip(&mut self, v6: bool) -> Result<IpAddr, DecodeError> {
        if v6 {
            self.need(16)?;
            Ok(IpAddr::V6(Ipv6Addr::from(self.buf.get_u128())))
        } else {
            Ok(IpAddr::V4(self.ipv4()?))
        }
    }

    pub(crate) fn rest(self) -> Bytes {
        self.buf
    }
}

/// Appends an IP address in its 4- or 16-octet form.
pub(crate) fn put_ip(buf: &mut BytesMut, ip: &IpAddr) {
    match ip {
        IpAddr::V4(a) => buf.put_slice(&a.octets()),
        IpAddr::V6(a) => buf.put_slice(&a.octets()),
    }
}

/// Appends a 2-octet length and the data, or fails when it does not fit.
pub(crate) fn put_u16_block(
    buf: &mut BytesMut,
    data: &[u8],
    what: &'static str,
) -> Result<(), EncodeError> {
    let len = u16::try_from(data.len()).map_err(|_| EncodeError::FieldTooLong { what })?;
    buf.put_u16(len);
    buf.put_slice(data);
    Ok(())
}

/// Decodes one prefix (length in bits, then the significant octets) with
/// host bits cleared, as [`crate::nlri`] does.
pub(crate) fn decode_prefix(
    cur: &mut Cursor,
    afi: crate::Afi,
) -> Result<ipnet::IpNet, DecodeError> {
    let len = *cur
        .peek()
        .first()
        .ok_or(DecodeError::Truncated { what: "MRT prefix" })?;
    let n = 1 + usize::from(len).div_ceil(8);
    let raw = cur.bytes(n)?;
    let mut it = crate::nlri::NlriIter::new(&raw, afi, false).map_err(|e| match e {
        crate::nlri::NlriError::Truncated => DecodeError::Truncated { what: "MRT prefix" },
        _ => DecodeError::Invalid {
            what: "MRT prefix length",
        },
    })?;
    it.next()
        .map(|n| n.prefix)
        .ok_or(DecodeError::Invalid { what: "MRT prefix" })
}

#[cfg(test)]
pub(crate) mod strategies {
    //! proptest strategies shared by the record modules' tests.
    use super::*;
    use ipnet::{IpNet, Ipv4Net, Ipv6Net};
    use proptest::prelude::*;

    pub(crate) fn ipv4() -> impl Strategy<Value = Ipv4Addr> {
        any::<u32>().prop_map(Ipv4Addr::from)
    }

    pub(crate) fn ip(v6: bool) -> BoxedStrategy<IpAddr> {
        if v6 {
            any::<u128>()
                .prop_map(|a| IpAddr::V6(Ipv6Addr::from(a)))
                .boxed()
        } else {
            ipv4().prop_map(IpAddr::V4).boxed()
        }
    }

    pub(crate) fn prefix(v6: bool) -> BoxedStrategy<IpNet> {
        if v6 {
            (any::<u128>(), 0u8..=128)
                .prop_map(|(a, l)| IpNet::V6(Ipv6Net::new(Ipv6Addr::from(a), l).unwrap().trunc()))
                .boxed()
        } else {
            (any::<u32>(), 0u8..=32)
                .prop_map(|(a, l)| IpNet::V4(Ipv4Net::new(Ipv4Addr::from(a), l).unwrap().trunc()))
                .boxed()
        }
    }

    pub(crate) fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
        proptest::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_body() -> impl Strategy<Value = (MrtBody, bool)> {
        // (body, whether it is a BGP4MP body that may take microseconds)
        let peering = || crate::mrt::bgp4mp::strategies::peering(true);
        prop_oneof![
            (peering(), any::<(u16, u16)>()).prop_map(|(peering, (o, n))| (
                MrtBody::Bgp4mpStateChange(Bgp4mpStateChange {
                    peering,
                    as4: true,
                    old_state: o,
                    new_state: n,
                }),
                true
            )),
            (peering(), strategies::bytes(50), any::<bool>()).prop_map(
                |(peering, message, local)| (
                    MrtBody::Bgp4mpMessage(Bgp4mpMessage {
                        peering,
                        as4: true,
                        local,
                        add_path: false,
                        message,
                    }),
                    true
                )
            ),
            (strategies::ipv4(), strategies::bytes(10)).prop_map(|(id, name)| (
                MrtBody::PeerIndexTable(PeerIndexTable {
                    collector_bgp_id: id,
                    view_name: name,
                    peers: vec![],
                }),
                false
            )),
            (any::<u32>(), strategies::prefix(true)).prop_map(|(seq, prefix)| (
                MrtBody::RibAfi(RibAfi {
                    multicast: false,
                    add_path: false,
                    sequence_number: seq,
                    prefix,
                    entries: vec![],
                }),
                false
            )),
            // Unknown types (20..=31 are unassigned) and unknown subtypes of
            // known types, and the extended-timestamp types not decoded.
            (
                prop_oneof![
                    (20u16..32, any::<u16>()),
                    Just((12u16, 3u16)),
                    Just((13u16, 7u16)),
                    Just((16u16, 2u16)),
                    Just((17u16, 3u16)),
                    (Just(33u16), any::<u16>()),
                    (Just(49u16), any::<u16>()),
                ],
                strategies::bytes(30)
            )
                .prop_map(|((mrt_type, subtype), data)| (
                    MrtBody::Unknown(Unknown {
                        mrt_type,
                        subtype,
                        data
                    }),
                    false
                )),
        ]
    }

    fn arb_record() -> impl Strategy<Value = MrtRecord> {
        (any::<u32>(), any::<u32>(), any::<bool>(), arb_body()).prop_map(
            |(timestamp, us, et, (body, bgp4mp))| {
                let et = match &body {
                    MrtBody::Unknown(u) => types::has_extended_timestamp(u.mrt_type),
                    _ => bgp4mp && et,
                };
                MrtRecord {
                    timestamp,
                    microseconds: et.then_some(us),
                    body,
                }
            },
        )
    }

    proptest! {
        #[test]
        fn records_round_trip(records in proptest::collection::vec(arb_record(), 0..8)) {
            let mut buf = BytesMut::new();
            for r in &records {
                r.encode(&mut buf).unwrap();
            }
            let data = buf.freeze();
            let parsed: Vec<_> = reader::MrtParser::new(data.clone()).map(Result::unwrap).collect();
            prop_assert_eq!(&parsed, &records);
            let read: Vec<_> = reader::MrtReader::new(&data[..]).map(Result::unwrap).collect();
            prop_assert_eq!(&read, &records);
        }

        /// Any bytes: no panic, and the parser never yields more records
        /// than 12-octet headers fit in the input.
        #[test]
        fn arbitrary_input_never_panics(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            let n = reader::MrtParser::new(Bytes::from(data.clone())).count();
            prop_assert!(n <= data.len() / 12 + 1);
            let _ = reader::MrtReader::new(&data[..]).count();
        }

        /// Well-framed records with random bodies of every known type and
        /// subtype: decoding fails cleanly or succeeds, never panics.
        #[test]
        fn random_bodies_never_panic(
            mrt_type in prop_oneof![Just(12u16), Just(13), Just(16), Just(17)],
            subtype in 0u16..14,
            body in strategies::bytes(120),
        ) {
            let header = CommonHeader { timestamp: 0, mrt_type, subtype, length: body.len() as u32 };
            let _ = MrtRecord::decode(&header, body);
        }
    }

    #[test]
    fn et_record_carries_microseconds() {
        let record = MrtRecord {
            timestamp: 1,
            microseconds: Some(250_000),
            body: MrtBody::Bgp4mpStateChange(Bgp4mpStateChange {
                peering: Bgp4mpPeering {
                    peer_as: 1,
                    local_as: 2,
                    interface_index: 0,
                    peer_ip: "2001:db8::1".parse().unwrap(),
                    local_ip: "2001:db8::2".parse().unwrap(),
                },
                as4: true,
                old_state: 5,
                new_state: 6,
            }),
        };
        let mut buf = BytesMut::new();
        record.encode(&mut buf).unwrap();
        // type 17, subtype 5, length = 4 (microseconds) + 12 + 32 + 4
        assert_eq!(&buf[4..12], &[0, 17, 0, 5, 0, 0, 0, 52]);
        assert_eq!(&buf[12..16], &250_000u32.to_be_bytes());
        assert_eq!(buf.len(), 12 + 52);
    }

    #[test]
    fn failed_encode_leaves_buffer_unchanged() {
        let record = MrtRecord {
            timestamp: 1,
            microseconds: None,
            body: MrtBody::Bgp4mpStateChange(Bgp4mpStateChange {
                peering: Bgp4mpPeering {
                    peer_as: 70000,
                    local_as: 2,
                    interface_index: 0,
                    peer_ip: "192.0.2.1".parse().unwrap(),
                    local_ip: "192.0.2.2".parse().unwrap(),
                },
                as4: false,
                old_state: 5,
                new_state: 6,
            }),
        };
        let mut buf = BytesMut::from(&b"abc"[..]);
        assert!(matches!(
            record.encode(&mut buf),
            Err(EncodeError::FieldTooLong { .. })
        ));
        assert_eq!(&buf[..], b"abc");
    }
}
