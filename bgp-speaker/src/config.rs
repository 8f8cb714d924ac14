//! The speaker's configuration as serde data: what [`crate::Speaker`] is
//! built from ([`Config`], one [`PeerConfig`] per neighbour, originated
//! routes, policies), loadable from TOML with errors that give the line and
//! the key ([`ConfigError`]).
//!
//! # TOML form
//!
//! ```toml
//! router_id = "192.0.2.1"
//! local_as = 65001
//! listen = ["192.0.2.1:179", "[2001:db8::1]:179"]
//! families = ["ipv4-unicast", "ipv6-unicast"]   # the default
//!
//! [decision]
//! max_paths = 4
//!
//! [[peer]]
//! address = "192.0.2.2"
//! remote_as = 65002
//! hold_time = 30
//! import = ["from-transit"]       # policies below, in order
//! export = ["to-transit"]
//! max_prefix = { limit = 1000 }
//!
//! [[originate]]
//! prefix = "198.51.100.0/24"
//! communities = ["65001:100"]
//!
//! [prefix_set]
//! ours = ["198.51.100.0/24"]
//!
//! [[policy]]
//! name = "to-transit"
//! [[policy.term]]
//! name = "ours"
//! then = "accept"
//! match.prefix_set = "ours"
//!
//! [[policy]]
//! name = "from-transit"
//! default = "accept"
//! ```
//!
//! The `[prefix_set]` and `[[policy]]` tables are bgp-rib's policy
//! document ([`bgp_rib::policy::PolicyDocument`], whose module
//! documentation lists every `match` and `set` key). A peer's `import` and
//! `export` name policies run as a chain; a route that falls through all
//! of them gets `import_default` / `export_default` (reject unless set). A
//! peer without `import` accepts everything; without `export`, everything
//! the propagation rules allow is sent.
//!
//! Times are whole seconds. Unknown keys are errors.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

use bgp_rib::DecisionConfig;
use bgp_rib::policy::{PolicyConfig, PolicyDocument, Verdict};
use bgp_wire::AfiSafi;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// The whole configuration of a speaker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The BGP identifier.
    pub router_id: Ipv4Addr,
    /// The local AS.
    pub local_as: u32,
    /// Addresses and ports to accept connections on (none: only active
    /// sessions). Port 0 lets the system pick one
    /// ([`crate::Speaker::listen_addrs`] tells which).
    #[serde(default)]
    pub listen: Vec<SocketAddr>,
    /// The address families of every peer that does not list its own.
    #[serde(default = "default_families")]
    pub families: Vec<Family>,
    /// The route-reflection cluster ID (the router ID if not set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<Ipv4Addr>,
    /// Best-path selection knobs.
    #[serde(default)]
    pub decision: DecisionSettings,
    /// The peers.
    #[serde(default, rename = "peer", skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<PeerConfig>,
    /// Routes this speaker originates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub originate: Vec<Originate>,
    /// Named prefix sets of the policies.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub prefix_set: BTreeMap<String, Vec<String>>,
    /// Import and export policies (bgp-rib's serde form).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy: Vec<PolicyConfig>,
}

fn default_families() -> Vec<Family> {
    vec![Family::Ipv4Unicast, Family::Ipv6Unicast]
}

impl Config {
    /// A configuration with no peers, no listener, IPv4 and IPv6 unicast.
    pub fn new(local_as: u32, router_id: Ipv4Addr) -> Self {
        Config {
            router_id,
            local_as,
            listen: Vec::new(),
            families: default_families(),
            cluster_id: None,
            decision: DecisionSettings::default(),
            peers: Vec::new(),
            originate: Vec::new(),
            prefix_set: BTreeMap::new(),
            policy: Vec::new(),
        }
    }

