//! Every export rule, end to end: routes into a RIB, the exporter's UPDATEs
//! decoded with bgp-wire as each receiver would, the received attributes
//! checked. See `bgp_rib::export::rules` for the rules.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod export_common;

use std::sync::Arc;

use bgp_rib::export::{
    ExportPolicy, LocalAddresses, LocalAs, Negotiated, NextHopMode, PeerConfig, PolicyRef,
    PolicyResult, SpeakerConfig,
};
use bgp_rib::policy::{Actions, Condition, Modify, NextHopAction, Peer, Policy, PrefixSet, Term};
use bgp_rib::{AllReachable, DecisionConfig, NextHop, PeerId, PeerKind as K};
use bgp_wire::AsPath;
use bgp_wire::attribute::{Communities, Community, Origin, PathAttributes, SegmentType};
use bgp_wire::capability::bgp_role::BgpRole;
use bgp_wire::nlri::Nlri;
use export_common::*;
use ipnet::IpNet;

const LOCAL_AS: u32 = 65000;

fn base(path: &[u32]) -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(path)),
        ..PathAttributes::default()
    }
}

fn with_community(mut a: PathAttributes, c: Community) -> PathAttributes {
    let mut cs: Vec<Community> = a
        .communities
        .map(|c| c.iter().collect())
        .unwrap_or_default();
    cs.push(c);
    a.communities = Some(Communities::from_items(&cs));
    a
}

fn ebgp_cfg(local: &str) -> PeerConfig {
    PeerConfig::default().with_local_addresses(LocalAddresses::v4(ip4(local)))
}

fn ibgp_cfg() -> PeerConfig {
    PeerConfig::default().with_local_addresses(LocalAddresses::v4(ip4("10.0.0.1")))
}

/// The usual cast: an eBGP source E1, an iBGP non-client source I1, an
/// eBGP receiver E2 and an iBGP receiver I2.
struct Cast {
    s: Speaker,
    e1: PeerId,
    i1: PeerId,
    e2: PeerId,
    i2: PeerId,
}

fn cast() -> Cast {
    let mut s = Speaker::new(LOCAL_AS, "10.0.0.1");
    let e1 = s.peer(K::External, 65001, "192.0.2.1", ebgp_cfg("192.0.2.254"));
    let i1 = s.peer(K::Internal, LOCAL_AS, "10.0.0.2", ibgp_cfg());
    let e2 = s.peer(K::External, 65002, "198.51.100.2", ebgp_cfg("198.51.100.1"));
    let i2 = s.peer(K::Internal, LOCAL_AS, "10.0.0.4", ibgp_cfg());
    s.join(e2, Negotiated::default());
    s.join(i2, Negotiated::default());
    Cast { s, e1, i1, e2, i2 }
}

fn path(a: &PathAttributes) -> String {
    a.as_path.as_ref().unwrap().to_string()
}

#[test]
fn ebgp_prepends_sets_next_hop_self_and_drops_local_pref_and_med() {
    let mut c = cast();
    let mut a = base(&[65001, 65010]);
    a.multi_exit_disc = Some(50);
    a.local_pref = Some(200); // as an import policy would set it
    c.s.announce(c.e1, &["203.0.113.0/24"], &a, "192.0.2.1");
    c.s.flush();
    let to_e = c.s.got(c.e2).attrs("203.0.113.0/24");
    assert_eq!(path(to_e), "65000 65001 65010");
    assert_eq!(to_e.next_hop, Some(ip4("198.51.100.1")));
    assert_eq!(to_e.local_pref, None);
    assert_eq!(
        to_e.multi_exit_disc, None,
        "MED of another AS is not sent on (RFC 4271 5.1.4)"
    );
    // to iBGP: AS path and next hop unchanged, LOCAL_PREF and MED kept
    let to_i = c.s.got(c.i2).attrs("203.0.113.0/24");
    assert_eq!(path(to_i), "65001 65010");
    assert_eq!(to_i.next_hop, Some(ip4("192.0.2.1")));
    assert_eq!(to_i.local_pref, Some(200));
    assert_eq!(to_i.multi_exit_disc, Some(50));
    assert_eq!(to_i.origin, Some(Origin::Igp));
}

