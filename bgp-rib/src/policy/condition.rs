//! Match conditions ([`Condition`]) over a route ([`super::RouteView`]),
//! composed with all/any/not (or `&`, `|`, `!`), and numeric comparisons
//! ([`NumberMatch`]).

use std::fmt;
use std::net::IpAddr;
use std::ops::{BitAnd, BitOr, Not};
use std::str::FromStr;
use std::sync::Arc;

use bgp_wire::attribute::{Origin, PathAttributes};
use ipnet::IpNet;

use super::as_path_match::{self, AsPathMask, AsPathRegex};
use super::community_match::{CommunityMatcher, ExtCommunityMatcher, LargeCommunityMatcher};
use super::prefix_match::{AddressSet, Family, PrefixSet};
use super::{ParseError, Peer};
use crate::peer::PeerKind;

/// A comparison of a number (MED, LOCAL_PREF, AS path length).
///
/// Text form: `100` or `= 100`, `!= 100`, `< 100`, `<= 100`, `> 100`,
/// `>= 100`, and `100..200` (inclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NumberMatch {
    /// Equal.
    Eq(u32),
    /// Not equal.
    Ne(u32),
    /// Less than.
    Lt(u32),
    /// Less than or equal.
    Le(u32),
    /// Greater than.
    Gt(u32),
    /// Greater than or equal.
    Ge(u32),
    /// From the first to the second inclusive.
    Range(u32, u32),
}

impl NumberMatch {
    /// Whether `v` satisfies the comparison.
    pub fn matches(self, v: u32) -> bool {
        match self {
            NumberMatch::Eq(x) => v == x,
            NumberMatch::Ne(x) => v != x,
            NumberMatch::Lt(x) => v < x,
            NumberMatch::Le(x) => v <= x,
            NumberMatch::Gt(x) => v > x,
            NumberMatch::Ge(x) => v >= x,
            NumberMatch::Range(lo, hi) => lo <= v && v <= hi,
        }
    }
}

impl fmt::Display for NumberMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NumberMatch::Eq(x) => write!(f, "= {x}"),
            NumberMatch::Ne(x) => write!(f, "!= {x}"),
            NumberMatch::Lt(x) => write!(f, "< {x}"),
            NumberMatch::Le(x) => write!(f, "<= {x}"),
            NumberMatch::Gt(x) => write!(f, "> {x}"),
            NumberMatch::Ge(x) => write!(f, ">= {x}"),
            NumberMatch::Range(lo, hi) => write!(f, "{lo}..{hi}"),
        }
    }
}

impl FromStr for NumberMatch {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        const WHAT: &str = "comparison";
        let t = s.trim();
        let num = |x: &str| {
            super::digits::<u32>(x).ok_or_else(|| {
                ParseError::new(
                    WHAT,
                    s,
                    "expected a number 0 to 4294967295, OP NUMBER (= != < <= > >=) or LOW..HIGH",
                )
            })
        };
        if let Some((lo, hi)) = t.split_once("..") {
            let (lo, hi) = (num(lo)?, num(hi)?);
            if lo > hi {
                return Err(ParseError::new(WHAT, s, "empty range"));
            }
            return Ok(NumberMatch::Range(lo, hi));
        }
        for (op, make) in [
            ("!=", NumberMatch::Ne as fn(u32) -> NumberMatch),
            ("<=", NumberMatch::Le),
            (">=", NumberMatch::Ge),
            ("==", NumberMatch::Eq),
            ("<", NumberMatch::Lt),
            (">", NumberMatch::Gt),
            ("=", NumberMatch::Eq),
        ] {
            if let Some(rest) = t.strip_prefix(op) {
                return Ok(make(num(rest)?));
            }
        }
        Ok(NumberMatch::Eq(num(t)?))
    }
}

/// Whether a community condition needs one pattern or all of them to find
/// a community.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantifier {
    /// Some community matches some pattern.
    Any,
    /// Every pattern matches some community.
    All,
}

