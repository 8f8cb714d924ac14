//! Packing routes into UPDATE messages.
//!
//! Given one attribute set and any number of prefixes, [`announce`] writes
//! as many UPDATE messages as needed, each holding as many prefixes as fit
//! under the session's maximum message length (4,096 octets, or 65,535 with
//! RFC 8654). IPv4 unicast prefixes go in the NLRI field; every other family
//! (and IPv4 unicast with an RFC 8950 IPv6 next hop) in MP_REACH_NLRI,
//! written first among the attributes as RFC 7606 5.1 recommends, with the
//! Extended Length bit so that its header size does not depend on how many
//! prefixes it holds. [`withdraw`] does the same for withdrawals (Withdrawn
//! Routes field or MP_UNREACH_NLRI), [`end_of_rib`] writes the End-of-RIB
//! marker. Path identifiers are written exactly when
//! `ctx.add_path_send(family)` (0 for a prefix without one).
//!
//! ```
//! use std::net::Ipv4Addr;
//! use bgp_wire::{AfiSafi, SessionContext, Update};
//! use bgp_wire::attribute::{AsPath, Origin, PathAttributes};
//! use bgp_wire::message::update::builder;
//! use bgp_wire::nlri::Nlri;
//!
//! let attrs = PathAttributes {
//!     origin: Some(Origin::Igp),
//!     as_path: Some(AsPath::from_sequence(&[65001])),
//!     next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
//!     ..PathAttributes::default()
//! };
//! let prefixes: Vec<Nlri> = (0..2000u32)
//!     .map(|i| Nlri::new(format!("10.{}.{}.0/24", i / 256, i % 256).parse().unwrap()))
//!     .collect();
//! let ctx = SessionContext::default();
//! let msgs = builder::announce(&ctx, AfiSafi::IPV4_UNICAST, &attrs, None, &prefixes).unwrap();
//! assert_eq!(msgs.len(), 2); // 4,096-octet messages hold about 1,000 /24s each
//! assert!(msgs.iter().all(|m| m.len() <= 4096));
//! let first = Update::decode(msgs[0].slice(19..), &ctx).unwrap();
//! assert_eq!(first.nlri().next(), Some(prefixes[0]));
//! ```

use bytes::{BufMut, Bytes, BytesMut};

use crate::afi::AfiSafi;
use crate::attribute::mp_reach_nlri::{nlri_len, put_nlri};
use crate::attribute::{Flags, MpNextHop, PathAttributes, type_code};
use crate::context::SessionContext;
use crate::error::EncodeError;
use crate::message::header::{HEADER_LEN, Header, MessageType};
use crate::nlri::Nlri;

/// Octets of the MP_REACH_NLRI / MP_UNREACH_NLRI attribute header the
/// builder writes (Extended Length always set).
const MP_HEADER: usize = 4;

/// Splits `prefixes` into runs that fit in `room` octets each.
fn pack(
    prefixes: &[Nlri],
    add_path: bool,
    overhead: usize,
    max: usize,
) -> Result<Vec<&[Nlri]>, EncodeError> {
    let room = max.saturating_sub(overhead);
    let mut chunks = Vec::new();
    let mut start = 0usize;
    let mut used = 0usize;
    for (i, n) in prefixes.iter().enumerate() {
        let len = nlri_len(n, add_path);
        if len > room {
            return Err(EncodeError::MessageTooLong {
                length: overhead + len,
                max,
            });
        }
        if used + len > room {
            chunks.push(prefixes.get(start..i).unwrap_or_default());
            start = i;
            used = 0;
        }
        used += len;
    }
    if start < prefixes.len() {
        chunks.push(prefixes.get(start..).unwrap_or_default());
    }
    Ok(chunks)
}

