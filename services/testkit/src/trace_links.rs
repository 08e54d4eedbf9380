//! A trace for each click: from step 03 on, each answer names its trace in a `traceresponse`
//! header (`sequence::trace_link`), and the page links each number to that trace.
//!
//! - [`answers_name_their_trace`]: over HTTP, against what a real OTLP receiver got. From step 03
//!   the header names the trace of that very request, whose root is the request's own server
//!   span (`GET /fib`, no parent: the page sends no `traceparent`), and a span of it; a request
//!   that came with a `traceparent` gets none. Before step 03 no answer has one. Step 08 with
//!   nothing sampled: the flags say so, and no span of that trace arrives.
//! - [`in_chromium_each_number_links_to_its_trace`]: the page in headless Chromium, with the
//!   trace explorer receiving the app's spans over OTLP on loopback, at the page's own host and
//!   `EXPLORER_PORT` as `./run.sh` has it. From step 03: Go, each
//!   number links to its own trace in the explorer and in Jaeger (`JAEGER_UI_URL`); the link of
//!   index 5, clicked, opens the waterfall of that trace, rooted at `GET /fib`. Before step 03:
//!   no link, and the page says why. Step 03 also with the explorer not running (`EXPLORER_URL`
//!   at a closed port): the page says so. Step 08 with nothing sampled: "not sampled" instead of links. Screenshots in
//!   `target/test-artifacts/`.

use std::time::{Duration, Instant};

use explorer::{Explorer, Settings};
use receiver::{ReceivedSpan, Receiver, SpanKind};
use sequence::trace_link::{Noted, TRACERESPONSE};
use serde_json::Value;

use crate::App;
use crate::browser::{Browser, POLL};

/// Where the page is told Jaeger is: never opened, only read in the links.
const JAEGER: &str = "http://jaeger.invalid:16686";
/// The cap for the page's runs: enough for index 5's trace, quick in every step.
const CAP: u32 = 6;
/// The index whose link the browser test follows.
const FOLLOWED: usize = 5;
/// How long a run of the page to the cap, the spans' arrival, or a page may take.
const WITHIN: Duration = Duration::from_secs(30);

/// `GET url` with no `traceparent` (or with the one given): the status and the `traceresponse`.
async fn ask(url: &str, traceparent: Option<&str>) -> (u16, Option<String>) {
    let client = reqwest::Client::new();
    let mut request = client.get(url);
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|err| panic!("GET {url}: {err}"));
    let header = response
        .headers()
        .get(TRACERESPONSE)
        .map(|value| value.to_str().expect("an ASCII header").to_string());
    (response.status().as_u16(), header)
}

/// The `traceresponse` of an answer, read; a failure names what came instead.
fn read_header(what: &str, header: Option<&str>) -> Noted {
    let value = header.unwrap_or_else(|| panic!("{what}: no {TRACERESPONSE} header"));
    Noted::parse(value).unwrap_or_else(|| panic!("{what}: {TRACERESPONSE} {value:?} is malformed"))
}

/// Checks that `noted` names a whole trace among `spans` whose root is the request's own server
/// span, and gives that trace's spans.
fn assert_rooted_trace<'a>(
    step: u32,
    what: &str,
    noted: &Noted,
    spans: &'a [ReceivedSpan],
) -> Vec<&'a ReceivedSpan> {
    let trace_id = noted.trace_id.to_string();
    let span_id = noted.span_id.to_string();
    let trace: Vec<_> = spans.iter().filter(|s| s.trace_id == trace_id).collect();
    let roots: Vec<_> = trace
        .iter()
        .filter(|s| s.parent_span_id.is_none())
        .collect();
    let [root] = roots[..] else {
        panic!(
            "{what}: expected one root span in trace {trace_id}, found {}: {:#?}",
            roots.len(),
            trace.iter().map(|s| (&s.name, &s.kind)).collect::<Vec<_>>()
        )
    };
    assert!(
        root.name == "GET /fib" && root.kind == SpanKind::Server,
        "{what}: the root of trace {trace_id} is {:?} ({:?}), not the request's server span GET /fib",
        root.name,
        root.kind
    );
    // The span current when the handler read the index: the server span itself (step 03), or
    // the `fib` span just inside it (step 04 on).
    let named = trace
        .iter()
        .find(|s| s.span_id == span_id)
        .unwrap_or_else(|| panic!("{what}: no span {span_id} in trace {trace_id}"));
    assert!(
        named.span_id == root.span_id
            || named.parent_span_id.as_deref() == Some(root.span_id.as_str()),
        "{what}: the header names span {span_id} ({:?}), neither the root nor a child of it",
        named.name
    );
    if step >= 4 {
        let query = root.attribute("url.query").and_then(|v| v.as_str());
        assert!(
            query.is_some_and(|query| what.contains(query)),
            "{what}: the root's url.query is {query:?}"
        );
    }
    trace
}

