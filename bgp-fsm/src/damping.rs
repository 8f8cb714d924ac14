//! Damping of peer oscillations (RFC 4271 8.1.1, optional attributes
//! DampPeerOscillations, IdleHoldTime and IdleHoldTimer).
//!
//! The RFC leaves the method to the implementation. This one:
//!
//! - applies when the session was started with event 6 or 7
//!   (AutomaticStart_with_DampPeerOscillations, with or without
//!   PassiveTcpEstablishment), which sets DampPeerOscillations;
//! - each time the session falls back to Idle (other than by a stop event),
//!   holds it in Idle for the current IdleHoldTime with the IdleHoldTimer,
//!   then restarts it automatically (event 13, IdleHoldTimer_Expires);
//! - on the transitions where RFC 4271 8.2.2 says "performs peer
//!   oscillation damping", uses the current IdleHoldTime and then doubles it
//!   for the next time, up to a maximum: with the defaults 5 s, 10 s, 20 s,
//!   40 s, 80 s, 120 s, 120 s...; the other transitions to Idle use the
//!   current value without doubling it;
//! - resets the IdleHoldTime to its initial value once a session has stayed
//!   Established for the configured stable time (checked when it goes down,
//!   so that a session that was up long enough starts over).
//!
//! A ManualStop cancels the pending restart and resets the back-off; a
//! ManualStart starts at once whatever the IdleHoldTimer.

use std::time::Duration;

use crate::config::SessionConfig;
use crate::timers::Instant;

/// The back-off state of one peer.
///
/// ```
/// use std::time::Duration;
/// use bgp_fsm::damping::PeerOscillationDamping;
/// use bgp_fsm::Instant;
///
/// let s = Duration::from_secs;
/// let mut d = PeerOscillationDamping::new(s(5), s(30), s(300));
/// assert_eq!([d.penalize(), d.penalize(), d.penalize(), d.penalize()],
///            [s(5), s(10), s(20), s(30)]);
/// d.session_established(Instant::from_secs(0));
/// d.session_ended(Instant::from_secs(600)); // stable for 10 minutes
/// assert_eq!(d.idle_hold_time(), s(5));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerOscillationDamping {
    initial: Duration,
    max: Duration,
    reset_after: Duration,
    next: Duration,
    oscillations: u32,
    established_since: Option<Instant>,
}

impl PeerOscillationDamping {
    /// Back-off from `initial` doubling up to `max`, reset after
    /// `reset_after` of stable Established time.
    pub fn new(initial: Duration, max: Duration, reset_after: Duration) -> Self {
        PeerOscillationDamping {
            initial,
            max: max.max(initial),
            reset_after,
            next: initial,
            oscillations: 0,
            established_since: None,
        }
    }

    /// The damping of a session configuration.
    pub fn from_config(config: &SessionConfig) -> Self {
        Self::new(
            config.idle_hold_time,
            config.max_idle_hold_time,
            config.idle_hold_reset_time,
        )
    }

    /// The IdleHoldTime the next transition to Idle will use.
    pub fn idle_hold_time(&self) -> Duration {
        self.next
    }

    /// The initial IdleHoldTime.
    pub fn initial_idle_hold_time(&self) -> Duration {
        self.initial
    }

    /// How many damped oscillations since the last reset.
    pub fn oscillations(&self) -> u32 {
        self.oscillations
    }

    /// Records a damped oscillation: returns the IdleHoldTime to hold the
    /// peer for now, and doubles it (up to the maximum) for the next time.
    pub fn penalize(&mut self) -> Duration {
        let hold = self.next;
        self.next = self.next.saturating_mul(2).min(self.max).max(self.initial);
        self.oscillations = self.oscillations.saturating_add(1);
        hold
    }

    /// Goes back to the initial IdleHoldTime.
    pub fn reset(&mut self) {
        self.next = self.initial;
        self.oscillations = 0;
    }

    /// The session reached Established at `now`.
    pub fn session_established(&mut self, now: Instant) {
        self.established_since = Some(now);
    }

    /// The session left Established at `now`: if it had been up for the
    /// stable time, the back-off starts over.
    pub fn session_ended(&mut self, now: Instant) {
        if let Some(since) = self.established_since.take() {
            if now - since >= self.reset_after {
                self.reset();
            }
        }
    }
}
