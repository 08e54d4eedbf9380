//! The three OTLP signals, and what each transport needs to know of one: its export request and
//! response types, its paths, and which [`Sink`] method takes it. With this, HTTP has one export
//! path for all three, and gRPC one way of answering.

use axum::http::HeaderMap;
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::sink::{Sink, Transport};

/// What an export request carried: each signal has its own OTLP service and HTTP path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    /// The OTLP/HTTP path, e.g. `/v1/traces`: what an exporter appends to
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn http_path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Metrics => "/v1/metrics",
            Signal::Logs => "/v1/logs",
        }
    }

    /// The OTLP/gRPC method's path, e.g.
    /// `/opentelemetry.proto.collector.trace.v1.TraceService/Export`.
    pub fn grpc_path(self) -> &'static str {
        match self {
            Signal::Traces => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
            Signal::Metrics => "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
            Signal::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        }
    }

    pub(crate) const ALL: [Signal; 3] = [Signal::Traces, Signal::Metrics, Signal::Logs];
}

/// An export request of one signal, as both transports decode it: protobuf (prost) or OTLP/JSON
/// (the serde code opentelemetry-proto generates), answered with an empty response.
pub(crate) trait Export:
    prost::Message + Default + DeserializeOwned + Send + 'static
{
    type Response: prost::Message + Default + Serialize;

    const SIGNAL: Signal;

    /// Hands the request to the sink's method for this signal.
    fn deliver(
        self,
        sink: &dyn Sink,
        transport: Transport,
        headers: &HeaderMap,
    ) -> Result<(), String>;
}

impl Export for ExportTraceServiceRequest {
    type Response = ExportTraceServiceResponse;
    const SIGNAL: Signal = Signal::Traces;

    fn deliver(
        self,
        sink: &dyn Sink,
        transport: Transport,
        headers: &HeaderMap,
    ) -> Result<(), String> {
        sink.export(transport, headers, self)
    }
}

impl Export for ExportMetricsServiceRequest {
    type Response = ExportMetricsServiceResponse;
    const SIGNAL: Signal = Signal::Metrics;

    fn deliver(
        self,
        sink: &dyn Sink,
        transport: Transport,
        headers: &HeaderMap,
    ) -> Result<(), String> {
        sink.export_metrics(transport, headers, self)
    }
}

impl Export for ExportLogsServiceRequest {
    type Response = ExportLogsServiceResponse;
    const SIGNAL: Signal = Signal::Logs;

    fn deliver(
        self,
        sink: &dyn Sink,
        transport: Transport,
        headers: &HeaderMap,
    ) -> Result<(), String> {
        sink.export_logs(transport, headers, self)
    }
}
