//! Prefix conditions: a prefix with a range of lengths ([`PrefixRange`]),
//! sets of them held in a binary trie ([`PrefixSet`]), and sets of
//! addresses and networks for next-hop and peer conditions
//! ([`AddressSet`]).
//!
//! # Text form
//!
//! The primary syntax is BIRD's; FRR's `ge`/`le` is accepted too:
//!
//! | text | matches |
//! | --- | --- |
//! | `10.0.0.0/8` | exactly 10.0.0.0/8 |
//! | `10.0.0.0/8+` | 10.0.0.0/8 and every longer prefix under it (or-longer) |
//! | `10.0.0.0/8{16,24}` | prefixes under 10.0.0.0/8 of length 16 to 24 |
//! | `10.0.0.0/8 ge 16 le 24` | the same (FRR) |
//! | `10.0.0.0/8 ge 16` | lengths 16 to 32 |
//! | `10.0.0.0/8 le 24` | lengths 8 to 24 |
//! | `10.0.0.0/8 or-longer` | the same as `10.0.0.0/8+` |
//!
//! A range never starts below the prefix's own length (a shorter prefix
//! cannot lie under it), and the prefix must have no bits set past its
//! length (`10.0.0.1/8` is refused as a likely typing error).
//!
//! # Look-up cost
//!
//! A [`PrefixSet`] keeps one path-compressed binary trie per family; every
//! trie node holds the set of lengths (a 129-bit mask) its entries accept.
//! Matching a route's prefix walks from the root along the prefix's bits,
//! visiting only the nodes that are prefixes of it: at most 33 (IPv4) or
//! 129 (IPv6) nodes whatever the number of entries. In a large set those
//! visits are cache misses, so an IPv4 trie of more than 4,096 nodes also
//! gets a table indexed by the first 16 bits (512 KiB, built on the first
//! look-up after a change) that starts a look-up of a /16 or longer past
//! them.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::OnceLock;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use super::ParseError;

/// An address family, for the `family` condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// IPv4.
    Ipv4,
    /// IPv6.
    Ipv6,
}

impl Family {
    /// The family of a prefix.
    pub fn of(prefix: &IpNet) -> Family {
        match prefix {
            IpNet::V4(_) => Family::Ipv4,
            IpNet::V6(_) => Family::Ipv6,
        }
    }

    /// The longest prefix length of the family: 32 or 128.
    pub const fn max_len(self) -> u8 {
        match self {
            Family::Ipv4 => 32,
            Family::Ipv6 => 128,
        }
    }
}

/// A prefix and the range of lengths accepted under it: a prefix of a
/// route matches when it lies under [`PrefixRange::prefix`] and its length
/// is between [`PrefixRange::min_len`] and [`PrefixRange::max_len`]
/// inclusive.
///
/// ```
/// use bgp_rib::policy::PrefixRange;
///
/// let r: PrefixRange = "10.0.0.0/8{16,24}".parse().unwrap();
/// assert!(r.matches(&"10.1.0.0/16".parse().unwrap()));
/// assert!(!r.matches(&"10.0.0.0/8".parse().unwrap()));
/// assert_eq!(r, "10.0.0.0/8 ge 16 le 24".parse().unwrap());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PrefixRange {
    prefix: IpNet,
    min: u8,
    max: u8,
}

impl PrefixRange {
    /// Exactly `prefix` (host bits are cleared).
    pub fn exact(prefix: IpNet) -> Self {
        let len = prefix.prefix_len();
        PrefixRange {
            prefix: prefix.trunc(),
            min: len,
            max: len,
        }
    }

    /// `prefix` and every longer prefix under it (host bits are cleared).
    pub fn or_longer(prefix: IpNet) -> Self {
        PrefixRange {
            prefix: prefix.trunc(),
            min: prefix.prefix_len(),
            max: prefix.max_prefix_len(),
        }
    }

    /// Prefixes under `prefix` with a length from `min` to `max`; host bits
    /// of `prefix` are cleared. Fails unless `len ≤ min ≤ max ≤ 32` (or
    /// 128).
    pub fn new(prefix: IpNet, min: u8, max: u8) -> Result<Self, ParseError> {
        let err = |reason: String| ParseError::new("prefix range", prefix.to_string(), reason);
        let len = prefix.prefix_len();
        let top = prefix.max_prefix_len();
        if min < len {
            return Err(err(format!(
                "the shortest length {min} is below the prefix's own length {len}"
            )));
        }
        if max > top {
            return Err(err(format!("the longest length {max} exceeds {top}")));
        }
        if min > max {
            return Err(err(format!(
                "the shortest length {min} exceeds the longest {max}"
            )));
        }
        Ok(PrefixRange {
            prefix: prefix.trunc(),
            min,
            max,
        })
    }