/// Over HTTP: which answers carry `traceresponse`, and that it names the request's own trace.
pub async fn answers_name_their_trace(step: u32, binary: &str) {
    let receiver = Receiver::start()
        .await
        .expect("an OTLP receiver on loopback");
    let endpoint = receiver.http_endpoint();
    let mut app = App::start(binary, &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)]).await;
    let five = format!("{}/fib?index=5", app.url);
    let bad = format!("{}/fib?index=abc", app.url);
    let (status, header) = ask(&five, None).await;
    assert_eq!(status, 200, "GET {five}");
    let (bad_status, bad_header) = ask(&bad, None).await;
    assert_eq!(bad_status, 400, "GET {bad}");
    // A request that continues a trace (as every sub-request does) is not the root of its trace:
    // no link leads there from it.
    let caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let (_, continued) = ask(&format!("{}/fib?index=2", app.url), Some(caller)).await;
    assert_eq!(continued, None, "an answer to a request with a traceparent");
    let output = app.stop(Duration::from_secs(20)).await;

    if step < 3 {
        assert_eq!(
            (header, bad_header),
            (None, None),
            "step {step:02} does not propagate context yet: each request of a click is a trace of \
             its own, and no answer may name one as if it were the click's"
        );
        return;
    }
    let spans = receiver.spans();
    let noted = read_header(&five, header.as_deref());
    assert!(noted.is_sampled(), "{five}: {noted:?} is not sampled");
    let trace = assert_rooted_trace(step, &five, &noted, &spans);
    // The sub-requests joined the trace: its server spans are every request of the click (all 15
    // until step 06 remembers; then one for each index from 5 down to 2, the first time, since
    // F(0) and F(1) are known from the start).
    let servers = trace.iter().filter(|s| s.kind == SpanKind::Server).count();
    let expected = match step {
        ..6 => sequence::requests_for(5) as usize,
        _ => 4,
    };
    assert_eq!(
        servers, expected,
        "{five}: server spans in trace {}; app output:\n{output}",
        noted.trace_id
    );
    let noted_bad = read_header(&bad, bad_header.as_deref());
    assert_rooted_trace(step, &bad, &noted_bad, &spans);

    if step == 8 {
        // Nothing sampled: the answer says so, and nothing of its trace is sent.
        let mut app = App::start(
            binary,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
                ("OTEL_TRACES_SAMPLER", "parentbased_always_off"),
            ],
        )
        .await;
        let url = format!("{}/fib?index=4", app.url);
        let (status, header) = ask(&url, None).await;
        assert_eq!(status, 200, "GET {url}");
        app.stop(Duration::from_secs(20)).await;
        let noted = read_header(&url, header.as_deref());
        assert!(!noted.is_sampled(), "{url}: {noted:?} says sampled");
        let trace_id = noted.trace_id.to_string();
        assert!(
            !receiver.spans().iter().any(|s| s.trace_id == trace_id),
            "{url}: spans of the unsampled trace {trace_id} arrived"
        );
    }
}

/// What the page shows after a run: each number, where it links, and the note above them.
#[derive(Debug)]
struct Links {
    items: Vec<Item>,
    note: String,
    go_enabled: bool,
}

/// One number on the page.
#[derive(Debug)]
struct Item {
    /// `waiting`, `done`, `stopped` or `error`.
    state: String,
    value: String,
    /// Where the number links, if it is a link.
    href: Option<String>,
    /// Where its Jaeger link leads, if it has one.
    jaeger: Option<String>,
    /// Whether it says "not sampled".
    unsampled: bool,
}

const READ_LINKS: &str = r##"
    const items = [...document.querySelectorAll("#sequence li")].map((item) => {
        const value = item.querySelector(".value");
        return [
            item.className,
            value ? value.textContent : "",
            value && value.tagName === "A" ? value.href : null,
            item.querySelector("a.jaeger")?.href ?? null,
            item.querySelector(".unsampled") !== null,
        ];
    });
    const note = document.getElementById("trace-note");
    return {
        items,
        note: note.hidden ? "" : note.textContent,
        goEnabled: !document.getElementById("go").disabled,
    };
"##;

impl Links {
    async fn read(browser: &Browser) -> Links {
        let json = browser.read(READ_LINKS).await;
        let items = json["items"]
            .as_array()
            .unwrap_or_else(|| panic!("unexpected page reading: {json}"))
            .iter()
            .map(|item| {
                let text = |value: &Value| value.as_str().map(str::to_string);
                Item {
                    state: text(&item[0]).unwrap_or_default(),
                    value: text(&item[1]).unwrap_or_default(),
                    href: text(&item[2]),
                    jaeger: text(&item[3]),
                    unsampled: item[4].as_bool().unwrap_or_default(),
                }
            })
            .collect();
        Links {
            items,
            note: json["note"].as_str().unwrap_or_default().to_string(),
            go_enabled: json["goEnabled"].as_bool().unwrap_or_default(),
        }
    }

