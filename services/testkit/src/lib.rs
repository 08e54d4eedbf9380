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
//! - [`CountingProxy`]: the checker's proxy between the app and itself, which counts the
//!   requests: proof that the recursion is HTTP;
//! - [`functional`]: the tests themselves, and the [`functional_tests!`] macro that names them;
//! - [`browser`]: the page in headless Chromium;
//! - [`telemetry`]: what each step's telemetry must look like, asserted on what a real OTLP
//!   receiver got (or, for step 01, on what the app printed), and the [`telemetry_tests!`] macro;
//! - [`trace_links`]: from step 03, each answer names its trace (`traceresponse`) and the page
//!   links each number to it, followed in Chromium to the explorer's waterfall.

pub mod app;
pub mod browser;
pub mod functional;
pub mod telemetry;
pub mod tls;
pub mod trace_links;

pub use app::App;
pub use checker::upstream::Upstream as CountingProxy;

/// The kit's folder (where `run.sh` and the workspace's `Cargo.toml` are): what the checker and
/// `./run.sh` run in. Found from this crate's own place in it, two levels below.
pub fn kit_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("services/testkit is two levels below the kit")
        .to_path_buf()
}

/// `true` when running in CI (`CI=true`): tests that need an outside tool fail instead of skipping.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true" || value == "1")
}

/// Declares the shared functional tests for one step binary, as `#[tokio::test]` functions;
/// `memoised` for the steps from 06 on, which remember the numbers they computed.
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
            a_taken_port_is_said_plainly_without_a_backtrace_and_exits_1,
        );
    };
    // Step 06 on: numbers once known are remembered, so the counts of requests differ.
    ($binary:expr, memoised) => {
        $crate::functional_tests!(@tests $binary;
            fib_answers_every_index_up_to_the_cap_with_the_iterative_value,
            fib_of_5_asks_for_each_index_once_then_remembers,
            bad_indexes_get_400_naming_the_range_and_make_no_sub_request,
            an_unreachable_upstream_gets_502_with_a_message_at_once,
            a_silent_upstream_gets_502_within_the_timeout,
            fifty_concurrent_fib_of_10_all_succeed,
            sigterm_lets_remembering_requests_in_flight_finish_then_exits_0,
            the_page_has_go_and_stop_and_its_assets,
            in_chromium_go_shows_the_whole_sequence_up_to_the_cap,
            a_taken_port_is_said_plainly_without_a_backtrace_and_exits_1,
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

/// Declares the test that a step binary exports to an `https://` endpoint (through a TLS front
/// with a certificate made for the test): for steps 05 on, whose `Cargo.toml` turns on TLS
/// (`reqwest-rustls`); steps 01–04 build without it.
///
/// ```text
/// testkit::https_tests!(env!("CARGO_BIN_EXE_solution-05-hosted"));
/// ```
#[macro_export]
macro_rules! https_tests {
    ($binary:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn an_https_endpoint_works() {
            $crate::telemetry::https_endpoint_works($binary).await;
        }
    };
}

/// Declares the telemetry tests of one step binary: `solved` proves a solution right (it passes
/// its step's check, and more), `unsolved` proves an exercise not done yet (its check fails, and
/// says so).
///
/// ```text
/// testkit::telemetry_tests!(2, env!("CARGO_BIN_EXE_solution-02-otlp"), solved);
/// ```
#[macro_export]
macro_rules! telemetry_tests {
    (1, $binary:expr, solved) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn the_step_passes_its_check() {
            $crate::telemetry::assert_solved(1, $binary).await;
        }
    };
    ($step:literal, $binary:expr, solved) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn the_step_passes_its_check() {
            $crate::telemetry::assert_solved($step, $binary).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn every_span_of_every_answered_request_arrives_after_sigterm_under_load() {
            $crate::telemetry::every_span_arrives_after_sigterm($step, $binary).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn an_unreachable_collector_is_said_once_and_does_not_stall_shutdown() {
            $crate::telemetry::unreachable_collector_is_reported($step, $binary).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn from_step_03_each_answer_names_its_own_trace_rooted_at_the_request() {
            $crate::trace_links::answers_name_their_trace($step, $binary).await;
        }
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn in_chromium_each_number_links_to_its_trace_from_step_03() {
            $crate::trace_links::in_chromium_each_number_links_to_its_trace($step, $binary).await;
        }
    };
    ($step:literal, $binary:expr, unsolved) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn the_step_is_not_done_yet_and_its_check_says_so() {
            $crate::telemetry::assert_unsolved($step, $binary, env!("CARGO_MANIFEST_DIR")).await;
        }
    };
}
