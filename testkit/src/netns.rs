//! Network namespaces for interop tests: named namespaces, veth links
//! between them (or to the root namespace), addresses, routes, commands and
//! long-running processes inside them.
//!
//! Everything is an RAII guard. A [`Netns`] is a cheap handle; the namespace
//! is deleted when the last handle goes, and every [`Veth`], daemon or
//! process started in it holds one, so a namespace outlives what runs in it.
//! Guards run on unwinding too, so a panicking test cleans up.
//!
//! Addresses: only `198.18.0.0/15` and `2001:db8::/32` are ever configured
//! ([`is_test_addr`]; anything else is refused). Links get a `/31` and a
//! `/127` from [`alloc_link`]; `198.19.0.0/16` and `2001:db8::/33` are left
//! for the prefixes tests originate ([`route_space_v4`], [`route_space_v6`]).
//!
//! ```no_run
//! use testkit::netns::{self, Link, Netns};
//!
//! if let Err(skip) = netns::require_root_netns() {
//!     netns::skip(&skip);
//!     return;
//! }
//! let a = Netns::new().unwrap();
//! let b = Netns::new().unwrap();
//! let link = Link::new(&a, &b).unwrap();
//! println!("{} {} <-> {} {}", a.name(), link.a.v4, b.name(), link.b.v4);
//! let out = a.exec(&["ip", "-br", "addr"]).unwrap();
//! println!("{}", out.stdout);
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::process::{self, Output, Process, RunError};
use crate::wait::wait_until;

/// Every namespace this harness creates is named `bgpt-<pid>-<n>`.
pub const NS_PREFIX: &str = "bgpt-";

/// Set to `1` (CI does) to turn every interop skip into a test failure.
pub const REQUIRE_ENV: &str = "BGP_REQUIRE_INTEROP";

/// How long a single `ip` or helper command may take.
pub const CMD_TIMEOUT: Duration = Duration::from_secs(10);

/// The IPv4 test range, `198.18.0.0/15` (RFC 2544 benchmarking).
pub fn test_net_v4() -> Ipv4Net {
    Ipv4Net::new(Ipv4Addr::new(198, 18, 0, 0), 15).unwrap_or_default()
}

/// The IPv6 test range, `2001:db8::/32` (RFC 3849 documentation).
pub fn test_net_v6() -> Ipv6Net {
    Ipv6Net::new(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32).unwrap_or_default()
}

/// Room for the IPv4 prefixes tests originate: `198.19.0.0/16` (links and
/// hosts come from `198.18.0.0/16`).
pub fn route_space_v4() -> Ipv4Net {
    Ipv4Net::new(Ipv4Addr::new(198, 19, 0, 0), 16).unwrap_or_default()
}

/// Room for the IPv6 prefixes tests originate: `2001:db8::/33` (links come
/// from `2001:db8:ff00::/40`, hosts from `2001:db8:fe00::/40`).
pub fn route_space_v6() -> Ipv6Net {
    Ipv6Net::new(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 33).unwrap_or_default()
}

/// Whether `addr` is one the harness may configure: inside `198.18.0.0/15`
/// or `2001:db8::/32`.
pub fn is_test_addr(addr: IpAddr) -> bool {
    match addr {
        IpAddr::V4(a) => test_net_v4().contains(&a),
        IpAddr::V6(a) => test_net_v6().contains(&a),
    }
}

/// Whether all of `net` is inside a test range.
pub fn is_test_net(net: IpNet) -> bool {
    match net {
        IpNet::V4(n) => test_net_v4().contains(&n),
        IpNet::V6(n) => test_net_v6().contains(&n),
    }
}

