//! Calico mode: `calico-bgpd --config FILE.toml` where the file has a
//! `[calico]` table ([`calico_bgpd::node::config`]).
//!
//! The daemon takes the place of confd, BIRD and BIRD6 on a Calico node:
//! it reads the node's resources from a directory, runs the sessions
//! confd's templates would, programs the kernel as BIRD's kernel protocol
//! does and serves BIRD-compatible control sockets for calico-node's
//! health checks ([`calico_bgpd::node`]). SIGHUP reads the resources
//! again (they are watched too); SIGTERM and SIGINT stop it, by default
//! without NOTIFICATION so that peers keep its routes for the
//! graceful-restart time and the kernel keeps them, as BIRD does when
//! calico-node stops.

use std::path::Path;
use std::process::ExitCode;

use calico_bgpd::calico::loader::Reload;
use calico_bgpd::node::{self, Control, config::CalicoSection};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

/// Parses the `[calico]` table of `text`, read from `path`.
fn section(path: &Path, text: &str) -> Result<CalicoSection, String> {
    node::config::parse(text).map_err(|e| format!("{}: {e}", path.display()))
}

/// `--check` in Calico mode: the table, then the resources as they are
/// now; prints the sessions the node would run.
pub(crate) fn check(path: &Path, text: &str) -> ExitCode {
    let s = match section(path, text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("calico-bgpd: {e}");
            return ExitCode::FAILURE;
        }
    };
    match node::run::loader(&s).reload() {
        Reload::Applied { plan, warnings, .. } => {
            for w in warnings {
                eprintln!("calico-bgpd: warning: {w}");
            }
            for w in &plan.warnings {
                eprintln!("calico-bgpd: warning: {w}");
            }
            println!(
                "{}: valid (Calico mode): node {}, router ID {}, AS {}{}",
                path.display(),
                plan.node,
                plan.router_id,
                plan.local_as,
                plan.route_reflector_cluster_id
                    .map(|c| format!(", route reflector cluster {c}"))
                    .unwrap_or_default()
            );
            for (name, fam, on) in [("IPv4", &plan.ipv4, s.ipv4), ("IPv6", &plan.ipv6, s.ipv6)] {
                match fam {
                    Some(f) if on => {
                        let sessions: Vec<String> = f
                            .sessions
                            .iter()
                            .map(|x| format!("{} ({})", x.name, x.peer_address))
                            .collect();
                        println!(
                            "  {name}: address {}, {} session(s): {}",
                            f.address,
                            sessions.len(),
                            sessions.join(", ")
                        );
                    }
                    Some(_) => println!("  {name}: off in [calico]"),
                    None => println!("  {name}: disabled on this node"),
                }
            }
            ExitCode::SUCCESS
        }
        Reload::Rejected { error, .. } => {
            eprintln!(
                "calico-bgpd: {}: the resources in {} make no configuration: {error}",
                path.display(),
                s.resources.display()
            );
            ExitCode::FAILURE
        }
    }
}

/// Runs Calico mode until SIGTERM or SIGINT.
pub(crate) async fn run(path: &Path, text: &str) -> ExitCode {
    let s = match section(path, text) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("calico-bgpd: {e}");
            return ExitCode::FAILURE;
        }
    };
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
    tracing::info!(
        file = %path.display(),
        node = %s.node_name,
        resources = %s.resources.display(),
        "calico-bgpd starting in Calico mode"
    );
    let (tx, rx) = mpsc::channel(4);
    let mut daemon = tokio::spawn(node::run(s, rx));
    let result = loop {
        tokio::select! {
            r = &mut daemon => break r,
            _ = hup.recv() => { let _ = tx.send(Control::Reload).await; }
            _ = term.recv() => { let _ = tx.send(Control::Stop).await; }
            _ = int.recv() => { let _ = tx.send(Control::Stop).await; }
        }
    };
    match result {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            tracing::error!("{e}");
            eprintln!("calico-bgpd: {e}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("calico-bgpd: the daemon task failed: {e}");
            ExitCode::FAILURE
        }
    }
}
