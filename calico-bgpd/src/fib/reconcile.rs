//! Reconciliation, pure: from what is wanted for a prefix and what the
//! kernel holds for it, the operations that make the kernel right, without
//! touching anything that is not ours.
//!
//! Our route for a prefix lives in one slot: (prefix, metric), in our table
//! with our protocol. For each prefix:
//!
//! | wanted | kernel | operations |
//! |---|---|---|
//! | install R | nothing in the slot | add R (exclusive: fails rather than overwrite) |
//! | install R | ours, equal to R | none |
//! | install R | ours, different | replace with R (atomic) |
//! | install R | an alien route in the slot | none; a [`Conflict`] (and ours, if also there and outdated, deleted) |
//! | install R | ours at other metrics | delete them (the prefix is known, they are outdated) |
//! | absent (withdrawn, or not to be installed) | ours at any metric | delete them |
//! | unknown (not mentioned since start) | ours | before sync: keep (stale, graceful restart); after: delete |
//!
//! Alien routes never appear in an operation: deletes name our protocol,
//! adds are exclusive, and replaces are only planned for a slot that holds
//! ours and no alien. Next-hop sets are compared as sets
//! ([`ResolvedRoute::matches`]).

use std::collections::HashMap;
use std::fmt;

use ipnet::IpNet;

use super::route::ResolvedRoute;
use super::table::{KernelTable, PrefixState};

/// What is wanted for a prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want<'a> {
    /// This route, in our slot.
    Install(&'a ResolvedRoute),
    /// None of ours (withdrawn, or a kind not to be installed).
    Absent,
    /// Not mentioned: stale until sync, absent after.
    Unknown,
}

/// A write to the kernel, always about our protocol in our table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Add (`NLM_F_CREATE | NLM_F_EXCL`).
    Add {
        /// The prefix.
        prefix: IpNet,
        /// The metric (our slot).
        metric: u32,
        /// The route.
        route: ResolvedRoute,
    },
    /// Replace our route in the slot (`NLM_F_CREATE | NLM_F_REPLACE`).
    Replace {
        /// The prefix.
        prefix: IpNet,
        /// The metric (our slot).
        metric: u32,
        /// The route.
        route: ResolvedRoute,
    },
    /// Delete our route at this metric (the request names our protocol, so
    /// the kernel cannot delete another's).
    Delete {
        /// The prefix.
        prefix: IpNet,
        /// The metric.
        metric: u32,
    },
}

/// The kind of an [`Op`], for reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OpKind {
    /// [`Op::Add`].
    Add,
    /// [`Op::Replace`].
    Replace,
    /// [`Op::Delete`].
    Delete,
}

impl fmt::Display for OpKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OpKind::Add => "add",
            OpKind::Replace => "replace",
            OpKind::Delete => "delete",
        })
    }
}

impl Op {
    /// The prefix written.
    pub fn prefix(&self) -> &IpNet {
        match self {
            Op::Add { prefix, .. } | Op::Replace { prefix, .. } | Op::Delete { prefix, .. } => {
                prefix
            }
        }
    }

    /// Its kind.
    pub fn kind(&self) -> OpKind {
        match self {
            Op::Add { .. } => OpKind::Add,
            Op::Replace { .. } => OpKind::Replace,
            Op::Delete { .. } => OpKind::Delete,
        }
    }
}

/// An alien route holds the slot where ours should go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The prefix.
    pub prefix: IpNet,
    /// The metric of the slot.
    pub metric: u32,
    /// The protocols of the alien routes there.
    pub protocols: Vec<u8>,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self
            .protocols
            .iter()
            .map(|p| super::ownership::protocol_name(*p))
            .collect();
        write!(
            f,
            "{} metric {} is held by a route of protocol {}; ours is not installed",
            self.prefix,
            self.metric,
            names.join(", ")
        )
    }
}

/// The result of planning one prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Operations, in order.
    pub ops: Vec<Op>,
    /// Set when an alien route holds our slot.
    pub conflict: Option<Conflict>,
}

