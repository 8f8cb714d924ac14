//! MP_REACH_NLRI (type code 14, RFC 4760 3): optional non-transitive, the
//! reachable NLRI of any address family with their next hop.
//!
//! IPv4 and IPv6 unicast and multicast prefixes are decoded (with ADD-PATH
//! identifiers when the session negotiated them for the family); the next
//! hop is 4 octets, 16 octets (global) or 32 octets (global and
//! link-local), and IPv4 prefixes may have an IPv6 next hop (RFC 8950).
//! An IPv4 next hop for IPv6 prefixes is accepted only when the session
//! context allows it (`SessionContext::extended_next_hop(family, Afi::Ipv4)`).
//! Every other family keeps its next hop and NLRI as opaque bytes.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::Malformed;
use crate::afi::{Afi, AfiSafi, Safi};
use crate::context::SessionContext;
use crate::nlri::{self, Nlri, NlriIter};

/// The next hop of MP_REACH_NLRI.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MpNextHop {
    /// A 4-octet IPv4 address.
    Ipv4(Ipv4Addr),
    /// A 16-octet IPv6 address, or 32 octets: global and link-local
    /// (RFC 2545 3).
    Ipv6 {
        /// The global address.
        global: Ipv6Addr,
        /// The link-local address, when the next hop is 32 octets.
        link_local: Option<Ipv6Addr>,
    },
    /// The next hop of a family this crate does not decode (VPN route
    /// distinguisher and address, ...), as received.
    Opaque(Bytes),
}

impl MpNextHop {
    /// Octets of the encoded next hop.
    pub fn len(&self) -> usize {
        match self {
            MpNextHop::Ipv4(_) => 4,
            MpNextHop::Ipv6 {
                link_local: None, ..
            } => 16,
            MpNextHop::Ipv6 { .. } => 32,
            MpNextHop::Opaque(b) => b.len(),
        }
    }

    /// Whether the encoded next hop is empty (an opaque empty next hop).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the next hop (without its length octet).
    pub fn encode(&self, buf: &mut BytesMut) {
        match self {
            MpNextHop::Ipv4(a) => buf.put_slice(&a.octets()),
            MpNextHop::Ipv6 { global, link_local } => {
                buf.put_slice(&global.octets());
                if let Some(l) = link_local {
                    buf.put_slice(&l.octets());
                }
            }
            MpNextHop::Opaque(b) => buf.put_slice(b),
        }
    }

    /// Decodes the next hop `value[range]` (sliced from `value` only when
    /// kept opaque).
    fn decode(
        family: AfiSafi,
        value: &Bytes,
        range: std::ops::Range<usize>,
        ctx: &SessionContext,
    ) -> Result<MpNextHop, Malformed> {
        if !family.is_ip_prefix_family() {
            return Ok(MpNextHop::Opaque(value.slice(range)));
        }
        let nh: &[u8] = value.get(range).unwrap_or_default();
        let v6 = |b: &[u8]| b.first_chunk::<16>().map(|a| Ipv6Addr::from(*a));
        match (family.afi, nh.len()) {
            (Afi::Ipv4, 4) | (Afi::Ipv6, 4)
                if family.afi == Afi::Ipv4 || ctx.extended_next_hop(family, Afi::Ipv4) =>
            {
                Ok(MpNextHop::Ipv4(
                    nh.first_chunk::<4>()
                        .map(|a| Ipv4Addr::from(*a))
                        .unwrap_or(Ipv4Addr::UNSPECIFIED),
                ))
            }
            (_, 16) => Ok(MpNextHop::Ipv6 {
                global: v6(nh).unwrap_or(Ipv6Addr::UNSPECIFIED),
                link_local: None,
            }),
            (_, 32) => Ok(MpNextHop::Ipv6 {
                global: v6(nh).unwrap_or(Ipv6Addr::UNSPECIFIED),
                link_local: nh.get(16..).and_then(v6),
            }),
            _ => Err(Malformed::optional(
                "MP_REACH_NLRI next hop length does not fit the address family",
            )),
        }
    }
}

