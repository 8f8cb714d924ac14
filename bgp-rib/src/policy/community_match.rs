//! Community patterns and values of the three kinds: standard (RFC 1997),
//! extended (RFC 4360: route target and route origin typed, others raw)
//! and large (RFC 8092).
//!
//! # Text form
//!
//! Each part of a pattern is a number, `*` (any) or an inclusive range
//! `a..b`. Values (what actions add) take numbers only.
//!
//! | kind | values | patterns |
//! | --- | --- | --- |
//! | standard | `65000:100`, `no-export` | `65000:*`, `*:666`, `65000:100..199` |
//! | extended | `rt:65000:100`, `ro:192.0.2.1:7`, `rt:4200000000:1`, `0x0002fde800000064` | `rt:65000:*`, `ro:*:*`, `rt:192.0.2.1:*` |
//! | large | `65000:1:2` | `65000:*:*`, `65000:1..9:*` |
//!
//! Standard communities also take the well-known names: `no-export`,
//! `no-advertise`, `no-export-subconfed` (also `local-as`), `no-peer`,
//! `graceful-shutdown`, `accept-own`, `llgr-stale`, `no-llgr` and
//! `blackhole`; a value or exact pattern that is well known prints as its
//! name.
//!
//! Extended communities: `rt:` (also `target:`) is a route target and
//! `ro:` (also `origin:`, `soo:`) a route origin. The administrator is an
//! AS or an IPv4 address; a value whose AS fits 2 octets is encoded as
//! type 0x00 (4-octet local part), a larger AS as type 0x02 (2-octet local
//! part, RFC 5668). A pattern's AS matches both encodings. Any other
//! extended community is written as its eight octets in hexadecimal
//! (`0x` and 16 digits), as a value and as an exact pattern.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use bgp_wire::attribute::{Community, ExtendedCommunity, GlobalAdmin, LargeCommunity};

use super::ParseError;

/// One part of a community pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part<T> {
    /// `*`: any value.
    Any,
    /// One value.
    Exact(T),
    /// `a..b`: a value from a to b inclusive.
    Range(T, T),
}

impl<T: Ord + Copy> Part<T> {
    /// Whether `v` matches.
    pub fn matches(self, v: T) -> bool {
        match self {
            Part::Any => true,
            Part::Exact(x) => v == x,
            Part::Range(lo, hi) => lo <= v && v <= hi,
        }
    }
}

impl<T: fmt::Display> fmt::Display for Part<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Any => f.write_str("*"),
            Part::Exact(x) => write!(f, "{x}"),
            Part::Range(lo, hi) => write!(f, "{lo}..{hi}"),
        }
    }
}

fn parse_num<T: FromStr>(t: &str, what: &'static str, whole: &str) -> Result<T, ParseError> {
    super::digits(t)
        .ok_or_else(|| ParseError::new(what, whole, format!("{t:?} is not a number in range")))
}

fn parse_part<T: FromStr + Ord + Copy>(
    t: &str,
    what: &'static str,
    whole: &str,
) -> Result<Part<T>, ParseError> {
    let t = t.trim();
    if t == "*" {
        return Ok(Part::Any);
    }
    match t.split_once("..") {
        Some((lo, hi)) => {
            let (lo, hi) = (parse_num(lo, what, whole)?, parse_num(hi, what, whole)?);
            if lo > hi {
                return Err(ParseError::new(what, whole, "empty range"));
            }
            Ok(Part::Range(lo, hi))
        }
        None => Ok(Part::Exact(parse_num(t, what, whole)?)),
    }
}

/// The well-known standard communities by name (the first name of a
/// value is the one printed).
const WELL_KNOWN: [(&str, Community); 10] = [
    ("no-export", Community::NO_EXPORT),
    ("no-advertise", Community::NO_ADVERTISE),
    ("no-export-subconfed", Community::NO_EXPORT_SUBCONFED),
    ("local-as", Community::NO_EXPORT_SUBCONFED),
    ("no-peer", Community::NO_PEER),
    ("graceful-shutdown", Community::GRACEFUL_SHUTDOWN),
    ("accept-own", Community::ACCEPT_OWN),
    ("llgr-stale", Community::LLGR_STALE),
    ("no-llgr", Community::NO_LLGR),
    ("blackhole", Community::BLACKHOLE),
];

