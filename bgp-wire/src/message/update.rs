//! The UPDATE message (RFC 4271 4.3), with multiprotocol NLRI (RFC 4760),
//! ADD-PATH (RFC 7911), End-of-RIB markers (RFC 4724 2) and the error
//! handling of RFC 7606.
//!
//! [`Update::decode`] checks only the message's structure and keeps the
//! three variable fields as [`Bytes`] slices of the body: nothing is copied
//! or allocated. Prefixes are read with allocation-free iterators;
//! [`Update::attributes`] decodes the path attributes when they are needed.
//! [`builder`] packs routes into as few UPDATE messages as possible.

use bytes::{Buf, BufMut, Bytes, BytesMut};

use crate::afi::{Afi, AfiSafi};
use crate::attribute::mp_reach_nlri::put_nlri;
use crate::attribute::path_attributes::attribute_header;
use crate::attribute::{
    DecodedAttributes, MpReachNlri, MpUnreachNlri, PathAttributes, PeerType, RawAttribute,
    type_code,
};
use crate::context::SessionContext;
use crate::error::{DecodeError, EncodeError, UpdateMessageSubcode};
use crate::message::header::{HEADER_LEN, Header, MessageType};
use crate::nlri::{self, NlriIter};

pub mod builder;

/// An UPDATE message: withdrawn routes, path attributes and NLRI, each kept
/// as the bytes received.
///
/// ```
/// use bytes::Bytes;
/// use bgp_wire::{AfiSafi, SessionContext, message::update::Update};
///
/// // Withdraw 10.0.0.0/8, no attributes, no NLRI.
/// let body = Bytes::from_static(&[0, 2, 8, 10, 0, 0]);
/// let ctx = SessionContext::default();
/// let u = Update::decode(body, &ctx).unwrap();
/// assert_eq!(u.withdrawn().next().unwrap().prefix.to_string(), "10.0.0.0/8");
/// assert_eq!(u.end_of_rib(), None);
/// assert_eq!(Update::decode(Bytes::from_static(&[0, 0, 0, 0]), &ctx).unwrap().end_of_rib(),
///            Some(AfiSafi::IPV4_UNICAST));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    withdrawn: Bytes,
    attributes: Bytes,
    nlri: Bytes,
    withdrawn_count: usize,
    nlri_count: usize,
    add_path: bool,
}

/// Prefix counts of one UPDATE, by where they are carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrefixCounts {
    /// Prefixes in the Withdrawn Routes field.
    pub withdrawn: usize,
    /// Prefixes in the NLRI field.
    pub announced: usize,
    /// IP prefixes in MP_UNREACH_NLRI.
    pub mp_withdrawn: usize,
    /// IP prefixes in MP_REACH_NLRI.
    pub mp_announced: usize,
}

fn malformed_list(reason: &'static str) -> DecodeError {
    DecodeError::update(
        UpdateMessageSubcode::MalformedAttributeList,
        Bytes::new(),
        reason,
    )
}

fn invalid_network(reason: &'static str) -> DecodeError {
    DecodeError::update(
        UpdateMessageSubcode::InvalidNetworkField,
        Bytes::new(),
        reason,
    )
}

impl Update {
    /// Decodes the body of an UPDATE (without the 19-octet header), checking
    /// its structure: the Withdrawn Routes Length and Total Path Attribute
    /// Length fit the body (else Malformed Attribute List, RFC 4271 6.3),
    /// and the Withdrawn Routes and NLRI fields are well-formed IPv4 prefixes,
    /// with path identifiers when `ctx.add_path_receive(IPv4 unicast)`
    /// (else Invalid Network Field; RFC 7606 5.3 keeps this a session reset).
    /// The attributes are not looked at; see [`Update::attributes`].
    pub fn decode(body: Bytes, ctx: &SessionContext) -> Result<Self, DecodeError> {
        let Some((&[w0, w1], _)) = body.split_first_chunk::<2>() else {
            return Err(malformed_list("UPDATE shorter than its length fields"));
        };
        let wlen = usize::from(u16::from_be_bytes([w0, w1]));
        let Some(&[a0, a1]) = body
            .get(2 + wlen..4 + wlen)
            .and_then(|s| s.first_chunk::<2>())
        else {
            return Err(malformed_list("Withdrawn Routes Length too large"));
        };
        let alen = usize::from(u16::from_be_bytes([a0, a1]));
        if body.len() < 4 + wlen + alen {
            return Err(malformed_list("Total Path Attribute Length too large"));
        }
        let withdrawn = body.slice(2..2 + wlen);
        let attributes = body.slice(4 + wlen..4 + wlen + alen);
        // The NLRI field reuses the body's reference (checked long enough).
        let mut nlri = body;
        nlri.advance(4 + wlen + alen);
        let add_path = ctx.add_path_receive(AfiSafi::IPV4_UNICAST);
        let withdrawn_count = nlri::validate(&withdrawn, Afi::Ipv4, add_path)
            .map_err(|_| invalid_network("malformed Withdrawn Routes field"))?;
        let nlri_count = nlri::validate(&nlri, Afi::Ipv4, add_path)
            .map_err(|_| invalid_network("malformed NLRI field"))?;
        Ok(Update {
            withdrawn,
            attributes,
            nlri,
            withdrawn_count,
            nlri_count,
            add_path,
        })
    }

