//! The RIB: every path from every peer per prefix (the peers' Adj-RIBs-In,
//! post-policy), the best path and multipath set of each prefix (the
//! Loc-RIB), and the operations a received UPDATE, a session loss or a
//! graceful restart apply to them.
//!
//! # What is stored
//!
//! One [`PrefixTable`] per family maps each prefix to a 12-octet slot:
//! either its only path, inline, or the index of a path list holding
//! its paths sorted by (peer, path id). A path is (peer, path id,
//! attribute set id, flags). The attributes are interned in one
//! [`AttrStore`]. The Adj-RIB-In of a peer is not a table of its own: it is
//! the set of paths of that peer (see [`crate::adj_rib_in`]), so a route
//! costs its path and nothing more.
//!
//! The Adj-RIB-In held is the *post-policy* one: import policy (later
//! work) runs before [`Rib::announce`] and hands it the attributes it
//! accepted; a rejected route is a withdrawal. A pre-policy copy (for soft
//! reconfiguration inbound) is not kept; route refresh serves instead.
//!
//! # Recomputation
//!
//! Every operation recomputes the selection of exactly the prefixes it
//! touches, at once, and appends a [`BestChange`] for each whose best
//! route or multipath set changed. A change in next-hop reachability
//! (which the RIB cannot see) is applied with [`Rib::reevaluate`].

use std::net::IpAddr;

use bgp_wire::Update;
use bgp_wire::afi::AfiSafi;
use bgp_wire::attribute::{DecodedAttributes, PathAttributes};
use bgp_wire::nlri::{Nlri, PathId};
use ipnet::IpNet;

use crate::attr_store::{AttrId, AttrStore, InternError, NextHop};
use crate::change::BestChange;
use crate::decision::{Candidate, DecisionConfig, DecisionStep, Selector, compare};
use crate::path::{PathFlags, PathList, PathRec, Route, Selected, Slot};
use crate::peer::{PeerId, PeerInfo, Peers};
use crate::prefix_table::{Family, Ipv4, Ipv6, PrefixTable};
use crate::resolver::NextHopResolver;

/// Why a RIB operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RibError {
    /// The peer id is not registered.
    #[error("unknown peer {0:?}")]
    UnknownPeer(PeerId),
    /// 65,535 peers are registered already.
    #[error("too many peers")]
    TooManyPeers,
    /// The peer still has paths.
    #[error("peer {0:?} still has paths")]
    PeerHasPaths(PeerId),
    /// The attribute set could not be interned.
    #[error(transparent)]
    Intern(#[from] InternError),
}

/// What [`Rib::apply_update`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpdateOutcome {
    /// Prefixes announced.
    pub announced: usize,
    /// Prefixes withdrawn (those withdrawn by treat-as-withdraw included).
    pub withdrawn: usize,
    /// Whether the UPDATE's routes were treated as withdrawn (RFC 7606).
    pub treated_as_withdraw: bool,
    /// Prefixes ignored: not IPv4 or IPv6 unicast, or announced without a
    /// usable next hop.
    pub ignored: usize,
}

/// Sizes of the RIB's structures, from their capacities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryUsage {
    /// Prefixes held.
    pub prefixes: usize,
    /// Paths held (routes, all peers).
    pub paths: usize,
    /// Distinct attribute sets.
    pub attr_sets: usize,
    /// Bytes of the prefix tables (slots included).
    pub table_bytes: usize,
    /// Bytes of the path lists of multi-path prefixes.
    pub list_bytes: usize,
    /// Bytes of the attribute store.
    pub attr_bytes: usize,
}

impl MemoryUsage {
    /// All bytes.
    pub fn total(&self) -> usize {
        self.table_bytes + self.list_bytes + self.attr_bytes
    }
    /// Bytes per path held.
    pub fn per_path(&self) -> f64 {
        self.total() as f64 / self.paths.max(1) as f64
    }
}

/// How [`Core::edit`] changed one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    Untouched,
    Modified,
    Removed,
}

/// Everything but the prefix tables, so that a table and the rest can be
/// borrowed apart.
#[derive(Debug, Default)]
struct Core {
    cfg: DecisionConfig,
    attrs: AttrStore,
    peers: Peers,
    lists: Vec<PathList>,
    free_lists: Vec<u32>,
    selector: Selector,
    cands: Vec<Candidate>,
    old_mp: Vec<(PeerId, PathId, u32)>,
    new_mp: Vec<(PeerId, PathId, u32)>,
    released: Vec<(PeerId, AttrId)>,
    paths: usize,
    /// Every prefix an operation touched, when tracking is on (see
    /// [`Rib::track_touched`]).
    touched: Option<Vec<IpNet>>,
}