/// Why a namespace operation failed.
#[derive(Debug)]
pub enum NetnsError {
    /// A command failed or timed out.
    Command(RunError),
    /// An address or route outside the test ranges was asked for.
    Forbidden(String),
    /// The per-process address space is used up.
    Exhausted(&'static str),
    /// A wait ran out of time.
    Timeout(String),
}

impl fmt::Display for NetnsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetnsError::Command(e) => e.fmt(f),
            NetnsError::Forbidden(what) => {
                write!(
                    f,
                    "refused: {what} is outside 198.18.0.0/15 and 2001:db8::/32"
                )
            }
            NetnsError::Exhausted(what) => write!(f, "no {what} left for this process"),
            NetnsError::Timeout(what) => write!(f, "timed out: {what}"),
        }
    }
}

impl std::error::Error for NetnsError {}

impl From<RunError> for NetnsError {
    fn from(e: RunError) -> Self {
        NetnsError::Command(e)
    }
}

/// Why interop tests cannot run here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// A sentence for the test output.
    pub reason: String,
}

impl Skip {
    /// A skip with this reason.
    pub fn new(reason: impl Into<String>) -> Skip {
        Skip {
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl std::error::Error for Skip {}

/// Whether [`REQUIRE_ENV`] is set to `1`.
pub fn interop_required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

/// Reports a skip: prints `SKIPPED: <reason>` (to standard error, not
/// captured by the test harness), or, when [`REQUIRE_ENV`] is
/// `1`, panics with the reason so that the test fails.
#[allow(
    clippy::panic,
    reason = "failing the calling test is the point when interop is required"
)]
pub fn skip(s: &Skip) {
    if interop_required() {
        panic!("{REQUIRE_ENV}=1 but interop tests cannot run: {s}");
    }
    // Straight to the process's standard error, past the test harness's
    // output capture, so that a skip shows in every test log.
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "SKIPPED: {s}");
}

/// Finds a program by name on `PATH`, then in `/usr/sbin`, `/sbin` and
/// `/usr/lib/frr` (root-only folders often missing from a test's `PATH`).
pub fn find_program(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/lib/frr"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Whether all of `programs` can be found ([`find_program`]).
pub fn require_programs(programs: &[&str]) -> Result<(), Skip> {
    let missing: Vec<&str> = programs
        .iter()
        .copied()
        .filter(|p| find_program(p).is_none())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Skip::new(format!("not installed: {}", missing.join(", "))))
    }
}

fn effective_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Uid:"))?;
    line.split_whitespace().nth(2)?.parse().ok()
}

/// The `ip` program ([`find_program`]), or plain `ip` if not found.
fn ip_program() -> PathBuf {
    find_program("ip").unwrap_or_else(|| PathBuf::from("ip"))
}

fn ip() -> Command {
    Command::new(ip_program())
}

/// Whether this process can create network namespaces: root, an `ip`
/// program, and `ip netns add` working. Checked once per process (which also
/// removes namespaces left by earlier test processes that died, see
/// [`remove_stale_namespaces`]).
pub fn require_root_netns() -> Result<(), Skip> {
    static CHECK: OnceLock<Result<(), Skip>> = OnceLock::new();
    CHECK
        .get_or_init(|| {
            match effective_uid() {
                Some(0) => {}
                Some(uid) => {
                    return Err(Skip::new(format!(
                        "network namespaces need root (running as uid {uid})"
                    )));
                }
                None => return Err(Skip::new("cannot tell the user id (/proc/self/status)")),
            }
            if find_program("ip").is_none() {
                return Err(Skip::new("no `ip` program (iproute2 is not installed)"));
            }
            remove_stale_namespaces();
            let probe = format!("{NS_PREFIX}{}-probe", std::process::id());
            let added = process::run(ip().args(["netns", "add", &probe]), CMD_TIMEOUT)
                .map_err(|e| Skip::new(format!("`ip netns add` cannot run: {e}")))?;
            if !added.status.success() {
                return Err(Skip::new(format!(
                    "`ip netns add` fails: {}",
                    added.stderr.trim()
                )));
            }
            let _ = process::run(ip().args(["netns", "del", &probe]), CMD_TIMEOUT);
            Ok(())
        })
        .clone()
}

