//! What the receiver has received: every span, metric and log record, every export request that
//! brought them, and every HTTP request it refused, kept in memory until cleared; and the [`Sink`]
//! trait through which the transports deliver it.
//!
//! Both servers write here from their connection tasks while a test reads, so everything sits
//! behind one mutex, held only to copy in or out. Each change is also announced on a watch
//! channel, so that the `wait_for_…` methods sleep until what they wait for is there instead of
//! polling.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::http::HeaderMap;
use tokio::sync::watch;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use crate::logs::{self, ReceivedLog};
use crate::metrics::{self, ReceivedMetric};
use crate::model::{ReceivedSpan, spans_from_request};
use crate::signal::Signal;

/// How an export request arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// OTLP/gRPC: `TraceService/Export`, `MetricsService/Export` or `LogsService/Export`.
    Grpc,
    /// OTLP/HTTP, `Content-Type: application/x-protobuf`.
    HttpProtobuf,
    /// OTLP/HTTP, `Content-Type: application/json`.
    HttpJson,
}

/// One export request the receiver accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedRequest {
    /// What it carried: spans, metrics or log records.
    pub signal: Signal,
    pub transport: Transport,
    /// Every header (gRPC: every metadata entry), by lower-case name. A name sent more than once
    /// has its values joined with ", ", as HTTP allows.
    pub headers: BTreeMap<String, String>,
    /// How many spans it carried (an export may carry none); always 0 for metrics and logs.
    pub span_count: usize,
}

impl ReceivedRequest {
    /// The header `name` (any case), if the request carried it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// A request the receiver refused before it reached an OTLP decoder: on the HTTP endpoint,
/// anything but a good OTLP/HTTP export; on the gRPC endpoint, anything not addressed to one of
/// the three OTLP services, e.g. OTLP/HTTP sent to the gRPC port. A checker can turn these into
/// hints: a POST to `/v1/traces/v1/traces` means the exporter was given a full URL where it
/// wanted a base.
///
/// A gRPC call that reaches an OTLP service and fails gets a gRPC status, not recorded here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RejectedRequest {
    /// Which of the two servers refused it.
    pub endpoint: Endpoint,
    pub method: String,
    pub path: String,
    /// The HTTP status sent back, 4xx.
    pub status: u16,
    /// The one-line message sent back.
    pub message: String,
}

/// One of the receiver's two servers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Grpc,
    Http,
}

#[derive(Default)]
struct Received {
    spans: Vec<ReceivedSpan>,
    metrics: Vec<ReceivedMetric>,
    logs: Vec<ReceivedLog>,
    requests: Vec<ReceivedRequest>,
    rejected: Vec<RejectedRequest>,
}

/// Where the transports deliver what they receive: the receiver's own [`Store`], which keeps
/// everything for a test, or another keeper of spans, such as the explorer's bounded window.
///
/// Both servers call it from their connection tasks, concurrently.
pub trait Sink: Send + Sync + 'static {
    /// A well-formed trace export request arrived by `transport` with `headers`. An `Err` refuses
    /// it: its one line goes back to the client in a `400` (HTTP) or `INVALID_ARGUMENT` (gRPC).
    fn export(
        &self,
        transport: Transport,
        headers: &HeaderMap,
        request: ExportTraceServiceRequest,
    ) -> Result<(), String>;

    /// A well-formed metrics export request arrived; see [`Sink::export`], and
    /// [`crate::metrics::from_request`] to flatten it. By default it is accepted and dropped: a
    /// keeper of spans only need not fail an app that also exports metrics.
    fn export_metrics(
        &self,
        _transport: Transport,
        _headers: &HeaderMap,
        _request: ExportMetricsServiceRequest,
    ) -> Result<(), String> {
        Ok(())
    }

    /// A well-formed logs export request arrived ([`crate::logs::from_request`] flattens it);
    /// accepted and dropped by default, as metrics.
    fn export_logs(
        &self,
        _transport: Transport,
        _headers: &HeaderMap,
        _request: ExportLogsServiceRequest,
    ) -> Result<(), String> {
        Ok(())
    }

    /// A request was refused before it reached a decoder (see [`RejectedRequest`]).
    fn reject(&self, rejected: RejectedRequest);
}

pub(crate) struct Store {
    received: Mutex<Received>,
    /// Announces each change to `received`, for waiters. The value says nothing: a waiter looks
    /// at `received` itself, so that one channel serves every kind of wait.
    changed: watch::Sender<()>,
}

impl Store {
    pub(crate) fn new() -> Store {
        Store {
            received: Mutex::new(Received::default()),
            changed: watch::Sender::new(()),
        }
    }

