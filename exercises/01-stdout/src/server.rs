//! The routes and the `/fib` handler: the code the workshop's steps instrument.

// TODO(01): The server span needs more `use` lines here, one for each item you use: your
//   editor's quick fix, or the compiler's "consider importing" help, finds where each one lives.
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
    // TODO(01): A tracer makes spans. Keep one here, for every request to share: asking the
    //   global provider for one takes a lock each time. Look up: `global::tracer`, `BoxedTracer`.
    //   https://docs.rs/opentelemetry/0.33.1/opentelemetry/global/fn.tracer.html
}

impl AppState {
    pub fn new(config: &Config, own_url: &str) -> anyhow::Result<AppState> {
        Ok(AppState {
            // Bounded waits, and connections kept open for the next click (see `sequence::net`).
            client: sequence::net::client(config)?,
            upstream: config.upstream(own_url),
            max_index: config.max_index,
            // TODO(01): The tracer, named after the app ("fib"). The global tracer provider
            //   must be installed by then, or its spans go nowhere: `main` sets it up first.
        })
    }
}

// TODO(01): Run every request through the middleware `trace_request` (below), which needs the
//   state for its tracer. Look up: axum's `middleware::from_fn_with_state`, `Router::layer`.
//   https://docs.rs/axum/0.8.9/axum/middleware/fn.from_fn_with_state.html
/// The app: `/fib` plus the page (`/` and its script and stylesheet).
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/fib", get(fib))
        .merge(sequence::page::routes(state.max_index))
        .with_state(state)
}

// TODO(01): Write `trace_request`, the middleware that gives every request a server span:
//   named after the method and the route (`GET /fib`, whatever the index; the method alone
//   for a path with no route), of the server kind, the current span while the handler runs,
//   and ended once the response is ready.
//   Look up: `Tracer::span_builder`, `SpanBuilder`, `SpanKind`, `TraceContextExt`,
//   `FutureExt::with_context`; axum's `MatchedPath` and `Next`.
//   https://docs.rs/opentelemetry/0.33.1/opentelemetry/trace/struct.SpanBuilder.html
//   https://docs.rs/opentelemetry/0.33.1/opentelemetry/trace/trait.FutureExt.html
//   https://docs.rs/axum/0.8.9/axum/extract/struct.MatchedPath.html

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
