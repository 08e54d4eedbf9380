//! Telemetry for step 08: traces, metrics and logs over OTLP as in step 07, the traces now
//! sampled: a share of them kept, decided at the root of each trace (`sampler.rs`).
//!
//! Run with: `./run.sh 08 --solution`, with `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` in
//! `.env` (see `.env.example`).
//!
//! The order of things, as in step 07:
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
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use otelkit::Exporter;

// TODO(08): Your `sampler` module needs to be in this `use` line too.
use crate::{logs, metrics};

/// The name on this app's spans (`service.name`), unless `OTEL_SERVICE_NAME` gives another.
const SERVICE_NAME: &str = "fib";

/// The app's three providers. `main` keeps them for as long as the server runs, then hands them
/// to [`shutdown`]: a provider that is dropped instead sends nothing more.
pub struct Telemetry {
    tracer_provider: SdkTracerProvider,
    meter_provider: SdkMeterProvider,
    logger_provider: SdkLoggerProvider,
}

/// Sets up the three signals, traces first as before, and returns their providers.
pub fn init() -> anyhow::Result<Telemetry> {
    Ok(Telemetry {
        tracer_provider: init_traces()?,
        meter_provider: metrics::init_metrics(resource(), api_key_headers())?,
        logger_provider: logs::init_logs(resource(), api_key_headers())?,
    })
}

/// Builds the tracer provider, the factory of tracers, and installs it for the whole app.
pub fn init_traces() -> anyhow::Result<SdkTracerProvider> {
    // TODO(08): Which traces to keep: the provider gets your sampler, from `sampler.rs`. Without
    //   one, the SDK reads OTEL_TRACES_SAMPLER by itself, and a typo in it (`0,25`) makes it
    //   keep everything without a word.
    //   Look up: `TracerProviderBuilder::with_sampler`.
    //   https://docs.rs/opentelemetry_sdk/0.33.1/opentelemetry_sdk/trace/struct.TracerProviderBuilder.html#method.with_sampler
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

/// Sends what is left of each signal, then stops the exporters. Call it after the server has
/// stopped.
pub async fn shutdown(telemetry: Telemetry) {
    let Telemetry {
        tracer_provider,
        meter_provider,
        logger_provider,
    } = telemetry;
    // One after the other, in the order opentelemetry-rust's examples use: traces, metrics,
    // then logs, so that a record written while the others shut down still goes out. Each blocks
    // until its exporter is done: on a thread meant for blocking. A failure does not stop the rest.
    let failures = tokio::task::spawn_blocking(move || {
        [
            ("tracer", tracer_provider.shutdown()),
            ("meter", meter_provider.shutdown()),
            ("logger", logger_provider.shutdown()),
        ]
        .into_iter()
        .filter_map(|(provider, result)| {
            Some(format!("the {provider} provider: {}", result.err()?))
        })
        .collect::<Vec<_>>()
    })
    .await;
    match failures {
        Ok(failures) => {
            for failure in failures {
                eprintln!("telemetry: shutting down {failure}");
            }
        }
        Err(err) => eprintln!("telemetry: shutting down: {err}"),
    }
}
