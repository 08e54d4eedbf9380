//! The web pages: the trace list, a trace's waterfall (with each span's log records), the query
//! page, the log records and the metrics. Rendered on the server with askama (templates in
//! `templates/`); the heatmap and the charts are SVG drawn here, and every cell, bar and row is a
//! plain link, so the pages need no script and no CDN.
//!
//! Each page reads the window under its lock, turns what it needs into the small view structs
//! below (text already formatted), and lets go before rendering.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use receiver::HistogramData;

use crate::api::trace_list_query;
use crate::logs::{LogQuery, StoredLog};
use crate::metrics::{self, Kind, Metric, PointValue};
use crate::query::{self, CALCS, Calc, Field, Filter, Key, Query, QueryResult, Test};
use crate::span::{StoredSpan, Str, Val, hex, kind_name, millis, parse_trace_id, status_name};
use crate::window::{Shared, Stats};

const STYLE: &str = include_str!("../static/explorer.css");

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(trace_list))
        .route("/traces", get(trace_list))
        .route("/trace/{id}", get(trace_page))
        .route("/query", get(query_page))
        .route("/logs", get(logs_page))
        .route("/metrics", get(metrics_page))
        .route("/static/explorer.css", get(style))
        .fallback(not_found)
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

// ---------------------------------------------------------------------------------- trace list

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

