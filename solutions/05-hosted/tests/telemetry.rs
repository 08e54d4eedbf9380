//! Step 05's telemetry, checked on what a real OTLP receiver gets: `cargo test -p solution-05-hosted`.
//! The expectations are shared by every step; see `services/testkit/src/telemetry.rs`.

testkit::telemetry_tests!(5, env!("CARGO_BIN_EXE_solution-05-hosted"), solved);
testkit::https_tests!(env!("CARGO_BIN_EXE_solution-05-hosted"));
