//! What a node exports, imports and programs, as Calico's BIRD filters do
//! (bird_aggr.cfg, bird_ipam.cfg and the BGPFilter functions of v3.31).
//!
//! # Export (checklist items 34–42)
//!
//! A session's export runs, in order ([`Stage`]):
//!
//! 1. its BGPFilters' export functions for the family, in the order of the
//!    BGPPeer's `filters` ([`FilterFunction`]; an `Accept` or `Reject` ends
//!    the export);
//! 2. the interface gate ([`Stage::InterfaceGate`]): routes the kernel has
//!    on `bpf*.cali` are never exported, and towards iBGP peers neither are
//!    those on `*.cali` / `*.calico` (Felix's VXLAN and WireGuard routes);
//! 3. Calico's export ([`CalicoExport`], `calico_export_to_bgp_peers`):
//!    reject routes in pools with BGP export disabled; add the
//!    `prefixAdvertisements` communities; accept our confirmed blocks
//!    exactly and reject what is inside them; accept the service static
//!    routes; on a route reflector accept routes inside the
//!    load-balancer ranges; accept what is inside the pools; reject the
//!    rest.
//!
//! Mesh sessions have no BGPFilters. The rejects of step 2 commute with
//! those of step 3 and come before its first accept, so running the gate
//! before the policy gives Calico's order exactly.
//!
//! # Import (item 43)
//!
//! The BGPFilters' import functions, then accept.
//!
//! # bgp-rib policies
//!
//! [`CalicoExport::policy`] and [`FilterFunction::policy`] give bgp-rib's
//! serde policy form ([`PolicyConfig`]). What bgp-rib's conditions cannot
//! say — the route's interface and whether it was learned from BGP — stays
//! typed: the interface gate, and BGPFilter rules with `interface` or
//! `source` (such a function has no policy; [`FilterFunction::untranslatable`]
//! says why, and the consumer evaluates its [`FilterRule`]s).
//!
//! # Kernel (items 53–59)
//!
//! [`KernelFilter`]: service ranges are never installed; per pool,
//! VXLAN pools are rejected (Felix programs them), IP-in-IP pools are
//! installed through `tunl0` onlink to the BGP next hop (CrossSubnet: only
//! when the next hop is outside the node's subnet), others as plain
//! routes; everything else is installed.

use ipnet::IpNet;
use serde::Serialize;

use bgp_rib::policy::config::{
    MatchConfig, NumberOrText, PeerTypeName, PolicyConfig, PrependConfig, SetConfig, TermConfig,
};
use bgp_rib::policy::{DefaultAction, Flow};

use super::Family;
use super::resources::bgp_filter::{self, FilterAction, MatchOperator, PeerType};
use super::resources::{BgpFilter, ip_pool::EncapMode};

/// The priority ↔ LOCAL_PREF mapping of v3.32+: `2147483647 - priority`.
pub const BIRD_INT_MAX: u32 = 2_147_483_647;

/// Interfaces whose routes are not exported to iBGP peers.
pub const IBGP_REJECTED_INTERFACES: [&str; 2] = ["*.cali", "*.calico"];
/// Interfaces whose routes are never exported.
pub const NEVER_EXPORTED_INTERFACES: [&str; 1] = ["bpf*.cali"];

/// A step of a session's import or export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// A BGPFilter function ([`FilterFunction::name`]).
    BgpFilter(String),
    /// Reject routes the kernel has on these interfaces (glob patterns).
    InterfaceGate(Vec<String>),
    /// A bgp-rib policy of the plan.
    Policy(String),
    /// Accept everything left.
    Accept,
}

/// How a rule compares the route's prefix with its CIDR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PrefixOp {
    /// `net = cidr`.
    Equal,
    /// `net != cidr`.
    NotEqual,
    /// `net ~ cidr` (inside, or equal).
    In,
    /// `net !~ cidr`.
    NotIn,
}

