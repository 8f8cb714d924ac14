//! The KEEPALIVE message (RFC 4271 4.4): a header and nothing else.

use bytes::{Bytes, BytesMut};

use super::header::{HEADER_LEN, Header, MessageType};
use crate::context::SessionContext;
use crate::error::{DecodeError, EncodeError};

/// A KEEPALIVE message.
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use bgp_wire::{Keepalive, SessionContext};
///
/// let ctx = SessionContext::default();
/// let mut buf = BytesMut::new();
/// Keepalive.encode(&ctx, &mut buf).unwrap();
/// assert_eq!(buf.len(), 19);
/// assert_eq!(Keepalive::decode(Bytes::new(), &ctx), Ok(Keepalive));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Keepalive;

impl Keepalive {
    /// The length of a KEEPALIVE message, header included.
    pub const LEN: usize = HEADER_LEN;

    /// Decodes a KEEPALIVE body, which must be empty (RFC 4271 6.1: Bad
    /// Message Length otherwise, with the message length as data).
    pub fn decode(body: Bytes, _ctx: &SessionContext) -> Result<Self, DecodeError> {
        if body.is_empty() {
            Ok(Keepalive)
        } else {
            Err(DecodeError::BadMessageLength {
                length: u16::try_from(HEADER_LEN + body.len()).unwrap_or(u16::MAX),
            })
        }
    }

    /// Appends the whole message: a 19-octet header.
    pub fn encode(&self, _ctx: &SessionContext, buf: &mut BytesMut) -> Result<(), EncodeError> {
        Header {
            length: HEADER_LEN as u16,
            message_type: MessageType::Keepalive,
        }
        .encode(buf);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_must_be_empty() {
        let ctx = SessionContext::default();
        assert_eq!(
            Keepalive::decode(Bytes::from_static(&[0; 6]), &ctx),
            Err(DecodeError::BadMessageLength { length: 25 })
        );
        let mut buf = BytesMut::new();
        Keepalive.encode(&ctx, &mut buf).unwrap();
        let mut expected = vec![0xff; 16];
        expected.extend_from_slice(&[0, 19, 4]);
        assert_eq!(&buf[..], &expected[..]);
    }
}
