//! A classroom's room under a full class: the room's explorer (`./run.sh room`), a real process,
//! with 60 learners pressing Go for 60 s, and the Room page asked for all along.
//!
//! Run with: `./run.sh bench` (or `cargo build --release -p explorer && cargo bench -p bench
//! --bench room`). `EXPLORER_BINARY` names another explorer; `ROOM_BENCH_LEARNERS` (default 60),
//! `ROOM_BENCH_SECONDS` (60), `ROOM_BENCH_MAX_INDEX` (15, the app's cap) and
//! `ROOM_BENCH_REQUEST_US` (400) change the class, e.g. `ROOM_BENCH_SECONDS=10` for a quick run;
//! `ROOM_BENCH_QUIET=K` (default 0) makes the last K learners quiet ones, who press Go up to index
//! 5 only: they stay under their fair share of the window, which tests that none of their spans
//! is dropped (with every learner at the cap, everyone is over it and that goal holds trivially).
//!
//! The explorer runs as `./run.sh room` runs it: a room code required (`--require-code`), a
//! room's window (1 000 000 spans, 1024 MiB), on loopback with free ports.
//!
//! Each learner is the load generator's user (`services/loadgen/src/user.rs`) with its app on its
//! own laptop: it thinks (loadgen's think times for a run this long: 0.1 to 1 s), presses Go, and
//! lets the page ask `/fib?index=0`, `1`, … up to the cap, one request after another. The 60 apps
//! are not run (they would need far more than 2 cores): each request is paced at the debug build's
//! speed (`ROOM_BENCH_REQUEST_US` per request the app makes inside, 0.8 s for index 15), and its
//! trace is sent as solution 04's app makes it (see [`trace`]), batched as the SDK's batch
//! processor does (512 spans a request, or what is there after a second), as OTLP/HTTP protobuf
//! with the room's code and the learner's `learner.name`. A learner waits for its export to be
//! answered before going on: when the room is slower than the class, the class slows down, and the
//! figure is what the room took in.
//!
//! Meanwhile the Room page (`/room`) is fetched five times a second, one after another, and each
//! render timed; then for 4 s more once the class has stopped, over the same full window, which
//! tells what rendering costs from what waiting behind the exports costs. At the end, from
//! `/api/stats` and `/api/room`: spans in per second, spans dropped and whose, whether a learner
//! under its fair share (`max_spans / learners`) lost any, the explorer's peak resident memory
//! (`VmHWM`) against `--max-mib`, and the page's P50/P99/max, each against its goal. Reported,
//! not asserted: the learners share the 2 cores with the room.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use loadgen::rng::Rng;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, SpanKind};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use receiver::room::{CODE_HEADER, LEARNER_NAME};
use serde_json::Value;

