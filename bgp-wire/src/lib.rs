//! BGP-4 messages decoded from and encoded to bytes, and an MRT reader.
//!
//! `bgp-wire` knows nothing of sessions, sockets or routing tables. Decoding
//! takes the negotiated [`SessionContext`] (4-octet AS, ADD-PATH per family
//! and direction, extended message, extended next hop) as an explicit
//! parameter, and every error carries the NOTIFICATION it should become
//! ([`error::DecodeError`]).
//!
//! Module map, following the protocol's structure:
//! - [`afi`]: address families;
//! - [`capability`]: the capabilities of the OPEN message;
//! - [`nlri`]: prefixes with optional ADD-PATH identifiers;
//! - [`attribute`]: path attributes, the attribute set and RFC 7606 error handling;
//! - [`message`]: the header and the five message types;
//! - [`error`]: NOTIFICATION codes and decode errors;
//! - [`mrt`]: the MRT file format (RFC 6396, RFC 8050): reader, records,
//!   encoders.

pub mod afi;
pub mod attribute;
pub mod capability;
pub mod context;
pub mod error;
pub mod message;
pub mod mrt;
pub mod nlri;

pub use afi::{Afi, AfiSafi, Safi};
pub use attribute::{
    Action, AsPath, DecodedAttributes, ErrorReport, MpNextHop, MpReachNlri, MpUnreachNlri,
    PathAttributes, PeerType, RawAttribute,
};
pub use capability::Capability;
pub use context::{Direction, SessionContext};
pub use error::{DecodeError, EncodeError, ErrorCode};
pub use message::Message;
pub use message::keepalive::Keepalive;
pub use message::notification::{Notification, ShutdownCommunication};
pub use message::open::{Open, OptionalParameter, ParametersFormat};
pub use message::route_refresh::{RouteRefresh, RouteRefreshSubtype};
pub use message::update::Update;
