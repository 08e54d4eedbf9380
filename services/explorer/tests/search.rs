//! Search, the trace page's marks and columns, and click to filter, on spans planted over real
//! OTLP/HTTP from the SDK's exporter into an explorer on loopback:
//! `cargo test -p explorer --test search`.
//!
//! Two traces of service `fib`, on a resource that also says `host.name = Laptop-Ada`:
//! - A: `GET /fib` (server, `url.query = index=25`) → `fib` (`fib.index = 25`, an event
//!   `computed` with `fib.result = 75025`) → `GET` (client, `url.full = …/fib?index=24`);
//! - B: `GET /fib` (server, `url.query = index=3`, a `note` that spans two lines) → `fib`
//!   (`fib.index = 3`), failed with the message "Overflow in fib".

use std::time::{Duration, Instant};

use explorer::{Explorer, Settings};
use opentelemetry::trace::{
    SpanKind, Status, TraceContextExt as _, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::SdkTracerProvider;
use serde_json::Value;

/// Long enough for a loaded CI machine; the spans are normally there when `shutdown` returns.
const ARRIVE_WITHIN: Duration = Duration::from_secs(10);
const SPANS: usize = 5;

/// The planted spans' ids, in lower-case hex.
struct Planted {
    a: String,
    a_root: String,
    a_fib: String,
    a_client: String,
    b: String,
}

/// Sends the two traces; blocking: run it in `spawn_blocking`, so that the explorer, on the same
/// runtime, answers.
fn plant(traces_url: String) -> Planted {
    let exporter = SpanExporter::builder()
        .with_http()
        .with_endpoint(traces_url)
        .build()
        .expect("an OTLP/HTTP span exporter");
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name("fib")
                .with_attribute(KeyValue::new("host.name", "Laptop-Ada"))
                .build(),
        )
        .build();
    let tracer = provider.tracer("planter");
    let ids = |cx: &Context| {
        let span = cx.span();
        let context = span.span_context();
        (
            context.trace_id().to_string(),
            context.span_id().to_string(),
        )
    };

    let root = tracer
        .span_builder("GET /fib")
        .with_kind(SpanKind::Server)
        .with_attributes([KeyValue::new("url.query", "index=25")])
        .start(&tracer);
    let root = Context::new().with_span(root);
    let fib = tracer
        .span_builder("fib")
        .with_kind(SpanKind::Internal)
        .with_attributes([KeyValue::new("fib.index", 25)])
        .start_with_context(&tracer, &root);
    let fib = root.with_span(fib);
    fib.span()
        .add_event("computed", vec![KeyValue::new("fib.result", 75025)]);
    let client = tracer
        .span_builder("GET")
        .with_kind(SpanKind::Client)
        .with_attributes([KeyValue::new(
            "url.full",
            "http://127.0.0.1:8080/fib?index=24",
        )])
        .start_with_context(&tracer, &fib);
    let client = fib.with_span(client);
    let ((a, a_root), (_, a_fib), (_, a_client)) = (ids(&root), ids(&fib), ids(&client));
    for cx in [&client, &fib, &root] {
        cx.span().end();
    }

    let root = tracer
        .span_builder("GET /fib")
        .with_kind(SpanKind::Server)
        .with_attributes([
            KeyValue::new("url.query", "index=3"),
            KeyValue::new("note", "two\nlines"),
        ])
        .start(&tracer);
    let root = Context::new().with_span(root);
    let fib = tracer
        .span_builder("fib")
        .with_kind(SpanKind::Internal)
        .with_attributes([KeyValue::new("fib.index", 3)])
        .start_with_context(&tracer, &root);
    let fib = root.with_span(fib);
    fib.span().set_status(Status::error("Overflow in fib"));
    let (b, _) = ids(&root);
    for cx in [&fib, &root] {
        cx.span().end();
    }
    provider.shutdown().expect("the spans' shutdown");
    Planted {
        a,
        a_root,
        a_fib,
        a_client,
        b,
    }
}

