//! The OPEN message (RFC 4271 4.2), with the Capabilities optional parameter
//! (RFC 5492) and the extended optional parameters length of RFC 9072.
//!
//! Body: Version (1 octet), My Autonomous System (2), Hold Time (2), BGP
//! Identifier (4), Optional Parameters Length (1), Optional Parameters. In
//! the RFC 9072 format the length octet is followed by a parameter type of
//! 255, a 2-octet length, and parameters with 2-octet lengths.
//!
//! # What decoding checks
//!
//! [`Open::decode`] checks the syntax, and the three things RFC 4271 6.2
//! says a receiver checks on the message itself: the version (4), the hold
//! time (not 1 or 2) and the optional parameter types (only Capabilities, 2,
//! is supported). Everything that depends on configuration is left to the
//! session layer, which has [`Open::validate_peer_as`],
//! [`Open::validate_identifier`] and [`Open::role`] for it.
//! [`Open::parse`] checks the syntax only, for readers of recorded messages.
//!
//! A length that does not add up (parameters running past the message, or
//! octets left after them) and a malformed capability are OPEN Message Error
//! / Unspecific, the subcode RFC 4271 6.2 gives for a recognised but
//! malformed optional parameter (see [`crate::capability`]).
//!
//! # Byte-exact re-encoding
//!
//! An [`Open`] keeps the parameters as they were grouped on the wire (one
//! capability per parameter, as Cisco sends them, or all in one), every
//! capability in order, unknown parameters and capabilities as raw octets,
//! and whether the RFC 9072 format was used, so that decoding then encoding
//! gives back the octets received.

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;
use std::net::Ipv4Addr;

use super::header::{HEADER_LEN, Header, MessageType};
use crate::afi::AfiSafi;
use crate::capability::four_octet_as::AS_TRANS;
use crate::capability::reader::Reader;
use crate::capability::{
    AddPath, BgpRole, Capability, ExtendedNextHop, GracefulRestart, malformed,
};
use crate::context::{MAX_MESSAGE_LEN, SessionContext};
use crate::error::{DecodeError, EncodeError, OpenMessageSubcode};

/// The BGP version this crate speaks.
pub const BGP_VERSION: u8 = 4;
/// The optional parameter type of capabilities (RFC 5492 4).
pub const CAPABILITIES_PARAMETER: u8 = 2;
/// The parameter type that marks the RFC 9072 extended format.
pub const EXTENDED_LENGTH_PARAMETER: u8 = 255;
/// Length of the fixed part of the OPEN body.
const FIXED_LEN: usize = 10;

/// One optional parameter of an OPEN message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OptionalParameter {
    /// A Capabilities parameter (type 2) with the capabilities it carries,
    /// in order (possibly none).
    Capabilities(Vec<Capability>),
    /// Any other parameter type (1, Authentication, is deprecated), as
    /// received. [`Open::decode`] refuses these with Unsupported Optional
    /// Parameter; [`Open::parse`] keeps them, and they can be built to test
    /// a peer.
    Unknown {
        /// The parameter type.
        param_type: u8,
        /// The parameter value.
        value: Bytes,
    },
}

impl OptionalParameter {
    /// The parameter type.
    pub fn param_type(&self) -> u8 {
        match self {
            OptionalParameter::Capabilities(_) => CAPABILITIES_PARAMETER,
            OptionalParameter::Unknown { param_type, .. } => *param_type,
        }
    }

    fn encode_value(&self, buf: &mut BytesMut) -> Result<(), EncodeError> {
        match self {
            OptionalParameter::Capabilities(caps) => Capability::encode_list(caps, buf),
            OptionalParameter::Unknown { value, .. } => {
                buf.put_slice(value);
                Ok(())
            }
        }
    }
}

