//! Configuration of route propagation: the speaker's ([`SpeakerConfig`]),
//! each peer's ([`PeerConfig`], read both when the peer is the source of a
//! route and when it receives one), and what a session negotiated that
//! export depends on ([`Negotiated`]).

use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use bgp_wire::capability::bgp_role::BgpRole;
use bgp_wire::{AfiSafi, SessionContext};
use ipnet::IpNet;

use super::rules::ExportPolicy;

/// What the whole speaker is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeakerConfig {
    /// The local AS; inside a confederation, the member AS.
    pub local_as: u32,
    /// The BGP identifier.
    pub router_id: Ipv4Addr,
    /// The route-reflection cluster ID (RFC 4456 7); `None`: the router
    /// ID.
    pub cluster_id: Option<Ipv4Addr>,
    /// Reflect routes from clients to other clients (on by default; turn
    /// off when the clients are fully meshed).
    pub client_to_client: bool,
    /// The confederation identifier (RFC 5065) when the speaker is a
    /// member of a confederation: the AS external peers see.
    pub confederation: Option<u32>,
    /// LOCAL_PREF sent to internal and confederation peers for a route
    /// without one (100).
    pub default_local_pref: u32,
}

impl SpeakerConfig {
    /// A speaker of `local_as` with this router ID: cluster ID the router
    /// ID, client-to-client reflection on, no confederation, default
    /// LOCAL_PREF 100.
    pub fn new(local_as: u32, router_id: Ipv4Addr) -> Self {
        SpeakerConfig {
            local_as,
            router_id,
            cluster_id: None,
            client_to_client: true,
            confederation: None,
            default_local_pref: 100,
        }
    }

    /// The cluster ID in use: the configured one or the router ID.
    pub fn cluster_id(&self) -> Ipv4Addr {
        self.cluster_id.unwrap_or(self.router_id)
    }

    /// The AS external (non-confederation) peers see: the confederation
    /// identifier, or the local AS.
    pub fn external_as(&self) -> u32 {
        self.confederation.unwrap_or(self.local_as)
    }
}

/// How NEXT_HOP is set on export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum NextHopMode {
    /// The usual rules: to an external peer, this router's address on the
    /// session unless the route's next hop is on a subnet shared with the
    /// peer ([`PeerConfig::shared_subnets`]: RFC 4271 5.1.3's third-party
    /// next hop); to internal and confederation peers, unchanged (a
    /// locally originated route without a next hop gets this router's
    /// address).
    #[default]
    Default,
    /// Always this router's address, except on reflected routes, which
    /// RFC 4456 keeps unchanged.
    SelfAddress,
    /// Never changed, to external peers too (a route server, or
    /// `next-hop unchanged`).
    Keep,
}

/// Another local AS for one session (as FRR's `local-as`): the session is
/// set up with `asn`, and routes carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LocalAs {
    /// The AS presented to the peer.
    pub asn: u32,
    /// Do not prepend `asn` to the AS_PATH of routes received from the
    /// peer (by default it is, so that the rest of the network sees the
    /// path through `asn`).
    pub no_prepend: bool,
    /// On routes sent to the peer, prepend only `asn`, not the real local
    /// AS after it.
    pub replace_as: bool,
}

/// This router's addresses on a session: what "next hop self" writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LocalAddresses {
    /// The IPv4 address (IPv4 routes).
    pub v4: Option<Ipv4Addr>,
    /// The global IPv6 address (IPv6 routes).
    pub v6: Option<Ipv6Addr>,
    /// The link-local IPv6 address, sent beside the global one to a
    /// directly connected peer (RFC 2545 3).
    pub v6_link_local: Option<Ipv6Addr>,
}

impl LocalAddresses {
    /// An IPv4-only session from this address.
    pub fn v4(a: Ipv4Addr) -> Self {
        LocalAddresses {
            v4: Some(a),
            ..LocalAddresses::default()
        }
    }

    /// The same with an IPv6 global address.
    pub fn with_v6(mut self, a: Ipv6Addr) -> Self {
        self.v6 = Some(a);
        self
    }

    /// The same with an IPv6 link-local address.
    pub fn with_link_local(mut self, a: Ipv6Addr) -> Self {
        self.v6_link_local = Some(a);
        self
    }
}

/// An export policy, compared by identity (the same `Arc`) so that peers
/// sharing one policy can share an update group.
#[derive(Clone)]
pub struct PolicyRef(pub Arc<dyn ExportPolicy>);

impl PolicyRef {
    /// Wraps a policy.
    pub fn new(p: impl ExportPolicy + 'static) -> Self {
        PolicyRef(Arc::new(p))
    }

    fn addr(&self) -> *const () {
        Arc::as_ptr(&self.0).cast::<()>()
    }
}

impl fmt::Debug for PolicyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PolicyRef").field(&self.addr()).finish()
    }
}

impl PartialEq for PolicyRef {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.addr(), other.addr())
    }
}
impl Eq for PolicyRef {}
impl Hash for PolicyRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.addr().hash(state);
    }
}

