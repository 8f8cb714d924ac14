//! A BIRD-compatible control socket: what calico-node's health checks,
//! `calicoctl node status` and the CalicoNodeStatus reporter read from
//! `/var/run/calico/bird.ctl` and `bird6.ctl`.
//!
//! The server ([`ControlSocket`]) speaks BIRD 1.x's reply framing (see
//! `reply.rs`) and answers these, full keywords, those after `route` in
//! any order; anything else is `9001 syntax error`:
//!
//! ```text
//! show status
//! show protocols [all] [<name> | "<pattern>"]
//! show route [<prefix> | for <address|prefix>] [protocol <name>] [primary] [count | stats]
//! ```
//!
//! Its data come from a [`StatusSource`]: [`SpeakerSource`] over a running
//! [`bgp_speaker::Speaker`], or a fixture in tests. One daemon can serve
//! both sockets from one source, each socket showing its own family
//! ([`Families`]): the sessions whose neighbor is of that family and the
//! routes of that family, as two BIRD 1.x daemons would.
//!
//! A session on the IPv4 socket (lines as sent, `⏎` ending each):
//!
//! ```text
//! 0001 BIRD v0.1.0+calico-bgpd ready.⏎
//! show protocols⏎
//! 2002-name     proto    table    state  since       info⏎
//! 1002-static1  Static   master   up     20:10:56    ⏎
//!  kernel1  Kernel   master   up     20:10:56    ⏎
//!  device1  Device   master   up     20:10:56    ⏎
//!  direct1  Direct   master   up     20:10:56    ⏎
//!  Mesh_10_0_0_2 BGP      master   up     20:10:57    Established   ⏎
//!  Node_10_0_0_3 BGP      master   start  20:10:56    Active        Socket: connection lost: closed by the peer⏎
//! 0000 ⏎
//! show status⏎
//! 1000-BIRD v0.1.0+calico-bgpd⏎
//! 1011-Router ID is 10.0.0.1⏎
//!  Current server time is 2021-09-19 20:48:43⏎
//!  Last reboot on 2021-09-19 20:10:56⏎
//!  Last reconfiguration on 2021-09-19 20:10:56⏎
//! 0024-Graceful restart recovery in progress⏎
//!    Waiting for 1 protocols to recover⏎
//!    Wait timer is 215/240⏎
//! 0013 Daemon is up and running⏎
//! show route⏎
//! 1007-192.168.1.0/26     blackhole [static1 20:10:56] * (200)⏎
//!  192.168.2.0/26     via 10.0.0.2 on eth0 [Mesh_10_0_0_2 20:10:57] * (100/0) [i]⏎
//! 0000 ⏎
//! ```
//!
//! Serving both of Calico's sockets from one speaker:
//!
//! ```no_run
//! use std::collections::HashMap;
//! use std::sync::Arc;
//! use std::time::Duration;
//! use calico_bgpd::birdctl::{ControlSocket, SocketConfig, SpeakerSource};
//!
//! # async fn run(speaker: bgp_speaker::Speaker) -> std::io::Result<()> {
//! let names = HashMap::from([("10.0.0.2".parse().unwrap(), "Mesh_10_0_0_2".to_string())]);
//! let source = Arc::new(
//!     SpeakerSource::new(speaker)
//!         .with_names(names)
//!         .with_graceful_restart_recovery(Duration::from_secs(240)),
//! );
//! let v4 = ControlSocket::bind(SocketConfig::calico_v4(), source.clone())?.spawn();
//! let v6 = ControlSocket::bind(SocketConfig::calico_v6(), source.clone())?.spawn();
//! // ... on reload: source.set_names(new_names); source.reconfigured();
//! // ... on exit: the handles remove the socket files.
//! v4.shutdown().await;
//! v6.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! [`health`] has calico-node's readiness and liveness rules over the
//! socket; `calico-bgpd health --bird-ready` (`--bird6-ready`,
//! `--bird-live`, `--bird6-live`) runs them and exits as calico-node does.
//!
//! Tested in `birdctl/tests` (every answer's text against a fixture
//! source, the framing, the commands, the socket, the health checks) and in
//! `tests/birdctl.rs`: BIRD 2's `birdc` and `birdcl` (the same line
//! protocol as BIRD 1.x) print what the socket serves over a real speaker
//! with an Established session, and `calico-bgpd health` exits 0 or 1 as
//! it should.
//!
//! Differences from BIRD 1.6 that a reader of the output may notice: times
//! are UTC; the hold and keepalive timers of `show protocols all` show `-`
//! for the time left (`Hold timer: -/240`); the export counters are the
//! routes advertised now, not a count of updates; a route's `since` is the
//! time its session came up; `show route` lists the networks in prefix
//! order (BIRD in its table's order); the `<examined>` of `show route ...
//! count` counts every route of the networks looked at, with `primary`
//! too.

mod client;
mod command;
pub mod health;
mod reply;
mod server;
mod source;
mod speaker;
mod time;

#[cfg(test)]
mod tests;

pub use client::{BirdClient, LINE_TIMEOUT, ReplyLine, parse_line};
pub use server::{
    CALICO_V4_SOCKET, CALICO_V6_SOCKET, ControlSocket, ControlSocketHandle, DEFAULT_VERSION,
    MAX_REQUEST, SocketConfig,
};
pub use source::{
    BgpError, BgpInfo, BgpRouteInfo, BgpSession, BgpState, DaemonStatus, ErrorClass, Families,
    GrRecovery, IgpMetric, NeighborCaps, Phase, ProtoState, Protocol, ProtocolKind, Route,
    RouteDest, RouteStats, StatRow, StatusSource,
};
pub use speaker::{CALICO_DESCRIPTION, Resolved, Resolver, SpeakerSource};
