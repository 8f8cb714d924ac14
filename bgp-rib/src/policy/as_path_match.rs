//! AS path conditions: the structured look-ups (contains, originating AS,
//! neighbouring AS; the length is [`AsPath::len`]), regular expressions
//! over the path's text ([`AsPathRegex`], the primary pattern syntax) and
//! BIRD-style path masks ([`AsPathMask`]).
//!
//! # Regular expressions (primary)
//!
//! An [`AsPathRegex`] is matched against the path's text form, as FRR and
//! Cisco IOS do: AS numbers in decimal separated by spaces, an AS_SET as
//! `{1,2}`, an AS_CONFED_SEQUENCE as `(1 2)` and an AS_CONFED_SET as
//! `[1,2]`, so `65001 65002 {3,4}`. An empty (or absent) AS_PATH is the
//! empty text, matched by `^$`. `_` outside a bracket expression stands
//! for a boundary: the start or end of the text, a space, a comma, or a
//! brace or parenthesis. Everything else is the `regex` crate's syntax,
//! which agrees with POSIX extended expressions on what AS-path patterns
//! use (`^ $ . * + ? [0-9] (a|b) {m,n}`). Like FRR's, a pattern matches
//! anywhere in the text unless anchored:
//!
//! | pattern | matches |
//! | --- | --- |
//! | `_65001$` | paths originated by AS 65001 |
//! | `^65001_` | paths learned from neighbour AS 65001 |
//! | `_65001_` | paths through AS 65001 |
//! | `^$` | locally originated paths |
//! | `^65001(_65001)*$` | only AS 65001, prepended or not |
//! | `_6450[0-9]_` | paths through AS 64500 to 64509 |
//!
//! # Path masks (BIRD style)
//!
//! An [`AsPathMask`] is a sequence of elements matched against the whole
//! path, one AS at a time: `[= * 65001 ? 64500..64510 [1, 7..9] =]`.
//! The brackets `[=` `=]` are optional. Elements: a number matches that
//! AS; `a..b` any AS from a to b; `[x, y..z]` any AS in the list; `?`
//! exactly one AS; `*` any number of ASes (none included). Each
//! AS_SEQUENCE member is one position; an AS_SET is one position too, and
//! a number, range or list matches it when any member of the set does.
//! Confederation segments are skipped (they count nothing in the path
//! length either).

use std::cell::RefCell;
use std::fmt;
use std::str::FromStr;

use bgp_wire::attribute::{AsPath, SegmentType};
use regex::Regex;

use super::ParseError;

/// Whether any AS of the path (in any segment, sets and confederation
/// segments included) is one of `asns`.
pub fn contains_any(path: &AsPath, asns: &[u32]) -> bool {
    path.asns().any(|a| asns.contains(&a))
}

/// The neighbouring AS: the first AS after any leading confederation
/// segments, when those are followed by an AS_SEQUENCE (`None` for an
/// empty path or one that starts with an AS_SET).
pub fn neighbor_as(path: &AsPath) -> Option<u32> {
    let first = path.segments().find(|s| !s.kind().is_confed())?;
    if first.kind() == SegmentType::AsSequence {
        first.asns().next()
    } else {
        None
    }
}

/// The originating AS: the last AS when the path ends with an AS_SEQUENCE
/// (`None` when it ends with an AS_SET or a confederation segment, or is
/// empty).
pub fn origin_as(path: &AsPath) -> Option<u32> {
    path.origin_as()
}

