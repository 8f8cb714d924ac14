//! Next-hop resolution, provided by the caller: whether a next hop is
//! reachable and at which IGP cost.
//!
//! The RIB asks the resolver while it selects. When the answers change
//! (an IGP or kernel route change), the caller tells the RIB with
//! [`crate::Rib::reevaluate`].

use std::net::IpAddr;

/// Resolves next hops: `Some(igp_cost)` when reachable, `None` when not.
pub trait NextHopResolver {
    /// The IGP cost to `next_hop`, or `None` if it is unreachable.
    fn resolve(&self, next_hop: IpAddr) -> Option<u32>;
}

impl<F: Fn(IpAddr) -> Option<u32>> NextHopResolver for F {
    fn resolve(&self, next_hop: IpAddr) -> Option<u32> {
        self(next_hop)
    }
}

/// Every next hop reachable at cost 0 (a route server, or a test).
#[derive(Debug, Clone, Copy, Default)]
pub struct AllReachable;

impl NextHopResolver for AllReachable {
    fn resolve(&self, _: IpAddr) -> Option<u32> {
        Some(0)
    }
}