/// One condition of a BGPFilter rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleMatch {
    /// The prefix, with the prefix-length bounds when given
    /// (`[ cidr{min,max} ]`).
    Prefix {
        /// The comparison.
        op: PrefixOp,
        /// The CIDR.
        cidr: IpNet,
        /// Length bounds.
        #[serde(skip_serializing_if = "Option::is_none")]
        lengths: Option<(u8, u8)>,
    },
    /// Learned from a BGP peer (`source ~ [ RTS_BGP ]`).
    FromBgpPeer,
    /// The route's interface matches the glob.
    Interface(String),
    /// The session is iBGP (or eBGP).
    PeerType(PeerTypeName),
    /// The route has this community (`aa:nn` or `aa:nn:mm`).
    Community(String),
    /// The AS path starts with these.
    AsPathPrefix(Vec<u32>),
    /// LOCAL_PREF is this (`2147483647 - priority`).
    LocalPref(u32),
}

/// One change a rule makes before accepting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleAction {
    /// Add a community (`aa:nn` or `aa:nn:mm`).
    AddCommunity(String),
    /// Prepend these, leftmost first.
    PrependAsPath(Vec<u32>),
    /// Set LOCAL_PREF (`2147483647 - priority`).
    SetLocalPref(u32),
}

/// A BGPFilter rule: when every match holds, the actions, then the verdict
/// ends the filter chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterRule {
    /// The conditions (none: always).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<RuleMatch>,
    /// The changes (Accept only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<RuleAction>,
    /// Accept or reject.
    pub accept: bool,
}

/// Import or export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// Import.
    Import,
    /// Export.
    Export,
}

/// A BGPFilter's rules for one direction and family: BIRD's
/// `'bgp_<name>_<dir>FilterV<n>'` function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterFunction {
    /// The function's name, the BGPFilter's name truncated and hashed as
    /// Calico does when it is over 45 characters.
    pub name: String,
    /// The BGPFilter.
    pub filter: String,
    /// The direction.
    pub direction: Direction,
    /// The rules, in order.
    pub rules: Vec<FilterRule>,
    /// Why there is no bgp-rib policy for it (none: the policy of the same
    /// name is in the plan).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub untranslatable: Option<String>,
}

/// Calico's `TruncateAndHashName`: names over `max` characters become
/// their first `max - 17` characters, `_`, and 16 upper-case hex digits of
/// their SHA-256.
pub fn truncate_and_hash(name: &str, max: usize) -> String {
    use sha2::{Digest, Sha256};
    if name.len() <= max || max <= 17 {
        return name.to_string();
    }
    let hex: String = Sha256::digest(name.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02X}"))
        .collect();
    let mut cut = max - 17;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hex}", name.get(..cut).unwrap_or(name))
}

/// `bgp_<name>_importFilterV4`, with the name shortened to fit BIRD's
/// 64-character symbols.
pub fn function_name(filter: &str, direction: Direction, family: Family) -> String {
    let dir = match direction {
        Direction::Import => "import",
        Direction::Export => "export",
    };
    let v = match family {
        Family::Ipv4 => "4",
        Family::Ipv6 => "6",
    };
    let fixed = "bgp_".len() + "_".len() + dir.len() + "FilterV".len() + v.len();
    format!(
        "bgp_{}_{dir}FilterV{v}",
        truncate_and_hash(filter, 64 - fixed)
    )
}

