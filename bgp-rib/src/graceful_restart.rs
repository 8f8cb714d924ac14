//! Graceful restart, helper side (RFC 4724), and long-lived graceful
//! restart (RFC 9494): the routes of a peer whose session went down are
//! kept, flagged stale, until the peer has sent them again.
//!
//! One [`GracefulRestart`] per peer that negotiated the capability; time is
//! passed in ([`Duration`] since any fixed origin) and timers fire when the
//! caller calls [`GracefulRestart::tick`] (at
//! [`GracefulRestart::next_deadline`], or at any later time).
//!
//! Per family:
//! - **session down** ([`GracefulRestart::session_down`]): a family the
//!   peer's last capability listed is kept, its paths flagged stale
//!   ([`Rib::mark_stale`]), until the restart time has passed; any other
//!   family is removed at once.
//! - **restart time passed, still down**: with a long-lived stale time for
//!   the family (the peer's LLGR capability), the family enters LLGR: paths
//!   with NO_LLGR are removed, the others are flagged LLGR-stale (least
//!   preferred by the decision process, sent with the LLGR_STALE community
//!   and only to peers with LLGR, see [`crate::export::rules`]) until the
//!   long-lived stale time has passed; without one, the family is removed.
//! - **session up** ([`GracefulRestart::session_up`]): a kept family that
//!   the new capability omits, or lists without the forwarding-state bit,
//!   is removed at once; the others wait for End-of-RIB, at most the stale
//!   time ([`GrParams::stale_time`]).
//! - **End-of-RIB** ([`GracefulRestart::end_of_rib`]): the family's paths
//!   still stale (not announced again) are removed.
//! - **a timer passed**: the family's stale paths are removed.

use std::collections::HashMap;
use std::time::Duration;

use bgp_wire::AfiSafi;
use bgp_wire::attribute::Community;
use bgp_wire::nlri::Nlri;

use crate::change::BestChange;
use crate::loc_rib::Rib;
use crate::path::PathFlags;
use crate::peer::PeerId;
use crate::resolver::NextHopResolver;

/// One family of the peer's graceful-restart capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GrFamily {
    /// The family.
    pub family: AfiSafi,
    /// The F bit: the peer kept its forwarding state across the restart
    /// (read from the capability of the new session).
    pub forwarding_preserved: bool,
    /// The long-lived stale time of the family (LLGR capability), if any.
    pub llgr_stale_time: Option<Duration>,
}

impl GrFamily {
    /// A family with the forwarding state kept and no LLGR.
    pub fn new(family: AfiSafi) -> Self {
        GrFamily {
            family,
            forwarding_preserved: true,
            llgr_stale_time: None,
        }
    }

    /// The same with a long-lived stale time.
    pub fn with_llgr(mut self, stale_time: Duration) -> Self {
        self.llgr_stale_time = Some(stale_time);
        self
    }
}

/// What the peer's capabilities (and local configuration) say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrParams {
    /// The restart time of the peer's capability.
    pub restart_time: Duration,
    /// How long to wait for End-of-RIB once the session is back (FRR's
    /// stale-path time, 360 s by default there).
    pub stale_time: Duration,
    /// The families of the capability.
    pub families: Vec<GrFamily>,
}

impl GrParams {
    fn family(&self, f: AfiSafi) -> Option<&GrFamily> {
        self.families.iter().find(|g| g.family == f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Kept, session down, until the restart time passes.
    Restarting,
    /// Kept, session up, waiting for End-of-RIB.
    WaitingEor,
    /// Long-lived stale.
    LongLived,
}

/// What happened to one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrEvent {
    /// The family's paths are kept, flagged stale.
    Stale {
        /// The family.
        family: AfiSafi,
    },
    /// The family entered long-lived stale: `dropped` paths with NO_LLGR
    /// removed, the rest flagged LLGR-stale.
    LongLived {
        /// The family.
        family: AfiSafi,
        /// Paths removed for NO_LLGR.
        dropped: usize,
    },
    /// The family's stale paths were removed.
    Swept {
        /// The family.
        family: AfiSafi,
        /// Paths removed.
        removed: usize,
    },
}

/// The graceful-restart helper state of one peer (see the [module
/// documentation](self)).
#[derive(Debug, Clone)]
pub struct GracefulRestart {
    peer: PeerId,
    params: GrParams,
    families: Vec<(AfiSafi, Phase, Duration)>,
}

const UNICAST: [AfiSafi; 2] = [AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST];

impl GracefulRestart {
    /// The helper for `peer` with the parameters of its current session.
    pub fn new(peer: PeerId, params: GrParams) -> Self {
        GracefulRestart {
            peer,
            params,
            families: Vec::new(),
        }
    }

    /// The families kept, and until when.
    pub fn stale_families(&self) -> impl Iterator<Item = (AfiSafi, Duration)> + '_ {
        self.families.iter().map(|(f, _, t)| (*f, *t))
    }

    /// Whether any family is kept stale.
    pub fn is_active(&self) -> bool {
        !self.families.is_empty()
    }

    /// The earliest time [`GracefulRestart::tick`] has something to do.
    pub fn next_deadline(&self) -> Option<Duration> {
        self.families.iter().map(|(_, _, t)| *t).min()
    }

