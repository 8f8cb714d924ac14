//! The session attributes of RFC 4271 section 8 (the mandatory ones and the
//! optional ones of 8.1.1), the capabilities to announce, and the local
//! policy the OPEN checks apply.

use std::net::Ipv4Addr;
use std::time::Duration;

use bgp_wire::capability::{
    AddPath, AddPathFamily, BgpRole, ExtendedNextHop, ExtendedNextHopEntry, GracefulRestart,
    GracefulRestartFamily, LongLivedGracefulRestart, LongLivedGracefulRestartFamily, Multiprotocol,
};
use bgp_wire::{AfiSafi, Capability, Open};

use crate::error::ConfigError;

/// The configuration of one session: who we are, who the peer is, the
/// timers, the optional session attributes, and what to announce.
///
/// [`SessionConfig::new`] gives the defaults of RFC 4271 section 10
/// (ConnectRetryTime 120 s, HoldTime 90 s, KeepaliveTime a third of the
/// negotiated hold time) and every optional attribute off except
/// AllowAutomaticStart and AllowAutomaticStop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Our AS number.
    pub local_as: u32,
    /// Our BGP Identifier.
    pub local_id: Ipv4Addr,
    /// The AS number the peer must announce.
    pub peer_as: u32,

    /// ConnectRetryTime: the initial value of the ConnectRetryTimer.
    pub connect_retry_time: Duration,
    /// HoldTime: the hold time we propose in our OPEN, in seconds (0, or at
    /// least 3).
    pub hold_time: u16,
    /// KeepaliveTime, if smaller than a third of the negotiated hold time;
    /// `None` for a third of it.
    pub keepalive_time: Option<Duration>,
    /// The "large value" the HoldTimer is set to in OpenSent while waiting
    /// for the peer's OPEN (RFC 4271 suggests 4 minutes).
    pub open_hold_time: Duration,
    /// The smallest non-zero hold time accepted from the peer (at least 3);
    /// a smaller one is refused with Unacceptable Hold Time.
    pub min_hold_time: u16,
    /// Whether a hold time of 0 (no keepalives at all) is accepted from the
    /// peer.
    pub accept_zero_hold_time: bool,

    /// Optional attribute AllowAutomaticStart: events 3, 5, 6 and 7 are
    /// accepted.
    pub allow_automatic_start: bool,
    /// Optional attribute AllowAutomaticStop: event 8 is accepted.
    pub allow_automatic_stop: bool,
    /// Optional attribute CollisionDetectEstablishedState: collisions are
    /// also resolved against an Established session (RFC 4271 6.8), and
    /// OpenCollisionDump is processed in Established.
    pub collision_detect_established_state: bool,
    /// Optional attribute DampPeerOscillations: events 6, 7 and 13 are
    /// accepted, with the IdleHoldTimer and its exponential back-off (see
    /// [`crate::damping`]).
    pub damp_peer_oscillations: bool,
    /// Optional attribute DelayOpen: wait DelayOpenTime for the peer's OPEN
    /// before sending ours.
    pub delay_open: bool,
    /// Optional attribute DelayOpenTime.
    pub delay_open_time: Duration,
    /// Optional attribute IdleHoldTime: the first (and smallest) time the
    /// peer is held in Idle before an automatic restart.
    pub idle_hold_time: Duration,
    /// The largest IdleHoldTime the back-off reaches.
    pub max_idle_hold_time: Duration,
    /// How long a session must stay Established for the IdleHoldTime to go
    /// back to its initial value.
    pub idle_hold_reset_time: Duration,
    /// Optional attribute SendNOTIFICATIONwithoutOPEN: errors found in
    /// Connect or Active (before our OPEN is sent) are answered with a
    /// NOTIFICATION.
    pub send_notification_without_open: bool,
    /// Optional attribute AcceptConnectionsUnconfiguredPeers. The session
    /// only carries it; the listener of the driver applies it.
    pub accept_connections_unconfigured_peers: bool,
    /// Optional attribute TrackTcpState: the driver reports events 14 and
    /// 15. The session only carries it.
    pub track_tcp_state: bool,

    /// What to announce in our OPEN and what to require of the peer's.
    pub capabilities: Capabilities,
    /// When to send End-of-RIB markers after the initial updates.
    pub end_of_rib: EndOfRibPolicy,
}

impl SessionConfig {
    /// A configuration with the defaults described on [`SessionConfig`],
    /// announcing IPv4 unicast, Route Refresh and 4-octet AS numbers.
    pub fn new(local_as: u32, local_id: Ipv4Addr, peer_as: u32) -> Self {
        SessionConfig {
            local_as,
            local_id,
            peer_as,
            connect_retry_time: Duration::from_secs(120),
            hold_time: 90,
            keepalive_time: None,
            open_hold_time: Duration::from_secs(240),
            min_hold_time: 3,
            accept_zero_hold_time: true,
            allow_automatic_start: true,
            allow_automatic_stop: true,
            collision_detect_established_state: false,
            damp_peer_oscillations: false,
            delay_open: false,
            delay_open_time: Duration::from_secs(5),
            idle_hold_time: Duration::from_secs(5),
            max_idle_hold_time: Duration::from_secs(120),
            idle_hold_reset_time: Duration::from_secs(300),
            send_notification_without_open: false,
            accept_connections_unconfigured_peers: false,
            track_tcp_state: false,
            capabilities: Capabilities::default(),
            end_of_rib: EndOfRibPolicy::Always,
        }
    }

