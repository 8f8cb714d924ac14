//! Helpers shared by the fuzz targets: the session contexts a target picks
//! from its first input octet, and the round-trip checks.
//!
//! Decoding reads path identifiers where the context says they are
//! *received*; encoding writes them where it says they are *sent*. A
//! round trip therefore encodes with [`SessionContext::reversed`], so that
//! what was decoded as received is written back the same way.

use bytes::{Bytes, BytesMut};

use bgp_wire::attribute::as4_path::Reconciliation;
use bgp_wire::attribute::{Action, AsPath, DecodedAttributes};
use bgp_wire::message::update::builder;
use bgp_wire::nlri::Nlri;
use bgp_wire::{
    Afi, AfiSafi, Direction, EncodeError, Message, PathAttributes, PeerType, SessionContext, Update,
};

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
    let wire_copy = wire.clone();
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
    // A reader framing the same octets from a stream sees the same message.
    let mut stream = BytesMut::from(&wire_copy[..]);
    let (header, body) = bgp_wire::message::header::frame(&mut stream, ctx)
        .ok()
        .flatten()
        .expect("a message that decodes frames");
    assert!(stream.is_empty());
    assert_eq!(header.message_type, msg.message_type());
    assert_eq!(Message::decode(&header, body, ctx).as_ref(), Ok(&msg));

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
            check_add_path_change(u, ctx);
            let _ = u.end_of_rib();
            let _ = u.prefix_counts(ctx);
            assert_eq!(u.withdrawn().count(), u.withdrawn().len());
            assert_eq!(u.nlri().count(), u.nlri().len());
            let has_nlri = !u.nlri_bytes().is_empty();
            let counts = u.prefix_counts(ctx);
            assert_eq!(
                (counts.withdrawn, counts.announced),
                (u.withdrawn().len(), u.nlri().len())
            );
            for p in 0..3 {
                let peer = peer_type(p);
                if let Ok(d) = u.attributes(ctx, peer) {
                    if d.report.is_empty() {
                        // Well-formed MP attributes: the counts agree.
                        let mp = |n: Option<usize>| n.unwrap_or(0);
                        assert_eq!(
                            (counts.mp_announced, counts.mp_withdrawn),
                            (
                                mp(d.mp_reach.as_ref().map(|m| m.prefix_count())),
                                mp(d.mp_unreach.as_ref().map(|m| m.prefix_count()))
                            ),
                            "prefix_counts disagree with the decoded attributes"
                        );
                        if let Some(f) = u.end_of_rib() {
                            assert!(d.mp_reach.is_none());
                            if f != AfiSafi::IPV4_UNICAST {
                                let m = d.mp_unreach.as_ref().expect("End-of-RIB MP_UNREACH");
                                assert!(m.is_end_of_rib() && m.family == f);
                            }
                        }
                    }
                    check_decoded_attributes(&d, ctx, peer, has_nlri);
                    check_builder(u, &d, ctx, peer);
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

/// Encodes an UPDATE for a session whose IPv4 unicast ADD-PATH setting is
/// the other one (path identifiers dropped, or added as 0) and checks that
/// the result decodes under that session with the same prefixes.
pub fn check_add_path_change(u: &Update, ctx: &SessionContext) {
    let v4 = AfiSafi::IPV4_UNICAST;
    let mut other = ctx.clone();
    let on = !ctx.add_path_receive(v4);
    other.set_add_path(v4, Direction::Receive, on);
    let out = other.reversed();
    let mut buf = BytesMut::new();
    match u.encode(&out, &mut buf) {
        Ok(()) => {}
        // Adding identifiers can make the message too long for the session.
        Err(EncodeError::MessageTooLong { .. }) if on => return,
        Err(e) => panic!("UPDATE does not encode without ADD-PATH: {e:?}\n{u:?}"),
    }
    assert_eq!(buf.len(), u.encoded_len(&out), "encoded_len is wrong");
    let wire = buf.freeze();
    let Ok(Message::Update(again)) = Message::from_bytes(wire.clone(), &other) else {
        panic!("UPDATE re-encoded for another ADD-PATH setting does not decode: {wire:02x?}");
    };
    let strip = |n: Nlri| Nlri {
        path_id: on.then(|| n.path_id.unwrap_or(0)),
        ..n
    };
    assert!(again.withdrawn().eq(u.withdrawn().map(strip)));
    assert!(again.nlri().eq(u.nlri().map(strip)));
    assert_eq!(again.attribute_bytes(), u.attribute_bytes());
}

/// At most the first 256 octets of `b`, for panic messages.
fn short(b: &[u8]) -> &[u8] {
    b.get(..256).unwrap_or(b)
}

/// Encodes clean attributes for a session whose ADD-PATH setting for the
/// MP_REACH_NLRI and MP_UNREACH_NLRI families is the other one (path
/// identifiers dropped, or added as 0): the encoding must either be refused
/// or decode under that session to the same prefixes.
pub fn check_mp_add_path_change(
    d: &DecodedAttributes,
    ctx: &SessionContext,
    peer: PeerType,
    has_nlri: bool,
) {
    let mut other = ctx.clone();
    let families: Vec<AfiSafi> = [
        d.mp_reach.as_ref().map(|m| m.family),
        d.mp_unreach.as_ref().map(|m| m.family),
    ]
    .into_iter()
    .flatten()
    .filter(|f| f.is_ip_prefix_family())
    .collect();
    let Some(&first) = families.first() else {
        return;
    };
    let on = !ctx.add_path_receive(first);
    for &f in &families {
        other.set_add_path(f, Direction::Receive, on);
    }
    let mut buf = BytesMut::new();
    if d.attributes
        .encode_with_mp(
            &other.reversed(),
            d.mp_reach.as_ref(),
            d.mp_unreach.as_ref(),
            &mut buf,
        )
        .is_err()
    {
        return;
    }
    let wire = buf.freeze();
    let again = PathAttributes::decode(&wire, &other, peer, has_nlri).unwrap_or_else(|e| {
        panic!(
            "attributes re-encoded for another ADD-PATH setting do not decode: {e:?}\n{wire:02x?}"
        )
    });
    assert!(
        again.report.is_empty(),
        "attributes re-encoded for another ADD-PATH setting have problems: {:?}",
        again.report
    );
    let fix = |n: Nlri, f: AfiSafi| Nlri {
        path_id: other.add_path_receive(f).then(|| n.path_id.unwrap_or(0)),
        ..n
    };
    if let (Some(a), Some(b)) = (&d.mp_reach, &again.mp_reach) {
        assert!(
            b.prefixes().eq(a.prefixes().map(|n| fix(n, a.family))),
            "MP_REACH_NLRI prefixes changed"
        );
    }
    if let (Some(a), Some(b)) = (&d.mp_unreach, &again.mp_unreach) {
        assert!(
            b.prefixes().eq(a.prefixes().map(|n| fix(n, a.family))),
            "MP_UNREACH_NLRI prefixes changed"
        );
    }
    assert_eq!(again.mp_reach.is_some(), d.mp_reach.is_some());
    assert_eq!(again.mp_unreach.is_some(), d.mp_unreach.is_some());
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

/// Rebuilds a clean UPDATE with the builder (`announce` for the NLRI field
/// and MP_REACH_NLRI, `withdraw` for the Withdrawn Routes field and
/// MP_UNREACH_NLRI) and checks that the messages it writes decode, fit
/// the session, carry the same attributes without problems, and together
/// the same prefixes.
pub fn check_builder(u: &Update, d: &DecodedAttributes, ctx: &SessionContext, peer: PeerType) {
    if !d.report.is_empty() {
        return;
    }
    let out = ctx.reversed();
    let max = ctx.max_message_len();
    let built = |r: Result<Vec<Bytes>, EncodeError>, slack: usize, len: usize| match r {
        Ok(v) => Some(v),
        // The builder always writes MP attributes with the Extended Length
        // bit: a message that was within an octet or two of the limit may
        // not be rebuilt in one piece, and nothing else may fail.
        Err(EncodeError::MessageTooLong { .. }) if len + slack > max => None,
        Err(e) => panic!("builder fails: {e:?}\n{u:?}\n{d:?}"),
    };
    let len = u.encoded_len(&out);
    let decode_all = |msgs: &[Bytes]| -> Vec<(Update, DecodedAttributes)> {
        msgs.iter()
            .map(|m| {
                assert!(m.len() <= max, "built message too long");
                let Ok(Message::Update(b)) = Message::from_bytes(m.clone(), ctx) else {
                    panic!("built message does not decode: {m:02x?}\n{u:?}\n{d:?}");
                };
                let bd = b
                    .attributes(ctx, peer)
                    .unwrap_or_else(|e| panic!("built attributes do not decode: {e:?}"));
                assert!(
                    bd.report.is_empty(),
                    "built UPDATE has problems: {:?}\n{m:02x?}\n{d:?}",
                    bd.report
                );
                (b, bd)
            })
            .collect()
    };
    let same_path = |bd: &DecodedAttributes, next_hop: bool| {
        let mut want = d.attributes.clone();
        if !next_hop {
            want.next_hop = None;
        }
        let mut got = bd.attributes.clone();
        got.unknown.sort_by_key(|x| x.type_code);
        want.unknown.sort_by_key(|x| x.type_code);
        // The flags received with each attribute still there are kept.
        for code in 0..=u8::MAX {
            if next_hop || code != bgp_wire::attribute::type_code::NEXT_HOP {
                assert_eq!(got.flags_received(code), want.flags_received(code));
            }
        }
        got.clear_received_flags();
        want.clear_received_flags();
        assert_eq!(got, want, "built UPDATE has other attributes");
    };
    // The NLRI field.
    let nlri: Vec<Nlri> = u.nlri().collect();
    if !nlri.is_empty() {
        if let Some(msgs) = built(
            builder::announce(&out, AfiSafi::IPV4_UNICAST, &d.attributes, None, &nlri),
            0,
            len,
        ) {
            let mut got = Vec::new();
            for (b, bd) in decode_all(&msgs) {
                same_path(&bd, true);
                got.extend(b.nlri());
            }
            assert_eq!(got, nlri, "announce lost or changed prefixes");
        }
    }
    // MP_REACH_NLRI of an IP family, without NLRI field (the builder puts
    // the NEXT_HOP attribute only beside NLRI-field prefixes).
    if let Some(m) = d
        .mp_reach
        .as_ref()
        .filter(|m| m.family.is_ip_prefix_family())
    {
        let prefixes: Vec<Nlri> = m.prefixes().collect();
        if !prefixes.is_empty() && nlri.is_empty() {
            if let Some(msgs) = built(
                builder::announce(&out, m.family, &d.attributes, Some(&m.next_hop), &prefixes),
                8,
                len,
            ) {
                let mut got = Vec::new();
                for (_, bd) in decode_all(&msgs) {
                    same_path(&bd, false);
                    let bm = bd.mp_reach.expect("built UPDATE without MP_REACH_NLRI");
                    assert_eq!((bm.family, &bm.next_hop), (m.family, &m.next_hop));
                    got.extend(bm.prefixes());
                }
                assert_eq!(got, prefixes, "MP announce lost or changed prefixes");
            }
        }
    }
    // Withdrawals.
    let withdrawn: Vec<Nlri> = u.withdrawn().collect();
    if !withdrawn.is_empty() {
        if let Some(msgs) = built(
            builder::withdraw(&out, AfiSafi::IPV4_UNICAST, &withdrawn),
            0,
            len,
        ) {
            let got: Vec<Nlri> = decode_all(&msgs)
                .iter()
                .flat_map(|(b, _)| b.withdrawn().collect::<Vec<_>>())
                .collect();
            assert_eq!(got, withdrawn, "withdraw lost or changed prefixes");
        }
    }
    if let Some(m) = d
        .mp_unreach
        .as_ref()
        .filter(|m| m.family.is_ip_prefix_family())
    {
        let prefixes: Vec<Nlri> = m.prefixes().collect();
        if !prefixes.is_empty() {
            if let Some(msgs) = built(builder::withdraw(&out, m.family, &prefixes), 8, len) {
                let mut got = Vec::new();
                for w in &msgs {
                    let Ok(Message::Update(b)) = Message::from_bytes(w.clone(), ctx) else {
                        panic!("built withdrawal does not decode: {w:02x?}");
                    };
                    let bd = b
                        .attributes(ctx, peer)
                        .unwrap_or_else(|e| panic!("built withdrawal attributes: {e:?}"));
                    // IPv4 unicast goes in the Withdrawn Routes field.
                    got.extend(b.withdrawn());
                    if let Some(bm) = bd.mp_unreach {
                        assert_eq!(bm.family, m.family);
                        got.extend(bm.prefixes());
                    }
                }
                assert_eq!(got, prefixes, "MP withdraw lost or changed prefixes");
            }
        }
    }
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
    if reconciled.reconcile_as4() == Reconciliation::Merged {
        // RFC 6793 4.2.3: the leading part of AS_PATH that AS4_PATH does
        // not cover, then AS4_PATH: as long as AS_PATH, and well-formed.
        let merged = reconciled.as_path.as_ref().expect("merged path");
        let path = a.as_path.as_ref().expect("AS_PATH");
        assert_eq!(merged.len(), path.len(), "merged path changed length");
        assert!(
            AsPath::decode(merged.as_bytes(), true).is_ok(),
            "merged path malformed: {merged:?}"
        );
    }
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
    // Clean attributes, and those whose only problems were attributes
    // discarded (RFC 7606 2 "attribute discard": the rest is used as if the
    // discarded ones were not there), must survive the round trip, and the
    // re-decoded set must be clean.
    if !matches!(d.report.action(), None | Some(Action::AttributeDiscard)) {
        return;
    }
    let out = ctx.reversed();
    let mut first = BytesMut::new();
    a.encode_with_mp(&out, d.mp_reach.as_ref(), d.mp_unreach.as_ref(), &mut first)
        .unwrap_or_else(|e| panic!("attributes do not encode: {e:?}\n{d:?}"));
    let first = first.freeze();
    if d.mp_reach.is_none() && d.mp_unreach.is_none() {
        assert_eq!(a.encoded_len(&out), first.len(), "encoded_len is wrong");
    }
    let again = PathAttributes::decode(&first, ctx, peer, has_nlri)
        .unwrap_or_else(|e| panic!("encoding does not decode: {e:?}\n{d:?}\n{first:02x?}"));
    assert!(
        again.report.is_empty(),
        "encoding of the kept attributes has problems: {:?}\n{d:?}\n{first:02x?}",
        again.report
    );
    let kept = DecodedAttributes {
        report: again.report.clone(),
        ..sorted_unknown(d)
    };
    assert_eq!(
        sorted_unknown(&again),
        kept,
        "decode(encode(attributes)) differs"
    );
    check_mp_add_path_change(&again, ctx, peer, has_nlri);
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