thread_local! {
    /// The text of the path being matched, reused so matching allocates
    /// nothing once the buffer has grown.
    static TEXT: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Writes the text form of `path` (what its `Display` prints) into `buf`,
/// replacing what was there; faster than the formatting machinery.
fn path_text(path: &AsPath, buf: &mut String) {
    buf.clear();
    for (i, s) in path.segments().enumerate() {
        if i > 0 {
            buf.push(' ');
        }
        let (open, sep, close) = match s.kind() {
            SegmentType::AsSequence => (None, ' ', None),
            SegmentType::AsSet => (Some('{'), ',', Some('}')),
            SegmentType::AsConfedSequence => (Some('('), ' ', Some(')')),
            SegmentType::AsConfedSet => (Some('['), ',', Some(']')),
        };
        buf.extend(open);
        for (j, a) in s.asns().enumerate() {
            if j > 0 {
                buf.push(sep);
            }
            push_decimal(buf, a);
        }
        buf.extend(close);
    }
}

/// Appends `v` in decimal.
fn push_decimal(buf: &mut String, mut v: u32) {
    let mut digits = [0u8; 10];
    let mut n = digits.len();
    loop {
        n -= 1;
        if let Some(d) = digits.get_mut(n) {
            *d = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || n == 0 {
            break;
        }
    }
    for d in digits.get(n..).unwrap_or_default() {
        buf.push(char::from(*d));
    }
}

/// A regular expression over the text of an AS path (see the
/// [module docs](self)). Equality compares the pattern's source text.
///
/// ```
/// use bgp_rib::policy::AsPathRegex;
/// use bgp_wire::attribute::AsPath;
///
/// let re = AsPathRegex::new("_65001$").unwrap();
/// assert!(re.is_match(&AsPath::from_sequence(&[64500, 65001])));
/// assert!(!re.is_match(&AsPath::from_sequence(&[64500, 165001])));
/// ```
#[derive(Debug, Clone)]
pub struct AsPathRegex {
    source: String,
    regex: Regex,
}

impl PartialEq for AsPathRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for AsPathRegex {}

/// What `_` stands for.
const BOUNDARY: &str = r"(?:^|$|[ ,{}()\[\]])";

impl AsPathRegex {
    /// Compiles a pattern.
    pub fn new(pattern: &str) -> Result<Self, ParseError> {
        let mut out = String::with_capacity(pattern.len() + 16);
        let mut chars = pattern.chars().peekable();
        let mut in_class = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    out.push(c);
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                }
                '[' if !in_class => {
                    in_class = true;
                    out.push(c);
                    // A `]` right after `[` or `[^` is a member.
                    if chars.next_if_eq(&'^').is_some() {
                        out.push('^');
                    }
                    if chars.next_if_eq(&']').is_some() {
                        out.push_str(r"\]");
                    }
                }
                ']' if in_class => {
                    in_class = false;
                    out.push(c);
                }
                '_' if !in_class => out.push_str(BOUNDARY),
                _ => out.push(c),
            }
        }
        let regex = regex::RegexBuilder::new(&out)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| ParseError::new("AS-path regular expression", pattern, e.to_string()))?;
        Ok(AsPathRegex {
            source: pattern.to_owned(),
            regex,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern matches the path's text.
    pub fn is_match(&self, path: &AsPath) -> bool {
        TEXT.with(|t| match t.try_borrow_mut() {
            Ok(mut buf) => {
                path_text(path, &mut buf);
                self.regex.is_match(&buf)
            }
            // Only if matching re-entered itself; fall back to a fresh
            // buffer.
            Err(_) => self.regex.is_match(&path.to_string()),
        })
    }

    /// Whether the pattern matches an AS_PATH that may be absent (absent
    /// is the empty path).
    pub fn is_match_opt(&self, path: Option<&AsPath>) -> bool {
        match path {
            Some(p) => self.is_match(p),
            None => self.regex.is_match(""),
        }
    }
}

impl fmt::Display for AsPathRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for AsPathRegex {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        AsPathRegex::new(s)
    }
}

/// One element of an [`AsPathMask`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MaskItem {
    /// `65001`: that AS.
    Asn(u32),
    /// `a..b`: any AS from a to b inclusive.
    Range(u32, u32),
    /// `[x, y..z]`: any AS in the list of (inclusive) ranges.
    Set(Vec<(u32, u32)>),
    /// `?`: exactly one AS, any.
    One,
    /// `*`: any number of ASes, none included.
    Any,
}

impl MaskItem {
    fn matches_asn(&self, a: u32) -> bool {
        match self {
            MaskItem::Asn(x) => a == *x,
            MaskItem::Range(lo, hi) => (*lo..=*hi).contains(&a),
            MaskItem::Set(rs) => rs.iter().any(|(lo, hi)| (*lo..=*hi).contains(&a)),
            MaskItem::One | MaskItem::Any => true,
        }
    }

    fn matches(&self, pos: Pos<'_>) -> bool {
        match pos {
            Pos::One(a) => self.matches_asn(a),
            Pos::Set(members) => members
                .chunks_exact(4)
                .filter_map(|c| c.first_chunk::<4>().map(|b| u32::from_be_bytes(*b)))
                .any(|a| self.matches_asn(a)),
        }
    }
}

