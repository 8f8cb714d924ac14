//! Other owners' routes in the kernel's main table, learned as BIRD's
//! `protocol kernel { learn; }` does in calico-node: Felix's workload
//! routes on `cali*` interfaces (the "borrowed" addresses among them), its
//! VXLAN (`vxlan.calico`) and WireGuard (`wireguard.cali`) routes, the
//! eBPF dataplane's `bpf*.cali` ones; and the connected subnets
//! (`proto kernel` link routes), which tell a next hop's interface.
//!
//! One netlink socket: a dump of the links and of both families' main
//! table at start, then the kernel's route and link events; never polling.
//! A lost event (the receive buffer overflowed) makes it dump again. Our
//! own protocol's routes (12, `bird`) are not learned. What it knows is
//! published as [`KernelFacts`] on a watch channel.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use ipnet::IpNet;
use tokio::sync::watch;

use super::speaker::{KernelFacts, KernelRoute as LearnedRoute};
use crate::fib::netlink::{self, Incoming, NlSocket};
use crate::fib::route::{Family, KernelKind, KernelRoute};
use crate::fib::{PROTO_BIRD, TABLE_MAIN};

/// `RTPROT_KERNEL`: routes the kernel adds for an address's subnet.
const PROTO_KERNEL: u8 = 2;
/// How long a dump may take before it is asked again.
const DUMP_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq)]
struct Slot {
    metric: u32,
    protocol: u8,
    oif: Option<u32>,
}

/// The learner's state.
#[derive(Debug, Default)]
struct State {
    links: HashMap<u32, String>,
    /// Alien routes by prefix, every (metric, protocol) slot.
    aliens: HashMap<IpNet, Vec<Slot>>,
    /// Connected subnets: prefix, interface index.
    connected: HashMap<(IpNet, u32), ()>,
}

impl State {
    fn facts(&self) -> KernelFacts {
        let mut routes = BTreeMap::new();
        for (p, slots) in &self.aliens {
            // The lowest metric is the one the kernel uses.
            if let Some(s) = slots.iter().min_by_key(|s| s.metric) {
                routes.insert(
                    *p,
                    LearnedRoute {
                        prefix: *p,
                        interface: s.oif.and_then(|i| self.links.get(&i).cloned()),
                    },
                );
            }
        }
        let connected = self
            .connected
            .keys()
            .filter_map(|(p, i)| Some((*p, self.links.get(i)?.clone())))
            .collect();
        KernelFacts { routes, connected }
    }

    /// Applies a route message; true if something changed.
    fn route(&mut self, r: &KernelRoute, add: bool) -> bool {
        if r.table != TABLE_MAIN || r.protocol == PROTO_BIRD || r.cloned || r.tos != 0 {
            return false;
        }
        if r.src_len != 0 {
            return false;
        }
        let oif = match &r.kind {
            KernelKind::Unicast(hops) => hops.first().map(|h| h.oif).filter(|i| *i != 0),
            _ => None,
        };
        if r.protocol == PROTO_KERNEL {
            let link = match &r.kind {
                KernelKind::Unicast(hops) if hops.iter().all(|h| h.gateway.is_none()) => oif,
                _ => None,
            };
            let Some(i) = link else { return false };
            return if add {
                self.connected.insert((r.prefix, i), ()).is_none()
            } else {
                self.connected.remove(&(r.prefix, i)).is_some()
            };
        }
        let slots = self.aliens.entry(r.prefix).or_default();
        let before = slots.clone();
        slots.retain(|s| !(s.metric == r.metric && s.protocol == r.protocol));
        if add {
            slots.push(Slot {
                metric: r.metric,
                protocol: r.protocol,
                oif,
            });
        }
        let changed = *slots != before;
        if slots.is_empty() {
            self.aliens.remove(&r.prefix);
        }
        changed
    }
}

