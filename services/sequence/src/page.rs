//! The page at `/`: **Go** asks `/fib` for index 0, 1, 2, … one after another and shows each
//! number as it arrives; **Stop** stops. Its script and stylesheet are compiled into the binary
//! and served by the app itself, so the page works offline (no CDN).

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
}

const SCRIPT: &str = include_str!("../static/app.js");
const STYLE: &str = include_str!("../static/style.css");

/// The routes of the page: `/`, `/static/app.js` and `/static/style.css`.
///
/// Generic over the router's state so that any step's `Router<AppState>` can merge them.
pub fn routes<S: Clone + Send + Sync + 'static>(max_index: u32) -> Router<S> {
    // The page only changes with the cap, so it is rendered once, here.
    let html = Bytes::from(
        Page { max_index }
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
