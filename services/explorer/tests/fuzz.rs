//! The decode path and the query language, fuzzed with proptest (cargo fuzz needs a nightly
//! toolchain): `cargo test -p explorer --test fuzz`.
//!
//! Whatever arrives, the explorer answers 2xx or 4xx, never a 5xx or a dropped connection, keeps
//! serving, and keeps only well-formed spans. The corpus is small: random bytes, and mutations of
//! one valid export request in protobuf and in OTLP/JSON; plus requests built field by field.

use std::sync::OnceLock;

use explorer::query::{Filter, Query};
use explorer::span::{Strings, from_request};
use explorer::{Explorer, Settings};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use proptest::prelude::*;
use prost::Message;

/// One explorer for every case, on a runtime of its own that outlives them.
fn explorer() -> &'static (tokio::runtime::Runtime, Explorer) {
    static EXPLORER: OnceLock<(tokio::runtime::Runtime, Explorer)> = OnceLock::new();
    EXPLORER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let explorer = runtime
            .block_on(Explorer::start(&Settings::loopback()))
            .unwrap();
        (runtime, explorer)
    })
}

/// POSTs `body` to `/v1/traces` and returns the status; panics on a dropped connection.
fn post(content_type: &str, body: Vec<u8>) -> u16 {
    let (runtime, explorer) = explorer();
    let url = format!("{}/v1/traces", explorer.http_endpoint());
    runtime.block_on(async {
        reqwest::Client::new()
            .post(&url)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap_or_else(|err| panic!("the explorer dropped the request: {err}"))
            .status()
            .as_u16()
    })
}

/// The explorer still answers, and every trace it lists has a 32-digit id.
fn still_serving() {
    let (runtime, explorer) = explorer();
    let url = format!("{}/api/traces?limit=1000", explorer.url());
    let traces: serde_json::Value = runtime.block_on(async {
        let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
        serde_json::from_str(&text).unwrap()
    });
    for trace in traces.as_array().unwrap() {
        let id = trace["trace_id"].as_str().unwrap();
        assert!(
            id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{trace}"
        );
    }
}

fn any_value(value: any_value::Value) -> Option<AnyValue> {
    Some(AnyValue { value: Some(value) })
}

/// A valid request: one span with attributes of every kind.
fn seed() -> ExportTraceServiceRequest {
    let attribute = |key: &str, value| KeyValue {
        key: key.into(),
        value: any_value(value),
        ..KeyValue::default()
    };
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![attribute(
                    "service.name",
                    any_value::Value::StringValue("fuzz".into()),
                )],
                ..Resource::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: vec![7; 16],
                    span_id: vec![8; 8],
                    name: "GET /fib".into(),
                    kind: 2,
                    start_time_unix_nano: 1_700_000_000_000_000_000,
                    end_time_unix_nano: 1_700_000_000_001_000_000,
                    attributes: vec![
                        attribute("fib.index", any_value::Value::IntValue(5)),
                        attribute("ok", any_value::Value::BoolValue(true)),
                        attribute("ratio", any_value::Value::DoubleValue(0.5)),
                        attribute("bytes", any_value::Value::BytesValue(vec![1, 2])),
                    ],
                    status: Some(Status {
                        code: 2,
                        message: "boom".into(),
                    }),
                    ..Span::default()
                }],
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
}

fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for mutation in mutations {
        let len = bytes.len().max(1);
        match *mutation {
            Mutation::Flip(at, bits) => {
                if let Some(byte) = bytes.get_mut(at % len) {
                    *byte ^= bits;
                }
            }
            Mutation::Insert(at, byte) => bytes.insert(at % (bytes.len() + 1), byte),
            Mutation::Delete(at) => {
                if !bytes.is_empty() {
                    bytes.remove(at % len);
                }
            }
            Mutation::Truncate(at) => bytes.truncate(at % len),
        }
    }
    bytes
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(
        prop_oneof![
            (any::<usize>(), 1..=255u8).prop_map(|(at, bits)| Mutation::Flip(at, bits)),
            (any::<usize>(), any::<u8>()).prop_map(|(at, byte)| Mutation::Insert(at, byte)),
            any::<usize>().prop_map(Mutation::Delete),
            any::<usize>().prop_map(Mutation::Truncate),
        ],
        1..6,
    )
}

/// An attribute value of any kind, nested a little.
fn value() -> impl Strategy<Value = Option<AnyValue>> {
    let leaf = prop_oneof![
        Just(None),
        ".{0,12}".prop_map(|s| any_value(any_value::Value::StringValue(s))),
        any::<i64>().prop_map(|i| any_value(any_value::Value::IntValue(i))),
        any::<f64>().prop_map(|d| any_value(any_value::Value::DoubleValue(d))),
        any::<bool>().prop_map(|b| any_value(any_value::Value::BoolValue(b))),
        prop::collection::vec(any::<u8>(), 0..8)
            .prop_map(|b| any_value(any_value::Value::BytesValue(b))),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|values| any_value(
                any_value::Value::ArrayValue(ArrayValue {
                    values: values.into_iter().flatten().collect()
                })
            )),
            prop::collection::vec((".{0,6}", inner), 0..4).prop_map(|pairs| any_value(
                any_value::Value::KvlistValue(KeyValueList {
                    values: pairs
                        .into_iter()
                        .map(|(key, value)| KeyValue {
                            key,
                            value,
                            ..KeyValue::default()
                        })
                        .collect()
                })
            )),
        ]
    })
}

