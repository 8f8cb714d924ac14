//! Calico's kernel programming filter (`calico_kernel_programming`,
//! behaviour spec §2.8.3) as route kinds: which routes go into the kernel
//! and how, from the configuration side's [`KernelFilter`] (the node plan's
//! `kernel`, see [`crate::calico`]).
//!
//! | route | kernel |
//! |---|---|
//! | inside a service range, a VXLAN pool, or a pool `programClusterRoutes` leaves to Felix | not installed (items 48, 53, 57) |
//! | inside an IP-in-IP Always pool | `via NH dev tunl0 onlink` (item 54) |
//! | inside an IP-in-IP CrossSubnet pool | next hop in the node's subnet: plain; else through tunl0 (item 55) |
//! | inside a no-encap pool, or in no pool (a ToR's default route) | `via NH` (items 56, 59) |
//! | the node's own block (static protocol) | `blackhole` where its pool installs (item 58) |
//!
//! With ECMP every next hop gets its pool's treatment (multipath on-link
//! through tunl0 for IP-in-IP, item 60); BIRD applies `krt_tunnel` to
//! single-path routes only.

use std::net::IpAddr;

use ipnet::IpNet;

use super::route::{NextHop, RouteKind};
use crate::calico::filters::{KernelFilter, KernelRule, Tunnel};
use crate::calico::plan::StaticRoute;

/// The device of Calico's IP-in-IP routes.
pub const TUNL0: &str = "tunl0";

/// Calico's kernel programming filter (`calico_kernel_programming`,
/// behaviour spec §2.8.3) applied to a BGP route to `prefix` through
/// `next_hops` (the BGP next hops, ECMP members included): the first rule
/// whose range holds the prefix decides; a reject means not installed; an
/// install through `tunl0` puts every next hop on-link through it
/// (multipath for ECMP); CrossSubnet does so for the next hops outside the
/// node's subnet and keeps the others plain; no rule: a plain route
/// (a ToR's default route, say).
///
pub fn calico_kind(filter: &KernelFilter, prefix: &IpNet, next_hops: &[IpAddr]) -> RouteKind {
    if next_hops.is_empty() {
        return RouteKind::NotInstalled;
    }
    let rule = filter.rules.iter().find(|r| match r {
        KernelRule::Reject { cidr, .. } | KernelRule::Install { cidr, .. } => cidr.contains(prefix),
    });
    let tunnel = match rule {
        Some(KernelRule::Reject { .. }) => return RouteKind::NotInstalled,
        Some(KernelRule::Install { tunnel, .. }) => Some(tunnel),
        None => None,
    };
    RouteKind::ecmp(next_hops.iter().map(|gw| {
        let tunnelled = match tunnel {
            Some(Tunnel::Tunl0) => true,
            Some(Tunnel::CrossSubnet { local_subnet }) => !local_subnet.contains(gw),
            Some(Tunnel::None) | None => false,
        };
        if tunnelled {
            NextHop::onlink(*gw, TUNL0)
        } else {
            NextHop::via(*gw)
        }
    }))
}

