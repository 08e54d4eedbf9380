//! The routes and the `/fib` handler: the code the workshop's steps instrument.

use axum::Router;
use axum::extract::{MatchedPath, RawQuery, Request, State};
// TODO(03): Reading and writing headers needs more `use` lines here, one for each item you use.
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use opentelemetry::Context;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::trace::{FutureExt, SpanKind, TraceContextExt, Tracer};
use sequence::{Config, FibError};
use std::sync::Arc;

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
}

impl AppState {
    pub fn new(config: &Config, own_url: &str) -> anyhow::Result<AppState> {
        Ok(AppState {
            // Bounded waits, and connections kept open for the next click (see `sequence::net`).
            client: sequence::net::client(config)?,
            upstream: config.upstream(own_url),
            max_index: config.max_index,
            tracer: Arc::new(global::tracer("fib")),
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
    // TODO(03): Continue the caller's trace: read the caller's context from the request's
    //   headers (its `traceparent`), with the propagator installed in telemetry.rs, and start
    //   the server span as a child of that context. Without the header, the context is empty
    //   and the span starts a trace of its own, as now.
    //   Look up: `global::get_text_map_propagator`, `TextMapPropagator::extract`,
    //   opentelemetry-http's `HeaderExtractor`, `SpanBuilder::start_with_context`.
    //   https://docs.rs/opentelemetry/0.33.1/opentelemetry/propagation/text_map_propagator/trait.TextMapPropagator.html
    //   https://docs.rs/opentelemetry-http/0.33.1/opentelemetry_http/struct.HeaderExtractor.html
    let span = state
        .tracer
        .span_builder(name)
        .with_kind(SpanKind::Server)
        .start(state.tracer.as_ref());

    // TODO(03): The span's context must be the caller's context with the span in it, not a new
    //   one. Look up: `TraceContextExt::with_span`.
    //   https://docs.rs/opentelemetry/0.33.1/opentelemetry/trace/trait.TraceContextExt.html
    // The span is the current one while the handler runs (`with_context`), so that whatever
    // the handler does can find it, and it ends when the response is ready.
    let cx = Context::current_with_span(span);
    let response = next.run(request).with_context(cx.clone()).await;
    cx.span().end();
    response
}

/// `GET /fib?index=N`: F(0) = 0, F(1) = 1, and F(N) = F(N-1) + F(N-2), each asked of the upstream.
///
/// A bad index is refused with `400` before anything else happens; a failed sub-request makes
/// this one fail with `502` (see `sequence::error`).
async fn fib(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<String, FibError> {
    let index = sequence::index::parse(query.as_deref(), state.max_index)?;
    let value = if index < 2 {
        u64::from(index)
    } else {
        // Both sub-requests run at once; if one fails, the other is cancelled.
        let (a, b) = tokio::try_join!(fetch(&state, index - 1), fetch(&state, index - 2))?;
        a + b
    };
    Ok(format!("{value}\n"))
}

// TODO(03): Give every sub-request a client span, and send its context along:
//   - a span of the client kind, named after the HTTP method alone (`GET`), a child of the
//     current span (the server span of the request that asks);
//   - its context written into the sub-request's headers by the propagator, so that the
//     server that answers continues this trace under this span;
//   - ended once the answer is read, whether it is a number or an error.
//   Look up: `SpanKind`, `TextMapPropagator::inject_context`, opentelemetry-http's
//   `HeaderInjector`, `HeaderMap`, reqwest's `RequestBuilder::headers`.
//   https://docs.rs/opentelemetry-http/0.33.1/opentelemetry_http/struct.HeaderInjector.html
//   https://docs.rs/reqwest/0.13.5/reqwest/struct.RequestBuilder.html#method.headers
/// Asks the upstream for F(index) over HTTP.
async fn fetch(state: &AppState, index: u32) -> Result<u64, FibError> {
    let url = format!("{}/fib?index={index}", state.upstream);
    let response = state
        .client
        .get(&url)
        .send()
        .await
        .map_err(|err| FibError::unreachable(&url, &err))?;
    sequence::error::read_number(&url, response).await
}
