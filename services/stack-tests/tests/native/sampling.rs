//! The tail-sampling overlay (`COLLECTOR_OVERLAY=sampling`, step 08): with every trace sent by
//! step 08's app (head sampling off), the Collector keeps every trace with an error and every
//! trace slower than 500 ms, whole, and about a quarter of the rest.
//!
//! The app remembers numbers (step 06 on), and asks its sub-requests through the kit's counting
//! proxy, which the test steers through three kinds of traffic:
//! 1. **errors**: before the proxy forwards anywhere, it answers `503`, so `/fib?index=4` fails
//!    with a `502` (the server span, the `fib` span and the client span in error); and
//!    `/fib?index=abc` gets `400` (its `fib` span in error);
//! 2. **slow**: the proxy forwards to the app after 600 ms, and `/fib?index=3`, `5`, … `19` each
//!    make one sub-request (N-1 is not known yet, N-2 is): traces of 600 ms and more;
//! 3. **ordinary**: [`ORDINARY`] requests for numbers already known, answered at once.
//!
//! `collector/sampling.yaml` waits 12 s (`decision_wait`) from a trace's first span before it
//! decides, so the test waits that long after its last request.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use checker::upstream::Upstream;

use stack_tests::JaegerTrace;

const ERRORS_502: usize = 5;
const ERRORS_400: usize = 5;
/// The slow traces: one per odd index from 3 to 19.
const SLOW_INDEXES: [u32; 9] = [3, 5, 7, 9, 11, 13, 15, 17, 19];
const SLOW_DELAY: Duration = Duration::from_millis(600);
/// The policy's threshold, in `collector/sampling.yaml`.
const THRESHOLD: Duration = Duration::from_millis(500);
/// Ordinary traces: fast, no error. The policy keeps 25 % of them by trace id, so the number kept
/// is binomial(200, 0.25): 50 on average, with a standard deviation of 6.1. [`KEPT_BOUNDS`] fail a
/// correct Collector with probability P(X < 25) + P(X > 80) = 4.9e-6, about once in 200,000
/// runs (`the_bounds_fail_a_correct_collector_less_than_once_in_100000` computes it).
const ORDINARY: usize = 200;
const KEPT_BOUNDS: (usize, usize) = (25, 80);
/// `decision_wait` in `collector/sampling.yaml`, and a margin for the app's batch (100 ms here)
/// and the processor's once-a-second tick.
const DECISION_WAIT: Duration = Duration::from_secs(12);
const MARGIN: Duration = Duration::from_secs(4);

