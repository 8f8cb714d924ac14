//! [`StatusSource`] over a running [`bgp_speaker::Speaker`]: its peers as
//! BGP protocols named as Calico names them (the caller supplies the map
//! from peer address to session name), its RIB as `show route`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use bgp_speaker::{PeerConfig, PeerStatus, RouteSource, Speaker};
use ipnet::IpNet;

use super::source::{
    BgpError, BgpInfo, BgpRouteInfo, BgpSession, BgpState, DaemonStatus, ErrorClass, Families,
    GrRecovery, IgpMetric, NeighborCaps, Phase, ProtoState, Protocol, ProtocolKind, Route,
    RouteDest, RouteStats, StatRow, StatusSource,
};

/// The description Calico's BGP template gives every session.
pub const CALICO_DESCRIPTION: &str = "Connection to BGP peer";

/// How a next hop reaches the wire: the gateway and interface a route line
/// shows (`via <gateway> on <iface>`) and the IGP metric after the
/// preference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The immediate gateway (the next hop itself when it is on a connected
    /// network).
    pub gateway: IpAddr,
    /// The interface.
    pub iface: String,
    /// The metric of the route that resolved it (0 for a connected network).
    pub metric: u32,
}

/// Resolves a BGP next hop (`None`: unreachable).
pub type Resolver = Arc<dyn Fn(IpAddr) -> Option<Resolved> + Send + Sync>;

enum Resolve {
    Kernel,
    Custom(Resolver),
}

/// Graceful-restart recovery after a start: running until every peer of a
/// family has been Established once, or the wait timer runs out.
#[derive(Debug)]
struct Recovery {
    started: Instant,
    wait: Duration,
    done: [AtomicBool; 2],
}

fn family_index(a: IpAddr) -> usize {
    usize::from(a.is_ipv6())
}

/// A [`StatusSource`] over a speaker.
pub struct SpeakerSource {
    speaker: Speaker,
    names: RwLock<HashMap<IpAddr, String>>,
    boot: SystemTime,
    reconfigured: Mutex<SystemTime>,
    phase: Mutex<Phase>,
    recovery: Option<Recovery>,
    system_protocols: bool,
    description: Option<String>,
    static_name: String,
    resolve: Resolve,
}

