//! The deck's questions, asked of a real explorer the way the deck asks them: ORDER BY and HAVING
//! on groups, a group lit up in the heatmap, a selection of the slow dots with its slowest traces,
//! and the selection compared with the rest (BubbleUp). `cargo test -p explorer --test deck`.
//!
//! The spans are planted, so that every answer is known: 300 requests shaped like the workshop
//! app's, sent by the Rust SDK's OTLP/HTTP protobuf exporter to an explorer on loopback. Request
//! `i` asks for index `i % 30 + 1`: a `GET /fib` server span (with `url.query` = `index=N`) that
//! lasts `10 × N` ms, and under it a `fib` span (with `fib.index` = N) 1 ms shorter; each with a
//! user agent that has nothing to do with the index. They started one a second, over the last
//! five minutes.

use std::time::{Duration, Instant, SystemTime};

use explorer::{Explorer, Settings};
use opentelemetry::trace::{SpanKind, TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::Value;

const REQUESTS: u64 = 300;
const INDEXES: u64 = 30;

fn index_of(request: u64) -> u64 {
    request % INDEXES + 1
}

/// Sends the planted requests and waits until the explorer holds all their spans.
async fn planted_explorer() -> Explorer {
    let explorer = Explorer::start(&Settings::loopback()).await.unwrap();
    let endpoint = explorer.http_endpoint();
    tokio::task::spawn_blocking(move || send(&endpoint))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while explorer.shared.stats().spans < 2 * REQUESTS as usize && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(explorer.shared.stats().spans, 2 * REQUESTS as usize);
    explorer
}

fn send(endpoint: &str) {
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{endpoint}/v1/traces"))
        .build()
        .expect("an OTLP/HTTP exporter");
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("fib").build())
        .build();
    let tracer = provider.tracer("explorer-deck-test");
    let first = SystemTime::now() - Duration::from_secs(REQUESTS + 5);
    for request in 0..REQUESTS {
        let index = index_of(request);
        let start = first + Duration::from_secs(request);
        let lasts = Duration::from_millis(10 * index);
        let agent = ["curl/8.5", "Firefox/133", "Chromium/131"][(request / INDEXES % 3) as usize];
        let server = tracer
            .span_builder("GET /fib")
            .with_kind(SpanKind::Server)
            .with_start_time(start)
            .with_attributes([
                KeyValue::new("url.query", format!("index={index}")),
                KeyValue::new("user_agent.original", agent),
            ])
            .start_with_context(&tracer, &Context::new());
        let server = Context::new().with_span(server);
        let mut fib = tracer
            .span_builder("fib")
            .with_kind(SpanKind::Internal)
            .with_start_time(start + Duration::from_micros(500))
            .with_attributes([
                KeyValue::new("fib.index", index as i64),
                KeyValue::new("user_agent.original", agent),
            ])
            .start_with_context(&tracer, &server);
        opentelemetry::trace::Span::end_with_timestamp(
            &mut fib,
            start + lasts - Duration::from_micros(500),
        );
        server.span().end_with_timestamp(start + lasts);
    }
    provider
        .shutdown()
        .expect("the provider's shutdown, which exports");
}

