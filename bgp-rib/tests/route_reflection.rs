//! Route reflection (RFC 4456): the rules one reflector applies, then a
//! small network of speakers exchanging real UPDATEs: two reflectors in
//! one cluster, two clients of both, a non-client, and external peers;
//! the loops are cut and each router holds what the RFC says, with the
//! right ORIGINATOR_ID and CLUSTER_LIST.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod export_common;

use std::net::Ipv4Addr;

use bgp_rib::export::route_reflection::ReflectionLoop;
use bgp_rib::export::{Exporter, LocalAddresses, Negotiated, PeerConfig, SpeakerConfig};
use bgp_rib::import::{self, ImportReject};
use bgp_rib::{AllReachable, DecisionConfig, NextHop, PeerId, PeerInfo, PeerKind as K, Rib};
use bgp_wire::attribute::{Origin, PathAttributes, PeerType};
use bgp_wire::nlri::Nlri;
use bgp_wire::{AsPath, Update};
use export_common::*;

fn base(path: &[u32]) -> PathAttributes {
    PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(path)),
        ..PathAttributes::default()
    }
}

fn client() -> PeerConfig {
    PeerConfig {
        rr_client: true,
        ..PeerConfig::default()
    }
}

#[test]
fn one_reflector_sends_what_rfc_4456_says() {
    for c2c in [true, false] {
        let mut s = Speaker::with(
            SpeakerConfig {
                client_to_client: c2c,
                cluster_id: Some(ip4("10.0.0.100")),
                ..SpeakerConfig::new(65000, ip4("10.0.0.1"))
            },
            DecisionConfig::default(),
        );
        let c1 = s.peer(K::Internal, 65000, "10.0.1.1", client());
        let c2 = s.peer(K::Internal, 65000, "10.0.1.2", client());
        let n1 = s.peer(K::Internal, 65000, "10.0.2.1", PeerConfig::default());
        let n2 = s.peer(K::Internal, 65000, "10.0.2.2", PeerConfig::default());
        let e1 = s.peer(
            K::External,
            65001,
            "192.0.2.1",
            PeerConfig::default().with_local_addresses(LocalAddresses::v4(ip4("192.0.2.254"))),
        );
        for p in [c1, c2, n1, n2, e1] {
            s.join(p, Negotiated::default());
        }
        // clients share a group, non-clients another
        assert_eq!(s.ex.group_of(c1), s.ex.group_of(c2));
        assert_eq!(s.ex.group_of(n1), s.ex.group_of(n2));
        assert_ne!(s.ex.group_of(c1), s.ex.group_of(n1));
        let mut a = base(&[65010]);
        a.local_pref = Some(100);
        s.announce(c1, &["203.0.113.0/24"], &a, "10.0.1.1");
        s.announce(n1, &["203.0.114.0/24"], &a, "10.0.2.1");
        s.announce(e1, &["203.0.115.0/24"], &base(&[65001]), "192.0.2.1");
        s.flush();
        let has = |p: PeerId, pfx: &str| s.got(p).has(pfx);
        // from a client: to the other clients (if client-to-client), the
        // non-clients and eBGP
        assert_eq!(has(c2, "203.0.113.0/24"), c2c);
        assert!(has(n1, "203.0.113.0/24") && has(n2, "203.0.113.0/24"));
        assert!(has(e1, "203.0.113.0/24"));
        // from a non-client: to clients and eBGP only
        assert!(has(c1, "203.0.114.0/24") && has(c2, "203.0.114.0/24"));
        assert!(!has(n2, "203.0.114.0/24"));
        assert!(has(e1, "203.0.114.0/24"));
        // from eBGP: to all, not reflected (no ORIGINATOR_ID, no CLUSTER_LIST)
        for p in [c1, c2, n1, n2] {
            let got = s.got(p).attrs("203.0.115.0/24");
            assert_eq!(got.originator_id, None);
            assert_eq!(got.cluster_list, None);
        }
        // reflected: ORIGINATOR_ID of the source, our cluster ID, next hop
        // and the rest unchanged
        let r = s.got(n1).attrs("203.0.113.0/24");
        assert_eq!(r.originator_id, Some(ip4("10.0.1.1")));
        assert_eq!(
            r.cluster_list.as_ref().unwrap().iter().collect::<Vec<_>>(),
            [ip4("10.0.0.100")]
        );
        assert_eq!(r.next_hop, Some(ip4("10.0.1.1")));
        assert_eq!(r.local_pref, Some(100));
        assert_eq!(r.as_path.as_ref().unwrap().to_string(), "65010");
        // an ORIGINATOR_ID already there is kept; CLUSTER_LIST grows at the front
        let mut pre = a.clone();
        pre.originator_id = Some(ip4("10.9.9.9"));
        pre.cluster_list = Some(bgp_wire::attribute::ClusterList::from_items(&[ip4(
            "10.0.0.200",
        )]));
        s.announce(n1, &["203.0.116.0/24"], &pre, "10.0.2.1");
        s.flush();
        let r = s.got(c1).attrs("203.0.116.0/24");
        assert_eq!(r.originator_id, Some(ip4("10.9.9.9")));
        assert_eq!(
            r.cluster_list.as_ref().unwrap().iter().collect::<Vec<_>>(),
            [ip4("10.0.0.100"), ip4("10.0.0.200")]
        );
        // towards eBGP the reflection attributes are not sent
        let r = s.got(e1).attrs("203.0.116.0/24");
        assert_eq!(r.originator_id, None);
        assert_eq!(r.cluster_list, None);
    }
}

