//! Helpers shared by the fuzz targets: the session contexts a target picks
//! from its first input octet, and the round-trip checks.
//!
//! Decoding reads path identifiers where the context says they are
//! *received*; encoding writes them where it says they are *sent*. A
//! round trip therefore encodes with [`SessionContext::reversed`], so that
//! what was decoded as received is written back the same way.

use bytes::{Bytes, BytesMut};

use bgp_wire::attribute::DecodedAttributes;
use bgp_wire::{Afi, AfiSafi, Direction, Message, PathAttributes, PeerType, SessionContext};

/// Number of contexts [`context`] chooses from.
pub const CONTEXTS: u8 = 8;

/// The session context number `selector % CONTEXTS`:
///
/// 0. plain RFC 4271 (2-octet AS, no ADD-PATH, 4,096-octet messages);
/// 1. 4-octet AS;
/// 2. 4-octet AS, ADD-PATH receive on IPv4 unicast;
/// 3. 4-octet AS, ADD-PATH receive on IPv6 unicast;
/// 4. 4-octet AS, extended message;
/// 5. 4-octet AS, extended next hop: IPv4 unicast over IPv6 (RFC 8950),
///    and IPv6 unicast over IPv4;
/// 6. everything at once: 4-octet AS, extended message, ADD-PATH receive
///    on IPv4 and IPv6 unicast and multicast, extended next hop;
/// 7. 2-octet AS with ADD-PATH receive on IPv4 and IPv6 unicast.
pub fn context(selector: u8) -> SessionContext {
    let base = SessionContext::default();
    let four = base.clone().with_four_octet_as(true);
    match selector % CONTEXTS {
        0 => base,
        1 => four,
        2 => four.with_add_path(AfiSafi::IPV4_UNICAST, Direction::Receive),
        3 => four.with_add_path(AfiSafi::IPV6_UNICAST, Direction::Receive),
        4 => four.with_extended_message(true),
        5 => four
            .with_extended_next_hop(AfiSafi::IPV4_UNICAST, Afi::Ipv6)
            .with_extended_next_hop(AfiSafi::IPV6_UNICAST, Afi::Ipv4),
        6 => four
            .with_extended_message(true)
            .with_add_path(AfiSafi::IPV4_UNICAST, Direction::Receive)
            .with_add_path(AfiSafi::IPV6_UNICAST, Direction::Receive)
            .with_add_path(AfiSafi::IPV4_MULTICAST, Direction::Receive)
            .with_add_path(AfiSafi::IPV6_MULTICAST, Direction::Receive)
            .with_extended_next_hop(AfiSafi::IPV4_UNICAST, Afi::Ipv6)
            .with_extended_next_hop(AfiSafi::IPV6_UNICAST, Afi::Ipv4),
        _ => base
            .with_add_path(AfiSafi::IPV4_UNICAST, Direction::Receive)
            .with_add_path(AfiSafi::IPV6_UNICAST, Direction::Receive),
    }
}

/// The peer type number `selector % 3`: external, internal, OAD.
pub fn peer_type(selector: u8) -> PeerType {
    match selector % 3 {
        0 => PeerType::External,
        1 => PeerType::Internal,
        _ => PeerType::Oad,
    }
}

/// Decodes a whole message (header included) under `ctx` and, when that
/// succeeds, checks the round trip: the encoding (for the other end's view
/// of the context, so that path identifiers go the same way) decodes to
/// the same message, and encoding that again gives the same octets.
///
/// Also exercises what a session does with either outcome: the
/// NOTIFICATION an error becomes, the `Display` forms, and for an UPDATE
/// the attribute decoding under every peer type.
pub fn check_message(wire: Bytes, ctx: &SessionContext) -> Option<Message> {
    let msg = match Message::from_bytes(wire, ctx) {
        Ok(m) => m,
        Err(e) => {
            let n = bgp_wire::Notification::from_decode_error(&e);
            let _ = format!("{e} {n} {:?}", e.data());
            let mut buf = BytesMut::new();
            let _ = n.encode(ctx, &mut buf);
            return None;
        }
    };
    let out = ctx.reversed();
    let mut first = BytesMut::new();
    msg.encode(&out, &mut first)
        .unwrap_or_else(|e| panic!("decoded message does not encode: {e:?}\n{msg:?}"));
    let first = first.freeze();
    let again = Message::from_bytes(first.clone(), ctx)
        .unwrap_or_else(|e| panic!("encoding does not decode: {e:?}\n{msg:?}\n{first:02x?}"));
    assert_eq!(again, msg, "decode(encode(m)) != m");
    let mut second = BytesMut::new();
    again
        .encode(&out, &mut second)
        .unwrap_or_else(|e| panic!("second encoding fails: {e:?}"));
    assert_eq!(second.freeze(), first, "encoding is not stable");

    match &msg {
        Message::Update(u) => {
            let _ = u.end_of_rib();
            let _ = u.prefix_counts(ctx);
            assert_eq!(u.withdrawn().count(), u.withdrawn().len());
            assert_eq!(u.nlri().count(), u.nlri().len());
            let has_nlri = !u.nlri_bytes().is_empty();
            for p in 0..3 {
                let peer = peer_type(p);
                if let Ok(d) = u.attributes(ctx, peer) {
                    check_decoded_attributes(&d, ctx, peer, has_nlri);
                }
            }
        }
        Message::Open(o) => {
            let _ = format!("{o}");
            let _ = o.role();
            let _ = bgp_wire::Open::negotiate(o, o);
        }
        Message::Notification(n) => {
            let _ = format!("{n}");
            let _ = n.shutdown_communication();
            let _ = n.hard_reset_cause();
        }
        Message::RouteRefresh(r) => {
            let _ = format!("{r}");
            let _ = r.check_orf(false);
            let _ = r.check_orf(true);
        }
        Message::Keepalive(_) => {}
    }
    Some(msg)
}

