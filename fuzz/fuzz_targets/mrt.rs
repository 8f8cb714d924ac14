//! MRT files (RFC 6396, RFC 8050).
//!
//! The input is read three ways: with the in-memory [`MrtParser`], with the
//! streaming [`MrtReader`] over the same octets, and with the reader over a
//! source that hands out a few octets per `read` call. All three must give
//! the same records and errors. Every decoded record must encode, and the
//! encoding must parse back to the same records.
//!
//! The BGP messages of BGP4MP records are then decoded as a collector's
//! reader would: the [`MrtSessions`] table files each session's OPENs and
//! every message is decoded, and checked as the `message` target does,
//! with the context the table gives ([`MrtSessions::decode_context`]); the
//! path attributes of the RIB records are decoded too.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use std::io::{self, Read};

use bgp_wire::mrt::{MrtBody, MrtError, MrtParser, MrtReader, MrtRecord, MrtSessions};
use bgp_wire::{Message, PeerType, SessionContext};

/// What one call of a reader gave, in a comparable form.
#[derive(Debug, PartialEq)]
enum Item {
    Record(MrtRecord),
    Malformed(bgp_wire::mrt::CommonHeader, bgp_wire::DecodeError),
    /// The end of reading: truncated data, or a length beyond the limit
    /// (the parser, which has the whole input, calls that truncation).
    Stop,
}

fn item(r: Result<MrtRecord, MrtError>) -> Item {
    match r {
        Ok(r) => Item::Record(r),
        Err(MrtError::Decode { header, error }) => {
            let _ = format!("{error}");
            Item::Malformed(header, error)
        }
        Err(MrtError::TruncatedRecord { .. } | MrtError::RecordTooLong { .. }) => Item::Stop,
        Err(MrtError::Io(e)) => panic!("I/O error from an in-memory source: {e}"),
    }
}

/// A source that returns at most `step` octets per call.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.step).min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        if let Some(dst) = buf.get_mut(..n) {
            dst.copy_from_slice(head);
        }
        self.data = rest;
        Ok(n)
    }
}

fn decode_messages(records: &[MrtRecord]) {
    let mut sessions = MrtSessions::new();
    let four = SessionContext::default().with_four_octet_as(true);
    for record in records {
        sessions.observe(record);
        match &record.body {
            MrtBody::Bgp4mpMessage(m) => {
                // The context as the table works it out (subtype, OPENs,
                // an ADD-PATH offer settled by an UPDATE), seen from the
                // receiving end of the message.
                let ctx = sessions.decode_context(m);
                let _ = m.subtype_context();
                if let Some(Message::Update(u)) =
                    bgp_wire_fuzz::check_message(m.message.clone(), &ctx)
                {
                    let _ = u.attributes(&ctx, PeerType::Oad);
                }
            }
            MrtBody::RibAfi(r) => {
                let _ = r.family();
                for e in &r.entries {
                    bgp_wire_fuzz::check_attributes(&e.attributes, &four, PeerType::Oad, false);
                }
            }
            MrtBody::RibGeneric(r) => {
                let _ = r.family();
                for e in &r.entries {
                    bgp_wire_fuzz::check_attributes(&e.attributes, &four, PeerType::Oad, false);
                }
            }
            MrtBody::TableDump(t) => {
                let ctx = SessionContext::default();
                bgp_wire_fuzz::check_attributes(&t.attributes, &ctx, PeerType::Oad, false);
            }
            MrtBody::PeerIndexTable(_) | MrtBody::Bgp4mpStateChange(_) | MrtBody::Unknown(_) => {}
        }
    }
    let _ = sessions.len();
}

fuzz_target!(|data: &[u8]| {
    let parsed: Vec<Item> = MrtParser::new(Bytes::copy_from_slice(data))
        .map(item)
        .collect();
    let read: Vec<Item> = MrtReader::new(data).map(item).collect();
    assert_eq!(read, parsed, "MrtReader and MrtParser disagree");
    let step = usize::from(data.first().copied().unwrap_or(1) % 13) + 1;
    let trickled: Vec<Item> = MrtReader::new(Trickle { data, step }).map(item).collect();
    assert_eq!(trickled, parsed, "MrtReader over short reads disagrees");

    // Every record read must encode, and the encoding parse back to it.
    let records: Vec<MrtRecord> = parsed
        .into_iter()
        .filter_map(|i| match i {
            Item::Record(r) => Some(r),
            _ => None,
        })
        .collect();
    let mut buf = BytesMut::new();
    for r in &records {
        let before = buf.len();
        r.encode(&mut buf)
            .unwrap_or_else(|e| panic!("decoded record does not encode: {e:?}\n{r:?}"));
        assert!(buf.len() >= before + 12);
    }
    let encoded = buf.freeze();
    let again: Vec<MrtRecord> = MrtParser::new(encoded.clone())
        .map(|r| r.unwrap_or_else(|e| panic!("re-encoded record does not parse: {e}")))
        .collect();
    assert_eq!(again, records, "parse(encode(records)) differs");
    let mut buf2 = BytesMut::new();
    for r in &again {
        r.encode(&mut buf2).expect("second encoding");
    }
    assert_eq!(buf2.freeze(), encoded, "MRT encoding is not stable");

    decode_messages(&records);
});