#[test]
fn cluster_id_defaults_to_the_router_id() {
    let mut s = Speaker::new(65000, "10.0.0.1");
    let c1 = s.peer(K::Internal, 65000, "10.0.1.1", client());
    let n1 = s.peer(K::Internal, 65000, "10.0.2.1", PeerConfig::default());
    s.join(n1, Negotiated::default());
    let mut a = base(&[65010]);
    a.local_pref = Some(100);
    s.announce(c1, &["203.0.113.0/24"], &a, "10.0.1.1");
    s.flush();
    let r = s.got(n1).attrs("203.0.113.0/24");
    assert_eq!(
        r.cluster_list.as_ref().unwrap().iter().collect::<Vec<_>>(),
        [ip4("10.0.0.1")]
    );
}

#[test]
fn import_drops_own_originator_and_cluster_loops() {
    let speaker = SpeakerConfig {
        cluster_id: Some(ip4("10.0.0.100")),
        ..SpeakerConfig::new(65000, ip4("10.0.0.1"))
    };
    let info = PeerInfo {
        kind: K::Internal,
        asn: 65000,
        router_id: ip4("10.0.0.2"),
        address: "10.0.0.2".parse().unwrap(),
        local: false,
    };
    let cfg = PeerConfig::default();
    let mut a = base(&[65010]);
    a.originator_id = Some(ip4("10.0.0.1"));
    assert_eq!(
        import::check(&speaker, &info, &cfg, &mut a.clone()),
        Err(ImportReject::Reflection(ReflectionLoop::OriginatorIsSelf))
    );
    a.originator_id = Some(ip4("10.0.0.3"));
    a.cluster_list = Some(bgp_wire::attribute::ClusterList::from_items(&[
        ip4("10.0.0.200"),
        ip4("10.0.0.100"),
    ]));
    assert_eq!(
        import::check(&speaker, &info, &cfg, &mut a.clone()),
        Err(ImportReject::Reflection(ReflectionLoop::ClusterLoop))
    );
    a.cluster_list = Some(bgp_wire::attribute::ClusterList::from_items(&[ip4(
        "10.0.0.200",
    )]));
    assert_eq!(import::check(&speaker, &info, &cfg, &mut a), Ok(()));
}