#[test]
fn ibgp_gets_the_default_local_pref() {
    let mut s = Speaker::with(
        SpeakerConfig {
            default_local_pref: 150,
            ..SpeakerConfig::new(LOCAL_AS, ip4("10.0.0.1"))
        },
        DecisionConfig::default(),
    );
    let e1 = s.peer(K::External, 65001, "192.0.2.1", PeerConfig::default());
    let i2 = s.peer(K::Internal, LOCAL_AS, "10.0.0.4", ibgp_cfg());
    s.join(i2, Negotiated::default());
    s.announce(e1, &["203.0.113.0/24"], &base(&[65001]), "192.0.2.1");
    s.flush();
    assert_eq!(s.got(i2).attrs("203.0.113.0/24").local_pref, Some(150));
}

#[test]
fn no_ibgp_to_ibgp_without_reflection() {
    let mut c = cast();
    let mut a = base(&[65010]);
    a.local_pref = Some(100);
    c.s.announce(c.i1, &["203.0.113.0/24"], &a, "10.0.0.2");
    c.s.flush();
    assert!(!c.s.got(c.i2).has("203.0.113.0/24"), "iBGP split horizon");
    let to_e = c.s.got(c.e2).attrs("203.0.113.0/24");
    assert_eq!(path(to_e), "65000 65010");
    assert_eq!(to_e.next_hop, Some(ip4("198.51.100.1")));
}

#[test]
fn med_sent_when_configured_originated_or_set_by_policy() {
    let mut c = cast();
    // propagate_med on a third eBGP peer
    let e3 = c.s.peer(
        K::External,
        65003,
        "198.51.100.10",
        PeerConfig {
            propagate_med: true,
            ..ebgp_cfg("198.51.100.1")
        },
    );
    c.s.join(e3, Negotiated::default());
    // an export policy that sets MED 7 on a fourth
    let pol = Policy::new("med").term(
        Term::new("all")
            .set(Actions::new().med(Modify::Set(7)))
            .accept(),
    );
    let e4 = c.s.peer(
        K::External,
        65004,
        "198.51.100.20",
        PeerConfig {
            export_policy: Some(PolicyRef::new(pol)),
            ..ebgp_cfg("198.51.100.1")
        },
    );
    c.s.join(e4, Negotiated::default());
    // originated routes, from the "peer" of this router's own routes
    let own = c.s.peer(
        K::Internal,
        LOCAL_AS,
        "10.0.0.1",
        PeerConfig {
            originated: true,
            ..PeerConfig::default()
        },
    );
    let mut a = base(&[65001]);
    a.multi_exit_disc = Some(50);
    c.s.announce(c.e1, &["203.0.113.0/24"], &a, "192.0.2.1");
    let mut o = base(&[]);
    o.multi_exit_disc = Some(20);
    c.s.announce(own, &["198.18.0.0/15"], &o, "0.0.0.0");
    c.s.flush();
    assert_eq!(c.s.got(c.e2).attrs("203.0.113.0/24").multi_exit_disc, None);
    assert_eq!(
        c.s.got(e3).attrs("203.0.113.0/24").multi_exit_disc,
        Some(50)
    );
    assert_eq!(c.s.got(e4).attrs("203.0.113.0/24").multi_exit_disc, Some(7));
    // originated: MED kept towards eBGP, the next hop is ours, the path
    // is the local AS alone
    let mine = c.s.got(c.e2).attrs("198.18.0.0/15");
    assert_eq!(mine.multi_exit_disc, Some(20));
    assert_eq!(path(mine), "65000");
    assert_eq!(mine.next_hop, Some(ip4("198.51.100.1")));
    // and to iBGP: unspecified next hop becomes ours, empty AS path
    let mine_i = c.s.got(c.i2).attrs("198.18.0.0/15");
    assert_eq!(mine_i.next_hop, Some(ip4("10.0.0.1")));
    assert_eq!(path(mine_i), "");
    assert_eq!(mine_i.local_pref, Some(100));
}

