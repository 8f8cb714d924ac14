//! The Path Attributes field of an UPDATE, decoded with the RFC 7606
//! classification.
//!
//! First octet: bits 0-2 choose the session context
//! (`bgp_wire_fuzz::context`), bits 3-4 the peer type (external, internal,
//! OAD), bit 5 whether the UPDATE has NLRI. The rest is the field. A
//! result without problems must survive the encode/decode round trip.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, block)) = data.split_first() else {
        return;
    };
    let ctx = bgp_wire_fuzz::context(selector & 7);
    let peer = bgp_wire_fuzz::peer_type((selector >> 3) & 3);
    let has_nlri = selector & 0x20 != 0;
    let block = Bytes::copy_from_slice(block);
    bgp_wire_fuzz::check_attributes(&block, &ctx, peer, has_nlri);
});