impl Quantifier {
    fn test<M>(self, patterns: &[M], mut found: impl FnMut(&M) -> bool) -> bool {
        match self {
            Quantifier::Any => patterns.iter().any(&mut found),
            Quantifier::All => patterns.iter().all(&mut found),
        }
    }
}

/// A condition on a route. Conditions on attributes that the route lacks
/// are false (a route without MED matches no MED comparison; one without
/// COMMUNITIES no community pattern), except that an absent AS_PATH is
/// the empty path (length 0, matched by `^$` and `[= =]`).
///
/// Build with the constructors and combine with [`Condition::all`],
/// [`Condition::any`], [`Condition::not`] or the `&`, `|` and `!`
/// operators:
///
/// ```
/// use bgp_rib::policy::{Condition, NumberMatch};
///
/// let c = Condition::neighbor_as([65001])
///     & (Condition::community_any(["65000:100".parse().unwrap()])
///         | !Condition::med(NumberMatch::Le(100)));
/// assert!(matches!(c, Condition::All(_)));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// The prefix matches the set.
    Prefix(Arc<PrefixSet>),
    /// The prefix is of this family.
    Family(Family),
    /// Some AS of the path is one of these.
    AsPathContains(Vec<u32>),
    /// The originating AS ([`as_path_match::origin_as`]) is one of these.
    OriginAs(Vec<u32>),
    /// The neighbouring AS ([`as_path_match::neighbor_as`]) is one of
    /// these.
    NeighborAs(Vec<u32>),
    /// The path length ([`bgp_wire::attribute::AsPath::len`]: an AS_SET
    /// counts one, confederation segments none) satisfies the comparison.
    AsPathLength(NumberMatch),
    /// The regular expression matches the path's text.
    AsPathRegex(AsPathRegex),
    /// The mask matches the path.
    AsPathMask(AsPathMask),
    /// Standard communities (COMMUNITIES).
    Community(Quantifier, Vec<CommunityMatcher>),
    /// Extended communities (EXTENDED COMMUNITIES).
    ExtendedCommunity(Quantifier, Vec<ExtCommunityMatcher>),
    /// Large communities (LARGE_COMMUNITY).
    LargeCommunity(Quantifier, Vec<LargeCommunityMatcher>),
    /// The next hop is one of these addresses or in one of these networks.
    NextHop(AddressSet),
    /// The peer's session type.
    PeerKind(PeerKind),
    /// Whether the peer is a route-reflector client.
    RrClient(bool),
    /// The peer's AS is one of these.
    PeerAs(Vec<u32>),
    /// The peer's address is one of these or in one of these networks.
    PeerAddress(AddressSet),
    /// The peer's BGP identifier is one of these or in one of these
    /// networks.
    PeerRouterId(AddressSet),
    /// ORIGIN is this.
    Origin(Origin),
    /// MULTI_EXIT_DISC is present and satisfies the comparison.
    Med(NumberMatch),
    /// LOCAL_PREF is present and satisfies the comparison.
    LocalPref(NumberMatch),
    /// Every condition holds (true when there are none).
    All(Vec<Condition>),
    /// Some condition holds (false when there are none).
    Any(Vec<Condition>),
    /// The condition does not hold.
    Not(Box<Condition>),
}

/// What a condition is tested on: the route as the policy has modified it
/// so far.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Subject<'s> {
    pub(crate) prefix: &'s IpNet,
    pub(crate) attrs: &'s PathAttributes,
    pub(crate) next_hop: Option<IpAddr>,
    pub(crate) peer: &'s Peer,
}

impl Condition {
    /// Always true (an empty [`Condition::All`]).
    pub fn always() -> Self {
        Condition::All(Vec::new())
    }

    /// The prefix matches the set.
    pub fn prefix_in(set: impl Into<Arc<PrefixSet>>) -> Self {
        Condition::Prefix(set.into())
    }