#[test]
fn next_hop_modes() {
    let mut c = cast();
    let keep = c.s.peer(
        K::External,
        65003,
        "198.51.100.10",
        PeerConfig {
            next_hop: NextHopMode::Keep,
            ..ebgp_cfg("198.51.100.1")
        },
    );
    let third_party = c.s.peer(
        K::External,
        65004,
        "192.0.2.50",
        PeerConfig {
            shared_subnets: vec![net("192.0.2.0/24")],
            ..ebgp_cfg("192.0.2.254")
        },
    );
    let self_i = c.s.peer(
        K::Internal,
        LOCAL_AS,
        "10.0.0.5",
        PeerConfig {
            next_hop: NextHopMode::SelfAddress,
            ..ibgp_cfg()
        },
    );
    for p in [keep, third_party, self_i] {
        c.s.join(p, Negotiated::default());
    }
    c.s.announce(c.e1, &["203.0.113.0/24"], &base(&[65001]), "192.0.2.1");
    c.s.announce(c.e1, &["203.0.114.0/24"], &base(&[65001, 1]), "192.0.2.99");
    let e9 =
        c.s.peer(K::External, 65009, "198.18.0.1", PeerConfig::default());
    c.s.announce(e9, &["203.0.115.0/24"], &base(&[65009]), "198.18.0.1");
    c.s.flush();
    let nh = |p: PeerId, pfx: &str| c.s.got(p).attrs(pfx).next_hop.unwrap();
    assert_eq!(nh(keep, "203.0.113.0/24"), ip4("192.0.2.1"));
    // third party: the next hop is on the subnet shared with the peer
    assert_eq!(nh(third_party, "203.0.113.0/24"), ip4("192.0.2.1"));
    assert_eq!(nh(third_party, "203.0.114.0/24"), ip4("192.0.2.99"));
    // not on it: self
    assert_eq!(nh(third_party, "203.0.115.0/24"), ip4("192.0.2.254"));
    // the default to eBGP is self
    assert_eq!(nh(c.e2, "203.0.115.0/24"), ip4("198.51.100.1"));
    // iBGP: default unchanged, self with next-hop-self
    assert_eq!(nh(c.i2, "203.0.115.0/24"), ip4("198.18.0.1"));
    assert_eq!(nh(self_i, "203.0.115.0/24"), ip4("10.0.0.1"));
}

#[test]
fn local_as_and_replace_as() {
    let mut c = cast();
    let la = c.s.peer(
        K::External,
        65003,
        "198.51.100.10",
        PeerConfig {
            local_as: Some(LocalAs {
                asn: 64999,
                no_prepend: false,
                replace_as: false,
            }),
            ..ebgp_cfg("198.51.100.1")
        },
    );
    let ra = c.s.peer(
        K::External,
        65004,
        "198.51.100.20",
        PeerConfig {
            local_as: Some(LocalAs {
                asn: 64999,
                no_prepend: false,
                replace_as: true,
            }),
            ..ebgp_cfg("198.51.100.1")
        },
    );
    c.s.join(la, Negotiated::default());
    c.s.join(ra, Negotiated::default());
    c.s.announce(c.e1, &["203.0.113.0/24"], &base(&[65001]), "192.0.2.1");
    c.s.flush();
    assert_eq!(
        path(c.s.got(la).attrs("203.0.113.0/24")),
        "64999 65000 65001"
    );
    assert_eq!(path(c.s.got(ra).attrs("203.0.113.0/24")), "64999 65001");
    assert_ne!(c.s.ex.group_of(la), c.s.ex.group_of(c.e2));
}

