//! The [`Sink`] trait, through which the transports deliver what they receive, and what they
//! say with it: how a request came ([`Transport`]), and the requests they refused
//! ([`RejectedRequest`]). The receiver's own store is a sink; the explorer brings another.

use axum::http::HeaderMap;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

/// Where the transports deliver what they receive: the receiver's own store, which keeps
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

    /// Whether a request may export at all, from its headers (gRPC: its metadata) alone, asked
    /// before anything else of it is looked at. An `Err` refuses it, whatever its signal: its one
    /// line goes back in a `401` (HTTP) or `UNAUTHENTICATED` (gRPC), nothing of it reaches the
    /// export methods, and it is not a [`RejectedRequest`] (the sink counts its own refusals).
    /// By default every request may: the explorer's room code is the one use.
    fn admit(&self, _headers: &HeaderMap) -> Result<(), String> {
        Ok(())
    }

    /// A request was refused before it reached a decoder (see [`RejectedRequest`]).
    fn reject(&self, rejected: RejectedRequest);
}

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