    /// The prefix.
    pub fn prefix(&self) -> IpNet {
        self.prefix
    }

    /// The shortest length accepted.
    pub fn min_len(&self) -> u8 {
        self.min
    }

    /// The longest length accepted.
    pub fn max_len(&self) -> u8 {
        self.max
    }

    /// Whether `p` lies under the prefix with an accepted length.
    pub fn matches(&self, p: &IpNet) -> bool {
        let len = p.prefix_len();
        (self.min..=self.max).contains(&len)
            && Family::of(p) == Family::of(&self.prefix)
            && self.prefix.contains(&p.network())
    }
}

impl fmt::Display for PrefixRange {
    /// `P`, `P+` or `P{min,max}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.prefix.prefix_len();
        let top = self.prefix.max_prefix_len();
        write!(f, "{}", self.prefix)?;
        if self.min == len && self.max == len {
            Ok(())
        } else if self.min == len && self.max == top {
            f.write_str("+")
        } else {
            write!(f, "{{{},{}}}", self.min, self.max)
        }
    }
}

/// Parses a prefix that must have no host bits set.
fn parse_net(text: &str, whole: &str) -> Result<IpNet, ParseError> {
    let err = |reason: &str| ParseError::new("prefix range", whole, reason);
    let net: IpNet = text
        .parse()
        .map_err(|_| err("not an address/length prefix"))?;
    if net.trunc() != net {
        return Err(err(&format!(
            "bits are set past the length (did you mean {}?)",
            net.trunc()
        )));
    }
    Ok(net)
}

fn parse_len(text: &str, whole: &str) -> Result<u8, ParseError> {
    super::digits(text)
        .ok_or_else(|| ParseError::new("prefix range", whole, format!("bad length {text:?}")))
}

impl FromStr for PrefixRange {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let t = s.trim();
        let err = |reason: &str| ParseError::new("prefix range", s, reason);
        if let Some(base) = t.strip_suffix('+') {
            return Ok(PrefixRange::or_longer(parse_net(base.trim(), s)?));
        }
        if let Some(base) = t.strip_suffix("or-longer") {
            return Ok(PrefixRange::or_longer(parse_net(base.trim(), s)?));
        }
        if let Some((base, range)) = t.split_once('{') {
            let range = range
                .strip_suffix('}')
                .ok_or_else(|| err("a length range is written {min,max}"))?;
            let (lo, hi) = range
                .split_once(',')
                .ok_or_else(|| err("a length range is written {min,max}"))?;
            let net = parse_net(base.trim(), s)?;
            return PrefixRange::new(net, parse_len(lo, s)?, parse_len(hi, s)?);
        }
        let mut words = t.split_whitespace();
        let net = parse_net(words.next().unwrap_or_default(), s)?;
        let (mut ge, mut le) = (None, None);
        while let Some(w) = words.next() {
            let slot = match w {
                "ge" => &mut ge,
                "le" => &mut le,
                _ => return Err(err(&format!("unexpected {w:?} (expected ge or le)"))),
            };
            if slot.is_some() {
                return Err(err(&format!("{w} given twice")));
            }
            let v = words
                .next()
                .ok_or_else(|| err(&format!("{w} needs a length")))?;
            *slot = Some(parse_len(v, s)?);
        }
        match (ge, le) {
            (None, None) => Ok(PrefixRange::exact(net)),
            (ge, le) => PrefixRange::new(
                net,
                ge.unwrap_or(net.prefix_len()),
                le.unwrap_or(net.max_prefix_len()),
            ),
        }
    }
}

/// A set of prefix lengths 0 to 128.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct LenMask([u64; 3]);

impl LenMask {
    fn add_range(&mut self, lo: u8, hi: u8) {
        for l in lo..=hi {
            if let Some(w) = self.0.get_mut(usize::from(l / 64)) {
                *w |= 1 << (l % 64);
            }
        }
    }

    fn has(self, len: u8) -> bool {
        self.0
            .get(usize::from(len / 64))
            .is_some_and(|w| (w >> (len % 64)) & 1 == 1)
    }
}

