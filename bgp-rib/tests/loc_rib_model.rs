//! Property test of the RIB against a model: after any sequence of
//! announcements, withdrawals, peer losses, stale marks, sweeps and
//! next-hop changes from several peers (attributes drawn from a small
//! space, so that ties and MED cycles happen), with every combination of
//! the knobs:
//!
//! - every prefix holds exactly the model's paths (attributes, next hop,
//!   flags), and each peer's Adj-RIB-In is its part of them;
//! - the Loc-RIB equals a selection recomputed from scratch over those
//!   paths; with no stale flag, a RIB built afresh in the reverse order
//!   holds the same Loc-RIB;
//! - the best path is maximal: nothing beats it when the comparator is a
//!   total order (always-compare-med); with deterministic MED it beats every
//!   group winner and every member of its group; without, it is unbeaten
//!   whenever some path is; in all those cases it is the path RFC 4271
//!   9.1.2.2's elimination process (written here independently) picks;
//! - multipath members tie the best path through the IGP cost step;
//! - replaying the reported changes yields the Loc-RIB (nothing missed);
//! - the attribute store holds exactly the distinct sets in use.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;

use bgp_rib::decision::{Candidate, Selector};
use bgp_rib::{
    BestChange, DecisionConfig, DecisionStep, NextHop, PathFlags, PeerId, PeerInfo, PeerKind, Rib,
    compare,
};
use bgp_wire::attribute::{Community, Origin, PathAttributes};
use bgp_wire::nlri::Nlri;
use common::*;
use ipnet::IpNet;
use proptest::prelude::*;

const PREFIXES: [&str; 6] = [
    "10.0.0.0/8",
    "10.1.0.0/16",
    "10.1.2.0/24",
    "192.0.2.0/24",
    "2001:db8::/32",
    "2001:db8:1::/48",
];
const HOPS: [&str; 4] = ["192.0.2.1", "192.0.2.2", "2001:db8::1", "192.0.2.4"];

fn peers() -> Vec<PeerInfo> {
    let p = |kind, asn, id: &str, addr: &str| PeerInfo {
        kind,
        asn,
        router_id: id.parse().unwrap(),
        address: addr.parse().unwrap(),
        local: false,
    };
    vec![
        p(PeerKind::External, 1, "9.9.9.9", "198.51.100.9"),
        p(PeerKind::External, 1, "2.2.2.2", "198.51.100.2"),
        p(PeerKind::Internal, 64500, "3.3.3.3", "198.51.100.3"),
        p(PeerKind::Internal, 64500, "3.3.3.3", "198.51.100.1"),
        p(PeerKind::ConfedExternal, 64512, "1.1.1.1", "2001:db8:ff::1"),
    ]
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct AttrChoice {
    lp: u8,
    path: u8,
    med: u8,
    origin: bool,
    originator: bool,
    cluster: bool,
    llgr_community: bool,
    hop: u8,
}

impl AttrChoice {
    fn attrs(&self) -> PathAttributes {
        let paths: [&[u32]; 5] = [&[1], &[2], &[1, 3], &[2, 3], &[3, 1]];
        let mut a = attrs(paths[usize::from(self.path) % 5]);
        a = match self.lp % 3 {
            0 => a,
            1 => a.lp(100),
            _ => a.lp(200),
        };
        a = match self.med % 4 {
            0 => a,
            1 => a.med(0),
            2 => a.med(10),
            _ => a.med(20),
        };
        if self.origin {
            a = a.origin(Origin::Incomplete);
        }
        if self.originator {
            a = a.originator("1.0.0.1");
        }
        if self.cluster {
            a = a.clusters(&["10.9.9.9"]);
        }
        if self.llgr_community {
            a = a.community(Community::LLGR_STALE);
        }
        a.0
    }
    fn hop(&self) -> NextHop {
        let h: IpAddr = HOPS[usize::from(self.hop) % 4].parse().unwrap();
        NextHop::from(h)
    }
}

#[derive(Debug, Clone)]
enum Op {
    Announce {
        peer: usize,
        prefix: usize,
        path_id: u32,
        attrs: AttrChoice,
    },
    Withdraw {
        peer: usize,
        prefix: usize,
        path_id: u32,
    },
    PeerDown(usize),
    Stale(usize, bool),
    Sweep(usize),
    Resolve([Option<u32>; 4]),
}

fn attr_choice() -> impl Strategy<Value = AttrChoice> {
    (
        0u8..3,
        0u8..5,
        0u8..4,
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.05),
        0u8..4,
    )
        .prop_map(
            |(lp, path, med, origin, originator, cluster, llgr_community, hop)| AttrChoice {
                lp,
                path,
                med,
                origin,
                originator,
                cluster,
                llgr_community,
                hop,
            },
        )
}

