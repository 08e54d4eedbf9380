//! Telemetry for step 07: the three signals of OpenTelemetry, traces, metrics and logs, sent
//! over OTLP to one endpoint, under one resource, and shut down together.
//!
//! Run with: `./run.sh 07 --solution`, press **Go**, and open the explorer's **Metrics** and
//! **Logs** pages beside its traces.
//!
//! Each signal has its own provider, built the same way: a resource (who sends), an exporter
//! (where to), and something between them that decides when to send. The traces' provider is
//! here, as in every step; the metrics' is in `metrics.rs`, the logs' in `logs.rs`. What they
//! share is here too: the resource and the API key.
//!
//! The order of things, as in step 01, now for three providers:
//! 1. `main` calls [`init`] first, before the server exists, so that no request goes untraced,
//!    unmeasured or unlogged;
//! 2. `main` keeps the [`Telemetry`] it returns, the three providers, for as long as the server
//!    runs;
//! 3. once the server has stopped, `main` calls [`shutdown`], which sends what is still waiting:
//!    the last spans and log records, and the metrics' final totals.

use std::collections::HashMap;

use opentelemetry::{Key, global};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
// TODO(07): The other two signals' providers, and your `logs` and `metrics` modules, need `use`
//   lines here.
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use otelkit::Exporter;

/// The name on this app's spans (`service.name`), unless `OTEL_SERVICE_NAME` gives another.
const SERVICE_NAME: &str = "fib";

// TODO(07): Three signals, three providers, and `main` must keep every one of them until it
//   shuts them down. How could it hold them as one thing? Write that thing, `Telemetry`, and
//   `init`, which sets up the three for `main`: traces first, as before, then your metrics and
//   logs. Metrics and logs get the spans' resource: why would a backend want the same
//   `service.name` on all three signals? And the same API key's headers.
/// Builds the tracer provider, the factory of tracers, and installs it for the whole app.
pub fn init_traces() -> anyhow::Result<SdkTracerProvider> {
    let provider = SdkTracerProvider::builder().with_resource(resource());

    // Where spans go: OTEL_TRACES_EXPORTER says; OTLP unless it says otherwise.
    let provider = match otelkit::traces_exporter()? {
        Exporter::Otlp => {
            // The OTLP exporter, over HTTP with a protobuf body: to
            // http://localhost:4318/v1/traces, or to the base that OTEL_EXPORTER_OTLP_ENDPOINT
            // names (it adds `/v1/traces`). It reads the other OTEL_EXPORTER_OTLP_* variables
            // by itself. When nothing listens there, the SDK says so only as a `tracing` event:
            // `sequence::warnings` (see main.rs) prints it, once. A hosted backend also wants to know who is sending: its API key
            // goes in a header, with every export.
            let exporter = SpanExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary)
                .with_headers(api_key_headers())
                .build()?;
            // A batch processor queues finished spans and sends them from a thread of its own,
            // many per request, every second (`otelkit::batch_config`): the request path only
            // pays for putting a span in the queue.
            let processor = BatchSpanProcessor::builder(exporter)
                .with_batch_config(otelkit::batch_config())
                .build();
            provider.with_span_processor(processor)
        }
        Exporter::Console => {
            provider.with_simple_exporter(opentelemetry_stdout::SpanExporter::default())
        }
        Exporter::None => provider,
    }
    .build();

    // Installed globally, `global::tracer(…)` anywhere in the app hands out tracers of this
    // provider. Until then it hands out tracers that record nothing.
    global::set_tracer_provider(provider.clone());

    // How a trace crosses from one process to the next: the W3C Trace Context propagator
    // reads and writes the `traceparent` header. There is none by default, and then nothing
    // is sent and every request starts a trace of its own.
    global::set_text_map_propagator(TraceContextPropagator::new());
    Ok(provider)
}

/// Who sends the spans: a resource, whose `service.name` a backend groups spans by.
fn resource() -> Resource {
    // The SDK reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES by itself. Given neither, it
    // names us `unknown_service:<binary>`: name ourselves instead.
    let resource = Resource::builder().build();
    match resource.get(&Key::from_static_str("service.name")) {
        Some(name) if !name.as_str().starts_with("unknown_service") => resource,
        _ => Resource::builder().with_service_name(SERVICE_NAME).build(),
    }
}

/// The headers a hosted backend needs with every export, beyond `OTEL_EXPORTER_OTLP_HEADERS`
/// (which the exporter reads by itself, for any vendor): for Honeycomb, its API key.
///
/// The key is a secret: it lives in `.env`, goes into this header, and is never printed.
fn api_key_headers() -> HashMap<String, String> {
    let mut headers = HashMap::new();
    if let Ok(key) = std::env::var("HONEYCOMB_API_KEY")
        && !key.trim().is_empty()
    {
        headers.insert("x-honeycomb-team".to_string(), key.trim().to_string());
    }
    headers
}

// TODO(07): Shut all three providers down, each sending what it still holds: the last spans
//   and log records, and the metrics' final totals (a short run gets its metrics only then).
//   opentelemetry-rust's examples shut down traces, then metrics, then logs, one after the
//   other: why logs last? On a thread meant for blocking, as before; and say which one failed,
//   if one does: the others still shut down.
//   Look up: `SdkMeterProvider::shutdown`, `SdkLoggerProvider::shutdown`.
//   https://docs.rs/opentelemetry_sdk/0.33.1/opentelemetry_sdk/metrics/struct.SdkMeterProvider.html
//   https://docs.rs/opentelemetry_sdk/0.33.1/opentelemetry_sdk/logs/struct.SdkLoggerProvider.html
/// Sends what is left, then stops the exporter. Call it after the server has stopped.
pub async fn shutdown(provider: SdkTracerProvider) {
    // `shutdown` blocks until the exporter is done: run it on a thread meant for blocking,
    // not on one of the few threads that run async tasks.
    match tokio::task::spawn_blocking(move || provider.shutdown()).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => eprintln!("telemetry: shutting down the tracer provider: {err}"),
        Err(err) => eprintln!("telemetry: shutting down the tracer provider: {err}"),
    }
}
