//! The trace list, `/` and `/traces?where=…`: the newest traces, or those with a span the filters
//! select (a query's row, a heatmap cell), each in a line.

use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{Header, clock, duration_text, render};
use crate::api::trace_list_query;
use crate::query::{self, Filter};
use crate::window::Shared;

#[derive(Template)]
#[template(path = "traces.html")]
struct TraceList {
    header: Header,
    /// The filters, one per line, as typed.
    filters: String,
    error: Option<String>,
    traces: Vec<TraceRow>,
    /// Whether the list shows only some traces (a query's, a heatmap cell's).
    filtered: bool,
}

struct TraceRow {
    id: String,
    name: String,
    root_found: bool,
    service: String,
    start: String,
    duration: String,
    spans: usize,
    errors: usize,
}

pub(super) async fn trace_list(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let header = Header::from(shared.stats());
    let (filters, parsed) = match trace_list_query(raw.as_deref()) {
        Ok((query, limit)) => (filters_text(&query.filters), Ok((query, limit))),
        // Nothing typed is lost: the box shows it again, with the error.
        Err(err) => (raw_filters(raw.as_deref()), Err(err)),
    };
    let (traces, error, filtered) = match parsed {
        Ok((query, limit)) => {
            let window = shared.read();
            let traces = query::traces(&window, &query, limit)
                .into_iter()
                .map(|trace| TraceRow {
                    start: clock(trace.start_unix_nano),
                    duration: duration_text(trace.duration_ms),
                    id: trace.trace_id,
                    name: trace.root_name,
                    root_found: trace.root_found,
                    service: trace.service,
                    spans: trace.span_count,
                    errors: trace.error_count,
                })
                .collect();
            let filtered = !query.filters.is_empty() || query.from.is_some() || query.to.is_some();
            (traces, None, filtered)
        }
        Err(err) => (Vec::new(), Some(err), true),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    render(
        TraceList {
            header,
            filters,
            error,
            traces,
            filtered,
        },
        status,
    )
}

fn filters_text(filters: &[Filter]) -> String {
    filters
        .iter()
        .map(Filter::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `where` values of a query string, as typed.
fn raw_filters(raw: Option<&str>) -> String {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .filter(|(name, _)| name == "where")
        .map(|(_, value)| value.into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}
