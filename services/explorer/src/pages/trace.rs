//! One trace, `/trace/ID`: its spans as a waterfall in tree order, a click on a span opening its
//! attributes, events, log records, status, ids, scope and resource; the trace's other log
//! records under it. `?span=ID` opens that span (the logs page links to a record's span so).
//!
//! What else the learner asks of the waterfall is in the link too, and stays in every link the
//! page makes (a span's own link, the boxes that search and pick columns):
//! - `search=phrase`: the spans that contain the phrase are marked, each with the field that holds
//!   it (the search page links to a match so; see [`crate::query::search`]);
//! - `columns=url.query,fib.index`: those fields' values beside each span's name, to compare the
//!   spans at a glance;
//! - `query=…`: the query page's query the learner came from; the `=` and `≠` buttons beside each
//!   value in a span's details add their filter to it (see `click_filter`).

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::click_filter::{FilterButtons, Linker, base_fields, base_query};
use super::error::error_page;
use super::logs::{LogRow, log_row};
use super::{Header, clock, duration_text, render};
use crate::logs::StoredLog;
use crate::query::{Field, Finder, Marked, Phrase};
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
    /// What was asked besides the trace, as typed: the forms show it again.
    asked: Asked,
    /// How many spans contain the phrase searched for, if one was.
    search_matches: Option<usize>,
    /// The columns' fields, as a query writes them.
    column_names: Vec<String>,
    /// Columns that are not fields, and a `query=` that does not read: said, and left out.
    columns_error: Option<String>,
    query_error: Option<String>,
    /// The query the `=` and `≠` buttons add to, as their form's hidden fields.
    filter_base: Vec<(String, String)>,
}

struct WaterfallRow {
    indent: usize,
    name: String,
    service: String,
    kind: &'static str,
    status: &'static str,
    status_message: String,
    /// Whether its values have their `=` and `≠` buttons (see [`FILTERS_ON_EVERY_SPAN_UP_TO`]).
    filters: bool,
    /// The `=` and `≠` buttons of the name, kind, status and service.
    name_filter: Option<Arc<FilterButtons>>,
    kind_filter: Option<Arc<FilterButtons>>,
    status_filter: Option<Arc<FilterButtons>>,
    service_filter: Option<Arc<FilterButtons>>,
    /// The columns' values, blank where the span has none: (field, value).
    columns: Vec<(String, String)>,
    /// The field that holds the phrase searched for, and its value, each cut around it.
    found: Option<(Marked, Marked)>,
    /// This trace's link with this span open, and the page's other choices.
    link: String,
    /// Where the bar starts and how long it is, in % of the trace.
    offset: String,
    width: String,
    duration: String,
    span_id: String,
    parent_span_id: String,
    parent_missing: bool,
    attributes: Vec<Detail>,
    events: Vec<EventRow>,
    resource: Vec<Detail>,
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

/// A span's or its resource's attribute, with its filter buttons where it has them.
struct Detail {
    key: String,
    value: String,
    filter: Option<Arc<FilterButtons>>,
}

impl Detail {
    /// Each attribute, with its filter buttons when there is a `linker` to make them.
    fn all(
        attributes: &[(Str, Val)],
        span: &StoredSpan,
        mut linker: Option<&mut Linker>,
    ) -> Vec<Detail> {
        attributes
            .iter()
            .map(|(key, value)| {
                let value = value.to_string();
                Detail {
                    filter: Field::parse(key).ok().and_then(|field| {
                        linker
                            .as_deref_mut()
                            .and_then(|linker| linker.links(&field, &value, span))
                    }),
                    key: key.to_string(),
                    value,
                }
            })
            .collect()
    }
}

/// What the page is asked besides the trace, as typed.
#[derive(Default)]
struct Asked {
    /// `span=ID`: the span to show open.
    span: Option<String>,
    search: String,
    columns: String,
    query: Option<String>,
}

impl Asked {
    fn read(raw: Option<&str>) -> Asked {
        let mut asked = Asked::default();
        for (name, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned()
        {
            match name.as_str() {
                "span" => asked.span = Some(value),
                "search" => asked.search = value,
                "columns" => asked.columns = value,
                "query" => asked.query = Some(value),
                // Others were always let be: a link with more than the page needs still opens.
                _ => {}
            }
        }
        asked
    }

    /// The trace's link with the same search, columns and query, and `span` open.
    fn link(&self, trace_id: &str, span: Option<&str>) -> String {
        let mut url = form_urlencoded::Serializer::new(String::new());
        if let Some(span) = span {
            url.append_pair("span", span);
        }
        if !self.search.trim().is_empty() {
            url.append_pair("search", &self.search);
        }
        if !self.columns.trim().is_empty() {
            url.append_pair("columns", &self.columns);
        }
        if let Some(query) = &self.query {
            url.append_pair("query", query);
        }
        match url.finish() {
            query if query.is_empty() => format!("/trace/{trace_id}"),
            query => format!("/trace/{trace_id}?{query}"),
        }
    }
}

/// What the waterfall shows of each span besides the span itself.
struct View<'a> {
    trace_id: &'a str,
    asked: &'a Asked,
    /// The phrase searched for, if any, and its finder.
    search: Option<(&'a Phrase, Finder<'a, 'a>)>,
    columns: &'a [Field],
    /// The filter buttons' filters, added to the query the learner came from.
    linker: Linker,
}

/// The fields of `columns=url.query, fib.index`, and what is not one.
fn columns(text: &str) -> (Vec<Field>, Option<String>) {
    let mut fields = Vec::new();
    let mut errors = Vec::new();
    for part in text
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        match Field::parse(part) {
            Ok(field) => fields.push(field),
            Err(err) => errors.push(err),
        }
    }
    let error = (!errors.is_empty()).then(|| {
        format!(
            "Columns: {}. Name fields separated by commas, as in url.query, fib.index; the \
             others are shown.",
            errors.join("; ")
        )
    });
    (fields, error)
}

pub(super) async fn trace_page(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    let header = Header::from(shared.stats());
    let asked = Asked::read(raw.as_deref());
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
    // A blank phrase (the box emptied) is no search; a phrase that is there always reads.
    let phrase = Phrase::new(&asked.search).ok();
    let (fields, columns_error) = columns(&asked.columns);
    let (base, query_error) = base_query(asked.query.as_deref());
    let filter_base = base_fields(&base);
    let mut view = View {
        trace_id: &summary.trace_id,
        asked: &asked,
        search: phrase.as_ref().map(|phrase| (phrase, Finder::new(phrase))),
        columns: &fields,
        linker: Linker::new(base),
    };
    // Each span takes its own records; what is left goes under the waterfall.
    let mut by_span: HashMap<Option<[u8; 8]>, Vec<&StoredLog>> = HashMap::new();
    for record in logs.of_trace(&trace_id) {
        by_span.entry(record.span_id).or_default().push(record);
    }
    let rows = waterfall(&spans, &mut by_span, &mut view);
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
        search_matches: phrase
            .is_some()
            .then(|| rows.iter().filter(|row| row.found.is_some()).count()),
        column_names: fields.iter().map(Field::to_string).collect(),
        columns_error,
        filter_base,
        query_error: query_error.map(|err| {
            format!(
                "The query this trace was reached from does not read ({err}): the = and ≠ \
                 buttons add their filter to a count by name instead."
            )
        }),
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
        asked,
    };
    render(page, StatusCode::OK)
}

