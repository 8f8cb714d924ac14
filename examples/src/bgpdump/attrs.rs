//! The path attributes the bgpdump line shows, read straight from an
//! attribute block, and their text.
//!
//! bgpdump is lenient: a fixed-size attribute shorter than its size is read
//! with zeros for the missing octets, a community attribute whose length is
//! not a multiple of four loses the odd octets, a malformed AS path prints
//! as `! Error !`. This module does the same, so that the lines of files
//! with such attributes stay comparable; the first of repeated attributes
//! wins (RFC 7606 3(g)).

use super::text::{push_ipv4, push_ipv6, push_u32};

/// Attribute type codes used here.
mod code {
    pub(super) const ORIGIN: u8 = 1;
    pub(super) const AS_PATH: u8 = 2;
    pub(super) const NEXT_HOP: u8 = 3;
    pub(super) const MULTI_EXIT_DISC: u8 = 4;
    pub(super) const LOCAL_PREF: u8 = 5;
    pub(super) const ATOMIC_AGGREGATE: u8 = 6;
    pub(super) const AGGREGATOR: u8 = 7;
    pub(super) const COMMUNITIES: u8 = 8;
    pub(super) const MP_REACH_NLRI: u8 = 14;
    pub(super) const MP_UNREACH_NLRI: u8 = 15;
    pub(super) const AS4_PATH: u8 = 17;
    pub(super) const AS4_AGGREGATOR: u8 = 18;
}

/// AS_TRANS (RFC 6793).
const AS_TRANS: u32 = 23456;

/// Text of a malformed AS path, as bgpdump prints it.
const AS_PATH_ERROR: &[u8] = b"! Error !";

/// bgpdump cuts the AS path text once it is longer than this and appends
/// `...`.
const AS_PATH_TEXT_LIMIT: usize = 7900;

/// A next hop of either family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NextHop {
    /// An IPv4 address.
    V4([u8; 4]),
    /// An IPv6 address (the global one of a 32-octet next hop).
    V6([u8; 16]),
}

impl NextHop {
    /// The "no next hop" value bgpdump prints: 255.255.255.255.
    pub(crate) const NONE: NextHop = NextHop::V4([255; 4]);

    pub(crate) fn push(&self, out: &mut Vec<u8>) {
        match self {
            NextHop::V4(a) => push_ipv4(out, *a),
            NextHop::V6(a) => push_ipv6(out, *a),
        }
    }

    /// The next hop field of MP_REACH_NLRI for an AFI: 16 or 32 octets
    /// are IPv6 (RFC 2545, RFC 8950), 4 octets IPv4; other lengths are
    /// read as the AFI's address with zeros for missing octets.
    fn from_field(afi: u16, nh: &[u8]) -> NextHop {
        if nh.len() >= 16 || (afi == 2 && nh.len() != 4) {
            NextHop::V6(fixed::<16>(nh))
        } else {
            NextHop::V4(fixed::<4>(nh))
        }
    }
}

/// The first `N` octets of `b`, zero-filled when `b` is shorter.
fn fixed<const N: usize>(b: &[u8]) -> [u8; N] {
    let mut a = [0u8; N];
    for (d, s) in a.iter_mut().zip(b) {
        *d = *s;
    }
    a
}

fn be_u32(b: &[u8]) -> u32 {
    u32::from_be_bytes(fixed::<4>(b))
}

/// Index of an IP family in the per-family tables: AFI 1 or 2 and SAFI 1
/// (unicast), 2 (multicast) or 3 (both), the families bgpdump prints.
pub(crate) fn family_index(afi: u16, safi: u8) -> Option<usize> {
    match (afi, safi) {
        (1 | 2, 1..=3) => Some(usize::from(afi - 1) * 3 + usize::from(safi - 1)),
        _ => None,
    }
}

/// The AFI and SAFI of a family index.
pub(crate) fn family_of(index: usize) -> (u16, u8) {
    let afi = if index < 3 { 1 } else { 2 };
    (afi, (index % 3) as u8 + 1)
}

