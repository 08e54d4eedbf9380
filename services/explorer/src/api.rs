//! The JSON API: the same queries as the pages, for the checker, the tests and `curl`.
//!
//! - `GET /api/stats`: what the window holds, what it dropped, what was refused;
//! - `GET /api/traces?QUERY&limit=N`: the newest traces with a span the query selects;
//! - `GET /api/traces/ID`: every span of one trace;
//! - `GET /api/query?QUERY`: a query's groups, calculations and heatmap (see [`crate::query`]);
//! - `GET /api/search?q=PHRASE&limit=N`: how many spans contain the phrase in any field, and the
//!   newest `limit` of them (50 unless given), each with the field that holds it and its value;
//! - `GET /api/logs?severity=…&trace_id=…&contains=…&limit=N`: the newest log records;
//! - `GET /api/metrics`: every metric, with the latest point of each of its series.
//!
//! A mistake gets a 4xx with `{"error": "…"}` saying what was wrong.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value as Json, json};

use crate::logs::LogQuery;
use crate::params::parse_limit;
use crate::query::{self, Query};
use crate::span::parse_trace_id;
use crate::window::{Shared, summary};

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/stats", get(stats))
        .route("/api/traces", get(traces))
        .route("/api/traces/{id}", get(trace))
        .route("/api/query", get(run_query))
        .route("/api/search", get(search))
        .route("/api/logs", get(logs))
        .route("/api/metrics", get(metrics))
        .route("/api/room", get(room))
        .route("/api/{*rest}", get(unknown))
}

/// A 4xx with the message as JSON.
pub struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, axum::Json(json!({ "error": self.1 }))).into_response()
    }
}

fn bad_request(message: String) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, message)
}

async fn stats(State(shared): State<Arc<Shared>>) -> axum::Json<Json> {
    axum::Json(json!(shared.stats()))
}

/// The room's board: a row per learner and the summary (see [`crate::room::Board`]).
async fn room(State(shared): State<Arc<Shared>>) -> axum::Json<Json> {
    axum::Json(json!(shared.board()))
}

/// Splits `limit` (how many traces) off a trace list's query string.
pub fn trace_list_query(raw: Option<&str>) -> Result<(Query, usize), String> {
    let mut limit = 50;
    let mut pairs = Vec::new();
    for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned() {
        if name == "limit" {
            limit = parse_limit(&value)?;
        } else {
            pairs.push((name, value));
        }
    }
    Ok((Query::from_pairs(pairs)?, limit))
}

async fn traces(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Json>, ApiError> {
    let (query, limit) = trace_list_query(raw.as_deref()).map_err(bad_request)?;
    let window = shared.read();
    Ok(axum::Json(json!(query::traces(&window, &query, limit))))
}

async fn trace(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<axum::Json<Json>, ApiError> {
    let trace_id = parse_trace_id(&id)
        .ok_or_else(|| bad_request(format!("{id:?} is not a trace id: 32 hexadecimal digits")))?;
    let window = shared.read();
    let spans = window.trace(&trace_id);
    if spans.is_empty() {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no trace {id} in the window: it never arrived, or it was dropped"),
        ));
    }
    Ok(axum::Json(json!({
        "summary": summary(&trace_id, &spans),
        "spans": spans.iter().map(|span| span.to_json()).collect::<Vec<_>>(),
    })))
}

async fn run_query(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Json>, ApiError> {
    let query =
        Query::from_query_string(raw.as_deref().unwrap_or_default()).map_err(bad_request)?;
    let window = shared.read();
    Ok(axum::Json(json!(query.run(&window))))
}

/// Reads a search's parameters: the phrase (`q`, if given) and how many matches to list
/// (`limit`, 50 unless given). Anything else is refused, as a query refuses it.
pub fn search_params(raw: Option<&str>) -> Result<(Option<String>, usize), String> {
    let (mut phrase, mut limit) = (None, 50);
    for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned() {
        match name.as_str() {
            "q" => phrase = Some(value),
            "limit" => limit = parse_limit(&value)?,
            other => {
                return Err(format!(
                    "unknown parameter {other:?}: a search takes q (the phrase) and limit"
                ));
            }
        }
    }
    Ok((phrase, limit))
}

/// A search without a phrase is refused like an empty one: with what to type.
async fn search(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Json>, ApiError> {
    let (phrase, limit) = search_params(raw.as_deref()).map_err(bad_request)?;
    let window = shared.read();
    let result = query::search(&window, phrase.as_deref().unwrap_or_default(), limit)
        .map_err(bad_request)?;
    Ok(axum::Json(json!(result)))
}

/// The newest records first, as an array like `/api/traces`.
async fn logs(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Result<axum::Json<Json>, ApiError> {
    let query =
        LogQuery::from_query_string(raw.as_deref().unwrap_or_default()).map_err(bad_request)?;
    let logs = shared.logs();
    let (records, _) = logs.newest(&query);
    Ok(axum::Json(Json::from_iter(
        records.iter().map(|record| record.to_json()),
    )))
}

/// Every metric by name, each with its series.
async fn metrics(State(shared): State<Arc<Shared>>) -> axum::Json<Json> {
    let metrics = shared.metrics();
    axum::Json(Json::from_iter(
        metrics.iter().map(|metric| metric.to_json()),
    ))
}

async fn unknown(Path(rest): Path<String>) -> ApiError {
    ApiError(
        StatusCode::NOT_FOUND,
        format!(
            "no such API /api/{rest}: there are /api/stats, /api/traces, /api/traces/ID, \
             /api/query, /api/search, /api/logs and /api/metrics"
        ),
    )
}
