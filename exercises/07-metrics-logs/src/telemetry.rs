//! Telemetry, step 07: your work. Spans already go over OTLP to a Collector, the explorer or a
//! hosted backend (steps 02 to 05); metrics and logs are to go the same way, from the same app.
//!
//! Run with: `./run.sh 07` (or `cargo run -p exercise-07-metrics-logs`), and check with
//! `./run.sh check 07`.
//!
//! Each signal has its own provider, built like the tracer provider: a resource (who sends), an
//! exporter (where to), and something between them that decides when to send. Everything else
//! is shared: the resource, the OTLP transport, the endpoint, the headers and the API key.
//!
//! The order of things, as in step 01:
//! 1. `main` calls [`init_traces`] first, before the server exists, so that no request goes
//!    untraced;
//! 2. `main` keeps the provider it returns for as long as the server runs;
//! 3. once the server has stopped, `main` calls [`shutdown`], which sends the spans still
//!    waiting in the batch. Skip it, and the last second of spans is lost.

use std::collections::HashMap;

// TODO(07): Metrics and logs bring types of their own: a provider each
//           (`opentelemetry_sdk::metrics`, `opentelemetry_sdk::logs`), a reader for the one and a
//           batch processor for the other, their OTLP exporters (`opentelemetry_otlp`), and, for
//           the logs, the bridge from `tracing` (`opentelemetry_appender_tracing::layer`) and a
//           filter for it (`tracing_subscriber::filter::Targets`).
use axum::http::HeaderMap;
use opentelemetry::{Key, global};
use opentelemetry_otlp::tonic_types::metadata::MetadataMap;
use opentelemetry_otlp::tonic_types::transport::ClientTlsConfig;
use opentelemetry_otlp::{
    Protocol, SpanExporter, WithExportConfig, WithHttpConfig, WithTonicConfig,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use otelkit::{Exporter, Reported};

/// The name on this app's spans (`service.name`), unless `OTEL_SERVICE_NAME` gives another.
const SERVICE_NAME: &str = "fib";

// TODO(07): Three signals, three providers, and `main` must keep every one of them until it
//           shuts them down. How could it hold them as one thing? A struct of the three, say,
//           and an `init()` that builds it (traces first, as before) for `main` to call instead
//           of `init_traces()`.
/// Builds the tracer provider, the factory of tracers, and installs it for the whole app.
pub fn init_traces() -> anyhow::Result<SdkTracerProvider> {
    let provider = SdkTracerProvider::builder().with_resource(resource());

    // Where spans go: OTEL_TRACES_EXPORTER says; OTLP unless it says otherwise.
    let provider = match otelkit::traces_exporter()? {
        Exporter::Otlp => {
            // A batch processor queues finished spans and sends them from a thread of its own,
            // many per request, every second (`otelkit::batch_config`): the request path only
            // pays for putting a span in the queue.
            let processor = BatchSpanProcessor::builder(otlp_exporter()?)
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

// TODO(07): Beside `init_traces`, an `init_metrics` and an `init_logs`, built the same way:
//           - metrics: `SdkMeterProvider::builder()` and a `PeriodicReader` around the exporter.
//             The reader sends what the instruments added up, every 60 s unless told otherwise
//             (`otelkit::metric_export_interval()` is a workshop's pace). Install the provider
//             (`global::set_meter_provider`): where will `global::meter(…)` find it otherwise?
//           - logs: `SdkLoggerProvider::builder()` and a `BatchLogProcessor` around the exporter.
//             The app writes events with `tracing`; a subscriber with the layer
//             `OpenTelemetryTracingBridge::new(&provider)` makes them log records. Which events?
//             hyper, reqwest and the SDK write some too, while sending telemetry: what happens if
//             those become records? A `Targets` filter on the layer keeps the app's own.
//           `otelkit::metrics_exporter()` and `otelkit::logs_exporter()` read
//           OTEL_METRICS_EXPORTER and OTEL_LOGS_EXPORTER, as `traces_exporter()` does. And the
//           resource: why would a backend want the same `service.name` on all three signals?
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

/// The OTLP exporter: HTTP/protobuf to port 4318 by default, gRPC to port 4317 with
/// `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`. Both read `OTEL_EXPORTER_OTLP_ENDPOINT`, `_HEADERS` and
/// `_TIMEOUT` by themselves.
fn otlp_exporter() -> anyhow::Result<Reported<SpanExporter>> {
    let protocol = otelkit::otlp_protocol()?;
    let headers = api_key_headers();
    let exporter = match protocol {
        Protocol::Grpc => {
            // gRPC carries headers as "metadata". To an https:// endpoint (a hosted backend), it
            // trusts the system's root certificates only when told to.
            let metadata = MetadataMap::from_headers(HeaderMap::try_from(&headers)?);
            SpanExporter::builder()
                .with_tonic()
                .with_tls_config(ClientTlsConfig::new().with_native_roots())
                .with_metadata(metadata)
                .build()?
        }
        http => SpanExporter::builder()
            .with_http()
            .with_protocol(http)
            .with_headers(headers)
            .build()?,
    };
    // The SDK keeps export errors to itself; `Reported` says once when nothing is listening.
    Ok(Reported::new(exporter, otelkit::otlp_destination(protocol)))
}

// TODO(07): Metrics and logs go where the spans go, the same way: `MetricExporter::builder()`
//           and `LogExporter::builder()` take the same `.with_http()` or `.with_tonic()` as the
//           span exporter above, and the same headers (the API key). Wrap each in `Reported` too,
//           with `otelkit::otlp_destination_of(…)`: when nothing listens, how many times should
//           the app say so?
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
//           and log records, and the metrics' final totals (a short run gets its metrics only
//           then). Each `shutdown` blocks until its exporter is done: one after the other, or
//           all three at once? Say which one failed, if one does.
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
