//! The protocol's checks on import: AS loops with an allowed count of the
//! local AS (and the confederation and `local-as` ASes), the RFC 9234
//! ingress rules, the `local-as` prepend, and an UPDATE refused as a whole
//! withdrawing what it announced.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod export_common;

use bgp_rib::export::{LocalAs, PeerConfig, SpeakerConfig};
use bgp_rib::import::{self, ImportReject};
use bgp_rib::{AllReachable, DecisionConfig, PeerInfo, PeerKind as K, Rib};
use bgp_wire::attribute::{Origin, PathAttributes, PeerType, SegmentType};
use bgp_wire::capability::bgp_role::BgpRole;
use bgp_wire::message::update::builder;
use bgp_wire::nlri::Nlri;
use bgp_wire::{AfiSafi, AsPath, SessionContext, Update};
use export_common::*;

fn speaker() -> SpeakerConfig {
    SpeakerConfig::new(65000, ip4("10.0.0.1"))
}

fn ext(asn: u32) -> PeerInfo {
    PeerInfo {
        kind: K::External,
        asn,
        router_id: ip4("192.0.2.1"),
        address: "192.0.2.1".parse().unwrap(),
        local: false,
    }
}

fn path(asns: &[u32]) -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(asns)),
        next_hop: Some(ip4("192.0.2.1")),
        ..PathAttributes::default()
    }
}

#[test]
fn as_loop_with_allowed_count() {
    let s = speaker();
    let p = ext(65001);
    let cfg = PeerConfig::default();
    assert_eq!(
        import::check(&s, &p, &cfg, &mut path(&[65001, 65002])),
        Ok(())
    );
    assert_eq!(
        import::check(&s, &p, &cfg, &mut path(&[65001, 65000, 65002])),
        Err(ImportReject::AsLoop {
            asn: 65000,
            count: 1
        })
    );
    let allow2 = PeerConfig {
        allow_own_as: 2,
        ..PeerConfig::default()
    };
    assert_eq!(
        import::check(&s, &p, &allow2, &mut path(&[65001, 65000, 65000])),
        Ok(())
    );
    assert_eq!(
        import::check(&s, &p, &allow2, &mut path(&[65001, 65000, 65000, 65000])),
        Err(ImportReject::AsLoop {
            asn: 65000,
            count: 3
        })
    );
    // an AS_SET member counts too
    let mut set = path(&[]);
    set.as_path = Some(AsPath::from_segments([
        (SegmentType::AsSequence, &[65001u32][..]),
        (SegmentType::AsSet, &[65000u32, 65005][..]),
    ]));
    assert!(import::check(&s, &p, &cfg, &mut set).is_err());
}

#[test]
fn confederation_and_local_as_loops() {
    let s = SpeakerConfig {
        confederation: Some(100),
        ..speaker()
    };
    let cfg = PeerConfig::default();
    // the confederation identifier outside confederation segments
    assert!(import::check(&s, &ext(65001), &cfg, &mut path(&[65001, 100])).is_err());
    // the member AS inside them
    let mut a = path(&[]);
    a.as_path = Some(AsPath::from_segments([
        (SegmentType::AsConfedSequence, &[65010u32, 65000][..]),
        (SegmentType::AsSequence, &[65001u32][..]),
    ]));
    let confed = PeerInfo {
        kind: K::ConfedExternal,
        ..ext(65010)
    };
    assert_eq!(
        import::check(&s, &confed, &cfg, &mut a),
        Err(ImportReject::AsLoop {
            asn: 65000,
            count: 1
        })
    );
    // the member AS outside confederation segments is another AS's business
    assert_eq!(
        import::check(&s, &ext(65001), &cfg, &mut path(&[65001, 65000])),
        Ok(())
    );
    // local-as: that AS is checked too, and prepended on import unless
    // no-prepend
    let la = PeerConfig {
        local_as: Some(LocalAs {
            asn: 64999,
            no_prepend: false,
            replace_as: false,
        }),
        ..PeerConfig::default()
    };
    assert!(import::check(&speaker(), &ext(65001), &la, &mut path(&[65001, 64999])).is_err());
    let mut a = path(&[65001]);
    import::check(&speaker(), &ext(65001), &la, &mut a).unwrap();
    assert_eq!(a.as_path.unwrap().to_string(), "64999 65001");
    let np = PeerConfig {
        local_as: Some(LocalAs {
            asn: 64999,
            no_prepend: true,
            replace_as: false,
        }),
        ..PeerConfig::default()
    };
    let mut a = path(&[65001]);
    import::check(&speaker(), &ext(65001), &np, &mut a).unwrap();
    assert_eq!(a.as_path.unwrap().to_string(), "65001");
}

