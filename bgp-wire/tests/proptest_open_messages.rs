//! Property tests: every capability, OPEN, NOTIFICATION and ROUTE-REFRESH
//! survives encode then decode unchanged, and any input that decodes
//! re-encodes to the same octets.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::Ipv4Addr;

use bytes::{BufMut, Bytes, BytesMut};
use proptest::prelude::*;

use bgp_wire::capability::{
    AddPath, AddPathFamily, BgpRole, Capability, ExtendedNextHop, ExtendedNextHopEntry, Fqdn,
    GracefulRestart, GracefulRestartFamily, LongLivedGracefulRestart,
    LongLivedGracefulRestartFamily, Multiprotocol, OrfEntry, OrfFamily, OutboundRouteFiltering,
    SendReceive, SoftwareVersion,
};
use bgp_wire::error::ErrorCode;
use bgp_wire::message::open::{OptionalParameter, ParametersFormat};
use bgp_wire::{AfiSafi, Notification, Open, RouteRefresh, RouteRefreshSubtype, SessionContext};

/// Codes this crate decodes into their own variants.
const KNOWN: [u8; 14] = [1, 2, 3, 5, 6, 9, 64, 65, 69, 70, 71, 73, 75, 128];

fn family() -> impl Strategy<Value = AfiSafi> {
    (any::<u16>(), any::<u8>()).prop_map(|(a, s)| AfiSafi::new(a.into(), s.into()))
}

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    proptest::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn send_receive() -> impl Strategy<Value = SendReceive> {
    any::<u8>().prop_map(SendReceive::from_u8)
}

fn capability() -> impl Strategy<Value = Capability> {
    let mp = (family(), any::<u8>()).prop_map(|(family, reserved)| {
        Capability::Multiprotocol(Multiprotocol { family, reserved })
    });
    let orf = (
        proptest::collection::vec(
            (
                family(),
                any::<u8>(),
                proptest::collection::vec(
                    (any::<u8>(), send_receive()).prop_map(|(orf_type, send_receive)| OrfEntry {
                        orf_type,
                        send_receive,
                    }),
                    0..5,
                ),
            )
                .prop_map(|(family, reserved, orfs)| OrfFamily {
                    family,
                    reserved,
                    orfs,
                }),
            1..4,
        ),
        bytes(5),
    )
        .prop_map(|(families, trailing)| {
            Capability::OutboundRouteFiltering(OutboundRouteFiltering { families, trailing })
        });
    let enh = proptest::collection::vec(
        (family(), any::<u16>()).prop_map(|(family, nh)| ExtendedNextHopEntry {
            family,
            next_hop_afi: nh.into(),
        }),
        0..10,
    )
    .prop_map(|entries| Capability::ExtendedNextHop(ExtendedNextHop { entries }));
    let gr = (
        0u8..16,
        0u16..4096,
        proptest::collection::vec(
            (family(), any::<u8>())
                .prop_map(|(family, flags)| GracefulRestartFamily { family, flags }),
            0..10,
        ),
    )
        .prop_map(|(flags, restart_time, families)| {
            Capability::GracefulRestart(GracefulRestart {
                flags,
                restart_time,
                families,
            })
        });
    let add_path = proptest::collection::vec(
        (family(), send_receive()).prop_map(|(family, send_receive)| AddPathFamily {
            family,
            send_receive,
        }),
        0..10,
    )
    .prop_map(|families| Capability::AddPath(AddPath { families }));
    let llgr = proptest::collection::vec(
        (family(), any::<u8>(), 0u32..=0xff_ffff).prop_map(|(family, flags, stale_time)| {
            LongLivedGracefulRestartFamily {
                family,
                flags,
                stale_time,
            }
        }),
        0..10,
    )
    .prop_map(|families| {
        Capability::LongLivedGracefulRestart(LongLivedGracefulRestart { families })
    });
    let fqdn = (bytes(60), bytes(60)).prop_map(|(hostname, domain_name)| {
        Capability::Fqdn(Fqdn {
            hostname,
            domain_name,
        })
    });
    let version =
        bytes(100).prop_map(|version| Capability::SoftwareVersion(SoftwareVersion { version }));
    let unknown = (
        any::<u8>().prop_filter("unknown code", |c| !KNOWN.contains(c)),
        bytes(40),
    )
        .prop_map(|(code, value)| Capability::Unknown { code, value });
    // Known codes of empty-valued capabilities with a value stay raw.
    let padded = (prop::sample::select(vec![2u8, 6, 70, 128]), bytes(10))
        .prop_filter("non-empty", |(_, v)| !v.is_empty())
        .prop_map(|(code, value)| Capability::Unknown { code, value });
    prop_oneof![
        mp,
        Just(Capability::RouteRefresh),
        orf,
        enh,
        Just(Capability::ExtendedMessage),
        any::<u8>().prop_map(|r| Capability::Role(BgpRole::from_u8(r))),
        gr,
        any::<u32>().prop_map(Capability::FourOctetAs),
        add_path,
        Just(Capability::EnhancedRouteRefresh),
        llgr,
        fqdn,
        version,
        Just(Capability::RouteRefreshPreStandard),
        unknown,
        padded,
    ]
}

