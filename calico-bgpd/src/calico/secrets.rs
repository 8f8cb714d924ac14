//! BGP passwords from Kubernetes Secrets, read from a mounted directory.
//!
//! # Layout
//!
//! `<secrets dir>/<namespace>/<secret name>/<key>`: one file per key, its
//! whole contents (bytes as they are, no newline stripped) the value. This
//! is what a Secret volume gives when each Secret is mounted at
//! `<secrets dir>/<namespace>/<name>` (Kubernetes writes one file per key).
//! The namespace is calico-node's (`NAMESPACE`, `kube-system` by default).
//!
//! A missing file, or no directory configured, leaves the session without a
//! password and gives a warning, as confd does when it cannot read the
//! Secret.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Serialize, Serializer};

use super::resources::SecretKeyRef;

/// A password, with where it came from. Its value is never printed:
/// [`fmt::Debug`] and serde show the source and the length only.
#[derive(Clone, PartialEq, Eq)]
pub struct Password {
    /// `namespace/secret/key`.
    pub source: String,
    /// The value.
    pub value: String,
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Password({}, {} bytes)", self.source, self.value.len())
    }
}

impl Serialize for Password {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!(
            "secret {} ({} bytes)",
            self.source,
            self.value.len()
        ))
    }
}

/// Where Secrets are read from.
pub trait SecretSource {
    /// The value of a key, or why there is none.
    fn get(&self, namespace: &str, r: &SecretKeyRef) -> Result<String, String>;
}

/// Secrets in a directory (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct SecretsDir {
    /// The directory.
    pub root: PathBuf,
}

impl SecretsDir {
    /// Secrets under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        SecretsDir { root: root.into() }
    }
}

fn safe_component(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains('/') && !s.contains('\0')
}

impl SecretSource for SecretsDir {
    fn get(&self, namespace: &str, r: &SecretKeyRef) -> Result<String, String> {
        for part in [namespace, r.name.as_str(), r.key.as_str()] {
            if !safe_component(part) {
                return Err(format!("{part:?} cannot be a path component"));
            }
        }
        let path: PathBuf = [
            self.root.as_path(),
            Path::new(namespace),
            Path::new(&r.name),
            Path::new(&r.key),
        ]
        .iter()
        .collect();
        // The error names the file under the directory, not the
        // directory's own path (plans do not depend on where it is).
        let shown = format!("{namespace}/{}/{}", r.name, r.key);
        std::fs::read(&path)
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    format!("no file {shown} in the secrets directory")
                }
                _ => format!("{shown} in the secrets directory: {e}"),
            })
            .and_then(|b| {
                String::from_utf8(b)
                    .map_err(|_| format!("{shown} in the secrets directory is not UTF-8"))
            })
    }
}

/// No Secrets at all (no directory configured).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSecrets;

impl SecretSource for NoSecrets {
    fn get(&self, _namespace: &str, _r: &SecretKeyRef) -> Result<String, String> {
        Err("no secrets directory is configured".to_string())
    }
}

/// Resolves a reference; a failure is a warning and no password.
pub(crate) fn resolve(
    source: &dyn SecretSource,
    namespace: &str,
    r: &SecretKeyRef,
    what: &str,
    warnings: &mut Vec<String>,
) -> Option<Password> {
    match source.get(namespace, r) {
        Ok(value) => Some(Password {
            source: format!("{namespace}/{}/{}", r.name, r.key),
            value,
        }),
        Err(e) => {
            warnings.push(format!(
                "can't read the password of {what} (secret {namespace}/{} key {}): {e}; no password used",
                r.name, r.key
            ));
            None
        }
    }
}
