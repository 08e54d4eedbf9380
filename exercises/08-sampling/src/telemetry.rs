//! Telemetry for step 08: traces, metrics and logs over OTLP as in step 07, and a sampler that
//! keeps a share of the traces, each kept span saying how many it stands for.
//!
//! Run with: `./run.sh 08`, with `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` in
//! `.env` (see `.env.example`).
//!
//! Each signal has its own provider, built the same way: a resource (who sends), an exporter
//! (where to), and something between them that decides when to send. For spans it is a batch
//! processor; for metrics, a periodic reader that collects the instruments' totals every few
//! seconds; for log records, a batch processor again. Everything else is shared: the
//! resource, the OTLP transport (`OTEL_EXPORTER_OTLP_PROTOCOL`), the endpoint, the headers and
//! the API key.
//!
//! The order of things, as in step 01, now for three providers:
//! 1. `main` calls [`init`] first, before the server exists, so that no request goes untraced,
//!    unmeasured or unlogged;
//! 2. `main` keeps the [`Telemetry`] it returns, the three providers, for as long as the server
//!    runs;
//! 3. once the server has stopped, `main` calls [`shutdown`], which sends what is still waiting:
//!    the last spans and log records, and the metrics' final totals.

use std::collections::HashMap;

use axum::http::HeaderMap;
// TODO(08): You will need these too: `opentelemetry::trace::{Link, SpanKind, TraceId}`,
//           `opentelemetry::{Context, KeyValue}`, and from `opentelemetry_sdk::trace`: `Sampler`,
//           `SamplingDecision`, `SamplingResult`, `ShouldSample`.
use opentelemetry::{Key, global};
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_otlp::tonic_types::metadata::MetadataMap;
use opentelemetry_otlp::tonic_types::transport::ClientTlsConfig;
use opentelemetry_otlp::{
    LogExporter, MetricExporter, Protocol, SpanExporter, WithExportConfig, WithHttpConfig,
    WithTonicConfig,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{BatchLogProcessor, SdkLoggerProvider};
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use otelkit::{Exporter, Reported, Signal};
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

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
        meter_provider: init_metrics()?,
        logger_provider: init_logs()?,
    })
}

