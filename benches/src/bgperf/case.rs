//! The benchmark's cases: how many senders, how many prefixes each, and
//! whether they announce the same prefixes with competing attributes; the
//! prefixes and attributes themselves; and which sender's path must win.
//!
//! Prefixes are IPv4 /24s counted up from [`PREFIX_BASE`]: prefix `i` is
//! `PREFIX_BASE + i * 256`. They are NLRI data only: no target installs
//! them into a kernel (see the README), so they need not (and, for a
//! million of them, cannot) come from the test ranges that interface
//! addresses and kernel routes are limited to.

use std::fmt;
use std::net::Ipv4Addr;
use std::ops::Range;

use bgp_wire::attribute::{AsPath, Communities, Community, Origin, PathAttributes};
use ipnet::Ipv4Net;

/// The first prefix, `32.0.0.0/24`: 2^20 /24s from here fill `32.0.0.0/4`.
pub const PREFIX_BASE: Ipv4Addr = Ipv4Addr::new(32, 0, 0, 0);

/// How many distinct prefixes the space holds.
pub const MAX_PREFIXES: usize = 1 << 20;

/// The target's AS.
pub const TARGET_AS: u32 = 64512;

/// The monitor's AS.
pub const MONITOR_AS: u32 = 65500;

/// The AS of sender `k` (0-based): 65001, 65002, ...
pub fn sender_as(k: usize) -> u32 {
    65001 + u32::try_from(k).unwrap_or(0)
}

/// The sender index of an AS number, if it is a sender's.
pub fn sender_of_as(asn: u32, senders: usize) -> Option<usize> {
    let k = usize::try_from(asn.checked_sub(65001)?).ok()?;
    (k < senders).then_some(k)
}

/// Prefixes of the competing case that share one attribute set (and so
/// one UPDATE per sender).
pub const COMPETING_BLOCK: usize = 16;

/// The most senders a case may have (each needs an address of the test
/// link's /24, and the monitor's per-prefix record is one octet).
pub const MAX_SENDERS: usize = 200;

/// First AS number of the extra hops on competing paths (kept apart from
/// the target's, the monitor's and the senders' numbers).
const EXTRA_AS_BASE: u32 = 64600;

/// One case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case {
    /// How many senders.
    pub senders: usize,
    /// How many prefixes each sender announces.
    pub prefixes: usize,
    /// All senders announce the same prefixes, with attributes that make a
    /// different sender win per block of prefixes.
    pub competing: bool,
}

impl Case {
    /// A case of distinct prefixes: sender `k` announces prefixes
    /// `k * prefixes .. (k + 1) * prefixes`, one attribute set each.
    pub const fn distinct(senders: usize, prefixes: usize) -> Case {
        Case {
            senders,
            prefixes,
            competing: false,
        }
    }

    /// A competing case: every sender announces prefixes `0 .. prefixes`.
    pub const fn competing(senders: usize, prefixes: usize) -> Case {
        Case {
            senders,
            prefixes,
            competing: true,
        }
    }

    /// The full run: 1 x 1M, 4 x 250k, 16 x 50k, 64 x 10k and 4 x the same
    /// 250k competing.
    pub fn full() -> Vec<Case> {
        vec![
            Case::distinct(1, 1_000_000),
            Case::distinct(4, 250_000),
            Case::distinct(16, 50_000),
            Case::distinct(64, 10_000),
            Case::competing(4, 250_000),
        ]
    }

    /// The quick run (the smoke test's): 1 x 100k, 4 x 25k and 4 x the
    /// same 25k competing.
    pub fn quick() -> Vec<Case> {
        vec![
            Case::distinct(1, 100_000),
            Case::distinct(4, 25_000),
            Case::competing(4, 25_000),
        ]
    }

