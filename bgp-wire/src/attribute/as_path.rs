//! AS_PATH (type code 2, RFC 4271 4.3 and 5.1.2, RFC 5065 for the
//! confederation segments, RFC 6793 for 4-octet AS numbers): well-known
//! mandatory.
//!
//! An [`AsPath`] keeps the wire form with 4-octet AS numbers whatever the
//! session negotiated, so paths from 2- and 4-octet sessions compare equal.
//! On a 4-octet-AS session decoding copies nothing.

use bytes::{BufMut, Bytes, BytesMut};
use std::fmt;

use super::Malformed;
use crate::error::UpdateMessageSubcode;

/// AS_TRANS (RFC 6793 9): the 2-octet stand-in for a 4-octet AS number.
pub const AS_TRANS: u32 = 23456;

/// The kind of an AS_PATH segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SegmentType {
    /// AS_SET (1): unordered, counts as one AS in the path length.
    AsSet,
    /// AS_SEQUENCE (2): ordered.
    AsSequence,
    /// AS_CONFED_SEQUENCE (3, RFC 5065): ordered, inside a confederation;
    /// not counted in the path length.
    AsConfedSequence,
    /// AS_CONFED_SET (4, RFC 5065): unordered, inside a confederation; not
    /// counted in the path length.
    AsConfedSet,
}

impl SegmentType {
    /// The on-wire value.
    pub const fn to_u8(self) -> u8 {
        match self {
            SegmentType::AsSet => 1,
            SegmentType::AsSequence => 2,
            SegmentType::AsConfedSequence => 3,
            SegmentType::AsConfedSet => 4,
        }
    }

    /// The segment type for an on-wire value, `None` if undefined.
    pub const fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(SegmentType::AsSet),
            2 => Some(SegmentType::AsSequence),
            3 => Some(SegmentType::AsConfedSequence),
            4 => Some(SegmentType::AsConfedSet),
            _ => None,
        }
    }

    /// Whether this is a confederation segment.
    pub const fn is_confed(self) -> bool {
        matches!(
            self,
            SegmentType::AsConfedSequence | SegmentType::AsConfedSet
        )
    }

    /// Whether this is a set (unordered) segment.
    pub const fn is_set(self) -> bool {
        matches!(self, SegmentType::AsSet | SegmentType::AsConfedSet)
    }
}

/// An AS path: a sequence of segments of AS numbers.
///
/// ```
/// use bytes::Bytes;
/// use bgp_wire::attribute::AsPath;
///
/// // 2-octet encoding: AS_SEQUENCE(8482, 51457) AS_SET(5204)
/// let wire = Bytes::from_static(&[2, 2, 0x21, 0x22, 0xc9, 0x01, 1, 1, 0x14, 0x54]);
/// let path = AsPath::decode(&wire, false).unwrap();
/// assert_eq!(path.to_string(), "8482 51457 {5204}");
/// assert_eq!(path.len(), 3);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct AsPath(Bytes);

/// Checks segments of `width`-octet AS numbers and returns how many AS
/// numbers there are in all (RFC 7606 7.2).
fn validate(value: &[u8], width: usize) -> Result<usize, Malformed> {
    let err = |reason| Malformed {
        subcode: UpdateMessageSubcode::MalformedAsPath,
        reason,
    };
    let mut rest = value;
    let mut total = 0usize;
    while !rest.is_empty() {
        let Some(([ty, count], tail)) = rest.split_first_chunk::<2>().map(|(h, t)| (*h, t)) else {
            return Err(err("AS_PATH ends in a partial segment header"));
        };
        if SegmentType::from_u8(ty).is_none() {
            return Err(err("undefined AS_PATH segment type"));
        }
        if count == 0 {
            return Err(err("AS_PATH segment of length zero"));
        }
        let n = usize::from(count) * width;
        rest = tail
            .get(n..)
            .ok_or(err("AS_PATH segment overruns the attribute"))?;
        total += usize::from(count);
    }
    Ok(total)
}

impl AsPath {
    /// The empty path.
    pub const fn empty() -> Self {
        AsPath(Bytes::new())
    }

    /// Decodes an attribute value whose AS numbers are 4 octets wide when
    /// `four_octet_as` is set and 2 octets wide otherwise.
    pub fn decode(value: &Bytes, four_octet_as: bool) -> Result<AsPath, Malformed> {
        if four_octet_as {
            validate(value, 4)?;
            return Ok(AsPath(value.clone()));
        }
        Self::decode_two_octet(value)
    }

    /// [`AsPath::decode`] of a 4-octet-AS value, keeping `value` itself.
    pub(crate) fn decode_four_octet(value: Bytes) -> Result<AsPath, Malformed> {
        validate(&value, 4)?;
        Ok(AsPath(value))
    }

