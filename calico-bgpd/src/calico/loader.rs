//! Reading a directory of resource files, and keeping the running plan
//! when a new one cannot be made.
//!
//! Every regular file of the directory whose name ends in `.yaml`, `.yml`
//! or `.json` is read, in name order; names starting with `.` are skipped
//! (a mounted ConfigMap's `..data` links), symbolic links are followed,
//! sub-directories are not read. One bad document rejects the whole new
//! configuration: [`Loader::reload`] then keeps the plan in force and
//! returns the error, which names the file, the resource and the field.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::plan::{self, NodePlan, PlanError, Settings};
use super::resources::{LoadError, LoadWarning, ResourceSet, parse_documents};
use super::secrets::SecretSource;

/// Reads every resource file of a directory.
pub fn load_dir(dir: &Path) -> Result<(ResourceSet, Vec<LoadWarning>), LoadError> {
    let io_err = |file: &Path, e: std::io::Error| LoadError {
        file: file.to_path_buf(),
        document: 0,
        resource: None,
        field: None,
        message: e.to_string(),
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io_err(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.starts_with('.')
                && [".yaml", ".yml", ".json"].iter().any(|x| name.ends_with(x))
                && p.is_file()
        })
        .collect();
    files.sort();
    let mut set = ResourceSet::default();
    let mut warnings = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| io_err(&f, e))?;
        let (rs, w) = parse_documents(&f, &text)?;
        warnings.extend(w);
        for (r, o) in rs {
            set.insert(r, o)?;
        }
    }
    Ok((set, warnings))
}

/// Reads Felix's endpoint status files (every regular file of the
/// directory, JSON). A file that does not parse, or names no BGPPeer, is
/// skipped (with a warning for the first), as confd does.
pub fn load_endpoint_status(dir: &Path, set: &mut ResourceSet, warnings: &mut Vec<LoadWarning>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    for f in files {
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parsed = std::fs::read_to_string(&f)
            .map_err(|e| e.to_string())
            .and_then(|t| {
                serde_norway::from_str::<super::resources::LocalWorkload>(&t)
                    .map_err(|e| e.to_string())
            });
        match parsed {
            Ok(w) if !w.bgp_peer_name.is_empty() => {
                set.local_workloads.insert(name, w);
            }
            Ok(_) => {}
            Err(e) => warnings.push(LoadWarning {
                file: f.clone(),
                document: 1,
                resource: None,
                message: format!("endpoint status not read: {e}"),
            }),
        }
    }
}

/// Why a reload was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReloadError {
    /// A file or document is bad.
    #[error("{0}")]
    Load(#[from] LoadError),
    /// The resources make no plan for this node.
    #[error("{0}")]
    Plan(#[from] PlanError),
}

/// The outcome of a reload.
#[derive(Debug, Clone)]
pub enum Reload {
    /// A new plan is in force (`changed`: it differs from the previous one).
    Applied {
        /// The plan.
        plan: Arc<NodePlan>,
        /// Whether it differs from the one before.
        changed: bool,
        /// What was skipped while reading.
        warnings: Vec<LoadWarning>,
    },
    /// The new configuration was refused; the previous plan (if any) stays.
    Rejected {
        /// Why.
        error: ReloadError,
        /// The plan still in force.
        kept: Option<Arc<NodePlan>>,
    },
}

/// A node's configuration directory and its plan in force.
pub struct Loader {
    dir: PathBuf,
    settings: Settings,
    secrets: Box<dyn SecretSource + Send + Sync>,
    endpoint_status: Option<PathBuf>,
    current: Option<Arc<NodePlan>>,
}

impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loader")
            .field("dir", &self.dir)
            .field("settings", &self.settings)
            .field("current", &self.current.is_some())
            .finish()
    }
}

impl Loader {
    /// A loader with no plan yet.
    pub fn new(
        dir: impl Into<PathBuf>,
        settings: Settings,
        secrets: Box<dyn SecretSource + Send + Sync>,
    ) -> Self {
        Loader {
            dir: dir.into(),
            settings,
            secrets,
            endpoint_status: None,
            current: None,
        }
    }

    /// Also reads Felix's endpoint status files from `dir` (local workload
    /// peers).
    pub fn with_endpoint_status(mut self, dir: impl Into<PathBuf>) -> Self {
        self.endpoint_status = Some(dir.into());
        self
    }

    /// The plan in force.
    pub fn current(&self) -> Option<&Arc<NodePlan>> {
        self.current.as_ref()
    }

    /// Reads the directory again and computes the plan; on any error the
    /// plan in force stays.
    pub fn reload(&mut self) -> Reload {
        let made = load_dir(&self.dir)
            .map_err(ReloadError::from)
            .map(|(mut set, mut w)| {
                if let Some(d) = &self.endpoint_status {
                    load_endpoint_status(d, &mut set, &mut w);
                }
                (set, w)
            })
            .and_then(|(set, w)| {
                plan::compute(&set, &self.settings, self.secrets.as_ref())
                    .map(|p| (p, w))
                    .map_err(ReloadError::from)
            });
        match made {
            Ok((p, warnings)) => {
                let changed = self.current.as_deref() != Some(&p);
                let plan = if changed {
                    let p = Arc::new(p);
                    self.current = Some(p.clone());
                    p
                } else {
                    self.current.clone().unwrap_or_else(|| Arc::new(p))
                };
                Reload::Applied {
                    plan,
                    changed,
                    warnings,
                }
            }
            Err(error) => Reload::Rejected {
                error,
                kept: self.current.clone(),
            },
        }
    }
}
