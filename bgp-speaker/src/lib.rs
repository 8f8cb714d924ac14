//! The embeddable BGP speaker: sessions and RIB tied together on tokio.
//!
//! Not written yet: this crate is a placeholder in the workspace so that the
//! layering is visible from the folder tree (see `docs/ARCHITECTURE.md`).