    /// [`AsPath::decode`] of a 2-octet-AS value (widened into a new buffer).
    pub(crate) fn decode_two_octet(value: &[u8]) -> Result<AsPath, Malformed> {
        let count = validate(value, 2)?;
        let segments = (value.len() - 2 * count) / 2;
        let mut out = BytesMut::with_capacity(segments * 2 + count * 4);
        let mut rest: &[u8] = value;
        while let Some(([ty, n], tail)) = rest.split_first_chunk::<2>().map(|(h, t)| (*h, t)) {
            out.put_u8(ty);
            out.put_u8(n);
            let body = tail.get(..usize::from(n) * 2).unwrap_or_default();
            for asn in body.chunks_exact(2) {
                out.put_u32(u32::from(super::be_u16(asn).unwrap_or(0)));
            }
            rest = tail.get(usize::from(n) * 2..).unwrap_or_default();
        }
        Ok(AsPath(out.freeze()))
    }

    /// Builds a path from segments, splitting any longer than 255 AS numbers
    /// and skipping empty ones.
    pub fn from_segments<'a>(segments: impl IntoIterator<Item = (SegmentType, &'a [u32])>) -> Self {
        let mut out = BytesMut::new();
        for (ty, asns) in segments {
            for chunk in asns.chunks(255) {
                out.put_u8(ty.to_u8());
                out.put_u8(u8::try_from(chunk.len()).unwrap_or(u8::MAX));
                for a in chunk {
                    out.put_u32(*a);
                }
            }
        }
        AsPath(out.freeze())
    }

    /// A path of one AS_SEQUENCE.
    pub fn from_sequence(asns: &[u32]) -> Self {
        Self::from_segments([(SegmentType::AsSequence, asns)])
    }

    /// The segments, in order.
    pub fn segments(&self) -> Segments<'_> {
        Segments { rest: &self.0 }
    }

    /// The wire form with 4-octet AS numbers.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// Whether the path has no segments.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The path length used in route selection (RFC 4271 9.1.2.2, RFC 5065
    /// 5.3): each AS_SEQUENCE member counts 1, each AS_SET counts 1,
    /// confederation segments count 0.
    pub fn len(&self) -> usize {
        self.segments()
            .map(|s| match s.kind() {
                SegmentType::AsSequence => s.len(),
                SegmentType::AsSet => 1,
                _ => 0,
            })
            .sum()
    }

    /// The confederation part's length: each AS_CONFED_SEQUENCE member
    /// counts 1, each AS_CONFED_SET counts 1.
    pub fn confed_len(&self) -> usize {
        self.segments()
            .map(|s| match s.kind() {
                SegmentType::AsConfedSequence => s.len(),
                SegmentType::AsConfedSet => 1,
                _ => 0,
            })
            .sum()
    }

    /// Every AS number in the path, in wire order.
    pub fn asns(&self) -> impl Iterator<Item = u32> + '_ {
        self.segments().flat_map(|s| s.asns())
    }

    /// The first AS of the path when it starts with an AS_SEQUENCE (the
    /// neighbouring AS of an eBGP route).
    pub fn first_as(&self) -> Option<u32> {
        let first = self.segments().next()?;
        (first.kind() == SegmentType::AsSequence)
            .then(|| first.asns().next())
            .flatten()
    }

    /// The originating AS: the last AS of the path when it ends with an
    /// AS_SEQUENCE.
    pub fn origin_as(&self) -> Option<u32> {
        let last = self.segments().last()?;
        (last.kind() == SegmentType::AsSequence)
            .then(|| last.asns().last())
            .flatten()
    }

    /// Whether an AS number does not fit two octets (and so needs AS4_PATH
    /// towards a 2-octet-AS speaker).
    pub fn has_four_octet_asns(&self) -> bool {
        self.asns().any(|a| a > 0xffff)
    }

    /// The path with `asn` prepended `count` times (AS_PATH prepending,
    /// RFC 4271 5.1.2): the new AS numbers go after any leading
    /// confederation segments (RFC 5065 5.3 keeps those first) and merge
    /// with the AS_SEQUENCE that follows them, if any; segments are split
    /// at 255 AS numbers. `count == 0` returns the same path.
    pub fn prepended(&self, asn: u32, count: usize) -> AsPath {
        if count == 0 {
            return self.clone();
        }
        let mut confed = 0;
        let mut segs = self.segments().peekable();
        while let Some(s) = segs.next_if(|s| s.kind().is_confed()) {
            confed += s.raw.len();
        }
        let seq = segs.next_if(|s| s.kind() == SegmentType::AsSequence);
        let seq_raw = seq.map_or(&[][..], |s| s.raw);
        let head = self.0.get(..confed).unwrap_or_default();
        let tail = self.0.get(confed + seq_raw.len()..).unwrap_or_default();
        let total = count + seq.map_or(0, |s| s.len());
        let mut out = BytesMut::with_capacity(self.0.len() + count * 4 + 2 * (total / 255 + 1));
        out.put_slice(head);
        let mut members =
            std::iter::repeat_n(asn, count).chain(seq.into_iter().flat_map(|s| s.asns()));
        let mut left = total;
        while left > 0 {
            let n = left.min(255);
            out.put_u8(SegmentType::AsSequence.to_u8());
            out.put_u8(u8::try_from(n).unwrap_or(u8::MAX));
            for _ in 0..n {
                out.put_u32(members.next().unwrap_or(asn));
            }
            left -= n;
        }
        out.put_slice(tail);
        AsPath(out.freeze())
    }

    /// The path without its confederation segments.
    pub fn without_confed(&self) -> AsPath {
        let segs: Vec<_> = self.segments().filter(|s| !s.kind().is_confed()).collect();
        let mut out = BytesMut::new();
        for s in segs {
            out.put_slice(s.raw);
        }
        AsPath(out.freeze())
    }

    /// Length of the encoded value with AS numbers of the given width.
    pub fn value_len(&self, four_octet_as: bool) -> usize {
        if four_octet_as {
            self.0.len()
        } else {
            self.0.len() - 2 * self.asns().count()
        }
    }

    /// Appends the value. On a 2-octet-AS session AS numbers above 65535
    /// are written as AS_TRANS (RFC 6793 4.2.2).
    pub fn encode_value(&self, four_octet_as: bool, buf: &mut BytesMut) {
        if four_octet_as {
            buf.put_slice(&self.0);
            return;
        }
        for s in self.segments() {
            buf.put_u8(s.kind().to_u8());
            buf.put_u8(u8::try_from(s.len()).unwrap_or(u8::MAX));
            for a in s.asns() {
                buf.put_u16(u16::try_from(a).unwrap_or(AS_TRANS as u16));
            }
        }
    }

    /// The same path sharing `arena` (see [`super::PathAttributes::unshare`]).
    pub(crate) fn rehome(&self, arena: &Bytes, offset: &mut usize) -> Self {
        AsPath(super::rehome(&self.0, arena, offset))
    }
}

