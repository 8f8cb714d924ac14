//! Prefix tables for IPv4 and IPv6: exact match, longest-prefix match, and
//! ordered walks over every prefix equal to or more specific than a given
//! one.
//!
//! # Layout
//!
//! A [`PrefixTable`] splits each address into a *bucket* (its first
//! [`Family::BUCKET_BITS`] bits: 16 for IPv4, 32 for IPv6) and the rest.
//! Prefixes at least as long as the bucket width live in their bucket, a
//! `Vec` kept sorted by (remaining bits, length), which stores only the
//! remaining bits of the address (2 octets for IPv4). Shorter prefixes (a
//! few thousand in a full table) live in one ordered map. IPv4 buckets are
//! a dense array indexed by the first 16 bits; IPv6 buckets an ordered map
//! keyed by the first 32 bits.
//!
//! Ordering by (address, length) puts a prefix and everything under it next
//! to each other, so a walk under a prefix is one range of one bucket, or a
//! range of buckets. For longest-prefix match, the prefixes of a bucket
//! that contain an address come in order of increasing length and sort
//! before the address itself, so scanning back from the address's position
//! finds the longest first; in a crowded bucket, after a few steps, one
//! binary search per length present (a count per length skips the absent
//! ones) takes over. The short prefixes are searched the same way.
//!
//! # Why not a trie crate
//!
//! The benchmark `benches/benches/rib.rs` (group `prefix_table`) compares
//! this table with the `prefix-trie` crate's `PrefixMap` on one million
//! IPv4 prefixes shaped like a real table; the figures are in
//! `bgp-rib/README.md`. In short: this table takes about 40% less memory
//! per prefix (an entry is the 2-octet rest of the address, the length and
//! the value, with no child links), inserts as fast and finds exact matches
//! 1.5 to 2 times as fast; longest-prefix match is faster or slower than the
//! trie's depending on cache pressure, and the RIB needs it only for
//! next-hop resolution (the FIB does the forwarding lookups).

use std::collections::BTreeMap;
use std::collections::btree_map;
use std::fmt::Debug;
use std::hash::Hash;
use std::iter::Peekable;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::{BitAnd, BitOr, Not};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

mod sealed {
    pub trait Sealed {}
}

/// An address family a [`PrefixTable`] can hold: [`Ipv4`] or [`Ipv6`].
pub trait Family: sealed::Sealed + Sized + 'static {
    /// The prefix type.
    type Net: Copy + Eq + Ord + Hash + Debug;
    /// The address type.
    type Addr: Copy + Eq + Debug;
    /// The address as an unsigned integer, most significant bit first.
    type Bits: Copy
        + Ord
        + Eq
        + Debug
        + BitAnd<Output = Self::Bits>
        + BitOr<Output = Self::Bits>
        + Not<Output = Self::Bits>;
    /// The bits of an address after its bucket bits.
    type Low: Copy + Ord + Eq + Debug;
    /// The longest prefix length.
    const MAX_LEN: u8;
    /// How many leading address bits pick the bucket.
    const BUCKET_BITS: u8;
    /// Whether the buckets are a dense array (else an ordered map).
    const DENSE: bool;
    /// The network bits and length of a prefix.
    fn to_bits(net: &Self::Net) -> (Self::Bits, u8);
    /// The prefix of these network bits and length (`len <= MAX_LEN`).
    fn from_bits(bits: Self::Bits, len: u8) -> Self::Net;
    /// An address's bits.
    fn addr_bits(addr: Self::Addr) -> Self::Bits;
    /// The network mask of a length.
    fn mask(len: u8) -> Self::Bits;
    /// The bucket and remaining bits of an address.
    fn split(bits: Self::Bits) -> (u32, Self::Low);
    /// The inverse of [`Family::split`].
    fn join(bucket: u32, low: Self::Low) -> Self::Bits;
    /// The prefix as an [`IpNet`].
    fn ip_net(net: Self::Net) -> IpNet;
    /// The address of an [`IpAddr`] of this family.
    fn from_ip(addr: IpAddr) -> Option<Self::Addr>;
}

/// IPv4 prefixes ([`Ipv4Net`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv4 {}
/// IPv6 prefixes ([`Ipv6Net`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ipv6 {}

impl sealed::Sealed for Ipv4 {}
impl sealed::Sealed for Ipv6 {}