/// The RIB of one speaker (one VRF): Adj-RIBs-In (post-policy) and the
/// Loc-RIB, for IPv4 and IPv6 unicast. See the [module
/// documentation](self).
///
/// ```
/// use bgp_rib::{AllReachable, DecisionConfig, NextHop, PeerInfo, PeerKind, Rib};
/// use bgp_wire::attribute::{Origin, PathAttributes};
/// use bgp_wire::{AsPath, nlri::Nlri};
///
/// let mut rib = Rib::new(DecisionConfig::default());
/// let peer = rib.add_peer(PeerInfo {
///     kind: PeerKind::External,
///     asn: 65001,
///     router_id: "192.0.2.1".parse().unwrap(),
///     address: "192.0.2.1".parse().unwrap(),
///     local: false,
/// }).unwrap();
/// let attrs = PathAttributes {
///     origin: Some(Origin::Igp),
///     as_path: Some(AsPath::from_sequence(&[65001])),
///     ..PathAttributes::default()
/// };
/// let mut changes = Vec::new();
/// let prefix = "10.0.0.0/8".parse().unwrap();
/// rib.announce(peer, &attrs, NextHop::V4("192.0.2.1".parse().unwrap()),
///              [Nlri::new(prefix)], &AllReachable, &mut changes).unwrap();
/// assert_eq!(changes.len(), 1);
/// assert_eq!(rib.best(&prefix).unwrap().peer, peer);
/// ```
#[derive(Debug, Default)]
pub struct Rib {
    core: Core,
    v4: PrefixTable<Ipv4, Slot>,
    v6: PrefixTable<Ipv6, Slot>,
}

/// Runs `$body` with `$core` and `$table` bound to the core and the table
/// of `$net`'s family, and `$n` to the family's prefix.
macro_rules! with_table {
    ($self:expr, $net:expr, |$core:ident, $table:ident, $n:ident| $body:expr) => {
        match $net {
            IpNet::V4($n) => {
                let $core = &mut $self.core;
                let $table = &mut $self.v4;
                $body
            }
            IpNet::V6($n) => {
                let $core = &mut $self.core;
                let $table = &mut $self.v6;
                $body
            }
        }
    };
}

impl Rib {
    /// An empty RIB with these decision knobs.
    pub fn new(cfg: DecisionConfig) -> Self {
        Rib {
            core: Core {
                cfg,
                ..Core::default()
            },
            v4: PrefixTable::new(),
            v6: PrefixTable::new(),
        }
    }

    /// The decision knobs.
    pub fn config(&self) -> &DecisionConfig {
        &self.core.cfg
    }

    /// Changes the decision knobs and reselects every prefix.
    pub fn set_config(
        &mut self,
        cfg: DecisionConfig,
        resolver: &impl NextHopResolver,
        changes: &mut Vec<BestChange>,
    ) {
        self.core.cfg = cfg;
        self.reevaluate(resolver, changes);
    }

    /// Registers a peer.
    pub fn add_peer(&mut self, info: PeerInfo) -> Result<PeerId, RibError> {
        self.core.peers.add(info).ok_or(RibError::TooManyPeers)
    }

    /// Unregisters a peer that has no path left (see [`Rib::peer_down`]).
    /// Its id may be given to a peer added later.
    pub fn remove_peer(&mut self, peer: PeerId) -> Result<PeerInfo, RibError> {
        let e = self
            .core
            .peers
            .get(peer)
            .ok_or(RibError::UnknownPeer(peer))?;
        if e.paths > 0 {
            return Err(RibError::PeerHasPaths(peer));
        }
        self.core
            .peers
            .remove(peer)
            .ok_or(RibError::UnknownPeer(peer))
    }

    /// A registered peer.
    pub fn peer(&self, peer: PeerId) -> Option<&PeerInfo> {
        self.core.peers.get(peer).map(|e| &e.info)
    }

    /// The registered peers.
    pub fn peers(&self) -> impl Iterator<Item = (PeerId, &PeerInfo)> {
        self.core.peers.iter().map(|(id, e)| (id, &e.info))
    }

    /// Number of paths a peer has (the size of its Adj-RIB-In).
    pub fn peer_path_count(&self, peer: PeerId) -> usize {
        self.core.peers.get(peer).map_or(0, |e| e.paths)
    }

    /// Number of paths a peer has in one address family (IPv4 or IPv6
    /// unicast), for per-family prefix limits.
    pub fn peer_family_path_count(&self, peer: PeerId, afi: bgp_wire::Afi) -> usize {
        self.core.peers.get(peer).map_or(0, |e| match afi {
            bgp_wire::Afi::Ipv4 => e.paths.saturating_sub(e.paths_v6),
            bgp_wire::Afi::Ipv6 => e.paths_v6,
            bgp_wire::Afi::Other(_) => 0,
        })
    }

    /// Turns on or off the recording of every prefix an operation touches
    /// (a path added, replaced, removed or re-flagged), whether or not its
    /// selection changed: what an ADD-PATH sender needs, as
    /// [`BestChange`]s report only best-path and multipath changes. Off by
    /// default; turning it off drops what was recorded.
    pub fn track_touched(&mut self, on: bool) {
        match (on, self.core.touched.is_some()) {
            (true, false) => self.core.touched = Some(Vec::new()),
            (false, true) => self.core.touched = None,
            _ => {}
        }
    }