impl fmt::Debug for AsPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AsPath({self})")
    }
}

impl fmt::Display for AsPath {
    /// The common text form: sequences as space-separated numbers, `{a,b}`
    /// for AS_SET, `(a b)` for AS_CONFED_SEQUENCE, `[a,b]` for
    /// AS_CONFED_SET, segments separated by a space. Set members are printed
    /// in wire order.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.segments().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            let (open, sep, close) = match s.kind() {
                SegmentType::AsSequence => ("", " ", ""),
                SegmentType::AsSet => ("{", ",", "}"),
                SegmentType::AsConfedSequence => ("(", " ", ")"),
                SegmentType::AsConfedSet => ("[", ",", "]"),
            };
            f.write_str(open)?;
            for (j, a) in s.asns().enumerate() {
                if j > 0 {
                    f.write_str(sep)?;
                }
                write!(f, "{a}")?;
            }
            f.write_str(close)?;
        }
        Ok(())
    }
}

/// One segment of an [`AsPath`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    kind: SegmentType,
    raw: &'a [u8],
}

impl<'a> Segment<'a> {
    /// The segment type.
    pub fn kind(&self) -> SegmentType {
        self.kind
    }

    /// Number of AS numbers in the segment.
    pub fn len(&self) -> usize {
        self.raw.len().saturating_sub(2) / 4
    }

    /// Whether the segment has no AS numbers (never true for a decoded path).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The AS numbers, in wire order.
    pub fn asns(self) -> impl Iterator<Item = u32> + 'a {
        self.raw
            .get(2..)
            .unwrap_or_default()
            .chunks_exact(4)
            .filter_map(super::be_u32)
    }
}