    /// Whether the peer is internal (same AS).
    pub fn is_internal(&self) -> bool {
        self.local_as == self.peer_as
    }

    /// Checks the configuration for values the protocol does not allow.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.local_id.is_unspecified() {
            return Err(ConfigError::ZeroIdentifier);
        }
        if matches!(self.hold_time, 1 | 2) {
            return Err(ConfigError::HoldTime(self.hold_time));
        }
        if self.min_hold_time < 3 {
            return Err(ConfigError::MinHoldTime(self.min_hold_time));
        }
        for (what, d) in [
            ("ConnectRetryTime", self.connect_retry_time),
            ("open hold time", self.open_hold_time),
        ] {
            if d.is_zero() {
                return Err(ConfigError::ZeroDuration(what));
            }
        }
        if self.keepalive_time.is_some_and(|k| k.is_zero()) {
            return Err(ConfigError::ZeroDuration("KeepaliveTime"));
        }
        if self.max_idle_hold_time < self.idle_hold_time {
            return Err(ConfigError::IdleHoldTimes);
        }
        let caps = &self.capabilities;
        if self.local_as > u32::from(u16::MAX) && !caps.four_octet_as {
            return Err(ConfigError::FourOctetAsRequired(self.local_as));
        }
        if let Some(gr) = &caps.graceful_restart {
            if gr.restart_time > GracefulRestart::MAX_RESTART_TIME {
                return Err(ConfigError::RestartTime(gr.restart_time));
            }
        }
        if let Some(ll) = &caps.long_lived_graceful_restart {
            if ll.stale_time > LongLivedGracefulRestartFamily::MAX_STALE_TIME {
                return Err(ConfigError::LongLivedStaleTime(ll.stale_time));
            }
        }
        Ok(())
    }

    /// The OPEN this configuration sends. `restarting` sets the Restart
    /// State (R) bit of the Graceful Restart capability.
    pub fn local_open(&self, restarting: bool) -> Open {
        let caps = &self.capabilities;
        let internal = self.is_internal();
        let mut list = Vec::new();
        for family in &caps.families {
            list.push(Capability::Multiprotocol(Multiprotocol::new(*family)));
        }
        if caps.route_refresh {
            list.push(Capability::RouteRefresh);
        }
        if caps.enhanced_route_refresh {
            list.push(Capability::EnhancedRouteRefresh);
        }
        if !caps.extended_next_hop.is_empty() {
            list.push(Capability::ExtendedNextHop(ExtendedNextHop {
                entries: caps.extended_next_hop.clone(),
            }));
        }
        if caps.extended_message {
            list.push(Capability::ExtendedMessage);
        }
        if let (Some(role), false) = (caps.role, internal) {
            list.push(Capability::Role(role));
        }
        if let Some(gr) = &caps.graceful_restart {
            list.push(Capability::GracefulRestart(
                gr.capability(&caps.announced_families(), restarting),
            ));
        }
        if caps.four_octet_as || self.local_as > u32::from(u16::MAX) {
            list.push(Capability::FourOctetAs(self.local_as));
        }
        if !caps.add_path.is_empty() {
            list.push(Capability::AddPath(AddPath {
                families: caps.add_path.clone(),
            }));
        }
        if let Some(ll) = &caps.long_lived_graceful_restart {
            list.push(Capability::LongLivedGracefulRestart(
                ll.capability(&caps.announced_families()),
            ));
        }
        list.extend(caps.other.iter().cloned());
        Open::new(self.local_as, self.hold_time, self.local_id, list)
    }
}

/// What we announce in our OPEN, and what we require of the peer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// The address families, one Multiprotocol capability each (RFC 4760).
    /// Empty: no Multiprotocol capability, IPv4 unicast implied.
    pub families: Vec<AfiSafi>,
    /// Route Refresh (RFC 2918).
    pub route_refresh: bool,
    /// Enhanced Route Refresh (RFC 7313).
    pub enhanced_route_refresh: bool,
    /// Support for 4-octet AS numbers (RFC 6793); required when our AS
    /// number does not fit 2 octets.
    pub four_octet_as: bool,
    /// Extended Message (RFC 8654).
    pub extended_message: bool,
    /// ADD-PATH (RFC 7911): families and directions.
    pub add_path: Vec<AddPathFamily>,
    /// Extended Next Hop Encoding (RFC 8950).
    pub extended_next_hop: Vec<ExtendedNextHopEntry>,
    /// Graceful Restart (RFC 4724, RFC 8538); `None` to announce nothing
    /// and not act as a helper.
    pub graceful_restart: Option<GracefulRestartConfig>,
    /// Long-Lived Graceful Restart (RFC 9494).
    pub long_lived_graceful_restart: Option<LongLivedGracefulRestartConfig>,
    /// Our BGP Role (RFC 9234), announced on external sessions only.
    pub role: Option<BgpRole>,
    /// Strict mode of RFC 9234 4.2: a peer that announces no role is
    /// refused with Role Mismatch.
    pub strict_role: bool,
    /// Further capabilities announced as they are (FQDN, software
    /// version...).
    pub other: Vec<Capability>,
    /// Capabilities the peer must announce; a peer that does not is refused
    /// with Unsupported Capability (RFC 5492 5).
    pub required: Vec<RequiredCapability>,
}

