//! calico-bgpd: a BGP daemon for Calico nodes, built on `bgp-speaker`.
//!
//! Not written yet: this crate is a placeholder in the workspace so that the
//! layering is visible from the folder tree (see `docs/ARCHITECTURE.md`).

pub mod calico;
pub mod fib;
