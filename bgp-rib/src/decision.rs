//! Best-path selection: RFC 4271 9.1.2.2 plus the steps BIRD and FRR add,
//! with the step that decided each comparison recorded.
//!
//! # The comparison
//!
//! [`compare`] ranks two paths by these steps, in order; the first step at
//! which they differ decides, and is returned as a [`DecisionStep`]:
//!
//! 1. [`NextHopReachable`](DecisionStep::NextHopReachable): a path whose
//!    next hop the [`NextHopResolver`](crate::NextHopResolver) resolves
//!    beats one it does not; an unreachable path is never best.
//! 2. [`Stale`](DecisionStep::Stale): LLGR-stale paths (flag, or the
//!    LLGR_STALE community, RFC 9494) lose; with
//!    [`DecisionConfig::stale_last`], graceful-restart stale paths lose to
//!    fresh ones too (RFC 4724 itself does not demote them).
//! 3. [`LocalPref`](DecisionStep::LocalPref): higher LOCAL_PREF; a missing
//!    one (always so for eBGP-learned paths before import policy) counts as
//!    [`DecisionConfig::default_local_pref`] (100).
//! 4. [`AsPathLength`](DecisionStep::AsPathLength): shorter AS_PATH; an
//!    AS_SET counts one, confederation segments none.
//! 5. [`Origin`](DecisionStep::Origin): IGP, then EGP, then INCOMPLETE.
//! 6. [`Med`](DecisionStep::Med): lower MULTI_EXIT_DISC, compared only
//!    between paths from the same neighbouring AS
//!    ([`crate::attr_store::neighbour_as`]) unless
//!    [`DecisionConfig::always_compare_med`]; a missing MED is 0, or the
//!    worst value with [`DecisionConfig::missing_med_worst`].
//! 7. [`PeerType`](DecisionStep::PeerType): eBGP-learned beats iBGP- or
//!    confederation-eBGP-learned.
//! 8. [`IgpCost`](DecisionStep::IgpCost): lower IGP cost to the next hop.
//! 9. [`RouterId`](DecisionStep::RouterId): lower ORIGINATOR_ID, or the
//!    peer's BGP identifier when there is none (RFC 4456 9).
//! 10. [`ClusterListLength`](DecisionStep::ClusterListLength): shorter
//!     CLUSTER_LIST.
//!
//!     With [`DecisionConfig::reflection_attrs_internal_only`], steps 9
//!     and 10 read ORIGINATOR_ID and CLUSTER_LIST only on paths from
//!     internal peers, as BIRD does.
//! 11. [`PeerAddress`](DecisionStep::PeerAddress): lower peer address.
//! 12. [`PathId`](DecisionStep::PathId): lower (peer index, path id), so
//!     that two ADD-PATH paths of one peer, identical otherwise, still
//!     order; never equal for two distinct paths.
//!
//! # MED, and why selection is not a plain maximum
//!
//! Because MED is skipped between paths from different neighbouring ASes,
//! [`compare`] is not transitive: A can beat B on MED (same AS), B beat C
//! on IGP cost (different AS) and C beat A on IGP cost. Two modes:
//!
//! - deterministic MED off (the default, as in FRR and Cisco): the best
//!   path is the fold of [`compare`] over the paths in (peer, path id)
//!   order. Whenever some path beats or ties every other (no cycle), the
//!   fold finds it, whatever the order; inside a cycle, the result depends
//!   on the order, which is why the order is fixed here rather than the
//!   arrival order, so the result is a function of the set of paths.
//! - deterministic MED on: the paths are grouped by neighbouring AS, the
//!   best of each group is taken (inside a group [`compare`] is a total
//!   order, MED included), and the best of the group winners (between
//!   which MED is never looked at, so again a total order) is the best
//!   path. This is RFC 4271 9.1.2.2's elimination process, whose step (c)
//!   removes, within each neighbouring AS, the paths without the lowest
//!   MED: the result never depends on the order. A path of another group
//!   that is not its group's winner may beat the best pairwise (it lost to
//!   its own group's winner on MED): that is intended.
//!
//! With [`DecisionConfig::always_compare_med`] every path is in one group,
//! [`compare`] is a total order and both modes give its maximum.
//!
//! # The recorded step
//!
//! The step recorded for a prefix is the step at which the best path beat
//! its closest rival: the latest step among its comparisons with the paths
//! it beat (with deterministic MED: the other group winners and its own
//! group's members). [`DecisionStep::OnlyPath`] when there is one path.

use std::cmp::Ordering;
use std::net::{IpAddr, Ipv4Addr};

use bgp_wire::attribute::Origin;

use crate::attr_store::AttrSet;
use crate::path::PathFlags;
use crate::peer::{PeerId, PeerInfo, PeerKind};

