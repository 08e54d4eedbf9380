//! The window's bounds hold when ten times the window is sent, over real OTLP/HTTP from the
//! SDK's exporter: `cargo test -p explorer --test window`.

use std::time::{Duration, Instant};

use explorer::{Explorer, Settings};
use opentelemetry::KeyValue;
use opentelemetry::trace::{Span, Tracer, TracerProvider};
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
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
