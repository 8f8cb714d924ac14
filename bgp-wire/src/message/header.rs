//! The fixed 19-octet message header (RFC 4271 4.1) and message framing.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::fmt;

use crate::context::SessionContext;
use crate::error::DecodeError;

/// Length of the message header.
pub const HEADER_LEN: usize = 19;
/// Length of the marker field.
pub const MARKER_LEN: usize = 16;
/// The marker: sixteen octets of ones.
pub const MARKER: [u8; MARKER_LEN] = [0xff; MARKER_LEN];

/// The type code of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// OPEN (1).
    Open,
    /// UPDATE (2).
    Update,
    /// NOTIFICATION (3).
    Notification,
    /// KEEPALIVE (4).
    Keepalive,
    /// ROUTE-REFRESH (5, RFC 2918).
    RouteRefresh,
}

impl MessageType {
    /// The on-wire type code.
    pub const fn to_u8(self) -> u8 {
        match self {
            MessageType::Open => 1,
            MessageType::Update => 2,
            MessageType::Notification => 3,
            MessageType::Keepalive => 4,
            MessageType::RouteRefresh => 5,
        }
    }

    /// The type for an on-wire code, or `None` for an unknown code.
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => MessageType::Open,
            2 => MessageType::Update,
            3 => MessageType::Notification,
            4 => MessageType::Keepalive,
            5 => MessageType::RouteRefresh,
            _ => return None,
        })
    }

    /// The smallest length, header included, a message of this type can have
    /// (RFC 4271 4.2 to 4.4, RFC 2918 3).
    pub const fn min_len(self) -> usize {
        match self {
            MessageType::Open => 29,
            MessageType::Update => 23,
            MessageType::Notification => 21,
            MessageType::Keepalive => 19,
            MessageType::RouteRefresh => 23,
        }
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MessageType::Open => "OPEN",
            MessageType::Update => "UPDATE",
            MessageType::Notification => "NOTIFICATION",
            MessageType::Keepalive => "KEEPALIVE",
            MessageType::RouteRefresh => "ROUTE-REFRESH",
        })
    }
}

/// A decoded message header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Total message length, header included.
    pub length: u16,
    /// Message type.
    pub message_type: MessageType,
}

impl Header {
    /// Decodes and checks a header (RFC 4271 6.1): the marker, the type, and
    /// the length against the type's minimum and the session's maximum. A
    /// KEEPALIVE must be exactly 19 octets. An OPEN may be up to 4,096
    /// octets whatever the session context says (RFC 8654 4).
    ///
    /// Returns `Ok(None)` when fewer than 19 octets are available.
    pub fn decode(buf: &[u8], ctx: &SessionContext) -> Result<Option<Header>, DecodeError> {
        let Some(head) = buf.first_chunk::<HEADER_LEN>() else {
            return Ok(None);
        };
        let (marker, rest) = head.split_at(MARKER_LEN);
        if marker != MARKER {
            return Err(DecodeError::ConnectionNotSynchronized);
        }
        let (len_bytes, ty) = rest.split_at(2);
        let length = u16::from_be_bytes([
            len_bytes.first().copied().unwrap_or(0),
            len_bytes.get(1).copied().unwrap_or(0),
        ]);
        let ty = ty.first().copied().unwrap_or(0);
        let len = usize::from(length);
        if !(HEADER_LEN..=ctx.max_message_len()).contains(&len) {
            return Err(DecodeError::BadMessageLength { length });
        }
        let message_type =
            MessageType::from_u8(ty).ok_or(DecodeError::BadMessageType { message_type: ty })?;
        let max = match message_type {
            MessageType::Open | MessageType::Keepalive => crate::context::MAX_MESSAGE_LEN,
            _ => ctx.max_message_len(),
        };
        if len < message_type.min_len()
            || len > max
            || (message_type == MessageType::Keepalive && len != HEADER_LEN)
        {
            return Err(DecodeError::BadMessageLength { length });
        }
        Ok(Some(Header {
            length,
            message_type,
        }))
    }

    /// Appends the header: marker, length and type.
    pub fn encode(&self, buf: &mut BytesMut) {
        buf.put_slice(&MARKER);
        buf.put_u16(self.length);
        buf.put_u8(self.message_type.to_u8());
    }
}

/// Splits one complete message off the front of `buf`, for a reader that
/// appends bytes from a socket to a reused buffer.
///
/// Returns the header and the message body (without the header, sharing
/// `buf`'s memory), `Ok(None)` if the message is not complete yet, or the
/// error that the header is answered with.
///
/// ```
/// use bytes::BytesMut;
/// use bgp_wire::{SessionContext, message::header::{frame, MessageType}};
///
/// let mut buf = BytesMut::from(&[0xffu8; 16][..]);
/// buf.extend_from_slice(&[0, 19, 4]);
/// let (header, body) = frame(&mut buf, &SessionContext::default()).unwrap().unwrap();
/// assert_eq!(header.message_type, MessageType::Keepalive);
/// assert!(body.is_empty() && buf.is_empty());
/// ```
pub fn frame(
    buf: &mut BytesMut,
    ctx: &SessionContext,
) -> Result<Option<(Header, Bytes)>, DecodeError> {
    let Some(header) = Header::decode(buf, ctx)? else {
        return Ok(None);
    };
    let len = usize::from(header.length);
    if buf.len() < len {
        return Ok(None);
    }
    let mut msg = buf.split_to(len);
    msg.advance(HEADER_LEN);
    Ok(Some((header, msg.freeze())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(len: u16, ty: u8) -> Vec<u8> {
        let mut v = vec![0xff; 16];
        v.extend_from_slice(&len.to_be_bytes());
        v.push(ty);
        v
    }

    #[test]
    fn header_checks() {
        let ctx = SessionContext::default();
        assert_eq!(
            Header::decode(&header(19, 4), &ctx)
                .unwrap()
                .unwrap()
                .message_type,
            MessageType::Keepalive
        );
        assert_eq!(
            Header::decode(&header(20, 4), &ctx),
            Err(DecodeError::BadMessageLength { length: 20 })
        );
        assert_eq!(
            Header::decode(&header(19, 1), &ctx),
            Err(DecodeError::BadMessageLength { length: 19 })
        );
        assert_eq!(
            Header::decode(&header(19, 0), &ctx),
            Err(DecodeError::BadMessageType { message_type: 0 })
        );
        assert_eq!(
            Header::decode(&header(10, 4), &ctx),
            Err(DecodeError::BadMessageLength { length: 10 })
        );
        assert_eq!(
            Header::decode(&header(5000, 2), &ctx),
            Err(DecodeError::BadMessageLength { length: 5000 })
        );
        let ext = SessionContext::default().with_extended_message(true);
        assert!(Header::decode(&header(5000, 2), &ext).is_ok());
        assert_eq!(
            Header::decode(&header(5000, 1), &ext),
            Err(DecodeError::BadMessageLength { length: 5000 })
        );
        let mut bad = header(19, 4);
        bad[3] = 0;
        assert_eq!(
            Header::decode(&bad, &ctx),
            Err(DecodeError::ConnectionNotSynchronized)
        );
        assert_eq!(Header::decode(&bad[..18], &ctx), Ok(None));
    }
}
