//! The ROUTE-REFRESH message (RFC 2918 3), with the message subtypes of
//! Enhanced Route Refresh (RFC 7313 3.2) and the ORF entries of Outbound
//! Route Filtering (RFC 5291 5).
//!
//! Body: AFI (2 octets), Message Subtype (1 octet, "Reserved" in RFC 2918),
//! SAFI (1 octet), then, for subtype 0 on a session that negotiated Outbound
//! Route Filtering, ORF entries.
//!
//! Length checks (RFC 7313 5): a body shorter than 4 octets, or a
//! Beginning-of-RIB-Route-Refresh or End-of-RIB-Route-Refresh whose body is
//! not exactly 4 octets, is answered with ROUTE-REFRESH Message Error /
//! Invalid Message Length, the whole message as data
//! ([`DecodeError::RouteRefreshLength`]). Octets after the 4 of a subtype 0
//! message are kept as ORF entries; since the session context does not say
//! whether ORF was negotiated, the session layer checks that with
//! [`RouteRefresh::check_orf`]. A message of any other subtype is to be
//! ignored (RFC 7313 5); it decodes as [`RouteRefreshSubtype::Other`] with
//! whatever followed the 4 octets, so the session layer can ignore it.

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

use super::header::{HEADER_LEN, Header, MARKER, MessageType};
use crate::afi::AfiSafi;
use crate::context::SessionContext;
use crate::error::{DecodeError, EncodeError};

/// The Message Subtype of a ROUTE-REFRESH message (RFC 7313 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteRefreshSubtype {
    /// A normal route refresh request (0), the only kind of RFC 2918.
    Normal,
    /// Beginning of RIB Route Refresh, BoRR (1).
    BeginningOfRouteRefresh,
    /// End of RIB Route Refresh, EoRR (2).
    EndOfRouteRefresh,
    /// Any other value (3 to 254 unassigned, 255 reserved), as received.
    Other(u8),
}

impl RouteRefreshSubtype {
    /// The on-wire value.
    pub const fn to_u8(self) -> u8 {
        match self {
            RouteRefreshSubtype::Normal => 0,
            RouteRefreshSubtype::BeginningOfRouteRefresh => 1,
            RouteRefreshSubtype::EndOfRouteRefresh => 2,
            RouteRefreshSubtype::Other(v) => v,
        }
    }

    /// The subtype for an on-wire value.
    pub const fn from_u8(v: u8) -> Self {
        match v {
            0 => RouteRefreshSubtype::Normal,
            1 => RouteRefreshSubtype::BeginningOfRouteRefresh,
            2 => RouteRefreshSubtype::EndOfRouteRefresh,
            v => RouteRefreshSubtype::Other(v),
        }
    }
}

impl fmt::Display for RouteRefreshSubtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteRefreshSubtype::Normal => f.write_str("normal"),
            RouteRefreshSubtype::BeginningOfRouteRefresh => f.write_str("BoRR"),
            RouteRefreshSubtype::EndOfRouteRefresh => f.write_str("EoRR"),
            RouteRefreshSubtype::Other(v) => write!(f, "subtype {v}"),
        }
    }
}

/// A ROUTE-REFRESH message.
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use bgp_wire::{AfiSafi, RouteRefresh, RouteRefreshSubtype, SessionContext};
///
/// let ctx = SessionContext::default();
/// let rr = RouteRefresh::decode(Bytes::from_static(&[0, 2, 1, 1]), &ctx).unwrap();
/// assert_eq!(rr.family, AfiSafi::IPV6_UNICAST);
/// assert_eq!(rr.subtype, RouteRefreshSubtype::BeginningOfRouteRefresh);
/// let mut buf = BytesMut::new();
/// rr.encode(&ctx, &mut buf).unwrap();
/// assert_eq!(buf.len(), 23);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteRefresh {
    /// The address family to refresh.
    pub family: AfiSafi,
    /// The message subtype.
    pub subtype: RouteRefreshSubtype,
    /// The octets after the first 4: ORF entries (RFC 5291) for subtype 0,
    /// whatever was there for an unknown subtype, always empty for BoRR and
    /// EoRR.
    pub orf: Bytes,
}

impl RouteRefresh {
    /// A normal route refresh request for `family`.
    pub fn new(family: AfiSafi) -> Self {
        RouteRefresh {
            family,
            subtype: RouteRefreshSubtype::Normal,
            orf: Bytes::new(),
        }
    }

    /// A message of the given subtype for `family`, without ORF entries.
    pub fn with_subtype(family: AfiSafi, subtype: RouteRefreshSubtype) -> Self {
        RouteRefresh {
            family,
            subtype,
            orf: Bytes::new(),
        }
    }

    /// Rebuilds the whole message (header and body) for the error data.
    fn whole_message(body: &Bytes) -> Bytes {
        let mut buf = BytesMut::with_capacity(HEADER_LEN + body.len());
        buf.put_slice(&MARKER);
        buf.put_u16(u16::try_from(HEADER_LEN + body.len()).unwrap_or(u16::MAX));
        buf.put_u8(MessageType::RouteRefresh.to_u8());
        buf.put_slice(body);
        buf.freeze()
    }