    /// The prefix is of this family.
    pub fn family(f: Family) -> Self {
        Condition::Family(f)
    }

    /// Some AS of the path is one of `asns`.
    pub fn as_path_contains(asns: impl IntoIterator<Item = u32>) -> Self {
        Condition::AsPathContains(asns.into_iter().collect())
    }

    /// The originating (last) AS is one of `asns`.
    pub fn origin_as(asns: impl IntoIterator<Item = u32>) -> Self {
        Condition::OriginAs(asns.into_iter().collect())
    }

    /// The neighbouring (first) AS is one of `asns`.
    pub fn neighbor_as(asns: impl IntoIterator<Item = u32>) -> Self {
        Condition::NeighborAs(asns.into_iter().collect())
    }

    /// The path length satisfies `cmp`.
    pub fn as_path_length(cmp: NumberMatch) -> Self {
        Condition::AsPathLength(cmp)
    }

    /// The regular expression matches the path's text.
    pub fn as_path_regex(re: AsPathRegex) -> Self {
        Condition::AsPathRegex(re)
    }

    /// The mask matches the path.
    pub fn as_path_mask(mask: AsPathMask) -> Self {
        Condition::AsPathMask(mask)
    }

    /// Some standard community matches one of `patterns`.
    pub fn community_any(patterns: impl IntoIterator<Item = CommunityMatcher>) -> Self {
        Condition::Community(Quantifier::Any, patterns.into_iter().collect())
    }

    /// Every one of `patterns` matches some standard community.
    pub fn community_all(patterns: impl IntoIterator<Item = CommunityMatcher>) -> Self {
        Condition::Community(Quantifier::All, patterns.into_iter().collect())
    }

    /// Some extended community matches one of `patterns`.
    pub fn extended_community_any(patterns: impl IntoIterator<Item = ExtCommunityMatcher>) -> Self {
        Condition::ExtendedCommunity(Quantifier::Any, patterns.into_iter().collect())
    }

    /// Every one of `patterns` matches some extended community.
    pub fn extended_community_all(patterns: impl IntoIterator<Item = ExtCommunityMatcher>) -> Self {
        Condition::ExtendedCommunity(Quantifier::All, patterns.into_iter().collect())
    }

    /// Some large community matches one of `patterns`.
    pub fn large_community_any(patterns: impl IntoIterator<Item = LargeCommunityMatcher>) -> Self {
        Condition::LargeCommunity(Quantifier::Any, patterns.into_iter().collect())
    }

    /// Every one of `patterns` matches some large community.
    pub fn large_community_all(patterns: impl IntoIterator<Item = LargeCommunityMatcher>) -> Self {
        Condition::LargeCommunity(Quantifier::All, patterns.into_iter().collect())
    }

    /// The next hop is one of these addresses or in one of these networks.
    pub fn next_hop_in(nets: impl IntoIterator<Item = IpNet>) -> Self {
        Condition::NextHop(AddressSet::new(nets))
    }

    /// The peer's session type is `kind`.
    pub fn peer_kind(kind: PeerKind) -> Self {
        Condition::PeerKind(kind)
    }

    /// The peer is (or is not) a route-reflector client.
    pub fn rr_client(is: bool) -> Self {
        Condition::RrClient(is)
    }

    /// The peer's AS is one of `asns`.
    pub fn peer_as(asns: impl IntoIterator<Item = u32>) -> Self {
        Condition::PeerAs(asns.into_iter().collect())
    }

    /// The peer's address is one of these or in one of these networks.
    pub fn peer_address(nets: impl IntoIterator<Item = IpNet>) -> Self {
        Condition::PeerAddress(AddressSet::new(nets))
    }

    /// ORIGIN is `o`.
    pub fn origin(o: Origin) -> Self {
        Condition::Origin(o)
    }