    fn done(&self) -> bool {
        self.go_enabled
            && self.items.len() == CAP as usize + 1
            && self.items.iter().all(|item| item.state == "done")
    }
}

impl std::fmt::Display for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}, note {:?}", self.items, self.note)
    }
}

/// Opens the page at `url`, presses Go, and waits for every number up to the cap.
async fn run_to_the_cap(browser: &Browser, url: &str) -> Links {
    browser.goto(url).await;
    browser.click("#go").await;
    crate::browser::wait_until(
        WITHIN,
        &format!("the numbers up to index {CAP}, and Go enabled again"),
        || Links::read(browser),
        Links::done,
    )
    .await
}

/// Starts the app with its spans going to `explorer`, and the page's links there as `./run.sh`
/// sets them: the page's own host at `EXPLORER_PORT` (`more` may add `EXPLORER_URL`).
async fn app_for(binary: &str, explorer: &Explorer, more: &[(&str, &str)]) -> App {
    let endpoint = explorer.http_endpoint();
    let explorer_url = explorer.url();
    let port = explorer_url
        .rsplit(':')
        .next()
        .expect("the explorer's URL has a port")
        .to_string();
    let cap = CAP.to_string();
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("EXPLORER_PORT", port.as_str()),
        ("JAEGER_UI_URL", JAEGER),
        ("FIB_MAX_INDEX", cap.as_str()),
    ];
    env.extend_from_slice(more);
    App::start(binary, &env).await
}

/// The page in Chromium: Go, then a number's link, then its trace's waterfall in the explorer.
pub async fn in_chromium_each_number_links_to_its_trace(step: u32, binary: &str) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let explorer = Explorer::start(&Settings::loopback())
        .await
        .expect("an explorer on loopback");
    let mut app = app_for(binary, &explorer, &[]).await;
    let page = run_to_the_cap(&browser, &app.url).await;

    if step < 3 {
        assert!(
            page.items
                .iter()
                .all(|item| item.href.is_none() && item.jaeger.is_none()),
            "no number links to a trace before step 03; the page shows {page}"
        );
        assert!(
            page.note.contains("No link to a trace yet") && page.note.contains("step 03"),
            "the page says why there is no link yet; it shows {page}"
        );
        browser
            .save_screenshot(&format!("page-step-{step:02}-no-trace-links.png"))
            .await;
        app.stop(Duration::from_secs(20)).await;
        browser.close().await;
        return;
    }

    // Each number links to a trace of its own, in the explorer and in Jaeger.
    let mut trace_ids = Vec::new();
    for (
        index,
        Item {
            value,
            href,
            jaeger,
            ..
        },
    ) in page.items.iter().enumerate()
    {
        let href = href.as_deref().unwrap_or_else(|| {
            panic!("index {index} ({value}) has no link; the page shows {page}")
        });
        let trace_id = href
            .strip_prefix(&format!("{}/trace/", explorer.url()))
            .filter(|id| id.len() == 32)
            .unwrap_or_else(|| {
                panic!("index {index} links to {href}, not to a trace in the explorer")
            });
        assert_eq!(
            jaeger.as_deref(),
            Some(format!("{JAEGER}/trace/{trace_id}").as_str()),
            "index {index}'s Jaeger link"
        );
        trace_ids.push(trace_id.to_string());
    }
    let mut distinct = trace_ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        trace_ids.len(),
        "a trace per number: {trace_ids:?}"
    );
    assert!(
        page.note.contains("links to its trace"),
        "the page says where the links lead; it shows {page}"
    );

    browser
        .save_screenshot(&format!("page-step-{step:02}-trace-links.png"))
        .await;

    // Index 5's trace has arrived once its root has: the root span ends, and is sent, last.
    let trace_id = trace_ids[FOLLOWED].clone();
    let arrived = explorer_trace(&explorer, &trace_id).await;
    let spans = arrived["spans"].as_array().expect("the trace's spans");
    let root = spans
        .iter()
        .find(|span| span["parent_span_id"].is_null())
        .expect("the root span");
    assert_eq!(root["name"], "GET /fib", "the root of {trace_id}: {root}");

    // Followed as a learner does: a click on the number, which opens a tab.
    let before = browser.client().windows().await.expect("the windows");
    browser
        .click(&format!("#sequence li:nth-child({}) a.value", FOLLOWED + 1))
        .await;
    let opened = wait_for_new_window(&browser, &before).await;
    browser
        .client()
        .switch_to_window(opened)
        .await
        .expect("switching to the trace's tab");
    let waterfall = browser
        .wait_for(
            WITHIN,
            &format!(
                "the waterfall of trace {trace_id}, all {} spans",
                spans.len()
            ),
            READ_WATERFALL,
            |shown| {
                shown["rows"]
                    .as_array()
                    .is_some_and(|rows| rows.len() == spans.len())
            },
        )
        .await;
    assert!(
        waterfall["summary"]
            .as_str()
            .is_some_and(|summary| summary.contains(&trace_id)),
        "the explorer shows trace {trace_id}: {waterfall}"
    );
    assert_eq!(waterfall["title"], "GET /fib", "{waterfall}");
    assert!(
        waterfall["rows"][0]
            .as_str()
            .is_some_and(|row| row.starts_with("GET /fib")),
        "the first row is the root, GET /fib: {waterfall}"
    );
    if step >= 4 {
        assert_eq!(waterfall["rootQuery"], "index=5", "{waterfall}");
    }
    browser
        .save_screenshot(&format!("trace-of-a-number-step-{step:02}.png"))
        .await;
    app.stop(Duration::from_secs(20)).await;

    // Without the explorer (./run.sh NN --no-explorer), the links are there, and the page says
    // the explorer does not answer.
    if step == 3 {
        browser
            .client()
            .switch_to_window(before[0].clone())
            .await
            .expect("back to the page's tab");
        let closed = crate::app::closed_url();
        let mut app = app_for(binary, &explorer, &[("EXPLORER_URL", &closed)]).await;
        run_to_the_cap(&browser, &app.url).await;
        let page = browser
            .wait_for(
                WITHIN,
                "a note that the explorer does not answer",
                READ_LINKS,
                |page| {
                    page["note"]
                        .as_str()
                        .is_some_and(|note| note.contains("does not answer"))
                },
            )
            .await;
        assert!(
            page["note"]
                .as_str()
                .is_some_and(|note| note.contains(&closed)),
            "{page}"
        );
        app.stop(Duration::from_secs(20)).await;
    }

    // Nothing sampled: no trace to link to, and the page says so.
    if step == 8 {
        let mut app = app_for(
            binary,
            &explorer,
            &[("OTEL_TRACES_SAMPLER", "parentbased_always_off")],
        )
        .await;
        browser
            .client()
            .switch_to_window(before[0].clone())
            .await
            .expect("back to the page's tab");
        let page = run_to_the_cap(&browser, &app.url).await;
        assert!(
            page.items
                .iter()
                .all(|item| item.href.is_none() && item.jaeger.is_none() && item.unsampled),
            "every number says \"not sampled\", with no link; the page shows {page}"
        );
        assert!(page.note.contains("not sampled"), "{page}");
        browser
            .save_screenshot("page-step-08-not-sampled.png")
            .await;
        app.stop(Duration::from_secs(20)).await;
    }
    browser.close().await;
}

