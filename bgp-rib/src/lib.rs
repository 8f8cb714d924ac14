//! The routing tables of the BGP stack: interned attribute sets, prefix
//! tables for IPv4 and IPv6, per-prefix path lists holding every peer's
//! Adj-RIB-In (post-policy), and the Loc-RIB with best-path and multipath
//! selection that reports each change.
//!
//! Pure: no I/O, no clocks, no threads. The caller provides next-hop
//! resolution ([`NextHopResolver`]) and applies each peer's UPDATEs
//! ([`Rib::apply_update`], or [`Rib::announce`] and [`Rib::withdraw`]);
//! every operation appends the resulting best-path changes
//! ([`BestChange`]) to a list the caller drains.
//!
//! Module map, one concept each:
//! - [`attr_store`]: attribute interning ([`AttrStore`], [`AttrSet`]);
//! - [`prefix_table`]: exact, longest-prefix and walk-under lookups
//!   ([`PrefixTable`]);
//! - [`path`]: a path, its flags, the per-prefix path list; [`Route`];
//! - [`peer`]: peer registry ([`PeerInfo`]);
//! - [`resolver`]: next-hop resolution;
//! - [`decision`]: the best-path comparison and selection, with
//!   [`DecisionStep`] recording what decided;
//! - [`multipath`]: the ECMP set;
//! - [`loc_rib`]: the [`Rib`] and its operations;
//! - [`adj_rib_in`]: the per-peer view;
//! - [`change`]: the change reports;
//! - [`export`]: route propagation: eBGP/iBGP rules, route reflection,
//!   update groups with their Adj-RIB-Out, ADD-PATH send;
//! - [`import`]: the protocol's checks on received routes (AS loops,
//!   reflection loops, RFC 9234 leaks);
//! - [`max_prefix`]: prefix limits per peer and family;
//! - [`graceful_restart`]: the graceful-restart helper and LLGR.

pub mod adj_rib_in;
pub mod attr_store;
pub mod change;
pub mod decision;
pub mod export;
pub mod graceful_restart;
pub mod import;
pub mod loc_rib;
pub mod max_prefix;
pub mod multipath;
pub mod path;
pub mod peer;
pub mod policy;
pub mod prefix_table;
pub mod resolver;

pub use adj_rib_in::AdjRibIn;
pub use attr_store::{AttrId, AttrSet, AttrStore, NextHop};
pub use change::BestChange;
pub use decision::{Candidate, DecisionConfig, DecisionStep, compare};
pub use loc_rib::{Explained, MemoryUsage, Rib, RibError, UpdateOutcome};
pub use path::{PathFlags, Route, Selected};
pub use peer::{PeerId, PeerInfo, PeerKind};
pub use prefix_table::PrefixTable;
pub use resolver::{AllReachable, NextHopResolver};
