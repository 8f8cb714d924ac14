//! What the kernel should hold, per prefix: the node's static routes (its
//! blocks as blackholes, `reachableBy` routes, service ranges kept out)
//! and the best paths learned from peers through Calico's kernel filter —
//! the routes BIRD's kernel protocol exports in calico-node.
//!
//! [`Composer`] is pure: it takes plans and best-path changes and gives
//! the [`RouteUpdate`]s for the FIB programmer, only for the prefixes whose
//! kernel route changes.
//!
//! - A static route wins over a learned one of the same prefix (BIRD's
//!   static protocol has a higher preference than BGP): the node's own
//!   block stays a blackhole whatever peers say.
//! - A learned best path goes through the kernel filter ([`calico_kind`]):
//!   VXLAN pools and service ranges are not installed, IP-in-IP pools go
//!   on-link through the tunnel device (CrossSubnet: off-subnet next hops
//!   only), everything else plainly, ECMP as one multipath route.
//! - A best path the node originates itself is not installed (its static
//!   route is, when it has one).
//! - A plan change (a pool's encapsulation, a new block) recomputes every
//!   prefix it concerns.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use bgp_speaker::{BestRoute, RouteSource};
use ipnet::IpNet;

use crate::calico::filters::KernelFilter;
use crate::calico::plan::NodePlan;
use crate::fib::filter::{TUNL0, calico_kind, calico_static};
use crate::fib::{NextHop, RouteKind, RouteUpdate};

/// The next hops of a best path learned from a peer; `None` for a
/// withdrawal or a route this node originates.
pub fn learned_hops(r: &BestRoute) -> (IpNet, Option<Vec<IpAddr>>) {
    let hops = match r.best.as_ref().map(|b| b.source) {
        Some(RouteSource::Peer(_)) => Some(r.next_hops.iter().map(|n| n.addr()).collect()),
        _ => None,
    };
    (r.prefix, hops)
}

/// The kernel side of one node (see the [module documentation](self)).
#[derive(Debug, Clone, Default)]
pub struct Composer {
    filter_v4: KernelFilter,
    filter_v6: KernelFilter,
    device: String,
    statics: HashMap<IpNet, RouteKind>,
    learned: HashMap<IpNet, Vec<IpAddr>>,
    sent: HashMap<IpNet, RouteKind>,
}

impl Composer {
    /// A composer whose IP-in-IP routes go through `device`.
    pub fn new(device: impl Into<String>) -> Composer {
        Composer {
            device: device.into(),
            ..Composer::default()
        }
    }

    fn filter(&self, p: &IpNet) -> &KernelFilter {
        match p {
            IpNet::V4(_) => &self.filter_v4,
            IpNet::V6(_) => &self.filter_v6,
        }
    }

    fn rename(&self, k: RouteKind) -> RouteKind {
        if self.device == TUNL0 {
            return k;
        }
        match k {
            RouteKind::Unicast(hops) => RouteKind::Unicast(
                hops.into_iter()
                    .map(|h| NextHop {
                        device: h
                            .device
                            .map(|d| if d == TUNL0 { self.device.clone() } else { d }),
                        ..h
                    })
                    .collect(),
            ),
            other => other,
        }
    }

    /// The kernel route wanted for `p` now (`None`: no route of ours).
    pub fn wanted(&self, p: &IpNet) -> Option<RouteKind> {
        if let Some(k) = self.statics.get(p) {
            return Some(k.clone());
        }
        let hops = self.learned.get(p)?;
        Some(self.rename(calico_kind(self.filter(p), p, hops)))
    }

    fn refresh(&mut self, prefixes: impl IntoIterator<Item = IpNet>, out: &mut Vec<RouteUpdate>) {
        for p in prefixes {
            let want = self.wanted(&p);
            if self.sent.get(&p) == want.as_ref() {
                continue;
            }
            match want {
                Some(k) => {
                    self.sent.insert(p, k.clone());
                    out.push(RouteUpdate::set(p, k));
                }
                None => {
                    self.sent.remove(&p);
                    out.push(RouteUpdate::withdraw(p));
                }
            }
        }
    }

    /// Takes a new plan (kernel filters and static routes); returns the
    /// changes. Families the daemon does not run (`runs` false) have no
    /// static routes.
    pub fn set_plan(
        &mut self,
        plan: &NodePlan,
        runs: impl Fn(&IpAddr) -> bool,
    ) -> Vec<RouteUpdate> {
        let mut statics = HashMap::new();
        let mut filters = [KernelFilter::default(), KernelFilter::default()];
        for (slot, fam) in filters.iter_mut().zip([&plan.ipv4, &plan.ipv6]) {
            let Some(fam) = fam.as_ref().filter(|f| runs(&f.address)) else {
                continue;
            };
            *slot = fam.kernel.clone();
            for s in &fam.static_routes {
                statics.insert(s.prefix, calico_static(&fam.kernel, s));
            }
        }
        let [v4, v6] = filters;
        self.filter_v4 = v4;
        self.filter_v6 = v6;
        let old = std::mem::replace(&mut self.statics, statics);
        let mut touched: HashSet<IpNet> = old.into_keys().collect();
        touched.extend(self.statics.keys().copied());
        // A filter change may change every learned route.
        touched.extend(self.learned.keys().copied());
        let mut touched: Vec<IpNet> = touched.into_iter().collect();
        touched.sort();
        let mut out = Vec::new();
        self.refresh(touched, &mut out);
        out
    }

    fn learn(&mut self, prefix: IpNet, hops: Option<Vec<IpAddr>>) {
        match hops {
            Some(h) if !h.is_empty() => {
                self.learned.insert(prefix, h);
            }
            _ => {
                self.learned.remove(&prefix);
            }
        }
    }

