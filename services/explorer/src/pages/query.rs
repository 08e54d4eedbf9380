//! The query page, `/query?…`: the form, the result's table, a bar chart of its first
//! calculation and its heatmap, drawn as SVG. Every row, bar and cell links to the trace list of
//! the spans behind it, so a query's answer is one click from its traces.
//!
//! With a selection of the heatmap (dragged with the mouse, or typed in the form's boxes), the
//! page also lists the selection's slowest traces and compares its spans with the rest, field by
//! field (see `crate::query`'s `compare`). Its script (`/static/query.js`) does the dragging, and
//! lights a group up in the heatmap while the mouse is on its row; the page allows no other.

use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::scripts::with_policy;
use super::{Header, clock, duration_text, render};
use crate::query::{
    self, CALCS, Calc, Field, Filter, Key, Query, QueryResult, SelectionResult, Test,
    unix_millis_text,
};
use crate::span::millis;
use crate::window::Shared;

#[derive(Template)]
#[template(path = "query.html")]
struct QueryPage {
    header: Header,
    calcs: Vec<(String, bool)>,
    filters: String,
    group_by: String,
    order_by: String,
    having: String,
    limit: String,
    /// The selection's bounds as asked: durations, and the time range (kept, not shown).
    select_min: String,
    select_max: String,
    select_from: String,
    select_to: String,
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
    selection: Option<SelectionView>,
    matched: usize,
    scanned: usize,
    took: String,
}

struct RowView {
    cells: Vec<String>,
    traces_link: String,
    example_link: Option<String>,
    /// Its cells in the heatmap, when there are: the row lights them up.
    lights: bool,
}

/// The selection's part of the page: what it holds, its slowest traces, and the comparison.
struct SelectionView {
    summary: String,
    /// The query without the selection.
    clear_link: String,
    slowest: Vec<SlowView>,
    fields: Vec<FieldView>,
    /// Why there is no comparison, when there is none.
    note: Option<String>,
    took: String,
}

struct SlowView {
    name: String,
    span: String,
    duration: String,
    start: String,
    link: String,
}

struct FieldView {
    field: String,
    score: String,
    values: Vec<ShareView>,
}

