//! A macro benchmark in the manner of bgperf: a target BGP speaker, P
//! sender peers announcing M IPv4 prefixes each (or all the same prefixes
//! with competing attributes), and a monitor peer receiving the target's
//! best routes. It measures the time from the first UPDATE sent to the
//! monitor holding every expected route, the target's CPU seconds and peak
//! resident memory, and the senders' and monitor's own CPU seconds beside
//! them. The `bgperf` binary runs it; `benches/README.md` has the figures.
//!
//! - [`case`]: the cases, prefixes, attributes and expected best paths;
//! - [`session`]: the minimal BGP session of the senders and the monitor;
//! - [`tester`]: the senders and the monitor, run as `bgperf tester` in
//!   their own network namespace;
//! - [`target`]: the targets (calico-bgpd, BIRD, FRR, GoBGP) with
//!   equivalent configurations;
//! - [`run`]: one measurement in a fresh pair of namespaces;
//! - [`measure`]: CPU time and memory from `/proc`;
//! - [`report`]: the tables and the README section.

pub mod case;
pub mod measure;
pub mod report;
pub mod run;
pub mod session;
pub mod target;
pub mod tester;

pub use case::Case;
pub use run::{Figures, Measurement, Options};
pub use target::TargetKind;
