//! Metrics as the explorer keeps them: the latest point of each series.
//!
//! A series is one metric (by name) with one set of attributes, from one service. An SDK exports
//! every series at every interval, and by default (cumulative temporality) each point is the
//! total since the app started: so the latest point is the current value, and a series costs the
//! same however long the app runs. What is kept is bounded by the number of series; a point of a
//! new series beyond it is counted as dropped, while the series already kept go on being updated.
//!
//! With delta temporality a point counts only its interval, and the latest is the last interval's.

use std::collections::BTreeMap;

use receiver::Value;
use receiver::metrics::{
    HistogramData, MetricKind, PointValue as Received, ReceivedMetric, Temporality,
};
use serde_json::{Value as Json, json};

use crate::span::{self, Attributes, Str, Strings, Val, attributes_json};

/// What a metric is, from the instrument that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A monotonic sum.
    Counter,
    /// A sum that may go down.
    UpDownCounter,
    Gauge,
    Histogram,
    ExponentialHistogram,
    /// Prometheus-style quantiles, which OpenTelemetry SDKs do not make.
    Summary,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::UpDownCounter => "up_down_counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
            Kind::ExponentialHistogram => "exponential_histogram",
            Kind::Summary => "summary",
        }
    }
}

/// What the latest export said of a metric as a whole.
#[derive(Clone, Debug)]
pub struct MetricInfo {
    pub name: Str,
    pub description: Str,
    /// UCUM, e.g. `s`, `By`, `{request}`; empty when the instrument gave none.
    pub unit: Str,
    pub kind: Kind,
    /// `cumulative`, `delta`, or empty (gauges).
    pub temporality: &'static str,
}

/// A point's value, in the shape its metric's kind gives it.
#[derive(Clone, Debug, PartialEq)]
pub enum PointValue {
    /// A sum's or a gauge's, an integer or a double as the instrument recorded it.
    Number(Val),
    /// The receiver's, as it comes: a series keeps one point, so a compacter copy would save
    /// little.
    Histogram(HistogramData),
    /// Exponential histograms and summaries: their count and sum only; the page does not draw
    /// their buckets or quantiles.
    CountSum { count: u64, sum: Option<f64> },
}

/// A histogram's mean, when the client sent its sum.
pub fn mean(histogram: &HistogramData) -> Option<f64> {
    histogram
        .sum
        .filter(|_| histogram.count > 0)
        .map(|sum| sum / histogram.count as f64)
}

/// An estimate of the value below which a fraction `q` of a histogram's values lie: the bucket
/// that holds that rank, and a straight line from its lower to its upper bound (as Prometheus'
/// `histogram_quantile`), narrowed by the min and max when the client sent them. Only as good
/// as the buckets are narrow: the pages mark it as estimated.
pub fn quantile(histogram: &HistogramData, q: f64) -> Option<f64> {
    let HistogramData {
        min,
        max,
        bounds,
        bucket_counts: counts,
        ..
    } = histogram;
    let total: u64 = counts.iter().sum();
    if total == 0 || counts.len() != bounds.len() + 1 {
        return None;
    }
    let rank = q * total as f64;
    let mut below = 0;
    for (i, &count) in counts.iter().enumerate() {
        if count == 0 || ((below + count) as f64) < rank {
            below += count;
            continue;
        }
        // The first bucket starts at 0 for positive bounds (durations), the last one ends at the
        // max, or its lower bound when the client did not say.
        let mut lower = match i {
            0 => bounds.first().map_or(0.0, |first| first.min(0.0)),
            _ => bounds[i - 1],
        };
        let mut upper = match bounds.get(i) {
            Some(bound) => *bound,
            None => max.unwrap_or(lower),
        };
        if let Some(min) = min {
            lower = lower.max(*min);
        }
        if let Some(max) = max {
            upper = upper.min(*max);
        }
        let upper = upper.max(lower);
        return Some(lower + (upper - lower) * (rank - below as f64) / count as f64);
    }
    None
}

/// The latest point of one series.
#[derive(Clone, Debug)]
pub struct Series {
    pub service: Str,
    /// Sorted by key, as the receiver's map gives them: one set of attributes is one series,
    /// whatever order it was sent in.
    pub attributes: Attributes,
    pub start_unix_nano: u64,
    pub time_unix_nano: u64,
    pub value: PointValue,
}

