//! The daemon's own `[fib]` table in the configuration file, beside
//! bgp-speaker's keys, and the hookup of the speaker's best paths to the
//! kernel through calico-bgpd's FIB programmer.
//!
//! ```toml
//! [fib]
//! enabled = true        # install learned best paths in the kernel (default false)
//! metric = 1024         # their metric (default 1024)
//! sync_after = 120      # seconds at most before stale routes of a previous run go
//! remove_on_exit = false  # delete our routes when stopping (default: keep them)
//! ```
//!
//! bgp-speaker's [`Config`](bgp_speaker::Config) takes no unknown key, so
//! the `[fib]` table is cut out of the text (its lines left blank, so that
//! the speaker's errors keep their line numbers) and read here, with errors
//! that name the line and the key too. Only the `[fib]` table form is read
//! (no `fib.enabled = ...` dotted key at the top level).

use std::time::Duration;

use bgp_speaker::{BestRoute, ConfigError, RouteSource, Speaker};
use calico_bgpd::fib::{self, FibConfig, FibProgrammer, RouteKind};
use serde::Deserialize;

/// `[fib]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct FibSection {
    /// Install the best paths learned from peers in the kernel's main
    /// table (protocol 12, `bird`), ECMP as one multipath route.
    pub(crate) enabled: bool,
    /// The routes' metric.
    pub(crate) metric: u32,
    /// Seconds after start at most before our routes of a previous run
    /// that are no longer wanted are deleted (sooner: once every peer has
    /// been Established for a few seconds).
    pub(crate) sync_after: u64,
    /// Delete our routes when stopping; otherwise they stay for the next
    /// run to adopt.
    pub(crate) remove_on_exit: bool,
}

impl Default for FibSection {
    fn default() -> Self {
        FibSection {
            enabled: false,
            metric: FibConfig::default().metric,
            sync_after: 120,
            remove_on_exit: false,
        }
    }
}

/// How long every peer must have been Established before the previous
/// run's routes are given up (their initial tables are in by then).
const SETTLE: Duration = Duration::from_secs(3);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wrapper {
    fib: FibSection,
}

/// Splits `text` into bgp-speaker's part (the `[fib]` table's lines left
/// blank) and the `[fib]` section.
pub(crate) fn split(text: &str) -> Result<(String, FibSection), ConfigError> {
    let mut rest = String::with_capacity(text.len());
    let mut fib = String::new();
    // The line number (from 1) in `text` of each line of `fib`.
    let mut lines = Vec::new();
    let mut inside = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with('[') {
            let name = t
                .trim_start_matches('[')
                .split(']')
                .next()
                .unwrap_or_default()
                .trim();
            inside = name == "fib" && !t.starts_with("[[");
        }
        if inside {
            fib.push_str(line);
            fib.push('\n');
            lines.push(i + 1);
        } else {
            rest.push_str(line);
        }
        rest.push('\n');
    }
    if fib.is_empty() {
        return Ok((rest, FibSection::default()));
    }
    match toml::from_str::<Wrapper>(&fib) {
        Ok(w) => Ok((rest, w.fib)),
        Err(e) => {
            let at = e
                .span()
                .map(|s| fib.get(..s.start).unwrap_or_default().matches('\n').count());
            let line = at.and_then(|n| lines.get(n).copied());
            let key = at
                .and_then(|n| fib.lines().nth(n))
                .and_then(|l| l.split_once('='))
                .map(|(k, _)| format!("fib.{}", k.trim()))
                .or_else(|| Some("fib".into()));
            Err(ConfigError {
                line,
                column: None,
                key,
                message: e.message().trim().to_string(),
            })
        }
    }
}

/// What a best path becomes in the kernel: the ECMP next hops of a path
/// learned from a peer; nothing for a route this speaker originates.
fn kind_of(r: &BestRoute) -> RouteKind {
    match r.best.as_ref().map(|b| b.source) {
        Some(RouteSource::Peer(_)) => fib::feed::via_next_hops(r),
        _ => RouteKind::NotInstalled,
    }
}

