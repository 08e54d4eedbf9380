//! The web pages: the trace list, a trace's waterfall (with each span's log records), the query
//! page, the log records and the metrics. Rendered on the server with askama (templates in
//! `templates/`); the heatmap and the charts are SVG drawn here, and every cell, bar and row is a
//! plain link, so the pages work without a script and need no CDN. Two pages add a little of
//! their own script to that (see `scripts`).
//!
//! Each page reads the window under its lock, turns what it needs into the small view structs
//! of its module (text already formatted), and lets go before rendering.
//!
//! ## Layout
//! One module a page, each with its view structs and its template's name:
//! - `traces`: the trace list, `/` and `/traces?where=…`;
//! - `trace`: one trace's waterfall, `/trace/ID`;
//! - `query`: the query page, its table, bar chart and heatmap, `/query?…`;
//! - `search`: the spans that contain a phrase, `/search?q=…` (the box on top of every page);
//! - `click_filter`: the trace page's `=` and `≠` links, which add a filter to a query;
//! - `logs`: the log records, `/logs?…` (the trace page shows its records the same way);
//! - `metrics`: each metric's series, `/metrics`;
//! - `room`: the Room page, a row per learner, `/room` (and its board alone, `/room/board`);
//! - `scripts`: the Room page's and the query page's scripts, and the policy that allows only them;
//! - `error`: what every page shows when it cannot show itself, and the 404;
//! - `format`: times, durations and numbers as people read them.
//!
//! Here: the routes, the stylesheet, the line (and the search box) on top of every page, and the
//! rendering.

mod click_filter;
mod error;
mod format;
mod logs;
mod metrics;
mod query;
mod room;
mod scripts;
mod search;
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
        .route("/search", get(search::search_page))
        .route("/logs", get(logs::logs_page))
        .route("/metrics", get(metrics::metrics_page))
        .route("/room", get(room::room_page))
        .route("/room/board", get(room::board_fragment))
        .route("/static/room.js", get(scripts::room))
        .route("/static/query.js", get(scripts::query))
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
    /// What the search box on top shows: the phrase on the search page, else nothing.
    pub search: String,
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
    /// In a room: whose spans were dropped, "eve 930, bob 12".
    pub dropped_by: String,
    /// A joined learner's explorer: "to the room at URL as ada: 12 sent, 0 failed".
    pub forward: Option<String>,
    pub forward_failing: bool,
}

impl From<Stats> for Header {
    fn from(stats: Stats) -> Header {
        let mib = |bytes: usize| format!("{:.1}", bytes as f64 / (1024.0 * 1024.0));
        Header {
            search: String::new(),
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
            dropped_by: stats
                .dropped_by_learner
                .iter()
                .map(|drops| format!("{} {}", drops.learner, drops.spans))
                .collect::<Vec<_>>()
                .join(", "),
            forward_failing: stats
                .forward
                .as_ref()
                .is_some_and(|f| f.last_error.is_some()),
            forward: stats.forward.map(|forward| {
                let mut line = format!(
                    "copied to the room at {} as {}: {} sent",
                    forward.url, forward.learner, forward.sent
                );
                if forward.failed > 0 || forward.dropped > 0 {
                    line += &format!(", {} failed, {} dropped", forward.failed, forward.dropped);
                }
                if let Some(error) = forward.last_error {
                    line += &format!(" (last: {error})");
                }
                line
            }),
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