/// How the optional parameters are framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ParametersFormat {
    /// The 1-octet lengths of RFC 4271 when everything fits, the RFC 9072
    /// format otherwise (more than 255 octets of parameters, or one
    /// parameter longer than 255 octets).
    #[default]
    Standard,
    /// The RFC 9072 format, whatever the length. `non_ext_len` is the
    /// Non-Extended Optional Parameters Length octet, which the receiver
    /// ignores: 255 when sent by this crate, kept as received otherwise
    /// (0 is not allowed and is sent as 255).
    Extended {
        /// The Non-Ext OP Len octet.
        non_ext_len: u8,
    },
}

/// An OPEN message.
///
/// ```
/// use std::net::Ipv4Addr;
/// use bytes::BytesMut;
/// use bgp_wire::{AfiSafi, Capability, Open, SessionContext};
/// use bgp_wire::capability::Multiprotocol;
///
/// let open = Open::new(
///     4_200_000_000,
///     90,
///     Ipv4Addr::new(192, 0, 2, 1),
///     vec![
///         Capability::Multiprotocol(Multiprotocol::new(AfiSafi::IPV4_UNICAST)),
///         Capability::FourOctetAs(4_200_000_000),
///     ],
/// );
/// assert_eq!(open.my_as, 23456);
/// assert_eq!(open.effective_as(), 4_200_000_000);
///
/// let ctx = SessionContext::default();
/// let mut buf = BytesMut::new();
/// open.encode(&ctx, &mut buf).unwrap();
/// let body = buf.split_off(19).freeze();
/// assert_eq!(Open::decode(body, &ctx).unwrap(), open);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Open {
    /// The protocol version (4).
    pub version: u8,
    /// My Autonomous System: the sender's AS number, or [`AS_TRANS`] when
    /// it does not fit 2 octets.
    pub my_as: u16,
    /// The proposed hold time in seconds: 0, or at least 3.
    pub hold_time: u16,
    /// The sender's BGP Identifier.
    pub bgp_identifier: Ipv4Addr,
    /// The optional parameters, in order.
    pub parameters: Vec<OptionalParameter>,
    /// How the optional parameters are framed.
    pub parameters_format: ParametersFormat,
}

impl Open {
    /// A version 4 OPEN for AS `asn` with all `capabilities` in one
    /// Capabilities parameter (none when the list is empty). `my_as` is set
    /// to [`AS_TRANS`] when `asn` does not fit 2 octets; the caller includes
    /// [`Capability::FourOctetAs`] in `capabilities` as RFC 6793 requires.
    pub fn new(
        asn: u32,
        hold_time: u16,
        bgp_identifier: Ipv4Addr,
        capabilities: Vec<Capability>,
    ) -> Self {
        let parameters = if capabilities.is_empty() {
            Vec::new()
        } else {
            vec![OptionalParameter::Capabilities(capabilities)]
        };
        Open {
            version: BGP_VERSION,
            my_as: u16::try_from(asn).unwrap_or(AS_TRANS),
            hold_time,
            bgp_identifier,
            parameters,
            parameters_format: ParametersFormat::Standard,
        }
    }

