//! The export of one route to one receiver: the filters of the protocol,
//! export policy, then the attribute changes of the protocol.
//!
//! # Filters, before policy
//!
//! In this order, the first that applies drops the route ([`Filtered`]):
//!
//! 1. NO_ADVERTISE (RFC 1997): to nobody.
//! 2. Internal to internal: only by a route reflector
//!    ([`super::route_reflection::may_reflect`]).
//! 3. NO_EXPORT: not to external peers (confederation peers are inside).
//! 4. NO_EXPORT_SUBCONFED: not to external nor confederation peers.
//! 5. NO_PEER (RFC 3765): not to bilateral peers
//!    ([`PeerConfig::is_bilateral`]).
//! 6. OTC (RFC 9234 5): a route with OTC is not sent to a Provider, a
//!    Peer or a Route Server.
//! 7. LLGR-stale routes (RFC 9494 4.5) only to peers that announced
//!    long-lived graceful restart.
//!
//! # Policy
//!
//! Then the receiver's [`ExportPolicy`], if any, sees the route as it is in
//! the Loc-RIB (the receiver as [`Peer`]): it may reject it, change
//! attributes, and ask for a next hop.
//!
//! # Attribute changes, after policy
//!
//! Unknown optional attributes as RFC 4271 5 says
//! ([`PathAttributes::for_readvertisement`]); AS4_PATH and AS4_AGGREGATOR
//! dropped (the encoder writes them for 2-octet-AS sessions). Then per
//! receiver:
//!
//! | | external | confederation external | internal |
//! |---|---|---|---|
//! | AS_PATH | the local AS prepended (inside a confederation: the confederation segments removed, the confederation identifier prepended; with [`super::LocalAs`]: its AS first, then the real one unless `replace_as`) | the member AS prepended in an AS_CONFED_SEQUENCE | unchanged |
//! | NEXT_HOP | [`NextHopMode`]: self unless third-party on a shared subnet; self; kept | kept unless `SelfAddress` | kept unless `SelfAddress` (reflected routes: always kept) |
//! | LOCAL_PREF | removed | kept; the default if absent | kept; the default if absent |
//! | MED | removed unless the route is originated here, [`PeerConfig::propagate_med`] is set or policy changed it (RFC 4271 5.1.4; FRR and BIRD do the same) | kept | kept |
//! | ORIGINATOR_ID, CLUSTER_LIST | removed | removed | set and prepended on reflection |
//! | OTC | added (our AS) towards a Customer, a Peer or an RS-Client when absent | | |
//!
//! LLGR-stale paths get the LLGR_STALE community (RFC 9494 4.3) whoever
//! receives them. A next hop from policy overrides the mode; a next hop
//! that cannot be made (self without a local address of the family)
//! drops the route.

use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use bgp_wire::AsPath;
use bgp_wire::attribute::{Communities, Community, PathAttributes, SegmentType};
use bgp_wire::capability::bgp_role::BgpRole;
use ipnet::IpNet;

use super::config::{NextHopMode, PeerConfig, SpeakerConfig, in_subnets};
use super::route_reflection;
use crate::attr_store::NextHop;
use crate::path::PathFlags;
use crate::peer::{PeerInfo, PeerKind};
use crate::policy::{NextHopAction, Peer};

/// Export policy, as the update groups call it: given a Loc-RIB route
/// and the receiver, reject it or accept it with (possibly changed)
/// attributes and a next-hop request.
///
/// Implemented for the policy module's [`crate::policy::Chain`] and
/// [`crate::policy::Policy`]; any other type can plug in. A policy must be
/// a function of its inputs: its result is what the group sends to every
/// member, and a route whose result does not change the attributes is
/// cached per attribute set.
pub trait ExportPolicy: Send + Sync {
    /// Evaluates the policy on a route for `peer` (the receiver).
    fn evaluate<'a>(
        &self,
        prefix: IpNet,
        attributes: &'a PathAttributes,
        next_hop: NextHop,
        peer: &'a Peer,
    ) -> PolicyResult<'a>;
}

/// What an [`ExportPolicy`] says.
// Returned by value and consumed at once; boxing the attributes would cost
// an allocation per route.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyResult<'a> {
    /// Do not send the route.
    Reject,
    /// Send it, with these attributes (borrowed when unchanged) and this
    /// next-hop request.
    Accept {
        /// The attributes.
        attributes: Cow<'a, PathAttributes>,
        /// The next hop asked for, if any.
        next_hop: Option<NextHopAction>,
    },
}

