//! The decoded attribute set of one UPDATE ([`PathAttributes`]), its
//! decoding with RFC 7606 error handling, and its encoding.

use bytes::{BufMut, Bytes, BytesMut};
use std::net::Ipv4Addr;

use super::as4_path::{self, Reconciliation};
use super::error_handling::{Action, ErrorReport, PeerType, expected_category, malformed_action};
use super::mp_reach_nlri::{MpMalformed, MpReachNlri};
use super::mp_unreach_nlri::MpUnreachNlri;
use super::type_code as tc;
use super::{
    Aggregator, Aigp, AsPath, ClusterList, Communities, ExtendedCommunities, Flags,
    Ipv6ExtendedCommunities, LargeCommunities, Malformed, Origin, RawAttribute, put_header,
};
use crate::context::SessionContext;
use crate::error::{DecodeError, EncodeError, UpdateMessageSubcode};

/// Type codes of the attributes [`PathAttributes`] holds typed, in order;
/// the index is the slot of the flags override.
const KNOWN: [u8; 17] = [
    tc::ORIGIN,
    tc::AS_PATH,
    tc::NEXT_HOP,
    tc::MULTI_EXIT_DISC,
    tc::LOCAL_PREF,
    tc::ATOMIC_AGGREGATE,
    tc::AGGREGATOR,
    tc::COMMUNITIES,
    tc::ORIGINATOR_ID,
    tc::CLUSTER_LIST,
    tc::EXTENDED_COMMUNITIES,
    tc::AS4_PATH,
    tc::AS4_AGGREGATOR,
    tc::IPV6_EXTENDED_COMMUNITIES,
    tc::AIGP,
    tc::LARGE_COMMUNITY,
    tc::OTC,
];

/// BGPsec_PATH (RFC 8205), which takes AS_PATH's place.
const BGPSEC_PATH: u8 = 33;

/// The index of `code` in [`KNOWN`].
fn slot(code: u8) -> Option<usize> {
    Some(match code {
        tc::ORIGIN => 0,
        tc::AS_PATH => 1,
        tc::NEXT_HOP => 2,
        tc::MULTI_EXIT_DISC => 3,
        tc::LOCAL_PREF => 4,
        tc::ATOMIC_AGGREGATE => 5,
        tc::AGGREGATOR => 6,
        tc::COMMUNITIES => 7,
        tc::ORIGINATOR_ID => 8,
        tc::CLUSTER_LIST => 9,
        tc::EXTENDED_COMMUNITIES => 10,
        tc::AS4_PATH => 11,
        tc::AS4_AGGREGATOR => 12,
        tc::IPV6_EXTENDED_COMMUNITIES => 13,
        tc::AIGP => 14,
        tc::LARGE_COMMUNITY => 15,
        tc::OTC => 16,
        _ => return None,
    })
}

/// The type codes [`PathAttributes::encode_with_mp`] writes, in order:
/// [`KNOWN`] and the two multiprotocol attributes, sorted.
const ENCODE_ORDER: [u8; KNOWN.len() + 2] = [
    tc::ORIGIN,
    tc::AS_PATH,
    tc::NEXT_HOP,
    tc::MULTI_EXIT_DISC,
    tc::LOCAL_PREF,
    tc::ATOMIC_AGGREGATE,
    tc::AGGREGATOR,
    tc::COMMUNITIES,
    tc::ORIGINATOR_ID,
    tc::CLUSTER_LIST,
    tc::MP_REACH_NLRI,
    tc::MP_UNREACH_NLRI,
    tc::EXTENDED_COMMUNITIES,
    tc::AS4_PATH,
    tc::AS4_AGGREGATOR,
    tc::IPV6_EXTENDED_COMMUNITIES,
    tc::AIGP,
    tc::LARGE_COMMUNITY,
    tc::OTC,
];

/// The path attributes of a route, decoded: one field per attribute this
/// crate knows (MP_REACH_NLRI and MP_UNREACH_NLRI excepted: they describe
/// the NLRI, not the path, and come back beside the set in
/// [`DecodedAttributes`]), plus the others kept raw.
///
/// Variable-length values share the buffer they were decoded from; call
/// [`PathAttributes::unshare`] before storing the set for long. Equality
/// and hashing compare values, so the same attributes received twice
/// compare equal (a RIB can intern them). The flags octet of an attribute
/// is remembered only when it differs from the usual one (Partial bit,
/// Extended Length on a short value, low-order bits), so re-encoding is
/// byte-exact.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct PathAttributes {
    /// ORIGIN (1).
    pub origin: Option<Origin>,
    /// AS_PATH (2), with 4-octet AS numbers.
    pub as_path: Option<AsPath>,
    /// NEXT_HOP (3).
    pub next_hop: Option<Ipv4Addr>,
    /// MULTI_EXIT_DISC (4).
    pub multi_exit_disc: Option<u32>,
    /// LOCAL_PREF (5).
    pub local_pref: Option<u32>,
    /// ATOMIC_AGGREGATE (6).
    pub atomic_aggregate: bool,
    /// AGGREGATOR (7).
    pub aggregator: Option<Aggregator>,
    /// COMMUNITIES (8).
    pub communities: Option<Communities>,
    /// ORIGINATOR_ID (9).
    pub originator_id: Option<Ipv4Addr>,
    /// CLUSTER_LIST (10).
    pub cluster_list: Option<ClusterList>,
    /// EXTENDED COMMUNITIES (16).
    pub extended_communities: Option<ExtendedCommunities>,
    /// AS4_PATH (17), as received from a 2-octet-AS speaker; see
    /// [`PathAttributes::reconcile_as4`].
    pub as4_path: Option<AsPath>,
    /// AS4_AGGREGATOR (18), as received from a 2-octet-AS speaker.
    pub as4_aggregator: Option<Aggregator>,
    /// IPv6 Address Specific Extended Community (25).
    pub ipv6_extended_communities: Option<Ipv6ExtendedCommunities>,
    /// AIGP (26).
    pub aigp: Option<Aigp>,
    /// LARGE_COMMUNITY (32).
    pub large_communities: Option<LargeCommunities>,
    /// OTC (35).
    pub otc: Option<u32>,
    /// Every other attribute, raw, in the order received.
    pub unknown: Vec<RawAttribute>,
    /// The flags octets received that differ from the usual ones, for
    /// byte-exact re-encoding (`ReceivedFlags::default()` when building a
    /// set).
    pub received_flags: ReceivedFlags,
}

