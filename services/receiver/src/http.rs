//! OTLP/HTTP: `POST /v1/traces`, `/v1/metrics` or `/v1/logs` with the signal's export request
//! (e.g. `ExportTraceServiceRequest`) in protobuf or JSON, optionally gzip-compressed, answered
//! with its export response in the same encoding. One generic path serves the three signals: they
//! differ only in their message types and the [`Sink`] method they go to (see `signal.rs`).
//!
//! Anything else gets a 4xx whose body is one line of plain text saying what was wrong, and is
//! remembered as a [`RejectedRequest`]; a request the sink does not admit (`Sink::admit`) gets
//! a 401 the same way, and is the sink's to count. (The specification would have a protobuf or JSON
//! `google.rpc.Status` there; exporters only log that body, and a line of text is what a test's
//! failure message or a learner's `curl` wants to show.)

use std::io::Read;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody};
use axum::extract::{DefaultBodyLimit, FromRequest, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use flate2::read::GzDecoder;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;

use crate::signal::{Export, Signal};
use crate::sink::{Endpoint, RejectedRequest, Sink, Transport};

const PROTOBUF: &str = "application/x-protobuf";
const JSON: &str = "application/json";

#[derive(Clone)]
struct Shared {
    sink: Arc<dyn Sink>,
    max_body_bytes: usize,
}

/// Why a request was refused: the status and the line sent back.
pub(crate) type Refusal = (StatusCode, String);

pub(crate) fn router(sink: Arc<dyn Sink>, max_body_bytes: usize) -> Router {
    Router::new()
        .merge(route::<ExportTraceServiceRequest>())
        .merge(route::<ExportMetricsServiceRequest>())
        .merge(route::<ExportLogsServiceRequest>())
        .fallback(not_found)
        // Read by the `Bytes` extractor: a longer body is refused while it is read, not after.
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(Shared {
            sink,
            max_body_bytes,
        })
}

/// The signal's path: POST to its export, anything else refused.
fn route<R: Export>() -> Router<Shared> {
    Router::new().route(
        R::SIGNAL.http_path(),
        post(export::<R>).fallback(method_not_allowed),
    )
}

async fn export<R: Export>(State(shared): State<Shared>, request: Request) -> Response {
    // Before anything else: a request the sink does not admit learns nothing more.
    if let Err(message) = shared.sink.admit(request.headers()) {
        let message = message.replace(['\r', '\n'], " ");
        return (StatusCode::UNAUTHORIZED, format!("{message}\n")).into_response();
    }
    let method = request.method().clone();
    let uri = request.uri().clone();
    match receive::<R>(&shared, request).await {
        Ok(response) => response,
        Err(refusal) => refuse(&shared, &method, &uri, refusal),
    }
}

async fn receive<R: Export>(shared: &Shared, request: Request) -> Result<Response, Refusal> {
    // The headers first: no need to read a body that cannot be understood.
    let transport = transport(request.headers())?;
    let gzip = gzip(request.headers())?;
    let headers = request.headers().clone();
    let body = Bytes::from_request(request, &())
        .await
        .map_err(|rejection| body_refusal(rejection, shared.max_body_bytes))?;
    let body = if gzip {
        Bytes::from(gunzip(&body, shared.max_body_bytes)?)
    } else {
        body
    };
    let export_request = match transport {
        // opentelemetry-proto 0.33.1's serde code reads OTLP/JSON as the SDKs write it: hex ids in
        // either case, 64-bit integers as numbers or strings, enums as integers (the only form
        // OTLP allows), unknown fields ignored. It refuses some valid proto3 JSON, which the
        // Collector's JSON encoding can produce: an empty list written as `{"arrayValue":{}}`,
        // and `null` for a list or an enum. tests/requests.rs pins both sides.
        Transport::HttpJson => serde_json::from_slice::<R>(&body)
            .map_err(|err| bad_request(format!("malformed OTLP/JSON: {err}{}", json_hint(&err))))?,
        _ => {
            R::decode(body).map_err(|err| bad_request(format!("malformed OTLP protobuf: {err}")))?
        }
    };
    export_request
        .deliver(&*shared.sink, transport, &headers)
        .map_err(bad_request)?;
    Ok(accepted::<R>(transport))
}

/// A decoder's error says where, not why. The usual why: a client that writes ids the way
/// protobuf's own JSON mapping does (base64), where OTLP/JSON wants hex. (Every signal's ids are
/// hex in OTLP/JSON: spans', log records', exemplars'.)
fn json_hint(err: &serde_json::Error) -> &'static str {
    if err.is_data() && err.to_string().contains("invalid character") {
        " (OTLP/JSON writes traceId, spanId and parentSpanId in hex, not base64)"
    } else {
        ""
    }
}

