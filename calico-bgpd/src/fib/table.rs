//! The kernel mirror: what one family's managed table holds, learned from a
//! netlink dump at start and kept current by netlink events, never by
//! polling.
//!
//! Entries are keyed by prefix; each prefix holds the routes of our
//! protocol (any metric) and small records of alien routes (metric and
//! protocol only: their content is never needed, as they are never
//! touched). Within a prefix, an entry is identified by (metric, protocol).
//!
//! How events change the mirror (see the kernel's behaviour in the tests of
//! `tests/fib.rs`):
//!
//! - `RTM_NEWROUTE` carries the whole route at its (prefix, metric) slot,
//!   for IPv6 too (a kernel since 4.11 reports an IPv6 ECMP route, also after
//!   `ip route append`, as one message with all its next hops): the entry
//!   of that (metric, protocol) is set to it. With `NLM_F_REPLACE` the
//!   route took the place of whatever held the slot, so other protocols'
//!   entries at that metric go.
//! - `RTM_DELROUTE` for IPv4 removes the entry. For IPv6 it may name one
//!   member of an ECMP route (`ip -6 route del ... via X`): only the listed
//!   next hops are removed, and the entry when none is left.
//!
//! Where the model could be wrong (several routes of one protocol appended
//! in one IPv4 slot), the mirror under-reports; a write then fails (`EEXIST`
//! or `ESRCH`), which makes the engine dump the table again.
//!
//! A re-dump (after a lost event, `ENOBUFS`, or an event the kernel does not
//! send, such as the silent IPv4 flush of routes through a device going
//! down) refreshes entries in place: every entry seen in the dump or in an
//! event during it gets the dump's generation, and when the dump ends those
//! of an older generation are gone from the kernel and removed
//! ([`KernelTable::end_dump`]).

use std::collections::HashMap;

use ipnet::IpNet;

use super::ownership::{self, Owner};
use super::route::{Family, KernelKind, KernelNextHop, KernelRoute};

/// One of our routes in the kernel, at some metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurRoute {
    /// The metric.
    pub metric: u32,
    /// Type and next hops.
    pub kind: KernelKind,
    seen: u32,
}

/// An alien route's slot: who holds which metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlienRoute {
    /// The metric.
    pub metric: u32,
    /// The protocol number.
    pub protocol: u8,
    seen: u32,
}

/// What the kernel holds for one prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrefixState {
    /// Our routes (normally one).
    pub ours: Vec<OurRoute>,
    /// Alien routes.
    pub aliens: Vec<AlienRoute>,
}

impl PrefixState {
    /// A state with these routes (for tests and plans built by hand).
    pub fn new(
        ours: impl IntoIterator<Item = (u32, KernelKind)>,
        aliens: impl IntoIterator<Item = (u32, u8)>,
    ) -> PrefixState {
        PrefixState {
            ours: ours
                .into_iter()
                .map(|(metric, kind)| OurRoute {
                    metric,
                    kind,
                    seen: 0,
                })
                .collect(),
            aliens: aliens
                .into_iter()
                .map(|(metric, protocol)| AlienRoute {
                    metric,
                    protocol,
                    seen: 0,
                })
                .collect(),
        }
    }

    /// Whether nothing is there.
    pub fn is_empty(&self) -> bool {
        self.ours.is_empty() && self.aliens.is_empty()
    }

    /// Our route at `metric`, if any.
    pub fn ours_at(&self, metric: u32) -> Option<&OurRoute> {
        self.ours.iter().find(|r| r.metric == metric)
    }

    /// Protocols of the alien routes at `metric`.
    pub fn aliens_at(&self, metric: u32) -> impl Iterator<Item = u8> + '_ {
        self.aliens
            .iter()
            .filter(move |a| a.metric == metric)
            .map(|a| a.protocol)
    }
}

static EMPTY: PrefixState = PrefixState {
    ours: Vec::new(),
    aliens: Vec::new(),
};

