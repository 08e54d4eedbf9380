//! Step 07's expectations: metrics and logs, beside the traces, from the same app.
//!
//! Judged on the main run (OTLP/HTTP, protobuf), whose metrics and log records are read after
//! the app has stopped: a periodic reader sends its totals every few seconds and once more at
//! shutdown, so an app that shuts its meter provider down delivers them whatever its interval.
//!
//! - **metrics**: `http.server.request.duration`, a histogram in seconds that counts every
//!   request the run made once, with the conventions' attributes; `fib.calls`, a counter by
//!   `fib.index`;
//! - **logs**: records arrive; those written during a request carry the trace id and span id of
//!   a span that arrived; the bad index is a warning (or worse) in its own request's trace; none
//!   comes from the libraries that send the telemetry;
//! - **one resource**: metrics and logs are sent as `service.name` "fib", like the spans.

use std::collections::BTreeSet;

use receiver::metrics::{MetricKind, MetricPoint, Temporality};
use receiver::{ReceivedLog, ReceivedMetric, Value};

use super::{Expectation, Judge, Required, SERVICE_NAME, fail, int, missing};
use crate::hints::Mistake;
use crate::run::Run;

/// The stable HTTP server metric of the semantic conventions.
pub const DURATION: &str = "http.server.request.duration";

/// The app's own metric.
pub const FIB_CALLS: &str = "fib.calls";

/// WARN in OTLP's severity numbers (13–16); ERROR and FATAL are above.
const WARN: i32 = 13;

/// The crates whose events must not become log records: the ones that carry the telemetry.
const LIBRARIES: [&str; 10] = [
    "hyper",
    "h2",
    "reqwest",
    "tonic",
    "tower",
    "axum",
    "tokio",
    "rustls",
    "opentelemetry",
    "opentelemetry_sdk",
];

pub(super) fn step_07(judge: &mut Judge, run: &Run) {
    let blocked = judge.blocked;
    metrics(judge, run);
    judge.blocked = blocked;
    logs(judge, run);
    judge.blocked = blocked;
    let services: BTreeSet<Option<&str>> = run
        .metrics
        .iter()
        .map(ReceivedMetric::service_name)
        .chain(run.logs.iter().map(ReceivedLog::service_name))
        .collect();
    if !services.is_empty() {
        judge.expect(
            7,
            "metrics and log records come from the same resource as the spans: service.name \"fib\"",
            if services.len() == 1 && services.contains(&Some(SERVICE_NAME)) {
                Ok(())
            } else {
                let found = services.iter().flatten().find(|name| **name != SERVICE_NAME);
                fail(
                    format!("service.name {services:?}"),
                    Mistake::SignalsResource {
                        found: found.map(|name| name.to_string()),
                    },
                )
            },
        );
    }
}

fn metrics(judge: &mut Judge, run: &Run) {
    let arrived = judge.expect(
        7,
        "metrics reach the OTLP endpoint",
        if run.metrics.is_empty() {
            fail("no metric arrived", Mistake::NoMetrics)
        } else {
            Ok(())
        },
    );
    judge.require(arrived);
    let names: BTreeSet<&str> = run.metrics.iter().map(|m| m.name.as_str()).collect();
    let duration = latest(&run.metrics, DURATION);
    let shaped = judge.expect(
        7,
        &format!("{DURATION} is a histogram in seconds (unit \"s\")"),
        match duration {
            None => fail(
                format!("metrics {names:?}"),
                Mistake::NoDurationMetric {
                    found: names.iter().map(|name| name.to_string()).collect(),
                },
            ),
            Some(metric) if metric.kind == MetricKind::Histogram && metric.unit == "s" => Ok(()),
            Some(metric) => fail(
                format!("a {:?} in {:?}", metric.kind, metric.unit),
                Mistake::DurationShape,
            ),
        },
    );
    if let (true, Some(duration)) = (shaped, duration) {
        let expected = super::expected_server_spans(run);
        let counted = histogram_count(&run.metrics, DURATION);
        judge.expect(
            7,
            &format!(
                "…counting each of the {expected} requests once ({} for /fib?index=5, 1 for the bad one)",
                expected - 1
            ),
            if counted == expected as u64 {
                Ok(())
            } else {
                fail(
                    format!("{counted} recorded for {expected} requests"),
                    Mistake::DurationCount {
                        counted,
                        expected: expected as u64,
                    },
                )
            },
        );
        judge.expect(
            7,
            "…with http.request.method, http.route and http.response.status_code (an integer)",
            duration_attributes(duration),
        );
    }
    judge.expect(
        7,
        &format!("{FIB_CALLS} is a counter (a monotonic sum) with fib.index (an integer)"),
        fib_calls(latest(&run.metrics, FIB_CALLS)),
    );
}