fn well_known(name: &str) -> Option<Community> {
    WELL_KNOWN
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, c)| *c)
}

/// Parses a standard community value: `high:low` or a well-known name.
pub fn parse_community(s: &str) -> Result<Community, ParseError> {
    const WHAT: &str = "community";
    let t = s.trim();
    if let Some(c) = well_known(t) {
        return Ok(c);
    }
    let (h, l) = t
        .split_once(':')
        .ok_or_else(|| ParseError::new(WHAT, s, "expected high:low or a well-known name"))?;
    Ok(Community::new(
        parse_num(h, WHAT, s)?,
        parse_num(l, WHAT, s)?,
    ))
}

/// The text of a standard community: its well-known name, or `high:low`.
pub fn community_text(c: Community) -> String {
    match c.well_known_name() {
        Some(n) => n.to_owned(),
        None => c.to_string(),
    }
}

/// A pattern over standard communities.
///
/// ```
/// use bgp_rib::policy::CommunityMatcher;
/// use bgp_wire::attribute::Community;
///
/// let m: CommunityMatcher = "65000:*".parse().unwrap();
/// assert!(m.matches(Community::new(65000, 7)));
/// assert!("no-export".parse::<CommunityMatcher>().unwrap().matches(Community::NO_EXPORT));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CommunityMatcher {
    /// The high-order half (usually an AS).
    pub high: Part<u16>,
    /// The low-order half.
    pub low: Part<u16>,
}

impl CommunityMatcher {
    /// Exactly `c`.
    pub const fn exact(c: Community) -> Self {
        CommunityMatcher {
            high: Part::Exact(c.high()),
            low: Part::Exact(c.low()),
        }
    }

    /// Whether `c` matches.
    pub fn matches(&self, c: Community) -> bool {
        self.high.matches(c.high()) && self.low.matches(c.low())
    }
}

impl From<Community> for CommunityMatcher {
    fn from(c: Community) -> Self {
        CommunityMatcher::exact(c)
    }
}

impl FromStr for CommunityMatcher {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        const WHAT: &str = "community pattern";
        let t = s.trim();
        if let Some(c) = well_known(t) {
            return Ok(CommunityMatcher::exact(c));
        }
        let (h, l) = t
            .split_once(':')
            .ok_or_else(|| ParseError::new(WHAT, s, "expected high:low or a well-known name"))?;
        Ok(CommunityMatcher {
            high: parse_part(h, WHAT, s)?,
            low: parse_part(l, WHAT, s)?,
        })
    }
}

impl fmt::Display for CommunityMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Part::Exact(h), Part::Exact(l)) = (self.high, self.low) {
            return f.write_str(&community_text(Community::new(h, l)));
        }
        write!(f, "{}:{}", self.high, self.low)
    }
}

/// Which typed extended community a pattern or value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtKind {
    /// Route target (sub-type 0x02).
    Target,
    /// Route origin (sub-type 0x03).
    Origin,
}

impl ExtKind {
    fn prefix(self) -> &'static str {
        match self {
            ExtKind::Target => "rt",
            ExtKind::Origin => "ro",
        }
    }
}

/// The administrator part of an extended community pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminPart {
    /// `*`: any AS or address.
    Any,
    /// An AS (2- or 4-octet encoding), exact or a range.
    As(Part<u32>),
    /// An IPv4 address.
    Ip(Ipv4Addr),
}

/// A pattern over extended communities.
///
/// ```
/// use bgp_rib::policy::{ExtCommunityMatcher, parse_extended_community};
///
/// let m: ExtCommunityMatcher = "rt:65000:*".parse().unwrap();
/// assert!(m.matches(parse_extended_community("rt:65000:100").unwrap()));
/// assert!(!m.matches(parse_extended_community("ro:65000:100").unwrap()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExtCommunityMatcher {
    /// A route target or route origin.
    Typed {
        /// Target or origin.
        kind: ExtKind,
        /// The global administrator.
        admin: AdminPart,
        /// The local administrator.
        local: Part<u32>,
    },
    /// Exactly these eight octets.
    Raw(ExtendedCommunity),
}

