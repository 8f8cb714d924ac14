//! Update groups: packing into the fewest UPDATEs, bytes shared by the
//! members, route refresh of one member, late joins, End-of-RIB, ADD-PATH
//! send with stable path identifiers, and the Adj-RIB-Out held once per
//! group.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod export_common;

use bgp_rib::export::{AddPathSend, LocalAddresses, Negotiated, PeerConfig};
use bgp_rib::{AllReachable, NextHop, PeerId, PeerKind as K};
use bgp_wire::attribute::{Communities, Community, Origin, PathAttributes};
use bgp_wire::nlri::Nlri;
use bgp_wire::{AfiSafi, AsPath, SessionContext};
use export_common::*;
use ipnet::{IpNet, Ipv4Net};

const HEADER: usize = 19;

fn base(path: &[u32]) -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(path)),
        ..PathAttributes::default()
    }
}

fn v24(i: u32) -> IpNet {
    IpNet::V4(Ipv4Net::new(std::net::Ipv4Addr::from((10 << 24) | (i << 8)), 24).unwrap())
}

fn ebgp_cfg() -> PeerConfig {
    PeerConfig::default().with_local_addresses(LocalAddresses::v4(ip4("198.51.100.1")))
}

/// A speaker with one eBGP source and `n` eBGP receivers in AS 65002
/// sharing one configuration (one group).
fn speaker(n: usize, neg: &Negotiated) -> (Speaker, PeerId, Vec<PeerId>) {
    let mut s = Speaker::new(65000, "10.0.0.1");
    let src = s.peer(K::External, 65001, "192.0.2.1", PeerConfig::default());
    let members: Vec<PeerId> = (0..n)
        .map(|i| {
            s.peer(
                K::External,
                65002,
                &format!("198.51.100.{}", 10 + i),
                ebgp_cfg(),
            )
        })
        .collect();
    for &m in &members {
        s.join(m, neg.clone());
    }
    (s, src, members)
}

/// The octets of the path attributes one group sends with this route.
fn attr_len(ctx: &SessionContext) -> usize {
    let mut a = base(&[65000, 65001]);
    a.next_hop = Some(ip4("198.51.100.1"));
    a.encoded_len(ctx)
}

#[test]
fn one_set_packs_into_the_fewest_updates_shared_by_all_members() {
    let neg = Negotiated::default();
    let (mut s, src, members) = speaker(3, &neg);
    assert!(
        members
            .windows(2)
            .all(|w| s.ex.group_of(w[0]) == s.ex.group_of(w[1]))
    );
    // all three got End-of-RIB of the empty table
    for &m in &members {
        assert_eq!(s.got(m).eor, [AfiSafi::IPV4_UNICAST]);
    }
    const N: u32 = 10_000;
    let nlri: Vec<Nlri> = (0..N).map(|i| Nlri::new(v24(i))).collect();
    s.announce_nlri(
        src,
        nlri.clone(),
        &base(&[65001]),
        NextHop::V4(ip4("192.0.2.1")),
    );
    // flush, keeping the messages to compare the members' bytes
    let mut touched = Vec::new();
    s.rib.take_touched(&mut touched);
    s.ex.record_prefixes(touched);
    let report = s.ex.flush(&s.rib, &AllReachable);
    let per_msg = (4096 - HEADER - 4 - attr_len(&neg.send_context())) / 4;
    let expected = (N as usize).div_ceil(per_msg);
    assert_eq!(
        report.updates, expected,
        "{per_msg} /24s per 4096-octet UPDATE"
    );
    assert_eq!(report.announced, N as usize);
    let streams: Vec<_> = members.iter().map(|&m| s.deliver(m)).collect();
    for st in &streams {
        assert_eq!(st.len(), expected);
        // every message full but the last
        for (i, m) in st.iter().enumerate() {
            assert!(m.len() <= 4096);
            if i + 1 < st.len() {
                assert!(m.len() + 4 > 4096);
            }
        }
    }
    // one encoding, shared: the same buffers in every member's queue
    for st in &streams[1..] {
        for (a, b) in st.iter().zip(streams[0].iter()) {
            assert_eq!(a.as_ptr(), b.as_ptr());
        }
    }
    // what each member holds: exactly the prefixes, with the exported set
    for &m in &members {
        let rx = s.got(m);
        assert_eq!(rx.routes.len(), N as usize);
        for n in &nlri {
            let (a, nh) = &rx.routes[&(n.prefix, None)];
            assert_eq!(a.as_path.as_ref().unwrap().to_string(), "65000 65001");
            assert_eq!(*nh, NextHop::V4(ip4("198.51.100.1")));
        }
    }
    // the Adj-RIB-Out is held once: one route per prefix, one exported set
    let mem = s.ex.memory();
    assert_eq!(mem.groups, 1);
    assert_eq!(mem.routes, N as usize);
    assert_eq!(mem.attr_sets, 1);
    // withdrawals are packed too
    let all: Vec<Nlri> = nlri.clone();
    let mut ch = Vec::new();
    s.rib.withdraw(src, all, &AllReachable, &mut ch);
    s.ex.record(&ch);
    let mut touched = Vec::new();
    s.rib.take_touched(&mut touched);
    let report = s.ex.flush(&s.rib, &AllReachable);
    let per_msg = (4096 - HEADER - 4) / 4;
    assert_eq!(report.updates, (N as usize).div_ceil(per_msg));
    assert_eq!(report.withdrawn, N as usize);
    for &m in &members {
        s.deliver(m);
        assert!(s.got(m).routes.is_empty());
    }
    assert_eq!(s.ex.memory().routes, 0);
    assert_eq!(
        s.ex.attr_store().len(),
        0,
        "exported sets freed with their last route"
    );
}