/// What an event or dump message did to the mirror.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// One of our routes changed.
    Ours,
    /// An alien route changed.
    Alien,
    /// Nothing we mirror.
    Ignored,
}

/// The mirror of one family's managed table (see the [module
/// documentation](self)).
#[derive(Debug)]
pub struct KernelTable {
    family: Family,
    table: u32,
    protocol: u8,
    prefixes: HashMap<IpNet, PrefixState>,
    /// Our routes per outgoing interface, to tell whether a device going
    /// down may have flushed some of ours.
    oif_refs: HashMap<u32, u32>,
    ours: usize,
    aliens: usize,
    generation: u32,
}

impl KernelTable {
    /// An empty mirror of `family`'s `table`, where routes of `protocol`
    /// are ours.
    pub fn new(family: Family, table: u32, protocol: u8) -> KernelTable {
        KernelTable {
            family,
            table,
            protocol,
            prefixes: HashMap::new(),
            oif_refs: HashMap::new(),
            ours: 0,
            aliens: 0,
            generation: 0,
        }
    }

    /// The family mirrored.
    pub fn family(&self) -> Family {
        self.family
    }

    /// What the kernel holds for `prefix` (empty if nothing).
    pub fn get(&self, prefix: &IpNet) -> &PrefixState {
        self.prefixes.get(prefix).unwrap_or(&EMPTY)
    }

    /// How many of our routes the kernel holds.
    pub fn ours_count(&self) -> usize {
        self.ours
    }

    /// How many alien routes the kernel holds in the table.
    pub fn aliens_count(&self) -> usize {
        self.aliens
    }