/// One router of the test network.
struct Node {
    name: &'static str,
    speaker: SpeakerConfig,
    rib: Rib,
    ex: Exporter,
    own: PeerId,
    /// (our peer id of the neighbour, neighbour node, its peer id of us)
    links: Vec<(PeerId, usize, PeerId)>,
}

struct Net {
    nodes: Vec<Node>,
    /// Routes refused on import: (node, from node, reason).
    refused: Vec<(&'static str, &'static str, ImportReject)>,
}

impl Net {
    fn node(&mut self, name: &'static str, asn: u32, id: &str, cluster: Option<&str>) -> usize {
        let speaker = SpeakerConfig {
            cluster_id: cluster.map(ip4),
            ..SpeakerConfig::new(asn, ip4(id))
        };
        let mut rib = Rib::new(DecisionConfig::default());
        rib.track_touched(true);
        let mut ex = Exporter::new(speaker.clone());
        let own = rib
            .add_peer(PeerInfo {
                kind: K::Internal,
                asn,
                router_id: ip4(id),
                address: id.parse().unwrap(),
                local: false,
            })
            .unwrap();
        ex.set_peer_config(
            own,
            PeerConfig {
                originated: true,
                ..PeerConfig::default()
            },
        );
        self.nodes.push(Node {
            name,
            speaker,
            rib,
            ex,
            own,
            links: Vec::new(),
        });
        self.nodes.len() - 1
    }

    /// A session between two nodes; `a_client`: b is a's client (and the
    /// other way round).
    fn link(&mut self, a: usize, b: usize, b_is_client_of_a: bool, a_is_client_of_b: bool) {
        let (ia, ib) = (self.nodes[a].speaker.clone(), self.nodes[b].speaker.clone());
        let kind = if ia.local_as == ib.local_as {
            K::Internal
        } else {
            K::External
        };
        let add = |n: &mut Node, other: &SpeakerConfig, client: bool| {
            let p = n
                .rib
                .add_peer(PeerInfo {
                    kind,
                    asn: other.local_as,
                    router_id: other.router_id,
                    address: other.router_id.into(),
                    local: false,
                })
                .unwrap();
            n.ex.set_peer_config(
                p,
                PeerConfig {
                    rr_client: client,
                    ..PeerConfig::default()
                }
                .with_local_addresses(LocalAddresses::v4(n.speaker.router_id)),
            );
            p
        };
        let pa = add(&mut self.nodes[a], &ib, b_is_client_of_a);
        let pb = add(&mut self.nodes[b], &ia, a_is_client_of_b);
        self.nodes[a].links.push((pa, b, pb));
        self.nodes[b].links.push((pb, a, pa));
        for (n, p) in [(a, pa), (b, pb)] {
            let node = &mut self.nodes[n];
            node.ex
                .join(&node.rib, p, Negotiated::default(), &AllReachable)
                .unwrap();
        }
    }

    fn originate(&mut self, n: usize, prefix: &str) {
        let node = &mut self.nodes[n];
        let mut ch = Vec::new();
        let mut a = base(&[]);
        a.next_hop = Some(node.speaker.router_id);
        node.rib
            .announce(
                node.own,
                &a,
                NextHop::V4(node.speaker.router_id),
                [Nlri::new(net(prefix))],
                &AllReachable,
                &mut ch,
            )
            .unwrap();
    }