impl PolicyResult<'_> {
    /// Whether the route passes unchanged (no attribute or next-hop change).
    pub fn is_unchanged_accept(&self) -> bool {
        matches!(
            self,
            PolicyResult::Accept {
                attributes: Cow::Borrowed(_),
                next_hop: None
            }
        )
    }
}

fn policy_view(prefix: IpNet, next_hop: NextHop) -> (IpNet, IpAddr) {
    (prefix, next_hop.addr())
}

impl ExportPolicy for crate::policy::Chain {
    fn evaluate<'a>(
        &self,
        prefix: IpNet,
        attributes: &'a PathAttributes,
        next_hop: NextHop,
        peer: &'a Peer,
    ) -> PolicyResult<'a> {
        let (prefix, nh) = policy_view(prefix, next_hop);
        let route = crate::policy::RouteView::new(prefix, attributes, peer).with_next_hop(nh);
        let out = crate::policy::Chain::evaluate(self, &route);
        if out.accepted() {
            PolicyResult::Accept {
                attributes: out.attributes,
                next_hop: out.next_hop,
            }
        } else {
            PolicyResult::Reject
        }
    }
}

impl ExportPolicy for crate::policy::Policy {
    fn evaluate<'a>(
        &self,
        prefix: IpNet,
        attributes: &'a PathAttributes,
        next_hop: NextHop,
        peer: &'a Peer,
    ) -> PolicyResult<'a> {
        let (prefix, nh) = policy_view(prefix, next_hop);
        let route = crate::policy::RouteView::new(prefix, attributes, peer).with_next_hop(nh);
        let out = crate::policy::Policy::evaluate(self, &route);
        if out.accepted() {
            PolicyResult::Accept {
                attributes: out.attributes,
                next_hop: out.next_hop,
            }
        } else {
            PolicyResult::Reject
        }
    }
}

/// Where a route comes from, as export sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceClass {
    /// This router's own route ([`PeerConfig::originated`]).
    Originated,
    /// An external peer.
    External,
    /// A confederation external peer.
    ConfedExternal,
    /// An internal peer that is a route-reflection client.
    Client,
    /// Another internal peer.
    NonClient,
}

impl SourceClass {
    /// The class of a RIB peer with this configuration.
    pub fn of(info: &PeerInfo, cfg: &PeerConfig) -> Self {
        if cfg.originated {
            return SourceClass::Originated;
        }
        match info.kind {
            PeerKind::External => SourceClass::External,
            PeerKind::ConfedExternal => SourceClass::ConfedExternal,
            PeerKind::Internal if cfg.rr_client => SourceClass::Client,
            PeerKind::Internal => SourceClass::NonClient,
        }
    }

    /// Whether the route was learned over internal BGP.
    pub fn is_internal(self) -> bool {
        matches!(self, SourceClass::Client | SourceClass::NonClient)
    }
}

/// Why a route is not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Filtered {
    /// NO_ADVERTISE.
    NoAdvertise,
    /// An internal route to an internal peer without reflection.
    IbgpSplitHorizon,
    /// A client's route to a client with client-to-client reflection off.
    ClientToClientOff,
    /// NO_EXPORT to an external peer.
    NoExport,
    /// NO_EXPORT_SUBCONFED to an external or confederation peer.
    NoExportSubconfed,
    /// NO_PEER to a bilateral peer.
    NoPeer,
    /// OTC present, towards a Provider, Peer or Route Server (RFC 9234).
    Otc,
    /// An LLGR-stale route to a peer without LLGR.
    LlgrStale,
    /// Export policy rejected it.
    Policy,
    /// No next hop can be sent (self without a local address of the
    /// family, or a policy next hop of the other family).
    NoNextHop,
}

/// The receiver of an export, as one update group sees its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The session type.
    pub kind: PeerKind,
    /// The peer AS.
    pub asn: u32,
    /// The peer's address (for policy; the group's first member's).
    pub address: IpAddr,
    /// The peer's BGP identifier (for policy; the first member's).
    pub router_id: Ipv4Addr,
    /// The receivers' configuration.
    pub config: PeerConfig,
    /// The receivers announced LLGR.
    pub llgr: bool,
}

impl Target {
    /// What a policy sees of this receiver.
    pub fn policy_peer(&self, speaker: &SpeakerConfig) -> Peer {
        Peer {
            kind: self.kind,
            asn: self.asn,
            address: self.address,
            router_id: self.router_id,
            local_as: self.config.presented_as(speaker, self.kind),
            rr_client: self.config.rr_client,
        }
    }
}

