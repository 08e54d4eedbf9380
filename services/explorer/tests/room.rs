//! The classroom, on loopback: a joined learner's explorer forwards a copy of what it receives to
//! the room (with `learner.name`, the room's code, and none of the app's own headers); the room
//! keeps a fair share of its window per learner, so that one learner flooding it drops only
//! their own spans (and the stats say whose); the Room page and `/api/room` show each learner,
//! escaped, under a policy that runs no script but the page's own. `cargo test -p explorer
//! --test room`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use explorer::{Explorer, Settings};
use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_otlp::{SpanExporter, WithExportConfig, WithHttpConfig};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValueKind;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource as ProtoResource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use prost::Message as _;
use receiver::Receiver;
use receiver::room::{CODE_HEADER, LEARNER_NAME, Verdict};
use serde_json::Value as Json;

const CODE: &str = "KQFZRM";
const ARRIVE_WITHIN: Duration = Duration::from_secs(10);

async fn room(max_spans: u64) -> Explorer {
    let settings = Settings {
        require_code: Some(CODE.into()),
        max_spans,
        ..Settings::loopback()
    };
    Explorer::start(&settings).await.unwrap()
}

/// A joined learner's explorer: it forwards to `room_url` as `name`.
async fn learner_explorer(room_url: &str, name: &str) -> Explorer {
    let settings = Settings {
        room_url: Some(room_url.into()),
        room_code: Some(CODE.into()),
        learner_name: Some(name.into()),
        ..Settings::loopback()
    };
    Explorer::start(&settings).await.unwrap()
}

fn text(value: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(AnyValueKind::StringValue(value.into())),
    })
}

