//! BGP capabilities (RFC 5492): what a speaker announces in the Capabilities
//! optional parameter of its OPEN message.
//!
//! Each capability has its own module, named as its RFC names it, and a
//! variant of [`Capability`]. A capability this crate does not know is kept as
//! [`Capability::Unknown`], its code and value as received, so that it
//! re-encodes to the same octets.
//!
//! | code | capability | module |
//! |-----:|------------|--------|
//! | 1 | Multiprotocol Extensions (RFC 4760) | [`multiprotocol`] |
//! | 2 | Route Refresh (RFC 2918) | [`route_refresh`] |
//! | 3 | Outbound Route Filtering (RFC 5291) | [`outbound_route_filtering`] |
//! | 5 | Extended Next Hop Encoding (RFC 8950) | [`extended_next_hop`] |
//! | 6 | Extended Message (RFC 8654) | [`extended_message`] |
//! | 9 | BGP Role (RFC 9234) | [`bgp_role`] |
//! | 64 | Graceful Restart (RFC 4724, RFC 8538) | [`graceful_restart`] |
//! | 65 | Support for 4-octet AS number (RFC 6793) | [`four_octet_as`] |
//! | 69 | ADD-PATH (RFC 7911) | [`add_path`] |
//! | 70 | Enhanced Route Refresh (RFC 7313) | [`enhanced_route_refresh`] |
//! | 71 | Long-Lived Graceful Restart (RFC 9494) | [`long_lived_graceful_restart`] |
//! | 73 | FQDN (draft-walton-bgp-hostname-capability) | [`fqdn`] |
//! | 75 | Software Version (draft-abraitis-bgp-version-capability) | [`software_version`] |
//! | 128 | Route Refresh, pre-standard code (before RFC 2918) | [`route_refresh`] |
//!
//! # Malformed capabilities
//!
//! RFC 5492 says a capability that is not understood is ignored, and
//! RFC 4271 6.2 says an optional parameter that is recognised but malformed
//! is answered with OPEN Message Error, subcode 0 (Unspecific). Subcode 7
//! (Unsupported Capability, RFC 5492 5) is for a speaker that *requires* a
//! capability the peer did not announce, a session-layer decision, so it is
//! never returned here. Decoding therefore:
//!
//! - returns [`DecodeError::Open`] with subcode Unspecific and empty data when
//!   a capability's length runs past its optional parameter, or when the
//!   value of a known capability does not have the length or structure its
//!   RFC defines (for example a Multiprotocol value that is not 4 octets, a
//!   Graceful Restart value that is not 2 + 4n octets, a BGP Role value that
//!   is not 1 octet, an FQDN whose inner lengths do not add up). This is what
//!   widely deployed implementations do (FRR's capability tests are checked
//!   in this crate's tests);
//! - keeps as [`Capability::Unknown`] a known code whose value is well framed
//!   but cannot be read as this crate's type and whose RFC makes no error of
//!   it: a Route Refresh, Enhanced Route Refresh, Extended Message or
//!   pre-standard Route Refresh capability with a non-empty value (their
//!   value is defined empty; FRR accepts such padding), and an Extended Next
//!   Hop entry whose 16-bit SAFI does not fit the 8-bit SAFI space. The
//!   session layer treats these as not understood, as RFC 5492 asks;
//! - keeps values that are well formed but out of the registered range
//!   (a BGP Role of 5, an ADD-PATH Send/Receive of 0, reserved flag bits)
//!   in the decoded types, so that policy is left to the session layer.

pub mod add_path;
pub mod bgp_role;
pub mod enhanced_route_refresh;
pub mod extended_message;
pub mod extended_next_hop;
pub mod four_octet_as;
pub mod fqdn;
pub mod graceful_restart;
pub mod long_lived_graceful_restart;
pub mod multiprotocol;
pub mod outbound_route_filtering;
pub(crate) mod reader;
pub mod route_refresh;
pub mod software_version;

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

use crate::error::{DecodeError, EncodeError, OpenMessageSubcode};