/// A route to export: a Loc-RIB path, decoded.
#[derive(Debug, Clone, Copy)]
pub struct RouteIn<'a> {
    /// The prefix.
    pub prefix: IpNet,
    /// Its attributes.
    pub attributes: &'a PathAttributes,
    /// Its next hop.
    pub next_hop: NextHop,
    /// Its flags (LLGR-stale matters).
    pub flags: PathFlags,
    /// Where it comes from.
    pub source: SourceClass,
    /// The BGP identifier of the peer it was learned from (ORIGINATOR_ID
    /// on reflection).
    pub source_router_id: Ipv4Addr,
}

impl RouteIn<'_> {
    /// Whether the route is LLGR-stale: the path flag or the community.
    pub fn llgr_stale(&self) -> bool {
        self.flags.contains(PathFlags::LLGR_STALE) || has(self.attributes, Community::LLGR_STALE)
    }
}

/// A route as sent: its attributes (NEXT_HOP among them for an IPv4
/// route with an IPv4 next hop) and its next hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// The attributes.
    pub attributes: PathAttributes,
    /// The next hop.
    pub next_hop: NextHop,
}

fn has(attrs: &PathAttributes, c: Community) -> bool {
    attrs.communities.as_ref().is_some_and(|cs| cs.contains(&c))
}

/// The filters that come before policy (see the [module
/// documentation](self)).
pub fn filter(
    speaker: &SpeakerConfig,
    route: &RouteIn<'_>,
    target: &Target,
) -> Result<(), Filtered> {
    let a = route.attributes;
    if has(a, Community::NO_ADVERTISE) {
        return Err(Filtered::NoAdvertise);
    }
    if target.kind == PeerKind::Internal && route.source.is_internal() {
        route_reflection::may_reflect(
            route.source,
            target.config.rr_client,
            speaker.client_to_client,
        )?;
    }
    if target.kind == PeerKind::External && has(a, Community::NO_EXPORT) {
        return Err(Filtered::NoExport);
    }
    if target.kind != PeerKind::Internal && has(a, Community::NO_EXPORT_SUBCONFED) {
        return Err(Filtered::NoExportSubconfed);
    }
    if target.kind == PeerKind::External
        && target.config.is_bilateral()
        && has(a, Community::NO_PEER)
    {
        return Err(Filtered::NoPeer);
    }
    if target.kind == PeerKind::External
        && a.otc.is_some()
        && matches!(
            target.config.peer_role(),
            Some(BgpRole::Provider | BgpRole::Peer | BgpRole::RouteServer)
        )
    {
        return Err(Filtered::Otc);
    }
    if !target.llgr && route.llgr_stale() {
        return Err(Filtered::LlgrStale);
    }
    Ok(())
}

/// The whole export of one route: [`filter`], the policy, [`transform`].
pub fn export(
    speaker: &SpeakerConfig,
    route: &RouteIn<'_>,
    target: &Target,
    peer: &Peer,
) -> Result<Exported, Filtered> {
    filter(speaker, route, target)?;
    match &target.config.export_policy {
        None => transform(speaker, route, target, route.attributes, None),
        Some(p) => match p
            .0
            .evaluate(route.prefix, route.attributes, route.next_hop, peer)
        {
            PolicyResult::Reject => Err(Filtered::Policy),
            PolicyResult::Accept {
                attributes,
                next_hop,
            } => transform(speaker, route, target, &attributes, next_hop),
        },
    }
}

