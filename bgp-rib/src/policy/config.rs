//! The serde form of policies ([`PolicyDocument`]), its validation and
//! compilation into the typed policies ([`PolicyDocument::compile`]), and
//! the way back ([`PolicyDocument::from_policies`]).
//!
//! The data keeps patterns and values as text (the forms of
//! [`super::prefix_match`], [`super::as_path_match`] and
//! [`super::community_match`]), so that a document deserializes whatever
//! its contents and [`PolicyDocument::compile`] can say exactly what is
//! wrong where: a [`ConfigError`] names the policy and term (by position
//! and name) and the field (`match.any[0].community_any[2]`). Unknown keys
//! and values of the wrong type are the deserializer's errors (TOML's
//! name the key and line).
//!
//! # Keys
//!
//! `match` (every key given must hold):
//!
//! | key | value | condition |
//! | --- | --- | --- |
//! | `family` | `"ipv4"`, `"ipv6"` | [`Condition::Family`] |
//! | `prefix` | list of prefix ranges | [`Condition::Prefix`] |
//! | `prefix_set` | a name from `[prefix_set]` | [`Condition::Prefix`] |
//! | `as_path` | regular expression | [`Condition::AsPathRegex`] |
//! | `as_path_mask` | path mask | [`Condition::AsPathMask`] |
//! | `as_path_contains` | AS or list | [`Condition::AsPathContains`] |
//! | `as_path_origin` | AS or list | [`Condition::OriginAs`] |
//! | `as_path_neighbor` | AS or list | [`Condition::NeighborAs`] |
//! | `as_path_length` | number or comparison | [`Condition::AsPathLength`] |
//! | `community_any`, `community_all` | list of patterns | [`Condition::Community`] |
//! | `extended_community_any`, `_all` | list of patterns | [`Condition::ExtendedCommunity`] |
//! | `large_community_any`, `_all` | list of patterns | [`Condition::LargeCommunity`] |
//! | `next_hop` | list of addresses and networks | [`Condition::NextHop`] |
//! | `peer_type` | `"ebgp"`, `"ibgp"`, `"confed-ebgp"` | [`Condition::PeerKind`] |
//! | `rr_client` | boolean | [`Condition::RrClient`] |
//! | `peer_as` | AS or list | [`Condition::PeerAs`] |
//! | `peer_address` | list of addresses and networks | [`Condition::PeerAddress`] |
//! | `peer_router_id` | list of IPv4 addresses and networks | [`Condition::PeerRouterId`] |
//! | `origin` | `"igp"`, `"egp"`, `"incomplete"` | [`Condition::Origin`] |
//! | `med`, `local_pref` | number or comparison | [`Condition::Med`], [`Condition::LocalPref`] |
//! | `all`, `any` | list of `match` tables | [`Condition::All`], [`Condition::Any`] |
//! | `not` | a `match` table | [`Condition::Not`] |
//!
//! `set`:
//!
//! | key | value |
//! | --- | --- |
//! | `local_pref`, `med` | `100` (set), `"+10"`, `"-10"`, `"remove"` |
//! | `origin` | `"igp"`, `"egp"`, `"incomplete"` |
//! | `community_add`, `community_remove`, `community_replace` | list of values (add, replace) or patterns (remove) |
//! | `community_clear` | boolean |
//! | `extended_community_…`, `large_community_…` | the same four |
//! | `as_path_prepend` | `{ count = N }` (own AS), `{ asn = A, count = N }`, `{ last_as = true, count = N }`; N from 1 to 64, 1 if left out |
//! | `next_hop` | `"self"`, `"unchanged"` or an address |
//!
//! `*_replace` is `*_clear` with `*_add` and cannot be given with either.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use bgp_wire::attribute::Origin;
use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::actions::{Actions, ListEdit, Modify, NextHopAction, Prepend, PrependAs};
use super::as_path_match::{AsPathMask, AsPathRegex};
use super::community_match::{self, CommunityMatcher, ExtCommunityMatcher, LargeCommunityMatcher};
use super::condition::{Condition, NumberMatch, Quantifier};
use super::prefix_match::{AddressSet, Family, PrefixRange, PrefixSet};
use super::{Chain, DefaultAction, Flow, ParseError, Policy, Term, Verdict};
use crate::peer::PeerKind;

/// A policy configuration: named prefix sets and policies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDocument {
    /// Prefix sets by name (`[prefix_set]`, each a list of prefix ranges).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prefix_set: BTreeMap<String, Vec<String>>,
    /// The policies (`[[policy]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy: Vec<PolicyConfig>,
}

