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
//! # The decoding context of a message
//!
//! [`MrtSessions::decode_context`] gives the context to decode one BGP4MP
//! message with, worked out once per session and kept until the next OPEN:
//!
//! 1. The subtype rules what it says: `_AS4` fixes the AS number width,
//!    `_ADDPATH` puts path identifiers on every IP family (RFC 8050).
//! 2. Otherwise, when the file holds both OPENs of the session (the
//!    peer's, and the collector's in a `_LOCAL` record), their negotiation
//!    ([`Open::negotiate`]) says which families carry path identifiers in
//!    which direction, and whether next hops may be of the other address
//!    family (RFC 8950).
//! 3. When only one OPEN is in the file, the other side's answer is
//!    unknown, and collectors differ: BIRD records only the OPEN it
//!    receives and accepts the peer's ADD-PATH offer (`bird_bgp.mrt`: 14
//!    prefixes, each with a path identifier); Quagga records only the OPEN
//!    it receives and never accepts (`quagga_bgp.mrt`: the peer offers
//!    ADD-PATH for IPv4 and IPv6 unicast, the UPDATEs have no path
//!    identifiers). So the offer is taken as a possibility only: the first
//!    UPDATE of the session that decodes one way only (its prefix fields,
//!    MP_REACH_NLRI and MP_UNREACH_NLRI included, well-formed with path
//!    identifiers and not without, or the other way round) settles it for
//!    the rest of the session. Until then, messages decode without path
//!    identifiers.
//!
//! The context returned is seen from the receiving end of the message:
//! path identifiers are in the [`Direction::Receive`] direction for
//! messages the collector received and for those it sent (`_LOCAL`)
//! alike, so it goes straight to [`crate::Message::from_bytes`] or
//! [`crate::Update::decode`].
//!
//! ```
//! use bytes::Bytes;
//! use bgp_wire::mrt::{MrtParser, MrtSessions};
//! use bgp_wire::mrt::MrtBody;
//! use bgp_wire::Message;
//!
//! # fn count(file: Bytes) -> usize {
//! let mut sessions = MrtSessions::new();
//! let mut updates = 0;
//! for record in MrtParser::new(file).flatten() {
//!     sessions.observe(&record);
//!     if let MrtBody::Bgp4mpMessage(m) = &record.body {
//!         let ctx = sessions.decode_context(m);
//!         if let Ok(Message::Update(_)) = Message::from_bytes(m.message.clone(), &ctx) {
//!             updates += 1;
//!         }
//!     }
//! }
//! updates
//! # }
//! # assert_eq!(count(Bytes::new()), 0);
//! ```

use bytes::Bytes;
use std::collections::HashMap;
use std::net::IpAddr;

use super::bgp4mp_state_change::{ACTIVE, CONNECT, IDLE};
use super::{Bgp4mpMessage, MrtBody, MrtRecord};
use crate::afi::{Afi, AfiSafi, Safi};
use crate::attribute::{PeerType, type_code};
use crate::capability::{AddPath, AddPathFamily, Capability, SendReceive};
use crate::context::{Direction, SessionContext};
use crate::message::header::HEADER_LEN;
use crate::message::open::{Open, OptionalParameter};
use crate::message::update::Update;

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
    /// The context negotiated by these OPENs, seen from the collector
    /// (received messages in [`Direction::Receive`]), once known: `None`
    /// after each new OPEN, and while the file holds one OPEN only and no
    /// UPDATE has yet told whether its ADD-PATH offer was taken.
    pub context: Option<SessionContext>,
    /// While `context` is unknown: what the OPENs imply, and whether it is
    /// certain (see [`MrtSession::negotiated`]); worked out once per OPEN.
    offered: Option<(SessionContext, bool)>,
}