    /// Runs until no message is left in flight; returns how many rounds.
    fn converge(&mut self) -> usize {
        let ctx = Negotiated::default().send_context().reversed();
        for round in 0..50 {
            let mut moved = 0;
            for n in 0..self.nodes.len() {
                let node = &mut self.nodes[n];
                let mut touched = Vec::new();
                node.rib.take_touched(&mut touched);
                node.ex.record_prefixes(touched);
                node.ex.flush(&node.rib, &AllReachable);
            }
            for n in 0..self.nodes.len() {
                let links = self.nodes[n].links.clone();
                for (to_peer, m, as_peer) in links {
                    let msgs = self.nodes[n].ex.take_messages(to_peer);
                    moved += msgs.len();
                    let from_name = self.nodes[n].name;
                    let node = &mut self.nodes[m];
                    let cfg = node.ex.peer_config(as_peer).clone();
                    for msg in msgs {
                        let u = Update::decode(msg.slice(19..), &ctx).unwrap();
                        if u.end_of_rib().is_some() {
                            continue;
                        }
                        let d = u.attributes(&ctx, PeerType::Oad).unwrap();
                        let mut ch = Vec::new();
                        let out = import::apply_update(
                            &mut node.rib,
                            &node.speaker,
                            &cfg,
                            as_peer,
                            &u,
                            &d,
                            &AllReachable,
                            &mut ch,
                        )
                        .unwrap();
                        if let Some(r) = out.rejected {
                            self.refused.push((node.name, from_name, r));
                        }
                    }
                }
            }
            if moved == 0 {
                return round;
            }
        }
        panic!("no convergence");
    }

    fn find(&self, name: &str) -> usize {
        self.nodes.iter().position(|n| n.name == name).unwrap()
    }

    /// What `at` holds from `from` for a prefix.
    fn from(&self, at: &str, from: &str, prefix: &str) -> Option<PathAttributes> {
        let a = &self.nodes[self.find(at)];
        let f = self.find(from);
        let (peer, _, _) = a.links.iter().find(|(_, m, _)| *m == f)?;
        a.rib
            .adj_rib_in(*peer)
            .get(&Nlri::new(net(prefix)))
            .map(|r| r.attrs.attributes().unwrap())
    }

    fn best_from(&self, at: &str, prefix: &str) -> Option<&'static str> {
        let a = &self.nodes[self.find(at)];
        let best = a.rib.best(&net(prefix))?;
        if best.peer == a.own {
            return Some("self");
        }
        let (_, m, _) = a.links.iter().find(|(p, _, _)| *p == best.peer)?;
        Some(self.nodes[*m].name)
    }
}

fn clusters(a: &PathAttributes) -> Vec<Ipv4Addr> {
    a.cluster_list
        .as_ref()
        .map(|c| c.iter().collect())
        .unwrap_or_default()
}

