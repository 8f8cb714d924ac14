//! Adj-RIB-In, Loc-RIB with best-path selection, route reflection and Adj-RIB-Out.
//!
//! Not written yet: this crate is a placeholder in the workspace so that the
//! layering is visible from the folder tree (see `docs/ARCHITECTURE.md`).