    /// Moves the prefixes touched since the last call into `out` (in the
    /// order touched, with repeats; nothing unless [`Rib::track_touched`]
    /// is on).
    pub fn take_touched(&mut self, out: &mut Vec<IpNet>) {
        if let Some(t) = &mut self.core.touched {
            out.append(t);
        }
    }

    /// Number of prefixes with at least one path.
    pub fn prefix_count(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Number of paths, all peers.
    pub fn path_count(&self) -> usize {
        self.core.paths
    }

    /// The attribute store.
    pub fn attr_store(&self) -> &AttrStore {
        &self.core.attrs
    }

    /// Announces `nlri` from `peer` with these attributes and next hop
    /// (an implicit withdrawal of the peer's previous path with the same
    /// path id). Returns how many prefixes were announced.
    pub fn announce(
        &mut self,
        peer: PeerId,
        attrs: &PathAttributes,
        next_hop: NextHop,
        nlri: impl IntoIterator<Item = Nlri>,
        resolver: &impl NextHopResolver,
        changes: &mut Vec<BestChange>,
    ) -> Result<usize, RibError> {
        if self.core.peers.get(peer).is_none() {
            return Err(RibError::UnknownPeer(peer));
        }
        let id = self.core.attrs.intern(attrs, next_hop)?;
        let mut n = 0;
        for p in nlri {
            let path_id = p.path_id.unwrap_or(0);
            with_table!(self, p.prefix, |core, table, net| {
                core.announce(table, net, peer, path_id, id, resolver, changes)
            });
            n += 1;
        }
        self.core.attrs.release_if_unused(id);
        Ok(n)
    }

    /// Withdraws `nlri` of `peer`. Returns how many paths were removed.
    pub fn withdraw(
        &mut self,
        peer: PeerId,
        nlri: impl IntoIterator<Item = Nlri>,
        resolver: &impl NextHopResolver,
        changes: &mut Vec<BestChange>,
    ) -> usize {
        let mut n = 0;
        for p in nlri {
            let path_id = p.path_id.unwrap_or(0);
            let removed = with_table!(self, p.prefix, |core, table, net| {
                core.withdraw(table, net, peer, path_id, resolver, changes)
            });
            n += usize::from(removed);
        }
        n
    }

    /// Applies a received UPDATE of `peer`, decoded with the session's
    /// context: the withdrawals of the Withdrawn Routes field and
    /// MP_UNREACH_NLRI, then the announcements of the NLRI field (next hop
    /// NEXT_HOP) and MP_REACH_NLRI (its next hop), or, when RFC 7606 says
    /// treat-as-withdraw, the announced prefixes as withdrawals too. Only
    /// IPv4 and IPv6 unicast are taken. AFI/SAFI disable and session reset
    /// are the session's to act on.
    pub fn apply_update(
        &mut self,
        peer: PeerId,
        update: &Update,
        decoded: &DecodedAttributes,
        resolver: &impl NextHopResolver,
        changes: &mut Vec<BestChange>,
    ) -> Result<UpdateOutcome, RibError> {
        if self.core.peers.get(peer).is_none() {
            return Err(RibError::UnknownPeer(peer));
        }
        let mut out = UpdateOutcome {
            treated_as_withdraw: decoded.report.treat_as_withdraw(),
            ..UpdateOutcome::default()
        };
        let unicast = |f: AfiSafi| f == AfiSafi::IPV4_UNICAST || f == AfiSafi::IPV6_UNICAST;
        out.withdrawn += self.withdraw(peer, update.withdrawn(), resolver, changes);
        if let Some(m) = &decoded.mp_unreach {
            if unicast(m.family) {
                out.withdrawn += self.withdraw(peer, m.prefixes(), resolver, changes);
            } else {
                out.ignored += m.prefixes().count();
            }
        }
        let mp = decoded.mp_reach.as_ref();
        let mp_usable = mp.filter(|m| unicast(m.family));
        if let Some(m) = mp.filter(|m| !unicast(m.family)) {
            out.ignored += m.prefix_count();
        }
        if out.treated_as_withdraw {
            out.withdrawn += self.withdraw(peer, update.nlri(), resolver, changes);
            if let Some(m) = mp_usable {
                out.withdrawn += self.withdraw(peer, m.prefixes(), resolver, changes);
            }
            return Ok(out);
        }
        let attrs = &decoded.attributes;
        if update.nlri().len() > 0 {
            match attrs.next_hop {
                Some(nh) => {
                    out.announced += self.announce(
                        peer,
                        attrs,
                        NextHop::V4(nh),
                        update.nlri(),
                        resolver,
                        changes,
                    )?;
                }
                None => out.ignored += update.nlri().len(),
            }
        }
        if let Some(m) = mp_usable {
            match NextHop::from_mp(&m.next_hop) {
                Some(nh) => {
                    out.announced +=
                        self.announce(peer, attrs, nh, m.prefixes(), resolver, changes)?;
                }
                None => out.ignored += m.prefix_count(),
            }
        }
        Ok(out)
    }

    /// Removes every path of `peer` (session down, or a hard reset).
    /// Returns how many were removed. The peer stays registered.
    pub fn peer_down(
        &mut self,
        peer: PeerId,
        resolver: &impl NextHopResolver,
        changes: &mut Vec<BestChange>,
    ) -> usize {
        self.edit_all(
            Some(peer),
            &mut |r: &mut PathRec| {
                if r.peer == peer {
                    Edit::Removed
                } else {
                    Edit::Untouched
                }
            },
            resolver,
            changes,
        )
    }

    /// Flags every path of `peer` stale (graceful restart: the session went
    /// down and the peer is expected back) or LLGR-stale (long-lived
    /// graceful restart: least preferred from now on). A path announced
    /// again loses the flag. Returns how many paths were flagged.
    pub fn mark_stale(
        &mut self,
        peer: PeerId,
        llgr: bool,
        resolver: &impl NextHopResolver,
        changes: &mut Vec<BestChange>,
    ) -> usize {
        let flag = if llgr {
            PathFlags::LLGR_STALE
        } else {
            PathFlags::STALE
        };
        self.edit_all(
            Some(peer),
            &mut |r: &mut PathRec| {
                if r.peer == peer && !r.public_flags().contains(flag) {
                    r.set_public_flags(r.public_flags().union(flag));
                    Edit::Modified
                } else {
                    Edit::Untouched
                }
            },
            resolver,
            changes,
        )
    }

    /// Removes the paths of `peer` still flagged stale or LLGR-stale
    /// (End-of-RIB received, or the stale timer fired). Returns how many
    /// were removed.
    pub fn sweep_stale(
        &mut self,
        peer: PeerId,
        resolver: &impl NextHopResolver,
        changes: &mut Vec<BestChange>,
    ) -> usize {
        let stale = PathFlags::STALE.union(PathFlags::LLGR_STALE);
        self.edit_all(
            Some(peer),
            &mut |r: &mut PathRec| {
                if r.peer == peer && r.public_flags().intersects(stale) {
                    Edit::Removed
                } else {
                    Edit::Untouched
                }
            },
            resolver,
            changes,
        )
    }

    /// Reselects every prefix: after the resolver's answers changed (IGP or
    /// kernel route change). Reports the prefixes whose selection changed.
    pub fn reevaluate(&mut self, resolver: &impl NextHopResolver, changes: &mut Vec<BestChange>) {
        self.edit_all(
            None,
            &mut |_: &mut PathRec| Edit::Modified,
            resolver,
            changes,
        );
    }

    fn edit_all(
        &mut self,
        peer: Option<PeerId>,
        f: &mut impl FnMut(&mut PathRec) -> Edit,
        resolver: &impl NextHopResolver,
        changes: &mut Vec<BestChange>,
    ) -> usize {
        if peer.is_some_and(|p| self.peer_path_count(p) == 0) {
            return 0;
        }
        let core = &mut self.core;
        let mut n = 0;
        self.v4.retain_mut(|net, slot| {
            core.edit(Ipv4::ip_net(net), slot, f, &mut n, resolver, changes)
        });
        self.v6.retain_mut(|net, slot| {
            core.edit(Ipv6::ip_net(net), slot, f, &mut n, resolver, changes)
        });
        n
    }

    fn slot(&self, prefix: &IpNet) -> Option<&Slot> {
        match prefix {
            IpNet::V4(n) => self.v4.get(&n.trunc()),
            IpNet::V6(n) => self.v6.get(&n.trunc()),
        }
    }

    /// The best route of a prefix.
    pub fn best(&self, prefix: &IpNet) -> Option<Route> {
        self.core.selected(self.slot(prefix)?).map(|s| s.best)
    }

    /// The selection of a prefix: best route, deciding step, multipath.
    pub fn selected(&self, prefix: &IpNet) -> Option<Selected> {
        self.core.selected(self.slot(prefix)?)
    }

    /// Every path of a prefix, in (peer, path id) order.
    pub fn paths(&self, prefix: &IpNet) -> Vec<Route> {
        self.slot(prefix)
            .map(|s| {
                self.core
                    .recs(s)
                    .iter()
                    .filter_map(|r| self.core.route(r))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The Loc-RIB: every prefix that has a best route, with its selection,
    /// IPv4 then IPv6, each in address order.
    pub fn loc_rib(&self) -> impl Iterator<Item = (IpNet, Selected)> + '_ {
        let core = &self.core;
        let v4 = self
            .v4
            .iter()
            .filter_map(move |(n, s)| Some((Ipv4::ip_net(n), core.selected(s)?)));
        let v6 = self
            .v6
            .iter()
            .filter_map(move |(n, s)| Some((Ipv6::ip_net(n), core.selected(s)?)));
        v4.chain(v6)
    }

    /// Every prefix with its paths (the union of the Adj-RIBs-In), IPv4
    /// then IPv6, each in address order.
    pub fn all_paths(&self) -> impl Iterator<Item = (IpNet, Vec<Route>)> + '_ {
        let core = &self.core;
        let routes = move |s: &Slot| -> Vec<Route> {
            core.recs(s).iter().filter_map(|r| core.route(r)).collect()
        };
        let v4 = self
            .v4
            .iter()
            .map(move |(n, s)| (Ipv4::ip_net(n), routes(s)));
        let v6 = self
            .v6
            .iter()
            .map(move |(n, s)| (Ipv6::ip_net(n), routes(s)));
        v4.chain(v6)
    }

    /// The best path of a prefix as stored (the exporter reads it without
    /// taking a handle on its attribute set).
    pub(crate) fn stored_best(&self, prefix: &IpNet) -> Option<PathRec> {
        self.core.best_rec(self.slot(prefix)?).copied()
    }

    /// The paths of a prefix as stored, in (peer, path id) order.
    pub(crate) fn stored_paths(&self, prefix: &IpNet) -> &[PathRec] {
        self.slot(prefix).map_or(&[], |s| self.core.recs(s))
    }

    /// Every prefix with its paths as stored, IPv4 then IPv6, each in
    /// address order.
    pub(crate) fn stored_iter(
        &self,
    ) -> impl Iterator<Item = (IpNet, &[PathRec], Option<&PathRec>)> + '_ {
        let core = &self.core;
        let v4 = self
            .v4
            .iter()
            .map(move |(n, s)| (Ipv4::ip_net(n), core.recs(s), core.best_rec(s)));
        let v6 = self
            .v6
            .iter()
            .map(move |(n, s)| (Ipv6::ip_net(n), core.recs(s), core.best_rec(s)));
        v4.chain(v6)
    }

    pub(crate) fn peer_paths_iter(
        &self,
        peer: PeerId,
    ) -> impl Iterator<Item = (IpNet, &PathRec)> + '_ {
        let core = &self.core;
        let v4 = self.v4.iter().flat_map(move |(n, s)| {
            core.recs(s)
                .iter()
                .filter(move |r| r.peer == peer)
                .map(move |r| (Ipv4::ip_net(n), r))
        });
        let v6 = self.v6.iter().flat_map(move |(n, s)| {
            core.recs(s)
                .iter()
                .filter(move |r| r.peer == peer)
                .map(move |r| (Ipv6::ip_net(n), r))
        });
        v4.chain(v6)
    }

