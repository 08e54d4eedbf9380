//! Benchmarks of the demo app; the code is in `benches/latency.rs`.
//!
//! Run with: `./run.sh bench`, which builds the app in release mode, runs `cargo bench -p bench`
//! against it, measures build times, and prints the summary that README.md quotes.