fn rule_model(r: &bgp_filter::FilterRule, warnings: &mut Vec<String>, at: &str) -> FilterRule {
    let mut matches = Vec::new();
    if let (Some(cidr), Some(op)) = (r.cidr, r.match_operator) {
        let cidr = cidr.trunc();
        let lengths = r.prefix_length.map(|pl| {
            let min = pl
                .min
                .map_or(cidr.prefix_len(), |m| m.max(cidr.prefix_len()));
            let max = pl
                .max
                .map_or(cidr.max_prefix_len(), |m| m.min(cidr.max_prefix_len()));
            (min, max)
        });
        let mut op = match op {
            MatchOperator::Equal => PrefixOp::Equal,
            MatchOperator::NotEqual => PrefixOp::NotEqual,
            MatchOperator::In => PrefixOp::In,
            MatchOperator::NotIn => PrefixOp::NotIn,
        };
        if lengths.is_some() && matches!(op, PrefixOp::Equal | PrefixOp::NotEqual) {
            warnings.push(format!(
                "{at}: prefixLength with {op:?} compares a prefix with a set in BIRD; read as {}",
                if op == PrefixOp::Equal { "In" } else { "NotIn" }
            ));
            op = if op == PrefixOp::Equal {
                PrefixOp::In
            } else {
                PrefixOp::NotIn
            };
        }
        matches.push(RuleMatch::Prefix { op, cidr, lengths });
    }
    if r.source.is_some() {
        matches.push(RuleMatch::FromBgpPeer);
    }
    if let Some(i) = &r.interface {
        matches.push(RuleMatch::Interface(i.clone()));
    }
    if let Some(p) = r.peer_type {
        matches.push(RuleMatch::PeerType(match p {
            PeerType::Ebgp => PeerTypeName::Ebgp,
            PeerType::Ibgp => PeerTypeName::Ibgp,
        }));
    }
    if let Some(c) = r.communities.as_ref().and_then(|c| c.values.first()) {
        matches.push(RuleMatch::Community(c.clone()));
    }
    if !r.as_path_prefix.is_empty() {
        matches.push(RuleMatch::AsPathPrefix(
            r.as_path_prefix.iter().map(|a| a.0).collect(),
        ));
    }
    if let Some(p) = r.priority {
        matches.push(RuleMatch::LocalPref(BIRD_INT_MAX.saturating_sub(p)));
    }
    let actions = r
        .operations
        .iter()
        .filter_map(|op| {
            if let Some(c) = &op.add_community {
                Some(RuleAction::AddCommunity(c.value.clone()))
            } else if let Some(p) = &op.prepend_as_path {
                Some(RuleAction::PrependAsPath(
                    p.prefix.iter().map(|a| a.0).collect(),
                ))
            } else {
                op.set_priority
                    .as_ref()
                    .map(|p| RuleAction::SetLocalPref(BIRD_INT_MAX.saturating_sub(p.value)))
            }
        })
        .collect();
    FilterRule {
        matches,
        actions,
        accept: r.action == FilterAction::Accept,
    }
}

/// The function of a BGPFilter for a direction and family; none when it
/// has no rules there (Calico then neither defines nor calls it).
pub fn filter_function(
    f: &BgpFilter,
    direction: Direction,
    family: Family,
    warnings: &mut Vec<String>,
) -> Option<FilterFunction> {
    let rules = f.rules(direction == Direction::Export, family == Family::Ipv4);
    if rules.is_empty() {
        return None;
    }
    let name = function_name(&f.metadata.name, direction, family);
    let rules: Vec<FilterRule> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| {
            rule_model(
                r,
                warnings,
                &format!("BGPFilter {} rule {i}", f.metadata.name),
            )
        })
        .collect();
    let untranslatable = rules.iter().enumerate().find_map(|(i, r)| {
        translate_rule(r)
            .err()
            .map(|why| format!("rule {i}: {why}"))
    });
    Some(FilterFunction {
        name,
        filter: f.metadata.name.clone(),
        direction,
        rules,
        untranslatable,
    })
}

fn prefix_text(cidr: IpNet, lengths: Option<(u8, u8)>, or_longer: bool) -> String {
    match lengths {
        Some((a, b)) => format!("{cidr}{{{a},{b}}}"),
        None if or_longer => format!("{cidr}+"),
        None => cidr.to_string(),
    }
}

fn is_large(c: &str) -> bool {
    c.matches(':').count() == 2
}