/// The last export of the metric `name`: with cumulative temporality, the SDK's default, it
/// holds the totals.
fn latest<'a>(metrics: &'a [ReceivedMetric], name: &str) -> Option<&'a ReceivedMetric> {
    metrics.iter().rev().find(|metric| metric.name == name)
}

/// How many values the histogram `name` counted in all: its last export's points when
/// cumulative, every export's when delta.
fn histogram_count(metrics: &[ReceivedMetric], name: &str) -> u64 {
    let exports: Vec<&ReceivedMetric> = match latest(metrics, name) {
        Some(last) if last.temporality == Temporality::Delta => metrics
            .iter()
            .filter(|metric| metric.name == name)
            .collect(),
        last => last.into_iter().collect(),
    };
    exports
        .iter()
        .flat_map(|metric| &metric.points)
        .filter_map(|point| point.histogram())
        .map(|histogram| histogram.count)
        .sum()
}

fn duration_attributes(metric: &ReceivedMetric) -> Expectation {
    let points: Vec<&MetricPoint> = metric.points.iter().collect();
    let text = |point: &MetricPoint, key: &str| {
        point
            .attribute(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let required: [Required<MetricPoint>; 3] = [
        ("http.request.method", &|p| {
            text(p, "http.request.method").as_deref() == Some("GET")
        }),
        ("http.route", &|p| {
            text(p, "http.route").as_deref() == Some("/fib")
        }),
        ("http.response.status_code (an integer)", &|p| {
            matches!(
                p.attribute("http.response.status_code")
                    .and_then(Value::as_i64),
                Some(200 | 400)
            )
        }),
    ];
    let names = if points.is_empty() {
        required.iter().map(|(name, _)| name.to_string()).collect()
    } else {
        missing(&points, &required)
    };
    if names.is_empty() {
        Ok(())
    } else {
        fail(
            format!("missing or wrong: {}", names.join(", ")),
            Mistake::MetricAttributes { names },
        )
    }
}

fn fib_calls(metric: Option<&ReceivedMetric>) -> Expectation {
    let Some(metric) = metric else {
        return fail(format!("no {FIB_CALLS}"), Mistake::FibCalls { found: None });
    };
    let found = Some(format!("{:?}", metric.kind));
    if metric.kind != (MetricKind::Sum { monotonic: true }) {
        return fail(format!("a {:?}", metric.kind), Mistake::FibCalls { found });
    }
    let indexed = !metric.points.is_empty()
        && metric.points.iter().all(|point| {
            point
                .attribute("fib.index")
                .and_then(Value::as_i64)
                .is_some()
        });
    if indexed {
        Ok(())
    } else {
        fail("points without fib.index", Mistake::FibCalls { found })
    }
}

fn logs(judge: &mut Judge, run: &Run) {
    let arrived = judge.expect(
        7,
        "log records reach the OTLP endpoint",
        if run.logs.is_empty() {
            fail("no log record arrived", Mistake::NoLogs)
        } else {
            Ok(())
        },
    );
    judge.require(arrived);
    judge.expect(
        7,
        "log records written during a request carry the trace id and span id of one of its spans",
        in_context(run),
    );
    judge.expect(
        7,
        "a warning (or worse) for /fib?index=abc, in that request's trace",
        bad_index_logged(run),
    );
    let libraries: BTreeSet<&str> = run
        .logs
        .iter()
        .map(|record| record.scope_name.as_str())
        .filter(|scope| {
            let krate = scope.split("::").next().unwrap_or_default();
            LIBRARIES.contains(&krate)
        })
        .collect();
    judge.expect(
        7,
        "the log records are the app's own: none from hyper, reqwest, tonic or OpenTelemetry itself",
        if libraries.is_empty() {
            Ok(())
        } else {
            fail(
                format!("records from {libraries:?}"),
                Mistake::LogsOfLibraries {
                    targets: libraries.iter().map(|s| s.to_string()).collect(),
                },
            )
        },
    );
}

/// When a record was written: its timestamp, or when the SDK saw it (`tracing`'s bridge leaves
/// the timestamp to the SDK).
fn written(record: &ReceivedLog) -> u64 {
    if record.time_unix_nano != 0 {
        record.time_unix_nano
    } else {
        record.observed_time_unix_nano
    }
}

fn in_context(run: &Run) -> Expectation {
    let spans: BTreeSet<(&str, &str)> = run
        .spans
        .iter()
        .map(|span| (span.trace_id.as_str(), span.span_id.as_str()))
        .collect();
    // Written during a request: within the time of a server span, or stamped with a trace.
    let servers = run.server_spans();
    let during = |record: &ReceivedLog| {
        !record.trace_id.is_empty()
            || servers.iter().any(|span| {
                (span.start_time_unix_nano..=span.end_time_unix_nano).contains(&written(record))
            })
    };
    let in_requests: Vec<&ReceivedLog> = run.logs.iter().filter(|r| during(r)).collect();
    let without = in_requests
        .iter()
        .filter(|record| record.trace_id.is_empty() || record.span_id.is_empty())
        .count();
    let unknown = in_requests
        .iter()
        .filter(|record| {
            !record.trace_id.is_empty()
                && !spans.contains(&(record.trace_id.as_str(), record.span_id.as_str()))
        })
        .count();
    if in_requests.is_empty() {
        return fail(
            format!("{} records, none written during a request", run.logs.len()),
            Mistake::LogsOutsideRequests,
        );
    }
    if without == 0 && unknown == 0 {
        return Ok(());
    }
    fail(
        format!(
            "of {} records written during requests: {without} without a trace id, {unknown} naming a span that never arrived",
            in_requests.len()
        ),
        Mistake::LogsWithoutTraceContext { without, unknown },
    )
}

fn bad_index_logged(run: &Run) -> Expectation {
    let bad_trace = run
        .server_spans()
        .into_iter()
        .find(|span| int(span, "http.response.status_code") == Some(400))
        .map(|span| span.trace_id.as_str());
    let warnings: Vec<&ReceivedLog> = run
        .logs
        .iter()
        .filter(|record| record.severity_number >= WARN)
        .collect();
    match bad_trace {
        Some(trace) if warnings.iter().any(|record| record.trace_id == trace) => Ok(()),
        _ if warnings.is_empty() => fail(
            format!("{} records, none of severity WARN or above", run.logs.len()),
            Mistake::NoWarning {
                in_other_trace: false,
            },
        ),
        _ => fail(
            format!(
                "{} warnings, none in the trace of the request answered 400",
                warnings.len()
            ),
            Mistake::NoWarning {
                in_other_trace: true,
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use receiver::metrics::{HistogramData, PointValue};
    use std::collections::BTreeMap;

    fn histogram(temporality: Temporality, counts: &[u64]) -> ReceivedMetric {
        ReceivedMetric {
            name: DURATION.into(),
            description: String::new(),
            unit: "s".into(),
            kind: MetricKind::Histogram,
            temporality,
            points: counts
                .iter()
                .map(|count| MetricPoint {
                    attributes: BTreeMap::new(),
                    start_time_unix_nano: 0,
                    time_unix_nano: 0,
                    value: PointValue::Histogram(HistogramData {
                        count: *count,
                        sum: None,
                        min: None,
                        max: None,
                        bounds: Vec::new(),
                        bucket_counts: Vec::new(),
                    }),
                })
                .collect(),
            resource: BTreeMap::new(),
            scope_name: "fib".into(),
        }
    }

    #[test]
    fn a_cumulative_histogram_is_counted_from_its_last_export_and_a_delta_one_from_all() {
        let cumulative = [
            histogram(Temporality::Cumulative, &[3, 1]),
            histogram(Temporality::Cumulative, &[7, 1]),
        ];
        assert_eq!(histogram_count(&cumulative, DURATION), 8);
        let delta = [
            histogram(Temporality::Delta, &[3, 1]),
            histogram(Temporality::Delta, &[4]),
        ];
        assert_eq!(histogram_count(&delta, DURATION), 8);
        assert_eq!(histogram_count(&delta, FIB_CALLS), 0);
    }
}
