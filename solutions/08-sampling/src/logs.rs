//! Logs: the app's own `tracing` events, made OpenTelemetry log records, each carrying the
//! trace id and span id of the request it was written in.
//!
//! The app writes its log events with `tracing` (`info!`, `warn!`, `error!`), as most Rust code
//! does: OpenTelemetry has no logging macros of its own, only bridges from the logging
//! libraries there are. [`init_logs`] builds the logger provider, as `telemetry::init_traces`
//! builds the tracer provider, and installs the bridge.

use std::collections::HashMap;

use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_otlp::{LogExporter, Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{BatchLogProcessor, SdkLoggerProvider};
use otelkit::Exporter;
use tracing::Level;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

/// Builds the logger provider, and makes the app's `tracing` events its log records.
pub fn init_logs(
    resource: Resource,
    headers: HashMap<String, String>,
) -> anyhow::Result<SdkLoggerProvider> {
    let provider = SdkLoggerProvider::builder().with_resource(resource);
    let provider = match otelkit::logs_exporter()? {
        // Like spans: queued, and sent in batches from a thread of its own, every second. Where
        // the spans go, the same way: over HTTP, to `/v1/logs` this time.
        Exporter::Otlp => {
            let exporter = LogExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary)
                .with_headers(headers)
                .build()?;
            provider.with_log_processor(BatchLogProcessor::builder(exporter).build())
        }
        Exporter::Console => {
            provider.with_simple_exporter(opentelemetry_stdout::LogExporter::default())
        }
        Exporter::None => provider,
    }
    .build();

    // The bridge makes each event a log record of this provider, which stamps it with the trace
    // id and span id of the current context (`Context::current()`): the span of the request
    // the event was written in. That is what ties a log line to its trace.
    //
    // Only the app's own events (its crate's name is their target): hyper, reqwest, h2 and the
    // SDK write events too, some while sending telemetry. Made into log records, they would be
    // sent, and log their own sending, and so on.
    let own_events = Targets::new().with_target(env!("CARGO_CRATE_NAME"), Level::INFO);
    tracing_subscriber::registry()
        .with(OpenTelemetryTracingBridge::new(&provider).with_filter(own_events))
        // The console's warnings, which `main` installed alone until this step: a process has
        // one subscriber, so they are a layer of this one now.
        .with(sequence::warnings::layer())
        .try_init()?;
    Ok(provider)
}
