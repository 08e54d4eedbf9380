//! The window's bounds hold when ten times the window is sent, over real OTLP/HTTP from the
//! SDK's exporter; and the log records' and the metric series' bounds hold, with export requests
//! handed straight to the explorer's `Sink` (the transports are the same for every signal):
//! `cargo test -p explorer --test window`.

use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use explorer::logs::LogQuery;
use explorer::{Explorer, Limits, Settings, Shared};
use opentelemetry::KeyValue;
use opentelemetry::trace::{Span, Tracer, TracerProvider};
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue as ProtoKeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, metric, number_data_point,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;

/// Sends `count` spans (one trace each) named `span-<i>`, each with a `payload` of
/// `payload_bytes`, through a batch processor, and flushes them.
async fn send(explorer: &Explorer, count: usize, payload_bytes: usize) {
    let endpoint = format!("{}/v1/traces", explorer.http_endpoint());
    // The blocking HTTP client must not run on the runtime's threads.
    tokio::task::spawn_blocking(move || {
        let exporter = SpanExporter::builder()
            .with_http()
            .with_endpoint(endpoint)
            .build()
            .expect("an OTLP/HTTP exporter");
        let provider = SdkTracerProvider::builder()
            .with_resource(Resource::builder().with_service_name("bounds").build())
            .with_batch_exporter(exporter)
            .build();
        let tracer = provider.tracer("window-test");
        let payload = "x".repeat(payload_bytes);
        for i in 0..count {
            let mut span = tracer.start(format!("span-{i}"));
            span.set_attribute(KeyValue::new("payload", payload.clone()));
            span.set_attribute(KeyValue::new("seq", i as i64));
            span.end();
            // The batch processor's queue holds 2048 spans: let it drain now and then.
            if i % 1000 == 999 {
                provider.force_flush().expect("a flush");
            }
        }
        provider.shutdown().expect("every span sent");
    })
    .await
    .expect("the sender thread");
}

async fn get(url: String) -> (u16, serde_json::Value) {
    let response = reqwest::get(&url).await.expect("the explorer answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    (status, serde_json::from_str(&text).expect("JSON"))
}

/// Waits until the explorer has received `total` spans (kept or dropped).
async fn wait_for_total(explorer: &Explorer, total: u64) -> explorer::window::Stats {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let stats = explorer.shared.stats();
        if stats.spans as u64 + stats.dropped_spans >= total || Instant::now() > deadline {
            return stats;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_windows_of_spans_leave_one_window_the_newest() {
    let settings = Settings {
        max_spans: 500,
        ..Settings::loopback()
    };
    let explorer = Explorer::start(&settings).await.unwrap();
    send(&explorer, 5000, 10).await;
    let stats = wait_for_total(&explorer, 5000).await;
    assert_eq!(
        (stats.spans, stats.dropped_spans, stats.traces),
        (500, 4500, 500),
        "{stats:?}"
    );

    // The newest are kept: seq 4500..5000, and the oldest is gone from the trace index too.
    let query = "visualize=COUNT&where=seq%20%3C%204500";
    let (_, result) = get(format!("{}/api/query?{query}", explorer.url())).await;
    assert_eq!(result["matched"], 0, "{result}");
    let (_, traces) = get(format!("{}/api/traces?limit=1000", explorer.url())).await;
    assert_eq!(traces.as_array().map(Vec::len), Some(500));

    // The page says how many were dropped.
    let page = reqwest::get(explorer.url())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"<span id="dropped">4500</span>"#), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_byte_bound_holds_for_large_spans() {
    let settings = Settings {
        max_mib: 1,
        ..Settings::loopback()
    };
    let explorer = Explorer::start(&settings).await.unwrap();
    // About 10 MiB of attributes: ten times the window.
    send(&explorer, 1000, 10 * 1024).await;
    let stats = wait_for_total(&explorer, 1000).await;
    assert!(
        stats.bytes <= 1024 * 1024 && stats.spans > 0 && stats.dropped_spans >= 850,
        "expected at most 1 MiB kept and about 90% dropped: {stats:?}"
    );
    assert_eq!(stats.spans as u64 + stats.dropped_spans, 1000, "{stats:?}");
    // The one kept last is the one sent last.
    let (_, result) = get(format!(
        "{}/api/query?visualize=COUNT&where=name%20%3D%20span-999",
        explorer.url()
    ))
    .await;
    assert_eq!(result["matched"], 1, "{result}");
}

// ---------------------------------------------------------------------------------- logs, metrics

fn text(value: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(value.to_string())),
    })
}