/// One MP_REACH_NLRI of an IP family.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MpReach<'a> {
    /// The next hop.
    pub(crate) next_hop: NextHop,
    /// The NLRI field.
    pub(crate) nlri: &'a [u8],
}

/// The attributes of one route or UPDATE, as slices of the block.
#[derive(Debug, Default)]
pub(crate) struct Attrs<'a> {
    pub(crate) origin: Option<u8>,
    pub(crate) as_path: Option<&'a [u8]>,
    pub(crate) next_hop: Option<[u8; 4]>,
    pub(crate) med: Option<u32>,
    pub(crate) local_pref: Option<u32>,
    pub(crate) atomic_aggregate: bool,
    pub(crate) aggregator: Option<&'a [u8]>,
    pub(crate) communities: Option<&'a [u8]>,
    pub(crate) as4_path: Option<&'a [u8]>,
    pub(crate) as4_aggregator: Option<&'a [u8]>,
    /// Whether an MP_REACH_NLRI attribute is present at all.
    pub(crate) has_mp_reach: bool,
    /// Whether an MP_UNREACH_NLRI attribute is present at all.
    pub(crate) has_mp_unreach: bool,
    /// MP_REACH_NLRI by family index.
    pub(crate) mp_reach: [Option<MpReach<'a>>; 6],
    /// MP_UNREACH_NLRI withdrawn routes by family index.
    pub(crate) mp_unreach: [Option<&'a [u8]>; 6],
    /// The next hop of the shortened MP_REACH_NLRI of TABLE_DUMP_V2
    /// (RFC 6396 4.3.4: next hop length and address only).
    pub(crate) mp_next_hop_short: Option<NextHop>,
}

impl<'a> Attrs<'a> {
    /// Reads an attribute block. With `short_mp`, an MP_REACH_NLRI whose
    /// first octet is not 0 (the high octet of an AFI) is the shortened
    /// RIB form. Reading stops at a truncated attribute, as bgpdump's does.
    pub(crate) fn parse(mut block: &'a [u8], short_mp: bool) -> Attrs<'a> {
        let mut a = Attrs::default();
        while let Some((&[flags, type_code], rest)) = block.split_first_chunk::<2>() {
            let (len, rest) = if flags & 0x10 != 0 {
                match rest.split_first_chunk::<2>() {
                    Some((l, r)) => (usize::from(u16::from_be_bytes(*l)), r),
                    None => break,
                }
            } else {
                match rest.split_first() {
                    Some((l, r)) => (usize::from(*l), r),
                    None => break,
                }
            };
            let Some(value) = rest.get(..len) else {
                break;
            };
            block = rest.get(len..).unwrap_or_default();
            a.take(type_code, value, short_mp);
        }
        a
    }

    fn take(&mut self, type_code: u8, v: &'a [u8], short_mp: bool) {
        match type_code {
            code::ORIGIN if self.origin.is_none() => {
                self.origin = Some(v.first().copied().unwrap_or(0))
            }
            code::AS_PATH if self.as_path.is_none() => self.as_path = Some(v),
            code::NEXT_HOP if self.next_hop.is_none() => self.next_hop = Some(fixed::<4>(v)),
            code::MULTI_EXIT_DISC if self.med.is_none() => self.med = Some(be_u32(v)),
            code::LOCAL_PREF if self.local_pref.is_none() => self.local_pref = Some(be_u32(v)),
            code::ATOMIC_AGGREGATE => self.atomic_aggregate = true,
            code::AGGREGATOR if self.aggregator.is_none() => self.aggregator = Some(v),
            code::COMMUNITIES if self.communities.is_none() => self.communities = Some(v),
            code::AS4_PATH if self.as4_path.is_none() => self.as4_path = Some(v),
            code::AS4_AGGREGATOR if self.as4_aggregator.is_none() => self.as4_aggregator = Some(v),
            code::MP_REACH_NLRI => {
                self.has_mp_reach = true;
                self.mp_reach(v, short_mp);
            }
            code::MP_UNREACH_NLRI => {
                self.has_mp_unreach = true;
                if let Some((&[a0, a1, safi], rest)) = v.split_first_chunk::<3>() {
                    if let Some(slot) = family_index(u16::from_be_bytes([a0, a1]), safi)
                        .and_then(|i| self.mp_unreach.get_mut(i))
                    {
                        slot.get_or_insert(rest);
                    }
                }
            }
            _ => {}
        }
    }

    fn mp_reach(&mut self, v: &'a [u8], short_mp: bool) {
        let Some((&first, after_first)) = v.split_first() else {
            return;
        };
        if short_mp && first != 0 {
            if self.mp_next_hop_short.is_none() {
                let nh = after_first.get(..usize::from(first)).unwrap_or(after_first);
                self.mp_next_hop_short = Some(if nh.len() == 4 {
                    NextHop::V4(fixed::<4>(nh))
                } else {
                    NextHop::V6(fixed::<16>(nh))
                });
            }
            return;
        }
        let Some((&[a0, a1, safi, nh_len], rest)) = v.split_first_chunk::<4>() else {
            return;
        };
        let afi = u16::from_be_bytes([a0, a1]);
        let Some(slot) = family_index(afi, safi).and_then(|i| self.mp_reach.get_mut(i)) else {
            return;
        };
        if slot.is_some() {
            return;
        }
        let nh_len = usize::from(nh_len);
        let nh = rest.get(..nh_len).unwrap_or(rest);
        // After the next hop, one reserved octet (RFC 4760), then the NLRI.
        let nlri = rest.get(nh_len + 1..).unwrap_or_default();
        *slot = Some(MpReach {
            next_hop: NextHop::from_field(afi, nh),
            nlri,
        });
    }

    /// The next hop of a RIB entry (TABLE_DUMP, TABLE_DUMP_V2): that of
    /// the shortened MP_REACH_NLRI or of an IPv6 unicast MP_REACH_NLRI,
    /// else NEXT_HOP, else that of any other MP_REACH_NLRI, else none.
    pub(crate) fn rib_next_hop(&self) -> NextHop {
        if let Some(nh) = self.mp_next_hop_short {
            return nh;
        }
        if let Some(Some(r)) = self.mp_reach.get(3) {
            return r.next_hop;
        }
        if let Some(nh) = self.next_hop {
            return NextHop::V4(nh);
        }
        self.mp_reach
            .iter()
            .flatten()
            .map(|r| r.next_hop)
            .next()
            .unwrap_or(NextHop::NONE)
    }

    /// Appends `|as path|origin|` (the part of a route line between the
    /// prefix, or path identifier, and the next hop). `width` is the
    /// octets per AS number of the AS_PATH and AGGREGATOR attributes: 2
    /// brings the RFC 6793 reconciliation with AS4_PATH into play, as in
    /// bgpdump. `scratch` is reused memory.
    pub(crate) fn push_before_next_hop(
        &self,
        out: &mut Vec<u8>,
        width: usize,
        scratch: &mut Vec<u8>,
    ) {
        out.push(b'|');
        if let Some(path) = self.as_path {
            match self
                .as4_path
                .filter(|_| width == 2 && !self.as4_ignored_for_aggregator())
            {
                Some(as4) if merge_as4_path(scratch, path, as4) => push_as_path(out, scratch, 4),
                _ => push_as_path(out, path, width),
            }
        }
        out.push(b'|');
        out.extend_from_slice(match self.origin {
            Some(0) => b"IGP",
            Some(1) => b"EGP",
            _ => b"INCOMPLETE",
        });
        out.push(b'|');
    }

    /// Appends `|local pref|MED|communities|AG or NAG|aggregator|` and the
    /// end of line: the part of a route line after the next hop.
    pub(crate) fn push_after_next_hop(&self, out: &mut Vec<u8>, width: usize) {
        out.push(b'|');
        push_u32(out, self.local_pref.unwrap_or(0));
        out.push(b'|');
        push_u32(out, self.med.unwrap_or(0));
        out.push(b'|');
        if let Some(c) = self.communities {
            push_communities(out, c);
        }
        out.push(b'|');
        out.extend_from_slice(if self.atomic_aggregate { b"AG" } else { b"NAG" });
        out.push(b'|');
        if let Some((asn, addr)) = self.aggregator(width) {
            // bgpdump takes 255.255.255.255 for "no aggregator".
            if addr != [255; 4] {
                push_u32(out, asn);
                out.push(b' ');
                push_ipv4(out, addr);
            }
        }
        out.extend_from_slice(b"|\n");
    }

    /// AGGREGATOR with AS numbers of `width` octets (a value of 6 or 8
    /// octets says its own width), replaced by AS4_AGGREGATOR when it
    /// holds AS_TRANS on a 2-octet session (RFC 6793 4.2.3).
    fn aggregator(&self, width: usize) -> Option<(u32, [u8; 4])> {
        let v = self.aggregator?;
        let w = match v.len() {
            6 => 2,
            8 => 4,
            _ => width,
        };
        let (asn, addr) = read_aggregator(v, w);
        if w == 2 && asn == AS_TRANS {
            if let Some(v4) = self.as4_aggregator {
                return Some(read_aggregator(v4, 4));
            }
        }
        Some((asn, addr))
    }

    /// RFC 6793 4.2.3: an AGGREGATOR other than AS_TRANS next to an
    /// AS4_AGGREGATOR means AS4_PATH and AS4_AGGREGATOR are to be ignored.
    fn as4_ignored_for_aggregator(&self) -> bool {
        match (self.aggregator, self.as4_aggregator) {
            (Some(v), Some(_)) => {
                let w = if v.len() == 8 { 4 } else { 2 };
                read_aggregator(v, w).0 != AS_TRANS
            }
            _ => false,
        }
    }
}

fn read_aggregator(v: &[u8], width: usize) -> (u32, [u8; 4]) {
    if width == 4 {
        (be_u32(v), fixed::<4>(v.get(4..).unwrap_or_default()))
    } else {
        let [a, b] = fixed::<2>(v);
        (
            u32::from(u16::from_be_bytes([a, b])),
            fixed::<4>(v.get(2..).unwrap_or_default()),
        )
    }
}

/// Appends the communities separated by spaces: the three well-known ones
/// of RFC 1997 by name, the others as `AS:value`. Octets after the last
/// multiple of four are ignored.
fn push_communities(out: &mut Vec<u8>, v: &[u8]) {
    for (i, c) in v.chunks_exact(4).enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        match be_u32(c) {
            0xFFFF_FF01 => out.extend_from_slice(b"no-export"),
            0xFFFF_FF02 => out.extend_from_slice(b"no-advertise"),
            0xFFFF_FF03 => out.extend_from_slice(b"local-AS"),
            c => {
                push_u32(out, c >> 16);
                out.push(b':');
                push_u32(out, c & 0xffff);
            }
        }
    }
}

/// The segments of an AS path of `width`-octet AS numbers: (type, AS
/// numbers), or an error for an undefined type or an overrun.
struct Segments<'a> {
    rest: &'a [u8],
    width: usize,
}