/// `traces` traces of `spans` spans each (the first the root), under a resource naming
/// `learner`; trace ids start at `first`.
fn traces(learner: Option<&str>, first: u32, traces: u32, spans: u32) -> ExportTraceServiceRequest {
    let mut attributes = vec![KeyValue {
        key: "service.name".into(),
        value: text("fib"),
        ..KeyValue::default()
    }];
    if let Some(learner) = learner {
        attributes.push(KeyValue {
            key: LEARNER_NAME.into(),
            value: text(learner),
            ..KeyValue::default()
        });
    }
    let spans = (first..first + traces)
        .flat_map(|trace| {
            (0..spans).map(move |span| Span {
                trace_id: trace_id(trace).to_vec(),
                span_id: (u64::from(span) + 1).to_be_bytes().to_vec(),
                parent_span_id: if span == 0 {
                    Vec::new()
                } else {
                    1_u64.to_be_bytes().to_vec()
                },
                name: "GET /fib".into(),
                start_time_unix_nano: 1_000,
                end_time_unix_nano: 2_000,
                ..Span::default()
            })
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(ProtoResource {
                attributes,
                ..ProtoResource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

fn trace_id(trace: u32) -> [u8; 16] {
    let mut id = [0xab; 16];
    id[12..].copy_from_slice(&trace.to_be_bytes());
    id
}

fn hex(id: [u8; 16]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

async fn post(explorer: &Explorer, path: &str, body: Vec<u8>) -> u16 {
    reqwest::Client::new()
        .post(format!("{}{path}", explorer.http_endpoint()))
        .header("content-type", "application/x-protobuf")
        .header(CODE_HEADER, CODE)
        .body(body)
        .send()
        .await
        .expect("the POST")
        .status()
        .as_u16()
}

async fn get(explorer: &Explorer, path: &str) -> reqwest::Response {
    let response = reqwest::get(format!("{}{path}", explorer.url()))
        .await
        .expect("the GET");
    assert_eq!(response.status().as_u16(), 200, "GET {path}");
    response
}

async fn api(explorer: &Explorer, path: &str) -> Json {
    serde_json::from_str(&get(explorer, path).await.text().await.unwrap()).unwrap()
}

/// Waits until `ready` holds of the explorer's board.
async fn wait_for_board(explorer: &Explorer, ready: impl Fn(&explorer::room::Board) -> bool) {
    let deadline = Instant::now() + ARRIVE_WITHIN;
    loop {
        let board = explorer.shared.board();
        if ready(&board) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the board never got there: {board:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The app exports one span with an API key for a hosted backend to the learner's explorer; the
/// room (a receiver, which keeps the headers it got) gets a copy with the learner's name and
/// the room's code, and not the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_learners_explorer_forwards_a_named_copy_with_the_code_and_none_of_the_apps_headers() {
    let room = Receiver::start().await.unwrap();
    let local = learner_explorer(&room.http_endpoint(), "ada").await;
    let exporter = SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/traces", local.http_endpoint()))
        .with_headers(HashMap::from([(
            "x-honeycomb-team".to_string(),
            "secret-api-key".to_string(),
        )]))
        .build()
        .unwrap();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("fib").build())
        .build();
    tokio::task::spawn_blocking(move || {
        provider.tracer("test").in_span("GET /fib", |_| {});
        provider.shutdown().unwrap();
    })
    .await
    .unwrap();

    let spans = room.wait_for_spans(1, ARRIVE_WITHIN).await;
    assert_eq!(spans.len(), 1, "{spans:?}");
    assert_eq!(
        spans[0]
            .resource_attribute(LEARNER_NAME)
            .and_then(|v| v.as_str()),
        Some("ada")
    );
    assert_eq!(spans[0].service_name(), Some("fib"));
    let request = &room.requests()[0];
    assert_eq!(request.header(CODE_HEADER), Some(CODE));
    assert_eq!(
        request.header("x-honeycomb-team"),
        None,
        "the app's key stays home"
    );
    // The learner's own explorer keeps its copy, and says where the other went (once the
    // room's answer is in: the room has the span a moment before its sender counts it sent).
    assert_eq!(local.shared.stats().spans, 1);
    let deadline = Instant::now() + ARRIVE_WITHIN;
    let forward = loop {
        let forward = local.shared.stats().forward.unwrap();
        if forward.sent > 0 || Instant::now() > deadline {
            break forward;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!((forward.sent, forward.failed), (1, 0), "{forward:?}");
    let page = get(&local, "/").await.text().await.unwrap();
    assert!(page.contains("copied to the room at"), "{page}");
}

/// Forwarded to a real room's explorer, the learner has a row there with their spans and traces.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_spans_make_the_learners_row_in_the_room() {
    let room = room(10_000).await;
    let local = learner_explorer(&room.http_endpoint(), "ada").await;
    assert_eq!(
        post(&local, "/v1/traces", traces(None, 1, 3, 4).encode_to_vec()).await,
        200
    );
    wait_for_board(&room, |board| {
        board
            .learners
            .first()
            .is_some_and(|row| row.spans_received == 12)
    })
    .await;
    let board = room.shared.board();
    assert_eq!(board.learners[0].name, "ada");
    assert_eq!(board.learners[0].traces_received, 3);
    assert!(board.learners[0].last_seen_unix_nano > 0);
    // Filtered to ada, the room's trace list has her three traces.
    let listed = api(&room, "/api/traces?where=learner.name%20%3D%20ada").await;
    assert_eq!(listed.as_array().unwrap().len(), 3, "{listed}");
}

/// A room that does not answer: the learner's explorer keeps everything, counts the failure and
/// says why on its line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_that_does_not_answer_costs_the_learner_nothing() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let local = learner_explorer(&format!("http://127.0.0.1:{port}"), "ada").await;
    assert_eq!(
        post(&local, "/v1/traces", traces(None, 1, 2, 3).encode_to_vec()).await,
        200
    );
    let deadline = Instant::now() + ARRIVE_WITHIN;
    while local.shared.stats().forward.unwrap().failed == 0 {
        assert!(Instant::now() < deadline, "{:?}", local.shared.stats());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stats = local.shared.stats();
    assert_eq!(stats.spans, 6);
    let forward = stats.forward.unwrap();
    assert_eq!(forward.last_error.as_deref(), Some("nothing answers there"));
    let page = get(&local, "/").await.text().await.unwrap();
    assert!(page.contains("nothing answers there"), "{page}");
}

/// Two learners within their part of a 1 000-span window, and a third sending ten times that:
/// only the third's oldest spans are dropped, and the stats line says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_learner_flooding_the_room_leaves_the_others_traces_in_place() {
    let room = room(1_000).await;
    for (learner, first) in [("ada", 1), ("bob", 1_000)] {
        let body = traces(Some(learner), first, 20, 10).encode_to_vec();
        assert_eq!(post(&room, "/v1/traces", body).await, 200);
    }
    for batch in 0..100 {
        let body = traces(Some("eve"), 10_000 + batch * 10, 10, 10).encode_to_vec();
        assert_eq!(post(&room, "/v1/traces", body).await, 200);
    }
    let stats = room.shared.stats();
    assert_eq!(stats.spans, 1_000);
    assert_eq!(stats.dropped_spans, 10_000 + 400 - 1_000);
    assert_eq!(stats.dropped_by_learner.len(), 1, "{stats:?}");
    assert_eq!(stats.dropped_by_learner[0].learner, "eve");
    for trace in (1..21).chain(1_000..1_020) {
        let spans = api(&room, &format!("/api/traces/{}", hex(trace_id(trace)))).await;
        assert_eq!(
            spans["spans"].as_array().map(Vec::len),
            Some(10),
            "{trace}: {spans}"
        );
    }
    let page = get(&room, "/").await.text().await.unwrap();
    assert!(page.contains("eve 9400"), "{page}");
    let board = api(&room, "/api/room").await;
    let eve = board["learners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["name"] == "eve")
        .unwrap();
    assert_eq!(eve["spans_dropped"], 9_400);
    assert_eq!(eve["spans_kept"], 600);
}

/// What learners send is shown as text: a name and an expectation made of markup are escaped,
/// and the page allows no script but its own file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_room_page_shows_learners_text_as_text_and_runs_no_script_of_theirs() {
    let room = room(1_000).await;
    let name = "<img src=x onerror=alert(1)>";
    let verdict = Verdict {
        step: 3,
        passed: false,
        score: "1 of 3".into(),
        expectation: Some("<script>alert(2)</script>".into()),
        hint: Some("The sub-requests start new traces.".into()),
    };
    assert_eq!(
        post(
            &room,
            "/v1/logs",
            verdict.to_request(name, 1).encode_to_vec()
        )
        .await,
        200
    );
    let response = get(&room, "/room").await;
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    let page = response.text().await.unwrap();
    assert!(
        page.contains("&#60;img src=x onerror=alert(1)&#62;"),
        "{page}"
    );
    assert!(!page.contains("<img src=x"), "{page}");
    assert!(!page.contains("<script>alert"), "{page}");
    assert!(page.contains("1 stuck on step 03"), "{page}");
    assert!(
        page.contains("The sub-requests start new traces."),
        "{page}"
    );
    // The board alone, as the page fetches it to refresh.
    let board = get(&room, "/room/board").await.text().await.unwrap();
    assert!(board.contains("id=\"learners\""), "{board}");
    assert!(!board.contains("<html"), "a fragment: {board}");
    let script = get(&room, "/static/room.js").await.text().await.unwrap();
    assert!(script.contains("/room/board"), "{script}");
}