/// Decodes a Path Attributes field under `ctx`, and checks the round trip
/// of a clean result (see [`check_decoded_attributes`]).
pub fn check_attributes(
    block: &Bytes,
    ctx: &SessionContext,
    peer: PeerType,
    has_nlri: bool,
) -> Option<DecodedAttributes> {
    match PathAttributes::decode(block, ctx, peer, has_nlri) {
        Ok(d) => {
            check_decoded_attributes(&d, ctx, peer, has_nlri);
            Some(d)
        }
        Err(e) => {
            let _ = format!("{e}");
            None
        }
    }
}

/// The attributes with the unknown ones in type-code order, the order
/// encoding writes them in (the decoder keeps the order received).
fn sorted_unknown(d: &DecodedAttributes) -> DecodedAttributes {
    let mut d = d.clone();
    d.attributes.unknown.sort_by_key(|u| u.type_code);
    d
}

/// For attributes decoded without any problem: encoding them (MP_REACH_NLRI
/// and MP_UNREACH_NLRI included) and decoding the encoding gives the same
/// set, again without problems, and the encoding is stable. Always: the
/// derived forms (`unshare`, readvertisement, AS4 reconciliation, display)
/// do not panic, and `unshare` changes no value.
pub fn check_decoded_attributes(
    d: &DecodedAttributes,
    ctx: &SessionContext,
    peer: PeerType,
    has_nlri: bool,
) {
    let a = &d.attributes;
    let mut copy = a.clone();
    copy.unshare();
    assert_eq!(&copy, a, "unshare changed the attributes");
    let _ = a.for_readvertisement();
    let mut reconciled = a.clone();
    let _ = reconciled.reconcile_as4();
    let _ = format!("{:?} {:?}", d.report, d.report.action());
    let _ = d.report.disabled_families().count();
    if let Some(p) = &a.as_path {
        let _ = (p.len(), p.confed_len(), p.first_as(), p.origin_as());
        let _ = format!("{p}");
    }
    if let Some(m) = &d.mp_reach {
        assert_eq!(m.prefixes().count(), m.prefix_count());
        let _ = format!("{}", m.next_hop);
    }
    if let Some(m) = &d.mp_unreach {
        assert_eq!(m.prefixes().count(), m.prefix_count());
        let _ = m.is_end_of_rib();
    }
    if !d.report.is_empty() {
        return;
    }
    let out = ctx.reversed();
    let mut first = BytesMut::new();
    a.encode_with_mp(&out, d.mp_reach.as_ref(), d.mp_unreach.as_ref(), &mut first)
        .unwrap_or_else(|e| panic!("clean attributes do not encode: {e:?}\n{d:?}"));
    let first = first.freeze();
    let again = PathAttributes::decode(&first, ctx, peer, has_nlri)
        .unwrap_or_else(|e| panic!("encoding does not decode: {e:?}\n{d:?}\n{first:02x?}"));
    assert!(
        again.report.is_empty(),
        "encoding of clean attributes has problems: {:?}\n{d:?}\n{first:02x?}",
        again.report
    );
    assert_eq!(
        sorted_unknown(&again),
        sorted_unknown(d),
        "decode(encode(attributes)) differs"
    );
    let mut second = BytesMut::new();
    again
        .attributes
        .encode_with_mp(
            &out,
            again.mp_reach.as_ref(),
            again.mp_unreach.as_ref(),
            &mut second,
        )
        .unwrap_or_else(|e| panic!("second encoding fails: {e:?}"));
    assert_eq!(second.freeze(), first, "attribute encoding is not stable");
}
