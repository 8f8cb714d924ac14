//! Tests of whole policies: evaluation, chains, copy on write, the serde
//! form.