/// Plans one prefix (see the [module documentation](self) for the rules).
/// `metric` is our slot; `synced` says recovery is complete for the family.
pub fn plan_prefix(
    prefix: &IpNet,
    want: Want<'_>,
    state: PrefixState<'_>,
    metric: u32,
    synced: bool,
) -> Plan {
    let mut plan = Plan::default();
    let delete = |m: u32| Op::Delete {
        prefix: *prefix,
        metric: m,
    };
    match want {
        Want::Install(route) => {
            for other in state.ours().filter(|r| r.metric != metric) {
                plan.ops.push(delete(other.metric));
            }
            let aliens: Vec<u8> = state.aliens_at(metric).collect();
            let ours = state.ours_at(metric);
            if !aliens.is_empty() {
                if let Some(o) = ours {
                    if !route.matches(&o.kind) {
                        plan.ops.push(delete(metric));
                    }
                }
                plan.conflict = Some(Conflict {
                    prefix: *prefix,
                    metric,
                    protocols: aliens,
                });
            } else {
                match ours {
                    None => plan.ops.push(Op::Add {
                        prefix: *prefix,
                        metric,
                        route: route.clone(),
                    }),
                    Some(o) if route.matches(&o.kind) => {}
                    Some(_) => plan.ops.push(Op::Replace {
                        prefix: *prefix,
                        metric,
                        route: route.clone(),
                    }),
                }
            }
        }
        Want::Absent => {
            for r in state.ours() {
                plan.ops.push(delete(r.metric));
            }
        }
        Want::Unknown => {
            if synced {
                for r in state.ours() {
                    plan.ops.push(delete(r.metric));
                }
            }
        }
    }
    plan
}

/// Plans a whole family: every prefix in `desired` (absent ones as
/// [`Want::Absent`]) and every prefix of ours in the kernel that `desired`
/// does not mention ([`Want::Unknown`]). Operations come in prefix order.
pub fn plan_table(
    desired: &HashMap<IpNet, Option<ResolvedRoute>>,
    kernel: &KernelTable,
    metric: u32,
    synced: bool,
) -> (Vec<Op>, Vec<Conflict>) {
    let mut prefixes: Vec<&IpNet> = desired.keys().collect();
    prefixes.extend(kernel.our_prefixes().filter(|p| !desired.contains_key(*p)));
    prefixes.sort();
    let mut ops = Vec::new();
    let mut conflicts = Vec::new();
    for p in prefixes {
        let want = match desired.get(p) {
            Some(Some(r)) => Want::Install(r),
            Some(None) => Want::Absent,
            None => Want::Unknown,
        };
        let plan = plan_prefix(p, want, kernel.get(p), metric, synced);
        ops.extend(plan.ops);
        conflicts.extend(plan.conflict);
    }
    (ops, conflicts)
}

#[cfg(test)]
mod tests {
    use super::super::route::{Family, KernelKind, KernelNextHop, KernelRoute, ResolvedHop};
    use super::super::table::PrefixRoutes;
    use super::*;

    const M: u32 = 1024;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn via(gws: &[&str]) -> ResolvedRoute {
        let mut hops: Vec<ResolvedHop> = gws
            .iter()
            .map(|g| ResolvedHop {
                gateway: g.parse().unwrap(),
                oif: None,
                onlink: false,
            })
            .collect();
        hops.sort();
        ResolvedRoute::Unicast(hops)
    }

    fn kvia(gws: &[&str]) -> KernelKind {
        KernelKind::Unicast(
            gws.iter()
                .map(|g| KernelNextHop {
                    gateway: Some(g.parse().unwrap()),
                    oif: 2,
                    onlink: false,
                    hops: 0,
                })
                .collect(),
        )
    }

    fn kroute(prefix: &str, protocol: u8, metric: u32, kind: KernelKind) -> KernelRoute {
        KernelRoute {
            prefix: net(prefix),
            table: 254,
            protocol,
            metric,
            tos: 0,
            src_len: 0,
            cloned: false,
            kind,
        }
    }

    fn table(routes: Vec<KernelRoute>) -> KernelTable {
        let mut t = KernelTable::new(Family::V4, 254, 12);
        for r in routes {
            t.apply_new(r, false);
        }
        t
    }