    pub(crate) fn route_of(&self, rec: &PathRec) -> Option<Route> {
        self.core.route(rec)
    }

    /// The most specific prefix containing `addr` that has a best route.
    pub fn longest_match(&self, addr: IpAddr) -> Option<(IpNet, Selected)> {
        let core = &self.core;
        let has_best = |s: &Slot| core.best_rec(s).is_some();
        match addr {
            IpAddr::V4(a) => {
                let (n, s) = self.v4.longest_match_where(a, has_best)?;
                Some((Ipv4::ip_net(n), core.selected(s)?))
            }
            IpAddr::V6(a) => {
                let (n, s) = self.v6.longest_match_where(a, has_best)?;
                Some((Ipv6::ip_net(n), core.selected(s)?))
            }
        }
    }

    /// Every prefix equal to or more specific than `prefix` that has a best
    /// route, in address order.
    pub fn walk_under(&self, prefix: &IpNet) -> Vec<(IpNet, Selected)> {
        let core = &self.core;
        match prefix {
            IpNet::V4(p) => self
                .v4
                .walk_under(&p.trunc())
                .filter_map(|(n, s)| Some((Ipv4::ip_net(n), core.selected(s)?)))
                .collect(),
            IpNet::V6(p) => self
                .v6
                .walk_under(&p.trunc())
                .filter_map(|(n, s)| Some((Ipv6::ip_net(n), core.selected(s)?)))
                .collect(),
        }
    }

