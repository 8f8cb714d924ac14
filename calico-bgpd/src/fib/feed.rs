//! From the speaker's best-path stream to the kernel.
//!
//! [`follow`] reads a [`bgp_speaker::Subscription`] and gives each batch of
//! best-path changes to the programmer as one update; which kernel route a
//! best path becomes is the caller's choice, a function from the
//! [`BestRoute`] to a [`RouteKind`]. In calico-bgpd that function is
//! Calico's kernel programming filter (behaviour spec §2.8.3): routes
//! inside VXLAN pools and service ranges are [`RouteKind::NotInstalled`];
//! IP-in-IP pools go on-link through `tunl0` to the BGP next hop
//! ([`onlink_next_hops`]), off-subnet only in CrossSubnet mode; everything
//! else is a plain route through the next hops ([`via_next_hops`]). The
//! node's own blocks are not in the stream (they are not learned): the
//! daemon sets them as [`RouteKind::Blackhole`] itself.
//!
//! Recovery: the programmer keeps the previous run's routes as stale until
//! [`crate::fib::FibProgrammer::mark_synced`]; the daemon calls it for a
//! family once every peer of that family has sent End-of-RIB, or the
//! graceful-restart time has run out.
//!
//! [`calico_best`] is that filter ([`super::filter`]) for a best path.
//!
//! ```no_run
//! # async fn f(speaker: bgp_speaker::Speaker, filter: calico_bgpd::calico::filters::KernelFilter)
//! # -> Result<(), Box<dyn std::error::Error>> {
//! use calico_bgpd::fib::{feed, FibConfig, FibProgrammer};
//!
//! let fib = FibProgrammer::start(FibConfig::default()).await?;
//! let mut sub = speaker.subscribe().await?;
//! feed::follow(&mut sub, &fib, |r| feed::calico_best(&filter, r)).await?;
//! # Ok(()) }
//! ```

use std::net::IpAddr;

use bgp_speaker::{BestRoute, Subscription};

use super::filter::calico_kind;
use super::route::{NextHop, RouteKind};
use super::{FibError, FibProgrammer, RouteUpdate};
use crate::calico::filters::KernelFilter;

/// [`calico_kind`] for a best path of the speaker's stream.
pub fn calico_best(filter: &KernelFilter, route: &BestRoute) -> RouteKind {
    let hops: Vec<IpAddr> = route.next_hops.iter().map(|n| n.addr()).collect();
    calico_kind(filter, &route.prefix, &hops)
}

/// A plain unicast route through every next hop of `route` (one multipath
/// route for ECMP), the devices found by the kernel;
/// [`RouteKind::NotInstalled`] if it has none.
pub fn via_next_hops(route: &BestRoute) -> RouteKind {
    if route.next_hops.is_empty() {
        return RouteKind::NotInstalled;
    }
    RouteKind::ecmp(route.next_hops.iter().map(|n| NextHop::via(n.addr())))
}

/// A unicast route on-link through `device` to every next hop of `route`
/// (`via NH dev tunl0 onlink`, multipath for ECMP);
/// [`RouteKind::NotInstalled`] if it has none.
pub fn onlink_next_hops(route: &BestRoute, device: &str) -> RouteKind {
    if route.next_hops.is_empty() {
        return RouteKind::NotInstalled;
    }
    RouteKind::ecmp(
        route
            .next_hops
            .iter()
            .map(|n| NextHop::onlink(n.addr(), device)),
    )
}

/// The update for one best-path change: a withdrawal for a prefix that
/// lost its last path, else `kind_of`'s choice.
pub fn update_for(route: &BestRoute, kind_of: impl FnOnce(&BestRoute) -> RouteKind) -> RouteUpdate {
    if route.is_withdrawal() {
        RouteUpdate::withdraw(route.prefix)
    } else {
        RouteUpdate::set(route.prefix, kind_of(route))
    }
}

/// Follows `sub` until the speaker stops (returns how many changes were
/// passed on) or the programmer stops ([`FibError::Stopped`]). Each batch
/// the subscription hands out becomes one [`FibProgrammer::update`]; the
/// subscription coalesces changes per prefix while the programmer is busy,
/// so memory stays bounded by the number of prefixes.
pub async fn follow(
    sub: &mut Subscription,
    fib: &FibProgrammer,
    mut kind_of: impl FnMut(&BestRoute) -> RouteKind,
) -> Result<u64, FibError> {
    let mut passed = 0u64;
    while let Some(batch) = sub.recv_batch().await {
        let updates: Vec<RouteUpdate> = batch.iter().map(|r| update_for(r, &mut kind_of)).collect();
        passed += updates.len() as u64;
        fib.update(updates).await?;
    }
    Ok(passed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgp_rib::NextHop as BgpNextHop;

    fn route(prefix: &str, hops: Vec<BgpNextHop>) -> BestRoute {
        BestRoute {
            prefix: prefix.parse().unwrap(),
            best: None,
            step: None,
            next_hops: hops,
        }
    }

    #[test]
    fn next_hops_become_kernel_next_hops() {
        let r = route(
            "198.19.4.0/26",
            vec![
                BgpNextHop::V4("198.18.0.12".parse().unwrap()),
                BgpNextHop::V4("198.18.0.13".parse().unwrap()),
            ],
        );
        assert_eq!(
            via_next_hops(&r),
            RouteKind::ecmp([
                NextHop::via("198.18.0.12".parse().unwrap()),
                NextHop::via("198.18.0.13".parse().unwrap())
            ])
        );
        assert_eq!(
            onlink_next_hops(&r, "tunl0"),
            RouteKind::ecmp([
                NextHop::onlink("198.18.0.12".parse().unwrap(), "tunl0"),
                NextHop::onlink("198.18.0.13".parse().unwrap(), "tunl0")
            ])
        );
        // IPv6: the global address, not the link-local one.
        let r6 = route(
            "2001:db8:4::/122",
            vec![BgpNextHop::V6 {
                global: "2001:db8:ff00::2".parse().unwrap(),
                link_local: Some("fe80::2".parse().unwrap()),
            }],
        );
        assert_eq!(
            via_next_hops(&r6),
            RouteKind::via("2001:db8:ff00::2".parse().unwrap())
        );
        assert_eq!(
            via_next_hops(&route("198.19.0.0/24", vec![])),
            RouteKind::NotInstalled
        );
    }

    #[test]
    fn a_lost_prefix_is_withdrawn() {
        // `best: None` is how the stream reports a prefix gone.
        let r = route("198.19.4.0/26", vec![]);
        assert_eq!(
            update_for(&r, |_| RouteKind::Blackhole),
            RouteUpdate::withdraw("198.19.4.0/26".parse().unwrap())
        );
    }
}