impl MrtSession {
    /// The context the session's OPENs imply (seen from the collector),
    /// and whether it is certain: with both OPENs it is their negotiation;
    /// with one, the negotiation had the other side accepted every offer
    /// (uncertain if that gives path identifiers anywhere).
    fn negotiated(&self) -> (SessionContext, bool) {
        let parse = |m: &Option<Bytes>| {
            m.as_ref()
                .filter(|b| b.len() >= HEADER_LEN)
                .and_then(|b| Open::parse(b.slice(HEADER_LEN..)).ok())
        };
        let (ctx, both) = match (parse(&self.sent_open), parse(&self.received_open)) {
            (Some(local), Some(remote)) => (Open::negotiate(&local, &remote), true),
            (None, Some(remote)) => (Open::negotiate(&accepting(&remote), &remote), false),
            (Some(local), None) => (Open::negotiate(&local, &accepting(&local)), false),
            (None, None) => (SessionContext::default(), true),
        };
        let with_ids = IP_FAMILIES
            .iter()
            .any(|&f| ctx.add_path(f, Direction::Receive) || ctx.add_path(f, Direction::Send));
        (ctx, both || !with_ids)
    }
}

/// The IP families the ADD-PATH subtypes put path identifiers on: IPv4
/// and IPv6, unicast, multicast and both (SAFI 3).
const IP_FAMILIES: [AfiSafi; 6] = [
    AfiSafi::IPV4_UNICAST,
    AfiSafi::new(Afi::Ipv4, Safi::Multicast),
    AfiSafi::new(Afi::Ipv4, Safi::Other(3)),
    AfiSafi::IPV6_UNICAST,
    AfiSafi::new(Afi::Ipv6, Safi::Multicast),
    AfiSafi::new(Afi::Ipv6, Safi::Other(3)),
];

/// The OPEN of a speaker that accepts everything `open` offers: the same
/// capabilities, with each ADD-PATH direction turned round.
fn accepting(open: &Open) -> Open {
    let turn = |f: &AddPathFamily| AddPathFamily {
        family: f.family,
        send_receive: match f.send_receive {
            SendReceive::Send => SendReceive::Receive,
            SendReceive::Receive => SendReceive::Send,
            other => other,
        },
    };
    let capabilities = open
        .capabilities()
        .map(|c| match c {
            Capability::AddPath(a) => Capability::AddPath(AddPath {
                families: a.families.iter().map(turn).collect(),
            }),
            other => other.clone(),
        })
        .collect();
    Open {
        parameters: vec![OptionalParameter::Capabilities(capabilities)],
        ..open.clone()
    }
}

/// Whether an UPDATE (whole message) decodes with `ctx`: its structure,
/// its classic prefix fields and its MP_REACH_NLRI / MP_UNREACH_NLRI.
fn decodes_with(message: &Bytes, ctx: &SessionContext) -> bool {
    if message.len() < HEADER_LEN {
        return false;
    }
    let Ok(update) = Update::decode(message.slice(HEADER_LEN..), ctx) else {
        return false;
    };
    match update.attributes(ctx, PeerType::Internal) {
        Ok(decoded) => !decoded.report.problems.iter().any(|p| {
            matches!(
                p.type_code,
                type_code::MP_REACH_NLRI | type_code::MP_UNREACH_NLRI
            )
        }),
        Err(_) => false,
    }
}

/// A session context seen from the collector, turned to be seen from the
/// receiving end of `message`.
fn receiving_end(collector: &SessionContext, message: &Bgp4mpMessage) -> SessionContext {
    if message.local {
        collector.reversed()
    } else {
        collector.clone()
    }
}

