//! Test support shared by the workspace's tests and benchmarks.

use std::path::PathBuf;

/// The shared corpus folder (`../shared/corpus` beside the checkout), or the
/// folder named by the `BGP_CORPUS` environment variable.
pub fn corpus_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("BGP_CORPUS") {
        return PathBuf::from(dir);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    root.join("..").join("..").join("shared").join("corpus")
}
