//! The route model: what the daemon asks for ([`RouteKind`]), what the
//! kernel holds ([`KernelRoute`]), and how the two are compared.
//!
//! A desired route names its outgoing device by name (`tunl0`); the kernel
//! reports an interface index. [`ResolvedRoute`] is a desired route with its
//! device names turned into indexes, ready to be compared with a kernel
//! route ([`ResolvedRoute::matches`]) or written to the kernel.
//!
//! Next-hop sets are compared as sets: the order in which the speaker lists
//! ECMP members, or in which the kernel dumps them, does not matter.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

/// An address family. IPv4 and IPv6 are programmed independently: each has
/// its own desired set, kernel mirror, recovery state and errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl Family {
    /// Both families, IPv4 first.
    pub const ALL: [Family; 2] = [Family::V4, Family::V6];

    /// The family of a prefix.
    pub fn of(prefix: &IpNet) -> Family {
        match prefix {
            IpNet::V4(_) => Family::V4,
            IpNet::V6(_) => Family::V6,
        }
    }

    /// The family of an address.
    pub fn of_addr(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// `"ipv4"` or `"ipv6"`.
    pub fn name(self) -> &'static str {
        match self {
            Family::V4 => "ipv4",
            Family::V6 => "ipv6",
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One next hop of a desired unicast route.
///
/// - `via 198.18.0.1` ([`NextHop::via`]): the kernel picks the outgoing
///   interface by looking the gateway up (it must be reachable, usually on
///   a connected subnet, else the kernel answers `ENETUNREACH`);
/// - `via 198.18.0.1 dev eth0` ([`NextHop::dev`]): through that device;
/// - `via 198.18.0.1 dev tunl0 onlink` ([`NextHop::onlink`]): through that
///   device, the gateway taken as directly attached whatever the subnets
///   say. This is how Calico's IP-in-IP routes look (BIRD's `krt_tunnel`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NextHop {
    /// The gateway, of the route's family.
    pub gateway: IpAddr,
    /// The outgoing device by name; `None`: resolved by the kernel.
    pub device: Option<String>,
    /// Whether the gateway is on-link through `device` (`RTNH_F_ONLINK`);
    /// needs a device.
    pub onlink: bool,
}

impl NextHop {
    /// `via GATEWAY`, the device resolved by the kernel.
    pub fn via(gateway: IpAddr) -> NextHop {
        NextHop {
            gateway,
            device: None,
            onlink: false,
        }
    }

    /// `via GATEWAY dev DEVICE onlink`.
    pub fn onlink(gateway: IpAddr, device: impl Into<String>) -> NextHop {
        NextHop {
            gateway,
            device: Some(device.into()),
            onlink: true,
        }
    }

    /// This next hop through `device` (not on-link).
    pub fn dev(mut self, device: impl Into<String>) -> NextHop {
        self.device = Some(device.into());
        self
    }
}

impl fmt::Display for NextHop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "via {}", self.gateway)?;
        if let Some(d) = &self.device {
            write!(f, " dev {d}")?;
        }
        if self.onlink {
            f.write_str(" onlink")?;
        }
        Ok(())
    }
}

/// What to do with a prefix in the kernel.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RouteKind {
    /// A unicast route through one or more next hops; several make one
    /// multipath (ECMP) route. The list is a set: order and duplicates do
    /// not matter.
    Unicast(Vec<NextHop>),
    /// `blackhole PREFIX` (the node's own IPAM blocks).
    Blackhole,
    /// Known, but not to be installed (e.g. routes inside VXLAN pools, which
    /// Felix programs): any route of ours for the prefix is removed at once,
    /// even before recovery is complete.
    NotInstalled,
}

impl RouteKind {
    /// A unicast route via one gateway, the device resolved by the kernel.
    pub fn via(gateway: IpAddr) -> RouteKind {
        RouteKind::Unicast(vec![NextHop::via(gateway)])
    }

    /// A unicast route via one gateway on-link through `device`
    /// (`via GW dev tunl0 onlink`).
    pub fn onlink(gateway: IpAddr, device: impl Into<String>) -> RouteKind {
        RouteKind::Unicast(vec![NextHop::onlink(gateway, device)])
    }

    /// A unicast route through several next hops (one multipath route).
    pub fn ecmp(hops: impl IntoIterator<Item = NextHop>) -> RouteKind {
        RouteKind::Unicast(hops.into_iter().collect())
    }

    /// The same route with its next hops sorted and without duplicates, so
    /// that equal sets compare equal.
    pub fn normalized(self) -> RouteKind {
        match self {
            RouteKind::Unicast(mut hops) => {
                hops.sort();
                hops.dedup();
                RouteKind::Unicast(hops)
            }
            other => other,
        }
    }
}