    /// Parses TOML text and validates it. Errors name the line and key.
    ///
    /// ```
    /// use bgp_speaker::Config;
    ///
    /// let c = Config::from_toml(r#"
    /// router_id = "192.0.2.1"
    /// local_as = 65001
    /// [[peer]]
    /// address = "192.0.2.2"
    /// remote_as = 65002
    /// "#).unwrap();
    /// assert_eq!(c.peers[0].hold_time, 90);
    ///
    /// let e = Config::from_toml(r#"
    /// router_id = "192.0.2.1"
    /// local_as = 65001
    /// [[peer]]
    /// address = "192.0.2.2"
    /// remote_as = 65002
    /// hold_tme = 30
    /// "#).unwrap_err();
    /// assert_eq!(e.line, Some(7));
    /// assert_eq!(e.key.as_deref(), Some("peer[0].hold_tme"));
    /// ```
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::from_toml(text, &e))?;
        config.validate().map_err(|e| e.locate(text))?;
        Ok(config)
    }

    /// Reads and parses a TOML file (see [`Config::from_toml`]).
    pub fn load(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            line: None,
            column: None,
            key: None,
            message: format!("cannot read {}: {e}", path.display()),
        })?;
        Config::from_toml(&text)
    }

    /// The configuration as TOML text.
    pub fn to_toml(&self) -> Result<String, ConfigError> {
        toml::to_string(self).map_err(|e| ConfigError::message(None, e.to_string()))
    }

    /// The policy document of `[prefix_set]` and `[[policy]]`.
    pub fn policy_document(&self) -> PolicyDocument {
        PolicyDocument {
            prefix_set: self.prefix_set.clone(),
            policy: self.policy.clone(),
        }
    }

    /// Checks what serde cannot: unique peer addresses, known policy names,
    /// policies that compile, values in range. The error's `key` is set,
    /// its line is not (the text is not known here; [`Config::from_toml`]
    /// adds it).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.router_id.is_unspecified() {
            return Err(ConfigError::message(
                Some("router_id".into()),
                "must not be 0.0.0.0",
            ));
        }
        if self.local_as == 0 {
            return Err(ConfigError::message(
                Some("local_as".into()),
                "must not be 0",
            ));
        }
        let doc = self.policy_document();
        let set = doc.compile().map_err(|e| ConfigError {
            line: None,
            column: None,
            key: Some(policy_key(&self.policy, &e.location, &e.field)),
            message: format!("{}: {}", e.location, e.message),
        })?;
        for (i, p) in self.peers.iter().enumerate() {
            let key = |k: &str| Some(format!("peer[{i}].{k}"));
            if self.peers.iter().take(i).any(|q| q.address == p.address) {
                return Err(ConfigError::message(
                    key("address"),
                    "another peer has this address",
                ));
            }
            if p.remote_as == 0 {
                return Err(ConfigError::message(key("remote_as"), "must not be 0"));
            }
            if matches!(p.hold_time, 1 | 2) {
                return Err(ConfigError::message(
                    key("hold_time"),
                    "must be 0 or at least 3",
                ));
            }
            if p.connect_retry_time == 0 {
                return Err(ConfigError::message(
                    key("connect_retry_time"),
                    "must not be 0",
                ));
            }
            if p.password.as_ref().is_some_and(|w| w.len() > 80) {
                return Err(ConfigError::message(key("password"), "at most 80 octets"));
            }
            if p.multihop.is_some() && p.ttl_security.is_some() {
                return Err(ConfigError::message(
                    key("ttl_security"),
                    "cannot be given with multihop",
                ));
            }
            if !p.add_path_paths.is_empty()
                && !matches!(p.add_path, AddPathMode::Send | AddPathMode::Both)
            {
                return Err(ConfigError::message(
                    key("add_path_paths"),
                    "needs add_path = \"send\" or \"both\"",
                ));
            }
            for f in p.add_path_paths.keys() {
                if !p.families_or(&self.families).contains(f) {
                    return Err(ConfigError::message(
                        key("add_path_paths"),
                        format!("{f} is not a family of this peer"),
                    ));
                }
            }
            if let Some(gr) = &p.graceful_restart
                && gr.restart_time > 4095
            {
                return Err(ConfigError::message(
                    Some(format!("peer[{i}].graceful_restart.restart_time")),
                    "at most 4095",
                ));
            }
            for (what, names) in [("import", &p.import), ("export", &p.export)] {
                for (j, n) in names.iter().enumerate() {
                    if set.get(n).is_none() {
                        return Err(ConfigError::message(
                            Some(format!("peer[{i}].{what}[{j}]")),
                            format!("no policy {n:?}"),
                        ));
                    }
                }
            }
        }
        for (i, o) in self.originate.iter().enumerate() {
            o.attributes()
                .map_err(|(k, m)| ConfigError::message(Some(format!("originate[{i}].{k}")), m))?;
            if self
                .originate
                .iter()
                .take(i)
                .any(|q| q.prefix.trunc() == o.prefix.trunc())
            {
                return Err(ConfigError::message(
                    Some(format!("originate[{i}].prefix")),
                    "this prefix is originated twice",
                ));
            }
        }
        if self.decision.max_paths == 0 {
            return Err(ConfigError::message(
                Some("decision.max_paths".into()),
                "at least 1",
            ));
        }
        Ok(())
    }

    /// The peer with this address.
    pub fn peer(&self, address: IpAddr) -> Option<&PeerConfig> {
        self.peers.iter().find(|p| p.address == address)
    }
}

/// The key of a bgp-rib policy error: `policy[2].term[0].match.prefix[1]`.
fn policy_key(policies: &[PolicyConfig], location: &str, field: &str) -> String {
    // location: `policy "p"`, `policy "p" term 2 "t"`, `prefix_set "s"` or `policy 3`
    if let Some(rest) = location.strip_prefix("prefix_set ") {
        return format!("prefix_set.{}{field}", rest.trim_matches('"'));
    }
    let mut parts = location.splitn(2, " term ");
    let head = parts.next().unwrap_or_default();
    let name = head
        .strip_prefix("policy ")
        .unwrap_or(head)
        .trim_matches('"');
    let pi = policies
        .iter()
        .position(|p| p.name == name)
        .or_else(|| name.parse::<usize>().ok().map(|n| n.saturating_sub(1)))
        .unwrap_or(0);
    let mut key = format!("policy[{pi}]");
    if let Some(term) = parts.next() {
        let n: usize = term
            .split_whitespace()
            .next()
            .and_then(|t| t.parse().ok())
            .unwrap_or(1);
        key.push_str(&format!(".term[{}]", n.saturating_sub(1)));
    }
    if !field.is_empty() {
        if !field.starts_with('[') {
            key.push('.');
        }
        key.push_str(field);
    }
    key
}

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Family {
    /// IPv4 unicast.
    #[serde(rename = "ipv4-unicast", alias = "ipv4")]
    Ipv4Unicast,
    /// IPv6 unicast.
    #[serde(rename = "ipv6-unicast", alias = "ipv6")]
    Ipv6Unicast,
}

impl Family {
    /// The AFI/SAFI pair.
    pub fn afi_safi(self) -> AfiSafi {
        match self {
            Family::Ipv4Unicast => AfiSafi::IPV4_UNICAST,
            Family::Ipv6Unicast => AfiSafi::IPV6_UNICAST,
        }
    }

