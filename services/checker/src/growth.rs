//! Step 06's run: how the cost of `/fib?index=N` grows with N, measured on the app.
//!
//! In order:
//! 1. start a receiver, the proxy, and the app exporting to the receiver over OTLP/HTTP;
//! 2. ask for `/fib?index=10` once, first, so that nothing is known yet: its trace is the one
//!    whose spans are counted (353 while every number is asked for again, 177 server and 176
//!    client spans; about 2 per index once known numbers are remembered);
//! 3. ask for `/fib?index=6` and `/fib?index=12` in turns, [`ROUNDS`] times each, and time every
//!    answer: the P99 of each, as a learner would read it in the explorer;
//! 4. SIGTERM, so that every span is flushed.

use std::path::Path;
use std::time::{Duration, Instant};

use receiver::{ReceivedSpan, SpanKind};

use crate::run::{self, Protocol, STOP_TIMEOUT, Sink, Started, SubRequests};

/// The index whose first trace is counted.
pub const COLD_INDEX: u32 = 10;
/// The two indexes whose latencies are compared: with every number asked for again, the larger
/// makes c(12) / c(6) = 465 / 25 ≈ 19 times as many requests.
pub const SMALL_INDEX: u32 = 6;
pub const LARGE_INDEX: u32 = 12;
/// How many times each of them is asked.
pub const ROUNDS: usize = 10;

/// What the run saw.
#[derive(Debug, Clone)]
pub struct Growth {
    /// The answer to the first `/fib?index=10`, or what went wrong.
    pub cold_answer: Result<(u16, String), String>,
    /// The spans of that request's trace: those of the trace whose root asked for index 10.
    pub cold_trace: Vec<ReceivedSpan>,
    /// The sub-requests the proxy saw for it.
    pub cold_sub_requests: usize,
    /// Each timed request: its index and how long the answer took, or `None` if it failed.
    pub timings: Vec<(u32, Option<Duration>)>,
    /// Everything the app printed.
    pub output: String,
}

impl Growth {
    /// The server and client spans of the first `/fib?index=10`.
    pub fn cold_http_spans(&self) -> usize {
        self.cold_trace
            .iter()
            .filter(|span| matches!(span.kind, SpanKind::Server | SpanKind::Client))
            .count()
    }

    /// The P99 of the answers for `index` (nearest rank), or `None` if one failed.
    pub fn p99(&self, index: u32) -> Option<Duration> {
        let mut times: Vec<Duration> = self
            .timings
            .iter()
            .filter(|(i, _)| *i == index)
            .map(|(_, time)| *time)
            .collect::<Option<_>>()?;
        times.sort();
        let rank = (times.len() * 99).div_ceil(100);
        times.get(rank.checked_sub(1)?).copied()
    }
}

/// Runs `binary` as described above, with `extra_env` on top of what the checker sets.
pub async fn run(binary: &Path, extra_env: &[(&str, &str)]) -> anyhow::Result<Growth> {
    let Started {
        receiver,
        upstream,
        mut app,
        ..
    } = run::start(
        binary,
        Sink::Otlp(Protocol::HttpProtobuf),
        SubRequests::Proxied,
        extra_env,
    )
    .await?;

    let cold_answer = run::ask(&app, &format!("/fib?index={COLD_INDEX}"), None)
        .await
        .result;
    let cold_sub_requests = upstream.seen().len();
    let mut timings = Vec::new();
    for _ in 0..ROUNDS {
        for index in [SMALL_INDEX, LARGE_INDEX] {
            let started = Instant::now();
            let answer = run::ask(&app, &format!("/fib?index={index}"), None).await;
            let took = started.elapsed();
            timings.push((index, matches!(answer.result, Ok((200, _))).then_some(took)));
        }
    }

    app.terminate();
    app.wait(STOP_TIMEOUT).await;
    let query = format!("index={COLD_INDEX}");
    let cold_trace = receiver
        .traces()
        .into_values()
        .find(|spans| {
            spans.iter().any(|span| {
                span.is_root()
                    && span.kind == SpanKind::Server
                    && span.attribute("url.query").and_then(|v| v.as_str()) == Some(&query)
            })
        })
        .unwrap_or_default();
    Ok(Growth {
        cold_answer,
        cold_trace,
        cold_sub_requests,
        timings,
        output: app.output(),
    })
}