fn parameter() -> impl Strategy<Value = OptionalParameter> {
    prop_oneof![
        4 => proptest::collection::vec(capability(), 0..4).prop_map(OptionalParameter::Capabilities),
        1 => (any::<u8>().prop_filter("not 2 or 255", |t| *t != 2 && *t != 255), bytes(20))
            .prop_map(|(param_type, value)| OptionalParameter::Unknown { param_type, value }),
    ]
}

fn open() -> impl Strategy<Value = Open> {
    (
        any::<u8>(),
        any::<u16>(),
        any::<u16>(),
        any::<u32>(),
        proptest::collection::vec(parameter(), 0..5),
        prop_oneof![
            Just(ParametersFormat::Standard),
            (1u8..=255).prop_map(|non_ext_len| ParametersFormat::Extended { non_ext_len }),
        ],
    )
        .prop_map(
            |(version, my_as, hold_time, id, parameters, parameters_format)| Open {
                version,
                my_as,
                hold_time,
                bgp_identifier: Ipv4Addr::from(id),
                parameters,
                parameters_format,
            },
        )
}

fn body_of(buf: &BytesMut) -> Bytes {
    Bytes::copy_from_slice(&buf[19..])
}

proptest! {
    #[test]
    fn capability_round_trip(cap in capability()) {
        let mut buf = BytesMut::new();
        cap.encode(&mut buf).unwrap();
        prop_assert_eq!(buf.len(), cap.encoded_len());
        let back = Capability::decode_list(buf.clone().freeze()).unwrap();
        prop_assert_eq!(&back, &vec![cap.clone()]);
        // Display never panics.
        let _ = cap.to_string();
    }

    #[test]
    fn open_round_trip(open in open()) {
        let ctx = SessionContext::default();
        let mut buf = BytesMut::new();
        let Ok(()) = open.encode(&ctx, &mut buf) else {
            // Only too long an OPEN may fail.
            prop_assume!(false);
            unreachable!()
        };
        let mut expected = open.clone();
        expected.parameters_format = open.encoded_format().unwrap();
        let back = Open::parse(body_of(&buf)).unwrap();
        prop_assert_eq!(&back, &expected);
        let strict_ok = open.version == 4
            && !matches!(open.hold_time, 1 | 2)
            && open.parameters.iter().all(|p| matches!(p, OptionalParameter::Capabilities(_)));
        let strict = Open::decode(body_of(&buf), &ctx);
        prop_assert_eq!(strict.is_ok(), strict_ok);
        let _ = back.to_string();
    }

    #[test]
    fn notification_round_trip(code: u8, subcode: u8, data in bytes(300)) {
        let ctx = SessionContext::default();
        let n = Notification::new(ErrorCode::from_pair(code, subcode), data);
        let mut buf = BytesMut::new();
        n.encode(&ctx, &mut buf).unwrap();
        prop_assert_eq!(Notification::decode(body_of(&buf), &ctx).unwrap(), n.clone());
        let _ = n.to_string();
    }

    #[test]
    fn shutdown_round_trip(text in "\\PC{0,300}") {
        let n = Notification::shutdown(&text);
        let got = match n.shutdown_communication() {
            Some(bgp_wire::message::notification::ShutdownCommunication::Message { text, trailing }) => {
                prop_assert!(trailing.is_empty());
                text.to_string()
            }
            None => String::new(),
            Some(other) => panic!("{other:?}"),
        };
        prop_assert!(got.len() <= 255);
        prop_assert!(text.starts_with(&got));
    }

    #[test]
    fn route_refresh_round_trip(fam in family(), subtype: u8, orf in bytes(50)) {
        let ctx = SessionContext::default();
        let subtype = RouteRefreshSubtype::from_u8(subtype);
        let orf = if matches!(subtype, RouteRefreshSubtype::BeginningOfRouteRefresh | RouteRefreshSubtype::EndOfRouteRefresh) {
            Bytes::new()
        } else {
            orf
        };
        let rr = RouteRefresh { family: fam, subtype, orf };
        let mut buf = BytesMut::new();
        rr.encode(&ctx, &mut buf).unwrap();
        prop_assert_eq!(RouteRefresh::decode(body_of(&buf), &ctx).unwrap(), rr);
    }

    /// Near-valid OPEN bodies built from random capability TLVs: decoding
    /// never panics, and whatever decodes re-encodes to the same octets.
    #[test]
    fn open_bytes_are_exact(
        tlvs in proptest::collection::vec(
            (prop_oneof![prop::sample::select(KNOWN.to_vec()), any::<u8>()], bytes(20)),
            0..6,
        ),
        extended: bool,
        cut in 0usize..4,
    ) {
        let mut caps = BytesMut::new();
        for (code, value) in &tlvs {
            caps.put_u8(*code);
            caps.put_u8(value.len() as u8);
            caps.put_slice(value);
        }
        let mut body = BytesMut::new();
        body.put_slice(&[4, 0xfd, 0xe9, 0, 90, 10, 0, 0, 1]);
        if extended {
            body.put_u8(255);
            body.put_u8(255);
            body.put_u16(caps.len() as u16 + 3);
            body.put_u8(2);
            body.put_u16(caps.len() as u16);
        } else {
            body.put_u8(caps.len() as u8 + 2);
            body.put_u8(2);
            body.put_u8(caps.len() as u8);
        }
        body.put_slice(&caps);
        let keep = body.len().saturating_sub(cut);
        body.truncate(keep);
        let ctx = SessionContext::default();
        if let Ok(open) = Open::decode(body.clone().freeze(), &ctx) {
            let mut out = BytesMut::new();
            open.encode(&ctx, &mut out).unwrap();
            prop_assert_eq!(&out[19..], &body[..]);
        }
    }

    /// Arbitrary bodies never panic any decoder.
    #[test]
    fn arbitrary_bodies(body in bytes(80)) {
        let ctx = SessionContext::default();
        let _ = Open::decode(body.clone(), &ctx);
        let _ = Open::parse(body.clone());
        let _ = Capability::decode_list(body.clone());
        if let Ok(n) = Notification::decode(body.clone(), &ctx) {
            let _ = n.to_string();
            let _ = n.hard_reset_cause();
        }
        if let Ok(rr) = RouteRefresh::decode(body.clone(), &ctx) {
            let mut out = BytesMut::new();
            rr.encode(&ctx, &mut out).unwrap();
            prop_assert_eq!(&out[19..], &body[..]);
        }
    }
}