    /// Reads `PxM` (`4x250k`, `1x1M`, `64x10000`), with `-competing` (or
    /// `c`) after it for a competing case.
    pub fn parse(s: &str) -> Result<Case, String> {
        let t = s.trim();
        let (t, competing) = match t.strip_suffix("-competing").or(t.strip_suffix('c')) {
            Some(rest) => (rest, true),
            None => (t, false),
        };
        let (p, m) = t
            .split_once(['x', 'X'])
            .ok_or_else(|| format!("case {s:?}: expected SENDERSxPREFIXES, e.g. 4x250k"))?;
        let senders: usize = p
            .trim()
            .parse()
            .map_err(|_| format!("case {s:?}: bad sender count {p:?}"))?;
        let m = m.trim();
        let (digits, scale) = if let Some(d) = m.strip_suffix(['k', 'K']) {
            (d, 1_000)
        } else if let Some(d) = m.strip_suffix('M') {
            (d, 1_000_000)
        } else {
            (m, 1)
        };
        let prefixes = digits
            .parse::<usize>()
            .map_err(|_| format!("case {s:?}: bad prefix count {m:?}"))?
            * scale;
        let case = Case {
            senders,
            prefixes,
            competing,
        };
        case.check()?;
        Ok(case)
    }

    /// Whether the case fits the prefix space and the sender limit.
    pub fn check(&self) -> Result<(), String> {
        if self.senders == 0 || self.senders > MAX_SENDERS {
            return Err(format!("{self}: 1 to {MAX_SENDERS} senders"));
        }
        if self.prefixes == 0 {
            return Err(format!("{self}: no prefixes"));
        }
        if self.total() > MAX_PREFIXES {
            return Err(format!(
                "{self}: {} distinct prefixes, the space holds {MAX_PREFIXES}",
                self.total()
            ));
        }
        Ok(())
    }

    /// How many distinct prefixes the monitor must end up with.
    pub fn total(&self) -> usize {
        if self.competing {
            self.prefixes
        } else {
            self.senders * self.prefixes
        }
    }

    /// How many routes the senders announce altogether.
    pub fn announced(&self) -> usize {
        self.senders * self.prefixes
    }

    /// The prefix indexes sender `k` announces.
    pub fn range(&self, k: usize) -> Range<usize> {
        if self.competing {
            0..self.prefixes
        } else {
            k * self.prefixes..(k + 1) * self.prefixes
        }
    }

    /// The sender whose path the target must choose for prefix `i`.
    ///
    /// Competing: in block `b = i / COMPETING_BLOCK`, sender `k`'s AS path
    /// is `1 + (b + k) mod senders` long, so exactly one sender has the
    /// shortest (the one with `(b + k) mod senders == 0`); LOCAL_PREF and
    /// ORIGIN are the same on every path and nothing before AS path length
    /// decides.
    pub fn expected_sender(&self, i: usize) -> usize {
        if self.competing {
            let b = i / COMPETING_BLOCK;
            (self.senders - b % self.senders) % self.senders
        } else {
            i / self.prefixes
        }
    }

    /// The attribute set sender `k` (at `next_hop`) announces prefix `i`
    /// with. Distinct cases: one set per sender (AS path of the sender's
    /// AS, ORIGIN IGP). Competing: one set per block of
    /// [`COMPETING_BLOCK`] prefixes, with the AS path length of
    /// [`Case::expected_sender`], a MED and two communities that differ
    /// per block and sender.
    pub fn attributes(&self, k: usize, i: usize, next_hop: Ipv4Addr) -> PathAttributes {
        let mut a = PathAttributes {
            origin: Some(Origin::Igp),
            next_hop: Some(next_hop),
            ..PathAttributes::default()
        };
        if !self.competing {
            a.as_path = Some(AsPath::from_sequence(&[sender_as(k)]));
            return a;
        }
        let b = i / COMPETING_BLOCK;
        let extra = (b + k) % self.senders;
        let mut path = vec![sender_as(k)];
        path.extend((0..extra).map(|j| EXTRA_AS_BASE + ((b + j) % 300) as u32));
        a.as_path = Some(AsPath::from_sequence(&path));
        a.multi_exit_disc = Some(((b * 7 + k * 13) % 1000) as u32);
        let own = u16::try_from(sender_as(k)).unwrap_or(u16::MAX);
        a.communities = Some(Communities::from_items(&[
            Community::new(own, (b % 1000) as u16),
            Community::new(64512, extra as u16),
        ]));
        a
    }

    /// The attribute blocks of sender `k`: runs of prefix indexes that share
    /// one attribute set.
    pub fn blocks(&self, k: usize) -> Vec<Range<usize>> {
        let r = self.range(k);
        if !self.competing {
            return vec![r];
        }
        let mut out = Vec::new();
        let mut start = r.start;
        while start < r.end {
            let end = (start + COMPETING_BLOCK).min(r.end);
            out.push(start..end);
            start = end;
        }
        out
    }
}

