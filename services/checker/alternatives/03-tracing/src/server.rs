//! The routes and the `/fib` handler, as in `solutions/03-propagation`, with the server and
//! client spans made by `tracing`.

use axum::Router;
use axum::extract::{MatchedPath, RawQuery, Request, State};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use opentelemetry::global;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use sequence::{Config, FibError};
use std::time::Duration;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// What every request handler gets: cheap to clone, shared by all requests.
#[derive(Clone)]
pub struct AppState {
    client: reqwest::Client,
    upstream: String,
    max_index: u32,
}

impl AppState {
    pub fn new(config: &Config, own_url: &str) -> anyhow::Result<AppState> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .timeout(config.upstream_timeout())
            .pool_max_idle_per_host(256)
            .build()?;
        Ok(AppState {
            client,
            upstream: config
                .upstream_url
                .clone()
                .unwrap_or_else(|| own_url.to_string()),
            max_index: config.max_index,
        })
    }
}

/// The app: `/fib` plus the page, every request traced.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/fib", get(fib))
        .merge(sequence::page::routes(state.max_index))
        .layer(middleware::from_fn(trace_request))
        .with_state(state)
}

/// Runs every request inside a server span, which ends when its response is ready.
async fn trace_request(request: Request, next: Next) -> Response {
    let name = match request.extensions().get::<MatchedPath>() {
        Some(route) => format!("{} {}", request.method(), route.as_str()),
        None => request.method().to_string(),
    };
    // A `tracing` span's name is fixed at compile time; the layer reads the OpenTelemetry name
    // (`GET /fib`) from `otel.name` and the kind from `otel.kind` (the default is Internal).
    let span = tracing::info_span!("HTTP request", otel.name = %name, otel.kind = "server");
    // The caller's `traceparent`, if any, makes the server span a child of the caller's span.
    // `set_parent` only works before the span is first entered (or its `context()` taken): the
    // OpenTelemetry span starts then, with whatever parent it has. Hence a span made here, in
    // middleware, rather than `#[instrument]` on the handler.
    let parent = global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(request.headers()))
    });
    // It fails only if the span is filtered out or already started; neither happens here.
    let _ = span.set_parent(parent);
    // `instrument` enters the span each time the handler is polled; the span closes, and the
    // OpenTelemetry span ends and is queued for export, when the future is dropped.
    next.run(request).instrument(span).await
}

/// `GET /fib?index=N`: F(0) = 0, F(1) = 1, and F(N) = F(N-1) + F(N-2), each asked of the upstream.
async fn fib(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<String, FibError> {
    let index = sequence::index::parse(query.as_deref(), state.max_index)?;
    let value = if index < 2 {
        u64::from(index)
    } else {
        let (a, b) = tokio::try_join!(fetch(&state, index - 1), fetch(&state, index - 2))?;
        a + b
    };
    Ok(format!("{value}\n"))
}

/// Asks the upstream for F(index) over HTTP, in a client span of its own.
async fn fetch(state: &AppState, index: u32) -> Result<u64, FibError> {
    let url = format!("{}/fib?index={index}", state.upstream);
    // A child of the current span (the server span, entered while the handler is polled).
    let span = tracing::info_span!("GET", otel.kind = "client");

    // The client span's OpenTelemetry context (`context()` starts the span) goes into the
    // request's `traceparent` header, for the server that answers to continue this trace.
    let mut headers = HeaderMap::new();
    global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&span.context(), &mut HeaderInjector(&mut headers));
    });

    async {
        let response = state
            .client
            .get(&url)
            .headers(headers)
            .send()
            .await
            .map_err(|err| FibError::unreachable(&url, &err))?;
        sequence::error::read_number(&url, response).await
    }
    .instrument(span)
    .await
}
