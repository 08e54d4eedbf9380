//! # `receiver`: a real OTLP receiver for traces, metrics and logs, in process, on loopback
//!
//! What the kit's tests and the learner's checker send telemetry to instead of a Collector: it
//! listens on two free loopback ports, for OTLP/gRPC and for OTLP/HTTP (protobuf or JSON, plain or
//! gzip), decodes with the types opentelemetry-proto generates from the OTLP protobuf definitions,
//! and keeps everything it gets in memory, flat: each span as a [`ReceivedSpan`], each metric as
//! a [`ReceivedMetric`], each log record as a [`ReceivedLog`]. Together with each request's
//! signal, transport and headers, that is all a test needs to assert what an app exported, and
//! how.
//!
//! A test starts one, points the app or exporter at it, and waits for the spans (or metrics, or
//! log records):
//!
//! ```text
//! let receiver = receiver::Receiver::start().await?;
//! // the app under test, configured as a learner would:
//! //   OTEL_EXPORTER_OTLP_ENDPOINT = receiver.http_endpoint()   (HTTP; /v1/traces is appended)
//! //   OTEL_EXPORTER_OTLP_ENDPOINT = receiver.grpc_endpoint()   (with _PROTOCOL=grpc)
//! let spans = receiver.wait_for_spans(15, Duration::from_secs(10)).await;
//! assert_eq!(spans.len(), 15, "got: {spans:#?}");
//! assert_eq!(spans[0].service_name(), Some("fib"));
//! assert_eq!(receiver.requests()[0].header("x-honeycomb-team"), Some("test-key"));
//! // the same app with a meter provider and a logger provider:
//! let metrics = receiver.wait_for_metrics("http.server.request.duration", timeout).await;
//! let logs = receiver.wait_for_logs(1, timeout).await;
//! ```
//!
//! The servers are tasks on the tokio runtime that calls [`Receiver::start`]: they serve only
//! while that runtime runs. In a `#[tokio::test]`, anything that blocks its thread (an exporter's
//! `shutdown()`, a blocking HTTP client) blocks the receiver too, unless the test runs on the
//! multi-thread flavour and does the blocking in `spawn_blocking`. Dropping the `Receiver` stops
//! both servers and closes their ports and connections.
//!
//! - [`model`]: the flat span types and their conversion from OTLP's messages, and the attribute
//!   [`Value`] all signals share; [`metrics`] and [`logs`]: the same for the other two signals;
//! - `sink`: the [`Sink`] the transports deliver to (the explorer brings its own, and runs the
//!   same transports with [`Servers`]); [`store`]: the receiver's sink, what was received, and
//!   the queries on it;
//! - [`room`]: what a classroom's telemetry carries (the room code's header, the learner's name,
//!   a check's verdict), for the explorers and the checker;
//! - `signal`: what the transports need to know of each [`Signal`]; `grpc`, `http`: the two
//!   transports; `serve`: the accept loop they share.

mod grpc;
mod http;
pub mod logs;
pub mod metrics;
pub mod model;
pub mod room;
mod serve;
mod signal;
mod sink;
pub mod store;

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use logs::ReceivedLog;
pub use metrics::{
    ExponentialBuckets, ExponentialHistogramData, HistogramData, MetricKind, MetricPoint,
    PointValue, Quantile, ReceivedMetric, SummaryData, Temporality,
};
pub use model::{Event, Link, ReceivedSpan, SpanKind, Status, StatusCode, Value};
pub use signal::Signal;
pub use sink::{Endpoint, RejectedRequest, Sink, Transport};
pub use store::ReceivedRequest;

use store::Store;

/// The largest request body (after gzip decompression) or gRPC message accepted unless
/// [`ReceiverBuilder::max_body_bytes`] says otherwise: 20 MiB, the Collector's default for
/// OTLP/HTTP. A batch of thousands of spans fits easily.
pub const DEFAULT_MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

/// A running OTLP receiver. Dropping it stops both servers.
pub struct Receiver {
    grpc_address: SocketAddr,
    http_address: SocketAddr,
    store: Arc<Store>,
    _servers: Servers,
}

/// Settings for a [`Receiver`], from [`Receiver::builder`].
#[derive(Clone, Debug)]
pub struct ReceiverBuilder {
    max_body_bytes: usize,
}

