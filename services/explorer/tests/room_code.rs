//! A room's explorer (`ROOM_CODE`): every OTLP export must carry the code in `x-room-code`, over
//! HTTP (all three signal paths) and gRPC, or is refused (401 / `UNAUTHENTICATED`) with a line
//! that says whether the code was missing or wrong, nothing of it kept, and counted in
//! `/api/stats` and on the pages. Without a code, exports need none: `cargo test -p explorer
//! --test room_code`.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use clap::Parser as _;
use explorer::window::{MISSING_CODE, WRONG_CODE};
use explorer::{Explorer, Settings};
use opentelemetry::trace::{Tracer as _, TracerProvider as _};
use opentelemetry_otlp::tonic_types::metadata::MetadataMap;
use opentelemetry_otlp::{SpanExporter, WithExportConfig, WithHttpConfig, WithTonicConfig};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanExporter as _};
use serde_json::Value as Json;

const CODE: &str = "blue-otter-42";
/// Long enough for a loaded CI machine; the span is normally there when `shutdown` returns.
const ARRIVE_WITHIN: Duration = Duration::from_secs(10);
const SIGNALS: [&str; 3] = ["/v1/traces", "/v1/metrics", "/v1/logs"];

async fn room(code: &str) -> Explorer {
    let settings = Settings {
        require_code: Some(code.to_string()),
        ..Settings::loopback()
    };
    Explorer::start(&settings).await.unwrap()
}

/// One span over `provider`, then its shutdown (which exports it). Blocking: run it in
/// `spawn_blocking`, so that the explorer, on the same runtime, answers.
fn send_one_span(provider: SdkTracerProvider) {
    provider
        .tracer("explorer-tests")
        .in_span("GET /fib", |_| {});
    // A refused export is the exporter's error, logged by the batch processor, not returned.
    let _ = provider.shutdown();
}

fn provider(exporter: SpanExporter) -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name("fib").build())
        .build()
}

fn http_exporter(explorer: &Explorer, code: Option<&str>) -> SpanExporter {
    let headers: HashMap<String, String> = code
        .map(|code| ("x-room-code".to_string(), code.to_string()))
        .into_iter()
        .collect();
    SpanExporter::builder()
        .with_http()
        .with_endpoint(format!("{}/v1/traces", explorer.http_endpoint()))
        .with_headers(headers)
        .build()
        .expect("an OTLP/HTTP span exporter")
}

/// Built inside the runtime: a gRPC exporter built outside one panics.
fn grpc_exporter(explorer: &Explorer, code: Option<&str>) -> SpanExporter {
    let mut metadata = MetadataMap::new();
    if let Some(code) = code {
        metadata.insert("x-room-code", code.parse().unwrap());
    }
    SpanExporter::builder()
        .with_tonic()
        .with_endpoint(explorer.grpc_endpoint())
        .with_metadata(metadata)
        .build()
        .expect("an OTLP/gRPC span exporter")
}

/// An empty OTLP/HTTP protobuf export (what `./run.sh join` probes the code with): its status,
/// content type and body.
async fn post_empty(explorer: &Explorer, path: &str, code: Option<&str>) -> (u16, String, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", explorer.http_endpoint()))
        .header("content-type", "application/x-protobuf");
    if let Some(code) = code {
        request = request.header("x-room-code", code);
    }
    let response = request.send().await.expect("the POST");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, content_type, response.text().await.unwrap())
}

