//! OTLP/gRPC: the `TraceService` that opentelemetry-proto generates with tonic, implemented by
//! storing what arrives.
//!
//! tonic decodes the protobuf, checks the size limit and answers unknown methods with
//! `UNIMPLEMENTED`; only the conversion to flat spans can refuse a request here.

use std::sync::Arc;

use axum::Router;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;

use crate::model::spans_from_request;
use crate::store::{Store, Transport};

struct Traces {
    store: Arc<Store>,
}

#[tonic::async_trait]
impl TraceService for Traces {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let (metadata, _, request) = request.into_parts();
        let spans = spans_from_request(request).map_err(tonic::Status::invalid_argument)?;
        self.store
            .record(Transport::Grpc, &metadata.into_headers(), spans);
        // No `partial_success`: everything was accepted.
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

/// The gRPC server's routes: every path goes to the generated service, which knows its one method.
///
/// A router rather than the bare service so that both servers are the same type for the accept
/// loop in `serve.rs`.
pub(crate) fn router(store: Arc<Store>, max_message_bytes: usize) -> Router {
    let service = TraceServiceServer::new(Traces { store })
        // The Collector's exporters compress with gzip by default.
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(max_message_bytes);
    Router::new().fallback_service(service)
}
