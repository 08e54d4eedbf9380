//! Step 07's metrics and logs, as a real OTLP receiver gets them over OTLP/HTTP:
//! `cargo test -p solution-07-metrics-logs --test signals`.
//!
//! Each test runs the app the way `./run.sh check 07` does (`checker::run::run`: a receiver on
//! loopback, a proxy that sees the sub-requests, `/fib?index=5` then `/fib?index=abc`, SIGTERM),
//! and asserts what the checker only judges in general: the exact names, units and kinds, the
//! counts per attribute, and which span each log record belongs to. The checker's own verdict
//! on this step is `tests/telemetry.rs`.

use std::collections::BTreeMap;
use std::path::Path;

use checker::run::{Protocol, Run, Scenario, Sink};
use receiver::metrics::{MetricKind, Temporality};
use receiver::{ReceivedMetric, ReceivedSpan, SpanKind, Value};

const BINARY: &str = env!("CARGO_BIN_EXE_solution-07-metrics-logs");

/// OTLP's severity numbers: INFO 9, WARN 13, ERROR 17.
const INFO: i32 = 9;
const WARN: i32 = 13;
const ERROR: i32 = 17;

/// The buckets the HTTP semantic conventions advise for `http.server.request.duration`.
const ADVISED_BOUNDARIES: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

async fn run(protocol: Protocol, scenario: Scenario, env: &[(&str, &str)]) -> Run {
    checker::run::run(Path::new(BINARY), Sink::Otlp(protocol), scenario, env)
        .await
        .unwrap_or_else(|err| panic!("{BINARY} could not be run: {err:#}"))
}

/// The last export of the metric `name`: cumulative, it holds the totals.
fn metric<'a>(run: &'a Run, name: &str) -> &'a ReceivedMetric {
    let names: Vec<&str> = run.metrics.iter().map(|m| m.name.as_str()).collect();
    run.metrics
        .iter()
        .rev()
        .find(|metric| metric.name == name)
        .unwrap_or_else(|| panic!("no {name} among {names:?}\n{}", run.output))
}

/// The app's server span that answered `status`.
fn server_span(run: &Run, status: i64) -> &ReceivedSpan {
    run.spans
        .iter()
        .find(|span| {
            span.kind == SpanKind::Server
                && span
                    .attribute("http.response.status_code")
                    .and_then(Value::as_i64)
                    == Some(status)
        })
        .unwrap_or_else(|| panic!("no server span answered {status}"))
}

/// How many requests the app served for each index, as the proxy saw them (and the first one).
fn requests_by_index(run: &Run) -> BTreeMap<i64, u64> {
    let mut counts = BTreeMap::from([(5, 1)]);
    for sub in &run.sub_requests {
        let index = sub.path.trim_start_matches("/fib?index=").parse().unwrap();
        *counts.entry(index).or_default() += 1;
    }
    counts
}