    /// The session went down: keep what the capability covers (see the
    /// [module documentation](self)).
    pub fn session_down(
        &mut self,
        rib: &mut Rib,
        now: Duration,
        resolver: &impl NextHopResolver,
        changes: &mut Vec<BestChange>,
    ) -> Vec<GrEvent> {
        let mut ev = Vec::new();
        self.families.clear();
        for f in UNICAST {
            if self.params.family(f).is_some() {
                self.families
                    .push((f, Phase::Restarting, now + self.params.restart_time));
                ev.push(GrEvent::Stale { family: f });
            } else {
                let removed = remove_family(rib, self.peer, f, false, resolver, changes);
                if removed > 0 {
                    ev.push(GrEvent::Swept { family: f, removed });
                }
            }
        }
        rib.mark_stale(self.peer, false, resolver, changes);
        if self.params.restart_time.is_zero() {
            ev.extend(self.tick(rib, now, resolver, changes));
        }
        ev
    }

    /// The session is back with these parameters (from the new OPEN).
    pub fn session_up(
        &mut self,
        rib: &mut Rib,
        now: Duration,
        params: GrParams,
        resolver: &impl NextHopResolver,
        changes: &mut Vec<BestChange>,
    ) -> Vec<GrEvent> {
        let mut ev = Vec::new();
        let until = now + params.stale_time;
        let kept = std::mem::take(&mut self.families);
        for (f, _, _) in kept {
            if params.family(f).is_some_and(|g| g.forwarding_preserved) {
                self.families.push((f, Phase::WaitingEor, until));
            } else {
                let removed = remove_family(rib, self.peer, f, true, resolver, changes);
                ev.push(GrEvent::Swept { family: f, removed });
            }
        }
        self.params = params;
        ev
    }

    /// End-of-RIB of `family` received: its stale paths are removed.
    pub fn end_of_rib(
        &mut self,
        rib: &mut Rib,
        family: AfiSafi,
        resolver: &impl NextHopResolver,
        changes: &mut Vec<BestChange>,
    ) -> Option<GrEvent> {
        let i = self
            .families
            .iter()
            .position(|(f, p, _)| *f == family && *p != Phase::Restarting)?;
        self.families.remove(i);
        let removed = remove_family(rib, self.peer, family, true, resolver, changes);
        Some(GrEvent::Swept { family, removed })
    }

    /// Runs the timers that passed by `now`.
    pub fn tick(
        &mut self,
        rib: &mut Rib,
        now: Duration,
        resolver: &impl NextHopResolver,
        changes: &mut Vec<BestChange>,
    ) -> Vec<GrEvent> {
        let mut ev = Vec::new();
        let due: Vec<(AfiSafi, Phase)> = self
            .families
            .iter()
            .filter(|(_, _, t)| *t <= now)
            .map(|(f, p, _)| (*f, *p))
            .collect();
        self.families.retain(|(_, _, t)| *t > now);
        let mut to_llgr = Vec::new();
        for (f, phase) in due {
            let llgr = self.params.family(f).and_then(|g| g.llgr_stale_time);
            match (phase, llgr) {
                (Phase::Restarting, Some(t)) if !t.is_zero() => to_llgr.push((f, now + t)),
                _ => {
                    let removed = remove_family(rib, self.peer, f, true, resolver, changes);
                    ev.push(GrEvent::Swept { family: f, removed });
                }
            }
        }
        if !to_llgr.is_empty() {
            let mut dropped: HashMap<AfiSafi, usize> = HashMap::new();
            let no_llgr = no_llgr_paths(rib, self.peer, &to_llgr);
            for (f, nlri) in no_llgr {
                *dropped.entry(f).or_default() += rib.withdraw(self.peer, nlri, resolver, changes);
            }
            rib.mark_stale(self.peer, true, resolver, changes);
            for (f, until) in to_llgr {
                self.families.push((f, Phase::LongLived, until));
                ev.push(GrEvent::LongLived {
                    family: f,
                    dropped: dropped.get(&f).copied().unwrap_or(0),
                });
            }
        }
        ev
    }
}

fn family_of(n: &Nlri) -> AfiSafi {
    if n.prefix.addr().is_ipv6() {
        AfiSafi::IPV6_UNICAST
    } else {
        AfiSafi::IPV4_UNICAST
    }
}

/// Removes the peer's paths of one family (only the stale ones with
/// `stale_only`). Returns how many.
fn remove_family(
    rib: &mut Rib,
    peer: PeerId,
    family: AfiSafi,
    stale_only: bool,
    resolver: &impl NextHopResolver,
    changes: &mut Vec<BestChange>,
) -> usize {
    let stale = PathFlags::STALE.union(PathFlags::LLGR_STALE);
    let nlri: Vec<Nlri> = rib
        .adj_rib_in(peer)
        .iter()
        .filter(|(n, r)| family_of(n) == family && (!stale_only || r.flags.intersects(stale)))
        .map(|(n, _)| n)
        .collect();
    rib.withdraw(peer, nlri, resolver, changes)
}

/// The peer's paths of these families that carry NO_LLGR, per family.
fn no_llgr_paths(
    rib: &Rib,
    peer: PeerId,
    families: &[(AfiSafi, Duration)],
) -> Vec<(AfiSafi, Vec<Nlri>)> {
    let mut by_set: HashMap<usize, bool> = HashMap::new();
    let mut out: Vec<(AfiSafi, Vec<Nlri>)> =
        families.iter().map(|(f, _)| (*f, Vec::new())).collect();
    for (n, r) in rib.adj_rib_in(peer).iter() {
        let f = family_of(&n);
        let Some((_, v)) = out.iter_mut().find(|(g, _)| *g == f) else {
            continue;
        };
        let key = std::sync::Arc::as_ptr(&r.attrs) as usize;
        let has = *by_set.entry(key).or_insert_with(|| {
            r.attrs
                .attributes()
                .ok()
                .and_then(|a| a.communities)
                .is_some_and(|c| c.contains(&Community::NO_LLGR))
        });
        if has {
            v.push(n);
        }
    }
    out
}
