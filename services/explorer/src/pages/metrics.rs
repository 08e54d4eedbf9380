//! The metrics, `/metrics`: a section a metric with a table of its series at their latest value;
//! a histogram's with its count, sum, mean, estimated percentiles and its buckets as small bars.
//! A page to read, not a Prometheus endpoint.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use receiver::HistogramData;

use super::format::attributes_text;
use super::{Header, number_text, render};
use crate::metrics::{self, Kind, Metric, PointValue};
use crate::span::Val;
use crate::window::Shared;

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

pub(super) async fn metrics_page(State(shared): State<Arc<Shared>>) -> Response {
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
