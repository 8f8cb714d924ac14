//! NLRI decoding: the standalone prefix decoder (`bgp_wire::nlri`), and the
//! MP_REACH_NLRI / MP_UNREACH_NLRI attribute values that carry prefixes of
//! any family.
//!
//! First octet: bit 0 IPv6 (else IPv4), bit 1 ADD-PATH path identifiers,
//! bits 2-3 what the rest is (0 and 3: a sequence of prefixes; 1: an
//! MP_REACH_NLRI value; 2: an MP_UNREACH_NLRI value), bits 5-7 the session
//! context of `bgp_wire_fuzz::context`.
#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;

use bgp_wire::nlri::{self, Nlri, NlriIter};
use bgp_wire::{Afi, MpReachNlri, MpUnreachNlri};

fn prefixes(buf: &[u8], afi: Afi, add_path: bool) {
    let count = nlri::validate(buf, afi, add_path);
    let iter = NlriIter::new(buf, afi, add_path);
    assert_eq!(count.is_ok(), iter.is_ok());
    let (Ok(count), Ok(iter)) = (count, iter) else {
        return;
    };
    assert_eq!(iter.len(), count);
    let all: Vec<Nlri> = iter.collect();
    assert_eq!(all.len(), count, "iterator ends before the validated count");
    // Re-encoding writes the prefixes with host bits cleared: the same
    // prefixes, in the same number of octets.
    let mut buf2 = BytesMut::new();
    for n in &all {
        assert_eq!(n.prefix, n.prefix.trunc(), "host bits not cleared");
        assert_eq!(n.path_id.is_some(), add_path);
        n.encode(&mut buf2);
        let _ = format!("{n}");
    }
    assert_eq!(buf2.len(), buf.len(), "re-encoding changed the length");
    assert_eq!(all.iter().map(Nlri::encoded_len).sum::<usize>(), buf.len());
    let again: Vec<Nlri> = NlriIter::new(&buf2, afi, add_path)
        .expect("re-encoded prefixes validate")
        .collect();
    assert_eq!(again, all);
    // The iterator over already validated bytes agrees.
    let v: Vec<Nlri> = NlriIter::new_validated(buf, afi, add_path, count).collect();
    assert_eq!(v, all);
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let afi = if selector & 1 != 0 {
        Afi::Ipv6
    } else {
        Afi::Ipv4
    };
    let add_path = selector & 2 != 0;
    let ctx = bgp_wire_fuzz::context(selector >> 5);
    let out = ctx.reversed();
    let value = Bytes::copy_from_slice(rest);
    match (selector >> 2) & 3 {
        1 => {
            let Ok(m) = MpReachNlri::decode(&value, &ctx) else {
                return;
            };
            assert_eq!(m.prefixes().count(), m.prefix_count());
            let mut buf = BytesMut::new();
            m.encode_value(&out, &mut buf);
            assert_eq!(buf.len(), m.value_len(&out));
            let again = MpReachNlri::decode(&buf.freeze(), &ctx)
                .unwrap_or_else(|e| panic!("encoded MP_REACH_NLRI does not decode: {e:?}"));
            assert_eq!(again, m);
        }
        2 => {
            let Ok(m) = MpUnreachNlri::decode(&value, &ctx) else {
                return;
            };
            assert_eq!(m.prefixes().count(), m.prefix_count());
            let mut buf = BytesMut::new();
            m.encode_value(&out, &mut buf);
            assert_eq!(buf.len(), m.value_len(&out));
            let again = MpUnreachNlri::decode(&buf.freeze(), &ctx)
                .unwrap_or_else(|e| panic!("encoded MP_UNREACH_NLRI does not decode: {e:?}"));
            assert_eq!(again, m);
        }
        _ => prefixes(rest, afi, add_path),
    }
});
