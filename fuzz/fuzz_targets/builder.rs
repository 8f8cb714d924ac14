//! The UPDATE builder (`bgp_wire::message::update::builder`): routes
//! chosen by the fuzzer are packed into UPDATE messages by `announce` and
//! `withdraw`, and every message written must fit the session, decode
//! under the receiving end's context, and give back, in order and across
//! the messages, exactly the prefixes put in (path identifiers as the
//! session says). Each message but the last must be full: the first
//! prefix of the next one would not have fitted.
//!
//! Input: a context selector, a family, a next hop, a run of prefixes, and
//! a Path Attributes field decoded to give the attribute set (a fixed set
//! when it does not decode cleanly).
#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use std::net::{Ipv4Addr, Ipv6Addr};

use bgp_wire::attribute::{AsPath, Origin};
use bgp_wire::message::update::builder;
use bgp_wire::nlri::Nlri;
use bgp_wire::{
    Afi, AfiSafi, EncodeError, Message, MpNextHop, PathAttributes, PeerType, SessionContext, Update,
};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};

const FAMILIES: [AfiSafi; 4] = [
    AfiSafi::IPV4_UNICAST,
    AfiSafi::IPV6_UNICAST,
    AfiSafi::new(Afi::Ipv4, bgp_wire::Safi::Multicast),
    AfiSafi::new(Afi::Ipv6, bgp_wire::Safi::Multicast),
];

#[derive(Debug)]
struct Input {
    ctx: SessionContext,
    family: AfiSafi,
    next_hop: Option<MpNextHop>,
    prefixes: Vec<Nlri>,
    attributes: Bytes,
}

fn prefix(u: &mut Unstructured<'_>, v6: bool) -> Result<IpNet> {
    Ok(if v6 {
        let len = u.int_in_range(0..=128)?;
        let a = Ipv6Addr::from(u128::arbitrary(u)?);
        IpNet::V6(Ipv6Net::new(a, len).map_err(|_| arbitrary::Error::IncorrectFormat)?)
    } else {
        let len = u.int_in_range(0..=32)?;
        let a = Ipv4Addr::from(u32::arbitrary(u)?);
        IpNet::V4(Ipv4Net::new(a, len).map_err(|_| arbitrary::Error::IncorrectFormat)?)
    })
}

impl<'a> Arbitrary<'a> for Input {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let ctx = bgp_wire_fuzz::context(u8::arbitrary(u)?);
        let family = *u.choose(&FAMILIES)?;
        let next_hop = match u.int_in_range(0..=4u8)? {
            0 => None,
            1 => Some(MpNextHop::Ipv4(Ipv4Addr::from(u32::arbitrary(u)?))),
            2 => Some(MpNextHop::Ipv6 {
                global: Ipv6Addr::from(u128::arbitrary(u)?),
                link_local: None,
            }),
            3 => Some(MpNextHop::Ipv6 {
                global: Ipv6Addr::from(u128::arbitrary(u)?),
                link_local: Some(Ipv6Addr::from(u128::arbitrary(u)?)),
            }),
            _ => {
                let n = u.int_in_range(0..=300usize)?;
                Some(MpNextHop::Opaque(Bytes::copy_from_slice(u.bytes(n)?)))
            }
        };
        let v6 = family.afi == Afi::Ipv6;
        let count = u.int_in_range(0..=3000usize)?;
        // A few distinct prefixes repeated with varying lengths keep the
        // input short while still filling several messages.
        let mut prefixes = Vec::with_capacity(count.min(u.len() + 1));
        let seed = prefix(u, v6)?;
        for i in 0..count {
            if u.is_empty() {
                // Out of input: derive the rest from the seed.
                let len = u8::try_from(i % (usize::from(seed.max_prefix_len()) + 1)).unwrap_or(0);
                let p = IpNet::new(seed.addr(), len).unwrap_or(seed);
                prefixes.push(Nlri::with_path_id(p, u32::try_from(i).unwrap_or(0)));
                continue;
            }
            let p = prefix(u, v6)?;
            prefixes.push(if bool::arbitrary(u)? {
                Nlri::with_path_id(p, u32::arbitrary(u)?)
            } else {
                Nlri::new(p)
            });
        }
        let attributes = Bytes::copy_from_slice(u.bytes(u.len())?);
        Ok(Input {
            ctx,
            family,
            next_hop,
            prefixes,
            attributes,
        })
    }
}

fn base_attributes() -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(&[65001, 4_200_000_000])),
        next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
        ..PathAttributes::default()
    }
}

fn decode(msg: &Bytes, ctx: &SessionContext) -> Update {
    assert!(msg.len() <= ctx.max_message_len(), "message too long");
    match Message::from_bytes(msg.clone(), ctx) {
        Ok(Message::Update(u)) => u,
        other => panic!("built message does not decode: {other:?}\n{msg:02x?}"),
    }
}

