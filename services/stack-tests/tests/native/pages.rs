//! The Collector's own pages, as the original workshop showed them to the room: zpages
//! (`/debug/servicez`, `/debug/tracez`, `/debug/pipelinez`) and the health check, from
//! `collector/config.yaml`; and the Collector's own spans, which tracez lists and Jaeger keeps
//! under the service `collector`.

use std::time::Duration;

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url)
        .await
        .unwrap_or_else(|err| panic!("GET {url}: {err}"));
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zpages_and_the_health_check_answer() {
    let programs = stack_tests::programs_or_skip!();
    let stack = stack_tests::start(programs, "none", |settings| settings);
    let zpages = stack.collector.address("extensions.zpages");

    let (status, body) = get(&format!("http://{zpages}/debug/servicez")).await;
    assert_eq!(status, 200, "{body}");
    // The build it runs, with links to its pipelines and extensions.
    for shown in ["otelcol-kit", "0.161.0", "Pipelines", "Extensions"] {
        assert!(
            body.contains(shown),
            "servicez does not show {shown:?}:\n{body}"
        );
    }
    let (status, body) = get(&format!("http://{zpages}/debug/pipelinez")).await;
    assert_eq!(status, 200, "{body}");
    // The pipelines of collector/config.yaml, each with its components.
    for shown in [
        "traces",
        "metrics",
        "logs",
        "otlp_grpc/jaeger",
        "prometheus",
        "memory_limiter",
    ] {
        assert!(
            body.contains(shown),
            "pipelinez does not show {shown:?}:\n{body}"
        );
    }

    let health = stack.collector.address("extensions.health_check");
    let (status, body) = get(&format!("http://{health}/")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Server available"), "{body}");

    // A request's trace through the Collector: the Collector's own spans for it (receiving the
    // batch, exporting it) show on tracez, and reach Jaeger as the service `collector`.
    let binary = stack_tests::binary("solution-03-propagation");
    let app = stack_tests::app(&binary, &stack.collector, "http/protobuf", &[]).await;
    assert_eq!(app.get("/fib?index=3").await, (200, "2\n".to_string()));
    let own = stack_tests::wait_for_traces(
        &stack.jaeger.query_url(),
        "collector",
        Duration::from_secs(20),
        |traces| {
            traces
                .iter()
                .flat_map(|t| &t.spans)
                .any(|s| s.operation == "receiver/otlp/TraceDataReceived")
        },
    )
    .await;
    assert!(
        own.iter()
            .flat_map(|t| &t.spans)
            .any(|s| s.operation == "receiver/otlp/TraceDataReceived"),
        "no span of the Collector's own in Jaeger: {own:#?}\n{}",
        stack.output()
    );
    let (status, body) = get(&format!("http://{zpages}/debug/tracez")).await;
    assert_eq!(status, 200, "{body}");
    for shown in [
        "receiver/otlp/TraceDataReceived",
        "exporter/otlp_grpc/jaeger/traces",
    ] {
        assert!(
            body.contains(shown),
            "tracez does not show {shown:?}:\n{body}"
        );
    }
}
