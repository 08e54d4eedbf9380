//! What each step's app must do, judged on what it did ([`Evidence`]), never on how it is written.
//!
//! Step NN is judged on its own expectations and on those of every step before it, from 02 on
//! (step 01 prints, the others export): the learner's copy of step 04 must still propagate.
//! Each expectation passes, fails with a [`Mistake`], or is not checked because one it depends on
//! failed (no spans at all says nothing about their names).

use std::collections::{BTreeMap, BTreeSet};

use receiver::{ReceivedSpan, SpanKind, StatusCode, Transport};

mod fixit;
mod sampling;
mod signals;

use crate::hints::Mistake;
use crate::run::{Protocol, Run, of_kind};
use crate::sources::Sources;

/// The service name the steps give themselves.
pub const SERVICE_NAME: &str = "fib";

/// A hosted backend's key, as the checker sets it: it must arrive, and never be printed.
pub const TEST_API_KEY: &str = "checker-key-5f3c9a";

/// The settings of step 05: a key for the hosted backend, and a header of the learner's own.
pub const HOSTED_ENV: [(&str, &str); 2] = [
    ("HONEYCOMB_API_KEY", TEST_API_KEY),
    ("OTEL_EXPORTER_OTLP_HEADERS", "x-workshop=fib-kit"),
];

/// The runs of one check.
pub struct Evidence {
    /// `/fib?index=5` and `/fib?index=abc`: on stdout (step 01), or over OTLP/HTTP.
    pub main: Run,
    /// The same over gRPC (steps 02 on).
    pub grpc: Option<Run>,
    /// With the upstream down (steps 04 on).
    pub failure: Option<Run>,
    /// How the cost of `/fib` grows with the index (steps 06 on).
    pub growth: Option<crate::growth::Growth>,
    /// With head sampling on (steps 08 on).
    pub sampling: Option<crate::sampling::Sampled>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    Failed {
        found: String,
        mistake: Mistake,
    },
    /// Not checked: an expectation it depends on failed.
    NotChecked,
}

/// One expectation and how it went.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The step it belongs to; 0 for the app's own behaviour.
    pub step: u32,
    pub what: String,
    pub verdict: Verdict,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Passed
    }
}

/// Collects outcomes; `depends` makes the next ones "not checked" after a failure.
struct Judge<'a> {
    outcomes: Vec<Outcome>,
    sources: &'a Sources,
    blocked: bool,
}

impl Judge<'_> {
    fn expect(&mut self, step: u32, what: &str, result: Result<(), (String, Mistake)>) -> bool {
        let verdict = match (self.blocked, result) {
            (true, _) => Verdict::NotChecked,
            (false, Ok(())) => Verdict::Passed,
            (false, Err((found, mistake))) => Verdict::Failed { found, mistake },
        };
        let passed = verdict == Verdict::Passed;
        self.outcomes.push(Outcome {
            step,
            what: what.to_string(),
            verdict,
        });
        passed
    }

    /// From here on, expectations are not checked unless `ok`.
    fn require(&mut self, ok: bool) {
        self.blocked |= !ok;
    }
}

/// Judges step `step` on `evidence`; `sources` only sharpen the hints.
pub fn judge(step: u32, evidence: &Evidence, sources: &Sources) -> Vec<Outcome> {
    let mut judge = Judge {
        outcomes: Vec::new(),
        sources,
        blocked: false,
    };
    let main = &evidence.main;
    let app_ok = judge.expect(
        0,
        "answers /fib?index=5 with 5 and /fib?index=abc with 400",
        app_answers(main),
    );
    judge.expect(
        0,
        "stops within 10 s of SIGTERM, with exit status 0",
        stops_cleanly(main),
    );
    judge.require(app_ok);
    if step == 1 {
        step_01(&mut judge, main);
    } else {
        step_02(&mut judge, main, evidence.grpc.as_ref());
        if step >= 3 {
            step_03(&mut judge, main);
        }
        if step >= 4 {
            step_04(&mut judge, main, evidence.failure.as_ref());
        }
        if step >= 5 {
            step_05(&mut judge, main, evidence.grpc.as_ref());
        }
        if step >= 6 {
            fixit::step_06(&mut judge, evidence.growth.as_ref());
        }
        if step >= 7 {
            signals::step_07(&mut judge, main);
        }
        if step >= 8 {
            sampling::step_08(&mut judge, evidence.sampling.as_ref());
        }
    }
    judge.outcomes
}