/// The code the room requires; every export carries it.
const CODE: &str = "BENCH-ROOM";
/// A room's window, as `./run.sh room` sets it (services/kit/src/room.rs, `ROOM_DEFAULTS`).
const MAX_SPANS: u64 = 1_000_000;
const MAX_MIB: u64 = 1024;
/// The SDK batch processor's defaults: at most 512 spans an export, and what is there after a
/// second (the workshop's steps set the delay to one second).
const BATCH_SPANS: usize = 512;
const BATCH_DELAY: Duration = Duration::from_secs(1);
/// How often the Room page is asked for, one request after another.
const PAGE_EVERY: Duration = Duration::from_millis(200);
const GOAL_PAGE_P99: Duration = Duration::from_millis(200);
/// How long the Room page is timed again after the class stops.
const AT_REST: Duration = Duration::from_secs(4);
/// How far a quiet learner (`ROOM_BENCH_QUIET`) presses Go: 96 spans a press, far under a share.
const QUIET_MAX_INDEX: u32 = 5;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let learners = env_u64("ROOM_BENCH_LEARNERS", 60).clamp(1, 1000) as usize;
    let seconds = env_u64("ROOM_BENCH_SECONDS", 60).max(1);
    let max_index = env_u64(
        "ROOM_BENCH_MAX_INDEX",
        u64::from(sequence::config::DEFAULT_MAX_INDEX),
    )
    .min(u64::from(sequence::config::HARD_MAX_INDEX)) as u32;
    let per_request = Duration::from_micros(env_u64("ROOM_BENCH_REQUEST_US", 400));
    let quiet = (env_u64("ROOM_BENCH_QUIET", 0) as usize).min(learners);
    let duration = Duration::from_secs(seconds);

    let binary = common::binary("EXPLORER_BINARY", "explorer");
    let room = Room::start(&binary);
    println!(
        "The room's explorer (release, pid {}) under {learners} learners pressing Go up to index \
         {max_index} for {seconds} s ({} spans a press, {} µs a request inside the app), the Room \
         page fetched every {} ms{}:",
        room.pid(),
        (0..=max_index).map(spans_for).sum::<u64>(),
        per_request.as_micros(),
        PAGE_EVERY.as_millis(),
        if quiet > 0 {
            format!(
                "; the last {quiet} quiet, up to index {QUIET_MAX_INDEX} ({} spans a press)",
                (0..=QUIET_MAX_INDEX).map(spans_for).sum::<u64>()
            )
        } else {
            String::new()
        }
    );

    let client = reqwest::Client::new();
    let before = get_json(&client, &format!("{}/api/stats", room.url)).await;
    let cpu_before = (cpu_seconds(room.pid()), cpu_seconds_self());
    let counts = Arc::new(Counts::default());
    let started = Instant::now();
    let until = started + duration;

    let pages = tokio::spawn(time_pages(client.clone(), room.url.clone(), until));
    let mut class = tokio::task::JoinSet::new();
    for number in 1..=learners {
        let learner = Learner {
            name: format!("learner-{number:02}"),
            endpoint: format!("{}/v1/traces", room.http),
            client: reqwest::Client::new(),
            rng: Rng::new(0x5EED_0000 + number as u64),
            max_index: if number > learners - quiet {
                QUIET_MAX_INDEX
            } else {
                max_index
            },
            per_request,
            think_ms: loadgen::think_ms(duration),
            counts: counts.clone(),
        };
        class.spawn(learner.run(until));
    }
    class.join_all().await;
    let elapsed = started.elapsed();
    let mut renders = pages.await.expect("the page sampler does not panic");
    // The same page once the class has stopped, over the same full window: what rendering it
    // costs, without the wait behind the exports.
    let mut at_rest = time_pages(client.clone(), room.url.clone(), Instant::now() + AT_REST).await;

    let after = get_json(&client, &format!("{}/api/stats", room.url)).await;
    let board = get_json(&client, &format!("{}/api/room", room.url)).await;
    let peak = stack::process::memory_of(room.pid())
        .expect("the explorer's memory in /proc")
        .peak;
    let cpu = (
        cpu_seconds(room.pid()) - cpu_before.0,
        cpu_seconds_self() - cpu_before.1,
    );
    drop(room);

    report(Report {
        learners,
        elapsed,
        counts: &counts,
        before: &before,
        after: &after,
        board: &board,
        peak,
        cpu,
        renders: &mut renders,
        at_rest: &mut at_rest,
    });
}

// --- the room's explorer, a process of its own ------------------------------------------------

/// The room's explorer, killed (by its PID) when dropped: at the end, or when the bench panics.
struct Room {
    child: Child,
    /// The pages' base URL, and OTLP/HTTP's.
    url: String,
    http: String,
}