impl fmt::Display for MpNextHop {
    /// The address; `global link-local` for a 32-octet IPv6 next hop; hex
    /// for an opaque one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MpNextHop::Ipv4(a) => write!(f, "{a}"),
            MpNextHop::Ipv6 {
                global,
                link_local: None,
            } => write!(f, "{global}"),
            MpNextHop::Ipv6 {
                global,
                link_local: Some(l),
            } => write!(f, "{global} {l}"),
            MpNextHop::Opaque(b) => {
                f.write_str("0x")?;
                b.iter().try_for_each(|o| write!(f, "{o:02x}"))
            }
        }
    }
}

/// A malformed MP_REACH_NLRI or MP_UNREACH_NLRI, with the family when the
/// attribute was long enough to name it (RFC 7606 7.11: "AFI/SAFI disable"
/// when it is known, "session reset" when it is not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpMalformed {
    /// The family, if the AFI and SAFI could be read.
    pub family: Option<AfiSafi>,
    /// What was wrong.
    pub malformed: Malformed,
}

/// The MP_REACH_NLRI attribute value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MpReachNlri {
    /// The address family of the NLRI.
    pub family: AfiSafi,
    /// The attribute flags to encode with: optional non-transitive, plus
    /// Extended Length when it was received so (kept for byte-exact
    /// re-encoding).
    pub flags: super::Flags,
    /// The next hop.
    pub next_hop: MpNextHop,
    /// The octet after the next hop (Number of SNPAs in RFC 2858, reserved
    /// in RFC 4760), kept as received.
    pub reserved: u8,
    nlri: Bytes,
    add_path: bool,
    count: usize,
}

impl MpReachNlri {
    /// Builds the attribute for IP prefixes of `family`. Path identifiers
    /// are written when `add_path` is set (0 for prefixes without one) and
    /// dropped otherwise.
    pub fn new(family: AfiSafi, next_hop: MpNextHop, prefixes: &[Nlri], add_path: bool) -> Self {
        let mut b = BytesMut::new();
        for n in prefixes {
            put_nlri(n, add_path, &mut b);
        }
        MpReachNlri {
            flags: super::Flags::OPTIONAL_NON_TRANSITIVE,
            family,
            next_hop,
            reserved: 0,
            nlri: b.freeze(),
            add_path,
            count: prefixes.len(),
        }
    }

    /// Builds the attribute for a family whose NLRI this crate does not
    /// decode: the NLRI field as bytes.
    pub fn new_opaque(family: AfiSafi, next_hop: MpNextHop, nlri: Bytes) -> Self {
        MpReachNlri {
            flags: super::Flags::OPTIONAL_NON_TRANSITIVE,
            family,
            next_hop,
            reserved: 0,
            nlri,
            add_path: false,
            count: 0,
        }
    }

    /// Decodes the attribute value. NLRI of IP families carry path
    /// identifiers when `ctx.add_path_receive(family)`.
    pub fn decode(value: &Bytes, ctx: &SessionContext) -> Result<Self, MpMalformed> {
        Self::decode_value(value.clone(), ctx)
    }

    /// [`MpReachNlri::decode`], the NLRI field keeping `value`'s reference.
    pub(crate) fn decode_value(value: Bytes, ctx: &SessionContext) -> Result<Self, MpMalformed> {
        let Some((&[a0, a1, safi, nh_len], _)) = value.split_first_chunk::<4>() else {
            return Err(MpMalformed {
                family: None,
                malformed: Malformed::optional("MP_REACH_NLRI shorter than its fixed fields"),
            });
        };
        let family = AfiSafi::new(Afi::from(u16::from_be_bytes([a0, a1])), Safi::from(safi));
        let err = |reason| MpMalformed {
            family: Some(family),
            malformed: Malformed::optional(reason),
        };
        let nh_end = 4 + usize::from(nh_len);
        if value.len() < nh_end + 1 {
            return Err(err("MP_REACH_NLRI next hop overruns the attribute"));
        }
        let next_hop =
            MpNextHop::decode(family, &value, 4..nh_end, ctx).map_err(|m| MpMalformed {
                family: Some(family),
                malformed: m,
            })?;
        let reserved = value.get(nh_end).copied().unwrap_or(0);
        // Checked above: the value is longer than nh_end.
        let mut nlri = value;
        nlri.advance(nh_end + 1);
        let (add_path, count) = if family.is_ip_prefix_family() {
            let ap = ctx.add_path_receive(family);
            let count = nlri::validate(&nlri, family.afi, ap)
                .map_err(|_| err("MP_REACH_NLRI has malformed NLRI"))?;
            (ap, count)
        } else {
            (false, 0)
        };
        Ok(MpReachNlri {
            flags: super::Flags::OPTIONAL_NON_TRANSITIVE,
            family,
            next_hop,
            reserved,
            nlri,
            add_path,
            count,
        })
    }