impl ExtCommunityMatcher {
    /// Whether `c` matches.
    pub fn matches(&self, c: ExtendedCommunity) -> bool {
        match self {
            ExtCommunityMatcher::Raw(x) => c == *x,
            ExtCommunityMatcher::Typed { kind, admin, local } => {
                let g = match kind {
                    ExtKind::Target => c.as_route_target(),
                    ExtKind::Origin => c.as_route_origin(),
                };
                let Some(g) = g else {
                    return false;
                };
                let (asn, ip, loc) = match g {
                    GlobalAdmin::TwoOctetAs { asn, local } => (Some(u32::from(asn)), None, local),
                    GlobalAdmin::FourOctetAs { asn, local } => (Some(asn), None, u32::from(local)),
                    GlobalAdmin::Ipv4 { address, local } => (None, Some(address), u32::from(local)),
                };
                let admin_ok = match admin {
                    AdminPart::Any => true,
                    AdminPart::As(p) => asn.is_some_and(|a| p.matches(a)),
                    AdminPart::Ip(a) => ip == Some(*a),
                };
                admin_ok && local.matches(loc)
            }
        }
    }
}

impl From<ExtendedCommunity> for ExtCommunityMatcher {
    /// An exact pattern: typed when the value prints typed, raw otherwise.
    fn from(c: ExtendedCommunity) -> Self {
        let typed = |kind, g: GlobalAdmin| match g {
            GlobalAdmin::TwoOctetAs { asn, local } => ExtCommunityMatcher::Typed {
                kind,
                admin: AdminPart::As(Part::Exact(u32::from(asn))),
                local: Part::Exact(local),
            },
            GlobalAdmin::FourOctetAs { asn, local } => ExtCommunityMatcher::Typed {
                kind,
                admin: AdminPart::As(Part::Exact(asn)),
                local: Part::Exact(u32::from(local)),
            },
            GlobalAdmin::Ipv4 { address, local } => ExtCommunityMatcher::Typed {
                kind,
                admin: AdminPart::Ip(address),
                local: Part::Exact(u32::from(local)),
            },
        };
        match typed_admin(c) {
            Some((kind, g)) => typed(kind, g),
            None => ExtCommunityMatcher::Raw(c),
        }
    }
}

/// The kind and administrator of a route target or origin that prints in
/// the typed form (and parses back to the same octets).
fn typed_admin(c: ExtendedCommunity) -> Option<(ExtKind, GlobalAdmin)> {
    let (kind, g) = match (c.as_route_target(), c.as_route_origin()) {
        (Some(g), _) => (ExtKind::Target, g),
        (None, Some(g)) => (ExtKind::Origin, g),
        (None, None) => return None,
    };
    // A 4-octet-AS encoding of a small AS would parse back as type 0x00.
    match g {
        GlobalAdmin::FourOctetAs { asn, .. } if asn <= 0xffff => None,
        _ => Some((kind, g)),
    }
}

fn split_ext(s: &str, what: &'static str) -> Result<(ExtKind, String, String), ParseError> {
    let t = s.trim();
    let (kind, rest) = t.split_once(':').ok_or_else(|| {
        ParseError::new(
            what,
            s,
            "expected rt:ADMIN:LOCAL, ro:ADMIN:LOCAL or 0x and 16 hex digits",
        )
    })?;
    let kind = match kind.to_ascii_lowercase().as_str() {
        "rt" | "target" => ExtKind::Target,
        "ro" | "origin" | "soo" => ExtKind::Origin,
        other => {
            return Err(ParseError::new(
                what,
                s,
                format!("unknown kind {other:?} (rt, target, ro, origin or soo)"),
            ));
        }
    };
    let (admin, local) = rest
        .rsplit_once(':')
        .ok_or_else(|| ParseError::new(what, s, "expected KIND:ADMIN:LOCAL"))?;
    Ok((kind, admin.trim().to_owned(), local.trim().to_owned()))
}