impl std::fmt::Debug for SpeakerSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpeakerSource")
            .field("boot", &self.boot)
            .field("system_protocols", &self.system_protocols)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl SpeakerSource {
    /// A source over `speaker`, started now, with Calico's defaults: the
    /// `static1`, `kernel1`, `device1` and `direct1` rows before the
    /// sessions, the template's description, next hops resolved through
    /// the kernel's main table, and no graceful-restart recovery.
    pub fn new(speaker: Speaker) -> Self {
        let now = SystemTime::now();
        SpeakerSource {
            speaker,
            names: RwLock::new(HashMap::new()),
            boot: now,
            reconfigured: Mutex::new(now),
            phase: Mutex::new(Phase::Running),
            recovery: None,
            system_protocols: true,
            description: Some(CALICO_DESCRIPTION.to_string()),
            static_name: "static1".to_string(),
            resolve: Resolve::Kernel,
        }
    }

    /// With the session names: peer address → `Mesh_10_0_0_2` and so on.
    /// A peer missing from the map takes its configured name, or
    /// `bgp_<address>`.
    pub fn with_names(self, names: HashMap<IpAddr, String>) -> Self {
        self.set_names(names);
        self
    }

    /// Replaces the session names (after a reload).
    pub fn set_names(&self, names: HashMap<IpAddr, String>) {
        *self.names.write().unwrap_or_else(|e| e.into_inner()) = names;
    }

    /// Started at `boot` rather than now (`Last reboot on`).
    pub fn with_boot_time(mut self, boot: SystemTime) -> Self {
        self.boot = boot;
        *lock(&self.reconfigured) = boot;
        self
    }

    /// With graceful-restart recovery from now on, as BIRD's `-R`: `show
    /// status` reports it until every peer of the socket's family has been
    /// Established once (BIRD also waits for End-of-RIB, which the speaker
    /// does not report), until `wait` runs out (BIRD's default is 240 s),
    /// or until [`SpeakerSource::finish_recovery`].
    pub fn with_graceful_restart_recovery(mut self, wait: Duration) -> Self {
        self.recovery = Some(Recovery {
            started: Instant::now(),
            wait,
            done: [AtomicBool::new(false), AtomicBool::new(false)],
        });
        self
    }

    /// Ends graceful-restart recovery (the daemon synced its kernel routes).
    pub fn finish_recovery(&self) {
        if let Some(r) = &self.recovery {
            for d in &r.done {
                d.store(true, Ordering::Relaxed);
            }
        }
    }

    /// Whether to list `static1`, `kernel1`, `device1` and `direct1` (the
    /// protocols of Calico's BIRD configuration) before the sessions.
    pub fn with_system_protocols(mut self, on: bool) -> Self {
        self.system_protocols = on;
        self
    }

    /// The `Description:` of the sessions (`None`: no such line).
    pub fn with_description(mut self, d: Option<String>) -> Self {
        self.description = d;
        self
    }

    /// Resolves next hops with `f` instead of the kernel's main table.
    pub fn with_resolver(mut self, f: Resolver) -> Self {
        self.resolve = Resolve::Custom(f);
        self
    }

    /// What the last line of `show status` says.
    pub fn set_phase(&self, p: Phase) {
        *lock(&self.phase) = p;
    }

    /// Records a reconfiguration now (`Last reconfiguration on`).
    pub fn reconfigured(&self) {
        *lock(&self.reconfigured) = SystemTime::now();
    }

    fn name_of(&self, p: &PeerStatus) -> String {
        let names = self.names.read().unwrap_or_else(|e| e.into_inner());
        names
            .get(&p.address)
            .cloned()
            .or_else(|| p.name.clone())
            .unwrap_or_else(|| format!("bgp_{}", p.address.to_string().replace(['.', ':'], "_")))
    }

    fn recovery_status(&self, families: Families) -> Option<GrRecovery> {
        let r = self.recovery.as_ref()?;
        let elapsed = r.started.elapsed();
        let peers = self.speaker.peers();
        let mut waiting = 0;
        let mut running = false;
        for (i, done) in r.done.iter().enumerate() {
            let wanted = match families {
                Families::Ipv4 => i == 0,
                Families::Ipv6 => i == 1,
                Families::Both => true,
            };
            if !wanted || done.load(Ordering::Relaxed) {
                continue;
            }
            let n = peers
                .iter()
                .filter(|p| family_index(p.address) == i && p.established_count == 0)
                .count();
            if n == 0 || elapsed >= r.wait {
                done.store(true, Ordering::Relaxed);
            } else {
                running = true;
                waiting += n;
            }
        }
        running.then(|| GrRecovery {
            waiting,
            remaining: r.wait.saturating_sub(elapsed),
            wait: r.wait,
        })
    }

    fn protocol_of(
        &self,
        p: &PeerStatus,
        cfg: Option<&PeerConfig>,
        local_as: u32,
        preferred: u64,
    ) -> Protocol {
        let established = p.state == bgp_fsm::State::Established;
        let (state, bgp_state) = if p.max_prefix_exceeded {
            (ProtoState::Down, BgpState::Down)
        } else if established {
            (ProtoState::Up, BgpState::Established)
        } else {
            (ProtoState::Start, BgpState::from(p.state))
        };
        let since = if established {
            p.established_at.unwrap_or(self.boot)
        } else {
            p.last_error.as_ref().map_or(self.boot, |e| e.at)
        };
        let local_as = cfg.and_then(|c| c.local_as).unwrap_or(local_as);
        let last_error = if p.max_prefix_exceeded {
            Some(BgpError {
                class: ErrorClass::AutoDown,
                message: "Route limit exceeded".to_string(),
            })
        } else if established {
            None
        } else {
            p.last_error.as_ref().map(|e| BgpError {
                class: if e.message.starts_with("connection") {
                    ErrorClass::Socket
                } else if e.sent {
                    ErrorClass::Sent
                } else {
                    ErrorClass::Received
                },
                message: e.message.clone(),
            })
        };
        let session = match (&p.negotiated, established) {
            (Some(n), true) => {
                let internal = n.peer_as == local_as;
                Some(BgpSession {
                    neighbor_id: n.peer_id,
                    caps: NeighborCaps {
                        refresh: n.route_refresh,
                        enhanced_refresh: n.enhanced_route_refresh,
                        restart_able: n.graceful_restart,
                        restart_aware: false,
                        as4: n.four_octet_as,
                        add_path_rx: !n.add_path_send.is_empty(),
                        add_path_tx: !n.add_path_receive.is_empty(),
                        ext_messages: n.extended_message,
                    },
                    internal,
                    multihop: internal || cfg.is_some_and(|c| c.multihop.is_some()),
                    rr_client: cfg.is_some_and(|c| c.route_reflector_client),
                    as4: n.four_octet_as,
                    add_path_rx: !n.add_path_receive.is_empty(),
                    add_path_tx: !n.add_path_send.is_empty(),
                    ext_messages: n.extended_message,
                    source_address: p.connection.map(|(l, _)| l.ip()),
                    hold_time: n.hold_time,
                    keepalive_time: cfg
                        .and_then(|c| c.keepalive_time)
                        .map_or(n.hold_time / 3, |k| k.min(n.hold_time / 3).max(1)),
                })
            }
            _ => None,
        };
        let c = &p.counters;
        let stats = RouteStats {
            imported: c.prefixes_accepted,
            exported: c.prefixes_advertised,
            preferred,
            import_updates: StatRow {
                received: c.prefixes_received,
                filtered: c.prefixes_rejected,
                accepted: c.prefixes_received.saturating_sub(c.prefixes_rejected),
                ..StatRow::default()
            },
            import_withdraws: StatRow {
                received: c.prefixes_withdrawn,
                accepted: c.prefixes_withdrawn,
                ..StatRow::default()
            },
            // The speaker counts the routes advertised now, not each export.
            export_updates: StatRow {
                received: c.prefixes_advertised,
                accepted: c.prefixes_advertised,
                ..StatRow::default()
            },
            export_withdraws: StatRow::default(),
        };
        Protocol {
            name: self.name_of(p),
            kind: ProtocolKind::Bgp(Box::new(BgpInfo {
                neighbor: p.address,
                neighbor_as: p.negotiated.as_ref().map_or(p.remote_as, |n| n.peer_as),
                local_as,
                state: bgp_state,
                gr_active: false,
                session,
                last_error,
            })),
            table: "master".to_string(),
            state,
            since,
            description: self.description.clone(),
            preference: 100,
            input_filter: "ACCEPT".to_string(),
            output_filter: "(unnamed)".to_string(),
            stats,
        }
    }
}

