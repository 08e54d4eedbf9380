//! Step 07's telemetry, checked on what a real OTLP receiver gets: `cargo test -p solution-07-metrics-logs`.
//! The expectations are shared by every step; see `services/testkit/src/telemetry.rs`.

testkit::telemetry_tests!(7, env!("CARGO_BIN_EXE_solution-07-metrics-logs"), solved);
testkit::https_tests!(env!("CARGO_BIN_EXE_solution-07-metrics-logs"));