    /// MULTI_EXIT_DISC is present and satisfies `cmp`.
    pub fn med(cmp: NumberMatch) -> Self {
        Condition::Med(cmp)
    }

    /// LOCAL_PREF is present and satisfies `cmp`.
    pub fn local_pref(cmp: NumberMatch) -> Self {
        Condition::LocalPref(cmp)
    }

    /// Every one of `conds` holds.
    pub fn all(conds: impl IntoIterator<Item = Condition>) -> Self {
        Condition::All(conds.into_iter().collect())
    }

    /// Some one of `conds` holds.
    pub fn any(conds: impl IntoIterator<Item = Condition>) -> Self {
        Condition::Any(conds.into_iter().collect())
    }

    /// `c` does not hold.
    #[allow(clippy::should_implement_trait, reason = "also offered as `!`")]
    pub fn not(c: Condition) -> Self {
        Condition::Not(Box::new(c))
    }

    /// `self` and `other` both hold (flattening nested `All`s).
    pub fn and(self, other: Condition) -> Self {
        match self {
            Condition::All(mut v) => {
                match other {
                    Condition::All(w) => v.extend(w),
                    o => v.push(o),
                }
                Condition::All(v)
            }
            s => match other {
                Condition::All(mut w) => {
                    w.insert(0, s);
                    Condition::All(w)
                }
                o => Condition::All(vec![s, o]),
            },
        }
    }

    /// `self` or `other` holds (flattening nested `Any`s).
    pub fn or(self, other: Condition) -> Self {
        match self {
            Condition::Any(mut v) => {
                match other {
                    Condition::Any(w) => v.extend(w),
                    o => v.push(o),
                }
                Condition::Any(v)
            }
            s => match other {
                Condition::Any(mut w) => {
                    w.insert(0, s);
                    Condition::Any(w)
                }
                o => Condition::Any(vec![s, o]),
            },
        }
    }

    /// Whether the condition holds for a route, on its own (in a policy,
    /// terms see the changes of the terms before them).
    pub fn holds(&self, route: &super::RouteView<'_>) -> bool {
        self.matches(&Subject {
            prefix: &route.prefix,
            attrs: route.attributes,
            next_hop: route.next_hop,
            peer: route.peer,
        })
    }

    /// Whether the condition holds for the route.
    pub(crate) fn matches(&self, r: &Subject<'_>) -> bool {
        let a = r.attrs;
        match self {
            Condition::Prefix(set) => set.contains(r.prefix),
            Condition::Family(f) => Family::of(r.prefix) == *f,
            Condition::AsPathContains(asns) => a
                .as_path
                .as_ref()
                .is_some_and(|p| as_path_match::contains_any(p, asns)),
            Condition::OriginAs(asns) => a
                .as_path
                .as_ref()
                .and_then(as_path_match::origin_as)
                .is_some_and(|x| asns.contains(&x)),
            Condition::NeighborAs(asns) => a
                .as_path
                .as_ref()
                .and_then(as_path_match::neighbor_as)
                .is_some_and(|x| asns.contains(&x)),
            Condition::AsPathLength(cmp) => {
                let len = a.as_path.as_ref().map_or(0, |p| p.len());
                cmp.matches(u32::try_from(len).unwrap_or(u32::MAX))
            }
            Condition::AsPathRegex(re) => re.is_match_opt(a.as_path.as_ref()),
            Condition::AsPathMask(m) => m.is_match_opt(a.as_path.as_ref()),
            Condition::Community(q, pats) => a
                .communities
                .as_ref()
                .is_some_and(|cs| q.test(pats, |m| cs.iter().any(|c| m.matches(c)))),
            Condition::ExtendedCommunity(q, pats) => a
                .extended_communities
                .as_ref()
                .is_some_and(|cs| q.test(pats, |m| cs.iter().any(|c| m.matches(c)))),
            Condition::LargeCommunity(q, pats) => a
                .large_communities
                .as_ref()
                .is_some_and(|cs| q.test(pats, |m| cs.iter().any(|c| m.matches(c)))),
            Condition::NextHop(set) => r.next_hop.is_some_and(|nh| set.contains(nh)),
            Condition::PeerKind(k) => r.peer.kind == *k,
            Condition::RrClient(is) => r.peer.rr_client == *is,
            Condition::PeerAs(asns) => asns.contains(&r.peer.asn),
            Condition::PeerAddress(set) => set.contains(r.peer.address),
            Condition::PeerRouterId(set) => set.contains(IpAddr::V4(r.peer.router_id)),
            Condition::Origin(o) => a.origin == Some(*o),
            Condition::Med(cmp) => a.multi_exit_disc.is_some_and(|v| cmp.matches(v)),
            Condition::LocalPref(cmp) => a.local_pref.is_some_and(|v| cmp.matches(v)),
            Condition::All(cs) => cs.iter().all(|c| c.matches(r)),
            Condition::Any(cs) => cs.iter().any(|c| c.matches(r)),
            Condition::Not(c) => !c.matches(r),
        }
    }
}