    /// The withdrawn IPv4 unicast prefixes.
    pub fn withdrawn(&self) -> NlriIter<'_> {
        NlriIter::new_validated(
            &self.withdrawn,
            Afi::Ipv4,
            self.add_path,
            self.withdrawn_count,
        )
    }

    /// The announced IPv4 unicast prefixes of the NLRI field.
    pub fn nlri(&self) -> NlriIter<'_> {
        NlriIter::new_validated(&self.nlri, Afi::Ipv4, self.add_path, self.nlri_count)
    }

    /// The Withdrawn Routes field.
    pub fn withdrawn_bytes(&self) -> &Bytes {
        &self.withdrawn
    }

    /// The Path Attributes field.
    pub fn attribute_bytes(&self) -> &Bytes {
        &self.attributes
    }

    /// The NLRI field.
    pub fn nlri_bytes(&self) -> &Bytes {
        &self.nlri
    }

    /// The attributes as they are on the wire, without decoding their
    /// values. The iteration stops where an attribute would overrun the
    /// field; [`RawAttributes::remainder`] then holds the rest.
    pub fn raw_attributes(&self) -> RawAttributes {
        RawAttributes {
            rest: self.attributes.clone(),
        }
    }

    /// Decodes the path attributes with the error handling of RFC 7606
    /// (see [`PathAttributes::decode`] and
    /// [`crate::attribute::error_handling`]). `peer` is the kind of session
    /// the UPDATE came from; MRT readers pass [`PeerType::Internal`].
    pub fn attributes(
        &self,
        ctx: &SessionContext,
        peer: PeerType,
    ) -> Result<DecodedAttributes, DecodeError> {
        PathAttributes::decode(&self.attributes, ctx, peer, self.nlri_count > 0)
    }

    /// The family this UPDATE marks the End-of-RIB of (RFC 4724 2): an
    /// empty UPDATE for IPv4 unicast; for another family, an UPDATE whose
    /// only content is an MP_UNREACH_NLRI with no withdrawn routes.
    pub fn end_of_rib(&self) -> Option<AfiSafi> {
        if !self.withdrawn.is_empty() || !self.nlri.is_empty() {
            return None;
        }
        if self.attributes.is_empty() {
            return Some(AfiSafi::IPV4_UNICAST);
        }
        let mut it = self.raw_attributes();
        let a = it.next()?;
        if it.next().is_some() || !it.remainder().is_empty() {
            return None;
        }
        match (a.type_code, a.value.first_chunk::<3>(), a.value.len()) {
            (type_code::MP_UNREACH_NLRI, Some(&[x, y, s]), 3) => {
                Some(AfiSafi::new(u16::from_be_bytes([x, y]).into(), s.into()))
            }
            _ => None,
        }
    }

    /// Counts the prefixes without decoding the attributes other than
    /// MP_REACH_NLRI and MP_UNREACH_NLRI (malformed ones count 0).
    pub fn prefix_counts(&self, ctx: &SessionContext) -> PrefixCounts {
        let mut c = PrefixCounts {
            withdrawn: self.withdrawn_count,
            announced: self.nlri_count,
            ..PrefixCounts::default()
        };
        for a in self.raw_attributes() {
            match a.type_code {
                type_code::MP_REACH_NLRI => {
                    c.mp_announced += MpReachNlri::decode(&a.value, ctx)
                        .map(|m| m.prefix_count())
                        .unwrap_or(0);
                }
                type_code::MP_UNREACH_NLRI => {
                    c.mp_withdrawn += MpUnreachNlri::decode(&a.value, ctx)
                        .map(|m| m.prefix_count())
                        .unwrap_or(0);
                }
                _ => {}
            }
        }
        c
    }

    /// Octets of the whole message for `ctx`, header included.
    pub fn encoded_len(&self, ctx: &SessionContext) -> usize {
        let id_delta = |count: usize, len: usize| -> usize {
            match (self.add_path, ctx.add_path_send(AfiSafi::IPV4_UNICAST)) {
                (true, false) => len - 4 * count,
                (false, true) => len + 4 * count,
                _ => len,
            }
        };
        HEADER_LEN
            + 4
            + id_delta(self.withdrawn_count, self.withdrawn.len())
            + self.attributes.len()
            + id_delta(self.nlri_count, self.nlri.len())
    }

    /// Appends the whole message, header included. IPv4 prefixes carry path
    /// identifiers as `ctx.add_path_send` says (re-encoded if they were
    /// received otherwise); the attribute field is written as it is.
    pub fn encode(&self, ctx: &SessionContext, buf: &mut BytesMut) -> Result<(), EncodeError> {
        let length = self.encoded_len(ctx);
        if length > ctx.max_message_len() {
            return Err(EncodeError::MessageTooLong {
                length,
                max: ctx.max_message_len(),
            });
        }
        let send_ap = ctx.add_path_send(AfiSafi::IPV4_UNICAST);
        Header {
            length: u16::try_from(length).unwrap_or(u16::MAX),
            message_type: MessageType::Update,
        }
        .encode(buf);
        let put_field = |buf: &mut BytesMut, raw: &Bytes, it: NlriIter<'_>| {
            if send_ap == self.add_path {
                buf.put_slice(raw);
            } else {
                for n in it {
                    put_nlri(&n, send_ap, buf);
                }
            }
        };
        let wlen = length
            - HEADER_LEN
            - 4
            - self.attributes.len()
            - if send_ap == self.add_path {
                self.nlri.len()
            } else if send_ap {
                self.nlri.len() + 4 * self.nlri_count
            } else {
                self.nlri.len() - 4 * self.nlri_count
            };
        buf.put_u16(u16::try_from(wlen).unwrap_or(u16::MAX));
        put_field(buf, &self.withdrawn, self.withdrawn());
        buf.put_u16(u16::try_from(self.attributes.len()).unwrap_or(u16::MAX));
        buf.put_slice(&self.attributes);
        put_field(buf, &self.nlri, self.nlri());
        Ok(())
    }
}

