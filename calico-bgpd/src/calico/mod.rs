//! The Calico configuration side of calico-bgpd: Calico's resources in, a
//! [`NodePlan`] out — what calico-node's confd renders into bird.cfg and
//! bird6.cfg, as data. Pure logic: no network, no kernel.
//!
//! | module | concept |
//! | --- | --- |
//! | [`resources`] | BGPConfiguration, BGPPeer, BGPFilter, Node, IPPool, BlockAffinity, Service/Endpoints as `calicoctl`/`kubectl get -o yaml` print them |
//! | [`selector`] | Calico's selector syntax |
//! | [`router_id`] | the router id (`CALICO_ROUTER_ID`, hash) |
//! | [`peering`] | the session set (mesh, global, node-specific, selectors, reverse peerings, route reflectors) and every per-peer option |
//! | [`secrets`] | passwords from Secrets mounted in a directory |
//! | [`filters`] | export, import and kernel filters, typed and as bgp-rib policies |
//! | [`services`] | service address advertisement |
//! | [`plan`] | [`NodePlan`] and [`plan::compute`] |
//! | [`loader`] | a directory of files, reloaded; the plan in force survives a bad file |
//!
//! # Inputs
//!
//! * A directory of YAML files ([`loader`]): `calicoctl get <kind> -o yaml`
//!   and `kubectl get <kind> -o yaml` output as it is (single documents,
//!   lists, several documents per file), Calico's v3 API or the KDD CRDs,
//!   plus Kubernetes Services and Endpoints/EndpointSlices for service
//!   advertisement ([`resources`] lists the kinds).
//! * A secrets directory, `<dir>/<namespace>/<secret>/<key>` ([`secrets`]).
//! * [`plan::Settings`]: what calico-node takes from its environment
//!   (`NODENAME`, `CALICO_ROUTER_ID`, `NAMESPACE`,
//!   `CALICO_ADVERTISE_CLUSTER_IPS`).
//!
//! # Output
//!
//! A [`NodePlan`] per node: router id, AS, log level, and per family the
//! listen address, the sessions with every option and their import and
//! export stages, the static routes (blackholes for the node's blocks and
//! service ranges, routes for `reachableBy`), Calico's export function, the
//! interface rules and the kernel filter, with the bgp-rib policies the
//! stages name. [`NodePlan::session_diff`] tells a reload which sessions to
//! leave alone. The speaker consumes the sessions, stages and policies; the
//! FIB part consumes `static_routes` and `kernel` (the `krt_tunnel`
//! decisions).
//!
//! # Baseline
//!
//! Calico v3.31 (the classic templates), with v3.32's `keepaliveTime`,
//! BGPFilter `peerType`/communities/AS-path/priority/operations and
//! `programClusterRoutes` (unset: everything but VXLAN, as v3.31/v3.32).
//! Local-workload peers come from Felix's endpoint status files
//! ([`loader::Loader::with_endpoint_status`]). Not modelled: v3.32's
//! route priority preamble and `krt_metric`, master's WireGuard kernel
//! filter and `tunl0` iBGP reject, host-local IPAM's synthetic affinities.
//!
//! ```
//! use calico_bgpd::calico::{plan, resources::ResourceSet, secrets::NoSecrets};
//!
//! let yaml = r#"
//! apiVersion: projectcalico.org/v3
//! kind: Node
//! metadata: {name: node-a}
//! spec: {bgp: {ipv4Address: 192.0.2.1/24}}
//! ---
//! apiVersion: projectcalico.org/v3
//! kind: Node
//! metadata: {name: node-b}
//! spec: {bgp: {ipv4Address: 192.0.2.2/24}}
//! "#;
//! let (set, _warnings) = ResourceSet::from_yaml("nodes.yaml".as_ref(), yaml)?;
//! let p = plan::compute(&set, &plan::Settings::new("node-a"), &NoSecrets)?;
//! let v4 = p.ipv4.as_ref().unwrap();
//! assert_eq!(v4.sessions[0].name, "Mesh_192_0_2_2");
//! assert!(v4.sessions[0].passive, "192.0.2.2 > 192.0.2.1: node-b connects");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde::Serialize;

pub mod filters;
pub mod loader;
pub mod peering;
pub mod plan;
pub mod resources;
pub mod router_id;
pub mod secrets;
pub mod selector;
pub mod services;

pub use plan::NodePlan;

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// IPv4 (bird.cfg).
    Ipv4,
    /// IPv6 (bird6.cfg).
    Ipv6,
}
