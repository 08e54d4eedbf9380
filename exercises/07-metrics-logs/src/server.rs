//! The routes and the `/fib` handler: the code the workshop's steps instrument.

// TODO(07): You will need the instruments' types (`opentelemetry::metrics`: `Counter`,
//           `Histogram`), the metric's standard name (`HTTP_SERVER_REQUEST_DURATION`, in
//           `opentelemetry_semantic_conventions::metric`) and a clock (`std::time::Instant`).
//           `tracing`'s macros need no `use`: `tracing::info!(…)`.
use axum::Router;
use axum::extract::{MatchedPath, RawQuery, Request, State};
use axum::http::HeaderMap;
use axum::http::header::HOST;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use opentelemetry::global::{self, BoxedTracer};
use opentelemetry::trace::{FutureExt, SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_http::{HeaderExtractor, HeaderInjector};
use opentelemetry_semantic_conventions::attribute::{
    ERROR_TYPE, HTTP_REQUEST_METHOD, HTTP_RESPONSE_STATUS_CODE, HTTP_ROUTE, SERVER_ADDRESS,
    SERVER_PORT, URL_FULL, URL_PATH, URL_QUERY, URL_SCHEME,
};
use sequence::{Config, FibError};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
    /// A std `Mutex`, because it is held for a lookup, never across an `.await`.
    known: Arc<Mutex<HashMap<u32, u64>>>,
    // TODO(07): The instruments, made once and shared, like the tracer: a histogram of how long
    //           requests take (`Histogram<f64>`) and a counter of /fib calls (`Counter<u64>`).
    //           Why not make them in each request?
}

impl AppState {
    pub fn new(config: &Config, own_url: &str) -> anyhow::Result<AppState> {
        let client = reqwest::Client::builder()
            // Bounded waits: a sub-request that hangs becomes a 502, not a page waiting forever.
            .connect_timeout(Duration::from_secs(2))
            .timeout(config.upstream_timeout())
            // Keep enough idle connections for the next click, without hoarding thousands.
            .pool_max_idle_per_host(256)
            .build()?;
        // TODO(07): Instruments come from a meter (`global::meter("fib")`), as spans from a
        //           tracer:
        //           - `http.server.request.duration`: an `f64_histogram` of seconds
        //             (`.with_unit("s")`), with the HTTP semantic conventions' buckets
        //             (`.with_boundaries(…)`: 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5,
        //             0.75, 1, 2.5, 5, 7.5, 10);
        //           - `fib.calls`: a `u64_counter`, unit `{call}`.
        Ok(AppState {
            client,
            upstream: config
                .upstream_url
                .clone()
                .unwrap_or_else(|| own_url.to_string()),
            max_index: config.max_index,
            tracer: Arc::new(global::tracer("fib")),
            // F(0) and F(1) need no sum: known from the start.
            known: Arc::new(Mutex::new(HashMap::from([(0, 0), (1, 1)]))),
        })
    }

    /// F(index), if it is known already.
    fn known(&self, index: u32) -> Option<u64> {
        // `unwrap`: the lock is poisoned only if a thread panicked holding it, and no code
        // that holds it can panic.
        self.known.lock().unwrap().get(&index).copied()
    }