impl Family for Ipv4 {
    type Net = Ipv4Net;
    type Addr = Ipv4Addr;
    type Bits = u32;
    type Low = u16;
    const MAX_LEN: u8 = 32;
    const BUCKET_BITS: u8 = 16;
    const DENSE: bool = true;

    fn to_bits(net: &Ipv4Net) -> (u32, u8) {
        (u32::from(net.network()), net.prefix_len())
    }
    fn from_bits(bits: u32, len: u8) -> Ipv4Net {
        Ipv4Net::new(Ipv4Addr::from(bits), len).unwrap_or_default()
    }
    fn addr_bits(addr: Ipv4Addr) -> u32 {
        u32::from(addr)
    }
    fn mask(len: u8) -> u32 {
        u32::MAX
            .checked_shl(32 - u32::from(len.min(32)))
            .unwrap_or(0)
    }
    fn split(bits: u32) -> (u32, u16) {
        (bits >> 16, (bits & 0xffff) as u16)
    }
    fn join(bucket: u32, low: u16) -> u32 {
        (bucket << 16) | u32::from(low)
    }
    fn ip_net(net: Ipv4Net) -> IpNet {
        IpNet::V4(net)
    }
    fn from_ip(addr: IpAddr) -> Option<Ipv4Addr> {
        match addr {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        }
    }
}

impl Family for Ipv6 {
    type Net = Ipv6Net;
    type Addr = Ipv6Addr;
    type Bits = u128;
    type Low = [u32; 3];
    const MAX_LEN: u8 = 128;
    const BUCKET_BITS: u8 = 32;
    const DENSE: bool = false;

    fn to_bits(net: &Ipv6Net) -> (u128, u8) {
        (u128::from(net.network()), net.prefix_len())
    }
    fn from_bits(bits: u128, len: u8) -> Ipv6Net {
        Ipv6Net::new(Ipv6Addr::from(bits), len).unwrap_or_default()
    }
    fn addr_bits(addr: Ipv6Addr) -> u128 {
        u128::from(addr)
    }
    fn mask(len: u8) -> u128 {
        u128::MAX
            .checked_shl(128 - u32::from(len.min(128)))
            .unwrap_or(0)
    }
    fn split(bits: u128) -> (u32, [u32; 3]) {
        (
            (bits >> 96) as u32,
            [(bits >> 64) as u32, (bits >> 32) as u32, bits as u32],
        )
    }
    fn join(bucket: u32, low: [u32; 3]) -> u128 {
        let [a, b, c] = low;
        (u128::from(bucket) << 96) | (u128::from(a) << 64) | (u128::from(b) << 32) | u128::from(c)
    }
    fn ip_net(net: Ipv6Net) -> IpNet {
        IpNet::V6(net)
    }
    fn from_ip(addr: IpAddr) -> Option<Ipv6Addr> {
        match addr {
            IpAddr::V6(a) => Some(a),
            IpAddr::V4(_) => None,
        }
    }
}

/// One prefix of a bucket: the address bits after the bucket's, the
/// length, the value.
#[derive(Debug, Clone)]
struct Item<L, V> {
    low: L,
    len: u8,
    value: V,
}

type Bucket<F, V> = Vec<Item<<F as Family>::Low, V>>;

/// A map from prefixes of one family to values, with exact match,
/// longest-prefix match and ordered walks (see the [module
/// documentation](self)).
///
/// ```
/// use bgp_rib::prefix_table::{Ipv4, PrefixTable};
/// use ipnet::Ipv4Net;
///
/// let mut t: PrefixTable<Ipv4, &str> = PrefixTable::new();
/// let p = |s: &str| s.parse::<Ipv4Net>().unwrap();
/// t.insert(p("10.0.0.0/8"), "eight");
/// t.insert(p("10.1.0.0/16"), "sixteen");
/// t.insert(p("10.1.2.0/24"), "twenty-four");
/// assert_eq!(t.get(&p("10.1.0.0/16")), Some(&"sixteen"));
/// let (net, v) = t.longest_match("10.1.3.4".parse().unwrap()).unwrap();
/// assert_eq!((net, *v), (p("10.1.0.0/16"), "sixteen"));
/// let under: Vec<_> = t.walk_under(&p("10.1.0.0/16")).map(|(n, _)| n.to_string()).collect();
/// assert_eq!(under, ["10.1.0.0/16", "10.1.2.0/24"]);
/// ```
#[derive(Debug, Clone)]
pub struct PrefixTable<F: Family, V> {
    short: BTreeMap<(F::Bits, u8), V>,
    dense: Vec<Bucket<F, V>>,
    sparse: BTreeMap<u32, Bucket<F, V>>,
    per_len: Vec<u32>,
    len: usize,
}