impl Room {
    fn start(binary: &str) -> Room {
        let [port, grpc, http] = free_ports();
        let mut child = Command::new(binary)
            .args(["--host", "127.0.0.1"])
            .args(["--port", &port.to_string()])
            .args(["--grpc-port", &grpc.to_string()])
            .args(["--http-port", &http.to_string()])
            .args(["--require-code", CODE])
            .args(["--max-spans", &MAX_SPANS.to_string()])
            .args(["--max-mib", &MAX_MIB.to_string()])
            // None of the environment's EXPLORER_*, ROOM_URL or LEARNER_NAME: the flags say it all.
            .env_clear()
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("could not start {binary}: {err}"));
        let stdout = child.stdout.take().expect("stdout is piped");
        // From here on the guard owns the child: a panic below still stops it.
        let mut room = Room {
            child,
            url: String::new(),
            http: format!("http://127.0.0.1:{http}"),
        };
        let mut lines = BufReader::new(stdout).lines();
        // "Trace explorer: http://127.0.0.1:PORT  (receiving OTLP on …)", once it listens.
        let line = lines
            .next()
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("{binary} printed no line: did it start?"));
        room.url = line
            .split_whitespace()
            .find(|word| word.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_string();
        // Whatever else it prints is read, so that a full pipe never blocks it.
        std::thread::spawn(move || lines.for_each(drop));
        room
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Room {
    fn drop(&mut self) {
        // SIGKILL to this PID only; then reap it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Three free loopback ports, held together while they are picked so that they differ.
fn free_ports() -> [u16; 3] {
    let listeners = [(); 3].map(|()| std::net::TcpListener::bind("127.0.0.1:0").unwrap());
    listeners.map(|listener| listener.local_addr().unwrap().port())
}

/// CPU time (user + system) `pid` has used, in seconds, from `/proc/PID/stat` (clock ticks of
/// 1/100 s, Linux's `USER_HZ` everywhere but on a few old architectures).
fn cpu_seconds(pid: u32) -> f64 {
    cpu_seconds_of(&format!("/proc/{pid}/stat"))
}

fn cpu_seconds_self() -> f64 {
    cpu_seconds_of("/proc/self/stat")
}

fn cpu_seconds_of(path: &str) -> f64 {
    let stat = std::fs::read_to_string(path).expect("Linux's /proc");
    // The command name, in parentheses, may hold spaces: count fields after its `)`.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    let response = client.get(url).send().await.expect("the room answers");
    assert_eq!(response.status(), 200, "{url}");
    let text = response.text().await.expect("a whole body");
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{url}: {err}"))
}

// --- the class ----------------------------------------------------------------------------------

/// What the learners sent, together.
#[derive(Default)]
struct Counts {
    presses: AtomicU64,
    requests: AtomicU64,
    spans_sent: AtomicU64,
    exports: AtomicU64,
    /// Exports answered with anything but 200, or not answered.
    failed_exports: AtomicU64,
}

struct Learner {
    name: String,
    endpoint: String,
    /// One client a learner: a connection of its own, as each laptop's exporter has.
    client: reqwest::Client,
    rng: Rng,
    max_index: u32,
    per_request: Duration,
    think_ms: (u64, u64),
    counts: Arc<Counts>,
}

impl Learner {
    /// Thinks, presses Go, lets the page ask every index up to the cap, and again, until `until`.
    async fn run(mut self, until: Instant) {
        let mut pending: Vec<Span> = Vec::new();
        let mut last_export = Instant::now();
        // When the app would answer the request under way: requests follow each other.
        let mut clock = Instant::now();
        loop {
            let think = Duration::from_millis(self.rng.in_range(self.think_ms.0..=self.think_ms.1));
            if Instant::now() + think >= until {
                break;
            }
            tokio::time::sleep(think).await;
            self.export_due(&mut pending, &mut last_export).await;
            self.counts.presses.fetch_add(1, Ordering::Relaxed);
            clock = clock.max(Instant::now());
            for index in 0..=self.max_index {
                // The app's work for this request: one sub-request after another. After a slow
                // export the learner starts again from now, rather than catching up in a burst.
                clock = clock.max(Instant::now())
                    + self.per_request * sequence::requests_for(index) as u32;
                if clock >= until {
                    break;
                }
                tokio::time::sleep_until(clock.into()).await;
                trace(&mut self.rng, index, &mut pending);
                self.counts.requests.fetch_add(1, Ordering::Relaxed);
                self.export_due(&mut pending, &mut last_export).await;
            }
        }
    }

    /// Exports every full batch, and the rest once a second has passed since the last export.
    async fn export_due(&self, pending: &mut Vec<Span>, last_export: &mut Instant) {
        while pending.len() >= BATCH_SPANS {
            let rest = pending.split_off(BATCH_SPANS);
            let batch = std::mem::replace(pending, rest);
            self.export(batch).await;
            *last_export = Instant::now();
        }
        if !pending.is_empty() && last_export.elapsed() >= BATCH_DELAY {
            self.export(std::mem::take(pending)).await;
            *last_export = Instant::now();
        }
    }

    async fn export(&self, spans: Vec<Span>) {
        let count = spans.len() as u64;
        let body = request(&self.name, spans).encode_to_vec();
        let answered = self
            .client
            .post(&self.endpoint)
            .header("content-type", "application/x-protobuf")
            .header(CODE_HEADER, CODE)
            .body(body)
            .send()
            .await;
        self.counts.exports.fetch_add(1, Ordering::Relaxed);
        match answered {
            Ok(response) if response.status() == 200 => {
                // Read to the end, so that the connection is reused.
                let _ = response.bytes().await;
                self.counts.spans_sent.fetch_add(count, Ordering::Relaxed);
            }
            _ => {
                self.counts.failed_exports.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

// --- the traces of solution 04's app ------------------------------------------------------------

/// Spans in the trace of `/fib?index=N`: for each of the c(N) requests the app handles, its server
/// span `GET /fib` and its `fib` span, and for each sub-request (all but the first) a client span
/// `GET`: 3·c(N) − 1 (14 for index 2, 1,394 for index 12, 5,918 for index 15).
fn spans_for(index: u32) -> u64 {
    3 * sequence::requests_for(index) - 1
}

/// Appends the trace of one `/fib?index=N` request, as solution 04 (and 05) exports it: the
/// root server span `GET /fib` (8 attributes), under it a `fib` span (`fib.index`, `fib.result`,
/// a `sum` event from index 2 up), under that, for index ≥ 2, two client spans `GET` (5
/// attributes), each the parent of the server span of the call it makes (the shape step 03's
/// check expects: server → client → server). Sub-requests follow one another; times are made
/// up, ending now.
fn trace(rng: &mut Rng, index: u32, out: &mut Vec<Span>) {
    let mut trace_id = [0u8; 16];
    trace_id[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    trace_id[8..].copy_from_slice(&(rng.next_u64() | 1).to_le_bytes());
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("a clock after 1970")
        .as_nanos() as u64;
    let mut calls = Calls {
        rng,
        trace_id: trace_id.to_vec(),
        out,
    };
    // Each request takes about 50 µs of its own, around its sub-requests.
    let start = now - sequence::requests_for(index) * 50_000;
    calls.call(Vec::new(), index, start);
}

struct Calls<'a> {
    rng: &'a mut Rng,
    trace_id: Vec<u8>,
    out: &'a mut Vec<Span>,
}

impl Calls<'_> {
    fn span_id(&mut self) -> Vec<u8> {
        (self.rng.next_u64() | 1).to_le_bytes().to_vec()
    }

    /// The server and `fib` spans of one call and its sub-calls; returns when it ended.
    fn call(&mut self, parent: Vec<u8>, index: u32, start: u64) -> u64 {
        let (server_id, fib_id) = (self.span_id(), self.span_id());
        let fib_start = start + 15_000;
        let mut at = fib_start + 2_000;
        let mut event = Vec::new();
        if index >= 2 {
            for sub in [index - 1, index - 2] {
                let client_id = self.span_id();
                let end = self.call(client_id.clone(), sub, at + 5_000) + 5_000;
                let url = format!("http://127.0.0.1:8080/fib?index={sub}");
                self.push(
                    client_id,
                    fib_id.clone(),
                    "GET",
                    SpanKind::Client,
                    (at, end),
                    vec![
                        text("http.request.method", "GET"),
                        text("url.full", &url),
                        text("server.address", "127.0.0.1"),
                        int("server.port", 8080),
                        int("http.response.status_code", 200),
                    ],
                );
                at = end;
            }
            event.push(Event {
                time_unix_nano: at,
                name: "sum".into(),
                attributes: vec![
                    int("fib.left", sequence::fib_iterative(index - 1) as i64),
                    int("fib.right", sequence::fib_iterative(index - 2) as i64),
                ],
                dropped_attributes_count: 0,
            });
        }
        let fib_end = at + 3_000;
        self.push(
            fib_id,
            server_id.clone(),
            "fib",
            SpanKind::Internal,
            (fib_start, fib_end),
            vec![
                int("fib.index", i64::from(index)),
                int("fib.result", sequence::fib_iterative(index) as i64),
            ],
        );
        self.out.last_mut().expect("just pushed").events = event;
        let end = fib_end + 10_000;
        let query = format!("index={index}");
        self.push(
            server_id,
            parent,
            "GET /fib",
            SpanKind::Server,
            (start, end),
            vec![
                text("http.request.method", "GET"),
                text("url.scheme", "http"),
                text("url.path", "/fib"),
                text("url.query", &query),
                text("http.route", "/fib"),
                text("server.address", "127.0.0.1"),
                int("server.port", 8080),
                int("http.response.status_code", 200),
            ],
        );
        end
    }

    fn push(
        &mut self,
        span_id: Vec<u8>,
        parent_span_id: Vec<u8>,
        name: &str,
        kind: SpanKind,
        (start, end): (u64, u64),
        attributes: Vec<KeyValue>,
    ) {
        self.out.push(Span {
            trace_id: self.trace_id.clone(),
            span_id,
            parent_span_id,
            name: name.into(),
            kind: kind as i32,
            start_time_unix_nano: start,
            end_time_unix_nano: end,
            attributes,
            ..Default::default()
        });
    }
}

fn text(key: &str, value: &str) -> KeyValue {
    attribute(key, any_value::Value::StringValue(value.into()))
}

fn int(key: &str, value: i64) -> KeyValue {
    attribute(key, any_value::Value::IntValue(value))
}

fn attribute(key: &str, value: any_value::Value) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

/// One export, as the SDK's exporter builds it: one resource (the app's service name and the
/// learner's name, which a joined learner's explorer sets on what it forwards), one scope.
fn request(learner: &str, spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![text("service.name", "fib"), text(LEARNER_NAME, learner)],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

// --- the Room page ------------------------------------------------------------------------------

/// Asks for `/room` every [`PAGE_EVERY`] until `until`, one request after another (a late one
/// delays the next, never overlaps it); the wall time of each, answer read to the end.
async fn time_pages(client: reqwest::Client, url: String, until: Instant) -> Vec<Duration> {
    let page = format!("{url}/room");
    let mut ticks = tokio::time::interval(PAGE_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut renders = Vec::new();
    while Instant::now() < until {
        ticks.tick().await;
        let started = Instant::now();
        let response = client.get(&page).send().await.expect("the room answers");
        assert_eq!(response.status(), 200, "{page}");
        response.bytes().await.expect("a whole page");
        renders.push(started.elapsed());
    }
    renders
}

// --- the figures --------------------------------------------------------------------------------

struct Report<'a> {
    learners: usize,
    elapsed: Duration,
    counts: &'a Counts,
    before: &'a Value,
    after: &'a Value,
    board: &'a Value,
    peak: u64,
    /// CPU seconds of the explorer and of this bench (the class and the page sampler).
    cpu: (f64, f64),
    renders: &'a mut Vec<Duration>,
    /// The Room page after the class stopped.
    at_rest: &'a mut Vec<Duration>,
}

fn number(value: &Value, key: &str) -> u64 {
    value[key]
        .as_u64()
        .unwrap_or_else(|| panic!("no number {key} in {value}"))
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "NOT met" }
}

fn report(report: Report) {
    let Report {
        learners,
        elapsed,
        counts,
        before,
        after,
        board,
        peak,
        cpu,
        renders,
        at_rest,
    } = report;
    let seconds = elapsed.as_secs_f64();
    let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
    // Received = still kept + dropped to make room.
    let received = |stats: &Value| number(stats, "spans") + number(stats, "dropped_spans");
    let ingested = received(after) - received(before);
    let max_spans = number(after, "max_spans");
    let bound = max_spans / learners as u64;

    let rows = board["learners"]
        .as_array()
        .expect("learners[] in /api/room");
    let row = |value: &Value, key: &str| number(value, key);
    let mut dropped: Vec<(String, u64, u64)> = rows
        .iter()
        .map(|r| {
            let name = r["name"].as_str().unwrap_or("?").to_string();
            (name, row(r, "spans_received"), row(r, "spans_dropped"))
        })
        .collect();
    // Most dropped first.
    dropped.sort_by_key(|(_, _, lost)| std::cmp::Reverse(*lost));
    let under: Vec<_> = dropped.iter().filter(|(_, got, _)| *got <= bound).collect();
    let violations: Vec<_> = under.iter().filter(|(_, _, lost)| *lost > 0).collect();
    let kept: Vec<u64> = rows.iter().map(|r| row(r, "spans_kept")).collect();

    println!(
        "  learners {learners}, {seconds:.1} s: {} presses, {} /fib requests, {} exports ({} \
         failed)",
        load(&counts.presses),
        load(&counts.requests),
        load(&counts.exports),
        load(&counts.failed_exports),
    );
    println!(
        "  spans ingested       {ingested:>10}  {:>9.0} spans/s  (sent and answered 200: {})",
        ingested as f64 / seconds,
        load(&counts.spans_sent)
    );
    println!(
        "  window at the end    {:>10} spans of {max_spans}, {} MiB of {} MiB (estimate)",
        number(after, "spans"),
        number(after, "bytes") >> 20,
        number(after, "max_bytes") >> 20,
    );
    println!(
        "  spans dropped        {:>10}  most from: {}",
        number(after, "dropped_spans") - number(before, "dropped_spans"),
        after["dropped_by_learner"]
            .as_array()
            .map(|drops| {
                drops
                    .iter()
                    .map(|d| format!("{} {}", d["learner"].as_str().unwrap_or("?"), d["spans"]))
                    .collect::<Vec<_>>()
                    .join(", ")
            })
            .filter(|text| !text.is_empty())
            .unwrap_or_else(|| "nobody".into())
    );
    if let (Some(min), Some(max)) = (kept.iter().min(), kept.iter().max()) {
        println!(
            "  per learner          {} rows; kept {min}..{max} spans each; dropped {}..{}",
            rows.len(),
            dropped.last().map_or(0, |d| d.2),
            dropped.first().map_or(0, |d| d.2),
        );
    }
    println!(
        "  fair share           {bound} spans (max_spans / learners); {} learners received no \
         more, {} of them lost spans{}",
        under.len(),
        violations.len(),
        if violations.is_empty() {
            String::new()
        } else {
            format!(
                ": {}",
                violations
                    .iter()
                    .map(|(name, got, lost)| format!("{name} ({got} received, {lost} dropped)"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    let limit = MAX_MIB << 20;
    println!(
        "  explorer peak memory {:>7.0} MiB  of --max-mib {MAX_MIB} ({:.0} %)",
        peak as f64 / f64::from(1 << 20),
        peak as f64 * 100.0 / limit as f64
    );
    println!(
        "  CPU                  explorer {:.1} s, the class and the page sampler {:.1} s, of \
         {:.1} s × {} cores",
        cpu.0,
        cpu.1,
        seconds,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let (p50, p99, max) = percentiles(renders);
    println!(
        "  Room page /room      P50 {:.1} ms  P99 {:.1} ms  max {:.1} ms  ({} renders, under load)",
        ms(p50),
        ms(p99),
        ms(max),
        renders.len()
    );
    let (rest50, rest99, rest_max) = percentiles(at_rest);
    println!(
        "                       P50 {:.1} ms  P99 {:.1} ms  max {:.1} ms  ({} renders, the class \
         stopped, the window as full)",
        ms(rest50),
        ms(rest99),
        ms(rest_max),
        at_rest.len()
    );
    println!("Goals:");
    println!(
        "  no learner under its fair share dropped from:  {}{}",
        met(violations.is_empty()),
        if under.is_empty() {
            " (trivially: every learner was over its share; ROOM_BENCH_QUIET=10 tests it)"
        } else {
            ""
        }
    );
    println!(
        "  peak memory within --max-mib {MAX_MIB}:           {}",
        met(peak <= limit)
    );
    println!(
        "  Room page P99 ≤ {} ms:                       {}",
        GOAL_PAGE_P99.as_millis(),
        met(!renders.is_empty() && p99 <= GOAL_PAGE_P99)
    );
}

/// P50, P99 and the maximum of `samples` (zero for none).
fn percentiles(samples: &mut [Duration]) -> (Duration, Duration, Duration) {
    if samples.is_empty() {
        return (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    }
    (
        common::quantile(samples, 0.5),
        common::quantile(samples, 0.99),
        *samples.iter().max().expect("not empty"),
    )
}