fn parse_raw(t: &str, what: &'static str, whole: &str) -> Result<ExtendedCommunity, ParseError> {
    let hex = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    if hex.len() != 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ParseError::new(
            what,
            whole,
            "a raw extended community is 0x and 16 hex digits",
        ));
    }
    let v =
        u64::from_str_radix(hex, 16).map_err(|_| ParseError::new(what, whole, "bad hex digits"))?;
    Ok(ExtendedCommunity(v.to_be_bytes()))
}

/// Parses an extended community value (see the [module docs](self)).
pub fn parse_extended_community(s: &str) -> Result<ExtendedCommunity, ParseError> {
    const WHAT: &str = "extended community";
    let t = s.trim();
    if t.starts_with("0x") || t.starts_with("0X") {
        return parse_raw(t, WHAT, s);
    }
    let (kind, admin, local) = split_ext(s, WHAT)?;
    let g = if let Ok(address) = admin.parse::<Ipv4Addr>() {
        GlobalAdmin::Ipv4 {
            address,
            local: parse_num(&local, WHAT, s)?,
        }
    } else {
        let asn: u32 = parse_num(&admin, WHAT, s)?;
        match u16::try_from(asn) {
            Ok(asn) => GlobalAdmin::TwoOctetAs {
                asn,
                local: parse_num(&local, WHAT, s)?,
            },
            Err(_) => GlobalAdmin::FourOctetAs {
                asn,
                local: parse_num(&local, WHAT, s).map_err(|_| {
                    ParseError::new(WHAT, s, "with a 4-octet AS the local part is at most 65535")
                })?,
            },
        }
    };
    Ok(match kind {
        ExtKind::Target => ExtendedCommunity::route_target(g),
        ExtKind::Origin => ExtendedCommunity::route_origin(g),
    })
}

/// The text of an extended community: `rt:`/`ro:` typed, or raw hex (the
/// form [`parse_extended_community`] reads back to the same octets).
pub fn extended_community_text(c: ExtendedCommunity) -> String {
    match typed_admin(c) {
        Some((kind, g)) => format!("{}:{g}", kind.prefix()),
        None => {
            let mut s = String::from("0x");
            for b in c.0 {
                s.push_str(&format!("{b:02x}"));
            }
            s
        }
    }
}

impl FromStr for ExtCommunityMatcher {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        const WHAT: &str = "extended community pattern";
        let t = s.trim();
        if t.starts_with("0x") || t.starts_with("0X") {
            return Ok(ExtCommunityMatcher::Raw(parse_raw(t, WHAT, s)?));
        }
        let (kind, admin, local) = split_ext(s, WHAT)?;
        let admin = if admin == "*" {
            AdminPart::Any
        } else if let Ok(a) = admin.parse::<Ipv4Addr>() {
            AdminPart::Ip(a)
        } else {
            AdminPart::As(parse_part(&admin, WHAT, s)?)
        };
        Ok(ExtCommunityMatcher::Typed {
            kind,
            admin,
            local: parse_part(&local, WHAT, s)?,
        })
    }
}

impl fmt::Display for ExtCommunityMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtCommunityMatcher::Raw(c) => {
                f.write_str("0x")?;
                for b in c.0 {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
            ExtCommunityMatcher::Typed { kind, admin, local } => {
                write!(f, "{}:", kind.prefix())?;
                match admin {
                    AdminPart::Any => f.write_str("*")?,
                    AdminPart::As(p) => write!(f, "{p}")?,
                    AdminPart::Ip(a) => write!(f, "{a}")?,
                }
                write!(f, ":{local}")
            }
        }
    }
}

/// Parses a large community value `global:local1:local2`.
pub fn parse_large_community(s: &str) -> Result<LargeCommunity, ParseError> {
    const WHAT: &str = "large community";
    let mut it = s.trim().split(':');
    let (Some(a), Some(b), Some(c), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err(ParseError::new(WHAT, s, "expected global:local1:local2"));
    };
    Ok(LargeCommunity {
        global_admin: parse_num(a, WHAT, s)?,
        local_data1: parse_num(b, WHAT, s)?,
        local_data2: parse_num(c, WHAT, s)?,
    })
}