/// Names of all network namespaces (`ip netns list`).
pub fn list_namespaces() -> Vec<String> {
    process::run(ip().args(["netns", "list"]), CMD_TIMEOUT)
        .map(|o| {
            o.stdout
                .lines()
                .filter_map(|l| l.split_whitespace().next())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a namespace of this name exists.
pub fn namespace_exists(name: &str) -> bool {
    Path::new("/run/netns").join(name).exists() || list_namespaces().iter().any(|n| n == name)
}

/// PIDs of the processes inside namespace `name` (`ip netns pids`).
pub fn namespace_pids(name: &str) -> Vec<u32> {
    process::run(ip().args(["netns", "pids", name]), CMD_TIMEOUT)
        .map(|o| {
            o.stdout
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Kills, by PID, whatever still runs in namespace `name`, then deletes it.
/// Only for namespaces of our own prefix: nothing else can be in them.
fn destroy_namespace(name: &str) {
    for pid in namespace_pids(name) {
        eprintln!("testkit: killing leftover PID {pid} in namespace {name}");
        let _ = process::send_signal(pid, process::Signal::Kill);
    }
    let _ = process::run(ip().args(["netns", "del", name]), CMD_TIMEOUT);
}

/// Removes namespaces named `bgpt-<pid>-...` whose creating process no
/// longer exists (a test process killed before its guards ran). Namespaces
/// of live processes are left alone.
pub fn remove_stale_namespaces() {
    for name in list_namespaces() {
        let Some(rest) = name.strip_prefix(NS_PREFIX) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            eprintln!("testkit: removing stale namespace {name}");
            destroy_namespace(&name);
        }
    }
}

static NEXT_NS: AtomicU32 = AtomicU32::new(0);
static NEXT_LINK: AtomicU32 = AtomicU32::new(0);
static NEXT_HOST: AtomicU32 = AtomicU32::new(0);
static NEXT_VETH: AtomicU32 = AtomicU32::new(0);

#[derive(Debug)]
struct NsInner {
    /// `None` for the root namespace.
    name: Option<String>,
}

impl Drop for NsInner {
    fn drop(&mut self) {
        if let Some(name) = &self.name {
            destroy_namespace(name);
        }
    }
}

/// A network namespace (or the root one, [`Netns::root`]). Clones share it;
/// it is deleted when the last clone is dropped, after killing (by PID) any
/// process still inside.
#[derive(Debug, Clone)]
pub struct Netns {
    inner: Arc<NsInner>,
}

impl Netns {
    /// Creates a namespace `bgpt-<pid>-<n>` with its loopback up and IPv6
    /// duplicate address detection off (so addresses are usable at once).
    pub fn new() -> Result<Netns, NetnsError> {
        let n = NEXT_NS.fetch_add(1, Ordering::SeqCst);
        let name = format!("{NS_PREFIX}{}-{n}", std::process::id());
        process::run_ok(ip().args(["netns", "add", &name]), CMD_TIMEOUT)?;
        // From here on the guard deletes it, whatever fails next.
        let ns = Netns {
            inner: Arc::new(NsInner { name: Some(name) }),
        };
        ns.ip(&["link", "set", "lo", "up"])?;
        for key in ["all", "default"] {
            // Best effort: without it, addresses are waited for instead.
            let _ = ns.exec(&[
                "sysctl",
                "-q",
                "-w",
                &format!("net.ipv6.conf.{key}.accept_dad=0"),
            ]);
        }
        Ok(ns)
    }

    /// The root namespace: commands run directly, nothing is deleted.
    pub fn root() -> Netns {
        Netns {
            inner: Arc::new(NsInner { name: None }),
        }
    }

    /// Whether this is the root namespace.
    pub fn is_root(&self) -> bool {
        self.inner.name.is_none()
    }

    /// The namespace's name (`""` for the root namespace).
    pub fn name(&self) -> &str {
        self.inner.name.as_deref().unwrap_or("")
    }

    /// A command running `program` inside the namespace (`ip netns exec`,
    /// which execs it: the child's PID is the program's).
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        match &self.inner.name {
            Some(name) => {
                let mut c = ip();
                c.args(["netns", "exec", name]).arg(program);
                c
            }
            None => Command::new(program),
        }
    }

    /// Runs `args` (program first) inside the namespace, with
    /// [`CMD_TIMEOUT`]; a non-zero exit is an error.
    pub fn exec(&self, args: &[&str]) -> Result<Output, NetnsError> {
        self.exec_timeout(args, CMD_TIMEOUT)
    }

    /// [`Netns::exec`] with another time limit.
    pub fn exec_timeout(&self, args: &[&str], timeout: Duration) -> Result<Output, NetnsError> {
        let Some((program, rest)) = args.split_first() else {
            return Err(NetnsError::Forbidden("an empty command".into()));
        };
        let mut cmd = self.command(program);
        cmd.args(rest);
        Ok(process::run_ok(&mut cmd, timeout)?)
    }

    /// Starts `args` (program first) inside the namespace as a long-running
    /// [`Process`], its standard output and error appended to `log`.
    pub fn spawn(&self, args: &[&str], log: &Path) -> Result<Process, NetnsError> {
        let Some((program, rest)) = args.split_first() else {
            return Err(NetnsError::Forbidden("an empty command".into()));
        };
        let io_err = |source| {
            NetnsError::Command(RunError::Spawn {
                command: format!("opening log {}", log.display()),
                source,
            })
        };
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(io_err)?;
        let err = out.try_clone().map_err(io_err)?;
        let mut cmd = self.command(program);
        cmd.args(rest)
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err));
        Ok(Process::spawn(&mut cmd, *program, Some(log.to_path_buf()))?)
    }

    /// Runs `ip` with `args` in this namespace (`ip -n NAME ...`).
    pub fn ip(&self, args: &[&str]) -> Result<Output, NetnsError> {
        let mut cmd = ip();
        if let Some(name) = &self.inner.name {
            cmd.args(["-n", name]);
        }
        cmd.args(args);
        Ok(process::run_ok(&mut cmd, CMD_TIMEOUT)?)
    }

    /// Sets link `dev` up.
    pub fn link_up(&self, dev: &str) -> Result<(), NetnsError> {
        self.ip(&["link", "set", "dev", dev, "up"]).map(|_| ())
    }

    /// Adds `addr/prefix_len` to `dev` (IPv6 without duplicate address
    /// detection). Refused outside the test ranges.
    pub fn add_addr(&self, dev: &str, addr: IpAddr, prefix_len: u8) -> Result<(), NetnsError> {
        if !is_test_addr(addr) {
            return Err(NetnsError::Forbidden(format!("address {addr}")));
        }
        let a = format!("{addr}/{prefix_len}");
        let mut args = vec!["addr", "add", a.as_str(), "dev", dev];
        if addr.is_ipv6() {
            args.push("nodad");
        }
        self.ip(&args).map(|_| ())
    }

    /// Adds a host address (`/32` or `/128`) to the loopback, e.g. for
    /// multihop sessions. Refused outside the test ranges.
    pub fn add_loopback_addr(&self, addr: IpAddr) -> Result<(), NetnsError> {
        let len = if addr.is_ipv4() { 32 } else { 128 };
        self.add_addr("lo", addr, len)
    }

    /// Adds a route to `dest` via `via`. Both must be inside the test ranges
    /// (so there is no default route).
    pub fn add_route(&self, dest: IpNet, via: IpAddr) -> Result<(), NetnsError> {
        if !is_test_net(dest) {
            return Err(NetnsError::Forbidden(format!("route to {dest}")));
        }
        if !is_test_addr(via) {
            return Err(NetnsError::Forbidden(format!("gateway {via}")));
        }
        let d = dest.to_string();
        let v = via.to_string();
        let fam = if dest.addr().is_ipv4() { "-4" } else { "-6" };
        self.ip(&[fam, "route", "add", &d, "via", &v]).map(|_| ())
    }

    /// Waits until no IPv6 address in the namespace is tentative (duplicate
    /// address detection done), for at most `timeout`.
    pub fn wait_addrs_ready(&self, timeout: Duration) -> Result<(), NetnsError> {
        self.wait_tentative(None, timeout)
    }

    /// [`Netns::wait_addrs_ready`] for the addresses of one device only
    /// (what to use in the root namespace, which holds others' devices).
    pub fn wait_dev_ready(&self, dev: &str, timeout: Duration) -> Result<(), NetnsError> {
        self.wait_tentative(Some(dev), timeout)
    }

    fn wait_tentative(&self, dev: Option<&str>, timeout: Duration) -> Result<(), NetnsError> {
        let mut args = vec!["-6", "addr", "show"];
        if let Some(d) = dev {
            args.extend(["dev", d]);
        }
        args.push("tentative");
        wait_until(timeout, Duration::from_millis(50), || {
            match self.ip(&args) {
                Ok(o) if o.stdout.trim().is_empty() => Ok(()),
                Ok(o) => Err(o.stdout),
                Err(e) => Err(e.to_string()),
            }
        })
        .map_err(|e| {
            NetnsError::Timeout(format!("tentative IPv6 addresses in {}: {e}", self.name()))
        })
    }

    /// The routes of the main kernel table (`ip -j route show`), IPv4 if
    /// `ipv4` else IPv6, e.g. to check what a daemon installed.
    pub fn kernel_routes(&self, ipv4: bool) -> Result<Vec<KernelRoute>, NetnsError> {
        let fam = if ipv4 { "-4" } else { "-6" };
        let out = self.ip(&["-j", fam, "route", "show"])?;
        Ok(parse_kernel_routes(&out.stdout, ipv4))
    }

    /// PIDs of the processes now inside (empty for the root namespace).
    pub fn pids(&self) -> Vec<u32> {
        match &self.inner.name {
            Some(n) => namespace_pids(n),
            None => Vec::new(),
        }
    }
}

/// A route of a kernel table, as `ip -j route` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelRoute {
    /// The destination (`default` is `0.0.0.0/0` or `::/0`).
    pub dst: IpNet,
    /// Gateways (several for a multipath route; none if on-link).
    pub gateways: Vec<IpAddr>,
    /// Output device(s).
    pub devs: Vec<String>,
    /// Who installed it (`kernel`, `bgp`, `bird`, `static`, a number...).
    pub protocol: Option<String>,
    /// The route type when not unicast (`blackhole`, `unreachable`...).
    pub kind: Option<String>,
    /// The metric, if shown.
    pub metric: Option<u32>,
}

/// Reads `ip -j route show` output; routes it cannot read are left out.
pub fn parse_kernel_routes(text: &str, ipv4: bool) -> Vec<KernelRoute> {
    use crate::json::{self, Value};
    let Ok(v) = json::parse(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for r in v.elements() {
        let Some(dst) = r.get("dst").and_then(Value::as_str) else {
            continue;
        };
        let dst = match dst {
            "default" if ipv4 => IpNet::V4(Ipv4Net::default()),
            "default" => IpNet::V6(Ipv6Net::default()),
            d => match d.parse::<IpNet>() {
                Ok(n) => n,
                Err(_) => match d.parse::<IpAddr>() {
                    Ok(a) => IpNet::from(a),
                    Err(_) => continue,
                },
            },
        };
        let hops: Vec<&Value> = match r.get("nexthops") {
            Some(Value::Array(h)) => h.iter().collect(),
            _ => vec![r],
        };
        let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        out.push(KernelRoute {
            dst,
            gateways: hops
                .iter()
                .filter_map(|h| h.get("gateway").and_then(Value::as_str))
                .filter_map(|g| g.parse().ok())
                .collect(),
            devs: hops.iter().filter_map(|h| str_of(h, "dev")).collect(),
            protocol: str_of(r, "protocol"),
            kind: str_of(r, "type"),
            metric: r
                .get("metric")
                .and_then(Value::as_u64)
                .and_then(|m| u32::try_from(m).ok()),
        });
    }
    out
}

/// A veth pair, one end in each of two namespaces; deleted on drop (deleting
/// one end deletes both).
#[derive(Debug)]
pub struct Veth {
    a: Netns,
    b: Netns,
    /// The end in the first namespace.
    pub a_name: String,
    /// The end in the second namespace.
    pub b_name: String,
}

impl Veth {
    /// Creates a veth pair `bt<pid>x<n>a` / `...b` between `a` and `b`
    /// (either may be [`Netns::root`]), both ends down.
    pub fn new(a: &Netns, b: &Netns) -> Result<Veth, NetnsError> {
        let n = NEXT_VETH.fetch_add(1, Ordering::SeqCst);
        let base = format!("bt{:x}x{n:x}", std::process::id());
        let a_name = format!("{base}a");
        let b_name = format!("{base}b");
        if a_name.len() > 15 {
            return Err(NetnsError::Exhausted("veth names"));
        }
        let mut args = vec!["link", "add", a_name.as_str()];
        if !a.is_root() {
            args.extend(["netns", a.name()]);
        }
        args.extend(["type", "veth", "peer", "name", b_name.as_str()]);
        if !b.is_root() {
            args.extend(["netns", b.name()]);
        }
        process::run_ok(ip().args(&args), CMD_TIMEOUT)?;
        Ok(Veth {
            a: a.clone(),
            b: b.clone(),
            a_name,
            b_name,
        })
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        // Gone already if either namespace went; errors do not matter.
        let _ = self.a.ip(&["link", "del", &self.a_name]);
        if self.b.is_root() {
            let _ = self.b.ip(&["link", "del", &self.b_name]);
        }
    }
}

/// The addresses of one end of a [`Link`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct End {
    /// The IPv4 address (in a `/31`).
    pub v4: Ipv4Addr,
    /// The IPv6 address (in a `/127`).
    pub v6: Ipv6Addr,
}

impl End {
    /// The address of `family`'s version: `v4` if `ipv4`, else `v6`.
    pub fn addr(&self, ipv4: bool) -> IpAddr {
        if ipv4 {
            IpAddr::V4(self.v4)
        } else {
            IpAddr::V6(self.v6)
        }
    }
}

/// A link subnet pair from [`alloc_link`]: a `/31` and a `/127`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkSubnet {
    /// The IPv4 `/31`.
    pub v4: Ipv4Net,
    /// The IPv6 `/127`.
    pub v6: Ipv6Net,
}