    /// Keeps an accepted export request, and what it brought with `keep`.
    fn record(
        &self,
        signal: Signal,
        transport: Transport,
        headers: &HeaderMap,
        span_count: usize,
        keep: impl FnOnce(&mut Received),
    ) {
        let mut received = self.lock();
        received.requests.push(ReceivedRequest {
            signal,
            transport,
            headers: header_map(headers),
            span_count,
        });
        keep(&mut received);
        self.changed.send_replace(());
    }

    pub(crate) fn spans(&self) -> Vec<ReceivedSpan> {
        self.lock().spans.clone()
    }

    pub(crate) fn metrics(&self) -> Vec<ReceivedMetric> {
        self.lock().metrics.clone()
    }

    pub(crate) fn logs(&self) -> Vec<ReceivedLog> {
        self.lock().logs.clone()
    }

    pub(crate) fn requests(&self) -> Vec<ReceivedRequest> {
        self.lock().requests.clone()
    }

    pub(crate) fn rejected(&self) -> Vec<RejectedRequest> {
        self.lock().rejected.clone()
    }

    pub(crate) fn clear(&self) {
        let mut received = self.lock();
        *received = Received::default();
        self.changed.send_replace(());
    }

    /// Waits until `done` holds for what is here, or `timeout` has passed.
    async fn wait_until(&self, timeout: Duration, done: impl Fn(&Received) -> bool) {
        let mut changed = self.changed.subscribe();
        let _ = tokio::time::timeout(timeout, async {
            loop {
                // Marked seen before looking, so a change made after the look wakes `changed()`;
                // what came before the call is seen by the first look.
                changed.borrow_and_update();
                if done(&self.lock()) {
                    return;
                }
                // Fails only when the sender is gone, and the sender lives as long as `self`.
                if changed.changed().await.is_err() {
                    return;
                }
            }
        })
        .await;
    }

    /// Waits until at least `count` spans are here, or `timeout` has passed; returns them all.
    pub(crate) async fn wait_for_spans(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Vec<ReceivedSpan> {
        self.wait_until(timeout, |received| received.spans.len() >= count)
            .await;
        self.spans()
    }

    /// Waits until a metric called `name` is here, or `timeout` has passed; returns every metric.
    pub(crate) async fn wait_for_metrics(
        &self,
        name: &str,
        timeout: Duration,
    ) -> Vec<ReceivedMetric> {
        self.wait_until(timeout, |received| {
            received.metrics.iter().any(|metric| metric.name == name)
        })
        .await;
        self.metrics()
    }

    /// Waits until at least `count` log records are here, or `timeout` has passed; returns them
    /// all.
    pub(crate) async fn wait_for_logs(&self, count: usize, timeout: Duration) -> Vec<ReceivedLog> {
        self.wait_until(timeout, |received| received.logs.len() >= count)
            .await;
        self.logs()
    }

    /// A panic elsewhere while holding the lock leaves the data as it was: still worth reading,
    /// and the receiver must keep serving.
    fn lock(&self) -> MutexGuard<'_, Received> {
        self.received.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Sink for Store {
    fn export(
        &self,
        transport: Transport,
        headers: &HeaderMap,
        request: ExportTraceServiceRequest,
    ) -> Result<(), String> {
        let spans = spans_from_request(request)?;
        self.record(
            Signal::Traces,
            transport,
            headers,
            spans.len(),
            |received| received.spans.extend(spans),
        );
        Ok(())
    }

    fn export_metrics(
        &self,
        transport: Transport,
        headers: &HeaderMap,
        request: ExportMetricsServiceRequest,
    ) -> Result<(), String> {
        let metrics = metrics::from_request(request)?;
        self.record(Signal::Metrics, transport, headers, 0, |received| {
            received.metrics.extend(metrics)
        });
        Ok(())
    }

    fn export_logs(
        &self,
        transport: Transport,
        headers: &HeaderMap,
        request: ExportLogsServiceRequest,
    ) -> Result<(), String> {
        let logs = logs::from_request(request)?;
        self.record(Signal::Logs, transport, headers, 0, |received| {
            received.logs.extend(logs)
        });
        Ok(())
    }

    fn reject(&self, rejected: RejectedRequest) {
        self.lock().rejected.push(rejected);
    }
}

/// Headers by name (always lower-case in `http`), repeated names joined; values that are not
/// UTF-8 (gRPC's `-bin` metadata) are kept lossily rather than dropped.
fn header_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut map = BTreeMap::<String, String>::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        map.entry(name.as_str().to_string())
            .and_modify(|joined| {
                joined.push_str(", ");
                joined.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    map
}