/// What a condition that bgp-rib policies cannot see (`source`,
/// `interface`) becomes, as told by a caller that knows the routes
/// ([`FilterFunction::policy_with`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// This bgp-rib condition says it.
    Match(Box<MatchConfig>),
    /// It holds for every route (the condition is left out).
    Always,
    /// It holds for no route (the rule can never match).
    Never,
}

/// A rule as a bgp-rib term, or why it cannot be one.
fn translate_rule(r: &FilterRule) -> Result<TermConfig, String> {
    translate_rule_with(r, &|_| None)?.ok_or_else(|| "the rule can never match".to_string())
}

/// [`translate_rule`] with `resolve` saying what the typed conditions
/// become (`None`: it cannot say); `Ok(None)`: the rule can never match.
fn translate_rule_with(
    r: &FilterRule,
    resolve: &dyn Fn(&RuleMatch) -> Option<Resolved>,
) -> Result<Option<TermConfig>, String> {
    let mut m = MatchConfig::default();
    let mut nots: Vec<MatchConfig> = Vec::new();
    let mut extra: Vec<MatchConfig> = Vec::new();
    for x in &r.matches {
        if matches!(x, RuleMatch::FromBgpPeer | RuleMatch::Interface(_))
            && let Some(res) = resolve(x)
        {
            match res {
                Resolved::Match(c) => extra.push(*c),
                Resolved::Always => {}
                Resolved::Never => return Ok(None),
            }
            continue;
        }
        match x {
            RuleMatch::Prefix { op, cidr, lengths } => {
                let or_longer = matches!(op, PrefixOp::In | PrefixOp::NotIn);
                let p = vec![prefix_text(*cidr, *lengths, or_longer)];
                match op {
                    PrefixOp::In | PrefixOp::Equal => m.prefix = Some(p),
                    PrefixOp::NotIn | PrefixOp::NotEqual => nots.push(MatchConfig {
                        prefix: Some(p),
                        ..MatchConfig::default()
                    }),
                }
            }
            RuleMatch::FromBgpPeer => {
                return Err("`source: RemotePeers` needs the route's origin, which bgp-rib policies do not see".into());
            }
            RuleMatch::Interface(i) => {
                return Err(format!(
                    "`interface: {i}` needs the route's interface, which bgp-rib policies do not see"
                ));
            }
            RuleMatch::PeerType(p) => m.peer_type = Some(*p),
            RuleMatch::Community(c) if is_large(c) => m.large_community_any = Some(vec![c.clone()]),
            RuleMatch::Community(c) => m.community_any = Some(vec![c.clone()]),
            RuleMatch::AsPathPrefix(asns) => {
                let mut mask: Vec<String> = asns.iter().map(u32::to_string).collect();
                mask.push("*".into());
                m.as_path_mask = Some(mask.join(" "));
            }
            RuleMatch::LocalPref(lp) => m.local_pref = Some(NumberOrText::Number(*lp)),
        }
    }
    match (nots.len(), extra.is_empty()) {
        (0, true) => {}
        (1, true) => m.not = nots.pop().map(Box::new),
        _ => {
            let mut all: Vec<MatchConfig> = nots
                .into_iter()
                .map(|n| MatchConfig {
                    not: Some(Box::new(n)),
                    ..MatchConfig::default()
                })
                .collect();
            all.extend(extra);
            m.all = Some(all);
        }
    }
    let mut set = SetConfig::default();
    let mut std_add = Vec::new();
    let mut large_add = Vec::new();
    for a in &r.actions {
        match a {
            RuleAction::AddCommunity(c) if is_large(c) => large_add.push(c.clone()),
            RuleAction::AddCommunity(c) => std_add.push(c.clone()),
            RuleAction::SetLocalPref(lp) => set.local_pref = Some(NumberOrText::Number(*lp)),
            RuleAction::PrependAsPath(asns) => {
                let Some(first) = asns.first() else { continue };
                if set.as_path_prepend.is_some() || asns.iter().any(|a| a != first) {
                    return Err(
                        "prepending different AS numbers is more than one bgp-rib prepend action"
                            .into(),
                    );
                }
                set.as_path_prepend = Some(PrependConfig {
                    count: Some(u32::try_from(asns.len()).unwrap_or(u32::MAX)),
                    asn: Some(*first),
                    last_as: false,
                });
            }
        }
    }
    if !std_add.is_empty() {
        set.community_add = Some(std_add);
    }
    if !large_add.is_empty() {
        set.large_community_add = Some(large_add);
    }
    Ok(Some(TermConfig {
        name: None,
        then: if r.accept { Flow::Accept } else { Flow::Reject },
        matches: m,
        set,
    }))
}

