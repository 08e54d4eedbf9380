//! What the app does, tested from outside by running its binary: `cargo test -p exercise-08-sampling`.
//! The tests themselves are shared by every step; see `services/testkit/src/functional.rs`.

testkit::functional_tests!(env!("CARGO_BIN_EXE_exercise-08-sampling"), memoised);
