//! The web pages: the trace list, a trace's waterfall (with each span's log records), the query
//! page, the log records and the metrics. Rendered on the server with askama (templates in
//! `templates/`); the heatmap and the charts are SVG drawn here, and every cell, bar and row is a
//! plain link, so the pages need no script and no CDN.
//!
//! Each page reads the window under its lock, turns what it needs into the small view structs
//! of its module (text already formatted), and lets go before rendering.
//!
//! ## Layout
//! One module a page, each with its view structs and its template's name:
//! - `traces`: the trace list, `/` and `/traces?where=…`;
//! - `trace`: one trace's waterfall, `/trace/ID`;
//! - `query`: the query page, its table, bar chart and heatmap, `/query?…`;
//! - `logs`: the log records, `/logs?…` (the trace page shows its records the same way);
//! - `metrics`: each metric's series, `/metrics`;
//! - `error`: what every page shows when it cannot show itself, and the 404;
//! - `format`: times, durations and numbers as people read them.
//!
//! Here: the routes, the stylesheet, the line on top of every page, and the rendering.

mod error;
mod format;
mod logs;
mod metrics;
mod query;
mod trace;
mod traces;

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

pub use format::{clock, duration_text, number_text, plural};

use crate::window::{Shared, Stats};

const STYLE: &str = include_str!("../../static/explorer.css");

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(traces::trace_list))
        .route("/traces", get(traces::trace_list))
        .route("/trace/{id}", get(trace::trace_page))
        .route("/query", get(query::query_page))
        .route("/logs", get(logs::logs_page))
        .route("/metrics", get(metrics::metrics_page))
        .route("/static/explorer.css", get(style))
        .fallback(error::not_found)
}

async fn style() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/css; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        STYLE,
    )
}

/// The line on top of every page.
pub struct Header {
    pub spans: usize,
    pub traces: usize,
    pub mib: String,
    pub max_mib: String,
    pub max_spans: usize,
    pub dropped: u64,
    pub logs: usize,
    pub dropped_logs: u64,
    pub series: usize,
    pub metric_points: u64,
    pub dropped_points: u64,
    pub rejected: u64,
    pub last_rejection: Option<String>,
    /// Refused for the room code.
    pub refused_room: u64,
}

impl From<Stats> for Header {
    fn from(stats: Stats) -> Header {
        let mib = |bytes: usize| format!("{:.1}", bytes as f64 / (1024.0 * 1024.0));
        Header {
            spans: stats.spans,
            traces: stats.traces,
            mib: mib(stats.bytes),
            max_mib: mib(stats.max_bytes),
            max_spans: stats.max_spans,
            dropped: stats.dropped_spans,
            logs: stats.logs,
            dropped_logs: stats.dropped_logs,
            series: stats.series,
            metric_points: stats.metric_points_received,
            dropped_points: stats.dropped_metric_points,
            rejected: stats.rejected,
            last_rejection: stats.last_rejections.into_iter().next(),
            refused_room: stats.refused_requests,
        }
    }
}

fn render(page: impl Template, status: StatusCode) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the page did not render: {err}"),
        )
            .into_response(),
    }
}