/// The flags octets of known attributes that were received with unusual
/// flags (see [`PathAttributes::received_flags`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ReceivedFlags([u8; KNOWN.len()]);

/// What [`PathAttributes::decode`] returns: the attribute set, the
/// multiprotocol NLRI attributes, and the RFC 7606 report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodedAttributes {
    /// The path attributes.
    pub attributes: PathAttributes,
    /// MP_REACH_NLRI, if present and well-formed.
    pub mp_reach: Option<MpReachNlri>,
    /// MP_UNREACH_NLRI, if present and well-formed.
    pub mp_unreach: Option<MpUnreachNlri>,
    /// The problems found and what to do about them.
    pub report: ErrorReport,
}

/// Why the attribute field could not be split into attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SplitError {
    /// Fewer octets than an attribute header.
    ShortHeader,
    /// The attribute's length runs past the field.
    Overrun,
}

/// The header of the attribute at the front of `block`: flags, type code,
/// header length (3 or 4) and value length, checked to fit in `block`.
#[inline]
pub(crate) fn attribute_header(block: &[u8]) -> Result<(Flags, u8, usize, usize), SplitError> {
    let (&[flags, code], _) = block
        .split_first_chunk::<2>()
        .ok_or(SplitError::ShortHeader)?;
    let flags = Flags(flags);
    let (len, hdr) = if flags.extended_length() {
        let l = block.get(2..4).ok_or(SplitError::ShortHeader)?;
        (usize::from(super::be_u16(l).unwrap_or(0)), 4)
    } else {
        (
            usize::from(*block.get(2).ok_or(SplitError::ShortHeader)?),
            3,
        )
    };
    if block.len() < hdr + len {
        return Err(SplitError::Overrun);
    }
    Ok((flags, code, hdr, len))
}

/// Splits one attribute off the front of `block`: the attribute (flags,
/// code, value sharing `block`) and the rest.
#[cfg(test)]
pub(crate) fn split_attribute(block: &Bytes) -> Result<(RawAttribute, Bytes), SplitError> {
    let (flags, code, hdr, len) = attribute_header(block)?;
    Ok((
        RawAttribute {
            flags,
            type_code: code,
            value: block.slice(hdr..hdr + len),
        },
        block.slice(hdr + len..),
    ))
}

/// One attribute of a block being decoded: its header fields and where its
/// value lies. The value becomes a [`Bytes`] (a reference count on the
/// block) only for the attributes that keep it.
#[derive(Clone, Copy)]
struct Span<'a> {
    block: &'a Bytes,
    flags: Flags,
    code: u8,
    start: usize,
    end: usize,
}

impl Span<'_> {
    /// The value octets.
    fn value(&self) -> &[u8] {
        self.block.get(self.start..self.end).unwrap_or_default()
    }

    /// The value sharing the block.
    fn value_bytes(&self) -> Bytes {
        self.block.slice(self.start..self.end)
    }

    /// The attribute as a [`RawAttribute`].
    fn raw(&self) -> RawAttribute {
        RawAttribute {
            flags: self.flags,
            type_code: self.code,
            value: self.value_bytes(),
        }
    }

    /// The whole attribute as NOTIFICATION data (a copy, as
    /// [`RawAttribute::to_notification_data`] makes).
    fn notification_data(&self) -> Bytes {
        self.raw().to_notification_data()
    }
}

/// A 256-bit set of type codes.
#[derive(Default)]
struct CodeSet([u64; 4]);

impl CodeSet {
    fn insert(&mut self, code: u8) -> bool {
        let (w, b) = (usize::from(code / 64), code % 64);
        match self.0.get_mut(w) {
            Some(word) => {
                let new = *word & (1 << b) == 0;
                *word |= 1 << b;
                new
            }
            None => false,
        }
    }
    fn contains(&self, code: u8) -> bool {
        self.0
            .get(usize::from(code / 64))
            .is_some_and(|w| w & (1 << (code % 64)) != 0)
    }
}