    /// The family of a prefix.
    pub fn of(prefix: &IpNet) -> Family {
        match prefix {
            IpNet::V4(_) => Family::Ipv4Unicast,
            IpNet::V6(_) => Family::Ipv6Unicast,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Ipv4Unicast => "ipv4-unicast",
            Family::Ipv6Unicast => "ipv6-unicast",
        })
    }
}

/// Best-path selection knobs (bgp-rib's [`DecisionConfig`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DecisionSettings {
    /// Size of the ECMP set, the best path included (1: no multipath).
    pub max_paths: u16,
    /// Multipath across neighbouring ASes.
    pub multipath_relax: bool,
    /// Compare MED between paths from different neighbouring ASes.
    pub always_compare_med: bool,
    /// Select the best path of each neighbouring AS first.
    pub deterministic_med: bool,
    /// A missing MED is the worst rather than 0.
    pub missing_med_worst: bool,
    /// LOCAL_PREF of a path without one.
    pub default_local_pref: u32,
}

impl Default for DecisionSettings {
    fn default() -> Self {
        let d = DecisionConfig::default();
        DecisionSettings {
            max_paths: d.max_paths,
            multipath_relax: d.multipath_relax,
            always_compare_med: d.always_compare_med,
            deterministic_med: d.deterministic_med,
            missing_med_worst: d.missing_med_worst,
            default_local_pref: d.default_local_pref,
        }
    }
}

impl DecisionSettings {
    /// bgp-rib's form.
    pub fn to_rib(&self) -> DecisionConfig {
        DecisionConfig {
            max_paths: self.max_paths.max(1),
            multipath_relax: self.multipath_relax,
            always_compare_med: self.always_compare_med,
            deterministic_med: self.deterministic_med,
            missing_med_worst: self.missing_med_worst,
            default_local_pref: self.default_local_pref,
            ..DecisionConfig::default()
        }
    }
}

/// How NEXT_HOP is set on routes sent to a peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NextHopMode {
    /// To external peers this router's address on the session; to
    /// internal peers unchanged (a route originated here without a next
    /// hop gets this router's address).
    #[default]
    Default,
    /// Always this router's address (reflected routes excepted, which RFC
    /// 4456 keeps unchanged).
    #[serde(rename = "self")]
    SelfAddress,
    /// Never changed, to external peers too.
    Unchanged,
}

/// ADD-PATH (RFC 7911) directions to negotiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AddPathMode {
    /// None.
    #[default]
    Off,
    /// Receive several paths per prefix.
    Receive,
    /// Send several paths per prefix.
    Send,
    /// Both.
    Both,
}

/// How many paths per prefix ADD-PATH sends in one family: `"all"` or
/// the best N (a number from 1 to 255) in TOML.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AddPathPaths {
    /// Every exportable path.
    #[default]
    All,
    /// The best N exportable paths, in decision order.
    Best(u8),
}

impl AddPathPaths {
    /// bgp-rib's form.
    pub fn to_rib(self) -> bgp_rib::export::AddPathSend {
        match self {
            AddPathPaths::All => bgp_rib::export::AddPathSend::All,
            AddPathPaths::Best(n) => bgp_rib::export::AddPathSend::Best(n),
        }
    }
}

impl Serialize for AddPathPaths {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AddPathPaths::All => s.serialize_str("all"),
            AddPathPaths::Best(n) => s.serialize_u8(*n),
        }
    }
}

