//! BGP messages (RFC 4271 section 4 and extensions).

pub mod header;
pub mod update;