#[test]
fn well_known_communities() {
    let mut s = Speaker::with(
        SpeakerConfig {
            confederation: Some(100),
            ..SpeakerConfig::new(LOCAL_AS, ip4("10.0.0.1"))
        },
        DecisionConfig::default(),
    );
    let e1 = s.peer(K::External, 65001, "192.0.2.1", PeerConfig::default());
    let e2 = s.peer(K::External, 65002, "198.51.100.2", ebgp_cfg("198.51.100.1"));
    let bilateral = s.peer(
        K::External,
        65003,
        "198.51.100.3",
        PeerConfig {
            bilateral: true,
            ..ebgp_cfg("198.51.100.1")
        },
    );
    let role_peer = s.peer(
        K::External,
        65005,
        "198.51.100.5",
        PeerConfig {
            local_role: Some(BgpRole::Peer),
            ..ebgp_cfg("198.51.100.1")
        },
    );
    let confed = s.peer(K::ConfedExternal, 65010, "10.1.0.1", ibgp_cfg());
    let i2 = s.peer(K::Internal, LOCAL_AS, "10.0.0.4", ibgp_cfg());
    for p in [e2, bilateral, role_peer, confed, i2] {
        s.join(p, Negotiated::default());
    }
    let pfx = [
        ("203.0.113.0/24", Community::NO_ADVERTISE),
        ("203.0.114.0/24", Community::NO_EXPORT),
        ("203.0.115.0/24", Community::NO_EXPORT_SUBCONFED),
        ("203.0.116.0/24", Community::NO_PEER),
        ("203.0.117.0/24", Community::new(65001, 1)),
    ];
    for (p, c) in pfx {
        s.announce(e1, &[p], &with_community(base(&[65001]), c), "192.0.2.1");
    }
    s.flush();
    let has = |p: PeerId, pfx: &str| s.got(p).has(pfx);
    // NO_ADVERTISE: nobody
    for p in [e2, bilateral, confed, i2] {
        assert!(!has(p, "203.0.113.0/24"));
    }
    // NO_EXPORT: inside the confederation only
    assert!(!has(e2, "203.0.114.0/24"));
    assert!(has(confed, "203.0.114.0/24"));
    assert!(has(i2, "203.0.114.0/24"));
    // NO_EXPORT_SUBCONFED: not even to confederation peers
    assert!(!has(e2, "203.0.115.0/24"));
    assert!(!has(confed, "203.0.115.0/24"));
    assert!(has(i2, "203.0.115.0/24"));
    // NO_PEER: not to bilateral peers (configured, or by BGP role Peer)
    assert!(has(e2, "203.0.116.0/24"));
    assert!(!has(bilateral, "203.0.116.0/24"));
    assert!(!has(role_peer, "203.0.116.0/24"));
    assert!(has(i2, "203.0.116.0/24"));
    // other communities go everywhere and are passed on
    for p in [e2, bilateral, confed, i2] {
        let a = s.got(p).attrs("203.0.117.0/24");
        assert!(
            a.communities
                .as_ref()
                .unwrap()
                .contains(&Community::new(65001, 1))
        );
    }
    // the well-known ones are passed on too where the route goes
    assert!(
        s.got(i2)
            .attrs("203.0.114.0/24")
            .communities
            .as_ref()
            .unwrap()
            .contains(&Community::NO_EXPORT)
    );
}

