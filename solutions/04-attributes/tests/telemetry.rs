//! Step 04's telemetry, checked on what a real OTLP receiver gets: `cargo test -p solution-04-attributes`.
//! The expectations are shared by every step; see `services/testkit/src/telemetry.rs`.

testkit::telemetry_tests!(4, env!("CARGO_BIN_EXE_solution-04-attributes"), solved);
