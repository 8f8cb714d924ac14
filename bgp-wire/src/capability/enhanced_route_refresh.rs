//! The Enhanced Route Refresh capability (code 70, RFC 7313 section 3).
//!
//! The capability has an empty value. When both speakers announce it, a
//! route refresh is framed by Beginning-of-RIB-Route-Refresh and
//! End-of-RIB-Route-Refresh messages
//! ([`RouteRefreshSubtype`](crate::message::route_refresh::RouteRefreshSubtype)).
//! A value that is not empty is kept as
//! [`Capability::Unknown`](super::Capability::Unknown).

/// The capability code.
pub const CODE: u8 = 70;
