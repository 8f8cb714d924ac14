//! The multipath set (ECMP): up to [`DecisionConfig::max_paths`] paths
//! that tie with the best path through the IGP cost step.
//!
//! A path joins when it is reachable, [`compare`] with the best path is
//! decided only after [`DecisionStep::IgpCost`] (same stale rank,
//! LOCAL_PREF, AS_PATH length, ORIGIN, MED when compared, peer type and
//! IGP cost), and it comes from the same neighbouring AS as the best path
//! (any AS with [`DecisionConfig::multipath_relax`]: the AS_PATH lengths
//! are equal anyway). With deterministic MED, a path of another
//! neighbouring AS must also tie its own group's winner through the MED
//! step (it survives its group's MED elimination). Members are ordered by
//! the remaining tie-breaks (router ID, cluster list length, peer address,
//! path id), best path first.

use std::cmp::Ordering;

use crate::decision::{Candidate, DecisionConfig, DecisionStep, Selector, compare};

/// Adds the multipath members after the best path (already pushed).
pub(crate) fn extend(
    sel: &mut Selector,
    cands: &[Candidate],
    best: usize,
    group_mode: bool,
    cfg: &DecisionConfig,
) {
    let Some(b) = cands.get(best) else {
        return;
    };
    let mut chosen: Vec<usize> = std::mem::take(sel.multipath_mut().1);
    chosen.clear();
    for (i, c) in cands.iter().enumerate() {
        if i == best || !c.reachable {
            continue;
        }
        let (o, s) = compare(b, c, cfg);
        if o != Ordering::Greater || s <= DecisionStep::IgpCost {
            continue;
        }
        let same_as = c.neighbour_as == b.neighbour_as;
        if !same_as && !cfg.multipath_relax {
            continue;
        }
        if group_mode && !same_as {
            let survives = match sel.group_winner_of(c) {
                Some(w) if w != i => cands
                    .get(w)
                    .is_some_and(|wc| compare(wc, c, cfg).1 > DecisionStep::Med),
                _ => true,
            };
            if !survives {
                continue;
            }
        }
        chosen.push(i);
    }
    chosen.sort_by_key(|&i| std::cmp::Reverse(cands.get(i).map(Candidate::tail_key)));
    chosen.truncate(usize::from(cfg.max_paths.saturating_sub(1)));
    let (mp, eligible) = sel.multipath_mut();
    mp.extend_from_slice(&chosen);
    *eligible = chosen;
}