async fn start() -> (Explorer, Planted) {
    let explorer = Explorer::start(&Settings::loopback()).await.unwrap();
    let traces_url = format!("{}/v1/traces", explorer.http_endpoint());
    let planted = tokio::task::spawn_blocking(move || plant(traces_url))
        .await
        .unwrap();
    let deadline = Instant::now() + ARRIVE_WITHIN;
    while explorer.shared.stats().spans < SPANS {
        assert!(Instant::now() < deadline, "the spans did not arrive");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (explorer, planted)
}

/// GET `path`: the status and the body.
async fn get(explorer: &Explorer, path: &str) -> (u16, String) {
    let url = format!("{}{path}", explorer.url());
    let response = reqwest::get(&url)
        .await
        .unwrap_or_else(|err| panic!("GET {url}: {err}"));
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}

async fn page(explorer: &Explorer, path: &str) -> String {
    let (status, body) = get(explorer, path).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

async fn search(explorer: &Explorer, query: &str) -> Value {
    let (status, body) = get(explorer, &format!("/api/search?{query}")).await;
    assert_eq!(status, 200, "/api/search?{query}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// A URL's query string with these pairs, encoded.
fn encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The matches' (span id, field, value).
fn matches(result: &Value) -> Vec<(String, String, String)> {
    result["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|found| {
            let text = |key: &str| found[key].as_str().unwrap().to_string();
            (text("span_id"), text("field"), text("value"))
        })
        .collect()
}

fn triple(span: &str, field: &str, value: &str) -> (String, String, String) {
    (span.to_string(), field.to_string(), value.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_finds_the_phrase_in_any_field_and_says_which() {
    let (explorer, planted) = start().await;

    let result = search(&explorer, &encode(&[("q", "index=25")])).await;
    assert_eq!(
        (&result["matched"], &result["scanned"]),
        (&1.into(), &5.into())
    );
    assert_eq!(
        matches(&result),
        [triple(&planted.a_root, "url.query", "index=25")]
    );
    assert_eq!(result["matches"][0]["trace_id"], planted.a.as_str());
    assert_eq!(result["matches"][0]["service"], "fib");
    assert_eq!(result["matches"][0]["name"], "GET /fib");
    assert!(result["took_ms"].as_f64().is_some(), "{result}");

    // Case is ignored: index=25, and the client's …?index=24.
    let result = search(&explorer, &encode(&[("q", "INDEX=2")])).await;
    assert_eq!(result["matched"], 2, "{result}");
    let mut found = matches(&result);
    found.sort();
    let mut expected = vec![
        triple(&planted.a_root, "url.query", "index=25"),
        triple(
            &planted.a_client,
            "url.full",
            "http://127.0.0.1:8080/fib?index=24",
        ),
    ];
    expected.sort();
    assert_eq!(found, expected);

    // An event's attribute (its key here: a number of five hex digits might be in an id too),
    // a status message, the resource, a trace id.
    let result = search(&explorer, "q=FIB.RESULT").await;
    assert_eq!(
        matches(&result),
        [triple(
            &planted.a_fib,
            "event computed: fib.result",
            "75025"
        )]
    );
    let result = search(&explorer, "q=overflow").await;
    assert_eq!(result["matches"][0]["field"], "status.message", "{result}");
    assert_eq!(result["matches"][0]["value"], "Overflow in fib");
    let result = search(&explorer, "q=laptop").await;
    assert_eq!(result["matched"], 5, "{result}");
    assert_eq!(result["matches"][0]["field"], "resource host.name");
    let result = search(&explorer, &format!("q={}", planted.a.to_uppercase())).await;
    assert_eq!(result["matched"], 3, "{result}");
    assert!(
        matches(&result)
            .iter()
            .all(|(_, field, value)| field == "trace.id" && *value == planted.a),
        "{result}"
    );

    // `limit` lists fewer, the newest (B's, sent last), and still counts them all.
    let result = search(&explorer, "q=fib&limit=2").await;
    assert_eq!(result["matched"], 5, "{result}");
    let listed = result["matches"].as_array().unwrap();
    assert_eq!(listed.len(), 2, "{result}");
    assert!(
        listed
            .iter()
            .all(|found| found["trace_id"] == planted.b.as_str()),
        "{result}"
    );
    let result = search(&explorer, "q=nowhere-to-be-found").await;
    assert_eq!(
        (&result["matched"], &result["matches"]),
        (&0.into(), &Value::Array(vec![]))
    );

    // No phrase, a blank one, a bad limit, a stray parameter: refused, saying why.
    for (query, says) in [
        ("", "search for what"),
        ("q=%20%20", "search for what"),
        ("q=fib&limit=0", "from 1 to 1000"),
        ("q=fib&colour=red", "unknown parameter"),
    ] {
        let (status, body) = get(&explorer, &format!("/api/search?{query}")).await;
        assert_eq!(status, 400, "{query}: {body}");
        let error: Value = serde_json::from_str(&body).unwrap();
        assert!(
            error["error"].as_str().unwrap().contains(says),
            "{query}: {body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_page_marks_the_phrase_and_links_to_the_span() {
    let (explorer, planted) = start().await;
    let html = page(&explorer, "/search?q=Index%3D2").await;
    assert!(
        html.contains(r#"<span id="matched">2</span> of 5 spans"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<span class="field">url.query</span>: <span class="value"><mark>index=2</mark>5</span>"#),
        "{html}"
    );
    assert!(
        html.contains(
            r#"<span class="value">http://127.0.0.1:8080/fib?<mark>index=2</mark>4</span>"#
        ),
        "{html}"
    );
    let link = format!(
        r#"href="/trace/{}?span={}&#38;search=Index%3D2""#,
        planted.a, planted.a_root
    );
    assert!(html.contains(&link), "expected {link} in {html}");
    // The box on top shows the phrase.
    assert!(
        html.contains(r#"id="search-box" name="q" value="Index=2""#),
        "{html}"
    );

    // The phrase is escaped, marked or not.
    let html = page(&explorer, "/search?q=%3Cscript%3E").await;
    assert!(html.contains("<span id=\"matched\">0</span>"), "{html}");
    assert!(!html.contains("<script>"), "{html}");

    // Every page has the box; the search page without a phrase asks for one.
    let html = page(&explorer, "/").await;
    assert!(html.contains(r#"<form id="search-form" method="get" action="/search""#));
    assert!(html.contains(r#"id="search-box" name="q""#), "{html}");
    page(&explorer, "/search").await;
    let (status, html) = get(&explorer, "/search?q=+").await;
    assert_eq!(status, 400);
    assert!(html.contains("search for what"), "{html}");
}

/// The rows of a trace page, by span id: its `<details …>` opening tag and its summary.
fn rows(html: &str) -> Vec<(String, String)> {
    html.split("<details class=\"span ")
        .skip(1)
        .map(|row| {
            let id = row
                .split_once("id=\"span-")
                .and_then(|(_, rest)| rest.split_once('"'))
                .map(|(id, _)| id.to_string())
                .unwrap();
            let summary = row.split_once("</summary>").unwrap().0.to_string();
            (id, summary)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trace_page_marks_the_matching_spans_and_shows_columns() {
    let (explorer, planted) = start().await;
    let path = format!(
        "/trace/{}?{}",
        planted.a,
        encode(&[("search", "index=2"), ("columns", "url.query, fib.index")])
    );
    let html = page(&explorer, &path).await;
    assert!(
        html.contains(r#"<p id="search-summary"><span id="search-count">2</span> of 3 spans"#),
        "{html}"
    );
    let rows = rows(&html);
    assert_eq!(rows.len(), 3, "{html}");
    for (id, summary) in &rows {
        let marked = summary.starts_with("kind-") && summary.contains(" match\" id=");
        assert_eq!(
            marked,
            *id == planted.a_root || *id == planted.a_client,
            "{id}: {summary}"
        );
    }
    let summary = |id: &str| &rows.iter().find(|(row, _)| row == id).unwrap().1;
    let root = summary(&planted.a_root);
    assert!(
        root.contains(
            r#"<span class="column" data-column="url.query" title="url.query">index=25</span>"#
        ),
        "{root}"
    );
    assert!(
        root.contains(r#"<span class="column" data-column="fib.index" title="fib.index"></span>"#),
        "blank where the span has none: {root}"
    );
    assert!(
        root.contains(r#"<span class="field">url.query</span>: <span class="value"><mark>index=2</mark>5</span>"#),
        "{root}"
    );
    let fib = summary(&planted.a_fib);
    assert!(
        fib.contains(r#"data-column="fib.index" title="fib.index">25</span>"#),
        "{fib}"
    );
    // The boxes keep the other's choice; a span's own link keeps both.
    assert!(html.contains(r#"id="columns-box" name="columns" value="url.query, fib.index""#));
    assert!(html.contains(r#"<input type="hidden" name="columns" value="url.query, fib.index">"#));
    assert!(html.contains(r#"<input type="hidden" name="search" value="index=2">"#));
    let link = format!(
        r#"href="/trace/{}?span={}&#38;search=index%3D2&#38;columns=url.query%2C+fib.index""#,
        planted.a, planted.a_fib
    );
    assert!(html.contains(&link), "expected {link} in {html}");

    // A column that is not a field: said, and the others still shown.
    let path = format!(
        "/trace/{}?{}",
        planted.a,
        encode(&[("columns", "url.query,not a field")])
    );
    let html = page(&explorer, &path).await;
    assert!(html.contains(r#"id="columns-error""#), "{html}");
    assert!(
        html.contains("&#34;not a field&#34; is not a field name"),
        "{html}"
    );
    assert!(html.contains(r#"data-column="url.query" title="url.query">index=25<"#));

    // `span=` opens that span, as before.
    let html = page(
        &explorer,
        &format!("/trace/{}?span={}", planted.a, planted.a_fib),
    )
    .await;
    assert!(
        html.contains(&format!(r#"id="span-{}" open>"#, planted.a_fib)),
        "{html}"
    );
    assert!(!html.contains("search-summary"), "{html}");
}

/// The trace page's `=` (or `≠`) buttons, as (what it does, "show only where FILTER", and the
/// link a browser makes of their form):
/// the form's hidden fields (the query), then the button's `where`.
fn filter_links(html: &str, class: &str) -> Vec<(String, String)> {
    // askama's escapes, undone.
    let unescape = |text: &str| {
        text.replace("&#34;", "\"")
            .replace("&#39;", "'")
            .replace("&#60;", "<")
            .replace("&#62;", ">")
            .replace("&#38;", "&")
    };
    let form = html
        .split_once(r#"<form id="filter-form" action="/query" method="get">"#)
        .and_then(|(_, rest)| rest.split_once("</form>"))
        .expect("the filter buttons' form")
        .0;
    let base: Vec<(String, String)> = form
        .split(r#"<input type="hidden" name=""#)
        .skip(1)
        .map(|field| {
            let (name, rest) = field.split_once('"').unwrap();
            let value = rest
                .split_once("value=\"")
                .unwrap()
                .1
                .split_once('"')
                .unwrap()
                .0;
            (unescape(name), unescape(value))
        })
        .collect();
    html.split(&format!(
        r#"<button class="{class}" form="filter-form" name="where" value=""#
    ))
    .skip(1)
    .map(|rest| {
        let (value, _) = rest.split_once('"').unwrap();
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&base)
            .append_pair("where", &unescape(value))
            .finish();
        (
            format!("show only where {}", unescape(value)),
            format!("/query?{query}"),
        )
    })
    .collect()
}

fn link_titled<'a>(links: &'a [(String, String)], title: &str) -> &'a str {
    links
        .iter()
        .find(|(shown, _)| shown == title)
        .map(|(_, href)| href.as_str())
        .unwrap_or_else(|| panic!("no link titled {title:?} in {links:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_on_a_value_adds_its_filter_to_the_query() {
    let (explorer, planted) = start().await;

    // Without a query to come from: the default one, with the filter.
    let html = page(&explorer, &format!("/trace/{}", planted.a)).await;
    let equals = filter_links(&html, "filter-eq");
    let href = link_titled(&equals, "show only where url.query = index=25");
    assert!(
        href == "/query?visualize=COUNT&visualize=HEATMAP%28duration%29&group_by=name\
                 &where=url.query+%3D+index%3D25",
        "{href}"
    );
    let query = page(&explorer, href).await;
    assert!(query.contains("url.query = index=25</textarea>"), "{query}");
    let (_, result) = get(&explorer, &href.replacen("/query?", "/api/query?", 1)).await;
    let result: Value = serde_json::from_str(&result).unwrap();
    assert_eq!(result["matched"], 1, "{result}");
    // The name, kind, status and service rows, and the resource, have them too.
    for title in [
        "show only where name = GET /fib",
        "show only where kind = server",
        "show only where status = unset",
        "show only where service.name = fib",
        "show only where host.name = Laptop-Ada",
        "show only where fib.index = 25",
    ] {
        link_titled(&equals, title);
    }
    let not_equals = filter_links(&html, "filter-ne");
    let href = link_titled(&not_equals, "show only where fib.index != 25");
    let (_, result) = get(&explorer, &href.replacen("/query?", "/api/query?", 1)).await;
    let result: Value = serde_json::from_str(&result).unwrap();
    // The spans with a fib.index other than 25: B's fib span.
    assert_eq!(result["matched"], 1, "{result}");

    // From a query: its filters and groups kept, the new filter added; `query=` kept in the
    // page's own links.
    let from = "visualize=P99(duration)&where=kind+%3D+server&group_by=url.query";
    let path = format!("/trace/{}?{}", planted.b, encode(&[("query", from)]));
    let html = page(&explorer, &path).await;
    let not_equals = filter_links(&html, "filter-ne");
    let href = link_titled(&not_equals, "show only where name != GET /fib");
    let query = page(&explorer, href).await;
    assert!(
        query.contains("kind = server\nname != GET /fib</textarea>"),
        "{query}"
    );
    assert!(
        query.contains(r#"id="group_by" name="group_by" value="url.query""#),
        "{query}"
    );
    let (_, result) = get(&explorer, &href.replacen("/query?", "/api/query?", 1)).await;
    let result: Value = serde_json::from_str(&result).unwrap();
    assert_eq!(
        result["visualize"],
        serde_json::json!(["P99(duration)"]),
        "{result}"
    );
    assert_eq!(
        result["matched"], 0,
        "every server span is a GET /fib: {result}"
    );
    assert!(
        html.contains(&format!(
            r#"<input type="hidden" name="query" value="{}">"#,
            from.replace('&', "&#38;")
        )),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "query={}",
            form_urlencoded::byte_serialize(from.as_bytes()).collect::<String>()
        )),
        "the span links keep the query: {html}"
    );

    // A value that spans lines has no links (the query page's box is one filter per line).
    assert!(
        html.contains("<th>note</th><td>two\nlines</td><td class=\"filters\"></td>"),
        "{html}"
    );
    assert!(!html.contains("where note"), "{html}");

    // A query that does not read: said, and the default used.
    let path = format!(
        "/trace/{}?{}",
        planted.b,
        encode(&[("query", "visualize=MEDIAN")])
    );
    let html = page(&explorer, &path).await;
    assert!(html.contains(r#"id="query-error""#), "{html}");
    let equals = filter_links(&html, "filter-eq");
    assert!(
        link_titled(&equals, "show only where url.query = index=3")
            .starts_with("/query?visualize=COUNT&visualize=HEATMAP"),
        "{equals:?}"
    );
}

/// A trace larger than 300 spans: the `=` and `≠` buttons only on the open span and on the
/// search's matches (each about 2 KB of the page), the other spans' details linking to
/// themselves opened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_trace_has_filter_buttons_where_they_are_looked_at() {
    const CHILDREN: usize = 320;
    let explorer = Explorer::start(&Settings::loopback()).await.unwrap();
    let traces_url = format!("{}/v1/traces", explorer.http_endpoint());
    let (trace, child) = tokio::task::spawn_blocking(move || {
        let exporter = SpanExporter::builder()
            .with_http()
            .with_endpoint(traces_url)
            .build()
            .unwrap();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .build();
        let tracer = provider.tracer("planter");
        let root = Context::new().with_span(tracer.start("GET /fib"));
        let mut child = String::new();
        for n in 0..CHILDREN {
            let span = tracer
                .span_builder(format!("child-{n}"))
                .with_attributes([KeyValue::new("fib.index", n as i64)])
                .start_with_context(&tracer, &root);
            if n == 7 {
                child = opentelemetry::trace::Span::span_context(&span)
                    .span_id()
                    .to_string();
            }
            drop(span);
        }
        let trace = root.span().span_context().trace_id().to_string();
        root.span().end();
        provider.shutdown().unwrap();
        (trace, child)
    })
    .await
    .unwrap();
    let deadline = Instant::now() + ARRIVE_WITHIN;
    while explorer.shared.stats().spans < CHILDREN + 1 {
        assert!(Instant::now() < deadline, "the spans did not arrive");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Which spans' details hold buttons: by the name in their summary.
    let with_buttons = |html: &str| -> Vec<String> {
        html.split("<details class=\"span")
            .skip(1)
            .filter(|details| details.contains("class=\"filter-eq\""))
            .map(|details| {
                let label = details.split_once("<span class=\"label\"").unwrap().1;
                let name = label.split_once('>').unwrap().1;
                name.split_once('\n').unwrap().0.trim().to_string()
            })
            .collect()
    };
    let html = page(&explorer, &format!("/trace/{trace}")).await;
    assert_eq!(with_buttons(&html), Vec::<String>::new());
    assert!(html.contains("a trace this large has them on the open span only"));
    let html = page(&explorer, &format!("/trace/{trace}?span={child}")).await;
    assert_eq!(with_buttons(&html), ["child-7"]);
    let html = page(&explorer, &format!("/trace/{trace}?search=child-31")).await;
    let mut found = with_buttons(&html);
    found.sort();
    assert_eq!(
        found,
        [
            "child-31",
            "child-310",
            "child-311",
            "child-312",
            "child-313",
            "child-314",
            "child-315",
            "child-316",
            "child-317",
            "child-318",
            "child-319"
        ]
    );
}
