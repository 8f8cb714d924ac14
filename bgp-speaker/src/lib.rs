//! The embeddable BGP speaker: sessions (bgp-fsm's tokio transport) and the
//! RIB (bgp-rib) tied together on tokio, with an API handle and TOML
//! configuration.
//!
//! # Embedding a speaker
//!
//! ```no_run
//! use bgp_speaker::{Originate, PeerConfig, Speaker};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let speaker = Speaker::builder(65001, "192.0.2.1".parse()?)
//!     .listen("192.0.2.1:179".parse()?)
//!     .max_paths(4)
//!     .peer(PeerConfig::new("192.0.2.2".parse()?, 65002).hold_time(30))
//!     .originate(Originate::new("198.51.100.0/24".parse()?).community("65001:100"))
//!     .start()
//!     .await?;
//!
//! // The FIB programmer: the whole Loc-RIB first, then every change, with
//! // every ECMP next hop (coalesced per prefix if this loop is slow).
//! let mut fib = speaker.subscribe().await?;
//! tokio::spawn(async move {
//!     while let Some(batch) = fib.recv_batch().await {
//!         for r in batch {
//!             println!("{} -> {:?}", r.prefix, r.next_hops);
//!         }
//!     }
//! });
//!
//! // At run time: peers, routes, queries.
//! speaker.add_peer(PeerConfig::new("192.0.2.3".parse()?, 65001).rr_client()).await?;
//! speaker.withdraw(["198.51.100.0/24".parse()?]).await?;
//! for p in speaker.peers() {
//!     println!("{} {} {:?} {:?}", p.address, p.state, p.uptime, p.counters);
//! }
//! if let Some(r) = speaker.route("203.0.113.0/24".parse()?).await? {
//!     println!("best by {:?}: {:?}", r.step, r.best().map(|b| b.next_hop()));
//! }
//!
//! // Every session closed with Cease / Administrative Shutdown and a message.
//! speaker.shutdown("maintenance").await;
//! # Ok(()) }
//! ```
//!
//! The same speaker from TOML ([`Config`] documents the keys):
//! `Speaker::from_config(Config::load("bgp.toml")?)`, and
//! [`Speaker::reload`] applies a changed file without resetting the
//! sessions whose settings did not change.
//!
//! # Tasks and channels
//!
//! - **One task per peer** ([`peer_task`]) with the transport's own driver
//!   task under it (socket I/O, framing, the session state machine). The
//!   peer task decodes each UPDATE's attributes, runs loop detection and
//!   import policy, and sends the accepted routes to the RIB task as
//!   batches (up to 4,096 prefixes, gathered from the UPDATEs already
//!   waiting) over one bounded channel. On the multi-thread runtime this
//!   decoding runs in parallel with the RIB task.
//! - **One RIB task** ([`rib_task`]) owns the [`bgp_rib::Rib`]: it applies
//!   batches, originates local routes, answers queries, writes best-path
//!   changes to the subscribers and runs export ([`export`]), which packs
//!   UPDATEs into each peer's bounded queue.
//! - **A writer task per session** takes that queue and hands the UPDATEs
//!   to the transport, which writes only as fast as the peer reads.
//!
//! The RIB task never waits on a peer or a subscriber: a full peer queue
//! leaves that peer's changed prefixes in its dirty set (one entry per
//! prefix) until its writer asks for more; a slow subscriber's changes are
//! coalesced per prefix. Memory therefore stays bounded by the number of
//! prefixes whatever a slow or stuck peer or subscriber does, and a stuck
//! peer delays nobody else. The one wait in the other direction is
//! intended: when the RIB task is behind, peer tasks wait to send their
//! batches, their transports stop reading, and TCP slows the senders.
//!
//! # Propagation
//!
//! Export is bgp-rib's [`bgp_rib::export::Exporter`]: peers that share a
//! session type, AS, export configuration and negotiated encoding form an
//! update group, whose UPDATEs are encoded once and shared by every member
//! (eBGP and iBGP rules, route reflection, well-known communities, OTC,
//! next-hop handling, the export policy, ADD-PATH send of every path).
//! [`export`] delivers them to each peer's bounded queue and takes a
//! member that lags too far out of its group until it catches up. Import
//! runs bgp-rib's checks ([`bgp_rib::import::check`]: AS and reflection
//! loops with `allow_own_as`, RFC 9234 leaks, `local_as` prepend) before
//! the import policy, in the peer task.

pub mod config;
pub mod export;
pub mod peer_task;
mod resolver;
pub mod rib_task;
mod speaker;
pub mod status;
pub mod subscribe;

use std::net::{IpAddr, SocketAddr};

pub use config::{
    AddPathMode, AddPathPaths, Config, ConfigError, DecisionSettings, Family, GracefulRestart,
    MaxPrefix, NextHopMode, Originate, PeerConfig,
};
pub use speaker::{PeerChange, ReloadReport, Speaker, SpeakerBuilder};
pub use status::{
    BestRoute, LastError, NegotiatedSummary, PathInfo, PeerCounters, PeerStatus, RouteInfo,
    RoutePath, RouteSource,
};
pub use subscribe::Subscription;

pub use bgp_rib::{AllReachable, NextHopResolver};

/// Why a speaker operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SpeakerError {
    /// The configuration is not valid.
    #[error("configuration: {0}")]
    Config(String),
    /// A listen address could not be bound.
    #[error("cannot listen on {0}: {1}")]
    Listen(SocketAddr, std::io::Error),
    /// A peer's transport could not be started.
    #[error("peer {0}: {1}")]
    Peer(IpAddr, String),
    /// A peer with this address exists already.
    #[error("peer {0} exists already")]
    PeerExists(IpAddr),
    /// No peer has this address.
    #[error("no peer {0}")]
    UnknownPeer(IpAddr),
    /// A policy name that no policy has.
    #[error("no policy {0:?}")]
    UnknownPolicy(String),
    /// A passive peer needs a listener of its address family.
    #[error("peer {0} is passive and no listen address takes its connections")]
    NoListener(IpAddr),
    /// A soft reset inbound without kept routes needs route refresh.
    #[error("peer {0} did not negotiate route refresh and its routes are not kept")]
    NoRouteRefresh(IpAddr),
    /// This setting cannot change on a running speaker.
    #[error("{0} cannot change without restarting the speaker")]
    RestartRequired(&'static str),
    /// The speaker has stopped.
    #[error("the speaker has stopped")]
    Stopped,
}
