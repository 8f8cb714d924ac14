//! The ADD-PATH capability (code 69, RFC 7911 section 4).
//!
//! Value: for each address family AFI (2 octets), SAFI (1 octet) and
//! Send/Receive (1 octet). A value whose length is not a multiple of 4 is
//! malformed. [`AddPath::negotiate`] works out, from both speakers'
//! capabilities, in which direction each family carries path identifiers.

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

use super::{SendReceive, malformed, reader::Reader};
use crate::afi::AfiSafi;
use crate::context::Direction;
use crate::error::DecodeError;

/// The capability code.
pub const CODE: u8 = 69;

/// An ADD-PATH capability.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AddPath {
    /// The families and what the speaker wants for each.
    pub families: Vec<AddPathFamily>,
}

/// One address family of an ADD-PATH capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddPathFamily {
    /// The address family.
    pub family: AfiSafi,
    /// Whether the speaker can send, receive, or both.
    pub send_receive: SendReceive,
}

impl AddPath {
    /// What the capability says for `family`: the first entry for it.
    pub fn mode(&self, family: AfiSafi) -> Option<SendReceive> {
        self.families
            .iter()
            .find(|f| f.family == family)
            .map(|f| f.send_receive)
    }

    /// The ADD-PATH directions in force once `local` (what we announced) and
    /// `remote` (what the peer announced) are both known (RFC 7911 4): we
    /// receive path identifiers for a family when we announced Receive (or
    /// Both) and the peer Send (or Both), and send them in the opposite case.
    ///
    /// ```
    /// use bgp_wire::{AfiSafi, Direction};
    /// use bgp_wire::capability::{AddPath, AddPathFamily, SendReceive};
    ///
    /// let local = AddPath { families: vec![AddPathFamily {
    ///     family: AfiSafi::IPV4_UNICAST, send_receive: SendReceive::Both }] };
    /// let remote = AddPath { families: vec![AddPathFamily {
    ///     family: AfiSafi::IPV4_UNICAST, send_receive: SendReceive::Send }] };
    /// assert_eq!(
    ///     AddPath::negotiate(&local, &remote),
    ///     [(AfiSafi::IPV4_UNICAST, Direction::Receive)]
    /// );
    /// ```
    pub fn negotiate(local: &AddPath, remote: &AddPath) -> Vec<(AfiSafi, Direction)> {
        let mut out = Vec::new();
        for l in &local.families {
            if out.iter().any(|(f, _)| *f == l.family) {
                continue;
            }
            let Some(r) = remote.mode(l.family) else {
                continue;
            };
            if l.send_receive.receives() && r.sends() {
                out.push((l.family, Direction::Receive));
            }
            if l.send_receive.sends() && r.receives() {
                out.push((l.family, Direction::Send));
            }
        }
        out
    }

    /// Decodes the capability value.
    pub fn decode(value: Bytes) -> Result<Self, DecodeError> {
        if value.len() % 4 != 0 {
            return Err(malformed(
                "ADD-PATH capability length is not a multiple of 4",
            ));
        }
        let mut r = Reader::new(value);
        let mut families = Vec::with_capacity(r.remaining() / 4);
        while !r.is_empty() {
            let (family, _) = super::read_family(&mut r, false)
                .ok_or_else(|| malformed("ADD-PATH capability truncated"))?;
            let sr = r
                .u8()
                .ok_or_else(|| malformed("ADD-PATH capability truncated"))?;
            families.push(AddPathFamily {
                family,
                send_receive: SendReceive::from_u8(sr),
            });
        }
        Ok(AddPath { families })
    }

    /// Appends the capability value.
    pub fn encode_value(&self, buf: &mut BytesMut) {
        for f in &self.families {
            super::put_family(buf, f.family);
            buf.put_u8(f.send_receive.to_u8());
        }
    }
}

impl fmt::Display for AddPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.families.is_empty() {
            return f.write_str("(no families)");
        }
        for (i, fam) in self.families.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{} {}", fam.family, fam.send_receive)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_and_negotiate() {
        // PacketLife bgp-add-path: IPv4 unicast, both.
        let a = AddPath::decode(Bytes::from_static(&[0, 1, 1, 3])).unwrap();
        assert_eq!(a.mode(AfiSafi::IPV4_UNICAST), Some(SendReceive::Both));
        assert_eq!(
            AddPath::negotiate(&a, &a),
            [
                (AfiSafi::IPV4_UNICAST, Direction::Receive),
                (AfiSafi::IPV4_UNICAST, Direction::Send)
            ]
        );
        assert!(AddPath::decode(Bytes::from_static(&[0, 1, 1])).is_err());
        assert_eq!(AddPath::decode(Bytes::new()).unwrap(), AddPath::default());
    }
}
