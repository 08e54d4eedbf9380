//! The error page: what a page shows when it cannot show what was asked (a malformed trace id,
//! a trace no longer in the window), and the 404 that lists the pages there are.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{Header, render};
use crate::window::Shared;

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    header: Header,
    message: String,
}

pub(super) fn error_page(header: Header, status: StatusCode, message: String) -> Response {
    render(ErrorPage { header, message }, status)
}

pub(super) async fn not_found(State(shared): State<Arc<Shared>>, uri: axum::http::Uri) -> Response {
    error_page(
        Header::from(shared.stats()),
        StatusCode::NOT_FOUND,
        format!(
            "There is no page {}: the explorer has the trace list (/), traces (/trace/ID), \
             queries (/query), a search of every span (/search), log records (/logs) and metrics \
             (/metrics).",
            uri.path()
        ),
    )
}