impl StatusSource for SpeakerSource {
    fn status(&self, families: Families) -> DaemonStatus {
        DaemonStatus {
            router_id: self.speaker.router_id(),
            boot_time: self.boot,
            reconfig_time: *lock(&self.reconfigured),
            phase: *lock(&self.phase),
            gr_recovery: self.recovery_status(families),
        }
    }

    async fn protocols(&self, families: Families, detail: bool) -> Vec<Protocol> {
        let cfg = self.speaker.config();
        let local_as = self.speaker.local_as();
        let mut preferred: HashMap<RouteSource, u64> = HashMap::new();
        if detail {
            for r in self.speaker.best_routes().await.unwrap_or_default() {
                if let Some(b) = &r.best {
                    *preferred.entry(b.source).or_default() += 1;
                }
            }
        }
        let mut out = Vec::new();
        if self.system_protocols {
            let mut st = Protocol::system(&self.static_name, ProtocolKind::Static, self.boot, 200);
            let local = preferred.get(&RouteSource::Local).copied().unwrap_or(0);
            st.stats.imported = local;
            st.stats.preferred = local;
            out.push(st);
            out.push(Protocol::system(
                "kernel1",
                ProtocolKind::Kernel,
                self.boot,
                10,
            ));
            out.push(Protocol::system(
                "device1",
                ProtocolKind::Device,
                self.boot,
                240,
            ));
            out.push(Protocol::system(
                "direct1",
                ProtocolKind::Direct,
                self.boot,
                240,
            ));
        }
        for p in self.speaker.peers() {
            if !families.contains(p.address) {
                continue;
            }
            let pc = cfg.peers.iter().find(|c| c.address == p.address);
            let pref = preferred
                .get(&RouteSource::Peer(p.address))
                .copied()
                .unwrap_or(0);
            out.push(self.protocol_of(&p, pc, local_as, pref));
        }
        out
    }

