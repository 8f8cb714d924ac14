//! The `[calico]` table of calico-bgpd's TOML file: which node this is,
//! where its resources are, and how the kernel is programmed.
//!
//! ```toml
//! [calico]
//! node_name = "node-1"                       # NODENAME
//! resources = "/etc/calico/resources"         # BGPConfiguration, BGPPeer, ... as YAML
//! secrets = "/etc/calico/secrets"             # <namespace>/<secret>/<key> (optional)
//! secrets_namespace = "kube-system"           # NAMESPACE (default kube-system)
//! endpoint_status = "/var/run/calico/endpoint-status"  # Felix's files (optional)
//! router_id = "hash"                          # CALICO_ROUTER_ID (default: the node's IPv4)
//! # advertise_cluster_ips = "10.96.0.0/12"   # CALICO_ADVERTISE_CLUSTER_IPS
//! ipv4 = true                                 # run the IPv4 sessions (bird)
//! ipv6 = true                                 # run the IPv6 sessions (bird6)
//! max_paths = 16                              # ECMP width (BIRD's merge paths limit)
//!
//! [calico.fib]
//! enabled = true                # program the kernel (BIRD's kernel protocol)
//! metric = 1024                 # metric of our routes
//! tunnel_device = "tunl0"       # IP-in-IP device
//! sync_after = 120              # seconds at most before stale routes of a previous run go
//! remove_on_exit = false        # keep our routes when stopping (BIRD's persist)
//! learn = true                  # learn other owners' routes in pools (BIRD's learn)
//!
//! [calico.watch]
//! poll_interval = 10            # seconds between checks of the directories besides inotify
//! debounce_ms = 200             # wait for a burst of file changes to end
//!
//! [calico.control]
//! enabled = true                               # BIRD-compatible control sockets
//! ipv4 = "/var/run/calico/bird.ctl"            # what calico-node's checks read
//! ipv6 = "/var/run/calico/bird6.ctl"
//! ```
//!
//! `[calico.timers]` (optional) overrides the session timers of Calico's
//! `bgp_template` (connect retry 5 s, error wait 5 s, hold 240 s); tests
//! use it to converge faster. Unknown keys are errors that name the line
//! and the key ([`parse`]).

use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::IpNet;
use serde::Deserialize;

use crate::calico::plan::Settings;
use crate::calico::router_id::RouterIdSetting;

/// The `[calico]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalicoSection {
    /// The node's name (`NODENAME`): its Node resource.
    pub node_name: String,
    /// The directory of resource files.
    pub resources: PathBuf,
    /// The directory of mounted Secrets (BGP passwords).
    #[serde(default)]
    pub secrets: Option<PathBuf>,
    /// The namespace of the password Secrets (`NAMESPACE`).
    #[serde(default = "default_namespace")]
    pub secrets_namespace: String,
    /// Felix's endpoint status directory (local-workload peers).
    #[serde(default)]
    pub endpoint_status: Option<PathBuf>,
    /// `CALICO_ROUTER_ID`: `hash`, an address, or unset (the node's IPv4).
    #[serde(default)]
    pub router_id: RouterIdSetting,
    /// `CALICO_ADVERTISE_CLUSTER_IPS`.
    #[serde(default)]
    pub advertise_cluster_ips: Option<IpNet>,
    /// Run the IPv4 side (calico-node's `bird`).
    #[serde(default = "yes")]
    pub ipv4: bool,
    /// Run the IPv6 side (calico-node's `bird6`).
    #[serde(default = "yes")]
    pub ipv6: bool,
    /// How many equal paths make one multipath route.
    #[serde(default = "default_max_paths")]
    pub max_paths: u16,
    /// Kernel programming.
    #[serde(default)]
    pub fib: KernelSettings,
    /// Watching the directories.
    #[serde(default)]
    pub watch: WatchSettings,
    /// Session timer overrides.
    #[serde(default)]
    pub timers: TimerOverrides,
    /// The BIRD-compatible control sockets.
    #[serde(default)]
    pub control: ControlSettings,
    /// Close the sessions with Cease / Administrative Shutdown on SIGTERM.
    /// Off by default: the process then exits as BIRD under calico-node
    /// is stopped, its peers keep its routes for the graceful-restart time
    /// and the kernel keeps its routes.
    #[serde(default)]
    pub shutdown_notification: bool,
}

fn default_namespace() -> String {
    "kube-system".into()
}
fn yes() -> bool {
    true
}
fn default_max_paths() -> u16 {
    16
}

