//! `calico-bgpd`: the daemon's command line.
//!
//! - `calico-bgpd --config FILE.toml` runs bgp-speaker as a plain BGP
//!   daemon from a TOML file ([`daemon`]): SIGHUP reloads the file,
//!   SIGTERM and SIGINT stop it with Cease / Administrative Shutdown to
//!   every peer. `--check` only validates the file.
//! - With a `[calico]` table in the file, the same command runs Calico
//!   mode ([`calico_mode`]): the node's sessions, routes and kernel routes
//!   from Calico's resources, in place of confd, BIRD and BIRD6.
//! - `calico-bgpd demo` starts a small topology of speakers on loopback
//!   addresses in this one process, prints each one's sessions and
//!   Loc-RIB once converged, and exits ([`demo`]).
//! - `calico-bgpd health --bird-ready` (`--bird6-ready`, `--bird-live`,
//!   `--bird6-live`) runs calico-node's BIRD health checks over the
//!   control sockets and exits 0 or 1 as calico-node does ([`health`]).
//!
//! Logs go to stderr through `tracing`, filtered by `RUST_LOG` (default
//! `info` for the daemon, `warn` for the demo).

mod calico_mode;
mod daemon;
mod demo;
mod fib_section;
mod health;
mod show;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// The command line.
#[derive(Debug, Parser)]
#[command(
    name = "calico-bgpd",
    version,
    about = "A BGP daemon built on bgp-speaker",
    long_about = "A BGP daemon built on bgp-speaker.\n\n\
        With --config, runs as a plain BGP daemon from a TOML file (router ID, AS, \
        listen addresses, peers, originated routes, policies): SIGHUP reloads the file \
        without resetting the sessions whose settings did not change, SIGTERM or SIGINT \
        closes every session with Cease / Administrative Shutdown and exits. \
        A file that does not parse is reported with its line and key; on reload, \
        the running configuration stays.\n\n\
        With a [calico] table in the file, runs in Calico mode instead: the node's \
        sessions, routes and kernel routes computed from Calico's resources (BGPConfiguration, \
        BGPPeer, BGPFilter, Node, IPPool, block affinities) in a directory, in place of \
        confd, BIRD and BIRD6, with BIRD-compatible control sockets for calico-node's \
        health checks.\n\n\
        `calico-bgpd demo` runs a small topology on loopback addresses and prints it.\n\n\
        Logs go to stderr; RUST_LOG filters them (for example RUST_LOG=debug).",
    args_conflicts_with_subcommands = true,
    arg_required_else_help = true
)]
struct Cli {
    /// Run as a BGP daemon from this TOML configuration file.
    #[arg(short, long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Only check the configuration file, print a summary and exit (0 if
    /// it is valid, 1 if not).
    #[arg(long, requires = "config")]
    check: bool,
    /// What to run instead of the daemon.
    #[command(subcommand)]
    command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Run a demo topology on loopback addresses, print it and exit.
    #[command(long_about = demo::LONG_ABOUT)]
    Demo(demo::DemoArgs),
    /// Run calico-node's BIRD health checks over the control sockets.
    #[command(long_about = health::LONG_ABOUT)]
    Health(health::HealthArgs),
}

fn init_logs(default: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // A second initialisation (none happens) would only be refused.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("calico-bgpd")
        .build()
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match (cli.command, cli.config) {
        (Some(Command::Demo(args)), _) => {
            init_logs("warn");
            run(|rt| rt.block_on(demo::run(args)))
        }
        (Some(Command::Health(args)), _) => run(|rt| rt.block_on(health::run(args))),
        (None, Some(path)) => {
            // A file that cannot be read is the general mode's to report.
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let calico = calico_bgpd::node::config::is_calico_mode(&text);
            match (calico, cli.check) {
                (true, true) => calico_mode::check(&path, &text),
                (true, false) => {
                    init_logs("info");
                    run(|rt| rt.block_on(calico_mode::run(&path, &text)))
                }
                (false, true) => daemon::check(&path),
                (false, false) => {
                    init_logs("info");
                    run(|rt| rt.block_on(daemon::run(path)))
                }
            }
        }
        (None, None) => {
            // arg_required_else_help covers no arguments at all; this is
            // `calico-bgpd --check` without --config, which clap refuses
            // too. Kept for completeness.
            eprintln!("calico-bgpd: give --config FILE or a subcommand (see --help)");
            ExitCode::from(2)
        }
    }
}

/// Runs `f` on a fresh multi-thread runtime, reporting a runtime that
/// cannot start.
fn run(f: impl FnOnce(&tokio::runtime::Runtime) -> ExitCode) -> ExitCode {
    match runtime() {
        Ok(rt) => f(&rt),
        Err(e) => {
            eprintln!("calico-bgpd: cannot start the tokio runtime: {e}");
            ExitCode::FAILURE
        }
    }
}