fn costs() -> impl Strategy<Value = [Option<u32>; 4]> {
    prop::array::uniform4(prop_oneof![
        1 => Just(None),
        3 => Just(Some(10)),
        2 => Just(Some(20)),
    ])
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (0usize..5, 0usize..6, 0u32..2, attr_choice()).prop_map(|(peer, prefix, path_id, attrs)| Op::Announce { peer, prefix, path_id, attrs }),
        4 => (0usize..5, 0usize..6, 0u32..2).prop_map(|(peer, prefix, path_id)| Op::Withdraw { peer, prefix, path_id }),
        1 => (0usize..5).prop_map(Op::PeerDown),
        1 => (0usize..5, any::<bool>()).prop_map(|(p, l)| Op::Stale(p, l)),
        1 => (0usize..5).prop_map(Op::Sweep),
        1 => costs().prop_map(Op::Resolve),
    ]
}

fn config() -> impl Strategy<Value = DecisionConfig> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(1u16), Just(2), Just(4)],
        any::<bool>(),
    )
        .prop_map(
            |(dmed, always, worst, stale_last, max_paths, relax)| DecisionConfig {
                deterministic_med: dmed,
                always_compare_med: always,
                missing_med_worst: worst,
                stale_last,
                max_paths,
                multipath_relax: relax,
                ..DecisionConfig::default()
            },
        )
}

fn resolver(c: [Option<u32>; 4]) -> Costs {
    let mut r = Costs::default();
    for (h, cost) in HOPS.iter().zip(c) {
        if let Some(cost) = cost {
            r.set(h, cost);
        }
    }
    r
}

type Key = (IpNet, usize, u32);

/// One path as compared: peer, path id, attributes, next hop, flags.
type PathRow = (PeerId, u32, PathAttributes, NextHop, PathFlags);

/// The model: every path, with its flags.
#[derive(Debug, Default)]
struct Model {
    paths: BTreeMap<Key, (AttrChoice, PathFlags)>,
}

fn nlri(prefix: usize, path_id: u32) -> Nlri {
    let p = net(PREFIXES[prefix]);
    if path_id == 0 {
        Nlri::new(p)
    } else {
        Nlri::with_path_id(p, path_id)
    }
}

/// RFC 4271 9.1.2.2's elimination process, step by step over the
/// candidates, written without [`compare`].
fn eliminate(cands: &[Candidate], cfg: &DecisionConfig) -> Option<usize> {
    let mut s: Vec<usize> = (0..cands.len()).filter(|&i| cands[i].reachable).collect();
    fn keep_best<K: Ord>(s: &mut Vec<usize>, key: impl Fn(usize) -> K) {
        if let Some(best) = s.iter().map(|&i| key(i)).max() {
            s.retain(|&i| key(i) == best);
        }
    }
    keep_best(&mut s, |i| std::cmp::Reverse(cands[i].stale_rank));
    keep_best(&mut s, |i| cands[i].local_pref);
    keep_best(&mut s, |i| std::cmp::Reverse(cands[i].as_path_len));
    keep_best(&mut s, |i| std::cmp::Reverse(cands[i].origin.to_u8()));
    // (c): within each neighbouring AS (or all, with always-compare-med),
    // keep the lowest MED
    let group = |i: usize| {
        if cfg.always_compare_med {
            None
        } else {
            Some(cands[i].neighbour_as)
        }
    };
    let mins: HashMap<_, u32> = s.iter().fold(HashMap::new(), |mut m, &i| {
        let e = m.entry(group(i)).or_insert(u32::MAX);
        *e = (*e).min(cands[i].med);
        m
    });
    s.retain(|&i| cands[i].med == mins[&group(i)]);
    keep_best(&mut s, |i| cands[i].external);
    keep_best(&mut s, |i| std::cmp::Reverse(cands[i].igp_cost));
    keep_best(&mut s, |i| std::cmp::Reverse(cands[i].router_id));
    keep_best(&mut s, |i| std::cmp::Reverse(cands[i].cluster_list_len));
    keep_best(&mut s, |i| std::cmp::Reverse(cands[i].peer_address));
    keep_best(&mut s, |i| {
        std::cmp::Reverse((cands[i].peer, cands[i].path_id))
    });
    s.first().copied()
}

