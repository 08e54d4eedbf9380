//! OTLP/gRPC: the `TraceService` that opentelemetry-proto generates with tonic, implemented by
//! storing what arrives.
//!
//! tonic decodes the protobuf (gzip too), checks the size limit and answers with gRPC statuses;
//! only the conversion to flat spans can refuse a well-formed request here.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;

use crate::http::refuse_at;
use crate::store::{Endpoint, Sink, Transport};

struct Traces {
    sink: Arc<dyn Sink>,
}

#[tonic::async_trait]
impl TraceService for Traces {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let (metadata, _, request) = request.into_parts();
        self.sink
            .export(Transport::Grpc, &metadata.into_headers(), request)
            .map_err(tonic::Status::invalid_argument)?;
        // No `partial_success`: everything was accepted.
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// The gRPC server's routes: the one method to the generated service, anything else refused.
///
/// tonic's service would answer any path, with HTTP 200 and a gRPC error in the headers; an
/// OTLP/HTTP exporter sent here by mistake would read that 200 as success and lose its spans
/// without a word. A real 404 makes it fail, and the refusal is recorded for a checker's hint.
pub(crate) fn router(sink: Arc<dyn Sink>, max_message_bytes: usize) -> Router {
    let service = TraceServiceServer::new(Traces { sink: sink.clone() })
        // The Collector's exporters compress with gzip by default.
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max_message_bytes);
    Router::new()
        .route_service(EXPORT_PATH, service)
        .fallback(not_the_trace_service)
        .with_state(sink)
}

const EXPORT_PATH: &str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

async fn not_the_trace_service(
    State(sink): State<Arc<dyn Sink>>,
    method: Method,
    uri: Uri,
) -> Response {
    let hint = if uri.path().starts_with("/v1/") {
        "OTLP/HTTP goes to the receiver's HTTP endpoint"
    } else {
        "this endpoint takes OTLP/gRPC traces only"
    };
    let refusal = (
        StatusCode::NOT_FOUND,
        format!("{method} {} is not {EXPORT_PATH}: {hint}", uri.path()),
    );
    refuse_at(&*sink, Endpoint::Grpc, &method, &uri, refusal)
}
