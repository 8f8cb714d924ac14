//! Best-path changes: what the RIB reports after each operation, for the
//! consumers downstream (Adj-RIB-Out per output group, the FIB).
//!
//! One [`BestChange`] is appended for each prefix whose best route (peer,
//! path id, attribute set) or multipath set changed; a prefix touched
//! without effect on its selection (a worse path added, a non-best path
//! withdrawn) reports nothing. Within one call a prefix appears at most
//! once per UPDATE field it is in; [`coalesce`] merges the changes of
//! several calls into one per prefix.

use std::collections::HashMap;

use ipnet::IpNet;

use crate::attr_store::NextHop;
use crate::decision::DecisionStep;
use crate::path::Route;

/// A change of a prefix's selection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BestChange {
    /// The prefix.
    pub prefix: IpNet,
    /// The best route before (`None`: the prefix had no best route).
    pub old: Option<Route>,
    /// The best route now (`None`: the prefix is gone, or no path is
    /// usable).
    pub new: Option<Route>,
    /// The step that decided the new best route.
    pub step: Option<DecisionStep>,
    /// The multipath members other than the new best route, in (peer,
    /// path id) order (empty without multipath).
    pub multipath: Vec<Route>,
}

impl BestChange {
    /// The next hops to forward to now: the new best route's and the
    /// other multipath members', duplicates removed (empty when there is
    /// no best route).
    pub fn next_hops(&self) -> Vec<NextHop> {
        let mut out: Vec<NextHop> = Vec::new();
        for r in self.new.iter().chain(self.multipath.iter()) {
            let n = r.next_hop();
            if !out.contains(&n) {
                out.push(n);
            }
        }
        out
    }

    /// Whether the prefix lost its best route.
    pub fn is_withdrawal(&self) -> bool {
        self.new.is_none()
    }
}

/// Merges changes to one per prefix, in order of first appearance: the
/// first `old` and the last `new` (with its step and multipath set). A
/// prefix whose changes cancel out (same route before and after) is kept:
/// its multipath set may still have changed.
pub fn coalesce(changes: Vec<BestChange>) -> Vec<BestChange> {
    let mut index: HashMap<IpNet, usize> = HashMap::new();
    let mut out: Vec<BestChange> = Vec::new();
    for c in changes {
        match index.get(&c.prefix) {
            Some(&i) => {
                if let Some(slot) = out.get_mut(i) {
                    let old = slot.old.take();
                    *slot = BestChange { old, ..c };
                }
            }
            None => {
                index.insert(c.prefix, out.len());
                out.push(c);
            }
        }
    }
    out
}
