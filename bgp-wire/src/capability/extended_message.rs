//! The Extended Message capability (code 6, RFC 8654 section 3).
//!
//! The capability has an empty value. When both speakers announce it, every
//! message except OPEN and KEEPALIVE may be up to 65,535 octets long
//! ([`SessionContext::extended_message`](crate::SessionContext)). A value
//! that is not empty is kept as
//! [`Capability::Unknown`](super::Capability::Unknown), so the capability is
//! then treated as not announced.

/// The capability code.
pub const CODE: u8 = 6;
