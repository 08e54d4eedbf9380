//! What the app benchmarks share: finding a release binary, timing one request, and a sink for
//! the spans an app exports.

// Each benchmark compiles this module into itself and uses only part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;

/// The binary named by `variable`, or else `package`'s release build.
pub fn binary(variable: &str, package: &str) -> String {
    let path = std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../../target/release")
                .join(package)
        });
    assert!(
        path.exists(),
        "{} not found: cargo build --release -p {package}",
        path.display()
    );
    path.to_string_lossy().into_owned()
}

/// How long one GET of `url` takes to be answered (200, or the benchmark stops).
pub async fn time_one(url: &str) -> Duration {
    let started = Instant::now();
    let (status, _) = testkit::app::get(url).await;
    assert_eq!(status, 200, "{url}");
    started.elapsed()
}

/// The `q`-quantile of `samples` (nearest rank), e.g. 0.5 for the median, 0.99 for the P99.
pub fn quantile(samples: &mut [Duration], q: f64) -> Duration {
    samples.sort();
    let rank = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len());
    samples[rank - 1]
}

/// Spans received by [`counting_sink`], by kind.
#[derive(Default)]
pub struct SpanCounts {
    pub server: AtomicUsize,
    pub client: AtomicUsize,
    pub other: AtomicUsize,
}

impl SpanCounts {
    pub fn total(&self) -> usize {
        self.server() + self.client() + self.other.load(Ordering::Relaxed)
    }
    pub fn server(&self) -> usize {
        self.server.load(Ordering::Relaxed)
    }
    pub fn client(&self) -> usize {
        self.client.load(Ordering::Relaxed)
    }
}

/// A minimal OTLP/HTTP receiver, like a Collector's first stage: decodes each request's
/// protobuf, counts its spans, answers 200. The kit's test receiver also turns every span into
/// maps for the tests to query, which costs far more CPU than an app's export on 2 cores.
/// Gives the endpoint (for `OTEL_EXPORTER_OTLP_ENDPOINT`) and the counts.
pub async fn counting_sink() -> (String, Arc<SpanCounts>) {
    let counts = Arc::new(SpanCounts::default());
    let counter = counts.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: axum::body::Bytes| {
            let counter = counter.clone();
            async move {
                let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
                let spans = request
                    .resource_spans
                    .iter()
                    .flat_map(|r| &r.scope_spans)
                    .flat_map(|s| &s.spans);
                for span in spans {
                    let kind = match SpanKind::try_from(span.kind) {
                        Ok(SpanKind::Server) => &counter.server,
                        Ok(SpanKind::Client) => &counter.client,
                        _ => &counter.other,
                    };
                    kind.fetch_add(1, Ordering::Relaxed);
                }
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, counts)
}
