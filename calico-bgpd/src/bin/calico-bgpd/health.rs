//! `calico-bgpd health`: calico-node's BIRD health checks over the control
//! sockets, for the pod's liveness and readiness probes.
//!
//! `--bird-ready` / `--bird6-ready` are calico-node's `-bird-ready` /
//! `-bird6-ready`: ready with no BGP peers; within `--threshold-time`
//! (30 s) of the node's start (the modification time of
//! `/var/lib/calico/nodename`) only with every `Mesh_`/`Global_`/`Node_`
//! peer Established and no graceful-restart recovery running; after it,
//! with one peer Established. `--bird-live` / `--bird6-live` are
//! `-bird-live` / `-bird6-live`: the socket answers `show status` with
//! `BIRD ...` (calico-node also asks runit whether its services run; there
//! is no runit here). As calico-node, it prints nothing and exits 0 when
//! every check asked for passes, and prints why and exits 1 otherwise.
//!
//! One difference: calico-node fails when the nodename file is missing;
//! here the daemon's own start (`Last reboot on`) stands in for it, so that
//! the checks work outside Calico too.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use calico_bgpd::birdctl::health::{ReadyOptions, check_live, check_ready};
use calico_bgpd::birdctl::{CALICO_V4_SOCKET, CALICO_V6_SOCKET};
use clap::Args;

/// The file whose modification time calico-node takes as the node's start.
pub(crate) const NODENAME_FILE: &str = "/var/lib/calico/nodename";

/// The long help of `calico-bgpd health`.
pub(crate) const LONG_ABOUT: &str = "Run calico-node's BIRD health checks against the control sockets.\n\n\
    --bird-ready / --bird6-ready: ready with no BGP peers; within --threshold-time of the \
    node's start (the modification time of the nodename file) only with every Mesh_, Global_ \
    and Node_ peer Established and no graceful-restart recovery running; later with at least \
    one peer Established. --bird-live / --bird6-live: the socket answers `show status` with \
    BIRD's version line.\n\n\
    Exits 0, silently, when every check asked for passes; otherwise prints why and exits 1.";

/// The arguments of `calico-bgpd health`.
#[derive(Debug, Args)]
pub(crate) struct HealthArgs {
    /// Readiness over the IPv4 socket (calico-node's -bird-ready).
    #[arg(long)]
    bird_ready: bool,
    /// Readiness over the IPv6 socket (calico-node's -bird6-ready).
    #[arg(long)]
    bird6_ready: bool,
    /// Liveness over the IPv4 socket (calico-node's -bird-live).
    #[arg(long)]
    bird_live: bool,
    /// Liveness over the IPv6 socket (calico-node's -bird6-live).
    #[arg(long)]
    bird6_live: bool,
    /// How long after the node's start every peer must be Established
    /// (a Go duration: 30s, 1m30s, 500ms).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    threshold_time: Duration,
    /// The IPv4 control socket.
    #[arg(long, value_name = "PATH", default_value = CALICO_V4_SOCKET)]
    bird_socket: PathBuf,
    /// The IPv6 control socket.
    #[arg(long, value_name = "PATH", default_value = CALICO_V6_SOCKET)]
    bird6_socket: PathBuf,
    /// The file whose modification time is the node's start; if it is
    /// missing, the daemon's own start is used.
    #[arg(long, value_name = "PATH", default_value = NODENAME_FILE)]
    nodename_file: PathBuf,
}

/// Why a duration does not parse.
#[derive(Debug, thiserror::Error)]
#[error("invalid duration {0:?} (examples: 30s, 1m30s, 500ms)")]
pub(crate) struct BadDuration(String);

/// Parses a Go duration (`300ms`, `1.5h`, `2h45m`; units ns, us, µs, ms,
/// s, m, h); a bare number is seconds.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, BadDuration> {
    let bad = || BadDuration(s.to_string());
    if let Ok(secs) = s.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|_| bad());
    }
    let mut rest = s;
    let mut total = 0f64;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let (num, tail) = rest.split_at(num_end);
        let value: f64 = num.parse().map_err(|_| bad())?;
        let unit_end = tail
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(tail.len());
        let (unit, next) = tail.split_at(unit_end);
        let scale = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += value * scale;
        rest = next;
    }
    Duration::try_from_secs_f64(total).map_err(|_| bad())
}

/// Runs the checks asked for; the process's exit status.
pub(crate) async fn run(args: HealthArgs) -> ExitCode {
    if !(args.bird_ready || args.bird6_ready || args.bird_live || args.bird6_live) {
        println!(
            "calico-bgpd health: give at least one of --bird-ready, --bird6-ready, \
             --bird-live, --bird6-live"
        );
        return ExitCode::FAILURE;
    }
    let started = std::fs::metadata(&args.nodename_file)
        .and_then(|m| m.modified())
        .ok();
    let opts = |ipv6| ReadyOptions {
        threshold: args.threshold_time,
        started,
        ipv6,
        ..ReadyOptions::default()
    };
    let mut failures = Vec::new();
    if args.bird_live {
        if let Err(e) = check_live(&args.bird_socket).await {
            failures.push(format!(
                "calico/node is not ready: bird/confd is not live: {e}"
            ));
        }
    }
    if args.bird6_live {
        if let Err(e) = check_live(&args.bird6_socket).await {
            failures.push(format!(
                "calico/node is not ready: bird6/confd is not live: {e}"
            ));
        }
    }
    if args.bird_ready {
        if let Err(e) = check_ready(&args.bird_socket, &opts(false)).await {
            failures.push(format!("calico/node is not ready: BIRD is not ready: {e}"));
        }
    }
    if args.bird6_ready {
        if let Err(e) = check_ready(&args.bird6_socket, &opts(true)).await {
            failures.push(format!("calico/node is not ready: BIRD6 is not ready: {e}"));
        }
    }
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        for f in failures {
            println!("{f}");
        }
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        let d = |s| parse_duration(s).ok();
        assert_eq!(d("30s"), Some(Duration::from_secs(30)));
        assert_eq!(d("1m30s"), Some(Duration::from_secs(90)));
        assert_eq!(d("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(d("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(d("2h45m"), Some(Duration::from_secs(9900)));
        assert_eq!(d("45"), Some(Duration::from_secs(45)));
        for bad in ["", "s", "30x", "-5s", "1m30", "3 s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }
}
