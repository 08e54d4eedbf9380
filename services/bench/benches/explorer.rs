//! The explorer's figures, against its goals:
//!
//! 1. Memory per span: the process's RSS before and after filling a window with one million
//!    spans shaped like the workshop app's, divided by a million; beside it, the window's own
//!    estimate (`stats().bytes / spans`, what its byte bound counts). Filling also times the
//!    stages of ingest in process: protobuf decode, conversion to stored spans, push.
//! 2. Queries over that full window (criterion), each with a goal of ≤ 100 ms or not:
//!    `P99(duration) GROUP BY fib.index` (goal), a COUNT with a WHERE, a HEATMAP, the deck's
//!    ORDER BY + HAVING on a GROUP BY (goal), and a selection of the slow spans compared with the
//!    rest, BubbleUp (goal); and the search of every field of every span for a phrase (goal),
//!    one that some spans hold and one that none does (every field of every span read).
//! 3. Ingest over OTLP/HTTP protobuf from the real exporter (`opentelemetry_otlp::SpanExporter`,
//!    blocking reqwest client) to an explorer on loopback (goal ≥ 100 000 spans/s): the exporter
//!    alone, sending pre-built batches of 512 and of 4096 spans from several threads; and end to
//!    end, with spans created through an `SdkTracerProvider` and its `BatchSpanProcessor`.
//!    Each is timed from the first export to the moment the explorer's window holds every span.
//!
//! A summary table at the end gives each figure as a ratio to its goal.
//!
//! Run with: `./run.sh bench` (or `cargo bench -p bench --bench explorer`), about a minute.
//! `EXPLORER_BENCH_SPANS` (spans per ingest run, default 393 216; 0 skips them) and
//! `EXPLORER_BENCH_THREADS` (exporting threads, default 4) change the ingest runs; criterion's
//! filter (`-- p99`) picks queries.

use std::borrow::Cow;
use std::future::Future;
use std::hint::black_box;
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Context as TaskContext, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, SamplingMode};
use opentelemetry::trace::{
    Event, Span as _, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags, TraceId,
    TraceState, Tracer, TracerProvider,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope as ProtoScope, KeyValue as ProtoKeyValue, any_value,
};
use opentelemetry_proto::tonic::resource::v1::Resource as ProtoResource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span as ProtoSpan, Status as ProtoStatus, span,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanData, SpanEvents,
    SpanExporter as _, SpanLinks,
};
use prost::Message;

use explorer::query::{Query, search};
use explorer::span::Strings;
use explorer::{Explorer, Limits, Settings, Shared};

/// The window the queries run over, and the memory figure's span count.
const WINDOW_SPANS: usize = 1_000_000;
/// Spans per export request when filling that window in process.
const FILL_BATCH: usize = 1024;

const GOAL_SPANS_PER_SECOND: f64 = 100_000.0;
const GOAL_QUERY_MS: f64 = 100.0;

/// The queries timed, by name, and whether the ≤ 100 ms goal is theirs.
const QUERIES: [(&str, &str, bool); 5] = [
    (
        "p99_by_index",
        "visualize=P99(duration)&group_by=fib.index",
        true,
    ),
    (
        "count_where",
        "visualize=COUNT&where=fib.index+>=+10",
        false,
    ),
    ("heatmap", "visualize=HEATMAP(duration)", false),
    (
        "order_having",
        "visualize=COUNT&visualize=P99(duration)&group_by=url.query\
         &order_by=P99(duration)+desc&having=COUNT+>=+1000",
        true,
    ),
    // The slow tail: what a learner drags over on the heatmap.
    ("compare", "visualize=COUNT&select_min=2ms", true),
];

/// The phrases searched for, by name: one in the `url.query` and `url.full` of some spans, and
/// one in none.
const SEARCHES: [(&str, &str); 2] = [("search_found", "index=15"), ("search_none", "timeout")];