impl FilterFunction {
    /// The bgp-rib policy (same name), unless a rule cannot be said there.
    pub fn policy(&self) -> Option<PolicyConfig> {
        if self.untranslatable.is_some() {
            return None;
        }
        let terms = self
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| {
                translate_rule(r).ok().map(|mut t| {
                    t.name = Some(format!("rule-{i}"));
                    t
                })
            })
            .collect::<Option<Vec<_>>>()?;
        Some(PolicyConfig {
            name: self.name.clone(),
            default: DefaultAction::NextPolicy,
            terms,
        })
    }
}

impl FilterFunction {
    /// The bgp-rib policy (same name) with the conditions bgp-rib cannot
    /// see (`source`, `interface`) replaced by what `resolve` says they are
    /// for the routes the caller holds now (prefix sets of the routes it
    /// originates, next hops on an interface...); `None` when `resolve`
    /// leaves one unsaid or another rule cannot be translated. Rules that
    /// can never match are left out.
    pub fn policy_with(
        &self,
        resolve: &dyn Fn(&RuleMatch) -> Option<Resolved>,
    ) -> Option<PolicyConfig> {
        let mut terms = Vec::new();
        for (i, r) in self.rules.iter().enumerate() {
            if let Some(mut t) = translate_rule_with(r, resolve).ok()? {
                t.name = Some(format!("rule-{i}"));
                terms.push(t);
            }
        }
        Some(PolicyConfig {
            name: self.name.clone(),
            default: DefaultAction::NextPolicy,
            terms,
        })
    }
}

/// What the typed rules look at in a route (the parts bgp-rib policies do
/// not see included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteFacts {
    /// The prefix.
    pub prefix: IpNet,
    /// Learned from a BGP peer (BIRD's `RTS_BGP`), not from the kernel or
    /// a static route.
    pub from_bgp: bool,
    /// The interface the route points at, when it has one.
    pub interface: Option<String>,
    /// Standard and large communities, as text (`aa:nn`, `aa:nn:mm`).
    pub communities: Vec<String>,
    /// The AS path, leftmost first.
    pub as_path: Vec<u32>,
    /// LOCAL_PREF.
    pub local_pref: Option<u32>,
}

/// BIRD's `~` between a string and a pattern: `*` any run of characters,
/// `?` one character.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Classic two-pointer matching with back-tracking to the last `*`.
    let (mut i, mut j) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        match p.get(i) {
            Some('*') => {
                star = Some((i, j));
                i += 1;
            }
            Some(c) if *c == '?' || Some(c) == t.get(j) => {
                i += 1;
                j += 1;
            }
            _ => match star {
                Some((si, sj)) => {
                    i = si + 1;
                    j = sj + 1;
                    star = Some((si, sj + 1));
                }
                None => return false,
            },
        }
    }
    p.get(i..)
        .is_some_and(|rest| rest.iter().all(|c| *c == '*'))
}

