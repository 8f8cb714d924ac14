//! Property tests: the attribute set, the UPDATE message and the builder
//! round-trip, and no input makes decoding panic.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{Ipv4Addr, Ipv6Addr};

use bgp_wire::attribute::{
    Aggregator, Aigp, AsPath, ClusterList, Communities, Community, ExtendedCommunities,
    ExtendedCommunity, Flags, Ipv6ExtendedCommunities, Ipv6ExtendedCommunity, LargeCommunities,
    LargeCommunity, MpNextHop, Origin, PathAttributes, PeerType, RawAttribute, SegmentType,
};
use bgp_wire::message::header::HEADER_LEN;
use bgp_wire::message::update::{Update, builder};
use bgp_wire::nlri::Nlri;
use bgp_wire::{AfiSafi, Direction, SessionContext};
use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

fn arb_path(max_as: u32) -> impl Strategy<Value = AsPath> {
    prop::collection::vec(
        (
            (1u8..=4).prop_map(|v| SegmentType::from_u8(v).unwrap()),
            prop::collection::vec(1..=max_as, 1..12),
        ),
        0..4,
    )
    .prop_map(|s| AsPath::from_segments(s.iter().map(|(t, a)| (*t, &a[..]))))
}

fn arb_attrs(four: bool) -> impl Strategy<Value = PathAttributes> {
    let max_as = if four { u32::MAX } else { 0xffff };
    let head = (
        prop::option::of((0u8..3).prop_map(|v| match v {
            0 => Origin::Igp,
            1 => Origin::Egp,
            _ => Origin::Incomplete,
        })),
        prop::option::of(arb_path(max_as)),
        prop::option::of(any::<u32>().prop_map(Ipv4Addr::from)),
        prop::option::of(any::<u32>()),
        prop::option::of(any::<u32>()),
        any::<bool>(),
        prop::option::of((1..=max_as, any::<u32>())),
        prop::option::of(prop::collection::vec(any::<u32>(), 1..8)),
    );
    let tail = (
        prop::option::of(any::<u32>().prop_map(Ipv4Addr::from)),
        prop::option::of(prop::collection::vec(any::<u32>(), 1..4)),
        prop::option::of(prop::collection::vec(any::<[u8; 8]>(), 1..4)),
        prop::option::of((
            arb_path(u32::MAX),
            prop::option::of((1..=u32::MAX, any::<u32>())),
        )),
        prop::option::of(prop::collection::vec(any::<[u8; 20]>(), 1..3)),
        prop::option::of(any::<u64>()),
        prop::option::of(prop::collection::vec(any::<(u32, u32, u32)>(), 1..4)),
        prop::option::of(any::<u32>()),
        prop::collection::btree_map(
            (36u8..=255).prop_filter("known", |c| *c != 40),
            (any::<u8>(), prop::collection::vec(any::<u8>(), 0..300)),
            0..3,
        ),
    );
    (head, tail).prop_map(move |(h, t)| {
        let (origin, as_path, next_hop, med, lp, atomic, agg, comms) = h;
        let (orig_id, clusters, ext, as4, v6ext, aigp, large, otc, unknown) = t;
        let (as4_path, as4_aggregator) = match as4 {
            Some((p, a)) if !four => (
                Some(p),
                a.map(|(asn, ip)| Aggregator {
                    asn,
                    address: Ipv4Addr::from(ip),
                }),
            ),
            _ => (None, None),
        };
        PathAttributes {
            origin,
            as_path,
            next_hop,
            multi_exit_disc: med,
            local_pref: lp,
            atomic_aggregate: atomic,
            aggregator: agg.map(|(asn, ip)| Aggregator {
                asn,
                address: Ipv4Addr::from(ip),
            }),
            communities: comms.map(|c| {
                Communities::from_items(&c.into_iter().map(Community).collect::<Vec<_>>())
            }),
            originator_id: orig_id,
            cluster_list: clusters.map(|c| {
                ClusterList::from_items(&c.into_iter().map(Ipv4Addr::from).collect::<Vec<_>>())
            }),
            extended_communities: ext.map(|c| {
                ExtendedCommunities::from_items(
                    &c.into_iter().map(ExtendedCommunity).collect::<Vec<_>>(),
                )
            }),
            as4_path,
            as4_aggregator,
            ipv6_extended_communities: v6ext.map(|c| {
                Ipv6ExtendedCommunities::from_items(
                    &c.into_iter().map(Ipv6ExtendedCommunity).collect::<Vec<_>>(),
                )
            }),
            aigp: aigp.map(Aigp::from_metric),
            large_communities: large.map(|c| {
                LargeCommunities::from_items(
                    &c.into_iter()
                        .map(|(a, b, c)| LargeCommunity {
                            global_admin: a,
                            local_data1: b,
                            local_data2: c,
                        })
                        .collect::<Vec<_>>(),
                )
            }),
            otc,
            unknown: unknown
                .into_iter()
                .map(|(code, (flags, value))| {
                    let mut flags = Flags(flags | Flags::OPTIONAL);
                    if value.len() > 255 {
                        flags = flags.with(Flags::EXTENDED_LENGTH);
                    }
                    RawAttribute {
                        flags,
                        type_code: code,
                        value: Bytes::from(value),
                    }
                })
                .collect(),
            ..PathAttributes::default()
        }
    })
}