/// Iterator over the attributes of an UPDATE as they are on the wire
/// (see [`Update::raw_attributes`]). Cloning the values only counts a
/// reference.
#[derive(Debug, Clone)]
pub struct RawAttributes {
    rest: Bytes,
}

impl RawAttributes {
    /// What is left: empty after a clean iteration, the malformed tail when
    /// an attribute header is truncated or a length overruns the field.
    pub fn remainder(&self) -> &Bytes {
        &self.rest
    }
}

impl Iterator for RawAttributes {
    type Item = RawAttribute;

    fn next(&mut self) -> Option<RawAttribute> {
        let (flags, type_code, hdr, len) = attribute_header(&self.rest).ok()?;
        let value = self.rest.slice(hdr..hdr + len);
        self.rest.advance(hdr + len);
        Some(RawAttribute {
            flags,
            type_code,
            value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attribute::{Action, Origin};

    fn hex(s: &str) -> Bytes {
        Bytes::from(
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn structure_errors() {
        let ctx = SessionContext::default();
        let e = Update::decode(hex("0005"), &ctx).unwrap_err();
        assert_eq!(e.code().to_pair(), (3, 1));
        let e = Update::decode(hex("00000009"), &ctx).unwrap_err();
        assert_eq!(e.code().to_pair(), (3, 1));
        let e = Update::decode(hex("0000000021"), &ctx).unwrap_err();
        assert_eq!(e.code().to_pair(), (3, 10));
    }

    #[test]
    fn decode_and_reencode() {
        let ctx = SessionContext::default().with_four_octet_as(true);
        let body = hex("0000001b4001010040020602010000fde94003040a000002800404000000641810000a");
        let u = Update::decode(body.clone(), &ctx).unwrap();
        let d = u.attributes(&ctx, PeerType::External).unwrap();
        assert!(d.report.is_empty(), "{:?}", d.report);
        assert_eq!(d.attributes.origin, Some(Origin::Igp));
        assert_eq!(d.attributes.as_path.as_ref().unwrap().to_string(), "65001");
        assert_eq!(d.attributes.multi_exit_disc, Some(100));
        assert_eq!(u.nlri().next().unwrap().prefix.to_string(), "16.0.10.0/24");
        let mut buf = BytesMut::new();
        u.encode(&ctx, &mut buf).unwrap();
        assert_eq!(&buf[HEADER_LEN..], &body[..]);
        let mut again = BytesMut::new();
        d.attributes.encode(&ctx, &mut again).unwrap();
        assert_eq!(again.freeze(), u.attribute_bytes().clone());
    }

    #[test]
    fn eor_and_missing() {
        let ctx = SessionContext::default();
        let u = Update::decode(hex("00000006800f03000201"), &ctx).unwrap();
        assert_eq!(u.end_of_rib(), Some(AfiSafi::IPV6_UNICAST));
        let u = Update::decode(hex("00000000180a0000"), &ctx).unwrap();
        let d = u.attributes(&ctx, PeerType::Internal).unwrap();
        assert_eq!(d.report.action(), Some(Action::TreatAsWithdraw));
        assert_eq!(d.report.problems.len(), 4);
    }
}