impl RuleMatch {
    /// Whether the condition holds for a route sent to (export) or received
    /// from (import) a peer; `internal`: the session is iBGP.
    pub fn holds(&self, r: &RouteFacts, internal: bool) -> bool {
        match self {
            RuleMatch::Prefix { op, cidr, lengths } => {
                let inside = match lengths {
                    Some((a, b)) => {
                        cidr.contains(&r.prefix) && (*a..=*b).contains(&r.prefix.prefix_len())
                    }
                    None => cidr.contains(&r.prefix),
                };
                match op {
                    PrefixOp::Equal => r.prefix.trunc() == *cidr,
                    PrefixOp::NotEqual => r.prefix.trunc() != *cidr,
                    PrefixOp::In => inside,
                    PrefixOp::NotIn => !inside,
                }
            }
            RuleMatch::FromBgpPeer => r.from_bgp,
            RuleMatch::Interface(g) => r.interface.as_deref().is_some_and(|i| glob_match(g, i)),
            RuleMatch::PeerType(PeerTypeName::Ibgp) => internal,
            RuleMatch::PeerType(_) => !internal,
            RuleMatch::Community(c) => r.communities.iter().any(|x| x == c),
            RuleMatch::AsPathPrefix(p) => r.as_path.starts_with(p),
            RuleMatch::LocalPref(lp) => r.local_pref == Some(*lp),
        }
    }
}

impl FilterFunction {
    /// Runs the function: the first rule whose conditions all hold gives
    /// its actions and verdict (`true`: accept); none: the route goes on to
    /// the next stage.
    pub fn evaluate(&self, r: &RouteFacts, internal: bool) -> Option<(bool, &[RuleAction])> {
        self.rules
            .iter()
            .find(|rule| rule.matches.iter().all(|m| m.holds(r, internal)))
            .map(|rule| (rule.accept, rule.actions.as_slice()))
    }
}

/// Whether the interface gate rejects a route on `interface`.
pub fn gate_rejects(patterns: &[String], interface: Option<&str>) -> bool {
    interface.is_some_and(|i| patterns.iter().any(|p| glob_match(p, i)))
}

/// Communities added to exported routes inside a CIDR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommunityRule {
    /// `net ~ cidr`.
    pub cidr: IpNet,
    /// Standard communities (`aa:nn`), sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub communities: Vec<String>,
    /// Large communities (`aa:nn:mm`), sorted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub large_communities: Vec<String>,
}

/// `calico_export_to_bgp_peers` of one family.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CalicoExport {
    /// Pools with `disableBGPExport`: routes inside are rejected.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub disabled_pools: Vec<IpNet>,
    /// `prefixAdvertisements`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub communities: Vec<CommunityRule>,
    /// Our confirmed blocks: accepted exactly, what is inside them rejected.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub own_blocks: Vec<IpNet>,
    /// Service static routes: accepted with what is inside them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub static_routes: Vec<IpNet>,
    /// On a route reflector: the load-balancer ranges, accepted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reflected_load_balancer_ranges: Vec<IpNet>,
    /// Pools that export: what is inside them is accepted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pools: Vec<IpNet>,
}

impl CalicoExport {
    /// The name of its bgp-rib policy.
    pub fn policy_name(family: Family) -> String {
        match family {
            Family::Ipv4 => "calico_export_v4".into(),
            Family::Ipv6 => "calico_export_v6".into(),
        }
    }