#[test]
fn prefixes_grouped_by_exported_set_and_extended_messages() {
    for ext in [false, true] {
        let neg = Negotiated {
            extended_message: ext,
            ..Negotiated::default()
        };
        let (mut s, src, members) = speaker(1, &neg);
        // interleaved: even prefixes one set, odd ones another
        let even: Vec<Nlri> = (0..4000).step_by(2).map(|i| Nlri::new(v24(i))).collect();
        let odd: Vec<Nlri> = (1..4000).step_by(2).map(|i| Nlri::new(v24(i))).collect();
        let nh = NextHop::V4(ip4("192.0.2.1"));
        s.announce_nlri(src, even, &base(&[65001]), nh);
        s.announce_nlri(src, odd, &base(&[65001, 65003]), nh);
        let r = s.flush();
        let per_set = if ext { 1 } else { 2 }; // 2,000 /24s: 8,000 octets
        assert_eq!(r.updates, 2 * per_set);
        let rx = s.got(members[0]);
        assert_eq!(rx.routes.len(), 4000);
        assert_eq!(
            rx.attrs("10.0.1.0/24")
                .as_path
                .as_ref()
                .unwrap()
                .to_string(),
            "65000 65001 65003"
        );
        assert_eq!(
            rx.attrs("10.0.2.0/24")
                .as_path
                .as_ref()
                .unwrap()
                .to_string(),
            "65000 65001"
        );
    }
}

#[test]
fn route_refresh_resends_to_one_member_only() {
    let neg = Negotiated::dual_stack();
    let (mut s, src, members) = speaker(2, &neg);
    let nh = NextHop::V4(ip4("192.0.2.1"));
    s.announce_nlri(
        src,
        (0..100).map(|i| Nlri::new(v24(i))).collect(),
        &base(&[65001]),
        nh,
    );
    s.flush();
    let before = s.got(members[0]).clone();
    let r =
        s.ex.route_refresh(members[0], Some(AfiSafi::IPV4_UNICAST))
            .unwrap();
    assert_eq!(r.announced, 100);
    assert_eq!(
        s.ex.queued(members[1]),
        0,
        "the other member is not disturbed"
    );
    let msgs = s.deliver(members[0]);
    assert_eq!(msgs.len(), 1);
    let after = s.got(members[0]);
    assert_eq!(after.routes, before.routes);
    assert_eq!(after.announced, before.announced + 100);
    // no End-of-RIB after a refresh (RFC 7313's markers are the caller's)
    assert_eq!(after.eor, before.eor);
    // a refresh of a family with nothing sends nothing
    s.ex.route_refresh(members[0], Some(AfiSafi::IPV6_UNICAST))
        .unwrap();
    assert_eq!(s.ex.queued(members[0]), 0);
    assert!(s.ex.route_refresh(src, None).is_err(), "not a member");
}

