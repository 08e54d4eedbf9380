//! # `testkit`: the functional tests every workshop step shares
//!
//! Each step's crate is tested from the outside, as a learner uses it: its binary is started on
//! a free port, asked for `/fib` over HTTP, sent SIGTERM, and watched. Nothing here knows how a
//! step is written, so the same tests hold for step 00 and for every exercise and solution after
//! it. A step's `tests/functional.rs` is one line:
//!
//! ```text
//! testkit::functional_tests!(env!("CARGO_BIN_EXE_exercise-00-app"));
//! ```
//!
//! - [`app`]: start a step's binary and talk to it;
//! - [`proxy`]: a counting proxy between the app and itself, proof that the recursion is HTTP;
//! - [`functional`]: the tests themselves, and the [`functional_tests!`] macro that names them;
//! - [`browser`]: the page in headless Chromium.

pub mod app;
pub mod browser;
pub mod functional;
pub mod proxy;

pub use app::App;
pub use proxy::CountingProxy;

/// `true` when running in CI (`CI=true`): tests that need an outside tool fail instead of skipping.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true" || value == "1")
}

/// Declares the shared functional tests for one step binary, as `#[tokio::test]` functions.
#[macro_export]
macro_rules! functional_tests {
    ($binary:expr) => {
        $crate::functional_tests!(@tests $binary;
            fib_answers_every_index_up_to_the_cap_with_the_iterative_value,
            fib_of_5_makes_15_requests_over_http_5_of_them_for_index_1,
            bad_indexes_get_400_naming_the_range_and_make_no_sub_request,
            an_unreachable_upstream_gets_502_with_a_message_at_once,
            a_silent_upstream_gets_502_within_the_timeout,
            fifty_concurrent_fib_of_10_all_succeed,
            sigterm_lets_requests_in_flight_finish_then_exits_0,
            the_page_has_go_and_stop_and_its_assets,
            in_chromium_go_shows_the_sequence_and_stop_stops_it,
        );
    };
    (@tests $binary:expr; $($name:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $crate::functional::$name($binary).await;
            }
        )+
    };
}