impl<'a> Iterator for Segments<'a> {
    type Item = Result<(u8, &'a [u8]), ()>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let Some((&[ty, n], tail)) = self.rest.split_first_chunk::<2>() else {
            // A partial segment header.
            self.rest = &[];
            return Some(Err(()));
        };
        let len = usize::from(n) * self.width;
        match (ty, tail.get(..len)) {
            (1..=4, Some(asns)) => {
                self.rest = tail.get(len..).unwrap_or_default();
                Some(Ok((ty, asns)))
            }
            _ => {
                self.rest = &[];
                Some(Err(()))
            }
        }
    }
}

fn segments(wire: &[u8], width: usize) -> Segments<'_> {
    Segments { rest: wire, width }
}

fn asn(b: &[u8]) -> u32 {
    if b.len() == 2 {
        u32::from(u16::from_be_bytes(fixed::<2>(b)))
    } else {
        be_u32(b)
    }
}

/// The number of AS numbers of a path as bgpdump counts it for RFC 6793:
/// each member of a (confederation) sequence, each (confederation) set as
/// one. `None` for a malformed path.
fn as_path_count(wire: &[u8], width: usize) -> Option<usize> {
    let mut n = 0;
    for s in segments(wire, width) {
        let (ty, asns) = s.ok()?;
        n += if matches!(ty, 1 | 4) {
            1
        } else {
            asns.len() / width
        };
    }
    Some(n)
}

