//! The routes and the `/fib` handler: the code the workshop's steps instrument. From step 07,
//! with metrics (a middleware that measures every request, a counter of `/fib` calls) and log
//! events (`tracing`'s macros) beside the spans.

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
use sequence::{Config, FibError, Known};
use std::sync::Arc;

// TODO(07): Your `metrics` module and its instruments need a `use` line here. `tracing`'s
//   macros need none, called by their full path.
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
    /// The numbers computed so far, by index: each one is asked for over HTTP once, then known.
    known: Known,
    // TODO(07): The metrics' instruments (`metrics::Instruments`, yours to write in `metrics.rs`),
    //   made once and shared, like the tracer. Why not make them in each request?
}

impl AppState {
    pub fn new(config: &Config, own_url: &str) -> anyhow::Result<AppState> {
        Ok(AppState {
            // Bounded waits, and connections kept open for the next click (see `sequence::net`).
            client: sequence::net::client(config)?,
            upstream: config.upstream(own_url),
            max_index: config.max_index,
            tracer: Arc::new(global::tracer("fib")),
            known: Known::new(),
            // TODO(07): The instruments, made here once the meter provider is installed: `main`
            //   sets it up before the state is made.
        })
    }
}

// TODO(07): Measure every request, in a middleware of its own beside the one that traces: your
//   `metrics::record_duration`, with the instruments as its state, in a layer of its own.
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
            // TODO(07): A log event too, for whoever reads logs rather than traces: a warning
            //   for the client's mistake (400), an error for ours (502; `FibError::status` says
            //   which), with the error as a field. Written here, which trace will it be in?
            //   Look up: `tracing`'s `warn!` and `error!` macros.
            //   https://docs.rs/tracing/0.1.44/tracing/index.html#using-the-macros
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
    // TODO(07): Count this call in `fib.calls`, with the index as the attribute `fib.index`.
    //   Look up: `Counter`.
    //   https://docs.rs/opentelemetry/0.33.1/opentelemetry/metrics/struct.Counter.html
    if index < 2 {
        return Ok(u64::from(index));
    }
    // One after the other, not both at once: asking for F(N-1) computes and keeps F(N-2) on the
    // way, so the second question is answered from what is known, without a request.
    let a = fetch(state, index - 1).await?;
    let b = fetch(state, index - 2).await?;
    state.known.remember(index, a + b);
    // TODO(07): And a log event at the info level, with the index and the result as fields
    //   (`fib.index`, `fib.result`): each field becomes an attribute of the log record.
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

/// F(index): from what is known, or else asked of the upstream over HTTP, in a client span.
async fn fetch(state: &AppState, index: u32) -> Result<u64, FibError> {
    // Known already: no request and no client span. An event on the current span says why.
    if let Some(value) = state.known.get(index) {
        Context::current().span().add_event(
            "cache hit",
            vec![KeyValue::new("fib.index", i64::from(index))],
        );
        return Ok(value);
    }

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
