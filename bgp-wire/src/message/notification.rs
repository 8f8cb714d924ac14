//! The NOTIFICATION message (RFC 4271 4.5), with decoded views of the Data
//! field for the Shutdown Communication of RFC 9003 and the Hard Reset of
//! RFC 8538.
//!
//! Body: Error Code (1 octet), Error Subcode (1 octet), Data (the rest). A
//! NOTIFICATION is never refused for what its Data contains: a malformed
//! Shutdown Communication stays raw in [`Notification::data`] and is shown
//! as invalid, never verbatim (RFC 9003 2).

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

use super::header::{HEADER_LEN, Header, MessageType};
use crate::context::SessionContext;
use crate::error::{CeaseSubcode, DecodeError, EncodeError, ErrorCode};

/// The longest Shutdown Communication, in octets (RFC 9003 2).
pub const MAX_SHUTDOWN_COMMUNICATION_LEN: usize = 255;

/// A NOTIFICATION message.
///
/// ```
/// use bgp_wire::Notification;
///
/// let n = Notification::shutdown("maintenance");
/// assert_eq!(n.code.to_pair(), (6, 2));
/// assert_eq!(n.to_string(), "Cease / Administrative Shutdown: \"maintenance\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Notification {
    /// The error code and subcode.
    pub code: ErrorCode,
    /// The Data field, as received.
    pub data: Bytes,
}

/// What the Data field of a Cease / Administrative Shutdown or
/// Administrative Reset NOTIFICATION says (RFC 9003 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownCommunication<'a> {
    /// A well-formed communication (possibly empty), and any octets that
    /// followed it.
    Message {
        /// The operator's text.
        text: &'a str,
        /// Octets after the text, normally none.
        trailing: &'a [u8],
    },
    /// The length octet runs past the end of the data.
    InvalidLength,
    /// The text is not valid UTF-8.
    InvalidUtf8,
}

impl Notification {
    /// A NOTIFICATION with the given code and data.
    pub fn new(code: ErrorCode, data: impl Into<Bytes>) -> Self {
        Notification {
            code,
            data: data.into(),
        }
    }

    /// Cease with the given subcode and no data.
    pub fn cease(subcode: CeaseSubcode) -> Self {
        Notification::new(ErrorCode::Cease(subcode), Bytes::new())
    }

    /// Cease / Administrative Shutdown with a Shutdown Communication.
    /// `message` is cut at a character boundary to at most 255 octets; an
    /// empty message sends no data at all.
    pub fn shutdown(message: &str) -> Self {
        Self::with_communication(CeaseSubcode::AdministrativeShutdown, message)
    }

    /// Cease / Administrative Reset with a Shutdown Communication, as
    /// [`Notification::shutdown`].
    pub fn reset(message: &str) -> Self {
        Self::with_communication(CeaseSubcode::AdministrativeReset, message)
    }

    fn with_communication(subcode: CeaseSubcode, message: &str) -> Self {
        if message.is_empty() {
            return Notification::cease(subcode);
        }
        let mut end = message.len().min(MAX_SHUTDOWN_COMMUNICATION_LEN);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let text = message.get(..end).unwrap_or_default();
        let mut data = BytesMut::with_capacity(1 + text.len());
        data.put_u8(u8::try_from(text.len()).unwrap_or(u8::MAX));
        data.put_slice(text.as_bytes());
        Notification::new(ErrorCode::Cease(subcode), data.freeze())
    }

    /// Hold Timer Expired (subcode 0, no data).
    pub fn hold_timer_expired() -> Self {
        Notification::new(ErrorCode::HoldTimerExpired(0), Bytes::new())
    }

    /// Cease / Hard Reset (RFC 8538 3) wrapping the NOTIFICATION that
    /// caused it: its code, subcode and data become the data.
    pub fn hard_reset(cause: &Notification) -> Self {
        let (code, subcode) = cause.code.to_pair();
        let mut data = BytesMut::with_capacity(2 + cause.data.len());
        data.put_u8(code);
        data.put_u8(subcode);
        data.put_slice(&cause.data);
        Notification::new(ErrorCode::Cease(CeaseSubcode::HardReset), data.freeze())
    }

    /// The NOTIFICATION that answers a decoding error.
    pub fn from_decode_error(err: &DecodeError) -> Self {
        Notification::new(err.code(), err.data())
    }