/// One export request with a record per body.
fn log_request(bodies: impl IntoIterator<Item = String>) -> ExportLogsServiceRequest {
    let log_records = bodies
        .into_iter()
        .map(|body| LogRecord {
            time_unix_nano: 1,
            severity_number: 9,
            body: text(&body),
            ..LogRecord::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            scope_logs: vec![ScopeLogs {
                log_records,
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
}

/// One export request of the counter `name` with a point per `(fib.index, value)`.
fn counter_request(
    name: &str,
    points: impl IntoIterator<Item = (i64, i64)>,
) -> ExportMetricsServiceRequest {
    let data_points = points
        .into_iter()
        .map(|(index, value)| NumberDataPoint {
            attributes: vec![ProtoKeyValue {
                key: "fib.index".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::IntValue(index)),
                }),
                ..ProtoKeyValue::default()
            }],
            time_unix_nano: 1,
            value: Some(number_data_point::Value::AsInt(value)),
            ..NumberDataPoint::default()
        })
        .collect();
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            scope_metrics: vec![ScopeMetrics {
                metrics: vec![Metric {
                    name: name.into(),
                    data: Some(metric::Data::Sum(Sum {
                        data_points,
                        aggregation_temporality: 2,
                        is_monotonic: true,
                    })),
                    ..Metric::default()
                }],
                ..ScopeMetrics::default()
            }],
            ..ResourceMetrics::default()
        }],
    }
}

#[test]
fn more_log_records_than_the_ring_holds_leave_the_newest() {
    let shared = Shared::new(Limits {
        max_logs: 100,
        ..Limits::default()
    });
    for batch in 0..5 {
        let request = log_request((batch * 50..batch * 50 + 50).map(|i| format!("record-{i}")));
        receiver::Sink::export_logs(
            &shared,
            receiver::Transport::Grpc,
            &HeaderMap::new(),
            request,
        )
        .expect("accepted");
    }
    let stats = shared.stats();
    assert_eq!(
        (stats.logs, stats.logs_received, stats.dropped_logs),
        (100, 250, 150),
        "{stats:?}"
    );
    let logs = shared.logs();
    let (kept, matched) = logs.newest(&LogQuery {
        limit: 1000,
        ..LogQuery::default()
    });
    let bodies: Vec<&str> = kept.iter().map(|record| &*record.body).collect();
    let newest: Vec<String> = (150..250).rev().map(|i| format!("record-{i}")).collect();
    assert_eq!(
        (bodies, matched),
        (newest.iter().map(String::as_str).collect(), 100)
    );
}

#[test]
fn the_log_records_byte_bound_holds_for_large_bodies() {
    let shared = Shared::new(Limits {
        max_log_bytes: 64 * 1024,
        ..Limits::default()
    });
    // 1 MiB of bodies: sixteen times the bound.
    let request = log_request((0..1024).map(|i| format!("{i:04}{}", "x".repeat(1020))));
    receiver::Sink::export_logs(
        &shared,
        receiver::Transport::HttpJson,
        &HeaderMap::new(),
        request,
    )
    .expect("accepted");
    let stats = shared.stats();
    assert!(
        stats.log_bytes <= 64 * 1024
            && stats.logs >= 40
            && stats.logs + stats.dropped_logs as usize == 1024,
        "expected at most 64 KiB kept, about 50 records: {stats:?}"
    );
    let logs = shared.logs();
    let (newest, _) = logs.newest(&LogQuery::default());
    assert!(
        newest[0].body.starts_with("1023"),
        "{:?}",
        &newest[0].body[..4]
    );
}

#[test]
fn series_beyond_the_limit_are_counted_as_dropped_and_the_kept_ones_still_update() {
    let shared = Shared::new(Limits {
        max_series: 10,
        ..Limits::default()
    });
    let export = |request| {
        receiver::Sink::export_metrics(
            &shared,
            receiver::Transport::HttpProtobuf,
            &HeaderMap::new(),
            request,
        )
        .expect("accepted")
    };
    // 15 series where there is room for 10; then every total again, doubled; then a new metric.
    export(counter_request("fib.calls", (0..15).map(|i| (i, i))));
    export(counter_request("fib.calls", (0..15).map(|i| (i, 2 * i))));
    export(counter_request("fib.errors", [(0, 1)]));
    let stats = shared.stats();
    assert_eq!(
        (
            stats.series,
            stats.metric_points_received,
            stats.dropped_metric_points
        ),
        (10, 31, 11),
        "{stats:?}"
    );
    let metrics = shared.metrics();
    let kept: Vec<(String, serde_json::Value)> = metrics
        .iter()
        .flat_map(|metric| {
            metric
                .series
                .values()
                .map(|series| (metric.info.name.to_string(), series.to_json()))
        })
        .map(|(name, series)| (name, series["value"].clone()))
        .collect();
    let expected: Vec<(String, serde_json::Value)> = (0..10)
        .map(|i| ("fib.calls".to_string(), serde_json::json!(2 * i)))
        .collect();
    assert_eq!(
        kept, expected,
        "the first ten series, at their latest totals, in index order"
    );
}
