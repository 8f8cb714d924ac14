//! The per-peer BGP session state machine of RFC 4271 section 8.
//!
//! Not written yet: this crate is a placeholder in the workspace so that the
//! layering is visible from the folder tree (see `docs/ARCHITECTURE.md`).
