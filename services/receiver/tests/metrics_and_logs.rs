//! Metrics and logs from a real, independent client: the Rust SDK's OTLP exporters
//! (opentelemetry-otlp's `MetricExporter` and `LogExporter`), over each transport, with the
//! periodic reader and the batch processor a learner uses. Each test sends known instruments or
//! records and checks that exactly those arrived, intact.

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry_otlp::{LogExporter, MetricExporter, Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use receiver::{MetricKind, ReceivedMetric, Receiver, Signal, Temporality, Transport, Value};

/// Long enough for a loaded CI machine; the data is normally there when `shutdown` returns.
const WAIT: Duration = Duration::from_secs(10);

fn resource() -> Resource {
    Resource::builder()
        .with_service_name("receiver-test")
        .build()
}

/// Records a counter, `fib.requests` (3 with status 200, 1 with 500), and a histogram of
/// durations in seconds, `http.server.request.duration` (0.05, 0.3, 0.3 and 2.0 s, in buckets
/// bounded by 0.1, 0.5 and 1), then shuts the provider down, which exports them once.
///
/// Blocking: run it in `spawn_blocking`, so that the receiver, on the same runtime, can answer.
fn send_known_metrics(exporter: MetricExporter) {
    let provider = SdkMeterProvider::builder()
        .with_periodic_exporter(exporter)
        .with_resource(resource())
        .build();
    let meter = provider.meter("receiver-tests");

    let requests = meter
        .u64_counter("fib.requests")
        .with_description("Requests answered")
        .with_unit("{request}")
        .build();
    let ok = [KeyValue::new("http.response.status_code", 200_i64)];
    requests.add(2, &ok);
    requests.add(1, &[KeyValue::new("http.response.status_code", 500_i64)]);
    requests.add(1, &ok);

    let duration = meter
        .f64_histogram("http.server.request.duration")
        .with_unit("s")
        .with_boundaries(vec![0.1, 0.5, 1.0])
        .build();
    for seconds in [0.05, 0.3, 0.3, 2.0] {
        duration.record(seconds, &[KeyValue::new("http.route", "/fib")]);
    }

    provider.shutdown().expect("shutdown");
}

/// Sends the known metrics through `exporter` and checks that the receiver got exactly them,
/// over `transport`.
async fn assert_delivers_the_known_metrics(
    receiver: &Receiver,
    exporter: MetricExporter,
    transport: Transport,
) {
    tokio::task::spawn_blocking(move || send_known_metrics(exporter))
        .await
        .unwrap();
    let metrics = receiver
        .wait_for_metrics("http.server.request.duration", WAIT)
        .await;
    let names: Vec<&str> = metrics.iter().map(|metric| metric.name.as_str()).collect();
    assert_eq!(
        names,
        ["fib.requests", "http.server.request.duration"],
        "{metrics:#?}"
    );
    let by_name = |name: &str| -> &ReceivedMetric {
        metrics.iter().find(|metric| metric.name == name).unwrap()
    };

    let counter = by_name("fib.requests");
    assert_eq!(counter.kind, MetricKind::Sum { monotonic: true });
    assert_eq!(counter.temporality, Temporality::Cumulative);
    assert_eq!(counter.unit, "{request}");
    assert_eq!(counter.description, "Requests answered");
    assert_eq!(counter.service_name(), Some("receiver-test"));
    assert_eq!(counter.scope_name, "receiver-tests");
    assert_eq!(counter.points.len(), 2, "{counter:#?}");
    // A u64 counter's values arrive as integers.
    let ok = counter.point("http.response.status_code", 200_i64).unwrap();
    assert_eq!(ok.as_i64(), Some(3));
    assert_eq!(ok.as_f64(), Some(3.0));
    let failed = counter.point("http.response.status_code", 500_i64).unwrap();
    assert_eq!(failed.as_i64(), Some(1));
    assert!(ok.time_unix_nano >= ok.start_time_unix_nano && ok.start_time_unix_nano > 0);

    let histogram = by_name("http.server.request.duration");
    assert_eq!(histogram.kind, MetricKind::Histogram);
    assert_eq!(histogram.temporality, Temporality::Cumulative);
    assert_eq!(histogram.unit, "s");
    assert_eq!(histogram.points.len(), 1);
    let point = &histogram.points[0];
    assert_eq!(point.attribute("http.route"), Some(&Value::from("/fib")));
    assert_eq!(point.as_f64(), None, "a histogram's point is not a number");
    let data = point.histogram().expect("histogram data");
    assert_eq!(data.count, 4);
    let sum = data.sum.expect("a sum");
    assert!((sum - 2.65).abs() < 1e-9, "{sum}");
    assert_eq!(data.min, Some(0.05));
    assert_eq!(data.max, Some(2.0));
    assert_eq!(data.bounds, [0.1, 0.5, 1.0]);
    assert_eq!(data.bucket_counts, [1, 2, 0, 1]);

    let requests = receiver.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(requests[0].signal, Signal::Metrics);
    assert_eq!(requests[0].transport, transport);
    assert_eq!(requests[0].span_count, 0);
    assert_eq!(receiver.spans(), vec![]);
    assert_eq!(receiver.rejected(), vec![]);
}

/// The ids of the span the first record was emitted in, as the SDK formats them.
struct Sent {
    trace_id: String,
    span_id: String,
}

/// Emits two records with the Logs API, as a log appender does: an INFO inside an active span,
/// which the SDK stamps with the span's ids, and a WARN outside any span. Shuts the provider down,
/// which flushes its batch. Blocking, as `send_known_metrics`.
fn send_known_logs(exporter: LogExporter) -> Sent {
    // Spans only to have an active one: nothing exports them.
    let tracer_provider = SdkTracerProvider::builder().build();
    let tracer = tracer_provider.tracer("receiver-tests");
    let provider = SdkLoggerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource())
        .build();
    let logger = provider.logger("receiver-tests");
    let emit = |body: &str, severity: Severity, text: &'static str| {
        let mut record = logger.create_log_record();
        record.set_body(AnyValue::from(body.to_string()));
        record.set_severity_number(severity);
        record.set_severity_text(text);
        record.add_attribute("fib.index", 5_i64);
        record.add_attribute("fib.cached", false);
        logger.emit(record);
    };

    let sent = tracer.in_span("GET /fib", |cx| {
        emit("computing fib(5)", Severity::Info, "INFO");
        let span = cx.span();
        Sent {
            trace_id: span.span_context().trace_id().to_string(),
            span_id: span.span_context().span_id().to_string(),
        }
    });
    emit("outside any span", Severity::Warn, "WARN");

    provider.shutdown().expect("shutdown");
    sent
}

