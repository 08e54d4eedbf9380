//! The explorer's pages in headless Chromium, filled with real spans by a real exporter: proof
//! that a learner who opens the explorer sees their traces, can follow one into its waterfall
//! and open a span, and can draw the heatmap the puzzles ask for and click through it to the
//! traces behind a cell.
//!
//! 1. An explorer on free loopback ports receives 30 traces shaped like the workshop app's from
//!    the Rust SDK's OTLP/HTTP protobuf exporter (batch processor, blocking reqwest client):
//!    `GET /fib` (server) → `fib` (internal, `fib.index`, `fib.result`, event `computed`) →
//!    `GET` (client) → `GET /fib` (server) → `fib`, with start times and durations spread out,
//!    and one trace that failed; and, from the SDK's OTLP/HTTP log exporter, one log record in the
//!    newest trace's root `fib` span.
//! 2. `/`: the list shows every trace, with its root, service, span and error counts; its first
//!    trace opens on a waterfall with one row per span and a visible bar each, the `fib` span's
//!    row marked "1 log"; a span opens on its attributes, events and log records. Screenshot:
//!    `explorer-trace.png`.
//! 3. `/query` with `HEATMAP(duration)`, `P99(duration)`, `name = fib`, grouped by `fib.index`:
//!    the heatmap has cells that hold every `fib` span between them, each cell's link lists
//!    traces, the table has one row per index; a clicked cell leads to traces that each open.
//!    Screenshot: `explorer-heatmap.png`.
//! 4. `/logs`: the record, with its service, severity and a link to its trace, which opens the
//!    trace with the record's span open and the record in it. Screenshot: `explorer-logs.png`.
//! 5. `/nope`: the error page, with a 404 and a message that names the pages there are.
//!
//! Every page is read by one script that returns JSON, and every assertion shows that JSON.
//! Screenshots go to `target/test-artifacts/` (the path is printed).
//!
//! Run with: `cargo test -p explorer --test ui`. Without Chromium or ChromeDriver it skips,
//! saying why; in CI (`CI=true`) it fails instead.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant, SystemTime};