async fn trace_list(State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
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

// ---------------------------------------------------------------------------------- waterfall

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

async fn trace_page(
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
                "No trace {id} here: it never arrived, or the window dropped it to make room \
                 for newer spans.{records}"
            ),
        );
    }
    let summary = query::summary(&trace_id, &spans);
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
        let text = |attributes: &[(crate::span::Str, crate::span::Val)]| {
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

// ---------------------------------------------------------------------------------- query page

#[derive(Template)]
#[template(path = "query.html")]
struct QueryPage {
    header: Header,
    calcs: Vec<(String, bool)>,
    filters: String,
    group_by: String,
    /// The time range's choices: value, label, whether chosen.
    lasts: Vec<(&'static str, String, bool)>,
    error: Option<String>,
    result: Option<ResultView>,
}

struct ResultView {
    columns: Vec<String>,
    rows: Vec<RowView>,
    more_rows: usize,
    chart: Option<BarChart>,
    heatmap: Option<HeatmapView>,
    matched: usize,
    scanned: usize,
    took: String,
}

struct RowView {
    cells: Vec<String>,
    traces_link: String,
    example_link: Option<String>,
}

struct BarChart {
    title: String,
    bars: Vec<Bar>,
    height: usize,
}

struct Bar {
    label: String,
    value: String,
    y: usize,
    width: String,
    link: String,
}

struct HeatmapView {
    cells: Vec<Cell>,
    row_labels: Vec<(String, String)>,
    first: String,
    last: String,
}

struct Cell {
    x: String,
    y: String,
    width: String,
    height: String,
    opacity: String,
    title: String,
    link: String,
}

/// The choices of the page's "last" box.
const LASTS: [&str; 5] = ["5m", "15m", "1h", "6h", "all"];

async fn query_page(State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
    let header = Header::from(shared.stats());
    let raw = raw.unwrap_or_default();
    let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    let value = |name: &str| {
        pairs
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect::<Vec<_>>()
    };
    // The form shows what was asked, whether or not it all reads as a query.
    let chosen: Vec<Calc> = value("visualize")
        .iter()
        .flat_map(|calcs| calcs.split(','))
        .filter_map(|calc| query::parse_calc(calc).ok())
        .collect();
    let mut page = QueryPage {
        header,
        calcs: CALCS
            .iter()
            .map(|calc| (calc.to_string(), chosen.contains(calc)))
            .collect(),
        filters: value("where").join("\n"),
        group_by: value("group_by").join(", "),
        lasts: {
            let last = value("last").first().copied().unwrap_or("all");
            LASTS
                .into_iter()
                .map(|choice| {
                    let label = match choice {
                        "all" => "everything in the window".to_string(),
                        _ => format!("last {choice}"),
                    };
                    (choice, label, choice == last)
                })
                .collect()
        },
        error: None,
        result: None,
    };
    if pairs.is_empty() {
        // A first visit: a query worth running, ready to go.
        page.calcs[0].1 = true;
        page.calcs[3].1 = true;
        page.group_by = "name".into();
        return render(page, StatusCode::OK);
    }
    let query = match Query::from_pairs(pairs.clone()) {
        Ok(query) => query,
        Err(err) => {
            page.error = Some(err);
            return render(page, StatusCode::BAD_REQUEST);
        }
    };
    let result = {
        let window = shared.read();
        query.run(&window)
    };
    page.result = Some(result_view(&query, result));
    render(page, StatusCode::OK)
}

fn result_view(query: &Query, result: QueryResult) -> ResultView {
    let columns: Vec<String> = result
        .group_by
        .iter()
        .chain(
            result
                .visualize
                .iter()
                .filter(|calc| !calc.starts_with("HEATMAP")),
        )
        .cloned()
        .collect();
    let shown: Vec<usize> = query
        .visualize
        .iter()
        .enumerate()
        .filter(|(_, calc)| **calc != Calc::Heatmap)
        .map(|(i, _)| i)
        .collect();
    let rows: Vec<RowView> = result
        .rows
        .iter()
        .map(|row| {
            let mut cells: Vec<String> = row.group.iter().map(Key::to_string).collect();
            for &i in &shown {
                cells.push(match (query.visualize[i], row.values[i]) {
                    (_, None) => "–".into(),
                    (Calc::Count, Some(count)) => format!("{count}"),
                    (_, Some(ms)) => duration_text(ms),
                });
            }
            RowView {
                cells,
                traces_link: traces_link(query, &group_filters(query, &row.group), None),
                example_link: row.example_trace.as_ref().map(|id| format!("/trace/{id}")),
            }
        })
        .collect();
    let chart = shown.first().map(|&i| bar_chart(query, &result, i));
    let heatmap = result
        .heatmap
        .as_ref()
        .map(|heatmap| heatmap_view(query, heatmap));
    ResultView {
        columns,
        rows,
        more_rows: result.more_rows,
        chart,
        heatmap,
        matched: result.matched,
        scanned: result.scanned,
        took: format!("{:.1} ms", result.took_ms),
    }
}

/// The filters that select one group: `field = value`, or `field does-not-exist`.
fn group_filters(query: &Query, group: &[Key]) -> Vec<Filter> {
    query
        .group_by
        .iter()
        .zip(group)
        .map(|(field, key)| Filter {
            field: field.clone(),
            test: match key.filter_text() {
                Some(text) => Test::Equals(text),
                None => Test::Missing,
            },
        })
        .collect()
}

/// The trace list of the query's spans, narrowed by `more` filters and a time range.
fn traces_link(query: &Query, more: &[Filter], range: Option<(u64, u64)>) -> String {
    let mut narrowed = Query {
        visualize: Vec::new(),
        filters: query.filters.iter().chain(more).cloned().collect(),
        group_by: Vec::new(),
        from: query.from,
        to: query.to,
        limit: query.limit,
    };
    if let Some((from, to)) = range {
        narrowed.from = Some(from);
        narrowed.to = Some(to);
    }
    format!("/traces?{}", narrowed.to_query_string())
}

const CHART_WIDTH: f64 = 600.0;
const BAR_HEIGHT: usize = 22;

fn bar_chart(query: &Query, result: &QueryResult, column: usize) -> BarChart {
    let calc = query.visualize[column];
    let largest = result
        .rows
        .iter()
        .filter_map(|row| row.values[column])
        .fold(0.0, f64::max);
    let bars: Vec<Bar> = result
        .rows
        .iter()
        .enumerate()
        .map(|(i, row)| {
            let value = row.values[column].unwrap_or(0.0);
            Bar {
                label: row
                    .group
                    .iter()
                    .map(Key::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                value: match calc {
                    Calc::Count => format!("{value}"),
                    _ => duration_text(value),
                },
                y: i * BAR_HEIGHT,
                width: format!(
                    "{:.1}",
                    if largest > 0.0 {
                        value / largest * CHART_WIDTH
                    } else {
                        0.0
                    }
                    .max(1.0)
                ),
                link: traces_link(query, &group_filters(query, &row.group), None),
            }
        })
        .collect();
    BarChart {
        title: calc.to_string(),
        height: bars.len().max(1) * BAR_HEIGHT,
        bars,
    }
}

/// The heatmap's SVG: 800×300 of cells, the slowest row on top; each cell with spans links to
/// their traces.
fn heatmap_view(query: &Query, heatmap: &query::Heatmap) -> HeatmapView {
    const WIDTH: f64 = 800.0;
    const HEIGHT: f64 = 300.0;
    let (columns, rows) = (heatmap.columns.len().max(1), heatmap.rows.len().max(1));
    let (cell_width, cell_height) = (WIDTH / columns as f64, HEIGHT / rows as f64);
    let mut cells = Vec::new();
    for (r, row) in heatmap.rows.iter().enumerate() {
        for (c, column) in heatmap.columns.iter().enumerate() {
            let count = heatmap.counts[r][c];
            if count == 0 {
                continue;
            }
            let duration = [
                Filter {
                    field: Field::Duration,
                    test: Test::Compare(query::Comparison::GreaterOrEqual, row.from as f64),
                },
                Filter {
                    field: Field::Duration,
                    test: Test::Compare(query::Comparison::Less, row.to as f64),
                },
            ];
            cells.push(Cell {
                x: format!("{:.2}", c as f64 * cell_width),
                y: format!("{:.2}", (rows - 1 - r) as f64 * cell_height),
                width: format!("{:.2}", cell_width),
                height: format!("{:.2}", cell_height),
                // Light cells still show: a single slow request is what one looks for.
                opacity: format!(
                    "{:.2}",
                    0.15 + 0.85 * (count as f64).ln_1p() / (heatmap.max_count as f64).ln_1p()
                ),
                title: format!(
                    "{count} span{}, {} to {}, started {}",
                    if count == 1 { "" } else { "s" },
                    duration_text(millis(row.from)),
                    duration_text(millis(row.to)),
                    clock(column.from)
                ),
                link: traces_link(query, &duration, Some((column.from, column.to))),
            });
        }
    }
    let row_labels = heatmap
        .rows
        .iter()
        .enumerate()
        .rev()
        .step_by(3)
        .map(|(r, row)| {
            (
                format!(
                    "{:.1}",
                    (rows - 1 - r) as f64 * cell_height + cell_height / 2.0 + 4.0
                ),
                duration_text(millis(row.to)),
            )
        })
        .collect();
    HeatmapView {
        cells,
        row_labels,
        first: heatmap
            .columns
            .first()
            .map(|c| clock(c.from))
            .unwrap_or_default(),
        last: heatmap
            .columns
            .last()
            .map(|c| clock(c.to))
            .unwrap_or_default(),
    }
}

// ---------------------------------------------------------------------------------- logs

/// A log record as the pages show it.
struct LogRow {
    /// Since the span's start (on the trace page), e.g. `+1.20 ms`; empty on the logs page.
    at: String,
    time: String,
    service: String,
    severity: String,
    /// `warn` or `error` (and worse), for the colour; empty otherwise.
    level: &'static str,
    body: String,
    /// `key=value`, separated by commas.
    attributes: String,
    /// The record's trace, opened on its span, when it has one.
    trace_link: Option<String>,
    trace_id: String,
    /// Its first 8 digits, enough to tell traces apart on a page.
    trace_short: String,
}

/// `since`: what `at` counts from.
fn log_row(record: &StoredLog, since: Option<u64>) -> LogRow {
    let trace_id = record.trace_id.map(|id| hex(&id)).unwrap_or_default();
    LogRow {
        at: since
            .map(|since| match record.time_unix_nano.checked_sub(since) {
                Some(after) => format!("+{}", duration_text(millis(after))),
                None => format!("−{}", duration_text(millis(since - record.time_unix_nano))),
            })
            .unwrap_or_default(),
        time: clock(record.time_unix_nano),
        service: record.origin.service_name.to_string(),
        severity: record.severity_name(),
        level: match record.severity() {
            17.. => "error",
            13..=16 => "warn",
            _ => "",
        },
        body: record.body.to_string(),
        attributes: attributes_text(&record.attributes),
        trace_link: record.trace_id.map(|_| match record.span_id {
            Some(span_id) => {
                let span_id = hex(&span_id);
                format!("/trace/{trace_id}?span={span_id}#span-{span_id}")
            }
            None => format!("/trace/{trace_id}"),
        }),
        trace_short: trace_id.chars().take(8).collect(),
        trace_id,
    }
}

fn attributes_text(attributes: &[(Str, Val)]) -> String {
    attributes
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Template)]
#[template(path = "logs.html")]
struct LogsPage {
    header: Header,
    /// The form's boxes, as typed.
    severity: String,
    trace_id: String,
    contains: String,
    error: Option<String>,
    rows: Vec<LogRow>,
    /// How many records the filters select, of how many kept.
    matched: usize,
    kept: usize,
    filtered: bool,
}

async fn logs_page(State(shared): State<Arc<Shared>>, RawQuery(raw): RawQuery) -> Response {
    let header = Header::from(shared.stats());
    let raw = raw.unwrap_or_default();
    let typed = |name: &str| {
        form_urlencoded::parse(raw.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    };
    let mut page = LogsPage {
        header,
        severity: typed("severity"),
        trace_id: typed("trace_id"),
        contains: typed("contains"),
        error: None,
        rows: Vec::new(),
        matched: 0,
        kept: 0,
        filtered: false,
    };
    let query = match LogQuery::from_query_string(&raw) {
        Ok(query) => query,
        Err(err) => {
            // Nothing typed is lost: the form shows it again, with the error.
            page.error = Some(err);
            return render(page, StatusCode::BAD_REQUEST);
        }
    };
    page.filtered = query != LogQuery::default();
    {
        let logs = shared.logs();
        let (records, matched) = logs.newest(&query);
        page.rows = records.iter().map(|record| log_row(record, None)).collect();
        page.matched = matched;
        page.kept = logs.len();
    }
    render(page, StatusCode::OK)
}

// ---------------------------------------------------------------------------------- metrics

#[derive(Template)]
#[template(path = "metrics.html")]
struct MetricsPage {
    header: Header,
    metrics: Vec<MetricView>,
}

struct MetricView {
    name: String,
    kind: String,
    unit: String,
    temporality: &'static str,
    description: String,
    /// After "service" and "attributes".
    columns: Vec<String>,
    rows: Vec<SeriesRow>,
    /// Whether the rows end with a histogram's buckets.
    buckets: bool,
}

struct SeriesRow {
    service: String,
    attributes: String,
    cells: Vec<String>,
    buckets: Option<BucketsView>,
}

/// A histogram's bucket counts as a row of small bars, each with its range and count as a title.
struct BucketsView {
    width: usize,
    bars: Vec<BucketBar>,
}

struct BucketBar {
    x: usize,
    y: String,
    height: String,
    title: String,
}

async fn metrics_page(State(shared): State<Arc<Shared>>) -> Response {
    let header = Header::from(shared.stats());
    let metrics = shared.metrics().iter().map(metric_view).collect();
    render(MetricsPage { header, metrics }, StatusCode::OK)
}

fn metric_view(metric: &Metric) -> MetricView {
    let info = &metric.info;
    let unit = |label: &str| match info.unit.is_empty() {
        true => label.to_string(),
        false => format!("{label} ({})", info.unit),
    };
    let columns = match info.kind {
        Kind::Counter | Kind::UpDownCounter | Kind::Gauge => vec![unit("value")],
        Kind::Histogram => vec![
            "count".into(),
            unit("sum"),
            unit("mean"),
            unit("P50, estimated"),
            unit("P99, estimated"),
        ],
        Kind::ExponentialHistogram | Kind::Summary => vec!["count".into(), unit("sum")],
    };
    let optional = |value: Option<f64>| value.map_or("–".to_string(), number_text);
    // "≈": percentiles come from the buckets, not from the values (see `metrics::quantile`).
    let estimated =
        |value: Option<f64>| value.map_or("–".to_string(), |v| format!("≈ {}", number_text(v)));
    let rows = metric
        .series
        .values()
        .map(|series| {
            let (cells, buckets) = match &series.value {
                PointValue::Number(Val::Int(value)) => (vec![value.to_string()], None),
                PointValue::Number(value) => {
                    (vec![number_text(value.as_f64().unwrap_or(0.0))], None)
                }
                PointValue::Histogram(histogram) => (
                    vec![
                        histogram.count.to_string(),
                        optional(histogram.sum),
                        optional(metrics::mean(histogram)),
                        estimated(metrics::quantile(histogram, 0.5)),
                        estimated(metrics::quantile(histogram, 0.99)),
                    ],
                    Some(buckets_view(histogram)),
                ),
                PointValue::CountSum { count, sum } => {
                    (vec![count.to_string(), optional(*sum)], None)
                }
            };
            SeriesRow {
                service: series.service.to_string(),
                attributes: attributes_text(&series.attributes),
                cells,
                buckets,
            }
        })
        .collect();
    MetricView {
        name: info.name.to_string(),
        kind: info.kind.name().replace('_', " "),
        unit: info.unit.to_string(),
        temporality: info.temporality,
        description: info.description.to_string(),
        buckets: info.kind == Kind::Histogram,
        columns,
        rows,
    }
}

const BUCKET_WIDTH: usize = 10;
const BUCKETS_HEIGHT: f64 = 24.0;

fn buckets_view(histogram: &HistogramData) -> BucketsView {
    let largest = histogram
        .bucket_counts
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let bounds = &histogram.bounds;
    let bars = histogram
        .bucket_counts
        .iter()
        .enumerate()
        .map(|(i, &count)| {
            let range = match (i.checked_sub(1).and_then(|i| bounds.get(i)), bounds.get(i)) {
                (None, Some(upper)) => format!("≤ {}", number_text(*upper)),
                (Some(lower), Some(upper)) => {
                    format!("{} to {}", number_text(*lower), number_text(*upper))
                }
                (Some(lower), None) => format!("> {}", number_text(*lower)),
                (None, None) => "every value".to_string(),
            };
            // An empty bucket still shows as a line, so that the row reads as a scale.
            let height = (count as f64 / largest * BUCKETS_HEIGHT).max(1.0);
            BucketBar {
                x: i * (BUCKET_WIDTH + 2),
                y: format!("{:.1}", BUCKETS_HEIGHT - height),
                height: format!("{height:.1}"),
                title: format!("{range}: {count}"),
            }
        })
        .collect::<Vec<_>>();
    BucketsView {
        width: bars.len() * (BUCKET_WIDTH + 2),
        bars,
    }
}

// ---------------------------------------------------------------------------------- errors

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    header: Header,
    message: String,
}

fn error_page(header: Header, status: StatusCode, message: String) -> Response {
    render(ErrorPage { header, message }, status)
}

async fn not_found(State(shared): State<Arc<Shared>>, uri: axum::http::Uri) -> Response {
    error_page(
        Header::from(shared.stats()),
        StatusCode::NOT_FOUND,
        format!(
            "There is no page {}: the explorer has the trace list (/), traces (/trace/ID), \
             queries (/query), log records (/logs) and metrics (/metrics).",
            uri.path()
        ),
    )
}

// ---------------------------------------------------------------------------------- formatting

/// A time of day in UTC with milliseconds, e.g. `14:03:27.123 UTC`.
pub fn clock(unix_nanos: u64) -> String {
    let millis_of_day = (unix_nanos / 1_000_000) % 86_400_000;
    let (h, rest) = (millis_of_day / 3_600_000, millis_of_day % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    format!("{h:02}:{m:02}:{:02}.{:03} UTC", rest / 1000, rest % 1000)
}

/// A measurement for people: whole numbers as they are, others to five significant digits
/// (`0.0012346`, `2.65`), without trailing zeros.
pub fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{value:.0}");
    }
    if !value.is_finite() {
        return value.to_string();
    }
    let decimals = (4 - value.abs().log10().floor() as i32).clamp(0, 15) as usize;
    let text = format!("{value:.decimals$}");
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}

/// Milliseconds for people: `0.42 ms`, `12.3 ms`, `1.25 s`.
pub fn duration_text(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}
