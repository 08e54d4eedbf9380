use std::collections::HashMap;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use opentelemetry::metrics::{Counter, Histogram};
use opentelemetry::{KeyValue, global};
use opentelemetry_otlp::{MetricExporter, Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::{PeriodicReader, SdkMeterProvider};
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, HTTP_REQUEST_METHOD, HTTP_RESPONSE_STATUS_CODE, HTTP_ROUTE, URL_SCHEME,
};
use opentelemetry_semantic_conventions::metric::HTTP_SERVER_REQUEST_DURATION;
use otelkit::Exporter;

/// Builds the meter provider, the factory of meters, and installs it for the whole app, as
/// `init_traces` does for tracers: `global::meter(…)` then hands out meters of this provider.
pub fn init_metrics(
    resource: Resource,
    headers: HashMap<String, String>,
) -> anyhow::Result<SdkMeterProvider> {
    let provider = SdkMeterProvider::builder().with_resource(resource);
    let interval = otelkit::metric_export_interval()?;
    let provider = match otelkit::metrics_exporter()? {
        Exporter::Otlp => {
            // An instrument adds up what it records, in memory: a counter its sum, a histogram
            // its buckets. A reader collects those totals every few seconds (`otelkit`'s pace,
            // not the SDK's minute), and once more at shutdown, and gives them to the exporter,
            // which sends where the spans go, the same way: to `/v1/metrics` this time.
            let exporter = MetricExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary)
                .with_headers(headers)
                .build()?;
            let reader = PeriodicReader::builder(exporter)
                .with_interval(interval)
                .build();
            provider.with_reader(reader)
        }
        Exporter::Console => {
            let exporter = opentelemetry_stdout::MetricExporter::default();
            let reader = PeriodicReader::builder(exporter)
                .with_interval(interval)
                .build();
            provider.with_reader(reader)
        }
        Exporter::None => provider,
    }
    .build();
    global::set_meter_provider(provider.clone());
    Ok(provider)
}

/// The app's instruments, made once and shared, like the tracer: each `record` or `add` only
/// adds to totals kept in memory.
#[derive(Clone)]
pub struct Instruments {
    /// How long requests take, in seconds (`http.server.request.duration`).
    pub request_duration: Histogram<f64>,
    /// How many times `/fib` was asked for each index (`fib.calls`).
    pub fib_calls: Counter<u64>,
}

impl Instruments {
    /// Makes the instruments from the installed meter provider. The histogram's name, unit and
    /// buckets are the HTTP semantic conventions': every backend knows what they mean.
    pub fn new() -> Instruments {
        // A meter makes instruments, as a tracer makes spans.
        let meter = global::meter("fib");
        let request_duration = meter
            .f64_histogram(HTTP_SERVER_REQUEST_DURATION)
            .with_unit("s")
            .with_description("How long the server took to answer a request.")
            .with_boundaries(vec![
                0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
            ])
            .build();
        let fib_calls = meter
            .u64_counter("fib.calls")
            .with_unit("{call}")
            .with_description("How many times /fib was asked for each index.")
            .build();
        Instruments {
            request_duration,
            fib_calls,
        }
    }
}

/// Measures every request: how long it took, by method, route and status. A middleware of its
/// own, beside the one that traces: a metric and a span describe the same request, but neither
/// needs the other.
pub async fn record_duration(
    State(instruments): State<Instruments>,
    request: Request,
    next: Next,
) -> Response {
    // The clock starts as the request arrives. The metric is described with the few attributes
    // that have a handful of values, never the path or query: each distinct set of attributes
    // is a series of its own, kept in memory and sent every time.
    let started = Instant::now();
    let mut attributes = vec![
        KeyValue::new(HTTP_REQUEST_METHOD, request.method().as_str().to_owned()),
        KeyValue::new(URL_SCHEME, "http"),
    ];
    if let Some(route) = request.extensions().get::<MatchedPath>() {
        attributes.push(KeyValue::new(HTTP_ROUTE, route.as_str().to_owned()));
    }
    let response = next.run(request).await;

    // How it went: the same status and error type as the span's. The histogram adds the
    // duration, in seconds, to its bucket for these attributes.
    let status = response.status();
    attributes.push(KeyValue::new(
        HTTP_RESPONSE_STATUS_CODE,
        i64::from(status.as_u16()),
    ));
    if status.is_server_error() {
        attributes.push(KeyValue::new(ERROR_TYPE, status.as_str().to_owned()));
    }
    let seconds = started.elapsed().as_secs_f64();
    instruments.request_duration.record(seconds, &attributes);
    response
}
