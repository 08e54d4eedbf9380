//! Step 07's metrics and logs through the Collector: the metrics pipeline's Prometheus exporter
//! shows the app's histogram and counter with the resource's `service.name` as a label
//! (`resource_to_telemetry_conversion`), and the logs pipeline's `debug` exporter counts the app's
//! log records.

use std::time::{Duration, Instant};

/// What the Prometheus exporter serves, once it shows `wanted` (or after `within`).
async fn scrape_until(url: &str, within: Duration, wanted: &[&str]) -> String {
    let deadline = Instant::now() + within;
    loop {
        let text = match reqwest::get(url).await {
            Ok(response) => response.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if wanted.iter().all(|line| text.contains(line)) || Instant::now() >= deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_07_metrics_reach_prometheus_and_its_logs_the_debug_exporter() {
    let programs = stack_tests::programs_or_skip!();
    let stack = stack_tests::start(programs, "none", |settings| settings);
    let binary = stack_tests::binary("solution-07-metrics-logs");
    let app = stack_tests::app(
        &binary,
        &stack.collector,
        "http/protobuf",
        &[("OTEL_METRIC_EXPORT_INTERVAL", "500")],
    )
    .await;
    for index in [3, 5, 5] {
        let expected = format!("{}\n", sequence::fib_iterative(index));
        assert_eq!(
            app.get(&format!("/fib?index={index}")).await,
            (200, expected)
        );
    }

    // The metrics, in Prometheus' text format: the request duration histogram (seconds, from
    // `http.server.request.duration` with unit `s`) and the counter of computations, each with
    // the app's service name as a label.
    let url = format!(
        "http://{}/metrics",
        stack.collector.address("exporters.prometheus")
    );
    let histogram = "http_server_request_duration_seconds_bucket{";
    let counter = "fib_calls_total{";
    let text = scrape_until(&url, Duration::from_secs(20), &[histogram, counter]).await;
    for name in [histogram, counter] {
        let lines: Vec<&str> = text.lines().filter(|line| line.starts_with(name)).collect();
        assert!(
            !lines.is_empty(),
            "no {name} in {url}:\n{text}\n{}",
            stack.output()
        );
        assert!(
            lines
                .iter()
                .all(|line| line.contains("service_name=\"fib\"")),
            "{name} without service_name=\"fib\": {lines:#?}"
        );
    }
    // Every request to /fib counted: the test's three, and their sub-requests.
    let counted: f64 = text
        .lines()
        .filter(|line| {
            line.starts_with("http_server_request_duration_seconds_count{")
                && line.contains("http_route=\"/fib\"")
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(
        counted >= 3.0,
        "{counted} requests to /fib counted:\n{text}"
    );

    // The log records: one line per batch from the debug exporter, on the Collector's output.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut records = 0;
    while records == 0 && Instant::now() < deadline {
        records =
            stack_tests::debug_counts(&stack.collector.process.output(), "Logs", "log records");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        records > 0,
        "no log records in the debug exporter's lines:\n{}",
        stack.output()
    );
}