impl RouteKind {
    /// Whether a next hop names a device (its resolution then depends on
    /// the links).
    pub fn names_device(&self) -> bool {
        matches!(self, RouteKind::Unicast(hops) if hops.iter().any(|h| h.device.is_some()))
    }

    /// The device names the next hops use.
    pub fn devices(&self) -> impl Iterator<Item = &str> + '_ {
        let hops: &[NextHop] = match self {
            RouteKind::Unicast(h) => h,
            _ => &[],
        };
        hops.iter().filter_map(|h| h.device.as_deref())
    }
}

impl fmt::Display for RouteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RouteKind::Unicast(hops) => {
                for (i, h) in hops.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    h.fmt(f)?;
                }
                Ok(())
            }
            RouteKind::Blackhole => f.write_str("blackhole"),
            RouteKind::NotInstalled => f.write_str("not installed"),
        }
    }
}

/// A next hop of a route the kernel holds.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KernelNextHop {
    /// The gateway, if any (none for a device route).
    pub gateway: Option<IpAddr>,
    /// The outgoing interface index (0 if none was reported).
    pub oif: u32,
    /// `RTNH_F_ONLINK`.
    pub onlink: bool,
    /// The multipath weight minus one (`rtnh_hops`; 0 for weight 1).
    pub hops: u8,
}

/// The type and next hops of a kernel route.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KernelKind {
    /// `RTN_UNICAST`, with its next hops (one, or several for multipath).
    Unicast(Vec<KernelNextHop>),
    /// `RTN_BLACKHOLE`.
    Blackhole,
    /// Any other route type (`unreachable`, `prohibit`, `local`...), by
    /// its `rtm_type` number.
    Other(u8),
}

/// A route of a kernel table, as a dump or an event reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelRoute {
    /// The destination.
    pub prefix: IpNet,
    /// The routing table (`RTA_TABLE`, else `rtm_table`).
    pub table: u32,
    /// Who installed it (`rtm_protocol`: 12 is `bird`, 3 `boot`...).
    pub protocol: u8,
    /// The metric (`RTA_PRIORITY`; 0 if absent).
    pub metric: u32,
    /// The TOS selector (`rtm_tos`); routes with one are not ours to manage.
    pub tos: u8,
    /// The source prefix length (`rtm_src_len`, IPv6 source routing).
    pub src_len: u8,
    /// `RTM_F_CLONED`: a cache entry, not a table route.
    pub cloned: bool,
    /// The type and next hops.
    pub kind: KernelKind,
}

/// A next hop of a [`ResolvedRoute`]: the device as an interface index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResolvedHop {
    /// The gateway.
    pub gateway: IpAddr,
    /// The outgoing interface; `None`: the kernel chooses.
    pub oif: Option<u32>,
    /// On-link.
    pub onlink: bool,
}

/// A desired route ready for the kernel: devices resolved to indexes,
/// next hops sorted and unique.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResolvedRoute {
    /// Unicast through these next hops (at least one).
    Unicast(Vec<ResolvedHop>),
    /// Blackhole.
    Blackhole,
}

/// Why a desired route cannot be written as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveError {
    /// A unicast route without next hops.
    NoNextHop,
    /// A gateway of the other family than the prefix.
    WrongFamily(IpAddr),
    /// On-link without a device.
    OnlinkWithoutDevice(IpAddr),
    /// The device does not exist (yet).
    NoDevice(String),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::NoNextHop => f.write_str("unicast route without a next hop"),
            ResolveError::WrongFamily(gw) => {
                write!(f, "next hop {gw} is not of the prefix's family")
            }
            ResolveError::OnlinkWithoutDevice(gw) => {
                write!(f, "next hop {gw} is on-link but names no device")
            }
            ResolveError::NoDevice(d) => write!(f, "no device named {d}"),
        }
    }
}

impl std::error::Error for ResolveError {}

impl ResolvedRoute {
    /// Resolves a desired route for `prefix`: `None` for
    /// [`RouteKind::NotInstalled`]. `index_of` maps a device name to its
    /// interface index.
    pub fn resolve(
        prefix: &IpNet,
        kind: &RouteKind,
        index_of: impl Fn(&str) -> Option<u32>,
    ) -> Result<Option<ResolvedRoute>, ResolveError> {
        Self::resolve_for(Family::of(prefix), kind, index_of)
    }