use explorer::{Explorer, Settings};
use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, LoggerProvider as _, Severity};
use opentelemetry::trace::{
    SpanId, SpanKind, Status, TraceContextExt as _, TraceId, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{LogExporter, Protocol, SpanExporter, WithExportConfig as _};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use serde_json::{Value, json};
use testkit::browser::fantoccini::Locator;
use testkit::browser::{Browser, POLL};

/// How many traces are sent, and which of them fails.
const TRACES: u32 = 30;
const FAILING: u32 = 17;
/// The service name on every span, as the workshop app's.
const SERVICE: &str = "fib";
/// The body of the one log record, emitted in the newest trace's root `fib` span.
const LOG_BODY: &str = "computing fib with two sub-requests";
/// How long the spans may take to be in the window after the exporter's shutdown returned, and a
/// page to show what a click led to.
const ARRIVE_WITHIN: Duration = Duration::from_secs(10);
const PAGE_WITHIN: Duration = Duration::from_secs(10);
/// The window's outer width and height, in pixels (the page gets a little less height).
const WINDOW: (u32, u32) = (1200, 1800);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_show_the_traces_their_waterfalls_and_a_heatmap_in_chromium() {
    let started = Instant::now();
    let Some(browser) = Browser::start().await else {
        return;
    };
    // Tall, so that each screenshot shows a whole page: the waterfall with a span open, the
    // query form with the heatmap, the chart and the table under it.
    browser
        .client()
        .set_window_size(WINDOW.0, WINDOW.1)
        .await
        .expect("resizing the window");
    eprintln!("Chromium ready after {:?}", started.elapsed());

    let explorer = Explorer::start(&Settings::loopback())
        .await
        .expect("an explorer on loopback");
    let endpoint = explorer.http_endpoint();
    // The blocking client must not run on the runtime's threads, which serve the explorer.
    let sent = tokio::task::spawn_blocking(move || send_traces(&endpoint))
        .await
        .expect("sending the traces");
    wait_for_spans(&explorer, sent.span_count()).await;
    wait_for_the_log_record(&explorer).await;
    eprintln!(
        "{} spans in {} traces sent and received after {:?}",
        sent.span_count(),
        sent.traces.len(),
        started.elapsed()
    );

    list_then_trace_then_span(&browser, &explorer.url(), &sent).await;
    eprintln!("list → trace → span checked after {:?}", started.elapsed());
    heatmap_then_cell_then_traces(&browser, &explorer.url(), &sent).await;
    eprintln!(
        "heatmap → cell → traces checked after {:?}",
        started.elapsed()
    );
    logs_then_trace(&browser, &explorer.url(), &sent).await;
    eprintln!("logs → trace checked after {:?}", started.elapsed());
    unknown_page(&browser, &explorer.url()).await;
    eprintln!("error page checked after {:?}", started.elapsed());

    browser.close().await;
}

// ---------------------------------------------------------------------------------- the spans

/// What was sent, to compare the pages with.
#[derive(Debug, Default)]
struct Sent {
    /// By trace id, in lower-case hex as the pages show it.
    traces: HashMap<String, SentTrace>,
    /// `fib.index` of every `fib` span, one entry per span.
    fib_indexes: Vec<i64>,
    /// The trace with the log record, in hex.
    logged_trace: String,
}

#[derive(Debug)]
struct SentTrace {
    /// The index the root request asked for.
    index: i64,
    spans: usize,
    errors: usize,
}

impl Sent {
    fn span_count(&self) -> usize {
        self.traces.values().map(|trace| trace.spans).sum()
    }

    fn trace(&self, id: &str) -> &SentTrace {
        self.traces
            .get(id)
            .unwrap_or_else(|| panic!("trace {id} was not sent; sent: {:?}", self.traces.keys()))
    }
}

/// Sends [`TRACES`] traces through the SDK's OTLP/HTTP protobuf exporter to `endpoint` (the
/// base URL), and a log record in the newest one's root `fib` span through the log exporter;
/// shuts the providers down, which exports what is left. Blocking: run it in `spawn_blocking`.
fn send_traces(endpoint: &str) -> Sent {
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{endpoint}/v1/traces"))
        .build()
        .expect("an OTLP/HTTP exporter");
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(SERVICE).build())
        .build();
    let tracer = provider.tracer("explorer-ui-test");

    // One trace every 3 s over the last 90 s: spread across the heatmap's columns.
    let first = SystemTime::now() - Duration::from_secs(3 * u64::from(TRACES));
    let mut sent = Sent::default();
    for i in 0..TRACES {
        let index = i64::from(i % 12);
        let mut app = App {
            tracer: &tracer,
            // Some traces slower than others, so that one index has several durations.
            slowness: 1.0 + f64::from(i % 3) * 0.6,
            spans: 0,
            errors: 0,
            fib_indexes: &mut sent.fib_indexes,
            trace_id: None,
            root_fib: None,
        };
        let start = first + Duration::from_secs(3 * u64::from(i));
        app.request(&Context::new(), index, start, true, i == FAILING);
        let trace = SentTrace {
            index,
            spans: app.spans,
            errors: app.errors,
        };
        let trace_id = app.trace_id.expect("the root's trace id");
        if i == TRACES - 1 {
            let root_fib = app.root_fib.expect("the root's fib span");
            send_log_record(endpoint, root_fib);
            sent.logged_trace = trace_id.clone();
        }
        sent.traces.insert(trace_id, trace);
    }
    provider
        .shutdown()
        .expect("the provider's shutdown, which exports");
    sent
}

/// Sends one record, [`LOG_BODY`], as emitted in the span `(trace, span)` that started at
/// `start`, 0.1 ms after its start. The ids are given, not taken from an active span: the spans
/// here are made with times of our choosing, never entered.
fn send_log_record(endpoint: &str, (trace_id, span_id, start): (TraceId, SpanId, SystemTime)) {
    let exporter = LogExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(format!("{endpoint}/v1/logs"))
        .build()
        .expect("an OTLP/HTTP log exporter");
    let provider = SdkLoggerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(SERVICE).build())
        .build();
    let logger = provider.logger("explorer-ui-test");
    let mut record = logger.create_log_record();
    record.set_body(AnyValue::from(LOG_BODY));
    record.set_severity_number(Severity::Info);
    record.set_severity_text("INFO");
    record.set_timestamp(start + micros(100.0));
    record.set_trace_context(trace_id, span_id, None);
    logger.emit(record);
    provider
        .shutdown()
        .expect("the log provider's shutdown, which exports");
}

/// Makes the spans the workshop app would, with times of our choosing.
struct App<'a> {
    tracer: &'a SdkTracer,
    slowness: f64,
    spans: usize,
    errors: usize,
    fib_indexes: &'a mut Vec<i64>,
    trace_id: Option<String>,
    /// The root request's `fib` span (the first made): its ids and start.
    root_fib: Option<(TraceId, SpanId, SystemTime)>,
}

