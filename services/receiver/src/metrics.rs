//! Metrics as a test sees them: flat, owned, easy to assert on; and their conversion from the
//! OTLP messages that opentelemetry-proto generates.
//!
//! OTLP nests a metric under its resource and scope, and its data points under a `oneof` that
//! says what the metric is (sum, gauge, histogram…). A test wants `metric.name`, `metric.unit`,
//! `metric.kind` and `metric.points[0].as_f64()`, so each metric here carries a copy of its
//! resource and scope, and each point its value in the shape its kind gives it.
//!
//! An SDK exports a metric at every collection: with the default (cumulative) temporality each
//! export repeats every metric with its totals so far, so the last one received is the current.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Metric, NumberDataPoint, exponential_histogram_data_point, metric,
    number_data_point,
};

use crate::model::{Value, attributes, resource_attributes};

/// One metric from one export, with the resource and scope it was sent under.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedMetric {
    /// E.g. `http.server.request.duration`.
    pub name: String,
    pub description: String,
    /// UCUM, e.g. `s`, `By`, `{request}`; empty when the instrument gave none.
    pub unit: String,
    pub kind: MetricKind,
    /// `Unspecified` for gauges and summaries, which have none.
    pub temporality: Temporality,
    /// One per set of attributes, in the order sent.
    pub points: Vec<MetricPoint>,
    /// The resource's attributes, e.g. `service.name`.
    pub resource: BTreeMap<String, Value>,
    /// The instrumentation scope: the name given to `provider.meter(name)`.
    pub scope_name: String,
}

impl ReceivedMetric {
    /// The resource's attribute `key`, if it has one.
    pub fn resource_attribute(&self, key: &str) -> Option<&Value> {
        self.resource.get(key)
    }

    /// The resource's `service.name`: what a backend lists the metric under.
    pub fn service_name(&self) -> Option<&str> {
        self.resource_attribute("service.name")
            .and_then(Value::as_str)
    }

    /// The first point whose attribute `key` is `value`, e.g.
    /// `metric.point("http.response.status_code", 200)`.
    pub fn point(&self, key: &str, value: impl Into<Value>) -> Option<&MetricPoint> {
        let value = value.into();
        self.points
            .iter()
            .find(|point| point.attribute(key) == Some(&value))
    }
}

/// What a metric is, from the instrument that made it: a counter gives a monotonic sum, an
/// up-down counter a non-monotonic one, a histogram a histogram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MetricKind {
    Sum { monotonic: bool },
    Gauge,
    Histogram,
    ExponentialHistogram,
    Summary,
}

/// Whether a sum's or histogram's points count since the previous export (delta) or since a
/// fixed start (cumulative, the SDK's default).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Temporality {
    Unspecified,
    Delta,
    Cumulative,
}

/// One data point: the value of a metric for one set of attributes, over a time interval.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricPoint {
    pub attributes: BTreeMap<String, Value>,
    pub start_time_unix_nano: u64,
    pub time_unix_nano: u64,
    pub value: PointValue,
}

impl MetricPoint {
    /// The point's attribute `key`, if it has one.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        self.attributes.get(key)
    }

    /// A sum's or gauge's value as a double, an integer widened to one.
    pub fn as_f64(&self) -> Option<f64> {
        match &self.value {
            PointValue::Number(value) => value.as_f64(),
            _ => None,
        }
    }

    /// A sum's or gauge's value, when it is an integer (an `u64` counter's, say).
    pub fn as_i64(&self) -> Option<i64> {
        match &self.value {
            PointValue::Number(value) => value.as_i64(),
            _ => None,
        }
    }

    /// A histogram's counts and buckets.
    pub fn histogram(&self) -> Option<&HistogramData> {
        match &self.value {
            PointValue::Histogram(histogram) => Some(histogram),
            _ => None,
        }
    }
}

/// A point's value, in the shape of its metric's kind.
#[derive(Clone, Debug, PartialEq)]
pub enum PointValue {
    /// A sum's or a gauge's: [`Value::Int`] or [`Value::Double`] as the instrument recorded it;
    /// [`Value::Empty`] if the client sent neither.
    Number(Value),
    Histogram(HistogramData),
    ExponentialHistogram(ExponentialHistogramData),
    Summary(SummaryData),
}

/// A histogram point: how many values, their sum, and how many fell in each bucket.
#[derive(Clone, Debug, PartialEq)]
pub struct HistogramData {
    pub count: u64,
    /// Absent when the client left it out, as OTLP asks when values can be negative.
    pub sum: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The buckets' upper bounds, ascending, e.g. `[0.005, 0.01, …, 10.0]`.
    pub bounds: Vec<f64>,
    /// One more than `bounds`: bucket `i` counts the values in `(bounds[i-1], bounds[i]]`, the
    /// last one those above every bound. Both empty when the client sent no buckets.
    pub bucket_counts: Vec<u64>,
}

/// An exponential histogram point: buckets whose bounds grow by a factor of `2^(2^-scale)`.
#[derive(Clone, Debug, PartialEq)]
pub struct ExponentialHistogramData {
    pub count: u64,
    pub sum: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub scale: i32,
    /// The values (about) zero, in no bucket.
    pub zero_count: u64,
    pub positive: ExponentialBuckets,
    pub negative: ExponentialBuckets,
}

/// A run of exponential buckets: `counts[i]` is the bucket of index `offset + i`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ExponentialBuckets {
    pub offset: i32,
    pub counts: Vec<u64>,
}

/// A summary point (legacy Prometheus-style quantiles; OpenTelemetry SDKs do not make them).
#[derive(Clone, Debug, PartialEq)]
pub struct SummaryData {
    pub count: u64,
    pub sum: f64,
    pub quantiles: Vec<Quantile>,
}