impl BitAnd for Condition {
    type Output = Condition;
    fn bitand(self, rhs: Condition) -> Condition {
        self.and(rhs)
    }
}

impl BitOr for Condition {
    type Output = Condition;
    fn bitor(self, rhs: Condition) -> Condition {
        self.or(rhs)
    }
}

impl Not for Condition {
    type Output = Condition;
    fn not(self) -> Condition {
        Condition::Not(Box::new(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgp_wire::attribute::{
        AsPath, Communities, Community, ExtendedCommunities, LargeCommunities, SegmentType,
    };
    use std::net::Ipv4Addr;

    use crate::policy::community_match::{parse_extended_community, parse_large_community};

    fn peer() -> Peer {
        Peer {
            kind: PeerKind::External,
            asn: 65001,
            address: "192.0.2.1".parse().unwrap(),
            router_id: Ipv4Addr::new(10, 0, 0, 1),
            local_as: 65000,
            rr_client: false,
        }
    }

    fn attrs() -> PathAttributes {
        PathAttributes {
            origin: Some(Origin::Igp),
            as_path: Some(AsPath::from_segments([
                (
                    SegmentType::AsSequence,
                    &[65001u32, 4_200_000_000, 65002][..],
                ),
                (SegmentType::AsSet, &[7, 8]),
            ])),
            next_hop: Some(Ipv4Addr::new(192, 0, 2, 1)),
            multi_exit_disc: Some(50),
            local_pref: Some(100),
            communities: Some(Communities::from_items(&[
                Community::new(65000, 100),
                Community::NO_EXPORT,
            ])),
            extended_communities: Some(ExtendedCommunities::from_items(&[
                parse_extended_community("rt:65000:1").unwrap(),
            ])),
            large_communities: Some(LargeCommunities::from_items(&[parse_large_community(
                "65000:1:2",
            )
            .unwrap()])),
            ..PathAttributes::default()
        }
    }

    fn check(c: &Condition, a: &PathAttributes, prefix: &str, p: &Peer) -> bool {
        let prefix: IpNet = prefix.parse().unwrap();
        c.matches(&Subject {
            prefix: &prefix,
            attrs: a,
            next_hop: a.next_hop.map(IpAddr::V4),
            peer: p,
        })
    }

    #[test]
    fn numbers() {
        for (t, v, want) in [
            ("100", 100, true),
            ("= 100", 99, false),
            ("==100", 100, true),
            ("!= 100", 99, true),
            ("< 100", 100, false),
            ("<= 100", 100, true),
            ("> 100", 101, true),
            (">= 100", 99, false),
            ("10..20", 20, true),
            ("10..20", 21, false),
            ("0", 0, true),
            ("4294967295", u32::MAX, true),
        ] {
            assert_eq!(
                t.parse::<NumberMatch>().unwrap().matches(v),
                want,
                "{t} {v}"
            );
        }
        for bad in ["", "x", "< -1", "20..10", "4294967296", "<> 1"] {
            assert!(bad.parse::<NumberMatch>().is_err(), "{bad}");
        }
        for n in [
            NumberMatch::Eq(1),
            NumberMatch::Ne(1),
            NumberMatch::Lt(1),
            NumberMatch::Le(1),
            NumberMatch::Gt(1),
            NumberMatch::Ge(1),
            NumberMatch::Range(1, 2),
        ] {
            assert_eq!(n.to_string().parse::<NumberMatch>().unwrap(), n);
        }
    }

    #[test]
    fn every_leaf() {
        let a = attrs();
        let p = peer();
        let set = |s: &[&str]| Arc::new(PrefixSet::parse(s).unwrap());
        let yes = [
            Condition::prefix_in(set(&["10.0.0.0/8+"])),
            Condition::family(Family::Ipv4),
            Condition::as_path_contains([8]),
            Condition::as_path_contains([1, 4_200_000_000]),
            Condition::neighbor_as([65001]),
            Condition::as_path_length(NumberMatch::Eq(4)),
            Condition::as_path_regex(AsPathRegex::new("^65001_4200000000_").unwrap()),
            Condition::as_path_mask("[= 65001 * 7 =]".parse().unwrap()),
            Condition::community_any(["65000:*".parse().unwrap()]),
            Condition::community_any(["no-export".parse().unwrap(), "1:1".parse().unwrap()]),
            Condition::community_all(["no-export".parse().unwrap(), "65000:100".parse().unwrap()]),
            Condition::extended_community_any(["rt:65000:*".parse().unwrap()]),
            Condition::extended_community_all(["rt:*:1".parse().unwrap()]),
            Condition::large_community_any(["65000:*:*".parse().unwrap()]),
            Condition::large_community_all(["65000:1:2".parse().unwrap()]),
            Condition::next_hop_in(["192.0.2.0/24".parse().unwrap()]),
            Condition::NextHop(AddressSet::parse(["192.0.2.1"]).unwrap()),
            Condition::peer_kind(PeerKind::External),
            Condition::rr_client(false),
            Condition::peer_as([65001]),
            Condition::peer_address(["192.0.2.1/32".parse().unwrap()]),
            Condition::PeerRouterId(AddressSet::parse(["10.0.0.0/8"]).unwrap()),
            Condition::origin(Origin::Igp),
            Condition::med(NumberMatch::Le(50)),
            Condition::local_pref(NumberMatch::Eq(100)),
            Condition::always(),
        ];
        for c in &yes {
            assert!(check(c, &a, "10.1.0.0/16", &p), "{c:?}");
            assert!(!check(&!c.clone(), &a, "10.1.0.0/16", &p), "not {c:?}");
        }
        let no = [
            Condition::prefix_in(set(&["10.0.0.0/8"])),
            Condition::family(Family::Ipv6),
            Condition::as_path_contains([9]),
            Condition::origin_as([8]),
            Condition::origin_as([65002]),
            Condition::neighbor_as([65002]),
            Condition::as_path_length(NumberMatch::Gt(4)),
            Condition::as_path_regex(AsPathRegex::new("^$").unwrap()),
            Condition::community_any(["65001:*".parse().unwrap()]),
            Condition::community_all(["no-export".parse().unwrap(), "1:1".parse().unwrap()]),
            Condition::community_any(["no-advertise".parse().unwrap()]),
            Condition::extended_community_any(["ro:65000:*".parse().unwrap()]),
            Condition::large_community_any(["65001:*:*".parse().unwrap()]),
            Condition::next_hop_in(["192.0.3.0/24".parse().unwrap()]),
            Condition::peer_kind(PeerKind::Internal),
            Condition::rr_client(true),
            Condition::peer_as([65002]),
            Condition::peer_address(["2001:db8::/32".parse().unwrap()]),
            Condition::origin(Origin::Incomplete),
            Condition::med(NumberMatch::Lt(50)),
            Condition::local_pref(NumberMatch::Ne(100)),
            Condition::any([]),
        ];
        for c in &no {
            assert!(!check(c, &a, "10.1.0.0/16", &p), "{c:?}");
        }
        // composition
        let t = Condition::always();
        let f = Condition::any([]);
        assert!(check(&(t.clone() & t.clone()), &a, "10.0.0.0/8", &p));
        assert!(!check(&(t.clone() & f.clone()), &a, "10.0.0.0/8", &p));
        assert!(check(&(f.clone() | t.clone()), &a, "10.0.0.0/8", &p));
        assert!(!check(&(f.clone() | f.clone()), &a, "10.0.0.0/8", &p));
        assert!(check(&Condition::not(f), &a, "10.0.0.0/8", &p));
    }

    #[test]
    fn empty_attributes() {
        let a = PathAttributes::default();
        let p = peer();
        // Nothing about a missing attribute matches, except the empty path.
        for c in [
            Condition::as_path_contains([65001]),
            Condition::origin_as([65001]),
            Condition::neighbor_as([65001]),
            Condition::community_any(["*:*".parse().unwrap()]),
            Condition::community_all(["*:*".parse().unwrap()]),
            Condition::extended_community_any(["rt:*:*".parse().unwrap()]),
            Condition::large_community_any(["*:*:*".parse().unwrap()]),
            Condition::next_hop_in(["0.0.0.0/0".parse().unwrap()]),
            Condition::origin(Origin::Igp),
            Condition::med(NumberMatch::Ge(0)),
            Condition::local_pref(NumberMatch::Ge(0)),
        ] {
            assert!(!check(&c, &a, "192.0.2.0/24", &p), "{c:?}");
        }
        for c in [
            Condition::as_path_length(NumberMatch::Eq(0)),
            Condition::as_path_regex(AsPathRegex::new("^$").unwrap()),
            Condition::as_path_mask("[= =]".parse().unwrap()),
            !Condition::med(NumberMatch::Ge(0)),
        ] {
            assert!(check(&c, &a, "192.0.2.0/24", &p), "{c:?}");
        }
    }

    #[test]
    fn ipv6_and_peer_types() {
        let a = PathAttributes::default();
        let mut p = peer();
        p.kind = PeerKind::Internal;
        p.rr_client = true;
        p.address = "2001:db8::1".parse().unwrap();
        let c = Condition::family(Family::Ipv6)
            & Condition::prefix_in(Arc::new(
                PrefixSet::parse(["2001:db8::/32{48,64}"]).unwrap(),
            ))
            & Condition::peer_kind(PeerKind::Internal)
            & Condition::rr_client(true)
            & Condition::peer_address(["2001:db8::/64".parse().unwrap()]);
        assert!(check(&c, &a, "2001:db8:1::/48", &p));
        assert!(!check(&c, &a, "2001:db8:1::/47", &p));
        assert!(!check(&c, &a, "2001:db8:1::/65", &p));
        assert!(!check(
            &Condition::peer_kind(PeerKind::ConfedExternal),
            &a,
            "::/0",
            &p
        ));
        let view = crate::policy::RouteView::new("2001:db8:1::/48".parse().unwrap(), &a, &p);
        assert!(c.holds(&view));
    }

    #[test]
    fn operators_flatten() {
        let x = || Condition::rr_client(true);
        assert_eq!(x() & x() & x(), Condition::All(vec![x(), x(), x()]));
        assert_eq!(x() | (x() | x()), Condition::Any(vec![x(), x(), x()]));
        assert_eq!(!x(), Condition::Not(Box::new(x())));
    }
}
