//! The routes and the `/fib` handler, as in `solutions/04-attributes`, with every span made by
//! `tracing`: attributes are span fields, the event is a `tracing` event, errors are error events.
//!
//! A field can only be recorded if the span declared it when it was made: a field known only
//! later (the response's status) is declared `Empty` and recorded then. An undeclared field is
//! dropped without a word.

use axum::Router;
use axum::extract::{MatchedPath, RawQuery, Request, State};
use axum::http::header::HOST;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use opentelemetry::global;
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use sequence::{Config, FibError};
use std::time::Duration;
use tracing::field::{Empty, display};
use tracing::{Instrument, Span};
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
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|route| route.as_str().to_owned());
    let name = match &route {
        Some(route) => format!("{} {route}", request.method()),
        None => request.method().to_string(),
    };
    let (address, port) = server_address(&request);
    let uri = request.uri();
    // `otel.name` and `otel.kind` are read by the layer, not exported as attributes. `Option`
    // fields are recorded only when `Some`. Integers must be `i64` (or `i32`…): the layer turns
    // `u64` fields into strings.
    let span = tracing::info_span!(
        "HTTP request",
        otel.name = %name,
        otel.kind = "server",
        http.request.method = request.method().as_str(),
        url.scheme = "http",
        url.path = uri.path(),
        url.query = uri.query(),
        http.route = route.as_deref(),
        server.address = address,
        server.port = port,
        http.response.status_code = Empty,
        "error.type" = Empty,
        otel.status_code = Empty,
        otel.status_description = Empty,
    );
    // The caller's `traceparent`, if any, makes the server span a child of the caller's span.
    // `set_parent` only works before the span is first entered (or its `context()` taken): the
    // OpenTelemetry span starts then, with whatever parent it has. Hence a span made here, in
    // middleware, rather than `#[instrument]` on the handler.
    let parent = global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(request.headers()))
    });
    // It fails only if the span is filtered out or already started; neither happens here.
    let _ = span.set_parent(parent);

    let response = next.run(request).instrument(span.clone()).await;

    // How it went. A 5xx is this server's failure: status Error, with a description (the layer
    // reads `otel.status_code` and `otel.status_description`; there is no `otel.status_message`).
    // A 4xx is the client's, and the server span's status stays unset.
    let status = response.status();
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if status.is_server_error() {
        span.record("error.type", status.as_str());
        span.record("otel.status_code", "ERROR");
        span.record("otel.status_description", display(status));
    }
    response
}

/// `server.address` and `server.port`, from the `Host` header the client sent.
fn server_address(request: &Request) -> (Option<&str>, Option<i64>) {
    let Some(host) = request
        .headers()
        .get(HOST)
        .and_then(|host| host.to_str().ok())
    else {
        return (None, None);
    };
    match host
        .rsplit_once(':')
        .map(|(address, port)| (address, port.parse::<i64>()))
    {
        Some((address, Ok(port))) => (Some(address), Some(port)),
        _ => (Some(host), None),
    }
}

/// `GET /fib?index=N`: F(0) = 0, F(1) = 1, and F(N) = F(N-1) + F(N-2), each asked of the upstream.
async fn fib(State(state): State<AppState>, RawQuery(query): RawQuery) -> Result<String, FibError> {
    let value = compute(&state, query.as_deref()).await?;
    Ok(format!("{value}\n"))
}

/// Reads the index and computes F(index), in an internal span `fib` of our own.
///
/// `err` makes `#[instrument]` emit `error!(error = %err)` when it returns an error: the layer
/// turns an event with an `error` field and no message into an `exception` event, and sets the
/// span's status to Error with the message.
#[tracing::instrument(name = "fib", skip_all, fields(fib.index, fib.result), err)]
async fn compute(state: &AppState, query: Option<&str>) -> Result<u64, FibError> {
    let index = sequence::index::parse(query, state.max_index)?;
    let span = Span::current();
    span.record("fib.index", i64::from(index));
    let value = if index < 2 {
        u64::from(index)
    } else {
        let (a, b) = tokio::try_join!(fetch(state, index - 1), fetch(state, index - 2))?;
        // An event on the current span, named by its message. DEBUG: not for the console.
        tracing::debug!(fib.left = a as i64, fib.right = b as i64, "sum");
        a + b
    };
    span.record("fib.result", value as i64);
    Ok(value)
}

/// Asks the upstream for F(index) over HTTP, in a client span of its own.
async fn fetch(state: &AppState, index: u32) -> Result<u64, FibError> {
    let url = format!("{}/fib?index={index}", state.upstream);
    // A child of the current span (`fib`, inside the server span).
    let span = tracing::info_span!(
        "GET",
        otel.kind = "client",
        http.request.method = "GET",
        url.full = Empty,
        server.address = Empty,
        server.port = Empty,
        http.response.status_code = Empty,
        "error.type" = Empty,
    );
    let result = send(state, &url).instrument(span.clone()).await;
    if let Err(err) = &result {
        // The same mapping as `#[instrument(err)]`: an `exception` event, status Error.
        tracing::error!(parent: &span, error = %err);
    }
    result
}

/// The sub-request itself, run inside the client span.
async fn send(state: &AppState, url: &str) -> Result<u64, FibError> {
    let span = Span::current();
    let mut request = state
        .client
        .get(url)
        .build()
        .map_err(|err| FibError::unreachable(url, &err))?;
    span.record("url.full", request.url().as_str());
    span.record(
        "server.address",
        request.url().host_str().unwrap_or_default(),
    );
    if let Some(port) = request.url().port_or_known_default() {
        span.record("server.port", i64::from(port));
    }

    // The client span's OpenTelemetry context (`context()` starts the span) goes into the
    // request's `traceparent` header, for the server that answers to continue this trace.
    global::get_text_map_propagator(|propagator| {
        propagator.inject_context(&span.context(), &mut HeaderInjector(request.headers_mut()));
    });

    let response = state
        .client
        .execute(request)
        .await
        .map_err(|err| FibError::unreachable(url, &err))?;
    let status = response.status();
    span.record("http.response.status_code", i64::from(status.as_u16()));
    if !status.is_success() {
        span.record("error.type", status.as_str());
    }
    sequence::error::read_number(url, response).await
}