/// The step of the decision process that decided a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum DecisionStep {
    /// There was no other path.
    OnlyPath = 1,
    /// The next hop resolves.
    NextHopReachable,
    /// Not (LLGR-)stale.
    Stale,
    /// Originated by this speaker (a route of a [`PeerInfo::local`] peer),
    /// over one learned from a peer: BIRD ranks its static and direct
    /// routes above BGP ones by protocol preference, FRR gives local routes
    /// the highest weight; both decide this before LOCAL_PREF.
    LocalOrigin,
    /// Higher LOCAL_PREF.
    LocalPref,
    /// Shorter AS_PATH.
    AsPathLength,
    /// Lower ORIGIN.
    Origin,
    /// Lower MULTI_EXIT_DISC.
    Med,
    /// eBGP over iBGP.
    PeerType,
    /// Lower IGP cost to the next hop.
    IgpCost,
    /// Lower ORIGINATOR_ID or BGP identifier.
    RouterId,
    /// Shorter CLUSTER_LIST.
    ClusterListLength,
    /// Lower peer address.
    PeerAddress,
    /// Lower peer index and path identifier (last resort).
    PathId,
}

impl DecisionStep {
    /// Every step, in order.
    pub const ALL: [DecisionStep; 14] = [
        DecisionStep::OnlyPath,
        DecisionStep::NextHopReachable,
        DecisionStep::Stale,
        DecisionStep::LocalOrigin,
        DecisionStep::LocalPref,
        DecisionStep::AsPathLength,
        DecisionStep::Origin,
        DecisionStep::Med,
        DecisionStep::PeerType,
        DecisionStep::IgpCost,
        DecisionStep::RouterId,
        DecisionStep::ClusterListLength,
        DecisionStep::PeerAddress,
        DecisionStep::PathId,
    ];

    /// The one-octet code (1..=14).
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The step of a code; `None` for 0 or an unknown code.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.code() == code)
    }

    /// A short phrase for `show route`.
    pub const fn describe(self) -> &'static str {
        match self {
            DecisionStep::OnlyPath => "only path",
            DecisionStep::NextHopReachable => "next hop reachable",
            DecisionStep::Stale => "not stale",
            DecisionStep::LocalOrigin => "locally originated",
            DecisionStep::LocalPref => "higher local preference",
            DecisionStep::AsPathLength => "shorter AS path",
            DecisionStep::Origin => "lower origin",
            DecisionStep::Med => "lower MED",
            DecisionStep::PeerType => "eBGP over iBGP",
            DecisionStep::IgpCost => "lower IGP cost",
            DecisionStep::RouterId => "lower router ID",
            DecisionStep::ClusterListLength => "shorter cluster list",
            DecisionStep::PeerAddress => "lower peer address",
            DecisionStep::PathId => "lower path identifier",
        }
    }
}

impl std::fmt::Display for DecisionStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// The knobs of the decision process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecisionConfig {
    /// LOCAL_PREF of a path without one (100).
    pub default_local_pref: u32,
    /// Compare MED between paths from different neighbouring ASes too.
    pub always_compare_med: bool,
    /// Select the best of each neighbouring-AS group first (see the
    /// [module documentation](self)).
    pub deterministic_med: bool,
    /// A missing MED is the worst (`u32::MAX`) rather than 0.
    pub missing_med_worst: bool,
    /// Graceful-restart stale paths lose to fresh ones at the stale step
    /// (LLGR-stale ones always do).
    pub stale_last: bool,
    /// Size of the multipath set, the best path included (1: no
    /// multipath).
    pub max_paths: u16,
    /// Multipath across neighbouring ASes: equal AS_PATH length suffices
    /// (the AS_PATH length step already requires it), the neighbouring AS
    /// may differ.
    pub multipath_relax: bool,
    /// ORIGINATOR_ID and CLUSTER_LIST count only on paths from internal
    /// peers ([`PeerKind::Internal`]): on a path from an external or
    /// confederation-external peer, the router id step reads the peer's
    /// BGP identifier and the CLUSTER_LIST length is 0, whatever the path
    /// carries.
    ///
    /// RFC 4456 9 names no session type, so by default the attributes
    /// count on any path. BIRD keeps them only from internal peers: it
    /// discards both on input from any other (its documentation marks
    /// them as internal-only attributes, `bgp_originator_id` and
    /// `bgp_cluster_list`), which is what this knob reproduces. Both
    /// describe route reflection inside the local AS (RFC 4456 8: "the
    /// originator of the route in the local AS"); a reflector never sends
    /// them over eBGP.
    pub reflection_attrs_internal_only: bool,
}

