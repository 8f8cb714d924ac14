//! calico-node's BIRD health checks (`-bird-ready`, `-bird-live` and the
//! `6` variants), as functions over the control socket.
//!
//! * **Ready**: no BGP peers is ready. Within the threshold (30 s) of a
//!   fresh start every `Mesh_`/`Global_`/`Node_` peer must be Established
//!   and no graceful-restart recovery may be running; after it, one
//!   Established peer is enough (so that a node going down does not make
//!   the whole mesh unready).
//! * **Live**: the daemon answers `show status` with `BIRD ...`.
//!
//! calico-node decides "fresh start" from the modification time of
//! `/var/lib/calico/nodename`; [`ReadyOptions::started`] takes that time,
//! or the daemon's own start (`Last reboot on` of `show status`) when it
//! is `None`.
//!
//! `calico-bgpd health --bird-ready` (and `--bird6-ready`, `--bird-live`,
//! `--bird6-live`) runs these; a program of one's own can too:
//!
//! ```no_run
//! use std::path::Path;
//! use calico_bgpd::birdctl::health::{check_live, check_ready, ReadyOptions};
//!
//! # async fn run() -> std::process::ExitCode {
//! let sock = Path::new(calico_bgpd::birdctl::CALICO_V4_SOCKET);
//! let nodename = std::fs::metadata("/var/lib/calico/nodename").and_then(|m| m.modified()).ok();
//! let live = check_live(sock).await;
//! let ready = check_ready(sock, &ReadyOptions { started: nodename, ..Default::default() }).await;
//! match live.and(ready) {
//!     Ok(()) => std::process::ExitCode::SUCCESS,
//!     Err(e) => {
//!         println!("calico/node is not ready: BIRD is not ready: {e}");
//!         std::process::ExitCode::FAILURE
//!     }
//! }
//! # }
//! ```

use std::fmt;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::client::{BirdClient, LINE_TIMEOUT, ReplyLine};
use super::time;

/// calico-node's default `-threshold-time`.
pub const READY_THRESHOLD: Duration = Duration::from_secs(30);

/// One peer as the readiness check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerReadiness {
    /// The peer's address, from its session name (`Mesh_10_0_0_2` is
    /// `10.0.0.2`).
    pub address: String,
    /// Whether its BGP state is Established.
    pub established: bool,
}

/// Why the daemon is not ready.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotReady {
    /// These peers are not Established (all of them, after the
    /// threshold).
    NotEstablished(Vec<String>),
    /// Graceful-restart recovery is still running.
    GracefulRestart,
}

impl fmt::Display for NotReady {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotReady::NotEstablished(p) => write!(f, "BGP not established with {}", p.join(",")),
            NotReady::GracefulRestart => f.write_str("graceful restart in progress"),
        }
    }
}

impl std::error::Error for NotReady {}

/// calico-node's readiness rule (`checkBIRDReady`): ready with no peers;
/// within `threshold` of the start (`since_start`), only with every peer
/// Established and no graceful-restart recovery running; after it, with at
/// least one peer Established.
pub fn bird_ready(
    peers: &[PeerReadiness],
    gr_in_progress: bool,
    since_start: Duration,
    threshold: Duration,
) -> Result<(), NotReady> {
    if peers.is_empty() {
        return Ok(());
    }
    let down: Vec<String> = peers
        .iter()
        .filter(|p| !p.established)
        .map(|p| p.address.clone())
        .collect();
    if since_start < threshold {
        if !down.is_empty() {
            return Err(NotReady::NotEstablished(down));
        }
        if gr_in_progress {
            return Err(NotReady::GracefulRestart);
        }
        Ok(())
    } else if peers.iter().any(|p| p.established) {
        Ok(())
    } else {
        Err(NotReady::NotEstablished(down))
    }
}

