//! Time and timers (RFC 4271 sections 8 and 10).
//!
//! The state machine never reads a clock. Every call that can start or
//! expire a timer takes the current time as an [`Instant`], a point on the
//! driver's clock counted from an origin the driver picks (the start of the
//! process, of the test, or of a virtual clock). The session keeps the
//! deadline of each [`Timer`] itself; the driver asks for the earliest one
//! with [`Session::poll_timeout`](crate::Session::poll_timeout) and calls
//! [`Session::handle_timeout`](crate::Session::handle_timeout) when it has
//! passed, as quinn-proto does.
//!
//! # Jitter
//!
//! RFC 4271 section 10 asks for jitter on the ConnectRetryTimer and the
//! KeepaliveTimer: the base value multiplied by a random factor between 0.75
//! and 1.0, drawn each time the timer is set. Randomness stays outside the
//! crate: each time the session starts one of these timers it asks its
//! [`Jitter`] for the factor. The default, [`NoJitter`], always answers 1.0,
//! so that tests see the configured durations exactly; a driver plugs in a
//! source of random numbers. Factors outside 0.75 to 1.0 (and NaN) are
//! clamped into the range.

use std::fmt;
use std::ops::{Add, Sub};
use std::time::Duration;

/// A point in time on the driver's clock: the time elapsed since an origin
/// the driver chose.
///
/// ```
/// use std::time::Duration;
/// use bgp_fsm::Instant;
///
/// let t = Instant::from_secs(10) + Duration::from_millis(500);
/// assert_eq!(t - Instant::from_secs(4), Duration::from_millis(6500));
/// assert_eq!(Instant::ORIGIN - t, Duration::ZERO); // saturates
/// assert_eq!(t.to_string(), "t+10.5s");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(Duration);

impl Instant {
    /// The origin of the clock.
    pub const ORIGIN: Instant = Instant(Duration::ZERO);

    /// The instant `since_origin` after the origin.
    pub const fn from_duration(since_origin: Duration) -> Self {
        Instant(since_origin)
    }

    /// The instant `secs` seconds after the origin.
    pub const fn from_secs(secs: u64) -> Self {
        Instant(Duration::from_secs(secs))
    }

    /// The time elapsed from the origin to this instant.
    pub const fn since_origin(self) -> Duration {
        self.0
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    /// `self + d`, or `None` on overflow.
    pub fn checked_add(self, d: Duration) -> Option<Instant> {
        self.0.checked_add(d).map(Instant)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// Saturates at the largest representable instant.
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d))
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// Saturates at zero.
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t+{:?}", self.0)
    }
}

/// The timers a session keeps.
///
/// The first five are those of RFC 4271 (section 10 and the optional
/// session attributes of 8.1.1); the last three belong to graceful restart
/// and survive the session going down, since they run while it is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Timer {
    /// ConnectRetryTimer: the wait between connection attempts. Jittered.
    ConnectRetry,
    /// HoldTimer: the longest silence accepted from the peer.
    Hold,
    /// KeepaliveTimer: when to send the next KEEPALIVE. Jittered.
    Keepalive,
    /// DelayOpenTimer: how long to wait for the peer's OPEN before sending
    /// ours (optional attribute DelayOpen).
    DelayOpen,
    /// IdleHoldTimer: how long the peer is held in Idle before the next
    /// automatic start (optional attribute DampPeerOscillations).
    IdleHold,
    /// The restart timer of a graceful restart helper (RFC 4724 4.2): how
    /// long the peer's routes are kept as stale while the session is down,
    /// set from the Restart Time the peer announced.
    Restart,
    /// The stale routes timer (RFC 4724 4.2, local upper bound): how long
    /// stale routes are kept after the session came back, waiting for the
    /// peer's End-of-RIB.
    Stale,
    /// The long-lived stale timers (RFC 9494), one per family; this names
    /// the earliest.
    LongLivedStale,
}

impl Timer {
    /// Every timer.
    pub const ALL: [Timer; 8] = [
        Timer::ConnectRetry,
        Timer::Hold,
        Timer::Keepalive,
        Timer::DelayOpen,
        Timer::IdleHold,
        Timer::Restart,
        Timer::Stale,
        Timer::LongLivedStale,
    ];

    /// The name the RFCs give the timer.
    pub const fn name(self) -> &'static str {
        match self {
            Timer::ConnectRetry => "ConnectRetryTimer",
            Timer::Hold => "HoldTimer",
            Timer::Keepalive => "KeepaliveTimer",
            Timer::DelayOpen => "DelayOpenTimer",
            Timer::IdleHold => "IdleHoldTimer",
            Timer::Restart => "RestartTimer",
            Timer::Stale => "StaleTimer",
            Timer::LongLivedStale => "LongLivedStaleTimer",
        }
    }

    /// Whether RFC 4271 section 10 asks for jitter on this timer.
    pub const fn jittered(self) -> bool {
        matches!(self, Timer::ConnectRetry | Timer::Keepalive)
    }
}