/// The running hookup.
pub(crate) struct Fib {
    programmer: FibProgrammer,
    remove_on_exit: bool,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Fib {
    /// Starts the programmer (in this process's network namespace; needs
    /// CAP_NET_ADMIN).
    pub(crate) async fn start(section: &FibSection) -> Result<FibProgrammer, String> {
        let config = FibConfig {
            metric: section.metric,
            ..FibConfig::default()
        };
        FibProgrammer::start(config)
            .await
            .map_err(|e| format!("cannot start the FIB programmer (needs CAP_NET_ADMIN): {e}"))
    }

    /// Feeds `speaker`'s best paths to `programmer`, and marks both
    /// families synced once every peer has been Established for a moment,
    /// or after `sync_after` seconds.
    pub(crate) async fn follow(
        programmer: FibProgrammer,
        speaker: &Speaker,
        section: &FibSection,
    ) -> Result<Fib, String> {
        let mut sub = speaker
            .subscribe()
            .await
            .map_err(|e| format!("cannot subscribe to the best paths: {e}"))?;
        let feed = {
            let fib = programmer.clone();
            tokio::spawn(async move {
                match fib::feed::follow(&mut sub, &fib, kind_of).await {
                    Ok(n) => tracing::debug!(changes = n, "FIB feed ended"),
                    Err(e) => tracing::error!("FIB feed stopped: {e}"),
                }
            })
        };
        let sync = {
            let fib = programmer.clone();
            let speaker = speaker.clone();
            let limit = Duration::from_secs(section.sync_after);
            tokio::spawn(async move {
                let start = tokio::time::Instant::now();
                let mut up_since: Option<tokio::time::Instant> = None;
                loop {
                    let all_up = speaker
                        .peers()
                        .iter()
                        .all(|p| p.state == bgp_fsm::State::Established);
                    up_since = if all_up {
                        up_since.or(Some(tokio::time::Instant::now()))
                    } else {
                        None
                    };
                    let settled = up_since.is_some_and(|t| t.elapsed() >= SETTLE);
                    if settled || start.elapsed() >= limit {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                for f in [fib::Family::V4, fib::Family::V6] {
                    if let Err(e) = fib.mark_synced(f).await {
                        tracing::warn!("FIB: {e}");
                    }
                }
                tracing::info!("FIB synced: routes of a previous run that are not wanted go");
            })
        };
        Ok(Fib {
            programmer,
            remove_on_exit: section.remove_on_exit,
            tasks: vec![feed, sync],
        })
    }

    /// Stops feeding the kernel: what the speaker withdraws from now on
    /// (its sessions closing) stays in the kernel.
    pub(crate) fn detach(&mut self) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
    }

    /// Stops the programmer, removing our routes if so configured.
    pub(crate) async fn stop(mut self) {
        self.detach();
        match self.programmer.shutdown(self.remove_on_exit).await {
            Ok(s) => tracing::info!(
                v4 = s.v4.installed,
                v6 = s.v6.installed,
                removed = self.remove_on_exit,
                "FIB programmer stopped"
            ),
            Err(e) => tracing::warn!("FIB programmer: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_fib_table_is_cut_out_with_lines_kept() {
        let t = "router_id = \"192.0.2.1\"\n[fib]\nenabled = true\nmetric = 20\n\n[[peer]]\naddress = \"192.0.2.2\"\n";
        let (rest, f) = split(t).unwrap();
        assert!(f.enabled);
        assert_eq!(f.metric, 20);
        assert_eq!(rest.lines().count(), t.lines().count());
        assert!(!rest.contains("fib"));
        assert_eq!(rest.lines().nth(5), Some("[[peer]]"));
    }

    #[test]
    fn no_fib_table_is_the_default() {
        let (rest, f) = split("local_as = 1\n").unwrap();
        assert_eq!(f, FibSection::default());
        assert_eq!(rest, "local_as = 1\n");
    }

    #[test]
    fn errors_name_the_line_and_key() {
        let t = "local_as = 1\n\n[fib]\nenabled = true\nmetrc = 3\n";
        let e = split(t).unwrap_err();
        assert_eq!(e.line, Some(5), "{e}");
        assert_eq!(e.key.as_deref(), Some("fib.metrc"), "{e}");
        let e = split("[fib]\nenabled = \"yes\"\n").unwrap_err();
        assert_eq!(e.line, Some(2), "{e}");
        assert_eq!(e.key.as_deref(), Some("fib.enabled"), "{e}");
    }
}
