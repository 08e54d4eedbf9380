//! Metrics and logs from the Rust SDK's own OTLP exporters (opentelemetry-otlp's `MetricExporter`
//! and `LogExporter`, over HTTP/protobuf and gRPC) into an explorer on free loopback ports, as
//! step 07's app sends them: `cargo test -p explorer --test metrics_and_logs`.
//!
//! - metrics: a counter by `fib.index` and the histogram `http.server.request.duration` in
//!   seconds, exported twice (cumulative): `/api/metrics` holds each series' latest total, not
//!   the sum of the exports, with its unit, kind, count, sum, buckets and estimated percentiles;
//!   `/metrics` shows them;
//! - logs: records emitted inside spans (exported too) and outside any: `/api/logs` has their
//!   bodies, severities and the ids of their spans, and filters them; the trace page shows each
//!   record in its span's details, and a record of the trace whose span is not there under the
//!   waterfall; `/logs` links to the trace;
//! - bad input to `/logs` and `/api/logs` gets a 400 that says what was wrong.

use std::time::{Duration, Instant};

use explorer::{Explorer, Settings};
use opentelemetry::KeyValue;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{SpanId, TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry_otlp::{LogExporter, MetricExporter, Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::{Value as Json, json};

/// The service name on everything sent.
const SERVICE: &str = "fib";
/// Long enough for a loaded CI machine; the data is normally there when `shutdown` returns.
const ARRIVE_WITHIN: Duration = Duration::from_secs(10);

fn resource() -> Resource {
    Resource::builder().with_service_name(SERVICE).build()
}

async fn get(url: String) -> (u16, String) {
    let response = reqwest::get(&url)
        .await
        .unwrap_or_else(|err| panic!("GET {url}: {err}"));
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

async fn get_json(url: String) -> (u16, Json) {
    let (status, text) = get(url.clone()).await;
    let json = serde_json::from_str(&text).unwrap_or_else(|err| panic!("{url}: {err}: {text}"));
    (status, json)
}

/// Waits until `arrived` holds for the explorer's stats; gives them.
async fn wait_for(
    explorer: &Explorer,
    what: &str,
    arrived: impl Fn(&explorer::window::Stats) -> bool,
) -> explorer::window::Stats {
    let deadline = Instant::now() + ARRIVE_WITHIN;
    loop {
        let stats = explorer.shared.stats();
        if arrived(&stats) {
            return stats;
        }
        assert!(
            Instant::now() < deadline,
            "expected {what} within {ARRIVE_WITHIN:?}: {stats:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn close_to(value: &Json, expected: f64) -> bool {
    value
        .as_f64()
        .is_some_and(|value| (value - expected).abs() < 1e-9)
}

// ---------------------------------------------------------------------------------- metrics

/// Records what step 07's app does: `fib.calls` by `fib.index` (5 for index 1, 2 for index 2 in
/// the end) and four request durations (0.05, 0.3, 0.3 and 2.0 s, in buckets bounded by 0.1, 0.5
/// and 1). Exports twice: once halfway (`force_flush`) and at shutdown, each time the totals so
/// far. Blocking: run it in `spawn_blocking`, so that the explorer, on the same runtime, answers.
fn send_metrics(exporter: MetricExporter) {
    let provider = SdkMeterProvider::builder()
        .with_periodic_exporter(exporter)
        .with_resource(resource())
        .build();
    let meter = provider.meter("explorer-tests");
    let calls = meter
        .u64_counter("fib.calls")
        .with_description("Fibonacci numbers computed, by index")
        .with_unit("{call}")
        .build();
    let duration = meter
        .f64_histogram("http.server.request.duration")
        .with_description("Duration of HTTP server requests")
        .with_unit("s")
        .with_boundaries(vec![0.1, 0.5, 1.0])
        .build();
    let route = [KeyValue::new("http.route", "/fib")];

    calls.add(3, &[KeyValue::new("fib.index", 1)]);
    calls.add(2, &[KeyValue::new("fib.index", 2)]);
    duration.record(0.05, &route);
    duration.record(0.3, &route);
    provider.force_flush().expect("the first export");

    // The second export repeats every total: the explorer keeps it, not the sum of the two.
    calls.add(2, &[KeyValue::new("fib.index", 1)]);
    duration.record(0.3, &route);
    duration.record(2.0, &route);
    provider.shutdown().expect("the last export");
}

async fn assert_shows_the_latest_totals(explorer: &Explorer, exporter: MetricExporter) {
    tokio::task::spawn_blocking(move || send_metrics(exporter))
        .await
        .expect("the sender thread");
    // Two exports of three series each.
    let stats = wait_for(explorer, "two exports of 3 series", |stats| {
        stats.metric_points_received >= 6
    })
    .await;
    assert_eq!(
        (
            stats.series,
            stats.metric_points_received,
            stats.dropped_metric_points
        ),
        (3, 6, 0),
        "{stats:?}"
    );

    let (status, metrics) = get_json(format!("{}/api/metrics", explorer.url())).await;
    assert_eq!(status, 200, "{metrics}");
    let names: Vec<&str> = metrics
        .as_array()
        .expect("an array of metrics")
        .iter()
        .filter_map(|metric| metric["name"].as_str())
        .collect();
    assert_eq!(
        names,
        ["fib.calls", "http.server.request.duration"],
        "{metrics:#}"
    );

    let calls = &metrics[0];
    assert_eq!(calls["kind"], "counter", "{calls:#}");
    assert_eq!(calls["unit"], "{call}", "{calls:#}");
    assert_eq!(calls["temporality"], "cumulative", "{calls:#}");
    assert_eq!(
        calls["description"], "Fibonacci numbers computed, by index",
        "{calls:#}"
    );
    let series: Vec<(Json, Json, Json)> = calls["series"]
        .as_array()
        .expect("series")
        .iter()
        .map(|series| {
            (
                series["service"].clone(),
                series["attributes"].clone(),
                series["value"].clone(),
            )
        })
        .collect();
    assert_eq!(
        series,
        [
            (json!(SERVICE), json!({ "fib.index": 1 }), json!(5)),
            (json!(SERVICE), json!({ "fib.index": 2 }), json!(2)),
        ],
        "expected each index's latest total, as an integer: {calls:#}"
    );

    let duration = &metrics[1];
    assert_eq!(duration["kind"], "histogram", "{duration:#}");
    assert_eq!(duration["unit"], "s", "{duration:#}");
    let series = &duration["series"][0];
    assert_eq!(series["attributes"], json!({ "http.route": "/fib" }));
    assert_eq!(series["count"], 4, "{series:#}");
    assert!(close_to(&series["sum"], 2.65), "{series:#}");
    assert!(close_to(&series["mean"], 2.65 / 4.0), "{series:#}");
    assert_eq!(series["bounds"], json!([0.1, 0.5, 1.0]), "{series:#}");
    assert_eq!(series["bucket_counts"], json!([1, 2, 0, 1]), "{series:#}");
    // Rank 2 of 4 is halfway through (0.1, 0.5]; rank 3.96 in the last bucket, up to the max.
    assert!(close_to(&series["p50_estimated"], 0.3), "{series:#}");
    assert!(close_to(&series["p99_estimated"], 1.96), "{series:#}");

    let (status, page) = get(format!("{}/metrics", explorer.url())).await;
    assert_eq!(status, 200, "{page}");
    for expected in [
        "not a Prometheus endpoint",
        r#"id="metric-fib.calls""#,
        "fib.index=1</td>",
        r#"<td class="num">5</td>"#,
        r#"id="metric-http.server.request.duration""#,
        "P99, estimated (s)",
        "≈ 1.96",
        "<title>0.1 to 0.5: 2</title>",
    ] {
        assert!(page.contains(expected), "expected {expected:?} in {page}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_over_http_protobuf_show_each_series_latest_total() {
    let explorer = Explorer::start(&Settings::loopback()).await.unwrap();
    let exporter = MetricExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{}/v1/metrics", explorer.http_endpoint()))
        .build()
        .unwrap();
    assert_shows_the_latest_totals(&explorer, exporter).await;
    assert_eq!(explorer.shared.stats().exports.http_protobuf, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_over_grpc_show_each_series_latest_total() {
    let explorer = Explorer::start(&Settings::loopback()).await.unwrap();
    // Built here, inside the runtime: a gRPC exporter built outside one panics.
    let exporter = MetricExporter::builder()
        .with_tonic()
        .with_endpoint(explorer.grpc_endpoint())
        .build()
        .unwrap();
    assert_shows_the_latest_totals(&explorer, exporter).await;
    assert_eq!(explorer.shared.stats().exports.grpc, 2);
}

// ---------------------------------------------------------------------------------- logs

/// The ids of the spans the records were emitted in, as the SDK formats them.
struct Sent {
    trace_id: String,
    server_span_id: String,
    fib_span_id: String,
}

/// A span id in the trace that no span has: a record of a span that never arrives.
const MISSING_SPAN: &str = "00000000000000ff";

/// A request as step 07's app makes it: a server span `GET /fib` with a child `fib`, exported
/// over OTLP/HTTP; a log record in each span (the SDK stamps it with the active span's ids), one
/// with the trace's id and a span that is not there, and one outside any span, through
/// `exporter`. Blocking, as `send_metrics`.
fn send_logs_in_spans(exporter: LogExporter, traces_url: String) -> Sent {
    let spans = SpanExporter::builder()
        .with_http()
        .with_endpoint(traces_url)
        .build()
        .expect("an OTLP/HTTP span exporter");
    let tracer_provider = SdkTracerProvider::builder()
        .with_batch_exporter(spans)
        .with_resource(resource())
        .build();
    let tracer = tracer_provider.tracer("explorer-tests");
    let logger_provider = SdkLoggerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource())
        .build();
    let logger = logger_provider.logger("explorer-tests");
    let record = |body: &str, severity: Severity, text: &'static str| {
        let mut record = logger.create_log_record();
        record.set_body(AnyValue::from(body.to_string()));
        record.set_severity_number(severity);
        record.set_severity_text(text);
        record.add_attribute("fib.index", 5_i64);
        record
    };

    let sent = tracer.in_span("GET /fib", |server| {
        logger.emit(record("computing fib(5)", Severity::Info, "INFO"));
        let fib_span_id = tracer.in_span("fib", |fib| {
            logger.emit(record("fib(5) = 5", Severity::Debug, "DEBUG"));
            fib.span().span_context().span_id().to_string()
        });
        let context = server.span().span_context().clone();
        let mut orphan = record("from a span that never arrives", Severity::Error, "ERROR");
        orphan.set_trace_context(
            context.trace_id(),
            SpanId::from_hex(MISSING_SPAN).unwrap(),
            None,
        );
        logger.emit(orphan);
        Sent {
            trace_id: context.trace_id().to_string(),
            server_span_id: context.span_id().to_string(),
            fib_span_id,
        }
    });
    logger.emit(record("outside any span", Severity::Warn, "WARN"));

    logger_provider.shutdown().expect("the logs' shutdown");
    tracer_provider.shutdown().expect("the spans' shutdown");
    sent
}

/// The bodies of `/api/logs?{query}`, newest first.
async fn bodies(explorer: &Explorer, query: &str) -> Vec<String> {
    let (status, logs) = get_json(format!("{}/api/logs?{query}", explorer.url())).await;
    assert_eq!(status, 200, "/api/logs?{query}: {logs}");
    logs.as_array()
        .unwrap_or_else(|| panic!("/api/logs?{query}: expected an array: {logs}"))
        .iter()
        .map(|record| record["body"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The part of the trace page that shows the span `span_id`: its `<details>`.
fn span_details<'a>(page: &'a str, span_id: &str) -> &'a str {
    let start = page
        .find(&format!(r#"id="span-{span_id}""#))
        .unwrap_or_else(|| panic!("expected span {span_id} on the page: {page}"));
    let end = page[start..].find("</details>").expect("its end") + start;
    &page[start..end]
}

async fn assert_shows_the_logs_with_their_spans(explorer: &Explorer, exporter: LogExporter) {
    let traces_url = format!("{}/v1/traces", explorer.http_endpoint());
    let sent = tokio::task::spawn_blocking(move || send_logs_in_spans(exporter, traces_url))
        .await
        .expect("the sender thread");
    let stats = wait_for(explorer, "4 log records and 2 spans", |stats| {
        stats.logs >= 4 && stats.spans >= 2
    })
    .await;
    assert_eq!(
        (stats.logs, stats.logs_received, stats.dropped_logs),
        (4, 4, 0),
        "{stats:?}"
    );

    // Newest first, each with what the SDK sent.
    let (_, logs) = get_json(format!("{}/api/logs", explorer.url())).await;
    let records = logs.as_array().expect("an array of records");
    let bodies_sent: Vec<&str> = records
        .iter()
        .filter_map(|record| record["body"].as_str())
        .collect();
    assert_eq!(
        bodies_sent,
        [
            "outside any span",
            "from a span that never arrives",
            "fib(5) = 5",
            "computing fib(5)"
        ],
        "{logs:#}"
    );
    let computing = &records[3];
    assert_eq!(computing["severity_text"], "INFO", "{computing:#}");
    assert_eq!(computing["severity_number"], 9, "{computing:#}");
    assert_eq!(
        computing["trace_id"],
        sent.trace_id.as_str(),
        "{computing:#}"
    );
    assert_eq!(
        computing["span_id"],
        sent.server_span_id.as_str(),
        "{computing:#}"
    );
    assert_eq!(computing["attributes"], json!({ "fib.index": 5 }));
    assert_eq!(computing["service"], SERVICE, "{computing:#}");
    assert_eq!(
        computing["scope"]["name"], "explorer-tests",
        "{computing:#}"
    );
    assert_eq!(records[2]["span_id"], sent.fib_span_id.as_str(), "{logs:#}");
    let outside = &records[0];
    assert_eq!(
        (&outside["trace_id"], &outside["span_id"]),
        (&Json::Null, &Json::Null),
        "no span, no ids: {outside:#}"
    );
    assert_eq!(outside["severity_number"], 13, "{outside:#}");

    // The filters, alone and together.
    let trace = format!("trace_id={}", sent.trace_id);
    assert_eq!(bodies(explorer, &trace).await.len(), 3);
    assert_eq!(
        bodies(explorer, "severity=warn").await,
        ["outside any span", "from a span that never arrives"]
    );
    assert_eq!(
        bodies(explorer, "contains=FIB(5)").await,
        ["fib(5) = 5", "computing fib(5)"]
    );
    assert_eq!(
        bodies(
            explorer,
            &format!("{trace}&severity=INFO&contains=fib&limit=1")
        )
        .await,
        ["computing fib(5)"]
    );

    // The trace page: each record in its span's details, the span marked; the record whose
    // span is not there under the waterfall.
    let (status, page) = get(format!("{}/trace/{}", explorer.url(), sent.trace_id)).await;
    assert_eq!(status, 200, "{page}");
    let server = span_details(&page, &sent.server_span_id);
    assert!(
        server.contains(r#"<span class="log-badge">1 log</span>"#)
            && server.contains(r#"<span class="body">computing fib(5)</span>"#)
            && !server.contains("fib(5) = 5"),
        "expected the server span's one record in its details: {server}"
    );
    let fib = span_details(&page, &sent.fib_span_id);
    assert!(
        fib.contains(r#"<span class="body">fib(5) = 5</span>"#) && fib.contains("DEBUG"),
        "expected the fib span's record in its details: {fib}"
    );
    let (_, under) = page
        .split_once(r#"id="trace-logs""#)
        .unwrap_or_else(|| panic!("expected the trace's other records: {page}"));
    assert!(
        under.contains("from a span that never arrives") && !under.contains("computing"),
        "{under}"
    );
    assert!(!page.contains("outside any span"), "{page}");

    // The logs page links each record of a span to its trace, opened on that span.
    let (status, page) = get(format!("{}/logs", explorer.url())).await;
    assert_eq!(status, 200, "{page}");
    let link = format!(
        "/trace/{0}?span={1}#span-{1}",
        sent.trace_id, sent.server_span_id
    );
    assert!(page.contains(&link), "expected a link {link}: {page}");
    let (_, opened) = get(format!("{}{link}", explorer.url())).await;
    assert!(
        opened.contains(&format!(r#"id="span-{}" open>"#, sent.server_span_id)),
        "expected the linked span open: {opened}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_records_over_http_protobuf_show_with_their_spans() {
    let explorer = Explorer::start(&Settings::loopback()).await.unwrap();
    let exporter = LogExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{}/v1/logs", explorer.http_endpoint()))
        .build()
        .unwrap();
    assert_shows_the_logs_with_their_spans(&explorer, exporter).await;
    assert_eq!(explorer.shared.stats().exports.grpc, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_records_over_grpc_show_with_their_spans() {
    let explorer = Explorer::start(&Settings::loopback()).await.unwrap();
    // Built inside the runtime, as the metrics' gRPC exporter.
    let exporter = LogExporter::builder()
        .with_tonic()
        .with_endpoint(explorer.grpc_endpoint())
        .build()
        .unwrap();
    assert_shows_the_logs_with_their_spans(&explorer, exporter).await;
    assert!(explorer.shared.stats().exports.grpc >= 1);
}

// ---------------------------------------------------------------------------------- bad input

#[tokio::test]
async fn bad_log_filters_get_a_400_that_says_why_and_the_form_keeps_them() {
    let explorer = Explorer::start(&Settings::loopback()).await.unwrap();
    let url = explorer.url();

    let (status, page) = get(format!("{url}/logs?severity=loud&contains=fib%3C5")).await;
    assert_eq!(status, 400, "{page}");
    assert!(
        page.contains(
            "severity &#34;loud&#34;: TRACE, DEBUG, INFO, WARN, ERROR or FATAL (that level and \
             above), or a number from 1 to 24"
        ),
        "expected the error, named: {page}"
    );
    assert!(
        page.contains(r#"name="severity" value="loud""#)
            && page.contains(r#"name="contains" value="fib&#60;5""#),
        "expected the form to keep what was typed: {page}"
    );

    for (query, error) in [
        ("limit=abc", r#"limit "abc": a number from 1 to 1000"#),
        ("limit=0", r#"limit "0": a number from 1 to 1000"#),
        (
            "trace_id=nope",
            r#"trace_id "nope": a trace id is 32 hexadecimal digits"#,
        ),
        (
            "level=INFO",
            r#"unknown parameter "level": the logs take severity, trace_id, contains and limit"#,
        ),
    ] {
        let (status, answer) = get_json(format!("{url}/api/logs?{query}")).await;
        assert_eq!(
            (status, answer),
            (400, json!({ "error": error })),
            "/api/logs?{query}"
        );
    }
    // Empty boxes are no filter: a form sends them so.
    let (status, answer) = get_json(format!("{url}/api/logs?severity=&trace_id=&contains=")).await;
    assert_eq!((status, answer), (200, json!([])));
}
