//! The routes and the `/fib` handler: the code the workshop's steps instrument.

// TODO(04): Attributes, statuses and your `conventions` module need more `use` lines here, one
//   for each item you use.
use axum::Router;
use axum::extract::{MatchedPath, RawQuery, Request, State};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use opentelemetry::Context;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::trace::{FutureExt, SpanKind, TraceContextExt, Tracer};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
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
    // If the caller sent a `traceparent` header, this request is part of the caller's trace:
    // the propagator reads it into a context, and the server span becomes a child of the
    // caller's span. Without the header, the context is empty and the span starts a new trace.
    let parent = global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(request.headers()))
    });
    // TODO(04): Describe the request in the names every backend knows: the server span starts
    //   with the attributes of your `conventions::server_attributes`.
    //   Look up: `SpanBuilder::with_attributes`.
    //   https://docs.rs/opentelemetry/0.33.1/opentelemetry/trace/struct.SpanBuilder.html
    let span = state
        .tracer
        .span_builder(name)
        .with_kind(SpanKind::Server)
        .start_with_context(state.tracer.as_ref(), &parent);

    // The span is the current one while the handler runs (`with_context`), so that whatever
    // the handler does can find it, and it ends when the response is ready.
    let cx = parent.with_span(span);
    let response = next.run(request).with_context(cx.clone()).await;
    // TODO(04): Say how it went, before the span ends: the response's status code (an integer).
    //   A 5xx is this server's failure: the span also gets `error.type` (the status code, as
    //   text) and an error status. A 4xx is the client's fault: the conventions leave the
    //   server span's status unset then.
    //   Look up: `SpanRef` (`set_attribute`, `set_status`), `Status`, and `HTTP_RESPONSE_STATUS_CODE`
    //   and `ERROR_TYPE` among the conventions' attributes.
    //   https://docs.rs/opentelemetry/0.33.1/opentelemetry/trace/struct.SpanRef.html
    cx.span().end();
    response
}

/// `GET /fib?index=N`: F(0) = 0, F(1) = 1, and F(N) = F(N-1) + F(N-2), each asked of the upstream.
///
/// A bad index is refused with `400` before anything else happens; a failed sub-request makes
/// this one fail with `502` (see `sequence::error`).
// TODO(04): Give the work a span of its own, named `fib`, inside the server span, with the data
//   the puzzles need. Let `fib` run the work (moved into a function of its own, `compute`) as
//   the current span, then record on that span how it ended:
//   - `fib.index` (an integer), set once the index is parsed, and `fib.result` (an integer)
//     once the number is known;
//   - an event, `sum`, once both numbers are in, with them as its attributes (`fib.left`,
//     `fib.right`);
//   - on an error: an `exception` event with its message, and an error status.
//   Look up: `Tracer::start`, `Context::current`, `SpanRef` (`set_attribute`, `add_event`,
//   `record_error`, `set_status`), `Status`.
//   https://docs.rs/opentelemetry/0.33.1/opentelemetry/trace/trait.Tracer.html#method.start
//   https://docs.rs/opentelemetry/0.33.1/opentelemetry/trace/struct.SpanRef.html
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

    // TODO(04): Describe the sub-request on the client span, and record its failure:
    //   - the attributes of your `conventions::client_attributes`, from the request as built,
    //     before it is sent (its URL is parsed then);
    //   - on an answer, its status code (an integer), and `error.type` when it is not a success;
    //   - on an error: an `exception` event and an error status, before the span ends.
    //   Sending gets long: a function of its own (`send`) that is given the span helps.
    //   Look up: reqwest's `RequestBuilder::build` and `Client::execute`; `SpanRef`.
    //   https://docs.rs/reqwest/0.13.5/reqwest/struct.Client.html#method.execute
    //   https://docs.rs/opentelemetry/0.33.1/opentelemetry/trace/struct.SpanRef.html
    let response = state.client.get(&url).headers(headers).send().await;
    let result = match response {
        Ok(response) => sequence::error::read_number(&url, response).await,
        Err(err) => Err(FibError::unreachable(&url, &err)),
    };
    cx.span().end();
    result
}
