//! The next-hop resolver the RIB task selects with: the caller's
//! ([`crate::SpeakerBuilder::resolver`]) or, without one, every next hop
//! reachable at IGP cost 0.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use bgp_rib::NextHopResolver;

/// The resolver of a speaker (cheap to clone: one shared instance).
#[derive(Clone, Default)]
pub(crate) struct Resolver(Option<Arc<dyn NextHopResolver + Send + Sync>>);

impl Resolver {
    pub(crate) fn new(r: Arc<dyn NextHopResolver + Send + Sync>) -> Self {
        Resolver(Some(r))
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_some() {
            "Resolver(caller's)"
        } else {
            "Resolver(all reachable)"
        })
    }
}

impl NextHopResolver for Resolver {
    /// The caller's answer; the unspecified address (a route this speaker
    /// originates without a next hop) is always reachable at cost 0 and is
    /// not asked.
    #[inline]
    fn resolve(&self, next_hop: IpAddr) -> Option<u32> {
        match &self.0 {
            None => Some(0),
            Some(_) if next_hop.is_unspecified() => Some(0),
            Some(r) => r.resolve(next_hop),
        }
    }
}
