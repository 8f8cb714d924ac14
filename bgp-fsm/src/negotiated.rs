//! What the two OPENs of a session agree on: one [`Negotiated`] value.
//!
//! The codec's part (4-octet AS numbers, ADD-PATH directions, extended
//! messages, extended next hops) is computed by bgp-wire's
//! [`Open::negotiate`] and kept as the [`SessionContext`] the codec takes
//! ([`Negotiated::session_context`]); this module adds what the session and
//! the route layer need: address families, hold and keepalive times, route
//! refresh, graceful restart parameters of both sides, roles.

use std::net::Ipv4Addr;
use std::time::Duration;

use bgp_wire::capability::{
    BgpRole, GracefulRestart, LongLivedGracefulRestart, enhanced_route_refresh, route_refresh,
};
use bgp_wire::{Afi, AfiSafi, Capability, Direction, Open, SessionContext};

use crate::config::SessionConfig;
use crate::open_validation::announced_families;

/// The outcome of capability negotiation and of the OPEN exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// The OPEN we sent.
    pub local_open: Open,
    /// The OPEN the peer sent.
    pub remote_open: Open,
    /// The peer's AS number.
    pub peer_as: u32,
    /// The peer's BGP Identifier.
    pub peer_id: Ipv4Addr,
    /// Whether the peer is internal (same AS).
    pub internal: bool,
    /// The negotiated hold time in seconds: the smaller of the two, 0 for
    /// no HoldTimer and no KEEPALIVEs.
    pub hold_time: u16,
    /// The time between KEEPALIVEs before jitter: a third of the hold time,
    /// or the configured KeepaliveTime if smaller; `None` when the hold
    /// time is 0.
    pub keepalive_time: Option<Duration>,
    /// The address families both sides announced, in our order.
    pub families: Vec<AfiSafi>,
    /// Both sides announced Route Refresh (code 2 or the pre-standard 128).
    pub route_refresh: bool,
    /// Both sides announced Enhanced Route Refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// Both sides' Graceful Restart and Long-Lived Graceful Restart
    /// capabilities.
    pub graceful_restart: GracefulRestartParameters,
    /// Our BGP Role, if announced.
    pub local_role: Option<BgpRole>,
    /// The peer's BGP Role, if announced.
    pub remote_role: Option<BgpRole>,
    context: SessionContext,
}

/// The Graceful Restart (RFC 4724, RFC 8538) and Long-Lived Graceful
/// Restart (RFC 9494) capabilities each side announced.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GracefulRestartParameters {
    /// Ours.
    pub local: Option<GracefulRestart>,
    /// The peer's.
    pub remote: Option<GracefulRestart>,
    /// Our long-lived one.
    pub local_long_lived: Option<LongLivedGracefulRestart>,
    /// The peer's long-lived one.
    pub remote_long_lived: Option<LongLivedGracefulRestart>,
}

impl GracefulRestartParameters {
    /// Both sides announced Graceful Restart: End-of-RIB and helper
    /// procedures apply.
    pub fn negotiated(&self) -> bool {
        self.local.is_some() && self.remote.is_some()
    }

    /// Both sides set the N bit (RFC 8538): NOTIFICATIONs other than Hard
    /// Reset keep the graceful restart procedures.
    pub fn notification(&self) -> bool {
        self.local
            .as_ref()
            .is_some_and(GracefulRestart::notification)
            && self
                .remote
                .as_ref()
                .is_some_and(GracefulRestart::notification)
    }

    /// The peer set the R bit: it has restarted.
    pub fn peer_restarted(&self) -> bool {
        self.remote
            .as_ref()
            .is_some_and(GracefulRestart::restart_state)
    }

    /// Both sides announced Long-Lived Graceful Restart.
    pub fn long_lived(&self) -> bool {
        self.local_long_lived.is_some() && self.remote_long_lived.is_some()
    }

    /// Whether we keep the peer's routes when the session goes down: we
    /// announced Graceful Restart (or Long-Lived Graceful Restart) and so
    /// did the peer.
    pub fn helper(&self) -> bool {
        self.negotiated() || self.long_lived()
    }

    /// The Restart Time the peer announced, in seconds (0 when it announced
    /// only Long-Lived Graceful Restart).
    pub fn peer_restart_time(&self) -> u16 {
        self.remote.as_ref().map_or(0, |g| g.restart_time)
    }

    /// The families whose routes we keep when the session goes down: those
    /// the peer listed in its capabilities, among `families`.
    pub fn retained_families(&self, families: &[AfiSafi]) -> Vec<AfiSafi> {
        families
            .iter()
            .copied()
            .filter(|f| {
                self.negotiated() && self.remote.as_ref().is_some_and(|g| g.family(*f).is_some())
                    || self.long_lived() && self.long_lived_stale_time(*f).is_some()
            })
            .collect()
    }