/// Up to this many spans in a trace, every span's values have their `=` and `≠` buttons; in a
/// larger trace only the open span's and the search's matches do, and the others' details link
/// to themselves opened. The buttons of a server span (8 attributes, the SDK's 4 resource
/// attributes) are 3.6 KB, twice the rest of its row: 1 MB at this bound, and 21 MB more for a
/// trace of index 15, of 6 000 spans, than a learner's browser would render for naught.
const FILTERS_ON_EVERY_SPAN_UP_TO: usize = 300;

/// The spans in tree order: each parent followed by its children by start time. A span whose
/// parent is not in the window is shown at the top level, marked. Each span takes its log
/// records out of `logs`; the one `view.asked` names is shown open, and each gets what else the
/// view asks (the search's mark, the columns, the filter links).
fn waterfall<'a>(
    spans: &[&'a StoredSpan],
    logs: &mut HashMap<Option<[u8; 8]>, Vec<&StoredLog>>,
    view: &mut View<'a>,
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
        let found = view.search.as_mut().and_then(|(phrase, finder)| {
            let place = finder.find(span)?;
            Some((phrase.mark(&place.field()), phrase.mark(&place.value(span))))
        });
        let open = view.asked.span.as_deref() == Some(span_id.as_str());
        let filters = spans.len() <= FILTERS_ON_EVERY_SPAN_UP_TO || open || found.is_some();
        let mut linker = filters.then_some(&mut view.linker);
        let mut links = |field: Field, value: &str| {
            linker
                .as_deref_mut()
                .and_then(|linker| linker.links(&field, value, span))
        };
        rows.push(WaterfallRow {
            name_filter: links(Field::Name, &span.name),
            kind_filter: links(Field::Kind, kind_name(span.kind)),
            status_filter: links(Field::Status, status_name(span.status)),
            service_filter: links(Field::Service, &span.origin.service_name),
            attributes: Detail::all(&span.attributes, span, linker.as_deref_mut()),
            resource: Detail::all(&span.origin.resource, span, linker),
            filters,
            columns: view
                .columns
                .iter()
                .map(|field| {
                    let value = field.value_text(span).unwrap_or_default();
                    (field.to_string(), value)
                })
                .collect(),
            found,
            link: view.asked.link(view.trace_id, Some(&span_id)),
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
            open,
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