/// No child.
const NONE: u32 = u32::MAX;

/// A trie node: the prefix `key/len` (key left-aligned in 128 bits), the
/// lengths accepted by the entries on exactly this prefix, and the two
/// children by the bit after `len`.
#[derive(Debug, Clone)]
struct Node {
    key: u128,
    len: u8,
    lens: LenMask,
    child: [u32; 2],
}

/// The first `len` bits set.
fn mask(len: u8) -> u128 {
    u128::MAX
        .checked_shl(128 - u32::from(len.min(128)))
        .unwrap_or(0)
}

/// Bit `pos` (0 is the most significant); `pos < 128`.
fn bit(key: u128, pos: u8) -> usize {
    usize::from(
        key.checked_shr(127 - u32::from(pos.min(127)))
            .is_some_and(|k| k & 1 == 1),
    )
}

/// The left-aligned key of a prefix's network address.
fn key_of(p: &IpNet) -> u128 {
    match p.network() {
        IpAddr::V4(a) => u128::from(u32::from(a)) << 96,
        IpAddr::V6(a) => u128::from(a),
    }
}

/// Where a look-up of a prefix of length 16 or more whose first 16 bits
/// are the index of this entry resumes in a large IPv4 trie: the first
/// node of length 16 or more on its path, and the lengths 16 to 32 (bit
/// `l - 16`) that the shorter nodes on the path accept.
#[derive(Debug, Clone, Copy)]
struct Jump {
    start: u32,
    lens: u32,
}

/// IPv4 tries with more nodes than this get a [`Jump`] table (512 KiB):
/// it saves the first 16 dependent node loads of a look-up, which are
/// cache misses in a large set.
const JUMP_NODES: usize = 4096;

/// A path-compressed binary trie of prefixes (one family), rooted at /0.
#[derive(Debug, Clone)]
struct Trie {
    nodes: Vec<Node>,
    /// Built on the first look-up after a change (IPv4 only).
    jump: OnceLock<Vec<Jump>>,
}

impl Default for Trie {
    fn default() -> Self {
        Trie {
            nodes: vec![Node {
                key: 0,
                len: 0,
                lens: LenMask::default(),
                child: [NONE; 2],
            }],
            jump: OnceLock::new(),
        }
    }
}

impl Trie {
    fn push(&mut self, key: u128, len: u8, lens: LenMask) -> u32 {
        let i = u32::try_from(self.nodes.len()).unwrap_or(NONE);
        self.nodes.push(Node {
            key: key & mask(len),
            len,
            lens,
            child: [NONE; 2],
        });
        i
    }

    fn set_child(&mut self, at: u32, b: usize, to: u32) {
        if let Some(c) = self
            .nodes
            .get_mut(at as usize)
            .and_then(|n| n.child.get_mut(b))
        {
            *c = to;
        }
    }

    fn insert(&mut self, key: u128, len: u8, lo: u8, hi: u8) {
        self.jump = OnceLock::new();
        let key = key & mask(len);
        let mut m = LenMask::default();
        m.add_range(lo, hi);
        let mut cur = 0u32;
        loop {
            let Some(node) = self.nodes.get_mut(cur as usize) else {
                return;
            };
            // Invariant: `node` is a prefix of key/len.
            if node.len == len {
                for (w, x) in node.lens.0.iter_mut().zip(m.0) {
                    *w |= x;
                }
                return;
            }
            let b = bit(key, node.len);
            let child = node.child.get(b).copied().unwrap_or(NONE);
            let Some(c) = self.nodes.get(child as usize) else {
                let new = self.push(key, len, m);
                self.set_child(cur, b, new);
                return;
            };
            let (ckey, clen) = (c.key, c.len);
            let common = u8::try_from((ckey ^ key).leading_zeros())
                .unwrap_or(128)
                .min(clen)
                .min(len);
            if common == clen {
                cur = child;
                continue;
            }
            if common == len {
                // The new prefix sits between `cur` and `child`.
                let new = self.push(key, len, m);
                self.set_child(new, bit(ckey, len), child);
                self.set_child(cur, b, new);
                return;
            }
            // They part after `common` bits: a branching node there.
            let fork = self.push(key, common, LenMask::default());
            let leaf = self.push(key, len, m);
            self.set_child(fork, bit(ckey, common), child);
            self.set_child(fork, bit(key, common), leaf);
            self.set_child(cur, b, fork);
            return;
        }
    }

