//! Calico mode: calico-bgpd in place of confd, BIRD and BIRD6 on a Calico
//! node.
//!
//! Selected by a `[calico]` table in the TOML file ([`config`]). The
//! daemon then:
//!
//! 1. reads the resource directory into a [`NodePlan`](crate::calico::NodePlan)
//!    ([`crate::calico`]), and waits, programming nothing, while the
//!    resources make none (checklist item 72);
//! 2. starts the kernel FIB programmer ([`crate::fib`]), which adopts the
//!    routes of a previous run as stale, and the kernel route learner
//!    ([`learn`], BIRD's `learn`);
//! 3. installs the node's static routes — its blocks as blackholes,
//!    `reachableBy` routes — and keeps the service ranges out
//!    ([`kernel`]);
//! 4. starts one bgp-speaker with a peer per planned session, IPv4 and
//!    IPv6 ones side by side and independent, the node's blocks, service
//!    routes and learned kernel routes originated, Calico's export and
//!    import as policies ([`speaker`]);
//! 5. installs the best paths learned from peers through Calico's kernel
//!    filter (IP-in-IP on-link through the tunnel device, CrossSubnet,
//!    VXLAN left to Felix, ECMP as multipath) ([`kernel`]);
//! 6. watches the directories ([`watch`]: inotify, and a periodic check),
//!    and on a change (or SIGHUP) computes the plan again and applies only
//!    the difference: sessions whose settings did not change are not reset
//!    (item 69); a bad document is refused with its file, resource and
//!    field, and the running configuration stays;
//! 7. graceful restart (items 64, 66): every session announces it with the
//!    R bit after a start and the F bit (forwarding kept); the kernel table
//!    of a family is reconciled — the previous run's routes that nobody
//!    announced again deleted — once every session of that family sent
//!    End-of-RIB, or after `sync_after` seconds; on stop or crash the
//!    kernel routes stay, and without a NOTIFICATION the peers keep ours as
//!    stale for the restart time.
//!
//! [`run::run`] is the whole of it; the `calico-bgpd` binary calls it with
//! its signals.

pub mod config;
pub mod kernel;
pub mod learn;
pub mod run;
pub mod speaker;
pub mod watch;

pub use config::CalicoSection;
pub use run::{Control, RunError, run};
