//! NOTIFICATION error codes and subcodes, and the typed errors of decoding.
//!
//! Every error this crate returns for bytes received from a peer knows the
//! NOTIFICATION it should become: [`DecodeError::code`] gives the error code
//! and subcode, [`DecodeError::data`] the Data field, as RFC 4271 section 6
//! and its updates specify.

use bytes::Bytes;
use std::fmt;

macro_rules! subcodes {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $value:literal => $text:literal ),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A subcode not registered when this crate was written, by number.
            Unknown(u8),
        }

        impl $name {
            /// The on-wire subcode.
            pub const fn to_u8(self) -> u8 {
                match self {
                    $( $name::$variant => $value, )*
                    $name::Unknown(v) => v,
                }
            }

            /// The subcode for an on-wire value.
            pub const fn from_u8(v: u8) -> Self {
                match v {
                    $( $value => $name::$variant, )*
                    v => $name::Unknown(v),
                }
            }

            /// The name the IANA registry gives this subcode.
            pub const fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )*
                    $name::Unknown(_) => "Unknown subcode",
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $name::Unknown(v) => write!(f, "Unknown subcode {v}"),
                    other => f.write_str(other.name()),
                }
            }
        }
    };
}

subcodes! {
    /// Subcodes of Message Header Error (RFC 4271 section 4.5).
    MessageHeaderSubcode {
        /// No subcode given.
        Unspecific = 0 => "Unspecific",
        /// The marker is not all ones.
        ConnectionNotSynchronized = 1 => "Connection Not Synchronized",
        /// The length field is out of range for the message type.
        BadMessageLength = 2 => "Bad Message Length",
        /// The type field is not a known message type.
        BadMessageType = 3 => "Bad Message Type",
    }
}

subcodes! {
    /// Subcodes of OPEN Message Error (RFC 4271 section 4.5, RFC 5492, RFC 9234).
    OpenMessageSubcode {
        /// No subcode given.
        Unspecific = 0 => "Unspecific",
        /// The version is not 4.
        UnsupportedVersionNumber = 1 => "Unsupported Version Number",
        /// The peer's AS is not the one configured.
        BadPeerAs = 2 => "Bad Peer AS",
        /// The BGP Identifier is not acceptable.
        BadBgpIdentifier = 3 => "Bad BGP Identifier",
        /// An optional parameter is not recognised.
        UnsupportedOptionalParameter = 4 => "Unsupported Optional Parameter",
        /// Deprecated (RFC 4271): authentication failure.
        AuthenticationFailure = 5 => "Authentication Failure (deprecated)",
        /// The hold time is 1 or 2 seconds, or refused by local policy.
        UnacceptableHoldTime = 6 => "Unacceptable Hold Time",
        /// A required capability is missing or not supported (RFC 5492).
        UnsupportedCapability = 7 => "Unsupported Capability",
        /// Deprecated (RFC 9234 registry note).
        Deprecated8 = 8 => "Deprecated",
        /// Deprecated (RFC 9234 registry note).
        Deprecated9 = 9 => "Deprecated",
        /// Deprecated (RFC 9234 registry note).
        Deprecated10 = 10 => "Deprecated",
        /// The BGP roles of the two sides do not fit (RFC 9234).
        RoleMismatch = 11 => "Role Mismatch",
    }
}

subcodes! {
    /// Subcodes of UPDATE Message Error (RFC 4271 section 4.5).
    UpdateMessageSubcode {
        /// No subcode given.
        Unspecific = 0 => "Unspecific",
        /// Attribute lengths do not add up, or an attribute appears twice.
        MalformedAttributeList = 1 => "Malformed Attribute List",
        /// A well-known attribute is not recognised.
        UnrecognizedWellKnownAttribute = 2 => "Unrecognized Well-known Attribute",
        /// A mandatory well-known attribute is missing.
        MissingWellKnownAttribute = 3 => "Missing Well-known Attribute",
        /// An attribute's flags conflict with its type code.
        AttributeFlagsError = 4 => "Attribute Flags Error",
        /// An attribute's length is wrong for its type.
        AttributeLengthError = 5 => "Attribute Length Error",
        /// ORIGIN has an undefined value.
        InvalidOriginAttribute = 6 => "Invalid ORIGIN Attribute",
        /// Deprecated (RFC 4271): AS routing loop.
        AsRoutingLoop = 7 => "AS Routing Loop (deprecated)",
        /// NEXT_HOP is syntactically or semantically invalid.
        InvalidNextHopAttribute = 8 => "Invalid NEXT_HOP Attribute",
        /// An optional attribute is malformed.
        OptionalAttributeError = 9 => "Optional Attribute Error",
        /// The NLRI field is malformed.
        InvalidNetworkField = 10 => "Invalid Network Field",
        /// AS_PATH is malformed.
        MalformedAsPath = 11 => "Malformed AS_PATH",
    }
}