impl Default for ReceiverBuilder {
    fn default() -> Self {
        ReceiverBuilder {
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

impl ReceiverBuilder {
    /// Refuses larger requests: `413` over HTTP, `OUT_OF_RANGE` over gRPC (`RESOURCE_EXHAUSTED`
    /// when a gzip message expands beyond it: tonic's choice).
    pub fn max_body_bytes(mut self, max_body_bytes: usize) -> Self {
        self.max_body_bytes = max_body_bytes;
        self
    }

    /// Binds both servers to free ports on 127.0.0.1 and starts serving. Must be called within a
    /// tokio runtime; fails only if no port can be bound.
    pub async fn start(self) -> io::Result<Receiver> {
        let grpc_listener = TcpListener::bind("127.0.0.1:0").await?;
        let http_listener = TcpListener::bind("127.0.0.1:0").await?;
        let grpc_address = grpc_listener.local_addr()?;
        let http_address = http_listener.local_addr()?;
        let store = Arc::new(Store::new());
        let servers = Servers::spawn(
            grpc_listener,
            http_listener,
            store.clone(),
            self.max_body_bytes,
        );
        Ok(Receiver {
            grpc_address,
            http_address,
            store,
            _servers: servers,
        })
    }
}

impl Receiver {
    /// Starts a receiver with the default settings; see [`ReceiverBuilder::start`].
    pub async fn start() -> io::Result<Receiver> {
        ReceiverBuilder::default().start().await
    }

    /// For other settings: `Receiver::builder().max_body_bytes(1024).start().await`.
    pub fn builder() -> ReceiverBuilder {
        ReceiverBuilder::default()
    }

    /// The OTLP/gRPC endpoint, `http://127.0.0.1:PORT`: for `OTEL_EXPORTER_OTLP_ENDPOINT` with
    /// `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`, or an exporter's `with_endpoint`.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.grpc_address)
    }

    /// The OTLP/HTTP base, `http://127.0.0.1:PORT`: for `OTEL_EXPORTER_OTLP_ENDPOINT`, to which
    /// the exporter appends `/v1/traces` (`/v1/metrics`, `/v1/logs`).
    pub fn http_endpoint(&self) -> String {
        format!("http://{}", self.http_address)
    }

    /// The OTLP/HTTP traces URL, `http://127.0.0.1:PORT/v1/traces`: for
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or an HTTP exporter's `with_endpoint`, which use the
    /// URL as given.
    pub fn http_traces_url(&self) -> String {
        self.http_url(Signal::Traces)
    }

    /// The OTLP/HTTP metrics URL, `http://127.0.0.1:PORT/v1/metrics`, as given to
    /// `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` or an HTTP exporter's `with_endpoint`.
    pub fn http_metrics_url(&self) -> String {
        self.http_url(Signal::Metrics)
    }

    /// The OTLP/HTTP logs URL, `http://127.0.0.1:PORT/v1/logs`, as given to
    /// `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT` or an HTTP exporter's `with_endpoint`.
    pub fn http_logs_url(&self) -> String {
        self.http_url(Signal::Logs)
    }

    fn http_url(&self, signal: Signal) -> String {
        format!("{}{}", self.http_endpoint(), signal.http_path())
    }

    /// Every span received so far, in order of arrival.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.store.spans()
    }

    /// The spans received so far by trace id; in each trace, by start time.
    pub fn traces(&self) -> BTreeMap<String, Vec<ReceivedSpan>> {
        let mut traces = BTreeMap::<String, Vec<ReceivedSpan>>::new();
        for span in self.spans() {
            traces.entry(span.trace_id.clone()).or_default().push(span);
        }
        for spans in traces.values_mut() {
            spans.sort_by_key(|span| span.start_time_unix_nano);
        }
        traces
    }

    /// Waits until at least `count` spans have arrived, or `timeout` has passed, and returns every
    /// span received: on a timeout, the ones there are, for the test to report.
    pub async fn wait_for_spans(&self, count: usize, timeout: Duration) -> Vec<ReceivedSpan> {
        self.store.wait_for_spans(count, timeout).await
    }

    /// Every metric received so far, in order of arrival: one per metric per export, so a
    /// metric exported twice is here twice (with cumulative temporality, the later holds the
    /// totals).
    pub fn metrics(&self) -> Vec<ReceivedMetric> {
        self.store.metrics()
    }

    /// Waits until a metric called `name` has arrived, or `timeout` has passed, and returns every
    /// metric received: on a timeout, the ones there are, for the test to report.
    pub async fn wait_for_metrics(&self, name: &str, timeout: Duration) -> Vec<ReceivedMetric> {
        self.store.wait_for_metrics(name, timeout).await
    }

    /// Every log record received so far, in order of arrival.
    pub fn logs(&self) -> Vec<ReceivedLog> {
        self.store.logs()
    }

    /// Waits until at least `count` log records have arrived, or `timeout` has passed, and
    /// returns every record received: on a timeout, the ones there are.
    pub async fn wait_for_logs(&self, count: usize, timeout: Duration) -> Vec<ReceivedLog> {
        self.store.wait_for_logs(count, timeout).await
    }

    /// Every export request accepted so far, of every signal, in order of arrival; each says
    /// its [`Signal`].
    pub fn requests(&self) -> Vec<ReceivedRequest> {
        self.store.requests()
    }

    /// Every OTLP/HTTP request refused so far (wrong path, content type, body…), in order.
    pub fn rejected(&self) -> Vec<RejectedRequest> {
        self.store.rejected()
    }

    /// Forgets every span, metric, log record and request received so far, and every refusal,
    /// e.g. between two parts of a test.
    pub fn clear(&self) {
        self.store.clear();
    }
}

/// The two OTLP servers, delivering to any [`Sink`]: what a [`Receiver`] runs with its own
/// store, and what the explorer runs, on the ports it is given, with its bounded window.
/// Dropping it stops both and closes their ports and connections.
pub struct Servers([JoinHandle<()>; 2]);

impl Servers {
    /// Serves OTLP/gRPC on `grpc` and OTLP/HTTP on `http`, on the current tokio runtime,
    /// refusing requests larger than `max_body_bytes` (see [`DEFAULT_MAX_BODY_BYTES`]).
    pub fn spawn(
        grpc: TcpListener,
        http: TcpListener,
        sink: Arc<dyn Sink>,
        max_body_bytes: usize,
    ) -> Servers {
        Servers([
            serve::spawn(grpc, grpc::router(sink.clone(), max_body_bytes)),
            serve::spawn(http, http::router(sink, max_body_bytes)),
        ])
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        // Aborting a server task drops its listener and its set of connection tasks; see serve.rs.
        for server in &self.0 {
            server.abort();
        }
    }
}
