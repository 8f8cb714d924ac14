//! The checks of a received OPEN (RFC 4271 6.2 and its updates), each
//! failure typed and carrying the NOTIFICATION that answers it.
//!
//! | check | NOTIFICATION |
//! |-------|--------------|
//! | version 4 | 2/1 Unsupported Version Number, data: 4 as 2 octets |
//! | only Capabilities optional parameters | 2/4 Unsupported Optional Parameter |
//! | the AS number (the 4-octet AS capability's when present, RFC 6793; not 0, RFC 7607; My AS either AS_TRANS or equal to it) | 2/2 Bad Peer AS, data: the AS received |
//! | hold time 0 (if accepted) or at least the configured minimum, never 1 or 2 | 2/6 Unacceptable Hold Time |
//! | BGP Identifier not 0, and not ours on an internal session (RFC 6286) | 2/3 Bad BGP Identifier |
//! | BGP Role pairs fit, or strict mode and no role (RFC 9234 4.2) | 2/11 Role Mismatch |
//! | every required capability announced (RFC 5492 5) | 2/7 Unsupported Capability, data: the capabilities missing |
//!
//! The syntax of the message (lengths, malformed capabilities) is checked
//! by the codec, [`bgp_wire::Open::decode`], whose errors arrive as
//! [`OpenError::Decode`]. The checks that depend on nothing but the message
//! (version, hold time of 1 or 2, parameter types) are made by both, so that
//! an [`Open`] built in memory is checked as strictly as one decoded.

use std::net::Ipv4Addr;

use bytes::{Bytes, BytesMut};

use bgp_wire::capability::four_octet_as::AS_TRANS;
use bgp_wire::capability::{BgpRole, multiprotocol, route_refresh};
use bgp_wire::error::OpenMessageSubcode;
use bgp_wire::message::open::BGP_VERSION;
use bgp_wire::{
    AfiSafi, Capability, DecodeError, ErrorCode, Notification, Open, OptionalParameter,
};

use crate::config::{RequiredCapability, SessionConfig};

/// Why a received OPEN is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The version is not 4 (2/1).
    #[error("unsupported BGP version {version}")]
    UnsupportedVersion {
        /// The version received.
        version: u8,
    },
    /// An optional parameter other than Capabilities (2/4).
    #[error("unsupported optional parameter type {param_type}")]
    UnsupportedOptionalParameter {
        /// The parameter type.
        param_type: u8,
    },
    /// The AS number is not the configured one, is 0, or My AS disagrees
    /// with the 4-octet AS capability (2/2).
    #[error("peer AS {received} is not acceptable (expected {expected})")]
    BadPeerAs {
        /// The AS number the peer announced.
        received: u32,
        /// The AS number configured.
        expected: u32,
        /// The NOTIFICATION data: the AS as received, 2 or 4 octets.
        data: Bytes,
    },
    /// The BGP Identifier is 0, or ours on an internal session (2/3).
    #[error("bad BGP identifier {identifier}")]
    BadBgpIdentifier {
        /// The identifier received.
        identifier: Ipv4Addr,
    },
    /// The hold time is 1 or 2, 0 when not accepted, or below the
    /// configured minimum (2/6).
    #[error("unacceptable hold time {hold_time}")]
    UnacceptableHoldTime {
        /// The hold time received.
        hold_time: u16,
    },
    /// Required capabilities are missing (2/7).
    #[error("{} required capabilities missing", missing.len())]
    UnsupportedCapability {
        /// The missing capabilities, as the NOTIFICATION carries them.
        missing: Vec<Capability>,
    },
    /// The BGP roles do not fit, or strict mode and the peer announced none
    /// (2/11).
    #[error("role mismatch: ours {local:?}, the peer's {remote:?}")]
    RoleMismatch {
        /// Our role.
        local: Option<BgpRole>,
        /// The peer's role.
        remote: Option<BgpRole>,
    },
    /// The codec refused the message.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

impl OpenError {
    /// The NOTIFICATION error code and subcode.
    pub fn code(&self) -> ErrorCode {
        let sub = match self {
            OpenError::UnsupportedVersion { .. } => OpenMessageSubcode::UnsupportedVersionNumber,
            OpenError::UnsupportedOptionalParameter { .. } => {
                OpenMessageSubcode::UnsupportedOptionalParameter
            }
            OpenError::BadPeerAs { .. } => OpenMessageSubcode::BadPeerAs,
            OpenError::BadBgpIdentifier { .. } => OpenMessageSubcode::BadBgpIdentifier,
            OpenError::UnacceptableHoldTime { .. } => OpenMessageSubcode::UnacceptableHoldTime,
            OpenError::UnsupportedCapability { .. } => OpenMessageSubcode::UnsupportedCapability,
            OpenError::RoleMismatch { .. } => OpenMessageSubcode::RoleMismatch,
            OpenError::Decode(e) => return e.code(),
        };
        ErrorCode::OpenMessage(sub)
    }