impl<F: Family, V> Default for PrefixTable<F, V> {
    fn default() -> Self {
        Self::new()
    }
}

fn item_key<L: Copy, V>(it: &Item<L, V>) -> (L, u8) {
    (it.low, it.len)
}

impl<F: Family, V> PrefixTable<F, V> {
    /// An empty table (allocates nothing until the first insertion).
    pub fn new() -> Self {
        PrefixTable {
            short: BTreeMap::new(),
            dense: Vec::new(),
            sparse: BTreeMap::new(),
            per_len: Vec::new(),
            len: 0,
        }
    }

    /// Number of prefixes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn bucket(&self, id: u32) -> Option<&Bucket<F, V>> {
        if F::DENSE {
            self.dense.get(id as usize)
        } else {
            self.sparse.get(&id)
        }
    }

    fn bucket_mut(&mut self, id: u32) -> Option<&mut Bucket<F, V>> {
        if F::DENSE {
            self.dense.get_mut(id as usize)
        } else {
            self.sparse.get_mut(&id)
        }
    }

    fn bucket_or_create(&mut self, id: u32) -> Option<&mut Bucket<F, V>> {
        if F::DENSE {
            if self.dense.is_empty() {
                self.dense.resize_with(1usize << F::BUCKET_BITS, Vec::new);
            }
            self.dense.get_mut(id as usize)
        } else {
            Some(self.sparse.entry(id).or_default())
        }
    }

    fn count_len(&mut self, len: u8, up: bool) {
        if self.per_len.is_empty() {
            self.per_len.resize(usize::from(F::MAX_LEN) + 1, 0);
        }
        if let Some(c) = self.per_len.get_mut(usize::from(len)) {
            if up {
                *c += 1;
            } else {
                *c = c.saturating_sub(1);
            }
        }
        if up {
            self.len += 1;
        } else {
            self.len = self.len.saturating_sub(1);
        }
    }

    fn has_len(&self, len: u8) -> bool {
        self.per_len.get(usize::from(len)).is_some_and(|c| *c > 0)
    }

    /// The value of exactly this prefix.
    pub fn get(&self, net: &F::Net) -> Option<&V> {
        let (bits, len) = F::to_bits(net);
        if len < F::BUCKET_BITS {
            return self.short.get(&(bits, len));
        }
        let (id, low) = F::split(bits);
        let items = self.bucket(id)?;
        let i = items
            .binary_search_by(|it| item_key(it).cmp(&(low, len)))
            .ok()?;
        items.get(i).map(|it| &it.value)
    }

    /// The value of exactly this prefix, mutably.
    pub fn get_mut(&mut self, net: &F::Net) -> Option<&mut V> {
        let (bits, len) = F::to_bits(net);
        if len < F::BUCKET_BITS {
            return self.short.get_mut(&(bits, len));
        }
        let (id, low) = F::split(bits);
        let items = self.bucket_mut(id)?;
        let i = items
            .binary_search_by(|it| item_key(it).cmp(&(low, len)))
            .ok()?;
        items.get_mut(i).map(|it| &mut it.value)
    }

    /// The value of this prefix, inserted with `make` if absent, and
    /// whether it was inserted. `None` only if the table cannot index the
    /// prefix (never, for a well-formed prefix).
    pub fn get_or_insert_with(
        &mut self,
        net: &F::Net,
        make: impl FnOnce() -> V,
    ) -> Option<(&mut V, bool)> {
        let (bits, len) = F::to_bits(net);
        if len < F::BUCKET_BITS {
            let inserted = !self.short.contains_key(&(bits, len));
            if inserted {
                self.count_len(len, true);
            }
            let v = self.short.entry((bits, len)).or_insert_with(make);
            return Some((v, inserted));
        }
        let (id, low) = F::split(bits);
        let found = {
            let items = self.bucket_or_create(id)?;
            items.binary_search_by(|it| item_key(it).cmp(&(low, len)))
        };
        let (i, inserted) = match found {
            Ok(i) => (i, false),
            Err(i) => {
                self.count_len(len, true);
                let items = self.bucket_mut(id)?;
                items.insert(
                    i,
                    Item {
                        low,
                        len,
                        value: make(),
                    },
                );
                (i, true)
            }
        };
        let items = self.bucket_mut(id)?;
        items.get_mut(i).map(|it| (&mut it.value, inserted))
    }

    /// Inserts or replaces the value of a prefix; returns the old value.
    pub fn insert(&mut self, net: F::Net, value: V) -> Option<V> {
        if let Some(slot) = self.get_mut(&net) {
            return Some(std::mem::replace(slot, value));
        }
        self.get_or_insert_with(&net, || value);
        None
    }

    /// Removes a prefix; returns its value.
    pub fn remove(&mut self, net: &F::Net) -> Option<V> {
        let (bits, len) = F::to_bits(net);
        let v = if len < F::BUCKET_BITS {
            self.short.remove(&(bits, len))?
        } else {
            let (id, low) = F::split(bits);
            let items = self.bucket_mut(id)?;
            let i = items
                .binary_search_by(|it| item_key(it).cmp(&(low, len)))
                .ok()?;
            let v = items.remove(i).value;
            if items.is_empty() {
                if F::DENSE {
                    *items = Vec::new();
                } else {
                    self.sparse.remove(&id);
                }
            }
            v
        };
        self.count_len(len, false);
        Some(v)
    }

    /// The most specific prefix containing `addr`, with its value.
    pub fn longest_match(&self, addr: F::Addr) -> Option<(F::Net, &V)> {
        self.longest_match_where(addr, |_| true)
    }

    /// The most specific prefix containing `addr` whose value satisfies
    /// `accept`.
    pub fn longest_match_where(
        &self,
        addr: F::Addr,
        mut accept: impl FnMut(&V) -> bool,
    ) -> Option<(F::Net, &V)> {
        let bits = F::addr_bits(addr);
        let (id, low) = F::split(bits);
        if let Some(items) = self.bucket(id) {
            // The prefixes of the bucket that contain `addr` come in order
            // of increasing length and all sort at or before (low, MAX), so
            // scanning back from there, the first one that contains `addr`
            // is the longest. A short scan usually finds it; past SCAN
            // items, probe each length instead.
            const SCAN: usize = 24;
            let end = items.partition_point(|it| item_key(it) <= (low, F::MAX_LEN));
            let mut scanned = 0;
            let mut found = None;
            for it in items.get(..end).unwrap_or_default().iter().rev() {
                if scanned == SCAN {
                    break;
                }
                scanned += 1;
                let net = F::join(id, it.low);
                if bits & F::mask(it.len) == net && accept(&it.value) {
                    found = Some((F::from_bits(net, it.len), &it.value));
                    break;
                }
            }
            if found.is_none() && scanned == SCAN {
                for len in (F::BUCKET_BITS..=F::MAX_LEN).rev() {
                    if !self.has_len(len) {
                        continue;
                    }
                    let net = bits & F::mask(len);
                    let (_, nlow) = F::split(net);
                    if let Ok(i) = items.binary_search_by(|it| item_key(it).cmp(&(nlow, len))) {
                        if let Some(it) = items.get(i).filter(|it| accept(&it.value)) {
                            found = Some((F::from_bits(net, len), &it.value));
                            break;
                        }
                    }
                }
            }
            if found.is_some() {
                return found;
            }
        }
        // The short prefixes: the same backward scan over the ordered map,
        // then probes by length.
        let mut scanned = 0;
        for ((net, len), v) in self
            .short
            .range(..=(bits, F::BUCKET_BITS.saturating_sub(1)))
            .rev()
        {
            if scanned == 16 {
                break;
            }
            scanned += 1;
            if bits & F::mask(*len) == *net && accept(v) {
                return Some((F::from_bits(*net, *len), v));
            }
        }
        if scanned < 16 {
            return None;
        }
        for len in (0..F::BUCKET_BITS).rev() {
            if !self.has_len(len) {
                continue;
            }
            let net = bits & F::mask(len);
            if let Some(v) = self.short.get(&(net, len)).filter(|v| accept(v)) {
                return Some((F::from_bits(net, len), v));
            }
        }
        None
    }

    fn buckets_between(&self, lo: u32, hi: u32) -> Buckets<'_, F, V> {
        if F::DENSE {
            let end = (hi as usize + 1).min(self.dense.len());
            let start = (lo as usize).min(end);
            Buckets::Dense {
                next: lo,
                iter: self.dense.get(start..end).unwrap_or_default().iter(),
            }
        } else {
            Buckets::Sparse(self.sparse.range(lo..=hi))
        }
    }

    /// Every prefix with its value, in (address, length) order.
    pub fn iter(&self) -> impl Iterator<Item = (F::Net, &V)> + '_ {
        let short = self.short.range(..);
        let long = self.buckets_between(0, u32::MAX).flat_map(|(id, items)| {
            items
                .iter()
                .map(move |it| (F::join(id, it.low), it.len, &it.value))
        });
        Merge::<F, V, _, _>::new(short, long)
    }

    /// Every prefix equal to or more specific than `net`, with its value,
    /// in (address, length) order.
    pub fn walk_under(&self, net: &F::Net) -> impl Iterator<Item = (F::Net, &V)> + '_ {
        let (bits, len) = F::to_bits(net);
        let top = bits | !F::mask(len);
        let (lo_id, lo_low) = F::split(bits);
        let (hi_id, hi_low) = F::split(top);
        let short = if len < F::BUCKET_BITS {
            self.short
                .range((bits, len)..=(top, F::BUCKET_BITS.saturating_sub(1)))
        } else {
            // An empty range of the right type.
            self.short.range((bits, 1)..(bits, 1))
        };
        let whole_buckets = len < F::BUCKET_BITS;
        let long = self
            .buckets_between(lo_id, hi_id)
            .flat_map(move |(id, items)| {
                let slice: &[Item<F::Low, V>] = if whole_buckets {
                    items
                } else {
                    let start = items.partition_point(|it| item_key(it) < (lo_low, len));
                    let end = items.partition_point(|it| item_key(it) <= (hi_low, F::MAX_LEN));
                    items.get(start..end.max(start)).unwrap_or_default()
                };
                slice
                    .iter()
                    .map(move |it| (F::join(id, it.low), it.len, &it.value))
            });
        Merge::<F, V, _, _>::new(short, long)
    }

    /// Keeps the prefixes for which `keep` returns true, giving it mutable
    /// access to each value. Visits every prefix once (not in address
    /// order).
    pub fn retain_mut(&mut self, mut keep: impl FnMut(F::Net, &mut V) -> bool) {
        let mut removed: Vec<u8> = Vec::new();
        self.short.retain(|(bits, len), v| {
            let k = keep(F::from_bits(*bits, *len), v);
            if !k {
                removed.push(*len);
            }
            k
        });
        let mut visit = |id: u32, items: &mut Bucket<F, V>| {
            items.retain_mut(|it| {
                let k = keep(F::from_bits(F::join(id, it.low), it.len), &mut it.value);
                if !k {
                    removed.push(it.len);
                }
                k
            });
        };
        if F::DENSE {
            for (id, items) in self.dense.iter_mut().enumerate() {
                if !items.is_empty() {
                    visit(id as u32, items);
                    if items.is_empty() {
                        *items = Vec::new();
                    }
                }
            }
        } else {
            for (id, items) in self.sparse.iter_mut() {
                visit(*id, items);
            }
            self.sparse.retain(|_, items| !items.is_empty());
        }
        for len in removed {
            self.count_len(len, false);
        }
    }

    /// Heap bytes held by the table's own structures (the values' own heap
    /// allocations excepted), from capacities; a B-tree entry is counted
    /// as its key and value plus a sixth of a node's overhead.
    pub fn heap_bytes(&self) -> usize {
        let item = std::mem::size_of::<Item<F::Low, V>>();
        let vec = std::mem::size_of::<Bucket<F, V>>();
        let short = self.short.len()
            * (std::mem::size_of::<(F::Bits, u8)>() + std::mem::size_of::<V>() + 16);
        let dense = self.dense.capacity() * vec
            + self
                .dense
                .iter()
                .map(|b| b.capacity() * item)
                .sum::<usize>();
        let sparse = self
            .sparse
            .values()
            .map(|b| vec + 8 + b.capacity() * item)
            .sum::<usize>();
        short + dense + sparse + self.per_len.capacity() * 4
    }
}

