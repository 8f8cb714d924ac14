//! BGP messages (RFC 4271 section 4 and extensions).
//!
//! Each message type has its own module with `decode(body, ctx)` (the body
//! without the 19-octet header) and `encode(ctx, buf)` (the whole message).
//! [`Message`] ties them together for a reader that takes whatever comes.

use bytes::{Buf, Bytes, BytesMut};

use crate::context::SessionContext;
use crate::error::{DecodeError, EncodeError};

pub mod header;
pub mod keepalive;
pub mod notification;
pub mod open;
pub mod route_refresh;
pub mod update;

use header::{HEADER_LEN, Header, MessageType};
use keepalive::Keepalive;
use notification::Notification;
use open::Open;
use route_refresh::RouteRefresh;
use update::Update;

/// Any BGP message.
///
/// ```
/// use bytes::Bytes;
/// use bgp_wire::{Message, SessionContext};
///
/// let mut wire = vec![0xffu8; 16];
/// wire.extend_from_slice(&[0, 19, 4]);
/// let msg = Message::from_bytes(Bytes::from(wire), &SessionContext::default()).unwrap();
/// assert!(matches!(msg, Message::Keepalive(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// OPEN (RFC 4271 4.2).
    Open(Open),
    /// UPDATE (RFC 4271 4.3).
    Update(Update),
    /// NOTIFICATION (RFC 4271 4.5).
    Notification(Notification),
    /// KEEPALIVE (RFC 4271 4.4).
    Keepalive(Keepalive),
    /// ROUTE-REFRESH (RFC 2918, RFC 7313).
    RouteRefresh(RouteRefresh),
}

impl Message {
    /// Decodes the body of a message whose header was decoded already (see
    /// [`header::frame`]).
    pub fn decode(header: &Header, body: Bytes, ctx: &SessionContext) -> Result<Self, DecodeError> {
        Ok(match header.message_type {
            MessageType::Open => Message::Open(Open::decode(body, ctx)?),
            MessageType::Update => Message::Update(Update::decode(body, ctx)?),
            MessageType::Notification => Message::Notification(Notification::decode(body, ctx)?),
            MessageType::Keepalive => Message::Keepalive(Keepalive::decode(body, ctx)?),
            MessageType::RouteRefresh => Message::RouteRefresh(RouteRefresh::decode(body, ctx)?),
        })
    }

    /// Decodes one whole message, header included. The buffer must hold
    /// exactly the message: a length field that disagrees with the buffer is
    /// a Bad Message Length error.
    pub fn from_bytes(mut bytes: Bytes, ctx: &SessionContext) -> Result<Self, DecodeError> {
        let header = Header::decode(&bytes, ctx)?.ok_or(DecodeError::BadMessageLength {
            length: u16::try_from(bytes.len()).unwrap_or(u16::MAX),
        })?;
        if usize::from(header.length) != bytes.len() {
            return Err(DecodeError::BadMessageLength {
                length: header.length,
            });
        }
        // The header decoded, so at least HEADER_LEN octets are there.
        bytes.advance(HEADER_LEN);
        Self::decode(&header, bytes, ctx)
    }

    /// Appends the whole message, header included.
    pub fn encode(&self, ctx: &SessionContext, buf: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            Message::Open(m) => m.encode(ctx, buf),
            Message::Update(m) => m.encode(ctx, buf),
            Message::Notification(m) => m.encode(ctx, buf),
            Message::Keepalive(m) => m.encode(ctx, buf),
            Message::RouteRefresh(m) => m.encode(ctx, buf),
        }
    }

    /// The message type.
    pub fn message_type(&self) -> MessageType {
        match self {
            Message::Open(_) => MessageType::Open,
            Message::Update(_) => MessageType::Update,
            Message::Notification(_) => MessageType::Notification,
            Message::Keepalive(_) => MessageType::Keepalive,
            Message::RouteRefresh(_) => MessageType::RouteRefresh,
        }
    }
}
