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

use std::sync::Arc;

use foldhash::{HashMap, HashMapExt};
use ipnet::IpNet;

use super::intern::Interner;
use super::ownership::{self, Owner};
use super::route::{Family, KernelKind, KernelNextHop, KernelRoute};

/// One of our routes in the kernel, at some metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OurRoute {
    /// The metric.
    pub metric: u32,
    /// Type and next hops (shared by equal routes).
    pub kind: Arc<KernelKind>,
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

/// What the kernel holds for one prefix: a view into the mirror (or into a
/// [`PrefixRoutes`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct PrefixState<'a> {
    first: Option<&'a OurRoute>,
    more: &'a [OurRoute],
    aliens: &'a [AlienRoute],
}

impl<'a> PrefixState<'a> {
    /// Our routes (normally one).
    pub fn ours(&self) -> impl Iterator<Item = &'a OurRoute> + 'a {
        self.first.into_iter().chain(self.more.iter())
    }

    /// Alien routes.
    pub fn aliens(&self) -> &'a [AlienRoute] {
        self.aliens
    }

    /// Whether nothing is there.
    pub fn is_empty(&self) -> bool {
        self.first.is_none() && self.aliens.is_empty()
    }

    /// Our route at `metric`, if any.
    pub fn ours_at(&self, metric: u32) -> Option<&'a OurRoute> {
        self.ours().find(|r| r.metric == metric)
    }

    /// Protocols of the alien routes at `metric`.
    pub fn aliens_at(&self, metric: u32) -> impl Iterator<Item = u8> + 'a {
        self.aliens
            .iter()
            .filter(move |a| a.metric == metric)
            .map(|a| a.protocol)
    }
}

/// Routes of one prefix held by value, for plans built by hand (tests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrefixRoutes {
    ours: Vec<OurRoute>,
    aliens: Vec<AlienRoute>,
}

impl PrefixRoutes {
    /// Our routes as (metric, kind) and aliens as (metric, protocol).
    pub fn new(
        ours: impl IntoIterator<Item = (u32, KernelKind)>,
        aliens: impl IntoIterator<Item = (u32, u8)>,
    ) -> PrefixRoutes {
        PrefixRoutes {
            ours: ours
                .into_iter()
                .map(|(metric, kind)| OurRoute {
                    metric,
                    kind: Arc::new(kind),
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

    /// The view that plans take.
    pub fn view(&self) -> PrefixState<'_> {
        PrefixState {
            first: self.ours.first(),
            more: self.ours.get(1..).unwrap_or(&[]),
            aliens: &self.aliens,
        }
    }
}

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
///
/// Stored for a small footprint at a million routes: the first route of
/// ours of each prefix in one map, further ones (other metrics, rare) and
/// alien slots in maps of their own, next-hop sets shared.
#[derive(Debug)]
pub struct KernelTable {
    family: Family,
    table: u32,
    protocol: u8,
    first: HashMap<IpNet, OurRoute>,
    more: HashMap<IpNet, Vec<OurRoute>>,
    aliens: HashMap<IpNet, Vec<AlienRoute>>,
    kinds: Interner<KernelKind>,
    /// Our routes per outgoing interface, to tell whether a device going
    /// down may have flushed some of ours.
    oif_refs: HashMap<u32, u32>,
    ours: usize,
    alien_count: usize,
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
            first: HashMap::new(),
            more: HashMap::new(),
            aliens: HashMap::new(),
            kinds: Interner::new(),
            oif_refs: HashMap::new(),
            ours: 0,
            alien_count: 0,
            generation: 0,
        }
    }

    /// The family mirrored.
    pub fn family(&self) -> Family {
        self.family
    }

    /// What the kernel holds for `prefix`.
    pub fn get(&self, prefix: &IpNet) -> PrefixState<'_> {
        PrefixState {
            first: self.first.get(prefix),
            more: self.more.get(prefix).map_or(&[], Vec::as_slice),
            aliens: self.aliens.get(prefix).map_or(&[], Vec::as_slice),
        }
    }

    /// How many of our routes the kernel holds.
    pub fn ours_count(&self) -> usize {
        self.ours
    }

    /// How many alien route slots (prefix, metric, protocol) the table has.
    pub fn aliens_count(&self) -> usize {
        self.alien_count
    }

    /// Prefixes with at least one of our routes.
    pub fn our_prefixes(&self) -> impl Iterator<Item = &IpNet> + '_ {
        self.first.keys()
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

    /// Sets our route of `prefix` at `metric`.
    fn put_ours(&mut self, prefix: IpNet, metric: u32, kind: Arc<KernelKind>) {
        let seen = self.generation;
        self.refs(&kind, true);
        let new = OurRoute { metric, kind, seen };
        let old = match self.first.get_mut(&prefix) {
            None => {
                self.first.insert(prefix, new);
                None
            }
            Some(f) if f.metric == metric => Some(std::mem::replace(f, new)),
            Some(_) => {
                let more = self.more.entry(prefix).or_default();
                match more.iter_mut().find(|r| r.metric == metric) {
                    Some(r) => Some(std::mem::replace(r, new)),
                    None => {
                        more.push(new);
                        None
                    }
                }
            }
        };
        match old {
            Some(o) => self.refs(&o.kind, false),
            None => self.ours += 1,
        }
    }