fn u16_len(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

fn header(buf: &mut BytesMut, length: usize) {
    Header {
        length: u16_len(length),
        message_type: MessageType::Update,
    }
    .encode(buf);
}

fn prefixes_len(chunk: &[Nlri], add_path: bool) -> usize {
    chunk.iter().map(|n| nlri_len(n, add_path)).sum()
}

/// Writes UPDATE messages announcing `prefixes` of `family` with
/// `attributes`, each message complete (header included) and packed.
///
/// For IPv4 unicast with `mp_next_hop` `None`, the prefixes go in the NLRI
/// field and `attributes.next_hop` is the next hop. Otherwise they go in
/// MP_REACH_NLRI with `mp_next_hop` (an empty opaque next hop if `None`),
/// and NEXT_HOP is left out of the attributes.
///
/// Fails if the attributes leave no room for a single prefix.
pub fn announce(
    ctx: &SessionContext,
    family: AfiSafi,
    attributes: &PathAttributes,
    mp_next_hop: Option<&MpNextHop>,
    prefixes: &[Nlri],
) -> Result<Vec<Bytes>, EncodeError> {
    let add_path = ctx.add_path_send(family);
    let max = ctx.max_message_len();
    // Room for a typical attribute set, so that it is written without
    // reallocations.
    let mut attrs = BytesMut::with_capacity(256);
    let classic = family == AfiSafi::IPV4_UNICAST && mp_next_hop.is_none();
    if classic || attributes.next_hop.is_none() {
        attributes.encode(ctx, &mut attrs)?;
    } else {
        let mut a = attributes.clone();
        a.next_hop = None;
        a.encode(ctx, &mut attrs)?;
    }
    let empty = MpNextHop::Opaque(Bytes::new());
    let nh = mp_next_hop.unwrap_or(&empty);
    // The Length of Next Hop Network Address is one octet (RFC 4760 3).
    if !classic && nh.len() > usize::from(u8::MAX) {
        return Err(EncodeError::FieldTooLong {
            what: "MP_REACH_NLRI next hop",
        });
    }
    let mp_fixed = if classic { 0 } else { MP_HEADER + 5 + nh.len() };
    let overhead = HEADER_LEN + 4 + attrs.len() + mp_fixed;
    let mut out = Vec::new();
    for chunk in pack(prefixes, add_path, overhead, max)? {
        let plen = prefixes_len(chunk, add_path);
        let mut buf = BytesMut::with_capacity(overhead + plen);
        header(&mut buf, overhead + plen);
        buf.put_u16(0);
        if classic {
            buf.put_u16(u16_len(attrs.len()));
            buf.put_slice(&attrs);
        } else {
            buf.put_u16(u16_len(mp_fixed + plen + attrs.len()));
            buf.put_u8(Flags::OPTIONAL | Flags::EXTENDED_LENGTH);
            buf.put_u8(type_code::MP_REACH_NLRI);
            buf.put_u16(u16_len(5 + nh.len() + plen));
            buf.put_u16(family.afi.to_u16());
            buf.put_u8(family.safi.to_u8());
            buf.put_u8(u8::try_from(nh.len()).unwrap_or(u8::MAX));
            nh.encode(&mut buf);
            buf.put_u8(0);
            for n in chunk {
                put_nlri(n, add_path, &mut buf);
            }
            buf.put_slice(&attrs);
        }
        if classic {
            for n in chunk {
                put_nlri(n, add_path, &mut buf);
            }
        }
        out.push(buf.freeze());
    }
    Ok(out)
}

/// Writes UPDATE messages withdrawing `prefixes` of `family`, packed: IPv4
/// unicast in the Withdrawn Routes field, other families in MP_UNREACH_NLRI.
pub fn withdraw(
    ctx: &SessionContext,
    family: AfiSafi,
    prefixes: &[Nlri],
) -> Result<Vec<Bytes>, EncodeError> {
    let add_path = ctx.add_path_send(family);
    let classic = family == AfiSafi::IPV4_UNICAST;
    let mp_fixed = if classic { 0 } else { MP_HEADER + 3 };
    let overhead = HEADER_LEN + 4 + mp_fixed;
    let mut out = Vec::new();
    for chunk in pack(prefixes, add_path, overhead, ctx.max_message_len())? {
        let plen = prefixes_len(chunk, add_path);
        let mut buf = BytesMut::with_capacity(overhead + plen);
        header(&mut buf, overhead + plen);
        if classic {
            buf.put_u16(u16_len(plen));
            for n in chunk {
                put_nlri(n, add_path, &mut buf);
            }
            buf.put_u16(0);
        } else {
            buf.put_u16(0);
            buf.put_u16(u16_len(mp_fixed + plen));
            buf.put_u8(Flags::OPTIONAL | Flags::EXTENDED_LENGTH);
            buf.put_u8(type_code::MP_UNREACH_NLRI);
            buf.put_u16(u16_len(3 + plen));
            buf.put_u16(family.afi.to_u16());
            buf.put_u8(family.safi.to_u8());
            for n in chunk {
                put_nlri(n, add_path, &mut buf);
            }
        }
        out.push(buf.freeze());
    }
    Ok(out)
}

/// The End-of-RIB marker of `family` (RFC 4724 2): an empty UPDATE for
/// IPv4 unicast, an UPDATE with an empty MP_UNREACH_NLRI otherwise.
pub fn end_of_rib(family: AfiSafi) -> Bytes {
    let mut buf = BytesMut::with_capacity(HEADER_LEN + 10);
    if family == AfiSafi::IPV4_UNICAST {
        header(&mut buf, HEADER_LEN + 4);
        buf.put_u32(0);
    } else {
        header(&mut buf, HEADER_LEN + 4 + 6);
        buf.put_u16(0);
        buf.put_u16(6);
        buf.put_u8(Flags::OPTIONAL);
        buf.put_u8(type_code::MP_UNREACH_NLRI);
        buf.put_u8(3);
        buf.put_u16(family.afi.to_u16());
        buf.put_u8(family.safi.to_u8());
    }
    buf.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::PeerType;
    use crate::attribute::{AsPath, Origin};
    use crate::context::Direction;
    use crate::message::update::Update;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn attrs() -> PathAttributes {
        PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(&[65001, 65002])),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
            local_pref: Some(100),
            ..PathAttributes::default()
        }
    }

    fn v4(n: u32, len: u8) -> Nlri {
        Nlri::new(
            ipnet::Ipv4Net::new(Ipv4Addr::from(n << 8), len)
                .unwrap()
                .into(),
        )
    }

    #[test]
    fn eor_is_recognised() {
        let ctx = SessionContext::default();
        for f in [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST] {
            let m = end_of_rib(f);
            let u = Update::decode(m.slice(HEADER_LEN..), &ctx).unwrap();
            assert_eq!(u.end_of_rib(), Some(f));
        }
    }

    #[test]
    fn packing_is_full_and_maximal() {
        for ext in [false, true] {
            let ctx = SessionContext::default().with_extended_message(ext);
            let prefixes: Vec<Nlri> = (0..20000).map(|i| v4(i, 24)).collect();
            let msgs = announce(&ctx, AfiSafi::IPV4_UNICAST, &attrs(), None, &prefixes).unwrap();
            let mut got = Vec::new();
            for (i, m) in msgs.iter().enumerate() {
                assert!(m.len() <= ctx.max_message_len());
                if i + 1 < msgs.len() {
                    // one more 24-bit prefix (4 octets) would not fit
                    assert!(m.len() + 4 > ctx.max_message_len());
                }
                let u = Update::decode(m.slice(HEADER_LEN..), &ctx).unwrap();
                assert!(
                    u.attributes(&ctx, PeerType::Internal)
                        .unwrap()
                        .report
                        .is_empty()
                );
                got.extend(u.nlri());
            }
            assert_eq!(got, prefixes);
        }
    }

    #[test]
    fn attributes_too_big() {
        let ctx = SessionContext::default();
        let mut a = attrs();
        a.as_path = Some(AsPath::from_sequence(&vec![1u32; 2100]));
        assert!(announce(&ctx, AfiSafi::IPV4_UNICAST, &a, None, &[v4(1, 24)]).is_err());
    }

    #[test]
    fn next_hop_longer_than_its_length_octet() {
        // Found by fuzzing (builder target): a 256-octet opaque next hop was
        // written with a length octet of 255, so the receiver read the last
        // next hop octet as the reserved octet and the rest as NLRI.
        let nh = MpNextHop::Opaque(Bytes::from(vec![0u8; 256]));
        let prefix = Nlri::new("2001:db8::/32".parse().unwrap());
        let ctx = SessionContext::default();
        assert!(matches!(
            announce(&ctx, AfiSafi::IPV6_UNICAST, &attrs(), Some(&nh), &[prefix]),
            Err(EncodeError::FieldTooLong { .. })
        ));
        let nh = MpNextHop::Opaque(Bytes::from(vec![0u8; 255]));
        assert!(announce(&ctx, AfiSafi::IPV6_UNICAST, &attrs(), Some(&nh), &[prefix]).is_ok());
    }

    #[test]
    fn mp_with_add_path() {
        let f = AfiSafi::IPV6_UNICAST;
        let ctx = SessionContext::default().with_add_path(f, Direction::Send);
        let rx = ctx.reversed();
        let prefixes: Vec<Nlri> = (0..3000u32)
            .map(|i| {
                Nlri::with_path_id(
                    ipnet::Ipv6Net::new(Ipv6Addr::from(u128::from(i) << 80), 48)
                        .unwrap()
                        .into(),
                    i,
                )
            })
            .collect();
        let nh = MpNextHop::Ipv6 {
            global: Ipv6Addr::LOCALHOST,
            link_local: None,
        };
        let msgs = announce(&ctx, f, &attrs(), Some(&nh), &prefixes).unwrap();
        let mut got = Vec::new();
        for m in &msgs {
            assert!(m.len() <= 4096);
            let u = Update::decode(m.slice(HEADER_LEN..), &rx).unwrap();
            let d = u.attributes(&rx, PeerType::Internal).unwrap();
            assert!(d.report.is_empty(), "{:?}", d.report);
            assert_eq!(d.attributes.next_hop, None);
            got.extend(d.mp_reach.unwrap().prefixes());
        }
        assert_eq!(got, prefixes);
        let w = withdraw(&ctx, f, &prefixes).unwrap();
        let mut got = Vec::new();
        for m in &w {
            let u = Update::decode(m.slice(HEADER_LEN..), &rx).unwrap();
            got.extend(
                u.attributes(&rx, PeerType::Internal)
                    .unwrap()
                    .mp_unreach
                    .unwrap()
                    .prefixes(),
            );
        }
        assert_eq!(got, prefixes);
    }
}