impl fmt::Display for MaskItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let range = |f: &mut fmt::Formatter<'_>, lo: u32, hi: u32| {
            if lo == hi {
                write!(f, "{lo}")
            } else {
                write!(f, "{lo}..{hi}")
            }
        };
        match self {
            MaskItem::Asn(a) => write!(f, "{a}"),
            MaskItem::Range(lo, hi) => write!(f, "{lo}..{hi}"),
            MaskItem::Set(rs) => {
                f.write_str("[")?;
                for (i, (lo, hi)) in rs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    range(f, *lo, *hi)?;
                }
                f.write_str("]")
            }
            MaskItem::One => f.write_str("?"),
            MaskItem::Any => f.write_str("*"),
        }
    }
}

/// One position of a path as a mask sees it.
#[derive(Debug, Clone, Copy)]
enum Pos<'a> {
    /// An AS_SEQUENCE member.
    One(u32),
    /// An AS_SET: its members' wire octets.
    Set(&'a [u8]),
}

/// The positions of a path, read from its wire form (4-octet AS numbers).
#[derive(Debug, Clone, Copy)]
struct Positions<'a> {
    rest: &'a [u8],
    seq: &'a [u8],
}

impl<'a> Iterator for Positions<'a> {
    type Item = Pos<'a>;

    fn next(&mut self) -> Option<Pos<'a>> {
        loop {
            if let Some((a, r)) = self.seq.split_first_chunk::<4>() {
                self.seq = r;
                return Some(Pos::One(u32::from_be_bytes(*a)));
            }
            let (&[ty, n], tail) = self.rest.split_first_chunk::<2>()?;
            let len = usize::from(n) * 4;
            let body = tail.get(..len)?;
            self.rest = tail.get(len..)?;
            match SegmentType::from_u8(ty)? {
                SegmentType::AsSequence => self.seq = body,
                SegmentType::AsSet => return Some(Pos::Set(body)),
                SegmentType::AsConfedSequence | SegmentType::AsConfedSet => {}
            }
        }
    }
}

/// A BIRD-style path mask, matched against the whole path (see the
/// [module docs](self)).
///
/// ```
/// use bgp_rib::policy::AsPathMask;
/// use bgp_wire::attribute::AsPath;
///
/// let m: AsPathMask = "[= * 65001 ? =]".parse().unwrap();
/// assert!(m.is_match(&AsPath::from_sequence(&[1, 2, 65001, 3])));
/// assert!(!m.is_match(&AsPath::from_sequence(&[65001])));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AsPathMask {
    items: Vec<MaskItem>,
}

impl AsPathMask {
    /// A mask of these elements.
    pub fn new(items: Vec<MaskItem>) -> Self {
        AsPathMask { items }
    }

    /// The elements.
    pub fn items(&self) -> &[MaskItem] {
        &self.items
    }

    /// Whether the mask matches the whole path.
    pub fn is_match(&self, path: &AsPath) -> bool {
        self.matches_positions(Positions {
            rest: path.as_bytes(),
            seq: &[],
        })
    }

    /// Whether the mask matches an AS_PATH that may be absent (absent is
    /// the empty path).
    pub fn is_match_opt(&self, path: Option<&AsPath>) -> bool {
        match path {
            Some(p) => self.is_match(p),
            None => self.matches_positions(Positions {
                rest: &[],
                seq: &[],
            }),
        }
    }

    /// Glob matching with backtracking to the last `*` only: linear in the
    /// path for masks with one `*`, at worst path × mask.
    fn matches_positions(&self, mut input: Positions<'_>) -> bool {
        let items = &self.items;
        let mut p = 0usize;
        // The element after the last `*`, and where that `*` stopped eating.
        let mut star: Option<(usize, Positions<'_>)> = None;
        loop {
            if let Some(MaskItem::Any) = items.get(p) {
                p += 1;
                star = Some((p, input));
                continue;
            }
            let mut ahead = input;
            match ahead.next() {
                Some(pos) => {
                    if items.get(p).is_some_and(|i| i.matches(pos)) {
                        input = ahead;
                        p += 1;
                        continue;
                    }
                    // Mismatch (or mask used up): let the last `*` eat one
                    // more position.
                    let Some((sp, mut si)) = star else {
                        return false;
                    };
                    if si.next().is_none() {
                        return false;
                    }
                    star = Some((sp, si));
                    input = si;
                    p = sp;
                }
                None => {
                    return items
                        .get(p..)
                        .is_some_and(|rest| rest.iter().all(|i| matches!(i, MaskItem::Any)));
                }
            }
        }
    }
}

impl fmt::Display for AsPathMask {
    /// `[= item item … =]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[=")?;
        for i in &self.items {
            write!(f, " {i}")?;
        }
        f.write_str(" =]")
    }
}