/// Everything a run over `protocol` must have delivered.
fn assert_signals(run: &Run, protocol: Protocol) {
    assert_eq!(
        run.answer("/fib?index=5").unwrap().result,
        Ok((200, "5\n".into()))
    );
    assert!(run.stopped_cleanly(), "{}", run.output);

    // The duration of every request, in seconds, by the conventions' attributes.
    let duration = metric(run, "http.server.request.duration");
    assert_eq!(
        (duration.kind, duration.unit.as_str(), duration.temporality),
        (MetricKind::Histogram, "s", Temporality::Cumulative),
        "over {protocol:?}"
    );
    let ok = duration.point("http.response.status_code", 200).unwrap();
    let refused = duration.point("http.response.status_code", 400).unwrap();
    let counted = |point: &receiver::metrics::MetricPoint| point.histogram().unwrap().count;
    assert_eq!(
        counted(ok),
        run.fib5_requests() as u64,
        "/fib?index=5 and its sub-requests"
    );
    assert_eq!(counted(refused), 1, "/fib?index=abc");
    assert_eq!(duration.points.len(), 2, "{:?}", duration.points);
    for point in [ok, refused] {
        assert_eq!(point.histogram().unwrap().bounds, ADVISED_BOUNDARIES);
        for (key, value) in [
            ("http.request.method", "GET"),
            ("http.route", "/fib"),
            ("url.scheme", "http"),
        ] {
            assert_eq!(point.attribute(key), Some(&Value::from(value)), "{key}");
        }
        // Never the path or the query: one series per index would grow without bound.
        assert_eq!(point.attribute("url.query"), None);
        assert_eq!(point.attribute("error.type"), None);
    }

    // One call per request, by index.
    let calls = metric(run, "fib.calls");
    assert_eq!(
        (calls.kind, calls.unit.as_str()),
        (MetricKind::Sum { monotonic: true }, "{call}")
    );
    let by_index: BTreeMap<i64, u64> = calls
        .points
        .iter()
        .map(|point| {
            let index = point
                .attribute("fib.index")
                .and_then(Value::as_i64)
                .unwrap();
            (index, point.as_i64().unwrap() as u64)
        })
        .collect();
    assert_eq!(by_index, requests_by_index(run));

    // A log record per number computed, each in the `fib` span that computed it.
    let fib_spans: BTreeMap<(&str, &str), &ReceivedSpan> = run
        .spans
        .iter()
        .filter(|span| span.name == "fib")
        .map(|span| ((span.trace_id.as_str(), span.span_id.as_str()), span))
        .collect();
    let computed: Vec<_> = run
        .logs
        .iter()
        .filter(|r| r.severity_number == INFO)
        .collect();
    assert_eq!(
        computed.len(),
        4,
        "F(5), F(4), F(3) and F(2): {computed:#?}"
    );
    let big_trace = &server_span(run, 200).trace_id;
    for record in &computed {
        let index = record
            .attribute("fib.index")
            .and_then(Value::as_i64)
            .unwrap();
        assert_eq!(
            record.attribute("fib.result").and_then(Value::as_i64),
            Some(sequence::fib_iterative(index as u32) as i64)
        );
        assert_eq!(&record.trace_id, big_trace, "one trace for the whole click");
        let span = fib_spans
            .get(&(record.trace_id.as_str(), record.span_id.as_str()))
            .unwrap_or_else(|| panic!("{record:#?} names no `fib` span"));
        assert_eq!(
            span.attribute("fib.index").and_then(Value::as_i64),
            Some(index)
        );
    }

    // A warning for the bad index, in the server span that answered 400.
    let refused_span = server_span(run, 400);
    let warnings: Vec<_> = run
        .logs
        .iter()
        .filter(|r| r.severity_number == WARN)
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert_eq!(
        (&warnings[0].trace_id, &warnings[0].span_id),
        (&refused_span.trace_id, &refused_span.span_id)
    );
    assert_eq!(run.logs.len(), computed.len() + warnings.len());

    // One resource, and only the app's own events.
    for record in &run.logs {
        assert!(
            record.scope_name.starts_with("solution_07_metrics_logs::"),
            "{record:#?}"
        );
        assert_eq!(record.service_name(), Some("fib"));
    }
    assert!(run.metrics.iter().all(|m| m.service_name() == Some("fib")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_logs_arrive_over_http_with_their_names_units_counts_and_trace_ids() {
    let run = run(Protocol::HttpProtobuf, Scenario::Normal, &[]).await;
    assert_signals(&run, Protocol::HttpProtobuf);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asked_for_grpc_the_http_only_app_still_sends_http_and_says_it_cannot() {
    // gRPC is the checker's bonus, which the solution leaves out: its exporters are built for
    // HTTP/protobuf in code, which wins over OTEL_EXPORTER_OTLP_PROTOCOL=grpc. Sent to the
    // receiver's gRPC port, HTTP is refused there, and the app says so, once.
    let run = run(Protocol::Grpc, Scenario::Normal, &[]).await;
    assert!(run.spans.is_empty() && run.metrics.is_empty() && run.logs.is_empty());
    assert!(!run.rejected.is_empty(), "{:#?}", run.requests);
    assert_eq!(
        run.output.matches("could not send").count(),
        1,
        "{}",
        run.output
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_sub_request_is_an_error_record_in_its_trace_and_an_error_type_on_the_metric() {
    let run = run(Protocol::HttpProtobuf, Scenario::UpstreamDown, &[]).await;
    assert_eq!(
        run.answer("/fib?index=3")
            .unwrap()
            .result
            .as_ref()
            .unwrap()
            .0,
        502
    );
    let failed = server_span(&run, 502);
    let errors: Vec<_> = run
        .logs
        .iter()
        .filter(|r| r.severity_number == ERROR)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(
        (&errors[0].trace_id, &errors[0].span_id),
        (&failed.trace_id, &failed.span_id)
    );
    let duration = metric(&run, "http.server.request.duration");
    let point = duration.point("http.response.status_code", 502).unwrap();
    assert_eq!(point.attribute("error.type"), Some(&Value::from("502")));
    assert_eq!(point.histogram().unwrap().count, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_their_exporters_set_to_none_metrics_and_logs_stay_home_and_spans_still_go() {
    let env = [
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_LOGS_EXPORTER", "none"),
    ];
    let run = run(Protocol::HttpProtobuf, Scenario::Normal, &env).await;
    assert!(run.stopped_cleanly(), "{}", run.output);
    assert_eq!(run.server_spans().len(), run.fib5_requests() + 1);
    assert!(run.metrics.is_empty(), "{:?}", run.metrics);
    assert!(run.logs.is_empty(), "{:?}", run.logs);
}