/// RFC 6793 4.2.3: the AS path of a 2-octet-AS speaker with its AS4_PATH
/// folded in, written to `out` with 4-octet AS numbers: the leading AS
/// numbers of AS_PATH that AS4_PATH does not cover, then AS4_PATH. Returns
/// false (AS4_PATH to be ignored) when either is malformed or AS4_PATH is
/// the longer.
fn merge_as4_path(out: &mut Vec<u8>, path: &[u8], as4: &[u8]) -> bool {
    let (Some(n2), Some(n4)) = (as_path_count(path, 2), as_path_count(as4, 4)) else {
        return false;
    };
    if n2 < n4 {
        return false;
    }
    out.clear();
    let mut need = n2 - n4;
    for s in segments(path, 2) {
        if need == 0 {
            break;
        }
        let Ok((ty, asns)) = s else {
            return false;
        };
        let take = if matches!(ty, 1 | 4) {
            need -= 1;
            asns.len() / 2
        } else {
            let k = (asns.len() / 2).min(need);
            need -= k;
            k
        };
        out.push(ty);
        out.push(take as u8);
        for a in asns.chunks_exact(2).take(take) {
            out.extend_from_slice(&asn(a).to_be_bytes());
        }
    }
    out.extend_from_slice(as4);
    true
}