fn main() {
    let mut criterion = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .configure_from_args();

    let (shared, memory, stages) = fill_window();
    let queries = bench_queries(&mut criterion, &shared);
    drop(shared);

    let spans = env_usize("EXPLORER_BENCH_SPANS", 393_216);
    let threads = env_usize("EXPLORER_BENCH_THREADS", 4).max(1);
    let ingest = if spans == 0 {
        Vec::new()
    } else {
        vec![
            ingest_exporter(512, threads, spans),
            ingest_exporter(4096, threads, spans),
            ingest_end_to_end(4096, threads.min(2), spans),
        ]
    };

    criterion.final_summary();
    summary(&memory, &stages, &queries, &ingest, threads);
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|value| value.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

// --- spans shaped like the workshop app's ---------------------------------------------------

/// One span as the app (solution 04) sends it, before it is an SDK span or an OTLP message:
/// per `/fib?index=N` call a server span `GET /fib` (8 attributes), its `fib` span (`fib.index`,
/// `fib.result`, and a `sum` event from index 2 up), and for index ≥ 2 two client spans `GET`
/// (5 attributes), each the parent of the call it makes.
struct AppSpan {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    parent: Option<[u8; 8]>,
    name: &'static str,
    kind: Kind,
    start: u64,
    end: u64,
    attributes: Vec<(&'static str, Attr)>,
    /// The `sum` event: its time, `fib.left` and `fib.right`.
    sum: Option<(u64, i64, i64)>,
}

enum Attr {
    Str(String),
    Int(i64),
}

#[derive(Clone, Copy)]
enum Kind {
    Server,
    Internal,
    Client,
}

const APP_PORT: i64 = 8080;

/// Makes traces of random `/fib?index=N` requests, N in 0..=15, one after the other.
struct App {
    state: u64,
    clock: u64,
}

impl App {
    fn new(seed: u64) -> App {
        App {
            state: seed,
            // 2026-01-01T00:00:00Z, in nanoseconds.
            clock: 1_767_225_600_000_000_000,
        }
    }

    /// splitmix64.
    fn random(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn jitter(&mut self, max: u64) -> u64 {
        self.random() % max
    }

    fn span_id(&mut self) -> [u8; 8] {
        (self.random() | 1).to_le_bytes()
    }

    /// One trace: a request from outside for a random index, and every call it makes.
    fn trace(&mut self, out: &mut Vec<AppSpan>) {
        let mut trace_id = [0u8; 16];
        trace_id[..8].copy_from_slice(&self.random().to_le_bytes());
        trace_id[8..].copy_from_slice(&(self.random() | 1).to_le_bytes());
        let index = self.jitter(16) as i64;
        let end = self.call(trace_id, None, index, self.clock, out);
        self.clock = end + 1_000_000;
    }

    /// The server and `fib` spans of one call, and its sub-calls; returns when it ended.
    fn call(
        &mut self,
        trace_id: [u8; 16],
        parent: Option<[u8; 8]>,
        index: i64,
        start: u64,
        out: &mut Vec<AppSpan>,
    ) -> u64 {
        let (server_id, fib_id) = (self.span_id(), self.span_id());
        let fib_start = start + 15_000 + self.jitter(10_000);
        let mut fib_end = fib_start + 4_000 + self.jitter(4_000);
        // Now and then a slow one, for a tail worth a P99.
        if self.jitter(100) == 0 {
            fib_end += 2_000_000 + self.jitter(3_000_000);
        }
        let mut sum = None;
        if index >= 2 {
            let left = self.client(trace_id, fib_id, index - 1, fib_start + 2_000, out);
            let right = self.client(trace_id, fib_id, index - 2, fib_start + 2_500, out);
            fib_end = fib_end.max(left.max(right) + 3_000 + self.jitter(2_000));
            sum = Some((fib_end - 1_000, fib(index - 1), fib(index - 2)));
        }
        let end = fib_end + 8_000 + self.jitter(6_000);
        out.push(AppSpan {
            trace_id,
            span_id: fib_id,
            parent: Some(server_id),
            name: "fib",
            kind: Kind::Internal,
            start: fib_start,
            end: fib_end,
            attributes: vec![
                ("fib.index", Attr::Int(index)),
                ("fib.result", Attr::Int(fib(index))),
            ],
            sum,
        });
        out.push(AppSpan {
            trace_id,
            span_id: server_id,
            parent,
            name: "GET /fib",
            kind: Kind::Server,
            start,
            end,
            attributes: vec![
                ("http.request.method", Attr::Str("GET".into())),
                ("url.scheme", Attr::Str("http".into())),
                ("url.path", Attr::Str("/fib".into())),
                ("url.query", Attr::Str(format!("index={index}"))),
                ("http.route", Attr::Str("/fib".into())),
                ("server.address", Attr::Str("127.0.0.1".into())),
                ("server.port", Attr::Int(APP_PORT)),
                ("http.response.status_code", Attr::Int(200)),
            ],
            sum: None,
        });
        end
    }

    /// A client span `GET` and the call it makes.
    fn client(
        &mut self,
        trace_id: [u8; 16],
        parent: [u8; 8],
        index: i64,
        start: u64,
        out: &mut Vec<AppSpan>,
    ) -> u64 {
        let span_id = self.span_id();
        let inner = start + 20_000 + self.jitter(20_000);
        let end = self.call(trace_id, Some(span_id), index, inner, out) + 15_000;
        out.push(AppSpan {
            trace_id,
            span_id,
            parent: Some(parent),
            name: "GET",
            kind: Kind::Client,
            start,
            end,
            attributes: vec![
                ("http.request.method", Attr::Str("GET".into())),
                (
                    "url.full",
                    Attr::Str(format!("http://127.0.0.1:{APP_PORT}/fib?index={index}")),
                ),
                ("server.address", Attr::Str("127.0.0.1".into())),
                ("server.port", Attr::Int(APP_PORT)),
                ("http.response.status_code", Attr::Int(200)),
            ],
            sum: None,
        });
        end
    }

    /// At least `count` spans, whole traces.
    fn spans(&mut self, count: usize) -> Vec<AppSpan> {
        let mut spans = Vec::with_capacity(count + 8192);
        while spans.len() < count {
            self.trace(&mut spans);
        }
        spans
    }
}

fn fib(index: i64) -> i64 {
    (0..index).fold((0, 1), |(a, b), _| (b, a + b)).0
}

fn resource() -> Resource {
    Resource::builder().with_service_name("fib").build()
}

// --- as OTLP messages, for filling a window in process ---------------------------------------

fn proto_value(attr: &Attr) -> AnyValue {
    AnyValue {
        value: Some(match attr {
            Attr::Str(text) => any_value::Value::StringValue(text.clone()),
            Attr::Int(value) => any_value::Value::IntValue(*value),
        }),
    }
}

fn proto_attribute(key: &str, attr: &Attr) -> ProtoKeyValue {
    ProtoKeyValue {
        key: key.to_string(),
        value: Some(proto_value(attr)),
        ..Default::default()
    }
}

fn proto_kind(kind: Kind) -> i32 {
    match kind {
        Kind::Server => span::SpanKind::Server as i32,
        Kind::Internal => span::SpanKind::Internal as i32,
        Kind::Client => span::SpanKind::Client as i32,
    }
}

/// One export request, as the SDK's exporter builds it: one resource, one scope.
fn proto_request(spans: &[AppSpan]) -> ExportTraceServiceRequest {
    let resource = resource()
        .iter()
        .map(|(key, value)| proto_attribute(key.as_str(), &Attr::Str(value.to_string())))
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(ProtoResource {
                attributes: resource,
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                scope: Some(ProtoScope {
                    name: "fib".into(),
                    ..Default::default()
                }),
                spans: spans
                    .iter()
                    .map(|s| ProtoSpan {
                        trace_id: s.trace_id.to_vec(),
                        span_id: s.span_id.to_vec(),
                        parent_span_id: s.parent.map(|id| id.to_vec()).unwrap_or_default(),
                        flags: 0x101,
                        name: s.name.into(),
                        kind: proto_kind(s.kind),
                        start_time_unix_nano: s.start,
                        end_time_unix_nano: s.end,
                        attributes: s
                            .attributes
                            .iter()
                            .map(|(key, value)| proto_attribute(key, value))
                            .collect(),
                        events: s
                            .sum
                            .iter()
                            .map(|(time, left, right)| span::Event {
                                time_unix_nano: *time,
                                name: "sum".into(),
                                attributes: vec![
                                    proto_attribute("fib.left", &Attr::Int(*left)),
                                    proto_attribute("fib.right", &Attr::Int(*right)),
                                ],
                                dropped_attributes_count: 0,
                            })
                            .collect(),
                        status: Some(ProtoStatus::default()),
                        ..Default::default()
                    })
                    .collect(),
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

// --- as the SDK's spans, for the exporter ----------------------------------------------------

fn time(nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos)
}

fn sdk_attribute(key: &'static str, attr: &Attr) -> KeyValue {
    match attr {
        Attr::Str(text) => KeyValue::new(key, text.clone()),
        Attr::Int(value) => KeyValue::new(key, *value),
    }
}

fn span_data(span: &AppSpan, scope: &InstrumentationScope) -> SpanData {
    let mut events = SpanEvents::default();
    if let Some((at, left, right)) = span.sum {
        events.events.push(Event::new(
            "sum",
            time(at),
            vec![
                KeyValue::new("fib.left", left),
                KeyValue::new("fib.right", right),
            ],
            0,
        ));
    }
    SpanData {
        span_context: SpanContext::new(
            TraceId::from_bytes(span.trace_id),
            SpanId::from_bytes(span.span_id),
            TraceFlags::SAMPLED,
            false,
            TraceState::NONE,
        ),
        parent_span_id: span.parent.map_or(SpanId::INVALID, SpanId::from_bytes),
        parent_span_is_remote: false,
        span_kind: match span.kind {
            Kind::Server => SpanKind::Server,
            Kind::Internal => SpanKind::Internal,
            Kind::Client => SpanKind::Client,
        },
        name: Cow::Borrowed(span.name),
        start_time: time(span.start),
        end_time: time(span.end),
        attributes: span
            .attributes
            .iter()
            .map(|(key, value)| sdk_attribute(key, value))
            .collect(),
        dropped_attributes_count: 0,
        events,
        links: SpanLinks::default(),
        status: Status::Unset,
        instrumentation_scope: scope.clone(),
    }
}

// --- 1. memory per span, and the stages of ingest in process ---------------------------------

/// The process's resident memory, in bytes (Linux; 0 elsewhere).
fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .map_or(0, |kib: usize| kib * 1024)
}

struct Memory {
    spans: usize,
    rss_per_span: f64,
    estimate_per_span: f64,
    traces: usize,
}

/// Time per span of each stage of ingest in process, in nanoseconds.
struct Stages {
    decode: f64,
    convert: f64,
    push: f64,
}

/// Fills a window of [`WINDOW_SPANS`] with the app's spans, through protobuf as over the wire:
/// encode (not timed), decode, convert, push.
fn fill_window() -> (Shared, Memory, Stages) {
    // The encoded requests are made first, a batch at a time so that little memory is freed
    // (and then reused by the window unseen): the RSS difference is the window's alone, with
    // the string table that shares its strings.
    let mut app = App::new(1);
    let mut pending = Vec::new();
    let mut bodies = Vec::with_capacity(WINDOW_SPANS.div_ceil(FILL_BATCH));
    let mut left = WINDOW_SPANS;
    while left > 0 {
        let take = FILL_BATCH.min(left);
        while pending.len() < take {
            app.trace(&mut pending);
        }
        bodies.push(proto_request(&pending[..take]).encode_to_vec());
        pending.drain(..take);
        left -= take;
    }
    drop(pending);

    let before = rss_bytes();
    let shared = Shared::new(Limits {
        max_spans: WINDOW_SPANS,
        max_bytes: 16 << 30,
        ..Limits::default()
    });
    let mut strings = Strings::new(100_000);
    let (mut decode, mut convert, mut push) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    for body in &bodies {
        let started = Instant::now();
        let request = ExportTraceServiceRequest::decode(body.as_slice()).expect("a valid request");
        let decoded = Instant::now();
        let stored = explorer::span::from_request(request, &mut strings).expect("valid spans");
        let converted = Instant::now();
        shared.push(stored);
        let pushed = Instant::now();
        decode += decoded - started;
        convert += converted - decoded;
        push += pushed - converted;
    }
    let after = rss_bytes();
    drop(bodies);

    let stats = shared.stats();
    assert_eq!(stats.spans, WINDOW_SPANS, "the window holds every span");
    let per_span = |total: Duration| total.as_nanos() as f64 / WINDOW_SPANS as f64;
    let memory = Memory {
        spans: stats.spans,
        rss_per_span: after.saturating_sub(before) as f64 / stats.spans as f64,
        estimate_per_span: stats.bytes as f64 / stats.spans as f64,
        traces: stats.traces,
    };
    let stages = Stages {
        decode: per_span(decode),
        convert: per_span(convert),
        push: per_span(push),
    };
    println!(
        "window filled: {} spans in {} traces; RSS {:.0} bytes/span, estimate {:.0} bytes/span; \
         in process per span: decode {:.0} ns, convert {:.0} ns, push {:.0} ns",
        memory.spans,
        memory.traces,
        memory.rss_per_span,
        memory.estimate_per_span,
        stages.decode,
        stages.convert,
        stages.push
    );
    (shared, memory, stages)
}

// --- 2. queries over the full window ---------------------------------------------------------

/// Each query's (and search's) single runs, in milliseconds (criterion's warm-up included), with
/// what it is and whether the ≤ 100 ms goal is its.
type QueryTimes = Vec<(&'static str, String, bool, Vec<f64>)>;

fn bench_queries(criterion: &mut Criterion, shared: &Shared) -> QueryTimes {
    let window = shared.read();
    let mut times = QueryTimes::new();
    let mut group = criterion.benchmark_group("explorer_query");
    group.sampling_mode(SamplingMode::Flat);
    let mut timed = |name: &'static str, what: String, goal: bool, run: &dyn Fn()| {
        let runs = Mutex::new(Vec::new());
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let started = Instant::now();
                    run();
                    let took = started.elapsed();
                    total += took;
                    runs.lock().unwrap().push(took.as_secs_f64() * 1e3);
                }
                total
            });
        });
        times.push((name, what, goal, runs.into_inner().unwrap()));
    };
    for (name, text, goal) in QUERIES {
        let query = Query::from_query_string(text).expect("a valid query");
        let result = query.run(&window);
        assert_eq!(result.scanned, WINDOW_SPANS);
        assert!(!result.rows.is_empty(), "{text}: no rows");
        if let Some(selection) = &result.selection {
            // The slow tail is explained by the index, as the deck says.
            assert!(selection.inside > 0 && selection.outside > 0, "{text}");
            assert!(
                ["fib.index", "url.query"].contains(&selection.fields[0].field.as_str()),
                "{text}: {:?} first",
                selection.fields[0].field
            );
            println!(
                "{name}: {} spans selected, {} not; {} first (score {:.2})",
                selection.inside,
                selection.outside,
                selection.fields[0].field,
                selection.fields[0].score
            );
        }
        timed(name, format!("query: {text}"), goal, &|| {
            black_box(query.run(black_box(&window)));
        });
    }
    for (name, phrase) in SEARCHES {
        let result = search(&window, phrase, 50).expect("a phrase");
        assert_eq!(result.scanned, WINDOW_SPANS);
        println!("{name}: {phrase:?} in {} spans", result.matched);
        timed(name, format!("search: {phrase}"), true, &|| {
            black_box(search(black_box(&window), phrase, 50).unwrap());
        });
    }
    group.finish();
    times
}

