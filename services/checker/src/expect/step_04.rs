//! Step 04's expectations: the data the puzzles need. The HTTP semantic conventions on server
//! and client spans; a span of the app's own with `fib.index` and `fib.result`, integers; an
//! event; errors recorded, for a bad index and for a failed sub-request.

use receiver::{ReceivedSpan, SpanKind, StatusCode, Value};

use super::{
    Evidence, Expectation, Judge, Required, describe, fail, int, missing, text, traces, type_of,
};
use crate::run::{Run, of_kind};

/// What goes wrong in step 04.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mistake {
    /// Attributes missing on spans of a kind.
    MissingAttributes { kind: SpanKind, names: Vec<String> },
    /// No span of the app's own with `fib.index`.
    NoOwnSpan,
    /// An attribute of ours arrived with another type than the one expected (`"5"` for 5).
    AttributeType {
        key: String,
        found: &'static str,
        expected: &'static str,
    },
    /// `fib.result` wrong or missing.
    WrongFibResult,
    /// No span event.
    NoEvent,
    /// The bad request's error is not recorded.
    ErrorNotRecorded { status: bool, exception: bool },
    /// A failed sub-request is not recorded on the client and server spans.
    FailureNotRecorded,
}

impl Mistake {
    pub fn hint(&self) -> String {
        match self {
            Mistake::MissingAttributes { kind, names } => format!(
                "{} spans lack {}. The names are the HTTP semantic conventions' \
                 (`opentelemetry_semantic_conventions::attribute::*`); status codes are integers.",
                kind_name(*kind),
                names.join(", ")
            ),
            Mistake::NoOwnSpan => "Make a span of your own (kind Internal, e.g. `fib`) inside each /fib request, \
                with the index as an integer attribute `fib.index`."
                .into(),
            Mistake::AttributeType {
                key,
                found,
                expected,
            } => format!(
                "`{key}` arrived as {found}, where {expected} is expected. An attribute keeps the type of the \
                 value it is given, and a backend compares, sums and groups by that type: the string \"5\" is \
                 not the number 5 (`{key} > 3` finds nothing, and \"10\" sorts before \"9\"). Give the number \
                 itself, as an `i64` (`i64::from(index)`, `value as i64`), not a string made of it."
            ),
            Mistake::WrongFibResult => "Your own span needs `fib.result`, F(index), as an integer, set once the \
                result is known."
                .into(),
            Mistake::NoEvent => "No span has an event: something that happened at one moment of a span, with \
                attributes of its own (`add_event`), such as the `sum` of the two numbers, with them as \
                `fib.left` and `fib.right`."
                .into(),
            Mistake::ErrorNotRecorded { status, exception } => {
                let mut missing = Vec::new();
                if !status {
                    missing.push("its status set to Error (`set_status`, `Status::error`)");
                }
                if !exception {
                    missing.push("an `exception` event (`record_error`)");
                }
                format!(
                    "A request for /fib?index=abc fails with 400: a span of its trace must say so, with {}.",
                    missing.join(" and ")
                )
            }
            Mistake::FailureNotRecorded => "When a sub-request fails (its upstream is down), its client span needs \
                status Error and an `exception` event, and the server span answered 502 needs status Error and \
                `http.response.status_code` = 502."
                .into(),
        }
    }
}

fn kind_name(kind: SpanKind) -> &'static str {
    match kind {
        SpanKind::Server => "Server",
        SpanKind::Client => "Client",
        _ => "Some",
    }
}

/// What an integer attribute's expectation says when it is of another type.
const AN_INTEGER: &str = "an integer (i64)";

pub(super) fn expect(judge: &mut Judge, evidence: &Evidence) {
    let run = &evidence.main;
    conventions(judge, run);
    own_span(judge, run);
    let events = run
        .spans
        .iter()
        .any(|span| span.events.iter().any(|event| event.name != "exception"));
    judge.expect(
        4,
        "a span event (besides exceptions)",
        if events {
            Ok(())
        } else {
            fail("no event", Mistake::NoEvent)
        },
    );
    bad_index(judge, run);
    if let Some(failure) = &evidence.failure {
        // That run stops right after its one request: unflushed, its spans are all lost.
        judge.expect_unless_lost(
            4,
            "a failed sub-request: client spans with status Error and an exception, 502 on the server span",
            failed_sub_request(failure),
            failure.spans.is_empty(),
        );
    }
}

/// The HTTP semantic conventions, on server spans and on client spans.
fn conventions(judge: &mut Judge, run: &Run) {
    let servers = run.server_spans();
    let server_required: [Required; 6] = [
        ("http.request.method", &|s| {
            text(s, "http.request.method").as_deref() == Some("GET")
        }),
        ("http.route", &|s| {
            text(s, "http.route").as_deref() == Some("/fib")
        }),
        ("url.path", &|s| {
            text(s, "url.path").as_deref() == Some("/fib")
        }),
        ("url.query", &|s| {
            text(s, "url.query").is_some_and(|q| q.starts_with("index="))
        }),
        ("server.address", &|s| text(s, "server.address").is_some()),
        ("http.response.status_code (an integer)", &|s| {
            matches!(int(s, "http.response.status_code"), Some(200 | 400))
        }),
    ];
    let names = missing(&servers, &server_required);
    judge.expect(
        4,
        "server spans carry the HTTP conventions: http.request.method, http.route, url.path, url.query, server.address, http.response.status_code",
        if names.is_empty() {
            Ok(())
        } else {
            fail(
                format!("missing or wrong: {}", names.join(", ")),
                Mistake::MissingAttributes { kind: SpanKind::Server, names },
            )
        },
    );
    let clients = of_kind(&run.spans, SpanKind::Client);
    let client_required: [Required; 4] = [
        ("http.request.method", &|s| {
            text(s, "http.request.method").as_deref() == Some("GET")
        }),
        ("url.full", &|s| {
            text(s, "url.full").is_some_and(|u| u.contains("/fib?index="))
        }),
        ("server.address", &|s| text(s, "server.address").is_some()),
        ("http.response.status_code (an integer)", &|s| {
            int(s, "http.response.status_code") == Some(200)
        }),
    ];
    let names = missing(&clients, &client_required);
    judge.expect(
        4,
        "client spans carry http.request.method, url.full, server.address, http.response.status_code",
        if names.is_empty() && !clients.is_empty() {
            Ok(())
        } else {
            fail(
                format!("missing or wrong: {}", names.join(", ")),
                Mistake::MissingAttributes { kind: SpanKind::Client, names },
            )
        },
    );
}

