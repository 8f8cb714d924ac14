//! General-purpose mode: `calico-bgpd --config FILE.toml`.
//!
//! The file is bgp-speaker's [`Config`] in TOML (router ID, AS, listen
//! addresses, peers, originated routes, policies; its documentation lists
//! the keys). The daemon starts a [`Speaker`] from it and then waits for
//! signals:
//!
//! - SIGHUP: the file is read again. If it does not parse or validate, the
//!   error (line and key) is logged and the running configuration stays.
//!   Otherwise [`Speaker::reload`] applies the difference: peers added,
//!   removed, reset (a session setting changed) or changed in place
//!   (policies and the like, without a reset); sessions whose settings did
//!   not change are left alone. What it did is logged.
//! - SIGTERM, SIGINT: every session is closed with Cease / Administrative
//!   Shutdown and a shutdown message, and the process exits 0.
//!
//! With `[fib] enabled = true` ([`fib_section`]) the best paths learned
//! from peers go to the kernel through calico-bgpd's FIB programmer.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use bgp_speaker::{Config, ConfigError, PeerChange, ReloadReport, Speaker};
use tokio::signal::unix::{SignalKind, signal};

use crate::fib_section::{self, Fib, FibSection};

/// How long the shutdown may take (NOTIFICATIONs flushed to every peer)
/// before the process exits anyway.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);

/// Reads and validates the configuration file: bgp-speaker's keys and
/// checks, the daemon's `[fib]` table ([`fib_section`]), and what only a
/// running speaker would find (a passive peer needs a listener of its
/// address family).
fn load(path: &Path) -> Result<(Config, FibSection), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let (text, fib) = fib_section::split(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let config = Config::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    check_listeners(&config).map_err(|e| format!("{}: {}", path.display(), locate(e, &text)))?;
    Ok((config, fib))
}

/// A passive peer with no listener of its family would be refused when
/// the speaker starts (or reloads); say so with its key instead.
fn check_listeners(config: &Config) -> Result<(), ConfigError> {
    for (i, p) in config.peers.iter().enumerate() {
        let served = config
            .listen
            .iter()
            .any(|l| l.is_ipv4() == p.address.is_ipv4());
        if p.passive && !served {
            return Err(ConfigError {
                line: None,
                column: None,
                key: Some(format!("peer[{i}].passive")),
                message: "no listen address of the peer's address family takes its connections"
                    .into(),
            });
        }
    }
    Ok(())
}

/// Adds the line of a `peer[N].KEY` error: the line of `KEY` in the
/// `N`-th `[[peer]]` table, or the table's header.
fn locate(mut e: ConfigError, text: &str) -> ConfigError {
    let Some((index, key)) = e
        .key
        .as_deref()
        .and_then(|k| k.strip_prefix("peer["))
        .and_then(|k| k.split_once("]."))
        .and_then(|(n, k)| Some((n.parse::<usize>().ok()?, k.to_string())))
    else {
        return e;
    };
    let lines: Vec<&str> = text.lines().collect();
    let Some(header) = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with("[[peer]]"))
        .nth(index)
        .map(|(i, _)| i)
    else {
        return e;
    };
    let own = lines
        .iter()
        .enumerate()
        .skip(header + 1)
        .take_while(|(_, l)| !l.trim_start().starts_with('['))
        .find(|(_, l)| l.split_once('=').is_some_and(|(k, _)| k.trim() == key))
        .map(|(i, _)| i);
    e.line = Some(own.unwrap_or(header) + 1);
    e
}