    /// The Shutdown Communication, for Cease / Administrative Shutdown and
    /// Administrative Reset with non-empty data; `None` otherwise.
    pub fn shutdown_communication(&self) -> Option<ShutdownCommunication<'_>> {
        if !matches!(
            self.code,
            ErrorCode::Cease(
                CeaseSubcode::AdministrativeShutdown | CeaseSubcode::AdministrativeReset
            )
        ) {
            return None;
        }
        let (&len, rest) = self.data.split_first()?;
        let Some(text) = rest.get(..usize::from(len)) else {
            return Some(ShutdownCommunication::InvalidLength);
        };
        let trailing = rest.get(usize::from(len)..).unwrap_or_default();
        Some(match std::str::from_utf8(text) {
            Ok(text) => ShutdownCommunication::Message { text, trailing },
            Err(_) => ShutdownCommunication::InvalidUtf8,
        })
    }

    /// For Cease / Hard Reset (RFC 8538 3), the NOTIFICATION carried in the
    /// data that caused it; `None` for other codes or data shorter than
    /// 2 octets.
    pub fn hard_reset_cause(&self) -> Option<Notification> {
        if self.code != ErrorCode::Cease(CeaseSubcode::HardReset) {
            return None;
        }
        let &[code, subcode] = self.data.first_chunk::<2>()?;
        Some(Notification::new(
            ErrorCode::from_pair(code, subcode),
            self.data.slice(2..),
        ))
    }

    /// Decodes a NOTIFICATION body (the message without its header). A body
    /// shorter than 2 octets is a Bad Message Length.
    pub fn decode(body: Bytes, _ctx: &SessionContext) -> Result<Self, DecodeError> {
        let Some(&[code, subcode]) = body.first_chunk::<2>() else {
            return Err(DecodeError::BadMessageLength {
                length: u16::try_from(HEADER_LEN + body.len()).unwrap_or(u16::MAX),
            });
        };
        Ok(Notification {
            code: ErrorCode::from_pair(code, subcode),
            data: body.slice(2..),
        })
    }

    /// Appends the whole message, header included. Fails if the message
    /// would exceed the session's maximum length.
    pub fn encode(&self, ctx: &SessionContext, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let length = HEADER_LEN + 2 + self.data.len();
        let max = ctx.max_message_len();
        let too_long = EncodeError::MessageTooLong { length, max };
        if length > max {
            return Err(too_long);
        }
        Header {
            length: u16::try_from(length).map_err(|_| too_long)?,
            message_type: MessageType::Notification,
        }
        .encode(buf);
        let (code, subcode) = self.code.to_pair();
        buf.put_u8(code);
        buf.put_u8(subcode);
        buf.put_slice(&self.data);
        Ok(())
    }

    fn fmt_depth(&self, f: &mut fmt::Formatter<'_>, nested: bool) -> fmt::Result {
        write!(f, "{}", self.code)?;
        if let Some(sc) = self.shutdown_communication() {
            return match sc {
                ShutdownCommunication::Message { text, trailing } => {
                    write!(f, ": {text:?}")?;
                    if !trailing.is_empty() {
                        f.write_str(", then data ")?;
                        write_hex(f, trailing)?;
                    }
                    Ok(())
                }
                ShutdownCommunication::InvalidLength => write!(
                    f,
                    ": invalid Shutdown Communication length ({} octets of data)",
                    self.data.len()
                ),
                ShutdownCommunication::InvalidUtf8 => write!(
                    f,
                    ": Shutdown Communication is not UTF-8 ({} octets of data)",
                    self.data.len()
                ),
            };
        }
        if !nested {
            if let Some(cause) = self.hard_reset_cause() {
                f.write_str(" (")?;
                cause.fmt_depth(f, true)?;
                return f.write_str(")");
            }
        }
        if !self.data.is_empty() {
            f.write_str(", data ")?;
            write_hex(f, &self.data)?;
        }
        Ok(())
    }
}

fn write_hex(f: &mut fmt::Formatter<'_>, data: &[u8]) -> fmt::Result {
    const SHOWN: usize = 64;
    for b in data.iter().take(SHOWN) {
        write!(f, "{b:02x}")?;
    }
    if data.len() > SHOWN {
        write!(f, "... ({} octets)", data.len())?;
    }
    Ok(())
}