#[test]
fn two_reflectors_one_cluster() {
    let mut nw = Net {
        nodes: Vec::new(),
        refused: Vec::new(),
    };
    let cl = Some("10.0.0.100");
    let rr1 = nw.node("rr1", 65000, "10.0.0.1", cl);
    let rr2 = nw.node("rr2", 65000, "10.0.0.2", cl);
    let c1 = nw.node("c1", 65000, "10.0.1.1", None);
    let c2 = nw.node("c2", 65000, "10.0.1.2", None);
    let n1 = nw.node("n1", 65000, "10.0.2.1", None);
    let e1 = nw.node("e1", 65001, "192.0.2.1", None);
    let e2 = nw.node("e2", 65002, "198.51.100.2", None);
    // the reflectors and the non-client are fully meshed; each client
    // peers with both reflectors
    nw.link(rr1, rr2, false, false);
    nw.link(rr1, n1, false, false);
    nw.link(rr2, n1, false, false);
    for c in [c1, c2] {
        nw.link(rr1, c, true, false);
        nw.link(rr2, c, true, false);
    }
    nw.link(c1, e1, false, false);
    nw.link(n1, e2, false, false);
    nw.originate(e1, "203.0.113.0/24");
    nw.originate(e2, "203.0.114.0/24");
    nw.originate(c2, "203.0.115.0/24");
    nw.converge();

    // every router has every prefix
    for r in ["rr1", "rr2", "c1", "c2", "n1", "e1", "e2"] {
        for p in ["203.0.113.0/24", "203.0.114.0/24", "203.0.115.0/24"] {
            assert!(nw.best_from(r, p).is_some(), "{r} lacks {p}");
        }
    }
    // E1's prefix, via client C1: reflected by both reflectors to C2 and
    // N1, with C1 as originator and the cluster once
    for rr in ["rr1", "rr2"] {
        for to in ["c2", "n1"] {
            let a = nw.from(to, rr, "203.0.113.0/24").unwrap();
            assert_eq!(a.originator_id, Some(ip4("10.0.1.1")), "{rr} to {to}");
            assert_eq!(clusters(&a), [ip4("10.0.0.100")]);
            assert_eq!(a.next_hop, Some(ip4("192.0.2.1")), "next hop unchanged");
            assert_eq!(a.as_path.unwrap().to_string(), "65001");
        }
        // each reflector learned it from C1 directly, never from the other
        // reflector (cluster loop), and C1 did not take its own route back
        assert!(nw.from(rr, "c1", "203.0.113.0/24").is_some());
    }
    assert!(nw.from("rr2", "rr1", "203.0.113.0/24").is_none());
    assert!(nw.from("rr1", "rr2", "203.0.113.0/24").is_none());
    assert!(nw.from("c1", "rr1", "203.0.113.0/24").is_none());
    assert!(nw.from("c1", "rr2", "203.0.113.0/24").is_none());
    assert_eq!(nw.best_from("c1", "203.0.113.0/24"), Some("e1"));
    // the loops were cut on import, for the reasons expected
    let refused = |at: &str, from: &str, why: ReflectionLoop| {
        nw.refused
            .iter()
            .any(|(a, f, r)| *a == at && *f == from && *r == ImportReject::Reflection(why))
    };
    assert!(refused("rr2", "rr1", ReflectionLoop::ClusterLoop));
    assert!(refused("rr1", "rr2", ReflectionLoop::ClusterLoop));
    assert!(refused("c1", "rr1", ReflectionLoop::OriginatorIsSelf));
    assert!(refused("c2", "rr2", ReflectionLoop::OriginatorIsSelf));
    // E2's prefix, via the non-client N1: reflected to the clients only;
    // the reflectors do not pass it to each other (non-client to non-client)
    for rr in ["rr1", "rr2"] {
        for to in ["c1", "c2"] {
            let a = nw.from(to, rr, "203.0.114.0/24").unwrap();
            assert_eq!(a.originator_id, Some(ip4("10.0.2.1")));
            assert_eq!(clusters(&a), [ip4("10.0.0.100")]);
        }
    }
    assert!(nw.from("rr2", "rr1", "203.0.114.0/24").is_none());
    assert!(nw.from("n1", "rr1", "203.0.114.0/24").is_none());
    // outside the AS, the paths are the AS's and the reflection attributes
    // are gone
    let a = nw.from("e2", "n1", "203.0.113.0/24").unwrap();
    assert_eq!(a.as_path.unwrap().to_string(), "65000 65001");
    assert_eq!(a.originator_id, None);
    assert_eq!(a.cluster_list, None);
    assert_eq!(a.local_pref, None);
    let a = nw.from("e1", "c1", "203.0.115.0/24").unwrap();
    assert_eq!(a.as_path.unwrap().to_string(), "65000");
    // C2's own prefix reached C1 through both reflectors
    for rr in ["rr1", "rr2"] {
        let a = nw.from("c1", rr, "203.0.115.0/24").unwrap();
        assert_eq!(a.originator_id, Some(ip4("10.0.1.2")));
        assert_eq!(a.next_hop, Some(ip4("10.0.1.2")));
    }

    // a withdrawal travels the same way
    let mut ch = Vec::new();
    let node = &mut nw.nodes[e1];
    node.rib.withdraw(
        node.own,
        [Nlri::new(net("203.0.113.0/24"))],
        &AllReachable,
        &mut ch,
    );
    nw.converge();
    for r in ["rr1", "rr2", "c1", "c2", "n1", "e2"] {
        assert!(
            nw.best_from(r, "203.0.113.0/24").is_none(),
            "{r} still has it"
        );
    }
}