async fn get(explorer: &Explorer, path: &str, pairs: &[(&str, &str)]) -> (u16, String) {
    let query = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let url = format!("{}{path}?{query}", explorer.url());
    let response = reqwest::get(&url).await.expect("the explorer answers");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn api(explorer: &Explorer, pairs: &[(&str, &str)]) -> Value {
    let (status, text) = get(explorer, "/api/query", pairs).await;
    assert_eq!(status, 200, "{pairs:?}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// Each row's first group value and its values.
fn rows(result: &Value) -> Vec<(Value, Vec<Value>)> {
    result["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["group"][0].clone(),
                row["values"].as_array().unwrap().clone(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn order_by_and_having_answer_which_indexes_are_slowest() {
    let explorer = planted_explorer().await;
    // The deck's query: the slowest groups first, only those with enough requests.
    let result = api(
        &explorer,
        &[
            ("visualize", "COUNT"),
            ("visualize", "P99(duration)"),
            ("where", "is_root"),
            ("group_by", "url.query"),
            ("order_by", "P99(duration) desc"),
            ("having", "COUNT >= 10"),
            ("limit", "3"),
        ],
    )
    .await;
    assert_eq!(
        rows(&result),
        [30, 29, 28].map(|n| (
            Value::from(format!("index={n}")),
            vec![Value::from(10.0), Value::from(10.0 * n as f64)]
        ))
    );
    assert_eq!(result["more_rows"], 27);
    assert_eq!(result["order_by"][0], "P99(duration) desc");
    // HAVING on a duration, ORDER BY a group field ascending.
    let result = api(
        &explorer,
        &[
            ("visualize", "MAX(duration)"),
            ("where", "name = fib"),
            ("group_by", "fib.index"),
            ("order_by", "fib.index asc"),
            ("having", "P99(duration) > 255ms"),
        ],
    )
    .await;
    let groups: Vec<Value> = rows(&result).into_iter().map(|(group, _)| group).collect();
    assert_eq!(groups, (26..=30).map(Value::from).collect::<Vec<_>>());
    assert_eq!(result["having"][0], "P99(duration) > 255ms");

    // Mistakes: a 400 whose message shows the form.
    for (pairs, says) in [
        (
            vec![("group_by", "url.query"), ("order_by", "P99(duration)")],
            "P99(duration) is not visualized: add it to VISUALIZE",
        ),
        (vec![("having", "P99 > slow")], "not a duration"),
        (vec![("select_min", "fast")], "not a duration"),
    ] {
        let (status, text) = get(&explorer, "/api/query", &pairs).await;
        assert_eq!(status, 400, "{pairs:?}: {text}");
        let error: Value = serde_json::from_str(&text).unwrap();
        assert!(error["error"].as_str().unwrap().contains(says), "{text}");
        // The page says the same, in its form.
        let (status, html) = get(&explorer, "/query", &pairs).await;
        assert_eq!(status, 400);
        assert!(html.contains("id=\"error\""), "{html}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_knows_its_cells_and_a_selection_is_explained() {
    let explorer = planted_explorer().await;
    let pairs = [
        ("visualize", "HEATMAP(duration)"),
        ("visualize", "COUNT"),
        ("where", "name = fib"),
        ("group_by", "fib.index"),
        ("select_min", "200ms"),
    ];
    let result = api(&explorer, &pairs).await;
    // Each group's cells add up to its count, and all of them to the heatmap.
    let heatmap = &result["heatmap"];
    let mut total = 0;
    for row in result["rows"].as_array().unwrap() {
        let cells = row["heatmap_cells"].as_array().unwrap();
        let sum: u64 = cells.iter().map(|cell| cell[2].as_u64().unwrap()).sum();
        assert_eq!(sum, row["count"].as_u64().unwrap());
        // Index N's spans all last alike: one row of the heatmap.
        let heights: std::collections::BTreeSet<u64> =
            cells.iter().map(|cell| cell[0].as_u64().unwrap()).collect();
        assert_eq!(heights.len(), 1, "{row}");
        total += sum;
    }
    let counted: u64 = heatmap["counts"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row.as_array().unwrap())
        .map(|count| count.as_u64().unwrap())
        .sum();
    assert_eq!((total, counted), (REQUESTS, REQUESTS));

    // Slower than 200 ms: the `fib` spans of indexes 21 to 30 (index 20's lasts 199 ms).
    let selection = &result["selection"];
    assert_eq!(
        (selection["inside"].as_u64(), selection["outside"].as_u64()),
        (Some(100), Some(200))
    );
    let fields = selection["fields"].as_array().unwrap();
    assert_eq!(fields[0]["field"], "fib.index", "{selection}");
    assert!(fields[0]["score"].as_f64().unwrap() > 0.999, "{selection}");
    let agent = fields
        .iter()
        .find(|field| field["field"] == "user_agent.original")
        .unwrap();
    assert!(agent["score"].as_f64().unwrap() < 0.01, "{agent}");
    for value in fields[0]["values"].as_array().unwrap() {
        let index = value["value"].as_i64().unwrap();
        assert_eq!(value["filter"], format!("fib.index = {index}"));
        assert_eq!(
            value["inside"].as_f64().unwrap() > 0.0,
            index > 20,
            "{value}"
        );
    }
    // Its slowest traces: index 30's ten requests.
    let slowest = selection["slowest"].as_array().unwrap();
    assert_eq!(slowest.len(), 10);
    for slow in slowest {
        assert_eq!(slow["span_name"], "fib");
        assert_eq!(slow["span_duration_ms"], 299.0);
        assert_eq!(slow["trace"]["root_name"], "GET /fib");
    }

    // The page: the hover's cells, the selection drawn, the slowest traces and the comparison,
    // and a policy that lets only the explorer's own script run.
    let url = format!(
        "{}/query?{}",
        explorer.url(),
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    );
    let response = reqwest::get(&url).await.unwrap();
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    let html = response.text().await.unwrap();
    for part in [
        "class=\"group-cells\" data-group=\"29\"",
        "<tr data-group=\"0\">",
        "id=\"selected\"",
        "class=\"slow-trace\" href=\"/trace/",
        "<th class=\"field\" rowspan=\"6\">fib.index</th>",
        "100 of 300 spans selected.",
        "<script src=\"/static/query.js\"></script>",
        "value=\"200ms\"",
    ] {
        assert!(html.contains(part), "{part} not in the page");
    }
    let (status, script) = get(&explorer, "/static/query.js", &[]).await;
    assert_eq!(status, 200);
    assert!(script.contains("select_min"));
}
