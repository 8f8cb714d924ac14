//! From a [`NodePlan`] to bgp-speaker's [`Config`]: one peer per planned
//! session (Calico's sessions are per family, as bird and bird6 have
//! theirs), the node's static routes and learned kernel routes as
//! originated routes, and the plan's policies with what they cannot say
//! themselves filled in from the routes the daemon holds.
//!
//! # Sessions
//!
//! | plan ([`Session`]) | [`PeerConfig`] |
//! |---|---|
//! | `peer_address`, `peer_port`, `peer_as` | `address`, `port` (179), `remote_as` |
//! | `name` (`Mesh_198_18_0_2`) | `name` |
//! | `source_address` | `local_address` |
//! | `local_as` when `local_as_override` | `local_as` |
//! | `passive` | `passive` |
//! | `password` | `password` (TCP MD5) |
//! | `graceful_restart_time` (else 120) | `graceful_restart.restart_time`, with the R bit after a start and the F bit when the kernel is programmed |
//! | `keepalive_time` | `keepalive_time` |
//! | `hops`: direct / multihop N / TTL security N | TTL 1 / `multihop` N / `ttl_security` N |
//! | `next_hop`: auto / self / keep | `default` / `self` / `unchanged` |
//! | `allow_local_as` | `allow_own_as` |
//! | `rr_client_cluster_id` | `route_reflector_client` (the speaker's cluster id is the node's) |
//! | the family | `families` (one) |
//! | session template | hold 240, connect retry 5, error wait 5, ADD-PATH both ways |
//! | import stages | BGPFilter policies, then accept (`import_default`) |
//! | export stages | BGPFilter policies, the interface gate, Calico's export, reject |
//!
//! # Routes this node originates
//!
//! The static protocol's blocks (confirmed and pending deletion) and service
//! routes, with this node's address as next hop on each session; and, with
//! kernel learning, the routes of other owners inside the family's
//! exporting pools ([`KernelFacts::routes`]: Felix's borrowed workload
//! addresses on `cali*`, its VXLAN and WireGuard routes). `reachableBy`
//! routes go to the kernel only.
//!
//! # What policies cannot see
//!
//! bgp-rib's conditions do not see a route's interface or whether it was
//! learned from a peer; the daemon does, for the routes it originates. So
//! those conditions become prefix sets of the routes concerned, rebuilt
//! when they change:
//!
//! - the interface gate ([`Stage::InterfaceGate`]: `*.cali` and `*.calico`
//!   towards iBGP peers, `bpf*.cali` towards all) rejects exactly the
//!   learned kernel routes on those interfaces;
//! - a BGPFilter rule's `source: RemotePeers` holds for a route not in the
//!   set of originated prefixes (on import: always);
//! - its `interface: GLOB` holds for learned kernel routes on a matching
//!   interface, and for routes whose next hop is on the subnet of a
//!   matching interface (BIRD's `ifname` of a BGP route is its next hop's
//!   interface).
//!
//! A prefix both originated here and learned from a peer is judged as
//! originated (the originated path is the best one: bgp-rib prefers local
//! routes, as BIRD's protocol preferences do for static routes).

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bgp_rib::policy::config::{MatchConfig, PolicyConfig, TermConfig};
use bgp_rib::policy::{DefaultAction, Flow, Verdict};
use bgp_speaker::{
    AddPathMode, Config, DecisionSettings, Family as SpeakerFamily, GracefulRestart, NextHopMode,
    Originate, PeerConfig,
};
use ipnet::IpNet;

use super::config::CalicoSection;
use crate::calico::Family;
use crate::calico::filters::{Direction, FilterFunction, Resolved, RuleMatch, Stage, glob_match};
use crate::calico::peering::{Hops, NextHop, Session};
use crate::calico::plan::{FamilyPlan, NodePlan, StaticReason};

/// A route of another owner in the kernel's main table, as the daemon
/// learned it (BIRD's `learn`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct KernelRoute {
    /// The destination.
    pub prefix: IpNet,
    /// The interface of its (first) next hop, when it has one.
    pub interface: Option<String>,
}

/// What the daemon knows of the kernel besides its own routes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelFacts {
    /// Other owners' routes (not `kernel`, not ours), by prefix.
    pub routes: BTreeMap<IpNet, KernelRoute>,
    /// Connected subnets (`proto kernel` link routes) and their interface.
    pub connected: BTreeSet<(IpNet, String)>,
}