    /// The bgp-rib policy: every rule of Calico's export but the interface
    /// gate, then reject.
    pub fn policy(&self, family: Family) -> PolicyConfig {
        let term = |name: String, prefix: String, then: Flow| TermConfig {
            name: Some(name),
            then,
            matches: MatchConfig {
                prefix: Some(vec![prefix]),
                ..MatchConfig::default()
            },
            set: SetConfig::default(),
        };
        let mut terms = Vec::new();
        for p in &self.disabled_pools {
            terms.push(term(
                format!("disabled-pool {p}"),
                format!("{p}+"),
                Flow::Reject,
            ));
        }
        for c in &self.communities {
            let mut t = term(
                format!("communities {}", c.cidr),
                format!("{}+", c.cidr),
                Flow::NextTerm,
            );
            if !c.communities.is_empty() {
                t.set.community_add = Some(c.communities.clone());
            }
            if !c.large_communities.is_empty() {
                t.set.large_community_add = Some(c.large_communities.clone());
            }
            terms.push(t);
        }
        for b in &self.own_blocks {
            terms.push(term(format!("block {b}"), b.to_string(), Flow::Accept));
            terms.push(term(
                format!("inside block {b}"),
                format!("{b}+"),
                Flow::Reject,
            ));
        }
        for s in &self.static_routes {
            terms.push(term(format!("static {s}"), format!("{s}+"), Flow::Accept));
        }
        for s in &self.reflected_load_balancer_ranges {
            terms.push(term(
                format!("load-balancer range {s}"),
                format!("{s}+"),
                Flow::Accept,
            ));
        }
        for p in &self.pools {
            terms.push(term(format!("pool {p}"), format!("{p}+"), Flow::Accept));
        }
        PolicyConfig {
            name: Self::policy_name(family),
            default: DefaultAction::Reject,
            terms,
        }
    }
}

/// How a route inside a pool goes into the kernel (`krt_tunnel`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tunnel {
    /// `via <next hop> dev <interface>`.
    None,
    /// `via <BGP next hop> dev tunl0 onlink`.
    Tunl0,
    /// Plain when the BGP next hop is inside the node's subnet, else
    /// through tunl0.
    CrossSubnet {
        /// The node's subnet.
        local_subnet: IpNet,
    },
}

/// Why the kernel filter rejects a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RejectReason {
    /// A service range: advertised, never installed.
    ServiceRange,
    /// A VXLAN pool: Felix programs it.
    Vxlan,
    /// `programClusterRoutes` leaves the pool to Felix.
    FelixProgramsClusterRoutes,
}

/// One rule of the kernel filter; the first that matches decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KernelRule {
    /// Routes inside are not installed.
    Reject {
        /// `net ~ cidr`.
        cidr: IpNet,
        /// Why.
        reason: RejectReason,
    },
    /// Routes inside are installed this way.
    Install {
        /// `net ~ cidr`.
        cidr: IpNet,
        /// The tunnel decision.
        tunnel: Tunnel,
    },
}

/// `calico_kernel_programming` of one family: the rules, then install
/// everything else plainly (a ToR's default route included).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KernelFilter {
    /// The rules, in order.
    pub rules: Vec<KernelRule>,
}

/// Which pools this daemon programs (`programClusterRoutes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClusterRoutePolicy {
    /// IP-in-IP pools.
    pub ipip: bool,
    /// Unencapsulated pools.
    pub no_encap: bool,
}

/// A pool as the kernel filter sees it.
#[derive(Debug, Clone, Copy)]
pub struct PoolView {
    /// The CIDR.
    pub cidr: IpNet,
    /// IP-in-IP.
    pub ipip: EncapMode,
    /// VXLAN.
    pub vxlan: EncapMode,
}