async fn assert_delivers_the_known_logs(
    receiver: &Receiver,
    exporter: LogExporter,
    transport: Transport,
) {
    let sent = tokio::task::spawn_blocking(move || send_known_logs(exporter))
        .await
        .unwrap();
    let logs = receiver.wait_for_logs(2, WAIT).await;
    assert_eq!(logs.len(), 2, "{logs:#?}");

    let inside = &logs[0];
    assert_eq!(inside.body, "computing fib(5)");
    assert_eq!(inside.severity_number, 9);
    assert_eq!(inside.severity_text, "INFO");
    assert_eq!(inside.attribute("fib.index"), Some(&Value::Int(5)));
    assert_eq!(inside.attribute("fib.cached"), Some(&Value::Bool(false)));
    assert_eq!(inside.trace_id, sent.trace_id);
    assert_eq!(inside.span_id, sent.span_id);
    assert_eq!(inside.trace_id.len(), 32);
    assert_eq!(inside.span_id.len(), 16);
    assert_eq!(inside.service_name(), Some("receiver-test"));
    assert_eq!(inside.scope_name, "receiver-tests");
    assert!(inside.observed_time_unix_nano > 0);

    let outside = &logs[1];
    assert_eq!(outside.body, "outside any span");
    assert_eq!(outside.severity_number, 13);
    assert_eq!(outside.severity_text, "WARN");
    assert_eq!(outside.trace_id, "", "no span, no trace id");
    assert_eq!(outside.span_id, "");

    let requests = receiver.requests();
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|request| request.signal == Signal::Logs && request.transport == transport),
        "{requests:#?}"
    );
    assert_eq!(receiver.rejected(), vec![]);
}