impl CalicoSection {
    /// What the configuration side takes from calico-node's environment.
    pub fn settings(&self) -> Settings {
        Settings {
            node_name: self.node_name.clone(),
            router_id: self.router_id,
            secrets_namespace: self.secrets_namespace.clone(),
            advertise_cluster_ips: self.advertise_cluster_ips,
        }
    }

    /// Whether the daemon runs the sessions of this address family.
    pub fn runs(&self, addr: &IpAddr) -> bool {
        if addr.is_ipv4() { self.ipv4 } else { self.ipv6 }
    }
}

/// `[calico.fib]`: BIRD's `protocol kernel` (learn, persist, graceful
/// restart, merge paths).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KernelSettings {
    /// Program the kernel's main table (protocol 12, `bird`).
    pub enabled: bool,
    /// The metric of our routes.
    pub metric: u32,
    /// The IP-in-IP device (`krt_tunnel`).
    pub tunnel_device: String,
    /// Seconds after start at most before our routes of a previous run
    /// that are no longer wanted are deleted (sooner: once every session of
    /// the family has sent End-of-RIB).
    pub sync_after: u64,
    /// Delete our routes when stopping.
    pub remove_on_exit: bool,
    /// Learn other owners' kernel routes inside the pools (Felix's borrowed
    /// workload addresses, its VXLAN and WireGuard routes) and advertise
    /// them as Calico's filters say.
    pub learn: bool,
}

impl Default for KernelSettings {
    fn default() -> Self {
        KernelSettings {
            enabled: true,
            metric: 1024,
            tunnel_device: crate::fib::filter::TUNL0.to_string(),
            sync_after: 120,
            remove_on_exit: false,
            learn: true,
        }
    }
}

/// `[calico.watch]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WatchSettings {
    /// Seconds between checks of the directories' files (their names,
    /// sizes and modification times), besides the inotify events; 0: events
    /// only.
    pub poll_interval: u64,
    /// Milliseconds to wait for a burst of changes to end before reading.
    pub debounce_ms: u64,
}

impl Default for WatchSettings {
    fn default() -> Self {
        WatchSettings {
            poll_interval: 10,
            debounce_ms: 200,
        }
    }
}

/// `[calico.control]`: the control sockets calico-node's health checks,
/// `calicoctl node status` and its status reporter read
/// ([`crate::birdctl`]), one per family run.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControlSettings {
    /// Serve the sockets.
    pub enabled: bool,
    /// The IPv4 socket (`bird.ctl`).
    pub ipv4: PathBuf,
    /// The IPv6 socket (`bird6.ctl`).
    pub ipv6: PathBuf,
}

impl Default for ControlSettings {
    fn default() -> Self {
        ControlSettings {
            enabled: true,
            ipv4: PathBuf::from(crate::birdctl::CALICO_V4_SOCKET),
            ipv6: PathBuf::from(crate::birdctl::CALICO_V6_SOCKET),
        }
    }
}

/// `[calico.timers]`: each one replaces Calico's value when set.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimerOverrides {
    /// `connect retry time` (seconds; Calico 5).
    pub connect_retry: Option<u16>,
    /// The first `error wait time` (seconds before a failed session starts
    /// again; Calico 5).
    pub error_wait: Option<u16>,
    /// `hold time` (seconds; Calico 240).
    pub hold_time: Option<u16>,
}

/// The whole file in Calico mode.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalicoFile {
    calico: CalicoSection,
}

/// A `[calico]` table error: line, key and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}{message}", line.map(|l| format!("line {l}: ")).unwrap_or_default(), key.as_ref().map(|k| format!("{k}: ")).unwrap_or_default())]
pub struct SectionError {
    /// The line (from 1).
    pub line: Option<usize>,
    /// The key (`calico.fib.metric`).
    pub key: Option<String>,
    /// What is wrong.
    pub message: String,
}

/// Whether the TOML text selects Calico mode: it has a top-level `calico`
/// table. Text that does not parse is not Calico mode (the general mode
/// reports its error).
pub fn is_calico_mode(text: &str) -> bool {
    text.parse::<toml::Table>()
        .is_ok_and(|t| t.contains_key("calico"))
}

