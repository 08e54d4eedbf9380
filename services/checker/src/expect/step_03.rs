//! Step 03's expectations: context propagation. Each sub-request carries `traceparent`, naming
//! the client span around it; the server continues the trace, so `/fib?index=5` is one trace of
//! server → client → server links under one root.

use std::collections::BTreeMap;

use receiver::{ReceivedSpan, SpanKind};

use super::{Evidence, Expectation, Judge, expected_server_spans, fail, traces};
use crate::run::of_kind;

/// What goes wrong in step 03.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mistake {
    /// Sub-requests carry no `traceparent`.
    NoInjection,
    /// `traceparent` is sent but the server does not continue the trace.
    NoExtraction,
    /// No client spans around the sub-requests.
    NoClientSpans,
    /// `traceparent` carries the server span's id, not the client span's.
    InjectsServerContext,
    /// Parent links do not go server → client → server.
    BadParentLinks,
}

impl Mistake {
    pub fn hint(&self) -> String {
        match self {
            Mistake::NoInjection => "The app's sub-requests carry no `traceparent` header, so each one starts a \
                new trace. Install the W3C propagator once (`TraceContextPropagator`), and have it write the \
                client span's context into each outgoing request's headers (`inject_context`, `HeaderInjector`)."
                .into(),
            Mistake::NoExtraction => "The sub-requests carry `traceparent`, but the server starts a new trace \
                anyway. Read the caller's context from the headers where the request comes in (`extract`, \
                `HeaderExtractor`), and start the server span with it as the parent (`start_with_context`; with \
                tracing: `set_parent` before the span is entered)."
                .into(),
            Mistake::NoClientSpans => "There is one trace per request, but no client spans: each sub-request needs a \
                span of its own, of kind Client and named `GET`, whose context is the one injected, so that the \
                server span it calls sits under it."
                .into(),
            Mistake::InjectsServerContext => "The `traceparent` of each sub-request names the server span, not the \
                client span around the sub-request. Inject the context that holds the client span, not the \
                current one."
                .into(),
            Mistake::BadParentLinks => "In one trace, parents must go server → client → server: each client span \
                is a child of the server span that makes the sub-request, and the server span that answers it is a \
                child of that client span."
                .into(),
        }
    }
}

pub(super) fn expect(judge: &mut Judge, evidence: &Evidence) {
    let run = &evidence.main;
    let sub_requests = &run.sub_requests;
    let with_header = sub_requests
        .iter()
        .filter(|sub| sub.traceparent.is_some())
        .count();
    let injected = judge.expect(
        3,
        "each sub-request carries a W3C traceparent header",
        if !sub_requests.is_empty() && with_header == sub_requests.len() {
            Ok(())
        } else {
            fail(
                format!(
                    "{with_header} of {} sub-requests had one",
                    sub_requests.len()
                ),
                Mistake::NoInjection,
            )
        },
    );
    let traces = traces(run);
    // One trace alone is `/fib?index=5`'s when the bad request's spans were lost (step 02).
    let one_per_request = judge.within(|judge| {
        judge.require(injected);
        judge.expect_unless_lost(
            3,
            &format!(
                "one trace per request you made: 2 traces, not {}",
                expected_server_spans(run)
            ),
            if traces.len() == 2 {
                Ok(())
            } else {
                fail(format!("{} traces", traces.len()), Mistake::NoExtraction)
            },
            traces.len() == 1,
        )
    });
    let clients = of_kind(&run.spans, SpanKind::Client);
    let sub_count = run.fib5_requests() - 1;
    let has_clients = judge.expect(
        3,
        &format!("a client span for each of the {sub_count} sub-requests"),
        if clients.len() == sub_count {
            Ok(())
        } else {
            fail(
                format!("{} client spans", clients.len()),
                Mistake::NoClientSpans,
            )
        },
    );
    let by_id: BTreeMap<&str, &ReceivedSpan> = run
        .spans
        .iter()
        .map(|span| (span.span_id.as_str(), span))
        .collect();
    let named: Vec<Option<SpanKind>> = sub_requests
        .iter()
        .map(|sub| {
            sub.parent_span_id()
                .and_then(|id| by_id.get(id))
                .map(|span| span.kind)
        })
        .collect();
    judge.within(|judge| {
        judge.require(injected && has_clients);
        judge.expect(
            3,
            "each traceparent names the client span of its sub-request",
            if named.iter().all(|kind| *kind == Some(SpanKind::Client)) {
                Ok(())
            } else if named.contains(&Some(SpanKind::Server)) {
                fail(
                    "traceparent names a server span",
                    Mistake::InjectsServerContext,
                )
            } else {
                fail(
                    format!("traceparent names spans of kinds {named:?}"),
                    Mistake::InjectsServerContext,
                )
            },
        );
        judge.require(one_per_request);
        judge.expect(
            3,
            "parents go server → client → server, under one root server span",
            parent_links(&traces),
        );
    });
}

fn parent_links(traces: &BTreeMap<&str, Vec<&ReceivedSpan>>) -> Expectation {
    let Some(fib5) = traces.values().max_by_key(|spans| spans.len()) else {
        return fail("no trace", Mistake::BadParentLinks);
    };
    let by_id: BTreeMap<&str, &ReceivedSpan> = fib5
        .iter()
        .map(|span| (span.span_id.as_str(), *span))
        .collect();
    // The nearest ancestor that is a server or client span: internal spans may sit between.
    let http_parent = |span: &ReceivedSpan| -> Option<&ReceivedSpan> {
        let mut parent = span
            .parent_span_id
            .as_deref()
            .and_then(|id| by_id.get(id).copied());
        while let Some(p) = parent.filter(|p| p.kind == SpanKind::Internal) {
            parent = p
                .parent_span_id
                .as_deref()
                .and_then(|id| by_id.get(id).copied());
        }
        parent
    };
    let roots: Vec<_> = fib5.iter().filter(|span| span.is_root()).collect();
    if roots.len() != 1 || roots[0].kind != SpanKind::Server {
        return fail(
            format!("{} roots in the trace of /fib?index=5", roots.len()),
            Mistake::BadParentLinks,
        );
    }
    for span in fib5
        .iter()
        .filter(|s| !s.is_root() && s.kind != SpanKind::Internal)
    {
        let expected = match span.kind {
            SpanKind::Server => SpanKind::Client,
            _ => SpanKind::Server,
        };
        let parent = http_parent(span);
        if !parent.is_some_and(|parent| parent.kind == expected) {
            return fail(
                format!(
                    "{:?} ({:?}) sits under {:?}",
                    span.name,
                    span.kind,
                    parent.map(|p| (&p.name, p.kind))
                ),
                Mistake::BadParentLinks,
            );
        }
    }
    Ok(())
}
