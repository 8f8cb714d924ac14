//! The fields that every BGP4MP and BGP4MP_ET record starts with (RFC 6396
//! sections 4.4.1 to 4.4.6).
//!
//! ```text
//! Peer AS (2 or 4) | Local AS (2 or 4) | Interface Index (2)
//! Address Family (2) | Peer IP Address (4 or 16) | Local IP Address (4 or 16)
//! ```
//!
//! The AS numbers are 4 octets in the `_AS4` subtypes, 2 otherwise.

use bytes::{BufMut, BytesMut};
use std::net::IpAddr;

use super::session::SessionKey;
use super::{Cursor, put_ip};
use crate::afi::Afi;
use crate::error::{DecodeError, EncodeError};

/// BGP4MP subtype numbers (RFC 6396 4.4, RFC 8050 3).
pub mod subtypes {
    /// BGP4MP_STATE_CHANGE.
    pub const STATE_CHANGE: u16 = 0;
    /// BGP4MP_MESSAGE.
    pub const MESSAGE: u16 = 1;
    /// BGP4MP_ENTRY (deprecated, not decoded).
    pub const ENTRY: u16 = 2;
    /// BGP4MP_SNAPSHOT (deprecated, not decoded).
    pub const SNAPSHOT: u16 = 3;
    /// BGP4MP_MESSAGE_AS4.
    pub const MESSAGE_AS4: u16 = 4;
    /// BGP4MP_STATE_CHANGE_AS4.
    pub const STATE_CHANGE_AS4: u16 = 5;
    /// BGP4MP_MESSAGE_LOCAL.
    pub const MESSAGE_LOCAL: u16 = 6;
    /// BGP4MP_MESSAGE_AS4_LOCAL.
    pub const MESSAGE_AS4_LOCAL: u16 = 7;
    /// BGP4MP_MESSAGE_ADDPATH (RFC 8050).
    pub const MESSAGE_ADDPATH: u16 = 8;
    /// BGP4MP_MESSAGE_AS4_ADDPATH (RFC 8050).
    pub const MESSAGE_AS4_ADDPATH: u16 = 9;
    /// BGP4MP_MESSAGE_LOCAL_ADDPATH (RFC 8050).
    pub const MESSAGE_LOCAL_ADDPATH: u16 = 10;
    /// BGP4MP_MESSAGE_AS4_LOCAL_ADDPATH (RFC 8050).
    pub const MESSAGE_AS4_LOCAL_ADDPATH: u16 = 11;
}

/// Who the record is about: the peer and the local (collector) end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Bgp4mpPeering {
    /// The peer's AS number.
    pub peer_as: u32,
    /// The local AS number.
    pub local_as: u32,
    /// The interface index (0 when unknown).
    pub interface_index: u16,
    /// The peer's address; same family as `local_ip`.
    pub peer_ip: IpAddr,
    /// The local address; same family as `peer_ip`.
    pub local_ip: IpAddr,
}

impl Bgp4mpPeering {
    /// Decodes the fields, AS numbers 4 octets wide when `as4` is set.
    pub(crate) fn decode(c: &mut Cursor, as4: bool) -> Result<Self, DecodeError> {
        let (peer_as, local_as) = if as4 {
            (c.u32()?, c.u32()?)
        } else {
            (u32::from(c.u16()?), u32::from(c.u16()?))
        };
        let interface_index = c.u16()?;
        let v6 = match Afi::from(c.u16()?) {
            Afi::Ipv4 => false,
            Afi::Ipv6 => true,
            Afi::Other(_) => {
                return Err(DecodeError::Invalid {
                    what: "BGP4MP address family",
                });
            }
        };
        let peer_ip = c.ip(v6)?;
        let local_ip = c.ip(v6)?;
        Ok(Bgp4mpPeering {
            peer_as,
            local_as,
            interface_index,
            peer_ip,
            local_ip,
        })
    }

    /// Appends the fields, AS numbers 4 octets wide when `as4` is set.
    pub(crate) fn encode(&self, as4: bool, buf: &mut BytesMut) -> Result<(), EncodeError> {
        if self.peer_ip.is_ipv6() != self.local_ip.is_ipv6() {
            return Err(EncodeError::Invalid {
                what: "BGP4MP peer and local addresses of different families",
            });
        }
        if as4 {
            buf.put_u32(self.peer_as);
            buf.put_u32(self.local_as);
        } else {
            let two = |asn: u32| {
                u16::try_from(asn).map_err(|_| EncodeError::FieldTooLong {
                    what: "2-octet AS number in a non-AS4 BGP4MP subtype",
                })
            };
            let (p, l) = (two(self.peer_as)?, two(self.local_as)?);
            buf.put_u16(p);
            buf.put_u16(l);
        }
        buf.put_u16(self.interface_index);
        buf.put_u16(self.afi().to_u16());
        put_ip(buf, &self.peer_ip);
        put_ip(buf, &self.local_ip);
        Ok(())
    }

    /// The Address Family field: the family of the two addresses.
    pub fn afi(&self) -> Afi {
        if self.peer_ip.is_ipv6() {
            Afi::Ipv6
        } else {
            Afi::Ipv4
        }
    }

    /// The key of the BGP session these fields describe.
    pub fn session_key(&self) -> SessionKey {
        SessionKey {
            peer_ip: self.peer_ip,
            peer_as: self.peer_as,
            local_ip: self.local_ip,
            local_as: self.local_as,
        }
    }
}

#[cfg(test)]
pub(crate) mod strategies {
    use super::*;
    use proptest::prelude::*;

    pub(crate) fn peering(as4: bool) -> impl Strategy<Value = Bgp4mpPeering> {
        let asn = move || {
            if as4 {
                any::<u32>().boxed()
            } else {
                any::<u16>().prop_map(u32::from).boxed()
            }
        };
        (asn(), asn(), any::<u16>(), any::<bool>()).prop_flat_map(
            move |(peer_as, local_as, interface_index, v6)| {
                (
                    crate::mrt::strategies::ip(v6),
                    crate::mrt::strategies::ip(v6),
                )
                    .prop_map(move |(peer_ip, local_ip)| Bgp4mpPeering {
                        peer_as,
                        local_as,
                        interface_index,
                        peer_ip,
                        local_ip,
                    })
            },
        )
    }
}