impl Series {
    pub fn to_json(&self) -> Json {
        let mut series = json!({
            "service": &*self.service,
            "attributes": attributes_json(&self.attributes),
            "start_unix_nano": self.start_unix_nano,
            "time_unix_nano": self.time_unix_nano,
        });
        let fields = match &self.value {
            PointValue::Number(value) => json!({ "value": value.to_json() }),
            PointValue::Histogram(histogram) => json!({
                "count": histogram.count,
                "sum": histogram.sum,
                "min": histogram.min,
                "max": histogram.max,
                "mean": mean(histogram),
                "bounds": histogram.bounds,
                "bucket_counts": histogram.bucket_counts,
                // Estimated from the buckets: see `quantile`.
                "p50_estimated": quantile(histogram, 0.5),
                "p99_estimated": quantile(histogram, 0.99),
            }),
            PointValue::CountSum { count, sum } => json!({ "count": count, "sum": sum }),
        };
        if let (Json::Object(series), Json::Object(fields)) = (&mut series, fields) {
            series.extend(fields);
        }
        series
    }
}

/// One metric: what it is, and its series by service and attributes, in that order.
pub struct Metric {
    pub info: MetricInfo,
    pub series: BTreeMap<SeriesKey, Series>,
}

impl Metric {
    pub fn to_json(&self) -> Json {
        json!({
            "name": &*self.info.name,
            "description": &*self.info.description,
            "unit": &*self.info.unit,
            "kind": self.info.kind.name(),
            "temporality": self.info.temporality,
            "series": self.series.values().map(Series::to_json).collect::<Vec<_>>(),
        })
    }
}

/// A series' identity within its metric: its service and its attributes. Integers sort as
/// numbers, so `fib.index` 2 comes before 10.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct SeriesKey(Str, Vec<(Str, KeyPart)>);

/// An attribute value that can be compared and ordered: a double by its bits.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyPart {
    Bool(bool),
    Int(i64),
    Double(u64),
    Str(Str),
}

impl SeriesKey {
    fn of(series: &Series) -> SeriesKey {
        let attributes = series.attributes.iter().map(|(key, value)| {
            let value = match value {
                Val::Bool(value) => KeyPart::Bool(*value),
                Val::Int(value) => KeyPart::Int(*value),
                Val::Double(value) => KeyPart::Double(value.to_bits()),
                Val::Str(value) => KeyPart::Str(value.clone()),
            };
            (key.clone(), value)
        });
        SeriesKey(series.service.clone(), attributes.collect())
    }
}

/// Every metric by name, each series' latest point; at most `max_series` series.
pub struct Metrics {
    metrics: BTreeMap<Str, Metric>,
    series: usize,
    max_series: usize,
    received: u64,
    dropped: u64,
}

impl Metrics {
    pub fn new(max_series: usize) -> Metrics {
        Metrics {
            metrics: BTreeMap::new(),
            series: 0,
            max_series,
            received: 0,
            dropped: 0,
        }
    }

    /// Keeps each point as its series' latest, unless the series already holds a later one (a
    /// retried export arriving late); a new series only while there is room.
    pub fn record(&mut self, points: Vec<(MetricInfo, Series)>) {
        for (info, series) in points {
            self.received += 1;
            let key = SeriesKey::of(&series);
            let known = self
                .metrics
                .get(&info.name)
                .is_some_and(|metric| metric.series.contains_key(&key));
            if !known && self.series >= self.max_series {
                self.dropped += 1;
                continue;
            }
            let metric = self
                .metrics
                .entry(info.name.clone())
                .or_insert_with(|| Metric {
                    info: info.clone(),
                    series: BTreeMap::new(),
                });
            metric.info = info;
            match metric.series.get_mut(&key) {
                Some(kept) if kept.time_unix_nano > series.time_unix_nano => {}
                Some(kept) => *kept = series,
                None => {
                    metric.series.insert(key, series);
                    self.series += 1;
                }
            }
        }
    }

    /// Every metric, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Metric> {
        self.metrics.values()
    }

    pub fn series(&self) -> usize {
        self.series
    }

    pub fn max_series(&self) -> usize {
        self.max_series
    }

    /// Points received, kept or not.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Points of series beyond the limit.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// Each point of the metrics the receiver flattened from an export request (it refuses a