    /// [`ResolvedRoute::resolve`] for any prefix of `family`.
    pub fn resolve_for(
        family: Family,
        kind: &RouteKind,
        index_of: impl Fn(&str) -> Option<u32>,
    ) -> Result<Option<ResolvedRoute>, ResolveError> {
        let hops = match kind {
            RouteKind::NotInstalled => return Ok(None),
            RouteKind::Blackhole => return Ok(Some(ResolvedRoute::Blackhole)),
            RouteKind::Unicast(hops) => hops,
        };
        if hops.is_empty() {
            return Err(ResolveError::NoNextHop);
        }
        let mut out = Vec::with_capacity(hops.len());
        for h in hops {
            if Family::of_addr(&h.gateway) != family {
                return Err(ResolveError::WrongFamily(h.gateway));
            }
            let oif = match &h.device {
                Some(d) => Some(index_of(d).ok_or_else(|| ResolveError::NoDevice(d.clone()))?),
                None if h.onlink => return Err(ResolveError::OnlinkWithoutDevice(h.gateway)),
                None => None,
            };
            out.push(ResolvedHop {
                gateway: h.gateway,
                oif,
                onlink: h.onlink,
            });
        }
        out.sort();
        out.dedup();
        Ok(Some(ResolvedRoute::Unicast(out)))
    }

    /// Whether the kernel's route is this one: same type; for unicast the
    /// same next-hop set, each desired hop matching one kernel hop by
    /// gateway, on-link flag and (when the desired hop names a device)
    /// interface, all with weight 1. Kernel flags such as `dead` or
    /// `linkdown` are state, not content, and are not compared.
    pub fn matches(&self, kernel: &KernelKind) -> bool {
        match (self, kernel) {
            (ResolvedRoute::Blackhole, KernelKind::Blackhole) => true,
            (ResolvedRoute::Unicast(want), KernelKind::Unicast(have)) => {
                if want.len() != have.len() {
                    return false;
                }
                // Small sets (a handful of ECMP members): a greedy match,
                // exact-interface hops first so that a wildcard cannot take
                // the kernel hop an exact one needs.
                let mut used = vec![false; have.len()];
                let exact = want.iter().filter(|w| w.oif.is_some());
                let wild = want.iter().filter(|w| w.oif.is_none());
                for w in exact.chain(wild) {
                    let found = have.iter().zip(used.iter_mut()).find(|(h, u)| {
                        !**u && h.gateway == Some(w.gateway)
                            && h.onlink == w.onlink
                            && h.hops == 0
                            && w.oif.is_none_or(|o| o == h.oif)
                    });
                    match found {
                        Some((_, u)) => *u = true,
                        None => return false,
                    }
                }
                true
            }
            _ => false,
        }
    }
}