/// One policy (`[[policy]]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// The name, unique in the document.
    pub name: String,
    /// What happens when no term ends the policy (`next-policy` if left
    /// out).
    #[serde(default, skip_serializing_if = "is_default")]
    pub default: DefaultAction,
    /// The terms (`[[policy.term]]`).
    #[serde(default, rename = "term", skip_serializing_if = "Vec::is_empty")]
    pub terms: Vec<TermConfig>,
}

/// One term (`[[policy.term]]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TermConfig {
    /// The name, unique in the policy if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What comes next when the conditions hold (`next-term` if left out).
    #[serde(default, skip_serializing_if = "is_default")]
    pub then: Flow,
    /// The conditions (`match`), all of which must hold; none: always.
    #[serde(
        default,
        rename = "match",
        skip_serializing_if = "MatchConfig::is_empty"
    )]
    pub matches: MatchConfig,
    /// The actions (`set`).
    #[serde(default, skip_serializing_if = "SetConfig::is_empty")]
    pub set: SetConfig,
}

/// The session types of the `peer_type` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PeerTypeName {
    /// External BGP.
    Ebgp,
    /// Internal BGP.
    Ibgp,
    /// External BGP between confederation members.
    ConfedEbgp,
}

impl From<PeerTypeName> for PeerKind {
    fn from(p: PeerTypeName) -> PeerKind {
        match p {
            PeerTypeName::Ebgp => PeerKind::External,
            PeerTypeName::Ibgp => PeerKind::Internal,
            PeerTypeName::ConfedEbgp => PeerKind::ConfedExternal,
        }
    }
}

impl From<PeerKind> for PeerTypeName {
    fn from(p: PeerKind) -> PeerTypeName {
        match p {
            PeerKind::External => PeerTypeName::Ebgp,
            PeerKind::Internal => PeerTypeName::Ibgp,
            PeerKind::ConfedExternal => PeerTypeName::ConfedEbgp,
        }
    }
}

/// ORIGIN values by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OriginName {
    /// IGP.
    Igp,
    /// EGP.
    Egp,
    /// INCOMPLETE.
    Incomplete,
}

impl From<OriginName> for Origin {
    fn from(o: OriginName) -> Origin {
        match o {
            OriginName::Igp => Origin::Igp,
            OriginName::Egp => Origin::Egp,
            OriginName::Incomplete => Origin::Incomplete,
        }
    }
}

impl From<Origin> for OriginName {
    fn from(o: Origin) -> OriginName {
        match o {
            Origin::Igp => OriginName::Igp,
            Origin::Egp => OriginName::Egp,
            Origin::Incomplete => OriginName::Incomplete,
        }
    }
}

/// A number, or text for what a number alone cannot say (`"<= 100"`,
/// `"+10"`, `"remove"`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NumberOrText {
    /// A number from 0 to 4294967295.
    Number(u32),
    /// Text.
    Text(String),
}

impl Serialize for NumberOrText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            NumberOrText::Number(n) => s.serialize_u32(*n),
            NumberOrText::Text(t) => s.serialize_str(t),
        }
    }
}