    /// The prefixes (empty for a family this crate does not decode).
    pub fn prefixes(&self) -> NlriIter<'_> {
        if self.family.is_ip_prefix_family() {
            NlriIter::new_validated(&self.nlri, self.family.afi, self.add_path, self.count)
        } else {
            NlriIter::new_validated(&[], Afi::Ipv4, false, 0)
        }
    }

    /// Number of prefixes of an IP family (0 for other families).
    pub fn prefix_count(&self) -> usize {
        self.count
    }

    /// The NLRI field as received (the only form for families this crate
    /// does not decode).
    pub fn nlri_bytes(&self) -> &Bytes {
        &self.nlri
    }

    /// Whether the NLRI carry ADD-PATH identifiers.
    pub fn add_path(&self) -> bool {
        self.add_path
    }

    /// Whether the value must be re-encoded for `ctx` (ADD-PATH differs).
    fn reencode(&self, ctx: &SessionContext) -> bool {
        self.family.is_ip_prefix_family() && ctx.add_path_send(self.family) != self.add_path
    }

    /// Length of the encoded value for `ctx`.
    pub fn value_len(&self, ctx: &SessionContext) -> usize {
        let nlri = if self.reencode(ctx) {
            if self.add_path {
                self.nlri.len() - 4 * self.count
            } else {
                self.nlri.len() + 4 * self.count
            }
        } else {
            self.nlri.len()
        };
        5 + self.next_hop.len() + nlri
    }

    /// Appends the value. Path identifiers follow `ctx.add_path_send`.
    pub fn encode_value(&self, ctx: &SessionContext, buf: &mut BytesMut) {
        buf.put_u16(self.family.afi.to_u16());
        buf.put_u8(self.family.safi.to_u8());
        buf.put_u8(u8::try_from(self.next_hop.len()).unwrap_or(u8::MAX));
        self.next_hop.encode(buf);
        buf.put_u8(self.reserved);
        if self.reencode(ctx) {
            let ap = !self.add_path;
            for n in self.prefixes() {
                put_nlri(&n, ap, buf);
            }
        } else {
            buf.put_slice(&self.nlri);
        }
    }
}

/// Appends one prefix, with a path identifier exactly when `add_path`.
pub(crate) fn put_nlri(n: &Nlri, add_path: bool, buf: &mut BytesMut) {
    if add_path {
        buf.put_u32(n.path_id.unwrap_or(0));
    }
    nlri::encode_prefix(&n.prefix, buf);
}

