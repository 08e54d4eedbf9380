//! Logs: the app's own `tracing` events, made OpenTelemetry log records.

// TODO(07): Write `init_logs`, given the resource and the API key's headers: a logger provider
//   built like the tracer provider, its records sent in batches where the spans go, the same
//   way (OTEL_LOGS_EXPORTER picks OTLP, the console or nothing: `otelkit::logs_exporter`).
//
//   The app writes its events with `tracing`: a `tracing` subscriber with the bridge as a layer
//   makes them log records of this provider. Which events? hyper, reqwest and the SDK write
//   some too, while sending telemetry: what happens if those become records? A filter on the
//   bridge's layer keeps the app's own (their target is the crate's name, `CARGO_CRATE_NAME`),
//   from the info level up. And the console's warnings, which `main` installed alone until
//   now, are a layer of this subscriber: a process has one.
//   Look up: the SDK's `SdkLoggerProvider` and `BatchLogProcessor`, opentelemetry-otlp's
//   `LogExporter`, opentelemetry-appender-tracing's `OpenTelemetryTracingBridge`,
//   tracing-subscriber's `registry`, `Layer::with_filter` and `Targets`.
//   https://docs.rs/opentelemetry-appender-tracing/0.33.1/opentelemetry_appender_tracing/layer/struct.OpenTelemetryTracingBridge.html
//   https://docs.rs/tracing-subscriber/0.3.23/tracing_subscriber/filter/targets/struct.Targets.html