impl<'de> Deserialize<'de> for AddPathPaths {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = AddPathPaths;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"all\" or a number of paths from 1 to 255")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<AddPathPaths, E> {
                if v == "all" {
                    Ok(AddPathPaths::All)
                } else {
                    Err(E::invalid_value(serde::de::Unexpected::Str(v), &self))
                }
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<AddPathPaths, E> {
                match u8::try_from(v) {
                    Ok(n) if n > 0 => Ok(AddPathPaths::Best(n)),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Signed(v), &self)),
                }
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<AddPathPaths, E> {
                match u8::try_from(v) {
                    Ok(n) if n > 0 => Ok(AddPathPaths::Best(n)),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Unsigned(v), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Graceful restart (RFC 4724) of one peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GracefulRestart {
    /// The Restart Time we announce (seconds, at most 4,095).
    pub restart_time: u16,
    /// How long stale routes are kept after the session came back, waiting
    /// for the peer's End-of-RIB (seconds).
    pub stale_routes_time: u32,
    /// Announce no family: helper only.
    pub helper_only: bool,
    /// Set the Restart State (R) bit in the first session after the speaker
    /// started (RFC 4724 4.1): we are the restarting speaker.
    pub restarting: bool,
    /// Set the Forwarding State (F) bit of each family: our forwarding
    /// state (the kernel routes) survived the restart, so the peer keeps
    /// our stale routes until our End-of-RIB instead of dropping them when
    /// the session comes back.
    pub forwarding_state: bool,
}

impl Default for GracefulRestart {
    fn default() -> Self {
        GracefulRestart {
            restart_time: 120,
            stale_routes_time: 360,
            helper_only: false,
            restarting: false,
            forwarding_state: false,
        }
    }
}

/// A limit on the prefixes accepted from a peer, per family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaxPrefix {
    /// Routes accepted (post-policy) per family.
    pub limit: u32,
    /// Only log when the limit is passed, do not close the session.
    #[serde(default)]
    pub warning_only: bool,
    /// Restart the session this many seconds after it was closed for
    /// passing the limit (0: stays down until reset).
    #[serde(default)]
    pub restart_after: u32,
}

/// One neighbour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerConfig {
    /// The neighbour's address (its identity in the API).
    pub address: IpAddr,
    /// Its AS.
    pub remote_as: u32,
    /// A name for logs and status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The neighbour's TCP port.
    #[serde(default = "default_port")]
    pub port: u16,
    /// Our source address (none: the system picks; the listener of this
    /// address takes the peer's connections when there is one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_address: Option<IpAddr>,
    /// Another local AS for this session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_as: Option<u32>,
    /// Wait for the neighbour to connect.
    #[serde(default)]
    pub passive: bool,
    /// TCP MD5 signature password (RFC 2385).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Hold time proposed, seconds (0, or at least 3).
    #[serde(default = "default_hold")]
    pub hold_time: u16,
    /// Keepalive interval, seconds (default a third of the hold time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive_time: Option<u16>,
    /// ConnectRetryTime, seconds.
    #[serde(default = "default_connect_retry")]
    pub connect_retry_time: u16,
    /// Seconds before a failed session is started again.
    #[serde(default = "default_restart_delay")]
    pub restart_delay: u16,
    /// Address families (default: the speaker's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub families: Option<Vec<Family>>,
    /// eBGP multihop: the TTL to send with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multihop: Option<u8>,
    /// GTSM (RFC 5082): how many hops away the peer may be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_security: Option<u8>,
    /// A route-reflection client (internal peers).
    #[serde(default)]
    pub route_reflector_client: bool,
    /// NEXT_HOP handling on export.
    #[serde(default)]
    pub next_hop: NextHopMode,
    /// The IPv4 next hop sent for "self" (default: the session's local
    /// address when it is IPv4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_next_hop: Option<Ipv4Addr>,
    /// The IPv6 next hop sent for "self" (default: the session's local
    /// address when it is IPv6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv6_next_hop: Option<std::net::Ipv6Addr>,
    /// How many times our AS may appear in a received AS_PATH.
    #[serde(default)]
    pub allow_own_as: u8,
    /// Graceful restart (helper and announced restart time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graceful_restart: Option<GracefulRestart>,
    /// ADD-PATH directions, in every family of the peer.
    #[serde(default)]
    pub add_path: AddPathMode,
    /// With ADD-PATH send: how many paths per prefix each family sends
    /// (`add_path_paths = { ipv4-unicast = 2 }`); a family not listed
    /// sends every path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub add_path_paths: BTreeMap<Family, AddPathPaths>,
    /// Prefix limit per family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_prefix: Option<MaxPrefix>,
    /// Import policies, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub import: Vec<String>,
    /// The verdict for routes that fall through every import policy.
    #[serde(default = "reject", skip_serializing_if = "is_reject")]
    pub import_default: Verdict,
    /// Export policies, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub export: Vec<String>,
    /// The verdict for routes that fall through every export policy.
    #[serde(default = "reject", skip_serializing_if = "is_reject")]
    pub export_default: Verdict,
    /// Keep the routes received before import policy, so that a policy
    /// change re-runs import without asking the peer (soft
    /// reconfiguration inbound); otherwise a ROUTE-REFRESH is sent.
    #[serde(default)]
    pub soft_reconfiguration_inbound: bool,
}

fn default_port() -> u16 {
    179
}
fn default_hold() -> u16 {
    90
}
fn default_connect_retry() -> u16 {
    120
}
fn default_restart_delay() -> u16 {
    5
}
fn reject() -> Verdict {
    Verdict::Reject
}
fn is_reject(v: &Verdict) -> bool {
    *v == Verdict::Reject
}

impl PeerConfig {
    /// A peer at `address` in `remote_as`, everything else default:
    /// port 179, active, hold time 90 s, connect retry 120 s, the
    /// speaker's families, no policy (accept and send everything the
    /// propagation rules allow).
    pub fn new(address: IpAddr, remote_as: u32) -> Self {
        PeerConfig {
            address,
            remote_as,
            name: None,
            port: default_port(),
            local_address: None,
            local_as: None,
            passive: false,
            password: None,
            hold_time: default_hold(),
            keepalive_time: None,
            connect_retry_time: default_connect_retry(),
            restart_delay: default_restart_delay(),
            families: None,
            multihop: None,
            ttl_security: None,
            route_reflector_client: false,
            next_hop: NextHopMode::Default,
            ipv4_next_hop: None,
            ipv6_next_hop: None,
            allow_own_as: 0,
            graceful_restart: None,
            add_path: AddPathMode::Off,
            add_path_paths: BTreeMap::new(),
            max_prefix: None,
            import: Vec::new(),
            import_default: Verdict::Reject,
            export: Vec::new(),
            export_default: Verdict::Reject,
            soft_reconfiguration_inbound: false,
        }
    }