#[test]
fn confederation_paths() {
    let mut s = Speaker::with(
        SpeakerConfig {
            confederation: Some(100),
            ..SpeakerConfig::new(LOCAL_AS, ip4("10.0.0.1"))
        },
        DecisionConfig::default(),
    );
    let e1 = s.peer(K::External, 65001, "192.0.2.1", PeerConfig::default());
    let e2 = s.peer(K::External, 65002, "198.51.100.2", ebgp_cfg("198.51.100.1"));
    let confed = s.peer(K::ConfedExternal, 65010, "10.1.0.1", ibgp_cfg());
    s.join(e2, Negotiated::default());
    s.join(confed, Negotiated::default());
    let mut a = base(&[65001]);
    a.multi_exit_disc = Some(5);
    s.announce(e1, &["203.0.113.0/24"], &a, "192.0.2.1");
    let mut from_confed = PathAttributes {
        as_path: Some(AsPath::from_segments([
            (SegmentType::AsConfedSequence, &[65010u32][..]),
            (SegmentType::AsSequence, &[65020u32][..]),
        ])),
        ..base(&[])
    };
    from_confed.local_pref = Some(120);
    s.announce(confed, &["203.0.120.0/24"], &from_confed, "10.1.0.1");
    s.flush();
    // to a confederation peer: member AS in a confed sequence, next hop
    // unchanged, LOCAL_PREF (default) and MED kept
    let a = s.got(confed).attrs("203.0.113.0/24");
    assert_eq!(path(a), "(65000) 65001");
    assert_eq!(a.next_hop, Some(ip4("192.0.2.1")));
    assert_eq!(a.local_pref, Some(100));
    assert_eq!(a.multi_exit_disc, Some(5));
    // to an external peer: confederation segments gone, identifier prepended
    let b = s.got(e2).attrs("203.0.120.0/24");
    assert_eq!(path(b), "100 65020");
    assert_eq!(b.local_pref, None);
    assert_eq!(path(s.got(e2).attrs("203.0.113.0/24")), "100 65001");
}

#[test]
fn otc_egress() {
    let mut c = cast();
    let role = |r| PeerConfig {
        local_role: Some(r),
        ..ebgp_cfg("198.51.100.1")
    };
    // our role on each session: the peer is then the matching one
    let to_customer = c.s.peer(
        K::External,
        65100,
        "198.51.100.100",
        role(BgpRole::Provider),
    );
    let to_provider = c.s.peer(
        K::External,
        65101,
        "198.51.100.101",
        role(BgpRole::Customer),
    );
    let to_peer =
        c.s.peer(K::External, 65102, "198.51.100.102", role(BgpRole::Peer));
    let to_rs = c.s.peer(
        K::External,
        65103,
        "198.51.100.103",
        role(BgpRole::RouteServerClient),
    );
    let to_rs_client = c.s.peer(
        K::External,
        65104,
        "198.51.100.104",
        role(BgpRole::RouteServer),
    );
    let all = [to_customer, to_provider, to_peer, to_rs, to_rs_client];
    for p in all {
        c.s.join(p, Negotiated::default());
    }
    let mut with_otc = base(&[65001]);
    with_otc.otc = Some(65001);
    c.s.announce(c.e1, &["203.0.113.0/24"], &with_otc, "192.0.2.1");
    c.s.announce(c.e1, &["203.0.114.0/24"], &base(&[65001]), "192.0.2.1");
    c.s.flush();
    // with OTC: not to a Provider, a Peer or a Route Server
    let got = |p: PeerId, pfx: &str| c.s.got(p).get(pfx).map(|(a, _)| a.otc);
    assert_eq!(got(to_provider, "203.0.113.0/24"), None);
    assert_eq!(got(to_peer, "203.0.113.0/24"), None);
    assert_eq!(got(to_rs, "203.0.113.0/24"), None);
    assert_eq!(got(to_customer, "203.0.113.0/24"), Some(Some(65001)));
    assert_eq!(got(to_rs_client, "203.0.113.0/24"), Some(Some(65001)));
    // without: OTC = our AS added towards Customers, Peers and RS-Clients
    assert_eq!(got(to_customer, "203.0.114.0/24"), Some(Some(LOCAL_AS)));
    assert_eq!(got(to_peer, "203.0.114.0/24"), Some(Some(LOCAL_AS)));
    assert_eq!(got(to_rs_client, "203.0.114.0/24"), Some(Some(LOCAL_AS)));
    assert_eq!(got(to_provider, "203.0.114.0/24"), Some(None));
    assert_eq!(got(to_rs, "203.0.114.0/24"), Some(None));
    // no role: nothing added
    assert_eq!(got(c.e2, "203.0.114.0/24"), Some(None));
    assert_eq!(got(c.e2, "203.0.113.0/24"), Some(Some(65001)));
}

