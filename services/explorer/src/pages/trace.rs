//! One trace, `/trace/ID`: its spans as a waterfall in tree order, a click on a span opening its
//! attributes, events, log records, status, ids, scope and resource; the trace's other log
//! records under it. `?span=ID` opens that span (the logs page links to a record's span so).

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::error::error_page;
use super::logs::{LogRow, log_row};
use super::{Header, clock, duration_text, render};
use crate::logs::StoredLog;
use crate::span::{StoredSpan, Str, Val, hex, kind_name, millis, parse_trace_id, status_name};
use crate::window::{Shared, summary};

#[derive(Template)]
#[template(path = "trace.html")]
struct TracePage {
    header: Header,
    id: String,
    name: String,
    service: String,
    start: String,
    duration: String,
    span_count: usize,
    error_count: usize,
    rows: Vec<WaterfallRow>,
    /// Server spans by name, e.g. "15 server spans": the first thing the puzzles ask.
    kinds: String,
    /// The trace's log records whose span is not on the page (or that have none), by time.
    trace_logs: Vec<LogRow>,
}

struct WaterfallRow {
    indent: usize,
    name: String,
    service: String,
    kind: &'static str,
    status: &'static str,
    status_message: String,
    /// Where the bar starts and how long it is, in % of the trace.
    offset: String,
    width: String,
    duration: String,
    span_id: String,
    parent_span_id: String,
    parent_missing: bool,
    attributes: Vec<(String, String)>,
    events: Vec<EventRow>,
    resource: Vec<(String, String)>,
    scope: String,
    /// The log records emitted in the span, by time.
    logs: Vec<LogRow>,
    /// Shown open: the logs page links to a record's span this way.
    open: bool,
}

struct EventRow {
    name: String,
    at: String,
    attributes: Vec<(String, String)>,
}

pub(super) async fn trace_page(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let header = Header::from(shared.stats());
    // `?span=ID`: the span to show open.
    let open = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "span")
        .map(|(_, value)| value.into_owned());
    let Some(trace_id) = parse_trace_id(&id) else {
        return error_page(
            header,
            StatusCode::BAD_REQUEST,
            format!("{id:?} is not a trace id: a trace id is 32 hexadecimal digits."),
        );
    };
    // Both read at once. No writer ever holds two of these locks, so readers cannot deadlock.
    let logs = shared.logs();
    let window = shared.read();
    let spans = window.trace(&trace_id);
    if spans.is_empty() {
        let records = logs.of_trace(&trace_id).len();
        drop((window, logs));
        // Logs may come without their spans (a step that exports logs only, say).
        let records = match records {
            0 => String::new(),
            1 => format!(" Its one log record is at /logs?trace_id={id}."),
            n => format!(" Its {n} log records are at /logs?trace_id={id}."),
        };
        return error_page(
            header,
            StatusCode::NOT_FOUND,
            format!(
                "No trace {id} here yet: an app sends its spans a second or so after they end, \
                 so a trace that was just answered needs a reload in a moment. Otherwise it never \
                 arrived, or the window dropped it to make room for newer spans.{records}"
            ),
        );
    }
    let summary = summary(&trace_id, &spans);
    // Each span takes its own records; what is left goes under the waterfall.
    let mut by_span: HashMap<Option<[u8; 8]>, Vec<&StoredLog>> = HashMap::new();
    for record in logs.of_trace(&trace_id) {
        by_span.entry(record.span_id).or_default().push(record);
    }
    let rows = waterfall(&spans, &mut by_span, open.as_deref());
    let mut trace_logs: Vec<&StoredLog> = by_span.into_values().flatten().collect();
    trace_logs.sort_by_key(|record| record.time_unix_nano);
    let trace_logs = trace_logs
        .into_iter()
        .map(|record| log_row(record, Some(summary.start_unix_nano)))
        .collect();
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    for span in &spans {
        *kinds.entry(kind_name(span.kind)).or_default() += 1;
    }
    drop((window, logs));
    let page = TracePage {
        header,
        id: summary.trace_id,
        name: summary.root_name,
        service: summary.service,
        start: clock(summary.start_unix_nano),
        duration: duration_text(summary.duration_ms),
        span_count: summary.span_count,
        error_count: summary.error_count,
        rows,
        kinds: kinds
            .iter()
            .map(|(kind, count)| format!("{count} {kind}"))
            .collect::<Vec<_>>()
            .join(", "),
        trace_logs,
    };
    render(page, StatusCode::OK)
}