/// A pattern over large communities.
///
/// ```
/// use bgp_rib::policy::{LargeCommunityMatcher, parse_large_community};
///
/// let m: LargeCommunityMatcher = "65000:1:*".parse().unwrap();
/// assert!(m.matches(parse_large_community("65000:1:42").unwrap()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LargeCommunityMatcher {
    /// The global administrator.
    pub global: Part<u32>,
    /// Local data part 1.
    pub local1: Part<u32>,
    /// Local data part 2.
    pub local2: Part<u32>,
}

impl LargeCommunityMatcher {
    /// Exactly `c`.
    pub const fn exact(c: LargeCommunity) -> Self {
        LargeCommunityMatcher {
            global: Part::Exact(c.global_admin),
            local1: Part::Exact(c.local_data1),
            local2: Part::Exact(c.local_data2),
        }
    }

    /// Whether `c` matches.
    pub fn matches(&self, c: LargeCommunity) -> bool {
        self.global.matches(c.global_admin)
            && self.local1.matches(c.local_data1)
            && self.local2.matches(c.local_data2)
    }
}

impl From<LargeCommunity> for LargeCommunityMatcher {
    fn from(c: LargeCommunity) -> Self {
        LargeCommunityMatcher::exact(c)
    }
}

impl FromStr for LargeCommunityMatcher {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        const WHAT: &str = "large community pattern";
        let mut it = s.trim().split(':');
        let (Some(a), Some(b), Some(c), None) = (it.next(), it.next(), it.next(), it.next()) else {
            return Err(ParseError::new(WHAT, s, "expected global:local1:local2"));
        };
        Ok(LargeCommunityMatcher {
            global: parse_part(a, WHAT, s)?,
            local1: parse_part(b, WHAT, s)?,
            local2: parse_part(c, WHAT, s)?,
        })
    }
}