/// The query (`index=4`, `index=abc`) of a trace's root server span.
fn root_query(trace: &JaegerTrace) -> String {
    trace
        .roots()
        .first()
        .and_then(|root| root.tags.get("url.query"))
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_and_slow_traces_are_kept_whole_and_a_quarter_of_the_rest() {
    let programs = stack_tests::programs_or_skip!();
    let stack = stack_tests::start(programs, "sampling", |settings| settings);
    let proxy = Upstream::start().await.expect("a proxy on loopback");
    let binary = stack_tests::binary("solution-08-sampling");
    let app = stack_tests::app(
        &binary,
        &stack.collector,
        "http/protobuf",
        &[("FIB_UPSTREAM_URL", &proxy.url), ("FIB_MAX_INDEX", "20")],
    )
    .await;
    let get = |query: String| {
        let app = &app;
        async move { app.get(&format!("/fib?{query}")).await }
    };

    // 1. Errors: the proxy forwards nowhere yet.
    for _ in 0..ERRORS_502 {
        assert_eq!(get("index=4".into()).await.0, 502);
    }
    for _ in 0..ERRORS_400 {
        assert_eq!(get("index=abc".into()).await.0, 400);
    }
    // 2. Slow: each index asks the proxy once, and waits 600 ms for it.
    proxy.forward_to(&app.url);
    proxy.delay(SLOW_DELAY);
    for index in SLOW_INDEXES {
        let (status, body) = get(format!("index={index}")).await;
        assert_eq!(
            (status, body.trim()),
            (200, sequence::fib_iterative(index).to_string().as_str())
        );
    }
    // 3. Ordinary: numbers already known.
    proxy.delay(Duration::ZERO);
    for request in 0..ORDINARY {
        let index = request as u32 % 20;
        assert_eq!(get(format!("index={index}")).await.0, 200);
    }
    let sent = Instant::now();

    // The decisions: once decision_wait has passed for the last trace, read what Jaeger kept.
    tokio::time::sleep(DECISION_WAIT + MARGIN).await;
    let expected_kept = ERRORS_502 + ERRORS_400 + SLOW_INDEXES.len();
    let traces = stack_tests::wait_for_traces(
        &stack.jaeger.query_url(),
        "fib",
        Duration::from_secs(20),
        |traces| traces.len() >= expected_kept + KEPT_BOUNDS.0,
    )
    .await;
    let waited = sent.elapsed();

    // The sub-requests the proxy saw, by trace: what each trace's spans must add up to.
    let mut sub_requests: BTreeMap<String, usize> = BTreeMap::new();
    for seen in proxy.seen() {
        *sub_requests
            .entry(seen.trace_id().unwrap_or_default().to_string())
            .or_default() += 1;
    }

    let mut by_kind: BTreeMap<&str, Vec<&JaegerTrace>> = BTreeMap::new();
    for trace in &traces {
        let query = root_query(trace);
        let is_slow_index = SLOW_INDEXES.iter().any(|i| query == format!("index={i}"));
        let kind = if trace.has_error() {
            "error"
        } else if is_slow_index && trace.duration() >= SLOW_DELAY {
            "slow"
        } else {
            "ordinary"
        };
        by_kind.entry(kind).or_default().push(trace);

        // Whole: one root; a server span and a `fib` span per request that reached the app, and
        // a client span per sub-request it made (a 502's reached the proxy, not the app).
        let roots = trace.roots();
        assert_eq!(roots.len(), 1, "{query}: a trace in pieces: {trace:#?}");
        let asked = sub_requests
            .get(&trace.spans[0].trace_id)
            .copied()
            .unwrap_or(0);
        let reached = if kind == "error" { 0 } else { asked };
        assert_eq!(
            (
                trace.count("server"),
                trace.count("internal"),
                trace.count("client")
            ),
            (1 + reached, 1 + reached, asked),
            "{query}: not whole (server, fib, client spans) for {asked} sub-request(s): {trace:#?}"
        );
    }
    let count = |kind: &str| by_kind.get(kind).map_or(0, Vec::len);
    let output = stack.output();

    // Every error kept: the 502s and the 400s.
    assert_eq!(
        count("error"),
        ERRORS_502 + ERRORS_400,
        "read after {waited:?}\n{output}"
    );
    let queries: Vec<String> = by_kind["error"]
        .iter()
        .map(|trace| root_query(trace))
        .collect();
    assert_eq!(
        queries.iter().filter(|query| *query == "index=abc").count(),
        ERRORS_400,
        "{queries:?}"
    );
    // Every slow trace kept, each slower than the threshold.
    assert_eq!(
        count("slow"),
        SLOW_INDEXES.len(),
        "read after {waited:?}\n{output}"
    );
    assert!(
        by_kind["slow"]
            .iter()
            .all(|trace| trace.duration() >= THRESHOLD)
    );
    // About a quarter of the rest.
    let kept = count("ordinary");
    assert!(
        (KEPT_BOUNDS.0..=KEPT_BOUNDS.1).contains(&kept),
        "{kept} of {ORDINARY} ordinary traces kept; 25 % keeps {}..={} but for once in 200,000 runs",
        KEPT_BOUNDS.0,
        KEPT_BOUNDS.1
    );
}

#[test]
fn the_bounds_fail_a_correct_collector_less_than_once_in_100000() {
    // P(X = k) for X ~ binomial(200, 1/4), from the logarithms of the factorials.
    let ln_factorial = |n: usize| (1..=n).map(|k| (k as f64).ln()).sum::<f64>();
    let p: f64 = 0.25;
    let pmf = |k: usize| {
        (ln_factorial(ORDINARY) - ln_factorial(k) - ln_factorial(ORDINARY - k)
            + k as f64 * p.ln()
            + (ORDINARY - k) as f64 * (1.0 - p).ln())
        .exp()
    };
    let outside: f64 = (0..KEPT_BOUNDS.0)
        .chain(KEPT_BOUNDS.1 + 1..=ORDINARY)
        .map(pmf)
        .sum();
    assert!(outside < 1e-5, "P(outside the bounds) = {outside:e}");
    assert!(
        outside > 1e-6,
        "{outside:e}: the comment's figure is 4.9e-6"
    );
}
