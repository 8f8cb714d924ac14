//! Per-session state implied by an MRT file of BGP4MP records.
//!
//! A BGP message cannot be decoded without the capabilities its session
//! negotiated (4-octet AS, ADD-PATH per family and direction). RFC 6396 and
//! RFC 8050 encode some of them in the subtype (`_AS4`, `_ADDPATH`), but
//! not all writers use the subtypes: BIRD writes ADD-PATH NLRI in plain
//! BGP4MP_MESSAGE_AS4 records (corpus file `mrtparse-samples/bird_bgp.mrt`),
//! so the only way to read them is to remember what the session's OPEN
//! messages, recorded earlier in the same file, negotiated.
//!
//! [`MrtSessions`] keeps that memory, one [`MrtSession`] per
//! [`SessionKey`] (peer address, peer AS, local address, local AS; the AS
//! numbers compare as numbers, so a 2-octet OPEN record and the 4-octet
//! UPDATE records that follow share a key). [`MrtSessions::observe`] files
//! every OPEN and forgets a session that falls back to Idle, Connect or
//! Active.
//!
//! # For the step that ties the OPEN decoder in
//!
//! This module does not decode OPENs (the OPEN/capability decoder is
//! written elsewhere). The decision to make, once per session after each
//! new OPEN (when [`MrtSession::context`] is `None` and an OPEN is known):
//!
//! 1. Decode [`MrtSession::received_open`] (the peer's OPEN) and, if the
//!    file has it, [`MrtSession::sent_open`] (ours, from a `_LOCAL`
//!    record).
//! 2. Received messages (non-`_LOCAL` records) carry path identifiers for a
//!    family when the peer's ADD-PATH capability (code 69, RFC 7911 4)
//!    lists the family with Send (2) or Send/Receive (3) and our OPEN
//!    lists it with Receive (1) or Send/Receive. Sent messages, the other
//!    way round. 4-octet AS: both OPENs carry capability 65.
//! 3. When only one OPEN is in the file, the other side's answer is
//!    unknown, and collectors differ: BIRD records only the OPEN it
//!    receives and accepts the peer's ADD-PATH offer (`bird_bgp.mrt`: 14
//!    prefixes, each with a path identifier), Quagga records only the OPEN
//!    it receives and never accepts (`quagga_bgp.mrt`: the peer offers
//!    ADD-PATH for IPv4 and IPv6 unicast, the UPDATEs have no path
//!    identifiers). Assuming the offer was taken misreads the Quagga file.
//!    What works on both: take the offer as a possibility only, and settle
//!    it with the first UPDATE of the session whose prefix fields are
//!    well-formed one way only (the `mrtdump` example does this).
//! 4. Store the result with [`MrtSessions::set_context`]; then
//!    [`MrtSessions::context_for`] hands it to every message of the session.
//!    The `_AS4` and `_ADDPATH` subtypes, when present, are authoritative
//!    for their records ([`super::Bgp4mpMessage::subtype_context`]): merge
//!    rather than override.

use bytes::Bytes;
use std::collections::HashMap;
use std::net::IpAddr;

use super::bgp4mp_state_change::{ACTIVE, CONNECT, IDLE};
use super::{Bgp4mpMessage, MrtBody, MrtRecord};
use crate::context::SessionContext;

/// Identifies one BGP session in BGP4MP records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionKey {
    /// The peer's address.
    pub peer_ip: IpAddr,
    /// The peer's AS number.
    pub peer_as: u32,
    /// The local (collector's) address.
    pub local_ip: IpAddr,
    /// The local AS number.
    pub local_as: u32,
}

/// What a file told about one session so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MrtSession {
    /// The last OPEN received from the peer (whole message, header
    /// included).
    pub received_open: Option<Bytes>,
    /// The last OPEN the local end sent, when the file records it.
    pub sent_open: Option<Bytes>,
    /// The context negotiated by these OPENs, once computed (`None` after
    /// each new OPEN).
    pub context: Option<SessionContext>,
}

/// The sessions of one MRT file, by key.
#[derive(Debug, Clone, Default)]
pub struct MrtSessions {
    sessions: HashMap<SessionKey, MrtSession>,
}

impl MrtSessions {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Updates the table with one record: an OPEN in a BGP4MP message is
    /// filed under its session and direction (clearing the computed
    /// context), a state change to Idle, Connect or Active forgets the
    /// session. Other records are ignored.
    pub fn observe(&mut self, record: &MrtRecord) {
        match &record.body {
            MrtBody::Bgp4mpMessage(m) if m.message_type() == Some(1) => {
                let s = self.sessions.entry(m.session_key()).or_default();
                if m.local {
                    s.sent_open = Some(m.message.clone());
                } else {
                    s.received_open = Some(m.message.clone());
                }
                s.context = None;
            }
            MrtBody::Bgp4mpStateChange(c) if matches!(c.new_state, IDLE | CONNECT | ACTIVE) => {
                self.sessions.remove(&c.peering.session_key());
            }
            _ => {}
        }
    }

    /// The session's state, if the file mentioned it.
    pub fn get(&self, key: &SessionKey) -> Option<&MrtSession> {
        self.sessions.get(key)
    }

    /// The session's state, mutable.
    pub fn get_mut(&mut self, key: &SessionKey) -> Option<&mut MrtSession> {
        self.sessions.get_mut(key)
    }

    /// Stores the context negotiated on a session.
    pub fn set_context(&mut self, key: SessionKey, context: SessionContext) {
        self.sessions.entry(key).or_default().context = Some(context);
    }

    /// The context to decode `message` with: the session's negotiated one
    /// when known, else the one its subtype implies.
    pub fn context_for(&self, message: &Bgp4mpMessage) -> SessionContext {
        self.sessions
            .get(&message.session_key())
            .and_then(|s| s.context.clone())
            .unwrap_or_else(|| message.subtype_context())
    }

    /// Number of sessions known.
    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    /// Whether no session is known.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    /// All sessions known.
    pub fn iter(&self) -> impl Iterator<Item = (&SessionKey, &MrtSession)> {
        self.sessions.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mrt::{Bgp4mpPeering, Bgp4mpStateChange};

    #[test]
    fn opens_are_filed_and_state_changes_forget() {
        let peering = Bgp4mpPeering {
            peer_as: 65000,
            local_as: 65001,
            interface_index: 0,
            peer_ip: "192.0.2.1".parse().unwrap(),
            local_ip: "192.0.2.2".parse().unwrap(),
        };
        let mut open = vec![0xff; 16];
        open.extend_from_slice(&[0, 29, 1, 4, 0xfd, 0xe8, 0, 90, 1, 1, 1, 1, 0]);
        let msg = Bgp4mpMessage {
            peering,
            as4: false,
            local: false,
            add_path: false,
            message: Bytes::from(open),
        };
        let mut s = MrtSessions::new();
        s.observe(&MrtRecord {
            timestamp: 0,
            microseconds: None,
            body: MrtBody::Bgp4mpMessage(msg.clone()),
        });
        let key = msg.session_key();
        assert!(s.get(&key).unwrap().received_open.is_some());
        assert_eq!(s.context_for(&msg), msg.subtype_context());
        let ctx = SessionContext::default().with_four_octet_as(true);
        s.set_context(key, ctx.clone());
        assert_eq!(s.context_for(&msg), ctx);
        s.observe(&MrtRecord {
            timestamp: 0,
            microseconds: None,
            body: MrtBody::Bgp4mpStateChange(Bgp4mpStateChange {
                peering,
                as4: true,
                old_state: 6,
                new_state: 1,
            }),
        });
        assert!(s.is_empty());
    }
}