pub use add_path::{AddPath, AddPathFamily};
pub use bgp_role::BgpRole;
pub use extended_next_hop::{ExtendedNextHop, ExtendedNextHopEntry};
pub use fqdn::Fqdn;
pub use graceful_restart::{GracefulRestart, GracefulRestartFamily};
pub use long_lived_graceful_restart::{LongLivedGracefulRestart, LongLivedGracefulRestartFamily};
pub use multiprotocol::Multiprotocol;
pub use outbound_route_filtering::{OrfEntry, OrfFamily, OutboundRouteFiltering};
pub use software_version::SoftwareVersion;

use reader::Reader;

/// The error for a malformed capability or optional parameter: OPEN Message
/// Error, subcode Unspecific (RFC 4271 6.2), no data.
pub(crate) fn malformed(reason: &'static str) -> DecodeError {
    DecodeError::open(OpenMessageSubcode::Unspecific, Bytes::new(), reason)
}

/// One capability, as announced in an OPEN message.
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use bgp_wire::AfiSafi;
/// use bgp_wire::capability::{Capability, Multiprotocol};
///
/// // Multiprotocol IPv6 unicast, then Route Refresh.
/// let value = Bytes::from_static(&[1, 4, 0, 2, 0, 1, 2, 0]);
/// let caps = Capability::decode_list(value.clone()).unwrap();
/// assert_eq!(
///     caps,
///     [
///         Capability::Multiprotocol(Multiprotocol::new(AfiSafi::IPV6_UNICAST)),
///         Capability::RouteRefresh,
///     ]
/// );
/// let mut buf = BytesMut::new();
/// Capability::encode_list(&caps, &mut buf).unwrap();
/// assert_eq!(buf, value);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Capability {
    /// Multiprotocol Extensions (1): the speaker handles one address family.
    Multiprotocol(Multiprotocol),
    /// Route Refresh (2).
    RouteRefresh,
    /// Outbound Route Filtering (3).
    OutboundRouteFiltering(OutboundRouteFiltering),
    /// Extended Next Hop Encoding (5).
    ExtendedNextHop(ExtendedNextHop),
    /// Extended Message (6): messages up to 65,535 octets.
    ExtendedMessage,
    /// BGP Role (9).
    Role(BgpRole),
    /// Graceful Restart (64).
    GracefulRestart(GracefulRestart),
    /// Support for 4-octet AS numbers (65), with the speaker's AS number.
    FourOctetAs(u32),
    /// ADD-PATH (69).
    AddPath(AddPath),
    /// Enhanced Route Refresh (70).
    EnhancedRouteRefresh,
    /// Long-Lived Graceful Restart (71).
    LongLivedGracefulRestart(LongLivedGracefulRestart),
    /// FQDN (73): the speaker's host and domain name.
    Fqdn(Fqdn),
    /// Software Version (75).
    SoftwareVersion(SoftwareVersion),
    /// Route Refresh announced with the pre-standard code 128, which older
    /// Cisco software sends beside (or instead of) code 2. It means the same
    /// as [`Capability::RouteRefresh`] and is kept apart only so that it
    /// re-encodes with its own code.
    RouteRefreshPreStandard,
    /// Any other capability, or a known code whose value this crate cannot
    /// read (see the module documentation), as received.
    Unknown {
        /// The capability code.
        code: u8,
        /// The capability value.
        value: Bytes,
    },
}

impl Capability {
    /// The capability code.
    pub fn code(&self) -> u8 {
        match self {
            Capability::Multiprotocol(_) => multiprotocol::CODE,
            Capability::RouteRefresh => route_refresh::CODE,
            Capability::OutboundRouteFiltering(_) => outbound_route_filtering::CODE,
            Capability::ExtendedNextHop(_) => extended_next_hop::CODE,
            Capability::ExtendedMessage => extended_message::CODE,
            Capability::Role(_) => bgp_role::CODE,
            Capability::GracefulRestart(_) => graceful_restart::CODE,
            Capability::FourOctetAs(_) => four_octet_as::CODE,
            Capability::AddPath(_) => add_path::CODE,
            Capability::EnhancedRouteRefresh => enhanced_route_refresh::CODE,
            Capability::LongLivedGracefulRestart(_) => long_lived_graceful_restart::CODE,
            Capability::Fqdn(_) => fqdn::CODE,
            Capability::SoftwareVersion(_) => software_version::CODE,
            Capability::RouteRefreshPreStandard => route_refresh::PRE_STANDARD_CODE,
            Capability::Unknown { code, .. } => *code,
        }
    }