/// The kernel routes of `plan`'s family that the node originates: inside
/// an exporting pool, not one of the node's static routes.
pub fn learned_to_originate<'a>(
    fam: &'a FamilyPlan,
    facts: &'a KernelFacts,
) -> impl Iterator<Item = &'a KernelRoute> + 'a {
    facts.routes.values().filter(move |r| {
        fam.export.pools.iter().any(|p| p.contains(&r.prefix))
            && !fam.static_routes.iter().any(|s| s.prefix == r.prefix)
    })
}

fn family_name(f: Family) -> &'static str {
    match f {
        Family::Ipv4 => "v4",
        Family::Ipv6 => "v6",
    }
}

fn speaker_family(f: Family) -> SpeakerFamily {
    match f {
        Family::Ipv4 => SpeakerFamily::Ipv4Unicast,
        Family::Ipv6 => SpeakerFamily::Ipv6Unicast,
    }
}

/// The name of the policy of an interface gate: one per family and
/// pattern list.
pub fn gate_policy_name(family: Family, patterns: &[String]) -> String {
    let kind = if patterns.iter().any(|p| p == "*.cali") {
        "ibgp"
    } else {
        "all"
    };
    format!("calico_interface_gate_{}_{kind}", family_name(family))
}

/// A condition that no route of `family` meets.
fn never() -> Resolved {
    Resolved::Never
}

fn prefix_match(prefixes: &BTreeSet<IpNet>) -> Option<MatchConfig> {
    (!prefixes.is_empty()).then(|| MatchConfig {
        prefix: Some(prefixes.iter().map(IpNet::to_string).collect()),
        ..MatchConfig::default()
    })
}

/// Everything one family needs from the kernel facts.
struct FamilyFacts {
    /// Every prefix this node originates in the family.
    originated: BTreeSet<IpNet>,
    /// Learned kernel routes originated, with their interface.
    learned: Vec<KernelRoute>,
    /// Connected subnets of the family.
    connected: Vec<(IpNet, String)>,
}

impl FamilyFacts {
    fn new(fam: &FamilyPlan, facts: &KernelFacts) -> FamilyFacts {
        let learned: Vec<KernelRoute> = learned_to_originate(fam, facts).cloned().collect();
        let mut originated: BTreeSet<IpNet> = fam
            .static_routes
            .iter()
            .filter(|s| s.reason != StaticReason::ReachableBy)
            .map(|s| s.prefix)
            .collect();
        originated.extend(learned.iter().map(|r| r.prefix));
        let v4 = fam.address.is_ipv4();
        FamilyFacts {
            originated,
            learned,
            connected: facts
                .connected
                .iter()
                .filter(|(n, _)| n.addr().is_ipv4() == v4)
                .cloned()
                .collect(),
        }
    }

    fn on_interfaces(&self, patterns: &[String]) -> BTreeSet<IpNet> {
        self.learned
            .iter()
            .filter(|r| {
                r.interface
                    .as_deref()
                    .is_some_and(|i| patterns.iter().any(|p| glob_match(p, i)))
            })
            .map(|r| r.prefix)
            .collect()
    }

    /// What a typed condition of a BGPFilter becomes.
    fn resolve(&self, direction: Direction, m: &RuleMatch) -> Option<Resolved> {
        match m {
            RuleMatch::FromBgpPeer if direction == Direction::Import => Some(Resolved::Always),
            RuleMatch::FromBgpPeer => Some(match prefix_match(&self.originated) {
                Some(p) => Resolved::Match(Box::new(MatchConfig {
                    not: Some(Box::new(p)),
                    ..MatchConfig::default()
                })),
                None => Resolved::Always,
            }),
            RuleMatch::Interface(glob) => {
                let pats = [glob.clone()];
                let mut any = Vec::new();
                if direction == Direction::Export
                    && let Some(p) = prefix_match(&self.on_interfaces(&pats))
                {
                    any.push(p);
                }
                let subnets: Vec<String> = self
                    .connected
                    .iter()
                    .filter(|(_, i)| glob_match(glob, i))
                    .map(|(n, _)| n.to_string())
                    .collect();
                if !subnets.is_empty() {
                    let on_subnet = MatchConfig {
                        next_hop: Some(subnets),
                        ..MatchConfig::default()
                    };
                    // On export our own routes have no next hop of their
                    // own; only learned ones can match.
                    any.push(match prefix_match(&self.originated) {
                        Some(p) if direction == Direction::Export => MatchConfig {
                            all: Some(vec![
                                on_subnet,
                                MatchConfig {
                                    not: Some(Box::new(p)),
                                    ..MatchConfig::default()
                                },
                            ]),
                            ..MatchConfig::default()
                        },
                        _ => on_subnet,
                    });
                }
                Some(match any.len() {
                    0 => never(),
                    1 => Resolved::Match(Box::new(any.pop().unwrap_or_default())),
                    _ => Resolved::Match(Box::new(MatchConfig {
                        any: Some(any),
                        ..MatchConfig::default()
                    })),
                })
            }
            _ => None,
        }
    }
}