struct ShareView {
    value: String,
    inside: String,
    outside: String,
    /// Bar widths, in px of 100.
    inside_width: String,
    outside_width: String,
    link: String,
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
    /// Each group's own cells, by its row in the table.
    groups: Vec<Vec<Cell>>,
    row_labels: Vec<(String, String)>,
    first: String,
    last: String,
    /// The edges of the columns (Unix milliseconds) and of the rows (durations, shortest first),
    /// as a selection's link writes them: for the script that drags.
    column_edges: String,
    row_edges: String,
    /// The selection, drawn: x, y, width, height.
    selected: Option<(String, String, String, String)>,
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

pub(super) async fn query_page(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Response {
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
        order_by: value("order_by").join(", "),
        having: value("having").join("\n"),
        limit: value("limit").join(""),
        select_min: value("select_min").join(""),
        select_max: value("select_max").join(""),
        select_from: value("select_from").join(""),
        select_to: value("select_to").join(""),
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
        return with_policy(render(page, StatusCode::OK));
    }
    let query = match Query::from_pairs(pairs.clone()) {
        Ok(query) => query,
        Err(err) => {
            page.error = Some(err);
            return with_policy(render(page, StatusCode::BAD_REQUEST));
        }
    };
    let result = {
        let window = shared.read();
        query.run(&window)
    };
    page.result = Some(result_view(&query, &raw, result));
    with_policy(render(page, StatusCode::OK))
}

fn result_view(query: &Query, raw: &str, result: QueryResult) -> ResultView {
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
                example_link: row
                    .example_trace
                    .as_ref()
                    .map(|id| trace_link(id, None, raw)),
                lights: !row.heatmap_cells.is_empty(),
            }
        })
        .collect();
    let chart = shown.first().map(|&i| bar_chart(query, &result, i));
    let heatmap = result
        .heatmap
        .as_ref()
        .map(|heatmap| heatmap_view(query, heatmap, &result));
    let selection = result
        .selection
        .as_ref()
        .map(|selection| selection_view(query, raw, selection));
    ResultView {
        columns,
        rows,
        more_rows: result.more_rows,
        chart,
        heatmap,
        selection,
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
        ..Query::default()
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

/// A trace's page, with a span open (when given) and the query the learner came from, so that
/// its values' "show only where" links add to that query.
fn trace_link(trace_id: &str, span_id: Option<&str>, raw: &str) -> String {
    let mut url = form_urlencoded::Serializer::new(String::new());
    if let Some(span_id) = span_id {
        url.append_pair("span", span_id);
    }
    url.append_pair("query", raw);
    format!("/trace/{trace_id}?{}", url.finish())
}

/// The selection's slowest traces and its comparison with the rest.
fn selection_view(query: &Query, raw: &str, selection: &SelectionResult) -> SelectionView {
    let unselected = Query {
        selection: None,
        ..query.clone()
    };
    let percent = |share: f64| format!("{} %", percent_text(share));
    let note = if selection.inside == 0 {
        Some("The selection holds none of the spans the query matched: drag over some dots.".into())
    } else if selection.outside == 0 {
        Some("The selection holds every span the query matched: there is no rest to compare it with.".into())
    } else {
        None
    };
    SelectionView {
        summary: format!(
            "{} of {} spans selected{}.",
            selection.inside,
            selection.inside + selection.outside,
            if selection.compared_inside < selection.inside
                || selection.compared_outside < selection.outside
            {
                format!(
                    "; compared on {} of them and {} of the rest, evenly spaced",
                    selection.compared_inside, selection.compared_outside
                )
            } else {
                String::new()
            }
        ),
        clear_link: format!("/query?{}", unselected.to_query_string()),
        slowest: selection
            .slowest
            .iter()
            .map(|slow| SlowView {
                name: slow.trace.root_name.clone(),
                span: slow.span_name.clone(),
                duration: duration_text(slow.span_duration_ms),
                start: clock(slow.trace.start_unix_nano),
                link: trace_link(&slow.trace.trace_id, Some(&slow.span_id), raw),
            })
            .collect(),
        fields: selection
            .fields
            .iter()
            .filter(|field| field.score >= 0.005)
            .map(|field| FieldView {
                field: field.field.clone(),
                score: percent(field.score),
                values: field
                    .values
                    .iter()
                    .map(|share| {
                        let mut filtered = unselected.clone();
                        if let Ok(filter) = Filter::parse(&share.filter) {
                            filtered.filters.push(filter);
                        }
                        ShareView {
                            value: match &share.value {
                                serde_json::Value::Null => "(none)".into(),
                                serde_json::Value::String(text) => text.clone(),
                                other => other.to_string(),
                            },
                            inside: percent(share.inside),
                            outside: percent(share.outside),
                            inside_width: format!("{:.1}", share.inside * 100.0),
                            outside_width: format!("{:.1}", share.outside * 100.0),
                            link: format!("/query?{}", filtered.to_query_string()),
                        }
                    })
                    .collect(),
            })
            .collect(),
        note,
        took: format!("{:.1} ms", selection.took_ms),
    }
}

/// A share as a percentage people read: `31`, `0.4`, `0.03`.
fn percent_text(share: f64) -> String {
    let percent = share * 100.0;
    match percent {
        0.0 => "0".into(),
        p if p >= 10.0 => format!("{p:.0}"),
        p if p >= 1.0 => format!("{p:.1}").trim_end_matches(".0").to_string(),
        p => super::number_text((p * 100.0).round().max(1.0) / 100.0),
    }
}

const WIDTH: f64 = 800.0;
const HEIGHT: f64 = 300.0;

/// The heatmap's SVG: 800×300 of cells, the slowest row on top; each cell with spans links to
/// their traces. Each group's own cells are drawn too, hidden until its row is hovered.
fn heatmap_view(query: &Query, heatmap: &query::Heatmap, result: &QueryResult) -> HeatmapView {
    let (columns, rows) = (heatmap.columns.len().max(1), heatmap.rows.len().max(1));
    let (cell_width, cell_height) = (WIDTH / columns as f64, HEIGHT / rows as f64);
    let mut cells = Vec::new();
    let cell = |r: usize, c: usize, count: u64, max_count: u64| {
        let (row, column) = (heatmap.rows[r], heatmap.columns[c]);
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
        Cell {
            x: format!("{:.2}", c as f64 * cell_width),
            y: format!("{:.2}", (rows - 1 - r) as f64 * cell_height),
            width: format!("{:.2}", cell_width),
            height: format!("{:.2}", cell_height),
            // Light cells still show: a single slow request is what one looks for.
            opacity: format!(
                "{:.2}",
                0.15 + 0.85 * (count as f64).ln_1p() / (max_count.max(1) as f64).ln_1p()
            ),
            title: format!(
                "{count} span{}, {} to {}, started {}",
                if count == 1 { "" } else { "s" },
                duration_text(millis(row.from)),
                duration_text(millis(row.to)),
                clock(column.from)
            ),
            link: traces_link(query, &duration, Some((column.from, column.to))),
        }
    };
    let groups = result
        .rows
        .iter()
        .map(|row| {
            let max_count = row.heatmap_cells.iter().map(|c| c[2]).max().unwrap_or(1);
            row.heatmap_cells
                .iter()
                .map(|&[r, c, count]| cell(r as usize, c as usize, count, max_count))
                .collect()
        })
        .collect();
    for (r, _) in heatmap.rows.iter().enumerate() {
        for (c, _) in heatmap.columns.iter().enumerate() {
            let count = heatmap.counts[r][c];
            if count == 0 {
                continue;
            }
            cells.push(cell(r, c, count, heatmap.max_count));
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
    let edges = |buckets: &[query::Bucket], text: &dyn Fn(u64) -> String| {
        buckets
            .iter()
            .map(|bucket| text(bucket.from))
            .chain(buckets.last().map(|bucket| text(bucket.to)))
            .collect::<Vec<_>>()
            .join(",")
    };
    HeatmapView {
        cells,
        groups,
        row_labels,
        column_edges: edges(&heatmap.columns, &unix_millis_text),
        row_edges: edges(&heatmap.rows, &edge_text),
        selected: query
            .selection
            .and_then(|selection| selected_area(heatmap, selection)),
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

/// A row's edge as a selection's link writes it: in milliseconds, to four significant digits
/// (`193ms`, `9.499ms`), which a learner can read in the form's box; the drawn edges are that
/// close anyway.
fn edge_text(nanos: u64) -> String {
    let ms = millis(nanos);
    if ms <= 0.0 {
        return "0ms".into();
    }
    let decimals = (3 - ms.log10().floor() as i32).clamp(0, 6) as usize;
    let text = format!("{ms:.decimals$}");
    let text = match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.'),
        false => &text,
    };
    format!("{text}ms")
}

/// Where a selection lies on the heatmap, in its units (x across, y down, slowest on top): the
/// cells that hold its bounds, whole, as a drag selects them. None if it misses the heatmap.
fn selected_area(
    heatmap: &query::Heatmap,
    selection: query::Selection,
) -> Option<(String, String, String, String)> {
    let (columns, rows) = (heatmap.columns.len(), heatmap.rows.len());
    let (first, last) = (heatmap.columns.first()?.from, heatmap.columns.last()?.to);
    let (shortest, longest) = (heatmap.rows.first()?.from, heatmap.rows.last()?.to);
    let from = selection.from.unwrap_or(first).max(first);
    let to = selection.to.unwrap_or(last).min(last);
    let min = selection.min.unwrap_or(shortest).max(shortest);
    let max = selection.max.unwrap_or(longest).min(longest);
    if from >= to || min >= max {
        return None;
    }
    let column = |time: u64| heatmap.columns.partition_point(|b| b.to <= time);
    let row = |duration: u64| heatmap.rows.partition_point(|b| b.to <= duration);
    let (left, right) = (column(from), column(to - 1).min(columns - 1));
    let (fast, slow) = (row(min), row(max - 1).min(rows - 1));
    let (cell_width, cell_height) = (WIDTH / columns as f64, HEIGHT / rows as f64);
    Some((
        format!("{:.2}", left as f64 * cell_width),
        format!("{:.2}", (rows - 1 - slow) as f64 * cell_height),
        format!("{:.2}", (right + 1 - left) as f64 * cell_width),
        format!("{:.2}", (slow + 1 - fast) as f64 * cell_height),
    ))
}