/// The explorer's trace page: its title, summary, and the label of each waterfall row in order;
/// the root row's `url.query`, if it has one.
const READ_WATERFALL: &str = r##"
    const rows = [...document.querySelectorAll("#waterfall details.span")];
    const query = rows.length === 0 ? null : [...rows[0].querySelectorAll("table.attributes tr")]
        .find((row) => row.querySelector("th")?.textContent === "url.query")
        ?.querySelector("td")?.textContent ?? null;
    return {
        title: document.querySelector("main h1")?.firstChild?.textContent?.trim() ?? "",
        summary: document.getElementById("summary")?.textContent ?? "",
        rows: rows.map((row) => row.querySelector("summary .label")?.textContent.trim().replace(/\s+/g, " ") ?? ""),
        rootQuery: query,
    };
"##;

/// The trace `trace_id` from the explorer's API, once its root span is there.
async fn explorer_trace(explorer: &Explorer, trace_id: &str) -> Value {
    let url = format!("{}/api/traces/{trace_id}", explorer.url());
    let deadline = Instant::now() + WITHIN;
    loop {
        if let Ok(response) = reqwest::get(&url).await
            && response.status().is_success()
            && let Ok(text) = response.text().await
        {
            let json: Value = serde_json::from_str(&text).expect("the API's JSON");
            if json["summary"]["root_found"] == true {
                return json;
            }
        }
        assert!(
            Instant::now() < deadline,
            "trace {trace_id} with its root did not arrive in the explorer within {WITHIN:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// The window a click opened: the one not in `before`.
async fn wait_for_new_window(
    browser: &Browser,
    before: &[fantoccini::wd::WindowHandle],
) -> fantoccini::wd::WindowHandle {
    let deadline = Instant::now() + WITHIN;
    loop {
        let now = browser.client().windows().await.expect("the windows");
        if let Some(new) = now.into_iter().find(|handle| !before.contains(handle)) {
            return new;
        }
        assert!(
            Instant::now() < deadline,
            "the link did not open a tab within {WITHIN:?}"
        );
        tokio::time::sleep(POLL).await;
    }
}