/// The prefixes as the receiving end reads them.
fn expected(prefixes: &[Nlri], add_path: bool) -> Vec<Nlri> {
    prefixes
        .iter()
        .map(|n| Nlri {
            path_id: add_path.then(|| n.path_id.unwrap_or(0)),
            prefix: n.prefix.trunc(),
        })
        .collect()
}

fuzz_target!(|input: Input| {
    let ctx = &input.ctx;
    let out = ctx.reversed();
    let max = ctx.max_message_len();
    let add_path = out.add_path_send(input.family);
    let attributes = PathAttributes::decode(&input.attributes, ctx, PeerType::Oad, true)
        .ok()
        .filter(|d| d.report.is_empty() && d.mp_reach.is_none() && d.mp_unreach.is_none())
        .map(|d| d.attributes)
        .unwrap_or_else(base_attributes);
    let want = expected(&input.prefixes, add_path);
    let nlri_len = |n: &Nlri| {
        (if add_path { 4 } else { 0 }) + n.encoded_len() - if n.path_id.is_some() { 4 } else { 0 }
    };

    // Announcements.
    let nh = input.next_hop.as_ref();
    let classic = input.family == AfiSafi::IPV4_UNICAST && nh.is_none();
    let nh_ok = match (input.family.afi, nh) {
        (Afi::Ipv4, None) => classic,
        (_, None) => false,
        (Afi::Ipv4, Some(MpNextHop::Ipv4(_))) => true,
        (_, Some(MpNextHop::Ipv4(_))) => ctx.extended_next_hop(input.family, Afi::Ipv4),
        (_, Some(MpNextHop::Ipv6 { .. })) => true,
        (_, Some(MpNextHop::Opaque(_))) => false,
    };
    match builder::announce(&out, input.family, &attributes, nh, &input.prefixes) {
        Ok(msgs) => {
            if let Some(MpNextHop::Opaque(b)) = nh {
                assert!(b.len() <= 255, "next hop of {} octets written", b.len());
            }
            let mut got = Vec::new();
            for (i, m) in msgs.iter().enumerate() {
                let u = decode(m, ctx);
                let d = u
                    .attributes(ctx, PeerType::Oad)
                    .unwrap_or_else(|e| panic!("built attributes do not decode: {e:?}"));
                let before = got.len();
                got.extend(u.nlri());
                if nh_ok {
                    if let Some(mp) = &d.mp_reach {
                        assert_eq!(mp.family, input.family);
                        got.extend(mp.prefixes());
                    }
                }
                assert!(got.len() > before || !nh_ok, "empty message {i}");
                // Full: the next message's first prefix would not fit.
                if let (Some(next), true) =
                    (input.prefixes.get(got.len()), nh_ok && i + 1 < msgs.len())
                {
                    assert!(
                        m.len() + nlri_len(next) > max,
                        "message {i} of {} octets had room for {next}",
                        m.len()
                    );
                }
            }
            if nh_ok {
                assert_eq!(got, want, "announce lost or changed prefixes");
            }
            if input.prefixes.is_empty() {
                assert!(msgs.is_empty());
            }
        }
        Err(EncodeError::MessageTooLong { .. }) => {}
        Err(EncodeError::FieldTooLong { .. }) if nh.is_some_and(|n| n.len() > 255) => {}
        Err(e) => panic!("announce fails: {e:?}"),
    }

    // Withdrawals.
    match builder::withdraw(&out, input.family, &input.prefixes) {
        Ok(msgs) => {
            let mut got = Vec::new();
            for (i, m) in msgs.iter().enumerate() {
                let u = decode(m, ctx);
                got.extend(u.withdrawn());
                let d = u
                    .attributes(ctx, PeerType::Oad)
                    .unwrap_or_else(|e| panic!("built withdrawal does not decode: {e:?}"));
                assert!(
                    d.report.is_empty(),
                    "withdrawal with problems: {:?}",
                    d.report
                );
                if let Some(mp) = &d.mp_unreach {
                    assert_eq!(mp.family, input.family);
                    got.extend(mp.prefixes());
                }
                if let (Some(next), true) = (input.prefixes.get(got.len()), i + 1 < msgs.len()) {
                    assert!(m.len() + nlri_len(next) > max, "withdrawal {i} not full");
                }
            }
            assert_eq!(got, want, "withdraw lost or changed prefixes");
        }
        Err(e) => panic!("withdraw fails: {e:?}"),
    }

    // End-of-RIB.
    let eor = decode(&builder::end_of_rib(input.family), ctx);
    assert_eq!(eor.end_of_rib(), Some(input.family));
});