subcodes! {
    /// Subcodes of Finite State Machine Error (RFC 6608).
    FsmSubcode {
        /// No subcode given.
        Unspecified = 0 => "Unspecified Error",
        /// A message other than OPEN or NOTIFICATION arrived in OpenSent.
        UnexpectedMessageInOpenSent = 1 => "Receive Unexpected Message in OpenSent State",
        /// A message other than KEEPALIVE or NOTIFICATION arrived in OpenConfirm.
        UnexpectedMessageInOpenConfirm = 2 => "Receive Unexpected Message in OpenConfirm State",
        /// An OPEN arrived in Established.
        UnexpectedMessageInEstablished = 3 => "Receive Unexpected Message in Established State",
    }
}

subcodes! {
    /// Subcodes of Cease (RFC 4486, RFC 8538, RFC 9384).
    CeaseSubcode {
        /// No subcode given.
        Unspecific = 0 => "Unspecific",
        /// A configured prefix limit was exceeded.
        MaximumNumberOfPrefixesReached = 1 => "Maximum Number of Prefixes Reached",
        /// The session was shut down by an operator.
        AdministrativeShutdown = 2 => "Administrative Shutdown",
        /// The peer was removed from the configuration.
        PeerDeconfigured = 3 => "Peer De-configured",
        /// The session was reset by an operator.
        AdministrativeReset = 4 => "Administrative Reset",
        /// The connection was not accepted.
        ConnectionRejected = 5 => "Connection Rejected",
        /// A configuration change requires the session to restart.
        OtherConfigurationChange = 6 => "Other Configuration Change",
        /// The connection lost the collision resolution of RFC 4271 6.8.
        ConnectionCollisionResolution = 7 => "Connection Collision Resolution",
        /// The speaker ran out of resources.
        OutOfResources = 8 => "Out of Resources",
        /// Graceful restart must not be kept (RFC 8538).
        HardReset = 9 => "Hard Reset",
        /// BFD reported the peer down (RFC 9384).
        BfdDown = 10 => "BFD Down",
    }
}

subcodes! {
    /// Subcodes of ROUTE-REFRESH Message Error (RFC 7313).
    RouteRefreshSubcode {
        /// No subcode given.
        Reserved = 0 => "Reserved",
        /// The ROUTE-REFRESH message length is wrong.
        InvalidMessageLength = 1 => "Invalid Message Length",
    }
}

/// A NOTIFICATION error code with its subcode, as registered with IANA.
///
/// ```
/// use bgp_wire::error::{ErrorCode, CeaseSubcode};
///
/// let code = ErrorCode::from_pair(6, 2);
/// assert_eq!(code, ErrorCode::Cease(CeaseSubcode::AdministrativeShutdown));
/// assert_eq!(code.to_pair(), (6, 2));
/// assert_eq!(code.to_string(), "Cease / Administrative Shutdown");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Message Header Error (1).
    MessageHeader(MessageHeaderSubcode),
    /// OPEN Message Error (2).
    OpenMessage(OpenMessageSubcode),
    /// UPDATE Message Error (3).
    UpdateMessage(UpdateMessageSubcode),
    /// Hold Timer Expired (4), with the subcode as received (0 when sent).
    HoldTimerExpired(u8),
    /// Finite State Machine Error (5).
    FiniteStateMachine(FsmSubcode),
    /// Cease (6).
    Cease(CeaseSubcode),
    /// ROUTE-REFRESH Message Error (7).
    RouteRefreshMessage(RouteRefreshSubcode),
    /// Send Hold Timer Expired (8, RFC 9687), with the subcode as received.
    SendHoldTimerExpired(u8),
    /// An error code not registered when this crate was written.
    Unknown {
        /// The error code.
        code: u8,
        /// The error subcode.
        subcode: u8,
    },
}

impl ErrorCode {
    /// Decodes an error code and subcode pair.
    pub const fn from_pair(code: u8, subcode: u8) -> Self {
        match code {
            1 => ErrorCode::MessageHeader(MessageHeaderSubcode::from_u8(subcode)),
            2 => ErrorCode::OpenMessage(OpenMessageSubcode::from_u8(subcode)),
            3 => ErrorCode::UpdateMessage(UpdateMessageSubcode::from_u8(subcode)),
            4 => ErrorCode::HoldTimerExpired(subcode),
            5 => ErrorCode::FiniteStateMachine(FsmSubcode::from_u8(subcode)),
            6 => ErrorCode::Cease(CeaseSubcode::from_u8(subcode)),
            7 => ErrorCode::RouteRefreshMessage(RouteRefreshSubcode::from_u8(subcode)),
            8 => ErrorCode::SendHoldTimerExpired(subcode),
            code => ErrorCode::Unknown { code, subcode },
        }
    }

