//! NOTIFICATION messages as the session reports them: every NOTIFICATION
//! sent or received comes out as a [`NotificationReport`], with its code,
//! subcode and Data field decoded as far as the RFCs define it.

use std::fmt;

use bytes::Bytes;

use bgp_wire::error::{CeaseSubcode, MessageHeaderSubcode, OpenMessageSubcode};
use bgp_wire::{Capability, ErrorCode, Notification, ShutdownCommunication};

/// Whether a NOTIFICATION was sent or received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationDirection {
    /// We sent it.
    Sent,
    /// The peer sent it.
    Received,
}

impl fmt::Display for NotificationDirection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotificationDirection::Sent => "sent",
            NotificationDirection::Received => "received",
        })
    }
}

/// The Data field of a NOTIFICATION, decoded where an RFC gives it a
/// meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationData {
    /// No data.
    Empty,
    /// Cease / Administrative Shutdown or Reset with a Shutdown
    /// Communication (RFC 9003).
    ShutdownCommunication {
        /// The operator's text.
        text: String,
        /// Octets after the communication, normally none.
        trailing: Bytes,
    },
    /// Cease / Administrative Shutdown or Reset whose data is not a valid
    /// Shutdown Communication (bad length or not UTF-8); never shown
    /// verbatim (RFC 9003 2).
    InvalidShutdownCommunication(Bytes),
    /// Cease / Hard Reset (RFC 8538 3): the NOTIFICATION it wraps.
    HardReset {
        /// The code and subcode of the wrapped NOTIFICATION.
        cause: ErrorCode,
        /// Its data, decoded.
        data: Box<NotificationData>,
    },
    /// OPEN Message Error / Unsupported Version Number: the largest version
    /// the sender supports (RFC 4271 6.2).
    UnsupportedVersion {
        /// The version number.
        version: u16,
    },
    /// OPEN Message Error / Bad Peer AS: the AS number the sender objected
    /// to, from 2 or 4 octets.
    BadPeerAs(u32),
    /// OPEN Message Error / Unsupported Capability: the capabilities the
    /// sender requires and did not get (RFC 5492 5).
    UnsupportedCapabilities(Vec<Capability>),
    /// Message Header Error / Bad Message Length: the erroneous length.
    BadMessageLength(u16),
    /// Message Header Error / Bad Message Type: the erroneous type.
    BadMessageType(u8),
    /// Anything else, as received.
    Other(Bytes),
}

impl NotificationData {
    /// Decodes the data of `n` according to its code and subcode. Never
    /// fails: data that does not have the defined form is
    /// [`NotificationData::Other`] (or
    /// [`NotificationData::InvalidShutdownCommunication`]).
    pub fn decode(n: &Notification) -> Self {
        Self::decode_depth(n, 0)
    }

    fn decode_depth(n: &Notification, depth: u8) -> Self {
        if n.data.is_empty() {
            return NotificationData::Empty;
        }
        if let Some(sc) = n.shutdown_communication() {
            return match sc {
                ShutdownCommunication::Message { text, trailing } => {
                    NotificationData::ShutdownCommunication {
                        text: text.to_owned(),
                        trailing: Bytes::copy_from_slice(trailing),
                    }
                }
                ShutdownCommunication::InvalidLength | ShutdownCommunication::InvalidUtf8 => {
                    NotificationData::InvalidShutdownCommunication(n.data.clone())
                }
            };
        }
        let data: &[u8] = n.data.as_ref();
        match n.code {
            ErrorCode::Cease(CeaseSubcode::HardReset) if depth < 4 => match n.hard_reset_cause() {
                Some(cause) => NotificationData::HardReset {
                    cause: cause.code,
                    data: Box::new(Self::decode_depth(&cause, depth + 1)),
                },
                None => NotificationData::Other(n.data.clone()),
            },
            ErrorCode::OpenMessage(OpenMessageSubcode::UnsupportedVersionNumber) => match *data {
                [a, b] => NotificationData::UnsupportedVersion {
                    version: u16::from_be_bytes([a, b]),
                },
                _ => NotificationData::Other(n.data.clone()),
            },
            ErrorCode::OpenMessage(OpenMessageSubcode::BadPeerAs) => match *data {
                [a, b] => NotificationData::BadPeerAs(u32::from(u16::from_be_bytes([a, b]))),
                [a, b, c, d] => NotificationData::BadPeerAs(u32::from_be_bytes([a, b, c, d])),
                _ => NotificationData::Other(n.data.clone()),
            },
            ErrorCode::OpenMessage(OpenMessageSubcode::UnsupportedCapability) => {
                match Capability::decode_list(n.data.clone()) {
                    Ok(caps) => NotificationData::UnsupportedCapabilities(caps),
                    Err(_) => NotificationData::Other(n.data.clone()),
                }
            }
            ErrorCode::MessageHeader(MessageHeaderSubcode::BadMessageLength) => match *data {
                [a, b] => NotificationData::BadMessageLength(u16::from_be_bytes([a, b])),
                _ => NotificationData::Other(n.data.clone()),
            },
            ErrorCode::MessageHeader(MessageHeaderSubcode::BadMessageType) => match *data {
                [t] => NotificationData::BadMessageType(t),
                _ => NotificationData::Other(n.data.clone()),
            },
            _ => NotificationData::Other(n.data.clone()),
        }
    }

    /// The Shutdown Communication text, if any, looking inside a Hard
    /// Reset.
    pub fn shutdown_communication(&self) -> Option<&str> {
        match self {
            NotificationData::ShutdownCommunication { text, .. } => Some(text),
            NotificationData::HardReset { data, .. } => data.shutdown_communication(),
            _ => None,
        }
    }
}

