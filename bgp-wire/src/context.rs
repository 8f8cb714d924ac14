//! The negotiated session context that decoding and encoding depend on.
//!
//! The same bytes mean different things on different sessions: an AS number
//! is two or four octets, an NLRI may or may not start with a path
//! identifier, a message may be up to 4,096 or 65,535 octets. The session
//! layer negotiates these in the OPEN exchange and hands the result to every
//! decode and encode call as a [`SessionContext`].

use crate::afi::{Afi, AfiSafi};

/// Maximum BGP message length without the extended message capability.
pub const MAX_MESSAGE_LEN: usize = 4096;
/// Maximum BGP message length with the extended message capability (RFC 8654).
pub const MAX_EXTENDED_MESSAGE_LEN: usize = 65535;

/// Which way ADD-PATH (RFC 7911) path identifiers flow for one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Messages we receive carry path identifiers.
    Receive,
    /// Messages we send carry path identifiers.
    Send,
}

/// What the two speakers of one session agreed on, as far as the encoding of
/// messages is concerned.
///
/// `SessionContext::default()` is the context of a plain RFC 4271 session:
/// 2-octet AS numbers, no ADD-PATH, 4,096-octet messages. MRT files and
/// tests build the context they need with the `with_*` methods.
///
/// ```
/// use bgp_wire::{AfiSafi, Direction, SessionContext};
///
/// let ctx = SessionContext::default()
///     .with_four_octet_as(true)
///     .with_add_path(AfiSafi::IPV4_UNICAST, Direction::Receive);
/// assert!(ctx.add_path_receive(AfiSafi::IPV4_UNICAST));
/// assert!(!ctx.add_path_send(AfiSafi::IPV4_UNICAST));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionContext {
    /// Both sides announced the 4-octet AS capability (RFC 6793): AS_PATH
    /// and AGGREGATOR carry 4-octet AS numbers.
    pub four_octet_as: bool,
    /// Both sides announced the extended message capability (RFC 8654).
    pub extended_message: bool,
    add_path: Vec<(AfiSafi, Direction)>,
    extended_next_hop: Vec<(AfiSafi, Afi)>,
}

impl SessionContext {
    /// Sets whether AS numbers are four octets wide.
    pub fn with_four_octet_as(mut self, on: bool) -> Self {
        self.four_octet_as = on;
        self
    }

    /// Sets whether messages may be up to 65,535 octets.
    pub fn with_extended_message(mut self, on: bool) -> Self {
        self.extended_message = on;
        self
    }

    /// Adds a family whose NLRI carry path identifiers in one direction.
    pub fn with_add_path(mut self, family: AfiSafi, direction: Direction) -> Self {
        self.set_add_path(family, direction, true);
        self
    }

    /// Adds a family whose NLRI may have a next hop of another address family
    /// (RFC 8950), for example IPv4 unicast with an IPv6 next hop.
    pub fn with_extended_next_hop(mut self, family: AfiSafi, next_hop_afi: Afi) -> Self {
        if !self.extended_next_hop.contains(&(family, next_hop_afi)) {
            self.extended_next_hop.push((family, next_hop_afi));
        }
        self
    }

    /// Turns ADD-PATH for a family and direction on or off.
    pub fn set_add_path(&mut self, family: AfiSafi, direction: Direction, on: bool) {
        let entry = (family, direction);
        let present = self.add_path.contains(&entry);
        if on && !present {
            self.add_path.push(entry);
        } else if !on && present {
            self.add_path.retain(|e| *e != entry);
        }
    }

    /// Whether NLRI of `family` in received messages start with a path identifier.
    pub fn add_path_receive(&self, family: AfiSafi) -> bool {
        self.add_path.contains(&(family, Direction::Receive))
    }

    /// Whether NLRI of `family` in sent messages start with a path identifier.
    pub fn add_path_send(&self, family: AfiSafi) -> bool {
        self.add_path.contains(&(family, Direction::Send))
    }

    /// Whether NLRI of `family` carry a path identifier in the given direction.
    pub fn add_path(&self, family: AfiSafi, direction: Direction) -> bool {
        self.add_path.contains(&(family, direction))
    }

    /// Whether `family` may use a next hop of address family `next_hop_afi`
    /// (RFC 8950 extended next hop).
    pub fn extended_next_hop(&self, family: AfiSafi, next_hop_afi: Afi) -> bool {
        self.extended_next_hop.contains(&(family, next_hop_afi))
    }

    /// The context seen from the other end of the session: what we receive,
    /// the peer sends, and the other way round. Useful to encode test
    /// messages as the peer would.
    pub fn reversed(&self) -> Self {
        let mut r = self.clone();
        for (_, d) in &mut r.add_path {
            *d = match d {
                Direction::Receive => Direction::Send,
                Direction::Send => Direction::Receive,
            };
        }
        r
    }

    /// Largest message this session may carry.
    pub fn max_message_len(&self) -> usize {
        if self.extended_message {
            MAX_EXTENDED_MESSAGE_LEN
        } else {
            MAX_MESSAGE_LEN
        }
    }
}
