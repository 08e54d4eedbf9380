//! Step 05's telemetry, made with `tracing`, checked as the solution's is:
//! `cargo test -p alternative-05-tracing`. The expectations are shared by every step and every
//! solution; see `services/testkit/src/telemetry.rs`.

testkit::telemetry_tests!(5, env!("CARGO_BIN_EXE_alternative-05-tracing"), solved);
testkit::https_tests!(env!("CARGO_BIN_EXE_alternative-05-tracing"));
