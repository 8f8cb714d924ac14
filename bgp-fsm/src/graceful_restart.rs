//! Graceful restart (RFC 4724), its NOTIFICATION extension (RFC 8538) and
//! long-lived graceful restart (RFC 9494): the two sides' states.
//!
//! # Restarting speaker
//!
//! After a restart of ours, the first session announces the Restart State
//! (R) bit and, per family, the Forwarding State (F) bit
//! ([`GracefulRestartConfig`](crate::config::GracefulRestartConfig)); the R
//! bit is cleared once that session is Established. The restarting speaker
//! defers its route selection until the peers' End-of-RIB markers have
//! arrived ([`Action::AllEndOfRibReceived`]), and sends its own after its
//! initial updates
//! ([`Session::initial_updates_sent`](crate::Session::initial_updates_sent)).
//!
//! # Receiving speaker (helper)
//!
//! [`HelperState`] follows the peer's routes across a restart:
//!
//! ```text
//!  Inactive --session lost, GR applies--> Restarting --restart timer--> LongLivedStale
//!     ^      (RoutesStale, restart timer)     |    (RoutesLongLivedStale,     |
//!     |                                       |     DeleteStaleRoutes others) |
//!     |                                  Established                     Established
//!     |                            (F bit checks: DeleteStaleRoutes)          |
//!     |                                       v                               |
//!     +--- EoR for every family, ------- Recovering <-------------------------+
//!          or stale timer                (stale timer)
//!          (DeleteStaleRoutes)
//! ```
//!
//! When an Established session that negotiated graceful restart is lost,
//! the routes of the families the peer listed are kept as stale
//! ([`Action::RoutesStale`]) and the restart timer starts with the peer's
//! Restart Time. Which losses qualify:
//!
//! - a lost TCP connection (and a new OPEN from the peer while Established,
//!   which [`crate::collision`] turns into one), always (RFC 4724);
//! - a NOTIFICATION sent or received, Hold Timer Expired included, only when
//!   both sides set the N bit and it is not a Cease / Hard Reset
//!   (RFC 8538 4); a Hard Reset, sent or received, deletes everything;
//! - nothing else: the routes are deleted ([`Action::DeleteRoutes`]).
//!
//! If the session is not back before the restart timer expires, the stale
//! routes are deleted, except for the families both sides announced with a
//! long-lived stale time, which become long-lived stale for that time. When
//! the session is back (Established), the families the peer no longer lists
//! with the F bit are deleted at once, and the others wait for the peer's
//! End-of-RIB, each sweeping its family, under the local stale timer.

use std::time::Duration;

use bgp_wire::AfiSafi;

use crate::action::Action;
use crate::negotiated::{GracefulRestartParameters, Negotiated};
use crate::timers::{ArmedTimer, Instant, Timer};

/// The state of the graceful restart helper for one peer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum HelperState {
    /// No stale routes from the peer.
    #[default]
    Inactive,
    /// The session is down; the peer's routes of these families are stale
    /// and the restart timer runs.
    Restarting(Vec<AfiSafi>),
    /// The restart timer expired; these families are long-lived stale, each
    /// under its own timer.
    LongLivedStale(Vec<AfiSafi>),
    /// The session is back; stale routes of these families wait for the
    /// peer's End-of-RIB, under the stale timer.
    Recovering(Vec<AfiSafi>),
}

impl HelperState {
    /// The families whose routes are stale.
    pub fn stale_families(&self) -> &[AfiSafi] {
        match self {
            HelperState::Inactive => &[],
            HelperState::Restarting(f)
            | HelperState::LongLivedStale(f)
            | HelperState::Recovering(f) => f,
        }
    }
}

/// The graceful restart state of one peer, on both sides: whether our next
/// OPEN carries the R bit, and the helper's state and timers.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GracefulRestartState {
    restarting: bool,
    helper: HelperState,
    params: GracefulRestartParameters,
    restart: Option<ArmedTimer>,
    stale: Option<ArmedTimer>,
    long_lived: Vec<(AfiSafi, ArmedTimer)>,
}

impl GracefulRestartState {
    /// A state whose next OPEN carries the R bit if `restarting`.
    pub fn new(restarting: bool) -> Self {
        GracefulRestartState {
            restarting,
            ..GracefulRestartState::default()
        }
    }

    /// Whether our next OPEN carries the Restart State bit.
    pub fn restarting(&self) -> bool {
        self.restarting
    }

    /// The helper's state.
    pub fn helper(&self) -> &HelperState {
        &self.helper
    }

    /// The families whose routes are stale.
    pub fn stale_families(&self) -> &[AfiSafi] {
        self.helper.stale_families()
    }

    /// A running graceful restart timer.
    pub fn timer(&self, timer: Timer) -> Option<ArmedTimer> {
        match timer {
            Timer::Restart => self.restart,
            Timer::Stale => self.stale,
            Timer::LongLivedStale => self
                .long_lived
                .iter()
                .map(|(_, t)| *t)
                .min_by_key(|t| t.deadline),
            _ => None,
        }
    }

    /// The long-lived stale timer of each family.
    pub fn long_lived_timers(&self) -> &[(AfiSafi, ArmedTimer)] {
        &self.long_lived
    }

    fn clear(&mut self) {
        self.helper = HelperState::Inactive;
        self.restart = None;
        self.stale = None;
        self.long_lived.clear();
    }

