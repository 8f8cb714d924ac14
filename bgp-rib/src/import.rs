//! The protocol's checks on received routes, before import policy: AS
//! loops (with an allowed count of the local AS), route-reflection loops
//! (RFC 4456 8), route leaks by the BGP role and OTC rules (RFC 9234 5),
//! and the `local-as` prepend.
//!
//! A route that fails a check is not taken: [`apply_update`] withdraws it
//! (the peer's earlier path for the prefix, if any, is gone too), as RFC
//! 4271 9.1.2 does for AS loops and RFC 9234 for leaks ("ineligible").
//!
//! RFC 9234 5, in terms of the peer's role (ours is the matching one,
//! [`PeerConfig::peer_role`]):
//! 1. a route with OTC from a Customer or an RS-Client is a leak;
//! 2. a route with OTC from a Peer whose value is not the Peer's AS is a
//!    leak;
//! 3. a route without OTC from a Provider, a Peer or an RS gets OTC with
//!    the peer's AS.

use bgp_wire::attribute::{DecodedAttributes, PathAttributes, SegmentType};
use bgp_wire::capability::bgp_role::BgpRole;
use bgp_wire::{AfiSafi, Update};

use crate::change::BestChange;
use crate::export::SpeakerConfig;
use crate::export::config::PeerConfig;
use crate::export::route_reflection::{self, ReflectionLoop};
use crate::loc_rib::{Rib, RibError, UpdateOutcome};
use crate::peer::{PeerId, PeerInfo, PeerKind};
use crate::resolver::NextHopResolver;

/// Why a received route is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportReject {
    /// The AS_PATH holds a local AS more often than allowed.
    AsLoop {
        /// The AS found.
        asn: u32,
        /// How many times.
        count: usize,
    },
    /// A route-reflection loop.
    Reflection(ReflectionLoop),
    /// RFC 9234 route leak: OTC from a Customer or an RS-Client.
    LeakFromCustomer,
    /// RFC 9234 route leak: OTC from a Peer with another AS than the
    /// Peer's.
    LeakFromPeer {
        /// The OTC value received.
        otc: u32,
    },
}

/// Checks a route received from `peer` and makes the changes import
/// applies (OTC added, `local-as` prepended). `Err` when the route must
/// not be taken.
pub fn check(
    speaker: &SpeakerConfig,
    peer: &PeerInfo,
    cfg: &PeerConfig,
    attrs: &mut PathAttributes,
) -> Result<(), ImportReject> {
    route_reflection::check_received(attrs, speaker.router_id, speaker.cluster_id())
        .map_err(ImportReject::Reflection)?;
    as_loop(speaker, cfg, attrs)?;
    if peer.kind == PeerKind::External {
        match (cfg.peer_role(), attrs.otc) {
            (Some(BgpRole::Customer | BgpRole::RouteServerClient), Some(_)) => {
                return Err(ImportReject::LeakFromCustomer);
            }
            (Some(BgpRole::Peer), Some(otc)) if otc != peer.asn => {
                return Err(ImportReject::LeakFromPeer { otc });
            }
            (Some(BgpRole::Provider | BgpRole::Peer | BgpRole::RouteServer), None) => {
                attrs.otc = Some(peer.asn);
            }
            _ => {}
        }
        if let Some(l) = cfg.local_as.filter(|l| !l.no_prepend) {
            let path = attrs.as_path.take().unwrap_or_else(bgp_wire::AsPath::empty);
            attrs.as_path = Some(path.prepended(l.asn, 1));
        }
    }
    Ok(())
}

/// The AS loop check: the AS external peers see (the confederation
/// identifier, or the local AS) outside confederation segments, the member
/// AS inside them, and the `local-as` AS anywhere, each at most
/// [`PeerConfig::allow_own_as`] times.
fn as_loop(
    speaker: &SpeakerConfig,
    cfg: &PeerConfig,
    attrs: &PathAttributes,
) -> Result<(), ImportReject> {
    let Some(path) = &attrs.as_path else {
        return Ok(());
    };
    let allowed = usize::from(cfg.allow_own_as);
    let external = speaker.external_as();
    let (mut ext, mut member, mut local) = (0usize, 0usize, 0usize);
    for s in path.segments() {
        let confed = matches!(
            s.kind(),
            SegmentType::AsConfedSequence | SegmentType::AsConfedSet
        );
        for a in s.asns() {
            if confed {
                member += usize::from(a == speaker.local_as);
            } else {
                ext += usize::from(a == external);
            }
            local += usize::from(cfg.local_as.is_some_and(|l| l.asn == a));
        }
    }
    for (asn, count) in [
        (external, ext),
        (speaker.local_as, member),
        (cfg.local_as.map_or(0, |l| l.asn), local),
    ] {
        if count > allowed {
            return Err(ImportReject::AsLoop { asn, count });
        }
    }
    Ok(())
}

/// What [`apply_update`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckedOutcome {
    /// What the RIB did.
    pub rib: UpdateOutcome,
    /// Why the UPDATE's routes were refused, if they were.
    pub rejected: Option<ImportReject>,
}

/// Applies a received UPDATE as [`Rib::apply_update`] does, after
/// [`check`]: the announced routes of a refused UPDATE are withdrawn
/// instead. Import policy, per prefix, is the caller's (run it before, or
/// use [`check`] and [`Rib::announce`]).
#[allow(clippy::too_many_arguments)]
pub fn apply_update(
    rib: &mut Rib,
    speaker: &SpeakerConfig,
    cfg: &PeerConfig,
    peer: PeerId,
    update: &Update,
    decoded: &DecodedAttributes,
    resolver: &impl NextHopResolver,
    changes: &mut Vec<BestChange>,
) -> Result<CheckedOutcome, RibError> {
    let info = rib.peer(peer).cloned().ok_or(RibError::UnknownPeer(peer))?;
    let announces = update.nlri().len() > 0 || decoded.mp_reach.is_some();
    if !announces {
        return Ok(CheckedOutcome {
            rib: rib.apply_update(peer, update, decoded, resolver, changes)?,
            rejected: None,
        });
    }
    let mut d = decoded.clone();
    match check(speaker, &info, cfg, &mut d.attributes) {
        Ok(()) => Ok(CheckedOutcome {
            rib: rib.apply_update(peer, update, &d, resolver, changes)?,
            rejected: None,
        }),
        Err(why) => {
            let mut out = UpdateOutcome::default();
            out.withdrawn += rib.withdraw(peer, update.withdrawn(), resolver, changes);
            if let Some(m) = &decoded.mp_unreach {
                out.withdrawn += rib.withdraw(peer, m.prefixes(), resolver, changes);
            }
            out.withdrawn += rib.withdraw(peer, update.nlri(), resolver, changes);
            if let Some(m) = decoded
                .mp_reach
                .as_ref()
                .filter(|m| m.family == AfiSafi::IPV4_UNICAST || m.family == AfiSafi::IPV6_UNICAST)
            {
                out.withdrawn += rib.withdraw(peer, m.prefixes(), resolver, changes);
            }
            Ok(CheckedOutcome {
                rib: out,
                rejected: Some(why),
            })
        }
    }
}
