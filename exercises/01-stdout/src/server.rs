//! The routes and the `/fib` handler: the code the workshop's steps instrument.

// TODO(01): The server span needs these; uncomment them as you use them:
//   use std::sync::Arc;
//   use axum::extract::{MatchedPath, Request};
//   use axum::middleware::{self, Next};
//   use axum::response::Response;
//   use opentelemetry::global::{self, BoxedTracer};
//   use opentelemetry::trace::{FutureExt, SpanKind, TraceContextExt, Tracer};
//   use opentelemetry::Context;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use sequence::{Config, FibError};

/// What every request handler gets: cheap to clone, shared by all requests.
#[derive(Clone)]
pub struct AppState {
    /// One HTTP client for all sub-requests, so that connections are kept open and reused.
    client: reqwest::Client,
    /// Where sub-requests go: this server itself, unless `FIB_UPSTREAM_URL` says otherwise.
    upstream: String,
    /// The largest index `/fib` accepts (`FIB_MAX_INDEX`).
    max_index: u32,
    // TODO(01): A tracer makes spans. Keep one here for every request to share, as
    //   `tracer: Arc<BoxedTracer>`: `global::tracer("fib")` takes a lock each time it is called.
}

impl AppState {
    pub fn new(config: &Config, own_url: &str) -> anyhow::Result<AppState> {
        Ok(AppState {
            // Bounded waits, and connections kept open for the next click (see `sequence::net`).
            client: sequence::net::client(config)?,
            upstream: config.upstream(own_url),
            max_index: config.max_index,
            // TODO(01): `tracer: Arc::new(global::tracer("fib"))`. The global tracer provider
            //   must be installed by then: `main` calls `init_traces` first.
        })
    }
}

// TODO(01): Run every request through `trace_request` (below): add
//   `.layer(middleware::from_fn_with_state(state.clone(), trace_request))` before `.with_state`.
/// The app: `/fib` plus the page (`/` and its script and stylesheet).
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/fib", get(fib))
        .merge(sequence::page::routes(state.max_index))
        .with_state(state)
}

// TODO(01): Write the middleware that gives every request a server span:
//   async fn trace_request(State(state): State<AppState>, request: Request, next: Next) -> Response
//   1. name the span after the method and the route (`GET /fib`): the route is in
//      `request.extensions().get::<MatchedPath>()` (absent for unknown paths: use the method alone);
//   2. build it with `state.tracer.span_builder(name)`, kind `SpanKind::Server`, and `.start(…)`;
//   3. make it the current span while the handler runs: put it in a `Context`
//      (`Context::current_with_span`) and run `next.run(request).with_context(cx.clone())`;
//   4. end it when the response is ready (`cx.span().end()`), and return the response.

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
