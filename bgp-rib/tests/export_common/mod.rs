//! Helpers of the propagation tests: a speaker (RIB and exporter) whose
//! members' UPDATEs are decoded with bgp-wire into what each would hold.

#![allow(dead_code, unreachable_pub, missing_docs)]

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};

use bgp_rib::export::{Exporter, Negotiated, PeerConfig, SpeakerConfig};
use bgp_rib::{AllReachable, BestChange, DecisionConfig, NextHop, PeerId, PeerInfo, PeerKind, Rib};
use bgp_wire::attribute::{PathAttributes, PeerType};
use bgp_wire::nlri::Nlri;
use bgp_wire::{AfiSafi, SessionContext, Update};
use bytes::Bytes;
use ipnet::IpNet;

pub fn ip4(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

pub fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

/// What a receiver holds after applying UPDATEs in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rx {
    /// (prefix, path id) to (attributes, next hop).
    pub routes: BTreeMap<(IpNet, Option<u32>), (PathAttributes, NextHop)>,
    /// End-of-RIB markers seen, in order.
    pub eor: Vec<AfiSafi>,
    /// UPDATE messages applied (End-of-RIB included).
    pub updates: usize,
    /// Announcements and withdrawals seen.
    pub announced: usize,
    pub withdrawn: usize,
}

impl Rx {
    /// Applies encoded UPDATE messages (header included), decoded with the
    /// receiver's context.
    pub fn apply(&mut self, msgs: &[Bytes], ctx: &SessionContext) {
        for m in msgs {
            assert!(
                m.len() <= ctx.max_message_len(),
                "message of {} octets",
                m.len()
            );
            let u = Update::decode(m.slice(19..), ctx).expect("UPDATE decodes");
            self.updates += 1;
            if let Some(f) = u.end_of_rib() {
                self.eor.push(f);
                continue;
            }
            let d = u.attributes(ctx, PeerType::Oad).expect("attributes decode");
            assert!(d.report.is_empty(), "attribute problems: {:?}", d.report);
            for n in u.withdrawn() {
                self.withdrawn += 1;
                self.routes.remove(&(n.prefix, n.path_id));
            }
            if let Some(mu) = &d.mp_unreach {
                for n in mu.prefixes() {
                    self.withdrawn += 1;
                    self.routes.remove(&(n.prefix, n.path_id));
                }
            }
            for n in u.nlri() {
                self.announced += 1;
                let nh = NextHop::V4(d.attributes.next_hop.expect("NEXT_HOP"));
                self.routes
                    .insert((n.prefix, n.path_id), (d.attributes.clone(), nh));
            }
            if let Some(mr) = &d.mp_reach {
                let nh = NextHop::from_mp(&mr.next_hop).expect("next hop");
                for n in mr.prefixes() {
                    self.announced += 1;
                    self.routes
                        .insert((n.prefix, n.path_id), (d.attributes.clone(), nh));
                }
            }
        }
    }

    /// The route of a prefix without path id.
    pub fn get(&self, prefix: &str) -> Option<&(PathAttributes, NextHop)> {
        self.routes.get(&(net(prefix), None))
    }

    /// The attributes of a prefix without path id.
    pub fn attrs(&self, prefix: &str) -> &PathAttributes {
        &self
            .get(prefix)
            .unwrap_or_else(|| panic!("{prefix} not received"))
            .0
    }

    pub fn has(&self, prefix: &str) -> bool {
        self.get(prefix).is_some()
    }

    /// The routes without the path ids: (prefix, attributes, next hop).
    pub fn path_ids(&self, prefix: &str) -> Vec<u32> {
        self.routes
            .keys()
            .filter(|(p, _)| *p == net(prefix))
            .filter_map(|(_, id)| *id)
            .collect()
    }
}

/// A speaker: RIB, exporter, and what each member received.
pub struct Speaker {
    pub rib: Rib,
    pub ex: Exporter,
    pub rx: HashMap<PeerId, (Rx, SessionContext)>,
    pub changes: Vec<BestChange>,
}