    #[test]
    fn add_replace_keep_delete() {
        let p = net("198.19.1.0/24");
        let r = via(&["198.18.0.1"]);
        let empty = PrefixRoutes::default();
        let plan = plan_prefix(&p, Want::Install(&r), empty.view(), M, false);
        assert_eq!(
            plan.ops,
            vec![Op::Add {
                prefix: p,
                metric: M,
                route: r.clone()
            }]
        );
        let same = PrefixRoutes::new([(M, kvia(&["198.18.0.1"]))], []);
        assert!(
            plan_prefix(&p, Want::Install(&r), same.view(), M, false)
                .ops
                .is_empty()
        );
        let other = PrefixRoutes::new([(M, kvia(&["198.18.0.9"]))], []);
        assert_eq!(
            plan_prefix(&p, Want::Install(&r), other.view(), M, false).ops,
            vec![Op::Replace {
                prefix: p,
                metric: M,
                route: r.clone()
            }]
        );
        // Blackhole instead of unicast: replace.
        assert_eq!(
            plan_prefix(
                &p,
                Want::Install(&ResolvedRoute::Blackhole),
                same.view(),
                M,
                false
            )
            .ops[0]
                .kind(),
            OpKind::Replace
        );
        // Withdrawn or not to be installed: deleted at once, sync or not.
        for synced in [false, true] {
            assert_eq!(
                plan_prefix(&p, Want::Absent, same.view(), M, synced).ops,
                vec![Op::Delete {
                    prefix: p,
                    metric: M
                }]
            );
        }
        assert!(
            plan_prefix(&p, Want::Absent, empty.view(), M, true)
                .ops
                .is_empty()
        );
    }

    #[test]
    fn ecmp_sets_compared_as_sets() {
        let p = net("198.19.1.0/24");
        let want = via(&["198.18.0.3", "198.18.0.1"]);
        let have = PrefixRoutes::new([(M, kvia(&["198.18.0.1", "198.18.0.3"]))], []);
        assert!(
            plan_prefix(&p, Want::Install(&want), have.view(), M, true)
                .ops
                .is_empty()
        );
        let fewer = PrefixRoutes::new([(M, kvia(&["198.18.0.1"]))], []);
        assert_eq!(
            plan_prefix(&p, Want::Install(&want), fewer.view(), M, true).ops[0].kind(),
            OpKind::Replace
        );
        let more = PrefixRoutes::new([(M, kvia(&["198.18.0.1", "198.18.0.3", "198.18.0.5"]))], []);
        assert_eq!(
            plan_prefix(&p, Want::Install(&want), more.view(), M, true).ops[0].kind(),
            OpKind::Replace
        );
    }

    #[test]
    fn aliens_are_never_touched() {
        let p = net("198.19.1.0/24");
        let r = via(&["198.18.0.1"]);
        // An alien at another metric: no conflict, ours added beside it.
        let beside = PrefixRoutes::new([], [(0, 3)]);
        let plan = plan_prefix(&p, Want::Install(&r), beside.view(), M, true);
        assert_eq!(plan.ops.len(), 1);
        assert_eq!(plan.ops[0].kind(), OpKind::Add);
        assert_eq!(plan.conflict, None);
        // An alien in our slot: nothing written, a conflict.
        for proto in [3u8, 80, 4, 16] {
            let held = PrefixRoutes::new([], [(M, proto)]);
            let plan = plan_prefix(&p, Want::Install(&r), held.view(), M, true);
            assert!(plan.ops.is_empty());
            assert_eq!(
                plan.conflict,
                Some(Conflict {
                    prefix: p,
                    metric: M,
                    protocols: vec![proto]
                })
            );
        }
        // Ours and an alien share the slot and ours is outdated: ours goes,
        // the alien stays.
        let shared = PrefixRoutes::new([(M, kvia(&["198.18.0.9"]))], [(M, 80)]);
        let plan = plan_prefix(&p, Want::Install(&r), shared.view(), M, true);
        assert_eq!(
            plan.ops,
            vec![Op::Delete {
                prefix: p,
                metric: M
            }]
        );
        assert!(plan.conflict.is_some());
        // Absent or unknown: only ours are deleted, however many aliens.
        let mixed = PrefixRoutes::new([(M, kvia(&["198.18.0.9"]))], [(M, 80), (0, 3), (M, 2)]);
        for want in [Want::Absent, Want::Unknown] {
            let plan = plan_prefix(&p, want, mixed.view(), M, true);
            assert_eq!(
                plan.ops,
                vec![Op::Delete {
                    prefix: p,
                    metric: M
                }]
            );
        }
        let only_aliens = PrefixRoutes::new([], [(M, 80), (0, 3)]);
        for want in [Want::Absent, Want::Unknown] {
            assert!(
                plan_prefix(&p, want, only_aliens.view(), M, true)
                    .ops
                    .is_empty()
            );
        }
    }