#[test]
fn late_join_gets_the_table_while_the_group_goes_on() {
    let neg = Negotiated::dual_stack();
    let (mut s, src, members) = speaker(1, &neg);
    let nh = NextHop::V4(ip4("192.0.2.1"));
    s.announce_nlri(
        src,
        (0..500).map(|i| Nlri::new(v24(i))).collect(),
        &base(&[65001]),
        nh,
    );
    s.flush();
    // changes pending (not flushed) when the new member joins
    s.withdraw(src, &["10.0.0.0/24", "10.0.1.0/24"]);
    let nh6 = NextHop::from("2001:db8::1".parse::<std::net::Ipv6Addr>().unwrap());
    s.announce_nlri(
        src,
        vec![Nlri::new(net("2001:db8:1::/48"))],
        &base(&[65001]),
        nh6,
    );
    let late = s.peer(
        K::External,
        65002,
        "198.51.100.99",
        ebgp_cfg().with_local_addresses(
            LocalAddresses::v4(ip4("198.51.100.1")).with_v6("2001:db8:ff::1".parse().unwrap()),
        ),
    );
    // a different local address: another group (the next hop differs)
    s.join(late, neg.clone());
    assert_ne!(s.ex.group_of(late), s.ex.group_of(members[0]));
    let late2 = s.peer(K::External, 65002, "198.51.100.98", ebgp_cfg());
    s.join(late2, neg.clone());
    assert_eq!(s.ex.group_of(late2), s.ex.group_of(members[0]));
    // the late member has the group's Adj-RIB-Out (the last flushed
    // state) and both End-of-RIBs
    assert_eq!(s.got(late2).routes.len(), 500);
    assert_eq!(
        s.got(late2).eor,
        [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST]
    );
    // the flush brings both members to the same current state
    s.flush();
    assert_eq!(s.got(late2).routes, s.got(members[0]).routes);
    assert_eq!(s.got(late2).routes.len(), 498);
    assert!(!s.got(late2).has("10.0.0.0/24"));
    // a group without an IPv6 local address cannot make the next hop of
    // an IPv6 route: not sent; the group with one sends it
    assert!(!s.got(late2).has("2001:db8:1::/48"));
    assert!(s.got(late).has("2001:db8:1::/48"));
    // the original member did not receive the table again
    assert_eq!(s.got(members[0]).eor.len(), 2);
    assert_eq!(s.got(members[0]).announced, 500);
    // leaving: the group stays while a member is left
    s.ex.leave(members[0]).unwrap();
    assert!(s.ex.group_of(late2).is_some());
    assert_eq!(s.ex.memory().groups, 2);
    s.ex.leave(late2).unwrap();
    s.ex.leave(late).unwrap();
    assert_eq!(s.ex.memory().groups, 0);
    assert_eq!(s.ex.attr_store().len(), 0);
}

#[test]
fn two_octet_as_sessions_get_as4_path() {
    let neg = Negotiated {
        four_octet_as: false,
        ..Negotiated::default()
    };
    let (mut s, src, members) = speaker(1, &neg);
    let four = s.peer(K::External, 65002, "198.51.100.50", ebgp_cfg());
    s.join(four, Negotiated::default());
    assert_ne!(s.ex.group_of(four), s.ex.group_of(members[0]));
    s.announce(
        src,
        &["203.0.113.0/24"],
        &base(&[65001, 4_200_000_001]),
        "192.0.2.1",
    );
    s.flush();
    let mut a = s.got(members[0]).attrs("203.0.113.0/24").clone();
    assert_eq!(a.as_path.as_ref().unwrap().to_string(), "65000 65001 23456");
    a.reconcile_as4();
    assert_eq!(a.as_path.unwrap().to_string(), "65000 65001 4200000001");
    let b = s.got(four).attrs("203.0.113.0/24");
    assert_eq!(
        b.as_path.as_ref().unwrap().to_string(),
        "65000 65001 4200000001"
    );
    assert_eq!(b.as4_path, None);
}

