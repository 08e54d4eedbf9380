//! Step 03's telemetry, checked on what a real OTLP receiver gets: `cargo test -p exercise-03-propagation`.
//! The expectations are shared by every step; see `services/testkit/src/telemetry.rs`.

testkit::telemetry_tests!(3, env!("CARGO_BIN_EXE_exercise-03-propagation"), unsolved);