    /// The jump table of an IPv4 trie (see [`Jump`]).
    fn build_jump(&self) -> Vec<Jump> {
        (0..=u16::MAX)
            .map(|b| {
                let key = u128::from(b) << 112;
                let mut lens = 0u32;
                let mut cur = 0u32;
                loop {
                    let Some(node) = self.nodes.get(cur as usize) else {
                        break Jump { start: NONE, lens };
                    };
                    if node.len >= 16 {
                        break Jump { start: cur, lens };
                    }
                    if (key ^ node.key) & mask(node.len) != 0 {
                        break Jump { start: NONE, lens };
                    }
                    // Lengths 16 to 32 of the first word.
                    lens |= ((node.lens.0[0] >> 16) & 0x1_ffff) as u32;
                    cur = node.child.get(bit(key, node.len)).copied().unwrap_or(NONE);
                }
            })
            .collect()
    }

    fn contains(&self, key: u128, len: u8, ipv4: bool) -> bool {
        let mut cur = 0u32;
        if ipv4 && len >= 16 && self.nodes.len() > JUMP_NODES {
            let jump = self.jump.get_or_init(|| self.build_jump());
            if let Some(j) = jump.get((key >> 112) as usize) {
                if (j.lens >> (len - 16)) & 1 == 1 {
                    return true;
                }
                cur = j.start;
            }
        }
        while let Some(node) = self.nodes.get(cur as usize) {
            if node.len > len || (key ^ node.key) & mask(node.len) != 0 {
                return false;
            }
            if node.lens.has(len) {
                return true;
            }
            if node.len == len {
                return false;
            }
            cur = node.child.get(bit(key, node.len)).copied().unwrap_or(NONE);
        }
        false
    }
}

/// A set of [`PrefixRange`]s (a prefix list or prefix set): a prefix
/// matches when any entry matches it. Look-ups cost the depth of the
/// trie, not the number of entries (see the [module docs](self)).
///
/// A set may carry a name, which the configuration form uses to refer to
/// it; equality compares the name and the entries in insertion order.
///
/// ```
/// use bgp_rib::policy::PrefixSet;
///
/// let bogons = PrefixSet::parse(["10.0.0.0/8+", "192.168.0.0/16+", "0.0.0.0/0{25,32}"]).unwrap();
/// assert!(bogons.contains(&"10.1.2.0/24".parse().unwrap()));
/// assert!(bogons.contains(&"198.51.100.128/25".parse().unwrap()));
/// assert!(!bogons.contains(&"198.51.100.0/24".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Default)]
pub struct PrefixSet {
    name: Option<String>,
    entries: Vec<PrefixRange>,
    v4: Trie,
    v6: Trie,
}

impl PartialEq for PrefixSet {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.entries == other.entries
    }
}

impl Eq for PrefixSet {}

impl PrefixSet {
    /// An empty set (it matches nothing).
    pub fn new() -> Self {
        PrefixSet::default()
    }

    /// A set of the entries parsed from text (see the [module docs](self)).
    pub fn parse<S: AsRef<str>>(entries: impl IntoIterator<Item = S>) -> Result<Self, ParseError> {
        let mut set = PrefixSet::new();
        for e in entries {
            set.insert(e.as_ref().parse()?);
        }
        Ok(set)
    }

    /// The set with a name.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The set's name, if it has one.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Adds an entry.
    pub fn insert(&mut self, range: PrefixRange) {
        let trie = match Family::of(&range.prefix) {
            Family::Ipv4 => &mut self.v4,
            Family::Ipv6 => &mut self.v6,
        };
        trie.insert(
            key_of(&range.prefix),
            range.prefix.prefix_len(),
            range.min,
            range.max,
        );
        self.entries.push(range);
    }

    /// The set with one more entry.
    pub fn with(mut self, range: PrefixRange) -> Self {
        self.insert(range);
        self
    }

