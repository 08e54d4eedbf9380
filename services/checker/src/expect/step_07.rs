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

use super::{Evidence, Expectation, Judge, Required, SERVICE_NAME, fail, int, missing};
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

/// What goes wrong in step 07.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mistake {
    /// No metric arrived.
    NoMetrics,
    /// No `http.server.request.duration` among the metrics that arrived.
    NoDurationMetric { found: Vec<String> },
    /// `http.server.request.duration` is not a histogram in seconds.
    DurationShape,
    /// The duration histogram did not count each request once.
    DurationCount { counted: u64, expected: u64 },
    /// The duration's points lack attributes of the conventions.
    MetricAttributes { names: Vec<String> },
    /// `fib.calls` missing, not a counter, or without `fib.index`.
    FibCalls { found: Option<String> },
    /// No log record arrived.
    NoLogs,
    /// Log records arrived, none written during a request.
    LogsOutsideRequests,
    /// Records written during a request lack its trace context, or name unknown spans.
    LogsWithoutTraceContext { without: usize, unknown: usize },
    /// No warning for the bad index, or not in its request's trace.
    NoWarning { in_other_trace: bool },
    /// The libraries' own events became log records.
    LogsOfLibraries { targets: Vec<String> },
    /// Metrics or logs under another `service.name` than the spans.
    SignalsResource { found: Option<String> },
}

impl Mistake {
    pub fn hint(&self) -> String {
        match self {
            Mistake::NoMetrics => "No metric arrived. Is there a meter provider, with the tracer provider's \
                resource and a periodic reader around an OTLP metric exporter, installed before the instruments \
                are made? Is it shut down with the others when the server stops? The reader sends every few \
                seconds, and once more at shutdown, which is when a short run like the checker's gets its metrics."
                .into(),
            Mistake::NoDurationMetric { found } => format!(
                "Metrics arrived ({}), but not `http.server.request.duration`. Make it once, from a meter, with \
                 the conventions' name (`HTTP_SERVER_REQUEST_DURATION`), and record each request's duration \
                 where every request passes: in a middleware.",
                found.join(", ")
            ),
            Mistake::DurationShape => "`http.server.request.duration` must be a histogram of seconds, an `f64` \
                histogram with the unit \"s\". Seconds, not milliseconds, so that every backend reads it alike; \
                the conventions' bucket boundaries (0.005 to 10) fit seconds."
                .into(),
            Mistake::DurationCount { counted, expected } => format!(
                "`http.server.request.duration` counted {counted} requests where the app served {expected}. \
                 Record once per request, in a middleware once the response is ready: not in the handler (the \
                 bad index counts too), and not twice."
            ),
            Mistake::MetricAttributes { names } => format!(
                "The points of `http.server.request.duration` lack {}. Describe each duration with the \
                 request's method, its route (`MatchedPath`, not the path with its query: every distinct set of \
                 attributes is a series of its own) and the response's status code as an integer.",
                names.join(", ")
            ),
            Mistake::FibCalls { found: None } => "No `fib.calls` arrived. Make a counter once (unit `{call}`) and \
                add 1 for each /fib computation, with the index as the attribute `fib.index` (an integer)."
                .into(),
            Mistake::FibCalls { found: Some(kind) } => format!(
                "`fib.calls` arrived as {kind}, or without `fib.index` on every point. A count that only grows \
                 is a counter (`u64_counter`, a monotonic sum), and each `add` gives it `fib.index`."
            ),
            Mistake::NoLogs => "No log record arrived. Is there a logger provider (the same resource, a batch \
                processor around an OTLP log exporter), and a `tracing` subscriber with the bridge \
                (`OpenTelemetryTracingBridge`) as a layer? Are events written (`tracing::info!`, `warn!`, \
                `error!`), and is the provider shut down with the others?"
                .into(),
            Mistake::LogsOutsideRequests => "Log records arrived, but none was written while a request was \
                served. Write the events where the work happens: in the /fib handler, when a number is computed \
                or an index refused."
                .into(),
            Mistake::LogsWithoutTraceContext { without, unknown } => format!(
                "{without} log record(s) written during a request carry no trace id, and {unknown} name a span \
                 that never arrived. The SDK's logger stamps each record with the span of the current context \
                 (`Context::current()`): write the event inside the request's context (the code that \
                 `.with_context(cx)` runs), not in a task of its own, and make sure the spans themselves are sent."
            ),
            Mistake::NoWarning {
                in_other_trace: false,
            } => "No log record of severity WARN or above arrived. When /fib refuses a bad index (400), say so \
                with `tracing::warn!`, and with `error!` when a sub-request fails (502)."
                .into(),
            Mistake::NoWarning {
                in_other_trace: true,
            } => "Warnings arrived, but none in the trace of the request that was refused. Write the warning \
                where that request's context is current, in the handler that answers 400, so that the record \
                carries its trace id."
                .into(),
            Mistake::LogsOfLibraries { targets } => format!(
                "Log records came from {}: the libraries that carry the telemetry log too, and some of their \
                 events are about sending it. Filter the bridge's layer to the app's own events, whose target \
                 is the crate's name (`Targets`, `with_filter`).",
                targets.join(", ")
            ),
            Mistake::SignalsResource { found } => format!(
                "Metrics or log records arrived as service.name {found:?}, not \"fib\" like the spans. Give the \
                 meter and logger providers the same resource as the tracer provider: one app, one resource."
            ),
        }
    }
}

pub(super) fn expect(judge: &mut Judge, evidence: &Evidence) {
    let run = &evidence.main;
    judge.within(|judge| metrics(judge, run));
    judge.within(|judge| logs(judge, run));
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
    // Records of the last request name spans that went with the unflushed batch (step 02).
    let context = in_context(run);
    let only_unknown_spans = matches!(
        &context,
        Err((
            _,
            super::Mistake::Step07(Mistake::LogsWithoutTraceContext { without: 0, .. })
        ))
    );
    judge.expect_unless_lost(
        7,
        "log records written during a request carry the trace id and span id of one of its spans",
        context,
        only_unknown_spans,
    );
    let answered_400 = run
        .server_spans()
        .into_iter()
        .any(|span| int(span, "http.response.status_code") == Some(400));
    judge.expect_unless_lost(
        7,
        "a warning (or worse) for /fib?index=abc, in that request's trace",
        bad_index_logged(run),
        !answered_400,
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