impl fmt::Display for LargeCommunityMatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.global, self.local1, self.local2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Community {
        parse_community(s).unwrap()
    }

    #[test]
    fn standard_values_and_names() {
        assert_eq!(c("65000:100"), Community::new(65000, 100));
        assert_eq!(c("no-export"), Community::NO_EXPORT);
        assert_eq!(c("NO-ADVERTISE"), Community::NO_ADVERTISE);
        assert_eq!(c("no-export-subconfed"), Community::NO_EXPORT_SUBCONFED);
        assert_eq!(c("local-as"), Community::NO_EXPORT_SUBCONFED);
        assert_eq!(c("no-peer"), Community::NO_PEER);
        assert_eq!(c("blackhole"), Community::BLACKHOLE);
        assert_eq!(community_text(Community::NO_PEER), "no-peer");
        assert_eq!(community_text(Community::new(1, 2)), "1:2");
        assert_eq!(c("65535:65281"), Community::NO_EXPORT);
        for bad in ["65536:1", "1:65536", "1", "x:1", "no-such", "1:2:3"] {
            assert!(parse_community(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn standard_patterns() {
        let m = |p: &str, v: &str| p.parse::<CommunityMatcher>().unwrap().matches(c(v));
        assert!(m("65000:*", "65000:1"));
        assert!(!m("65000:*", "65001:1"));
        assert!(m("*:666", "174:666"));
        assert!(m("*:*", "no-export"));
        assert!(m("65000:100..199", "65000:150"));
        assert!(!m("65000:100..199", "65000:200"));
        assert!(m("no-export", "65535:65281"));
        assert!(!m("no-export", "no-advertise"));
        assert!(m("65535:65281..65284", "no-peer"));
        assert!("65000:9..1".parse::<CommunityMatcher>().is_err());
        assert!("65000".parse::<CommunityMatcher>().is_err());
        for t in ["65000:*", "*:666", "65000:100..199", "no-export", "1:2"] {
            assert_eq!(t.parse::<CommunityMatcher>().unwrap().to_string(), t);
        }
        assert_eq!(
            "65535:65282"
                .parse::<CommunityMatcher>()
                .unwrap()
                .to_string(),
            "no-advertise"
        );
    }

    #[test]
    fn extended_values() {
        let e = |s: &str| parse_extended_community(s).unwrap();
        let rt = e("rt:65000:100");
        assert_eq!(rt.0, [0x00, 0x02, 0xfd, 0xe8, 0, 0, 0, 100]);
        assert_eq!(e("target:65000:100"), rt);
        assert_eq!(e("rt:65000:70000").0[0], 0x00, "4-octet local part");
        let four = e("rt:4200000000:1");
        assert_eq!(four.0[0], 0x02);
        assert!(parse_extended_community("rt:4200000000:65536").is_err());
        let ip = e("ro:192.0.2.1:7");
        assert_eq!(ip.0, [0x01, 0x03, 192, 0, 2, 1, 0, 7]);
        assert_eq!(e("soo:192.0.2.1:7"), ip);
        let raw = e("0x8006000000000000");
        assert_eq!(raw.0, [0x80, 6, 0, 0, 0, 0, 0, 0]);
        for v in [rt, four, ip, raw, e("rt:0:0")] {
            assert_eq!(e(&extended_community_text(v)), v);
        }
        // a 4-octet-AS encoding of a small AS prints raw to keep its octets
        let odd = ExtendedCommunity::route_target(GlobalAdmin::FourOctetAs { asn: 5, local: 1 });
        assert_eq!(extended_community_text(odd), "0x0202000000050001");
        assert_eq!(e(&extended_community_text(odd)), odd);
        for bad in ["rt:65000", "xx:1:2", "0x12", "rt:a:1", "rt:192.0.2.1:70000"] {
            assert!(parse_extended_community(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn extended_patterns() {
        let e = |s: &str| parse_extended_community(s).unwrap();
        let m = |p: &str, v: &str| p.parse::<ExtCommunityMatcher>().unwrap().matches(e(v));
        assert!(m("rt:65000:*", "rt:65000:100"));
        assert!(!m("rt:65000:*", "ro:65000:100"));
        assert!(m("ro:*:*", "ro:192.0.2.1:7"));
        assert!(m("rt:*:5", "rt:4200000000:5"));
        assert!(m("rt:4200000000:*", "rt:4200000000:5"));
        assert!(m("rt:64500..65500:*", "rt:65000:1"));
        assert!(!m("rt:64500..65500:*", "rt:192.0.2.1:1"));
        assert!(m("rt:192.0.2.1:*", "rt:192.0.2.1:1"));
        assert!(!m("rt:192.0.2.1:*", "rt:192.0.2.2:1"));
        assert!(m("0x8006000000000000", "0x8006000000000000"));
        assert!(!m("rt:*:*", "0x8006000000000000"));
        // a pattern's AS matches the 4-octet encoding of a small AS too
        let odd = ExtendedCommunity::route_target(GlobalAdmin::FourOctetAs { asn: 5, local: 1 });
        assert!(
            "rt:5:1"
                .parse::<ExtCommunityMatcher>()
                .unwrap()
                .matches(odd)
        );
        assert!(ExtCommunityMatcher::from(odd).matches(odd));
        for t in [
            "rt:65000:*",
            "ro:*:*",
            "rt:192.0.2.1:7",
            "rt:1..9:*",
            "0x8006000000000000",
        ] {
            assert_eq!(t.parse::<ExtCommunityMatcher>().unwrap().to_string(), t);
        }
        assert_eq!(
            ExtCommunityMatcher::from(e("target:65000:1")).to_string(),
            "rt:65000:1"
        );
    }

    #[test]
    fn large() {
        let l = parse_large_community("65000:1:2").unwrap();
        assert_eq!(
            l,
            LargeCommunity {
                global_admin: 65000,
                local_data1: 1,
                local_data2: 2
            }
        );
        let big = parse_large_community("4200000000:4294967295:0").unwrap();
        assert_eq!(big.global_admin, 4_200_000_000);
        assert!(parse_large_community("1:2").is_err());
        assert!(parse_large_community("1:2:3:4").is_err());
        assert!(parse_large_community("1:2:4294967296").is_err());
        let m = |p: &str| p.parse::<LargeCommunityMatcher>().unwrap();
        assert!(m("65000:*:*").matches(l));
        assert!(m("65000:1:2").matches(l));
        assert!(m("*:0..5:2").matches(l));
        assert!(!m("65000:2:*").matches(l));
        assert!(m("4200000000:*:0").matches(big));
        assert_eq!(m("65000:*:1..3").to_string(), "65000:*:1..3");
        assert!(LargeCommunityMatcher::exact(l).matches(l));
    }
}
