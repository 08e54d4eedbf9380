//! The pages' own scripts, and the Content-Security-Policy that lets a page run them and nothing
//! else. Everything on the pages came from the network (span names, attribute values, a learner's
//! name); askama escapes it all, and with this policy even a value that slipped through could not
//! run in the browser.
//!
//! Two pages have a script, each small and each only adding to a page that works without it:
//! - `/static/room.js`: the Room page fetches its board again every few seconds;
//! - `/static/query.js`: on the query page, hovering a group lights its spans up in the heatmap,
//!   and dragging over the heatmap selects a region (the form's selection boxes do it too).

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

/// The only scripts a page may run: the explorer's own files.
const POLICY: &str = "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'";
const ROOM: &str = include_str!("../../static/room.js");
const QUERY: &str = include_str!("../../static/query.js");

pub(super) fn with_policy(mut response: Response) -> Response {
    response.headers_mut().insert(
        CONTENT_SECURITY_POLICY,
        POLICY.parse().expect("a valid header"),
    );
    response
}

pub(super) async fn room() -> impl IntoResponse {
    script(ROOM)
}

pub(super) async fn query() -> impl IntoResponse {
    script(QUERY)
}

fn script(text: &'static str) -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (CACHE_CONTROL, "no-cache"),
        ],
        text,
    )
}