impl fmt::Display for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A running timer: when it expires, and the duration it was started with
/// (after jitter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArmedTimer {
    /// When the timer expires.
    pub deadline: Instant,
    /// The duration it was started with.
    pub duration: Duration,
}

impl ArmedTimer {
    /// A timer started at `now` for `duration`.
    pub fn start(now: Instant, duration: Duration) -> Self {
        ArmedTimer {
            deadline: now + duration,
            duration,
        }
    }

    /// Whether the timer has expired at `now`.
    pub fn expired(&self, now: Instant) -> bool {
        self.deadline <= now
    }
}

/// Where the jitter factors of RFC 4271 section 10 come from.
///
/// The session calls [`Jitter::factor`] each time it starts a jittered
/// timer ([`Timer::jittered`]) and multiplies the base duration by the
/// answer, clamped to 0.75 ..= 1.0.
///
/// ```
/// use bgp_fsm::{Jitter, Timer};
///
/// /// A deterministic source for tests: cycles through its factors.
/// struct Cycle(Vec<f64>, usize);
/// impl Jitter for Cycle {
///     fn factor(&mut self, _timer: Timer) -> f64 {
///         self.1 += 1;
///         self.0.get(self.1 % self.0.len()).copied().unwrap_or(1.0)
///     }
/// }
/// ```
pub trait Jitter: Send {
    /// The factor for the timer about to be started.
    fn factor(&mut self, timer: Timer) -> f64;
}

/// No jitter: every factor is 1.0. The default.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NoJitter;

impl Jitter for NoJitter {
    fn factor(&mut self, _timer: Timer) -> f64 {
        1.0
    }
}

/// The same factor every time (clamped to 0.75 ..= 1.0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FixedJitter(pub f64);

impl Jitter for FixedJitter {
    fn factor(&mut self, _timer: Timer) -> f64 {
        self.0
    }
}

/// The smallest jitter factor of RFC 4271 section 10.
pub const MIN_JITTER: f64 = 0.75;

/// `base` scaled by `factor` clamped to [`MIN_JITTER`] ..= 1.0 (1.0 for NaN).
pub(crate) fn jittered(base: Duration, factor: f64) -> Duration {
    let f = if factor.is_nan() {
        1.0
    } else {
        factor.clamp(MIN_JITTER, 1.0)
    };
    if f >= 1.0 { base } else { base.mul_f64(f) }
}

/// The RFC 4271 timers of one connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Timers {
    pub(crate) connect_retry: Option<ArmedTimer>,
    pub(crate) hold: Option<ArmedTimer>,
    pub(crate) keepalive: Option<ArmedTimer>,
    pub(crate) delay_open: Option<ArmedTimer>,
    pub(crate) idle_hold: Option<ArmedTimer>,
}

impl Timers {
    pub(crate) fn get(&self, timer: Timer) -> Option<ArmedTimer> {
        match timer {
            Timer::ConnectRetry => self.connect_retry,
            Timer::Hold => self.hold,
            Timer::Keepalive => self.keepalive,
            Timer::DelayOpen => self.delay_open,
            Timer::IdleHold => self.idle_hold,
            Timer::Restart | Timer::Stale | Timer::LongLivedStale => None,
        }
    }

    pub(crate) fn slot(&mut self, timer: Timer) -> Option<&mut Option<ArmedTimer>> {
        match timer {
            Timer::ConnectRetry => Some(&mut self.connect_retry),
            Timer::Hold => Some(&mut self.hold),
            Timer::Keepalive => Some(&mut self.keepalive),
            Timer::DelayOpen => Some(&mut self.delay_open),
            Timer::IdleHold => Some(&mut self.idle_hold),
            Timer::Restart | Timer::Stale | Timer::LongLivedStale => None,
        }
    }

    pub(crate) fn stop(&mut self, timer: Timer) {
        if let Some(slot) = self.slot(timer) {
            *slot = None;
        }
    }

    pub(crate) fn set(&mut self, timer: Timer, armed: ArmedTimer) {
        if let Some(slot) = self.slot(timer) {
            *slot = Some(armed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_clamped() {
        let base = Duration::from_secs(120);
        assert_eq!(jittered(base, 1.0), base);
        assert_eq!(jittered(base, 2.0), base);
        assert_eq!(jittered(base, 0.75), Duration::from_secs(90));
        assert_eq!(jittered(base, 0.1), Duration::from_secs(90));
        assert_eq!(jittered(base, -3.0), Duration::from_secs(90));
        assert_eq!(jittered(base, f64::NAN), base);
        assert_eq!(jittered(base, f64::INFINITY), base);
        assert_eq!(jittered(Duration::MAX, 0.8), Duration::MAX.mul_f64(0.8));
    }

    #[test]
    fn instants_saturate() {
        let max = Instant::from_duration(Duration::MAX);
        assert_eq!(max + Duration::from_secs(1), max);
        assert_eq!(max.checked_add(Duration::from_secs(1)), None);
        assert!(ArmedTimer::start(Instant::ORIGIN, Duration::ZERO).expired(Instant::ORIGIN));
    }
}
