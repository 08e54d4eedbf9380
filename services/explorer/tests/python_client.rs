//! A third-party OTLP client's spans arrive and can be queried: the OpenTelemetry **Python** SDK
//! (`tests/python/otlp_client.py`) sends one trace over gRPC, HTTP/protobuf and HTTP/JSON, and
//! each test reads it back from the explorer's JSON API over real HTTP, as `curl` would.
//!
//! Run with:
//!
//! ```text
//! python3 -m venv /tmp/otel-py
//! /tmp/otel-py/bin/pip install -r services/explorer/tests/python/requirements.txt
//! OTEL_PYTHON=/tmp/otel-py/bin/python cargo test -p explorer --test python_client
//! ```
//!
//! The interpreter is `OTEL_PYTHON`, else `python3`. Without the SDK the tests print
//! `skipped: …` and pass, except in CI (`CI=true`), where they fail; `.ci/run` installs it.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use explorer::{Explorer, Settings};
use serde_json::Value as Json;
use tokio::process::Command;

/// The spans in the trace: the root "checkout" and four "step"s, the last of which fails.
const SPANS: usize = 5;
/// For the Python process, interpreter start and gRPC's import included.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);
/// For the spans to show in the API once the client has exited (they are normally there).
const ARRIVAL_TIMEOUT: Duration = Duration::from_secs(10);

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/otlp_client.py");
/// What the script needs; checked first, so that a missing SDK reads as such.
const IMPORTS: &str = "import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.grpc, \
     opentelemetry.exporter.otlp.proto.http";
/// How to get what the tests need (`.ci/run` does the same in `target/ci-python`).
const INSTALL: &str = "python3 -m venv /tmp/otel-py && /tmp/otel-py/bin/pip install -r \
     services/explorer/tests/python/requirements.txt, then set OTEL_PYTHON=/tmp/otel-py/bin/python";

#[derive(Clone, Copy, Debug)]
enum Protocol {
    Grpc,
    HttpProtobuf,
    HttpJson,
}