/// `--check`: validates the file, prints a summary on stdout.
pub(crate) fn check(path: &Path) -> ExitCode {
    match load(path) {
        Ok((c, fib)) => {
            println!(
                "{}: valid: router ID {}, AS {}, {} listen address(es), {} peer(s), {} originated route(s), {} policy(ies); FIB {}",
                path.display(),
                c.router_id,
                c.local_as,
                c.listen.len(),
                c.peers.len(),
                c.originate.len(),
                c.policy.len(),
                if fib.enabled {
                    format!("enabled (metric {})", fib.metric)
                } else {
                    "disabled".to_string()
                }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("calico-bgpd: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the daemon until SIGTERM or SIGINT.
pub(crate) async fn run(path: PathBuf) -> ExitCode {
    let (config, fib_config) = match load(&path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("calico-bgpd: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The handlers are in place before any session exists, so that a
    // SIGHUP sent as soon as a peer sees the session is never fatal.
    let signals = (|| {
        Ok::<_, std::io::Error>((
            signal(SignalKind::hangup())?,
            signal(SignalKind::terminate())?,
            signal(SignalKind::interrupt())?,
        ))
    })();
    let (mut hup, mut term, mut int) = match signals {
        Ok(s) => s,
        Err(e) => {
            eprintln!("calico-bgpd: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The FIB programmer first: it adopts our routes of a previous run
    // before the speaker's best paths come.
    let programmer = if fib_config.enabled {
        match Fib::start(&fib_config).await {
            Ok(p) => Some(p),
            Err(e) => {
                eprintln!("calico-bgpd: {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let speaker = match Speaker::from_config(config.clone()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(file = %path.display(), "cannot start: {e}");
            eprintln!("calico-bgpd: {}: cannot start: {e}", path.display());
            return ExitCode::FAILURE;
        }
    };
    let mut fib = match programmer {
        Some(p) => match Fib::follow(p, &speaker, &fib_config).await {
            Ok(f) => Some(f),
            Err(e) => {
                eprintln!("calico-bgpd: {e}");
                speaker.shutdown("calico-bgpd cannot start").await;
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    tracing::info!(
        file = %path.display(),
        router_id = %config.router_id,
        asn = config.local_as,
        listen = ?speaker.listen_addrs(),
        peers = config.peers.len(),
        originated = config.originate.len(),
        fib = fib_config.enabled,
        "calico-bgpd running; SIGHUP reloads the file, SIGTERM stops"
    );
    let why = loop {
        tokio::select! {
            _ = hup.recv() => reload(&speaker, &path, &fib_config).await,
            _ = term.recv() => break "SIGTERM",
            _ = int.recv() => break "SIGINT",
        }
    };
    tracing::info!(
        signal = why,
        "stopping: Cease / Administrative Shutdown to every peer"
    );
    let message = format!("calico-bgpd stopping ({why})");
    // The routes withdrawn as the sessions close are not taken out of the
    // kernel (unless remove_on_exit): the next run adopts them.
    if let Some(f) = fib.as_mut() {
        f.detach();
    }
    if tokio::time::timeout(SHUTDOWN_WAIT, speaker.shutdown(&message))
        .await
        .is_err()
    {
        tracing::warn!(
            "shutdown took longer than {}s; exiting anyway",
            SHUTDOWN_WAIT.as_secs()
        );
    }
    if let Some(f) = fib {
        if tokio::time::timeout(SHUTDOWN_WAIT, f.stop()).await.is_err() {
            tracing::warn!("the FIB programmer did not stop in time");
        }
    }
    tracing::info!("stopped");
    ExitCode::SUCCESS
}

/// SIGHUP: read the file again and apply it, or keep the running
/// configuration if it is not valid.
async fn reload(speaker: &Speaker, path: &Path, running_fib: &FibSection) {
    tracing::info!(file = %path.display(), "SIGHUP: reloading the configuration");
    let new = match load(path) {
        Ok((c, fib)) => {
            if fib != *running_fib {
                tracing::warn!(
                    "the [fib] table changed: it applies at the next start, not on reload"
                );
            }
            c
        }
        Err(e) => {
            tracing::error!("reload refused, the running configuration stays: {e}");
            return;
        }
    };
    let names = new.clone();
    match speaker.reload(new).await {
        Ok(report) => log_report(&report, &names),
        Err(
            e @ (bgp_speaker::SpeakerError::Config(_)
            | bgp_speaker::SpeakerError::RestartRequired(_)),
        ) => {
            tracing::error!("reload refused, the running configuration stays: {e}");
        }
        Err(e) => {
            tracing::error!("reload failed part way, the configuration may be partly applied: {e}");
        }
    }
}

/// One line per peer that changed, and a summary.
fn log_report(report: &ReloadReport, new: &Config) {
    let name = |a: &IpAddr| {
        new.peer(*a)
            .and_then(|p| p.name.clone())
            .unwrap_or_default()
    };
    let (mut added, mut removed, mut reset, mut changed) = (0, 0, 0, 0);
    for (addr, change) in &report.peers {
        let what = match change {
            PeerChange::Added => {
                added += 1;
                "peer added"
            }
            PeerChange::Removed => {
                removed += 1;
                "peer removed (Cease / Peer De-configured)"
            }
            PeerChange::Reset => {
                reset += 1;
                "peer reset: a session setting changed (Cease / Other Configuration Change)"
            }
            PeerChange::Soft => {
                changed += 1;
                "peer changed without a reset"
            }
            PeerChange::Unchanged => continue,
        };
        tracing::info!(peer = %addr, name = %name(addr), "{what}");
    }
    let unchanged = new.peers.len().saturating_sub(added + reset + changed);
    tracing::info!(
        added,
        removed,
        reset,
        changed,
        unchanged,
        originated = report.originated,
        withdrawn = report.withdrawn,
        decision_changed = report.decision_changed,
        "configuration reloaded"
    );
}