    /// Decodes a ROUTE-REFRESH body (the message without its header).
    pub fn decode(body: Bytes, _ctx: &SessionContext) -> Result<Self, DecodeError> {
        let Some(&[afi_hi, afi_lo, subtype, safi]) = body.first_chunk::<4>() else {
            return Err(DecodeError::RouteRefreshLength {
                message: Self::whole_message(&body),
            });
        };
        let subtype = RouteRefreshSubtype::from_u8(subtype);
        if matches!(
            subtype,
            RouteRefreshSubtype::BeginningOfRouteRefresh | RouteRefreshSubtype::EndOfRouteRefresh
        ) && body.len() != 4
        {
            return Err(DecodeError::RouteRefreshLength {
                message: Self::whole_message(&body),
            });
        }
        Ok(RouteRefresh {
            family: AfiSafi::new(u16::from_be_bytes([afi_hi, afi_lo]).into(), safi.into()),
            subtype,
            orf: body.slice(4..),
        })
    }

    /// Checks that ORF entries are present only where Outbound Route
    /// Filtering was negotiated for the family: when `orf_negotiated` is
    /// false, a body longer than 4 octets is an Invalid Message Length error
    /// carrying the whole message.
    pub fn check_orf(&self, orf_negotiated: bool) -> Result<(), DecodeError> {
        if self.orf.is_empty() || (orf_negotiated && self.subtype == RouteRefreshSubtype::Normal) {
            return Ok(());
        }
        if matches!(self.subtype, RouteRefreshSubtype::Other(_)) {
            return Ok(());
        }
        let mut body = BytesMut::new();
        self.put_body(&mut body);
        Err(DecodeError::RouteRefreshLength {
            message: Self::whole_message(&body.freeze()),
        })
    }

    fn put_body(&self, buf: &mut BytesMut) {
        buf.put_u16(self.family.afi.to_u16());
        buf.put_u8(self.subtype.to_u8());
        buf.put_u8(self.family.safi.to_u8());
        buf.put_slice(&self.orf);
    }

    /// Appends the whole message, header included. Fails if the message
    /// would exceed the session's maximum length.
    pub fn encode(&self, ctx: &SessionContext, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let length = HEADER_LEN + 4 + self.orf.len();
        let max = ctx.max_message_len();
        if length > max {
            return Err(EncodeError::MessageTooLong { length, max });
        }
        Header {
            length: u16::try_from(length)
                .map_err(|_| EncodeError::MessageTooLong { length, max })?,
            message_type: MessageType::RouteRefresh,
        }
        .encode(buf);
        self.put_body(buf);
        Ok(())
    }
}

impl fmt::Display for RouteRefresh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ROUTE-REFRESH {}", self.family)?;
        if self.subtype != RouteRefreshSubtype::Normal {
            write!(f, " {}", self.subtype)?;
        }
        if !self.orf.is_empty() {
            write!(f, " ({} octets of ORF entries)", self.orf.len())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{ErrorCode, RouteRefreshSubcode};

    #[test]
    fn length_rules() {
        let ctx = SessionContext::default();
        let e = RouteRefresh::decode(Bytes::from_static(&[0, 1, 1, 1, 0]), &ctx).unwrap_err();
        assert_eq!(
            e.code(),
            ErrorCode::RouteRefreshMessage(RouteRefreshSubcode::InvalidMessageLength)
        );
        let mut whole = vec![0xff; 16];
        whole.extend_from_slice(&[0, 24, 5, 0, 1, 1, 1, 0]);
        assert_eq!(&e.data()[..], &whole[..]);
        assert!(RouteRefresh::decode(Bytes::from_static(&[0, 1, 2, 1, 9]), &ctx).is_err());
        assert!(RouteRefresh::decode(Bytes::from_static(&[0, 1, 0]), &ctx).is_err());
        let orf = RouteRefresh::decode(Bytes::from_static(&[0, 1, 0, 1, 2, 64, 0, 1, 0xc0]), &ctx)
            .unwrap();
        assert_eq!(orf.orf.len(), 5);
        assert!(orf.check_orf(true).is_ok());
        assert_eq!(orf.check_orf(false).unwrap_err().data().len(), 28);
        let other = RouteRefresh::decode(Bytes::from_static(&[0, 1, 7, 1, 1]), &ctx).unwrap();
        assert_eq!(other.subtype, RouteRefreshSubtype::Other(7));
        assert!(other.check_orf(false).is_ok());
        assert_eq!(
            other.to_string(),
            "ROUTE-REFRESH ipv4-unicast subtype 7 (1 octets of ORF entries)"
        );
        assert_eq!(
            RouteRefresh::with_subtype(
                AfiSafi::IPV6_UNICAST,
                RouteRefreshSubtype::EndOfRouteRefresh
            )
            .to_string(),
            "ROUTE-REFRESH ipv6-unicast EoRR"
        );
    }
}
