//! Telemetry for step 02: spans sent over OTLP, in batches, to a Collector, Jaeger or any OTLP
//! backend, under this service's name.
//!
//! The order of things, as in step 01:
//! 1. `main` calls [`init_traces`] first, before the server exists, so that no request goes
//!    untraced;
//! 2. `main` keeps the provider it returns for as long as the server runs;
//! 3. once the server has stopped, `main` calls [`shutdown`], which sends the spans still
//!    waiting in the batch. Skip it, and the last second of spans is lost.

// TODO(02): You will need these; uncomment them as you use them:
//   use opentelemetry::Key;
//   use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
//   use opentelemetry_sdk::Resource;
//   use opentelemetry_sdk::trace::BatchSpanProcessor;
//   use otelkit::Exporter;
use opentelemetry::global;
use opentelemetry_sdk::trace::SdkTracerProvider;

// TODO(02): Send spans over OTLP, in batches, under a name of their own. `init_traces` now
//   returns `anyhow::Result<SdkTracerProvider>`, and builds the provider in three parts:
//   1. a resource that names the service (see `resource` below), given with `.with_resource`;
//   2. an OTLP exporter over HTTP with a protobuf body, as in opentelemetry-rust's
//      `basic-otlp-http` example: `SpanExporter::builder().with_http()
//      .with_protocol(Protocol::HttpBinary).build()?` (it reads OTEL_EXPORTER_OTLP_ENDPOINT and
//      the other OTEL_EXPORTER_OTLP_* variables by itself), wrapped in a batch processor:
//      `BatchSpanProcessor::builder(exporter).with_batch_config(otelkit::batch_config()).build()`,
//      given with `.with_span_processor(processor)` instead of `.with_simple_exporter(…)`;
//   3. bonus: honour OTEL_TRACES_EXPORTER (`otelkit::traces_exporter()?`): `Otlp` as above,
//      `Console` the stdout exporter as before, `None` no exporter at all.
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
    // TODO(02): return `Ok(provider)`, and add this function below.
    //
    //   /// Who sends the spans: a resource, whose `service.name` a backend groups spans by.
    //   fn resource() -> Resource
    //     `Resource::builder().build()` reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES.
    //     When neither names the service, its `service.name` starts with "unknown_service":
    //     then build `Resource::builder().with_service_name("fib").build()` instead.
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