impl Speaker {
    pub fn new(asn: u32, router_id: &str) -> Self {
        Self::with(
            SpeakerConfig::new(asn, ip4(router_id)),
            DecisionConfig::default(),
        )
    }

    /// A speaker whose RIB records touched prefixes (what the exporter
    /// needs for ADD-PATH and for flag-only changes such as LLGR).
    pub fn with(cfg: SpeakerConfig, d: DecisionConfig) -> Self {
        let mut rib = Rib::new(d);
        rib.track_touched(true);
        Speaker {
            rib,
            ex: Exporter::new(cfg),
            rx: HashMap::new(),
            changes: Vec::new(),
        }
    }

    /// Registers a peer (router id and address `addr`) with its config.
    pub fn peer(&mut self, kind: PeerKind, asn: u32, addr: &str, cfg: PeerConfig) -> PeerId {
        let address: IpAddr = addr.parse().unwrap();
        let router_id = match address {
            IpAddr::V4(a) => a,
            IpAddr::V6(_) => Ipv4Addr::new(10, 255, 255, 1),
        };
        let id = self
            .rib
            .add_peer(PeerInfo {
                kind,
                asn,
                router_id,
                address,
                local: false,
            })
            .unwrap();
        self.ex.set_peer_config(id, cfg);
        id
    }

    /// Makes a peer a member and applies what it was sent.
    pub fn join(&mut self, peer: PeerId, neg: Negotiated) {
        let ctx = neg.send_context().reversed();
        self.ex.join(&self.rib, peer, neg, &AllReachable).unwrap();
        self.rx.insert(peer, (Rx::default(), ctx));
        self.deliver(peer);
    }

    pub fn announce(&mut self, peer: PeerId, prefixes: &[&str], a: &PathAttributes, nh: &str) {
        let hop: IpAddr = nh.parse().unwrap();
        let nlri: Vec<Nlri> = prefixes.iter().map(|p| Nlri::new(net(p))).collect();
        self.announce_nlri(peer, nlri, a, NextHop::from(hop));
    }

    pub fn announce_nlri(
        &mut self,
        peer: PeerId,
        nlri: Vec<Nlri>,
        a: &PathAttributes,
        nh: NextHop,
    ) {
        let mut a = a.clone();
        if let NextHop::V4(v4) = nh {
            a.next_hop = Some(v4);
        }
        let mut ch = Vec::new();
        self.rib
            .announce(peer, &a, nh, nlri, &AllReachable, &mut ch)
            .unwrap();
        self.ex.record(&ch);
        self.changes.extend(ch);
    }

    pub fn withdraw(&mut self, peer: PeerId, prefixes: &[&str]) {
        let nlri: Vec<Nlri> = prefixes.iter().map(|p| Nlri::new(net(p))).collect();
        let mut ch = Vec::new();
        self.rib.withdraw(peer, nlri, &AllReachable, &mut ch);
        self.ex.record(&ch);
    }

    /// Flushes and applies every member's messages.
    pub fn flush(&mut self) -> bgp_rib::export::ExportReport {
        let mut touched = Vec::new();
        self.rib.take_touched(&mut touched);
        self.ex.record_prefixes(touched);
        let r = self.ex.flush(&self.rib, &AllReachable);
        let peers: Vec<PeerId> = self.rx.keys().copied().collect();
        for p in peers {
            self.deliver(p);
        }
        r
    }

    pub fn deliver(&mut self, peer: PeerId) -> Vec<Bytes> {
        let msgs = self.ex.take_messages(peer);
        if let Some((rx, ctx)) = self.rx.get_mut(&peer) {
            rx.apply(&msgs, ctx);
        }
        msgs
    }

    pub fn got(&self, peer: PeerId) -> &Rx {
        &self.rx.get(&peer).unwrap().0
    }
}