    async fn routes(&self, families: Families) -> Vec<Route> {
        let Ok(best) = self.speaker.best_routes().await else {
            return Vec::new();
        };
        let kernel = match &self.resolve {
            Resolve::Kernel => Some(KernelRoutes::read()),
            Resolve::Custom(_) => None,
        };
        let resolve = |nh: IpAddr| match (&self.resolve, &kernel) {
            (Resolve::Custom(f), _) => f(nh),
            (Resolve::Kernel, Some(k)) => k.resolve(nh),
            (Resolve::Kernel, None) => None,
        };
        let winners: HashMap<IpNet, (RouteSource, u32)> = best
            .iter()
            .filter_map(|r| r.best.as_ref().map(|b| (r.prefix, (b.source, b.path_id))))
            .collect();
        let mut out = Vec::new();
        for r in &best {
            let local = r
                .best
                .as_ref()
                .is_some_and(|b| b.source == RouteSource::Local);
            if local && families.contains_net(&r.prefix) {
                out.push(Route {
                    prefix: r.prefix,
                    dest: RouteDest::Blackhole,
                    protocol: self.static_name.clone(),
                    since: *lock(&self.reconfigured),
                    from: None,
                    primary: true,
                    preference: 200,
                    bgp: None,
                });
            }
        }
        for p in self.speaker.peers() {
            // Each socket lists the sessions of its family and their routes
            // (as bird and bird6 each run their own).
            if !families.contains(p.address) {
                continue;
            }
            let Ok(paths) = self.speaker.adj_rib_in(p.address).await else {
                continue;
            };
            let name = self.name_of(&p);
            let since = p.established_at.unwrap_or(self.boot);
            for (prefix, path) in paths {
                if !families.contains_net(&prefix) {
                    continue;
                }
                let nh = path.next_hop().addr();
                let (dest, metric) = match resolve(nh) {
                    Some(r) => (
                        RouteDest::Via {
                            gateway: r.gateway,
                            iface: r.iface,
                        },
                        IgpMetric::Known(r.metric),
                    ),
                    None => (RouteDest::Unreachable, IgpMetric::Unresolvable),
                };
                out.push(Route {
                    prefix,
                    dest,
                    protocol: name.clone(),
                    since,
                    from: Some(p.address),
                    primary: winners.get(&prefix) == Some(&(path.source, path.path_id)),
                    preference: 100,
                    bgp: Some(BgpRouteInfo {
                        igp_metric: Some(metric),
                        origin_as: path.as_path_asns().last().copied(),
                        origin: Some(path.origin()),
                    }),
                });
            }
        }
        out
    }
}

const RTF_UP: u32 = 0x0001;
const RTF_GATEWAY: u32 = 0x0002;
const RTF_REJECT: u32 = 0x0200;
const RTF_LOCAL: u32 = 0x8000_0000;

#[derive(Debug, Clone, PartialEq, Eq)]
struct KernelRoute {
    net: IpNet,
    gateway: Option<IpAddr>,
    iface: String,
    metric: u32,
}

/// The kernel's routes as `/proc/net/route` and `/proc/net/ipv6_route`
/// list them, to resolve next hops.
#[derive(Debug, Default)]
struct KernelRoutes(Vec<KernelRoute>);

fn hex_v6(s: &str) -> Option<Ipv6Addr> {
    if s.len() != 32 {
        return None;
    }
    u128::from_str_radix(s, 16).ok().map(Ipv6Addr::from)
}

impl KernelRoutes {
    fn read() -> Self {
        let v4 = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
        let v6 = std::fs::read_to_string("/proc/net/ipv6_route").unwrap_or_default();
        let mut k = KernelRoutes::parse_v4(&v4);
        k.0.extend(KernelRoutes::parse_v6(&v6).0);
        k
    }