    /// Keeps F(index) = value, for every request after this one.
    fn remember(&self, index: u32, value: u64) {
        self.known.lock().unwrap().insert(index, value);
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
    // TODO(07): Start a clock as the request arrives (`Instant::now()`), and read what the duration
    //           will be described with before `next.run` takes the request: the method, the
    //           scheme, the route. Why not the path with its query, as on the span? Each distinct
    //           set of attributes is a series of its own, kept in memory and sent every time.

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
        .with_attributes(server_attributes(&request))
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
    // TODO(07): Record how long it took, in seconds (`as_secs_f64()`), in the histogram, with
    //           those attributes plus the status code and, for a 5xx, `error.type`, as on the span.
    span.end();
    response
}

/// The server span's attributes, from the request: method, path, query, route, and the address
/// the client asked for (the `Host` header).
fn server_attributes(request: &Request) -> Vec<KeyValue> {
    let uri = request.uri();
    let mut attributes = vec![
        KeyValue::new(HTTP_REQUEST_METHOD, request.method().as_str().to_owned()),
        KeyValue::new(URL_SCHEME, "http"),
        KeyValue::new(URL_PATH, uri.path().to_owned()),
    ];
    if let Some(query) = uri.query() {
        attributes.push(KeyValue::new(URL_QUERY, query.to_owned()));
    }
    if let Some(route) = request.extensions().get::<MatchedPath>() {
        attributes.push(KeyValue::new(HTTP_ROUTE, route.as_str().to_owned()));
    }
    if let Some(host) = request
        .headers()
        .get(HOST)
        .and_then(|host| host.to_str().ok())
    {
        match host
            .rsplit_once(':')
            .map(|(address, port)| (address, port.parse::<i64>()))
        {
            Some((address, Ok(port))) => {
                attributes.push(KeyValue::new(SERVER_ADDRESS, address.to_owned()));
                attributes.push(KeyValue::new(SERVER_PORT, port));
            }
            _ => attributes.push(KeyValue::new(SERVER_ADDRESS, host.to_owned())),
        }
    }
    attributes
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
            // TODO(07): A log event too, for whoever reads logs rather than traces:
            //           `tracing::warn!` for the client's mistake (400), `tracing::error!` for ours
            //           (502; `err.status()` says which). Written here, which trace will it be in?
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
    if index < 2 {
        return Ok(u64::from(index));
    }
    // One after the other, not both at once: asking for F(N-1) computes and keeps F(N-2) on the
    // way, so the second question is answered from what is known, without a request.
    let a = fetch(state, index - 1).await?;
    let b = fetch(state, index - 2).await?;
    state.remember(index, a + b);
    // TODO(07): And a log event, `tracing::info!`, with the index and the result as fields
    //           (`fib.index = …`): each field becomes an attribute of the log record.
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
    if let Some(value) = state.known(index) {
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

    // The request, built first so that its URL is parsed once: the span describes it in the
    // conventions' names.
    let span = cx.span();
    let request = state.client.get(&url).headers(headers).build();
    let result = match request {
        Ok(request) => {
            span.set_attributes(client_attributes(&request));
            match state.client.execute(request).await {
                Ok(response) => {
                    let status = response.status();
                    span.set_attribute(KeyValue::new(
                        HTTP_RESPONSE_STATUS_CODE,
                        i64::from(status.as_u16()),
                    ));
                    if !status.is_success() {
                        span.set_attribute(KeyValue::new(ERROR_TYPE, status.as_str().to_owned()));
                    }
                    sequence::error::read_number(&url, response).await
                }
                Err(err) => Err(FibError::unreachable(&url, &err)),
            }
        }
        Err(err) => Err(FibError::unreachable(&url, &err)),
    };
    if let Err(err) = &result {
        // The sub-request failed: the client span says so, with what happened.
        span.record_error(err);
        span.set_status(Status::error(err.to_string()));
    }
    span.end();
    result
}

/// The client span's attributes, from the request: method, full URL, and where it goes.
fn client_attributes(request: &reqwest::Request) -> Vec<KeyValue> {
    let url = request.url();
    vec![
        KeyValue::new(HTTP_REQUEST_METHOD, request.method().as_str().to_owned()),
        KeyValue::new(URL_FULL, url.as_str().to_owned()),
        KeyValue::new(
            SERVER_ADDRESS,
            url.host_str().unwrap_or_default().to_owned(),
        ),
        KeyValue::new(
            SERVER_PORT,
            i64::from(url.port_or_known_default().unwrap_or_default()),
        ),
    ]
}