fn http_metric_exporter(receiver: &Receiver, protocol: Protocol) -> MetricExporter {
    MetricExporter::builder()
        .with_http()
        .with_protocol(protocol)
        .with_endpoint(receiver.http_metrics_url())
        .build()
        .unwrap()
}

fn http_log_exporter(receiver: &Receiver, protocol: Protocol) -> LogExporter {
    LogExporter::builder()
        .with_http()
        .with_protocol(protocol)
        .with_endpoint(receiver.http_logs_url())
        .build()
        .unwrap()
}

// As in tests/exporters.rs: gRPC exporters are built inside the runtime, and the multi-thread
// flavour lets the receiver answer while `shutdown` blocks.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_exporter_delivers_the_counter_and_the_histogram() {
    let receiver = Receiver::start().await.unwrap();
    let exporter = MetricExporter::builder()
        .with_tonic()
        .with_endpoint(receiver.grpc_endpoint())
        .build()
        .unwrap();
    assert_delivers_the_known_metrics(&receiver, exporter, Transport::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_protobuf_exporter_delivers_the_counter_and_the_histogram() {
    let receiver = Receiver::start().await.unwrap();
    let exporter = http_metric_exporter(&receiver, Protocol::HttpBinary);
    assert_delivers_the_known_metrics(&receiver, exporter, Transport::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_json_exporter_delivers_the_counter_and_the_histogram() {
    let receiver = Receiver::start().await.unwrap();
    let exporter = http_metric_exporter(&receiver, Protocol::HttpJson);
    assert_delivers_the_known_metrics(&receiver, exporter, Transport::HttpJson).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_exporter_delivers_log_records_with_their_span() {
    let receiver = Receiver::start().await.unwrap();
    let exporter = LogExporter::builder()
        .with_tonic()
        .with_endpoint(receiver.grpc_endpoint())
        .build()
        .unwrap();
    assert_delivers_the_known_logs(&receiver, exporter, Transport::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_protobuf_exporter_delivers_log_records_with_their_span() {
    let receiver = Receiver::start().await.unwrap();
    let exporter = http_log_exporter(&receiver, Protocol::HttpBinary);
    assert_delivers_the_known_logs(&receiver, exporter, Transport::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_json_exporter_delivers_log_records_with_their_span() {
    let receiver = Receiver::start().await.unwrap();
    let exporter = http_log_exporter(&receiver, Protocol::HttpJson);
    assert_delivers_the_known_logs(&receiver, exporter, Transport::HttpJson).await;
}

/// An app that exports all three signals to one receiver, as the coming step's will: each signal
/// is kept in its own place, every request says which it carried, and `clear` forgets them all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_signals_to_one_receiver_are_told_apart() {
    let receiver = Receiver::start().await.unwrap();
    let [traces, metrics, logs] = [
        receiver.http_traces_url(),
        receiver.http_metrics_url(),
        receiver.http_logs_url(),
    ];
    tokio::task::spawn_blocking(move || {
        let spans = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_endpoint(traces)
            .build()
            .unwrap();
        let tracer_provider = SdkTracerProvider::builder()
            .with_batch_exporter(spans)
            .build();
        tracer_provider
            .tracer("receiver-tests")
            .in_span("GET /fib", |_| {});
        tracer_provider.shutdown().unwrap();
        let metrics = MetricExporter::builder()
            .with_http()
            .with_endpoint(metrics)
            .build()
            .unwrap();
        send_known_metrics(metrics);
        let logs = LogExporter::builder()
            .with_http()
            .with_endpoint(logs)
            .build()
            .unwrap();
        send_known_logs(logs);
    })
    .await
    .unwrap();

    assert_eq!(receiver.wait_for_spans(1, WAIT).await.len(), 1);
    assert_eq!(receiver.wait_for_logs(2, WAIT).await.len(), 2);
    assert_eq!(receiver.metrics().len(), 2);
    let signals: Vec<(Signal, usize)> = receiver
        .requests()
        .iter()
        .map(|request| (request.signal, request.span_count))
        .collect();
    assert_eq!(
        signals,
        [(Signal::Traces, 1), (Signal::Metrics, 0), (Signal::Logs, 0)]
    );

    receiver.clear();
    assert_eq!(receiver.metrics(), vec![]);
    assert_eq!(receiver.logs(), vec![]);
    assert_eq!(receiver.requests(), vec![]);
}
