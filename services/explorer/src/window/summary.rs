//! A trace in a line: its root span, service, start, duration, span and error counts, as the
//! trace list, the trace page's head and `/api/traces` show it.
//!
//! It sits beside the window, not with the queries, because it reads only a trace's spans as the
//! window keeps them; which traces the list shows is the query's business (`query::traces`), and
//! so the query depends on the window, never the other way round.

use serde::Serialize;

use crate::span::{StoredSpan, hex, millis};

/// A trace as the list shows it.
#[derive(Clone, Debug, Serialize)]
pub struct TraceSummary {
    pub trace_id: String,
    /// The root span's name, or the earliest span's when the root has not arrived (yet).
    pub root_name: String,
    pub root_found: bool,
    pub service: String,
    pub start_unix_nano: u64,
    pub duration_ms: f64,
    pub span_count: usize,
    pub error_count: usize,
}

/// The summary of a trace's spans (those still in the window: the root may be gone, or not
/// arrived yet).
pub fn summary(trace_id: &[u8; 16], spans: &[&StoredSpan]) -> TraceSummary {
    let root = spans
        .iter()
        .find(|span| span.is_root())
        .or_else(|| spans.iter().min_by_key(|span| span.start_unix_nano));
    let start = spans.iter().map(|s| s.start_unix_nano).min().unwrap_or(0);
    let end = spans.iter().map(|s| s.end_unix_nano).max().unwrap_or(0);
    TraceSummary {
        trace_id: hex(trace_id),
        root_name: root.map(|span| span.name.to_string()).unwrap_or_default(),
        root_found: spans.iter().any(|span| span.is_root()),
        service: root
            .map(|span| span.origin.service_name.to_string())
            .unwrap_or_default(),
        start_unix_nano: start,
        duration_ms: millis(end.saturating_sub(start)),
        span_count: spans.len(),
        error_count: spans
            .iter()
            .filter(|span| span.status == receiver::StatusCode::Error)
            .count(),
    }
}