fn beats(a: &Candidate, b: &Candidate, cfg: &DecisionConfig) -> bool {
    compare(a, b, cfg).0 == Ordering::Greater
}

/// The subscriber's picture built from change reports only.
type View = HashMap<IpNet, ((PeerId, u32), Vec<(PeerId, u32)>)>;

fn replay(view: &mut View, changes: &[BestChange]) {
    for c in changes {
        match &c.new {
            Some(n) => {
                view.insert(
                    c.prefix,
                    (
                        (n.peer, n.path_id),
                        c.multipath.iter().map(|m| (m.peer, m.path_id)).collect(),
                    ),
                );
            }
            None => {
                view.remove(&c.prefix);
            }
        }
    }
}

fn check(
    rib: &Rib,
    ids: &[PeerId],
    model: &Model,
    res: &Costs,
    view: &View,
) -> Result<(), TestCaseError> {
    let cfg = *rib.config();
    // 1. the paths
    let mut want: BTreeMap<IpNet, Vec<PathRow>> = BTreeMap::new();
    for ((p, peer, id), (a, f)) in &model.paths {
        want.entry(*p)
            .or_default()
            .push((ids[*peer], *id, a.attrs(), a.hop(), *f));
    }
    for v in want.values_mut() {
        v.sort_by_key(|x| (x.0, x.1));
    }
    let got: BTreeMap<IpNet, Vec<_>> = rib
        .all_paths()
        .map(|(p, rs)| {
            (
                p,
                rs.into_iter()
                    .map(|r| {
                        (
                            r.peer,
                            r.path_id,
                            r.attrs.attributes().unwrap(),
                            r.attrs.next_hop(),
                            r.flags,
                        )
                    })
                    .collect(),
            )
        })
        .collect();
    prop_assert_eq!(&got, &want);
    prop_assert_eq!(rib.path_count(), model.paths.len());
    for (i, &id) in ids.iter().enumerate() {
        let mine: BTreeSet<(IpNet, u32)> = model
            .paths
            .keys()
            .filter(|k| k.1 == i)
            .map(|k| (k.0, k.2))
            .collect();
        let adj: BTreeSet<(IpNet, u32)> = rib
            .adj_rib_in(id)
            .iter()
            .map(|(n, _)| (n.prefix, n.path_id.unwrap_or(0)))
            .collect();
        prop_assert_eq!(&adj, &mine);
        prop_assert_eq!(rib.adj_rib_in(id).len(), mine.len());
    }
    let distinct: BTreeSet<(AttrChoice, u8)> = model
        .paths
        .values()
        .map(|(a, _)| {
            let mut a = a.clone();
            a.hop %= 4;
            (a, 0)
        })
        .collect();
    prop_assert_eq!(rib.attr_store().len(), distinct.len());

    // 2. the selection of every prefix, from scratch
    let mut sel = Selector::new();
    let mut loc: View = HashMap::new();
    for p in want.keys() {
        let routes = rib.paths(p);
        let cands: Vec<Candidate> = routes
            .iter()
            .map(|r| {
                let info = rib.peer(r.peer).unwrap();
                let cost = bgp_rib::NextHopResolver::resolve(res, r.attrs.next_hop().addr());
                Candidate::new(r.peer, r.path_id, r.flags, &r.attrs, info, cost, &cfg)
            })
            .collect();
        let s = sel.select(&cands, &cfg);
        let got = rib.selected(p);
        match s.best {
            None => {
                prop_assert!(got.is_none(), "{p}: no path reachable, yet a best");
                prop_assert!(cands.iter().all(|c| !c.reachable));
                prop_assert_eq!(eliminate(&cands, &cfg), None);
            }
            Some(b) => {
                let got = got.ok_or_else(|| TestCaseError::fail(format!("{p}: no best")))?;
                let bc = &cands[b];
                prop_assert_eq!((got.best.peer, got.best.path_id), (bc.peer, bc.path_id));
                prop_assert_eq!(Some(got.step), s.step);
                let mp: Vec<(PeerId, u32)> =
                    got.multipath.iter().map(|m| (m.peer, m.path_id)).collect();
                let mut want_mp: Vec<(PeerId, u32)> = sel
                    .multipath()
                    .iter()
                    .skip(1)
                    .map(|&i| (cands[i].peer, cands[i].path_id))
                    .collect();
                want_mp.sort();
                prop_assert_eq!(&mp, &want_mp);
                loc.insert(*p, ((bc.peer, bc.path_id), mp.clone()));
                // 3. maximality
                let elim = eliminate(&cands, &cfg);
                let group_mode = cfg.deterministic_med && !cfg.always_compare_med;
                if cfg.always_compare_med {
                    prop_assert!(
                        cands.iter().all(|c| !beats(c, bc, &cfg)),
                        "{p}: beaten in a total order"
                    );
                    prop_assert_eq!(elim, Some(b));
                } else if group_mode {
                    let winner_of = |g: Option<u32>| {
                        (0..cands.len())
                            .filter(|&i| cands[i].neighbour_as == g)
                            .find(|&i| {
                                cands
                                    .iter()
                                    .all(|c| c.neighbour_as != g || !beats(c, &cands[i], &cfg))
                            })
                    };
                    for c in &cands {
                        if c.neighbour_as == bc.neighbour_as {
                            prop_assert!(!beats(c, bc, &cfg), "{p}: beaten inside its group");
                        } else if let Some(w) = winner_of(c.neighbour_as) {
                            prop_assert!(
                                !beats(&cands[w], bc, &cfg),
                                "{p}: beaten by a group winner"
                            );
                        }
                    }
                    prop_assert_eq!(elim, Some(b));
                } else {
                    let unbeaten = |i: usize| cands.iter().all(|c| !beats(c, &cands[i], &cfg));
                    if (0..cands.len()).any(unbeaten) {
                        prop_assert!(
                            unbeaten(b),
                            "{p}: an unbeaten path exists but the best is beaten"
                        );
                        prop_assert_eq!(elim, Some(b));
                    }
                }
                // 4. multipath members tie through the IGP cost step
                prop_assert!(mp.len() < usize::from(cfg.max_paths.max(1)));
                for m in &got.multipath {
                    let mc = cands
                        .iter()
                        .find(|c| (c.peer, c.path_id) == (m.peer, m.path_id))
                        .unwrap();
                    let (o, step) = compare(bc, mc, &cfg);
                    prop_assert_eq!(o, Ordering::Greater);
                    prop_assert!(step > DecisionStep::IgpCost);
                    prop_assert!(cfg.multipath_relax || mc.neighbour_as == bc.neighbour_as);
                }
            }
        }
    }
    let loc_rib: View = rib
        .loc_rib()
        .map(|(p, s)| {
            (
                p,
                (
                    (s.best.peer, s.best.path_id),
                    s.multipath.iter().map(|m| (m.peer, m.path_id)).collect(),
                ),
            )
        })
        .collect();
    prop_assert_eq!(&loc_rib, &loc);
    // 5. the changes reported add up to the Loc-RIB
    prop_assert_eq!(view, &loc);
    Ok(())
}