/// The kernel filter of a family.
pub fn kernel_filter(
    family: Family,
    reject_cidrs: &[IpNet],
    pools: &[PoolView],
    local_subnet: Option<IpNet>,
    policy: ClusterRoutePolicy,
) -> KernelFilter {
    let mut rules: Vec<KernelRule> = reject_cidrs
        .iter()
        .map(|c| KernelRule::Reject {
            cidr: *c,
            reason: RejectReason::ServiceRange,
        })
        .collect();
    // IPv4 pool rules need the node's subnet (bird_ipam.cfg writes them only
    // when network_v4 is known); IPv6 has only rejects.
    if family == Family::Ipv4 && local_subnet.is_none() {
        return KernelFilter { rules };
    }
    for p in pools {
        let vxlan = p.vxlan != EncapMode::Never;
        let ipip = p.ipip != EncapMode::Never;
        let rule = if vxlan {
            KernelRule::Reject {
                cidr: p.cidr,
                reason: RejectReason::Vxlan,
            }
        } else if (ipip && !policy.ipip) || (!ipip && !policy.no_encap) {
            KernelRule::Reject {
                cidr: p.cidr,
                reason: RejectReason::FelixProgramsClusterRoutes,
            }
        } else if family == Family::Ipv6 {
            continue;
        } else {
            let tunnel = match (p.ipip, local_subnet) {
                (EncapMode::Always, _) => Tunnel::Tunl0,
                (EncapMode::CrossSubnet, Some(s)) => Tunnel::CrossSubnet { local_subnet: s },
                _ => Tunnel::None,
            };
            KernelRule::Install {
                cidr: p.cidr,
                tunnel,
            }
        };
        rules.push(rule);
    }
    KernelFilter { rules }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_truncated_and_hashed_as_calico_does() {
        let short = "test-filter";
        assert_eq!(
            function_name(short, Direction::Import, Family::Ipv4),
            "bgp_test-filter_importFilterV4"
        );
        let long = "a-very-long-bgp-filter-name-that-is-over-forty-five-characters";
        let f = function_name(long, Direction::Export, Family::Ipv6);
        assert!(f.len() <= 64, "{f}");
        assert_eq!(
            f,
            format!("bgp_{}_{}_exportFilterV6", &long[..28], "8AA3F90049D18384")
        );
        assert_eq!(truncate_and_hash(&"x".repeat(45), 45), "x".repeat(45));
        let t = truncate_and_hash(&"x".repeat(46), 45);
        assert_eq!(t.len(), 45);
        assert_eq!(&t[..29], &format!("{}_", "x".repeat(28)));
        assert!(
            t[29..]
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase())
        );
    }
    #[test]
    fn globs_and_typed_rules() {
        assert!(glob_match("*.cali", "vxlan.cali"));
        assert!(glob_match("*.cali", "wireguard.cali"));
        assert!(!glob_match("*.cali", "vxlan.calico"));
        assert!(glob_match("bpf*.cali", "bpfout.cali"));
        assert!(glob_match("eth?", "eth0"));
        assert!(!glob_match("eth?", "eth10"));
        assert!(glob_match("*", ""));
        let gate: Vec<String> = ["*.cali", "*.calico", "bpf*.cali"]
            .map(String::from)
            .to_vec();
        assert!(gate_rejects(&gate, Some("vxlan.calico")));
        assert!(!gate_rejects(&gate, Some("eth0")));
        assert!(!gate_rejects(&gate, None));
        let f = FilterFunction {
            name: "f".into(),
            filter: "f".into(),
            direction: Direction::Export,
            rules: vec![
                FilterRule {
                    matches: vec![
                        RuleMatch::Prefix {
                            op: PrefixOp::In,
                            cidr: "10.0.0.0/8".parse().unwrap(),
                            lengths: Some((16, 24)),
                        },
                        RuleMatch::FromBgpPeer,
                    ],
                    actions: vec![],
                    accept: false,
                },
                FilterRule {
                    matches: vec![RuleMatch::Interface("eth*".into())],
                    actions: vec![RuleAction::AddCommunity("1:2".into())],
                    accept: true,
                },
            ],
            untranslatable: Some("typed".into()),
        };
        let route = |p: &str, bgp: bool, i: Option<&str>| RouteFacts {
            prefix: p.parse().unwrap(),
            from_bgp: bgp,
            interface: i.map(String::from),
            communities: vec![],
            as_path: vec![],
            local_pref: None,
        };
        assert_eq!(
            f.evaluate(&route("10.1.0.0/16", true, None), true)
                .map(|x| x.0),
            Some(false)
        );
        assert_eq!(f.evaluate(&route("10.1.0.0/16", false, None), true), None);
        assert_eq!(f.evaluate(&route("10.1.1.0/25", true, None), true), None);
        let (accept, actions) = f
            .evaluate(&route("10.1.1.0/25", true, Some("eth1")), true)
            .unwrap();
        assert!(accept);
        assert_eq!(actions, [RuleAction::AddCommunity("1:2".into())]);
    }
}
