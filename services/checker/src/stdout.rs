//! Step 01's spans, read back from what the stdout exporter printed.
//!
//! `opentelemetry-stdout` prints each span as a block of `Name : value` lines after `Span #N`.
//! Only what step 01's expectations need is read: name, ids, parent and kind.

use std::collections::BTreeMap;

use receiver::{ReceivedSpan, SpanKind, Status};

/// The spans in `output`, in the order they were printed.
pub fn spans(output: &str) -> Vec<ReceivedSpan> {
    let mut spans = Vec::new();
    let mut current: Option<ReceivedSpan> = None;
    for line in output.lines() {
        let line = line.trim();
        if line.starts_with("Span #") {
            spans.extend(current.take());
            current = Some(empty_span());
            continue;
        }
        let (Some(span), Some((key, value))) = (current.as_mut(), line.split_once(':')) else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            // The scope's `Name` comes first, quoted; the span's own `Name` is not quoted.
            "Name" if !value.starts_with('"') => span.name = value.to_string(),
            "TraceId" => span.trace_id = value.to_string(),
            "SpanId" => span.span_id = value.to_string(),
            "ParentSpanId" => {
                span.parent_span_id = (!value.starts_with("None")).then(|| value.to_string())
            }
            "Kind" => span.kind = kind(value),
            _ => {}
        }
    }
    spans.extend(current);
    spans
}

fn kind(value: &str) -> SpanKind {
    match value {
        "Server" => SpanKind::Server,
        "Client" => SpanKind::Client,
        "Internal" => SpanKind::Internal,
        "Producer" => SpanKind::Producer,
        "Consumer" => SpanKind::Consumer,
        _ => SpanKind::Unspecified,
    }
}

fn empty_span() -> ReceivedSpan {
    ReceivedSpan {
        trace_id: String::new(),
        span_id: String::new(),
        parent_span_id: None,
        name: String::new(),
        kind: SpanKind::Unspecified,
        start_time_unix_nano: 0,
        end_time_unix_nano: 0,
        attributes: BTreeMap::new(),
        events: Vec::new(),
        links: Vec::new(),
        status: Status::default(),
        resource: BTreeMap::new(),
        scope_name: String::new(),
        scope_version: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_printed_span_is_read_back() {
        let output = "Sequence of numbers: http://127.0.0.1:1  (Ctrl-C to stop)\nSpans\nResource\n\t ->  service.name=String(Owned(\"fib\"))\nSpan #0\n\tInstrumentation Scope\n\t\tName         : \"fib\"\n\n\tName         : GET /fib\n\tTraceId      : e9245a21e7a1afa442eca25f0394c608\n\tSpanId       : d8650eb2c43e7010\n\tTraceFlags   : TraceFlags(1)\n\tParentSpanId : None (root span)\n\tKind         : Server\n\tStatus       : Unset\nSpan #1\n\tName         : GET\n\tParentSpanId : d8650eb2c43e7010\n\tKind         : Client\n";
        let spans = spans(output);
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0].name, "GET /fib");
        assert_eq!(spans[0].kind, SpanKind::Server);
        assert_eq!(spans[0].trace_id, "e9245a21e7a1afa442eca25f0394c608");
        assert!(spans[0].is_root());
        assert_eq!(spans[1].kind, SpanKind::Client);
        assert_eq!(spans[1].parent_span_id.as_deref(), Some("d8650eb2c43e7010"));
    }
}