impl Default for DecisionConfig {
    fn default() -> Self {
        DecisionConfig {
            default_local_pref: 100,
            always_compare_med: false,
            deterministic_med: false,
            missing_med_worst: false,
            stale_last: false,
            max_paths: 1,
            multipath_relax: false,
            reflection_attrs_internal_only: false,
        }
    }
}

/// One path with every value the comparison reads, resolved (defaults
/// applied, next hop resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The peer.
    pub peer: PeerId,
    /// The ADD-PATH path identifier.
    pub path_id: u32,
    /// Whether the next hop resolves.
    pub reachable: bool,
    /// 0 fresh, 1 graceful-restart stale (with `stale_last`), 2 LLGR-stale.
    pub stale_rank: u8,
    /// Originated by this speaker.
    pub local: bool,
    /// LOCAL_PREF, default applied.
    pub local_pref: u32,
    /// AS_PATH length.
    pub as_path_len: u32,
    /// ORIGIN.
    pub origin: Origin,
    /// MED, missing-MED rule applied.
    pub med: u32,
    /// Neighbouring AS.
    pub neighbour_as: Option<u32>,
    /// Learned over eBGP.
    pub external: bool,
    /// IGP cost to the next hop (0 when unreachable).
    pub igp_cost: u32,
    /// ORIGINATOR_ID or the peer's BGP identifier.
    pub router_id: Ipv4Addr,
    /// CLUSTER_LIST length.
    pub cluster_list_len: u32,
    /// The peer's address.
    pub peer_address: IpAddr,
}

impl Candidate {
    /// The candidate of a path with these attributes and flags, from this
    /// peer, whose next hop resolved to `igp_cost`.
    pub fn new(
        peer_id: PeerId,
        path_id: u32,
        flags: PathFlags,
        attrs: &AttrSet,
        peer: &PeerInfo,
        igp_cost: Option<u32>,
        cfg: &DecisionConfig,
    ) -> Self {
        let stale_rank = if flags.contains(PathFlags::LLGR_STALE) || attrs.llgr_stale() {
            2
        } else if cfg.stale_last && flags.contains(PathFlags::STALE) {
            1
        } else {
            0
        };
        let reflection = !cfg.reflection_attrs_internal_only || peer.kind == PeerKind::Internal;
        Candidate {
            peer: peer_id,
            path_id,
            reachable: igp_cost.is_some(),
            stale_rank,
            local: peer.local,
            local_pref: attrs.local_pref().unwrap_or(cfg.default_local_pref),
            as_path_len: attrs.as_path_len(),
            origin: attrs.origin(),
            med: attrs
                .med()
                .unwrap_or(if cfg.missing_med_worst { u32::MAX } else { 0 }),
            neighbour_as: attrs.neighbour_as(),
            external: peer.kind.is_external(),
            igp_cost: igp_cost.unwrap_or(0),
            router_id: attrs
                .originator_id()
                .filter(|_| reflection)
                .unwrap_or(peer.router_id),
            cluster_list_len: if reflection {
                attrs.cluster_list_len()
            } else {
                0
            },
            peer_address: peer.address,
        }
    }

    /// The tie-breaking values after the IGP cost step, as one key
    /// (greater is better), used to order multipath members.
    pub(crate) fn tail_key(&self) -> impl Ord + use<> {
        (
            std::cmp::Reverse(self.router_id),
            std::cmp::Reverse(self.cluster_list_len),
            std::cmp::Reverse(self.peer_address),
            std::cmp::Reverse((self.peer, self.path_id)),
        )
    }
}

/// Compares two paths: `Greater` when `a` is preferred, with the step that
/// decided. `Equal` only for the same (peer, path id).
pub fn compare(a: &Candidate, b: &Candidate, cfg: &DecisionConfig) -> (Ordering, DecisionStep) {
    use DecisionStep as S;
    let steps = [
        (a.reachable.cmp(&b.reachable), S::NextHopReachable),
        (b.stale_rank.cmp(&a.stale_rank), S::Stale),
        (a.local.cmp(&b.local), S::LocalOrigin),
        (a.local_pref.cmp(&b.local_pref), S::LocalPref),
        (b.as_path_len.cmp(&a.as_path_len), S::AsPathLength),
        (b.origin.to_u8().cmp(&a.origin.to_u8()), S::Origin),
    ];
    for (o, s) in steps {
        if o != Ordering::Equal {
            return (o, s);
        }
    }
    if cfg.always_compare_med || a.neighbour_as == b.neighbour_as {
        let o = b.med.cmp(&a.med);
        if o != Ordering::Equal {
            return (o, S::Med);
        }
    }
    let steps = [
        (a.external.cmp(&b.external), S::PeerType),
        (b.igp_cost.cmp(&a.igp_cost), S::IgpCost),
        (b.router_id.cmp(&a.router_id), S::RouterId),
        (
            b.cluster_list_len.cmp(&a.cluster_list_len),
            S::ClusterListLength,
        ),
        (b.peer_address.cmp(&a.peer_address), S::PeerAddress),
        ((b.peer, b.path_id).cmp(&(a.peer, a.path_id)), S::PathId),
    ];
    for (o, s) in steps {
        if o != Ordering::Equal {
            return (o, s);
        }
    }
    (Ordering::Equal, S::PathId)
}