    /// The on-wire error code and subcode.
    pub const fn to_pair(self) -> (u8, u8) {
        match self {
            ErrorCode::MessageHeader(s) => (1, s.to_u8()),
            ErrorCode::OpenMessage(s) => (2, s.to_u8()),
            ErrorCode::UpdateMessage(s) => (3, s.to_u8()),
            ErrorCode::HoldTimerExpired(s) => (4, s),
            ErrorCode::FiniteStateMachine(s) => (5, s.to_u8()),
            ErrorCode::Cease(s) => (6, s.to_u8()),
            ErrorCode::RouteRefreshMessage(s) => (7, s.to_u8()),
            ErrorCode::SendHoldTimerExpired(s) => (8, s),
            ErrorCode::Unknown { code, subcode } => (code, subcode),
        }
    }

    /// The error code alone.
    pub const fn code(self) -> u8 {
        self.to_pair().0
    }

    /// The error subcode alone.
    pub const fn subcode(self) -> u8 {
        self.to_pair().1
    }

    /// The registry's name of the error code.
    pub const fn code_name(self) -> &'static str {
        match self {
            ErrorCode::MessageHeader(_) => "Message Header Error",
            ErrorCode::OpenMessage(_) => "OPEN Message Error",
            ErrorCode::UpdateMessage(_) => "UPDATE Message Error",
            ErrorCode::HoldTimerExpired(_) => "Hold Timer Expired",
            ErrorCode::FiniteStateMachine(_) => "Finite State Machine Error",
            ErrorCode::Cease(_) => "Cease",
            ErrorCode::RouteRefreshMessage(_) => "ROUTE-REFRESH Message Error",
            ErrorCode::SendHoldTimerExpired(_) => "Send Hold Timer Expired",
            ErrorCode::Unknown { .. } => "Unknown error code",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorCode::MessageHeader(s) => write!(f, "{} / {s}", self.code_name()),
            ErrorCode::OpenMessage(s) => write!(f, "{} / {s}", self.code_name()),
            ErrorCode::UpdateMessage(s) => write!(f, "{} / {s}", self.code_name()),
            ErrorCode::FiniteStateMachine(s) => write!(f, "{} / {s}", self.code_name()),
            ErrorCode::Cease(s) => write!(f, "{} / {s}", self.code_name()),
            ErrorCode::RouteRefreshMessage(s) => write!(f, "{} / {s}", self.code_name()),
            ErrorCode::HoldTimerExpired(0) | ErrorCode::SendHoldTimerExpired(0) => {
                f.write_str(self.code_name())
            }
            ErrorCode::HoldTimerExpired(s) | ErrorCode::SendHoldTimerExpired(s) => {
                write!(f, "{} / subcode {s}", self.code_name())
            }
            ErrorCode::Unknown { code, subcode } => {
                write!(f, "Unknown error code {code} / subcode {subcode}")
            }
        }
    }
}

/// An error found while decoding bytes received from a peer.
///
/// Each variant says what was wrong in words a person can act on, and knows
/// the NOTIFICATION that RFC 4271 section 6 (and its updates) prescribe:
/// see [`DecodeError::code`] and [`DecodeError::data`]. Errors inside path
/// attributes that RFC 7606 handles without a session reset are not errors:
/// they come back as values beside the decoded UPDATE.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The 16-octet marker is not all ones (RFC 4271 6.1).
    #[error("message header marker is not all ones")]
    ConnectionNotSynchronized,
    /// The length field is below 19, above the session maximum, or wrong for
    /// the message type (RFC 4271 6.1); `length` is the erroneous field.
    #[error("bad message length {length}")]
    BadMessageLength {
        /// The length field as received.
        length: u16,
    },
    /// The type field is not OPEN, UPDATE, NOTIFICATION, KEEPALIVE or
    /// ROUTE-REFRESH (RFC 4271 6.1).
    #[error("bad message type {message_type}")]
    BadMessageType {
        /// The type field as received.
        message_type: u8,
    },
    /// An OPEN error (RFC 4271 6.2), with the subcode and the Data field.
    #[error("OPEN message error: {subcode}: {reason}")]
    Open {
        /// The OPEN Message Error subcode.
        subcode: OpenMessageSubcode,
        /// The NOTIFICATION data.
        data: Bytes,
        /// What was wrong.
        reason: &'static str,
    },
    /// An UPDATE error that RFC 7606 handles with a session reset, with the
    /// subcode and the Data field (usually the offending attribute).
    #[error("UPDATE message error: {subcode}: {reason}")]
    Update {
        /// The UPDATE Message Error subcode.
        subcode: UpdateMessageSubcode,
        /// The NOTIFICATION data.
        data: Bytes,
        /// What was wrong.
        reason: &'static str,
    },
    /// A ROUTE-REFRESH message with a bad length (RFC 7313 5).
    #[error("ROUTE-REFRESH message of invalid length")]
    RouteRefreshLength {
        /// The whole message as received, the NOTIFICATION's data.
        message: Bytes,
    },
    /// A message body shorter than its fixed fields, or a length field inside
    /// it that runs past its end, in a message type that has no more precise
    /// error (NOTIFICATION body, MRT record).
    #[error("truncated {what}")]
    Truncated {
        /// What was being decoded.
        what: &'static str,
    },
    /// A value that breaks a rule of the format outside a BGP message (MRT).
    #[error("invalid {what}")]
    Invalid {
        /// What was invalid.
        what: &'static str,
    },
}