    /// Why each path of a prefix is or is not the best, for `show route`:
    /// each path with its candidate values and, for the others, the
    /// comparison with the best path (`Less` and the step it lost at, or
    /// `Greater` when it beats the best pairwise, which a MED cycle or
    /// deterministic MED allows).
    pub fn explain(&self, prefix: &IpNet, resolver: &impl NextHopResolver) -> Vec<Explained> {
        let Some(slot) = self.slot(prefix) else {
            return Vec::new();
        };
        let core = &self.core;
        let recs = core.recs(slot);
        let best = core.best_rec(slot).copied();
        let mp: Vec<(PeerId, PathId)> = core
            .selected(slot)
            .map(|s| s.multipath.iter().map(|r| (r.peer, r.path_id)).collect())
            .unwrap_or_default();
        let cands: Vec<Candidate> = recs.iter().map(|r| core.candidate(r, resolver)).collect();
        let best_cand = best.and_then(|b| {
            recs.iter()
                .position(|r| r.key() == b.key())
                .and_then(|i| cands.get(i))
        });
        recs.iter()
            .zip(cands.iter())
            .filter_map(|(r, c)| {
                let is_best = best.is_some_and(|b| b.key() == r.key());
                Some(Explained {
                    route: core.route(r)?,
                    candidate: c.clone(),
                    best: is_best,
                    multipath: is_best || mp.contains(&r.key()),
                    against_best: match best_cand {
                        Some(b) if !is_best => Some(compare(c, b, &core.cfg)),
                        _ => None,
                    },
                })
            })
            .collect()
    }

