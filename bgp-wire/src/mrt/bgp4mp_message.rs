//! BGP4MP_MESSAGE records and their variants (RFC 6396 sections 4.4.2,
//! 4.4.3, 4.4.5, 4.4.6; RFC 8050 section 3): one BGP message exchanged on
//! a session, header included.
//!
//! | subtype | name | AS numbers | direction | ADD-PATH |
//! |---|---|---|---|---|
//! | 1 | MESSAGE | 2 octets | received | no |
//! | 4 | MESSAGE_AS4 | 4 octets | received | no |
//! | 6 | MESSAGE_LOCAL | 2 octets | sent | no |
//! | 7 | MESSAGE_AS4_LOCAL | 4 octets | sent | no |
//! | 8 | MESSAGE_ADDPATH | 2 octets | received | yes |
//! | 9 | MESSAGE_AS4_ADDPATH | 4 octets | received | yes |
//! | 10 | MESSAGE_LOCAL_ADDPATH | 2 octets | sent | yes |
//! | 11 | MESSAGE_AS4_LOCAL_ADDPATH | 4 octets | sent | yes |
//!
//! ```text
//! Bgp4mpPeering fields | BGP Message (variable, header included)
//! ```
//!
//! The message is kept raw; [`Bgp4mpMessage::subtype_context`] gives the
//! [`SessionContext`] the subtype implies, for the message decoders. Some
//! writers (BIRD) put ADD-PATH NLRI in plain MESSAGE_AS4 records: see
//! [`super::session`].

use bytes::{Bytes, BytesMut};

use super::Cursor;
use super::bgp4mp::{Bgp4mpPeering, subtypes};
use super::session::SessionKey;
use crate::afi::AfiSafi;
use crate::context::{Direction, SessionContext};
use crate::error::{DecodeError, EncodeError};

/// Whether the subtype is one of the eight message subtypes.
pub const fn is_subtype(subtype: u16) -> bool {
    matches!(subtype, 1 | 4 | 6..=11)
}

/// One BGP message of a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bgp4mpMessage {
    /// The session.
    pub peering: Bgp4mpPeering,
    /// 4-octet AS numbers in the MRT fields and (RFC 6396 4.4.3) in the
    /// message's AS_PATH.
    pub as4: bool,
    /// A `_LOCAL` subtype: the message was sent by the local end, not
    /// received from the peer.
    pub local: bool,
    /// An `_ADDPATH` subtype (RFC 8050): the message's NLRI carry path
    /// identifiers.
    pub add_path: bool,
    /// The whole BGP message, 19-octet header included.
    pub message: Bytes,
}

impl Bgp4mpMessage {
    /// Decodes the body of subtype 1, 4 or 6 to 11 (microseconds already
    /// removed). The BGP message itself is not checked.
    pub fn decode(subtype: u16, body: Bytes) -> Result<Self, DecodeError> {
        let (as4, local, add_path) = match subtype {
            subtypes::MESSAGE => (false, false, false),
            subtypes::MESSAGE_AS4 => (true, false, false),
            subtypes::MESSAGE_LOCAL => (false, true, false),
            subtypes::MESSAGE_AS4_LOCAL => (true, true, false),
            subtypes::MESSAGE_ADDPATH => (false, false, true),
            subtypes::MESSAGE_AS4_ADDPATH => (true, false, true),
            subtypes::MESSAGE_LOCAL_ADDPATH => (false, true, true),
            subtypes::MESSAGE_AS4_LOCAL_ADDPATH => (true, true, true),
            _ => {
                return Err(DecodeError::Invalid {
                    what: "BGP4MP message subtype",
                });
            }
        };
        let mut c = Cursor::new(body, "BGP4MP message");
        let peering = Bgp4mpPeering::decode(&mut c, as4)?;
        Ok(Bgp4mpMessage {
            peering,
            as4,
            local,
            add_path,
            message: c.rest(),
        })
    }

    /// The subtype after `as4`, `local` and `add_path`.
    pub fn subtype(&self) -> u16 {
        match (self.as4, self.local, self.add_path) {
            (false, false, false) => subtypes::MESSAGE,
            (true, false, false) => subtypes::MESSAGE_AS4,
            (false, true, false) => subtypes::MESSAGE_LOCAL,
            (true, true, false) => subtypes::MESSAGE_AS4_LOCAL,
            (false, false, true) => subtypes::MESSAGE_ADDPATH,
            (true, false, true) => subtypes::MESSAGE_AS4_ADDPATH,
            (false, true, true) => subtypes::MESSAGE_LOCAL_ADDPATH,
            (true, true, true) => subtypes::MESSAGE_AS4_LOCAL_ADDPATH,
        }
    }