/// Three eBGP sources of one prefix, ranked E1 > E2 > E3 by AS path
/// length, and iBGP receivers: ADD-PATH all, best 2, and none.
fn add_path_speaker() -> (Speaker, [PeerId; 3], [PeerId; 3]) {
    let mut s = Speaker::new(65000, "10.0.0.1");
    let e: Vec<PeerId> = (1..=3)
        .map(|i| {
            s.peer(
                K::External,
                65000 + i,
                &format!("192.0.2.{i}"),
                PeerConfig::default(),
            )
        })
        .collect();
    let ibgp = || PeerConfig::default().with_local_addresses(LocalAddresses::v4(ip4("10.0.0.1")));
    let all = s.peer(K::Internal, 65000, "10.0.0.2", ibgp());
    let best2 = s.peer(K::Internal, 65000, "10.0.0.3", ibgp());
    let plain = s.peer(K::Internal, 65000, "10.0.0.4", ibgp());
    let f = AfiSafi::IPV4_UNICAST;
    s.join(
        all,
        Negotiated::default().with_add_path(f, AddPathSend::All),
    );
    s.join(
        best2,
        Negotiated::default().with_add_path(f, AddPathSend::Best(2)),
    );
    s.join(plain, Negotiated::default());
    (s, [e[0], e[1], e[2]], [all, best2, plain])
}

fn path_of(s: &Speaker, rx: PeerId, id: Option<u32>) -> Option<String> {
    s.got(rx)
        .routes
        .get(&(net("203.0.113.0/24"), id))
        .map(|(a, _)| a.as_path.as_ref().unwrap().to_string())
}

#[test]
fn add_path_all_and_best_n_with_stable_ids() {
    let (mut s, [e1, e2, e3], [all, best2, plain]) = add_path_speaker();
    assert!(s.ex.needs_touched());
    let p = "203.0.113.0/24";
    s.announce(e3, &[p], &base(&[65003, 1, 2]), "192.0.2.3");
    s.announce(e2, &[p], &base(&[65002, 1]), "192.0.2.2");
    s.announce(e1, &[p], &base(&[65001]), "192.0.2.1");
    s.flush();
    // ids are given in rank order on the first run: E1 1, E2 2, E3 3
    assert_eq!(s.got(all).path_ids(p), [1, 2, 3]);
    assert_eq!(path_of(&s, all, Some(1)).unwrap(), "65001");
    assert_eq!(path_of(&s, all, Some(2)).unwrap(), "65002 1");
    assert_eq!(path_of(&s, all, Some(3)).unwrap(), "65003 1 2");
    assert_eq!(s.got(best2).path_ids(p), [1, 2]);
    assert_eq!(path_of(&s, plain, None).unwrap(), "65001");
    assert!(s.got(plain).path_ids(p).is_empty());

    // E2's path changes (not the best): replaced under its own id, no
    // withdrawal, nothing to the plain member
    let before = (s.got(all).announced, s.got(all).withdrawn);
    let before_plain = s.got(plain).updates;
    let mut a = base(&[65002, 1]);
    a.communities = Some(Communities::from_items(&[Community::new(65002, 7)]));
    s.announce(e2, &[p], &a, "192.0.2.2");
    s.flush();
    assert_eq!(s.got(all).announced, before.0 + 1);
    assert_eq!(s.got(all).withdrawn, before.1);
    let (got, _) = &s.got(all).routes[&(net(p), Some(2))];
    assert!(
        got.communities
            .as_ref()
            .unwrap()
            .contains(&Community::new(65002, 7))
    );
    assert_eq!(s.got(plain).updates, before_plain);

    // E1 withdraws: id 1 withdrawn; best 2 now E2 (id 2 kept) and E3 (a
    // new id, not 1, which is being withdrawn)
    let w = s.got(best2).withdrawn;
    s.withdraw(e1, &[p]);
    s.flush();
    assert_eq!(s.got(all).path_ids(p), [2, 3]);
    assert_eq!(s.got(best2).path_ids(p), [2, 3]);
    assert_eq!(s.got(best2).withdrawn, w + 1);
    assert_eq!(path_of(&s, best2, Some(3)).unwrap(), "65003 1 2");
    assert_eq!(path_of(&s, plain, None).unwrap(), "65002 1");

    // E1 back: it takes the free id 1 at both, and best 2 drops E3 (id 3)
    s.announce(e1, &[p], &base(&[65001]), "192.0.2.1");
    s.flush();
    assert_eq!(s.got(all).path_ids(p), [1, 2, 3]);
    assert_eq!(path_of(&s, all, Some(1)).unwrap(), "65001");
    assert_eq!(s.got(best2).path_ids(p), [1, 2]);
    assert_eq!(path_of(&s, best2, Some(2)).unwrap(), "65002 1");

    // the ADD-PATH Adj-RIB-Out: three routes for one prefix
    let g = s.ex.group_of(all).unwrap();
    assert_eq!(s.ex.adj_rib_out(g).unwrap().routes(), 3);
    assert_eq!(s.ex.adj_rib_out(g).unwrap().prefixes(), 1);
    // a late joiner to the ADD-PATH group gets the same ids
    let all2 = s.peer(
        K::Internal,
        65000,
        "10.0.0.5",
        PeerConfig::default().with_local_addresses(LocalAddresses::v4(ip4("10.0.0.1"))),
    );
    s.join(
        all2,
        Negotiated::default().with_add_path(AfiSafi::IPV4_UNICAST, AddPathSend::All),
    );
    assert_eq!(s.ex.group_of(all2), Some(g));
    assert_eq!(s.got(all2).routes, s.got(all).routes);
    // everything withdrawn: every id withdrawn
    for e in [e1, e2, e3] {
        s.withdraw(e, &[p]);
    }
    s.flush();
    for r in [all, best2, plain, all2] {
        assert!(s.got(r).routes.is_empty());
    }
    assert_eq!(s.ex.attr_store().len(), 0);
}