    /// Sets the port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }
    /// Sets the source address.
    pub fn local_address(mut self, a: IpAddr) -> Self {
        self.local_address = Some(a);
        self
    }
    /// Makes the peer passive.
    pub fn passive(mut self) -> Self {
        self.passive = true;
        self
    }
    /// Sets the hold time (seconds).
    pub fn hold_time(mut self, secs: u16) -> Self {
        self.hold_time = secs;
        self
    }
    /// Sets the connect retry time (seconds).
    pub fn connect_retry(mut self, secs: u16) -> Self {
        self.connect_retry_time = secs;
        self
    }
    /// Sets the TCP MD5 password.
    pub fn password(mut self, p: impl Into<String>) -> Self {
        self.password = Some(p.into());
        self
    }
    /// Makes the peer a route-reflection client.
    pub fn rr_client(mut self) -> Self {
        self.route_reflector_client = true;
        self
    }
    /// Sets the name shown in logs and status.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
    /// Uses another local AS on this session.
    pub fn local_as(mut self, asn: u32) -> Self {
        self.local_as = Some(asn);
        self
    }
    /// Sets the keepalive interval (seconds; default a third of the hold
    /// time).
    pub fn keepalive_time(mut self, secs: u16) -> Self {
        self.keepalive_time = Some(secs);
        self
    }
    /// Sets the delay before a failed session is started again (seconds).
    pub fn restart_delay(mut self, secs: u16) -> Self {
        self.restart_delay = secs;
        self
    }
    /// Sets the address families of this peer.
    pub fn families(mut self, f: impl IntoIterator<Item = Family>) -> Self {
        self.families = Some(f.into_iter().collect());
        self
    }
    /// eBGP multihop: sends with this TTL.
    pub fn multihop(mut self, ttl: u8) -> Self {
        self.multihop = Some(ttl);
        self
    }
    /// GTSM (RFC 5082): the peer may be at most `hops` hops away.
    pub fn ttl_security(mut self, hops: u8) -> Self {
        self.ttl_security = Some(hops);
        self
    }
    /// Sets the NEXT_HOP handling on export.
    pub fn next_hop_mode(mut self, mode: NextHopMode) -> Self {
        self.next_hop = mode;
        self
    }
    /// Accepts routes whose AS_PATH holds our AS up to `n` times.
    pub fn allow_own_as(mut self, n: u8) -> Self {
        self.allow_own_as = n;
        self
    }
    /// Enables graceful restart with these settings.
    pub fn graceful_restart(mut self, gr: GracefulRestart) -> Self {
        self.graceful_restart = Some(gr);
        self
    }
    /// Sets the ADD-PATH directions.
    pub fn add_path(mut self, mode: AddPathMode) -> Self {
        self.add_path = mode;
        self
    }
    /// With ADD-PATH send: how many paths per prefix `family` sends.
    pub fn add_path_paths(mut self, family: Family, paths: AddPathPaths) -> Self {
        self.add_path_paths.insert(family, paths);
        self
    }
    /// Sets the prefix limit.
    pub fn max_prefix(mut self, m: MaxPrefix) -> Self {
        self.max_prefix = Some(m);
        self
    }
    /// Sets the verdict for routes no import policy decides.
    pub fn import_default(mut self, v: Verdict) -> Self {
        self.import_default = v;
        self
    }
    /// Sets the verdict for routes no export policy decides.
    pub fn export_default(mut self, v: Verdict) -> Self {
        self.export_default = v;
        self
    }
    /// Keeps the routes received before import policy (soft
    /// reconfiguration inbound).
    pub fn soft_reconfiguration_inbound(mut self) -> Self {
        self.soft_reconfiguration_inbound = true;
        self
    }
    /// Sets the import policy chain.
    pub fn import<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.import = names.into_iter().map(Into::into).collect();
        self
    }
    /// Sets the export policy chain.
    pub fn export<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Self {
        self.export = names.into_iter().map(Into::into).collect();
        self
    }

    /// The families of this peer, given the speaker's.
    pub fn families_or<'a>(&'a self, speaker: &'a [Family]) -> &'a [Family] {
        self.families.as_deref().unwrap_or(speaker)
    }

    /// Whether going from `self` to `new` needs the session reset: a
    /// change of anything the OPEN, the TCP connection or the timers
    /// depend on. Policies, route reflection, next-hop handling,
    /// allow-own-AS, max-prefix, the ADD-PATH path counts, the name and
    /// soft reconfiguration do not.
    pub fn needs_reset(&self, new: &PeerConfig) -> bool {
        let soft = |p: &PeerConfig| PeerConfig {
            name: None,
            route_reflector_client: false,
            next_hop: NextHopMode::Default,
            ipv4_next_hop: None,
            ipv6_next_hop: None,
            allow_own_as: 0,
            max_prefix: None,
            add_path_paths: BTreeMap::new(),
            import: Vec::new(),
            import_default: Verdict::Reject,
            export: Vec::new(),
            export_default: Verdict::Reject,
            soft_reconfiguration_inbound: false,
            ..p.clone()
        };
        soft(self) != soft(new)
    }
}

/// A route to originate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Originate {
    /// The prefix.
    pub prefix: IpNet,
    /// The next hop (default: this router's address on each session).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_hop: Option<IpAddr>,
    /// ORIGIN (`igp`, `egp`, `incomplete`; default `igp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<bgp_rib::policy::config::OriginName>,
    /// MULTI_EXIT_DISC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub med: Option<u32>,
    /// LOCAL_PREF (sent to internal peers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_pref: Option<u32>,
    /// AS_PATH to start from (empty by default).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub as_path: Vec<u32>,
    /// Standard communities (`65000:1` or a well-known name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub communities: Vec<String>,
    /// Large communities (`65000:1:2`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub large_communities: Vec<String>,
}

impl Originate {
    /// A prefix with no attribute set: ORIGIN IGP, empty AS_PATH, next hop
    /// self.
    pub fn new(prefix: IpNet) -> Self {
        Originate {
            prefix,
            next_hop: None,
            origin: None,
            med: None,
            local_pref: None,
            as_path: Vec::new(),
            communities: Vec::new(),
            large_communities: Vec::new(),
        }
    }