    /// Sizes of the structures.
    pub fn memory(&self) -> MemoryUsage {
        let c = &self.core;
        let list_bytes = c.lists.capacity() * std::mem::size_of::<PathList>()
            + c.lists
                .iter()
                .map(|l| l.paths.capacity() * std::mem::size_of::<PathRec>())
                .sum::<usize>()
            + c.free_lists.capacity() * 4;
        MemoryUsage {
            prefixes: self.prefix_count(),
            paths: c.paths,
            attr_sets: c.attrs.len(),
            table_bytes: self.v4.heap_bytes() + self.v6.heap_bytes(),
            list_bytes,
            attr_bytes: c.attrs.heap_bytes(),
        }
    }
}

/// One path of [`Rib::explain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    /// The path.
    pub route: Route,
    /// The values the comparison read.
    pub candidate: Candidate,
    /// Whether it is the best path.
    pub best: bool,
    /// Whether it is in the multipath set (the best path is).
    pub multipath: bool,
    /// [`compare`] of this path with the best path (`None` for the best
    /// path, or when there is none).
    pub against_best: Option<(std::cmp::Ordering, DecisionStep)>,
}

impl Core {
    fn add_paths(&mut self, peer: PeerId, up: bool, v6: bool) {
        if let Some(e) = self.peers.get_mut(peer) {
            if up {
                e.paths += 1;
                e.paths_v6 += usize::from(v6);
            } else {
                e.paths = e.paths.saturating_sub(1);
                e.paths_v6 = e.paths_v6.saturating_sub(usize::from(v6));
            }
        }
        if up {
            self.paths += 1;
        } else {
            self.paths = self.paths.saturating_sub(1);
        }
    }

    fn alloc_list(&mut self, list: PathList) -> u32 {
        if let Some(i) = self.free_lists.pop() {
            if let Some(l) = self.lists.get_mut(i as usize) {
                *l = list;
                return i;
            }
        }
        self.lists.push(list);
        u32::try_from(self.lists.len() - 1).unwrap_or(u32::MAX)
    }

    fn free_list(&mut self, i: u32) {
        if let Some(l) = self.lists.get_mut(i as usize) {
            *l = PathList::default();
            self.free_lists.push(i);
        }
    }

    /// The paths of a slot.
    fn recs<'a>(&'a self, slot: &'a Slot) -> &'a [PathRec] {
        match slot.list_index() {
            None => std::slice::from_ref(&slot.0),
            Some(i) => self.lists.get(i as usize).map_or(&[][..], |l| &l.paths[..]),
        }
    }

    fn best_rec<'a>(&'a self, slot: &'a Slot) -> Option<&'a PathRec> {
        match slot.list_index() {
            None => (slot.0.aux != 0).then_some(&slot.0),
            Some(i) => self.lists.get(i as usize)?.best(),
        }
    }

    fn step_of(&self, slot: &Slot) -> Option<DecisionStep> {
        match slot.list_index() {
            None => DecisionStep::from_code(slot.0.aux),
            Some(i) => DecisionStep::from_code(self.lists.get(i as usize)?.step),
        }
    }

    fn route(&self, r: &PathRec) -> Option<Route> {
        Some(Route {
            peer: r.peer,
            path_id: r.path_id,
            attrs: self.attrs.get(r.attr_id())?.clone(),
            flags: r.public_flags(),
        })
    }

    fn selected(&self, slot: &Slot) -> Option<Selected> {
        let best = self.best_rec(slot)?;
        let multipath = match slot.list_index() {
            None => Vec::new(),
            Some(_) => self
                .recs(slot)
                .iter()
                .filter(|r| r.multipath() && r.key() != best.key())
                .filter_map(|r| self.route(r))
                .collect(),
        };
        Some(Selected {
            best: self.route(best)?,
            step: self.step_of(slot)?,
            multipath,
        })
    }

    fn candidate(&self, r: &PathRec, resolver: &impl NextHopResolver) -> Candidate {
        candidate(&self.attrs, &self.peers, &self.cfg, r, resolver)
    }

    /// The best path now, and the other multipath members into `old_mp`.
    fn snapshot(&mut self, slot: &Slot) -> Option<PathRec> {
        let best = self.best_rec(slot).copied();
        let mut mp = std::mem::take(&mut self.old_mp);
        mp.clear();
        if let (Some(i), Some(b)) = (slot.list_index(), best) {
            if let Some(l) = self.lists.get(i as usize) {
                mp.extend(
                    l.paths
                        .iter()
                        .filter(|r| r.multipath() && r.key() != b.key())
                        .map(PathRec::ident),
                );
            }
        }
        self.old_mp = mp;
        best
    }