    /// The NOTIFICATION data.
    pub fn data(&self) -> Bytes {
        match self {
            OpenError::UnsupportedVersion { .. } => {
                Bytes::copy_from_slice(&u16::from(BGP_VERSION).to_be_bytes())
            }
            OpenError::BadPeerAs { data, .. } => data.clone(),
            OpenError::UnsupportedCapability { missing } => {
                let mut buf = BytesMut::new();
                for c in missing {
                    // A capability too long for its length octet is left out.
                    let _ = c.encode(&mut buf);
                }
                buf.freeze()
            }
            OpenError::Decode(e) => e.data(),
            OpenError::UnsupportedOptionalParameter { .. }
            | OpenError::BadBgpIdentifier { .. }
            | OpenError::UnacceptableHoldTime { .. }
            | OpenError::RoleMismatch { .. } => Bytes::new(),
        }
    }

    /// The NOTIFICATION that answers the error.
    pub fn notification(&self) -> Notification {
        Notification::new(self.code(), self.data())
    }
}

/// Checks `open`, received from the peer, against `config`; `local` is the
/// OPEN we sent (its capabilities go into an Unsupported Capability
/// NOTIFICATION).
pub fn validate_open(config: &SessionConfig, local: &Open, open: &Open) -> Result<(), OpenError> {
    if open.version != BGP_VERSION {
        return Err(OpenError::UnsupportedVersion {
            version: open.version,
        });
    }
    if let Some(param_type) = open.parameters.iter().find_map(|p| match p {
        OptionalParameter::Unknown { param_type, .. } => Some(*param_type),
        OptionalParameter::Capabilities(_) => None,
    }) {
        return Err(OpenError::UnsupportedOptionalParameter { param_type });
    }
    validate_peer_as(config, open)?;
    validate_hold_time(config, open.hold_time)?;
    let internal = config.is_internal();
    if open.validate_identifier(config.local_id, internal).is_err() {
        return Err(OpenError::BadBgpIdentifier {
            identifier: open.bgp_identifier,
        });
    }
    if !internal {
        validate_role(config, open)?;
    }
    validate_required(config, local, open)
}

fn validate_peer_as(config: &SessionConfig, open: &Open) -> Result<(), OpenError> {
    let received = open.effective_as();
    let bad = |data: Bytes| OpenError::BadPeerAs {
        received,
        expected: config.peer_as,
        data,
    };
    if let Err(e) = open.validate_peer_as(config.peer_as) {
        return Err(bad(e.data()));
    }
    let four = open.four_octet_as();
    if received == 0 {
        return Err(bad(Bytes::copy_from_slice(&open.my_as.to_be_bytes())));
    }
    if let Some(asn) = four {
        // RFC 6793 4.1: My AS is the AS number when it fits, AS_TRANS
        // otherwise.
        if open.my_as != AS_TRANS && u32::from(open.my_as) != asn {
            return Err(bad(Bytes::copy_from_slice(&open.my_as.to_be_bytes())));
        }
    }
    Ok(())
}

/// Checks the hold time proposed by the peer.
pub fn validate_hold_time(config: &SessionConfig, hold_time: u16) -> Result<(), OpenError> {
    let ok = match hold_time {
        0 => config.accept_zero_hold_time,
        1 | 2 => false,
        h => h >= config.min_hold_time,
    };
    if ok {
        Ok(())
    } else {
        Err(OpenError::UnacceptableHoldTime { hold_time })
    }
}

fn validate_role(config: &SessionConfig, open: &Open) -> Result<(), OpenError> {
    let Some(local) = config.capabilities.role else {
        return Ok(());
    };
    let remote = open.role()?;
    let fits = match remote {
        Some(r) => local.fits(r),
        None => !config.capabilities.strict_role,
    };
    if fits {
        Ok(())
    } else {
        Err(OpenError::RoleMismatch {
            local: Some(local),
            remote,
        })
    }
}

/// The families `open` announces: those of its Multiprotocol capabilities,
/// IPv4 unicast when it has none (RFC 4760 8), without duplicates.
pub fn announced_families(open: &Open) -> Vec<AfiSafi> {
    let mut out: Vec<AfiSafi> = Vec::new();
    for f in open.families() {
        if !out.contains(&f) {
            out.push(f);
        }
    }
    if out.is_empty() && !open.has_capability(multiprotocol::CODE) {
        out.push(AfiSafi::IPV4_UNICAST);
    }
    out
}

fn validate_required(config: &SessionConfig, local: &Open, open: &Open) -> Result<(), OpenError> {
    let families = announced_families(open);
    let mut missing = Vec::new();
    for req in &config.capabilities.required {
        match *req {
            RequiredCapability::Code(code) => {
                let present = open.has_capability(code)
                    || (code == route_refresh::CODE
                        && open.has_capability(route_refresh::PRE_STANDARD_CODE));
                if !present {
                    missing.push(
                        local
                            .capabilities()
                            .find(|c| c.code() == code)
                            .cloned()
                            .unwrap_or(Capability::Unknown {
                                code,
                                value: Bytes::new(),
                            }),
                    );
                }
            }
            RequiredCapability::Family(family) => {
                if !families.contains(&family) {
                    missing.push(Capability::Multiprotocol(family.into()));
                }
            }
        }
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(OpenError::UnsupportedCapability { missing })
    }
}
