//! The page at `/`: **Go** asks `/fib` for index 0, 1, 2, … one after another and shows each
//! number as it arrives; **Stop** stops. Its script and stylesheet are compiled into the binary
//! and served by the app itself, so the page works offline (no CDN).
//!
//! From step 03 on, each number links to its trace: in the trace explorer (`EXPLORER_URL`, or
//! the page's own host at `EXPLORER_PORT`), and in Jaeger when `JAEGER_UI_URL` is set. The
//! script learns each answer's trace from its `traceresponse` header ([`crate::trace_link`]);
//! before step 03 there is none, and the page says why there is no link yet.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{Html, IntoResponse};
use axum::routing::get;

#[derive(Template)]
#[template(path = "index.html")]
struct Page {
    max_index: u32,
    /// The explorer's pages, or empty: the script then uses its own host at `explorer_port`.
    explorer_url: String,
    explorer_port: u16,
    /// Jaeger's UI, or empty: no Jaeger link.
    jaeger_url: String,
}

const SCRIPT: &str = include_str!("../static/app.js");
const STYLE: &str = include_str!("../static/style.css");

/// The routes of the page: `/`, `/static/app.js` and `/static/style.css`.
///
/// Generic over the router's state so that any step's `Router<AppState>` can merge them.
///
/// Where the traces are shown comes from the settings `main` loaded ([`crate::config::loaded`]):
/// the steps hand this function the cap alone.
pub fn routes<S: Clone + Send + Sync + 'static>(max_index: u32) -> Router<S> {
    let config = crate::config::loaded();
    // The page only changes with the settings, so it is rendered once, here.
    let html = Bytes::from(
        Page {
            max_index,
            explorer_url: config
                .and_then(|config| config.explorer_url.clone())
                .unwrap_or_default(),
            explorer_port: config.map_or(crate::config::DEFAULT_EXPLORER_PORT, |config| {
                config.explorer_port
            }),
            jaeger_url: config
                .and_then(|config| config.jaeger_ui_url.clone())
                .unwrap_or_default(),
        }
        .render()
        .expect("the page template renders: it has no fallible parts"),
    );
    Router::new()
        .route("/", get(move || async move { Html(html) }))
        .route(
            "/static/app.js",
            get(|| asset("text/javascript; charset=utf-8", SCRIPT)),
        )
        .route(
            "/static/style.css",
            get(|| asset("text/css; charset=utf-8", STYLE)),
        )
}

async fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    // `no-cache` means "ask again each time": during a workshop the files change with a `git pull`.
    (
        [(CONTENT_TYPE, content_type), (CACHE_CONTROL, "no-cache")],
        body,
    )
}