/// The segment delimiters bgpdump uses: none for AS_SEQUENCE, braces for
/// AS_SET, parentheses for AS_CONFED_SEQUENCE, brackets for AS_CONFED_SET.
fn delimiters(ty: u8) -> Option<(u8, u8)> {
    match ty {
        1 => Some((b'{', b'}')),
        3 => Some((b'(', b')')),
        4 => Some((b'[', b']')),
        _ => None,
    }
}

/// Appends the text of an AS path of `width`-octet AS numbers: AS numbers
/// separated by spaces, set members by commas, sets in braces,
/// confederation sequences in parentheses and confederation sets in
/// brackets, `! Error !` for a malformed path, and `...` after the AS
/// number that takes the text beyond 7,900 characters.
pub(crate) fn push_as_path(out: &mut Vec<u8>, wire: &[u8], width: usize) {
    let start = out.len();
    let mut prev_end: Option<u8> = None;
    let mut first = true;
    for s in segments(wire, width) {
        let Ok((ty, asns)) = s else {
            out.truncate(start);
            out.extend_from_slice(AS_PATH_ERROR);
            return;
        };
        if let Some(end) = prev_end.take() {
            out.push(end);
        }
        // bgpdump separates segments with a space only when the previous
        // one had AS numbers.
        if !first {
            out.push(b' ');
        }
        let delims = delimiters(ty);
        if let Some((open, close)) = delims {
            out.push(open);
            prev_end = Some(close);
        }
        let sep = if matches!(ty, 1 | 4) { b',' } else { b' ' };
        first = true;
        for (i, a) in asns.chunks_exact(width).enumerate() {
            if i > 0 {
                out.push(sep);
            }
            first = false;
            push_u32(out, asn(a));
            if out.len() - start > AS_PATH_TEXT_LIMIT {
                out.extend_from_slice(b"...");
                return;
            }
        }
    }
    if let Some(end) = prev_end {
        out.push(end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(wire: &[u8], width: usize) -> String {
        let mut out = Vec::new();
        push_as_path(&mut out, wire, width);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn as_path_text() {
        assert_eq!(path(&[2, 2, 0, 1, 0, 2, 1, 2, 0, 3, 0, 4], 2), "1 2 {3,4}");
        assert_eq!(path(&[3, 2, 0, 1, 0, 2, 2, 1, 0, 3], 2), "(1 2) 3");
        assert_eq!(path(&[4, 2, 0, 1, 0, 2, 1, 1, 0, 3], 2), "[1,2] {3}");
        assert_eq!(path(&[2, 1, 0, 0, 0, 7], 4), "7");
        assert_eq!(path(&[], 4), "");
        assert_eq!(path(&[5, 1, 0, 1], 2), "! Error !");
        assert_eq!(path(&[2, 2, 0, 1], 2), "! Error !");
        assert_eq!(path(&[2], 2), "! Error !");
        assert_eq!(path(&[2, 1, 0, 1, 2], 2), "! Error !");
        assert_eq!(path(&[2, 0, 2, 1, 0, 5], 2), "5");
    }

    #[test]
    fn as_path_text_is_cut() {
        let mut wire = Vec::new();
        for _ in 0..4 {
            wire.extend_from_slice(&[2, 255]);
            for _ in 0..255 {
                wire.extend_from_slice(&4_200_000_000u32.to_be_bytes());
            }
        }
        let t = path(&wire, 4);
        assert!(t.ends_with("4200000000..."), "{t}");
        // 719 AS numbers of 10 digits and their separators: 7,908 characters.
        assert_eq!(t.len(), 7908 + 3);
    }

    #[test]
    fn as4_merge() {
        // AS_PATH 1 2 23456 23456, AS4_PATH 70000 80000: 1 2 70000 80000.
        let p2 = [2, 4, 0, 1, 0, 2, 0x5b, 0xa0, 0x5b, 0xa0];
        let mut p4 = vec![2, 2];
        p4.extend_from_slice(&70_000u32.to_be_bytes());
        p4.extend_from_slice(&80_000u32.to_be_bytes());
        let mut scratch = Vec::new();
        assert!(merge_as4_path(&mut scratch, &p2, &p4));
        assert_eq!(path(&scratch, 4), "1 2 70000 80000");
        // AS4_PATH longer than AS_PATH: ignored.
        assert!(!merge_as4_path(&mut scratch, &[2, 1, 0, 1], &p4));
        // Sets count as one.
        let p2 = [2, 1, 0, 1, 1, 2, 0, 3, 0, 4, 2, 1, 0x5b, 0xa0];
        let mut p4 = vec![2, 1];
        p4.extend_from_slice(&70_000u32.to_be_bytes());
        assert!(merge_as4_path(&mut scratch, &p2, &p4));
        assert_eq!(path(&scratch, 4), "1 {3,4} 70000");
    }

    #[test]
    fn communities_text() {
        let mut out = Vec::new();
        push_communities(
            &mut out,
            &[
                0xff, 0xff, 0xff, 0x01, 0xff, 0xff, 0xff, 0x02, 0xff, 0xff, 0xff, 0x03, 0xff, 0xff,
                0xff, 0x04, 0x0d, 0x1c, 0x00, 0x64, 9,
            ],
        );
        assert_eq!(out, b"no-export no-advertise local-AS 65535:65284 3356:100");
    }

    #[test]
    fn aggregator_as_trans() {
        // 2-octet AGGREGATOR AS_TRANS 10.0.0.1, AS4_AGGREGATOR 70000 10.0.0.2.
        let agg = [0x5b, 0xa0, 10, 0, 0, 1];
        let mut agg4 = 70_000u32.to_be_bytes().to_vec();
        agg4.extend_from_slice(&[10, 0, 0, 2]);
        let a = Attrs {
            aggregator: Some(&agg),
            as4_aggregator: Some(&agg4),
            ..Attrs::default()
        };
        assert_eq!(a.aggregator(2), Some((70_000, [10, 0, 0, 2])));
        assert!(!a.as4_ignored_for_aggregator());
        let agg = [0, 1, 10, 0, 0, 1];
        let a = Attrs {
            aggregator: Some(&agg),
            as4_aggregator: Some(&agg4),
            ..Attrs::default()
        };
        assert_eq!(a.aggregator(2), Some((1, [10, 0, 0, 1])));
        assert!(a.as4_ignored_for_aggregator());
    }
}