    /// Sets MED.
    pub fn med(mut self, med: u32) -> Self {
        self.med = Some(med);
        self
    }

    /// Adds a standard community.
    pub fn community(mut self, c: impl Into<String>) -> Self {
        self.communities.push(c.into());
        self
    }

    /// Sets the next hop.
    pub fn next_hop(mut self, nh: IpAddr) -> Self {
        self.next_hop = Some(nh);
        self
    }

    /// The path attributes (NEXT_HOP left out), or the key and the reason
    /// a value is wrong.
    pub fn attributes(&self) -> Result<bgp_wire::PathAttributes, (String, String)> {
        use bgp_rib::policy::{parse_community, parse_large_community};
        use bgp_wire::attribute::{Communities, LargeCommunities, Origin};
        let mut a = bgp_wire::PathAttributes {
            origin: Some(self.origin.map_or(Origin::Igp, Into::into)),
            as_path: Some(bgp_wire::AsPath::from_sequence(&self.as_path)),
            multi_exit_disc: self.med,
            local_pref: self.local_pref,
            ..bgp_wire::PathAttributes::default()
        };
        if !self.communities.is_empty() {
            let mut v = Vec::new();
            for (i, c) in self.communities.iter().enumerate() {
                v.push(
                    parse_community(c).map_err(|e| (format!("communities[{i}]"), e.to_string()))?,
                );
            }
            a.communities = Some(Communities::from_items(&v));
        }
        if !self.large_communities.is_empty() {
            let mut v = Vec::new();
            for (i, c) in self.large_communities.iter().enumerate() {
                v.push(
                    parse_large_community(c)
                        .map_err(|e| (format!("large_communities[{i}]"), e.to_string()))?,
                );
            }
            a.large_communities = Some(LargeCommunities::from_items(&v));
        }
        match (self.prefix, self.next_hop) {
            (IpNet::V4(_), Some(IpAddr::V6(_))) | (IpNet::V6(_), Some(IpAddr::V4(_))) => {
                return Err((
                    "next_hop".into(),
                    "not of the prefix's address family".into(),
                ));
            }
            _ => {}
        }
        Ok(a)
    }
}

/// A configuration error: where (line, column, key) and what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The line (from 1), when the error comes from a text.
    pub line: Option<usize>,
    /// The column (from 1).
    pub column: Option<usize>,
    /// The key, as a path: `peer[1].hold_time`, `policy[0].term[2].match.prefix[1]`.
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(l) = self.line {
            write!(f, "line {l}")?;
            if let Some(c) = self.column {
                write!(f, ", column {c}")?;
            }
            f.write_str(": ")?;
        }
        if let Some(k) = &self.key {
            write!(f, "{k}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl ConfigError {
    pub(crate) fn message(key: Option<String>, message: impl Into<String>) -> Self {
        ConfigError {
            line: None,
            column: None,
            key,
            message: message.into(),
        }
    }

    /// From the TOML deserializer's error: its span gives the line and the
    /// key.
    fn from_toml(text: &str, e: &toml::de::Error) -> Self {
        let message = e.message().trim().to_string();
        let Some(span) = e.span() else {
            return ConfigError::message(None, message);
        };
        let (line, column) = line_col(text, span.start);
        let key = key_at(text, span.start);
        ConfigError {
            line: Some(line),
            column: Some(column),
            key,
            message,
        }
    }

    /// Adds the line of `self.key` in `text`.
    fn locate(mut self, text: &str) -> Self {
        if let Some(k) = &self.key
            && let Some(offset) = find_key(text, k)
        {
            let (l, c) = line_col(text, offset);
            self.line = Some(l);
            self.column = Some(c);
        }
        self
    }
}

/// Line and column (from 1) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// A parsed line of TOML text, as far as locating keys needs.
enum Line<'a> {
    /// `[a.b]` (array: `[[a.b]]`).
    Header {
        path: &'a str,
        array: bool,
    },
    /// `key = ...` (the key possibly dotted or quoted).
    Key(&'a str),
    Other,
}

fn classify(line: &str) -> Line<'_> {
    let t = line.trim();
    if let Some(rest) = t.strip_prefix("[[")
        && let Some(end) = rest.find("]]")
    {
        return Line::Header {
            path: rest.get(..end).unwrap_or_default().trim(),
            array: true,
        };
    }
    if let Some(rest) = t.strip_prefix('[')
        && let Some(end) = rest.find(']')
    {
        return Line::Header {
            path: rest.get(..end).unwrap_or_default().trim(),
            array: false,
        };
    }
    if t.starts_with('#') {
        return Line::Other;
    }
    match t.find('=') {
        Some(i) => Line::Key(t.get(..i).unwrap_or_default().trim()),
        None => Line::Other,
    }
}

/// The key path (`peer[0].hold_time`) of what is at `offset`: the table
/// headers above it and the key on its line.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut table = String::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        let end = pos + line.len();
        match classify(line) {
            Line::Header { path, array } => {
                let norm = normalise(path);
                if array {
                    let n = counts.get(&norm).copied().unwrap_or(0);
                    table = indexed(&norm, n, &counts);
                    counts.insert(norm.clone(), n + 1);
                    // Nested arrays restart under a new parent.
                    let prefix = format!("{norm}.");
                    counts.retain(|k, _| !k.starts_with(&prefix));
                } else {
                    table = indexed_parent(&norm, &counts);
                }
                if offset < end {
                    return Some(table);
                }
            }
            Line::Key(k) if offset < end => {
                let k = normalise(k);
                return Some(if table.is_empty() {
                    k
                } else {
                    format!("{table}.{k}")
                });
            }
            _ => {}
        }
        if offset < end {
            break;
        }
        pos = end;
    }
    (!table.is_empty()).then_some(table)
}