    /// The long-lived stale time the peer announced for `family`, if both
    /// sides announced Long-Lived Graceful Restart for it and it is not 0.
    pub fn long_lived_stale_time(&self, family: AfiSafi) -> Option<u32> {
        if self
            .local_long_lived
            .as_ref()
            .is_none_or(|l| l.family(family).is_none())
        {
            return None;
        }
        self.remote_long_lived
            .as_ref()
            .and_then(|l| l.family(family))
            .map(|f| f.stale_time)
            .filter(|t| *t > 0)
    }
}

/// The ADD-PATH directions of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AddPathDirections {
    /// We send path identifiers.
    pub send: bool,
    /// We receive path identifiers.
    pub receive: bool,
}

impl Negotiated {
    /// Negotiates from our OPEN and the peer's. `config` gives the
    /// configured KeepaliveTime.
    pub fn new(config: &SessionConfig, local_open: &Open, remote_open: &Open) -> Self {
        let context = Open::negotiate(local_open, remote_open);
        let hold_time = local_open.hold_time.min(remote_open.hold_time);
        let keepalive_time = keepalive_time(hold_time, config.keepalive_time);
        let remote_families = announced_families(remote_open);
        let families = announced_families(local_open)
            .into_iter()
            .filter(|f| remote_families.contains(f))
            .collect();
        let rr = |o: &Open| {
            o.has_capability(route_refresh::CODE)
                || o.has_capability(route_refresh::PRE_STANDARD_CODE)
        };
        let llgr = |o: &Open| {
            o.capabilities().find_map(|c| match c {
                Capability::LongLivedGracefulRestart(l) => Some(l.clone()),
                _ => None,
            })
        };
        let role = |o: &Open| o.role().ok().flatten();
        Negotiated {
            peer_as: remote_open.effective_as(),
            peer_id: remote_open.bgp_identifier,
            internal: remote_open.effective_as() == config.local_as,
            hold_time,
            keepalive_time,
            families,
            route_refresh: rr(local_open) && rr(remote_open),
            enhanced_route_refresh: local_open.has_capability(enhanced_route_refresh::CODE)
                && remote_open.has_capability(enhanced_route_refresh::CODE),
            graceful_restart: GracefulRestartParameters {
                local: local_open.graceful_restart().cloned(),
                remote: remote_open.graceful_restart().cloned(),
                local_long_lived: llgr(local_open),
                remote_long_lived: llgr(remote_open),
            },
            local_role: role(local_open),
            remote_role: role(remote_open),
            local_open: local_open.clone(),
            remote_open: remote_open.clone(),
            context,
        }
    }

    /// The context the codec takes for this session.
    pub fn session_context(&self) -> &SessionContext {
        &self.context
    }

    /// Whether `family` was negotiated.
    pub fn has_family(&self, family: AfiSafi) -> bool {
        self.families.contains(&family)
    }

    /// Both sides announced 4-octet AS numbers.
    pub fn four_octet_as(&self) -> bool {
        self.context.four_octet_as
    }

    /// Both sides announced Extended Message.
    pub fn extended_message(&self) -> bool {
        self.context.extended_message
    }

    /// The ADD-PATH directions of `family`.
    pub fn add_path(&self, family: AfiSafi) -> AddPathDirections {
        AddPathDirections {
            send: self.context.add_path(family, Direction::Send),
            receive: self.context.add_path(family, Direction::Receive),
        }
    }

    /// Whether `family` may carry next hops of `next_hop_afi` (RFC 8950).
    pub fn extended_next_hop(&self, family: AfiSafi, next_hop_afi: Afi) -> bool {
        self.context.extended_next_hop(family, next_hop_afi)
    }

    /// The negotiated hold time, `None` when it is 0.
    pub fn hold_duration(&self) -> Option<Duration> {
        (self.hold_time > 0).then(|| Duration::from_secs(u64::from(self.hold_time)))
    }
}

/// The KeepaliveTime for a negotiated hold time: a third of it, or
/// `configured` if smaller; `None` for a hold time of 0.
pub fn keepalive_time(hold_time: u16, configured: Option<Duration>) -> Option<Duration> {
    if hold_time == 0 {
        return None;
    }
    let third = Duration::from_secs(u64::from(hold_time)) / 3;
    Some(match configured {
        Some(k) if !k.is_zero() && k < third => k,
        _ => third,
    })
}
