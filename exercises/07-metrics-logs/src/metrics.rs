//! Metrics: numbers the app adds up in memory, and sends every few seconds.

// TODO(07): Write the app's metrics, in three parts:
//   1. `pub fn init_metrics(resource: Resource, headers: HashMap<String, String>)
//      -> anyhow::Result<SdkMeterProvider>`, built like `init_traces`:
//      `SdkMeterProvider::builder().with_resource(resource)`, and, for
//      `otelkit::metrics_exporter()?`'s `Exporter::Otlp`, a reader around the OTLP exporter:
//      `MetricExporter::builder()`, with the same `.with_http()`, `.with_protocol(…)` and
//      `.with_headers(headers)` as the span exporter, in
//      `PeriodicReader::builder(exporter).with_interval(…).build()`, given with `.with_reader(…)`. The reader sends what the instruments added up every 60 s unless told
//      otherwise: `otelkit::metric_export_interval()?` is a workshop's pace. `Console`: the
//      stdout exporter; `None`: no reader. Install the provider (`global::set_meter_provider`):
//      where will `global::meter(…)` find it otherwise?
//   2. `#[derive(Clone)] pub struct Instruments` with `pub request_duration: Histogram<f64>`
//      and `pub fib_calls: Counter<u64>` (`opentelemetry::metrics`), and `Instruments::new()`,
//      which makes them from a meter, `global::meter("fib")`, as spans come from a tracer:
//      - `http.server.request.duration` (`HTTP_SERVER_REQUEST_DURATION`, in
//        `opentelemetry_semantic_conventions::metric`): an `f64_histogram` of seconds
//        (`.with_unit("s")`), with the HTTP semantic conventions' buckets
//        (`.with_boundaries(…)`: 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5,
//        5, 7.5, 10);
//      - `fib.calls`: a `u64_counter`, unit `{call}`.
//   3. `pub async fn record_duration(State(instruments): State<Instruments>, request: Request,
//      next: Next) -> Response`, a middleware: start a clock as the request arrives
//      (`Instant::now()`), and note what the duration will be described with before
//      `next.run(request)` takes the request: the method, the scheme, the route. Why not the
//      path with its query, as on the span? Each distinct set of attributes is a series of its
//      own, kept in memory and sent every time. Then record how long it took, in seconds
//      (`as_secs_f64()`), in the histogram, with those attributes plus the status code and, for
//      a 5xx, `error.type`, as on the span.