    /// Takes a batch of best-path changes, each a prefix and the next hops
    /// of its best path when it was learned from a peer ([`learned_hops`]);
    /// returns the kernel changes.
    pub fn apply(
        &mut self,
        batch: impl IntoIterator<Item = (IpNet, Option<Vec<IpAddr>>)>,
    ) -> Vec<RouteUpdate> {
        let mut touched = Vec::new();
        for (p, hops) in batch {
            self.learn(p, hops);
            touched.push(p);
        }
        let mut out = Vec::new();
        self.refresh(touched, &mut out);
        out
    }

    /// Replaces every learned route of one address family (`v4`) with
    /// `routes`, the whole Loc-RIB of that family; returns the changes.
    pub fn replace_family(
        &mut self,
        v4: bool,
        routes: impl IntoIterator<Item = (IpNet, Option<Vec<IpAddr>>)>,
    ) -> Vec<RouteUpdate> {
        let mut touched: Vec<IpNet> = self
            .learned
            .keys()
            .filter(|p| p.addr().is_ipv4() == v4)
            .copied()
            .collect();
        for p in &touched {
            self.learned.remove(p);
        }
        for (p, hops) in routes {
            if p.addr().is_ipv4() == v4 {
                self.learn(p, hops);
                touched.push(p);
            }
        }
        touched.sort();
        touched.dedup();
        let mut out = Vec::new();
        self.refresh(touched, &mut out);
        out
    }

    /// Every kernel route wanted now, by prefix (for status and tests).
    pub fn all_wanted(&self) -> Vec<(IpNet, RouteKind)> {
        let mut v: Vec<(IpNet, RouteKind)> =
            self.sent.iter().map(|(p, k)| (*p, k.clone())).collect();
        v.sort_by_key(|(p, _)| *p);
        v
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::calico::plan::{self, Settings};
    use crate::calico::resources::ResourceSet;
    use crate::calico::secrets::NoSecrets;

    fn plan(ipip: &str) -> NodePlan {
        let text = format!(
            r#"
apiVersion: projectcalico.org/v3
kind: Node
metadata: {{name: a}}
spec: {{bgp: {{ipv4Address: 198.18.0.1/24}}}}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {{name: p}}
spec: {{cidr: 198.19.0.0/18, ipipMode: {ipip}}}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {{name: vx}}
spec: {{cidr: 198.19.128.0/18, vxlanMode: Always}}
---
apiVersion: projectcalico.org/v3
kind: BlockAffinity
metadata: {{name: a-1}}
spec: {{node: a, cidr: 198.19.0.0/26, state: confirmed}}
"#
        );
        let (set, _) = ResourceSet::from_yaml("t.yaml".as_ref(), &text).unwrap();
        plan::compute(&set, &Settings::new("a"), &NoSecrets).unwrap()
    }

    fn learned(c: &mut Composer, p: &str, hops: &[&str]) -> Vec<RouteUpdate> {
        let hops = hops.iter().map(|h| h.parse().unwrap()).collect();
        c.apply([(p.parse().unwrap(), Some(hops))])
    }

    #[test]
    fn statics_win_and_filters_apply() {
        let mut c = Composer::new("tunl0");
        let u = c.set_plan(&plan("Always"), |_| true);
        assert_eq!(
            u,
            [RouteUpdate::set(
                "198.19.0.0/26".parse().unwrap(),
                RouteKind::Blackhole
            )]
        );
        let u = learned(&mut c, "198.19.0.64/26", &["198.18.0.2"]);
        assert_eq!(
            u,
            [RouteUpdate::set(
                "198.19.0.64/26".parse().unwrap(),
                RouteKind::onlink("198.18.0.2".parse().unwrap(), "tunl0")
            )]
        );
        // Our own block learned from a peer: the blackhole stays.
        assert!(learned(&mut c, "198.19.0.0/26", &["198.18.0.2"]).is_empty());
        // VXLAN: not installed; outside pools: plain, ECMP.
        let u = learned(&mut c, "198.19.128.0/26", &["198.18.0.2"]);
        assert_eq!(u[0].kind, Some(RouteKind::NotInstalled));
        let u = learned(&mut c, "0.0.0.0/0", &["198.18.0.253", "198.18.0.254"]);
        assert_eq!(
            u[0].kind,
            Some(RouteKind::ecmp([
                NextHop::via("198.18.0.253".parse().unwrap()),
                NextHop::via("198.18.0.254".parse().unwrap())
            ]))
        );
        // The pool becomes unencapsulated: its learned route changes.
        let u = c.set_plan(&plan("Never"), |_| true);
        assert_eq!(
            u,
            [RouteUpdate::set(
                "198.19.0.64/26".parse().unwrap(),
                RouteKind::via("198.18.0.2".parse().unwrap())
            )]
        );
        // Withdrawn.
        let u = c.apply([("198.19.0.64/26".parse().unwrap(), None)]);
        assert_eq!(
            u,
            [RouteUpdate::withdraw("198.19.0.64/26".parse().unwrap())]
        );
        // The whole family replaced (after graceful restart): only the
        // default route is left learned.
        let u = c.replace_family(
            true,
            [(
                "0.0.0.0/0".parse().unwrap(),
                Some(vec!["198.18.0.253".parse().unwrap()]),
            )],
        );
        assert_eq!(u.len(), 2, "{u:?}");
        // Another tunnel device.
        let mut c = Composer::new("ipip0");
        c.set_plan(&plan("Always"), |_| true);
        let u = learned(&mut c, "198.19.0.64/26", &["198.18.0.2"]);
        assert_eq!(
            u[0].kind,
            Some(RouteKind::onlink("198.18.0.2".parse().unwrap(), "ipip0"))
        );
    }
}
