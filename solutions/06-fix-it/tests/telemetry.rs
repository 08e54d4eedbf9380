//! Step 06's telemetry, checked on what a real OTLP receiver gets: `cargo test -p solution-06-fix-it`.
//! The expectations are shared by every step; see `services/testkit/src/telemetry.rs`.

testkit::telemetry_tests!(6, env!("CARGO_BIN_EXE_solution-06-fix-it"), solved);
testkit::https_tests!(env!("CARGO_BIN_EXE_solution-06-fix-it"));