// --- 3. ingest over OTLP/HTTP protobuf from the real exporter --------------------------------

struct Ingest {
    what: String,
    sent: usize,
    received: usize,
    seconds: f64,
    failed_exports: usize,
}

impl Ingest {
    fn spans_per_second(&self) -> f64 {
        self.received as f64 / self.seconds
    }
}

/// An explorer on loopback with room for every span, on a runtime of its own.
fn start_explorer() -> (tokio::runtime::Runtime, Explorer) {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let settings = Settings {
        max_spans: 2_000_000,
        max_mib: 4096,
        ..Settings::loopback()
    };
    let explorer = runtime
        .block_on(Explorer::start(&settings))
        .expect("an explorer on loopback");
    (runtime, explorer)
}

/// The OTLP/HTTP protobuf exporter with its default (blocking reqwest) client, as the steps
/// build it.
fn http_exporter(explorer: &Explorer) -> opentelemetry_otlp::SpanExporter {
    opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{}/v1/traces", explorer.http_endpoint()))
        .with_timeout(Duration::from_secs(30))
        .build()
        .expect("an OTLP/HTTP exporter")
}

/// Waits until the window holds `count` spans, or nothing has arrived for `patience`; returns
/// the time since `started` at which the last one arrived, and how many did.
fn wait_for_window(
    explorer: &Explorer,
    count: usize,
    started: Instant,
    patience: Duration,
) -> (usize, Duration) {
    let (mut seen, mut at, mut last_change) = (0, started.elapsed(), Instant::now());
    loop {
        let spans = explorer.shared.stats().spans;
        if spans != seen {
            (seen, at, last_change) = (spans, started.elapsed(), Instant::now());
        }
        if seen >= count || last_change.elapsed() > patience {
            return (seen, at);
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// Runs a future to completion on this thread: the exporter's future with the blocking client
/// does its work when first polled, so a park-and-wake loop is all it needs.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = TaskContext::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(output) => return output,
            Poll::Pending => thread::park(),
        }
    }
}