fn run(cfg: DecisionConfig, initial: [Option<u32>; 4], ops: &[Op]) -> Result<(), TestCaseError> {
    let mut rib = Rib::new(cfg);
    let ids: Vec<PeerId> = peers()
        .into_iter()
        .map(|p| rib.add_peer(p).unwrap())
        .collect();
    let mut model = Model::default();
    let mut res = resolver(initial);
    let mut view: View = HashMap::new();
    let mut changes = Vec::new();
    for op in ops {
        changes.clear();
        match op {
            Op::Announce {
                peer,
                prefix,
                path_id,
                attrs,
            } => {
                rib.announce(
                    ids[*peer],
                    &attrs.attrs(),
                    attrs.hop(),
                    [nlri(*prefix, *path_id)],
                    &res,
                    &mut changes,
                )
                .unwrap();
                let mut a = attrs.clone();
                a.hop %= 4;
                model.paths.insert(
                    (net(PREFIXES[*prefix]), *peer, *path_id),
                    (a, PathFlags::empty()),
                );
            }
            Op::Withdraw {
                peer,
                prefix,
                path_id,
            } => {
                let n = rib.withdraw(ids[*peer], [nlri(*prefix, *path_id)], &res, &mut changes);
                let had = model
                    .paths
                    .remove(&(net(PREFIXES[*prefix]), *peer, *path_id))
                    .is_some();
                prop_assert_eq!(n == 1, had);
            }
            Op::PeerDown(p) => {
                let n = rib.peer_down(ids[*p], &res, &mut changes);
                let before = model.paths.len();
                model.paths.retain(|k, _| k.1 != *p);
                prop_assert_eq!(n, before - model.paths.len());
            }
            Op::Stale(p, llgr) => {
                let flag = if *llgr {
                    PathFlags::LLGR_STALE
                } else {
                    PathFlags::STALE
                };
                rib.mark_stale(ids[*p], *llgr, &res, &mut changes);
                for (k, v) in model.paths.iter_mut() {
                    if k.1 == *p {
                        v.1 = v.1.union(flag);
                    }
                }
            }
            Op::Sweep(p) => {
                rib.sweep_stale(ids[*p], &res, &mut changes);
                let stale = PathFlags::STALE.union(PathFlags::LLGR_STALE);
                model
                    .paths
                    .retain(|k, v| k.1 != *p || !v.1.intersects(stale));
            }
            Op::Resolve(c) => {
                res = resolver(*c);
                rib.reevaluate(&res, &mut changes);
            }
        }
        replay(&mut view, &changes);
    }
    check(&rib, &ids, &model, &res, &view)?;
    // a RIB built afresh, in the reverse order, agrees (flags cannot be
    // rebuilt path by path, so only without them)
    if model.paths.values().all(|(_, f)| *f == PathFlags::empty()) {
        let mut fresh = Rib::new(cfg);
        let fids: Vec<PeerId> = peers()
            .into_iter()
            .map(|p| fresh.add_peer(p).unwrap())
            .collect();
        let mut fview: View = HashMap::new();
        for ((p, peer, id), (a, _)) in model.paths.iter().rev() {
            let mut ch = Vec::new();
            let n = if *id == 0 {
                Nlri::new(*p)
            } else {
                Nlri::with_path_id(*p, *id)
            };
            fresh
                .announce(fids[*peer], &a.attrs(), a.hop(), [n], &res, &mut ch)
                .unwrap();
            replay(&mut fview, &ch);
        }
        prop_assert_eq!(&fview, &view);
        let a: Vec<_> = rib.loc_rib().collect();
        let b: Vec<_> = fresh.loc_rib().collect();
        prop_assert_eq!(a, b);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn rib_matches_model(cfg in config(), initial in costs(), ops in prop::collection::vec(op(), 1..80)) {
        run(cfg, initial, &ops)?;
    }

    #[test]
    fn deterministic_med_on(initial in costs(), ops in prop::collection::vec(op(), 1..80), max_paths in 1u16..4) {
        let cfg = DecisionConfig { deterministic_med: true, max_paths, ..DecisionConfig::default() };
        run(cfg, initial, &ops)?;
    }

    #[test]
    fn deterministic_med_off(initial in costs(), ops in prop::collection::vec(op(), 1..80), max_paths in 1u16..4) {
        let cfg = DecisionConfig { deterministic_med: false, max_paths, ..DecisionConfig::default() };
        run(cfg, initial, &ops)?;
    }
}
