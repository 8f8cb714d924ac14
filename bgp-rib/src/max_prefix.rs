//! Maximum-prefix limits per peer and family, on import.
//!
//! After each UPDATE (or batch) the caller passes the peer's count for the
//! family ([`MaxPrefix::check`], or [`MaxPrefix::check_rib`] with the RIB's
//! per-family path counts: with ADD-PATH every path counts). Crossing the
//! warning threshold (a percentage of the limit) is reported once, and
//! again only after the count fell back below it; going over the limit is
//! reported once too in warning-only mode. In tear-down mode going over
//! the limit returns [`MaxPrefixEvent::TearDown`] with the NOTIFICATION to
//! send: Cease / Maximum Number of Prefixes Reached (6/1) whose data is
//! the AFI (2 octets), SAFI (1) and the limit (4), as RFC 4486 4 says.
//!
//! The speaker stops the session with it (bgp-fsm's automatic stop with
//! this Cease subcode; bgp-fsm's `Stop` carries a subcode but no data yet,
//! so the RFC 4486 data needs a way through it) and may start the session
//! again after [`MaxPrefixLimit::restart_after`].

use std::time::Duration;

use bgp_wire::error::CeaseSubcode;
use bgp_wire::{AfiSafi, ErrorCode, Notification};
use bytes::{BufMut, BytesMut};

use crate::loc_rib::Rib;
use crate::peer::PeerId;

/// What happens at the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MaxPrefixMode {
    /// Report only.
    WarningOnly,
    /// Close the session with Cease / Maximum Number of Prefixes Reached.
    TearDown,
}

/// The limit of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MaxPrefixLimit {
    /// The family.
    pub family: AfiSafi,
    /// The most prefixes (paths) accepted.
    pub limit: u32,
    /// The warning threshold, in percent of the limit (75 by default; 100
    /// or more: no early warning).
    pub threshold_percent: u8,
    /// What happens when the count goes over the limit.
    pub mode: MaxPrefixMode,
    /// In tear-down mode, how long to wait before the session may start
    /// again (`None`: an operator must restart it).
    pub restart_after: Option<Duration>,
}

impl MaxPrefixLimit {
    /// A limit with a 75% warning threshold.
    pub fn new(family: AfiSafi, limit: u32, mode: MaxPrefixMode) -> Self {
        MaxPrefixLimit {
            family,
            limit,
            threshold_percent: 75,
            mode,
            restart_after: None,
        }
    }

    /// The count at which the warning is given.
    pub fn threshold(&self) -> u64 {
        u64::from(self.limit) * u64::from(self.threshold_percent) / 100
    }

    /// The NOTIFICATION of RFC 4486 4 for this limit.
    pub fn notification(&self) -> Notification {
        let mut data = BytesMut::with_capacity(7);
        data.put_u16(self.family.afi.to_u16());
        data.put_u8(self.family.safi.to_u8());
        data.put_u32(self.limit);
        Notification::new(
            ErrorCode::Cease(CeaseSubcode::MaximumNumberOfPrefixesReached),
            data.freeze(),
        )
    }
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaxPrefixEvent {
    /// The count reached the warning threshold.
    Threshold {
        /// The family.
        family: AfiSafi,
        /// The count.
        count: usize,
        /// The limit.
        limit: u32,
    },
    /// The count went over the limit (warning-only mode).
    Exceeded {
        /// The family.
        family: AfiSafi,
        /// The count.
        count: usize,
        /// The limit.
        limit: u32,
    },
    /// The count went over the limit: close the session with this
    /// NOTIFICATION.
    TearDown {
        /// The family.
        family: AfiSafi,
        /// The count.
        count: usize,
        /// The NOTIFICATION to send.
        notification: Notification,
        /// When the session may start again.
        restart_after: Option<Duration>,
    },
}

#[derive(Debug, Clone, Copy, Default)]
struct State {
    warned: bool,
    exceeded: bool,
}

/// The limits of one peer and what was reported.
#[derive(Debug, Clone, Default)]
pub struct MaxPrefix {
    limits: Vec<(MaxPrefixLimit, State)>,
}

impl MaxPrefix {
    /// No limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the limit of a family (replacing any other).
    pub fn set(&mut self, limit: MaxPrefixLimit) {
        self.limits.retain(|(l, _)| l.family != limit.family);
        self.limits.push((limit, State::default()));
    }

    /// The limit of a family.
    pub fn limit(&self, family: AfiSafi) -> Option<&MaxPrefixLimit> {
        self.limits
            .iter()
            .find(|(l, _)| l.family == family)
            .map(|(l, _)| l)
    }

    /// Forgets what was reported (the session restarted).
    pub fn reset(&mut self) {
        for (_, s) in &mut self.limits {
            *s = State::default();
        }
    }

    /// Checks a family's count; at most one event (the most severe).
    pub fn check(&mut self, family: AfiSafi, count: usize) -> Option<MaxPrefixEvent> {
        let (l, s) = self.limits.iter_mut().find(|(l, _)| l.family == family)?;
        let count64 = count as u64;
        let over = count64 > u64::from(l.limit);
        let at_threshold = l.threshold_percent < 100 && count64 >= l.threshold();
        if !at_threshold {
            s.warned = false;
        }
        if !over {
            s.exceeded = false;
        }
        if over {
            if l.mode == MaxPrefixMode::TearDown {
                s.exceeded = true;
                s.warned = true;
                return Some(MaxPrefixEvent::TearDown {
                    family,
                    count,
                    notification: l.notification(),
                    restart_after: l.restart_after,
                });
            }
            if !s.exceeded {
                s.exceeded = true;
                s.warned = true;
                return Some(MaxPrefixEvent::Exceeded {
                    family,
                    count,
                    limit: l.limit,
                });
            }
            return None;
        }
        if at_threshold && !s.warned {
            s.warned = true;
            return Some(MaxPrefixEvent::Threshold {
                family,
                count,
                limit: l.limit,
            });
        }
        None
    }

    /// Checks every limited family of `peer` with the RIB's counts; the
    /// events found, tear-downs first.
    pub fn check_rib(&mut self, rib: &Rib, peer: PeerId) -> Vec<MaxPrefixEvent> {
        let families: Vec<AfiSafi> = self.limits.iter().map(|(l, _)| l.family).collect();
        let mut out: Vec<MaxPrefixEvent> = families
            .into_iter()
            .filter_map(|f| self.check(f, rib.peer_family_path_count(peer, f.afi)))
            .collect();
        out.sort_by_key(|e| !matches!(e, MaxPrefixEvent::TearDown { .. }));
        out
    }
}
