//! Logs: the app's own `tracing` events, made OpenTelemetry log records.

// TODO(07): Write `pub fn init_logs(resource: Resource, headers: HashMap<String, String>)
//   -> anyhow::Result<SdkLoggerProvider>`, built like `init_traces`:
//   `SdkLoggerProvider::builder().with_resource(resource)`, and, for
//   `otelkit::logs_exporter()?`'s `Exporter::Otlp`, a `BatchLogProcessor` around the OTLP
//   exporter: `LogExporter::builder()`, with the same `.with_http()`, `.with_protocol(…)` and
//   `.with_headers(…)` as the span exporter. `Console`: the stdout exporter; `None`: nothing.
//
//   The app writes events with `tracing`; a subscriber with the layer
//   `OpenTelemetryTracingBridge::new(&provider)` (`opentelemetry_appender_tracing::layer`) makes
//   them log records: `tracing_subscriber::registry().with(…).try_init()?`. Which events? hyper,
//   reqwest and the SDK write some too, while sending telemetry: what happens if those become
//   records? A filter on the layer keeps the app's own:
//   `.with_filter(Targets::new().with_target(env!("CARGO_CRATE_NAME"), Level::INFO))`
//   (`tracing_subscriber::filter::Targets`, `tracing::Level`). And the console's warnings,
//   which `main` installed alone until now, are a layer of this subscriber:
//   `.with(sequence::warnings::layer())`.