type Expectation = Result<(), (String, Mistake)>;

fn fail(found: impl Into<String>, mistake: Mistake) -> Expectation {
    Err((found.into(), mistake))
}

fn app_answers(run: &Run) -> Expectation {
    let expected = [
        ("/fib?index=5", 200, Some("5")),
        ("/fib?index=abc", 400, None),
    ];
    for (path, status, body) in expected {
        let found = match run.answer(path).map(|answer| &answer.result) {
            Some(Ok((s, b))) if *s == status && body.is_none_or(|body| b.trim() == body) => {
                continue;
            }
            Some(Ok((s, b))) => format!("{path} got {s}: {}", b.trim()),
            Some(Err(err)) => err.clone(),
            None => format!("{path} was not asked"),
        };
        return fail(found, Mistake::AppBroken);
    }
    Ok(())
}

fn stops_cleanly(run: &Run) -> Expectation {
    if run.stopped_cleanly() {
        return Ok(());
    }
    fail(
        format!(
            "{} after {:.1} s",
            crate::app::describe_exit(run.exit),
            run.stop_took.as_secs_f64()
        ),
        Mistake::StopsBadly,
    )
}

/// How many server spans the run's requests make: one per request `/fib?index=5` made (15 until
/// step 06 remembers numbers), and 1 for the bad one.
fn expected_server_spans(run: &Run) -> usize {
    run.fib5_requests() + 1
}