impl App<'_> {
    /// `GET /fib?index=N` at `start`: a server span, its `fib` span, and, when `recurse` and
    /// `N ≥ 2`, two concurrent sub-requests (client span, then the upstream's request, without
    /// recursing further). `fail`: the second sub-request fails, and with it the whole request.
    /// Gives the time it ended.
    fn request(
        &mut self,
        parent: &Context,
        index: i64,
        start: SystemTime,
        recurse: bool,
        fail: bool,
    ) -> SystemTime {
        let server = self
            .tracer
            .span_builder("GET /fib")
            .with_kind(SpanKind::Server)
            .with_start_time(start)
            .with_attributes([
                KeyValue::new("http.request.method", "GET"),
                KeyValue::new("url.path", "/fib"),
                KeyValue::new("url.query", format!("index={index}")),
                KeyValue::new("http.route", "/fib"),
            ])
            .start_with_context(self.tracer, parent);
        let server = parent.with_span(server);
        self.trace_id
            .get_or_insert_with(|| server.span().span_context().trace_id().to_string());

        let fib_start = start + micros(40.0);
        let fib = self
            .tracer
            .span_builder("fib")
            .with_kind(SpanKind::Internal)
            .with_start_time(fib_start)
            .with_attributes([KeyValue::new("fib.index", index)])
            .start_with_context(self.tracer, &server);
        let fib = server.with_span(fib);
        self.root_fib.get_or_insert_with(|| {
            let context = fib.span().span_context().clone();
            (context.trace_id(), context.span_id(), fib_start)
        });
        self.spans += 2;
        self.fib_indexes.push(index);

        let mut end = fib_start + self.work(index);
        let mut failed = false;
        if recurse && index >= 2 {
            // Both at once, as the app's `try_join!`.
            let asked = fib_start + micros(20.0);
            for (n, sub_index) in [index - 1, index - 2].into_iter().enumerate() {
                let sub_fails = fail && n == 1;
                let client = self
                    .tracer
                    .span_builder("GET")
                    .with_kind(SpanKind::Client)
                    .with_start_time(asked)
                    .with_attributes([
                        KeyValue::new("http.request.method", "GET"),
                        KeyValue::new(
                            "url.full",
                            format!("http://127.0.0.1:8080/fib?index={sub_index}"),
                        ),
                    ])
                    .start_with_context(self.tracer, &fib);
                let client = fib.with_span(client);
                self.spans += 1;
                let answered =
                    self.request(&client, sub_index, asked + micros(120.0), false, false);
                if sub_fails {
                    client
                        .span()
                        .set_attribute(KeyValue::new("http.response.status_code", 502));
                    client
                        .span()
                        .set_status(Status::error("the upstream answered 502 Bad Gateway"));
                    self.errors += 1;
                    failed = true;
                }
                let client_end = answered + micros(120.0);
                client.span().end_with_timestamp(client_end);
                end = end.max(client_end + micros(30.0));
            }
        }
        if failed {
            fib.span().set_status(Status::error("a sub-request failed"));
            self.errors += 1;
        } else {
            let result = fibonacci(index);
            fib.span()
                .set_attribute(KeyValue::new("fib.result", result));
            fib.span().add_event_with_timestamp(
                "computed",
                end,
                vec![KeyValue::new("fib.result", result)],
            );
        }
        fib.span().end_with_timestamp(end);

        let end = end + micros(40.0);
        let status = if failed { 502 } else { 200 };
        server
            .span()
            .set_attribute(KeyValue::new("http.response.status_code", status));
        if failed {
            server.span().set_status(Status::error("502 Bad Gateway"));
            self.errors += 1;
        }
        server.span().end_with_timestamp(end);
        end
    }

    /// How long F(`index`) takes by itself: 0.15 ms × 1.5^index, slower for some traces.
    fn work(&self, index: i64) -> Duration {
        micros(150.0 * 1.5_f64.powi(index as i32) * self.slowness)
    }
}

fn micros(micros: f64) -> Duration {
    Duration::from_secs_f64(micros / 1e6)
}

fn fibonacci(index: i64) -> i64 {
    (0..index).fold((0, 1), |(a, b), _| (b, a + b)).0
}