/// The value below which `quantile` (0.0 to 1.0) of the values lie.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantile {
    pub quantile: f64,
    pub value: f64,
}

/// Flattens one export request into its metrics, in the order they were sent: what the
/// receiver keeps, and what the explorer makes its series from (the one place that reads OTLP's
/// metrics messages).
///
/// A metric with no data at all (none of sum, gauge, histogram…) is refused, as malformed: every
/// metric here has a kind. The error is one line, for the 400 or `INVALID_ARGUMENT` the client
/// gets.
pub fn from_request(request: ExportMetricsServiceRequest) -> Result<Vec<ReceivedMetric>, String> {
    let mut metrics = Vec::new();
    for resource_metrics in request.resource_metrics {
        let resource = resource_attributes(resource_metrics.resource);
        for scope_metrics in resource_metrics.scope_metrics {
            let scope_name = scope_metrics
                .scope
                .map(|scope| scope.name)
                .unwrap_or_default();
            for metric in scope_metrics.metrics {
                metrics.push(received_metric(metric, &resource, &scope_name)?);
            }
        }
    }
    Ok(metrics)
}

fn received_metric(
    metric: Metric,
    resource: &BTreeMap<String, Value>,
    scope_name: &str,
) -> Result<ReceivedMetric, String> {
    let Some(data) = metric.data else {
        return Err(format!(
            "metric {:?} has no data: neither sum, gauge, histogram nor summary",
            metric.name
        ));
    };
    let (kind, temporality, points) = match data {
        metric::Data::Sum(sum) => (
            MetricKind::Sum {
                monotonic: sum.is_monotonic,
            },
            temporality(sum.aggregation_temporality),
            number_points(sum.data_points),
        ),
        metric::Data::Gauge(gauge) => (
            MetricKind::Gauge,
            Temporality::Unspecified,
            number_points(gauge.data_points),
        ),
        metric::Data::Histogram(histogram) => (
            MetricKind::Histogram,
            temporality(histogram.aggregation_temporality),
            histogram
                .data_points
                .into_iter()
                .map(|p| {
                    let value = PointValue::Histogram(HistogramData {
                        count: p.count,
                        sum: p.sum,
                        min: p.min,
                        max: p.max,
                        bounds: p.explicit_bounds,
                        bucket_counts: p.bucket_counts,
                    });
                    point(
                        p.attributes,
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        value,
                    )
                })
                .collect(),
        ),
        metric::Data::ExponentialHistogram(histogram) => (
            MetricKind::ExponentialHistogram,
            temporality(histogram.aggregation_temporality),
            histogram
                .data_points
                .into_iter()
                .map(|p| {
                    let value = PointValue::ExponentialHistogram(ExponentialHistogramData {
                        count: p.count,
                        sum: p.sum,
                        min: p.min,
                        max: p.max,
                        scale: p.scale,
                        zero_count: p.zero_count,
                        positive: buckets(p.positive),
                        negative: buckets(p.negative),
                    });
                    point(
                        p.attributes,
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        value,
                    )
                })
                .collect(),
        ),
        metric::Data::Summary(summary) => (
            MetricKind::Summary,
            Temporality::Unspecified,
            summary
                .data_points
                .into_iter()
                .map(|p| {
                    let value = PointValue::Summary(SummaryData {
                        count: p.count,
                        sum: p.sum,
                        quantiles: p
                            .quantile_values
                            .iter()
                            .map(|q| Quantile {
                                quantile: q.quantile,
                                value: q.value,
                            })
                            .collect(),
                    });
                    point(
                        p.attributes,
                        p.start_time_unix_nano,
                        p.time_unix_nano,
                        value,
                    )
                })
                .collect(),
        ),
    };
    Ok(ReceivedMetric {
        name: metric.name,
        description: metric.description,
        unit: metric.unit,
        kind,
        temporality,
        points,
        resource: resource.clone(),
        scope_name: scope_name.to_string(),
    })
}

/// The fields every kind of point has, around its value.
fn point(attrs: Vec<KeyValue>, start: u64, time: u64, value: PointValue) -> MetricPoint {
    MetricPoint {
        attributes: attributes(attrs),
        start_time_unix_nano: start,
        time_unix_nano: time,
        value,
    }
}

/// The points of a sum or a gauge: one number each.
fn number_points(points: Vec<NumberDataPoint>) -> Vec<MetricPoint> {
    points
        .into_iter()
        .map(|p| {
            let value = number(p.value);
            point(
                p.attributes,
                p.start_time_unix_nano,
                p.time_unix_nano,
                value,
            )
        })
        .collect()
}

fn number(value: Option<number_data_point::Value>) -> PointValue {
    PointValue::Number(match value {
        Some(number_data_point::Value::AsInt(value)) => Value::Int(value),
        Some(number_data_point::Value::AsDouble(value)) => Value::Double(value),
        None => Value::Empty,
    })
}

fn buckets(buckets: Option<exponential_histogram_data_point::Buckets>) -> ExponentialBuckets {
    buckets
        .map(|buckets| ExponentialBuckets {
            offset: buckets.offset,
            counts: buckets.bucket_counts,
        })
        .unwrap_or_default()
}

/// OTLP's temporality, named; an unknown integer is `Unspecified`.
fn temporality(temporality: i32) -> Temporality {
    match AggregationTemporality::try_from(temporality) {
        Ok(AggregationTemporality::Delta) => Temporality::Delta,
        Ok(AggregationTemporality::Cumulative) => Temporality::Cumulative,
        Ok(AggregationTemporality::Unspecified) | Err(_) => Temporality::Unspecified,
    }
}