#[test]
fn llgr_stale_only_to_llgr_peers_with_the_community() {
    let mut c = cast();
    let llgr = c.s.peer(K::Internal, LOCAL_AS, "10.0.0.9", ibgp_cfg());
    c.s.join(
        llgr,
        Negotiated {
            llgr: true,
            ..Negotiated::default()
        },
    );
    c.s.announce(c.e1, &["203.0.113.0/24"], &base(&[65001]), "192.0.2.1");
    c.s.flush();
    assert!(c.s.got(c.i2).has("203.0.113.0/24"));
    // a flag-only change: no best-path change is reported, the touched
    // prefixes carry it (the harness feeds them to the exporter)
    let mut ch = Vec::new();
    c.s.rib.mark_stale(c.e1, true, &AllReachable, &mut ch);
    assert!(ch.is_empty());
    c.s.flush();
    assert!(
        !c.s.got(c.i2).has("203.0.113.0/24"),
        "withdrawn from the peer without LLGR"
    );
    assert!(!c.s.got(c.e2).has("203.0.113.0/24"));
    let a = c.s.got(llgr).attrs("203.0.113.0/24");
    assert!(
        a.communities
            .as_ref()
            .unwrap()
            .contains(&Community::LLGR_STALE)
    );
}

#[test]
fn ipv6_next_hops() {
    let mut s = Speaker::new(LOCAL_AS, "10.0.0.1");
    let e1 = s.peer(K::External, 65001, "2001:db8:1::1", PeerConfig::default());
    let e2 = s.peer(
        K::External,
        65002,
        "2001:db8:2::2",
        PeerConfig::default().with_local_addresses(
            LocalAddresses::default()
                .with_v6("2001:db8:2::1".parse().unwrap())
                .with_link_local("fe80::1".parse().unwrap()),
        ),
    );
    let i2 = s.peer(K::Internal, LOCAL_AS, "2001:db8:ff::4", ibgp_cfg());
    s.join(e2, Negotiated::dual_stack());
    s.join(i2, Negotiated::dual_stack());
    let nh = NextHop::V6 {
        global: "2001:db8:1::1".parse().unwrap(),
        link_local: Some("fe80::99".parse().unwrap()),
    };
    s.announce_nlri(
        e1,
        vec![Nlri::new(net("2001:db8:100::/48"))],
        &base(&[65001]),
        nh,
    );
    s.flush();
    let (a, got) = s.got(e2).get("2001:db8:100::/48").unwrap().clone();
    assert_eq!(a.next_hop, None);
    assert_eq!(
        got,
        NextHop::V6 {
            global: "2001:db8:2::1".parse().unwrap(),
            link_local: Some("fe80::1".parse().unwrap())
        }
    );
    // iBGP: the global address kept, the sender's link-local dropped
    let (_, got) = s.got(i2).get("2001:db8:100::/48").unwrap().clone();
    assert_eq!(
        got,
        NextHop::from("2001:db8:1::1".parse::<std::net::Ipv6Addr>().unwrap())
    );
    // a receiver without the family gets nothing of it, and its EoR list
    // has IPv4 only
    assert_eq!(
        s.got(e2).eor,
        vec![
            bgp_wire::AfiSafi::IPV4_UNICAST,
            bgp_wire::AfiSafi::IPV6_UNICAST
        ]
    );
}

/// A policy of our own through the hook: rejects one prefix, rewrites the
/// next hop of another, passes the rest unchanged.
struct Custom;