/// The spans in tree order: each parent followed by its children by start time. A span whose
/// parent is not in the window is shown at the top level, marked. Each span takes its log
/// records out of `logs`; the one whose id is `open` is shown open.
fn waterfall(
    spans: &[&StoredSpan],
    logs: &mut HashMap<Option<[u8; 8]>, Vec<&StoredLog>>,
    open: Option<&str>,
) -> Vec<WaterfallRow> {
    use std::collections::HashSet;
    let start = spans.iter().map(|s| s.start_unix_nano).min().unwrap_or(0);
    let end = spans.iter().map(|s| s.end_unix_nano).max().unwrap_or(start);
    let total = end.saturating_sub(start).max(1) as f64;
    let ids: HashSet<[u8; 8]> = spans.iter().map(|span| span.span_id).collect();
    let mut children: HashMap<Option<[u8; 8]>, Vec<&StoredSpan>> = HashMap::new();
    for span in spans {
        let parent = span.parent_span_id.filter(|parent| ids.contains(parent));
        children.entry(parent).or_default().push(span);
    }
    for list in children.values_mut() {
        list.sort_by_key(|span| span.start_unix_nano);
    }
    let mut rows = Vec::with_capacity(spans.len());
    // Depth first, with an explicit stack: a trace of index 20 is 20 levels deep and 40 000 wide.
    let mut stack: Vec<(&StoredSpan, usize)> = children
        .get(&None)
        .into_iter()
        .flatten()
        .rev()
        .map(|span| (*span, 0))
        .collect();
    // Each span once: a client may send spans whose ids form a cycle (two spans with one id, one
    // the other's parent), and a walk without this would never end.
    // Spans only reachable through such a cycle are shown after the rest, at the top level.
    let mut shown: HashSet<*const StoredSpan> = HashSet::new();
    let mut unreached = spans.iter();
    loop {
        let Some((span, depth)) = stack.pop() else {
            match unreached.find(|span| !shown.contains(&std::ptr::from_ref(**span))) {
                Some(span) => {
                    stack.push((*span, 0));
                    continue;
                }
                None => break,
            }
        };
        if !shown.insert(std::ptr::from_ref(span)) {
            continue;
        }
        let offset = span.start_unix_nano.saturating_sub(start) as f64 / total * 100.0;
        let width = (span.duration_nanos() as f64 / total * 100.0).max(0.3);
        let text = |attributes: &[(Str, Val)]| {
            attributes
                .iter()
                .map(|(key, value)| (key.to_string(), value.to_string()))
                .collect::<Vec<_>>()
        };
        let span_id = hex(&span.span_id);
        rows.push(WaterfallRow {
            indent: depth.min(30),
            name: span.name.to_string(),
            service: span.origin.service_name.to_string(),
            kind: kind_name(span.kind),
            status: status_name(span.status),
            status_message: span
                .status_message
                .as_deref()
                .unwrap_or_default()
                .to_string(),
            offset: format!("{offset:.3}"),
            width: format!("{:.3}", width.min(100.0 - offset).max(0.3)),
            duration: duration_text(millis(span.duration_nanos())),
            open: open == Some(span_id.as_str()),
            logs: logs
                .remove(&Some(span.span_id))
                .unwrap_or_default()
                .into_iter()
                .map(|record| log_row(record, Some(span.start_unix_nano)))
                .collect(),
            span_id,
            parent_span_id: span.parent_span_id.map(|id| hex(&id)).unwrap_or_default(),
            parent_missing: span
                .parent_span_id
                .is_some_and(|parent| !ids.contains(&parent)),
            attributes: text(&span.attributes),
            events: span
                .events
                .iter()
                .map(|event| EventRow {
                    name: event.name.to_string(),
                    at: duration_text(millis(
                        event.time_unix_nano.saturating_sub(span.start_unix_nano),
                    )),
                    attributes: text(&event.attributes),
                })
                .collect(),
            resource: text(&span.origin.resource),
            scope: format!("{} {}", span.origin.scope_name, span.origin.scope_version)
                .trim()
                .to_string(),
        });
        if let Some(kids) = children.get(&Some(span.span_id)) {
            stack.extend(kids.iter().rev().map(|kid| (*kid, depth + 1)));
        }
    }
    rows
}
