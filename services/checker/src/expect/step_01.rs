//! Step 01's expectations: spans printed on stdout, one server span per request, named after
//! the route. Step 02 judges its server spans with `server_spans` too.

use std::collections::BTreeSet;

use super::{Evidence, Judge, expected_server_spans, fail};
use crate::run::Run;

/// What goes wrong in step 01.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mistake {
    /// Nothing printed; `installed` says whether the code installs a provider.
    NothingPrinted { installed: bool },
    /// Spans there, but not of kind Server.
    NotServerKind,
    /// Not one server span per request.
    SpanPerRequest,
    /// Server spans named something unhelpful.
    SpanNames,
}

impl Mistake {
    pub fn hint(&self) -> String {
        match self {
            Mistake::NothingPrinted { installed: false } => "No span was printed, and no tracer provider is installed: \
                until one is (`global::set_tracer_provider`), `global::tracer` makes spans that go nowhere. \
                `init_traces` builds one whose exporter prints spans, installs it, and `main` calls it first."
                .into(),
            Mistake::NothingPrinted { installed: true } => "No span was printed. A provider is installed: is a span \
                started for every request (the middleware in server.rs) and ended when the response is ready?"
                .into(),
            Mistake::NotServerKind => "Spans arrived, but none is a server span. The request's span must say it is \
                one, with its kind (`SpanKind::Server`; with tracing: the field `otel.kind = \"server\"`)."
                .into(),
            Mistake::SpanPerRequest => "Each request the app serves, the 15 of /fib?index=5 and the bad one, needs \
                its own server span, started where every request passes (the middleware `trace_request`) and \
                ended once, when the response is ready."
                .into(),
            Mistake::SpanNames => "Name a server span after its route, `GET /fib`, not after the URL with its \
                index: names group spans, and a name per index makes thousands of groups. (With tracing: \
                `otel.name = \"GET /fib\"`.)"
                .into(),
        }
    }
}

pub(super) fn expect(judge: &mut Judge, evidence: &Evidence) {
    let run = &evidence.main;
    let installed = judge.sources.installs_provider();
    let printed = !run.spans.is_empty();
    judge.expect(
        1,
        "prints spans on stdout",
        if printed {
            Ok(())
        } else {
            fail(
                "no span in the output",
                Mistake::NothingPrinted { installed },
            )
        },
    );
    judge.require(printed);
    server_spans(judge, 1, run);
}

/// One server span per request, reasonably named. When only the last request's span is
/// missing and step 02 found it lost with the batch, the count is not checked.
pub(super) fn server_spans(judge: &mut Judge, step: u32, run: &Run) {
    let servers = run.server_spans();
    let expected = expected_server_spans(run);
    let result = if servers.is_empty() {
        fail(
            format!("{} spans, none of kind Server", run.spans.len()),
            Mistake::NotServerKind,
        )
    } else if servers.len() != expected {
        fail(
            format!("{} server spans for {expected} requests", servers.len()),
            Mistake::SpanPerRequest,
        )
    } else {
        Ok(())
    };
    let ok = judge.expect_unless_lost(
        step,
        &format!(
            "a server span for each of the {expected} requests ({} for /fib?index=5, 1 for the bad one)",
            expected - 1
        ),
        result,
        servers.len() + 1 == expected,
    );
    if ok {
        // `GET /fib`, `GET`, `/fib`…: a method or the route, but not one name per index.
        let names: BTreeSet<&str> = servers.iter().map(|span| span.name.as_str()).collect();
        let reasonable = names.len() <= 2
            && names
                .iter()
                .all(|name| name.contains("fib") || name.starts_with("GET"));
        judge.expect(
            step,
            "server spans are named after the route, e.g. \"GET /fib\"",
            if reasonable {
                Ok(())
            } else {
                fail(format!("names {names:?}"), Mistake::SpanNames)
            },
        );
    }
}
