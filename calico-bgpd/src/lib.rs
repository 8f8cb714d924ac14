//! calico-bgpd: a BGP daemon for Calico nodes, built on `bgp-speaker`.
//!
//! - [`calico`]: Calico's resources in, a node's plan out (what confd
//!   renders into bird.cfg and bird6.cfg);
//! - [`fib`]: the kernel FIB programmer (BIRD's kernel protocol);
//! - [`node`]: Calico mode, the daemon that ties them to a speaker.

pub mod birdctl;
pub mod calico;
pub mod fib;
pub mod node;