    /// Removes our route of `prefix` at `metric`; returns it.
    fn take_ours(&mut self, prefix: &IpNet, metric: u32) -> Option<OurRoute> {
        let taken = if self.first.get(prefix).is_some_and(|f| f.metric == metric) {
            let promoted = self.more.get_mut(prefix).and_then(Vec::pop);
            if self.more.get(prefix).is_some_and(Vec::is_empty) {
                self.more.remove(prefix);
            }
            match promoted {
                Some(p) => self.first.insert(*prefix, p),
                None => self.first.remove(prefix),
            }
        } else {
            let more = self.more.get_mut(prefix)?;
            let i = more.iter().position(|r| r.metric == metric)?;
            let r = more.swap_remove(i);
            if more.is_empty() {
                self.more.remove(prefix);
            }
            Some(r)
        };
        if let Some(r) = &taken {
            self.ours -= 1;
            self.refs(&r.kind, false);
        }
        taken
    }

    /// Removes alien slots of `prefix` for which `gone` holds.
    fn drop_aliens(&mut self, prefix: &IpNet, gone: impl Fn(&AlienRoute) -> bool) {
        if let Some(v) = self.aliens.get_mut(prefix) {
            let before = v.len();
            v.retain(|a| !gone(a));
            self.alien_count -= before - v.len();
            if v.is_empty() {
                self.aliens.remove(prefix);
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
        let (prefix, metric) = (route.prefix, route.metric);
        match owner {
            Owner::Ignored => Applied::Ignored,
            Owner::Ours => {
                if replace {
                    // The route took the slot: others' entries there went.
                    self.drop_aliens(&prefix, |a| a.metric == metric);
                }
                let kind = self.kinds.intern(route.kind);
                self.put_ours(prefix, metric, kind);
                Applied::Ours
            }
            Owner::Alien(p) => {
                let mut applied = Applied::Alien;
                if replace {
                    if self.take_ours(&prefix, metric).is_some() {
                        applied = Applied::Ours;
                    }
                    self.drop_aliens(&prefix, |a| a.metric == metric && a.protocol != p);
                }
                let seen = self.generation;
                let v = self.aliens.entry(prefix).or_default();
                match v.iter_mut().find(|a| a.metric == metric && a.protocol == p) {
                    Some(a) => a.seen = seen,
                    None => {
                        v.push(AlienRoute {
                            metric,
                            protocol: p,
                            seen,
                        });
                        self.alien_count += 1;
                    }
                }
                applied
            }
        }
    }

    /// Applies an `RTM_DELROUTE` event.
    pub fn apply_del(&mut self, route: &KernelRoute) -> Applied {
        if Family::of(&route.prefix) != self.family {
            return Applied::Ignored;
        }
        let (prefix, metric) = (route.prefix, route.metric);
        match ownership::classify(route, self.table, self.protocol) {
            Owner::Ignored => Applied::Ignored,
            Owner::Alien(p) => {
                self.drop_aliens(&prefix, |a| a.metric == metric && a.protocol == p);
                Applied::Alien
            }
            Owner::Ours => {
                let Some(old) = self.take_ours(&prefix, metric) else {
                    return Applied::Ours;
                };
                // IPv6 may delete one member of an ECMP route.
                if let (Family::V6, KernelKind::Unicast(del), KernelKind::Unicast(have)) =
                    (self.family, &route.kind, old.kind.as_ref())
                {
                    let rest = remaining(have, del);
                    if !rest.is_empty() {
                        // What is left is in the kernel: seen now.
                        let kind = self.kinds.intern(KernelKind::Unicast(rest));
                        self.put_ours(prefix, metric, kind);
                    }
                }
                Applied::Ours
            }
        }
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
        let mut gone: Vec<(IpNet, u32)> = self
            .first
            .iter()
            .filter(|(_, r)| r.seen != current)
            .map(|(p, r)| (*p, r.metric))
            .collect();
        for (p, v) in &self.more {
            gone.extend(
                v.iter()
                    .filter(|r| r.seen != current)
                    .map(|r| (*p, r.metric)),
            );
        }
        let mut lost = Vec::new();
        for (p, m) in gone {
            if self.take_ours(&p, m).is_some() && lost.last() != Some(&p) {
                lost.push(p);
            }
        }
        lost.sort();
        lost.dedup();
        let mut dropped = 0usize;
        self.aliens.retain(|_, v| {
            let before = v.len();
            v.retain(|a| a.seen == current);
            dropped += before - v.len();
            !v.is_empty()
        });
        self.alien_count -= dropped;
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
            *t.get(&p).ours_at(1024).unwrap().kind,
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
            *t.get(&p).ours_at(1024).unwrap().kind,
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
        assert!(t.get(&p).ours().next().is_none());
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