/// The speaker's configuration for `plan`, with `facts` from the kernel.
pub fn speaker_config(plan: &NodePlan, section: &CalicoSection, facts: &KernelFacts) -> Config {
    let mut c = Config::new(plan.local_as, plan.router_id);
    c.cluster_id = plan.route_reflector_cluster_id;
    c.decision = DecisionSettings {
        max_paths: section.max_paths.max(1),
        multipath_relax: true,
        ..DecisionSettings::default()
    };
    c.families = Vec::new();
    c.prefix_set = plan.policies.prefix_set.clone();
    c.policy = plan.policies.policy.clone();
    let mut dynamic: BTreeMap<String, PolicyConfig> = BTreeMap::new();
    for (family, fam) in [(Family::Ipv4, &plan.ipv4), (Family::Ipv6, &plan.ipv6)] {
        let Some(fam) = fam else { continue };
        if !section.runs(&fam.address) {
            continue;
        }
        c.families.push(speaker_family(family));
        let any = match family {
            Family::Ipv4 => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            Family::Ipv6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        c.listen.push(SocketAddr::new(
            fam.listen.address.unwrap_or(any),
            fam.listen.port,
        ));
        let ff = FamilyFacts::new(fam, facts);
        for s in &fam.static_routes {
            if s.reason != StaticReason::ReachableBy {
                c.originate.push(Originate::new(s.prefix));
            }
        }
        for r in &ff.learned {
            c.originate.push(Originate::new(r.prefix));
        }
        for s in &fam.sessions {
            let p = peer_config(plan, section, family, s, &mut dynamic, &ff);
            if c.peers.iter().all(|q| q.address != p.address) {
                c.peers.push(p);
            }
        }
    }
    // The BGPFilter functions the plan could not translate, and the gates.
    c.policy.retain(|p| !dynamic.contains_key(&p.name));
    c.policy.extend(dynamic.into_values());
    c
}

fn peer_config(
    plan: &NodePlan,
    section: &CalicoSection,
    family: Family,
    s: &Session,
    dynamic: &mut BTreeMap<String, PolicyConfig>,
    ff: &FamilyFacts,
) -> PeerConfig {
    let t = &plan.session_template;
    let mut p = PeerConfig::new(s.peer_address, s.peer_as);
    p.name = Some(s.name.clone());
    p.port = s.peer_port.unwrap_or(179);
    p.local_address = s.source_address;
    p.local_as = s.local_as_override.then_some(s.local_as);
    p.passive = s.passive;
    p.password = s.password.as_ref().map(|w| w.value.clone());
    let clamp = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
    p.hold_time = section.timers.hold_time.unwrap_or(clamp(t.hold_time));
    p.keepalive_time = s.keepalive_time.map(clamp);
    p.connect_retry_time = section
        .timers
        .connect_retry
        .unwrap_or(clamp(t.connect_retry_time));
    p.restart_delay = section
        .timers
        .error_wait
        .unwrap_or(clamp(t.error_wait_time.0));
    p.families = Some(vec![speaker_family(family)]);
    match s.hops {
        Hops::Direct => {}
        Hops::Multihop(n) => p.multihop = Some(n),
        Hops::TtlSecurity(n) => p.ttl_security = Some(n),
    }
    p.route_reflector_client = s.rr_client_cluster_id.is_some();
    p.next_hop = match s.next_hop {
        NextHop::Auto => NextHopMode::Default,
        NextHop::SelfAddress => NextHopMode::SelfAddress,
        NextHop::Keep => NextHopMode::Unchanged,
    };
    p.allow_own_as = s
        .allow_local_as
        .map_or(0, |n| u8::try_from(n).unwrap_or(u8::MAX));
    if t.graceful_restart {
        p.graceful_restart = Some(GracefulRestart {
            restart_time: u16::try_from(
                s.graceful_restart_time
                    .unwrap_or(t.graceful_restart_time)
                    .min(4095),
            )
            .unwrap_or(4095),
            restarting: true,
            forwarding_state: section.fib.enabled,
            ..GracefulRestart::default()
        });
    }
    if t.add_paths_rx_tx {
        p.add_path = AddPathMode::Both;
    }
    for (dir, stages, names, default) in [
        (
            Direction::Import,
            &s.import,
            &mut p.import,
            &mut p.import_default,
        ),
        (
            Direction::Export,
            &s.export,
            &mut p.export,
            &mut p.export_default,
        ),
    ] {
        for st in stages {
            match st {
                Stage::BgpFilter(name) => {
                    let func = plan.filter_functions.iter().find(|f| &f.name == name);
                    if let Some(f) = func.filter(|f| f.untranslatable.is_some()) {
                        dynamic_filter(f, dir, ff, dynamic);
                    }
                    names.push(name.clone());
                }
                Stage::InterfaceGate(patterns) => {
                    let name = gate_policy_name(family, patterns);
                    dynamic
                        .entry(name.clone())
                        .or_insert_with(|| gate_policy(&name, &ff.on_interfaces(patterns)));
                    names.push(name);
                }
                Stage::Policy(n) => names.push(n.clone()),
                Stage::Accept => *default = Verdict::Accept,
            }
        }
    }
    p
}

/// A BGPFilter function whose rules need the route's origin or interface,
/// as a policy over the routes held now.
fn dynamic_filter(
    f: &FilterFunction,
    dir: Direction,
    ff: &FamilyFacts,
    dynamic: &mut BTreeMap<String, PolicyConfig>,
) {
    if dynamic.contains_key(&f.name) {
        return;
    }
    let policy = f
        .policy_with(&|m| ff.resolve(dir, m))
        .unwrap_or_else(|| PolicyConfig {
            // Cannot happen: every typed condition has a resolution.
            name: f.name.clone(),
            default: DefaultAction::NextPolicy,
            terms: Vec::new(),
        });
    dynamic.insert(f.name.clone(), policy);
}

/// The interface gate as a policy: reject exactly these prefixes.
fn gate_policy(name: &str, rejected: &BTreeSet<IpNet>) -> PolicyConfig {
    PolicyConfig {
        name: name.to_string(),
        default: DefaultAction::NextPolicy,
        terms: prefix_match(rejected)
            .map(|m| TermConfig {
                name: Some("learned on a gated interface".into()),
                then: Flow::Reject,
                matches: m,
                set: Default::default(),
            })
            .into_iter()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::calico::plan::{self, Settings};
    use crate::calico::resources::ResourceSet;
    use crate::calico::secrets::NoSecrets;

    const RESOURCES: &str = r#"
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec: {asNumber: 64512, nodeMeshMaxRestartTime: 90s}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: a}
spec: {bgp: {ipv4Address: 198.18.0.1/24, ipv6Address: "2001:db8::1/64"}}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: b}
spec: {bgp: {ipv4Address: 198.18.0.2/24, ipv6Address: "2001:db8::2/64"}}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: p}
spec: {cidr: 198.19.0.0/16, ipipMode: Always}
---
apiVersion: projectcalico.org/v3
kind: BlockAffinity
metadata: {name: a-block}
spec: {node: a, cidr: 198.19.0.0/26, state: confirmed}
---
apiVersion: projectcalico.org/v3
kind: BGPFilter
metadata: {name: no-eth}
spec:
  exportV4:
  - {action: Reject, interface: "eth*"}
  - {action: Accept, source: RemotePeers, cidr: 198.19.0.0/16, matchOperator: In}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: tor}