impl<'de> Deserialize<'de> for NumberOrText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = NumberOrText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number from 0 to 4294967295 or a text such as \"<= 100\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumberOrText, E> {
                u32::try_from(v)
                    .map(NumberOrText::Number)
                    .map_err(|_| E::custom(format!("{v} is not from 0 to 4294967295")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumberOrText, E> {
                u32::try_from(v)
                    .map(NumberOrText::Number)
                    .map_err(|_| E::custom(format!("{v} is not from 0 to 4294967295")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<NumberOrText, E> {
                Ok(NumberOrText::Text(v.to_owned()))
            }
        }
        d.deserialize_any(V)
    }
}

/// One AS number or a list of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AsList {
    /// One AS.
    One(u32),
    /// A list.
    Many(Vec<u32>),
}

impl AsList {
    fn to_vec(&self) -> Vec<u32> {
        match self {
            AsList::One(a) => vec![*a],
            AsList::Many(v) => v.clone(),
        }
    }

    fn from_slice(v: &[u32]) -> AsList {
        match v {
            [a] => AsList::One(*a),
            _ => AsList::Many(v.to_vec()),
        }
    }
}

impl Serialize for AsList {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AsList::One(a) => s.serialize_u32(*a),
            AsList::Many(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for AsList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AsList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an AS number (0 to 4294967295) or a list of them")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AsList, E> {
                u32::try_from(v)
                    .map(AsList::One)
                    .map_err(|_| E::custom(format!("{v} is not an AS number")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AsList, E> {
                u32::try_from(v)
                    .map(AsList::One)
                    .map_err(|_| E::custom(format!("{v} is not an AS number")))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<AsList, A::Error> {
                let mut v = Vec::new();
                while let Some(a) = seq.next_element::<u32>()? {
                    v.push(a);
                }
                Ok(AsList::Many(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// The conditions of a term (`match`; see the [module docs](self)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs, reason = "each field is described in the module's table")]
pub struct MatchConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<Family>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_set: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_path_mask: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_path_contains: Option<AsList>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_path_origin: Option<AsList>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_path_neighbor: Option<AsList>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_path_length: Option<NumberOrText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community_any: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community_all: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_community_any: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_community_all: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large_community_any: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large_community_all: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_hop: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_type: Option<PeerTypeName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rr_client: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_as: Option<AsList>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_address: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_router_id: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<OriginName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub med: Option<NumberOrText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_pref: Option<NumberOrText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<Vec<MatchConfig>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any: Option<Vec<MatchConfig>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not: Option<Box<MatchConfig>>,
}

impl MatchConfig {
    /// Whether no condition is given (the term always applies).
    pub fn is_empty(&self) -> bool {
        self == &MatchConfig::default()
    }
}

/// An AS_PATH prepend (`set.as_path_prepend`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrependConfig {
    /// How many times (1 to 64; 1 if left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// The AS to repeat; the session's own AS if left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asn: Option<u32>,
    /// Repeat the path's leftmost AS instead.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub last_as: bool,
}

/// The actions of a term (`set`; see the [module docs](self)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(missing_docs, reason = "each field is described in the module's table")]
pub struct SetConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_pref: Option<NumberOrText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub med: Option<NumberOrText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<OriginName>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub community_clear: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community_remove: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community_add: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community_replace: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub extended_community_clear: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_community_remove: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_community_add: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_community_replace: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub large_community_clear: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large_community_remove: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large_community_add: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub large_community_replace: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub as_path_prepend: Option<PrependConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_hop: Option<String>,
}

impl SetConfig {
    /// Whether no action is given.
    pub fn is_empty(&self) -> bool {
        self == &SetConfig::default()
    }
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    v == &T::default()
}

/// A validation error: where (`policy "p" term 2 "t"`, `prefix_set
/// "bogons"`, `chain`), which field (`match.prefix[3]`), and what is
/// wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {field}: {message}")]
pub struct ConfigError {
    /// The policy and term, the prefix set, or the chain.
    pub location: String,
    /// The field, as a path of keys and list indices.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// An error in one field, before its location is known.
struct FieldError {
    field: String,
    message: String,
}

impl FieldError {
    fn new(field: impl Into<String>, message: impl fmt::Display) -> Self {
        FieldError {
            field: field.into(),
            message: message.to_string(),
        }
    }

    fn at(self, location: &str) -> ConfigError {
        ConfigError {
            location: location.to_owned(),
            field: self.field,
            message: self.message,
        }
    }
}

type FieldResult<T> = Result<T, FieldError>;

/// `prefix.key`, or `key` at the top.
fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_owned()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Parses each item of a non-empty list, naming the index of a bad one.
fn each<T>(
    field: &str,
    items: &[String],
    parse: impl Fn(&str) -> Result<T, ParseError>,
) -> FieldResult<Vec<T>> {
    if items.is_empty() {
        return Err(FieldError::new(
            field,
            "an empty list (give at least one item or leave the key out)",
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, t)| parse(t).map_err(|e| FieldError::new(format!("{field}[{i}]"), e)))
        .collect()
}

fn non_empty_ases(field: &str, l: &AsList) -> FieldResult<Vec<u32>> {
    let v = l.to_vec();
    if v.is_empty() {
        return Err(FieldError::new(field, "an empty list of AS numbers"));
    }
    Ok(v)
}

fn number_match(field: &str, v: &NumberOrText) -> FieldResult<NumberMatch> {
    match v {
        NumberOrText::Number(n) => Ok(NumberMatch::Eq(*n)),
        NumberOrText::Text(t) => t.parse().map_err(|e| FieldError::new(field, e)),
    }
}

fn address_set(field: &str, items: &[String], v4_only: bool) -> FieldResult<AddressSet> {
    let nets = each(field, items, |t| AddressSet::parse([t]))?;
    let mut all = Vec::new();
    for (i, s) in nets.iter().enumerate() {
        for n in s.networks() {
            if v4_only && !matches!(n.addr(), IpAddr::V4(_)) {
                return Err(FieldError::new(
                    format!("{field}[{i}]"),
                    "a BGP identifier is an IPv4 address",
                ));
            }
            all.push(n);
        }
    }
    Ok(AddressSet::new(all))
}

/// Compiles a `match` table at `at` (`match`, `match.any[0]`, ...).
fn compile_match(
    m: &MatchConfig,
    at: &str,
    sets: &BTreeMap<String, Arc<PrefixSet>>,
) -> FieldResult<Condition> {
    let f = |k: &str| join(at, k);
    let mut c: Vec<Condition> = Vec::new();
    if let Some(fam) = m.family {
        c.push(Condition::Family(fam));
    }
    if let Some(p) = &m.prefix {
        let ranges = each(&f("prefix"), p, |t| t.parse::<PrefixRange>())?;
        c.push(Condition::Prefix(Arc::new(ranges.into_iter().collect())));
    }
    if let Some(name) = &m.prefix_set {
        let set = sets.get(name).ok_or_else(|| {
            let known: Vec<&str> = sets.keys().map(String::as_str).collect();
            FieldError::new(
                f("prefix_set"),
                format!("no prefix set {name:?} (defined: {})", known.join(", ")),
            )
        })?;
        c.push(Condition::Prefix(set.clone()));
    }
    if let Some(re) = &m.as_path {
        c.push(Condition::AsPathRegex(
            AsPathRegex::new(re).map_err(|e| FieldError::new(f("as_path"), e))?,
        ));
    }
    if let Some(mask) = &m.as_path_mask {
        c.push(Condition::AsPathMask(
            mask.parse::<AsPathMask>()
                .map_err(|e| FieldError::new(f("as_path_mask"), e))?,
        ));
    }
    if let Some(l) = &m.as_path_contains {
        c.push(Condition::AsPathContains(non_empty_ases(
            &f("as_path_contains"),
            l,
        )?));
    }
    if let Some(l) = &m.as_path_origin {
        c.push(Condition::OriginAs(non_empty_ases(
            &f("as_path_origin"),
            l,
        )?));
    }
    if let Some(l) = &m.as_path_neighbor {
        c.push(Condition::NeighborAs(non_empty_ases(
            &f("as_path_neighbor"),
            l,
        )?));
    }
    if let Some(n) = &m.as_path_length {
        c.push(Condition::AsPathLength(number_match(
            &f("as_path_length"),
            n,
        )?));
    }
    for (key, q, v) in [
        ("community_any", Quantifier::Any, &m.community_any),
        ("community_all", Quantifier::All, &m.community_all),
    ] {
        if let Some(v) = v {
            c.push(Condition::Community(
                q,
                each(&f(key), v, |t| t.parse::<CommunityMatcher>())?,
            ));
        }
    }
    for (key, q, v) in [
        (
            "extended_community_any",
            Quantifier::Any,
            &m.extended_community_any,
        ),
        (
            "extended_community_all",
            Quantifier::All,
            &m.extended_community_all,
        ),
    ] {
        if let Some(v) = v {
            c.push(Condition::ExtendedCommunity(
                q,
                each(&f(key), v, |t| t.parse::<ExtCommunityMatcher>())?,
            ));
        }
    }
    for (key, q, v) in [
        (
            "large_community_any",
            Quantifier::Any,
            &m.large_community_any,
        ),
        (
            "large_community_all",
            Quantifier::All,
            &m.large_community_all,
        ),
    ] {
        if let Some(v) = v {
            c.push(Condition::LargeCommunity(
                q,
                each(&f(key), v, |t| t.parse::<LargeCommunityMatcher>())?,
            ));
        }
    }
    if let Some(v) = &m.next_hop {
        c.push(Condition::NextHop(address_set(&f("next_hop"), v, false)?));
    }
    if let Some(p) = m.peer_type {
        c.push(Condition::PeerKind(p.into()));
    }
    if let Some(b) = m.rr_client {
        c.push(Condition::RrClient(b));
    }
    if let Some(l) = &m.peer_as {
        c.push(Condition::PeerAs(non_empty_ases(&f("peer_as"), l)?));
    }
    if let Some(v) = &m.peer_address {
        c.push(Condition::PeerAddress(address_set(
            &f("peer_address"),
            v,
            false,
        )?));
    }
    if let Some(v) = &m.peer_router_id {
        c.push(Condition::PeerRouterId(address_set(
            &f("peer_router_id"),
            v,
            true,
        )?));
    }
    if let Some(o) = m.origin {
        c.push(Condition::Origin(o.into()));
    }
    if let Some(n) = &m.med {
        c.push(Condition::Med(number_match(&f("med"), n)?));
    }
    if let Some(n) = &m.local_pref {
        c.push(Condition::LocalPref(number_match(&f("local_pref"), n)?));
    }
    let sub = |key: &str, list: &[MatchConfig]| -> FieldResult<Vec<Condition>> {
        list.iter()
            .enumerate()
            .map(|(i, x)| compile_match(x, &format!("{}[{i}]", f(key)), sets))
            .collect()
    };
    // `all` stays one nested `All` so that the way back gives `all` again.
    let mut nested_all = false;
    if let Some(list) = &m.all {
        c.push(Condition::All(sub("all", list)?));
        nested_all = true;
    }
    if let Some(list) = &m.any {
        c.push(Condition::Any(sub("any", list)?));
    }
    if let Some(x) = &m.not {
        c.push(Condition::Not(Box::new(compile_match(x, &f("not"), sets)?)));
    }
    if c.len() == 1 && !nested_all {
        if let Some(one) = c.pop() {
            return Ok(one);
        }
    }
    Ok(Condition::All(c))
}

fn modify(field: &str, v: &NumberOrText) -> FieldResult<Modify> {
    let t = match v {
        NumberOrText::Number(n) => return Ok(Modify::Set(*n)),
        NumberOrText::Text(t) => t.trim(),
    };
    let num = |s: &str| {
        super::digits(s).ok_or_else(|| {
            FieldError::new(
                field,
                format!("{t:?}: expected a number, \"+N\", \"-N\" or \"remove\""),
            )
        })
    };
    if t == "remove" {
        Ok(Modify::Remove)
    } else if let Some(r) = t.strip_prefix('+') {
        Ok(Modify::Add(num(r)?))
    } else if let Some(r) = t.strip_prefix('-') {
        Ok(Modify::Subtract(num(r)?))
    } else {
        Ok(Modify::Set(num(t)?))
    }
}

fn modify_back(m: Modify) -> NumberOrText {
    match m {
        Modify::Set(v) => NumberOrText::Number(v),
        Modify::Add(v) => NumberOrText::Text(format!("+{v}")),
        Modify::Subtract(v) => NumberOrText::Text(format!("-{v}")),
        Modify::Remove => NumberOrText::Text("remove".into()),
    }
}

/// The four keys of one community kind.
struct ListKeys<'a> {
    kind: &'static str,
    clear: bool,
    remove: &'a Option<Vec<String>>,
    add: &'a Option<Vec<String>>,
    replace: &'a Option<Vec<String>>,
}

fn list_edit<V, M>(
    k: ListKeys<'_>,
    value: impl Fn(&str) -> Result<V, ParseError>,
    pattern: impl Fn(&str) -> Result<M, ParseError>,
) -> FieldResult<ListEdit<V, M>> {
    let key = |op: &str| format!("set.{}_{op}", k.kind);
    let mut e = ListEdit {
        clear: k.clear,
        remove: Vec::new(),
        add: Vec::new(),
    };
    if let Some(r) = k.remove {
        e.remove = each(&key("remove"), r, &pattern)?;
    }
    if let Some(a) = k.add {
        e.add = each(&key("add"), a, &value)?;
    }
    if let Some(r) = k.replace {
        if k.clear || k.add.is_some() {
            return Err(FieldError::new(
                key("replace"),
                format!(
                    "cannot be given with {} or {} (replace is clear and add)",
                    key("clear"),
                    key("add")
                ),
            ));
        }
        e.clear = true;
        // An empty replacement is a clear.
        e.add = r
            .iter()
            .enumerate()
            .map(|(i, t)| {
                value(t).map_err(|x| FieldError::new(format!("{}[{i}]", key("replace")), x))
            })
            .collect::<FieldResult<_>>()?;
    }
    Ok(e)
}

fn compile_set(s: &SetConfig) -> FieldResult<Actions> {
    let mut a = Actions::new();
    if let Some(v) = &s.local_pref {
        a.local_pref = Some(modify("set.local_pref", v)?);
    }
    if let Some(v) = &s.med {
        a.med = Some(modify("set.med", v)?);
    }
    a.origin = s.origin.map(Origin::from);
    a.communities = list_edit(
        ListKeys {
            kind: "community",
            clear: s.community_clear,
            remove: &s.community_remove,
            add: &s.community_add,
            replace: &s.community_replace,
        },
        community_match::parse_community,
        |t| t.parse::<CommunityMatcher>(),
    )?;
    a.extended_communities = list_edit(
        ListKeys {
            kind: "extended_community",
            clear: s.extended_community_clear,
            remove: &s.extended_community_remove,
            add: &s.extended_community_add,
            replace: &s.extended_community_replace,
        },
        community_match::parse_extended_community,
        |t| t.parse::<ExtCommunityMatcher>(),
    )?;
    a.large_communities = list_edit(
        ListKeys {
            kind: "large_community",
            clear: s.large_community_clear,
            remove: &s.large_community_remove,
            add: &s.large_community_add,
            replace: &s.large_community_replace,
        },
        community_match::parse_large_community,
        |t| t.parse::<LargeCommunityMatcher>(),
    )?;
    if let Some(p) = &s.as_path_prepend {
        let count = p.count.unwrap_or(1);
        let count = u8::try_from(count)
            .ok()
            .filter(|c| (1..=64).contains(c))
            .ok_or_else(|| {
                FieldError::new(
                    "set.as_path_prepend.count",
                    format!("{count} is not from 1 to 64"),
                )
            })?;
        let asn = match (p.asn, p.last_as) {
            (Some(_), true) => {
                return Err(FieldError::new(
                    "set.as_path_prepend",
                    "give asn or last_as = true, not both",
                ));
            }
            (Some(x), false) => PrependAs::Asn(x),
            (None, true) => PrependAs::LastAs,
            (None, false) => PrependAs::Own,
        };
        a.prepend = Some(Prepend { asn, count });
    }
    if let Some(nh) = &s.next_hop {
        a.next_hop = Some(match nh.trim() {
            "self" => NextHopAction::SelfAddress,
            "unchanged" | "keep" => NextHopAction::Unchanged,
            t => NextHopAction::Address(t.parse().map_err(|_| {
                FieldError::new(
                    "set.next_hop",
                    format!("{t:?}: expected \"self\", \"unchanged\" or an address"),
                )
            })?),
        });
    }
    Ok(a)
}

/// The compiled policies of a [`PolicyDocument`].
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    prefix_sets: BTreeMap<String, Arc<PrefixSet>>,
    policies: Vec<Arc<Policy>>,
}

impl PolicySet {
    /// The policy with this name.
    pub fn get(&self, name: &str) -> Option<&Arc<Policy>> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// The policies, in document order.
    pub fn policies(&self) -> &[Arc<Policy>] {
        &self.policies
    }

    /// The prefix set with this name.
    pub fn prefix_set(&self, name: &str) -> Option<&Arc<PrefixSet>> {
        self.prefix_sets.get(name)
    }

    /// A chain of the named policies, in the order given, with the verdict
    /// for routes that fall through them all.
    pub fn chain<S: AsRef<str>>(
        &self,
        names: impl IntoIterator<Item = S>,
        otherwise: Verdict,
    ) -> Result<Chain, ConfigError> {
        let mut v = Vec::new();
        for (i, n) in names.into_iter().enumerate() {
            let n = n.as_ref();
            let p = self.get(n).ok_or_else(|| ConfigError {
                location: "chain".into(),
                field: format!("[{i}]"),
                message: format!("no policy {n:?}"),
            })?;
            v.push(p.clone());
        }
        Ok(Chain::new(v).otherwise(otherwise))
    }
}

/// `policy "p" term 2 "t"` (1-based), for errors.
fn term_location(policy: &str, index: usize, name: Option<&str>) -> String {
    match name {
        Some(n) if !n.is_empty() => format!("policy {policy:?} term {} {n:?}", index + 1),
        _ => format!("policy {policy:?} term {}", index + 1),
    }
}

impl PolicyDocument {
    /// Validates the document and builds its prefix sets and policies.
    pub fn compile(&self) -> Result<PolicySet, ConfigError> {
        let mut sets = BTreeMap::new();
        for (name, entries) in &self.prefix_set {
            let location = format!("prefix_set {name:?}");
            let mut set = PrefixSet::new().named(name.clone());
            for (i, e) in entries.iter().enumerate() {
                let r = e
                    .parse::<PrefixRange>()
                    .map_err(|x| FieldError::new(format!("[{i}]"), x).at(&location))?;
                set.insert(r);
            }
            sets.insert(name.clone(), Arc::new(set));
        }
        let mut policies: Vec<Arc<Policy>> = Vec::new();
        for (pi, p) in self.policy.iter().enumerate() {
            if p.name.is_empty() {
                return Err(FieldError::new("name", "a policy needs a name")
                    .at(&format!("policy {}", pi + 1)));
            }
            let location = format!("policy {:?}", p.name);
            if policies.iter().any(|q| q.name == p.name) {
                return Err(FieldError::new("name", "another policy has this name").at(&location));
            }
            let mut names = BTreeSet::new();
            let mut terms = Vec::new();
            for (ti, t) in p.terms.iter().enumerate() {
                let location = term_location(&p.name, ti, t.name.as_deref());
                if let Some(n) = t.name.as_deref().filter(|n| !n.is_empty()) {
                    if !names.insert(n) {
                        return Err(FieldError::new(
                            "name",
                            "another term of the policy has this name",
                        )
                        .at(&location));
                    }
                }
                let condition =
                    compile_match(&t.matches, "match", &sets).map_err(|e| e.at(&location))?;
                let actions = compile_set(&t.set).map_err(|e| e.at(&location))?;
                terms.push(Term {
                    name: t.name.clone().unwrap_or_default(),
                    condition,
                    actions,
                    then: t.then,
                });
            }
            policies.push(Arc::new(Policy {
                name: p.name.clone(),
                terms,
                default: p.default,
            }));
        }
        Ok(PolicySet {
            prefix_sets: sets,
            policies,
        })
    }

    /// The document of typed policies: named prefix sets become
    /// `[prefix_set]` entries referred to by name, unnamed ones inline
    /// `prefix` lists. Fails when two different sets share a name.
    pub fn from_policies<'p>(
        policies: impl IntoIterator<Item = &'p Policy>,
    ) -> Result<Self, ConfigError> {
        let mut doc = PolicyDocument::default();
        let mut named: BTreeMap<String, Arc<PrefixSet>> = BTreeMap::new();
        for p in policies {
            let mut terms = Vec::new();
            for (ti, t) in p.terms.iter().enumerate() {
                let location = term_location(&p.name, ti, Some(&t.name));
                let mut back = Back {
                    sets: &mut named,
                    location: &location,
                };
                terms.push(TermConfig {
                    name: (!t.name.is_empty()).then(|| t.name.clone()),
                    then: t.then,
                    matches: back.condition(&t.condition)?,
                    set: set_back(&t.actions),
                });
            }
            doc.policy.push(PolicyConfig {
                name: p.name.clone(),
                default: p.default,
                terms,
            });
        }
        doc.prefix_set = named
            .into_iter()
            .map(|(n, s)| (n, s.entries().iter().map(ToString::to_string).collect()))
            .collect();
        Ok(doc)
    }
}

/// The way back from conditions to `match` tables.
struct Back<'s> {
    sets: &'s mut BTreeMap<String, Arc<PrefixSet>>,
    location: &'s str,
}

fn strings<T: ToString>(v: &[T]) -> Vec<String> {
    v.iter().map(ToString::to_string).collect()
}

fn number_back(n: NumberMatch) -> NumberOrText {
    match n {
        NumberMatch::Eq(v) => NumberOrText::Number(v),
        other => NumberOrText::Text(other.to_string()),
    }
}

impl Back<'_> {
    fn condition(&mut self, c: &Condition) -> Result<MatchConfig, ConfigError> {
        let mut m = MatchConfig::default();
        match c {
            Condition::All(children) => {
                for ch in children {
                    self.put(&mut m, ch)?;
                }
            }
            other => self.put(&mut m, other)?,
        }
        Ok(m)
    }

    /// Puts one condition into its key of `m`, or into `m.all` when the
    /// key is taken.
    fn put(&mut self, m: &mut MatchConfig, c: &Condition) -> Result<(), ConfigError> {
        fn slot<T>(s: &mut Option<T>, v: T) -> Option<T> {
            if s.is_some() {
                Some(v)
            } else {
                *s = Some(v);
                None
            }
        }
        let taken = match c {
            Condition::Family(f) => slot(&mut m.family, *f).is_some(),
            Condition::Prefix(set) => match set.name() {
                Some(n) => {
                    if let Some(old) = self.sets.get(n) {
                        if old != set {
                            return Err(ConfigError {
                                location: self.location.to_owned(),
                                field: "match.prefix_set".into(),
                                message: format!("two different prefix sets are named {n:?}"),
                            });
                        }
                    }
                    self.sets.insert(n.to_owned(), set.clone());
                    slot(&mut m.prefix_set, n.to_owned()).is_some()
                }
                None => slot(&mut m.prefix, strings(set.entries())).is_some(),
            },
            Condition::AsPathRegex(r) => slot(&mut m.as_path, r.to_string()).is_some(),
            Condition::AsPathMask(x) => slot(&mut m.as_path_mask, x.to_string()).is_some(),
            Condition::AsPathContains(v) => {
                slot(&mut m.as_path_contains, AsList::from_slice(v)).is_some()
            }
            Condition::OriginAs(v) => slot(&mut m.as_path_origin, AsList::from_slice(v)).is_some(),
            Condition::NeighborAs(v) => {
                slot(&mut m.as_path_neighbor, AsList::from_slice(v)).is_some()
            }
            Condition::AsPathLength(n) => slot(&mut m.as_path_length, number_back(*n)).is_some(),
            Condition::Community(q, v) => {
                let key = match q {
                    Quantifier::Any => &mut m.community_any,
                    Quantifier::All => &mut m.community_all,
                };
                slot(key, strings(v)).is_some()
            }
            Condition::ExtendedCommunity(q, v) => {
                let key = match q {
                    Quantifier::Any => &mut m.extended_community_any,
                    Quantifier::All => &mut m.extended_community_all,
                };
                slot(key, strings(v)).is_some()
            }
            Condition::LargeCommunity(q, v) => {
                let key = match q {
                    Quantifier::Any => &mut m.large_community_any,
                    Quantifier::All => &mut m.large_community_all,
                };
                slot(key, strings(v)).is_some()
            }
            Condition::NextHop(s) => slot(&mut m.next_hop, s.to_strings()).is_some(),
            Condition::PeerKind(k) => slot(&mut m.peer_type, (*k).into()).is_some(),
            Condition::RrClient(b) => slot(&mut m.rr_client, *b).is_some(),
            Condition::PeerAs(v) => slot(&mut m.peer_as, AsList::from_slice(v)).is_some(),
            Condition::PeerAddress(s) => slot(&mut m.peer_address, s.to_strings()).is_some(),
            Condition::PeerRouterId(s) => slot(&mut m.peer_router_id, s.to_strings()).is_some(),
            Condition::Origin(o) => slot(&mut m.origin, (*o).into()).is_some(),
            Condition::Med(n) => slot(&mut m.med, number_back(*n)).is_some(),
            Condition::LocalPref(n) => slot(&mut m.local_pref, number_back(*n)).is_some(),
            Condition::All(v) => {
                if m.all.is_none() {
                    let list = v
                        .iter()
                        .map(|x| self.condition(x))
                        .collect::<Result<_, _>>()?;
                    m.all = Some(list);
                    false
                } else {
                    true
                }
            }
            Condition::Any(v) => {
                if m.any.is_none() {
                    let list = v
                        .iter()
                        .map(|x| self.condition(x))
                        .collect::<Result<_, _>>()?;
                    m.any = Some(list);
                    false
                } else {
                    true
                }
            }
            Condition::Not(x) => {
                if m.not.is_none() {
                    m.not = Some(Box::new(self.condition(x)?));
                    false
                } else {
                    true
                }
            }
        };
        if taken {
            let sub = self.condition(c)?;
            m.all.get_or_insert_with(Vec::new).push(sub);
        }
        Ok(())
    }
}

fn set_back(a: &Actions) -> SetConfig {
    let list = |v: &[String]| (!v.is_empty()).then(|| v.to_vec());
    let std_add: Vec<String> = a
        .communities
        .add
        .iter()
        .map(|c| community_match::community_text(*c))
        .collect();
    let ext_add: Vec<String> = a
        .extended_communities
        .add
        .iter()
        .map(|c| community_match::extended_community_text(*c))
        .collect();
    let large_add: Vec<String> = strings(&a.large_communities.add);
    SetConfig {
        local_pref: a.local_pref.map(modify_back),
        med: a.med.map(modify_back),
        origin: a.origin.map(OriginName::from),
        community_clear: a.communities.clear,
        community_remove: list(&strings(&a.communities.remove)),
        community_add: list(&std_add),
        community_replace: None,
        extended_community_clear: a.extended_communities.clear,
        extended_community_remove: list(&strings(&a.extended_communities.remove)),
        extended_community_add: list(&ext_add),
        extended_community_replace: None,
        large_community_clear: a.large_communities.clear,
        large_community_remove: list(&strings(&a.large_communities.remove)),
        large_community_add: list(&large_add),
        large_community_replace: None,
        as_path_prepend: a.prepend.map(|p| PrependConfig {
            count: Some(u32::from(p.count)),
            asn: match p.asn {
                PrependAs::Asn(x) => Some(x),
                _ => None,
            },
            last_as: p.asn == PrependAs::LastAs,
        }),
        next_hop: a.next_hop.map(|n| match n {
            NextHopAction::SelfAddress => "self".to_owned(),
            NextHopAction::Unchanged => "unchanged".to_owned(),
            NextHopAction::Address(x) => x.to_string(),
        }),
    }
}