/// 200 with the signal's empty export response (no `partial_success`: all was accepted).
fn accepted<R: Export>(transport: Transport) -> Response {
    let response = R::Response::default();
    match transport {
        Transport::HttpJson => {
            // Serializing a generated message to a Vec cannot fail; "{}" means the same anyway.
            let body = serde_json::to_vec(&response).unwrap_or_else(|_| b"{}".to_vec());
            ([(header::CONTENT_TYPE, JSON)], body).into_response()
        }
        _ => ([(header::CONTENT_TYPE, PROTOBUF)], response.encode_to_vec()).into_response(),
    }
}

/// The encoding, from `Content-Type`; parameters such as `; charset=utf-8` do not matter.
fn transport(headers: &HeaderMap) -> Result<Transport, Refusal> {
    let unsupported = |what: String| {
        (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("{what}: OTLP/HTTP takes Content-Type {PROTOBUF} or {JSON}"),
        )
    };
    let Some(content_type) = headers.get(header::CONTENT_TYPE) else {
        return Err(unsupported("no Content-Type".to_string()));
    };
    let content_type = String::from_utf8_lossy(content_type.as_bytes());
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    if media_type.eq_ignore_ascii_case(PROTOBUF) {
        Ok(Transport::HttpProtobuf)
    } else if media_type.eq_ignore_ascii_case(JSON) {
        Ok(Transport::HttpJson)
    } else {
        Err(unsupported(format!(
            "unsupported Content-Type {content_type:?}"
        )))
    }
}

/// `true` for `Content-Encoding: gzip`, the one compression OTLP exporters offer besides none.
fn gzip(headers: &HeaderMap) -> Result<bool, Refusal> {
    let Some(encoding) = headers.get(header::CONTENT_ENCODING) else {
        return Ok(false);
    };
    let encoding = String::from_utf8_lossy(encoding.as_bytes());
    match encoding.trim().to_ascii_lowercase().as_str() {
        "gzip" => Ok(true),
        "identity" | "" => Ok(false),
        _ => Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("unsupported Content-Encoding {encoding:?}: send gzip or no compression"),
        )),
    }
}

/// Decompresses, holding the result to the same limit as the body: a small gzip body can
/// expand to gigabytes.
fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, Refusal> {
    let mut decompressed = Vec::new();
    GzDecoder::new(body)
        .take(limit as u64 + 1)
        .read_to_end(&mut decompressed)
        .map_err(|err| bad_request(format!("the gzip body does not decompress: {err}")))?;
    if decompressed.len() > limit {
        return Err(too_large(limit, "decompressed"));
    }
    Ok(decompressed)
}

fn body_refusal(rejection: BytesRejection, limit: usize) -> Refusal {
    match rejection {
        BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)) => {
            too_large(limit, "")
        }
        other => bad_request(format!(
            "could not read the request body: {}",
            other.body_text()
        )),
    }
}

fn too_large(limit: usize, which: &str) -> Refusal {
    let which = if which.is_empty() {
        String::new()
    } else {
        format!("{which} ")
    };
    (
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the {which}request body is larger than this receiver's limit of {limit} bytes"),
    )
}

fn bad_request(message: String) -> Refusal {
    (StatusCode::BAD_REQUEST, message)
}

async fn method_not_allowed(State(shared): State<Shared>, method: Method, uri: Uri) -> Response {
    let refusal = (
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} {}: OTLP/HTTP exports with POST", uri.path()),
    );
    let mut response = refuse(&shared, &method, &uri, refusal);
    response
        .headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static("POST"));
    response
}

async fn not_found(State(shared): State<Shared>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    // The classic mistake: the full URL given where the exporter wants a base, so it appends
    // `/v1/traces` (or `/v1/metrics`, `/v1/logs`) a second time.
    let hint = match Signal::ALL
        .into_iter()
        .find(|signal| path.ends_with(signal.http_path()))
    {
        Some(signal) => format!(
            " (OTEL_EXPORTER_OTLP_ENDPOINT is a base URL: the exporter appends {} itself)",
            signal.http_path()
        ),
        None => String::new(),
    };
    let refusal = (
        StatusCode::NOT_FOUND,
        format!(
            "no such path {path}: OTLP/HTTP exports go to POST /v1/traces, /v1/metrics or \
             /v1/logs{hint}"
        ),
    );
    refuse(&shared, &method, &uri, refusal)
}

/// Remembers the refusal and answers it.
fn refuse(shared: &Shared, method: &Method, uri: &Uri, refusal: Refusal) -> Response {
    refuse_at(&*shared.sink, Endpoint::Http, method, uri, refusal)
}

/// Remembers a refusal at `endpoint` and answers it, as one line of text. Also the gRPC server's,
/// for requests that are not gRPC at all.
pub(crate) fn refuse_at(
    sink: &dyn Sink,
    endpoint: Endpoint,
    method: &Method,
    uri: &Uri,
    (status, message): Refusal,
) -> Response {
    // Error texts from decoders are one line already; this keeps the promise if one is not.
    let message = message.replace(['\r', '\n'], " ");
    sink.reject(RejectedRequest {
        endpoint,
        method: method.to_string(),
        path: uri.path().to_string(),
        status: status.as_u16(),
        message: message.clone(),
    });
    (status, format!("{message}\n")).into_response()
}
