//! Counts on the pages take the noun's number: one span of one trace reads "1 span in 1 trace",
//! not "1 spans in 1 traces": `cargo test -p explorer --test counts`.

use std::time::{Duration, Instant};

use explorer::{Explorer, Settings};
use opentelemetry::trace::{TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;

/// Long enough for a loaded CI machine; the span is normally there when `shutdown` returns.
const ARRIVE_WITHIN: Duration = Duration::from_secs(10);

/// One span, alone in its trace, over OTLP/HTTP; gives the trace's id. Blocking: run it in
/// `spawn_blocking`, so that the explorer, on the same runtime, answers.
fn send_one_span(traces_url: String) -> String {
    let exporter = SpanExporter::builder()
        .with_http()
        .with_endpoint(traces_url)
        .build()
        .expect("an OTLP/HTTP span exporter");
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("fib").build())
        .build();
    let trace_id = provider.tracer("explorer-tests").in_span("GET /fib", |cx| {
        cx.span().span_context().trace_id().to_string()
    });
    provider.shutdown().expect("the spans' shutdown");
    trace_id
}

async fn page(explorer: &Explorer, path: &str) -> String {
    let url = format!("{}{path}", explorer.url());
    let response = reqwest::get(&url)
        .await
        .unwrap_or_else(|err| panic!("GET {url}: {err}"));
    assert_eq!(response.status().as_u16(), 200, "GET {url}");
    response.text().await.expect("a body")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_span_of_one_trace_is_said_in_the_singular() {
    let explorer = Explorer::start(&Settings::loopback()).await.unwrap();
    let traces_url = format!("{}/v1/traces", explorer.http_endpoint());
    let trace_id = tokio::task::spawn_blocking(move || send_one_span(traces_url))
        .await
        .unwrap();
    let deadline = Instant::now() + ARRIVE_WITHIN;
    while explorer.shared.stats().spans < 1 {
        assert!(Instant::now() < deadline, "the span did not arrive");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let list = page(&explorer, "/").await;
    assert!(
        list.contains(r#"<span id="span-count">1</span> span in 1 trace"#),
        "{list}"
    );
    assert!(list.contains("0</span> log records"), "{list}");
    assert!(
        !list.contains("1 spans") && !list.contains("1 traces"),
        "{list}"
    );

    let trace = page(&explorer, &format!("/trace/{trace_id}")).await;
    assert!(
        trace.contains(r#"<span id="trace-span-count">1</span> span ("#),
        "{trace}"
    );
    assert!(trace.contains("0 errors"), "{trace}");

    let query = page(&explorer, "/query?visualize=COUNT").await;
    assert!(query.contains("1 of 1 span matched"), "{query}");
}
