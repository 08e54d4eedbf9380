//! What the receiver has received: every span, metric and log record, every export request that
//! brought them, and every HTTP request it refused, kept in memory until cleared. It is the
//! [`Sink`] the transports deliver to when a test runs a [`crate::Receiver`].
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
use crate::sink::{RejectedRequest, Sink, Transport};

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

#[derive(Default)]
struct Received {
    spans: Vec<ReceivedSpan>,
    metrics: Vec<ReceivedMetric>,
    logs: Vec<ReceivedLog>,
    requests: Vec<ReceivedRequest>,
    rejected: Vec<RejectedRequest>,
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
