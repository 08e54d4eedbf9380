//! The routes and the `/fib` handler: the code the workshop's steps instrument.

use axum::Router;
use axum::extract::{MatchedPath, RawQuery, Request, State};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::trace::{FutureExt, SpanKind, SpanRef, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_semantic_conventions::attribute::{ERROR_TYPE, HTTP_RESPONSE_STATUS_CODE};
// TODO(06): The numbers known so far need a `use` line here (see `AppState` below).
use sequence::{Config, FibError};
use std::sync::Arc;

use crate::conventions;

/// What every request handler gets: cheap to clone, shared by all requests.
#[derive(Clone)]
pub struct AppState {
    /// One HTTP client for all sub-requests, so that connections are kept open and reused.
    client: reqwest::Client,
    /// Where sub-requests go: this server itself, unless `FIB_UPSTREAM_URL` says otherwise.
    upstream: String,
    /// The largest index `/fib` accepts (`FIB_MAX_INDEX`).
    max_index: u32,
    /// Makes spans. One tracer for the app, shared: `global::tracer` takes a lock each time.
    tracer: Arc<BoxedTracer>,
    // TODO(06): A place for the numbers computed so far, shared by every request: F(index) by
    //           index. `sequence::Known` is one (`get` and `remember`; read it in
    //           services/sequence/src/known.rs: why a std `Mutex` and not tokio's?).
}

impl AppState {
    pub fn new(config: &Config, own_url: &str) -> anyhow::Result<AppState> {
        Ok(AppState {
            // Bounded waits, and connections kept open for the next click (see `sequence::net`).
            client: sequence::net::client(config)?,
            upstream: config.upstream(own_url),
            max_index: config.max_index,
            tracer: Arc::new(global::tracer("fib")),
            // TODO(06): The numbers known from the start: F(0) = 0 and F(1) = 1, which need no
            //           sum (see `Known`'s constructor).
        })
    }
}

/// The app: `/fib` plus the page (`/` and its script and stylesheet), every request traced.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/fib", get(fib))
        .merge(sequence::page::routes(state.max_index))
        .layer(middleware::from_fn_with_state(state.clone(), trace_request))
        .with_state(state)
}

/// Runs every request inside a server span, which starts when the request arrives and ends when
/// its response is ready.
async fn trace_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Named after the route, not the path: `GET /fib` whatever the index, so that all the
    // requests to one route can be compared.
    let name = match request.extensions().get::<MatchedPath>() {
        Some(route) => format!("{} {}", request.method(), route.as_str()),
        None => request.method().to_string(),
    };
    // If the caller sent a `traceparent` header, this request is part of the caller's trace:
    // the propagator reads it into a context, and the server span becomes a child of the
    // caller's span. Without the header, the context is empty and the span starts a new trace.
    let parent = global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(request.headers()))
    });
    // What the request is, in the names every backend knows (HTTP semantic conventions).
    let span = state
        .tracer
        .span_builder(name)
        .with_kind(SpanKind::Server)
        .with_attributes(conventions::server_attributes(&request))
        .start_with_context(state.tracer.as_ref(), &parent);

    // The span is the current one while the handler runs (`with_context`), so that whatever
    // the handler does can find it, and it ends when the response is ready.
    let cx = parent.with_span(span);
    let response = next.run(request).with_context(cx.clone()).await;

    // How it went. A 5xx is this server's failure, so the span is an error; a 4xx is the
    // client's, and the conventions leave the server span's status unset.
    let status = response.status();
    let span = cx.span();
    span.set_attribute(KeyValue::new(
        HTTP_RESPONSE_STATUS_CODE,
        i64::from(status.as_u16()),
    ));
    if status.is_server_error() {
        span.set_attribute(KeyValue::new(ERROR_TYPE, status.as_str().to_owned()));
        span.set_status(Status::error(status.to_string()));
    }
    span.end();
    response
}

