//! The routes and the `/fib` handler: the code the workshop's steps instrument.

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
}

impl AppState {
    pub fn new(config: &Config, own_url: &str) -> anyhow::Result<AppState> {
        Ok(AppState {
            // Bounded waits, and connections kept open for the next click (see `sequence::net`).
            client: sequence::net::client(config)?,
            upstream: config.upstream(own_url),
            max_index: config.max_index,
        })
    }
}

/// The app: `/fib` plus the page (`/` and its script and stylesheet).
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/fib", get(fib))
        .merge(sequence::page::routes(state.max_index))
        .with_state(state)
}

/// `GET /fib?index=N`: F(0) = 0, F(1) = 1, and F(N) = F(N-1) + F(N-2), each asked of the upstream.
///
/// A bad index is refused with `400` before anything else happens; a failed sub-request makes
/// this one fail with `502` (see `sequence::error`).
// ANCHOR: fib
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
// ANCHOR_END: fib

/// Asks the upstream for F(index) over HTTP.
// ANCHOR: fetch
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
// ANCHOR_END: fetch
