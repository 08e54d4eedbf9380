//! Step 01's telemetry, checked on what a real OTLP receiver gets: `cargo test -p solution-01-stdout`.
//! The expectations are shared by every step; see `services/testkit/src/telemetry.rs`.

testkit::telemetry_tests!(1, env!("CARGO_BIN_EXE_solution-01-stdout"), solved);