#[test]
fn add_path_ranks_by_the_decision_process_and_skips_unexportable_paths() {
    let (mut s, [e1, e2, e3], [all, best2, _]) = add_path_speaker();
    let p = "203.0.113.0/24";
    // E1's path carries NO_ADVERTISE: ranked first, not exportable; best 2
    // sends the next two
    let mut a = base(&[65001]);
    a.communities = Some(Communities::from_items(&[Community::NO_ADVERTISE]));
    s.announce(e1, &[p], &a, "192.0.2.1");
    s.announce(e2, &[p], &base(&[65002, 1]), "192.0.2.2");
    let mut low = base(&[65003]);
    low.multi_exit_disc = Some(5);
    s.announce(e3, &[p], &low, "192.0.2.3");
    s.flush();
    assert_eq!(s.got(all).routes.len(), 2);
    assert_eq!(s.got(best2).routes.len(), 2);
    // E3 (shorter path) ranks before E2
    assert_eq!(path_of(&s, best2, Some(1)).unwrap(), "65003");
    assert_eq!(path_of(&s, best2, Some(2)).unwrap(), "65002 1");
}

#[test]
fn attributes_too_big_for_a_message_are_withdrawn_instead() {
    let neg = Negotiated::default();
    let (mut s, src, members) = speaker(1, &neg);
    s.announce(src, &["203.0.113.0/24"], &base(&[65001]), "192.0.2.1");
    s.flush();
    assert!(s.got(members[0]).has("203.0.113.0/24"));
    // an AS_PATH of 1,100 ASes: 4,400 octets, more than a 4,096-octet
    // message holds
    let long: Vec<u32> = std::iter::once(65001).chain(1..1100).collect();
    s.announce(src, &["203.0.113.0/24"], &base(&long), "192.0.2.1");
    let r = s.flush();
    assert_eq!(r.too_big, 1);
    assert_eq!(r.withdrawn, 1);
    assert!(!s.got(members[0]).has("203.0.113.0/24"));
    let g = s.ex.group_of(members[0]).unwrap();
    assert_eq!(s.ex.adj_rib_out(g).unwrap().routes(), 0);
    // an extended-message group sends it
    let ext = s.peer(K::External, 65002, "198.51.100.77", ebgp_cfg());
    s.join(
        ext,
        Negotiated {
            extended_message: true,
            ..Negotiated::default()
        },
    );
    // the 1,100 ASes and ours
    assert_eq!(
        s.got(ext)
            .attrs("203.0.113.0/24")
            .as_path
            .as_ref()
            .unwrap()
            .len(),
        1101
    );
}

