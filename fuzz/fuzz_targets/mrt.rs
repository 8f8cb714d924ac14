//! MRT files (RFC 6396, RFC 8050).
//!
//! The input is read three ways: with the in-memory [`MrtParser`], with the
//! streaming [`MrtReader`] over the same octets, and with the reader over a
//! source that hands out a few octets per `read` call. All three must give
//! the same records and errors. Every decoded record must encode, and the
//! encoding must parse back to the same records.
//!
//! The BGP messages of BGP4MP records are then decoded as a collector's
//! reader would: the [`MrtSessions`] table files each session's OPENs,
//! the context they negotiate is stored, and every message is decoded with
//! the context the table gives ([`MrtSessions::context_for`]); UPDATE path
//! attributes are decoded too, as are those of the RIB records.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use std::io::{self, Read};

use bgp_wire::mrt::{MrtBody, MrtError, MrtParser, MrtReader, MrtRecord, MrtSessions};
use bgp_wire::{Message, Open, PeerType, SessionContext};

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
                let key = m.session_key();
                // Once per new OPEN: negotiate what both (or the only one
                // recorded) announced, merged with the subtype's context.
                if let Some(s) = sessions.get(&key) {
                    if s.context.is_none() {
                        let open = |b: &Option<Bytes>| {
                            b.as_ref()
                                .filter(|b| b.len() >= 19)
                                .and_then(|b| Open::parse(b.slice(19..)).ok())
                        };
                        let (recv, sent) = (open(&s.received_open), open(&s.sent_open));
                        let ctx = match (&recv, &sent) {
                            (Some(r), Some(l)) => Some(Open::negotiate(l, r)),
                            (Some(o), None) | (None, Some(o)) => Some(Open::negotiate(o, o)),
                            (None, None) => None,
                        };
                        if let Some(ctx) = ctx {
                            sessions.set_context(key, ctx.with_extended_message(true));
                        }
                    }
                }
                let ctx = sessions.context_for(m);
                let ctx = if m.local { ctx.reversed() } else { ctx };
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
