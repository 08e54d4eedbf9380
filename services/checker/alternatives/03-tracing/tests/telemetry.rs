//! Step 03's telemetry, made with `tracing`, checked as the solution's is:
//! `cargo test -p alternative-03-tracing`. The expectations are shared by every step and every
//! solution; see `services/testkit/src/telemetry.rs`.

testkit::telemetry_tests!(3, env!("CARGO_BIN_EXE_alternative-03-tracing"), solved);