    /// The BGP message type (octet 18 of the message: 1 OPEN, 2 UPDATE,
    /// 3 NOTIFICATION, 4 KEEPALIVE, 5 ROUTE-REFRESH), if the message is
    /// long enough to have one.
    pub fn message_type(&self) -> Option<u8> {
        self.message.get(18).copied()
    }

    /// Which way the message went, seen from the local end: `Send` for the
    /// `_LOCAL` subtypes, `Receive` otherwise.
    pub fn direction(&self) -> Direction {
        if self.local {
            Direction::Send
        } else {
            Direction::Receive
        }
    }

    /// The key of the session, for [`super::MrtSessions`].
    pub fn session_key(&self) -> SessionKey {
        self.peering.session_key()
    }

    /// The session context the subtype alone implies, to decode
    /// [`Bgp4mpMessage::message`] with: 4-octet AS when `as4`, extended
    /// messages allowed (a collector records what it got), and for the
    /// ADD-PATH subtypes path identifiers on the IPv4/IPv6 unicast and
    /// multicast families in [`Bgp4mpMessage::direction`].
    ///
    /// Files that carry ADD-PATH NLRI in plain subtypes need the context
    /// negotiated by the session's OPENs instead ([`super::MrtSessions`]).
    pub fn subtype_context(&self) -> SessionContext {
        let mut ctx = SessionContext::default()
            .with_four_octet_as(self.as4)
            .with_extended_message(true);
        if self.add_path {
            for family in [
                AfiSafi::IPV4_UNICAST,
                AfiSafi::IPV6_UNICAST,
                AfiSafi::IPV4_MULTICAST,
                AfiSafi::IPV6_MULTICAST,
            ] {
                ctx.set_add_path(family, self.direction(), true);
            }
        }
        ctx
    }

    /// Appends the body (without common header and microseconds).
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.peering.encode(self.as4, buf)?;
        buf.extend_from_slice(&self.message);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mrt::strategies;
    use proptest::prelude::*;

    fn arb() -> impl Strategy<Value = Bgp4mpMessage> {
        (any::<bool>(), any::<bool>(), any::<bool>()).prop_flat_map(|(as4, local, add_path)| {
            (
                crate::mrt::bgp4mp::strategies::peering(as4),
                strategies::bytes(100),
            )
                .prop_map(move |(peering, message)| Bgp4mpMessage {
                    peering,
                    as4,
                    local,
                    add_path,
                    message,
                })
        })
    }

    proptest! {
        #[test]
        fn round_trip(r in arb()) {
            let mut buf = BytesMut::new();
            r.encode(&mut buf).unwrap();
            prop_assert_eq!(Bgp4mpMessage::decode(r.subtype(), buf.freeze()).unwrap(), r);
        }

        #[test]
        fn never_panics(sub in 0u16..13, body in strategies::bytes(60)) {
            let _ = Bgp4mpMessage::decode(sub, body);
        }
    }

    #[test]
    fn decodes_keepalive_record() {
        // From mrtparse-samples/bird_bgp.mrt, subtype MESSAGE_AS4.
        let mut body = vec![
            0, 0, 0xfd, 0xe8, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 192, 168, 0, 10, 192, 168, 0, 16,
        ];
        body.extend_from_slice(&[0xff; 16]);
        body.extend_from_slice(&[0, 19, 4]);
        let r = Bgp4mpMessage::decode(subtypes::MESSAGE_AS4, Bytes::from(body)).unwrap();
        assert_eq!(r.message_type(), Some(4));
        assert_eq!(r.message.len(), 19);
        assert_eq!(r.direction(), Direction::Receive);
        assert!(r.subtype_context().four_octet_as);
        let key = r.session_key();
        assert_eq!((key.peer_as, key.local_as), (65000, 65000));
        assert_eq!(
            Bgp4mpMessage::decode(subtypes::MESSAGE_AS4, Bytes::from_static(&[0, 0, 0xfd])),
            Err(DecodeError::Truncated {
                what: "BGP4MP message"
            })
        );
    }

    #[test]
    fn add_path_subtype_context() {
        let r = Bgp4mpMessage::decode(
            subtypes::MESSAGE_AS4_LOCAL_ADDPATH,
            Bytes::from_static(&[0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 1, 10, 0, 0, 1, 10, 0, 0, 2]),
        )
        .unwrap();
        assert!(r.local && r.add_path && r.as4);
        assert!(r.subtype_context().add_path_send(AfiSafi::IPV4_UNICAST));
        assert!(!r.subtype_context().add_path_receive(AfiSafi::IPV4_UNICAST));
    }
}
