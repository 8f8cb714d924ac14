//! A fixed daemon: a Calico node 10.0.0.1 (AS 64512) at 2021-09-19 20:48:43
//! UTC, up since 20:10:56, with a mesh peer up, a node peer trying, a
//! global peer (a ToR in AS 65001) up, a node peer shut down by its prefix
//! limit two days ago, and an IPv6 mesh peer up.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bgp_wire::attribute::Origin;

use crate::birdctl::{
    BgpError, BgpInfo, BgpRouteInfo, BgpSession, BgpState, DaemonStatus, ErrorClass, Families,
    GrRecovery, IgpMetric, NeighborCaps, Phase, ProtoState, Protocol, ProtocolKind, Route,
    RouteDest, RouteStats, SocketConfig, StatRow, StatusSource,
};

/// 2021-09-19 20:48:43 UTC.
pub(super) fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_632_084_523)
}

/// 2021-09-19 20:10:56 UTC.
pub(super) fn boot() -> SystemTime {
    now() - Duration::from_secs(2267)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The version Calico's BIRD reports.
pub(super) const VERSION: &str = "v0.3.3+birdv1.6.8";

/// A socket config for `families` at a path that [`crate::birdctl::server::execute`]
/// never opens, on the fixture's clock.
pub(super) fn config(families: Families) -> SocketConfig {
    let mut c = SocketConfig::new("/nonexistent/bird.ctl", families).version(VERSION);
    c.clock = now;
    c
}

/// The fixture; `gr` and `phase` can be changed between requests.
#[derive(Debug)]
pub(super) struct Fixture {
    pub(super) gr: Mutex<Option<GrRecovery>>,
    pub(super) phase: Mutex<Phase>,
    /// Which peers are Established (by name), to test readiness.
    pub(super) down: Mutex<Vec<&'static str>>,
}

impl Default for Fixture {
    fn default() -> Self {
        Fixture {
            gr: Mutex::new(None),
            phase: Mutex::new(Phase::Running),
            down: Mutex::new(Vec::new()),
        }
    }
}

fn bgp(
    name: &str,
    neighbor: &str,
    neighbor_as: u32,
    state: ProtoState,
    bgp_state: BgpState,
    since: SystemTime,
) -> Protocol {
    let mut p = Protocol::system(
        name,
        ProtocolKind::Bgp(Box::new(BgpInfo {
            neighbor: ip(neighbor),
            neighbor_as,
            local_as: 64512,
            state: bgp_state,
            gr_active: false,
            session: None,
            last_error: None,
        })),
        since,
        100,
    );
    p.state = state;
    p.description = Some("Connection to BGP peer".into());
    p.output_filter = "calico_export_to_bgp_peers".into();
    p
}

fn session(neighbor_id: &str, internal: bool, source: &str) -> BgpSession {
    BgpSession {
        neighbor_id: neighbor_id.parse().unwrap(),
        caps: NeighborCaps {
            refresh: true,
            enhanced_refresh: true,
            restart_able: true,
            restart_aware: true,
            as4: true,
            add_path_rx: true,
            add_path_tx: true,
            ext_messages: false,
        },
        internal,
        multihop: internal,
        rr_client: false,
        as4: true,
        add_path_rx: true,
        add_path_tx: true,
        ext_messages: false,
        source_address: Some(ip(source)),
        hold_time: 240,
        keepalive_time: 80,
    }
}

fn set_bgp(p: &mut Protocol, f: impl FnOnce(&mut BgpInfo)) {
    if let ProtocolKind::Bgp(b) = &mut p.kind {
        f(b);
    }
}

impl Fixture {
    fn all_protocols(&self) -> Vec<Protocol> {
        let down = self.down.lock().unwrap().clone();
        let mut mesh = bgp(
            "Mesh_10_0_0_2",
            "10.0.0.2",
            64512,
            ProtoState::Up,
            BgpState::Established,
            boot() + Duration::from_secs(1),
        );
        set_bgp(&mut mesh, |b| {
            b.session = Some(session("10.0.0.2", true, "10.0.0.1"));
        });
        mesh.stats = RouteStats {
            imported: 1,
            exported: 1,
            preferred: 1,
            import_updates: StatRow {
                received: 2,
                rejected: 0,
                filtered: 1,
                ignored: 0,
                accepted: 1,
            },
            import_withdraws: StatRow::default(),
            export_updates: StatRow {
                received: 5,
                rejected: 1,
                filtered: 3,
                ignored: 0,
                accepted: 1,
            },
            export_withdraws: StatRow {
                received: 2,
                accepted: 2,
                ..StatRow::default()
            },
        };
        let mut node = bgp(
            "Node_10_0_0_3",
            "10.0.0.3",
            64512,
            ProtoState::Start,
            BgpState::Active,
            boot(),
        );
        set_bgp(&mut node, |b| {
            b.last_error = Some(BgpError {
                class: ErrorClass::Socket,
                message: "Connection refused".into(),
            });
        });
        let mut global = bgp(
            "Global_10_0_0_9",
            "10.0.0.9",
            65001,
            ProtoState::Up,
            BgpState::Established,
            boot() + Duration::from_secs(4),
        );
        set_bgp(&mut global, |b| {
            b.session = Some(session("10.0.0.9", false, "10.0.0.1"));
        });
        let mut limited = bgp(
            "Node_10_0_0_4",
            "10.0.0.4",
            64512,
            ProtoState::Down,
            BgpState::Down,
            now() - Duration::from_secs(2 * 86_400),
        );
        set_bgp(&mut limited, |b| {
            b.last_error = Some(BgpError {
                class: ErrorClass::AutoDown,
                message: "Route limit exceeded".into(),
            });
        });
        let mut mesh6 = bgp(
            "Mesh_2001_db8__2",
            "2001:db8::2",
            64512,
            ProtoState::Up,
            BgpState::Established,
            boot() + Duration::from_secs(2),
        );
        set_bgp(&mut mesh6, |b| {
            b.session = Some(session("10.0.0.2", true, "2001:db8::1"));
        });
        let mut out = vec![
            Protocol::system("static1", ProtocolKind::Static, boot(), 200),
            Protocol::system("kernel1", ProtocolKind::Kernel, boot(), 10),
            Protocol::system("device1", ProtocolKind::Device, boot(), 240),
            Protocol::system("direct1", ProtocolKind::Direct, boot(), 240),
            mesh,
            node,
            global,
            limited,
            mesh6,
        ];
        // A peer marked down: Active with no error, as after a restart.
        for p in &mut out {
            if down.contains(&p.name.as_str()) {
                p.state = ProtoState::Start;
                p.since = boot();
                set_bgp(p, |b| {
                    b.state = BgpState::Active;
                    b.session = None;
                });
            }
        }
        out
    }

    /// Only the peers the fixture lists, for readiness tests: `names` with
    /// the system protocols.
    pub(super) fn only(names: &[&'static str]) -> OnlyFixture {
        OnlyFixture {
            inner: Fixture::default(),
            names: names.to_vec(),
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn route(
    prefix: &str,
    dest: RouteDest,
    protocol: &str,
    since: SystemTime,
    from: Option<&str>,
    primary: bool,
    preference: u32,
    bgp: Option<BgpRouteInfo>,
) -> Route {
    Route {
        prefix: prefix.parse().unwrap(),
        dest,
        protocol: protocol.into(),
        since,
        from: from.map(ip),
        primary,
        preference,
        bgp,
    }
}

fn via(gw: &str, iface: &str) -> RouteDest {
    RouteDest::Via {
        gateway: ip(gw),
        iface: iface.into(),
    }
}

fn fixture_routes() -> Vec<Route> {
    let mesh = boot() + Duration::from_secs(1);
    let global = boot() + Duration::from_secs(4);
    // Deliberately not in the order shown: the server sorts them.
    vec![
        route(
            "192.168.2.0/26",
            via("10.0.0.2", "eth0"),
            "Global_10_0_0_9",
            global,
            Some("10.0.0.9"),
            false,
            100,
            Some(BgpRouteInfo {
                igp_metric: Some(IgpMetric::Known(0)),
                origin_as: Some(65001),
                origin: Some(Origin::Igp),
            }),
        ),
        route(
            "2001:db8:1::/64",
            via("2001:db8::2", "eth0"),
            "Mesh_2001_db8__2",
            boot() + Duration::from_secs(2),
            Some("2001:db8::2"),
            true,
            100,
            Some(BgpRouteInfo {
                igp_metric: Some(IgpMetric::Unknown),
                origin_as: None,
                origin: Some(Origin::Igp),
            }),
        ),
        route(
            "192.168.1.0/26",
            RouteDest::Blackhole,
            "static1",
            boot(),
            None,
            true,
            200,
            None,
        ),
        route(
            "192.168.2.0/26",
            via("10.0.0.2", "eth0"),
            "Mesh_10_0_0_2",
            mesh,
            Some("10.0.0.2"),
            true,
            100,
            Some(BgpRouteInfo {
                igp_metric: Some(IgpMetric::Known(0)),
                origin_as: None,
                origin: Some(Origin::Igp),
            }),
        ),
        route(
            "172.17.8.0/24",
            RouteDest::Dev("eth0".into()),
            "direct1",
            boot(),
            None,
            true,
            240,
            None,
        ),
        route(
            "10.96.0.0/12",
            RouteDest::Unreachable,
            "Global_10_0_0_9",
            global,
            Some("10.0.0.9"),
            true,
            100,
            Some(BgpRouteInfo {
                igp_metric: Some(IgpMetric::Unresolvable),
                origin_as: Some(65001),
                origin: Some(Origin::Incomplete),
            }),
        ),
    ]
}

impl StatusSource for Fixture {
    fn status(&self, _families: Families) -> DaemonStatus {
        DaemonStatus {
            router_id: "10.0.0.1".parse().unwrap(),
            boot_time: boot(),
            reconfig_time: boot() + Duration::from_secs(1144),
            phase: *self.phase.lock().unwrap(),
            gr_recovery: *self.gr.lock().unwrap(),
        }
    }

    async fn protocols(&self, _families: Families, _detail: bool) -> Vec<Protocol> {
        // Every family: the server drops the other family's sessions.
        self.all_protocols()
    }

    async fn routes(&self, _families: Families) -> Vec<Route> {
        fixture_routes()
    }
}

/// The fixture with only some of its BGP peers.
#[derive(Debug)]
pub(super) struct OnlyFixture {
    pub(super) inner: Fixture,
    names: Vec<&'static str>,
}

impl StatusSource for OnlyFixture {
    fn status(&self, families: Families) -> DaemonStatus {
        self.inner.status(families)
    }

    async fn protocols(&self, _families: Families, _detail: bool) -> Vec<Protocol> {
        let mut all = self.inner.all_protocols();
        all.retain(|p| p.bgp().is_none() || self.names.contains(&p.name.as_str()));
        all
    }

    async fn routes(&self, _families: Families) -> Vec<Route> {
        Vec::new()
    }
}

/// Joins lines into a reply, each ending with a newline.
pub(super) fn lines(ls: &[&str]) -> String {
    let mut s = String::new();
    for l in ls {
        s.push_str(l);
        s.push('\n');
    }
    s
}