/// A route of Calico's static protocol through the kernel filter: the
/// node's blocks become blackholes where their pool's rule installs (a
/// VXLAN pool's are left to Felix), service ranges are not installed,
/// `reachableBy` routes are plain routes through their gateway (the
/// tunnel applies to BGP routes only, as `krt_tunnel` needs a BGP next
/// hop).
pub fn calico_static(filter: &KernelFilter, route: &StaticRoute) -> RouteKind {
    let rejected = filter.rules.iter().find_map(|r| match r {
        KernelRule::Reject { cidr, .. } if cidr.contains(&route.prefix) => Some(true),
        KernelRule::Install { cidr, .. } if cidr.contains(&route.prefix) => Some(false),
        _ => None,
    });
    match (rejected, route.via) {
        (Some(true), _) => RouteKind::NotInstalled,
        (_, None) => RouteKind::Blackhole,
        (_, Some(gw)) => RouteKind::via(gw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calico::filters::RejectReason;
    use crate::calico::plan::StaticReason;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    /// VXLAN pool 198.19.128.0/18, IP-in-IP Always 198.19.0.0/18,
    /// CrossSubnet 198.19.64.0/18 with the node in 198.18.0.0/24, a service
    /// range 198.18.200.0/24.
    fn filter() -> KernelFilter {
        KernelFilter {
            rules: vec![
                KernelRule::Reject {
                    cidr: net("198.18.200.0/24"),
                    reason: RejectReason::ServiceRange,
                },
                KernelRule::Reject {
                    cidr: net("198.19.128.0/18"),
                    reason: RejectReason::Vxlan,
                },
                KernelRule::Install {
                    cidr: net("198.19.0.0/18"),
                    tunnel: Tunnel::Tunl0,
                },
                KernelRule::Install {
                    cidr: net("198.19.64.0/18"),
                    tunnel: Tunnel::CrossSubnet {
                        local_subnet: net("198.18.0.0/24"),
                    },
                },
            ],
        }
    }

    #[test]
    fn calico_kernel_filter() {
        let f = filter();
        // Items 53, 54, 55, 56/59, 60.
        assert_eq!(
            calico_kind(&f, &net("198.19.130.0/26"), &[ip("198.18.0.12")]),
            RouteKind::NotInstalled
        );
        assert_eq!(
            calico_kind(&f, &net("198.19.4.0/26"), &[ip("198.18.0.12")]),
            RouteKind::onlink(ip("198.18.0.12"), "tunl0")
        );
        assert_eq!(
            calico_kind(
                &f,
                &net("198.19.4.0/26"),
                &[ip("198.18.0.12"), ip("198.18.0.13")]
            ),
            RouteKind::ecmp([
                NextHop::onlink(ip("198.18.0.12"), "tunl0"),
                NextHop::onlink(ip("198.18.0.13"), "tunl0")
            ])
        );
        assert_eq!(
            calico_kind(&f, &net("198.19.65.0/26"), &[ip("198.18.0.12")]),
            RouteKind::via(ip("198.18.0.12"))
        );
        assert_eq!(
            calico_kind(&f, &net("198.19.65.0/26"), &[ip("198.18.5.12")]),
            RouteKind::onlink(ip("198.18.5.12"), "tunl0")
        );
        assert_eq!(
            calico_kind(&f, &net("0.0.0.0/0"), &[ip("198.18.0.254")]),
            RouteKind::via(ip("198.18.0.254"))
        );
        assert_eq!(
            calico_kind(&f, &net("198.18.200.7/32"), &[ip("198.18.0.254")]),
            RouteKind::NotInstalled
        );
        assert_eq!(
            calico_kind(&f, &net("198.19.4.0/26"), &[]),
            RouteKind::NotInstalled
        );
        // IPv6: no IPv6 rule matches an IPv4 range.
        assert_eq!(
            calico_kind(&f, &net("2001:db8:4::/122"), &[ip("2001:db8:ff00::2")]),
            RouteKind::via(ip("2001:db8:ff00::2"))
        );
    }

    #[test]
    fn calico_static_routes() {
        let f = filter();
        let s = |prefix: &str, via: Option<&str>, reason| StaticRoute {
            prefix: net(prefix),
            via: via.map(ip),
            reason,
        };
        // Item 58: the node's own block in an installing pool: blackhole,
        // tunnel or not.
        assert_eq!(
            calico_static(&f, &s("198.19.0.0/26", None, StaticReason::Block)),
            RouteKind::Blackhole
        );
        assert_eq!(
            calico_static(&f, &s("198.19.64.0/26", None, StaticReason::Block)),
            RouteKind::Blackhole
        );
        // A VXLAN pool's block: Felix's.
        assert_eq!(
            calico_static(&f, &s("198.19.128.0/26", None, StaticReason::Block)),
            RouteKind::NotInstalled
        );
        // Service range: advertised, not installed.
        assert_eq!(
            calico_static(&f, &s("198.18.200.0/24", None, StaticReason::Service)),
            RouteKind::NotInstalled
        );
        // reachableBy: plain, even inside an IP-in-IP pool.
        assert_eq!(
            calico_static(
                &f,
                &s(
                    "198.19.1.1/32",
                    Some("198.18.0.1"),
                    StaticReason::ReachableBy
                )
            ),
            RouteKind::via(ip("198.18.0.1"))
        );
    }
}