/// Octets one prefix takes with or without a path identifier.
pub(crate) fn nlri_len(n: &Nlri, add_path: bool) -> usize {
    (if add_path { 4 } else { 0 }) + 1 + usize::from(n.prefix.prefix_len()).div_ceil(8)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Bytes {
        Bytes::from(
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn frr_ipv6_link_local() {
        let ctx = SessionContext::default();
        let v = hex(
            "00020120fffe0102aabbccdd03040506a1a2a3a4fe80000000000000021002ff010203040020fffe010240fffe00010002000300",
        );
        let m = MpReachNlri::decode(&v, &ctx).unwrap();
        assert_eq!(m.family, AfiSafi::IPV6_UNICAST);
        assert!(matches!(
            m.next_hop,
            MpNextHop::Ipv6 {
                link_local: Some(_),
                ..
            }
        ));
        let p: Vec<String> = m.prefixes().map(|n| n.prefix.to_string()).collect();
        assert_eq!(p, ["fffe:102::/32", "fffe:1:2:3::/64", "::/0"]);
        let mut buf = BytesMut::new();
        m.encode_value(&ctx, &mut buf);
        assert_eq!(buf.freeze(), v);
    }

    #[test]
    fn rfc8950_and_opaque() {
        let ctx = SessionContext::default();
        let mut v = BytesMut::new();
        v.put_slice(&[0, 1, 1, 16]);
        v.put_slice(&Ipv6Addr::LOCALHOST.octets());
        v.put_slice(&[0, 24, 10, 0, 0]);
        let m = MpReachNlri::decode(&v.freeze(), &ctx).unwrap();
        assert!(matches!(m.next_hop, MpNextHop::Ipv6 { .. }));
        assert_eq!(m.prefix_count(), 1);
        let vpn = hex(
            "0001800c0000000000000000c0a8000100680001020000000200ff03040a0169ff00000000c0a800010a02030000",
        );
        let m = MpReachNlri::decode(&vpn, &ctx).unwrap();
        assert!(matches!(m.next_hop, MpNextHop::Opaque(ref b) if b.len() == 12));
        let mut buf = BytesMut::new();
        m.encode_value(&ctx, &mut buf);
        assert_eq!(buf.freeze(), vpn);
        assert_eq!(
            MpReachNlri::decode(&hex("0001"), &ctx).unwrap_err().family,
            None
        );
        assert_eq!(
            MpReachNlri::decode(&hex("00020104fffe0102"), &ctx)
                .unwrap_err()
                .family,
            Some(AfiSafi::IPV6_UNICAST)
        );
    }

    pub(crate) fn arb_prefixes(v6: bool) -> impl Strategy<Value = Vec<Nlri>> {
        let max = if v6 { 128u8 } else { 32 };
        prop::collection::vec(
            (any::<u128>(), 0..=max, prop::option::of(any::<u32>())),
            0..30,
        )
        .prop_map(move |v| {
            v.into_iter()
                .map(|(a, len, id)| {
                    let p: ipnet::IpNet = if v6 {
                        ipnet::Ipv6Net::new(Ipv6Addr::from(a), len).unwrap().into()
                    } else {
                        ipnet::Ipv4Net::new(Ipv4Addr::from(a as u32), len)
                            .unwrap()
                            .into()
                    };
                    Nlri {
                        path_id: id,
                        prefix: p.trunc(),
                    }
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn round_trip(v6 in any::<bool>(), ap in any::<bool>(), prefixes in arb_prefixes(false), p6 in arb_prefixes(true), ll in any::<bool>()) {
            let (family, prefixes, nh) = if v6 {
                (AfiSafi::IPV6_UNICAST, p6, MpNextHop::Ipv6 { global: Ipv6Addr::LOCALHOST, link_local: ll.then_some(Ipv6Addr::UNSPECIFIED) })
            } else {
                (AfiSafi::IPV4_MULTICAST, prefixes, MpNextHop::Ipv4(Ipv4Addr::LOCALHOST))
            };
            let send = if ap { SessionContext::default().with_add_path(family, crate::Direction::Send) } else { SessionContext::default() };
            let m = MpReachNlri::new(family, nh, &prefixes, ap);
            let mut buf = BytesMut::new();
            m.encode_value(&send, &mut buf);
            prop_assert_eq!(buf.len(), m.value_len(&send));
            let d = MpReachNlri::decode(&buf.freeze(), &send.reversed()).unwrap();
            let want: Vec<Nlri> = prefixes.iter().map(|n| Nlri { path_id: if ap { Some(n.path_id.unwrap_or(0)) } else { None }, prefix: n.prefix }).collect();
            prop_assert_eq!(d.prefixes().collect::<Vec<_>>(), want);
            prop_assert_eq!(&d.next_hop, &m.next_hop);
            // and re-encoding for a session without ADD-PATH drops the ids
            let plain = SessionContext::default();
            let mut b2 = BytesMut::new();
            d.encode_value(&plain, &mut b2);
            prop_assert_eq!(b2.len(), d.value_len(&plain));
            let d2 = MpReachNlri::decode(&b2.freeze(), &plain).unwrap();
            prop_assert_eq!(d2.prefixes().map(|n| n.prefix).collect::<Vec<_>>(), prefixes.iter().map(|n| n.prefix).collect::<Vec<_>>());
        }

        #[test]
        fn never_panics(v in prop::collection::vec(any::<u8>(), 0..80)) {
            let _ = MpReachNlri::decode(&Bytes::from(v), &SessionContext::default()).map(|m| m.prefixes().count());
        }
    }
}