/// Iterator over the segments of an [`AsPath`].
#[derive(Debug, Clone)]
pub struct Segments<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Segments<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        let (&[ty, n], _) = self.rest.split_first_chunk::<2>()?;
        let end = 2 + usize::from(n) * 4;
        let raw = self.rest.get(..end)?;
        self.rest = self.rest.get(end..)?;
        Some(Segment {
            kind: SegmentType::from_u8(ty)?,
            raw,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_form_and_lengths() {
        let p = AsPath::from_segments([
            (SegmentType::AsSequence, &[1u32, 2][..]),
            (SegmentType::AsSet, &[3, 4]),
            (SegmentType::AsConfedSequence, &[65000, 65001]),
            (SegmentType::AsConfedSet, &[65002, 65003]),
        ]);
        assert_eq!(p.to_string(), "1 2 {3,4} (65000 65001) [65002,65003]");
        assert_eq!(p.len(), 3);
        assert_eq!(p.confed_len(), 3);
        assert_eq!(p.first_as(), Some(1));
        assert_eq!(p.origin_as(), None);
        assert_eq!(p.without_confed().to_string(), "1 2 {3,4}");
    }

    #[test]
    fn prepending() {
        let p = AsPath::from_sequence(&[65001, 65002]);
        assert_eq!(p.prepended(65000, 2).to_string(), "65000 65000 65001 65002");
        assert_eq!(p.prepended(65000, 0), p);
        assert_eq!(
            AsPath::empty().prepended(4_200_000_000, 1).to_string(),
            "4200000000"
        );
        let set_first = AsPath::from_segments([(SegmentType::AsSet, &[1u32, 2][..])]);
        assert_eq!(set_first.prepended(7, 1).to_string(), "7 {1,2}");
        let confed = AsPath::from_segments([
            (SegmentType::AsConfedSequence, &[64512u32][..]),
            (SegmentType::AsSequence, &[1]),
            (SegmentType::AsSet, &[2, 3]),
        ]);
        assert_eq!(confed.prepended(9, 1).to_string(), "(64512) 9 1 {2,3}");
        // 300 AS numbers: split at 255, the same as building the sequence whole
        let long = p.prepended(65000, 298);
        assert_eq!(long.len(), 300);
        let mut whole = vec![65000u32; 298];
        whole.extend([65001, 65002]);
        assert_eq!(long, AsPath::from_sequence(&whole));
        assert_eq!(AsPath::decode(long.as_bytes(), true).unwrap(), long);
    }

    #[test]
    fn malformed() {
        let b = |v: &'static [u8]| Bytes::from_static(v);
        assert!(AsPath::decode(&b(&[2, 0]), false).is_err());
        assert!(AsPath::decode(&b(&[5, 1, 0, 1]), false).is_err());
        assert!(AsPath::decode(&b(&[2, 2, 0, 1]), false).is_err());
        assert!(AsPath::decode(&b(&[2, 1, 0, 1, 2]), false).is_err());
        assert!(AsPath::decode(&b(&[2, 1, 0, 1]), true).is_err());
        assert!(AsPath::decode(&b(&[]), false).unwrap().is_empty());
    }

    #[test]
    fn two_octet_round_trip() {
        let wire = Bytes::from_static(&[2, 2, 0x21, 0x22, 0xc9, 0x01, 1, 1, 0x14, 0x54]);
        let p = AsPath::decode(&wire, false).unwrap();
        let mut buf = BytesMut::new();
        p.encode_value(false, &mut buf);
        assert_eq!(&buf[..], &wire[..]);
        assert_eq!(p.value_len(false), wire.len());
        let big = AsPath::from_sequence(&[70000, 1]);
        let mut buf = BytesMut::new();
        big.encode_value(false, &mut buf);
        assert_eq!(&buf[..], &[2, 2, 0x5b, 0xa0, 0, 1]);
    }

    pub(crate) fn arb_segment_type() -> impl Strategy<Value = SegmentType> {
        (1u8..=4).prop_map(|v| SegmentType::from_u8(v).unwrap())
    }

    pub(crate) fn arb_as_path() -> impl Strategy<Value = AsPath> {
        prop::collection::vec(
            (
                arb_segment_type(),
                prop::collection::vec(any::<u32>(), 1..20),
            ),
            0..5,
        )
        .prop_map(|segs| AsPath::from_segments(segs.iter().map(|(t, a)| (*t, &a[..]))))
    }

    proptest! {
        #[test]
        fn round_trip(p in arb_as_path(), four in any::<bool>()) {
            let p = if four { p } else {
                let segs: Vec<(SegmentType, Vec<u32>)> = p.segments()
                    .map(|s| (s.kind(), s.asns().map(|a| a & 0xffff).collect())).collect();
                AsPath::from_segments(segs.iter().map(|(t, a)| (*t, &a[..])))
            };
            let mut buf = BytesMut::new();
            p.encode_value(four, &mut buf);
            prop_assert_eq!(buf.len(), p.value_len(four));
            prop_assert_eq!(AsPath::decode(&buf.freeze(), four).unwrap(), p);
        }

        #[test]
        fn never_panics(v in prop::collection::vec(any::<u8>(), 0..64), four in any::<bool>()) {
            let _ = AsPath::decode(&Bytes::from(v), four).map(|p| p.to_string());
        }
    }
}
