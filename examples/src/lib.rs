//! Example programs for the BGP stack; each is an `[[example]]` of this
//! package. The library holds the parts worth testing on their own:
//!
//! - [`bgpdump`]: the `bgpdump -m` line format of MRT files, used by the
//!   `mrtdump` example.

pub mod bgpdump;