impl DecodeError {
    /// Shorthand for an UPDATE error.
    pub fn update(
        subcode: UpdateMessageSubcode,
        data: impl Into<Bytes>,
        reason: &'static str,
    ) -> Self {
        DecodeError::Update {
            subcode,
            data: data.into(),
            reason,
        }
    }

    /// Shorthand for an OPEN error.
    pub fn open(subcode: OpenMessageSubcode, data: impl Into<Bytes>, reason: &'static str) -> Self {
        DecodeError::Open {
            subcode,
            data: data.into(),
            reason,
        }
    }

    /// The NOTIFICATION error code and subcode this error should be answered with.
    pub fn code(&self) -> ErrorCode {
        match self {
            DecodeError::ConnectionNotSynchronized => {
                ErrorCode::MessageHeader(MessageHeaderSubcode::ConnectionNotSynchronized)
            }
            DecodeError::BadMessageLength { .. } => {
                ErrorCode::MessageHeader(MessageHeaderSubcode::BadMessageLength)
            }
            DecodeError::BadMessageType { .. } => {
                ErrorCode::MessageHeader(MessageHeaderSubcode::BadMessageType)
            }
            DecodeError::Open { subcode, .. } => ErrorCode::OpenMessage(*subcode),
            DecodeError::Update { subcode, .. } => ErrorCode::UpdateMessage(*subcode),
            DecodeError::RouteRefreshLength { .. } => {
                ErrorCode::RouteRefreshMessage(RouteRefreshSubcode::InvalidMessageLength)
            }
            DecodeError::Truncated { .. } | DecodeError::Invalid { .. } => {
                ErrorCode::MessageHeader(MessageHeaderSubcode::BadMessageLength)
            }
        }
    }

    /// The Data field of the NOTIFICATION this error should be answered with.
    pub fn data(&self) -> Bytes {
        match self {
            DecodeError::BadMessageLength { length } => {
                Bytes::copy_from_slice(&length.to_be_bytes())
            }
            DecodeError::BadMessageType { message_type } => {
                Bytes::copy_from_slice(&[*message_type])
            }
            DecodeError::Open { data, .. } | DecodeError::Update { data, .. } => data.clone(),
            DecodeError::RouteRefreshLength { message } => message.clone(),
            DecodeError::ConnectionNotSynchronized
            | DecodeError::Truncated { .. }
            | DecodeError::Invalid { .. } => Bytes::new(),
        }
    }
}

/// An error found while encoding a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// The message would exceed the session's maximum length.
    #[error("message of {length} octets exceeds the maximum of {max}")]
    MessageTooLong {
        /// The length the message would have.
        length: usize,
        /// The session maximum.
        max: usize,
    },
    /// A field cannot hold the value (for example more than 255 octets of
    /// optional parameters without RFC 9072).
    #[error("{what} does not fit its length field")]
    FieldTooLong {
        /// The field.
        what: &'static str,
    },
    /// The value cannot be written in the format at all (for example an MRT
    /// record whose peer and local addresses are of different families).
    #[error("cannot encode: {what}")]
    Invalid {
        /// What was inconsistent.
        what: &'static str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pair_round_trips() {
        for code in 0..=u8::MAX {
            for subcode in 0..=u8::MAX {
                assert_eq!(
                    ErrorCode::from_pair(code, subcode).to_pair(),
                    (code, subcode)
                );
            }
        }
    }

    #[test]
    fn decode_errors_map_to_notifications() {
        let e = DecodeError::BadMessageLength { length: 5000 };
        assert_eq!(e.code().to_pair(), (1, 2));
        assert_eq!(&e.data()[..], &[0x13, 0x88]);
        let e = DecodeError::BadMessageType { message_type: 9 };
        assert_eq!(e.code().to_pair(), (1, 3));
        assert_eq!(&e.data()[..], &[9]);
    }
}