    /// Prefixes with at least one of our routes.
    pub fn our_prefixes(&self) -> impl Iterator<Item = &IpNet> + '_ {
        self.prefixes
            .iter()
            .filter(|(_, s)| !s.ours.is_empty())
            .map(|(p, _)| p)
    }

    /// Whether some route of ours goes out through interface `oif`.
    pub fn uses_oif(&self, oif: u32) -> bool {
        self.oif_refs.get(&oif).is_some_and(|n| *n > 0)
    }

    fn refs(&mut self, kind: &KernelKind, add: bool) {
        if let KernelKind::Unicast(hops) = kind {
            for h in hops {
                if add {
                    *self.oif_refs.entry(h.oif).or_insert(0) += 1;
                } else if let Some(n) = self.oif_refs.get_mut(&h.oif) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.oif_refs.remove(&h.oif);
                    }
                }
            }
        }
    }

    /// Applies an `RTM_NEWROUTE` (event or dump message); `replace` is the
    /// message's `NLM_F_REPLACE` flag.
    pub fn apply_new(&mut self, route: KernelRoute, replace: bool) -> Applied {
        if Family::of(&route.prefix) != self.family {
            return Applied::Ignored;
        }
        let owner = ownership::classify(&route, self.table, self.protocol);
        if owner == Owner::Ignored {
            return Applied::Ignored;
        }
        let seen = self.generation;
        let metric = route.metric;
        let state = self.prefixes.entry(route.prefix).or_default();
        let mut removed_ours = Vec::new();
        let mut removed_aliens = 0usize;
        if replace {
            // The new route took the slot: other protocols' entries at this
            // metric are gone.
            match owner {
                Owner::Ours => {
                    let before = state.aliens.len();
                    state.aliens.retain(|a| a.metric != metric);
                    removed_aliens = before - state.aliens.len();
                }
                Owner::Alien(p) => {
                    if let Some(i) = state.ours.iter().position(|r| r.metric == metric) {
                        removed_ours.push(state.ours.remove(i).kind);
                    }
                    let before = state.aliens.len();
                    state
                        .aliens
                        .retain(|a| a.metric != metric || a.protocol == p);
                    removed_aliens = before - state.aliens.len();
                }
                Owner::Ignored => {}
            }
        }
        let (added_ours, replaced_ours, added_alien) = match owner {
            Owner::Ours => match state.ours.iter_mut().find(|r| r.metric == metric) {
                Some(r) => {
                    let old = std::mem::replace(&mut r.kind, route.kind.clone());
                    r.seen = seen;
                    (Some(route.kind), Some(old), false)
                }
                None => {
                    state.ours.push(OurRoute {
                        metric,
                        kind: route.kind.clone(),
                        seen,
                    });
                    (Some(route.kind), None, false)
                }
            },
            Owner::Alien(p) => {
                match state
                    .aliens
                    .iter_mut()
                    .find(|a| a.metric == metric && a.protocol == p)
                {
                    Some(a) => {
                        a.seen = seen;
                        (None, None, false)
                    }
                    None => {
                        state.aliens.push(AlienRoute {
                            metric,
                            protocol: p,
                            seen,
                        });
                        (None, None, true)
                    }
                }
            }
            Owner::Ignored => (None, None, false),
        };
        self.aliens -= removed_aliens;
        for k in &removed_ours {
            self.ours -= 1;
            self.refs(k, false);
        }
        if let Some(old) = &replaced_ours {
            self.refs(old, false);
        } else if added_ours.is_some() {
            self.ours += 1;
        }
        if let Some(k) = &added_ours {
            self.refs(k, true);
        }
        if added_alien {
            self.aliens += 1;
        }
        match owner {
            Owner::Ours => Applied::Ours,
            _ if !removed_ours.is_empty() => Applied::Ours,
            _ => Applied::Alien,
        }
    }

    /// Applies an `RTM_DELROUTE` event.
    pub fn apply_del(&mut self, route: &KernelRoute) -> Applied {
        if Family::of(&route.prefix) != self.family {
            return Applied::Ignored;
        }
        let owner = ownership::classify(route, self.table, self.protocol);
        let Some(state) = self.prefixes.get_mut(&route.prefix) else {
            return match owner {
                Owner::Ours => Applied::Ours,
                Owner::Alien(_) => Applied::Alien,
                Owner::Ignored => Applied::Ignored,
            };
        };
        let metric = route.metric;
        let applied = match owner {
            Owner::Ignored => return Applied::Ignored,
            Owner::Alien(p) => {
                let before = state.aliens.len();
                state
                    .aliens
                    .retain(|a| a.metric != metric || a.protocol != p);
                self.aliens -= before - state.aliens.len();
                Applied::Alien
            }
            Owner::Ours => {
                let mut gone = None;
                let mut shrunk = None;
                if let Some(i) = state.ours.iter().position(|r| r.metric == metric) {
                    let partial = match (&route.kind, self.family) {
                        (KernelKind::Unicast(del), Family::V6) => state
                            .ours
                            .get(i)
                            .and_then(|r| match &r.kind {
                                KernelKind::Unicast(have) => Some(remaining(have, del)),
                                _ => None,
                            })
                            .filter(|rest| !rest.is_empty()),
                        _ => None,
                    };
                    match partial {
                        Some(rest) => {
                            if let Some(r) = state.ours.get_mut(i) {
                                let old = std::mem::replace(&mut r.kind, KernelKind::Unicast(rest));
                                shrunk = Some((old, r.kind.clone()));
                            }
                        }
                        None => gone = Some(state.ours.remove(i).kind),
                    }
                }
                if let Some(k) = gone {
                    self.ours -= 1;
                    self.refs(&k, false);
                }
                if let Some((old, new)) = shrunk {
                    self.refs(&old, false);
                    self.refs(&new, true);
                }
                Applied::Ours
            }
        };
        if self
            .prefixes
            .get(&route.prefix)
            .is_some_and(PrefixState::is_empty)
        {
            self.prefixes.remove(&route.prefix);
        }
        applied
    }

    /// Starts a re-dump: entries not seen again before [`Self::end_dump`]
    /// will be dropped.
    pub fn begin_dump(&mut self) {
        self.generation = self.generation.wrapping_add(1);
    }

    /// Ends a complete re-dump: drops what it did not see. Returns the
    /// prefixes that lost routes of ours (to be reconciled again).
    pub fn end_dump(&mut self) -> Vec<IpNet> {
        let current = self.generation;
        let mut lost = Vec::new();
        let mut gone_ours = Vec::new();
        let mut gone_aliens = 0usize;
        self.prefixes.retain(|prefix, state| {
            let before = state.ours.len();
            state.ours.retain(|r| {
                let keep = r.seen == current;
                if !keep {
                    gone_ours.push(r.kind.clone());
                }
                keep
            });
            if state.ours.len() != before {
                lost.push(*prefix);
            }
            let before = state.aliens.len();
            state.aliens.retain(|a| a.seen == current);
            gone_aliens += before - state.aliens.len();
            !state.is_empty()
        });
        for k in &gone_ours {
            self.ours -= 1;
            self.refs(k, false);
        }
        self.aliens -= gone_aliens;
        lost
    }
}