impl Protocol {
    /// The script's `--protocol`, as `OTEL_EXPORTER_OTLP_PROTOCOL` spells it.
    fn flag(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::HttpJson => "http/json",
        }
    }

    /// Its counter in `/api/stats`' `exports`.
    fn counter(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http_protobuf",
            Protocol::HttpJson => "http_json",
        }
    }

    fn endpoint(self, explorer: &Explorer) -> String {
        match self {
            Protocol::Grpc => explorer.grpc_endpoint(),
            Protocol::HttpProtobuf | Protocol::HttpJson => explorer.http_endpoint(),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn python_sdk_spans_over_grpc_arrive_and_are_queryable() {
    python_client_round_trip(Protocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn python_sdk_spans_over_http_protobuf_arrive_and_are_queryable() {
    python_client_round_trip(Protocol::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn python_sdk_spans_over_http_json_arrive_and_are_queryable() {
    python_client_round_trip(Protocol::HttpJson).await;
}

async fn python_client_round_trip(protocol: Protocol) {
    let python = python();
    if let Err(reason) = python_can_export(&python).await {
        if testkit::in_ci() {
            panic!("{reason}\n  CI needs it: {INSTALL}");
        }
        eprintln!("skipped: {reason}\n  to run this test: {INSTALL}");
        return;
    }
    let explorer = Explorer::start(&Settings::loopback()).await.unwrap();
    let run_id = run_id(protocol);

    let started = Instant::now();
    let sent = run_client(&python, protocol, &protocol.endpoint(&explorer), &run_id).await;
    let client_took = started.elapsed();

    // The trace list, polled until the whole trace is there.
    let filter = format!("run.id = {run_id}");
    let list_path = format!("/api/traces?{}", query(&[("where", &filter)]));
    let started = Instant::now();
    let (traces, requests) = poll(&explorer, &list_path, |traces| {
        traces[0]["span_count"].as_u64() == Some(SPANS as u64)
    })
    .await;
    eprintln!(
        "{}: the Python client ran {client_took:.2?} (exported {SPANS} spans, flushed, exited); \
         the API listed the whole trace at request {requests}, {:.2?} later",
        protocol.flag(),
        started.elapsed()
    );
    let traces = traces.as_array().unwrap();
    assert_eq!(traces.len(), 1, "one trace for {filter}: {traces:#?}");
    let summary = &traces[0];
    assert_eq!(summary["trace_id"], sent.trace_id, "{summary:#}");
    assert_eq!(summary["root_name"], "checkout", "{summary:#}");
    assert_eq!(summary["root_found"], true, "{summary:#}");
    assert_eq!(summary["service"], "python-client", "{summary:#}");
    assert_eq!(summary["span_count"], SPANS, "{summary:#}");
    assert_eq!(summary["error_count"], 1, "{summary:#}");

    // COUNT by name: the root and the steps, every span selected through `run.id` (the root's
    // own attribute, the steps' resource).
    let result = get(
        &explorer,
        &format!(
            "/api/query?{}",
            query(&[
                ("visualize", "COUNT"),
                ("where", &filter),
                ("group_by", "name")
            ])
        ),
    )
    .await;
    assert_eq!(
        counts_by_group(&result),
        BTreeMap::from([("checkout".to_string(), 1), ("step".to_string(), SPANS - 1)]),
        "{result:#}"
    );
    assert_eq!(result["matched"], SPANS, "{result:#}");

    // The trace itself: resource, kinds, typed attributes, the error and its exception event.
    let trace = get(&explorer, &format!("/api/traces/{}", sent.trace_id)).await;
    let spans = trace["spans"].as_array().unwrap();
    assert_eq!(spans.len(), SPANS, "{trace:#}");
    for span in spans {
        assert_eq!(span["trace_id"], sent.trace_id, "{span:#}");
        assert_eq!(
            span["resource"]["service.name"], "python-client",
            "{span:#}"
        );
        assert_eq!(span["resource"]["run.id"], run_id.as_str(), "{span:#}");
        assert_eq!(
            span["resource"]["telemetry.sdk.language"], "python",
            "{span:#}"
        );
        assert_eq!(span["scope"]["name"], "otlp_client.py", "{span:#}");
    }
    let root = single(spans, |span| span["parent_span_id"].is_null());
    assert_eq!(root["span_id"], sent.root_span_id, "{root:#}");
    assert_eq!(root["name"], "checkout", "{root:#}");
    assert_eq!(root["kind"], "server", "{root:#}");
    assert_eq!(root["attributes"]["run.id"], run_id.as_str(), "{root:#}");
    assert_eq!(root["attributes"]["http.request.method"], "GET", "{root:#}");
    assert_eq!(root["status"]["code"], "unset", "{root:#}");

    let steps: Vec<&Json> = spans.iter().filter(|span| span["name"] == "step").collect();
    assert_eq!(steps.len(), SPANS - 1, "{trace:#}");
    let mut indexes = Vec::new();
    for step in &steps {
        assert_eq!(step["kind"], "internal", "{step:#}");
        assert_eq!(step["parent_span_id"], sent.root_span_id, "{step:#}");
        // An integer, not "0" or 0.0: the SDK's int attribute kept its type through each encoding.
        let index = &step["attributes"]["step.index"];
        assert!(index.is_i64(), "step.index is an integer: {step:#}");
        indexes.push(index.as_i64().unwrap());
    }
    indexes.sort_unstable();
    assert_eq!(indexes, (0..SPANS as i64 - 1).collect::<Vec<_>>());

    let failed = single(spans, |span| span["status"]["code"] == "error");
    let last = SPANS as i64 - 2;
    assert_eq!(failed["attributes"]["step.index"], last, "{failed:#}");
    assert_eq!(
        failed["status"]["message"],
        format!("step {last} failed on purpose"),
        "{failed:#}"
    );
    let exception = single(failed["events"].as_array().unwrap(), |event| {
        event["name"] == "exception"
    });
    assert_eq!(
        exception["attributes"]["exception.type"], "ValueError",
        "{exception:#}"
    );
    assert_eq!(
        exception["attributes"]["exception.message"],
        format!("step {last} failed on purpose"),
        "{exception:#}"
    );
    assert!(
        exception["attributes"]["exception.stacktrace"]
            .as_str()
            .is_some_and(|trace| trace.contains("Traceback")),
        "{exception:#}"
    );

    // Counted under the transport used, and nothing refused.
    let stats = get(&explorer, "/api/stats").await;
    for other in [Protocol::Grpc, Protocol::HttpProtobuf, Protocol::HttpJson] {
        let count = stats["exports"][other.counter()].as_u64().unwrap();
        if other.counter() == protocol.counter() {
            assert!(count >= 1, "{} exports counted: {stats:#}", other.counter());
        } else {
            assert_eq!(count, 0, "no {} exports: {stats:#}", other.counter());
        }
    }
    assert_eq!(stats["rejected"], 0, "{stats:#}");
    assert_eq!(stats["spans"], SPANS, "{stats:#}");
}

/// What the script printed: the ids as the Python SDK made them.
struct Sent {
    trace_id: String,
    root_span_id: String,
}

fn python() -> String {
    std::env::var("OTEL_PYTHON")
        .ok()
        .filter(|python| !python.trim().is_empty())
        .unwrap_or_else(|| "python3".to_string())
}

/// `Err(why)` when `python` cannot run, or cannot import the SDK and its OTLP exporters.
async fn python_can_export(python: &str) -> Result<(), String> {
    let output = Command::new(python)
        .args(["-c", IMPORTS])
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|err| format!("cannot run the Python interpreter {python:?}: {err}"))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    Err(format!(
        "{python} cannot import the OpenTelemetry SDK and its OTLP exporters ({})",
        stderr.lines().last().unwrap_or("no message").trim()
    ))
}

/// Distinct per test and per run, so that a filter on it finds this test's trace only.
fn run_id(protocol: Protocol) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("py-{}-{}-{nanos}", protocol.counter(), std::process::id())
}

/// Runs the script to its end (within [`CLIENT_TIMEOUT`]) and asserts that it exported every
/// span.
async fn run_client(python: &str, protocol: Protocol, endpoint: &str, run_id: &str) -> Sent {
    let child = Command::new(python)
        .arg(SCRIPT)
        .args(["--protocol", protocol.flag(), "--endpoint", endpoint])
        .args(["--run-id", run_id, "--spans", &SPANS.to_string()])
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(CLIENT_TIMEOUT, child)
        .await
        .unwrap_or_else(|_| panic!("{SCRIPT} did not finish within {CLIENT_TIMEOUT:?}"))
        .unwrap_or_else(|err| panic!("cannot run {python} {SCRIPT}: {err}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the Python client failed over {} ({}):\n--- stderr\n{stderr}\n--- stdout\n{stdout}",
        protocol.flag(),
        output.status
    );
    let printed: Json = stdout
        .lines()
        .last()
        .and_then(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| panic!("the client's last line is its JSON summary: {stdout}"));
    let id = |key: &str| printed[key].as_str().unwrap().to_string();
    Sent {
        trace_id: id("trace_id"),
        root_span_id: id("root_span_id"),
    }
}

/// A query string, each value URL-encoded.
fn query(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// `GET path` from the explorer's API: a 200 with JSON, else a panic with the answer.
async fn get(explorer: &Explorer, path: &str) -> Json {
    let url = format!("{}{path}", explorer.url());
    let response = reqwest::get(&url)
        .await
        .unwrap_or_else(|err| panic!("GET {url}: {err}"));
    let status = response.status();
    let body = response.text().await.expect("a body");
    assert!(status.is_success(), "GET {url}: {status} {body}");
    serde_json::from_str(&body).unwrap_or_else(|err| panic!("GET {url}: not JSON ({err}): {body}"))
}

/// GETs `path` until `ready` holds for a non-empty array answer, or [`ARRIVAL_TIMEOUT`] passes;
/// returns the last answer either way, for the assertions to show, and how many GETs it took.
async fn poll(explorer: &Explorer, path: &str, ready: impl Fn(&[Json]) -> bool) -> (Json, u32) {
    let deadline = Instant::now() + ARRIVAL_TIMEOUT;
    let mut requests = 0;
    loop {
        let answer = get(explorer, path).await;
        requests += 1;
        let arrived = answer
            .as_array()
            .is_some_and(|items| !items.is_empty() && ready(items));
        if arrived || Instant::now() > deadline {
            return (answer, requests);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A GROUP BY on one field: each group's value, as text, and its COUNT.
fn counts_by_group(result: &Json) -> BTreeMap<String, usize> {
    result["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let group = match &row["group"][0] {
                Json::String(text) => text.clone(),
                other => other.to_string(),
            };
            (group, row["count"].as_u64().unwrap() as usize)
        })
        .collect()
}

/// The one item `matches` picks; a panic with all of them if there are none or several.
fn single(items: &[Json], matches: impl Fn(&Json) -> bool) -> &Json {
    let found: Vec<&Json> = items.iter().filter(|item| matches(item)).collect();
    assert_eq!(found.len(), 1, "exactly one: {items:#?}");
    found[0]
}
