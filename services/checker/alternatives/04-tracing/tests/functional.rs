//! What the app does, tested from outside by running its binary: the `tracing` instrumentation
//! leaves it working as before. `cargo test -p alternative-04-tracing`; the tests are shared by
//! every step, see `services/testkit/src/functional.rs`.

testkit::functional_tests!(env!("CARGO_BIN_EXE_alternative-04-tracing"));
