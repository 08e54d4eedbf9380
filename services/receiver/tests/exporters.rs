//! The receiver against a real, independent client: the Rust SDK's OTLP exporter
//! (opentelemetry-otlp), over each transport the kit's steps can choose, with the batch processor
//! a learner uses. Each test sends three known spans and checks that exactly those arrived, intact.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::trace::{
    Span as _, SpanKind as OtelKind, Status as OtelStatus, TraceContextExt, Tracer as _,
    TracerProvider as _,
};
use opentelemetry::{Array, Context, KeyValue, StringValue, Value as OtelValue};
use opentelemetry_otlp::tonic_types::metadata::MetadataMap;
use opentelemetry_otlp::{
    Compression, Protocol, SpanExporter, WithExportConfig, WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use receiver::{ReceivedSpan, Receiver, SpanKind, StatusCode, Transport, Value};

/// Long enough for a loaded CI machine; the spans are normally there when `shutdown` returns.
const WAIT: Duration = Duration::from_secs(10);

/// The ids of the spans sent, as the SDK formats them: lower-case hex.
struct Sent {
    trace_id: String,
    server: String,
    client: String,
    compute: String,
}

/// Sends a small trace, `GET /fib` (server) → `GET` (client, failed) → `compute` (internal),
/// through a batch processor, and shuts the provider down, which flushes it.
///
/// Blocking: the batch processor's `force_flush` and `shutdown` wait for the export. Run it in
/// `spawn_blocking`, so that the receiver, on the same runtime, can answer meanwhile.
fn send_known_trace(exporter: SpanExporter) -> Sent {
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name("receiver-test")
                .build(),
        )
        .build();
    let tracer = provider.tracer("receiver-tests");

    let server = tracer
        .span_builder("GET /fib")
        .with_kind(OtelKind::Server)
        .with_attributes([
            KeyValue::new("http.request.method", "GET"),
            KeyValue::new("fib.index", 5_i64),
            KeyValue::new("fib.cached", false),
            KeyValue::new("fib.ratio", 1.618),
            KeyValue::new(
                "fib.path",
                OtelValue::Array(Array::String(vec![
                    StringValue::from("4"),
                    StringValue::from("3"),
                ])),
            ),
        ])
        .start(&tracer);
    let server_cx = Context::current_with_span(server);

    let mut client = tracer
        .span_builder("GET")
        .with_kind(OtelKind::Client)
        .start_with_context(&tracer, &server_cx);
    client.add_event("retry", vec![KeyValue::new("attempt", 2_i64)]);
    client.set_status(OtelStatus::error("upstream refused"));
    let client_cx = server_cx.with_span(client);

    let mut compute = tracer
        .span_builder("compute")
        .with_kind(OtelKind::Internal)
        .start_with_context(&tracer, &client_cx);
    let sent = Sent {
        trace_id: server_cx.span().span_context().trace_id().to_string(),
        server: server_cx.span().span_context().span_id().to_string(),
        client: client_cx.span().span_context().span_id().to_string(),
        compute: compute.span_context().span_id().to_string(),
    };
    compute.end();
    client_cx.span().end();
    server_cx.span().end();

    provider.force_flush().expect("force_flush");
    provider.shutdown().expect("shutdown");
    sent
}