    fn parse_v4(text: &str) -> Self {
        let mut out = Vec::new();
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            let hex = |i: usize| f.get(i).and_then(|s| u32::from_str_radix(s, 16).ok());
            let (Some(iface), Some(dst), Some(gw), Some(flags), Some(metric), Some(mask)) =
                (f.first(), hex(1), hex(2), hex(3), f.get(6), hex(7))
            else {
                continue;
            };
            if flags & RTF_UP == 0 || flags & RTF_REJECT != 0 || *iface == "*" {
                continue;
            }
            // The kernel prints the network-order words as host integers.
            let addr = Ipv4Addr::from(dst.to_ne_bytes());
            let len = u8::try_from(mask.count_ones()).unwrap_or(0);
            let Ok(net) = ipnet::Ipv4Net::new(addr, len) else {
                continue;
            };
            out.push(KernelRoute {
                net: IpNet::V4(net.trunc()),
                gateway: (flags & RTF_GATEWAY != 0)
                    .then(|| IpAddr::V4(Ipv4Addr::from(gw.to_ne_bytes()))),
                iface: (*iface).to_string(),
                metric: metric.parse().unwrap_or(0),
            });
        }
        KernelRoutes(out)
    }

    fn parse_v6(text: &str) -> Self {
        let mut out = Vec::new();
        for line in text.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (Some(dst), Some(len), Some(gw), Some(metric), Some(flags), Some(iface)) = (
                f.first().and_then(|s| hex_v6(s)),
                f.get(1).and_then(|s| u8::from_str_radix(s, 16).ok()),
                f.get(4).and_then(|s| hex_v6(s)),
                f.get(5).and_then(|s| u32::from_str_radix(s, 16).ok()),
                f.get(8).and_then(|s| u32::from_str_radix(s, 16).ok()),
                f.get(9),
            ) else {
                continue;
            };
            if flags & RTF_UP == 0 || flags & (RTF_REJECT | RTF_LOCAL) != 0 {
                continue;
            }
            let Ok(net) = ipnet::Ipv6Net::new(dst, len) else {
                continue;
            };
            out.push(KernelRoute {
                net: IpNet::V6(net.trunc()),
                gateway: (flags & RTF_GATEWAY != 0 && !gw.is_unspecified())
                    .then_some(IpAddr::V6(gw)),
                iface: (*iface).to_string(),
                metric,
            });
        }
        KernelRoutes(out)
    }

    /// The most specific route to `nh` (the lowest metric among equals).
    fn resolve(&self, nh: IpAddr) -> Option<Resolved> {
        let r = self
            .0
            .iter()
            .filter(|r| r.net.contains(&nh))
            .min_by_key(|r| (std::cmp::Reverse(r.net.prefix_len()), r.metric))?;
        Some(match r.gateway {
            Some(g) => Resolved {
                gateway: g,
                iface: r.iface.clone(),
                metric: r.metric,
            },
            None => Resolved {
                gateway: nh,
                iface: r.iface.clone(),
                metric: 0,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_routes_resolve_next_hops() {
        let v4 = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                  eth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n\
                  eth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
                  tunl0\t0000A8C0\t0200000A\t0003\t0\t0\t0\t00FFFFFF\t0\t0\t0\n\
                  *\t0080A8C0\t00000000\t0201\t0\t0\t0\tC0FFFFFF\t0\t0\t0\n";
        let v6 = "fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001     eth0\n\
                  00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000001 00000000 00000003     eth0\n\
                  fd000000000000000000000000000002 80 00000000000000000000000000000000 00 00000000000000000000000000000000 00000000 00000001 00000000 80200001       lo\n";
        let mut k = KernelRoutes::parse_v4(v4);
        k.0.extend(KernelRoutes::parse_v6(v6).0);
        if cfg!(target_endian = "little") {
            assert_eq!(
                k.resolve("10.0.0.7".parse().unwrap()),
                Some(Resolved {
                    gateway: "10.0.0.7".parse().unwrap(),
                    iface: "eth0".into(),
                    metric: 0
                })
            );
            assert_eq!(
                k.resolve("192.168.0.9".parse().unwrap()),
                Some(Resolved {
                    gateway: "10.0.0.2".parse().unwrap(),
                    iface: "tunl0".into(),
                    metric: 0
                })
            );
            assert_eq!(
                k.resolve("8.8.8.8".parse().unwrap()),
                Some(Resolved {
                    gateway: "10.0.0.1".parse().unwrap(),
                    iface: "eth0".into(),
                    metric: 100
                })
            );
            // The blackhole (a reject route) resolves nothing.
            assert_eq!(k.0.iter().filter(|r| r.iface == "*").count(), 0);
        }
        assert_eq!(
            k.resolve("fd00::5".parse().unwrap()),
            Some(Resolved {
                gateway: "fd00::5".parse().unwrap(),
                iface: "eth0".into(),
                metric: 0
            })
        );
        assert_eq!(
            k.resolve("2001:db8::1".parse().unwrap()),
            Some(Resolved {
                gateway: "fd00::1".parse().unwrap(),
                iface: "eth0".into(),
                metric: 1024
            })
        );
        // The local route of our own address is skipped.
        assert!(k.0.iter().all(|r| r.iface != "lo"));
    }
}
