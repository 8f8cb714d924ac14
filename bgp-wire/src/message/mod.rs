//! BGP messages (RFC 4271 section 4 and extensions).

pub mod header;
pub mod keepalive;
pub mod notification;
pub mod open;
pub mod route_refresh;