    /// Reselects the paths of a slot.
    fn recompute(&mut self, slot: &mut Slot, resolver: &impl NextHopResolver) {
        match slot.list_index() {
            None => {
                let reachable = self
                    .attrs
                    .get(slot.0.attr_id())
                    .is_some_and(|a| resolver.resolve(a.next_hop().addr()).is_some());
                slot.0.aux = if reachable {
                    DecisionStep::OnlyPath.code()
                } else {
                    0
                };
            }
            Some(i) => {
                let Core {
                    lists,
                    attrs,
                    peers,
                    cfg,
                    selector,
                    cands,
                    ..
                } = self;
                let Some(list) = lists.get_mut(i as usize) else {
                    return;
                };
                cands.clear();
                cands.extend(
                    list.paths
                        .iter()
                        .map(|r| candidate(attrs, peers, cfg, r, resolver)),
                );
                let sel = selector.select(cands, cfg);
                list.best = sel
                    .best
                    .and_then(|b| u32::try_from(b).ok())
                    .unwrap_or(PathList::NO_BEST);
                list.step = sel.step.map_or(0, DecisionStep::code);
                for p in &mut list.paths {
                    p.set_multipath(false);
                }
                if sel.best.is_some() {
                    for &m in selector.multipath() {
                        if let Some(p) = list.paths.get_mut(m) {
                            p.set_multipath(true);
                        }
                    }
                }
            }
        }
    }

