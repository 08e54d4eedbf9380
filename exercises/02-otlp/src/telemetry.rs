//! Telemetry for step 02: spans sent over OTLP, in batches, to a Collector, Jaeger or any OTLP
//! backend, under this service's name.
//!
//! The order of things, as in step 01:
//! 1. `main` calls [`init_traces`] first, before the server exists, so that no request goes
//!    untraced;
//! 2. `main` keeps the provider it returns for as long as the server runs;
//! 3. once the server has stopped, `main` calls [`shutdown`], which sends the spans still
//!    waiting in the batch. Skip it, and the last second of spans is lost.

// TODO(02): The exporter, the batch processor and the resource need more `use` lines here, one
//   for each item you use (a trait too, for its methods).
use opentelemetry::global;
use opentelemetry_sdk::trace::SdkTracerProvider;

// TODO(02): Send the spans over OTLP, in batches, under the service's own name:
//   - `init_traces` returns an `anyhow::Result` now: building the exporter can fail;
//   - the provider gets a resource that names the service (`resource`, below);
//   - the spans go to an OTLP exporter over HTTP with a protobuf body, as opentelemetry-rust's
//     `basic-otlp-http` example builds it: it reads OTEL_EXPORTER_OTLP_ENDPOINT and the other
//     OTEL_EXPORTER_OTLP_* variables by itself. A batch processor between them sends many
//     spans at a time, from a thread of its own, at `otelkit::batch_config()`'s pace;
//   - bonus: OTEL_TRACES_EXPORTER picks OTLP, the console or nothing (`otelkit::traces_exporter`).
//   Look up: opentelemetry-otlp's `SpanExporter`, its builder and `Protocol`; the SDK's
//   `BatchSpanProcessor` and the provider's builder.
//   https://docs.rs/opentelemetry-otlp/0.33.1/opentelemetry_otlp/struct.SpanExporterBuilder.html
//   https://docs.rs/opentelemetry_sdk/0.33.1/opentelemetry_sdk/trace/struct.BatchSpanProcessor.html
/// Builds the tracer provider, the factory of tracers, and installs it for the whole app.
pub fn init_traces() -> SdkTracerProvider {
    // The stdout exporter prints every span. A "simple" processor hands each span to it as soon
    // as the span ends: good for a first look, too slow for real traffic (step 02 batches).
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(opentelemetry_stdout::SpanExporter::default())
        .build();

    // Installed globally, `global::tracer(…)` anywhere in the app hands out tracers of this
    // provider. Until then it hands out tracers that record nothing.
    global::set_tracer_provider(provider.clone());
    // TODO(02): Return the provider as a success. And below, write `resource`: who sends the
    //   spans, named by `service.name`, which a backend groups spans by. The SDK's resource
    //   reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; when neither names the service,
    //   it says "unknown_service…", and then the app names itself "fib".
    //   Look up: the SDK's `Resource`, its builder, and how to read one attribute of it.
    //   https://docs.rs/opentelemetry_sdk/0.33.1/opentelemetry_sdk/struct.Resource.html
    provider
}

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
