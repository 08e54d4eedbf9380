//! What the receiver has received: every span, every export request that brought spans, and
//! every HTTP request it refused, kept in memory until cleared; and the [`Sink`] trait through
//! which the transports deliver it.
//!
//! Both servers write here from their connection tasks while a test reads, so everything sits
//! behind one mutex, held only to copy in or out. The number of spans is also published on a
//! watch channel, so that `wait_for_spans` sleeps until it is reached instead of polling.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::http::HeaderMap;
use tokio::sync::watch;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use crate::model::{ReceivedSpan, spans_from_request};

/// How an export request arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    /// OTLP/gRPC: `TraceService/Export`.
    Grpc,
    /// OTLP/HTTP, `Content-Type: application/x-protobuf`.
    HttpProtobuf,
    /// OTLP/HTTP, `Content-Type: application/json`.
    HttpJson,
}

/// One export request the receiver accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedRequest {
    pub transport: Transport,
    /// Every header (gRPC: every metadata entry), by lower-case name. A name sent more than once
    /// has its values joined with ", ", as HTTP allows.
    pub headers: BTreeMap<String, String>,
    /// How many spans it carried (an export may carry none).
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
/// anything but a good OTLP/HTTP export; on the gRPC endpoint, anything not addressed to the
/// trace service, e.g. OTLP/HTTP sent to the gRPC port. A checker can turn these into hints: a
/// POST to `/v1/traces/v1/traces` means the exporter was given a full URL where it wanted a base.
///
/// A gRPC call that reaches the trace service and fails gets a gRPC status, not recorded here.
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
    requests: Vec<ReceivedRequest>,
    rejected: Vec<RejectedRequest>,
}

/// Where the transports deliver what they receive: the receiver's own [`Store`], which keeps
/// everything for a test, or another keeper of spans, such as the explorer's bounded window.
///
/// Both servers call it from their connection tasks, concurrently.
pub trait Sink: Send + Sync + 'static {
    /// A well-formed export request arrived by `transport` with `headers`. An `Err` refuses it:
    /// its one line goes back to the client in a `400` (HTTP) or `INVALID_ARGUMENT` (gRPC).
    fn export(
        &self,
        transport: Transport,
        headers: &HeaderMap,
        request: ExportTraceServiceRequest,
    ) -> Result<(), String>;

    /// A request was refused before it reached a decoder (see [`RejectedRequest`]).
    fn reject(&self, rejected: RejectedRequest);
}

pub(crate) struct Store {
    received: Mutex<Received>,
    /// The number of spans in `received`, for waiters.
    span_count: watch::Sender<usize>,
}

impl Store {
    pub(crate) fn new() -> Store {
        Store {
            received: Mutex::new(Received::default()),
            span_count: watch::Sender::new(0),
        }
    }

    /// Keeps an accepted export request and its spans.
    pub(crate) fn record(
        &self,
        transport: Transport,
        headers: &HeaderMap,
        spans: Vec<ReceivedSpan>,
    ) {
        let mut received = self.lock();
        received.requests.push(ReceivedRequest {
            transport,
            headers: header_map(headers),
            span_count: spans.len(),
        });
        received.spans.extend(spans);
        // Published under the lock, so the count never runs ahead of or behind the spans.
        self.span_count.send_replace(received.spans.len());
    }

    pub(crate) fn spans(&self) -> Vec<ReceivedSpan> {
        self.lock().spans.clone()
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
        self.span_count.send_replace(0);
    }

    /// Waits until at least `count` spans are here, or `timeout` has passed; returns them all.
    pub(crate) async fn wait_for_spans(
        &self,
        count: usize,
        timeout: Duration,
    ) -> Vec<ReceivedSpan> {
        let mut span_count = self.span_count.subscribe();
        // `wait_for` looks at the current value first, so spans that came before the call count.
        // It fails only when the sender is gone, and the sender lives as long as `self`.
        let _ = tokio::time::timeout(timeout, span_count.wait_for(|&n| n >= count)).await;
        self.spans()
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
        self.record(transport, headers, spans_from_request(request)?);
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
