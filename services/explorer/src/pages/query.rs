//! The query page, `/query?…`: the form, the result's table, a bar chart of its first
//! calculation and its heatmap, drawn as SVG. Every row, bar and cell links to the trace list of
//! the spans behind it, so a query's answer is one click from its traces.

use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{Header, clock, duration_text, render};
use crate::query::{self, CALCS, Calc, Field, Filter, Key, Query, QueryResult, Test};
use crate::span::millis;
use crate::window::Shared;

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