/// calico-node's liveness rule over a `show status` reply: a `BIRD ...`
/// version line, and the reply ends with `0013`.
pub fn bird_live(show_status: &[ReplyLine]) -> bool {
    show_status
        .iter()
        .any(|l| l.code == 1000 && l.text.starts_with("BIRD"))
        && show_status.last().is_some_and(|l| l.last && l.code == 13)
}

/// The Calico peers of a `show protocols` reply: BGP rows of at least six
/// columns named `Mesh_<ip>`, `Global_<ip>` or `Node_<ip>`, with the
/// address put back together as calico-node does: every `_` becomes `.` on
/// the IPv4 socket, `:` on the IPv6 one (`ipv6`).
pub fn calico_peers(show_protocols: &[ReplyLine], ipv6: bool) -> Vec<PeerReadiness> {
    let mut out = Vec::new();
    for l in show_protocols.iter().filter(|l| l.code == 1002) {
        let cols: Vec<&str> = l.text.split_whitespace().collect();
        let (Some(name), Some(&"BGP"), Some(bgp_state)) = (cols.first(), cols.get(1), cols.get(5))
        else {
            continue;
        };
        let Some((kind, id)) = name.split_once('_') else {
            continue;
        };
        if !matches!(kind, "Mesh" | "Global" | "Node") || id.is_empty() {
            continue;
        }
        let address = id.replace('_', if ipv6 { ":" } else { "." });
        out.push(PeerReadiness {
            address,
            established: *bgp_state == "Established",
        });
    }
    out
}

/// Whether a `show status` reply has the graceful-restart recovery lines.
pub fn gr_in_progress(show_status: &[ReplyLine]) -> bool {
    show_status.iter().any(|l| l.code == 24)
}

/// Why a health check failed.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// The socket could not be reached or answered badly.
    #[error("error querying BIRD: {0}")]
    Io(#[from] io::Error),
    /// An answer that is not what BIRD says.
    #[error("bad response from bird: {0}")]
    BadReply(String),
    /// Answered, not ready.
    #[error("{0}")]
    NotReady(#[from] NotReady),
}

/// Options of [`check_ready`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadyOptions {
    /// calico-node's `-threshold-time` (30 s).
    pub threshold: Duration,
    /// When the node (re)started: calico-node uses the modification time
    /// of `/var/lib/calico/nodename`; `None` reads the daemon's start from
    /// `show status`.
    pub started: Option<SystemTime>,
    /// How long to wait for each line.
    pub timeout: Duration,
    /// Whether the socket is the IPv6 one (`bird6.ctl`): peer names turn
    /// back into addresses with `:` rather than `.`.
    pub ipv6: bool,
}

impl Default for ReadyOptions {
    fn default() -> Self {
        ReadyOptions {
            threshold: READY_THRESHOLD,
            started: None,
            timeout: LINE_TIMEOUT,
            ipv6: false,
        }
    }
}

/// `-bird-live` over the socket at `path`: it answers `show status` with
/// `BIRD ...`.
pub async fn check_live(path: &Path) -> Result<(), HealthError> {
    let (mut c, _) = BirdClient::connect(path, LINE_TIMEOUT).await?;
    let status = c.command("show status").await?;
    if bird_live(&status) {
        Ok(())
    } else {
        Err(HealthError::BadReply(format!("{status:?}")))
    }
}