/// Parses `a` or `a..b`.
fn parse_asn_range(t: &str, whole: &str) -> Result<(u32, u32), ParseError> {
    let err = |reason: String| ParseError::new("AS-path mask", whole, reason);
    let num =
        |s: &str| super::digits::<u32>(s).ok_or_else(|| err(format!("{s:?} is not an AS number")));
    match t.split_once("..") {
        Some((lo, hi)) => {
            let (lo, hi) = (num(lo)?, num(hi)?);
            if lo > hi {
                return Err(err(format!("empty range {lo}..{hi}")));
            }
            Ok((lo, hi))
        }
        None => {
            let a = num(t)?;
            Ok((a, a))
        }
    }
}

impl FromStr for AsPathMask {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let err = |reason: &str| ParseError::new("AS-path mask", s, reason);
        let mut t = s.trim();
        if let Some(inner) = t.strip_prefix("[=") {
            t = inner
                .strip_suffix("=]")
                .ok_or_else(|| err("a mask opened with [= closes with =]"))?;
        }
        let mut items = Vec::new();
        let mut rest = t.trim_start();
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('*') {
                items.push(MaskItem::Any);
                rest = r;
            } else if let Some(r) = rest.strip_prefix('?') {
                items.push(MaskItem::One);
                rest = r;
            } else if let Some(r) = rest.strip_prefix('[') {
                let (inside, after) = r
                    .split_once(']')
                    .ok_or_else(|| err("a list opened with [ closes with ]"))?;
                let ranges = inside
                    .split(',')
                    .map(|x| parse_asn_range(x.trim(), s))
                    .collect::<Result<Vec<_>, _>>()?;
                items.push(MaskItem::Set(ranges));
                rest = after;
            } else {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                let (word, after) = rest.split_at(end);
                let (lo, hi) = parse_asn_range(word, s)?;
                items.push(if lo == hi {
                    MaskItem::Asn(lo)
                } else {
                    MaskItem::Range(lo, hi)
                });
                rest = after;
            }
            rest = rest.trim_start();
        }
        Ok(AsPathMask { items })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(a: &[u32]) -> AsPath {
        AsPath::from_sequence(a)
    }

    fn mixed() -> AsPath {
        AsPath::from_segments([
            (SegmentType::AsConfedSequence, &[64512u32, 64513][..]),
            (SegmentType::AsSequence, &[65001, 4_200_000_000]),
            (SegmentType::AsSet, &[7, 8]),
        ])
    }

    #[test]
    fn structured_lookups() {
        let p = mixed();
        assert!(contains_any(&p, &[8]));
        assert!(contains_any(&p, &[64513]));
        assert!(contains_any(&p, &[4_200_000_000]));
        assert!(!contains_any(&p, &[9, 10]));
        assert_eq!(neighbor_as(&p), Some(65001));
        assert_eq!(origin_as(&p), None, "ends with an AS_SET");
        assert_eq!(p.len(), 3, "AS_SET counts one, confederation none");
        let q = seq(&[65001, 4_200_000_000]);
        assert_eq!(origin_as(&q), Some(4_200_000_000));
        assert_eq!(neighbor_as(&q), Some(65001));
        assert_eq!(neighbor_as(&AsPath::empty()), None);
        assert_eq!(origin_as(&AsPath::empty()), None);
        let set_first = AsPath::from_segments([(SegmentType::AsSet, &[1u32][..])]);
        assert_eq!(neighbor_as(&set_first), None);
    }

    #[test]
    fn regexes() {
        let m = |re: &str, p: &AsPath| AsPathRegex::new(re).unwrap().is_match(p);
        let p = seq(&[64500, 65001, 65002]);
        assert!(m("_65002$", &p));
        assert!(!m("_65001$", &p));
        assert!(m("^64500_", &p));
        assert!(m("_65001_", &p));
        assert!(!m("_6500_", &p));
        assert!(m("_6500[0-9]_", &p));
        assert!(m("^64500 65001 65002$", &p));
        assert!(m("^64500_65001_65002$", &p));
        assert!(!m("^$", &p));
        assert!(m("^$", &AsPath::empty()));
        assert!(AsPathRegex::new("^$").unwrap().is_match_opt(None));
        assert!(!AsPathRegex::new("_1_").unwrap().is_match_opt(None));
        // prepends
        let pp = seq(&[65001, 65001, 65001]);
        assert!(m("^65001(_65001)*$", &pp));
        assert!(!m("^65001(_65001)*$", &p));
        // 4-octet AS numbers and AS_SET / confederation text
        let x = mixed();
        assert_eq!(x.to_string(), "(64512 64513) 65001 4200000000 {7,8}");
        assert!(m("_4200000000_", &x));
        assert!(m("_7_", &x));
        assert!(m("_8_", &x));
        assert!(!m("_8$", &x), "the text ends with the brace");
        assert!(m("_64513_", &x));
        assert!(m(r"\{7,8\}$", &x));
        // `_` inside a bracket expression is literal
        assert!(!m("[_]", &p));
        assert!(m("[]0-9]", &p));
        assert!(AsPathRegex::new("(").is_err());
        assert_eq!(AsPathRegex::new("_1_").unwrap().to_string(), "_1_");
        assert_eq!(
            AsPathRegex::new("_1_").unwrap(),
            AsPathRegex::new("_1_").unwrap()
        );
    }

    proptest::proptest! {
        #[test]
        fn text_is_display(
            segs in proptest::collection::vec(
                (1u8..=4, proptest::collection::vec(proptest::prelude::any::<u32>(), 1..6)),
                0..5,
            )
        ) {
            let p = AsPath::from_segments(
                segs.iter().filter_map(|(t, v)| Some((SegmentType::from_u8(*t)?, &v[..]))),
            );
            let mut buf = String::from("stale");
            path_text(&p, &mut buf);
            proptest::prop_assert_eq!(buf, p.to_string());
        }
    }

    #[test]
    fn masks() {
        let m = |mask: &str, p: &AsPath| mask.parse::<AsPathMask>().unwrap().is_match(p);
        let p = seq(&[1, 2, 65001, 3]);
        assert!(m("[= * 65001 * =]", &p));
        assert!(m("* 65001 *", &p));
        assert!(m("[= 1 2 65001 3 =]", &p));
        assert!(!m("[= 1 2 65001 =]", &p));
        assert!(m("[= * 3 =]", &p));
        assert!(m("[= 1 * =]", &p));
        assert!(!m("[= 2 * =]", &p));
        assert!(m("[= ? ? ? ? =]", &p));
        assert!(!m("[= ? ? ? =]", &p));
        assert!(m("[= * =]", &p));
        assert!(m("[= * =]", &AsPath::empty()));
        assert!(m("[= =]", &AsPath::empty()));
        assert!(!m("[= ? =]", &AsPath::empty()));
        assert!(m("[= * 65000..65010 * =]", &p));
        assert!(m("[= [1, 100..200] * [3] =]", &p));
        assert!(!m("[= [5, 100..200] * =]", &p));
        assert!(m("[= * 1 * 2 * 3 * =]", &p));
        assert!(!m("[= * 3 * 2 * =]", &p));
        // AS_SET: one position, matched by any member; confed skipped
        let x = mixed();
        assert!(m("[= 65001 4200000000 8 =]", &x));
        assert!(m("[= 65001 4200000000 7 =]", &x));
        assert!(m("[= ? ? ? =]", &x));
        assert!(!m("[= 64512 * =]", &x));
        assert!(!m("[= 65001 4200000000 7 8 =]", &x));
        assert!("[= * =]".parse::<AsPathMask>().unwrap().is_match_opt(None));
        for bad in [
            "[= 1 2",
            "[= x =]",
            "[= 5..1 =]",
            "[= [1, 2 =]",
            "4294967296",
        ] {
            assert!(bad.parse::<AsPathMask>().is_err(), "{bad}");
        }
        let t = "[= * 65001 ? 1..5 [1, 7..9] =]";
        assert_eq!(t.parse::<AsPathMask>().unwrap().to_string(), t);
    }
}
