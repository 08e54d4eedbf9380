//! Telemetry for step 02 with `tracing`: the tracer provider of `solutions/02-otlp` (OTLP, in
//! batches, `service.name` = `fib`), and a `tracing` subscriber whose OpenTelemetry layer turns
//! this app's `tracing` spans into OpenTelemetry spans of that provider.

use opentelemetry::Key;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use otelkit::Exporter;
use tracing::Level;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// The name on this app's spans (`service.name`), unless `OTEL_SERVICE_NAME` gives another.
const SERVICE_NAME: &str = "fib";

/// This crate's `tracing` target (its module path): the only spans and events we export.
const OUR_TARGET: &str = env!("CARGO_CRATE_NAME");

/// Builds the tracer provider and installs the `tracing` subscriber that feeds it. Keep the
/// provider, and pass it to [`shutdown`] at the end.
pub fn init_traces() -> anyhow::Result<SdkTracerProvider> {
    let provider = SdkTracerProvider::builder().with_resource(resource());
    let provider = match otelkit::traces_exporter()? {
        Exporter::Otlp => {
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

    // The bridge. It holds a tracer of its own, so no global tracer provider is needed; that
    // tracer also keeps the provider alive, which is why `main` must shut it down explicitly.
    let otel = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("fib"))
        // The bridge's own extra attributes (code location, thread, target, busy/idle times):
        // off, so that the spans carry what the solutions' spans carry.
        .with_location(false)
        .with_threads(false)
        .with_target(false)
        .with_tracked_inactivity(false)
        // Only this app's spans and events. Without a filter, hyper's, reqwest's, h2's and
        // tonic's debug events would become span events.
        .with_filter(Targets::new().with_target(OUR_TARGET, Level::DEBUG));

    // The console, filtered on its own. One global filter for both (`warn`, say) would also hide
    // the INFO spans from the OpenTelemetry layer, and the traces would fall apart.
    let console = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(Targets::new().with_target(OUR_TARGET, Level::INFO));

    tracing_subscriber::registry()
        .with(otel)
        .with(console)
        // The SDK's export errors, said once (see `sequence::warnings`).
        .with(sequence::warnings::layer())
        .try_init()?;
    Ok(provider)
}

/// `service.name` from `OTEL_SERVICE_NAME` or `OTEL_RESOURCE_ATTRIBUTES`, else `fib`.
fn resource() -> Resource {
    let resource = Resource::builder().build();
    match resource.get(&Key::from_static_str("service.name")) {
        Some(name) if !name.as_str().starts_with("unknown_service") => resource,
        _ => Resource::builder().with_service_name(SERVICE_NAME).build(),
    }
}

/// OTLP over HTTP/protobuf: it reads `OTEL_EXPORTER_OTLP_ENDPOINT` and the rest by itself.
fn otlp_exporter() -> anyhow::Result<SpanExporter> {
    Ok(SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .build()?)
}

/// Sends what is left, then stops the exporter. Call it after the server has stopped.
pub async fn shutdown(provider: SdkTracerProvider) {
    // It blocks until the exporter is done: on a blocking thread, not an async worker.
    match tokio::task::spawn_blocking(move || provider.shutdown()).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => eprintln!("telemetry: shutting down the tracer provider: {err}"),
        Err(err) => eprintln!("telemetry: shutting down the tracer provider: {err}"),
    }
}
