//! Telemetry for step 05: spans sent over OTLP to a Collector or straight to a hosted backend,
//! with the backend's API key, and the W3C Trace Context propagator.
//!
//! Which backend is configuration only (`.env`): `OTEL_EXPORTER_OTLP_ENDPOINT` says where,
//! `OTEL_EXPORTER_OTLP_HEADERS` (or, for Honeycomb, `HONEYCOMB_API_KEY`) says who is sending.
//!
//! The order of things, as in step 01:
//! 1. `main` calls [`init_traces`] first, before the server exists, so that no request goes
//!    untraced;
//! 2. `main` keeps the provider it returns for as long as the server runs;
//! 3. once the server has stopped, `main` calls [`shutdown`], which sends the spans still
//!    waiting in the batch. Skip it, and the last second of spans is lost.

// TODO(05): The headers need more `use` lines here: the map that holds them, and the trait
//   whose method gives them to the exporter.
use opentelemetry::{Key, global};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{BatchSpanProcessor, SdkTracerProvider};
use otelkit::Exporter;

/// The name on this app's spans (`service.name`), unless `OTEL_SERVICE_NAME` gives another.
const SERVICE_NAME: &str = "fib";

/// Builds the tracer provider, the factory of tracers, and installs it for the whole app.
pub fn init_traces() -> anyhow::Result<SdkTracerProvider> {
    let provider = SdkTracerProvider::builder().with_resource(resource());

    // Where spans go: OTEL_TRACES_EXPORTER says; OTLP unless it says otherwise.
    let provider = match otelkit::traces_exporter()? {
        Exporter::Otlp => {
            // TODO(05): A hosted backend also wants to know who is sending: the exporter sends
            //   the backend's API key in a header with every export (your `api_key_headers`,
            //   below), beside those of OTEL_EXPORTER_OTLP_HEADERS.
            //   Look up: opentelemetry-otlp's `WithHttpConfig`.
            //   https://docs.rs/opentelemetry-otlp/0.33.1/opentelemetry_otlp/trait.WithHttpConfig.html
            // The OTLP exporter, over HTTP with a protobuf body: to
            // http://localhost:4318/v1/traces, or to the base that OTEL_EXPORTER_OTLP_ENDPOINT
            // names (it adds `/v1/traces`). It reads the other OTEL_EXPORTER_OTLP_* variables
            // by itself. When nothing listens there, the SDK says so only as a `tracing` event:
            // `sequence::warnings` (see main.rs) prints it, once.
            let exporter = SpanExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary)
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

// TODO(05): Write `api_key_headers` here: the headers a hosted backend needs, as a map from a
//   header's name to its value. Honeycomb reads its API key from the header `x-honeycomb-team`,
//   and the learner sets HONEYCOMB_API_KEY in .env: one header when the variable is set
//   (trimmed, and not empty), none otherwise. Any other vendor's headers come from
//   OTEL_EXPORTER_OTLP_HEADERS, which the exporter reads by itself. Never print the key.
//   Look up: `std::env::var`, `HashMap`.

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