/// The attribute changes that come after policy: `attrs` is what policy
/// made of the route's attributes, `request` its next-hop request.
pub fn transform(
    speaker: &SpeakerConfig,
    route: &RouteIn<'_>,
    target: &Target,
    attrs: &PathAttributes,
    request: Option<NextHopAction>,
) -> Result<Exported, Filtered> {
    let cfg = &target.config;
    let mut out = attrs.for_readvertisement();
    out.as4_path = None;
    out.as4_aggregator = None;
    let reflected = target.kind == PeerKind::Internal && route.source.is_internal();
    let path = out.as_path.take().unwrap_or_else(AsPath::empty);
    match target.kind {
        PeerKind::External => {
            let mut path = if speaker.confederation.is_some() {
                path.without_confed()
            } else {
                path
            };
            match cfg.local_as {
                Some(l) if l.replace_as => path = path.prepended(l.asn, 1),
                Some(l) => path = path.prepended(speaker.external_as(), 1).prepended(l.asn, 1),
                None => path = path.prepended(speaker.external_as(), 1),
            }
            out.as_path = Some(path);
            out.local_pref = None;
            let med_set_by_policy = attrs.multi_exit_disc != route.attributes.multi_exit_disc;
            if !(cfg.propagate_med || route.source == SourceClass::Originated || med_set_by_policy)
            {
                out.multi_exit_disc = None;
            }
            out.originator_id = None;
            out.cluster_list = None;
            if out.otc.is_none()
                && matches!(
                    cfg.peer_role(),
                    Some(BgpRole::Customer | BgpRole::Peer | BgpRole::RouteServerClient)
                )
            {
                out.otc = Some(cfg.presented_as(speaker, target.kind));
            }
        }
        PeerKind::ConfedExternal => {
            out.as_path = Some(confed_prepended(&path, speaker.local_as));
            out.local_pref = out.local_pref.or(Some(speaker.default_local_pref));
            out.originator_id = None;
            out.cluster_list = None;
        }
        PeerKind::Internal => {
            out.as_path = Some(path);
            out.local_pref = out.local_pref.or(Some(speaker.default_local_pref));
            if reflected {
                route_reflection::reflect(&mut out, route.source_router_id, speaker.cluster_id());
            }
        }
    }
    if route.flags.contains(PathFlags::LLGR_STALE) && !has(&out, Community::LLGR_STALE) {
        let mut cs: Vec<Community> = out
            .communities
            .as_ref()
            .map(|c| c.iter().collect())
            .unwrap_or_default();
        cs.push(Community::LLGR_STALE);
        out.communities = Some(Communities::from_items(&cs));
    }
    let next_hop = next_hop(route, target, reflected, request).ok_or(Filtered::NoNextHop)?;
    out.next_hop = match (route.prefix, next_hop) {
        (IpNet::V4(_), NextHop::V4(a)) => Some(a),
        _ => None,
    };
    Ok(Exported {
        attributes: out,
        next_hop,
    })
}

/// The path with `asn` prepended in a leading AS_CONFED_SEQUENCE (RFC 5065
/// 5.3, sending to a confederation peer).
pub fn confed_prepended(path: &AsPath, asn: u32) -> AsPath {
    let mut segs: Vec<(SegmentType, Vec<u32>)> = path
        .segments()
        .map(|s| (s.kind(), s.asns().collect()))
        .collect();
    match segs.first_mut() {
        Some((SegmentType::AsConfedSequence, v)) => v.insert(0, asn),
        _ => segs.insert(0, (SegmentType::AsConfedSequence, vec![asn])),
    }
    AsPath::from_segments(segs.iter().map(|(k, v)| (*k, &v[..])))
}

fn unspecified(nh: NextHop) -> bool {
    nh.addr().is_unspecified()
}

/// The next hop sent; `None` when it cannot be made.
fn next_hop(
    route: &RouteIn<'_>,
    target: &Target,
    reflected: bool,
    request: Option<NextHopAction>,
) -> Option<NextHop> {
    let cfg = &target.config;
    let own = || self_address(route.prefix, cfg);
    let kept = || {
        if unspecified(route.next_hop) {
            return own();
        }
        Some(match route.next_hop {
            NextHop::V6 { global, .. } => NextHop::from(global),
            v4 => v4,
        })
    };
    match request {
        Some(NextHopAction::Unchanged) => return kept(),
        Some(NextHopAction::SelfAddress) => return own(),
        Some(NextHopAction::Address(a)) => {
            return match (route.prefix, a) {
                (IpNet::V4(_), IpAddr::V4(_)) | (IpNet::V6(_), IpAddr::V6(_)) => {
                    Some(NextHop::from(a))
                }
                _ => None,
            };
        }
        None => {}
    }
    match (cfg.next_hop, target.kind) {
        (NextHopMode::Keep, _) => kept(),
        (NextHopMode::SelfAddress, _) if !reflected => own(),
        (NextHopMode::Default, PeerKind::External) => {
            let addr = route.next_hop.addr();
            if !unspecified(route.next_hop) && in_subnets(&cfg.shared_subnets, addr) {
                kept()
            } else {
                own()
            }
        }
        _ => kept(),
    }
}

/// This router's address for a route of `prefix`'s family.
fn self_address(prefix: IpNet, cfg: &PeerConfig) -> Option<NextHop> {
    let a = cfg.local_addresses;
    match prefix {
        IpNet::V4(_) => a.v4.map(NextHop::V4),
        IpNet::V6(_) => a.v6.map(|global: Ipv6Addr| NextHop::V6 {
            global,
            link_local: a.v6_link_local,
        }),
    }
}