impl Capabilities {
    /// The families as announced, IPv4 unicast if the list is empty.
    pub fn announced_families(&self) -> Vec<AfiSafi> {
        if self.families.is_empty() {
            vec![AfiSafi::IPV4_UNICAST]
        } else {
            self.families.clone()
        }
    }
}

impl Default for Capabilities {
    /// IPv4 unicast, Route Refresh, 4-octet AS; nothing required.
    fn default() -> Self {
        Capabilities {
            families: vec![AfiSafi::IPV4_UNICAST],
            route_refresh: true,
            enhanced_route_refresh: false,
            four_octet_as: true,
            extended_message: false,
            add_path: Vec::new(),
            extended_next_hop: Vec::new(),
            graceful_restart: None,
            long_lived_graceful_restart: None,
            role: None,
            strict_role: false,
            other: Vec::new(),
            required: Vec::new(),
        }
    }
}

/// A capability the peer must announce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequiredCapability {
    /// A capability code (for example 65, 4-octet AS numbers). The
    /// NOTIFICATION carries the capability as we announce it, or with an
    /// empty value if we do not.
    Code(u8),
    /// A Multiprotocol capability for this family.
    Family(AfiSafi),
}

/// Our Graceful Restart capability and the helper's local timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GracefulRestartConfig {
    /// The Restart Time we announce, in seconds (at most 4,095): how long
    /// the peer should keep our routes when our session goes down.
    pub restart_time: u16,
    /// The N bit (RFC 8538): NOTIFICATIONs other than Hard Reset keep the
    /// graceful restart procedures.
    pub notification: bool,
    /// The R bit for the first session after a restart of ours (restarting
    /// speaker, RFC 4724 4.1); cleared once that session is Established.
    pub restarting: bool,
    /// The F bit for each family: our forwarding state survives a restart.
    pub forwarding_state: bool,
    /// Announce no family: we act as a helper only (RFC 4724 3).
    pub helper_only: bool,
    /// How long the helper keeps stale routes after the session came back,
    /// waiting for the peer's End-of-RIB (the upper bound of RFC 4724 4.2).
    pub stale_routes_time: Duration,
}

impl Default for GracefulRestartConfig {
    /// Restart time 120 s, N bit, not restarting, no forwarding state, stale
    /// routes kept at most 360 s after the session came back.
    fn default() -> Self {
        GracefulRestartConfig {
            restart_time: 120,
            notification: true,
            restarting: false,
            forwarding_state: false,
            helper_only: false,
            stale_routes_time: Duration::from_secs(360),
        }
    }
}

impl GracefulRestartConfig {
    /// The capability announced for `families`.
    pub fn capability(&self, families: &[AfiSafi], restarting: bool) -> GracefulRestart {
        let mut flags = 0;
        if restarting {
            flags |= GracefulRestart::RESTART_STATE;
        }
        if self.notification {
            flags |= GracefulRestart::NOTIFICATION;
        }
        GracefulRestart {
            flags,
            restart_time: self.restart_time.min(GracefulRestart::MAX_RESTART_TIME),
            families: if self.helper_only {
                Vec::new()
            } else {
                families
                    .iter()
                    .map(|f| GracefulRestartFamily::new(*f, self.forwarding_state))
                    .collect()
            },
        }
    }
}

/// Our Long-Lived Graceful Restart capability (RFC 9494).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongLivedGracefulRestartConfig {
    /// The long-lived stale time we announce, in seconds (24 bits).
    pub stale_time: u32,
    /// The F bit for each family.
    pub forwarding_state: bool,
}

impl LongLivedGracefulRestartConfig {
    /// The capability announced for `families`.
    pub fn capability(&self, families: &[AfiSafi]) -> LongLivedGracefulRestart {
        LongLivedGracefulRestart {
            families: families
                .iter()
                .map(|f| LongLivedGracefulRestartFamily {
                    family: *f,
                    flags: if self.forwarding_state {
                        LongLivedGracefulRestartFamily::FORWARDING_STATE
                    } else {
                        0
                    },
                    stale_time: self
                        .stale_time
                        .min(LongLivedGracefulRestartFamily::MAX_STALE_TIME),
                })
                .collect(),
        }
    }
}

/// When the session sends End-of-RIB markers (RFC 4724 2) once the route
/// layer reports its initial updates done
/// ([`Session::initial_updates_sent`](crate::Session::initial_updates_sent)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum EndOfRibPolicy {
    /// On every session (RFC 4724 notes it helps convergence in general).
    #[default]
    Always,
    /// Only when both sides announced Graceful Restart.
    WithGracefulRestart,
    /// Never.
    Never,
}