/// Starts the learner in the calling thread's network namespace; its task
/// runs on the current tokio runtime until the receiver is dropped. The
/// first value is sent once the start's dumps are read.
pub async fn start() -> std::io::Result<watch::Receiver<KernelFacts>> {
    let mut sock = NlSocket::open(4 << 20)?;
    let mut state = State::default();
    dump(&mut sock, &mut state).await?;
    let (tx, rx) = watch::channel(state.facts());
    tokio::spawn(async move {
        loop {
            let msgs = tokio::select! {
                r = sock.recv() => r,
                () = tx.closed() => return,
            };
            let changed = match msgs {
                Ok(msgs) => {
                    // Every message is applied, whatever the ones before did.
                    let mut changed = false;
                    for m in &msgs {
                        changed |= apply(&mut state, m);
                    }
                    changed
                }
                Err(e) if netlink::is_overrun(&e) => {
                    tracing::info!("kernel learner: events lost, reading the tables again");
                    let mut fresh = State::default();
                    match dump(&mut sock, &mut fresh).await {
                        Ok(()) => {
                            state = fresh;
                            true
                        }
                        Err(e) => {
                            tracing::warn!("kernel learner: {e}; trying again");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                            false
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!("kernel learner: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    false
                }
            };
            if changed {
                let facts = state.facts();
                tx.send_if_modified(|old| {
                    if *old == facts {
                        false
                    } else {
                        *old = facts;
                        true
                    }
                });
            }
        }
    });
    Ok(rx)
}

fn apply(state: &mut State, m: &Incoming) -> bool {
    match m {
        Incoming::NewRoute { route, .. } => state.route(route, true),
        Incoming::DelRoute { route } => state.route(route, false),
        Incoming::NewLink {
            index,
            name: Some(n),
            ..
        } => state.links.insert(*index, n.clone()).as_ref() != Some(n),
        Incoming::DelLink { index } => state.links.remove(index).is_some(),
        _ => false,
    }
}

/// Dumps the links, then each family's main table, into `state` (events
/// read meanwhile are applied too).
async fn dump(sock: &mut NlSocket, state: &mut State) -> std::io::Result<()> {
    let mut seq = 1u32;
    for what in [None, Some(Family::V4), Some(Family::V6)] {
        for _attempt in 0..5 {
            seq += 1;
            let mut out = Vec::new();
            match what {
                None => netlink::encode_link_dump(seq, &mut out),
                Some(f) => netlink::encode_route_dump(f, TABLE_MAIN, seq, &mut out),
            }
            sock.send(&out).await?;
            let done = tokio::time::timeout(DUMP_TIMEOUT, async {
                loop {
                    let msgs = match sock.recv().await {
                        Ok(m) => m,
                        // Lost events during a dump: the dump is asked again.
                        Err(e) if netlink::is_overrun(&e) => return Ok(false),
                        Err(e) => return Err(e),
                    };
                    for m in &msgs {
                        match m {
                            Incoming::Done {
                                seq: s,
                                interrupted,
                            } if *s == seq => {
                                return Ok(!interrupted);
                            }
                            Incoming::Ack {
                                seq: s,
                                error: Some(e),
                            } if *s == seq => {
                                return Err(std::io::Error::from_raw_os_error(e.errno));
                            }
                            other => {
                                apply(state, other);
                            }
                        }
                    }
                }
            })
            .await;
            match done {
                Ok(Ok(true)) => break,
                Ok(Ok(false)) | Err(_) => continue,
                Ok(Err(e)) => return Err(e),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::fib::route::KernelNextHop;

    fn route(p: &str, protocol: u8, oif: u32, gw: Option<&str>) -> KernelRoute {
        KernelRoute {
            prefix: p.parse().unwrap(),
            table: TABLE_MAIN,
            protocol,
            metric: 0,
            tos: 0,
            src_len: 0,
            cloned: false,
            kind: KernelKind::Unicast(vec![KernelNextHop {
                gateway: gw.map(|g| g.parse().unwrap()),
                oif,
                onlink: false,
                hops: 0,
            }]),
        }
    }

    #[test]
    fn aliens_and_connected_subnets() {
        let mut s = State::default();
        s.links.insert(2, "eth0".into());
        s.links.insert(5, "cali1234".into());
        assert!(s.route(&route("198.18.0.0/24", PROTO_KERNEL, 2, None), true));
        assert!(s.route(&route("198.19.1.7/32", 3, 5, None), true));
        assert!(!s.route(
            &route("198.19.0.64/26", PROTO_BIRD, 2, Some("198.18.0.2")),
            true
        ));
        let f = s.facts();
        assert_eq!(f.routes.len(), 1);
        let r = f.routes.values().next().unwrap();
        assert_eq!(r.interface.as_deref(), Some("cali1234"));
        assert_eq!(
            f.connected.iter().next().unwrap(),
            &("198.18.0.0/24".parse().unwrap(), "eth0".to_string())
        );
        assert!(s.route(&route("198.19.1.7/32", 3, 5, None), false));
        assert!(s.facts().routes.is_empty());
    }
}
