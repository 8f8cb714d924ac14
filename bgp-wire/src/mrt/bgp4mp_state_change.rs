//! BGP4MP_STATE_CHANGE (subtype 0) and BGP4MP_STATE_CHANGE_AS4 (subtype 5)
//! records (RFC 6396 sections 4.4.1 and 4.4.4): a transition of the BGP
//! finite state machine of one session.
//!
//! ```text
//! Bgp4mpPeering fields | Old State (2) | New State (2)
//! ```
//!
//! States: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm,
//! 6 Established ([`state_name`]).

use bytes::{BufMut, Bytes, BytesMut};

use super::Cursor;
use super::bgp4mp::{Bgp4mpPeering, subtypes};
use crate::error::{DecodeError, EncodeError};

/// FSM state Idle.
pub const IDLE: u16 = 1;
/// FSM state Connect.
pub const CONNECT: u16 = 2;
/// FSM state Active.
pub const ACTIVE: u16 = 3;
/// FSM state OpenSent.
pub const OPEN_SENT: u16 = 4;
/// FSM state OpenConfirm.
pub const OPEN_CONFIRM: u16 = 5;
/// FSM state Established.
pub const ESTABLISHED: u16 = 6;

/// The RFC 4271 name of an FSM state number, if it is one.
pub const fn state_name(state: u16) -> Option<&'static str> {
    Some(match state {
        IDLE => "Idle",
        CONNECT => "Connect",
        ACTIVE => "Active",
        OPEN_SENT => "OpenSent",
        OPEN_CONFIRM => "OpenConfirm",
        ESTABLISHED => "Established",
        _ => return None,
    })
}

/// Whether the subtype is STATE_CHANGE or STATE_CHANGE_AS4.
pub const fn is_subtype(subtype: u16) -> bool {
    matches!(subtype, subtypes::STATE_CHANGE | subtypes::STATE_CHANGE_AS4)
}

/// A state change of one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bgp4mpStateChange {
    /// The session.
    pub peering: Bgp4mpPeering,
    /// 4-octet AS numbers (subtype STATE_CHANGE_AS4).
    pub as4: bool,
    /// The state left.
    pub old_state: u16,
    /// The state entered.
    pub new_state: u16,
}

impl Bgp4mpStateChange {
    /// Decodes the body of subtype 0 or 5 (microseconds already removed).
    pub fn decode(subtype: u16, body: Bytes) -> Result<Self, DecodeError> {
        let as4 = match subtype {
            subtypes::STATE_CHANGE => false,
            subtypes::STATE_CHANGE_AS4 => true,
            _ => {
                return Err(DecodeError::Invalid {
                    what: "BGP4MP state change subtype",
                });
            }
        };
        let mut c = Cursor::new(body, "BGP4MP state change");
        let peering = Bgp4mpPeering::decode(&mut c, as4)?;
        let old_state = c.u16()?;
        let new_state = c.u16()?;
        Ok(Bgp4mpStateChange {
            peering,
            as4,
            old_state,
            new_state,
        })
    }

    /// The subtype: STATE_CHANGE or STATE_CHANGE_AS4.
    pub fn subtype(&self) -> u16 {
        if self.as4 {
            subtypes::STATE_CHANGE_AS4
        } else {
            subtypes::STATE_CHANGE
        }
    }

    /// Appends the body (without common header and microseconds).
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.peering.encode(self.as4, buf)?;
        buf.put_u16(self.old_state);
        buf.put_u16(self.new_state);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mrt::strategies;
    use proptest::prelude::*;

    fn arb() -> impl Strategy<Value = Bgp4mpStateChange> {
        any::<bool>().prop_flat_map(|as4| {
            (
                crate::mrt::bgp4mp::strategies::peering(as4),
                any::<u16>(),
                any::<u16>(),
            )
                .prop_map(move |(peering, old_state, new_state)| Bgp4mpStateChange {
                    peering,
                    as4,
                    old_state,
                    new_state,
                })
        })
    }

    proptest! {
        #[test]
        fn round_trip(r in arb()) {
            let mut buf = BytesMut::new();
            r.encode(&mut buf).unwrap();
            prop_assert_eq!(Bgp4mpStateChange::decode(r.subtype(), buf.freeze()).unwrap(), r);
        }

        #[test]
        fn never_panics(sub in 0u16..6, body in strategies::bytes(60)) {
            let _ = Bgp4mpStateChange::decode(sub, body);
        }
    }

    #[test]
    fn decodes_bird_state_change() {
        // From mrtparse-samples/bird_bgp.mrt: AS 65000 both ends, 192.168.0.10
        // to 192.168.0.16, Connect -> OpenSent.
        let body = Bytes::from_static(&[
            0, 0, 0xfd, 0xe8, 0, 0, 0xfd, 0xe8, 0, 0, 0, 1, 192, 168, 0, 10, 192, 168, 0, 16, 0, 2,
            0, 4,
        ]);
        let r = Bgp4mpStateChange::decode(subtypes::STATE_CHANGE_AS4, body).unwrap();
        assert_eq!(r.peering.peer_as, 65000);
        assert_eq!(r.peering.peer_ip.to_string(), "192.168.0.10");
        assert_eq!(r.peering.local_ip.to_string(), "192.168.0.16");
        assert_eq!(state_name(r.old_state), Some("Connect"));
        assert_eq!(state_name(r.new_state), Some("OpenSent"));
    }
}