fn count(n: usize) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{}M", n / 1_000_000)
    } else if n >= 1_000 && n.is_multiple_of(1_000) {
        format!("{}k", n / 1_000)
    } else {
        n.to_string()
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} x {}", self.senders, count(self.prefixes))?;
        if self.competing {
            f.write_str(" competing")?;
        }
        Ok(())
    }
}

/// Prefix `i` (below [`MAX_PREFIXES`]).
pub fn prefix(i: usize) -> Ipv4Net {
    let base = u32::from(PREFIX_BASE);
    let addr = Ipv4Addr::from(base + ((i as u32) << 8));
    Ipv4Net::new(addr, 24).unwrap_or_default()
}

/// The index of a prefix of the space, if it is one.
pub fn index_of(net: &Ipv4Net) -> Option<usize> {
    if net.prefix_len() != 24 {
        return None;
    }
    let off = u32::from(net.addr()).checked_sub(u32::from(PREFIX_BASE))?;
    let i = usize::try_from(off >> 8).ok()?;
    (i < MAX_PREFIXES).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_show() {
        assert_eq!(Case::parse("4x250k").unwrap(), Case::distinct(4, 250_000));
        assert_eq!(Case::parse("1x1M").unwrap(), Case::distinct(1, 1_000_000));
        assert_eq!(
            Case::parse("4x250k-competing").unwrap(),
            Case::competing(4, 250_000)
        );
        assert_eq!(Case::parse("4x25kc").unwrap(), Case::competing(4, 25_000));
        assert!(Case::parse("2x1M").is_err(), "more than the space");
        assert!(Case::parse("0x10").is_err());
        assert!(Case::parse("4").is_err());
        assert_eq!(Case::distinct(64, 10_000).to_string(), "64 x 10k");
        assert_eq!(
            Case::competing(4, 250_000).to_string(),
            "4 x 250k competing"
        );
        for c in Case::full().into_iter().chain(Case::quick()) {
            c.check().unwrap();
        }
    }

    #[test]
    fn prefixes_round_trip_and_stay_out_of_the_test_ranges() {
        for i in [0, 1, 255, 256, 999_999, MAX_PREFIXES - 1] {
            let p = prefix(i);
            assert_eq!(index_of(&p), Some(i), "{p}");
            assert!(!testkit::netns::is_test_net(ipnet::IpNet::V4(p)), "{p}");
        }
        assert_eq!(prefix(0).to_string(), "32.0.0.0/24");
        assert_eq!(prefix(MAX_PREFIXES - 1).to_string(), "47.255.255.0/24");
        assert_eq!(index_of(&"32.0.0.0/23".parse().unwrap()), None);
        assert_eq!(index_of(&"31.255.255.0/24".parse().unwrap()), None);
        assert_eq!(index_of(&"48.0.0.0/24".parse().unwrap()), None);
    }

    #[test]
    fn competing_paths_have_one_shortest() {
        let c = Case::competing(4, 1000);
        let nh = Ipv4Addr::new(198, 18, 0, 1);
        for i in [0, 15, 16, 17, 100, 999] {
            let lens: Vec<usize> = (0..4)
                .map(|k| c.attributes(k, i, nh).as_path.unwrap().len())
                .collect();
            let best = c.expected_sender(i);
            let min = *lens.iter().min().unwrap();
            assert_eq!(lens[best], min, "{i}: {lens:?}");
            assert_eq!(lens.iter().filter(|l| **l == min).count(), 1, "{lens:?}");
        }
        // Every sender wins a quarter of the blocks.
        let mut wins = [0usize; 4];
        for i in 0..1000 {
            wins[c.expected_sender(i)] += 1;
        }
        assert!(wins.iter().all(|w| *w >= 240), "{wins:?}");
        assert_eq!(c.blocks(0).len(), 63);
        let d = Case::distinct(4, 10);
        assert_eq!(d.range(2), 20..30);
        assert_eq!(d.expected_sender(25), 2);
        assert_eq!(d.blocks(1), vec![10..20]);
    }
}
