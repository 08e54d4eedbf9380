//! The search page, `/search?q=…`: how many spans contain a phrase in any field, and the newest
//! of them, each with the field that holds it (the phrase marked) and a link to its trace with
//! the span open and the phrase marked there too. The box on top of every page asks it.

use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::{Header, clock, duration_text, render};
use crate::api::search_params;
use crate::query::{self, Marked, Phrase, SearchResult};
use crate::window::Shared;

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    header: Header,
    /// As typed.
    phrase: String,
    error: Option<String>,
    result: Option<ResultView>,
}

struct ResultView {
    matched: usize,
    scanned: usize,
    took: String,
    rows: Vec<MatchRow>,
}

struct MatchRow {
    when: String,
    service: String,
    name: String,
    /// The field and its value, each cut around the phrase (if it is in it).
    field: Marked,
    value: Marked,
    duration: String,
    /// The trace, with the span open and the phrase marked.
    link: String,
}

pub(super) async fn search_page(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let mut header = Header::from(shared.stats());
    let (phrase, result) = match search_params(raw.as_deref()) {
        // No phrase at all: the page itself, to type one (the header's box is there).
        Ok((None, _)) => (String::new(), None),
        Ok((Some(phrase), limit)) => {
            let window = shared.read();
            let result = query::search(&window, &phrase, limit);
            drop(window);
            (phrase, Some(result))
        }
        Err(err) => (String::new(), Some(Err(err))),
    };
    header.search.clone_from(&phrase);
    let (result, error) = match result {
        None => (None, None),
        Some(Ok(result)) => (Some(view(result)), None),
        Some(Err(err)) => (None, Some(err)),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    render(
        SearchPage {
            header,
            phrase,
            error,
            result,
        },
        status,
    )
}

fn view(result: SearchResult) -> ResultView {
    // The phrase read already; it reads again.
    let phrase = Phrase::new(&result.phrase).expect("a phrase that was searched for");
    let rows = result
        .matches
        .into_iter()
        .map(|found| MatchRow {
            when: clock(found.start_unix_nano),
            link: format!(
                "/trace/{}?{}",
                found.trace_id,
                form_urlencoded::Serializer::new(String::new())
                    .append_pair("span", &found.span_id)
                    .append_pair("search", phrase.as_str())
                    .finish()
            ),
            service: found.service,
            name: found.name,
            field: phrase.mark(&found.field),
            value: phrase.mark(&found.value),
            duration: duration_text(found.duration_ms),
        })
        .collect();
    ResultView {
        matched: result.matched,
        scanned: result.scanned,
        took: format!("{:.1} ms", result.took_ms),
        rows,
    }
}