/// malformed one: see [`receiver::metrics::from_request`]), with its metric's description.
pub fn from_received(
    metrics: Vec<ReceivedMetric>,
    strings: &mut Strings,
) -> Vec<(MetricInfo, Series)> {
    let mut points = Vec::new();
    for metric in metrics {
        let service = metric
            .resource_attribute("service.name")
            .map(|name| span::received_value(name, strings));
        let service = span::service_name(service.as_ref(), strings);
        let info = MetricInfo {
            name: strings.share(&metric.name),
            description: strings.share(&metric.description),
            unit: strings.share(&metric.unit),
            kind: match metric.kind {
                MetricKind::Sum { monotonic: true } => Kind::Counter,
                MetricKind::Sum { monotonic: false } => Kind::UpDownCounter,
                MetricKind::Gauge => Kind::Gauge,
                MetricKind::Histogram => Kind::Histogram,
                MetricKind::ExponentialHistogram => Kind::ExponentialHistogram,
                MetricKind::Summary => Kind::Summary,
            },
            temporality: match metric.temporality {
                Temporality::Cumulative => "cumulative",
                Temporality::Delta => "delta",
                Temporality::Unspecified => "",
            },
        };
        for point in metric.points {
            let value = match point.value {
                Received::Number(Value::Int(value)) => PointValue::Number(Val::Int(value)),
                Received::Number(Value::Double(value)) => PointValue::Number(Val::Double(value)),
                // The client sent no number.
                Received::Number(_) => PointValue::Number(Val::Int(0)),
                Received::Histogram(histogram) => PointValue::Histogram(histogram),
                Received::ExponentialHistogram(histogram) => PointValue::CountSum {
                    count: histogram.count,
                    sum: histogram.sum,
                },
                Received::Summary(summary) => PointValue::CountSum {
                    count: summary.count,
                    sum: Some(summary.sum),
                },
            };
            let series = Series {
                service: service.clone(),
                attributes: span::received_attributes(&point.attributes, strings),
                start_unix_nano: point.start_time_unix_nano,
                time_unix_nano: point.time_unix_nano,
                value,
            };
            points.push((info.clone(), series));
        }
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    fn histogram(
        bounds: &[f64],
        counts: &[u64],
        min: Option<f64>,
        max: Option<f64>,
    ) -> HistogramData {
        HistogramData {
            count: counts.iter().sum(),
            sum: None,
            min,
            max,
            bounds: bounds.to_vec(),
            bucket_counts: counts.to_vec(),
        }
    }

    #[test]
    fn percentiles_are_estimated_within_the_bucket_that_holds_their_rank() {
        // 0.05, 0.3, 0.3 and 2.0 s in buckets bounded by 0.1, 0.5 and 1.
        let seconds = histogram(&[0.1, 0.5, 1.0], &[1, 2, 0, 1], Some(0.05), Some(2.0));
        let near = |histogram: &HistogramData, q: f64, expected: f64| {
            let got = quantile(histogram, q);
            let near = got.is_some_and(|got| (got - expected).abs() < 1e-9);
            assert!(near, "quantile {q}: {got:?}, not {expected}");
        };
        // Rank 2 of 4: halfway through the (0.1, 0.5] bucket.
        near(&seconds, 0.5, 0.3);
        // Rank 3.96: in the last bucket, which ends at the max.
        near(&seconds, 0.99, 1.96);
        // Without a min, the first bucket starts at 0; without a max, the last is its bound.
        let bare = histogram(&[10.0, 20.0], &[2, 0, 2], None, None);
        near(&bare, 0.25, 5.0);
        near(&bare, 0.99, 20.0);
        assert_eq!(quantile(&histogram(&[1.0], &[0, 0], None, None), 0.5), None);
        assert_eq!(quantile(&histogram(&[1.0], &[3], None, None), 0.5), None);
    }

    /// `fib.calls` by `fib.index` 1, as the receiver gives it, from a resource without a name.
    fn counter(value: i64, time_unix_nano: u64) -> ReceivedMetric {
        ReceivedMetric {
            name: "fib.calls".into(),
            description: String::new(),
            unit: "{call}".into(),
            kind: MetricKind::Sum { monotonic: true },
            temporality: Temporality::Cumulative,
            points: vec![receiver::MetricPoint {
                attributes: BTreeMap::from([("fib.index".to_string(), Value::Int(1))]),
                start_time_unix_nano: 0,
                time_unix_nano,
                value: Received::Number(Value::Int(value)),
            }],
            resource: BTreeMap::new(),
            scope_name: String::new(),
        }
    }

    #[test]
    fn a_point_arriving_late_does_not_replace_a_newer_one() {
        let mut strings = Strings::new(100);
        let mut metrics = Metrics::new(10);
        for (value, time) in [(5, 20), (3, 10)] {
            metrics.record(from_received(vec![counter(value, time)], &mut strings));
        }
        let metric = metrics.iter().next().expect("fib.calls");
        assert_eq!(
            (metric.info.kind, metric.info.temporality),
            (Kind::Counter, "cumulative")
        );
        let series: Vec<_> = metric
            .series
            .values()
            .map(|series| (&*series.service, series.time_unix_nano, &series.value))
            .collect();
        assert_eq!(
            series,
            [("unknown_service", 20, &PointValue::Number(Val::Int(5)))]
        );
        assert_eq!((metrics.received(), metrics.dropped()), (2, 0));
    }
}