    /// The entries, in insertion order.
    pub fn entries(&self) -> &[PrefixRange] {
        &self.entries
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the set has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether an entry matches `p`.
    pub fn contains(&self, p: &IpNet) -> bool {
        let trie = match Family::of(p) {
            Family::Ipv4 => &self.v4,
            Family::Ipv6 => &self.v6,
        };
        trie.contains(key_of(p), p.prefix_len(), Family::of(p) == Family::Ipv4)
    }

    /// Whether an entry covers the host address `a` (as a /32 or /128).
    pub fn contains_addr(&self, a: IpAddr) -> bool {
        self.contains(&IpNet::from(a))
    }
}

impl FromIterator<PrefixRange> for PrefixSet {
    fn from_iter<I: IntoIterator<Item = PrefixRange>>(iter: I) -> Self {
        let mut s = PrefixSet::new();
        for r in iter {
            s.insert(r);
        }
        s
    }
}

/// A set of addresses and networks (next hops, peer addresses, router
/// IDs): written as addresses (`192.0.2.1`) or networks (`192.0.2.0/24`,
/// any address inside matches). Backed by a [`PrefixSet`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressSet(PrefixSet);

impl AddressSet {
    /// The set of these networks (an address is a /32 or /128).
    pub fn new(nets: impl IntoIterator<Item = IpNet>) -> Self {
        AddressSet(nets.into_iter().map(PrefixRange::or_longer).collect())
    }

    /// Parses addresses and networks.
    pub fn parse<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Result<Self, ParseError> {
        let mut nets = Vec::new();
        for i in items {
            let t = i.as_ref().trim();
            let net = match t.parse::<IpAddr>() {
                Ok(a) => IpNet::from(a),
                Err(_) => parse_net(t, t).map_err(|_| {
                    ParseError::new("address or network", t, "not an address or address/length")
                })?,
            };
            nets.push(net);
        }
        Ok(AddressSet::new(nets))
    }

    /// Whether `a` is one of the addresses or inside one of the networks.
    pub fn contains(&self, a: IpAddr) -> bool {
        self.0.contains_addr(a)
    }

    /// The networks, in order (addresses as /32 or /128).
    pub fn networks(&self) -> impl Iterator<Item = IpNet> + '_ {
        self.0.entries().iter().map(|e| e.prefix())
    }