    /// Appends a change if the selection of `slot` (`None`: the prefix is
    /// gone) differs from `old` and `old_mp`.
    fn report(
        &mut self,
        prefix: IpNet,
        old: Option<PathRec>,
        slot: Option<&Slot>,
        changes: &mut Vec<BestChange>,
    ) {
        if let Some(t) = &mut self.touched {
            t.push(prefix);
        }
        let new = slot.and_then(|s| self.best_rec(s)).copied();
        let mut mp = std::mem::take(&mut self.new_mp);
        mp.clear();
        if let (Some(s), Some(b)) = (slot, new) {
            if s.list_index().is_some() {
                mp.extend(
                    self.recs(s)
                        .iter()
                        .filter(|r| r.multipath() && r.key() != b.key())
                        .map(PathRec::ident),
                );
            }
        }
        let same = old.map(|r| r.ident()) == new.map(|r| r.ident()) && mp == self.old_mp;
        self.new_mp = mp;
        if same {
            return;
        }
        let multipath = match (slot, new) {
            (Some(s), Some(b)) if s.list_index().is_some() => self
                .recs(s)
                .iter()
                .filter(|r| r.multipath() && r.key() != b.key())
                .filter_map(|r| self.route(r))
                .collect(),
            _ => Vec::new(),
        };
        changes.push(BestChange {
            prefix,
            old: old.and_then(|r| self.route(&r)),
            new: new.and_then(|r| self.route(&r)),
            step: slot.and_then(|s| self.step_of(s)).filter(|_| new.is_some()),
            multipath,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn announce<F: Family>(
        &mut self,
        table: &mut PrefixTable<F, Slot>,
        net: F::Net,
        peer: PeerId,
        path_id: PathId,
        attr: AttrId,
        resolver: &impl NextHopResolver,
        changes: &mut Vec<BestChange>,
    ) {
        let rec = PathRec::new(peer, path_id, attr);
        let Some((slot, inserted)) = table.get_or_insert_with(&net, || Slot::single(rec)) else {
            return;
        };
        self.attrs.retain(attr);
        if inserted {
            self.add_paths(peer, true, F::MAX_LEN == 128);
            self.recompute(slot, resolver);
            self.old_mp.clear();
            self.report(F::ip_net(net), None, Some(slot), changes);
            return;
        }
        let old = self.snapshot(slot);
        let mut released = None;
        match slot.list_index() {
            None => {
                if slot.0.key() == rec.key() {
                    released = Some(slot.0.attr_id());
                    slot.0.attr = attr.0;
                    slot.0.set_public_flags(PathFlags::empty());
                } else {
                    let mut existing = slot.0;
                    existing.aux = 0;
                    let paths = if existing.key() < rec.key() {
                        vec![existing, rec]
                    } else {
                        vec![rec, existing]
                    };
                    let i = self.alloc_list(PathList {
                        paths,
                        best: PathList::NO_BEST,
                        step: 0,
                    });
                    *slot = Slot::list(i);
                    self.add_paths(peer, true, F::MAX_LEN == 128);
                }
            }
            Some(i) => {
                let Some(list) = self.lists.get_mut(i as usize) else {
                    return;
                };
                match list.find(rec.key()) {
                    Ok(j) => {
                        if let Some(p) = list.paths.get_mut(j) {
                            released = Some(p.attr_id());
                            p.attr = attr.0;
                            p.set_public_flags(PathFlags::empty());
                        }
                    }
                    Err(j) => {
                        list.paths.insert(j, rec);
                        self.add_paths(peer, true, F::MAX_LEN == 128);
                    }
                }
            }
        }
        self.recompute(slot, resolver);
        self.report(F::ip_net(net), old, Some(slot), changes);
        if let Some(a) = released {
            self.attrs.release(a);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn withdraw<F: Family>(
        &mut self,
        table: &mut PrefixTable<F, Slot>,
        net: F::Net,
        peer: PeerId,
        path_id: PathId,
        resolver: &impl NextHopResolver,
        changes: &mut Vec<BestChange>,
    ) -> bool {
        let Some(slot) = table.get_mut(&net) else {
            return false;
        };
        let key = (peer, path_id);
        let present = match slot.list_index() {
            None => slot.0.key() == key,
            Some(i) => self
                .lists
                .get(i as usize)
                .is_some_and(|l| l.find(key).is_ok()),
        };
        if !present {
            return false;
        }
        let old = self.snapshot(slot);
        let Some(i) = slot.list_index() else {
            let released = slot.0.attr_id();
            self.report(F::ip_net(net), old, None, changes);
            table.remove(&net);
            self.add_paths(peer, false, F::MAX_LEN == 128);
            self.attrs.release(released);
            return true;
        };
        let Some(list) = self.lists.get_mut(i as usize) else {
            return false;
        };
        let Ok(j) = list.find(key) else {
            return false;
        };
        let removed = list.paths.remove(j);
        if list.paths.len() == 1 {
            if let Some(only) = list.paths.first().copied() {
                self.free_list(i);
                *slot = Slot::single(only);
            }
        }
        self.recompute(slot, resolver);
        self.report(F::ip_net(net), old, Some(slot), changes);
        self.add_paths(peer, false, F::MAX_LEN == 128);
        self.attrs.release(removed.attr_id());
        true
    }

    /// Applies `f` to each path of a slot, reselects if any changed, and
    /// reports. Returns whether the slot still has paths; counts in `n`
    /// the paths modified or removed.
    fn edit(
        &mut self,
        prefix: IpNet,
        slot: &mut Slot,
        f: &mut impl FnMut(&mut PathRec) -> Edit,
        n: &mut usize,
        resolver: &impl NextHopResolver,
        changes: &mut Vec<BestChange>,
    ) -> bool {
        let old = self.snapshot(slot);
        let mut released = std::mem::take(&mut self.released);
        released.clear();
        let mut touched = false;
        let keep = match slot.list_index() {
            None => {
                let mut r = slot.0;
                match f(&mut r) {
                    Edit::Untouched => true,
                    Edit::Modified => {
                        touched = true;
                        slot.0 = r;
                        true
                    }
                    Edit::Removed => {
                        touched = true;
                        released.push((r.peer, r.attr_id()));
                        false
                    }
                }
            }
            Some(i) => {
                let Some(list) = self.lists.get_mut(i as usize) else {
                    self.released = released;
                    return true;
                };
                list.paths.retain_mut(|p| match f(p) {
                    Edit::Untouched => true,
                    Edit::Modified => {
                        touched = true;
                        true
                    }
                    Edit::Removed => {
                        touched = true;
                        released.push((p.peer, p.attr_id()));
                        false
                    }
                });
                match list.paths.len() {
                    0 => {
                        self.free_list(i);
                        false
                    }
                    1 => {
                        if let Some(only) = list.paths.first().copied() {
                            self.free_list(i);
                            *slot = Slot::single(only);
                        }
                        true
                    }
                    _ => true,
                }
            }
        };
        if touched {
            *n += released.len();
            if keep {
                if released.is_empty() {
                    *n += 1;
                }
                self.recompute(slot, resolver);
                self.report(prefix, old, Some(slot), changes);
            } else {
                self.report(prefix, old, None, changes);
            }
        }
        for &(peer, a) in &released {
            self.add_paths(peer, false, prefix.addr().is_ipv6());
            self.attrs.release(a);
        }
        self.released = released;
        keep
    }
}

/// The candidate of one stored path.
fn candidate(
    attrs: &AttrStore,
    peers: &Peers,
    cfg: &DecisionConfig,
    r: &PathRec,
    resolver: &impl NextHopResolver,
) -> Candidate {
    match (attrs.get(r.attr_id()), peers.get(r.peer)) {
        (Some(a), Some(p)) => {
            let cost = resolver.resolve(a.next_hop().addr());
            Candidate::new(r.peer, r.path_id, r.public_flags(), a, &p.info, cost, cfg)
        }
        _ => unusable(r),
    }
}

/// The candidate of a path whose set or peer is missing (never expected):
/// unreachable, so never best.
fn unusable(r: &PathRec) -> Candidate {
    Candidate {
        peer: r.peer,
        path_id: r.path_id,
        reachable: false,
        stale_rank: 2,
        local: false,
        local_pref: 0,
        as_path_len: u32::MAX,
        origin: bgp_wire::attribute::Origin::Incomplete,
        med: u32::MAX,
        neighbour_as: None,
        external: false,
        igp_cost: u32::MAX,
        router_id: std::net::Ipv4Addr::BROADCAST,
        cluster_list_len: u32::MAX,
        peer_address: IpAddr::V6(std::net::Ipv6Addr::from(u128::MAX)),
    }
}
