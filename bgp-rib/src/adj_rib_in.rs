//! The Adj-RIB-In of one peer, post-policy: a view of the peer's paths in
//! the [`Rib`], not a copy.
//!
//! Every path the RIB holds belongs to one peer, so the union of the
//! peers' Adj-RIBs-In is exactly what the prefix tables hold; a separate
//! per-peer table would double the memory of each route. The cost is that
//! listing one peer's routes walks the whole table (a few milliseconds for
//! a full table); counting them does not (the RIB keeps a count per peer).
//! A pre-policy Adj-RIB-In (soft reconfiguration inbound) is not kept.

use bgp_wire::nlri::Nlri;
use ipnet::IpNet;

use crate::loc_rib::Rib;
use crate::path::Route;
use crate::peer::PeerId;

/// The Adj-RIB-In of one peer (see the [module documentation](self)).
#[derive(Debug, Clone, Copy)]
pub struct AdjRibIn<'a> {
    rib: &'a Rib,
    peer: PeerId,
}

impl<'a> AdjRibIn<'a> {
    /// The Adj-RIB-In of `peer` in `rib`.
    pub fn new(rib: &'a Rib, peer: PeerId) -> Self {
        AdjRibIn { rib, peer }
    }

    /// The peer.
    pub fn peer(&self) -> PeerId {
        self.peer
    }

    /// Number of routes (paths) held.
    pub fn len(&self) -> usize {
        self.rib.peer_path_count(self.peer)
    }

    /// Whether the peer has no route.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The peer's route for a prefix and path id.
    pub fn get(&self, nlri: &Nlri) -> Option<Route> {
        let id = nlri.path_id.unwrap_or(0);
        self.rib
            .paths(&nlri.prefix)
            .into_iter()
            .find(|r| r.peer == self.peer && r.path_id == id)
    }

    /// Every route of the peer, IPv4 then IPv6, in address order, as the
    /// NLRI (with path id when not 0) and the route.
    pub fn iter(&self) -> impl Iterator<Item = (Nlri, Route)> + 'a {
        let rib = self.rib;
        rib.peer_paths_iter(self.peer)
            .filter_map(move |(net, rec)| {
                let nlri = nlri_of(net, rec.path_id);
                Some((nlri, rib.route_of(rec)?))
            })
    }
}

fn nlri_of(prefix: IpNet, path_id: u32) -> Nlri {
    if path_id == 0 {
        Nlri::new(prefix)
    } else {
        Nlri::with_path_id(prefix, path_id)
    }
}

impl Rib {
    /// The Adj-RIB-In of a peer.
    pub fn adj_rib_in(&self, peer: PeerId) -> AdjRibIn<'_> {
        AdjRibIn::new(self, peer)
    }
}