impl LinkSubnet {
    /// The lower addresses (for the first end).
    pub fn a(&self) -> End {
        End {
            v4: self.v4.network(),
            v6: self.v6.network(),
        }
    }

    /// The upper addresses (for the second end).
    pub fn b(&self) -> End {
        End {
            v4: self.v4.broadcast(),
            v6: self.v6.broadcast(),
        }
    }
}

/// This process's slot in the test ranges, so that concurrent test
/// processes (whose links to the root namespace share one routing table)
/// rarely overlap: `pid % 32` for IPv4, `pid % 256` for IPv6.
fn slots() -> (u32, u32) {
    let pid = std::process::id();
    (pid % 32, pid % 256)
}

/// Hands out the next link subnets of this process: a `/31` from
/// `198.18.0.0/17` (512 per process, in the process's `/22`) and a `/127`
/// from `2001:db8:ff00::/40` (one `/64` each, 65536 per process).
pub fn alloc_link() -> Result<LinkSubnet, NetnsError> {
    let n = NEXT_LINK.fetch_add(1, Ordering::SeqCst);
    link_subnet(slots(), n).ok_or(NetnsError::Exhausted("link subnets"))
}

fn link_subnet((slot4, slot6): (u32, u32), n: u32) -> Option<LinkSubnet> {
    if n >= 512 {
        return None;
    }
    let base4 = u32::from(Ipv4Addr::new(198, 18, 0, 0));
    let v4 = Ipv4Addr::from(base4 + slot4 * 1024 + n * 2);
    let v6 = Ipv6Addr::new(
        0x2001,
        0xdb8,
        0xff00 | u16::try_from(slot6).ok()?,
        u16::try_from(n).ok()?,
        0,
        0,
        0,
        0,
    );
    Some(LinkSubnet {
        v4: Ipv4Net::new(v4, 31).ok()?,
        v6: Ipv6Net::new(v6, 127).ok()?,
    })
}