fn step_01(judge: &mut Judge, run: &Run) {
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

/// One server span per request, reasonably named.
fn server_spans(judge: &mut Judge, step: u32, run: &Run) {
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
    let ok = judge.expect(
        step,
        &format!(
            "a server span for each of the {expected} requests ({} for /fib?index=5, 1 for the bad one)",
            expected - 1
        ),
        result,
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

fn step_02(judge: &mut Judge, run: &Run, grpc: Option<&Run>) {
    let arrived = judge.expect(
        2,
        "spans reach the OTLP endpoint (OTLP/HTTP, protobuf)",
        arrival(judge.sources, run, Protocol::HttpProtobuf),
    );
    let blocked = judge.blocked;
    judge.require(arrived);
    server_spans(judge, 2, run);
    judge.expect(
        2,
        "spans are sent while the app runs, in batches",
        if run.early.is_empty() {
            fail("none before SIGTERM; all at exit", Mistake::SpansLate)
        } else {
            Ok(())
        },
    );
    judge.expect(
        2,
        "the last request's spans arrive too: the app flushes them when it stops",
        flushed(judge.sources, run),
    );
    let names: BTreeSet<Option<&str>> = run.spans.iter().map(|s| s.service_name()).collect();
    judge.expect(
        2,
        "service.name is \"fib\"",
        if names.len() == 1 && names.contains(&Some(SERVICE_NAME)) {
            Ok(())
        } else {
            let found = names.iter().flatten().next().map(|s| s.to_string());
            fail(format!("{names:?}"), Mistake::ServiceName { found })
        },
    );
    judge.blocked = blocked;
    if let Some(grpc) = grpc {
        let result = arrival(judge.sources, grpc, Protocol::Grpc).map_err(|(found, mistake)| {
            let mistake = match mistake {
                Mistake::TransportMixup { .. }
                | Mistake::WrongEndpoint { .. }
                | Mistake::StillOnStdout => mistake,
                _ => Mistake::GrpcNothing,
            };
            (found, mistake)
        });
        judge.expect(
            2,
            "with OTEL_EXPORTER_OTLP_PROTOCOL=grpc, spans arrive over OTLP/gRPC",
            result,
        );
    }
    judge.require(arrived);
}

/// Did the spans arrive over `protocol`? If not, why not, as precisely as the evidence tells.
fn arrival(sources: &Sources, run: &Run, protocol: Protocol) -> Expectation {
    let over_protocol = run
        .requests
        .iter()
        .any(|request| request.transport == protocol.transport());
    if over_protocol && !run.spans.is_empty() {
        return Ok(());
    }
    if let Some(rejected) = run.rejected.first() {
        let port_of = match rejected.endpoint {
            receiver::Endpoint::Grpc => Protocol::Grpc,
            receiver::Endpoint::Http => Protocol::HttpProtobuf,
        };
        let sent = if rejected.path.starts_with("/v1/") {
            Protocol::HttpProtobuf
        } else {
            Protocol::Grpc
        };
        let found = format!(
            "{} {} refused: {}",
            rejected.method, rejected.path, rejected.message
        );
        if sent != port_of {
            return fail(found, Mistake::TransportMixup { sent, port_of });
        }
        return fail(found, Mistake::WrongEndpoint { destination: None });
    }
    if run
        .requests
        .iter()
        .any(|request| request.transport == Transport::HttpJson)
    {
        return fail("OTLP/JSON requests", Mistake::JsonInsteadOfProtobuf);
    }
    if !run.requests.is_empty() {
        let transports: BTreeSet<String> = run
            .requests
            .iter()
            .map(|r| format!("{:?}", r.transport))
            .collect();
        return fail(
            format!("requests over {transports:?}"),
            Mistake::TransportMixup {
                sent: match protocol {
                    Protocol::Grpc => Protocol::HttpProtobuf,
                    Protocol::HttpProtobuf => Protocol::Grpc,
                },
                port_of: protocol,
            },
        );
    }
    // Nothing at all reached the checker. Did the app say where it tried to send?
    let endpoint = run.endpoint.as_deref().unwrap_or_default();
    let destination = reported_destination(&run.output);
    if let Some(destination) = destination.filter(|d| !d.starts_with(endpoint)) {
        return fail(
            "no export request",
            Mistake::WrongEndpoint {
                destination: Some(destination),
            },
        );
    }
    if !crate::stdout::spans(&run.output).is_empty() {
        return fail(
            "no export request; spans printed on stdout",
            Mistake::StillOnStdout,
        );
    }
    if sources.sets_endpoint() {
        return fail(
            "no export request",
            Mistake::WrongEndpoint { destination: None },
        );
    }
    let mistake = if sources.installs_provider() {
        Mistake::ProviderStoppedEarly
    } else {
        Mistake::NoProvider
    };
    fail("no export request at all", mistake)
}

/// The destination in otelkit's "could not send … to URL" line, if the app printed one.
fn reported_destination(output: &str) -> Option<String> {
    let line = output
        .lines()
        .find(|line| line.contains("could not send"))?;
    let start = line.find("http")?;
    let url = line[start..].split_whitespace().next()?;
    Some(url.trim_end_matches([':', ',', '.', ')']).to_string())
}

/// The spans that came after the last request was made: the flush at shutdown.
fn flushed(sources: &Sources, run: &Run) -> Expectation {
    let early: BTreeSet<&str> = run.early.iter().map(|s| s.span_id.as_str()).collect();
    let late = run
        .spans
        .iter()
        .filter(|span| span.kind == SpanKind::Server && !early.contains(span.span_id.as_str()))
        .count();
    let total = run.server_spans().len();
    if late > 0 || total >= expected_server_spans(run) {
        return Ok(());
    }
    let mistake = if sources.discards_provider() {
        Mistake::DroppedEarly
    } else {
        Mistake::NoShutdown
    };
    fail(
        format!(
            "{total} of {} server spans; none after SIGTERM",
            expected_server_spans(run)
        ),
        mistake,
    )
}

/// The trace of `/fib?index=5`: the one with the most spans.
fn traces(run: &Run) -> BTreeMap<&str, Vec<&ReceivedSpan>> {
    let mut traces: BTreeMap<&str, Vec<&ReceivedSpan>> = BTreeMap::new();
    for span in &run.spans {
        traces.entry(span.trace_id.as_str()).or_default().push(span);
    }
    traces
}

fn step_03(judge: &mut Judge, run: &Run) {
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
    let blocked = judge.blocked;
    judge.require(injected);
    let one_per_request = judge.expect(
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
    );
    judge.blocked = blocked;
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
    judge.blocked = blocked;
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

fn text(span: &ReceivedSpan, key: &str) -> Option<String> {
    span.attribute(key)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

fn int(span: &ReceivedSpan, key: &str) -> Option<i64> {
    span.attribute(key).and_then(|v| v.as_i64())
}

/// An attribute's name, and whether a span (or a metric's point) has it right.
type Required<'a, T = ReceivedSpan> = (&'a str, &'a dyn Fn(&T) -> bool);

/// The attributes in `required` that some of `items` lack (or have wrong).
fn missing<T>(items: &[&T], required: &[Required<T>]) -> Vec<String> {
    required
        .iter()
        .filter(|(_, ok)| !items.iter().all(|item| ok(item)))
        .map(|(name, _)| name.to_string())
        .collect()
}

fn step_04(judge: &mut Judge, run: &Run, failure: Option<&Run>) {
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
    let own: Vec<&ReceivedSpan> = run
        .spans
        .iter()
        .filter(|s| s.kind == SpanKind::Internal && int(s, "fib.index").is_some())
        .collect();
    let with_index = judge.expect(
        4,
        &format!(
            "a span of your own in each of the {} /fib requests, with fib.index (an integer)",
            run.fib5_requests()
        ),
        if own.len() >= run.fib5_requests() {
            Ok(())
        } else {
            fail(format!("{} such spans", own.len()), Mistake::NoOwnSpan)
        },
    );
    if with_index {
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
            match wrong.first() {
                None => Ok(()),
                Some(first) => fail(first.clone(), Mistake::WrongFibResult),
            },
        );
    }
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
    // The bad request's trace: the one whose server span answered 400, or, without status
    // codes, the trace that is not the big one.
    let traces = traces(run);
    let bad_trace = servers
        .iter()
        .find(|s| int(s, "http.response.status_code") == Some(400))
        .map(|s| s.trace_id.as_str())
        .or_else(|| {
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
    judge.expect(
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
    );
    if let Some(failure) = failure {
        judge.expect(
            4,
            "a failed sub-request: client spans with status Error and an exception, 502 on the server span",
            failed_sub_request(failure),
        );
    }
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

fn step_05(judge: &mut Judge, run: &Run, grpc: Option<&Run>) {
    let runs = [
        Some((run, Protocol::HttpProtobuf)),
        grpc.map(|g| (g, Protocol::Grpc)),
    ];
    for (run, protocol) in runs.into_iter().flatten() {
        let carrying = run
            .requests
            .iter()
            .filter(|r| r.header("x-honeycomb-team") == Some(TEST_API_KEY))
            .count();
        judge.expect(
            5,
            &format!(
                "with HONEYCOMB_API_KEY set, every {} export carries x-honeycomb-team",
                match protocol {
                    Protocol::HttpProtobuf => "HTTP",
                    Protocol::Grpc => "gRPC",
                }
            ),
            if carrying == run.requests.len() && carrying > 0 {
                Ok(())
            } else {
                fail(
                    format!("{carrying} of {} exports", run.requests.len()),
                    Mistake::MissingHostedHeader { protocol },
                )
            },
        );
    }
    let env_headers = !run.requests.is_empty()
        && run
            .requests
            .iter()
            .all(|r| r.header("x-workshop") == Some("fib-kit"));
    judge.expect(
        5,
        "…and still the headers of OTEL_EXPORTER_OTLP_HEADERS",
        if env_headers {
            Ok(())
        } else {
            fail("x-workshop: fib-kit missing", Mistake::EnvHeadersLost)
        },
    );
    let printed = [Some(run), grpc]
        .into_iter()
        .flatten()
        .any(|run| run.output.contains(TEST_API_KEY));
    judge.expect(
        5,
        "the API key is never printed",
        if printed {
            fail("the key is in the app's output", Mistake::SecretPrinted)
        } else {
            Ok(())
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_destination_is_read_from_the_exporters_message() {
        let output = "telemetry: could not send spans to http://localhost:4317/v1/traces (connection refused). Start one with `docker compose up`\n";
        assert_eq!(
            reported_destination(output).as_deref(),
            Some("http://localhost:4317/v1/traces")
        );
        assert_eq!(reported_destination("all fine\n"), None);
    }
}