/// Parses the file of Calico mode: a `[calico]` table and nothing else
/// (router id, AS, peers and routes come from the resources).
pub fn parse(text: &str) -> Result<CalicoSection, SectionError> {
    let f: CalicoFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| {
            text.get(..s.start)
                .unwrap_or_default()
                .matches('\n')
                .count()
                + 1
        });
        let key = line.and_then(|l| key_of_line(text, l));
        SectionError {
            line,
            key,
            message: e.message().trim().to_string(),
        }
    })?;
    let c = f.calico;
    let err = |key: &str, message: &str| SectionError {
        line: key.rsplit('.').next().and_then(|k| line_of_key(text, k)),
        key: Some(key.to_string()),
        message: message.to_string(),
    };
    if c.node_name.is_empty() {
        return Err(err("calico.node_name", "must not be empty"));
    }
    if !c.ipv4 && !c.ipv6 {
        return Err(err("calico.ipv6", "one of ipv4 and ipv6 must be true"));
    }
    if c.max_paths == 0 {
        return Err(err("calico.max_paths", "at least 1"));
    }
    if c.fib.tunnel_device.is_empty() || c.fib.tunnel_device.len() > 15 {
        return Err(err(
            "calico.fib.tunnel_device",
            "an interface name of 1 to 15 characters",
        ));
    }
    if matches!(c.timers.hold_time, Some(1 | 2)) {
        return Err(err("calico.timers.hold_time", "0 or at least 3"));
    }
    if c.timers.connect_retry == Some(0) {
        return Err(err("calico.timers.connect_retry", "must not be 0"));
    }
    Ok(c)
}

/// `table.key` of the key set on line `line`.
fn key_of_line(text: &str, line: usize) -> Option<String> {
    let mut table = String::new();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if let Some(h) = t.strip_prefix('[').and_then(|r| r.split(']').next()) {
            table = h.trim_matches(['[', ' ']).to_string();
        }
        if i + 1 == line {
            return match t.split_once('=') {
                Some((k, _)) if !t.starts_with('[') => Some(if table.is_empty() {
                    k.trim().to_string()
                } else {
                    format!("{table}.{}", k.trim())
                }),
                _ => (!table.is_empty()).then_some(table),
            };
        }
    }
    None
}

/// The line (from 1) that sets `key`.
fn line_of_key(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| l.split_once('=').is_some_and(|(k, _)| k.trim() == key))
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn minimal_and_defaults() {
        let c = parse("[calico]\nnode_name = \"a\"\nresources = \"/r\"\n").unwrap();
        assert_eq!(c.node_name, "a");
        assert!(c.ipv4 && c.ipv6 && c.fib.enabled && c.fib.learn);
        assert_eq!(c.fib.metric, 1024);
        assert_eq!(c.fib.tunnel_device, "tunl0");
        assert_eq!(c.max_paths, 16);
        assert_eq!(c.secrets_namespace, "kube-system");
        assert!(c.control.enabled);
        assert_eq!(c.control.ipv4, PathBuf::from("/var/run/calico/bird.ctl"));
        let c = parse(
            "[calico]\nnode_name = \"a\"\nresources = \"/r\"\n[calico.control]\nipv6 = \"/x/b6.ctl\"\n",
        )
        .unwrap();
        assert_eq!(c.control.ipv6, PathBuf::from("/x/b6.ctl"));
        assert!(is_calico_mode("[calico]\nnode_name = \"a\"\n"));
        assert!(!is_calico_mode("router_id = \"192.0.2.1\"\n"));
    }

    #[test]
    fn the_example_file_parses_to_the_defaults() {
        let text = include_str!("../../examples/calico-node.toml");
        assert!(is_calico_mode(text));
        let c = parse(text).unwrap();
        let d = parse("[calico]\nnode_name = \"node-1\"\nresources = \"/etc/calico/resources\"\n")
            .unwrap();
        assert_eq!(c.fib, d.fib);
        assert_eq!(c.watch, d.watch);
        assert_eq!(c.control, d.control);
        assert_eq!(c.secrets, Some(PathBuf::from("/etc/calico/secrets")));
    }

    #[test]
    fn errors_name_line_and_key() {
        let e = parse("[calico]\nnode_name = \"a\"\nresources = \"/r\"\n[calico.fib]\nmetrc = 1\n")
            .unwrap_err();
        assert_eq!(e.line, Some(5), "{e}");
        assert_eq!(e.key.as_deref(), Some("calico.fib.metrc"), "{e}");
        let e = parse("[calico]\nnode_name = \"a\"\nresources = \"/r\"\nrouter_id = \"x\"\n")
            .unwrap_err();
        assert_eq!(e.line, Some(4), "{e}");
        let e =
            parse("[calico]\nnode_name = \"a\"\nresources = \"/r\"\nmax_paths = 0\n").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("calico.max_paths"));
        assert_eq!(e.line, Some(4));
        let e =
            parse("router_id = \"192.0.2.1\"\n[calico]\nnode_name = \"a\"\nresources = \"/r\"\n")
                .unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
    }
}