/// `GET /fib?index=N`: F(0) = 0, F(1) = 1, and F(N) = F(N-1) + F(N-2), each asked of the upstream.
///
/// A bad index is refused with `400` before anything else happens; a failed sub-request makes
/// this one fail with `502` (see `sequence::error`).
async fn fib(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<String, FibError> {
    // A span of our own for the work, inside the server span: what the app did, apart from
    // the HTTP around it. `start` makes it a child of the current span.
    let cx = Context::current_with_span(state.tracer.start("fib"));
    let result = compute(&state, query.as_deref())
        .with_context(cx.clone())
        .await;

    let span = cx.span();
    match &result {
        Ok(value) => span.set_attribute(KeyValue::new("fib.result", *value as i64)),
        Err(err) => {
            // An `exception` event with the message, and the span marked as failed.
            span.record_error(err);
            span.set_status(Status::error(err.to_string()));
        }
    }
    span.end();
    result.map(|value| format!("{value}\n"))
}

/// Reads the index and computes F(index), asking the upstream for the two numbers before it.
async fn compute(state: &AppState, query: Option<&str>) -> Result<u64, FibError> {
    let index = sequence::index::parse(query, state.max_index)?;
    // `Context::current()` is the `fib` span's context here (see `with_context` above).
    let cx = Context::current();
    cx.span()
        .set_attribute(KeyValue::new("fib.index", i64::from(index)));
    if index < 2 {
        return Ok(u64::from(index));
    }
    // TODO(06): Look at a trace of /fib?index=5: F(3) is computed twice, F(2) three times,
    //           F(1) five times, each with requests of its own. Make each number cost its
    //           requests once: keep F(N) once it is summed, for the requests to come, and ask
    //           for the two numbers so that the second is known by the time it is asked for.
    // Both sub-requests run at once; if one fails, the other is cancelled.
    let (a, b) = tokio::try_join!(fetch(state, index - 1), fetch(state, index - 2))?;
    // An event: something that happened at one moment of the span, with its own attributes.
    cx.span().add_event(
        "sum",
        vec![
            KeyValue::new("fib.left", a as i64),
            KeyValue::new("fib.right", b as i64),
        ],
    );
    Ok(a + b)
}

// TODO(06): Before asking anyone: is F(index) known already? Then answer it at once, with no
//           request and no client span. An event on the current span ("cache hit", with the
//           index) lets the trace show why there was no request.
//           Look up: `SpanRef::add_event`.
//           https://docs.rs/opentelemetry/0.33.1/opentelemetry/trace/struct.SpanRef.html#method.add_event
/// Asks the upstream for F(index) over HTTP, in a client span of its own.
async fn fetch(state: &AppState, index: u32) -> Result<u64, FibError> {
    let url = format!("{}/fib?index={index}", state.upstream);
    // The client span: a child of the current span, the server span of the request that is
    // asking. HTTP client spans are named after the method alone.
    let span = state
        .tracer
        .span_builder("GET")
        .with_kind(SpanKind::Client)
        .start(state.tracer.as_ref());
    let cx = Context::current_with_span(span);

    // The propagator writes the client span's trace id and span id into the request's headers
    // (`traceparent: 00-<trace id>-<span id>-01`), so that the server that answers can
    // continue this trace. This is context propagation.
    let mut headers = HeaderMap::new();
    global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&cx, &mut HeaderInjector(&mut headers));
    });

    let result = send(state, &url, headers, &cx.span()).await;
    if let Err(err) = &result {
        // The sub-request failed: the client span says so, with what happened.
        cx.span().record_error(err);
        cx.span().set_status(Status::error(err.to_string()));
    }
    cx.span().end();
    result
}

/// Sends the sub-request and reads the number it answers, describing both on the client `span`
/// in the conventions' names.
async fn send(
    state: &AppState,
    url: &str,
    headers: HeaderMap,
    span: &SpanRef<'_>,
) -> Result<u64, FibError> {
    // Built first, so that its URL is parsed once: the attributes come from it.
    let request = state
        .client
        .get(url)
        .headers(headers)
        .build()
        .map_err(|err| FibError::unreachable(url, &err))?;
    span.set_attributes(conventions::client_attributes(&request));
    let response = state
        .client
        .execute(request)
        .await
        .map_err(|err| FibError::unreachable(url, &err))?;
    let status = response.status();
    span.set_attribute(KeyValue::new(
        HTTP_RESPONSE_STATUS_CODE,
        i64::from(status.as_u16()),
    ));
    if !status.is_success() {
        span.set_attribute(KeyValue::new(ERROR_TYPE, status.as_str().to_owned()));
    }
    sequence::error::read_number(url, response).await
}
