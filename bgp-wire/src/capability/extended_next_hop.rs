//! The Extended Next Hop Encoding capability (code 5, RFC 8950 section 4).
//!
//! Value: a list of NLRI AFI (2 octets), NLRI SAFI (2 octets) and Nexthop
//! AFI (2 octets) triples, for example IPv4 unicast routes with IPv6 next
//! hops. A value whose length is not a multiple of 6 is malformed. The SAFI
//! takes 2 octets here although SAFIs are 1-octet numbers everywhere else; a
//! SAFI above 255 cannot name a family, and a capability carrying one is kept
//! as [`Capability::Unknown`](super::Capability::Unknown).

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

use super::{malformed, reader::Reader};
use crate::afi::{Afi, AfiSafi, Safi};
use crate::context::SessionContext;
use crate::error::DecodeError;

/// The capability code.
pub const CODE: u8 = 5;

/// An Extended Next Hop Encoding capability.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ExtendedNextHop {
    /// The families and the next-hop address families they may use.
    pub entries: Vec<ExtendedNextHopEntry>,
}

/// One (NLRI family, next-hop AFI) pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExtendedNextHopEntry {
    /// The family of the NLRI.
    pub family: AfiSafi,
    /// The address family of the next hop.
    pub next_hop_afi: Afi,
}

impl ExtendedNextHop {
    /// Whether the capability lists `family` with next hops of `next_hop_afi`.
    pub fn allows(&self, family: AfiSafi, next_hop_afi: Afi) -> bool {
        self.entries
            .iter()
            .any(|e| e.family == family && e.next_hop_afi == next_hop_afi)
    }

    /// Adds to `ctx` the pairs that both `local` and `remote` announced.
    pub fn negotiate(
        local: &ExtendedNextHop,
        remote: &ExtendedNextHop,
        ctx: SessionContext,
    ) -> SessionContext {
        local
            .entries
            .iter()
            .filter(|e| remote.allows(e.family, e.next_hop_afi))
            .fold(ctx, |ctx, e| {
                ctx.with_extended_next_hop(e.family, e.next_hop_afi)
            })
    }

    /// Decodes the capability value. Returns `Ok(None)` when an entry's SAFI
    /// does not fit one octet.
    pub fn decode(value: Bytes) -> Result<Option<Self>, DecodeError> {
        if value.len() % 6 != 0 {
            return Err(malformed(
                "extended next hop capability length is not a multiple of 6",
            ));
        }
        let mut r = Reader::new(value);
        let mut entries = Vec::with_capacity(r.remaining() / 6);
        while !r.is_empty() {
            let (afi, safi, nh) = (|| Some((r.u16()?, r.u16()?, r.u16()?)))()
                .ok_or_else(|| malformed("extended next hop capability truncated"))?;
            let Ok(safi) = u8::try_from(safi) else {
                return Ok(None);
            };
            entries.push(ExtendedNextHopEntry {
                family: AfiSafi::new(Afi::from(afi), Safi::from(safi)),
                next_hop_afi: Afi::from(nh),
            });
        }
        Ok(Some(ExtendedNextHop { entries }))
    }

    /// Appends the capability value.
    pub fn encode_value(&self, buf: &mut BytesMut) {
        for e in &self.entries {
            buf.put_u16(e.family.afi.to_u16());
            buf.put_u16(u16::from(e.family.safi.to_u8()));
            buf.put_u16(e.next_hop_afi.to_u16());
        }
    }
}

impl fmt::Display for ExtendedNextHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.entries.is_empty() {
            return f.write_str("(no families)");
        }
        for (i, e) in self.entries.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{} via {}", e.family, e.next_hop_afi)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc8950_layout() {
        // IPv4 unicast and IPv4 VPN (128) over IPv6 next hops.
        let v = Bytes::from_static(&[0, 1, 0, 1, 0, 2, 0, 1, 0, 128, 0, 2]);
        let e = ExtendedNextHop::decode(v.clone()).unwrap().unwrap();
        assert!(e.allows(AfiSafi::IPV4_UNICAST, Afi::Ipv6));
        assert_eq!(e.entries[1].family.safi, Safi::Other(128));
        let mut buf = BytesMut::new();
        e.encode_value(&mut buf);
        assert_eq!(buf, v);
        let ctx = ExtendedNextHop::negotiate(&e, &e, SessionContext::default());
        assert!(ctx.extended_next_hop(AfiSafi::IPV4_UNICAST, Afi::Ipv6));
        assert!(ExtendedNextHop::decode(v.slice(..5)).is_err());
        let wide = Bytes::from_static(&[0, 1, 1, 1, 0, 2]);
        assert_eq!(ExtendedNextHop::decode(wide), Ok(None));
    }
}
