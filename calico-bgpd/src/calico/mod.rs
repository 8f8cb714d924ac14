//! The Calico configuration side of calico-bgpd: Calico's resources in,
//! a [`NodePlan`](plan::NodePlan) out. Pure logic: no network, no kernel.
#![allow(missing_docs)]

pub mod resources;
pub mod router_id;
pub mod selector;