fn arb_prefixes(v6: bool, max: usize) -> impl Strategy<Value = Vec<Nlri>> {
    let bits = if v6 { 128u8 } else { 32 };
    prop::collection::vec(
        (any::<u128>(), 0..=bits, prop::option::of(any::<u32>())),
        0..max,
    )
    .prop_map(move |v| {
        v.into_iter()
            .map(|(a, len, id)| {
                let p: ipnet::IpNet = if v6 {
                    ipnet::Ipv6Net::new(Ipv6Addr::from(a), len).unwrap().into()
                } else {
                    ipnet::Ipv4Net::new(Ipv4Addr::from(a as u32), len)
                        .unwrap()
                        .into()
                };
                Nlri {
                    path_id: id,
                    prefix: p.trunc(),
                }
            })
            .collect()
    })
}

fn four_and_attrs() -> impl Strategy<Value = (bool, PathAttributes)> {
    any::<bool>().prop_flat_map(|four| (Just(four), arb_attrs(four)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn attribute_set_round_trip((four, attrs) in four_and_attrs()) {
        let ctx = SessionContext::default().with_four_octet_as(four);
        let mut buf = BytesMut::new();
        attrs.encode(&ctx, &mut buf).unwrap();
        let d = PathAttributes::decode(&buf.clone().freeze(), &ctx, PeerType::Oad, false).unwrap();
        prop_assert!(d.report.is_empty(), "{:?}", d.report);
        prop_assert_eq!(&d.attributes, &attrs);
        let mut again = BytesMut::new();
        d.attributes.encode(&ctx, &mut again).unwrap();
        prop_assert_eq!(again, buf);
        let mut unshared = d.attributes.clone();
        unshared.unshare();
        prop_assert_eq!(unshared, attrs);
    }

    #[test]
    fn builder_round_trip(
        (four, mut attrs) in four_and_attrs(),
        v6 in any::<bool>(),
        ext in any::<bool>(),
        add_path in any::<bool>(),
        withdraw in any::<bool>(),
        p4 in arb_prefixes(false, 1500),
        p6 in arb_prefixes(true, 600),
    ) {
        attrs.origin.get_or_insert(Origin::Igp);
        attrs.as_path.get_or_insert_with(AsPath::empty);
        attrs.next_hop = Some(Ipv4Addr::new(192, 0, 2, 1));
        let (family, prefixes) = if v6 { (AfiSafi::IPV6_UNICAST, p6) } else { (AfiSafi::IPV4_UNICAST, p4) };
        let mut ctx = SessionContext::default().with_four_octet_as(four).with_extended_message(ext);
        if add_path {
            ctx = ctx.with_add_path(family, Direction::Send);
        }
        let rx = ctx.reversed();
        let nh = MpNextHop::Ipv6 { global: Ipv6Addr::LOCALHOST, link_local: None };
        let msgs = if withdraw {
            builder::withdraw(&ctx, family, &prefixes)
        } else {
            builder::announce(&ctx, family, &attrs, v6.then_some(&nh), &prefixes)
        };
        let Ok(msgs) = msgs else {
            // only when the attributes alone leave no room
            prop_assert!(!withdraw && attrs.encoded_len(&ctx) + 100 > ctx.max_message_len());
            return Ok(());
        };
        let mut got = Vec::new();
        let mut next = 0usize;
        for (i, m) in msgs.iter().enumerate() {
            prop_assert!(m.len() <= ctx.max_message_len());
            let u = Update::decode(m.slice(HEADER_LEN..), &rx).unwrap();
            let d = u.attributes(&rx, PeerType::Oad).unwrap();
            prop_assert!(d.report.is_empty(), "{:?}", d.report);
            let before = got.len();
            got.extend(u.withdrawn());
            got.extend(u.nlri());
            if let Some(r) = &d.mp_reach { got.extend(r.prefixes()); }
            if let Some(r) = &d.mp_unreach { got.extend(r.prefixes()); }
            next += got.len() - before;
            if i + 1 < msgs.len() {
                let n = &prefixes[next];
                let len = n.encoded_len() - if n.path_id.is_some() { 4 } else { 0 } + if add_path { 4 } else { 0 };
                prop_assert!(m.len() + len > ctx.max_message_len(), "not maximal");
            }
            if !withdraw {
                let mut want = attrs.clone();
                if v6 {
                    want.next_hop = None;
                }
                prop_assert_eq!(&d.attributes, &want);
            }
        }
        let want: Vec<Nlri> = prefixes
            .iter()
            .map(|n| Nlri { path_id: if add_path { Some(n.path_id.unwrap_or(0)) } else { None }, prefix: n.prefix })
            .collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn update_bytes_round_trip(
        (four, attrs) in four_and_attrs(),
        prefixes in arb_prefixes(false, 50),
        withdrawn in arb_prefixes(false, 50),
        add_path in any::<bool>(),
    ) {
        let f = AfiSafi::IPV4_UNICAST;
        let mut ctx = SessionContext::default().with_four_octet_as(four).with_extended_message(true);
        if add_path {
            ctx = ctx.with_add_path(f, Direction::Receive);
        }
        // Assemble a body by hand: withdrawn, attributes, NLRI.
        let mut w = BytesMut::new();
        for n in &withdrawn { if add_path { w.extend_from_slice(&n.path_id.unwrap_or(0).to_be_bytes()); } bgp_wire::nlri::encode_prefix(&n.prefix, &mut w); }
        let mut a = BytesMut::new();
        attrs.encode(&ctx, &mut a).unwrap();
        let mut nl = BytesMut::new();
        for n in &prefixes { if add_path { nl.extend_from_slice(&n.path_id.unwrap_or(0).to_be_bytes()); } bgp_wire::nlri::encode_prefix(&n.prefix, &mut nl); }
        let mut body = BytesMut::new();
        body.extend_from_slice(&(w.len() as u16).to_be_bytes());
        body.extend_from_slice(&w);
        body.extend_from_slice(&(a.len() as u16).to_be_bytes());
        body.extend_from_slice(&a);
        body.extend_from_slice(&nl);
        let body = body.freeze();
        let u = Update::decode(body.clone(), &ctx).unwrap();
        prop_assert_eq!(u.withdrawn().map(|n| n.prefix).collect::<Vec<_>>(), withdrawn.iter().map(|n| n.prefix).collect::<Vec<_>>());
        prop_assert_eq!(u.nlri().map(|n| n.prefix).collect::<Vec<_>>(), prefixes.iter().map(|n| n.prefix).collect::<Vec<_>>());
        let mut it = u.raw_attributes();
        let raw: Vec<RawAttribute> = it.by_ref().collect();
        prop_assert!(it.remainder().is_empty());
        let mut reencoded = BytesMut::new();
        for r in &raw {
            r.encode(&mut reencoded);
        }
        prop_assert_eq!(&reencoded[..], &u.attribute_bytes()[..]);
        let counts = u.prefix_counts(&ctx);
        prop_assert_eq!(counts.withdrawn, withdrawn.len());
        prop_assert_eq!(counts.announced, prefixes.len());
        let mut out = BytesMut::new();
        u.encode(&ctx.reversed(), &mut out).unwrap();
        prop_assert_eq!(&out[HEADER_LEN..], &body[..]);
        prop_assert_eq!(Update::decode(out.freeze().slice(HEADER_LEN..), &ctx).unwrap(), u);
    }

    #[test]
    fn decoding_never_panics(body in prop::collection::vec(any::<u8>(), 0..200), four in any::<bool>(), ap in any::<bool>()) {
        let mut ctx = SessionContext::default().with_four_octet_as(four);
        if ap {
            ctx = ctx.with_add_path(AfiSafi::IPV4_UNICAST, Direction::Receive).with_add_path(AfiSafi::IPV6_UNICAST, Direction::Receive);
        }
        let body = Bytes::from(body);
        if let Ok(u) = Update::decode(body.clone(), &ctx) {
            let _ = u.end_of_rib();
            let _ = u.prefix_counts(&ctx);
            let _ = u.raw_attributes().count();
            for peer in [PeerType::Internal, PeerType::External, PeerType::Oad] {
                if let Ok(mut d) = u.attributes(&ctx, peer) {
                    let _ = d.report.action();
                    d.attributes.unshare();
                    let _ = d.attributes.reconcile_as4();
                    let mut b = BytesMut::new();
                    let _ = d.attributes.encode_with_mp(&ctx, d.mp_reach.as_ref(), d.mp_unreach.as_ref(), &mut b);
                }
            }
        }
        // the same bytes as an attribute block
        let _ = PathAttributes::decode(&body, &ctx, PeerType::Internal, true);
    }
}