async fn wait_for_spans(explorer: &Explorer, spans: usize) {
    let deadline = Instant::now() + ARRIVE_WITHIN;
    while explorer.shared.stats().spans < spans {
        assert!(
            Instant::now() < deadline,
            "expected {spans} spans: {:?}",
            explorer.shared.stats()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn get(explorer: &Explorer, path: &str) -> String {
    let response = reqwest::get(format!("{}{path}", explorer.url()))
        .await
        .expect("the GET");
    assert_eq!(response.status().as_u16(), 200, "GET {path}");
    response.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_exports_with_the_code_are_kept_and_others_refused_and_counted() {
    let explorer = room(CODE).await;

    // The SDK's exporter with the header: kept.
    let exporter = http_exporter(&explorer, Some(CODE));
    tokio::task::spawn_blocking(move || send_one_span(provider(exporter)))
        .await
        .unwrap();
    wait_for_spans(&explorer, 1).await;

    // The join probe: an empty protobuf export with the code, on every signal's path.
    for path in SIGNALS {
        let (status, content_type, _) = post_empty(&explorer, path, Some(CODE)).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(content_type, "application/x-protobuf", "{path}");
    }

    // Without the header, and with a wrong one: a code that differs only by case or by one
    // character is wrong too, and never echoed. (HTTP itself strips spaces around a header's
    // value, before the explorer sees it; the explorer trims nothing.)
    for path in SIGNALS {
        let (status, content_type, body) = post_empty(&explorer, path, None).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        assert_eq!(body, format!("{MISSING_CODE}\n"), "{path}");
    }
    for wrong in ["BLUE-OTTER-42", "blue-otter-4", "blue-otter-42-", "nope"] {
        let (status, content_type, body) = post_empty(&explorer, "/v1/traces", Some(wrong)).await;
        assert_eq!(status, 401, "{wrong:?}: {body}");
        assert!(content_type.starts_with("text/plain"), "{content_type}");
        assert_eq!(body, format!("{WRONG_CODE}\n"), "{wrong:?}");
        assert!(!body.contains(wrong), "{body}");
    }
    for path in ["/v1/metrics", "/v1/logs"] {
        let (status, _, body) = post_empty(&explorer, path, Some("nope")).await;
        assert_eq!((status, body), (401, format!("{WRONG_CODE}\n")), "{path}");
    }

    // The SDK's exporter without the code, and with a wrong one: nothing of theirs is kept.
    for code in [None, Some("nope")] {
        let exporter = http_exporter(&explorer, code);
        tokio::task::spawn_blocking(move || send_one_span(provider(exporter)))
            .await
            .unwrap();
    }
    let stats = explorer.shared.stats();
    assert_eq!(stats.spans, 1, "{stats:?}");
    assert_eq!(stats.refused_missing_code, 3 + 1, "{stats:?}");
    assert_eq!(stats.refused_wrong_code, 4 + 2 + 1, "{stats:?}");
    assert_eq!(stats.refused_requests, 4 + 7, "{stats:?}");
    // Not among the requests refused for their form.
    assert_eq!(stats.rejected, 0, "{stats:?}");

    let api: Json = serde_json::from_str(&get(&explorer, "/api/stats").await).unwrap();
    assert_eq!(api["refused_requests"], 11, "{api}");
    assert_eq!(api["refused_missing_code"], 4, "{api}");
    assert_eq!(api["refused_wrong_code"], 7, "{api}");
    // The pages stay open to anyone, and say so.
    let page = get(&explorer, "/").await;
    assert!(
        page.contains(r#"<span id="refused-room">11</span> refused (room code)"#),
        "{page}"
    );
    assert!(!page.contains("nope"), "{page}");
}

/// A gRPC request with the room code in its metadata, or none.
fn with_code<T>(message: T, code: Option<&str>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(code) = code {
        request
            .metadata_mut()
            .insert("x-room-code", code.parse().unwrap());
    }
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_exports_need_the_code_in_their_metadata() {
    let explorer = room(CODE).await;
    let endpoint = explorer.grpc_endpoint();
    let mut traces = TraceServiceClient::connect(endpoint.clone()).await.unwrap();
    let mut metrics = MetricsServiceClient::connect(endpoint.clone())
        .await
        .unwrap();
    let mut logs = LogsServiceClient::connect(endpoint).await.unwrap();

    for (code, message) in [(None, MISSING_CODE), (Some("nope"), WRONG_CODE)] {
        let statuses = [
            traces
                .export(with_code(ExportTraceServiceRequest::default(), code))
                .await
                .unwrap_err(),
            metrics
                .export(with_code(ExportMetricsServiceRequest::default(), code))
                .await
                .unwrap_err(),
            logs.export(with_code(ExportLogsServiceRequest::default(), code))
                .await
                .unwrap_err(),
        ];
        for status in statuses {
            assert_eq!(status.code(), tonic::Code::Unauthenticated, "{status:?}");
            assert_eq!(status.message(), message, "{status:?}");
        }
    }
    // With the code, the same empty exports are accepted.
    traces
        .export(with_code(ExportTraceServiceRequest::default(), Some(CODE)))
        .await
        .unwrap();
    metrics
        .export(with_code(
            ExportMetricsServiceRequest::default(),
            Some(CODE),
        ))
        .await
        .unwrap();
    logs.export(with_code(ExportLogsServiceRequest::default(), Some(CODE)))
        .await
        .unwrap();

    // The SDK's exporter without the code fails with UNAUTHENTICATED.
    let error = grpc_exporter(&explorer, None)
        .export(Vec::new())
        .await
        .expect_err("a refused export")
        .to_string();
    assert!(error.contains("Unauthenticated"), "{error}");
    let stats = explorer.shared.stats();
    assert_eq!(
        (stats.refused_missing_code, stats.refused_wrong_code),
        (3 + 1, 3),
        "{stats:?}"
    );

    // With the code: kept.
    let exporter = grpc_exporter(&explorer, Some(CODE));
    tokio::task::spawn_blocking(move || send_one_span(provider(exporter)))
        .await
        .unwrap();
    wait_for_spans(&explorer, 1).await;
    assert_eq!(explorer.shared.stats().exports.grpc, 3 + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_code_or_with_an_empty_one_nothing_is_asked() {
    for explorer in [
        Explorer::start(&Settings::loopback()).await.unwrap(),
        room("").await,
    ] {
        for path in SIGNALS {
            let (status, _, body) = post_empty(&explorer, path, None).await;
            assert_eq!(status, 200, "{path}: {body}");
        }
        let exporter = grpc_exporter(&explorer, None);
        exporter.export(Vec::new()).await.expect("an export");
        let stats = explorer.shared.stats();
        assert_eq!(stats.refused_requests, 0, "{stats:?}");
        assert!(!get(&explorer, "/").await.contains("refused (room code)"));
    }
}

#[test]
fn the_code_is_a_flag_too() {
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        settings: Settings,
    }
    let cli = Cli::try_parse_from(["explorer", "--require-code", CODE]).unwrap();
    assert_eq!(cli.settings.required_code(), Some(CODE));
    let cli = Cli::try_parse_from(["explorer", "--require-code", ""]).unwrap();
    assert_eq!(cli.settings.required_code(), None);
}
