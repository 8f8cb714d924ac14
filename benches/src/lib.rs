//! Benchmarks of the BGP stack; see `benches/README.md` for figures.