    #[test]
    fn stale_routes_stay_until_sync() {
        let p = net("198.19.1.0/24");
        let stale = PrefixRoutes::new([(M, kvia(&["198.18.0.1"]))], []);
        assert!(
            plan_prefix(&p, Want::Unknown, stale.view(), M, false)
                .ops
                .is_empty()
        );
        assert_eq!(
            plan_prefix(&p, Want::Unknown, stale.view(), M, true).ops,
            vec![Op::Delete {
                prefix: p,
                metric: M
            }]
        );
        // Re-learned before sync with the same content: adopted as is.
        let r = via(&["198.18.0.1"]);
        assert!(
            plan_prefix(&p, Want::Install(&r), stale.view(), M, false)
                .ops
                .is_empty()
        );
    }

    #[test]
    fn ours_at_another_metric_are_outdated() {
        let p = net("198.19.1.0/24");
        let r = via(&["198.18.0.1"]);
        // A previous run used metric 0 (BIRD classic): known prefix, so the
        // old route goes even before sync; the new one is added.
        let old = PrefixRoutes::new([(0, kvia(&["198.18.0.1"]))], []);
        let plan = plan_prefix(&p, Want::Install(&r), old.view(), M, false);
        assert_eq!(
            plan.ops,
            vec![
                Op::Delete {
                    prefix: p,
                    metric: 0
                },
                Op::Add {
                    prefix: p,
                    metric: M,
                    route: r.clone()
                }
            ]
        );
        // Unknown prefix with routes at two metrics: both stale, both swept.
        let two = PrefixRoutes::new([(0, kvia(&["198.18.0.1"])), (M, KernelKind::Blackhole)], []);
        assert!(
            plan_prefix(&p, Want::Unknown, two.view(), M, false)
                .ops
                .is_empty()
        );
        assert_eq!(
            plan_prefix(&p, Want::Unknown, two.view(), M, true)
                .ops
                .len(),
            2
        );
    }

    #[test]
    fn whole_table_sweep_after_sync_removes_exactly_the_gone_routes() {
        // Kernel after a restart: five of ours (stale), two aliens.
        let kernel = table(vec![
            kroute("198.19.0.0/24", 12, M, kvia(&["198.18.0.1"])),
            kroute("198.19.1.0/24", 12, M, kvia(&["198.18.0.1"])),
            kroute("198.19.2.0/24", 12, M, kvia(&["198.18.0.1"])),
            kroute("198.19.3.0/24", 12, M, KernelKind::Blackhole),
            kroute("198.19.4.0/24", 12, M, kvia(&["198.18.0.1", "198.18.0.3"])),
            kroute("198.19.5.0/24", 3, 0, kvia(&["198.18.0.7"])),
            kroute("198.19.6.0/24", 80, M, KernelKind::Blackhole),
        ]);
        // The speaker re-learned three; one of them changed.
        let mut desired = HashMap::new();
        desired.insert(net("198.19.0.0/24"), Some(via(&["198.18.0.1"])));
        desired.insert(net("198.19.3.0/24"), Some(ResolvedRoute::Blackhole));
        desired.insert(net("198.19.4.0/24"), Some(via(&["198.18.0.3"])));
        // One route wanted where an alien (Felix, proto 80) holds the slot.
        desired.insert(net("198.19.6.0/24"), Some(via(&["198.18.0.1"])));
        let (ops, conflicts) = plan_table(&desired, &kernel, M, false);
        assert_eq!(
            ops,
            vec![Op::Replace {
                prefix: net("198.19.4.0/24"),
                metric: M,
                route: via(&["198.18.0.3"])
            }]
        );
        assert_eq!(conflicts.len(), 1);
        assert_eq!(conflicts[0].prefix, net("198.19.6.0/24"));
        assert!(conflicts[0].to_string().contains("80 (felix)"));
        // After sync: exactly the two gone ones are deleted.
        let (ops, _) = plan_table(&desired, &kernel, M, true);
        let deletes: Vec<String> = ops
            .iter()
            .filter(|o| o.kind() == OpKind::Delete)
            .map(|o| o.prefix().to_string())
            .collect();
        assert_eq!(deletes, vec!["198.19.1.0/24", "198.19.2.0/24"]);
        assert_eq!(ops.len(), 3);
    }
}
