//! The receiver's endpoints are the values a learner puts in `OTEL_EXPORTER_OTLP_ENDPOINT`, and an
//! API key in `OTEL_EXPORTER_OTLP_HEADERS` arrives as a header: configured by environment alone,
//! as step 05 does.
//!
//! Each exporter runs in a copy of this test binary started with its environment: setting
//! variables in this process would race with every thread that reads them.

use std::time::Duration;

use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_otlp::SpanExporter;
use opentelemetry_sdk::trace::SdkTracerProvider;
use receiver::{Receiver, Transport};

/// Exports one span named `name` with an exporter configured from the environment alone.
fn send_one_span(exporter: SpanExporter, name: &str) {
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .build();
    provider
        .tracer("environment-test")
        .in_span(name.to_string(), |_| {});
    provider.shutdown().expect("shutdown");
}

/// Set in the copies of this test binary that export: the span's name, the protocol.
const CHILD: &str = "RECEIVER_ENVIRONMENT_TEST_PROTOCOL";

#[test]
fn endpoint_and_headers_from_the_environment() {
    // A copy of this binary started below: export one span as the environment says, and stop.
    if let Ok(protocol) = std::env::var(CHILD) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        // Built inside the runtime: the gRPC exporter needs one.
        let exporter = runtime
            .block_on(async { SpanExporter::builder().build() })
            .unwrap();
        // Blocking, on a thread of the runtime's pool.
        runtime
            .block_on(runtime.spawn_blocking(move || send_one_span(exporter, &protocol)))
            .unwrap();
        return;
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let receiver = runtime.block_on(Receiver::start()).unwrap();

    // One exporter per protocol, each chosen and pointed by the environment alone, as a learner's
    // `.env` does: in a copy of this test binary, started with that environment (setting it in
    // this process would race with every thread that reads it). The endpoint is a base: for
    // HTTP the exporter appends /v1/traces.
    let runs = [
        ("http/protobuf", receiver.http_endpoint()),
        ("http/json", receiver.http_endpoint()),
        ("grpc", receiver.grpc_endpoint()),
    ];
    for (protocol, endpoint) in runs {
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "endpoint_and_headers_from_the_environment"])
            .env(CHILD, protocol)
            .env("OTEL_SERVICE_NAME", "from-the-environment")
            .env(
                "OTEL_EXPORTER_OTLP_HEADERS",
                "x-honeycomb-team=env-key,x-other=1",
            )
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", protocol)
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)
            .status()
            .unwrap();
        assert!(status.success(), "the {protocol} exporter's run: {status}");
    }

    let spans = runtime.block_on(receiver.wait_for_spans(3, Duration::from_secs(10)));
    let names: Vec<&str> = spans.iter().map(|span| span.name.as_str()).collect();
    assert_eq!(
        names,
        ["http/protobuf", "http/json", "grpc"],
        "rejected: {:#?}",
        receiver.rejected()
    );
    for span in &spans {
        assert_eq!(span.service_name(), Some("from-the-environment"));
    }
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
        assert_eq!(request.header("x-honeycomb-team"), Some("env-key"));
        assert_eq!(request.header("x-other"), Some("1"));
    }
}