/// The result of [`Selector::select`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    /// Index of the best candidate; `None` when no candidate is reachable.
    pub best: Option<usize>,
    /// The step that decided (see the [module documentation](self)).
    pub step: Option<DecisionStep>,
}

/// Runs the selection over candidates, keeping scratch buffers between
/// runs so that selecting allocates nothing once warm.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    /// Per neighbouring-AS group: (group, index of its best member).
    winners: Vec<(Option<u32>, usize)>,
    /// The multipath set of the last selection, best first.
    multipath: Vec<usize>,
    eligible: Vec<usize>,
}

impl Selector {
    /// A selector with empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// The multipath set of the last [`Selector::select`], best first
    /// (just the best without multipath; empty without a best path).
    pub fn multipath(&self) -> &[usize] {
        &self.multipath
    }

    /// Selects the best of `cands` (in (peer, path id) order), the deciding
    /// step and the multipath set.
    pub fn select(&mut self, cands: &[Candidate], cfg: &DecisionConfig) -> Selection {
        self.multipath.clear();
        let group_mode = cfg.deterministic_med && !cfg.always_compare_med;
        if cands.is_empty() {
            return Selection {
                best: None,
                step: None,
            };
        }
        let better = |i: usize, j: usize| match (cands.get(i), cands.get(j)) {
            (Some(a), Some(b)) => compare(a, b, cfg).0 == Ordering::Greater,
            _ => false,
        };
        let best = if group_mode {
            self.group_winners(cands, cfg);
            let mut b = self.winners.first().map_or(0, |w| w.1);
            for &(_, w) in self.winners.iter().skip(1) {
                if better(w, b) {
                    b = w;
                }
            }
            b
        } else {
            let mut b = 0;
            for i in 1..cands.len() {
                if better(i, b) {
                    b = i;
                }
            }
            b
        };
        let Some(bc) = cands.get(best) else {
            return Selection {
                best: None,
                step: None,
            };
        };
        if !bc.reachable {
            return Selection {
                best: None,
                step: None,
            };
        }
        let step = if cands.len() == 1 {
            DecisionStep::OnlyPath
        } else {
            self.deciding_step(cands, best, group_mode, cfg)
        };
        self.multipath.push(best);
        if cfg.max_paths > 1 {
            crate::multipath::extend(self, cands, best, group_mode, cfg);
        }
        Selection {
            best: Some(best),
            step: Some(step),
        }
    }

    fn group_winners(&mut self, cands: &[Candidate], cfg: &DecisionConfig) {
        self.winners.clear();
        for (i, c) in cands.iter().enumerate() {
            match self.winners.iter_mut().find(|w| w.0 == c.neighbour_as) {
                None => self.winners.push((c.neighbour_as, i)),
                Some(w) => {
                    if let Some(cur) = cands.get(w.1) {
                        if compare(c, cur, cfg).0 == Ordering::Greater {
                            w.1 = i;
                        }
                    }
                }
            }
        }
    }

    /// The winner of candidate `i`'s neighbouring-AS group (valid after a
    /// group-mode selection).
    pub(crate) fn group_winner_of(&self, c: &Candidate) -> Option<usize> {
        self.winners
            .iter()
            .find(|w| w.0 == c.neighbour_as)
            .map(|w| w.1)
    }

    pub(crate) fn multipath_mut(&mut self) -> (&mut Vec<usize>, &mut Vec<usize>) {
        (&mut self.multipath, &mut self.eligible)
    }

    fn deciding_step(
        &self,
        cands: &[Candidate],
        best: usize,
        group_mode: bool,
        cfg: &DecisionConfig,
    ) -> DecisionStep {
        let Some(b) = cands.get(best) else {
            return DecisionStep::OnlyPath;
        };
        let mut won: Option<DecisionStep> = None;
        let mut any: Option<DecisionStep> = None;
        for (i, c) in cands.iter().enumerate() {
            if i == best {
                continue;
            }
            let rival = !group_mode
                || c.neighbour_as == b.neighbour_as
                || self.winners.iter().any(|w| w.1 == i);
            if !rival {
                continue;
            }
            let (o, s) = compare(b, c, cfg);
            any = any.max(Some(s));
            if o == Ordering::Greater {
                won = won.max(Some(s));
            }
        }
        won.or(any).unwrap_or(DecisionStep::OnlyPath)
    }
}