impl PathAttributes {
    /// Decodes a Path Attributes field (RFC 4271 4.3) with the error
    /// handling of RFC 7606.
    ///
    /// `peer` says whether the sender is internal or external (LOCAL_PREF
    /// handling); `has_nlri` whether the UPDATE's NLRI field is non-empty
    /// (which makes ORIGIN, AS_PATH and NEXT_HOP mandatory). Returns the
    /// session-reset errors as [`DecodeError::Update`] with the subcode and
    /// data of RFC 4271 6.3.
    pub fn decode(
        block: &Bytes,
        ctx: &SessionContext,
        peer: PeerType,
        has_nlri: bool,
    ) -> Result<DecodedAttributes, DecodeError> {
        let mut out = DecodedAttributes::default();
        let mut seen = CodeSet::default();
        let mut pos = 0usize;
        while let Some(rest) = block.get(pos..).filter(|r| !r.is_empty()) {
            let (flags, code, hdr, len) = match attribute_header(rest) {
                Ok(x) => x,
                Err(e) => {
                    let (subcode, reason) = match e {
                        SplitError::ShortHeader => (
                            UpdateMessageSubcode::MalformedAttributeList,
                            "octets left too few for an attribute header",
                        ),
                        SplitError::Overrun => (
                            UpdateMessageSubcode::AttributeLengthError,
                            "attribute length overruns the path attributes field",
                        ),
                    };
                    let code = rest.get(1).copied().unwrap_or(0);
                    out.report.push(
                        code,
                        Action::TreatAsWithdraw,
                        subcode,
                        block.slice(pos..),
                        reason,
                    );
                    break;
                }
            };
            let span = Span {
                block,
                flags,
                code,
                start: pos + hdr,
                end: pos + hdr + len,
            };
            pos = span.end;
            if !seen.insert(code) {
                if matches!(code, tc::MP_REACH_NLRI | tc::MP_UNREACH_NLRI) {
                    return Err(DecodeError::update(
                        UpdateMessageSubcode::MalformedAttributeList,
                        span.notification_data(),
                        "MP_REACH_NLRI or MP_UNREACH_NLRI appears twice",
                    ));
                }
                out.report.push(
                    code,
                    Action::AttributeDiscard,
                    UpdateMessageSubcode::MalformedAttributeList,
                    span.notification_data(),
                    "repeated attribute discarded",
                );
                continue;
            }
            out.decode_one(span, ctx, peer, has_nlri)?;
        }
        let a = &out.attributes;
        let mp_nlri = out
            .mp_reach
            .as_ref()
            .is_some_and(|m| m.prefix_count() > 0 || !m.nlri_bytes().is_empty());
        if has_nlri || mp_nlri {
            let mut missing = |code: u8, present: bool| {
                if !present && !seen.contains(code) {
                    out.report.push(
                        code,
                        Action::TreatAsWithdraw,
                        UpdateMessageSubcode::MissingWellKnownAttribute,
                        Bytes::copy_from_slice(&[code]),
                        "missing well-known mandatory attribute",
                    );
                }
            };
            missing(tc::ORIGIN, a.origin.is_some());
            // RFC 8205 4: BGPsec_PATH (33) replaces AS_PATH.
            missing(
                tc::AS_PATH,
                a.as_path.is_some() || seen.contains(BGPSEC_PATH),
            );
            if has_nlri {
                missing(tc::NEXT_HOP, a.next_hop.is_some());
            }
            if peer == PeerType::Internal {
                missing(tc::LOCAL_PREF, a.local_pref.is_some());
            }
        }
        Ok(out)
    }

    /// Appends the attributes in type-code order (the unknown ones among
    /// them by their code), for a session with context `ctx`.
    ///
    /// On a 2-octet-AS session, AS numbers above 65535 become AS_TRANS and,
    /// unless the set already has them, AS4_PATH and AS4_AGGREGATOR are
    /// added (RFC 6793 4.2.2). On a 4-octet-AS session AS4_PATH and
    /// AS4_AGGREGATOR are not sent.
    pub fn encode(&self, ctx: &SessionContext, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.encode_with_mp(ctx, None, None, buf)
    }

    /// Octets [`PathAttributes::encode`] would append.
    pub fn encoded_len(&self, ctx: &SessionContext) -> usize {
        let mut b = BytesMut::new();
        let _ = self.encode(ctx, &mut b);
        b.len()
    }

    /// Like [`PathAttributes::encode`], with MP_REACH_NLRI and
    /// MP_UNREACH_NLRI written in their type-code places.
    pub fn encode_with_mp(
        &self,
        ctx: &SessionContext,
        mp_reach: Option<&MpReachNlri>,
        mp_unreach: Option<&MpUnreachNlri>,
        buf: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        // The unknown attributes by type code (a stable sort: those of one
        // code stay in the order received); no allocation when there are none.
        let mut unknown: Vec<&RawAttribute> = Vec::new();
        if !self.unknown.is_empty() {
            unknown.extend(self.unknown.iter());
            unknown.sort_by_key(|u| u.type_code);
        }
        let mut unknown = unknown.into_iter().peekable();
        for code in ENCODE_ORDER {
            while let Some(u) = unknown.next_if(|u| u.type_code < code) {
                u.encode(buf);
            }
            self.encode_known(code, ctx, mp_reach, mp_unreach, buf)?;
        }
        for u in unknown {
            u.encode(buf);
        }
        Ok(())
    }

    fn flags_for(&self, code: u8) -> Flags {
        let stored = slot(code)
            .and_then(|s| self.received_flags.0.get(s))
            .copied()
            .unwrap_or(0);
        if stored != 0 {
            Flags(stored)
        } else {
            Flags(expected_category(code).unwrap_or(0x80))
        }
    }