/// Sends the known trace through `exporter` and checks that the receiver got exactly it, over
/// `transport`.
async fn assert_delivers_the_known_trace(
    receiver: &Receiver,
    exporter: SpanExporter,
    transport: Transport,
) {
    let sent = tokio::task::spawn_blocking(move || send_known_trace(exporter))
        .await
        .unwrap();
    let spans = receiver.wait_for_spans(3, WAIT).await;
    assert_eq!(spans.len(), 3, "expected exactly 3 spans, got {spans:#?}");

    let by_name = |name: &str| -> ReceivedSpan {
        spans
            .iter()
            .find(|span| span.name == name)
            .unwrap_or_else(|| panic!("no span {name:?} in {spans:#?}"))
            .clone()
    };
    let server = by_name("GET /fib");
    let client = by_name("GET");
    let compute = by_name("compute");

    for span in [&server, &client, &compute] {
        assert_eq!(span.trace_id, sent.trace_id, "{span:#?}");
        assert_eq!(span.service_name(), Some("receiver-test"), "{span:#?}");
        assert_eq!(span.scope_name, "receiver-tests");
        assert!(span.end_time_unix_nano >= span.start_time_unix_nano);
        assert!(span.start_time_unix_nano > 0);
    }

    assert_eq!(server.span_id, sent.server);
    assert_eq!(server.parent_span_id, None);
    assert!(server.is_root());
    assert_eq!(server.kind, SpanKind::Server);
    assert_eq!(
        server.attribute("http.request.method"),
        Some(&Value::from("GET"))
    );
    assert_eq!(
        server.attribute("fib.index").and_then(Value::as_i64),
        Some(5)
    );
    assert_eq!(
        server.attribute("fib.cached").and_then(Value::as_bool),
        Some(false)
    );
    assert_eq!(
        server.attribute("fib.ratio").and_then(Value::as_f64),
        Some(1.618)
    );
    assert_eq!(
        server.attribute("fib.path"),
        Some(&Value::Array(vec![Value::from("4"), Value::from("3")]))
    );
    assert_eq!(server.status.code, StatusCode::Unset);

    assert_eq!(client.span_id, sent.client);
    assert_eq!(client.parent_span_id.as_deref(), Some(sent.server.as_str()));
    assert_eq!(client.kind, SpanKind::Client);
    assert_eq!(client.status.code, StatusCode::Error);
    assert_eq!(client.status.message, "upstream refused");
    let retry = client.event("retry").expect("the retry event");
    assert_eq!(retry.attribute("attempt").and_then(Value::as_i64), Some(2));
    assert!(retry.time_unix_nano >= client.start_time_unix_nano);

    assert_eq!(compute.span_id, sent.compute);
    assert_eq!(
        compute.parent_span_id.as_deref(),
        Some(sent.client.as_str())
    );
    assert_eq!(compute.kind, SpanKind::Internal);
    assert!(compute.attributes.is_empty());

    let traces = receiver.traces();
    assert_eq!(traces.len(), 1);
    let trace = &traces[&sent.trace_id];
    assert_eq!(trace.len(), 3);
    assert_eq!(trace[0].name, "GET /fib", "a trace starts with its root");

    let requests = receiver.requests();
    assert!(!requests.is_empty());
    assert!(
        requests
            .iter()
            .all(|request| request.transport == transport),
        "{requests:#?}"
    );
    assert_eq!(
        requests
            .iter()
            .map(|request| request.span_count)
            .sum::<usize>(),
        3
    );
    assert_eq!(receiver.rejected(), vec![]);
}

fn grpc_exporter(
    receiver: &Receiver,
) -> opentelemetry_otlp::SpanExporterBuilder<opentelemetry_otlp::TonicExporterBuilderSet> {
    SpanExporter::builder()
        .with_tonic()
        .with_endpoint(receiver.grpc_endpoint())
}

fn http_exporter(
    receiver: &Receiver,
    protocol: Protocol,
) -> opentelemetry_otlp::SpanExporterBuilder<opentelemetry_otlp::HttpExporterBuilderSet> {
    SpanExporter::builder()
        .with_http()
        .with_protocol(protocol)
        // Used as given, unlike OTEL_EXPORTER_OTLP_ENDPOINT (see tests/environment.rs).
        .with_endpoint(receiver.http_traces_url())
}

