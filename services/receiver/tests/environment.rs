//! The receiver's endpoints are the values a learner puts in `OTEL_EXPORTER_OTLP_ENDPOINT`, and an
//! API key in `OTEL_EXPORTER_OTLP_HEADERS` arrives as a header: configured by environment alone,
//! as step 05 does.
//!
//! One test in a binary of its own, because it sets environment variables, which are global to
//! the process: no other test may be running (or reading them) meanwhile.

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

#[test]
fn endpoint_and_headers_from_the_environment() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let receiver = runtime.block_on(Receiver::start()).unwrap();
    let set = |name: &str, value: &str| {
        // SAFETY: this binary's only test, so no other thread of ours reads the environment
        // meanwhile; the runtime's idle workers do not read it.
        unsafe { std::env::set_var(name, value) }
    };
    set("OTEL_SERVICE_NAME", "from-the-environment");
    set(
        "OTEL_EXPORTER_OTLP_HEADERS",
        "x-honeycomb-team=env-key,x-other=1",
    );

    // One exporter per protocol, each chosen and pointed by the environment alone, as a learner's
    // `.env` does. The endpoint is a base: for HTTP the exporter appends /v1/traces.
    let runs = [
        ("http/protobuf", receiver.http_endpoint()),
        ("http/json", receiver.http_endpoint()),
        ("grpc", receiver.grpc_endpoint()),
    ];
    for (protocol, endpoint) in runs {
        set("OTEL_EXPORTER_OTLP_PROTOCOL", protocol);
        set("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint);
        // Built inside the runtime: the gRPC exporter needs one.
        let exporter = runtime
            .block_on(async { SpanExporter::builder().build() })
            .unwrap();
        // Blocking, on a thread of the runtime's pool, while the receiver serves on its workers.
        runtime
            .block_on(runtime.spawn_blocking(move || send_one_span(exporter, protocol)))
            .unwrap();
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