/// `have` without the next hops listed in `del` (by gateway and interface).
fn remaining(have: &[KernelNextHop], del: &[KernelNextHop]) -> Vec<KernelNextHop> {
    have.iter()
        .filter(|h| {
            !del.iter()
                .any(|d| d.gateway == h.gateway && (d.oif == 0 || d.oif == h.oif))
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hop(gw: &str, oif: u32) -> KernelNextHop {
        KernelNextHop {
            gateway: Some(gw.parse().unwrap()),
            oif,
            onlink: false,
            hops: 0,
        }
    }

    fn r(prefix: &str, protocol: u8, metric: u32, kind: KernelKind) -> KernelRoute {
        KernelRoute {
            prefix: prefix.parse().unwrap(),
            table: 254,
            protocol,
            metric,
            tos: 0,
            src_len: 0,
            cloned: false,
            kind,
        }
    }

    fn uni(hops: &[(&str, u32)]) -> KernelKind {
        KernelKind::Unicast(hops.iter().map(|(g, o)| hop(g, *o)).collect())
    }

    #[test]
    fn new_and_del_track_ours_and_aliens() {
        let mut t = KernelTable::new(Family::V4, 254, 12);
        let p: IpNet = "198.19.0.0/24".parse().unwrap();
        assert_eq!(
            t.apply_new(
                r("198.19.0.0/24", 12, 1024, uni(&[("198.18.0.1", 2)])),
                false
            ),
            Applied::Ours
        );
        assert_eq!(
            t.apply_new(r("198.19.0.0/24", 3, 0, uni(&[("198.18.0.5", 2)])), false),
            Applied::Alien
        );
        assert_eq!(t.ours_count(), 1);
        assert_eq!(t.aliens_count(), 1);
        assert!(t.uses_oif(2));
        // Same slot again (dump repeats an event): no double count.
        t.apply_new(
            r("198.19.0.0/24", 12, 1024, uni(&[("198.18.0.3", 4)])),
            false,
        );
        assert_eq!(t.ours_count(), 1);
        assert!(t.uses_oif(4) && !t.uses_oif(2));
        assert_eq!(
            t.get(&p).ours_at(1024).unwrap().kind,
            uni(&[("198.18.0.3", 4)])
        );
        // Other tables, families, TOS: ignored.
        let mut other = r("198.19.0.0/24", 12, 1024, KernelKind::Blackhole);
        other.table = 255;
        assert_eq!(t.apply_new(other, false), Applied::Ignored);
        assert_eq!(
            t.apply_new(r("2001:db8::/48", 12, 1024, KernelKind::Blackhole), false),
            Applied::Ignored
        );
        // IPv4 delete removes the whole route.
        assert_eq!(
            t.apply_del(&r("198.19.0.0/24", 12, 1024, uni(&[("198.18.0.3", 4)]))),
            Applied::Ours
        );
        assert_eq!(t.ours_count(), 0);
        assert!(!t.uses_oif(4));
        assert_eq!(
            t.apply_del(&r("198.19.0.0/24", 3, 0, KernelKind::Blackhole)),
            Applied::Alien
        );
        assert!(t.get(&p).is_empty());
        assert_eq!(t.aliens_count(), 0);
    }

    #[test]
    fn ipv6_delete_of_one_ecmp_member() {
        let mut t = KernelTable::new(Family::V6, 254, 12);
        let p: IpNet = "2001:db8:99::/48".parse().unwrap();
        t.apply_new(
            r(
                "2001:db8:99::/48",
                12,
                1024,
                uni(&[("2001:db8:1::2", 3), ("2001:db8:1::4", 3)]),
            ),
            false,
        );
        t.apply_del(&r(
            "2001:db8:99::/48",
            12,
            1024,
            uni(&[("2001:db8:1::4", 3)]),
        ));
        assert_eq!(
            t.get(&p).ours_at(1024).unwrap().kind,
            uni(&[("2001:db8:1::2", 3)])
        );
        assert_eq!(t.ours_count(), 1);
        // The last member: the route is gone.
        t.apply_del(&r(
            "2001:db8:99::/48",
            12,
            1024,
            uni(&[("2001:db8:1::2", 3)]),
        ));
        assert!(t.get(&p).is_empty());
        assert_eq!(t.ours_count(), 0);
        assert!(!t.uses_oif(3));
    }

    #[test]
    fn replace_takes_the_slot() {
        let mut t = KernelTable::new(Family::V4, 254, 12);
        let p: IpNet = "198.19.0.0/24".parse().unwrap();
        t.apply_new(r("198.19.0.0/24", 12, 0, KernelKind::Blackhole), false);
        // Someone replaces our metric-0 route with theirs.
        assert_eq!(
            t.apply_new(r("198.19.0.0/24", 80, 0, KernelKind::Blackhole), true),
            Applied::Ours
        );
        assert!(t.get(&p).ours.is_empty());
        assert_eq!(t.get(&p).aliens_at(0).collect::<Vec<_>>(), vec![80]);
        assert_eq!((t.ours_count(), t.aliens_count()), (0, 1));
        // And we take it back.
        t.apply_new(r("198.19.0.0/24", 12, 0, KernelKind::Blackhole), true);
        assert_eq!((t.ours_count(), t.aliens_count()), (1, 0));
    }

    #[test]
    fn redump_drops_what_it_did_not_see() {
        let mut t = KernelTable::new(Family::V4, 254, 12);
        t.apply_new(
            r("198.19.0.0/24", 12, 1024, uni(&[("198.18.0.1", 2)])),
            false,
        );
        t.apply_new(
            r("198.19.1.0/24", 12, 1024, uni(&[("198.18.0.1", 2)])),
            false,
        );
        t.apply_new(r("198.19.2.0/24", 3, 0, KernelKind::Blackhole), false);
        t.begin_dump();
        // The dump sees one route of ours; an event during it adds another.
        t.apply_new(
            r("198.19.0.0/24", 12, 1024, uni(&[("198.18.0.1", 2)])),
            false,
        );
        t.apply_new(r("198.19.3.0/24", 12, 1024, KernelKind::Blackhole), false);
        let lost = t.end_dump();
        assert_eq!(lost, vec!["198.19.1.0/24".parse::<IpNet>().unwrap()]);
        assert_eq!((t.ours_count(), t.aliens_count()), (2, 0));
        let mut ours: Vec<String> = t.our_prefixes().map(|p| p.to_string()).collect();
        ours.sort();
        assert_eq!(ours, vec!["198.19.0.0/24", "198.19.3.0/24"]);
    }
}