/// What propagation knows of one peer. The RIB's [`crate::PeerInfo`] gives
/// its session type, AS, router ID and address; this gives the rest.
///
/// Read when the peer is the *source* of a route (`rr_client`,
/// `originated`, and on import `allow_own_as`, `local_as`, `local_role`)
/// and when it is a *receiver* (everything else).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct PeerConfig {
    /// A route-reflection client (internal peers only).
    pub rr_client: bool,
    /// The "peer" of locally originated routes: the RIB peer whose paths
    /// are this router's own routes (network statements, redistribution).
    /// Its routes are sent to internal peers without reflection and keep
    /// their MED towards external peers.
    pub originated: bool,
    /// Our BGP role on the session (RFC 9234, as in our capability), for
    /// the OTC rules; the peer's role is the matching one.
    pub local_role: Option<BgpRole>,
    /// A bilateral peer: routes with NO_PEER (RFC 3765) are not sent to
    /// it. A session whose role pair is Peer/Peer counts as one too.
    pub bilateral: bool,
    /// Another local AS for this session.
    pub local_as: Option<LocalAs>,
    /// NEXT_HOP handling on export.
    pub next_hop: NextHopMode,
    /// This router's addresses on the session.
    pub local_addresses: LocalAddresses,
    /// Subnets shared with the peer (directly connected): a route whose
    /// next hop is in one keeps it on eBGP export (third-party next hop).
    pub shared_subnets: Vec<IpNet>,
    /// Send MED received from another AS to this external peer (FRR's
    /// `attribute-unchanged med`, BIRD's `allow med`); off: it is dropped,
    /// as RFC 4271 5.1.4 says, unless export policy sets one.
    pub propagate_med: bool,
    /// How many times the local AS may appear in the AS_PATH of a received
    /// route (FRR's `allowas-in`); 0 by default.
    pub allow_own_as: u8,
    /// Export policy; `None` accepts everything unchanged.
    pub export_policy: Option<PolicyRef>,
}

impl PeerConfig {
    /// The AS this session presents: the `local_as` option, the
    /// confederation identifier for external peers of a confederation
    /// member, or the local AS.
    pub fn presented_as(&self, speaker: &SpeakerConfig, kind: crate::PeerKind) -> u32 {
        match (self.local_as, kind) {
            (Some(l), _) => l.asn,
            (None, crate::PeerKind::External) => speaker.external_as(),
            (None, _) => speaker.local_as,
        }
    }

    /// The peer's role, from ours (RFC 9234 4.2).
    pub fn peer_role(&self) -> Option<BgpRole> {
        self.local_role.and_then(BgpRole::expected_peer_role)
    }

    /// Whether the peer is bilateral (NO_PEER): configured so, or its role
    /// is Peer.
    pub fn is_bilateral(&self) -> bool {
        self.bilateral || self.peer_role() == Some(BgpRole::Peer)
    }

    /// The local addresses used for next hop self.
    pub fn with_local_addresses(mut self, a: LocalAddresses) -> Self {
        self.local_addresses = a;
        self
    }
}

/// What ADD-PATH sends for one family (RFC 7911).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddPathSend {
    /// Every usable path.
    All,
    /// The best `n` exportable paths, in decision order.
    Best(u8),
}

/// What a session negotiated that the encoding of its UPDATEs depends on,
/// and what our side chose to send.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Negotiated {
    /// 4-octet AS numbers (RFC 6793).
    pub four_octet_as: bool,
    /// Extended messages (RFC 8654).
    pub extended_message: bool,
    /// The families exchanged (IPv4 and IPv6 unicast are exported).
    pub families: Vec<AfiSafi>,
    /// Families with ADD-PATH send negotiated, and what is sent.
    pub add_path: Vec<(AfiSafi, AddPathSend)>,
    /// The peer announced long-lived graceful restart (RFC 9494): it may
    /// receive LLGR-stale routes.
    pub llgr: bool,
}

impl Default for Negotiated {
    /// 4-octet AS, IPv4 unicast only, no extended messages, no ADD-PATH,
    /// no LLGR.
    fn default() -> Self {
        Negotiated {
            four_octet_as: true,
            extended_message: false,
            families: vec![AfiSafi::IPV4_UNICAST],
            add_path: Vec::new(),
            llgr: false,
        }
    }
}

impl Negotiated {
    /// Both unicast families.
    pub fn dual_stack() -> Self {
        Negotiated {
            families: vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST],
            ..Negotiated::default()
        }
    }

    /// The same with ADD-PATH send for a family.
    pub fn with_add_path(mut self, family: AfiSafi, mode: AddPathSend) -> Self {
        self.add_path.retain(|(f, _)| *f != family);
        self.add_path.push((family, mode));
        self
    }

    /// The ADD-PATH mode of a family.
    pub fn add_path(&self, family: AfiSafi) -> Option<AddPathSend> {
        self.add_path
            .iter()
            .find(|(f, _)| *f == family)
            .map(|(_, m)| *m)
    }

    /// Whether a family is exchanged.
    pub fn has_family(&self, family: AfiSafi) -> bool {
        self.families.contains(&family)
    }

    /// The encoding context of UPDATEs we send.
    pub fn send_context(&self) -> SessionContext {
        let mut ctx = SessionContext::default()
            .with_four_octet_as(self.four_octet_as)
            .with_extended_message(self.extended_message);
        for (f, _) in &self.add_path {
            ctx.set_add_path(*f, bgp_wire::Direction::Send, true);
        }
        ctx
    }
}

/// The address family of an IP prefix, as exported.
pub(crate) fn family_of(prefix: &IpNet) -> AfiSafi {
    match prefix {
        IpNet::V4(_) => AfiSafi::IPV4_UNICAST,
        IpNet::V6(_) => AfiSafi::IPV6_UNICAST,
    }
}

/// Whether `addr` is in one of `subnets`.
pub(crate) fn in_subnets(subnets: &[IpNet], addr: IpAddr) -> bool {
    subnets.iter().any(|n| n.contains(&addr))
}
