//! OTLP/gRPC: the `TraceService`, `MetricsService` and `LogsService` that opentelemetry-proto
//! generates with tonic, implemented by handing what arrives to the sink.
//!
//! tonic decodes the protobuf (gzip too), checks the size limit and answers with gRPC statuses;
//! only the sink can refuse a well-formed request here: by its metadata (`UNAUTHENTICATED`, see
//! [`Sink::admit`]) or in its conversion to flat spans, metrics or records (`INVALID_ARGUMENT`).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;

use crate::http::refuse_at;
use crate::signal::{Export, Signal};
use crate::sink::{Endpoint, Sink, Transport};

/// The three services in one: each generated trait's `export` hands over to [`Otlp::deliver`].
struct Otlp {
    sink: Arc<dyn Sink>,
}

impl Otlp {
    fn deliver<R: Export>(
        &self,
        request: tonic::Request<R>,
    ) -> Result<tonic::Response<R::Response>, tonic::Status> {
        let (metadata, _, request) = request.into_parts();
        let headers = metadata.into_headers();
        self.sink
            .admit(&headers)
            .map_err(tonic::Status::unauthenticated)?;
        request
            .deliver(&*self.sink, Transport::Grpc, &headers)
            .map_err(tonic::Status::invalid_argument)?;
        // No `partial_success`: everything was accepted.
        Ok(tonic::Response::new(R::Response::default()))
    }
}

#[tonic::async_trait]
impl TraceService for Otlp {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.deliver(request)
    }
}

#[tonic::async_trait]
impl MetricsService for Otlp {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.deliver(request)
    }
}

#[tonic::async_trait]
impl LogsService for Otlp {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        self.deliver(request)
    }
}

/// The gRPC server's routes: each service's one method to the generated service, anything else
/// refused.
///
/// tonic's service would answer any path, with HTTP 200 and a gRPC error in the headers; an
/// OTLP/HTTP exporter sent here by mistake would read that 200 as success and lose its data
/// without a word. A real 404 makes it fail, and the refusal is recorded for a checker's hint.
pub(crate) fn router(sink: Arc<dyn Sink>, max_message_bytes: usize) -> Router {
    let otlp = Arc::new(Otlp { sink: sink.clone() });
    // The generated servers share no trait for these settings, hence a macro.
    macro_rules! configured {
        ($server:ident) => {
            $server::from_arc(otlp.clone())
                // The Collector's exporters compress with gzip by default.
                .accept_compressed(CompressionEncoding::Gzip)
                .max_decoding_message_size(max_message_bytes)
        };
    }
    Router::new()
        .route_service(Signal::Traces.grpc_path(), configured!(TraceServiceServer))
        .route_service(
            Signal::Metrics.grpc_path(),
            configured!(MetricsServiceServer),
        )
        .route_service(Signal::Logs.grpc_path(), configured!(LogsServiceServer))
        .fallback(not_an_otlp_service)
        .with_state(sink)
}

async fn not_an_otlp_service(
    State(sink): State<Arc<dyn Sink>>,
    method: Method,
    uri: Uri,
) -> Response {
    let hint = if uri.path().starts_with("/v1/") {
        "OTLP/HTTP goes to the receiver's HTTP endpoint"
    } else {
        "this endpoint takes OTLP/gRPC traces, metrics and logs only"
    };
    let refusal = (
        StatusCode::NOT_FOUND,
        format!(
            "{method} {} is not the Export method of OTLP's TraceService, MetricsService or \
             LogsService: {hint}",
            uri.path()
        ),
    );
    refuse_at(&*sink, Endpoint::Grpc, &method, &uri, refusal)
}
