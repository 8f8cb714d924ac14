//! ADD-PATH send (RFC 7911): which paths of a prefix are sent, and their
//! path identifiers.
//!
//! The paths are ranked by the decision process itself: the best path,
//! then the best of the others, and so on ([`rank`]: the RIB's
//! [`Selector`] run again on what is left, so the ranking agrees with the
//! Loc-RIB's choice and handles MED the same way). Unusable paths
//! (unreachable next hop) are not sent. [`AddPathSend::All`] sends every
//! exportable path, [`AddPathSend::Best`] the first `n` exportable ones.
//!
//! Path identifiers belong to the update group and are stable: the path
//! of a (peer, received path id) keeps its identifier as long as it is
//! sent, so a changed path replaces itself ([`assign`]); a new path takes
//! the smallest identifier (from 1) not in use and not just released, so
//! a withdrawal in the same batch never names the new path.
//!
//! [`AddPathSend::All`]: super::AddPathSend::All
//! [`AddPathSend::Best`]: super::AddPathSend::Best

use bgp_wire::nlri::PathId;

use crate::attr_store::{AttrId, AttrSet};
use crate::decision::{Candidate, DecisionConfig, Selector};
use crate::loc_rib::Rib;
use crate::path::{PathFlags, PathRec, Route};
use crate::peer::PeerId;
use crate::resolver::NextHopResolver;

/// One path in an ADD-PATH Adj-RIB-Out: where it comes from, the
/// identifier it is sent with, the exported attribute set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutPath {
    /// The Loc-RIB path: (peer, received path id).
    pub source: (PeerId, PathId),
    /// The path identifier sent.
    pub path_id: PathId,
    /// The exported attribute set.
    pub attr: AttrId,
}

/// The indices of the usable paths of `routes` (one prefix's paths, in
/// (peer, path id) order as [`Rib::paths`] gives them), most preferred
/// first.
pub fn rank(
    rib: &Rib,
    routes: &[Route],
    resolver: &impl NextHopResolver,
    selector: &mut Selector,
) -> Vec<usize> {
    rank_by(
        rib,
        routes
            .iter()
            .map(|r| (r.peer, r.path_id, r.flags, &*r.attrs)),
        resolver,
        selector,
    )
}

/// [`rank`] of the stored paths of a prefix.
pub(crate) fn rank_stored(
    rib: &Rib,
    paths: &[PathRec],
    resolver: &impl NextHopResolver,
    selector: &mut Selector,
) -> Vec<usize> {
    let store = rib.attr_store();
    let items = paths.iter().map(|r| {
        let set = store.get(r.attr_id()).map(|a| &**a);
        (r.peer, r.path_id, r.public_flags(), set)
    });
    let cfg = rib.config();
    let cands = items
        .enumerate()
        .filter_map(|(i, (peer, path_id, flags, set))| {
            let set = set?;
            let info = rib.peer(peer)?;
            let cost = resolver.resolve(set.next_hop().addr());
            Some((
                i,
                Candidate::new(peer, path_id, flags, set, info, cost, cfg),
            ))
        })
        .collect();
    order(cands, cfg, selector)
}

fn rank_by<'a>(
    rib: &Rib,
    items: impl Iterator<Item = (PeerId, PathId, PathFlags, &'a AttrSet)>,
    resolver: &impl NextHopResolver,
    selector: &mut Selector,
) -> Vec<usize> {
    let cfg = rib.config();
    let cands = items
        .enumerate()
        .filter_map(|(i, (peer, path_id, flags, set))| {
            let info = rib.peer(peer)?;
            let cost = resolver.resolve(set.next_hop().addr());
            Some((
                i,
                Candidate::new(peer, path_id, flags, set, info, cost, cfg),
            ))
        })
        .collect();
    order(cands, cfg, selector)
}

/// The reachable candidates, best first: the selection run again on what
/// is left.
fn order(
    cands: Vec<(usize, Candidate)>,
    cfg: &DecisionConfig,
    selector: &mut Selector,
) -> Vec<usize> {
    let mut cands: Vec<(usize, Candidate)> =
        cands.into_iter().filter(|(_, c)| c.reachable).collect();
    let mut out = Vec::with_capacity(cands.len());
    let mut scratch: Vec<Candidate> = Vec::with_capacity(cands.len());
    while !cands.is_empty() {
        scratch.clear();
        scratch.extend(cands.iter().map(|(_, c)| c.clone()));
        let Some(best) = selector.select(&scratch, cfg).best else {
            break;
        };
        if best >= cands.len() {
            break;
        }
        let (i, _) = cands.remove(best);
        out.push(i);
    }
    out
}

/// The new Adj-RIB-Out paths of a prefix: `desired` (source, exported set)
/// in rank order, with the identifiers of `old` kept for the same sources
/// and fresh ones for new sources.
pub fn assign(old: &[OutPath], desired: &[((PeerId, PathId), AttrId)]) -> Vec<OutPath> {
    let mut out: Vec<OutPath> = Vec::with_capacity(desired.len());
    let mut fresh: PathId = 1;
    for &(source, attr) in desired {
        let path_id = match old.iter().find(|o| o.source == source) {
            Some(o) => o.path_id,
            None => {
                while old.iter().any(|o| o.path_id == fresh)
                    || out.iter().any(|o| o.path_id == fresh)
                {
                    fresh += 1;
                }
                fresh
            }
        };
        out.push(OutPath {
            source,
            path_id,
            attr,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(i: u16) -> PeerId {
        PeerId(i)
    }

    #[test]
    fn identifiers_stay_with_their_paths() {
        let a = AttrId(1);
        let b = AttrId(2);
        let first = assign(&[], &[((p(1), 0), a), ((p(2), 0), b)]);
        assert_eq!(first.iter().map(|o| o.path_id).collect::<Vec<_>>(), [1, 2]);
        // p(1) changes its attributes and drops to second place; p(3) comes
        let second = assign(&first, &[((p(2), 0), b), ((p(1), 0), b), ((p(3), 0), a)]);
        let ids: Vec<_> = second.iter().map(|o| (o.source.0, o.path_id)).collect();
        assert_eq!(ids, [(p(2), 2), (p(1), 1), (p(3), 3)]);
        // p(2) leaves: its id 2 is not reused in the same step
        let third = assign(&second, &[((p(1), 0), b), ((p(4), 0), a)]);
        let ids: Vec<_> = third.iter().map(|o| (o.source.0, o.path_id)).collect();
        assert_eq!(ids, [(p(1), 1), (p(4), 4)]);
        // and is free afterwards
        let fourth = assign(&third, &[((p(1), 0), b), ((p(4), 0), a), ((p(5), 7), a)]);
        assert_eq!(fourth[2].path_id, 2);
    }
}