/// Hands out the next host addresses of this process (for loopbacks and
/// router IDs): an IPv4 address from `198.18.128.0/17` (1024 per process)
/// and an IPv6 one from `2001:db8:fe00::/40`.
pub fn alloc_host() -> Result<End, NetnsError> {
    let n = NEXT_HOST.fetch_add(1, Ordering::SeqCst);
    host_addr(slots(), n).ok_or(NetnsError::Exhausted("host addresses"))
}

fn host_addr((slot4, slot6): (u32, u32), n: u32) -> Option<End> {
    if n >= 1024 {
        return None;
    }
    let base4 = u32::from(Ipv4Addr::new(198, 18, 128, 0));
    let lo = u16::try_from(n + 1).ok()?;
    Some(End {
        v4: Ipv4Addr::from(base4 + slot4 * 1024 + n),
        v6: Ipv6Addr::new(
            0x2001,
            0xdb8,
            0xfe00 | u16::try_from(slot6).ok()?,
            0,
            0,
            0,
            0,
            lo,
        ),
    })
}

/// A configured link: a [`Veth`] with a fresh [`LinkSubnet`], end `a` in
/// the first namespace and `b` in the second, both up and their addresses
/// ready. Dropping it deletes the veth.
#[derive(Debug)]
pub struct Link {
    /// The veth pair.
    pub veth: Veth,
    /// The subnets used.
    pub subnet: LinkSubnet,
    /// The first end's addresses.
    pub a: End,
    /// The second end's addresses.
    pub b: End,
}