/// `-bird-ready` over the socket at `path`.
pub async fn check_ready(path: &Path, opts: &ReadyOptions) -> Result<(), HealthError> {
    let (mut c, _) = BirdClient::connect(path, opts.timeout).await?;
    let protocols = c.command("show protocols").await?;
    if let Some(l) = protocols.last().filter(|l| l.code >= 8000) {
        return Err(HealthError::BadReply(l.text.clone()));
    }
    let status = c.command("show status").await?;
    if !bird_live(&status) {
        return Err(HealthError::BadReply(format!("{status:?}")));
    }
    let started = match opts.started {
        Some(t) => t,
        None => status
            .iter()
            .find_map(|l| l.text.strip_prefix("Last reboot on "))
            .and_then(time::parse_datetime)
            .ok_or_else(|| HealthError::BadReply("no `Last reboot on` line".into()))?,
    };
    let since = SystemTime::now()
        .duration_since(started)
        .unwrap_or(Duration::ZERO);
    bird_ready(
        &calico_peers(&protocols, opts.ipv6),
        gr_in_progress(&status),
        since,
        opts.threshold,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(a: &str, up: bool) -> PeerReadiness {
        PeerReadiness {
            address: a.into(),
            established: up,
        }
    }

    const FRESH: Duration = Duration::from_secs(5);
    const OLD: Duration = Duration::from_secs(300);

    #[test]
    fn no_peers_is_ready() {
        assert_eq!(bird_ready(&[], true, FRESH, READY_THRESHOLD), Ok(()));
        assert_eq!(bird_ready(&[], false, OLD, READY_THRESHOLD), Ok(()));
    }

    #[test]
    fn fresh_start_needs_every_peer_and_no_gr() {
        let all_up = [peer("10.0.0.2", true), peer("10.0.0.3", true)];
        let one_down = [peer("10.0.0.2", true), peer("10.0.0.3", false)];
        assert_eq!(bird_ready(&all_up, false, FRESH, READY_THRESHOLD), Ok(()));
        assert_eq!(
            bird_ready(&one_down, false, FRESH, READY_THRESHOLD),
            Err(NotReady::NotEstablished(vec!["10.0.0.3".into()]))
        );
        assert_eq!(
            bird_ready(&all_up, true, FRESH, READY_THRESHOLD),
            Err(NotReady::GracefulRestart)
        );
        assert_eq!(
            NotReady::NotEstablished(vec!["10.0.0.3".into(), "10.0.0.4".into()]).to_string(),
            "BGP not established with 10.0.0.3,10.0.0.4"
        );
    }

    #[test]
    fn later_one_peer_is_enough() {
        let one_down = [peer("10.0.0.2", true), peer("10.0.0.3", false)];
        let all_down = [peer("10.0.0.2", false), peer("10.0.0.3", false)];
        assert_eq!(bird_ready(&one_down, true, OLD, READY_THRESHOLD), Ok(()));
        assert_eq!(
            bird_ready(&all_down, false, OLD, READY_THRESHOLD),
            Err(NotReady::NotEstablished(vec![
                "10.0.0.2".into(),
                "10.0.0.3".into()
            ]))
        );
        // The threshold itself counts as later, as time.Since(...) <
        // threshold is false there.
        assert_eq!(
            bird_ready(&one_down, false, READY_THRESHOLD, READY_THRESHOLD),
            Ok(())
        );
    }

    fn row(text: &str) -> ReplyLine {
        ReplyLine {
            code: 1002,
            text: text.into(),
            last: false,
        }
    }

    #[test]
    fn peers_as_calico_node_reads_them() {
        let rows = [
            row("static1  Static   master   up     20:10:56    "),
            row("Mesh_10_0_0_2 BGP      master   up     20:10:57    Established   "),
            row(
                "Node_10_0_0_3 BGP      master   start  20:10:56    Active        Socket: Connection refused",
            ),
            row("Global_10_192_0_1_port_150 BGP      master   up     20:10:57    Established   "),
            // Down with no info: five columns, skipped as calico-node skips it.
            row("Node_10_0_0_4 BGP      master   down   20:10:56    "),
            row("Local_Workload_10_0_0_5 BGP      master   up     20:10:57    Established   "),
            row("bgp1     BGP      master   up     20:10:57    Established   "),
        ];
        let peers = calico_peers(&rows, false);
        assert_eq!(
            peers,
            vec![
                peer("10.0.0.2", true),
                peer("10.0.0.3", false),
                peer("10.192.0.1.port.150", true),
            ]
        );
        let v6 = [row(
            "Mesh_2001_db8__2 BGP      master   up     20:10:57    Established   ",
        )];
        assert_eq!(calico_peers(&v6, true), vec![peer("2001:db8::2", true)]);
    }
}
