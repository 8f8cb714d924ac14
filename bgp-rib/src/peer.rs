//! The peers whose paths the RIB holds: what best-path selection needs to
//! know of each (session type, BGP identifier, address), and how many paths
//! each has.

use std::net::{IpAddr, Ipv4Addr};

/// A peer's index in its RIB. At most 65,535 peers (`u16::MAX` is kept
/// back).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(pub(crate) u16);

impl PeerId {
    /// The raw index.
    pub fn index(self) -> u16 {
        self.0
    }
}

/// The kind of session a path was learned over, as best-path selection
/// sees it (RFC 4271 9.1.2.2 d, RFC 5065 5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PeerKind {
    /// External BGP: preferred over the two others.
    External,
    /// External BGP between member ASes of a confederation: ranks with
    /// internal BGP in the eBGP-over-iBGP step.
    ConfedExternal,
    /// Internal BGP.
    Internal,
}

impl PeerKind {
    /// Whether the eBGP-over-iBGP step counts the session as external.
    pub fn is_external(self) -> bool {
        self == PeerKind::External
    }
}

/// What the RIB knows of a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerInfo {
    /// The session type.
    pub kind: PeerKind,
    /// The peer's AS.
    pub asn: u32,
    /// The peer's BGP identifier (from its OPEN).
    pub router_id: Ipv4Addr,
    /// The peer's address (the session's remote address).
    pub address: IpAddr,
    /// The routes of this "peer" are the speaker's own (originated,
    /// redistributed): they win the [`DecisionStep::LocalOrigin`] step.
    ///
    /// [`DecisionStep::LocalOrigin`]: crate::DecisionStep::LocalOrigin
    pub local: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct PeerEntry {
    pub(crate) info: PeerInfo,
    pub(crate) paths: usize,
    /// Of `paths`, those of IPv6 prefixes.
    pub(crate) paths_v6: usize,
}

/// The peer registry of a RIB.
#[derive(Debug, Clone, Default)]
pub(crate) struct Peers {
    entries: Vec<Option<PeerEntry>>,
}

impl Peers {
    pub(crate) fn add(&mut self, info: PeerInfo) -> Option<PeerId> {
        let entry = Some(PeerEntry {
            info,
            paths: 0,
            paths_v6: 0,
        });
        if let Some(i) = self.entries.iter().position(Option::is_none) {
            if let Some(e) = self.entries.get_mut(i) {
                *e = entry;
            }
            return u16::try_from(i).ok().map(PeerId);
        }
        let i = u16::try_from(self.entries.len())
            .ok()
            .filter(|i| *i < u16::MAX)?;
        self.entries.push(entry);
        Some(PeerId(i))
    }

    pub(crate) fn remove(&mut self, id: PeerId) -> Option<PeerInfo> {
        self.entries
            .get_mut(usize::from(id.0))
            .and_then(Option::take)
            .map(|e| e.info)
    }

    pub(crate) fn get(&self, id: PeerId) -> Option<&PeerEntry> {
        self.entries.get(usize::from(id.0))?.as_ref()
    }

    pub(crate) fn get_mut(&mut self, id: PeerId) -> Option<&mut PeerEntry> {
        self.entries.get_mut(usize::from(id.0))?.as_mut()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (PeerId, &PeerEntry)> {
        self.entries
            .iter()
            .enumerate()
            .filter_map(|(i, e)| Some((PeerId(u16::try_from(i).ok()?), e.as_ref()?)))
    }
}
