//! Unit tests of each decision step and knob (filled in below).