/// An export policy whose behaviour changes while it stays the same
/// object: rejects everything while `closed` is set.
struct Gate(std::sync::atomic::AtomicBool);

impl bgp_rib::export::ExportPolicy for Gate {
    fn evaluate<'a>(
        &self,
        _prefix: IpNet,
        attributes: &'a PathAttributes,
        _next_hop: NextHop,
        _peer: &'a bgp_rib::policy::Peer,
    ) -> bgp_rib::export::PolicyResult<'a> {
        if self.0.load(std::sync::atomic::Ordering::Relaxed) {
            bgp_rib::export::PolicyResult::Reject
        } else {
            bgp_rib::export::PolicyResult::Accept {
                attributes: std::borrow::Cow::Borrowed(attributes),
                next_hop: None,
            }
        }
    }
}

#[test]
fn reexport_and_rejoin_after_configuration_changes() {
    let gate = std::sync::Arc::new(Gate(std::sync::atomic::AtomicBool::new(false)));
    let mut s = Speaker::new(65000, "10.0.0.1");
    let src = s.peer(K::External, 65001, "192.0.2.1", PeerConfig::default());
    let m = s.peer(
        K::External,
        65002,
        "198.51.100.2",
        PeerConfig {
            export_policy: Some(bgp_rib::export::PolicyRef(gate.clone())),
            ..ebgp_cfg()
        },
    );
    s.join(m, Negotiated::default());
    s.announce(
        src,
        &["203.0.113.0/24", "203.0.114.0/24"],
        &base(&[65001]),
        "192.0.2.1",
    );
    s.flush();
    assert_eq!(s.got(m).routes.len(), 2);
    // the policy closes: a re-export withdraws everything
    gate.0.store(true, std::sync::atomic::Ordering::Relaxed);
    let r = s.ex.reexport(&s.rib, &AllReachable);
    assert_eq!(r.withdrawn, 2);
    s.deliver(m);
    assert!(s.got(m).routes.is_empty());
    gate.0.store(false, std::sync::atomic::Ordering::Relaxed);
    s.ex.reexport(&s.rib, &AllReachable);
    s.deliver(m);
    assert_eq!(s.got(m).routes.len(), 2);
    // a new receiver configuration takes effect on rejoin (a new group)
    let k0 = s.ex.group_key(s.ex.group_of(m).unwrap()).unwrap().clone();
    s.ex.set_peer_config(
        m,
        PeerConfig {
            next_hop: bgp_rib::export::NextHopMode::Keep,
            ..ebgp_cfg()
        },
    );
    s.ex.rejoin(&s.rib, m, &AllReachable).unwrap();
    let k1 = s.ex.group_key(s.ex.group_of(m).unwrap()).unwrap();
    assert_ne!(*k1, k0);
    assert_eq!(k1.config.next_hop, bgp_rib::export::NextHopMode::Keep);
    let mut rx = Rx::default();
    rx.apply(
        &s.ex.take_messages(m),
        &Negotiated::default().send_context().reversed(),
    );
    assert_eq!(rx.attrs("203.0.113.0/24").next_hop, Some(ip4("192.0.2.1")));
    assert_eq!(rx.eor, [AfiSafi::IPV4_UNICAST]);
    // leaving hands back what was not taken
    s.announce(src, &["203.0.115.0/24"], &base(&[65001]), "192.0.2.1");
    let mut touched = Vec::new();
    s.rib.take_touched(&mut touched);
    s.ex.record_prefixes(touched);
    s.ex.flush(&s.rib, &AllReachable);
    assert_eq!(s.ex.leave(m).unwrap().len(), 1);
    assert!(s.ex.leave(m).is_err());
}