    /// Every capability of every Capabilities parameter, in order.
    pub fn capabilities(&self) -> impl Iterator<Item = &Capability> + '_ {
        self.parameters.iter().flat_map(|p| match p {
            OptionalParameter::Capabilities(caps) => caps.as_slice(),
            OptionalParameter::Unknown { .. } => &[],
        })
    }

    /// Whether a capability with `code` was announced.
    pub fn has_capability(&self, code: u8) -> bool {
        self.capabilities().any(|c| c.code() == code)
    }

    /// The AS number of the 4-octet AS capability, if announced (the first
    /// one if there are several).
    pub fn four_octet_as(&self) -> Option<u32> {
        self.capabilities().find_map(|c| match c {
            Capability::FourOctetAs(asn) => Some(*asn),
            _ => None,
        })
    }

    /// The sender's AS number: that of the 4-octet AS capability if
    /// announced, My Autonomous System otherwise (RFC 6793 4.1).
    pub fn effective_as(&self) -> u32 {
        self.four_octet_as().unwrap_or(u32::from(self.my_as))
    }

    /// The address families of the Multiprotocol capabilities, in order.
    pub fn families(&self) -> impl Iterator<Item = AfiSafi> + '_ {
        self.capabilities().filter_map(|c| match c {
            Capability::Multiprotocol(m) => Some(m.family),
            _ => None,
        })
    }

    /// The first ADD-PATH capability, if announced.
    pub fn add_path(&self) -> Option<&AddPath> {
        self.capabilities().find_map(|c| match c {
            Capability::AddPath(a) => Some(a),
            _ => None,
        })
    }

    /// The first Graceful Restart capability, if announced.
    pub fn graceful_restart(&self) -> Option<&GracefulRestart> {
        self.capabilities().find_map(|c| match c {
            Capability::GracefulRestart(g) => Some(g),
            _ => None,
        })
    }

    /// The BGP Role announced, if any. Several BGP Role capabilities with
    /// different values are a Role Mismatch (RFC 9234 4.2).
    pub fn role(&self) -> Result<Option<BgpRole>, DecodeError> {
        let mut role = None;
        for c in self.capabilities() {
            if let Capability::Role(r) = c {
                match role {
                    Some(prev) if prev != *r => {
                        return Err(DecodeError::open(
                            OpenMessageSubcode::RoleMismatch,
                            Bytes::new(),
                            "several BGP role capabilities with different values",
                        ));
                    }
                    _ => role = Some(*r),
                }
            }
        }
        Ok(role)
    }

    /// The session context both speakers agree on once each has the
    /// other's OPEN (`local` is ours, `remote` the peer's): 4-octet AS
    /// numbers and extended messages when both announced them (RFC 6793,
    /// RFC 8654), ADD-PATH directions per family (RFC 7911, see
    /// [`AddPath::negotiate`]) and the extended next hop pairs both listed
    /// (RFC 8950). Capabilities of the same code announced several times are
    /// merged.
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use bgp_wire::{Capability, Open};
    ///
    /// let a = Open::new(65001, 90, Ipv4Addr::new(10, 0, 0, 1),
    ///     vec![Capability::FourOctetAs(65001), Capability::ExtendedMessage]);
    /// let b = Open::new(65002, 90, Ipv4Addr::new(10, 0, 0, 2),
    ///     vec![Capability::FourOctetAs(65002)]);
    /// let ctx = Open::negotiate(&a, &b);
    /// assert!(ctx.four_octet_as);
    /// assert!(!ctx.extended_message);
    /// ```
    pub fn negotiate(local: &Open, remote: &Open) -> SessionContext {
        let both = |code| local.has_capability(code) && remote.has_capability(code);
        let mut ctx = SessionContext::default()
            .with_four_octet_as(both(crate::capability::four_octet_as::CODE))
            .with_extended_message(both(crate::capability::extended_message::CODE));
        let add_path = |o: &Open| AddPath {
            families: o
                .capabilities()
                .filter_map(|c| match c {
                    Capability::AddPath(a) => Some(a.families.iter().copied()),
                    _ => None,
                })
                .flatten()
                .collect(),
        };
        for (family, direction) in AddPath::negotiate(&add_path(local), &add_path(remote)) {
            ctx.set_add_path(family, direction, true);
        }
        let enh = |o: &Open| ExtendedNextHop {
            entries: o
                .capabilities()
                .filter_map(|c| match c {
                    Capability::ExtendedNextHop(e) => Some(e.entries.iter().copied()),
                    _ => None,
                })
                .flatten()
                .collect(),
        };
        ExtendedNextHop::negotiate(&enh(local), &enh(remote), ctx)
    }

    /// Checks the sender's AS number ([`Open::effective_as`]) against the
    /// one configured for the peer: Bad Peer AS otherwise, with the AS the
    /// peer sent as data (4 octets when it announced a 4-octet AS, 2
    /// otherwise).
    pub fn validate_peer_as(&self, expected: u32) -> Result<(), DecodeError> {
        if self.effective_as() == expected {
            return Ok(());
        }
        let data = match self.four_octet_as() {
            Some(asn) => Bytes::copy_from_slice(&asn.to_be_bytes()),
            None => Bytes::copy_from_slice(&self.my_as.to_be_bytes()),
        };
        Err(DecodeError::open(
            OpenMessageSubcode::BadPeerAs,
            data,
            "peer AS is not the one configured",
        ))
    }

    /// Checks the BGP Identifier as RFC 6286 2.2 says: Bad BGP Identifier
    /// if it is zero, or if the peer is internal (same AS) and its
    /// identifier equals ours, `local`.
    pub fn validate_identifier(&self, local: Ipv4Addr, internal: bool) -> Result<(), DecodeError> {
        if self.bgp_identifier.is_unspecified() {
            return Err(DecodeError::open(
                OpenMessageSubcode::BadBgpIdentifier,
                Bytes::new(),
                "BGP identifier is zero",
            ));
        }
        if internal && self.bgp_identifier == local {
            return Err(DecodeError::open(
                OpenMessageSubcode::BadBgpIdentifier,
                Bytes::new(),
                "internal peer has our BGP identifier",
            ));
        }
        Ok(())
    }

    /// Decodes an OPEN body (the message without its header) and checks the
    /// version, the hold time and the optional parameter types.
    ///
    /// Errors: Bad Message Length for a body shorter than 10 octets;
    /// Unsupported Version Number (data: 2-octet 4) for a version other
    /// than 4; Unspecific for inconsistent lengths or a malformed
    /// capability; Unacceptable Hold Time for a hold time of 1 or 2;
    /// Unsupported Optional Parameter for a parameter type other than 2.
    pub fn decode(body: Bytes, _ctx: &SessionContext) -> Result<Self, DecodeError> {
        if body.len() < FIXED_LEN {
            return Err(short(&body));
        }
        if body.first() != Some(&BGP_VERSION) {
            return Err(DecodeError::open(
                OpenMessageSubcode::UnsupportedVersionNumber,
                Bytes::copy_from_slice(&u16::from(BGP_VERSION).to_be_bytes()),
                "BGP version is not 4",
            ));
        }
        let open = Open::parse(body)?;
        if matches!(open.hold_time, 1 | 2) {
            return Err(DecodeError::open(
                OpenMessageSubcode::UnacceptableHoldTime,
                Bytes::new(),
                "hold time of 1 or 2 seconds",
            ));
        }
        if open
            .parameters
            .iter()
            .any(|p| p.param_type() != CAPABILITIES_PARAMETER)
        {
            return Err(DecodeError::open(
                OpenMessageSubcode::UnsupportedOptionalParameter,
                Bytes::new(),
                "optional parameter other than capabilities",
            ));
        }
        Ok(open)
    }

    /// Decodes an OPEN body checking the syntax only: any version, hold
    /// time and parameter type is accepted. For MRT readers and tools.
    pub fn parse(body: Bytes) -> Result<Self, DecodeError> {
        if body.len() < FIXED_LEN {
            return Err(short(&body));
        }
        let mut r = Reader::new(body);
        let fixed = (|| {
            Some((
                r.u8()?,
                r.u16()?,
                r.u16()?,
                Ipv4Addr::from(r.u32()?),
                r.u8()?,
            ))
        })();
        let Some((version, my_as, hold_time, bgp_identifier, opt_len)) = fixed else {
            return Err(malformed("OPEN truncated"));
        };
        let mut rest = r.rest();
        let extended = opt_len != 0 && rest.first() == Some(&EXTENDED_LENGTH_PARAMETER);
        let (parameters_format, params) = if extended {
            let mut r = Reader::new(rest);
            let _marker = r.u8();
            let len = r
                .u16()
                .ok_or_else(|| malformed("extended optional parameters length truncated"))?;
            if r.remaining() != usize::from(len) {
                return Err(malformed(
                    "extended optional parameters length does not match the message length",
                ));
            }
            (
                ParametersFormat::Extended {
                    non_ext_len: opt_len,
                },
                r.rest(),
            )
        } else {
            if rest.len() != usize::from(opt_len) {
                return Err(malformed(
                    "optional parameters length does not match the message length",
                ));
            }
            (ParametersFormat::Standard, std::mem::take(&mut rest))
        };
        let mut r = Reader::new(params);
        let mut parameters = Vec::new();
        while !r.is_empty() {
            let param_type = r
                .u8()
                .ok_or_else(|| malformed("optional parameter truncated"))?;
            let len = if extended {
                r.u16()
            } else {
                r.u8().map(u16::from)
            }
            .ok_or_else(|| malformed("optional parameter length truncated"))?;
            let value = r
                .take(usize::from(len))
                .ok_or_else(|| malformed("optional parameter runs past the parameters"))?;
            parameters.push(if param_type == CAPABILITIES_PARAMETER {
                OptionalParameter::Capabilities(Capability::decode_list(value)?)
            } else {
                OptionalParameter::Unknown { param_type, value }
            });
        }
        Ok(Open {
            version,
            my_as,
            hold_time,
            bgp_identifier,
            parameters,
            parameters_format,
        })
    }

    /// The framing [`Open::encode`] will use: [`ParametersFormat::Standard`]
    /// when the parameters fit 1-octet lengths and no other format was
    /// asked for, the extended format (with its Non-Ext OP Len octet)
    /// otherwise.
    pub fn encoded_format(&self) -> Result<ParametersFormat, EncodeError> {
        Ok(self.encode_parameters()?.0)
    }

    fn encode_parameters(&self) -> Result<(ParametersFormat, Vec<(u8, BytesMut)>), EncodeError> {
        let mut values = Vec::with_capacity(self.parameters.len());
        for p in &self.parameters {
            let mut v = BytesMut::new();
            p.encode_value(&mut v)?;
            values.push((p.param_type(), v));
        }
        let fits = values.iter().all(|(_, v)| v.len() <= 255)
            && values.iter().map(|(_, v)| 2 + v.len()).sum::<usize>() <= 255
            && values.first().map(|(t, _)| *t) != Some(EXTENDED_LENGTH_PARAMETER);
        let format = match self.parameters_format {
            ParametersFormat::Standard if fits => ParametersFormat::Standard,
            ParametersFormat::Extended { non_ext_len } if non_ext_len != 0 => {
                ParametersFormat::Extended { non_ext_len }
            }
            _ => ParametersFormat::Extended { non_ext_len: 255 },
        };
        Ok((format, values))
    }

    /// Appends the whole message, header included. The OPEN is limited to
    /// 4,096 octets whatever the session (RFC 8654 4).
    pub fn encode(&self, _ctx: &SessionContext, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let (format, values) = self.encode_parameters()?;
        let mut params = BytesMut::new();
        match format {
            ParametersFormat::Standard => {
                let total: usize = values.iter().map(|(_, v)| 2 + v.len()).sum();
                params.put_u8(u8::try_from(total).map_err(|_| EncodeError::FieldTooLong {
                    what: "optional parameters",
                })?);
                for (t, v) in &values {
                    params.put_u8(*t);
                    params.put_u8(u8::try_from(v.len()).map_err(|_| {
                        EncodeError::FieldTooLong {
                            what: "optional parameter",
                        }
                    })?);
                    params.put_slice(v);
                }
            }
            ParametersFormat::Extended { non_ext_len } => {
                let total: usize = values.iter().map(|(_, v)| 3 + v.len()).sum();
                params.put_u8(non_ext_len);
                params.put_u8(EXTENDED_LENGTH_PARAMETER);
                params.put_u16(u16::try_from(total).map_err(|_| EncodeError::FieldTooLong {
                    what: "optional parameters",
                })?);
                for (t, v) in &values {
                    params.put_u8(*t);
                    params.put_u16(u16::try_from(v.len()).map_err(|_| {
                        EncodeError::FieldTooLong {
                            what: "optional parameter",
                        }
                    })?);
                    params.put_slice(v);
                }
            }
        }
        let length = HEADER_LEN + FIXED_LEN - 1 + params.len();
        let too_long = EncodeError::MessageTooLong {
            length,
            max: MAX_MESSAGE_LEN,
        };
        if length > MAX_MESSAGE_LEN {
            return Err(too_long);
        }
        Header {
            length: u16::try_from(length).map_err(|_| too_long)?,
            message_type: MessageType::Open,
        }
        .encode(buf);
        buf.put_u8(self.version);
        buf.put_u16(self.my_as);
        buf.put_u16(self.hold_time);
        buf.put_slice(&self.bgp_identifier.octets());
        buf.put_slice(&params);
        Ok(())
    }
}