    /// Decodes one capability from its code and value (the octets after the
    /// capability length).
    pub fn decode(code: u8, value: Bytes) -> Result<Capability, DecodeError> {
        let empty = value.is_empty();
        Ok(match code {
            multiprotocol::CODE => Capability::Multiprotocol(Multiprotocol::decode(value)?),
            route_refresh::CODE if empty => Capability::RouteRefresh,
            outbound_route_filtering::CODE => {
                Capability::OutboundRouteFiltering(OutboundRouteFiltering::decode(value)?)
            }
            extended_next_hop::CODE => match ExtendedNextHop::decode(value.clone())? {
                Some(e) => Capability::ExtendedNextHop(e),
                None => Capability::Unknown { code, value },
            },
            extended_message::CODE if empty => Capability::ExtendedMessage,
            bgp_role::CODE => Capability::Role(BgpRole::decode(value)?),
            graceful_restart::CODE => Capability::GracefulRestart(GracefulRestart::decode(value)?),
            four_octet_as::CODE => Capability::FourOctetAs(four_octet_as::decode(value)?),
            add_path::CODE => Capability::AddPath(AddPath::decode(value)?),
            enhanced_route_refresh::CODE if empty => Capability::EnhancedRouteRefresh,
            long_lived_graceful_restart::CODE => {
                Capability::LongLivedGracefulRestart(LongLivedGracefulRestart::decode(value)?)
            }
            fqdn::CODE => Capability::Fqdn(Fqdn::decode(value)?),
            software_version::CODE => Capability::SoftwareVersion(SoftwareVersion::decode(value)?),
            route_refresh::PRE_STANDARD_CODE if empty => Capability::RouteRefreshPreStandard,
            _ => Capability::Unknown { code, value },
        })
    }

    /// Decodes the value of a Capabilities optional parameter: a sequence of
    /// code, length and value triples (RFC 5492 4). An empty value gives an
    /// empty list.
    pub fn decode_list(value: Bytes) -> Result<Vec<Capability>, DecodeError> {
        let mut r = Reader::new(value);
        let mut caps = Vec::new();
        while !r.is_empty() {
            let code = r.u8().ok_or_else(|| malformed("capability truncated"))?;
            let len = r
                .u8()
                .ok_or_else(|| malformed("capability length missing"))?;
            let value = r
                .take(usize::from(len))
                .ok_or_else(|| malformed("capability length runs past its parameter"))?;
            caps.push(Capability::decode(code, value)?);
        }
        Ok(caps)
    }