enum Buckets<'a, F: Family, V> {
    Dense {
        next: u32,
        iter: std::slice::Iter<'a, Bucket<F, V>>,
    },
    Sparse(btree_map::Range<'a, u32, Bucket<F, V>>),
}

impl<'a, F: Family, V> Iterator for Buckets<'a, F, V> {
    type Item = (u32, &'a Bucket<F, V>);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Buckets::Dense { next, iter } => loop {
                let b = iter.next()?;
                let id = *next;
                *next = next.wrapping_add(1);
                if !b.is_empty() {
                    return Some((id, b));
                }
            },
            Buckets::Sparse(r) => r.next().map(|(k, v)| (*k, v)),
        }
    }
}

/// Merges the short prefixes and the bucketed ones into (address, length)
/// order.
struct Merge<'a, F: Family, V: 'a, S, L>
where
    S: Iterator<Item = (&'a (F::Bits, u8), &'a V)>,
    L: Iterator<Item = (F::Bits, u8, &'a V)>,
{
    short: Peekable<S>,
    long: Peekable<L>,
    _family: std::marker::PhantomData<F>,
}

impl<'a, F: Family, V: 'a, S, L> Merge<'a, F, V, S, L>
where
    S: Iterator<Item = (&'a (F::Bits, u8), &'a V)>,
    L: Iterator<Item = (F::Bits, u8, &'a V)>,
{
    fn new(short: S, long: L) -> Self {
        Merge {
            short: short.peekable(),
            long: long.peekable(),
            _family: std::marker::PhantomData,
        }
    }
}

impl<'a, F: Family, V: 'a, S, L> Iterator for Merge<'a, F, V, S, L>
where
    S: Iterator<Item = (&'a (F::Bits, u8), &'a V)>,
    L: Iterator<Item = (F::Bits, u8, &'a V)>,
{
    type Item = (F::Net, &'a V);
    fn next(&mut self) -> Option<Self::Item> {
        let take_short = match (self.short.peek(), self.long.peek()) {
            (Some(((sb, sl), _)), Some((lb, ll, _))) => (*sb, *sl) < (*lb, *ll),
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        if take_short {
            self.short
                .next()
                .map(|((b, l), v)| (F::from_bits(*b, *l), v))
        } else {
            self.long.next().map(|(b, l, v)| (F::from_bits(b, l), v))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn v4(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }
    fn v6(s: &str) -> Ipv6Net {
        s.parse().unwrap()
    }

    #[test]
    fn exact_insert_remove_v4() {
        let mut t: PrefixTable<Ipv4, u32> = PrefixTable::new();
        assert!(t.is_empty());
        assert_eq!(t.insert(v4("0.0.0.0/0"), 0), None);
        assert_eq!(t.insert(v4("10.0.0.0/8"), 8), None);
        assert_eq!(t.insert(v4("10.0.0.0/24"), 24), None);
        assert_eq!(t.insert(v4("10.0.0.0/24"), 25), Some(24));
        assert_eq!(t.insert(v4("10.0.0.1/32"), 32), None);
        assert_eq!(t.len(), 4);
        assert_eq!(t.get(&v4("10.0.0.0/24")), Some(&25));
        assert_eq!(t.get(&v4("10.0.0.0/23")), None);
        *t.get_mut(&v4("10.0.0.0/8")).unwrap() += 1;
        assert_eq!(t.get(&v4("10.0.0.0/8")), Some(&9));
        assert_eq!(t.remove(&v4("10.0.0.0/24")), Some(25));
        assert_eq!(t.remove(&v4("10.0.0.0/24")), None);
        assert_eq!(t.len(), 3);
        let all: Vec<_> = t.iter().map(|(n, v)| (n.to_string(), *v)).collect();
        assert_eq!(
            all,
            [
                ("0.0.0.0/0".to_string(), 0),
                ("10.0.0.0/8".to_string(), 9),
                ("10.0.0.1/32".to_string(), 32)
            ]
        );
    }

    #[test]
    fn longest_match_and_walks_v6() {
        let mut t: PrefixTable<Ipv6, u8> = PrefixTable::new();
        for (i, p) in [
            "::/0",
            "2001:db8::/32",
            "2001:db8:1::/48",
            "2001:db8:1::1/128",
            "2001::/16",
        ]
        .iter()
        .enumerate()
        {
            t.insert(v6(p), i as u8);
        }
        let lm = |a: &str| {
            t.longest_match(a.parse().unwrap())
                .map(|(n, v)| (n.to_string(), *v))
        };
        assert_eq!(lm("2001:db8:1::1"), Some(("2001:db8:1::1/128".into(), 3)));
        assert_eq!(lm("2001:db8:1::2"), Some(("2001:db8:1::/48".into(), 2)));
        assert_eq!(lm("2001:db8:2::2"), Some(("2001:db8::/32".into(), 1)));
        assert_eq!(lm("2001:db9::"), Some(("2001::/16".into(), 4)));
        assert_eq!(lm("3000::"), Some(("::/0".into(), 0)));
        let under: Vec<_> = t
            .walk_under(&v6("2001::/16"))
            .map(|(n, _)| n.to_string())
            .collect();
        assert_eq!(
            under,
            [
                "2001::/16",
                "2001:db8::/32",
                "2001:db8:1::/48",
                "2001:db8:1::1/128"
            ]
        );
        let under: Vec<_> = t
            .walk_under(&v6("2001:db8:1::/48"))
            .map(|(n, _)| n.to_string())
            .collect();
        assert_eq!(under, ["2001:db8:1::/48", "2001:db8:1::1/128"]);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u32, u8),
        Remove(u32, u8),
    }

    fn op() -> impl Strategy<Value = Op> {
        // A small address space so that prefixes nest and collide.
        let addr = prop_oneof![
            any::<u32>(),
            (0u32..4, 0u32..4).prop_map(|(a, b)| 0x0a00_0000 | (a << 16) | (b << 8)),
            // many prefixes in one bucket, past the backward scan's reach
            (0u32..64).prop_map(|a| 0x0a01_0000 | (a << 10)),
        ];
        prop_oneof![
            3 => (addr.clone(), 0u8..=32).prop_map(|(a, l)| Op::Insert(a, l)),
            1 => (addr, 0u8..=32).prop_map(|(a, l)| Op::Remove(a, l)),
        ]
    }

    proptest! {
        /// The table agrees with a `BTreeSet` of (address, length) on
        /// exact match, longest match, iteration and walks.
        #[test]
        fn matches_a_model(ops in proptest::collection::vec(op(), 1..200), probe in any::<u32>()) {
            let mut t: PrefixTable<Ipv4, u8> = PrefixTable::new();
            let mut m: BTreeSet<(u32, u8)> = BTreeSet::new();
            for o in &ops {
                match *o {
                    Op::Insert(a, l) => {
                        let k = (a & Ipv4::mask(l), l);
                        prop_assert_eq!(t.insert(Ipv4::from_bits(k.0, l), l).is_none(), m.insert(k));
                    }
                    Op::Remove(a, l) => {
                        let k = (a & Ipv4::mask(l), l);
                        prop_assert_eq!(t.remove(&Ipv4::from_bits(k.0, l)).is_some(), m.remove(&k));
                    }
                }
            }
            prop_assert_eq!(t.len(), m.len());
            let got: Vec<(u32, u8)> = t.iter().map(|(n, _)| Ipv4::to_bits(&n)).collect();
            let want: Vec<(u32, u8)> = m.iter().copied().collect();
            prop_assert_eq!(&got, &want);
            for probe in [probe, 0x0a01_0203, 0x0a00_0000, 0x0a01_ffff, 0x0a01_8001] {
                let lm = t.longest_match(Ipv4Addr::from(probe)).map(|(n, _)| Ipv4::to_bits(&n));
                let want = m.iter().filter(|(a, l)| probe & Ipv4::mask(*l) == *a).max_by_key(|(_, l)| *l).copied();
                prop_assert_eq!(lm, want);
                let lm = t.longest_match_where(Ipv4Addr::from(probe), |l| l % 3 != 0).map(|(n, _)| Ipv4::to_bits(&n));
                let want = m.iter().filter(|(a, l)| l % 3 != 0 && probe & Ipv4::mask(*l) == *a).max_by_key(|(_, l)| *l).copied();
                prop_assert_eq!(lm, want);
            }
            for &(a, l) in m.iter().take(5).chain([(0x0a00_0000u32, 8u8), (0x0a01_0000, 16), (0, 0)].iter()) {
                let got: Vec<(u32, u8)> = t.walk_under(&Ipv4::from_bits(a, l)).map(|(n, _)| Ipv4::to_bits(&n)).collect();
                let want: Vec<(u32, u8)> = m.iter().filter(|(b, k)| *k >= l && b & Ipv4::mask(l) == a).copied().collect();
                prop_assert_eq!(got, want);
            }
            let mut n = 0;
            t.retain_mut(|net, _| { n += 1; net.prefix_len() % 2 == 0 });
            prop_assert_eq!(n, m.len());
            prop_assert_eq!(t.len(), m.iter().filter(|(_, l)| l % 2 == 0).count());
        }
    }
}