/// The exporter alone: `threads` threads, each with its own exporter (as so many apps), export
/// pre-built batches of `batch` spans as fast as they are answered.
fn ingest_exporter(batch: usize, threads: usize, spans: usize) -> Ingest {
    let (_runtime, explorer) = start_explorer();
    let scope = InstrumentationScope::builder("fib").build();
    let app_spans = App::new(batch as u64).spans(spans);
    let mut batches: Vec<Vec<Vec<SpanData>>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, chunk) in app_spans[..spans].chunks(batch).enumerate() {
        batches[i % threads].push(chunk.iter().map(|s| span_data(s, &scope)).collect());
    }
    drop(app_spans);

    let start = Arc::new(Barrier::new(threads + 1));
    let senders: Vec<_> = batches
        .into_iter()
        .map(|batches| {
            let mut exporter = http_exporter(&explorer);
            exporter.set_resource(&resource());
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                let mut failed = 0;
                for batch in batches {
                    if let Err(err) = block_on(exporter.export(batch)) {
                        if failed == 0 {
                            eprintln!("export failed: {err}");
                        }
                        failed += 1;
                    }
                }
                let _ = exporter.shutdown();
                failed
            })
        })
        .collect();
    start.wait();
    let started = Instant::now();
    let (received, took) = wait_for_window(&explorer, spans, started, Duration::from_secs(5));
    let failed_exports = senders
        .into_iter()
        .map(|sender| sender.join().expect("an exporting thread"))
        .sum();
    let ingest = Ingest {
        what: format!("exporter alone, batches of {batch}, {threads} threads"),
        sent: spans,
        received,
        seconds: took.as_secs_f64(),
        failed_exports,
    };
    report(&ingest);
    ingest
}