/// Builds the tracer provider, the factory of tracers, and installs it for the whole app.
pub fn init_traces() -> anyhow::Result<SdkTracerProvider> {
    // TODO(08): Which traces to keep. The SDK reads OTEL_TRACES_SAMPLER and _ARG by itself,
    //           but a typo (`0,25`) makes it keep everything without a word:
    //           `otelkit::head_sampler()?` reads them the same way and refuses what it cannot
    //           read. Give its sampler to the builder (`.with_sampler(…)`), wrapped in your
    //           `WithSampleRate` (below), so that every kept span says how many it stands for.
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

/// Builds the meter provider, the factory of meters, and installs it for the whole app, as
/// `init_traces` does for tracers: `global::meter(…)` then hands out meters of this provider.
pub fn init_metrics() -> anyhow::Result<SdkMeterProvider> {
    // An instrument adds up what it records, in memory: a counter its sum, a histogram its
    // buckets. A reader collects those totals and gives them to the exporter.
    let provider = SdkMeterProvider::builder().with_resource(resource());
    let provider = match otelkit::metrics_exporter()? {
        Exporter::Otlp => provider.with_reader(periodic_reader(metric_exporter()?)?),
        Exporter::Console => provider.with_reader(periodic_reader(
            opentelemetry_stdout::MetricExporter::default(),
        )?),
        Exporter::None => provider,
    }
    .build();
    global::set_meter_provider(provider.clone());
    Ok(provider)
}

/// A reader that collects the metrics every few seconds (`otelkit::metric_export_interval`, not
/// the SDK's minute), and once more at shutdown, and exports them from a thread of its own.
fn periodic_reader<E: PushMetricExporter>(exporter: E) -> anyhow::Result<PeriodicReader<E>> {
    Ok(PeriodicReader::builder(exporter)
        .with_interval(otelkit::metric_export_interval()?)
        .build())
}

/// Builds the logger provider, and makes the app's `tracing` events its log records.
pub fn init_logs() -> anyhow::Result<SdkLoggerProvider> {
    let provider = SdkLoggerProvider::builder().with_resource(resource());
    let provider = match otelkit::logs_exporter()? {
        // Like spans: queued, and sent in batches from a thread of its own, every second.
        Exporter::Otlp => {
            provider.with_log_processor(BatchLogProcessor::builder(log_exporter()?).build())
        }
        Exporter::Console => {
            provider.with_simple_exporter(opentelemetry_stdout::LogExporter::default())
        }
        Exporter::None => provider,
    }
    .build();

    // The app writes its log events with `tracing` (`info!`, `warn!`, `error!`), as most Rust
    // code does: OpenTelemetry has no logging macros of its own, only a bridge from the logging
    // libraries there are. The bridge below makes each event a log record of this provider,
    // which stamps it with the trace id and span id of the current context
    // (`Context::current()`): the span of the request the event was written in. That is what
    // ties a log line to its trace.
    //
    // Only the app's own events (its crate's name is their target): hyper, reqwest, h2, tonic
    // and the SDK write events too, some while sending telemetry. Made into log records, they
    // would be sent, and log their own sending, and so on.
    let own_events = Targets::new().with_target(env!("CARGO_CRATE_NAME"), Level::INFO);
    tracing_subscriber::registry()
        .with(OpenTelemetryTracingBridge::new(&provider).with_filter(own_events))
        .try_init()?;
    Ok(provider)
}

// TODO(08): A sampler of your own, `WithSampleRate`: it holds the SDK's `Sampler` and the rate,
//           round(1 / ratio), e.g. 4 for 0.25, and implements `ShouldSample`. Its
//           `should_sample` asks the inner sampler, and when the decision is
//           `SamplingDecision::RecordAndSample`, adds `KeyValue::new("SampleRate", rate)` (an
//           integer) to the result's attributes: the SDK puts them on the span. Why: a backend
//           that sees one trace in four must count each as four (Honeycomb reads `SampleRate`).

/// Who sends the telemetry: a resource, whose `service.name` a backend groups spans, metrics and
/// log records by. One resource for the three signals, so that a backend can tell they come
/// from the same app.
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

/// The OTLP exporter of metrics: the same transport, endpoint and headers as the spans'. Over
/// HTTP it appends `/v1/metrics` to the endpoint instead of `/v1/traces`.
fn metric_exporter() -> anyhow::Result<Reported<MetricExporter>> {
    let protocol = otelkit::otlp_protocol()?;
    let headers = api_key_headers();
    let exporter = match protocol {
        Protocol::Grpc => MetricExporter::builder()
            .with_tonic()
            .with_tls_config(ClientTlsConfig::new().with_native_roots())
            .with_metadata(MetadataMap::from_headers(HeaderMap::try_from(&headers)?))
            .build()?,
        http => MetricExporter::builder()
            .with_http()
            .with_protocol(http)
            .with_headers(headers)
            .build()?,
    };
    // The three exporters share what `Reported` knows: an unreachable endpoint is said once.
    let destination = otelkit::otlp_destination_of(Signal::Metrics, protocol);
    Ok(Reported::new(exporter, destination))
}

/// The OTLP exporter of log records, likewise (`/v1/logs` over HTTP).
fn log_exporter() -> anyhow::Result<Reported<LogExporter>> {
    let protocol = otelkit::otlp_protocol()?;
    let headers = api_key_headers();
    let exporter = match protocol {
        Protocol::Grpc => LogExporter::builder()
            .with_tonic()
            .with_tls_config(ClientTlsConfig::new().with_native_roots())
            .with_metadata(MetadataMap::from_headers(HeaderMap::try_from(&headers)?))
            .build()?,
        http => LogExporter::builder()
            .with_http()
            .with_protocol(http)
            .with_headers(headers)
            .build()?,
    };
    let destination = otelkit::otlp_destination_of(Signal::Logs, protocol);
    Ok(Reported::new(exporter, destination))
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
    // Each `shutdown` blocks until its exporter is done: run them on threads meant for
    // blocking, not on the few that run async tasks; and all three at once, so that a backend
    // that does not answer costs one timeout, not three.
    let Telemetry {
        tracer_provider,
        meter_provider,
        logger_provider,
    } = telemetry;
    let (traces, metrics, logs) = tokio::join!(
        tokio::task::spawn_blocking(move || tracer_provider.shutdown()),
        tokio::task::spawn_blocking(move || meter_provider.shutdown()),
        tokio::task::spawn_blocking(move || logger_provider.shutdown()),
    );
    for (provider, result) in [("tracer", traces), ("meter", metrics), ("logger", logs)] {
        match result {
            Ok(Ok(())) => {}
            Ok(Err(err)) => eprintln!("telemetry: shutting down the {provider} provider: {err}"),
            Err(err) => eprintln!("telemetry: shutting down the {provider} provider: {err}"),
        }
    }
}