fn normalise(path: &str) -> String {
    path.split('.')
        .map(|p| p.trim().trim_matches('"'))
        .collect::<Vec<_>>()
        .join(".")
}

/// The header `norm` of array-table element `n`, its parents indexed by
/// their current element (`policy.term` → `policy[1].term[0]`).
fn indexed(norm: &str, n: usize, counts: &BTreeMap<String, usize>) -> String {
    let parent = norm.rsplit_once('.').map(|(p, _)| p);
    let last = norm.rsplit('.').next().unwrap_or(norm);
    let head = parent.map(|p| indexed_parent(p, counts));
    match head {
        Some(h) if !h.is_empty() => format!("{h}.{last}[{n}]"),
        _ => format!("{last}[{n}]"),
    }
}

/// A table path with each array-table component indexed by its current
/// element.
fn indexed_parent(norm: &str, counts: &BTreeMap<String, usize>) -> String {
    let mut out = String::new();
    let mut so_far = String::new();
    for part in norm.split('.') {
        if !so_far.is_empty() {
            so_far.push('.');
        }
        so_far.push_str(part);
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(part);
        if let Some(n) = counts.get(&so_far) {
            out.push_str(&format!("[{}]", n.saturating_sub(1)));
        }
    }
    out
}

/// The offset of the line that sets `key` (a path as [`key_at`] writes
/// them), or of the closest enclosing table header.
fn find_key(text: &str, key: &str) -> Option<usize> {
    let want = strip_last_index(key);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut table = String::new();
    let mut pos = 0;
    let mut best: Option<(usize, usize)> = None; // (match length, offset)
    for line in text.split_inclusive('\n') {
        let here = pos;
        pos += line.len();
        let full = match classify(line) {
            Line::Header { path, array } => {
                let norm = normalise(path);
                if array {
                    let n = counts.get(&norm).copied().unwrap_or(0);
                    table = indexed(&norm, n, &counts);
                    counts.insert(norm.clone(), n + 1);
                    let prefix = format!("{norm}.");
                    counts.retain(|k, _| !k.starts_with(&prefix));
                } else {
                    table = indexed_parent(&norm, &counts);
                }
                table.clone()
            }
            Line::Key(k) => {
                let k = normalise(k);
                if table.is_empty() {
                    k
                } else {
                    format!("{table}.{k}")
                }
            }
            Line::Other => continue,
        };
        if full == want {
            return Some(here);
        }
        let under = want.starts_with(&full)
            && want
                .get(full.len()..)
                .is_some_and(|r| r.starts_with(['.', '[']));
        if under && best.is_none_or(|(l, _)| full.len() > l) {
            best = Some((full.len(), here));
        }
    }
    best.map(|(_, o)| o)
}

