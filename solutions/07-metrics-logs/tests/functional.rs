//! What the app does, tested from outside by running its binary: `cargo test -p solution-07-metrics-logs`.
//! The tests themselves are shared by every step; see `services/testkit/src/functional.rs`.

testkit::functional_tests!(env!("CARGO_BIN_EXE_solution-07-metrics-logs"), memoised);
