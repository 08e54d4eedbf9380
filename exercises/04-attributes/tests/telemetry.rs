//! Step 04's telemetry, checked on what a real OTLP receiver gets: `cargo test -p exercise-04-attributes`.
//! The expectations are shared by every step; see `services/testkit/src/telemetry.rs`.

testkit::telemetry_tests!(4, env!("CARGO_BIN_EXE_exercise-04-attributes"), unsolved);