/// A NOTIFICATION the session sent or received.
///
/// ```
/// use bgp_fsm::notification::{NotificationData, NotificationDirection, NotificationReport};
/// use bgp_wire::Notification;
///
/// let n = Notification::hard_reset(&Notification::shutdown("decommissioned"));
/// let r = NotificationReport::new(NotificationDirection::Received, n);
/// assert_eq!((r.code(), r.subcode()), (6, 9));
/// assert!(r.is_hard_reset());
/// assert_eq!(r.data.shutdown_communication(), Some("decommissioned"));
/// assert_eq!(r.to_string(),
///     "received Cease / Hard Reset (Cease / Administrative Shutdown: \"decommissioned\")");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationReport {
    /// Sent or received.
    pub direction: NotificationDirection,
    /// The message.
    pub notification: Notification,
    /// Its data, decoded.
    pub data: NotificationData,
}

impl NotificationReport {
    /// The report of `notification`, its data decoded.
    pub fn new(direction: NotificationDirection, notification: Notification) -> Self {
        let data = NotificationData::decode(&notification);
        NotificationReport {
            direction,
            notification,
            data,
        }
    }

    /// The error code.
    pub fn code(&self) -> u8 {
        self.notification.code.code()
    }

    /// The error subcode.
    pub fn subcode(&self) -> u8 {
        self.notification.code.subcode()
    }

    /// Whether it is a Cease / Hard Reset (RFC 8538).
    pub fn is_hard_reset(&self) -> bool {
        is_hard_reset(&self.notification)
    }
}

impl fmt::Display for NotificationReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.direction, self.notification)
    }
}

/// Whether `n` is a Cease / Hard Reset (RFC 8538 3).
pub fn is_hard_reset(n: &Notification) -> bool {
    n.code == ErrorCode::Cease(CeaseSubcode::HardReset)
}

/// Whether RFC 8538 section 5 suggests sending a Cease with this subcode as
/// a Hard Reset: Maximum Number of Prefixes Reached, Administrative
/// Shutdown, Peer De-configured and Hard Reset itself.
pub fn suggests_hard_reset(subcode: CeaseSubcode) -> bool {
    matches!(
        subcode,
        CeaseSubcode::MaximumNumberOfPrefixesReached
            | CeaseSubcode::AdministrativeShutdown
            | CeaseSubcode::PeerDeconfigured
            | CeaseSubcode::HardReset
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgp_wire::DecodeError;

    #[test]
    fn decodes_known_data() {
        let d = |n: Notification| NotificationData::decode(&n);
        assert_eq!(d(Notification::shutdown("")), NotificationData::Empty);
        assert_eq!(
            d(Notification::shutdown("bye")),
            NotificationData::ShutdownCommunication {
                text: "bye".into(),
                trailing: Bytes::new()
            }
        );
        assert_eq!(
            d(Notification::new(
                ErrorCode::Cease(CeaseSubcode::AdministrativeShutdown),
                Bytes::from_static(&[9, b'x'])
            )),
            NotificationData::InvalidShutdownCommunication(Bytes::from_static(&[9, b'x']))
        );
        assert_eq!(
            d(Notification::new(ErrorCode::from_pair(2, 1), vec![0, 4])),
            NotificationData::UnsupportedVersion { version: 4 }
        );
        assert_eq!(
            d(Notification::new(
                ErrorCode::from_pair(2, 2),
                vec![0xfd, 0xe8]
            )),
            NotificationData::BadPeerAs(65000)
        );
        assert_eq!(
            d(Notification::new(
                ErrorCode::from_pair(2, 2),
                vec![0, 1, 0, 0]
            )),
            NotificationData::BadPeerAs(65536)
        );
        assert_eq!(
            d(Notification::new(ErrorCode::from_pair(2, 7), vec![2, 0])),
            NotificationData::UnsupportedCapabilities(vec![Capability::RouteRefresh])
        );
        assert_eq!(
            d(Notification::new(ErrorCode::from_pair(2, 7), vec![2])),
            NotificationData::Other(Bytes::from_static(&[2]))
        );
        assert_eq!(
            d(Notification::from(DecodeError::BadMessageLength {
                length: 5000
            })),
            NotificationData::BadMessageLength(5000)
        );
        assert_eq!(
            d(Notification::from(DecodeError::BadMessageType {
                message_type: 9
            })),
            NotificationData::BadMessageType(9)
        );
        let hr = d(Notification::hard_reset(&Notification::hold_timer_expired()));
        assert_eq!(
            hr,
            NotificationData::HardReset {
                cause: ErrorCode::HoldTimerExpired(0),
                data: Box::new(NotificationData::Empty)
            }
        );
        // Deeply nested hard resets stop decoding instead of recursing.
        let mut n = Notification::shutdown("deep");
        for _ in 0..10 {
            n = Notification::hard_reset(&n);
        }
        assert!(matches!(d(n), NotificationData::HardReset { .. }));
    }

    #[test]
    fn hard_reset_suggestions() {
        assert!(suggests_hard_reset(CeaseSubcode::AdministrativeShutdown));
        assert!(suggests_hard_reset(
            CeaseSubcode::MaximumNumberOfPrefixesReached
        ));
        assert!(!suggests_hard_reset(CeaseSubcode::AdministrativeReset));
        assert!(!suggests_hard_reset(
            CeaseSubcode::ConnectionCollisionResolution
        ));
        assert!(!suggests_hard_reset(CeaseSubcode::BfdDown));
    }
}