impl fmt::Display for Notification {
    /// The code and subcode names, then the Shutdown Communication, the
    /// Hard Reset cause, or the data in hexadecimal.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_depth(f, false)
    }
}

impl From<&DecodeError> for Notification {
    fn from(err: &DecodeError) -> Self {
        Notification::from_decode_error(err)
    }
}

impl From<DecodeError> for Notification {
    fn from(err: DecodeError) -> Self {
        Notification::from_decode_error(&err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::OpenMessageSubcode;

    #[test]
    fn shutdown_views() {
        let n = Notification::new(
            ErrorCode::Cease(CeaseSubcode::AdministrativeReset),
            Bytes::from_static(b"\x0a0123456789ExtraData"),
        );
        assert_eq!(
            n.shutdown_communication(),
            Some(ShutdownCommunication::Message {
                text: "0123456789",
                trailing: b"ExtraData"
            })
        );
        assert_eq!(
            n.to_string(),
            "Cease / Administrative Reset: \"0123456789\", then data 457874726144617461"
        );
        let bad = Notification::new(
            ErrorCode::Cease(CeaseSubcode::AdministrativeReset),
            Bytes::from_static(b"\x400123456789"),
        );
        assert_eq!(
            bad.shutdown_communication(),
            Some(ShutdownCommunication::InvalidLength)
        );
        assert!(!bad.to_string().contains("0123"));
        let utf = Notification::new(
            ErrorCode::Cease(CeaseSubcode::AdministrativeShutdown),
            Bytes::from_static(b"\x02\xff\xfe"),
        );
        assert_eq!(
            utf.shutdown_communication(),
            Some(ShutdownCommunication::InvalidUtf8)
        );
        let empty = Notification::new(
            ErrorCode::Cease(CeaseSubcode::AdministrativeReset),
            Bytes::from_static(&[0]),
        );
        assert_eq!(empty.to_string(), "Cease / Administrative Reset: \"\"");
        assert_eq!(Notification::shutdown("").data.len(), 0);
        let long = "é".repeat(200);
        let cut = Notification::shutdown(&long);
        assert_eq!(cut.data[0], 254);
        assert!(matches!(
            cut.shutdown_communication(),
            Some(ShutdownCommunication::Message { .. })
        ));
    }

    #[test]
    fn hard_reset() {
        let inner = Notification::shutdown("bye");
        let hr = Notification::hard_reset(&inner);
        assert_eq!(&hr.data[..], b"\x06\x02\x03bye");
        assert_eq!(hr.hard_reset_cause(), Some(inner));
        assert_eq!(
            hr.to_string(),
            "Cease / Hard Reset (Cease / Administrative Shutdown: \"bye\")"
        );
        let nested = Notification::hard_reset(&hr);
        assert!(
            nested
                .to_string()
                .ends_with("Hard Reset (Cease / Hard Reset, data 060203627965)")
        );
        assert_eq!(
            Notification::cease(CeaseSubcode::HardReset).hard_reset_cause(),
            None
        );
    }

    #[test]
    fn decode_encode() {
        let ctx = SessionContext::default();
        assert_eq!(
            Notification::decode(Bytes::from_static(&[6]), &ctx),
            Err(DecodeError::BadMessageLength { length: 20 })
        );
        let n = Notification::decode(Bytes::from_static(&[2, 2, 0xfe, 0xb0]), &ctx).unwrap();
        assert_eq!(
            n.code,
            ErrorCode::OpenMessage(OpenMessageSubcode::BadPeerAs)
        );
        assert_eq!(n.to_string(), "OPEN Message Error / Bad Peer AS, data feb0");
        let mut buf = BytesMut::new();
        n.encode(&ctx, &mut buf).unwrap();
        assert_eq!(&buf[16..], &[0, 23, 3, 2, 2, 0xfe, 0xb0]);
        let big = Notification::new(ErrorCode::Cease(CeaseSubcode::Unspecific), vec![0; 5000]);
        assert!(big.encode(&ctx, &mut buf).is_err());
        let n = Notification::from(DecodeError::BadMessageType { message_type: 9 });
        assert_eq!(
            n.to_string(),
            "Message Header Error / Bad Message Type, data 09"
        );
        assert_eq!(
            Notification::hold_timer_expired().to_string(),
            "Hold Timer Expired"
        );
    }
}