#[test]
fn otc_ingress_rules() {
    let s = speaker();
    let p = ext(65001);
    let role = |r| PeerConfig {
        local_role: Some(r),
        ..PeerConfig::default()
    };
    let with_otc = |v| PathAttributes {
        otc: Some(v),
        ..path(&[65001])
    };
    // 1. from a Customer or an RS-Client (we are Provider / RS): OTC is a leak
    for ours in [BgpRole::Provider, BgpRole::RouteServer] {
        assert_eq!(
            import::check(&s, &p, &role(ours), &mut with_otc(65001)),
            Err(ImportReject::LeakFromCustomer)
        );
        let mut a = path(&[65001]);
        assert_eq!(import::check(&s, &p, &role(ours), &mut a), Ok(()));
        assert_eq!(a.otc, None, "nothing added from a Customer");
    }
    // 2. from a Peer: OTC must be the Peer's AS
    assert_eq!(
        import::check(&s, &p, &role(BgpRole::Peer), &mut with_otc(64999)),
        Err(ImportReject::LeakFromPeer { otc: 64999 })
    );
    assert_eq!(
        import::check(&s, &p, &role(BgpRole::Peer), &mut with_otc(65001)),
        Ok(())
    );
    // 3. from a Provider, a Peer or an RS without OTC: added with their AS
    for ours in [BgpRole::Customer, BgpRole::Peer, BgpRole::RouteServerClient] {
        let mut a = path(&[65001]);
        assert_eq!(import::check(&s, &p, &role(ours), &mut a), Ok(()));
        assert_eq!(a.otc, Some(65001));
    }
    // a Provider's route with OTC is kept as it is
    let mut a = with_otc(64777);
    assert_eq!(
        import::check(&s, &p, &role(BgpRole::Customer), &mut a),
        Ok(())
    );
    assert_eq!(a.otc, Some(64777));
    // no role configured: no OTC rule
    assert_eq!(
        import::check(&s, &p, &PeerConfig::default(), &mut with_otc(1)),
        Ok(())
    );
}

#[test]
fn refused_update_withdraws_what_it_announced() {
    let mut rib = Rib::new(DecisionConfig::default());
    let p = rib.add_peer(ext(65001)).unwrap();
    let s = speaker();
    let cfg = PeerConfig::default();
    let ctx = SessionContext::default().with_four_octet_as(true);
    let nlri = [
        Nlri::new(net("203.0.113.0/24")),
        Nlri::new(net("203.0.114.0/24")),
    ];
    let apply = |rib: &mut Rib, a: &PathAttributes| {
        let msgs = builder::announce(&ctx, AfiSafi::IPV4_UNICAST, a, None, &nlri).unwrap();
        let u = Update::decode(msgs[0].slice(19..), &ctx).unwrap();
        let d = u.attributes(&ctx, PeerType::External).unwrap();
        let mut ch = Vec::new();
        import::apply_update(rib, &s, &cfg, p, &u, &d, &AllReachable, &mut ch).unwrap()
    };
    let ok = apply(&mut rib, &path(&[65001]));
    assert_eq!(ok.rejected, None);
    assert_eq!(ok.rib.announced, 2);
    assert_eq!(rib.prefix_count(), 2);
    // the same prefixes again, now with a loop: the old paths go
    let bad = apply(&mut rib, &path(&[65001, 65000]));
    assert_eq!(
        bad.rejected,
        Some(ImportReject::AsLoop {
            asn: 65000,
            count: 1
        })
    );
    assert_eq!(bad.rib.withdrawn, 2);
    assert_eq!(rib.prefix_count(), 0);
}
