//! Tests of the control socket against a fixture [`StatusSource`]: the reply
//! framing, the commands (and `9001 syntax error` for the rest), and each
//! answer as text. The expected texts are BIRD 1.6's formats (its `printf`
//! strings, applied by hand to the fixture's values), not this crate's
//! output pasted back; where this crate differs from BIRD on purpose the
//! module doc says so.

mod fixture;
mod framing;
mod replies;
mod socket;
