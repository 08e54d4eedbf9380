//! Step 02's telemetry, checked on what a real OTLP receiver gets: `cargo test -p solution-02-otlp`.
//! The expectations are shared by every step; see `services/testkit/src/telemetry.rs`.

testkit::telemetry_tests!(2, env!("CARGO_BIN_EXE_solution-02-otlp"), solved);