/// The sessions of one MRT file, by key.
#[derive(Debug, Clone, Default)]
pub struct MrtSessions {
    sessions: HashMap<SessionKey, MrtSession>,
    /// The settled context (seen from the collector) of the session looked
    /// up last: the records of a session tend to follow each other, and
    /// this spares them the look-up. Forgotten at every OPEN and state
    /// change.
    last: Option<(SessionKey, SessionContext)>,
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
        if matches!(
            record.body,
            MrtBody::Bgp4mpMessage(_) | MrtBody::Bgp4mpStateChange(_)
        ) {
            // Only these change a session; keep the cache for the others.
            if !matches!(&record.body, MrtBody::Bgp4mpMessage(m) if m.message_type() != Some(1)) {
                self.last = None;
            }
        }
        match &record.body {
            MrtBody::Bgp4mpMessage(m) if m.message_type() == Some(1) => {
                let s = self.sessions.entry(m.session_key()).or_default();
                if m.local {
                    s.sent_open = Some(m.message.clone());
                } else {
                    s.received_open = Some(m.message.clone());
                }
                s.context = None;
                s.offered = None;
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
        self.last = None;
        self.sessions.get_mut(key)
    }

    /// Stores the context negotiated on a session.
    pub fn set_context(&mut self, key: SessionKey, context: SessionContext) {
        self.last = None;
        self.sessions.entry(key).or_default().context = Some(context);
    }

    /// The context to decode `message` (the whole BGP message) with, seen
    /// from its receiving end, as the module documentation describes: the
    /// subtype's AS number width, path identifiers from the subtype or the
    /// session's OPENs, extended next hop from the OPENs. An UPDATE may
    /// settle an open ADD-PATH question for the rest of the session, hence
    /// `&mut self`.
    pub fn decode_context(&mut self, message: &Bgp4mpMessage) -> SessionContext {
        let mut ctx = SessionContext::default();
        if message.add_path {
            for family in IP_FAMILIES {
                ctx.set_add_path(family, Direction::Receive, true);
            }
        } else if self.sessions.is_empty() {
            // No OPEN on file: the subtype alone speaks.
        } else if let Some((_, known)) = self
            .last
            .as_ref()
            .filter(|(k, _)| *k == message.session_key())
        {
            ctx = receiving_end(known, message);
        } else if let Some(session) = self.sessions.get_mut(&message.session_key()) {
            let collector = match &session.context {
                Some(known) => {
                    self.last = Some((message.session_key(), known.clone()));
                    known.clone()
                }
                None => {
                    let (offered, certain) = match &session.offered {
                        Some(o) => o.clone(),
                        None => {
                            let o = session.negotiated();
                            session.offered = Some(o.clone());
                            o
                        }
                    };
                    let plain = SessionContext::default();
                    let as_seen = |c: &SessionContext| receiving_end(c, message);
                    let settled = if certain {
                        Some(offered)
                    } else if message.message_type() != Some(2)
                        || as_seen(&offered) == as_seen(&plain)
                    {
                        // Nothing in this message can tell.
                        None
                    } else {
                        match (
                            decodes_with(&message.message, &as_seen(&offered)),
                            decodes_with(&message.message, &as_seen(&plain)),
                        ) {
                            (true, false) => Some(offered),
                            (false, true) => Some(plain),
                            _ => None,
                        }
                    };
                    if settled.is_some() {
                        session.context.clone_from(&settled);
                        session.offered = None;
                    }
                    settled.unwrap_or_default()
                }
            };
            ctx = receiving_end(&collector, message);
        }
        ctx.with_four_octet_as(message.as4)
            .with_extended_message(true)
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
        assert_eq!(s.decode_context(&msg), plain());
        let ctx =
            SessionContext::default().with_add_path(AfiSafi::IPV4_UNICAST, Direction::Receive);
        s.set_context(key, ctx.clone());
        assert_eq!(
            s.decode_context(&msg),
            ctx.clone().with_extended_message(true)
        );
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

    fn plain() -> SessionContext {
        SessionContext::default().with_extended_message(true)
    }

    fn peering() -> Bgp4mpPeering {
        Bgp4mpPeering {
            peer_as: 65000,
            local_as: 65001,
            interface_index: 0,
            peer_ip: "192.0.2.1".parse().unwrap(),
            local_ip: "192.0.2.2".parse().unwrap(),
        }
    }

    fn record(local: bool, message: Vec<u8>) -> (MrtRecord, Bgp4mpMessage) {
        let m = Bgp4mpMessage {
            peering: peering(),
            as4: true,
            local,
            add_path: false,
            message: Bytes::from(message),
        };
        let r = MrtRecord {
            timestamp: 0,
            microseconds: None,
            body: MrtBody::Bgp4mpMessage(m.clone()),
        };
        (r, m)
    }

    /// An OPEN offering ADD-PATH for IPv4 unicast with `send_receive`.
    fn open(send_receive: SendReceive) -> Vec<u8> {
        let caps = vec![
            Capability::FourOctetAs(65000),
            Capability::AddPath(AddPath {
                families: vec![AddPathFamily {
                    family: AfiSafi::IPV4_UNICAST,
                    send_receive,
                }],
            }),
        ];
        let o = Open::new(65000, 90, "192.0.2.1".parse().unwrap(), caps);
        let mut buf = bytes::BytesMut::new();
        o.encode(&SessionContext::default(), &mut buf).unwrap();
        buf.to_vec()
    }

    /// An UPDATE with no attributes and this NLRI field.
    fn update(nlri: &[u8]) -> Vec<u8> {
        let mut m = vec![0xff; 16];
        let len = u16::try_from(19 + 4 + nlri.len()).unwrap();
        m.extend_from_slice(&len.to_be_bytes());
        m.extend_from_slice(&[2, 0, 0, 0, 0]);
        m.extend_from_slice(nlri);
        m
    }

    /// 10.0.0.0/8 with path identifier 1: no plain reading of it is whole.
    const WITH_ID: &[u8] = &[0, 0, 0, 1, 8, 10];
    /// 192.0.2.0/24 without path identifier: too short to carry one.
    const WITHOUT_ID: &[u8] = &[24, 192, 0, 2];

    #[test]
    fn a_one_sided_offer_is_settled_by_the_first_telling_update() {
        for (nlri, taken) in [(WITH_ID, true), (WITHOUT_ID, false)] {
            let mut s = MrtSessions::new();
            let (r, _) = record(false, open(SendReceive::Both));
            s.observe(&r);
            // A KEEPALIVE tells nothing: no path identifiers yet.
            let (_, keepalive) = record(false, [[0xff; 16].as_slice(), &[0, 19, 4]].concat());
            assert!(
                !s.decode_context(&keepalive)
                    .add_path_receive(AfiSafi::IPV4_UNICAST)
            );
            let (_, u) = record(false, update(nlri));
            assert_eq!(
                s.decode_context(&u).add_path_receive(AfiSafi::IPV4_UNICAST),
                taken
            );
            // Settled: the other kind of UPDATE no longer changes it.
            let (_, other) = record(false, update(if taken { WITHOUT_ID } else { WITH_ID }));
            assert_eq!(
                s.decode_context(&other)
                    .add_path_receive(AfiSafi::IPV4_UNICAST),
                taken
            );
            assert!(s.get(&u.session_key()).unwrap().context.is_some());
        }
    }

    #[test]
    fn both_opens_negotiate_and_local_messages_turn_round() {
        let mut s = MrtSessions::new();
        // The peer can send and receive; the collector only receives.
        let (r, _) = record(false, open(SendReceive::Both));
        s.observe(&r);
        let (r, _) = record(true, open(SendReceive::Receive));
        s.observe(&r);
        let (_, received) = record(false, update(WITHOUT_ID));
        let ctx = s.decode_context(&received);
        assert!(ctx.add_path_receive(AfiSafi::IPV4_UNICAST));
        assert!(ctx.four_octet_as);
        // What the collector sends carries no path identifiers.
        let (_, sent) = record(true, update(WITHOUT_ID));
        assert!(
            !s.decode_context(&sent)
                .add_path_receive(AfiSafi::IPV4_UNICAST)
        );
    }

    #[test]
    fn the_add_path_subtype_rules() {
        let mut s = MrtSessions::new();
        let (_, mut m) = record(true, update(WITH_ID));
        m.add_path = true;
        m.as4 = false;
        let ctx = s.decode_context(&m);
        assert!(ctx.add_path_receive(AfiSafi::IPV6_UNICAST));
        assert!(!ctx.four_octet_as);
    }

    #[test]
    fn an_offer_to_send_only_is_certain() {
        // A peer that only receives: nothing it sends carries identifiers,
        // whatever the collector answered.
        let mut s = MrtSessions::new();
        let (r, _) = record(false, open(SendReceive::Receive));
        s.observe(&r);
        let (_, u) = record(false, update(WITH_ID));
        assert!(!s.decode_context(&u).add_path_receive(AfiSafi::IPV4_UNICAST));
    }
}