impl fmt::Display for ResolvedRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolvedRoute::Blackhole => f.write_str("blackhole"),
            ResolvedRoute::Unicast(hops) => {
                for (i, h) in hops.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    write!(f, "via {}", h.gateway)?;
                    if let Some(o) = h.oif {
                        write!(f, " oif {o}")?;
                    }
                    if h.onlink {
                        f.write_str(" onlink")?;
                    }
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn khop(gw: &str, oif: u32, onlink: bool) -> KernelNextHop {
        KernelNextHop {
            gateway: Some(ip(gw)),
            oif,
            onlink,
            hops: 0,
        }
    }

    fn tunl0(name: &str) -> Option<u32> {
        (name == "tunl0").then_some(7)
    }

    #[test]
    fn resolve_checks_family_devices_and_onlink() {
        let p = net("198.19.1.0/24");
        let r = ResolvedRoute::resolve(&p, &RouteKind::onlink(ip("198.18.0.9"), "tunl0"), tunl0);
        assert_eq!(
            r.unwrap(),
            Some(ResolvedRoute::Unicast(vec![ResolvedHop {
                gateway: ip("198.18.0.9"),
                oif: Some(7),
                onlink: true
            }]))
        );
        let e = ResolvedRoute::resolve(&p, &RouteKind::via(ip("2001:db8::1")), tunl0);
        assert_eq!(e.unwrap_err(), ResolveError::WrongFamily(ip("2001:db8::1")));
        let e = ResolvedRoute::resolve(&p, &RouteKind::onlink(ip("198.18.0.9"), "eth9"), tunl0);
        assert_eq!(e.unwrap_err(), ResolveError::NoDevice("eth9".into()));
        let e = ResolvedRoute::resolve(&p, &RouteKind::Unicast(vec![]), tunl0);
        assert_eq!(e.unwrap_err(), ResolveError::NoNextHop);
        let bad = NextHop {
            gateway: ip("198.18.0.9"),
            device: None,
            onlink: true,
        };
        let e = ResolvedRoute::resolve(&p, &RouteKind::Unicast(vec![bad]), tunl0);
        assert!(matches!(e, Err(ResolveError::OnlinkWithoutDevice(_))));
        assert_eq!(
            ResolvedRoute::resolve(&p, &RouteKind::NotInstalled, tunl0),
            Ok(None)
        );
        assert_eq!(
            ResolvedRoute::resolve(&p, &RouteKind::Blackhole, tunl0),
            Ok(Some(ResolvedRoute::Blackhole))
        );
    }

    #[test]
    fn ecmp_sets_compare_as_sets() {
        let p = net("198.19.1.0/24");
        let kind = RouteKind::ecmp([
            NextHop::via(ip("198.18.0.3")),
            NextHop::via(ip("198.18.0.1")),
            NextHop::via(ip("198.18.0.3")),
        ]);
        let r = ResolvedRoute::resolve(&p, &kind, tunl0).unwrap().unwrap();
        // Kernel order differs, interfaces chosen by the kernel.
        let k = KernelKind::Unicast(vec![
            khop("198.18.0.1", 4, false),
            khop("198.18.0.3", 5, false),
        ]);
        assert!(r.matches(&k));
        // One member missing or extra: different.
        let k1 = KernelKind::Unicast(vec![khop("198.18.0.1", 4, false)]);
        assert!(!r.matches(&k1));
        let k3 = KernelKind::Unicast(vec![
            khop("198.18.0.1", 4, false),
            khop("198.18.0.3", 5, false),
            khop("198.18.0.5", 5, false),
        ]);
        assert!(!r.matches(&k3));
        // A weight other than 1 differs.
        let mut heavy = khop("198.18.0.3", 5, false);
        heavy.hops = 1;
        assert!(!r.matches(&KernelKind::Unicast(vec![
            khop("198.18.0.1", 4, false),
            heavy
        ])));
        assert_eq!(
            kind.clone().normalized(),
            RouteKind::ecmp([
                NextHop::via(ip("198.18.0.1")),
                NextHop::via(ip("198.18.0.3"))
            ])
        );
    }

    #[test]
    fn onlink_and_device_are_compared() {
        let p = net("198.19.1.0/24");
        let r = ResolvedRoute::resolve(
            &p,
            &RouteKind::ecmp([
                NextHop::onlink(ip("198.18.0.1"), "tunl0"),
                NextHop::onlink(ip("198.18.0.3"), "tunl0"),
            ]),
            tunl0,
        )
        .unwrap()
        .unwrap();
        let on = KernelKind::Unicast(vec![
            khop("198.18.0.3", 7, true),
            khop("198.18.0.1", 7, true),
        ]);
        assert!(r.matches(&on));
        // Same gateways through eth0 (index 2), or not on-link: different.
        let eth = KernelKind::Unicast(vec![
            khop("198.18.0.3", 2, true),
            khop("198.18.0.1", 2, true),
        ]);
        assert!(!r.matches(&eth));
        let plain = KernelKind::Unicast(vec![
            khop("198.18.0.3", 7, false),
            khop("198.18.0.1", 7, false),
        ]);
        assert!(!r.matches(&plain));
        // Types differ.
        assert!(!r.matches(&KernelKind::Blackhole));
        assert!(ResolvedRoute::Blackhole.matches(&KernelKind::Blackhole));
        assert!(!ResolvedRoute::Blackhole.matches(&KernelKind::Other(7)));
    }

    #[test]
    fn exact_hops_are_matched_before_wildcards() {
        // want: {gw dev 7, gw (any dev)}; kernel: {gw dev 2, gw dev 7}.
        // A wildcard matched first could take dev 7 and fail the exact one.
        let want = ResolvedRoute::Unicast(vec![
            ResolvedHop {
                gateway: ip("198.18.0.1"),
                oif: None,
                onlink: false,
            },
            ResolvedHop {
                gateway: ip("198.18.0.1"),
                oif: Some(7),
                onlink: false,
            },
        ]);
        let k = KernelKind::Unicast(vec![
            khop("198.18.0.1", 7, false),
            khop("198.18.0.1", 2, false),
        ]);
        assert!(want.matches(&k));
    }

    #[test]
    fn display() {
        let k = RouteKind::ecmp([
            NextHop::onlink(ip("198.18.0.1"), "tunl0"),
            NextHop::via(ip("198.18.0.3")).dev("eth0"),
        ]);
        assert_eq!(
            k.to_string(),
            "via 198.18.0.1 dev tunl0 onlink via 198.18.0.3 dev eth0"
        );
        assert_eq!(Family::of(&net("2001:db8::/32")).to_string(), "ipv6");
    }
}
