//! Noticing that the resource, secrets or endpoint status directories
//! changed: inotify events (the `notify` crate), and, as a safety net for
//! file systems that send none (some network mounts) or a directory that
//! does not exist yet, a check every `poll_interval` seconds of a
//! fingerprint of the files (names, sizes, modification times). A burst of
//! changes (a ConfigMap update swaps a symbolic link and several files) is
//! waited out (`debounce_ms`) before the caller reads the directories.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use super::config::WatchSettings;

/// How deep the fingerprint looks (`<secrets>/<namespace>/<secret>/<key>`).
const DEPTH: usize = 3;
/// At most this many files are fingerprinted per directory.
const MAX_FILES: usize = 10_000;

type Fingerprint = Vec<(PathBuf, u64, Option<SystemTime>)>;

fn fingerprint(dirs: &[PathBuf]) -> Fingerprint {
    let mut out = Vec::new();
    for d in dirs {
        let mut todo = vec![(d.clone(), 0usize)];
        let mut n = 0usize;
        // Bounded: depth and file count.
        while let Some((dir, depth)) = todo.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                n += 1;
                if n > MAX_FILES {
                    break;
                }
                let p = e.path();
                // Follows symbolic links: a mounted ConfigMap's files are.
                let Ok(md) = std::fs::metadata(&p) else {
                    continue;
                };
                if md.is_dir() {
                    if depth < DEPTH {
                        todo.push((p, depth + 1));
                    }
                } else {
                    out.push((p, md.len(), md.modified().ok()));
                }
            }
        }
    }
    out.sort();
    out
}

/// Watches directories (see the [module documentation](self)).
pub struct DirWatch {
    dirs: Vec<PathBuf>,
    events: mpsc::Receiver<()>,
    // Kept alive for its events; none if inotify could not be used.
    _watcher: Option<notify::RecommendedWatcher>,
    last: Fingerprint,
    settings: WatchSettings,
}

impl std::fmt::Debug for DirWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirWatch")
            .field("dirs", &self.dirs)
            .field("inotify", &self._watcher.is_some())
            .finish()
    }
}

impl DirWatch {
    /// Watches `dirs` (each with its sub-directories).
    pub fn new(dirs: Vec<PathBuf>, settings: WatchSettings) -> DirWatch {
        let (tx, events) = mpsc::channel(1);
        let watcher = notify::recommended_watcher(move |r: notify::Result<notify::Event>| {
            // Access events (reads) are not changes.
            if r.is_ok_and(|e| !e.kind.is_access()) {
                // Full: a wake-up is pending already.
                let _ = tx.try_send(());
            }
        });
        let watcher = match watcher {
            Ok(mut w) => {
                for d in &dirs {
                    if let Err(e) = w.watch(d, RecursiveMode::Recursive) {
                        tracing::warn!(dir = %d.display(), "cannot watch the directory ({e}); checking it every {} s", settings.poll_interval);
                    }
                }
                Some(w)
            }
            Err(e) => {
                tracing::warn!(
                    "no inotify ({e}): the directories are checked every {} s",
                    settings.poll_interval
                );
                None
            }
        };
        let last = fingerprint(&dirs);
        DirWatch {
            dirs,
            events,
            _watcher: watcher,
            last,
            settings,
        }
    }

    /// Waits until something changed in the directories, and the burst of
    /// changes is over.
    pub async fn changed(&mut self) {
        let poll = Duration::from_secs(self.settings.poll_interval.max(1));
        loop {
            tokio::select! {
                Some(()) = self.events.recv() => break,
                () = tokio::time::sleep(poll), if self.settings.poll_interval > 0 => {
                    if fingerprint(&self.dirs) != self.last {
                        break;
                    }
                }
            }
        }
        let quiet = Duration::from_millis(self.settings.debounce_ms);
        // Bounded: each round waits `quiet`; a writer that never stops is
        // read after 50 rounds anyway.
        for _ in 0..50 {
            match tokio::time::timeout(quiet, self.events.recv()).await {
                Ok(Some(())) => continue,
                _ => break,
            }
        }
        self.last = fingerprint(&self.dirs);
    }

    /// The directories watched.
    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }
}

/// Whether `p` names a directory that exists.
pub fn is_dir(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_dir())
}