/// The first span whose `key` is there but not an integer, and its value.
fn not_an_integer<'a>(
    spans: &[&'a ReceivedSpan],
    key: &str,
) -> Option<(&'a ReceivedSpan, &'a Value)> {
    spans.iter().find_map(|span| {
        span.attribute(key)
            .filter(|value| value.as_i64().is_none())
            .map(|value| (*span, value))
    })
}

/// `key` of the wrong type: what was found, and the mistake.
fn mistyped(key: &str, span: &ReceivedSpan, value: &Value) -> Expectation {
    fail(
        format!(
            "{key} is {} ({} on span {:?}), expected {AN_INTEGER}",
            type_of(value),
            describe(value),
            span.name
        ),
        Mistake::AttributeType {
            key: key.to_string(),
            found: type_of(value),
            expected: AN_INTEGER,
        },
    )
}

/// A span of the app's own in each `/fib` request, with `fib.index` and `fib.result`.
fn own_span(judge: &mut Judge, run: &Run) {
    let with_key: Vec<&ReceivedSpan> = run
        .spans
        .iter()
        .filter(|s| s.kind == SpanKind::Internal && s.attribute("fib.index").is_some())
        .collect();
    let own: Vec<&ReceivedSpan> = with_key
        .iter()
        .copied()
        .filter(|s| int(s, "fib.index").is_some())
        .collect();
    let with_index = judge.expect(
        4,
        &format!(
            "a span of your own in each of the {} /fib requests, with fib.index (an integer)",
            run.fib5_requests()
        ),
        match not_an_integer(&with_key, "fib.index") {
            Some((span, value)) => mistyped("fib.index", span, value),
            None if own.len() >= run.fib5_requests() => Ok(()),
            None => fail(format!("{} such spans", own.len()), Mistake::NoOwnSpan),
        },
    );
    if !with_index {
        return;
    }
    let wrong: Vec<String> = own
        .iter()
        .filter_map(|span| {
            let index = int(span, "fib.index")?;
            let expected = sequence::fib_iterative(index as u32) as i64;
            let result = int(span, "fib.result");
            (result != Some(expected))
                .then(|| format!("fib.index {index}: fib.result {result:?}, not {expected}"))
        })
        .collect();
    judge.expect(
        4,
        "with fib.result = F(fib.index) (an integer)",
        match (not_an_integer(&own, "fib.result"), wrong.first()) {
            (Some((span, value)), _) => mistyped("fib.result", span, value),
            (None, None) => Ok(()),
            (None, Some(first)) => fail(first.clone(), Mistake::WrongFibResult),
        },
    );
}

/// The bad request's trace holds a span with status Error and an `exception` event.
fn bad_index(judge: &mut Judge, run: &Run) {
    // The bad request's trace: the one whose server span answered 400, or, without status
    // codes, the trace that is not the big one.
    let servers = run.server_spans();
    let traces = traces(run);
    let answered_400 = servers
        .iter()
        .find(|s| int(s, "http.response.status_code") == Some(400))
        .map(|s| s.trace_id.as_str());
    let bad_trace = answered_400.or_else(|| {
        traces
            .iter()
            .min_by_key(|(_, spans)| spans.len())
            .map(|(id, _)| *id)
    });
    let in_bad: Vec<&&ReceivedSpan> = traces
        .get(bad_trace.unwrap_or_default())
        .map(|spans| spans.iter().collect())
        .unwrap_or_default();
    let status = in_bad.iter().any(|s| s.status.code == StatusCode::Error);
    let exception = in_bad.iter().any(|s| s.event("exception").is_some());
    let both = in_bad
        .iter()
        .any(|s| s.status.code == StatusCode::Error && s.event("exception").is_some());
    judge.expect_unless_lost(
        4,
        "a bad index: a span with status Error and an `exception` event",
        if both {
            Ok(())
        } else {
            fail(
                format!("status Error: {status}, exception event: {exception}"),
                Mistake::ErrorNotRecorded { status, exception },
            )
        },
        // Its spans went with the unflushed batch: no trace of its own is there.
        answered_400.is_none() && traces.len() < 2,
    );
}

fn failed_sub_request(run: &Run) -> Expectation {
    let errors = |kind| -> Vec<&ReceivedSpan> {
        run.spans
            .iter()
            .filter(|s| s.kind == kind && s.status.code == StatusCode::Error)
            .collect()
    };
    let clients = errors(SpanKind::Client);
    let clients_ok = !clients.is_empty() && clients.iter().all(|s| s.event("exception").is_some());
    let server_ok = errors(SpanKind::Server)
        .iter()
        .any(|s| int(s, "http.response.status_code") == Some(502));
    if clients_ok && server_ok {
        Ok(())
    } else {
        fail(
            format!(
                "{} client spans with status Error and an exception; a server span with Error and 502: {server_ok}",
                clients
                    .iter()
                    .filter(|s| s.event("exception").is_some())
                    .count()
            ),
            Mistake::FailureNotRecorded,
        )
    }
}
