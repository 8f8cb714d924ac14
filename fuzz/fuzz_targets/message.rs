//! Whole BGP messages (header and body) under one of the session contexts
//! of `bgp_wire_fuzz::context`, chosen by the first input octet.
//!
//! Decoding must fail cleanly or succeed; a decoded message must encode,
//! decode back to itself and encode to the same octets again. The rest of
//! the input is also framed as a stream of messages, as a session reader
//! would.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;

use bgp_wire::message::header::frame;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, wire)) = data.split_first() else {
        return;
    };
    let ctx = bgp_wire_fuzz::context(selector);
    bgp_wire_fuzz::check_message(Bytes::copy_from_slice(wire), &ctx);

    // The same octets as a stream: frame every complete message and
    // decode its body; stop at the first framing error or partial message.
    let mut buf = BytesMut::from(wire);
    let before = buf.len();
    while let Ok(Some((header, body))) = frame(&mut buf, &ctx) {
        assert_eq!(body.len() + 19, usize::from(header.length));
        let _ = bgp_wire::Message::decode(&header, body, &ctx);
    }
    assert!(buf.len() <= before);
});