    /// An Established session ended. `retain`: graceful restart applies to
    /// this loss (see the module documentation).
    pub(crate) fn session_lost(
        &mut self,
        now: Instant,
        negotiated: &Negotiated,
        retain: bool,
        out: &mut impl Extend<Action>,
    ) {
        let gr = &negotiated.graceful_restart;
        let retained = if retain && gr.helper() {
            gr.retained_families(&negotiated.families)
        } else {
            Vec::new()
        };
        let mut deleted: Vec<AfiSafi> = negotiated
            .families
            .iter()
            .copied()
            .filter(|f| !retained.contains(f))
            .collect();
        // Routes still stale from an earlier restart and not kept now.
        for f in self.stale_families() {
            if !retained.contains(f) && !deleted.contains(f) {
                deleted.push(*f);
            }
        }
        self.clear();
        if !deleted.is_empty() {
            out.extend([Action::DeleteRoutes(deleted)]);
        }
        if retained.is_empty() {
            return;
        }
        out.extend([Action::RoutesStale(retained.clone())]);
        self.params = gr.clone();
        self.helper = HelperState::Restarting(retained);
        let restart_time = Duration::from_secs(u64::from(gr.peer_restart_time()));
        if restart_time.is_zero() {
            self.restart_expired(now, out);
        } else {
            self.restart = Some(ArmedTimer::start(now, restart_time));
        }
    }

    fn restart_expired(&mut self, now: Instant, out: &mut impl Extend<Action>) {
        self.restart = None;
        let HelperState::Restarting(families) = std::mem::take(&mut self.helper) else {
            return;
        };
        let (long_lived, deleted): (Vec<AfiSafi>, Vec<AfiSafi>) = families
            .iter()
            .partition(|f| self.params.long_lived_stale_time(**f).is_some());
        if !deleted.is_empty() {
            out.extend([Action::DeleteStaleRoutes(deleted)]);
        }
        if long_lived.is_empty() {
            self.clear();
            return;
        }
        out.extend([Action::RoutesLongLivedStale(long_lived.clone())]);
        self.long_lived = long_lived
            .iter()
            .map(|f| {
                let secs = self.params.long_lived_stale_time(*f).unwrap_or(0);
                (
                    *f,
                    ArmedTimer::start(now, Duration::from_secs(u64::from(secs))),
                )
            })
            .collect();
        self.helper = HelperState::LongLivedStale(long_lived);
    }

    /// The session is Established again: check the peer's new
    /// capabilities, keep waiting for End-of-RIB for the families it still
    /// preserves.
    pub(crate) fn session_established(
        &mut self,
        now: Instant,
        negotiated: &Negotiated,
        stale_routes_time: Duration,
        out: &mut impl Extend<Action>,
    ) {
        self.restarting = false;
        let families = match &self.helper {
            HelperState::Restarting(f) | HelperState::LongLivedStale(f) => f.clone(),
            HelperState::Inactive | HelperState::Recovering(_) => return,
        };
        let gr = &negotiated.graceful_restart;
        let preserved = |f: &AfiSafi| {
            negotiated.has_family(*f)
                && (gr
                    .remote
                    .as_ref()
                    .and_then(|g| g.family(*f))
                    .is_some_and(|e| e.forwarding_preserved())
                    || gr
                        .remote_long_lived
                        .as_ref()
                        .and_then(|l| l.family(*f))
                        .is_some_and(|e| e.forwarding_preserved()))
        };
        let (kept, deleted): (Vec<AfiSafi>, Vec<AfiSafi>) =
            families.into_iter().partition(preserved);
        self.clear();
        if !deleted.is_empty() {
            out.extend([Action::DeleteStaleRoutes(deleted)]);
        }
        if !kept.is_empty() {
            self.helper = HelperState::Recovering(kept);
            self.stale = Some(ArmedTimer::start(now, stale_routes_time));
        }
    }

    /// The peer's End-of-RIB for `family` arrived.
    pub(crate) fn end_of_rib(&mut self, family: AfiSafi, out: &mut impl Extend<Action>) {
        let HelperState::Recovering(families) = &mut self.helper else {
            return;
        };
        if !families.contains(&family) {
            return;
        }
        families.retain(|f| *f != family);
        let done = families.is_empty();
        out.extend([Action::DeleteStaleRoutes(vec![family])]);
        if done {
            self.clear();
        }
    }

    /// A Hard Reset outside Established: delete whatever is stale.
    pub(crate) fn flush(&mut self, out: &mut impl Extend<Action>) {
        let stale = self.stale_families().to_vec();
        self.clear();
        if !stale.is_empty() {
            out.extend([Action::DeleteStaleRoutes(stale)]);
        }
    }

    /// The earliest deadline of the graceful restart timers.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        [Timer::Restart, Timer::Stale, Timer::LongLivedStale]
            .into_iter()
            .filter_map(|t| self.timer(t))
            .map(|t| t.deadline)
            .min()
    }

    /// Handles the expiry of `timer` at `now`.
    pub(crate) fn expire(&mut self, now: Instant, timer: Timer, out: &mut impl Extend<Action>) {
        match timer {
            Timer::Restart => self.restart_expired(now, out),
            Timer::Stale => {
                self.stale = None;
                let stale = self.stale_families().to_vec();
                self.clear();
                if !stale.is_empty() {
                    out.extend([Action::DeleteStaleRoutes(stale)]);
                }
            }
            Timer::LongLivedStale => {
                let (expired, running): (Vec<_>, Vec<_>) =
                    self.long_lived.iter().partition(|(_, t)| t.expired(now));
                self.long_lived = running;
                let expired: Vec<AfiSafi> = expired.into_iter().map(|(f, _)| f).collect();
                if let HelperState::LongLivedStale(families) = &mut self.helper {
                    families.retain(|f| !expired.contains(f));
                    if families.is_empty() {
                        self.clear();
                    }
                }
                if !expired.is_empty() {
                    out.extend([Action::DeleteStaleRoutes(expired)]);
                }
            }
            _ => {}
        }
    }
}
