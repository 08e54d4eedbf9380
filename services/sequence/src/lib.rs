//! # `sequence`: the shared parts of the "sequence of numbers" app
//!
//! Every workshop step is a small crate (`exercises/NN-*`, `solutions/NN-*`) holding only what a
//! learner reads and edits: the server, its handlers and, from step 01 on, `telemetry.rs`.
//! Everything they share and nobody edits during the workshop lives here, once:
//!
//! - [`config`]: the settings, from flags, environment variables and `.env`;
//! - [`index`]: reading `?index=N` strictly, with a one-line error that names the valid range;
//! - [`fatal`]: what `main` returns when the app cannot run: one clear message, no backtrace;
//! - [`error`]: the errors a `/fib` handler returns, as `400` and `502` responses;
//! - [`page`]: the page with **Go** and **Stop**, and its script and stylesheet (no CDN);
//! - [`known`]: the numbers computed so far, shared by every request (step 06's fix);
//! - [`net`]: binding the listener, with a plain message when the port is taken;
//! - [`shutdown`]: Ctrl-C and SIGTERM, letting requests in flight finish first;
//! - [`trace_link`]: which trace an answer is in (the `traceresponse` header), so that the page
//!   links each number to its trace from step 03 on;
//! - [`warnings`]: what the libraries have to say on the console, once and plainly (from step 02,
//!   that telemetry cannot be sent: the OpenTelemetry SDK says so no other way).
//!
//! The step crates are the interesting part; start reading at `exercises/00-app/src/main.rs`.

pub mod config;
pub mod error;
pub mod fatal;
pub mod index;
pub mod known;
pub mod net;
pub mod page;
pub mod shutdown;
pub mod trace_link;
pub mod warnings;

pub use config::Config;
pub use error::FibError;
pub use fatal::Fatal;
pub use known::Known;

/// F(n) computed the boring way, by iteration: the reference the app's answers are checked against.
///
/// `u64` holds every Fibonacci number up to F(93); the app caps the index far below that
/// ([`config::HARD_MAX_INDEX`]).
pub fn fib_iterative(n: u32) -> u64 {
    let (mut a, mut b) = (0u64, 1u64); // F(i), F(i+1)
    for _ in 0..n {
        // `b` runs one ahead and would overflow computing F(94), which is never returned.
        (a, b) = (b, a.saturating_add(b));
    }
    a
}

/// How many `/fib` requests the server handles for one `GET /fib?index=n`, counting that one:
/// c(n) = 1 + c(n-1) + c(n-2), and c(0) = c(1) = 1. It is 15 for index 5 and 177 for index 10.
pub fn requests_for(n: u32) -> u64 {
    let (mut c_prev, mut c) = (1u64, 1u64); // c(n-1), c(n) for n = 1
    if n == 0 {
        return 1;
    }
    for _ in 1..n {
        (c_prev, c) = (c, 1 + c + c_prev);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fib_iterative_starts_with_the_known_numbers() {
        let first: Vec<u64> = (0..12).map(fib_iterative).collect();
        assert_eq!(first, [0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]);
        assert_eq!(fib_iterative(93), 12_200_160_415_121_876_738);
    }

    #[test]
    fn requests_for_matches_the_workshop_numbers() {
        let counts: Vec<u64> = [0, 1, 2, 5, 8, 10, 12, 15, 20]
            .into_iter()
            .map(requests_for)
            .collect();
        assert_eq!(counts, [1, 1, 3, 15, 67, 177, 465, 1973, 21891]);
    }
}
