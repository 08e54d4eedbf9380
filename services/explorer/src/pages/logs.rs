//! The log records, `/logs?severity=…&trace_id=…&contains=…`: the newest first, each emitted in
//! a span linked to its trace. A record's row ([`LogRow`]) is the trace page's too.

use std::sync::Arc;

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::format::attributes_text;
use super::{Header, clock, duration_text, render};
use crate::logs::{LogQuery, StoredLog};
use crate::span::{hex, millis};
use crate::window::Shared;

/// A log record as the pages show it.
pub(super) struct LogRow {
    /// Since the span's start (on the trace page), e.g. `+1.20 ms`; empty on the logs page.
    pub(super) at: String,
    pub(super) time: String,
    pub(super) service: String,
    pub(super) severity: String,
    /// `warn` or `error` (and worse), for the colour; empty otherwise.
    pub(super) level: &'static str,
    pub(super) body: String,
    /// `key=value`, separated by commas.
    pub(super) attributes: String,
    /// The record's trace, opened on its span, when it has one.
    pub(super) trace_link: Option<String>,
    pub(super) trace_id: String,
    /// Its first 8 digits, enough to tell traces apart on a page.
    pub(super) trace_short: String,
}

/// `since`: what `at` counts from.
pub(super) fn log_row(record: &StoredLog, since: Option<u64>) -> LogRow {
    let trace_id = record.trace_id.map(|id| hex(&id)).unwrap_or_default();
    LogRow {
        at: since
            .map(|since| match record.time_unix_nano.checked_sub(since) {
                Some(after) => format!("+{}", duration_text(millis(after))),
                None => format!("−{}", duration_text(millis(since - record.time_unix_nano))),
            })
            .unwrap_or_default(),
        time: clock(record.time_unix_nano),
        service: record.origin.service_name.to_string(),
        severity: record.severity_name(),
        level: match record.severity() {
            17.. => "error",
            13..=16 => "warn",
            _ => "",
        },
        body: record.body.to_string(),
        attributes: attributes_text(&record.attributes),
        trace_link: record.trace_id.map(|_| match record.span_id {
            Some(span_id) => {
                let span_id = hex(&span_id);
                format!("/trace/{trace_id}?span={span_id}#span-{span_id}")
            }
            None => format!("/trace/{trace_id}"),
        }),
        trace_short: trace_id.chars().take(8).collect(),
        trace_id,
    }
}

#[derive(Template)]
#[template(path = "logs.html")]
struct LogsPage {
    header: Header,
    /// The form's boxes, as typed.
    severity: String,
    trace_id: String,
    contains: String,
    error: Option<String>,
    rows: Vec<LogRow>,
    /// How many records the filters select, of how many kept.
    matched: usize,
    kept: usize,
    filtered: bool,
}

pub(super) async fn logs_page(
    State(shared): State<Arc<Shared>>,
    RawQuery(raw): RawQuery,
) -> Response {
    let header = Header::from(shared.stats());
    let raw = raw.unwrap_or_default();
    let typed = |name: &str| {
        form_urlencoded::parse(raw.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default()
    };
    let mut page = LogsPage {
        header,
        severity: typed("severity"),
        trace_id: typed("trace_id"),
        contains: typed("contains"),
        error: None,
        rows: Vec::new(),
        matched: 0,
        kept: 0,
        filtered: false,
    };
    let query = match LogQuery::from_query_string(&raw) {
        Ok(query) => query,
        Err(err) => {
            // Nothing typed is lost: the form shows it again, with the error.
            page.error = Some(err);
            return render(page, StatusCode::BAD_REQUEST);
        }
    };
    page.filtered = query != LogQuery::default();
    {
        let logs = shared.logs();
        let (records, matched) = logs.newest(&query);
        page.rows = records.iter().map(|record| log_row(record, None)).collect();
        page.matched = matched;
        page.kept = logs.len();
    }
    render(page, StatusCode::OK)
}
