//! Per-route errors and the retry policy.
//!
//! A failed write is reported for its prefix ([`RouteError`]) and never
//! stops the other routes of the batch: the kernel handles each request of
//! a datagram on its own. What happens next depends on the error:
//!
//! | class | errors | retried |
//! |---|---|---|
//! | [`ErrorClass::Transient`] | `ENETUNREACH`, `EHOSTUNREACH`, `ENETDOWN`, `ENODEV`, `ENOBUFS`, `ENOMEM`, `EBUSY`, `EAGAIN`, `EINTR`, unknown errnos; a device that does not exist yet | on a timer with exponential back-off ([`RetryPolicy`]), and at once when a link comes up, appears or gets an address |
//! | [`ErrorClass::Permanent`] | `EINVAL`, `EOPNOTSUPP`, `EAFNOSUPPORT`, `ERANGE`, `EPERM`, `EACCES`; a desired route that cannot be written (no next hop, wrong family) | only when the desired route changes, or a link or address event suggests it |
//!
//! `EEXIST` on an add and `ESRCH` on a delete or replace mean the mirror
//! and the kernel disagree: the engine dumps the table again (which settles
//! whether an alien route holds the slot), and retries on the timer.

use std::fmt;
use std::time::Duration;

use super::reconcile::OpKind;
use super::route::ResolveError;

/// How failed routes are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The delay before the first retry.
    pub initial: Duration,
    /// The longest delay; each retry doubles the previous one up to this.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The delay before retry number `attempt` (1 for the first).
    pub fn delay(&self, attempt: u32) -> Duration {
        let shift = attempt.saturating_sub(1).min(20);
        self.initial
            .checked_mul(1u32 << shift)
            .unwrap_or(self.max)
            .min(self.max)
    }
}

/// Whether an error is worth retrying on a timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Likely to go away (a next hop not reachable yet, a device missing,
    /// memory pressure): retried with back-off.
    Transient,
    /// Will not go away by itself: retried only on a change.
    Permanent,
}

/// Why a route is not in the kernel as wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteError {
    /// The kernel refused a write.
    Kernel {
        /// What was being done.
        op: OpKind,
        /// The errno (positive).
        errno: i32,
        /// The kernel's explanation (extended acknowledgement), if any.
        message: Option<String>,
    },
    /// The desired route cannot be written as given.
    Resolve(ResolveError),
}

impl RouteError {
    /// The error's class.
    pub fn class(&self) -> ErrorClass {
        match self {
            RouteError::Kernel { errno, .. } => classify_errno(*errno),
            RouteError::Resolve(ResolveError::NoDevice(_)) => ErrorClass::Transient,
            RouteError::Resolve(_) => ErrorClass::Permanent,
        }
    }

    /// The errno, for kernel errors.
    pub fn errno(&self) -> Option<i32> {
        match self {
            RouteError::Kernel { errno, .. } => Some(*errno),
            RouteError::Resolve(_) => None,
        }
    }
}

impl fmt::Display for RouteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteError::Kernel { op, errno, message } => {
                let text = std::io::Error::from_raw_os_error(*errno).to_string();
                let text = text.split(" (os error").next().unwrap_or(&text);
                write!(f, "{op} failed: {} ({text})", errno_name(*errno))?;
                if let Some(m) = message {
                    write!(f, ": {m}")?;
                }
                Ok(())
            }
            RouteError::Resolve(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RouteError {}

/// The class of a kernel errno (see the [module documentation](self)).
pub fn classify_errno(errno: i32) -> ErrorClass {
    match errno {
        libc::EINVAL
        | libc::EOPNOTSUPP
        | libc::EAFNOSUPPORT
        | libc::ERANGE
        | libc::EPERM
        | libc::EACCES
        | libc::EPROTONOSUPPORT => ErrorClass::Permanent,
        _ => ErrorClass::Transient,
    }
}

/// The symbolic name of the errnos a route write meets, else the number.
pub fn errno_name(errno: i32) -> String {
    let name = match errno {
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::ESRCH => "ESRCH",
        libc::EINTR => "EINTR",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::ENODEV => "ENODEV",
        libc::EINVAL => "EINVAL",
        libc::ERANGE => "ERANGE",
        libc::EMSGSIZE => "EMSGSIZE",
        libc::EPROTONOSUPPORT => "EPROTONOSUPPORT",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EAFNOSUPPORT => "EAFNOSUPPORT",
        libc::ENETDOWN => "ENETDOWN",
        libc::ENETUNREACH => "ENETUNREACH",
        libc::ENOBUFS => "ENOBUFS",
        libc::EHOSTUNREACH => "EHOSTUNREACH",
        n => return format!("errno {n}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
        };
        let d: Vec<u128> = (1..=7).map(|a| p.delay(a).as_millis()).collect();
        assert_eq!(d, vec![100, 200, 400, 800, 1600, 2000, 2000]);
        assert_eq!(p.delay(0), Duration::from_millis(100));
        assert_eq!(p.delay(u32::MAX), Duration::from_secs(2));
    }

    #[test]
    fn classes_and_text() {
        assert_eq!(classify_errno(libc::ENETUNREACH), ErrorClass::Transient);
        assert_eq!(classify_errno(libc::ENODEV), ErrorClass::Transient);
        assert_eq!(classify_errno(libc::EINVAL), ErrorClass::Permanent);
        let e = RouteError::Kernel {
            op: OpKind::Add,
            errno: libc::ENETUNREACH,
            message: Some("Nexthop has invalid gateway".into()),
        };
        assert_eq!(e.class(), ErrorClass::Transient);
        let s = e.to_string();
        assert!(s.starts_with("add failed: ENETUNREACH ("), "{s}");
        assert!(!s.contains("os error"), "{s}");
        assert!(s.ends_with(": Nexthop has invalid gateway"), "{s}");
        let r = RouteError::Resolve(ResolveError::NoDevice("tunl0".into()));
        assert_eq!(r.class(), ErrorClass::Transient);
        assert_eq!(r.to_string(), "no device named tunl0");
        assert_eq!(
            RouteError::Resolve(ResolveError::NoNextHop).class(),
            ErrorClass::Permanent
        );
        assert_eq!(errno_name(4242), "errno 4242");
    }
}
