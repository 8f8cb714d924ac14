//! Paths: what one peer said about one prefix (its ADD-PATH path
//! identifier, the interned attribute set, flags), stored in 12 octets, and
//! the per-prefix path list.
//!
//! A prefix with one path (the common case with one peer) stores that path
//! inline in the prefix table's entry (a slot); a prefix with more keeps
//! them in a path list in an arena, sorted by (peer, path id), with the
//! index of the best path and a multipath mark on each member.
//!
//! No arrival time or order is kept: no step of the decision process reads
//! it (the "prefer the oldest eBGP path" rule of RFC 5004 is not
//! implemented), and keeping the list in (peer, path id) order is what
//! makes the selection a function of the set of paths.

use std::sync::Arc;

use bgp_wire::nlri::PathId;

use crate::attr_store::{AttrId, AttrSet, NextHop};
use crate::decision::DecisionStep;
use crate::peer::PeerId;

/// Flags of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct PathFlags(u8);

impl PathFlags {
    /// Graceful restart (RFC 4724): the peer restarted and has not sent
    /// this path again yet.
    pub const STALE: PathFlags = PathFlags(0x01);
    /// Long-lived graceful restart (RFC 9494): kept past the restart time,
    /// least preferred.
    pub const LLGR_STALE: PathFlags = PathFlags(0x02);
    const PUBLIC: u8 = 0x03;
    /// Internal: this slot holds a list index, not a path.
    pub(crate) const LIST: u8 = 0x80;
    /// Internal: this list member is in the multipath set.
    pub(crate) const MULTIPATH: u8 = 0x40;

    /// No flag.
    pub const fn empty() -> Self {
        PathFlags(0)
    }
    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: PathFlags) -> bool {
        self.0 & other.0 == other.0
    }
    /// Whether any flag of `other` is set.
    pub const fn intersects(self, other: PathFlags) -> bool {
        self.0 & other.0 != 0
    }
    /// These flags and `other`'s.
    pub const fn union(self, other: PathFlags) -> Self {
        PathFlags(self.0 | other.0)
    }
    /// The raw bits.
    pub const fn bits(self) -> u8 {
        self.0
    }
}

/// One path as stored: 12 octets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PathRec {
    /// The attribute set, or (in a [`Slot`] with the LIST flag) the list
    /// index.
    pub(crate) attr: u32,
    pub(crate) path_id: PathId,
    pub(crate) peer: PeerId,
    /// [`PathFlags`] bits plus the internal LIST and MULTIPATH bits.
    pub(crate) flags: u8,
    /// In a single-path [`Slot`]: the decision step code of its selection
    /// (0: no best path).
    pub(crate) aux: u8,
}

impl PathRec {
    pub(crate) fn new(peer: PeerId, path_id: PathId, attr: AttrId) -> Self {
        PathRec {
            attr: attr.0,
            path_id,
            peer,
            flags: 0,
            aux: 0,
        }
    }
    pub(crate) fn attr_id(&self) -> AttrId {
        AttrId(self.attr)
    }
    pub(crate) fn key(&self) -> (PeerId, PathId) {
        (self.peer, self.path_id)
    }
    pub(crate) fn public_flags(&self) -> PathFlags {
        PathFlags(self.flags & PathFlags::PUBLIC)
    }
    pub(crate) fn set_public_flags(&mut self, f: PathFlags) {
        self.flags = (self.flags & !PathFlags::PUBLIC) | (f.0 & PathFlags::PUBLIC);
    }
    pub(crate) fn multipath(&self) -> bool {
        self.flags & PathFlags::MULTIPATH != 0
    }
    pub(crate) fn set_multipath(&mut self, on: bool) {
        if on {
            self.flags |= PathFlags::MULTIPATH;
        } else {
            self.flags &= !PathFlags::MULTIPATH;
        }
    }
    /// Identity of the route for change detection.
    pub(crate) fn ident(&self) -> (PeerId, PathId, u32) {
        (self.peer, self.path_id, self.attr)
    }
}

/// The value of a prefix in the Loc-RIB's prefix table: one path inline, or
/// the index of a [`PathList`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot(pub(crate) PathRec);

impl Slot {
    pub(crate) fn single(rec: PathRec) -> Self {
        let mut r = rec;
        r.flags &= !(PathFlags::LIST | PathFlags::MULTIPATH);
        Slot(r)
    }
    pub(crate) fn list(index: u32) -> Self {
        Slot(PathRec {
            attr: index,
            path_id: 0,
            peer: PeerId(u16::MAX),
            flags: PathFlags::LIST,
            aux: 0,
        })
    }
    pub(crate) fn list_index(&self) -> Option<u32> {
        (self.0.flags & PathFlags::LIST != 0).then_some(self.0.attr)
    }
}

/// The paths of a prefix that has more than one, sorted by (peer, path
/// id), with the selection's result.
#[derive(Debug, Clone, Default)]
pub(crate) struct PathList {
    pub(crate) paths: Vec<PathRec>,
    /// Index of the best path; `u32::MAX` when none is usable.
    pub(crate) best: u32,
    /// The decision step code (0 when no best).
    pub(crate) step: u8,
}

impl PathList {
    pub(crate) const NO_BEST: u32 = u32::MAX;

    pub(crate) fn best(&self) -> Option<&PathRec> {
        if self.best == Self::NO_BEST {
            None
        } else {
            self.paths.get(self.best as usize)
        }
    }

    pub(crate) fn find(&self, key: (PeerId, PathId)) -> Result<usize, usize> {
        self.paths.binary_search_by(|p| p.key().cmp(&key))
    }
}

/// A route as the RIB hands it out: who sent it, with which path
/// identifier, which attributes, which flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The peer it was learned from.
    pub peer: PeerId,
    /// The ADD-PATH path identifier (0 without ADD-PATH).
    pub path_id: PathId,
    /// The attribute set.
    pub attrs: Arc<AttrSet>,
    /// Stale flags.
    pub flags: PathFlags,
}

impl Route {
    /// The next hop.
    pub fn next_hop(&self) -> NextHop {
        self.attrs.next_hop()
    }
}

/// A prefix's selection: the best route, the step that decided it, and
/// the multipath set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    /// The best route.
    pub best: Route,
    /// The step at which the best route beat its closest rival.
    pub step: DecisionStep,
    /// The multipath set other than the best route, most preferred first
    /// (empty without multipath).
    pub multipath: Vec<Route>,
}

impl Selected {
    /// The next hops to forward to: the best route's, then those of the
    /// other multipath members (duplicates removed).
    pub fn next_hops(&self) -> Vec<NextHop> {
        let mut out = vec![self.best.next_hop()];
        for r in &self.multipath {
            let n = r.next_hop();
            if !out.contains(&n) {
                out.push(n);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        // the per-route budget rests on these
        assert_eq!(std::mem::size_of::<PathRec>(), 12);
        assert_eq!(std::mem::size_of::<Slot>(), 12);
        assert!(std::mem::size_of::<PathList>() <= 32);
    }
}
