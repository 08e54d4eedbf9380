//! Step 06's expectations: the slowness fixed, proven with the app's own data.
//!
//! Two measures, from one run of the app ([`crate::growth`]):
//! - **spans**: the trace of a first `/fib?index=10` has 353 server and client spans while every
//!   number is asked for again (c(10) = 177 requests); remembered, each index costs about one
//!   request: the bound is [`SPANS_PER_INDEX`] spans per index, linear;
//! - **latency**: the P99 of `/fib?index=12` against that of `/fib?index=6`. Asked for again, the
//!   larger makes 19 times the requests, and its P99 follows. Remembered, both are answered
//!   from what is known. Latencies under [`NOISE_FLOOR`] are taken as equal: at that scale a
//!   busy machine's hiccup, not the app, decides the ratio.

use std::time::Duration;

use super::{AppMistake, Evidence, Expectation, Judge, fail};
use crate::growth::{COLD_INDEX, Growth, LARGE_INDEX, SMALL_INDEX};

/// The most server and client spans per index that still counts as linear: a request and its
/// client span per index, and room for a lookup over HTTP.
pub const SPANS_PER_INDEX: usize = 4;

/// How much larger the P99 of the large index may be and still not be exponential growth.
pub const MAX_RATIO: f64 = 4.0;

/// Latencies below this are not told apart (see the module's doc).
pub const NOISE_FLOOR: Duration = Duration::from_millis(10);

/// What goes wrong in step 06.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mistake {
    /// No trace of the first `/fib?index=10` arrived.
    NoColdTrace,
    /// The first `/fib?index=10` still asks for numbers again and again.
    StillExponential { spans: usize },
    /// The P99 still grows with the index as the request count does.
    LatencyGrowsExponentially,
}

impl Mistake {
    pub fn hint(&self) -> String {
        match self {
            Mistake::NoColdTrace => "No trace of /fib?index=10 arrived, so its spans cannot be counted. Its root \
                server span needs `url.query` (step 04), and the app must flush when it stops (step 02)."
                .into(),
            Mistake::StillExponential { spans } => format!(
                "A first /fib?index=10 made {spans} spans: the same numbers are still asked for again and again. \
                 Each number should cost its requests once: kept once it is known, where every request finds \
                 it, looked up before any request, and asked for so that the second of the two is known by \
                 then."
            ),
            Mistake::LatencyGrowsExponentially => "The P99 still grows with the index as fast as the number of \
                requests does. Once a number is known, asking for it again should cost no request at all: look \
                it up before making one."
                .into(),
        }
    }
}

pub(super) fn expect(judge: &mut Judge, evidence: &Evidence) {
    let Some(growth) = &evidence.growth else {
        return;
    };
    let answered = judge.expect(
        6,
        &format!("a first /fib?index={COLD_INDEX} is answered with 55"),
        match &growth.cold_answer {
            Ok((200, body)) if body.trim() == "55" => Ok(()),
            Ok((status, body)) => fail(format!("{status}: {}", body.trim()), AppMistake::Broken),
            Err(err) => fail(err.clone(), AppMistake::Broken),
        },
    );
    judge.within(|judge| {
        judge.require(answered);
        // The figures go into the expectation itself: a learner who passes wants to see them too.
        let bound = SPANS_PER_INDEX * (COLD_INDEX as usize + 1);
        judge.expect(
            6,
            &format!(
                "a first /fib?index={COLD_INDEX} makes {} server and client spans: at most {bound}, linear in the index (353 before)",
                growth.cold_http_spans()
            ),
            cold_spans(growth, bound),
        );
        let (result, measured) = latency(growth);
        judge.expect(
            6,
            &format!(
                "the P99 of /fib?index={LARGE_INDEX} is under {MAX_RATIO}× that of /fib?index={SMALL_INDEX} (about 19× before){measured}"
            ),
            result,
        );
    });
}

fn cold_spans(growth: &Growth, bound: usize) -> Expectation {
    let spans = growth.cold_http_spans();
    if spans == 0 {
        return fail(
            format!(
                "no trace of /fib?index={COLD_INDEX} arrived ({} sub-requests made)",
                growth.cold_sub_requests
            ),
            Mistake::NoColdTrace,
        );
    }
    if spans > bound {
        return fail(
            format!(
                "{spans} spans, for {} sub-requests",
                growth.cold_sub_requests
            ),
            Mistake::StillExponential { spans },
        );
    }
    Ok(())
}

/// The judgement, and the figures for the expectation's line.
fn latency(growth: &Growth) -> (Expectation, String) {
    let (Some(small), Some(large)) = (growth.p99(SMALL_INDEX), growth.p99(LARGE_INDEX)) else {
        return (
            fail("some requests failed", AppMistake::Broken),
            String::new(),
        );
    };
    let ratio = large.max(NOISE_FLOOR).as_secs_f64() / small.max(NOISE_FLOOR).as_secs_f64();
    let found = format!(
        "{:.1} ms for index {LARGE_INDEX}, {:.1} ms for index {SMALL_INDEX}",
        large.as_secs_f64() * 1e3,
        small.as_secs_f64() * 1e3
    );
    let result = if ratio < MAX_RATIO {
        Ok(())
    } else {
        fail(format!("×{ratio:.1}"), Mistake::LatencyGrowsExponentially)
    };
    (result, format!(": {found}"))
}