impl Link {
    /// Creates and configures a link between `a` and `b` (either may be
    /// [`Netns::root`]).
    pub fn new(a: &Netns, b: &Netns) -> Result<Link, NetnsError> {
        let subnet = alloc_link()?;
        let veth = Veth::new(a, b)?;
        let (ea, eb) = (subnet.a(), subnet.b());
        for (ns, dev, end) in [(a, &veth.a_name, ea), (b, &veth.b_name, eb)] {
            ns.add_addr(dev, IpAddr::V4(end.v4), 31)?;
            ns.add_addr(dev, IpAddr::V6(end.v6), 127)?;
            ns.link_up(dev)?;
        }
        for (ns, dev) in [(a, &veth.a_name), (b, &veth.b_name)] {
            ns.wait_dev_ready(dev, Duration::from_secs(5))?;
        }
        Ok(Link {
            veth,
            subnet,
            a: ea,
            b: eb,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_subnets_stay_in_range_and_apart() {
        let mut seen = std::collections::BTreeSet::new();
        for slot in [(0, 0), (31, 255), (7, 200)] {
            for n in [0, 1, 255, 511] {
                let s = link_subnet(slot, n).unwrap();
                for a in [s.a(), s.b()] {
                    assert!(is_test_addr(IpAddr::V4(a.v4)), "{s:?}");
                    assert!(is_test_addr(IpAddr::V6(a.v6)), "{s:?}");
                    assert!(!route_space_v4().contains(&a.v4));
                    assert!(!route_space_v6().contains(&a.v6));
                }
                assert_ne!(s.a(), s.b());
                assert!(seen.insert(s.v4), "{s:?} twice");
            }
            assert!(link_subnet(slot, 512).is_none());
        }
        let s = link_subnet((0, 0), 0).unwrap();
        assert_eq!(s.v4.to_string(), "198.18.0.0/31");
        assert_eq!(s.v6.to_string(), "2001:db8:ff00::/127");
        assert_eq!(s.b().v4, Ipv4Addr::new(198, 18, 0, 1));
        let last = link_subnet((31, 255), 511).unwrap();
        assert_eq!(last.v4.to_string(), "198.18.127.254/31");
    }

    #[test]
    fn hosts_stay_in_range() {
        for slot in [(0, 0), (31, 255)] {
            for n in [0, 1023] {
                let h = host_addr(slot, n).unwrap();
                assert!(is_test_addr(IpAddr::V4(h.v4)) && is_test_addr(IpAddr::V6(h.v6)));
                assert!(!route_space_v4().contains(&h.v4));
                assert!(!route_space_v6().contains(&h.v6));
            }
            assert!(host_addr(slot, 1024).is_none());
        }
        assert_eq!(
            host_addr((31, 255), 1023).unwrap().v4,
            Ipv4Addr::new(198, 18, 255, 255)
        );
    }

    #[test]
    fn only_test_ranges() {
        for ok in [
            "198.18.0.1",
            "198.19.255.255",
            "2001:db8::1",
            "2001:db8:ffff::",
        ] {
            assert!(is_test_addr(ok.parse().unwrap()), "{ok}");
        }
        for bad in [
            "10.0.0.1",
            "192.168.1.1",
            "172.16.0.1",
            "198.17.255.255",
            "198.20.0.0",
            "8.8.8.8",
            "2001:db9::1",
            "fd00::1",
        ] {
            assert!(!is_test_addr(bad.parse().unwrap()), "{bad}");
        }
        assert!(!is_test_net("198.18.0.0/14".parse().unwrap()));
        assert!(!is_test_net("0.0.0.0/0".parse().unwrap()));
        assert!(is_test_net("198.19.1.0/24".parse().unwrap()));
    }

    #[test]
    fn kernel_routes() {
        let text = r#"[{"dst":"default","gateway":"198.18.0.1","dev":"v0","flags":[]},
            {"dst":"198.19.1.0/24","nhid":6,"gateway":"198.18.0.0","dev":"v0","protocol":"bgp","metric":20,"flags":[]},
            {"type":"blackhole","dst":"198.19.9.0/24","protocol":"static","flags":[]},
            {"dst":"198.19.2.1","protocol":"bird","flags":[],"nexthops":[{"gateway":"198.18.0.0","dev":"v0","weight":1,"flags":[]},{"gateway":"198.18.0.2","dev":"v1","weight":1,"flags":[]}]}]"#;
        let rs = parse_kernel_routes(text, true);
        assert_eq!(rs.len(), 4);
        assert_eq!(rs[0].dst.to_string(), "0.0.0.0/0");
        assert_eq!(rs[1].protocol.as_deref(), Some("bgp"));
        assert_eq!(rs[1].metric, Some(20));
        assert_eq!(
            rs[1].gateways,
            vec!["198.18.0.0".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(rs[2].kind.as_deref(), Some("blackhole"));
        assert!(rs[2].gateways.is_empty());
        assert_eq!(rs[3].dst.to_string(), "198.19.2.1/32");
        assert_eq!(rs[3].gateways.len(), 2);
        assert_eq!(rs[3].devs, vec!["v0", "v1"]);
        assert!(parse_kernel_routes("not json", true).is_empty());
    }

    #[test]
    fn skip_text() {
        let s = Skip::new("no bird");
        assert_eq!(s.to_string(), "no bird");
    }
}