impl ExportPolicy for Custom {
    fn evaluate<'a>(
        &self,
        prefix: IpNet,
        attributes: &'a PathAttributes,
        _next_hop: NextHop,
        peer: &'a Peer,
    ) -> PolicyResult<'a> {
        assert_eq!(peer.asn, 65002);
        assert_eq!(peer.local_as, LOCAL_AS);
        if prefix == net("203.0.113.0/24") {
            PolicyResult::Reject
        } else if prefix == net("203.0.114.0/24") {
            PolicyResult::Accept {
                attributes: std::borrow::Cow::Borrowed(attributes),
                next_hop: Some(NextHopAction::Address("198.51.100.77".parse().unwrap())),
            }
        } else {
            PolicyResult::Accept {
                attributes: std::borrow::Cow::Borrowed(attributes),
                next_hop: None,
            }
        }
    }
}

#[test]
fn export_policy_hook() {
    for policy in [
        PolicyRef::new(Custom),
        PolicyRef(Arc::new(
            Policy::new("p")
                .term(
                    Term::new("drop")
                        .when(Condition::prefix_in(
                            PrefixSet::parse(["203.0.113.0/24"]).unwrap(),
                        ))
                        .reject(),
                )
                .term(
                    Term::new("nh")
                        .when(Condition::prefix_in(
                            PrefixSet::parse(["203.0.114.0/24"]).unwrap(),
                        ))
                        .set(
                            Actions::new()
                                .next_hop(NextHopAction::Address("198.51.100.77".parse().unwrap())),
                        )
                        .accept(),
                )
                .term(Term::new("rest").accept()),
        )),
    ] {
        let mut s = Speaker::new(LOCAL_AS, "10.0.0.1");
        let e1 = s.peer(K::External, 65001, "192.0.2.1", PeerConfig::default());
        let e2 = s.peer(
            K::External,
            65002,
            "198.51.100.2",
            PeerConfig {
                export_policy: Some(policy),
                ..ebgp_cfg("198.51.100.1")
            },
        );
        s.join(e2, Negotiated::default());
        s.announce(
            e1,
            &["203.0.113.0/24", "203.0.114.0/24", "203.0.115.0/24"],
            &base(&[65001]),
            "192.0.2.1",
        );
        s.flush();
        let rx = s.got(e2);
        assert!(!rx.has("203.0.113.0/24"));
        assert_eq!(
            rx.attrs("203.0.114.0/24").next_hop,
            Some(ip4("198.51.100.77"))
        );
        assert_eq!(
            rx.attrs("203.0.115.0/24").next_hop,
            Some(ip4("198.51.100.1"))
        );
        // the policy-changed route is still prepended
        assert_eq!(path(rx.attrs("203.0.114.0/24")), "65000 65001");
    }
}

#[test]
fn withdrawals_follow_the_loc_rib() {
    let mut c = cast();
    c.s.announce(
        c.e1,
        &["203.0.113.0/24", "203.0.114.0/24"],
        &base(&[65001]),
        "192.0.2.1",
    );
    c.s.flush();
    assert!(c.s.got(c.e2).has("203.0.113.0/24"));
    c.s.withdraw(c.e1, &["203.0.113.0/24"]);
    let r = c.s.flush();
    assert_eq!(r.withdrawn, 2, "one per group");
    assert!(!c.s.got(c.e2).has("203.0.113.0/24"));
    assert!(!c.s.got(c.i2).has("203.0.113.0/24"));
    assert!(c.s.got(c.e2).has("203.0.114.0/24"));
    // an iBGP best path replacing the eBGP one: withdrawn from I2 (split
    // horizon), replaced towards E2
    let mut a = base(&[65020]);
    a.local_pref = Some(300);
    c.s.announce(c.i1, &["203.0.114.0/24"], &a, "10.0.0.2");
    c.s.flush();
    assert!(!c.s.got(c.i2).has("203.0.114.0/24"));
    assert_eq!(path(c.s.got(c.e2).attrs("203.0.114.0/24")), "65000 65020");
}