fn span() -> impl Strategy<Value = Span> {
    (
        prop::collection::vec(any::<u8>(), 14..18),
        prop::collection::vec(any::<u8>(), 7..10),
        prop::collection::vec(any::<u8>(), 0..10),
        ".{0,10}",
        -1..8i32,
        (any::<u64>(), any::<u64>()),
        prop::collection::vec((".{0,8}", value()), 0..5),
        -1..4i32,
    )
        .prop_map(
            |(trace_id, span_id, parent_span_id, name, kind, (start, end), attributes, status)| {
                Span {
                    trace_id,
                    span_id,
                    parent_span_id,
                    name,
                    kind,
                    start_time_unix_nano: start,
                    end_time_unix_nano: end,
                    attributes: attributes
                        .into_iter()
                        .map(|(key, value)| KeyValue {
                            key,
                            value,
                            ..KeyValue::default()
                        })
                        .collect(),
                    status: Some(Status {
                        code: status,
                        message: String::new(),
                    }),
                    ..Span::default()
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_get_a_4xx(bytes in prop::collection::vec(any::<u8>(), 0..512), json in any::<bool>()) {
        let content_type = if json { "application/json" } else { "application/x-protobuf" };
        let status = post(content_type, bytes);
        prop_assert!((200..500).contains(&status), "status {}", status);
    }

    #[test]
    fn mutated_requests_get_a_2xx_or_a_4xx(mutations in mutations(), json in any::<bool>()) {
        let (content_type, body) = if json {
            ("application/json", serde_json::to_vec(&seed()).unwrap())
        } else {
            ("application/x-protobuf", seed().encode_to_vec())
        };
        let status = post(content_type, mutate(body, &mutations));
        prop_assert!((200..500).contains(&status), "status {}", status);
        still_serving();
    }

    #[test]
    fn any_request_converts_or_is_refused_in_one_line(spans in prop::collection::vec(span(), 0..4)) {
        let request = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans { spans, ..ScopeSpans::default() }],
                ..ResourceSpans::default()
            }],
        };
        match from_request(request, &mut Strings::new(100)) {
            Ok(stored) => {
                for span in stored {
                    let json = span.to_json();
                    prop_assert_eq!(json["trace_id"].as_str().map(str::len), Some(32));
                    prop_assert!(span.estimated_bytes() > 0);
                }
            }
            Err(message) => prop_assert!(!message.contains('\n'), "{}", message),
        }
    }

    #[test]
    fn written_filters_read_back_as_themselves(
        field in prop::sample::select(vec!["name", "fib.index", "duration", "url.query", "trace.id", "kind"]),
        op in prop::sample::select(vec!["=", "!=", ">", ">=", "<", "<=", "contains", "exists", "does-not-exist"]),
        value in prop_oneof![Just(String::new()), "[0-9]{1,3}(\\.[0-9])?(ms|s|us)?", "[a-z =/?]{1,8}", "[0-9a-f]{32}"],
        group_by in prop::sample::subsequence(vec!["name", "fib.index", "kind"], 0..3),
        last in prop::sample::select(vec!["", "5m", "1h", "all"]),
    ) {
        let filter = format!("{field} {op} {value}");
        let mut pairs = vec![("where".to_string(), filter), ("last".to_string(), last.to_string())];
        pairs.extend(group_by.iter().map(|field| ("group_by".to_string(), field.to_string())));
        if let Ok(query) = Query::from_pairs(pairs) {
            let again = Query::from_query_string(&query.to_query_string());
            prop_assert_eq!(again.as_ref().ok(), Some(&query), "{:?}", again);
        }
    }

    #[test]
    fn any_query_reads_or_is_refused_and_round_trips(text in ".{0,40}", filter in ".{0,30}") {
        let _ = Filter::parse(&filter);
        if let Ok(query) = Query::from_query_string(&text) {
            let again = Query::from_query_string(&query.to_query_string());
            prop_assert_eq!(again.as_ref().ok(), Some(&query), "{:?}", again);
        }
        let pairs = [("where".to_string(), filter.clone()), ("group_by".to_string(), filter)];
        if let Ok(query) = Query::from_pairs(pairs) {
            let again = Query::from_query_string(&query.to_query_string());
            prop_assert_eq!(again.as_ref().ok(), Some(&query), "{:?}", again);
        }
    }
}