/// End to end: `threads` threads create the app's spans (a server span, its `fib` span and two
/// client spans per call) through an `SdkTracerProvider` whose `BatchSpanProcessor` is set for
/// throughput: a queue that holds the whole run, batches of `batch`.
fn ingest_end_to_end(batch: usize, threads: usize, spans: usize) -> Ingest {
    let (_runtime, explorer) = start_explorer();
    let processor = BatchSpanProcessor::builder(http_exporter(&explorer))
        .with_batch_config(
            BatchConfigBuilder::default()
                .with_max_queue_size(spans.next_power_of_two())
                .with_max_export_batch_size(batch)
                .with_scheduled_delay(Duration::from_millis(50))
                .build(),
        )
        .build();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(processor)
        .with_resource(resource())
        .build();
    let calls_per_thread = spans / 4 / threads;
    let sent = calls_per_thread * 4 * threads;

    let start = Arc::new(Barrier::new(threads + 1));
    let creators: Vec<_> = (0..threads)
        .map(|_| {
            let tracer = provider.tracer("fib");
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                for call in 0..calls_per_thread {
                    let index = (call % 16) as i64;
                    let server = tracer
                        .span_builder("GET /fib")
                        .with_kind(SpanKind::Server)
                        .with_attributes([
                            KeyValue::new("http.request.method", "GET"),
                            KeyValue::new("url.scheme", "http"),
                            KeyValue::new("url.path", "/fib"),
                            KeyValue::new("url.query", format!("index={index}")),
                            KeyValue::new("http.route", "/fib"),
                            KeyValue::new("server.address", "127.0.0.1"),
                            KeyValue::new("server.port", APP_PORT),
                        ])
                        .start(&tracer);
                    let server_cx = Context::current_with_span(server);
                    let fib_cx = Context::current_with_span(
                        tracer
                            .span_builder("fib")
                            .with_attributes([KeyValue::new("fib.index", index)])
                            .start_with_context(&tracer, &server_cx),
                    );
                    for sub in [index - 1, index - 2] {
                        let mut client = tracer
                            .span_builder("GET")
                            .with_kind(SpanKind::Client)
                            .with_attributes([
                                KeyValue::new("http.request.method", "GET"),
                                KeyValue::new(
                                    "url.full",
                                    format!("http://127.0.0.1:{APP_PORT}/fib?index={sub}"),
                                ),
                                KeyValue::new("server.address", "127.0.0.1"),
                                KeyValue::new("server.port", APP_PORT),
                            ])
                            .start_with_context(&tracer, &fib_cx);
                        client.set_attribute(KeyValue::new("http.response.status_code", 200));
                        client.end();
                    }
                    let fib_span = fib_cx.span();
                    fib_span.set_attribute(KeyValue::new("fib.result", fib(index)));
                    fib_span.end();
                    let server_span = server_cx.span();
                    server_span.set_attribute(KeyValue::new("http.response.status_code", 200));
                    server_span.end();
                }
            })
        })
        .collect();
    start.wait();
    let started = Instant::now();
    for creator in creators {
        creator.join().expect("a span-creating thread");
    }
    let created = started.elapsed();
    // The last, partial batch goes at the next scheduled export; flushing sends it now.
    if let Err(err) = provider.force_flush() {
        eprintln!("force_flush: {err}");
    }
    let (received, took) = wait_for_window(&explorer, sent, started, Duration::from_secs(5));
    if let Err(err) = provider.shutdown() {
        eprintln!("shutdown: {err}");
    }
    println!(
        "  (end to end: the {sent} spans were created in {:.2} s, {:.0} spans/s)",
        created.as_secs_f64(),
        sent as f64 / created.as_secs_f64()
    );
    let ingest = Ingest {
        what: format!("SDK + BatchSpanProcessor, batches of {batch}, {threads} threads"),
        sent,
        received,
        seconds: took.as_secs_f64(),
        failed_exports: 0,
    };
    report(&ingest);
    ingest
}

