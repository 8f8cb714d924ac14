//! MP_UNREACH_NLRI (type code 15, RFC 4760 4): optional non-transitive, the
//! withdrawn NLRI of any address family.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::Malformed;
use super::mp_reach_nlri::{MpMalformed, put_nlri};
use crate::afi::{Afi, AfiSafi, Safi};
use crate::context::SessionContext;
use crate::nlri::{self, Nlri, NlriIter};

/// The MP_UNREACH_NLRI attribute value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MpUnreachNlri {
    /// The address family of the withdrawn NLRI.
    pub family: AfiSafi,
    /// The attribute flags to encode with: optional non-transitive, plus
    /// Extended Length when it was received so (kept for byte-exact
    /// re-encoding).
    pub flags: super::Flags,
    withdrawn: Bytes,
    add_path: bool,
    count: usize,
}

impl MpUnreachNlri {
    /// Builds the attribute for IP prefixes, with path identifiers when
    /// `add_path` is set.
    pub fn new(family: AfiSafi, prefixes: &[Nlri], add_path: bool) -> Self {
        let mut b = BytesMut::new();
        for n in prefixes {
            put_nlri(n, add_path, &mut b);
        }
        MpUnreachNlri {
            flags: super::Flags::OPTIONAL_NON_TRANSITIVE,
            family,
            withdrawn: b.freeze(),
            add_path,
            count: prefixes.len(),
        }
    }

    /// Builds the attribute for a family this crate does not decode.
    pub fn new_opaque(family: AfiSafi, withdrawn: Bytes) -> Self {
        MpUnreachNlri {
            flags: super::Flags::OPTIONAL_NON_TRANSITIVE,
            family,
            withdrawn,
            add_path: false,
            count: 0,
        }
    }

    /// The End-of-RIB marker of `family` (RFC 4724 2): no withdrawn NLRI.
    pub fn end_of_rib(family: AfiSafi) -> Self {
        Self::new_opaque(family, Bytes::new())
    }

    /// Decodes the attribute value. NLRI of IP families carry path
    /// identifiers when `ctx.add_path_receive(family)`.
    pub fn decode(value: &Bytes, ctx: &SessionContext) -> Result<Self, MpMalformed> {
        Self::decode_value(value.clone(), ctx)
    }

    /// [`MpUnreachNlri::decode`], the withdrawn field keeping `value`'s
    /// reference.
    pub(crate) fn decode_value(value: Bytes, ctx: &SessionContext) -> Result<Self, MpMalformed> {
        let Some((&[a0, a1, safi], _)) = value.split_first_chunk::<3>() else {
            return Err(MpMalformed {
                family: None,
                malformed: Malformed::optional("MP_UNREACH_NLRI shorter than its fixed fields"),
            });
        };
        let family = AfiSafi::new(Afi::from(u16::from_be_bytes([a0, a1])), Safi::from(safi));
        let mut withdrawn = value;
        withdrawn.advance(3);
        let (add_path, count) = if family.is_ip_prefix_family() {
            let ap = ctx.add_path_receive(family);
            let count = nlri::validate(&withdrawn, family.afi, ap).map_err(|_| MpMalformed {
                family: Some(family),
                malformed: Malformed::optional("MP_UNREACH_NLRI has malformed NLRI"),
            })?;
            (ap, count)
        } else {
            (false, 0)
        };
        Ok(MpUnreachNlri {
            flags: super::Flags::OPTIONAL_NON_TRANSITIVE,
            family,
            withdrawn,
            add_path,
            count,
        })
    }

    /// The withdrawn prefixes (empty for a family this crate does not decode).
    pub fn prefixes(&self) -> NlriIter<'_> {
        if self.family.is_ip_prefix_family() {
            NlriIter::new_validated(&self.withdrawn, self.family.afi, self.add_path, self.count)
        } else {
            NlriIter::new_validated(&[], Afi::Ipv4, false, 0)
        }
    }

    /// Number of withdrawn prefixes of an IP family.
    pub fn prefix_count(&self) -> usize {
        self.count
    }

    /// The withdrawn routes field as received.
    pub fn withdrawn_bytes(&self) -> &Bytes {
        &self.withdrawn
    }

    /// Whether this is an End-of-RIB marker (RFC 4724 2): nothing withdrawn.
    pub fn is_end_of_rib(&self) -> bool {
        self.withdrawn.is_empty()
    }

    fn reencode(&self, ctx: &SessionContext) -> bool {
        self.family.is_ip_prefix_family() && ctx.add_path_send(self.family) != self.add_path
    }

    /// Length of the encoded value for `ctx`.
    pub fn value_len(&self, ctx: &SessionContext) -> usize {
        3 + if self.reencode(ctx) {
            if self.add_path {
                self.withdrawn.len() - 4 * self.count
            } else {
                self.withdrawn.len() + 4 * self.count
            }
        } else {
            self.withdrawn.len()
        }
    }

    /// Appends the value. Path identifiers follow `ctx.add_path_send`.
    pub fn encode_value(&self, ctx: &SessionContext, buf: &mut BytesMut) {
        buf.put_u16(self.family.afi.to_u16());
        buf.put_u8(self.family.safi.to_u8());
        if self.reencode(ctx) {
            for n in self.prefixes() {
                put_nlri(&n, !self.add_path, buf);
            }
        } else {
            buf.put_slice(&self.withdrawn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn frr_vectors() {
        let ctx = SessionContext::default();
        let v = Bytes::from_static(&[0, 1, 1, 0x10, 10, 1, 0x11, 10, 2, 3, 0]);
        let m = MpUnreachNlri::decode(&v, &ctx).unwrap();
        assert_eq!(m.prefix_count(), 3);
        assert!(
            MpUnreachNlri::decode(
                &Bytes::from_static(&[0, 1, 1, 0x10, 10, 1, 0x1e, 10, 0]),
                &ctx
            )
            .is_err()
        );
        assert!(
            MpUnreachNlri::decode(&Bytes::from_static(&[0, 1, 1]), &ctx)
                .unwrap()
                .is_end_of_rib()
        );
    }

    proptest! {
        #[test]
        fn round_trip(prefixes in super::super::mp_reach_nlri::tests::arb_prefixes(true), ap in any::<bool>()) {
            let f = AfiSafi::IPV6_UNICAST;
            let send = if ap { SessionContext::default().with_add_path(f, crate::Direction::Send) } else { SessionContext::default() };
            let m = MpUnreachNlri::new(f, &prefixes, ap);
            let mut buf = BytesMut::new();
            m.encode_value(&send, &mut buf);
            prop_assert_eq!(buf.len(), m.value_len(&send));
            let d = MpUnreachNlri::decode(&buf.freeze(), &send.reversed()).unwrap();
            prop_assert_eq!(d.prefixes().map(|n| n.prefix).collect::<Vec<_>>(), prefixes.iter().map(|n| n.prefix).collect::<Vec<_>>());
        }
    }
}
