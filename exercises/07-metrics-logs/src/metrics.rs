//! Metrics: numbers the app adds up in memory, and sends every few seconds.

// TODO(07): Write the app's metrics, in three parts:
//   1. `init_metrics`, given the resource and the API key's headers: a meter provider built like
//      the tracer provider, whose exporter sends where the spans go, the same way. Metrics are
//      not sent as they come: a reader collects what the instruments added up and exports it,
//      every 60 s unless told otherwise (`otelkit::metric_export_interval` is a workshop's
//      pace). OTEL_METRICS_EXPORTER picks OTLP, the console or nothing
//      (`otelkit::metrics_exporter`). Install the provider: where will `global::meter` find it
//      otherwise?
//   2. `Instruments`, made once from a meter and shared, as spans come from a tracer:
//      `http.server.request.duration`, a histogram of seconds with the HTTP semantic
//      conventions' name and buckets (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1,
//      2.5, 5, 7.5, 10); and `fib.calls`, a counter of calls, unit `{call}`.
//   3. `record_duration`, a middleware that records how long each request took, in seconds,
//      with its method, scheme and route, its status code, and `error.type` for a 5xx, as on
//      the span. Why not the path with its query, as on the span? Each distinct set of
//      attributes is a series of its own, kept in memory and sent every time.
//   Look up: the SDK's `SdkMeterProvider` and `PeriodicReader`, opentelemetry-otlp's
//   `MetricExporter`, `Meter`, `HistogramBuilder`; the conventions' `metric` module.
//   https://docs.rs/opentelemetry_sdk/0.33.1/opentelemetry_sdk/metrics/struct.PeriodicReader.html
//   https://docs.rs/opentelemetry/0.33.1/opentelemetry/metrics/struct.Meter.html
//   https://docs.rs/opentelemetry-semantic-conventions/0.33.1/opentelemetry_semantic_conventions/metric/index.html