    /// The text form of each entry: an address for a /32 or /128, else the
    /// network.
    pub fn to_strings(&self) -> Vec<String> {
        self.networks()
            .map(|n| {
                if n.prefix_len() == n.max_prefix_len() {
                    n.addr().to_string()
                } else {
                    n.to_string()
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    #[test]
    fn parse_forms() {
        let r: PrefixRange = "10.0.0.0/8".parse().unwrap();
        assert_eq!((r.min_len(), r.max_len()), (8, 8));
        let r: PrefixRange = "10.0.0.0/8+".parse().unwrap();
        assert_eq!((r.min_len(), r.max_len()), (8, 32));
        assert_eq!(r, "10.0.0.0/8 or-longer".parse().unwrap());
        let r: PrefixRange = "10.0.0.0/8{16,24}".parse().unwrap();
        assert_eq!((r.min_len(), r.max_len()), (16, 24));
        assert_eq!(r, "10.0.0.0/8 ge 16 le 24".parse().unwrap());
        assert_eq!(r, "10.0.0.0/8 le 24 ge 16".parse().unwrap());
        let r: PrefixRange = "10.0.0.0/8 ge 16".parse().unwrap();
        assert_eq!((r.min_len(), r.max_len()), (16, 32));
        let r: PrefixRange = "10.0.0.0/8 le 24".parse().unwrap();
        assert_eq!((r.min_len(), r.max_len()), (8, 24));
        let r: PrefixRange = "2001:db8::/32{48,128}".parse().unwrap();
        assert_eq!(r.to_string(), "2001:db8::/32{48,128}");
        for bad in [
            "10.0.0.1/8",
            "10.0.0.0/33",
            "10.0.0.0/8{4,24}",
            "10.0.0.0/8{24,16}",
            "10.0.0.0/8{16,33}",
            "10.0.0.0/8 ge",
            "10.0.0.0/8 ge 9 ge 10",
            "10.0.0.0/8 gt 9",
            "10.0.0.0/8{16}",
            "2001:db8::/32{48,129}",
            "fish",
        ] {
            let e = bad.parse::<PrefixRange>().unwrap_err();
            assert!(e.to_string().contains("prefix range"), "{bad}: {e}");
        }
    }

    #[test]
    fn display_round_trips() {
        for t in [
            "10.0.0.0/8",
            "10.0.0.0/8+",
            "10.0.0.0/8{16,24}",
            "0.0.0.0/0",
            "0.0.0.0/0+",
            "0.0.0.0/0{0,8}",
            "1.2.3.4/32",
            "::/0",
            "::/0+",
            "2001:db8::/32{33,48}",
            "2001:db8::1/128",
        ] {
            let r: PrefixRange = t.parse().unwrap();
            assert_eq!(r.to_string(), t);
            assert_eq!(r.to_string().parse::<PrefixRange>().unwrap(), r);
        }
    }

    #[test]
    fn edges_at_zero_and_full_length() {
        let any4 = PrefixSet::parse(["0.0.0.0/0+"]).unwrap();
        for p in ["0.0.0.0/0", "10.0.0.0/8", "255.255.255.255/32"] {
            assert!(any4.contains(&net(p)), "{p}");
        }
        assert!(!any4.contains(&net("::/0")));
        let default_only = PrefixSet::parse(["0.0.0.0/0"]).unwrap();
        assert!(default_only.contains(&net("0.0.0.0/0")));
        assert!(!default_only.contains(&net("0.0.0.0/1")));
        let hosts = PrefixSet::parse(["0.0.0.0/0{32,32}"]).unwrap();
        assert!(hosts.contains(&net("192.0.2.1/32")));
        assert!(!hosts.contains(&net("192.0.2.0/31")));
        let one = PrefixSet::parse(["192.0.2.1/32"]).unwrap();
        assert!(one.contains(&net("192.0.2.1/32")));
        assert!(!one.contains(&net("192.0.2.0/32")));
        assert!(!one.contains(&net("192.0.2.0/24")));
        let v6 = PrefixSet::parse(["::/0", "2001:db8::1/128", "2001:db8:1::/48+"]).unwrap();
        assert!(v6.contains(&net("::/0")));
        assert!(!v6.contains(&net("::/1")));
        assert!(v6.contains(&net("2001:db8::1/128")));
        assert!(!v6.contains(&net("2001:db8::2/128")));
        assert!(v6.contains(&net("2001:db8:1:ffff::/64")));
        assert!(v6.contains(&net("2001:db8:1:ffff:ffff:ffff:ffff:ffff/128")));
        assert!(!v6.contains(&net("2001:db8:2::/48")));
        assert!(!v6.contains(&net("0.0.0.0/0")));
        let six_long = PrefixSet::parse(["::/0{128,128}"]).unwrap();
        assert!(six_long.contains(&net("ffff::1/128")));
        assert!(!six_long.contains(&net("ffff::/127")));
    }

    #[test]
    fn trie_splits_and_merges() {
        // Inserted in an order that makes every insert case happen: a
        // deeper entry first, then its ancestor, a sibling (fork), and a
        // second range on an existing node.
        let s = PrefixSet::parse([
            "10.1.2.0/24",
            "10.0.0.0/8{16,16}",
            "10.1.3.0/24",
            "10.1.0.0/16{20,20}",
            "10.0.0.0/8{30,32}",
            "11.0.0.0/8",
        ])
        .unwrap();
        for (p, want) in [
            ("10.1.2.0/24", true),
            ("10.1.3.0/24", true),
            ("10.1.4.0/24", false),
            ("10.1.0.0/16", true),
            ("10.200.0.0/16", true),
            ("10.1.16.0/20", true),
            ("10.2.16.0/20", false),
            ("10.9.9.9/32", true),
            ("10.9.9.8/30", true),
            ("10.9.9.8/29", false),
            ("10.0.0.0/8", false),
            ("11.0.0.0/8", true),
            ("11.0.0.0/9", false),
            ("12.0.0.0/8", false),
        ] {
            assert_eq!(s.contains(&net(p)), want, "{p}");
        }
        assert_eq!(s.len(), 6);
    }

    #[test]
    fn address_sets() {
        let s = AddressSet::parse(["192.0.2.1", "198.51.100.0/24", "2001:db8::/32"]).unwrap();
        assert!(s.contains("192.0.2.1".parse().unwrap()));
        assert!(!s.contains("192.0.2.2".parse().unwrap()));
        assert!(s.contains("198.51.100.77".parse().unwrap()));
        assert!(s.contains("2001:db8::9".parse().unwrap()));
        assert_eq!(
            s.to_strings(),
            ["192.0.2.1", "198.51.100.0/24", "2001:db8::/32"]
        );
        assert!(AddressSet::parse(["192.0.2.1/24"]).is_err());
        assert!(AddressSet::parse(["host"]).is_err());
    }

    #[test]
    fn thousands_of_entries() {
        // A deterministic mix of lengths and families; every entry is found,
        // and random probes agree with a linear scan.
        let mut x = 0x1234_5678_9abc_def0_u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut entries = Vec::new();
        for _ in 0..4000 {
            let r = next();
            let e = if r % 4 == 0 {
                let len = (r >> 8) as u8 % 129;
                let a = u128::from(next()) << 64 | u128::from(next());
                let n = IpNet::new(IpAddr::V6(a.into()), len).unwrap().trunc();
                let hi = len + (r >> 20) as u8 % (129 - len);
                PrefixRange::new(n, len, hi).unwrap()
            } else {
                let len = 8 + (r >> 8) as u8 % 25;
                let n = IpNet::new(IpAddr::V4((next() as u32).into()), len)
                    .unwrap()
                    .trunc();
                if r % 3 == 0 {
                    PrefixRange::or_longer(n)
                } else {
                    PrefixRange::exact(n)
                }
            };
            entries.push(e);
        }
        let set: PrefixSet = entries.iter().copied().collect();
        assert!(
            set.v4.nodes.len() > JUMP_NODES,
            "the IPv4 jump table is used"
        );
        for e in &entries {
            assert!(set.contains(&e.prefix()), "{e}");
        }
        for _ in 0..4000 {
            let r = next();
            let p = if r % 2 == 0 {
                let base = entries[(r >> 8) as usize % entries.len()].prefix();
                let len = base.prefix_len()
                    + (r >> 20) as u8 % (base.max_prefix_len() - base.prefix_len() + 1);
                IpNet::new(base.addr(), len).unwrap().trunc()
            } else {
                IpNet::new(IpAddr::V4((next() as u32).into()), (r >> 8) as u8 % 33)
                    .unwrap()
                    .trunc()
            };
            let linear = entries.iter().any(|e| e.matches(&p));
            assert_eq!(set.contains(&p), linear, "{p}");
        }
    }

    fn arb_range() -> impl Strategy<Value = PrefixRange> {
        prop_oneof![
            (any::<u32>(), 0u8..=32, 0u8..=32, 0u8..=32).prop_map(|(a, l, x, y)| {
                let n = IpNet::new(IpAddr::V4(a.into()), l).unwrap();
                let (lo, hi) = (l.max(x.min(y)), l.max(x.max(y)));
                PrefixRange::new(n, lo, hi).unwrap()
            }),
            (any::<u128>(), 0u8..=128, 0u8..=128, 0u8..=128).prop_map(|(a, l, x, y)| {
                let n = IpNet::new(IpAddr::V6(a.into()), l).unwrap();
                let (lo, hi) = (l.max(x.min(y)), l.max(x.max(y)));
                PrefixRange::new(n, lo, hi).unwrap()
            }),
        ]
    }

    fn arb_net() -> impl Strategy<Value = IpNet> {
        prop_oneof![
            (any::<u32>(), 0u8..=32)
                .prop_map(|(a, l)| IpNet::new(IpAddr::V4(a.into()), l).unwrap().trunc()),
            (any::<u128>(), 0u8..=128)
                .prop_map(|(a, l)| IpNet::new(IpAddr::V6(a.into()), l).unwrap().trunc()),
        ]
    }

    proptest! {
        /// The trie agrees with a linear scan of the entries. Entries are
        /// drawn near the tested prefix often enough to hit.
        #[test]
        fn trie_equals_linear_scan(
            entries in prop::collection::vec(arb_range(), 0..40),
            probes in prop::collection::vec(arb_net(), 1..40),
        ) {
            let mut all = entries.clone();
            // Supernets of the probes, so matches happen.
            for p in &probes {
                let l = p.prefix_len() / 2;
                let n = IpNet::new(p.addr(), l).unwrap();
                all.push(PrefixRange::new(n, l, p.prefix_len()).unwrap());
            }
            let set: PrefixSet = all.iter().copied().collect();
            for p in probes.iter().chain(all.iter().map(|e| &e.prefix)) {
                let linear = all.iter().any(|e| e.matches(p));
                prop_assert_eq!(set.contains(p), linear, "{}", p);
            }
        }

        #[test]
        fn text_round_trip(r in arb_range()) {
            prop_assert_eq!(r.to_string().parse::<PrefixRange>().unwrap(), r);
        }
    }
}
