//! OPEN bodies (the message without its 19-octet header) and capability
//! lists.
//!
//! The input is decoded as an OPEN body with [`Open::decode`] and with the
//! syntax-only [`Open::parse`]; what parses must encode, parse back to
//! itself and encode to the same octets again. The same input is also
//! decoded as the value of one Capabilities parameter (RFC 5492), with the
//! same round trip. Two OPENs that parse are negotiated with each other.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;

use bgp_wire::message::header::HEADER_LEN;
use bgp_wire::{Capability, Open, SessionContext};

fn round_trip(open: &Open) {
    let ctx = SessionContext::default();
    let mut first = BytesMut::new();
    if open.encode(&ctx, &mut first).is_err() {
        // Only possible for a value that cannot be framed (too long).
        return;
    }
    let first = first.freeze();
    let body = first.slice(HEADER_LEN..);
    let again = Open::parse(body)
        .unwrap_or_else(|e| panic!("encoded OPEN does not parse: {e:?}\n{open:?}\n{first:02x?}"));
    assert_eq!(&again, open, "parse(encode(open)) != open");
    let mut second = BytesMut::new();
    again.encode(&ctx, &mut second).expect("second encoding");
    assert_eq!(second.freeze(), first, "OPEN encoding is not stable");
    // The whole message decodes as a message too.
    let _ = bgp_wire::Message::from_bytes(first, &ctx);
}

fn exercise(open: &Open) {
    let _ = format!("{open}");
    let _ = open.role();
    let _ = open.effective_as();
    let _ = open.families().count();
    let _ = open.encoded_format();
    let _ = open.validate_peer_as(65000);
    let _ = open.validate_identifier(std::net::Ipv4Addr::new(192, 0, 2, 1), true);
    for c in open.capabilities() {
        let _ = (format!("{c}"), c.encoded_len());
    }
}

fuzz_target!(|data: &[u8]| {
    let body = Bytes::copy_from_slice(data);
    let ctx = SessionContext::default();
    let decoded = Open::decode(body.clone(), &ctx);
    let parsed = Open::parse(body.clone());
    if let Ok(d) = &decoded {
        assert_eq!(
            parsed.as_ref().ok(),
            Some(d),
            "decode accepts what parse refuses"
        );
    }
    if let Ok(open) = &parsed {
        exercise(open);
        round_trip(open);
        let ctx = Open::negotiate(open, open);
        let _ = Open::negotiate(open, &Open::new(65000, 90, [192, 0, 2, 1].into(), vec![]));
        let _ = ctx.reversed();
    }

    // Split in two at the first octet's position: two OPENs to negotiate.
    if let Some((&at, rest)) = data.split_first() {
        let at = usize::from(at).min(rest.len());
        let (a, b) = rest.split_at(at);
        if let (Ok(a), Ok(b)) = (
            Open::parse(Bytes::copy_from_slice(a)),
            Open::parse(Bytes::copy_from_slice(b)),
        ) {
            let ab = Open::negotiate(&a, &b);
            let ba = Open::negotiate(&b, &a);
            assert_eq!(ab.four_octet_as, ba.four_octet_as);
            assert_eq!(ab.extended_message, ba.extended_message);
        }
    }

    // The input as the value of one Capabilities optional parameter.
    if let Ok(caps) = Capability::decode_list(body) {
        let mut first = BytesMut::new();
        if Capability::encode_list(&caps, &mut first).is_ok() {
            let first = first.freeze();
            let again = Capability::decode_list(first.clone()).unwrap_or_else(|e| {
                panic!("encoded capabilities do not decode: {e:?}\n{caps:?}\n{first:02x?}")
            });
            assert_eq!(again, caps, "decode(encode(capabilities)) differs");
            let mut second = BytesMut::new();
            Capability::encode_list(&again, &mut second).expect("second encoding");
            assert_eq!(second.freeze(), first, "capability encoding is not stable");
        }
    }
});