    /// Appends the capability value alone (without code and length).
    pub fn encode_value(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            Capability::Multiprotocol(m) => m.encode_value(buf),
            Capability::RouteRefresh
            | Capability::ExtendedMessage
            | Capability::EnhancedRouteRefresh
            | Capability::RouteRefreshPreStandard => {}
            Capability::OutboundRouteFiltering(o) => o.encode_value(buf)?,
            Capability::ExtendedNextHop(e) => e.encode_value(buf),
            Capability::Role(r) => buf.put_u8(r.to_u8()),
            Capability::GracefulRestart(g) => g.encode_value(buf)?,
            Capability::FourOctetAs(asn) => buf.put_u32(*asn),
            Capability::AddPath(a) => a.encode_value(buf),
            Capability::LongLivedGracefulRestart(l) => l.encode_value(buf)?,
            Capability::Fqdn(f) => f.encode_value(buf)?,
            Capability::SoftwareVersion(s) => s.encode_value(buf)?,
            Capability::Unknown { value, .. } => buf.put_slice(value),
        }
        Ok(())
    }

    /// Appends the capability: code, length and value. Fails if the value
    /// is longer than 255 octets.
    pub fn encode(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let start = buf.len();
        buf.put_u8(self.code());
        buf.put_u8(0);
        let res = self.encode_value(buf).and_then(|()| {
            u8::try_from(buf.len() - start - 2).map_err(|_| EncodeError::FieldTooLong {
                what: "capability value",
            })
        });
        match res {
            Ok(len) => {
                if let Some(b) = buf.get_mut(start + 1) {
                    *b = len;
                }
                Ok(())
            }
            Err(e) => {
                buf.truncate(start);
                Err(e)
            }
        }
    }

    /// Appends a sequence of capabilities, the value of one Capabilities
    /// optional parameter.
    pub fn encode_list(caps: &[Capability], buf: &mut BytesMut) -> Result<(), EncodeError> {
        caps.iter().try_for_each(|c| c.encode(buf))
    }

    /// Octets the capability takes on the wire, code and length included.
    pub fn encoded_len(&self) -> usize {
        let mut buf = BytesMut::new();
        match self.encode_value(&mut buf) {
            Ok(()) => 2 + buf.len(),
            Err(_) => 2,
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Capability::Multiprotocol(m) => write!(f, "multiprotocol {}", m.family),
            Capability::RouteRefresh => f.write_str("route refresh"),
            Capability::OutboundRouteFiltering(o) => write!(f, "outbound route filtering {o}"),
            Capability::ExtendedNextHop(e) => write!(f, "extended next hop {e}"),
            Capability::ExtendedMessage => f.write_str("extended message"),
            Capability::Role(r) => write!(f, "role {r}"),
            Capability::GracefulRestart(g) => write!(f, "graceful restart {g}"),
            Capability::FourOctetAs(asn) => write!(f, "4-octet AS {asn}"),
            Capability::AddPath(a) => write!(f, "add-path {a}"),
            Capability::EnhancedRouteRefresh => f.write_str("enhanced route refresh"),
            Capability::LongLivedGracefulRestart(l) => write!(f, "long-lived graceful restart {l}"),
            Capability::Fqdn(n) => write!(f, "fqdn {n}"),
            Capability::SoftwareVersion(s) => write!(f, "software version {s}"),
            Capability::RouteRefreshPreStandard => f.write_str("route refresh (pre-standard, 128)"),
            Capability::Unknown { code, value } => {
                write!(f, "capability {code} (")?;
                for b in value.iter() {
                    write!(f, "{b:02x}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// The Send/Receive field of ADD-PATH (RFC 7911 4) and Outbound Route
/// Filtering (RFC 5291 4) capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SendReceive {
    /// The speaker is willing to receive (1).
    Receive,
    /// The speaker would like to send (2).
    Send,
    /// Both (3).
    Both,
    /// Any other value, which the RFCs leave undefined, as received.
    Other(u8),
}

impl SendReceive {
    /// The on-wire value.
    pub const fn to_u8(self) -> u8 {
        match self {
            SendReceive::Receive => 1,
            SendReceive::Send => 2,
            SendReceive::Both => 3,
            SendReceive::Other(v) => v,
        }
    }

    /// The value for an on-wire octet.
    pub const fn from_u8(v: u8) -> Self {
        match v {
            1 => SendReceive::Receive,
            2 => SendReceive::Send,
            3 => SendReceive::Both,
            v => SendReceive::Other(v),
        }
    }

    /// Whether the speaker is willing to receive (Receive or Both).
    pub const fn receives(self) -> bool {
        matches!(self, SendReceive::Receive | SendReceive::Both)
    }

    /// Whether the speaker would like to send (Send or Both).
    pub const fn sends(self) -> bool {
        matches!(self, SendReceive::Send | SendReceive::Both)
    }
}

impl fmt::Display for SendReceive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendReceive::Receive => f.write_str("receive"),
            SendReceive::Send => f.write_str("send"),
            SendReceive::Both => f.write_str("send/receive"),
            SendReceive::Other(v) => write!(f, "send/receive value {v}"),
        }
    }
}

/// Reads an AFI (2 octets), a reserved octet when `reserved` is set, and a
/// SAFI (1 octet).
pub(crate) fn read_family(r: &mut Reader, reserved: bool) -> Option<(crate::AfiSafi, u8)> {
    let afi = r.u16()?;
    let res = if reserved { r.u8()? } else { 0 };
    let safi = r.u8()?;
    Some((crate::AfiSafi::new(afi.into(), safi.into()), res))
}

/// Writes an AFI (2 octets) and a SAFI (1 octet).
pub(crate) fn put_family(buf: &mut BytesMut, family: crate::AfiSafi) {
    buf.put_u16(family.afi.to_u16());
    buf.put_u8(family.safi.to_u8());
}
