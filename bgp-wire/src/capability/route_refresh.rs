//! The Route Refresh capability (code 2, RFC 2918 section 2), and its
//! pre-standard code 128.
//!
//! The capability has an empty value: announcing it says that the speaker
//! accepts ROUTE-REFRESH messages (see [`crate::message::route_refresh`]).
//!
//! Before RFC 2918 was published, Cisco software announced the same
//! capability with code 128, and some still send both codes. This crate
//! decodes code 128 with an empty value as
//! [`Capability::RouteRefreshPreStandard`](super::Capability::RouteRefreshPreStandard),
//! its own variant so that it re-encodes with its own code; a session layer
//! should treat it as meaning the same as code 2.
//!
//! A Route Refresh capability (either code) whose value is not empty is kept
//! as [`Capability::Unknown`](super::Capability::Unknown): RFC 2918 defines no
//! error for it, and widely deployed speakers accept it.

/// The capability code (RFC 2918).
pub const CODE: u8 = 2;

/// The pre-standard capability code used by older Cisco software.
pub const PRE_STANDARD_CODE: u8 = 128;