spec: {peerIP: "198.18.0.254:1790", asNumber: 64600, keepaliveTime: 20s, ttlSecurity: 2, filters: [no-eth], password: {secretKeyRef: {name: s, key: k}}}
"#;

    fn section() -> CalicoSection {
        super::super::config::parse("[calico]\nnode_name = \"a\"\nresources = \"/r\"\n").unwrap()
    }

    fn plan() -> NodePlan {
        let (set, _) = ResourceSet::from_yaml("t.yaml".as_ref(), RESOURCES).unwrap();
        plan::compute(&set, &Settings::new("a"), &NoSecrets).unwrap()
    }

    #[test]
    fn sessions_become_peers() {
        let facts = KernelFacts::default();
        let c = speaker_config(&plan(), &section(), &facts);
        c.validate().unwrap();
        assert_eq!(c.local_as, 64512);
        assert_eq!(c.router_id.to_string(), "198.18.0.1");
        assert_eq!(c.listen.len(), 2);
        let mesh = c.peer("198.18.0.2".parse().unwrap()).unwrap();
        assert_eq!(mesh.name.as_deref(), Some("Mesh_198_18_0_2"));
        assert!(mesh.passive, "198.18.0.2 > 198.18.0.1");
        assert_eq!(mesh.local_address, Some("198.18.0.1".parse().unwrap()));
        assert_eq!(mesh.multihop, Some(64));
        assert_eq!(mesh.graceful_restart.unwrap().restart_time, 90);
        assert!(mesh.graceful_restart.unwrap().forwarding_state);
        assert_eq!(mesh.add_path, AddPathMode::Both);
        assert_eq!(mesh.families, Some(vec![SpeakerFamily::Ipv4Unicast]));
        assert_eq!(mesh.hold_time, 240);
        assert_eq!(mesh.import_default, Verdict::Accept);
        assert_eq!(
            mesh.export,
            ["calico_interface_gate_v4_ibgp", "calico_export_v4"]
        );
        let v6 = c.peer("2001:db8::2".parse().unwrap()).unwrap();
        assert_eq!(v6.name.as_deref(), Some("Mesh_2001_db8__2"));
        assert_eq!(v6.families, Some(vec![SpeakerFamily::Ipv6Unicast]));
        let tor = c.peer("198.18.0.254".parse().unwrap()).unwrap();
        assert_eq!(tor.port, 1790);
        assert_eq!(tor.ttl_security, Some(2));
        assert_eq!(tor.keepalive_time, Some(20));
        assert_eq!(tor.password, None, "no secrets: no password");
        assert_eq!(
            tor.export,
            [
                "bgp_no-eth_exportFilterV4",
                "calico_interface_gate_v4_all",
                "calico_export_v4"
            ]
        );
        assert_eq!(c.originate.len(), 1);
        assert_eq!(c.originate[0].prefix.to_string(), "198.19.0.0/26");
    }

    #[test]
    fn typed_conditions_follow_the_kernel() {
        let mut facts = KernelFacts::default();
        for (p, i) in [
            ("198.19.1.7/32", "cali12345"),
            ("198.19.2.0/26", "vxlan.calico"),
            ("198.19.3.0/26", "bpfout.cali"),
            ("198.19.0.5/32", "cali99"),
            ("203.0.113.0/24", "eth0"),
        ] {
            let prefix: IpNet = p.parse().unwrap();
            facts.routes.insert(
                prefix,
                KernelRoute {
                    prefix,
                    interface: Some(i.into()),
                },
            );
        }
        facts
            .connected
            .insert(("198.18.0.0/24".parse().unwrap(), "eth0".into()));
        let c = speaker_config(&plan(), &section(), &facts);
        c.validate().unwrap();
        let originated: Vec<String> = c.originate.iter().map(|o| o.prefix.to_string()).collect();
        // Inside the pool: the block, and the four learned routes but the
        // one outside (203.0.113.0/24).
        assert_eq!(
            originated,
            [
                "198.19.0.0/26",
                "198.19.0.5/32",
                "198.19.1.7/32",
                "198.19.2.0/26",
                "198.19.3.0/26"
            ]
        );
        let gate = |n: &str| c.policy.iter().find(|p| p.name == n).unwrap().clone();
        let ibgp = gate("calico_interface_gate_v4_ibgp");
        assert_eq!(
            ibgp.terms[0].matches.prefix.as_deref().unwrap(),
            ["198.19.2.0/26", "198.19.3.0/26"]
        );
        let all = gate("calico_interface_gate_v4_all");
        assert_eq!(
            all.terms[0].matches.prefix.as_deref().unwrap(),
            ["198.19.3.0/26"]
        );
        let f = gate("bgp_no-eth_exportFilterV4");
        assert_eq!(f.terms.len(), 2);
        // `interface: eth*`: learned routes whose next hop is on eth0's
        // subnet (none of ours).
        let m = &f.terms[0].matches;
        let inner = m.all.as_ref().unwrap()[0].all.as_ref().unwrap();
        assert_eq!(
            inner[0].next_hop.as_deref().unwrap(),
            ["198.18.0.0/24".to_string()]
        );
        // `source: RemotePeers`: not one of ours.
        let src = f.terms[1].matches.all.as_ref().unwrap();
        assert_eq!(
            src[0].not.as_ref().unwrap().prefix.as_ref().unwrap().len(),
            5
        );
    }
}