/// Waits until the explorer holds `count` spans: the exporter's shutdown returns when its last
/// request was answered, which is normally after the spans are in.
async fn wait_for_spans(explorer: &Explorer, count: usize) {
    let deadline = Instant::now() + ARRIVE_WITHIN;
    loop {
        let stats = explorer.shared.stats();
        if stats.spans >= count {
            assert_eq!(
                stats.spans, count,
                "expected exactly the {count} spans sent; the explorer holds {}",
                stats.spans
            );
            return;
        }
        assert!(
            Instant::now() < deadline,
            "expected {count} spans within {ARRIVE_WITHIN:?}; the explorer holds {}",
            stats.spans
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until the explorer holds the log record.
async fn wait_for_the_log_record(explorer: &Explorer) {
    let deadline = Instant::now() + ARRIVE_WITHIN;
    while explorer.shared.stats().logs < 1 {
        assert!(
            Instant::now() < deadline,
            "expected the log record within {ARRIVE_WITHIN:?}: {:?}",
            explorer.shared.stats()
        );
        tokio::time::sleep(POLL).await;
    }
}

// ---------------------------------------------------------------------------------- list → trace

/// `/` lists every trace; the first opens on its waterfall; a `fib` span opens on its attributes.
async fn list_then_trace_then_span(browser: &Browser, url: &str, sent: &Sent) {
    browser.goto(url).await;
    let list = browser.read(READ_TRACE_LIST).await;
    assert_eq!(list["path"], "/", "{list}");
    assert_eq!(list["title"], "Recent traces", "{list}");
    assert_eq!(
        list["spanCount"],
        json!(sent.span_count().to_string()),
        "expected the header to count every span sent; the page shows {list}"
    );
    let rows = rows(&list);
    assert_eq!(
        rows.len(),
        sent.traces.len(),
        "expected one row per trace sent; the page shows {list}"
    );
    let mut failed = Vec::new();
    for row in rows {
        let id = trace_id_of(row);
        let trace = sent.trace(id);
        assert_eq!(
            row["name"], "GET /fib",
            "root of {id}; the page shows {row}"
        );
        assert_eq!(
            row["service"], SERVICE,
            "service of {id}; the page shows {row}"
        );
        assert_eq!(
            row["spans"],
            json!(trace.spans),
            "span count of {id}: {row}"
        );
        assert_eq!(row["errors"], json!(trace.errors), "errors of {id}: {row}");
        assert_eq!(
            row["errorsMarked"],
            json!(trace.errors > 0),
            "expected the error count of {id} marked (.bad) exactly when not 0: {row}"
        );
        if trace.errors > 0 {
            failed.push(id);
        }
    }
    assert_eq!(
        failed.len(),
        1,
        "expected one failed trace; the page shows {list}"
    );

    let first = &rows[0];
    let id = trace_id_of(first);
    let trace = sent.trace(id);
    assert_eq!(
        id, sent.logged_trace,
        "expected the newest trace first, the one with the log record: {list}"
    );
    browser.click(".trace-link").await;
    let page = browser
        .wait_for(
            PAGE_WITHIN,
            &format!("the waterfall of trace {id}, the list's first"),
            READ_TRACE,
            |page| page["path"] == format!("/trace/{id}") && page["rows"].is_array(),
        )
        .await;
    check_waterfall(&page, id, trace);

    // The first `fib` span (the root request's), opened as a visitor would.
    let fib = page["rows"]
        .as_array()
        .and_then(|rows| rows.iter().position(|row| row["name"] == "fib"))
        .unwrap_or_else(|| panic!("expected a fib span in the waterfall; it shows {page}"));
    // It alone is marked as having a log record.
    let badges: Vec<(usize, &Value)> = page["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .filter(|(_, row)| !row["logBadge"].is_null())
        .map(|(n, row)| (n, &row["logBadge"]))
        .collect();
    assert_eq!(
        badges,
        [(fib, &json!("1 log"))],
        "expected a \"1 log\" badge on the root's fib span only; the page shows {page}"
    );
    browser
        .click("#waterfall details.span.kind-internal > summary")
        .await;
    let page = browser
        .wait_for(
            PAGE_WITHIN,
            "the fib span open after a click on its row",
            READ_TRACE,
            |page| page["rows"][fib]["open"] == true,
        )
        .await;
    let row = &page["rows"][fib];
    assert_eq!(
        row["attributesVisible"], true,
        "expected the open span's attributes to show: {row}"
    );
    let attributes = &row["attributes"];
    assert_eq!(
        attributes["fib.index"],
        json!(trace.index.to_string()),
        "expected fib.index of the root request; the open span shows {row}"
    );
    if trace.errors == 0 {
        assert_eq!(
            attributes["fib.result"],
            json!(fibonacci(trace.index).to_string()),
            "{row}"
        );
        assert_eq!(row["events"], json!(["computed"]), "{row}");
    }
    check_log_line(row);
    let others_open = page["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .filter(|(n, row)| *n != fib && row["open"] == true)
        .count();
    assert_eq!(
        others_open, 0,
        "expected only the clicked span open: {page}"
    );
    browser.save_screenshot("explorer-trace.png").await;
}

/// An open `fib` span's details show its log record: 0.1 ms after the span's start, INFO, the body.
fn check_log_line(row: &Value) {
    assert_eq!(
        row["logs"],
        json!([{ "at": "+0.10 ms", "severity": "INFO", "body": LOG_BODY }]),
        "expected the span's log record in its details; the open span shows {row}"
    );
    assert_eq!(
        row["logsVisible"], true,
        "expected the log record visible in the open span: {row}"
    );
}

/// A waterfall against what was sent: one row per span, the root first, a visible bar each
/// inside its track.
fn check_waterfall(page: &Value, id: &str, trace: &SentTrace) {
    let rows = rows(page);
    assert_eq!(
        page["spanCount"],
        json!(trace.spans.to_string()),
        "expected #trace-span-count to say {} for {id}; the page shows {page}",
        trace.spans
    );
    assert_eq!(
        rows.len(),
        trace.spans,
        "expected one details.span per span of {id}; the page shows {page}"
    );
    assert_eq!(rows[0]["name"], "GET /fib", "the root first: {page}");
    assert_eq!(rows[0]["kind"], "server", "the root first: {page}");
    for row in rows {
        let width = row["bar"]["width"].as_f64().unwrap_or_default();
        let left = row["bar"]["left"].as_f64().unwrap_or(-1.0);
        let track = row["bar"]["track"].as_f64().unwrap_or_default();
        assert!(
            width > 0.0 && row["bar"]["height"].as_f64() > Some(0.0),
            "expected every bar to have a size; this row shows {row}"
        );
        assert!(
            row["bar"]["visible"] == true && row["bar"]["color"] != "rgba(0, 0, 0, 0)",
            "expected every bar visible, in a colour; this row shows {row}"
        );
        assert!(
            left >= -0.5 && left + width <= track + 0.5,
            "expected every bar inside its track; this row shows {row}"
        );
        assert!(
            row["open"] == false && row["attributesVisible"] == false,
            "expected every span closed at first, its attributes hidden: {row}"
        );
    }
    let errors = rows
        .iter()
        .filter(|row| {
            row["classes"]
                .as_str()
                .unwrap_or("")
                .contains("status-error")
        })
        .count();
    assert_eq!(errors, trace.errors, "error rows of {id}: {page}");
}

/// The trace list: the header's span count, and each row.
const READ_TRACE_LIST: &str = r##"
    const text = (element) => element?.textContent.trim().replace(/\s+/g, " ") ?? null;
    const rows = [...document.querySelectorAll("#traces tbody tr")].map((row) => {
        const link = row.querySelector("a.trace-link");
        return {
            name: text(link),
            href: link?.getAttribute("href") ?? null,
            service: text(row.cells[1]),
            start: text(row.cells[2]),
            duration: text(row.cells[3]),
            spans: Number(text(row.cells[4])),
            errors: Number(text(row.cells[5])),
            errorsMarked: row.cells[5]?.classList.contains("bad") ?? false,
        };
    });
    return {
        path: location.pathname,
        search: location.search,
        title: text(document.querySelector("main h1")),
        spanCount: text(document.getElementById("span-count")),
        empty: text(document.getElementById("empty")),
        error: text(document.getElementById("error")),
        rows,
    };
"##;

/// The trace page: the span count, and each row of the waterfall with its bar's box, whether it
/// is open, and what its details hold.
const READ_TRACE: &str = r##"
    const text = (element) => element?.textContent.trim().replace(/\s+/g, " ") ?? null;
    const rows = [...document.querySelectorAll("#waterfall details.span")].map((row) => {
        const label = row.querySelector(".label");
        const barElement = row.querySelector(".bar");
        const bar = barElement?.getBoundingClientRect();
        const track = row.querySelector(".track")?.getBoundingClientRect();
        const attributes = row.querySelector(".details table.attributes");
        const logs = row.querySelector(".details table.logs");
        return {
            name: label?.firstChild?.textContent.trim() ?? null,
            kind: text(label?.querySelector("small")),
            classes: row.className,
            duration: text(row.querySelector(".duration")),
            open: row.open,
            bar: bar && track
                ? { left: bar.left - track.left, width: bar.width, height: bar.height,
                    track: track.width, color: getComputedStyle(barElement).backgroundColor,
                    visible: barElement.checkVisibility({ opacityProperty: true,
                                                         visibilityProperty: true }) }
                : null,
            attributes: Object.fromEntries(
                [...(attributes?.rows ?? [])].map((tr) => [text(tr.cells[0]), text(tr.cells[1])])),
            // A closed <details> keeps its content's boxes, skipped: checkVisibility knows.
            attributesVisible: attributes?.checkVisibility() ?? false,
            events: [...row.querySelectorAll(".details p strong")].map(text),
            logBadge: text(row.querySelector(".log-badge")),
            logs: [...(logs?.rows ?? [])].map((tr) => ({
                at: text(tr.querySelector(".at")),
                severity: text(tr.querySelector(".severity")),
                body: text(tr.querySelector(".body")),
            })),
            logsVisible: logs?.checkVisibility() ?? false,
        };
    });
    return {
        path: location.pathname,
        title: text(document.querySelector("main h1")),
        summary: text(document.getElementById("summary")),
        spanCount: text(document.getElementById("trace-span-count")),
        error: text(document.getElementById("error")),
        rows,
    };
"##;

fn rows(page: &Value) -> &Vec<Value> {
    page["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("expected rows; the page shows {page}"))
}

/// The trace id in a list row's link, `/trace/ID`.
fn trace_id_of(row: &Value) -> &str {
    row["href"]
        .as_str()
        .and_then(|href| href.strip_prefix("/trace/"))
        .unwrap_or_else(|| panic!("expected a link to /trace/ID; the row shows {row}"))
}

// ---------------------------------------------------------------------------------- heatmap

/// The heatmap of the `fib` spans, grouped by index: cells that hold every span, links that list
/// traces, one table row per index; a clicked cell's traces each open.
async fn heatmap_then_cell_then_traces(browser: &Browser, url: &str, sent: &Sent) {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("visualize", "HEATMAP(duration)")
        .append_pair("visualize", "P99(duration)")
        .append_pair("where", "name = fib")
        .append_pair("group_by", "fib.index")
        .finish();
    browser.goto(&format!("{url}/query?{query}")).await;
    let page = browser.read(READ_QUERY).await;
    assert_eq!(
        page["error"],
        Value::Null,
        "expected no error; the page shows {page}"
    );
    let fib_spans = sent.fib_indexes.len();
    assert_eq!(
        page["summary"]
            .as_str()
            .map(|summary| summary.starts_with(&format!("{fib_spans} of "))),
        Some(true),
        "expected all {fib_spans} fib spans matched; the page shows {page}"
    );

    // The form shows what was asked, so that "Run query" after an edit asks it again.
    assert_eq!(
        page["ticked"],
        serde_json::json!(["P99(duration)", "HEATMAP(duration)"]),
        "expected the calculations asked for ticked; the page shows {page}"
    );

    // The heatmap: drawn, with several cells that hold every span between them.
    let svg = &page["heatmap"];
    assert!(
        svg["width"].as_f64() > Some(100.0) && svg["height"].as_f64() > Some(100.0),
        "expected svg#heatmap drawn; the page shows {page}"
    );
    let cells = page["cells"]
        .as_array()
        .unwrap_or_else(|| panic!("expected heatmap cells; the page shows {page}"));
    assert!(
        cells.len() > 1,
        "expected more than one rect.cell; the page shows {page}"
    );
    let mut in_cells = 0;
    for cell in cells {
        assert!(
            cell["width"].as_f64() > Some(0.0) && cell["height"].as_f64() > Some(0.0),
            "expected every cell drawn; this one shows {cell}"
        );
        assert!(
            cell["visible"] == true && cell["fill"] != "none",
            "expected every cell visible, filled; this one shows {cell}"
        );
        assert!(
            cell["href"]
                .as_str()
                .is_some_and(|href| href.starts_with("/traces?")),
            "expected every cell to link to a trace list; this one shows {cell}"
        );
        in_cells += spans_in(cell);
    }
    assert_eq!(
        in_cells, fib_spans,
        "expected the cells to hold the {fib_spans} fib spans between them; the page shows {page}"
    );

    // The table: one row per index, each with a P99.
    assert_eq!(page["columns"][0], "fib.index", "{page}");
    let indexes: BTreeSet<String> = sent.fib_indexes.iter().map(i64::to_string).collect();
    let shown: Vec<&str> = rows(&page)
        .iter()
        .map(|row| row[0].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        shown.len(),
        indexes.len(),
        "expected one row per index {indexes:?}; the page shows {page}"
    );
    assert_eq!(
        shown.iter().copied().collect::<BTreeSet<_>>(),
        indexes.iter().map(String::as_str).collect(),
        "expected a row for each index {indexes:?}; the page shows {page}"
    );
    assert!(
        rows(&page)
            .iter()
            .all(|row| row[1].as_str().is_some_and(|p99| p99.ends_with(" ms"))),
        "expected a P99 in every row; the page shows {page}"
    );
    browser.save_screenshot("explorer-heatmap.png").await;

    // Every cell's link lists traces: at least one, at most one per span in the cell.
    let listed = browser
        .client()
        .execute_async(COUNT_EACH_CELLS_TRACES, Vec::new())
        .await
        .unwrap_or_else(|err| panic!("fetching the cells' links in the page: {err}"));
    let listed = listed
        .as_array()
        .filter(|listed| listed.len() == cells.len())
        .unwrap_or_else(|| panic!("expected one answer per cell; the page gave {listed}"));
    for cell in listed {
        let traces = cell["traces"].as_u64().unwrap_or_default() as usize;
        assert!(
            cell["status"] == 200 && (1..=spans_in(cell)).contains(&traces),
            "expected each cell's link to list between 1 and its span count of traces; \
             this one: {cell}"
        );
    }

    // The fullest cell, clicked.
    let (fullest, cell) = cells
        .iter()
        .enumerate()
        .max_by_key(|(_, cell)| spans_in(cell))
        .expect("cells");
    let rect = browser
        .client()
        .find_all(Locator::Css("svg#heatmap rect.cell"))
        .await
        .expect("the heatmap's cells")
        .into_iter()
        .nth(fullest)
        .unwrap_or_else(|| panic!("expected cell {fullest}; the page shows {page}"));
    rect.click()
        .await
        .unwrap_or_else(|err| panic!("clicking heatmap cell {cell}: {err}"));
    let list = browser
        .wait_for(
            PAGE_WITHIN,
            &format!("the trace list of the clicked cell {cell}"),
            READ_TRACE_LIST,
            |list| list["path"] == "/traces" && list["rows"].is_array(),
        )
        .await;
    assert_eq!(
        list["title"], "Traces with a matching span",
        "expected the cell's traces, filtered; the page shows {list}"
    );
    let href = cell["href"].as_str().unwrap_or_default();
    assert_eq!(
        format!(
            "{}{}",
            list["path"].as_str().unwrap_or_default(),
            list["search"].as_str().unwrap_or_default()
        ),
        href,
        "expected the click to follow the cell's link; the page shows {list}"
    );
    let listed = rows(&list);
    assert!(
        (1..=spans_in(cell)).contains(&listed.len()),
        "expected between 1 and {} traces for the clicked cell {cell}; the page shows {list}",
        spans_in(cell)
    );
    for row in listed {
        let id = trace_id_of(row);
        let trace = sent.trace(id);
        browser.goto(&format!("{url}/trace/{id}")).await;
        let page = browser.read(READ_TRACE).await;
        assert_eq!(page["error"], Value::Null, "trace {id} of the cell: {page}");
        check_waterfall(&page, id, trace);
    }
}

/// How many spans a heatmap cell holds, from its title: `3 spans, 1.2 ms to 1.5 ms, started …`.
fn spans_in(cell: &Value) -> usize {
    cell["title"]
        .as_str()
        .and_then(|title| title.split_once(" span"))
        .and_then(|(count, _)| count.parse().ok())
        .unwrap_or_else(|| panic!("expected a cell title \"N span(s), …\"; the cell shows {cell}"))
}

/// The query page: the summary line, the heatmap and its cells, the table.
const READ_QUERY: &str = r##"
    const text = (element) => element?.textContent.trim().replace(/\s+/g, " ") ?? null;
    const svg = document.querySelector("svg#heatmap")?.getBoundingClientRect();
    const cells = [...document.querySelectorAll("svg#heatmap rect.cell")].map((cell) => {
        const box = cell.getBoundingClientRect();
        return {
            href: cell.closest("a")?.getAttribute("href") ?? null,
            title: text(cell.querySelector("title")),
            width: box.width,
            height: box.height,
            fill: getComputedStyle(cell).fill,
            visible: cell.checkVisibility({ opacityProperty: true, visibilityProperty: true }),
            opacity: cell.getAttribute("fill-opacity"),
        };
    });
    return {
        path: location.pathname,
        summary: text(document.getElementById("result-summary")),
        error: text(document.getElementById("error")),
        heatmap: svg ? { width: svg.width, height: svg.height } : null,
        cells,
        ticked: [...document.querySelectorAll("#query input[name=visualize]:checked")]
            .map((box) => box.value),
        columns: [...document.querySelectorAll("#results thead th")].map(text),
        rows: [...document.querySelectorAll("#results tbody tr")]
            .map((row) => [...row.cells].map(text)),
    };
"##;

/// Fetches each heatmap cell's link from the page and counts the traces it lists; the last
/// argument is WebDriver's callback.
const COUNT_EACH_CELLS_TRACES: &str = r##"
    const done = arguments[arguments.length - 1];
    const cells = [...document.querySelectorAll("svg#heatmap rect.cell")];
    Promise.all(cells.map(async (cell) => {
        const href = cell.closest("a").getAttribute("href");
        const response = await fetch(href);
        const page = new DOMParser().parseFromString(await response.text(), "text/html");
        return {
            href,
            title: cell.querySelector("title").textContent,
            status: response.status,
            traces: page.querySelectorAll("#traces tbody tr").length,
            empty: page.getElementById("empty")?.textContent.trim() ?? null,
        };
    })).then(done, (err) => done([{ error: String(err) }]));
"##;

// ---------------------------------------------------------------------------------- logs

/// `/logs` lists the record with its trace's link; the link opens the trace on the record's span.
async fn logs_then_trace(browser: &Browser, url: &str, sent: &Sent) {
    browser.goto(&format!("{url}/logs")).await;
    let page = browser.read(READ_LOGS).await;
    assert_eq!(page["logCount"], "1", "the header's count: {page}");
    let expected = json!([{
        "service": SERVICE,
        "severity": "INFO",
        "body": LOG_BODY,
        "trace": sent.logged_trace,
    }]);
    assert_eq!(
        page["rows"], expected,
        "expected the one record, linked to its trace; the page shows {page}"
    );
    browser.save_screenshot("explorer-logs.png").await;

    browser.click("#logs a.trace-link").await;
    let id = &sent.logged_trace;
    let trace = browser
        .wait_for(
            PAGE_WITHIN,
            &format!("trace {id} after a click on the record's link"),
            READ_TRACE,
            |page| page["path"] == format!("/trace/{id}") && page["rows"].is_array(),
        )
        .await;
    let open: Vec<&Value> = rows(&trace)
        .iter()
        .filter(|row| row["open"] == true)
        .collect();
    assert!(
        open.len() == 1 && open[0]["name"] == "fib",
        "expected the record's span, and it only, open; the page shows {trace}"
    );
    check_log_line(open[0]);
}

/// The logs page: the header's count, and each row with its trace link's trace id.
const READ_LOGS: &str = r##"
    const text = (element) => element?.textContent.trim().replace(/\s+/g, " ") ?? null;
    return {
        path: location.pathname,
        logCount: text(document.getElementById("log-count")),
        error: text(document.getElementById("error")),
        rows: [...document.querySelectorAll("#logs tbody tr")].map((row) => ({
            service: text(row.cells[1]),
            severity: text(row.querySelector(".severity")),
            body: text(row.querySelector(".body")),
            trace: row.querySelector("a.trace-link")?.getAttribute("title")?.replace("trace.id ", "") ?? null,
        })),
    };
"##;

// ---------------------------------------------------------------------------------- errors

/// An unknown path gets the error page: a 404, and a message naming the pages there are.
async fn unknown_page(browser: &Browser, url: &str) {
    browser.goto(&format!("{url}/nope")).await;
    let page = browser
        .client()
        .execute_async(READ_ERROR_PAGE, Vec::new())
        .await
        .unwrap_or_else(|err| panic!("reading the error page: {err}"));
    assert_eq!(page["title"], "Not here", "{page}");
    assert_eq!(
        page["status"], 404,
        "expected a 404 for /nope; the page shows {page}"
    );
    let error = page["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("There is no page /nope") && error.contains("/query"),
        "expected #error to say there is no page /nope and name the pages; it shows {page}"
    );
    assert_eq!(
        page["back"], "/",
        "expected a link back to the traces; the page shows {page}"
    );
}

/// The error page, and the status it came with (fetched again: WebDriver does not tell).
const READ_ERROR_PAGE: &str = r##"
    const done = arguments[arguments.length - 1];
    const text = (element) => element?.textContent.trim().replace(/\s+/g, " ") ?? null;
    const shown = {
        path: location.pathname,
        title: text(document.querySelector("main h1")),
        error: text(document.getElementById("error")),
        back: document.querySelector("main a")?.getAttribute("href") ?? null,
    };
    fetch(location.href).then(
        (response) => done({ ...shown, status: response.status }),
        (err) => done({ ...shown, status: String(err) }),
    );
"##;