fn report(ingest: &Ingest) {
    println!(
        "ingest, {}: {} of {} spans in {:.2} s, {:.0} spans/s ({} dropped, {} failed exports)",
        ingest.what,
        ingest.received,
        ingest.sent,
        ingest.seconds,
        ingest.spans_per_second(),
        ingest.sent.saturating_sub(ingest.received),
        ingest.failed_exports
    );
}

// --- the summary -----------------------------------------------------------------------------

fn median(values: &[f64]) -> Option<f64> {
    let mut values = values.to_vec();
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

fn summary(
    memory: &Memory,
    stages: &Stages,
    queries: &QueryTimes,
    ingest: &[Ingest],
    threads: usize,
) {
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    println!("\nThe explorer, release build, {cores} cores (client and explorer share them):");
    println!("  {:<58} {:>12}  {:>14}", "figure", "value", "goal (ratio)");
    for run in ingest {
        let rate = run.spans_per_second();
        println!(
            "  {:<58} {:>8.0} /s  ≥ 100k ({:.2}×)",
            format!("ingest: {}", run.what),
            rate,
            rate / GOAL_SPANS_PER_SECOND
        );
        if run.received < run.sent {
            println!(
                "      {} of {} spans dropped",
                run.sent - run.received,
                run.sent
            );
        }
    }
    for (name, what, goal, runs) in queries {
        let Some(ms) = median(runs) else {
            println!("  {name}: not run (filtered out)");
            continue;
        };
        let goal = if *goal {
            format!("≤ 100 ms ({:.2}×)", ms / GOAL_QUERY_MS)
        } else {
            String::new()
        };
        println!(
            "  {:<58} {:>9.1} ms  {goal}",
            format!("over 1M spans, {what}"),
            ms
        );
    }
    println!(
        "  {:<58} {:>6.0} bytes  (stated)",
        "memory per span, by RSS", memory.rss_per_span
    );
    println!(
        "  {:<58} {:>6.0} bytes",
        "memory per span, the window's estimate (its byte bound)", memory.estimate_per_span
    );
    let total = stages.decode + stages.convert + stages.push;
    println!(
        "  {:<58} {:>8.0} /s  (decode {:.0} + convert {:.0} + push {:.0} ns/span, one thread)",
        "ingest in process, no HTTP",
        1e9 / total,
        stages.decode,
        stages.convert,
        stages.push
    );
    println!(
        "  (ratios: ingest rate / goal, ≥ 1 meets it; query time / goal, ≤ 1 meets it; \
         {threads} exporting threads)"
    );
}