/// `import[1]` → `import` (a list element is on its key's line).
fn strip_last_index(key: &str) -> String {
    let mut k = key.to_string();
    while k.ends_with(']') {
        match k.rfind('[') {
            Some(i) => k.truncate(i),
            None => break,
        }
    }
    k
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    const BASE: &str = "router_id = \"192.0.2.1\"\nlocal_as = 65001\n";

    #[test]
    fn unknown_key_names_line_and_key() {
        let t = format!(
            "{BASE}[[peer]]\naddress = \"192.0.2.2\"\nremote_as = 1\n[[peer]]\naddress = \"192.0.2.3\"\nremote_as = 1\npasive = true\n"
        );
        let e = Config::from_toml(&t).unwrap_err();
        assert_eq!(e.line, Some(9), "{e}");
        assert_eq!(e.key.as_deref(), Some("peer[1].pasive"), "{e}");
        assert!(e.to_string().starts_with("line 9"), "{e}");
    }

    #[test]
    fn wrong_type_names_line_and_key() {
        let t = format!("{BASE}[decision]\nmax_paths = \"four\"\n");
        let e = Config::from_toml(&t).unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        assert_eq!(e.key.as_deref(), Some("decision.max_paths"), "{e}");
    }

    #[test]
    fn validation_errors_are_located() {
        let t = format!(
            "{BASE}[[peer]]\naddress = \"192.0.2.2\"\nremote_as = 1\nimport = [\"nope\"]\n"
        );
        let e = Config::from_toml(&t).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("peer[0].import[0]"), "{e}");
        assert_eq!(e.line, Some(6), "{e}");
        let t = format!(
            "{BASE}[[peer]]\naddress = \"192.0.2.2\"\nremote_as = 1\n[[peer]]\naddress = \"192.0.2.2\"\nremote_as = 2\n"
        );
        let e = Config::from_toml(&t).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("peer[1].address"), "{e}");
        assert_eq!(e.line, Some(7), "{e}");
    }

    #[test]
    fn policy_errors_are_located() {
        let t = format!(
            "{BASE}[[policy]]\nname = \"a\"\n[[policy]]\nname = \"p\"\n[[policy.term]]\nname = \"t\"\nmatch.prefix = [\"10.0.0.0/33\"]\n"
        );
        let e = Config::from_toml(&t).unwrap_err();
        assert_eq!(
            e.key.as_deref(),
            Some("policy[1].term[0].match.prefix[0]"),
            "{e}"
        );
        assert_eq!(e.line, Some(9), "{e}");
    }

    #[test]
    fn round_trip() {
        let mut c = Config::new(65001, "192.0.2.1".parse().unwrap());
        c.peers
            .push(PeerConfig::new("192.0.2.2".parse().unwrap(), 65002).rr_client());
        c.originate
            .push(Originate::new("198.51.100.0/24".parse().unwrap()).community("65001:1"));
        let t = c.to_toml().unwrap();
        assert_eq!(Config::from_toml(&t).unwrap(), c);
    }

    #[test]
    fn reset_needed_only_for_session_settings() {
        let a = PeerConfig::new("192.0.2.2".parse().unwrap(), 65002);
        assert!(!a.needs_reset(&a.clone().import(["x"]).rr_client()));
        assert!(a.needs_reset(&a.clone().hold_time(30)));
        assert!(a.needs_reset(&a.clone().password("pw")));
        assert!(a.needs_reset(&PeerConfig {
            remote_as: 65003,
            ..a.clone()
        }));
    }

    /// Every peer option of the builder, given in TOML, is the same
    /// configuration.
    #[test]
    fn every_peer_option_in_toml_and_builder() {
        let t = format!(
            r#"{BASE}
[[peer]]
address = "192.0.2.2"
remote_as = 65002
name = "transit"
port = 1179
local_address = "192.0.2.1"
local_as = 65100
passive = true
password = "secret"
hold_time = 30
keepalive_time = 10
connect_retry_time = 7
restart_delay = 3
families = ["ipv4-unicast"]
multihop = 4
route_reflector_client = true
next_hop = "self"
allow_own_as = 2
add_path = "both"
add_path_paths = {{ ipv4-unicast = 2 }}
max_prefix = {{ limit = 100, warning_only = true }}
import = ["p"]
import_default = "accept"
export = ["p"]
export_default = "accept"
soft_reconfiguration_inbound = true
graceful_restart = {{ restart_time = 90, restarting = true }}

[[peer]]
address = "192.0.2.3"
remote_as = 65003
ttl_security = 1
add_path = "send"
add_path_paths = {{ ipv6-unicast = "all" }}

[[policy]]
name = "p"
default = "accept"
"#
        );
        let c = Config::from_toml(&t).unwrap();
        let built = PeerConfig::new("192.0.2.2".parse().unwrap(), 65002)
            .name("transit")
            .port(1179)
            .local_address("192.0.2.1".parse().unwrap())
            .local_as(65100)
            .passive()
            .password("secret")
            .hold_time(30)
            .keepalive_time(10)
            .connect_retry(7)
            .restart_delay(3)
            .families([Family::Ipv4Unicast])
            .multihop(4)
            .rr_client()
            .next_hop_mode(NextHopMode::SelfAddress)
            .allow_own_as(2)
            .add_path(AddPathMode::Both)
            .add_path_paths(Family::Ipv4Unicast, AddPathPaths::Best(2))
            .max_prefix(MaxPrefix {
                limit: 100,
                warning_only: true,
                restart_after: 0,
            })
            .import(["p"])
            .import_default(Verdict::Accept)
            .export(["p"])
            .export_default(Verdict::Accept)
            .soft_reconfiguration_inbound()
            .graceful_restart(GracefulRestart {
                restart_time: 90,
                restarting: true,
                ..GracefulRestart::default()
            });
        assert_eq!(c.peers[0], built);
        let gtsm = PeerConfig::new("192.0.2.3".parse().unwrap(), 65003)
            .ttl_security(1)
            .add_path(AddPathMode::Send)
            .add_path_paths(Family::Ipv6Unicast, AddPathPaths::All);
        assert_eq!(c.peers[1], gtsm);
        // And back.
        assert_eq!(Config::from_toml(&c.to_toml().unwrap()).unwrap(), c);
        // Path counts change without a reset, directions with one.
        let all = built
            .clone()
            .add_path_paths(Family::Ipv4Unicast, AddPathPaths::All);
        assert!(!built.needs_reset(&all));
        assert!(built.needs_reset(&built.clone().add_path(AddPathMode::Receive)));
    }

    #[test]
    fn add_path_paths_errors_are_located() {
        let peer = "[[peer]]\naddress = \"192.0.2.2\"\nremote_as = 1\n";
        // Not a count.
        let t =
            format!("{BASE}{peer}add_path = \"send\"\nadd_path_paths = {{ ipv4-unicast = 0 }}\n");
        let e = Config::from_toml(&t).unwrap_err();
        assert_eq!(e.line, Some(7), "{e}");
        assert!(
            e.key
                .as_deref()
                .unwrap_or_default()
                .starts_with("peer[0].add_path_paths"),
            "{e}"
        );
        // Without ADD-PATH send.
        let t = format!(
            "{BASE}{peer}add_path = \"receive\"\nadd_path_paths = {{ ipv4-unicast = 2 }}\n"
        );
        let e = Config::from_toml(&t).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("peer[0].add_path_paths"), "{e}");
        assert_eq!(e.line, Some(7), "{e}");
        // A family the peer does not have.
        let t = format!(
            "{BASE}{peer}families = [\"ipv4\"]\nadd_path = \"send\"\nadd_path_paths = {{ ipv6-unicast = 2 }}\n"
        );
        let e = Config::from_toml(&t).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("peer[0].add_path_paths"), "{e}");
        assert!(e.message.contains("ipv6-unicast"), "{e}");
    }
}