    fn encode_known(
        &self,
        code: u8,
        ctx: &SessionContext,
        mp_reach: Option<&MpReachNlri>,
        mp_unreach: Option<&MpUnreachNlri>,
        buf: &mut BytesMut,
    ) -> Result<(), EncodeError> {
        let four = ctx.four_octet_as;
        let flags = self.flags_for(code);
        let mut put = |len: usize, f: &dyn Fn(&mut BytesMut)| -> Result<(), EncodeError> {
            if len > usize::from(u16::MAX) {
                return Err(EncodeError::FieldTooLong {
                    what: "path attribute",
                });
            }
            put_header(flags, code, len, buf);
            f(buf);
            Ok(())
        };
        let u32v = |v: u32| move |b: &mut BytesMut| b.put_u32(v);
        match code {
            tc::ORIGIN => {
                if let Some(o) = self.origin {
                    put(1, &|b| b.put_u8(o.to_u8()))?;
                }
            }
            tc::AS_PATH => {
                if let Some(p) = &self.as_path {
                    put(p.value_len(four), &|b| p.encode_value(four, b))?;
                }
            }
            tc::NEXT_HOP => {
                if let Some(n) = self.next_hop {
                    put(4, &|b| b.put_slice(&n.octets()))?;
                }
            }
            tc::MULTI_EXIT_DISC => {
                if let Some(v) = self.multi_exit_disc {
                    put(4, &u32v(v))?;
                }
            }
            tc::LOCAL_PREF => {
                if let Some(v) = self.local_pref {
                    put(4, &u32v(v))?;
                }
            }
            tc::ATOMIC_AGGREGATE if self.atomic_aggregate => put(0, &|_| {})?,
            tc::AGGREGATOR => {
                if let Some(a) = self.aggregator {
                    put(Aggregator::value_len(four), &|b| a.encode_value(four, b))?;
                }
            }
            tc::COMMUNITIES => {
                if let Some(c) = &self.communities {
                    put(c.value_len(), &|b| c.encode_value(b))?;
                }
            }
            tc::ORIGINATOR_ID => {
                if let Some(n) = self.originator_id {
                    put(4, &|b| b.put_slice(&n.octets()))?;
                }
            }
            tc::CLUSTER_LIST => {
                if let Some(c) = &self.cluster_list {
                    put(c.value_len(), &|b| c.encode_value(b))?;
                }
            }
            tc::MP_REACH_NLRI => {
                if let Some(m) = mp_reach {
                    // Re-encoding for another ADD-PATH setting can grow the
                    // value past what the length field holds; the next hop
                    // has a one-octet length (RFC 4760 3).
                    if m.value_len(ctx) > usize::from(u16::MAX)
                        || m.next_hop.len() > usize::from(u8::MAX)
                    {
                        return Err(EncodeError::FieldTooLong {
                            what: "MP_REACH_NLRI",
                        });
                    }
                    put_header(m.flags, code, m.value_len(ctx), buf);
                    m.encode_value(ctx, buf);
                }
            }
            tc::MP_UNREACH_NLRI => {
                if let Some(m) = mp_unreach {
                    if m.value_len(ctx) > usize::from(u16::MAX) {
                        return Err(EncodeError::FieldTooLong {
                            what: "MP_UNREACH_NLRI",
                        });
                    }
                    put_header(m.flags, code, m.value_len(ctx), buf);
                    m.encode_value(ctx, buf);
                }
            }
            tc::EXTENDED_COMMUNITIES => {
                if let Some(c) = &self.extended_communities {
                    put(c.value_len(), &|b| c.encode_value(b))?;
                }
            }
            tc::AS4_PATH if !four => {
                let generated;
                let p = match (&self.as4_path, &self.as_path) {
                    (Some(p), _) => Some(p),
                    (None, Some(p)) if p.has_four_octet_asns() => {
                        generated = p.without_confed();
                        Some(&generated)
                    }
                    _ => None,
                };
                if let Some(p) = p {
                    put(p.value_len(true), &|b| p.encode_value(true, b))?;
                }
            }
            tc::AS4_AGGREGATOR if !four => {
                let a = self
                    .as4_aggregator
                    .or(self.aggregator.filter(|a| a.asn > 0xffff));
                if let Some(a) = a {
                    put(8, &|b| a.encode_value(true, b))?;
                }
            }
            tc::IPV6_EXTENDED_COMMUNITIES => {
                if let Some(c) = &self.ipv6_extended_communities {
                    put(c.value_len(), &|b| c.encode_value(b))?;
                }
            }
            tc::AIGP => {
                if let Some(a) = &self.aigp {
                    put(a.as_bytes().len(), &|b| b.put_slice(a.as_bytes()))?;
                }
            }
            tc::LARGE_COMMUNITY => {
                if let Some(c) = &self.large_communities {
                    put(c.value_len(), &|b| c.encode_value(b))?;
                }
            }
            tc::OTC => {
                if let Some(v) = self.otc {
                    put(4, &u32v(v))?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The flags octet the attribute with this type code was received with,
    /// when it differs from the usual one; `None` otherwise.
    pub fn flags_received(&self, code: u8) -> Option<Flags> {
        slot(code)
            .and_then(|s| self.received_flags.0.get(s))
            .filter(|f| **f != 0)
            .map(|f| Flags(*f))
    }

    /// Forgets every received flags octet, so that encoding writes the
    /// usual flags.
    pub fn clear_received_flags(&mut self) {
        self.received_flags = ReceivedFlags::default();
    }

    /// The set as it should be passed on to another peer (RFC 4271 5 and
    /// 9.1.2.2): unrecognised optional transitive attributes are kept with
    /// the Partial bit set, unrecognised optional non-transitive ones are
    /// dropped. Known attributes are left as they are (which of MED,
    /// LOCAL_PREF, ORIGINATOR_ID, ... to send is the speaker's policy).
    pub fn for_readvertisement(&self) -> PathAttributes {
        let mut out = self.clone();
        out.unknown = self
            .unknown
            .iter()
            .filter_map(RawAttribute::for_readvertisement)
            .collect();
        out
    }

    /// Merges AS4_PATH into AS_PATH and AS4_AGGREGATOR into AGGREGATOR as
    /// RFC 6793 4.2.3 says (see [`as4_path::reconcile`]), and removes
    /// AS4_PATH and AS4_AGGREGATOR. For attributes received from a
    /// 2-octet-AS speaker.
    pub fn reconcile_as4(&mut self) -> Reconciliation {
        let (path, agg, r) = as4_path::reconcile(
            self.as_path.as_ref(),
            self.as4_path.as_ref(),
            self.aggregator,
            self.as4_aggregator,
        );
        self.as_path = path;
        self.aggregator = agg;
        self.as4_path = None;
        self.as4_aggregator = None;
        r
    }

    /// Copies every variable-length value into one new allocation, so that
    /// the set no longer keeps the message it was decoded from alive.
    pub fn unshare(&mut self) {
        let fixed = [
            self.as_path.as_ref().map(AsPath::as_bytes),
            self.communities.as_ref().map(|c| c.as_bytes()),
            self.cluster_list.as_ref().map(|c| c.as_bytes()),
            self.extended_communities.as_ref().map(|c| c.as_bytes()),
            self.as4_path.as_ref().map(AsPath::as_bytes),
            self.ipv6_extended_communities
                .as_ref()
                .map(|c| c.as_bytes()),
            self.aigp.as_ref().map(Aigp::as_bytes),
            self.large_communities.as_ref().map(|c| c.as_bytes()),
        ];
        // The values in the order they are re-homed below, without
        // collecting them first.
        let parts = || {
            fixed
                .into_iter()
                .flatten()
                .chain(self.unknown.iter().map(|u| &u.value))
        };
        let mut arena = BytesMut::with_capacity(parts().map(Bytes::len).sum());
        for p in parts() {
            arena.put_slice(p);
        }
        let arena = arena.freeze();
        let mut off = 0usize;
        let o = &mut off;
        self.as_path = self.as_path.as_ref().map(|p| p.rehome(&arena, o));
        self.communities = self.communities.as_ref().map(|c| c.rehome(&arena, o));
        self.cluster_list = self.cluster_list.as_ref().map(|c| c.rehome(&arena, o));
        self.extended_communities = self
            .extended_communities
            .as_ref()
            .map(|c| c.rehome(&arena, o));
        self.as4_path = self.as4_path.as_ref().map(|p| p.rehome(&arena, o));
        self.ipv6_extended_communities = self
            .ipv6_extended_communities
            .as_ref()
            .map(|c| c.rehome(&arena, o));
        self.aigp = self.aigp.as_ref().map(|c| c.rehome(&arena, o));
        self.large_communities = self.large_communities.as_ref().map(|c| c.rehome(&arena, o));
        for u in &mut self.unknown {
            u.value = super::rehome(&u.value, &arena, o);
        }
    }
}

impl DecodedAttributes {
    fn decode_one(
        &mut self,
        span: Span<'_>,
        ctx: &SessionContext,
        peer: PeerType,
        has_nlri: bool,
    ) -> Result<(), DecodeError> {
        let code = span.code;
        let Some(category) = expected_category(code) else {
            if !span.flags.optional() {
                return Err(DecodeError::update(
                    UpdateMessageSubcode::UnrecognizedWellKnownAttribute,
                    span.notification_data(),
                    "unrecognised well-known attribute",
                ));
            }
            self.attributes.unknown.push(span.raw());
            return Ok(());
        };
        if matches!(code, tc::MP_REACH_NLRI | tc::MP_UNREACH_NLRI) {
            return self.decode_mp(span, ctx, category);
        }
        let report = |this: &mut Self, m: Malformed, action: Action| {
            this.report
                .push(code, action, m.subcode, span.notification_data(), m.reason);
        };
        if span.flags.category() != category {
            report(
                self,
                Malformed {
                    subcode: UpdateMessageSubcode::AttributeFlagsError,
                    reason: "attribute flags conflict with the type code",
                },
                malformed_action(code),
            );
            return Ok(());
        }
        if code == tc::LOCAL_PREF && peer == PeerType::External {
            report(
                self,
                Malformed {
                    subcode: UpdateMessageSubcode::Unspecific,
                    reason: "LOCAL_PREF from an external peer discarded",
                },
                Action::AttributeDiscard,
            );
            return Ok(());
        }
        if matches!(code, tc::AS4_PATH | tc::AS4_AGGREGATOR) && ctx.four_octet_as {
            report(
                self,
                Malformed::optional(
                    "AS4_PATH or AS4_AGGREGATOR from a 4-octet-AS speaker discarded",
                ),
                Action::AttributeDiscard,
            );
            return Ok(());
        }
        let four = ctx.four_octet_as;
        // Fixed-size values are read in place; the variable-length ones that
        // the set keeps take one reference to the block.
        let v = span.value();
        let a = &mut self.attributes;
        let result: Result<(), Malformed> = (|| {
            match code {
                tc::ORIGIN => a.origin = Some(Origin::decode(v)?),
                tc::AS_PATH => {
                    let p = if four {
                        AsPath::decode_four_octet(span.value_bytes())?
                    } else {
                        AsPath::decode_two_octet(v)?
                    };
                    if p.asns().any(|x| x == 0) {
                        return Err(Malformed {
                            subcode: UpdateMessageSubcode::MalformedAsPath,
                            reason: "AS_PATH contains AS 0 (RFC 7607)",
                        });
                    }
                    a.as_path = Some(p);
                }
                tc::NEXT_HOP => {
                    let ip = super::next_hop::decode(v)?;
                    if has_nlri {
                        super::next_hop::check_host(ip)?;
                    }
                    a.next_hop = Some(ip);
                }
                tc::MULTI_EXIT_DISC => a.multi_exit_disc = Some(super::multi_exit_disc::decode(v)?),
                tc::LOCAL_PREF => a.local_pref = Some(super::local_pref::decode(v)?),
                tc::ATOMIC_AGGREGATE => {
                    super::atomic_aggregate::decode(v)?;
                    a.atomic_aggregate = true;
                }
                tc::AGGREGATOR => {
                    let g = Aggregator::decode(v, four)?;
                    if g.asn == 0 {
                        return Err(Malformed::optional("AGGREGATOR with AS 0 (RFC 7607)"));
                    }
                    a.aggregator = Some(g);
                }
                tc::COMMUNITIES => {
                    a.communities = Some(Communities::decode_value(span.value_bytes())?)
                }
                tc::ORIGINATOR_ID => a.originator_id = Some(super::originator_id::decode(v)?),
                tc::CLUSTER_LIST => {
                    a.cluster_list = Some(ClusterList::decode_value(span.value_bytes())?)
                }
                tc::EXTENDED_COMMUNITIES => {
                    a.extended_communities =
                        Some(ExtendedCommunities::decode_value(span.value_bytes())?)
                }
                tc::AS4_PATH => a.as4_path = Some(as4_path::decode_value(span.value_bytes())?),
                tc::AS4_AGGREGATOR => a.as4_aggregator = Some(super::as4_aggregator::decode(v)?),
                tc::IPV6_EXTENDED_COMMUNITIES => {
                    a.ipv6_extended_communities =
                        Some(Ipv6ExtendedCommunities::decode_value(span.value_bytes())?)
                }
                tc::AIGP => a.aigp = Some(Aigp::decode_value(span.value_bytes())?),
                tc::LARGE_COMMUNITY => {
                    a.large_communities = Some(LargeCommunities::decode_value(span.value_bytes())?)
                }
                tc::OTC => a.otc = Some(super::otc::decode(v)?),
                _ => {}
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                let usual = Flags(category);
                let usual_len = super::header_len(usual, v.len());
                let got_len = super::header_len(span.flags, v.len());
                let canonical =
                    span.flags.0 & !Flags::EXTENDED_LENGTH == category && usual_len == got_len;
                if !canonical {
                    if let Some(s) =
                        slot(code).and_then(|s| self.attributes.received_flags.0.get_mut(s))
                    {
                        *s = span.flags.0;
                    }
                }
            }
            Err(m) => report(self, m, malformed_action(code)),
        }
        Ok(())
    }

    fn decode_mp(
        &mut self,
        span: Span<'_>,
        ctx: &SessionContext,
        category: u8,
    ) -> Result<(), DecodeError> {
        let reach = span.code == tc::MP_REACH_NLRI;
        let result = if span.flags.category() != category {
            let family = span.value().first_chunk::<3>().map(|&[a, b, s]| {
                crate::afi::AfiSafi::new(u16::from_be_bytes([a, b]).into(), s.into())
            });
            Err(MpMalformed {
                family,
                malformed: Malformed {
                    subcode: UpdateMessageSubcode::AttributeFlagsError,
                    reason: "attribute flags conflict with the type code",
                },
            })
        } else if reach {
            MpReachNlri::decode_value(span.value_bytes(), ctx).map(|mut m| {
                m.flags = span.flags;
                self.mp_reach = Some(m)
            })
        } else {
            MpUnreachNlri::decode_value(span.value_bytes(), ctx).map(|mut m| {
                m.flags = span.flags;
                self.mp_unreach = Some(m)
            })
        };
        match result {
            Ok(()) => Ok(()),
            Err(MpMalformed {
                family: None,
                malformed,
            }) => Err(DecodeError::update(
                malformed.subcode,
                span.notification_data(),
                malformed.reason,
            )),
            Err(MpMalformed {
                family: Some(f),
                malformed,
            }) => {
                self.report.push(
                    span.code,
                    Action::AfiSafiDisable,
                    malformed.subcode,
                    span.notification_data(),
                    malformed.reason,
                );
                if let Some(p) = self.report.problems.last_mut() {
                    p.family = Some(f);
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::Action;

    fn hex(s: &str) -> Bytes {
        Bytes::from(
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect::<Vec<_>>(),
        )
    }

    fn run(block: &str, peer: PeerType, nlri: bool) -> Result<DecodedAttributes, DecodeError> {
        let ctx = SessionContext::default().with_four_octet_as(true);
        PathAttributes::decode(&hex(block), &ctx, peer, nlri)
    }

    const BASE: &str = "4001010040020602010000fde94003040a000002";

    #[test]
    fn code_tables_agree() {
        for (i, &c) in KNOWN.iter().enumerate() {
            assert_eq!(slot(c), Some(i));
        }
        let mut codes: Vec<u8> = KNOWN.to_vec();
        codes.extend([tc::MP_REACH_NLRI, tc::MP_UNREACH_NLRI]);
        codes.sort_unstable();
        assert_eq!(codes, ENCODE_ORDER);
        assert_eq!(
            (0..=255).filter(|&c| slot(c).is_some()).count(),
            KNOWN.len()
        );
    }

    #[test]
    fn mp_value_too_long_for_its_length_field() {
        // Found by fuzzing (attributes target): an MP_REACH_NLRI of 16,000
        // /0 prefixes (16,009 octets), decoded without path identifiers and
        // encoded for a session that sends them, is 80,009 octets; it was
        // written with a length of 65,535 and the rest of the value after it.
        use crate::MpNextHop;
        use crate::context::Direction;
        use crate::nlri::Nlri;
        let f = crate::AfiSafi::IPV4_UNICAST;
        let prefixes = vec![Nlri::new("0.0.0.0/0".parse().unwrap()); 16_000];
        let nh = MpNextHop::Ipv4(Ipv4Addr::new(192, 0, 2, 1));
        let reach = MpReachNlri::new(f, nh, &prefixes, false);
        let unreach = MpUnreachNlri::new(f, &prefixes, false);
        let plain = SessionContext::default().with_extended_message(true);
        let a = PathAttributes::default();
        let mut buf = BytesMut::new();
        a.encode_with_mp(&plain, Some(&reach), Some(&unreach), &mut buf)
            .unwrap();
        let ids = plain.clone().with_add_path(f, Direction::Send);
        for (r, u) in [(Some(&reach), None), (None, Some(&unreach))] {
            let mut buf = BytesMut::new();
            assert!(matches!(
                a.encode_with_mp(&ids, r, u, &mut buf),
                Err(EncodeError::FieldTooLong { .. })
            ));
        }
        // A next hop longer than its one-octet length field.
        let long = MpReachNlri::new_opaque(f, MpNextHop::Opaque(vec![0; 256].into()), Bytes::new());
        assert!(
            a.encode_with_mp(&plain, Some(&long), None, &mut BytesMut::new())
                .is_err()
        );
    }

    #[test]
    fn size_stays_small() {
        // One set per distinct path in a full table: keep an eye on it.
        assert!(std::mem::size_of::<PathAttributes>() <= 400);
    }

    #[test]
    fn per_attribute_actions() {
        use UpdateMessageSubcode as S;
        let cases: &[(&str, u8, Action, S)] = &[
            (
                "4001010340020602010000fde94003040a000002",
                1,
                Action::TreatAsWithdraw,
                S::InvalidOriginAttribute,
            ),
            (
                "c001010040020602010000fde94003040a000002",
                1,
                Action::TreatAsWithdraw,
                S::AttributeFlagsError,
            ),
            (
                "40010100400204020100004003040a000002",
                2,
                Action::TreatAsWithdraw,
                S::MalformedAsPath,
            ),
            (
                "4001010040020602010000000040030400000000",
                2,
                Action::TreatAsWithdraw,
                S::MalformedAsPath,
            ),
            (
                "4001010040020602010000fde94003040a0000028004030000ff",
                4,
                Action::TreatAsWithdraw,
                S::AttributeLengthError,
            ),
            (
                "4001010040020602010000fde94003040a000002400601ff",
                6,
                Action::AttributeDiscard,
                S::AttributeLengthError,
            ),
            (
                "4001010040020602010000fde94003040a000002c00706fde90a000001",
                7,
                Action::AttributeDiscard,
                S::AttributeLengthError,
            ),
            (
                "4001010040020602010000fde94003040a000002c0080300000a",
                8,
                Action::TreatAsWithdraw,
                S::AttributeLengthError,
            ),
            (
                "4001010040020602010000fde94003040a0000028009050a00000101",
                9,
                Action::TreatAsWithdraw,
                S::AttributeLengthError,
            ),
            (
                "4001010040020602010000fde94003040a000002800a00",
                10,
                Action::TreatAsWithdraw,
                S::AttributeLengthError,
            ),
            (
                "4001010040020602010000fde94003040a000002c0100400020001",
                16,
                Action::TreatAsWithdraw,
                S::AttributeLengthError,
            ),
            (
                "4001010040020602010000fde94003040a000002c0110302010a",
                17,
                Action::AttributeDiscard,
                S::OptionalAttributeError,
            ),
            (
                "4001010040020602010000fde94003040a000002c0200800000001000000010000",
                32,
                Action::TreatAsWithdraw,
                S::AttributeLengthError,
            ),
            (
                "4001010040020602010000fde94003040a000002c02303000001",
                35,
                Action::TreatAsWithdraw,
                S::AttributeLengthError,
            ),
            (
                "4001010040020602010000fde94003040000000000",
                3,
                Action::TreatAsWithdraw,
                S::InvalidNextHopAttribute,
            ),
        ];
        for (block, code, action, subcode) in cases {
            // AS4_PATH is checked on a 2-octet session, the rest on 4-octet.
            let ctx = SessionContext::default().with_four_octet_as(*code != 17);
            let block = if *code == 17 {
                block.replace("40020602010000fde9", "4002040201fde9")
            } else {
                block.to_string()
            };
            let d = PathAttributes::decode(&hex(&block), &ctx, PeerType::Oad, true).unwrap();
            let p = d
                .report
                .problems
                .iter()
                .find(|p| p.type_code == *code)
                .unwrap_or_else(|| panic!("{block}: {:?}", d.report));
            assert_eq!((p.action, p.subcode), (*action, *subcode), "{block}");
            assert_eq!(d.report.action(), Some(*action), "{block}");
        }
    }

    #[test]
    fn structure_and_duplicates() {
        // overrun of the last attribute: treat-as-withdraw, earlier ones kept
        let d = run(&format!("{BASE}c00808000000"), PeerType::Oad, true).unwrap();
        assert_eq!(d.report.action(), Some(Action::TreatAsWithdraw));
        assert_eq!(d.attributes.origin, Some(Origin::Igp));
        // duplicate MED: the first is kept
        let d = run(
            &format!("{BASE}80040400000001800404000000ff"),
            PeerType::Oad,
            true,
        )
        .unwrap();
        assert_eq!(d.attributes.multi_exit_disc, Some(1));
        assert_eq!(d.report.action(), Some(Action::AttributeDiscard));
        // duplicate MP_UNREACH: session reset
        let e = run("800f03000201800f03000201", PeerType::Oad, false).unwrap_err();
        assert_eq!(e.code().to_pair(), (3, 1));
        assert_eq!(&e.data()[..], &hex("800f03000201")[..]);
        // unrecognised well-known attribute: session reset with the attribute
        let e = run(&format!("{BASE}40630100"), PeerType::Oad, true).unwrap_err();
        assert_eq!(e.code().to_pair(), (3, 2));
        assert_eq!(&e.data()[..], &hex("40630100")[..]);
        // MP_REACH too short to name the family: session reset
        let e = run("800e020002", PeerType::Oad, false).unwrap_err();
        assert_eq!(e.code().to_pair(), (3, 9));
        // MP_REACH malformed with a known family: AFI/SAFI disable
        let d = run("800e0800020104010203040000", PeerType::Oad, false).unwrap();
        assert_eq!(d.report.action(), Some(Action::AfiSafiDisable));
        assert_eq!(
            d.report.disabled_families().collect::<Vec<_>>(),
            [crate::AfiSafi::IPV6_UNICAST]
        );
        // missing LOCAL_PREF only matters for internal peers
        assert!(
            run(BASE, PeerType::External, true)
                .unwrap()
                .report
                .is_empty()
        );
        assert!(run(BASE, PeerType::Oad, true).unwrap().report.is_empty());
        let d = run(BASE, PeerType::Internal, true).unwrap();
        assert_eq!(d.report.problems[0].type_code, tc::LOCAL_PREF);
        // no NLRI: nothing is mandatory
        assert!(
            run("", PeerType::Internal, false)
                .unwrap()
                .report
                .is_empty()
        );
    }

    #[test]
    fn flags_survive_and_readvertisement() {
        // ORIGIN with Extended Length on a 1-octet value, an unknown optional
        // transitive and an unknown optional non-transitive attribute
        let block = "50010001004002060201000000014003040a000002c0630101806401ff";
        let ctx = SessionContext::default().with_four_octet_as(true);
        let d = PathAttributes::decode(&hex(block), &ctx, PeerType::Oad, true).unwrap();
        assert!(d.report.is_empty());
        assert_eq!(d.attributes.flags_received(tc::ORIGIN), Some(Flags(0x50)));
        let mut buf = BytesMut::new();
        d.attributes.encode(&ctx, &mut buf).unwrap();
        assert_eq!(buf.freeze(), hex(block));
        let re = d.attributes.for_readvertisement();
        assert_eq!(re.unknown.len(), 1);
        assert_eq!(re.unknown[0].flags, Flags(0xe0));
    }

    #[test]
    fn as4_generation_and_reconciliation() {
        let mut a = PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_sequence(&[65001, 4_200_000_000])),
            aggregator: Some(Aggregator {
                asn: 4_200_000_001,
                address: Ipv4Addr::new(192, 0, 2, 9),
            }),
            ..PathAttributes::default()
        };
        let old = SessionContext::default();
        let mut buf = BytesMut::new();
        a.encode(&old, &mut buf).unwrap();
        let mut d = PathAttributes::decode(&buf.freeze(), &old, PeerType::Oad, false)
            .unwrap()
            .attributes;
        assert_eq!(d.as_path.as_ref().unwrap().to_string(), "65001 23456");
        assert_eq!(d.aggregator.unwrap().asn, 23456);
        assert_eq!(d.reconcile_as4(), Reconciliation::Merged);
        assert_eq!(d, a);
        a.as4_path = None;
        let new = SessionContext::default().with_four_octet_as(true);
        let mut buf = BytesMut::new();
        a.encode(&new, &mut buf).unwrap();
        let d = PathAttributes::decode(&buf.freeze(), &new, PeerType::Oad, false).unwrap();
        assert_eq!(d.attributes, a);
    }
}