/// Bad Message Length for a body too short to be an OPEN.
fn short(body: &Bytes) -> DecodeError {
    DecodeError::BadMessageLength {
        length: u16::try_from(HEADER_LEN + body.len()).unwrap_or(u16::MAX),
    }
}

impl fmt::Display for Open {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "OPEN version {}, AS {}, hold time {}, identifier {}",
            self.version,
            self.effective_as(),
            self.hold_time,
            self.bgp_identifier
        )?;
        let mut first = true;
        for c in self.capabilities() {
            f.write_str(if first { ", capabilities: " } else { ", " })?;
            first = false;
            write!(f, "{c}")?;
        }
        for p in &self.parameters {
            if let OptionalParameter::Unknown { param_type, value } = p {
                write!(f, ", parameter {param_type} ({} octets)", value.len())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::{Multiprotocol, SendReceive};
    use crate::error::ErrorCode;

    fn hex(s: &str) -> Bytes {
        Bytes::from(
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect::<Vec<u8>>(),
        )
    }

    fn round_trip(body: &Bytes) -> Open {
        let ctx = SessionContext::default();
        let open = Open::decode(body.clone(), &ctx).unwrap();
        let mut buf = BytesMut::new();
        open.encode(&ctx, &mut buf).unwrap();
        assert_eq!(&buf[HEADER_LEN..], &body[..]);
        assert_eq!(
            usize::from(u16::from_be_bytes([buf[16], buf[17]])),
            buf.len()
        );
        open
    }

    #[test]
    fn cisco_singlets() {
        // PacketLife BGP_AS_set: one capability per parameter.
        let open = round_trip(&hex("04001e00b40a0000091002060104000100010202800002020200"));
        assert_eq!(open.parameters.len(), 3);
        assert_eq!(open.my_as, 30);
        assert_eq!(open.effective_as(), 30);
        assert_eq!(open.families().collect::<Vec<_>>(), [AfiSafi::IPV4_UNICAST]);
        assert!(
            open.capabilities()
                .any(|c| *c == Capability::RouteRefreshPreStandard)
        );
        assert!(open.capabilities().any(|c| *c == Capability::RouteRefresh));
    }

    #[test]
    fn four_octet_as_and_add_path() {
        // tcpdump bgp-4byte-asn: AS_TRANS, AS 2764334674, ADD-PATH receive.
        let open = round_trip(&hex(
            "04 5ba0 00b4 00000101 1a 0218 010400010001 0200 4002c12c 4104a4c46652 450400010101"
                .replace(' ', "")
                .as_str(),
        ));
        assert_eq!(open.my_as, AS_TRANS);
        assert_eq!(open.four_octet_as(), Some(0xa4c4_6652));
        assert_eq!(open.effective_as(), 0xa4c4_6652);
        assert_eq!(
            open.add_path().unwrap().mode(AfiSafi::IPV4_UNICAST),
            Some(SendReceive::Receive)
        );
        let gr = open.graceful_restart().unwrap();
        assert!(gr.restart_state() && gr.notification());
        assert_eq!(gr.restart_time, 300);
        assert!(open.validate_peer_as(0xa4c4_6652).is_ok());
        let e = open.validate_peer_as(65000).unwrap_err();
        assert_eq!(e.code().to_pair(), (2, 2));
        assert_eq!(&e.data()[..], &[0xa4, 0xc4, 0x66, 0x52]);
    }

    #[test]
    fn rfc9072_extended_format() {
        // tcpdump bgp-extended-optional-parameters-length.
        let body = hex(concat!(
            "0400ae00b406060606ffff006c0200060104000100010200060104000200010200028000",
            "020002020002000246000200064104000000ae020002060002000a450800010101000201",
            "0102001349110f65786974312d64656269616e2d31310002000440020078020010470e00",
            "01018000016800020180000168"
        ));
        let open = round_trip(&body);
        assert_eq!(
            open.parameters_format,
            ParametersFormat::Extended { non_ext_len: 255 }
        );
        assert_eq!(open.effective_as(), 174);
        assert!(open.has_capability(crate::capability::long_lived_graceful_restart::CODE));
        // The same OPEN re-encoded in the standard format fits 1-octet lengths.
        let mut std_open = open.clone();
        std_open.parameters_format = ParametersFormat::Standard;
        let mut buf = BytesMut::new();
        std_open
            .encode(&SessionContext::default(), &mut buf)
            .unwrap();
        assert_eq!(buf.len(), 19 + body.len() - 3 - open.parameters.len());
        let again = Open::decode(buf.split_off(19).freeze(), &SessionContext::default()).unwrap();
        assert_eq!(again, std_open);
    }

    #[test]
    fn long_parameters_switch_to_extended() {
        let caps: Vec<Capability> = (0..70u16)
            .map(|i| {
                Capability::Multiprotocol(Multiprotocol::new(AfiSafi::new(i.into(), 1.into())))
            })
            .collect();
        let open = Open::new(65001, 90, Ipv4Addr::new(10, 0, 0, 1), caps);
        assert_eq!(
            open.encoded_format(),
            Ok(ParametersFormat::Extended { non_ext_len: 255 })
        );
        let ctx = SessionContext::default();
        let mut buf = BytesMut::new();
        open.encode(&ctx, &mut buf).unwrap();
        let back = Open::decode(buf.split_off(19).freeze(), &ctx).unwrap();
        assert_eq!(back.parameters, open.parameters);
        assert_eq!(
            back.parameters_format,
            ParametersFormat::Extended { non_ext_len: 255 }
        );
    }

    #[test]
    fn semantic_errors() {
        let ctx = SessionContext::default();
        let e = Open::decode(hex("03fde900b40a00000100"), &ctx).unwrap_err();
        assert_eq!(
            e.code(),
            ErrorCode::OpenMessage(OpenMessageSubcode::UnsupportedVersionNumber)
        );
        assert_eq!(&e.data()[..], &[0, 4]);
        assert!(Open::parse(hex("03fde900b40a00000100")).is_ok());
        let e = Open::decode(hex("04fde900020a00000100"), &ctx).unwrap_err();
        assert_eq!(e.code().to_pair(), (2, 6));
        let e = Open::decode(hex("04fde900b40a0000010401020000"), &ctx).unwrap_err();
        assert_eq!(e.code().to_pair(), (2, 4));
        let open = Open::parse(hex("04fde900b40a0000010401020000")).unwrap();
        assert_eq!(
            open.parameters,
            [OptionalParameter::Unknown {
                param_type: 1,
                value: hex("0000")
            }]
        );
        // Lengths that do not add up.
        for body in [
            "04fde900b40a0000010100",
            "04fde900b40a000001020201",
            "04fde900b40a00000103020100",
            "04fde900b40a0000010402020100",
            "04fde900b40a000001ffff",
            "04fde900b40a000001ffff0004020000",
        ] {
            let e = Open::decode(hex(body), &ctx).unwrap_err();
            assert_eq!(e.code().to_pair(), (2, 0), "{body}");
        }
        assert_eq!(
            Open::decode(hex("04fde900b40a0000"), &ctx),
            Err(DecodeError::BadMessageLength { length: 27 })
        );
        let open = Open::decode(hex("04fde900b40000000000"), &ctx).unwrap();
        assert_eq!(
            open.validate_identifier(Ipv4Addr::new(10, 0, 0, 1), false)
                .unwrap_err()
                .code()
                .to_pair(),
            (2, 3)
        );
        let open = Open::decode(hex("04fde900b40a00000100"), &ctx).unwrap();
        assert!(
            open.validate_identifier(Ipv4Addr::new(10, 0, 0, 1), false)
                .is_ok()
        );
        assert!(
            open.validate_identifier(Ipv4Addr::new(10, 0, 0, 1), true)
                .is_err()
        );
    }

    #[test]
    fn roles() {
        let ctx = SessionContext::default();
        let one = Open::decode(hex("04fde900b40a000001050203090103"), &ctx).unwrap();
        assert_eq!(one.role(), Ok(Some(BgpRole::Customer)));
        let extra = Open::decode(hex("04fde900b40a00000108020609010309010400"), &ctx);
        assert_eq!(extra.unwrap_err().code().to_pair(), (2, 0));
        let two = Open::decode(hex("04fde900b40a000001080206090103090104"), &ctx).unwrap();
        assert_eq!(two.role().unwrap_err().code().to_pair(), (2, 11));
    }

    #[test]
    fn negotiate_add_path_and_next_hop() {
        use crate::afi::Afi;
        use crate::capability::{AddPathFamily, ExtendedNextHopEntry};
        use crate::context::Direction;
        let caps = |sr| {
            vec![
                Capability::AddPath(AddPath {
                    families: vec![AddPathFamily {
                        family: AfiSafi::IPV4_UNICAST,
                        send_receive: sr,
                    }],
                }),
                Capability::ExtendedNextHop(ExtendedNextHop {
                    entries: vec![ExtendedNextHopEntry {
                        family: AfiSafi::IPV4_UNICAST,
                        next_hop_afi: Afi::Ipv6,
                    }],
                }),
            ]
        };
        let id = Ipv4Addr::new(10, 0, 0, 1);
        let local = Open::new(1, 90, id, caps(SendReceive::Receive));
        let remote = Open::new(2, 90, id, caps(SendReceive::Both));
        let ctx = Open::negotiate(&local, &remote);
        assert!(ctx.add_path(AfiSafi::IPV4_UNICAST, Direction::Receive));
        assert!(!ctx.add_path(AfiSafi::IPV4_UNICAST, Direction::Send));
        assert!(ctx.extended_next_hop(AfiSafi::IPV4_UNICAST, Afi::Ipv6));
        assert!(!ctx.four_octet_as);
        let plain = Open::new(2, 90, id, vec![]);
        assert_eq!(Open::negotiate(&local, &plain), SessionContext::default());
    }

    #[test]
    fn display() {
        let open = Open::new(
            65001,
            180,
            Ipv4Addr::new(10, 0, 0, 1),
            vec![
                Capability::Multiprotocol(Multiprotocol::new(AfiSafi::IPV4_UNICAST)),
                Capability::RouteRefresh,
            ],
        );
        assert_eq!(
            open.to_string(),
            "OPEN version 4, AS 65001, hold time 180, identifier 10.0.0.1, capabilities: multiprotocol ipv4-unicast, route refresh"
        );
    }
}