// The gRPC exporter must be built inside a tokio runtime, and its requests are driven by that
// runtime's workers while the test's thread waits: hence the multi-thread flavour throughout.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_exporter_delivers_the_trace() {
    let receiver = Receiver::start().await.unwrap();
    let exporter = grpc_exporter(&receiver).build().unwrap();
    assert_delivers_the_known_trace(&receiver, exporter, Transport::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_protobuf_exporter_delivers_the_trace() {
    let receiver = Receiver::start().await.unwrap();
    let exporter = http_exporter(&receiver, Protocol::HttpBinary)
        .build()
        .unwrap();
    assert_delivers_the_known_trace(&receiver, exporter, Transport::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_json_exporter_delivers_the_trace() {
    let receiver = Receiver::start().await.unwrap();
    let exporter = http_exporter(&receiver, Protocol::HttpJson)
        .build()
        .unwrap();
    assert_delivers_the_known_trace(&receiver, exporter, Transport::HttpJson).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_compressed_exports_arrive_intact() {
    let receiver = Receiver::start().await.unwrap();
    let exporter = grpc_exporter(&receiver)
        .with_compression(Compression::Gzip)
        .build()
        .unwrap();
    assert_delivers_the_known_trace(&receiver, exporter, Transport::Grpc).await;
    assert!(
        receiver
            .requests()
            .iter()
            .all(|request| request.header("grpc-encoding") == Some("gzip")),
        "{:#?}",
        receiver.requests()
    );

    receiver.clear();
    assert_eq!(receiver.spans(), vec![]);
    let exporter = http_exporter(&receiver, Protocol::HttpBinary)
        .with_compression(Compression::Gzip)
        .build()
        .unwrap();
    assert_delivers_the_known_trace(&receiver, exporter, Transport::HttpProtobuf).await;
    assert!(
        receiver
            .requests()
            .iter()
            .all(|request| request.header("content-encoding") == Some("gzip")),
        "{:#?}",
        receiver.requests()
    );
}

/// A hosted backend's API key travels as a header (gRPC: metadata); the receiver shows it arrived.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_set_on_the_exporter_are_recorded_with_each_request() {
    let receiver = Receiver::start().await.unwrap();
    let key = HashMap::from([("x-honeycomb-team".to_string(), "test-key".to_string())]);

    for protocol in [Protocol::HttpBinary, Protocol::HttpJson] {
        let exporter = http_exporter(&receiver, protocol)
            .with_headers(key.clone())
            .build()
            .unwrap();
        tokio::task::spawn_blocking(move || send_known_trace(exporter))
            .await
            .unwrap();
    }
    let mut metadata = MetadataMap::new();
    metadata.insert("x-honeycomb-team", "test-key".parse().unwrap());
    let exporter = grpc_exporter(&receiver)
        .with_metadata(metadata)
        .build()
        .unwrap();
    tokio::task::spawn_blocking(move || send_known_trace(exporter))
        .await
        .unwrap();

    let spans = receiver.wait_for_spans(9, WAIT).await;
    assert_eq!(spans.len(), 9);
    let requests = receiver.requests();
    let transports: Vec<Transport> = requests.iter().map(|request| request.transport).collect();
    assert_eq!(
        transports,
        [
            Transport::HttpProtobuf,
            Transport::HttpJson,
            Transport::Grpc
        ]
    );
    for request in &requests {
        assert_eq!(
            request.header("x-honeycomb-team"),
            Some("test-key"),
            "{request:#?}"
        );
        assert_eq!(request.header("X-Honeycomb-Team"), Some("test-key"));
        assert!(
            request
                .headers
                .keys()
                .all(|name| *name == name.to_lowercase()),
            "{request:#?}"
        );
    }
    assert_eq!(
        requests[0].header("content-type"),
        Some("application/x-protobuf")
    );
    assert_eq!(requests[1].header("content-type"), Some("application/json"));
    assert_eq!(requests[2].header("content-type"), Some("application/grpc"));
}

/// Nothing is kept of a receiver once dropped: its ports refuse connections, and a connection
/// a client keeps open (as exporters' connection pools do) is closed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_receiver_closes_its_ports_and_connections() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let receiver = Receiver::start().await.unwrap();
    let addresses = [receiver.grpc_endpoint(), receiver.http_endpoint()]
        .map(|endpoint| endpoint.trim_start_matches("http://").to_string());
    // One request answered on a keep-alive connection, which the client then leaves open.
    let mut open = tokio::net::TcpStream::connect(&addresses[1]).await.unwrap();
    open.write_all(b"GET /nowhere HTTP/1.1\r\nhost: receiver\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    while !String::from_utf8_lossy(&answer).ends_with("/v1/logs\n") {
        let mut buffer = [0_u8; 1024];
        let read = open.read(&mut buffer).await.unwrap();
        assert!(
            read > 0,
            "closed early: {}",
            String::from_utf8_lossy(&answer)
        );
        answer.extend_from_slice(&buffer[..read]);
    }
    assert!(answer.starts_with(b"HTTP/1.1 404"));

    drop(receiver);
    // Aborting is asynchronous: give the runtime a moment to run it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    for address in &addresses {
        assert!(
            tokio::net::TcpStream::connect(address).await.is_err(),
            "{address} still accepts connections"
        );
    }
    let mut buffer = [0_u8; 1];
    let read = tokio::time::timeout(Duration::from_secs(2), open.read(&mut buffer))
        .await
        .expect("the kept-alive connection is closed, not left open");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
}
