//! Bounded waiting: every wait of the interop harness goes through
//! [`wait_until`], which gives up after a fixed time *and* a fixed number of
//! polls, and reports what it saw last.
//!
//! ```
//! use std::time::Duration;
//! use testkit::wait::wait_until;
//!
//! let mut n = 0;
//! let got = wait_until(Duration::from_secs(1), Duration::from_millis(1), || {
//!     n += 1;
//!     if n == 3 { Ok(n) } else { Err(format!("n = {n}")) }
//! });
//! assert_eq!(got.ok(), Some(3));
//!
//! let err = wait_until(Duration::from_millis(20), Duration::from_millis(5), || {
//!     Err::<(), _>("still idle")
//! })
//! .unwrap_err();
//! assert_eq!(err.last, Some("still idle"));
//! ```

use std::fmt;
use std::time::{Duration, Instant};

/// The shortest poll interval [`wait_until`] uses; shorter ones are raised
/// to it so that a zero interval cannot spin.
pub const MIN_POLL: Duration = Duration::from_millis(1);

/// A wait that ran out of time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitTimeout<S> {
    /// How long the wait lasted.
    pub waited: Duration,
    /// How many times the condition was checked.
    pub polls: u64,
    /// What the last check observed (`None` only if it was never checked,
    /// which [`wait_until`] does not do).
    pub last: Option<S>,
}

impl<S> WaitTimeout<S> {
    /// The same timeout with the observed state mapped, e.g. to a string.
    pub fn map<T>(self, f: impl FnOnce(S) -> T) -> WaitTimeout<T> {
        WaitTimeout {
            waited: self.waited,
            polls: self.polls,
            last: self.last.map(f),
        }
    }
}

impl<S: fmt::Debug> fmt::Display for WaitTimeout<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "timed out after {:.1?} ({} checks)",
            self.waited, self.polls
        )?;
        match &self.last {
            Some(s) => write!(f, "; last observed: {s:?}"),
            None => write!(f, "; nothing observed"),
        }
    }
}

impl<S: fmt::Debug> std::error::Error for WaitTimeout<S> {}

/// Calls `check` until it returns `Ok`, sleeping `poll_interval` between
/// calls, for at most `timeout` and at most `timeout / poll_interval + 2`
/// calls. `check` returns `Err(state)` to say "not yet, this is what I see";
/// the last such state is in the [`WaitTimeout`].
///
/// `check` is always called at least once, even with a zero timeout.
pub fn wait_until<T, S>(
    timeout: Duration,
    poll_interval: Duration,
    mut check: impl FnMut() -> Result<T, S>,
) -> Result<T, WaitTimeout<S>> {
    let poll = poll_interval.max(MIN_POLL);
    let max_polls = u64::try_from(timeout.as_nanos() / poll.as_nanos())
        .unwrap_or(u64::MAX)
        .saturating_add(2);
    let start = Instant::now();
    let mut polls = 0u64;
    let mut last = None;
    while polls < max_polls {
        polls += 1;
        match check() {
            Ok(v) => return Ok(v),
            Err(s) => last = Some(s),
        }
        let elapsed = start.elapsed();
        if elapsed >= timeout {
            break;
        }
        std::thread::sleep(poll.min(timeout - elapsed));
    }
    Err(WaitTimeout {
        waited: start.elapsed(),
        polls,
        last,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_timeout_checks_once() {
        let mut calls = 0;
        let r = wait_until(Duration::ZERO, Duration::ZERO, || {
            calls += 1;
            Err::<(), _>(calls)
        });
        assert_eq!(calls, 1);
        let e = r.unwrap_err();
        assert_eq!(e.polls, 1);
        assert_eq!(e.last, Some(1));
    }

    #[test]
    fn bounded_in_count_even_if_time_stands_still() {
        // 10 ms at 1 ms a poll: at most 12 checks, however fast they are.
        let mut calls = 0u64;
        let r = wait_until(Duration::from_millis(10), Duration::from_millis(1), || {
            calls += 1;
            Err::<(), _>(())
        });
        assert!(r.is_err());
        assert!(calls <= 12, "{calls} checks");
    }

    #[test]
    fn timeout_message_names_last_state() {
        let e = wait_until(Duration::from_millis(5), Duration::from_millis(1), || {
            Err::<(), _>("Active")
        })
        .unwrap_err();
        let s = e.to_string();
        assert!(s.contains("last observed: \"Active\""), "{s}");
    }
}
