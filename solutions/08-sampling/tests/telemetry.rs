//! Step 08's telemetry, checked on what a real OTLP receiver gets: `cargo test -p solution-08-sampling`.
//! The expectations are shared by every step; see `services/testkit/src/telemetry.rs`.

testkit::telemetry_tests!(8, env!("CARGO_BIN_EXE_solution-08-sampling"), solved);
testkit::https_tests!(env!("CARGO_BIN_EXE_solution-08-sampling"));
