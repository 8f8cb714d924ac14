//! Helpers shared by the integration tests: peers, attribute builders, a
//! resolver with per-next-hop costs.

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use bgp_rib::{BestChange, NextHop, NextHopResolver, PeerId, PeerInfo, PeerKind, Rib};
use bgp_wire::AsPath;
use bgp_wire::attribute::{
    ClusterList, Communities, Community, Origin, PathAttributes, SegmentType,
};
use bgp_wire::nlri::Nlri;
use ipnet::IpNet;

/// Resolver: next hops listed are reachable at their cost, others not.
#[derive(Debug, Clone, Default)]
pub struct Costs(pub HashMap<IpAddr, u32>);

impl Costs {
    pub fn all(cost: u32, hops: &[&str]) -> Self {
        Costs(hops.iter().map(|h| (h.parse().unwrap(), cost)).collect())
    }
    pub fn set(&mut self, hop: &str, cost: u32) -> &mut Self {
        self.0.insert(hop.parse().unwrap(), cost);
        self
    }
}

impl NextHopResolver for Costs {
    fn resolve(&self, next_hop: IpAddr) -> Option<u32> {
        self.0.get(&next_hop).copied()
    }
}

pub fn ip4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

pub fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

pub fn peer(rib: &mut Rib, kind: PeerKind, asn: u32, id: &str) -> PeerId {
    rib.add_peer(PeerInfo {
        kind,
        asn,
        router_id: ip4(id),
        address: IpAddr::V4(ip4(id)),
        local: false,
    })
    .unwrap()
}

pub fn peer_at(rib: &mut Rib, kind: PeerKind, asn: u32, id: &str, addr: &str) -> PeerId {
    rib.add_peer(PeerInfo {
        kind,
        asn,
        router_id: ip4(id),
        address: addr.parse().unwrap(),
        local: false,
    })
    .unwrap()
}

/// Attribute builder.
#[derive(Debug, Clone)]
pub struct A(pub PathAttributes);

pub fn attrs(path: &[u32]) -> A {
    A(PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence(path)),
        ..PathAttributes::default()
    })
}

impl A {
    pub fn lp(mut self, v: u32) -> Self {
        self.0.local_pref = Some(v);
        self
    }
    pub fn med(mut self, v: u32) -> Self {
        self.0.multi_exit_disc = Some(v);
        self
    }
    pub fn origin(mut self, o: Origin) -> Self {
        self.0.origin = Some(o);
        self
    }
    pub fn originator(mut self, id: &str) -> Self {
        self.0.originator_id = Some(ip4(id));
        self
    }
    pub fn clusters(mut self, ids: &[&str]) -> Self {
        let ids: Vec<Ipv4Addr> = ids.iter().map(|i| ip4(i)).collect();
        self.0.cluster_list = Some(ClusterList::from_items(&ids));
        self
    }
    pub fn community(mut self, c: Community) -> Self {
        self.0.communities = Some(Communities::from_items(&[c]));
        self
    }
    pub fn segments(mut self, segs: &[(SegmentType, &[u32])]) -> Self {
        self.0.as_path = Some(AsPath::from_segments(segs.iter().map(|(t, a)| (*t, *a))));
        self
    }
}

/// Announces one prefix from a peer with a next hop.
pub fn announce(
    rib: &mut Rib,
    peer: PeerId,
    prefix: &str,
    a: &A,
    nh: &str,
    r: &impl NextHopResolver,
) -> Vec<BestChange> {
    announce_id(rib, peer, prefix, 0, a, nh, r)
}

pub fn announce_id(
    rib: &mut Rib,
    peer: PeerId,
    prefix: &str,
    path_id: u32,
    a: &A,
    nh: &str,
    r: &impl NextHopResolver,
) -> Vec<BestChange> {
    let mut changes = Vec::new();
    let nlri = if path_id == 0 {
        Nlri::new(net(prefix))
    } else {
        Nlri::with_path_id(net(prefix), path_id)
    };
    let hop: IpAddr = nh.parse().unwrap();
    rib.announce(peer, &a.0, NextHop::from(hop), [nlri], r, &mut changes)
        .unwrap();
    changes
}
