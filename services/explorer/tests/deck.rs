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

// ------------------------------------------------------------------- the deck's path, in Chromium

mod chromium {
    //! The deck's second half, walked in headless Chromium as a learner does it: the heatmap
    //! grouped by index → hover the slowest group's row (its cells light up) → drag over the slow
    //! dots → the comparison puts `fib.index` first → open the slowest trace → add the
    //! `fib.index` column → click `=` on a value → the query, filtered. Screenshots go to
    //! `target/test-artifacts/deck-*.png`. Without Chromium or ChromeDriver it skips, saying why;
    //! in CI (`CI=true`) it fails instead.

    use std::time::Duration;

    use serde_json::Value;
    use testkit::browser::Browser;
    use testkit::browser::fantoccini::actions::{
        InputSource as _, MOUSE_BUTTON_LEFT, MouseActions, PointerAction,
    };
    use testkit::browser::fantoccini::key::Key;
    use testkit::browser::fantoccini::{Client, Locator};

    use super::{INDEXES, REQUESTS, planted_explorer};

    const PAGE_WITHIN: Duration = Duration::from_secs(10);

    /// The query page: its table's rows, and what the heatmap shows lit.
    const READ_QUERY: &str = r##"
        const heatmap = document.getElementById("heatmap");
        const shown = [...document.querySelectorAll("#heatmap .group-cells")]
            .filter((g) => getComputedStyle(g).display !== "none")
            .map((g) => ({
                group: g.dataset.group,
                ys: [...g.querySelectorAll("rect")].map((r) => Number(r.getAttribute("y"))),
            }));
        const cell = document.querySelector("#heatmap rect.cell");
        return {
            path: location.pathname,
            search: location.search,
            error: document.getElementById("error")?.textContent ?? null,
            rows: [...document.querySelectorAll("#results tbody tr")]
                .map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent.trim())),
            lit: heatmap?.classList.contains("lit") ?? false,
            shown,
            faded: cell ? getComputedStyle(cell).fillOpacity : null,
            rowEdges: heatmap?.dataset.rowEdges ?? "",
            where: document.getElementById("where")?.value ?? "",
            selection: document.getElementById("selection-summary")?.textContent ?? null,
            compared: [...document.querySelectorAll("#compare tr.share")].map((tr) => ({
                field: tr.dataset.field,
                value: tr.querySelector("a.filter-value").textContent,
            })),
            slowest: [...document.querySelectorAll("a.slow-trace")].map((a) => a.getAttribute("href")),
        };
    "##;

    /// A trace page: each span's name, whether it is open, and its columns.
    const READ_TRACE: &str = r##"
        return {
            path: location.pathname,
            search: location.search,
            rows: [...document.querySelectorAll("#waterfall details.span")].map((d) => ({
                name: d.querySelector(".label").firstChild.textContent.trim(),
                open: d.open,
                duration: d.querySelector(".duration").textContent.trim(),
                columns: Object.fromEntries([...d.querySelectorAll("summary .column")]
                    .map((c) => [c.dataset.column, c.textContent.trim()])),
            })),
        };
    "##;

    async fn move_to(client: &Client, selector: &str, x: f64, y: f64) -> MouseActions {
        let element = client
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|err| panic!("{selector}: {err}"));
        MouseActions::new("mouse".into()).then(PointerAction::MoveToElement {
            element,
            duration: None,
            x,
            y,
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_decks_path_from_the_heatmap_to_a_filtered_query() {
        let Some(browser) = Browser::start().await else {
            return;
        };
        let client = browser.client();
        client.set_window_size(1200, 1800).await.unwrap();
        let explorer = planted_explorer().await;

        // 1. The heatmap of the `fib` spans, grouped by index, the slowest group first.
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("visualize", "HEATMAP(duration)")
            .append_pair("visualize", "COUNT")
            .append_pair("visualize", "P99(duration)")
            .append_pair("where", "name = fib")
            .append_pair("group_by", "fib.index")
            .append_pair("order_by", "P99(duration) desc")
            .finish();
        browser
            .goto(&format!("{}/query?{query}", explorer.url()))
            .await;
        let page = browser.read(READ_QUERY).await;
        assert_eq!(page["error"], Value::Null, "{page}");
        assert_eq!(page["rows"][0][0], "30", "slowest first: {page}");
        assert_eq!(page["rows"].as_array().unwrap().len(), INDEXES as usize);

        // 2. The mouse on that row: its group's cells light up, on the heatmap's top row (the
        //    slowest), and the other cells fade.
        let hover = move_to(client, "#results tbody tr", 0.0, 0.0).await;
        client.perform_actions(hover).await.unwrap();
        let page = browser
            .wait_for(PAGE_WITHIN, "the hovered group lit", READ_QUERY, |page| {
                page["lit"] == true
            })
            .await;
        let shown = page["shown"].as_array().unwrap();
        assert_eq!(shown.len(), 1, "one group lit: {page}");
        assert_eq!(shown[0]["group"], "0");
        let ys = shown[0]["ys"].as_array().unwrap();
        assert!(
            !ys.is_empty() && ys.iter().all(|y| y.as_f64() == Some(0.0)),
            "{page}"
        );
        assert_eq!(page["faded"], "0.12", "{page}");
        browser.save_screenshot("deck-hover.png").await;

        // 3. Drag over the slow dots: every column, from the top down to the row that holds
        //    index 21's 209 ms. The selection is every `fib` span from that row's lower edge up.
        let edges: Vec<f64> = page["rowEdges"]
            .as_str()
            .unwrap()
            .split(',')
            .map(|edge| edge.trim_end_matches("ms").parse::<f64>().unwrap() * 1e6)
            .collect();
        let rows = edges.len() - 1;
        let k = edges
            .windows(2)
            .position(|w| w[0] <= 209e6 && 209e6 < w[1])
            .unwrap();
        let bottom = (rows - k) as f64 * 300.0 / rows as f64 - 1.0;
        let expected = (1..=INDEXES)
            .filter(|n| (10 * n - 1) as f64 * 1e6 >= edges[k])
            .count() as u64
            * (REQUESTS / INDEXES);
        let drag = move_to(client, "#heatmap rect.plot", -399.0, -149.0)
            .await
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            })
            .then(PointerAction::MoveBy {
                duration: Some(Duration::from_millis(100)),
                x: 400.0,
                y: bottom / 2.0,
            })
            .then(PointerAction::MoveBy {
                duration: Some(Duration::from_millis(100)),
                x: 398.0,
                y: bottom / 2.0 - 1.0,
            })
            .then(PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            });
        client.perform_actions(drag).await.unwrap();
        let page = browser
            .wait_for(
                PAGE_WITHIN,
                "the page with the selection",
                READ_QUERY,
                |page| page["selection"].is_string(),
            )
            .await;
        let summary = page["selection"].as_str().unwrap();
        assert!(
            summary.starts_with(&format!("{expected} of {REQUESTS} spans selected")),
            "{page}"
        );

        // 4. Compared with the rest, the index explains it: high indexes inside.
        let compared = page["compared"].as_array().unwrap();
        assert_eq!(compared[0]["field"], "fib.index", "{page}");
        browser
            .read(r##"document.getElementById("selection").scrollIntoView(); return true;"##)
            .await;
        browser.save_screenshot("deck-compare.png").await;

        // 5. The slowest trace, opened on its slowest span in the selection: index 30's `fib`.
        browser.click("a.slow-trace").await;
        let trace = browser
            .wait_for(PAGE_WITHIN, "the slowest trace", READ_TRACE, |page| {
                page["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("/trace/"))
            })
            .await;
        let open: Vec<&Value> = trace["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row["open"] == true)
            .collect();
        assert_eq!(open.len(), 1, "{trace}");
        assert_eq!(open[0]["name"], "fib", "{trace}");
        assert_eq!(open[0]["duration"], "299.0 ms", "{trace}");

        // 6. A column: `fib.index` beside each span's name.
        let columns = client
            .find(Locator::Css("#columns-box"))
            .await
            .expect("the columns box");
        columns.clear().await.unwrap();
        columns
            .send_keys(&format!("fib.index{}", char::from(Key::Enter)))
            .await
            .unwrap();
        let trace = browser
            .wait_for(PAGE_WITHIN, "the trace with a column", READ_TRACE, |page| {
                page["search"]
                    .as_str()
                    .is_some_and(|s| s.contains("columns=fib.index"))
            })
            .await;
        let shown: Vec<(&Value, &Value)> = trace["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|row| (&row["name"], &row["columns"]["fib.index"]))
            .collect();
        assert_eq!(
            shown,
            [
                (&Value::from("GET /fib"), &Value::from("")),
                (&Value::from("fib"), &Value::from("30"))
            ],
            "{trace}"
        );
        browser.save_screenshot("deck-columns.png").await;

        // 7. `=` on the open span's `fib.index`: the query, with the filter added to its own.
        let eq = browser
            .read(
                r##"return [...document.querySelectorAll("button.filter-eq")].findIndex((a) =>
                    a.closest("details[open]") && a.closest("tr")?.querySelector("th")?.textContent.trim() === "fib.index");"##,
            )
            .await;
        let eq = eq
            .as_u64()
            .unwrap_or_else(|| panic!("no = link for fib.index: {eq}")) as usize;
        let links = client
            .find_all(Locator::Css("button.filter-eq"))
            .await
            .unwrap();
        links[eq].clone().click().await.unwrap();
        let page = browser
            .wait_for(PAGE_WITHIN, "the filtered query", READ_QUERY, |page| {
                page["path"] == "/query"
            })
            .await;
        let filters: Vec<&str> = page["where"].as_str().unwrap().lines().collect();
        assert!(
            filters.contains(&"name = fib") && filters.contains(&"fib.index = 30"),
            "{page}"
        );
        assert_eq!(page["rows"][0][0], "30", "{page}");
        assert_eq!(page["rows"].as_array().unwrap().len(), 1, "{page}");
        browser.save_screenshot("deck-filtered.png").await;
        browser.close().await;
    }
}
