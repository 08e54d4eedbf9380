//! Step 02's expectations: spans exported over OTLP/HTTP, in batches, flushed at exit, under
//! `service.name` "fib"; and the bonus, the same over OTLP/gRPC.
//!
//! When nothing arrives, `arrival` says why as precisely as the evidence allows: still on
//! stdout, no provider, a provider stopped early, another endpoint, the other transport's port,
//! JSON. When the last request's spans are missing, the flush is the mistake, and the
//! expectations that count spans are not checked (see the module doc of `expect`).

use std::collections::BTreeSet;

use receiver::{SpanKind, Transport};

use super::{Evidence, Expectation, Judge, SERVICE_NAME, expected_server_spans, fail, step_01};
use crate::run::{Protocol, Run};
use crate::sources::Sources;

/// How to earn the bonus: spans over OTLP/gRPC when `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`.
/// gRPC is a Cargo feature the steps leave off (it adds tonic and its stack to every build).
pub const GRPC_HOW: &str = "give opentelemetry-otlp the `grpc-tonic` feature in your Cargo.toml \
    (`opentelemetry-otlp = { workspace = true, features = [\"grpc-tonic\"] }`), then build the \
    exporter with `.with_tonic()` when OTEL_EXPORTER_OTLP_PROTOCOL is grpc and `.with_http()` \
    otherwise, or let `SpanExporter::builder().build()` pick by it";

/// What goes wrong in step 02.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mistake {
    /// Spans printed on stdout instead of exported: still step 01's exporter.
    StillOnStdout,
    /// Nothing exported, and no provider is installed in the code.
    NoProvider,
    /// Nothing exported, though a provider is installed: it stopped before the requests came.
    ProviderStoppedEarly,
    /// The exporter sent its spans somewhere else than `OTEL_EXPORTER_OTLP_ENDPOINT`.
    WrongEndpoint { destination: Option<String> },
    /// Requests arrived at the port of the other transport.
    TransportMixup { sent: Protocol, port_of: Protocol },
    /// OTLP/HTTP with JSON, where protobuf was asked.
    JsonInsteadOfProtobuf,
    /// Spans arrive only when the app stops.
    SpansLate,
    /// The last spans never arrive: no shutdown.
    NoShutdown,
    /// The last spans never arrive: `let _ = init_traces()` dropped the provider's handle.
    DroppedEarly,
    /// `service.name` is not `fib`.
    ServiceName { found: Option<String> },
}

impl Mistake {
    pub fn hint(&self) -> String {
        match self {
            Mistake::StillOnStdout => "Your spans are printed, not sent: the provider still has step 01's \
                stdout exporter. Give it opentelemetry-otlp's exporter instead, over HTTP, behind a batch \
                processor."
                .into(),
            Mistake::NoProvider => "Nothing was exported: no tracer provider is installed, so `global::tracer` hands \
                out tracers that record nothing. Install yours in `init_traces` (`global::set_tracer_provider`; \
                with tracing: give the provider's tracer to the subscriber's `tracing_opentelemetry` layer)."
                .into(),
            Mistake::ProviderStoppedEarly => "Nothing was exported, though your code installs a provider. It stopped \
                before the requests came: is `shutdown` called before the server has stopped, or is the provider \
                built in a scope that ends early? `main` must keep it until the server stops, then shut it down."
                .into(),
            Mistake::WrongEndpoint { destination } => format!(
                "Nothing reached the endpoint in OTEL_EXPORTER_OTLP_ENDPOINT{}. Your code names an endpoint of its \
                 own (`with_endpoint`): remove it, and the exporter reads the variable, as a Collector, the \
                 explorer or a hosted backend need.",
                destination
                    .as_ref()
                    .map(|d| format!(": your app sent to {d} instead"))
                    .unwrap_or_default()
            ),
            Mistake::TransportMixup { sent, port_of } => format!(
                "{} arrived at the {} port. A Collector takes gRPC on 4317 and HTTP on 4318, and \
                 OTEL_EXPORTER_OTLP_PROTOCOL says which one the endpoint expects: your exporter sends {} \
                 whatever it says. The steps send HTTP/protobuf: build it with `.with_http()`; \
                 `.with_tonic()` is for when the variable says grpc, the bonus.",
                name(*sent),
                name(*port_of),
                name(*sent)
            ),
            Mistake::JsonInsteadOfProtobuf => "Spans arrived as OTLP/JSON, though OTEL_EXPORTER_OTLP_PROTOCOL said \
                http/protobuf: the exporter is built for JSON (`Protocol::HttpJson`, or opentelemetry-otlp's \
                `http-json` feature, which makes JSON the default). Ask for protobuf, `Protocol::HttpBinary`."
                .into(),
            Mistake::SpansLate => "Spans arrived only when the app stopped. A batch processor sends every few \
                seconds; yours waited longer than the checker's OTEL_BSP_SCHEDULE_DELAY. Use \
                `otelkit::batch_config()` (or `BatchConfigBuilder::default()`, which reads the variable) instead \
                of a fixed delay."
                .into(),
            Mistake::NoShutdown => "The spans of the last request never arrived: the app exits with them still \
                in the batch. After the server stops, shut the provider down (`telemetry::shutdown`): that sends \
                what is left."
                .into(),
            Mistake::DroppedEarly => "The spans of the last request never arrived, and `main` throws the provider \
                away at once (`let _ = …init_traces()` or the call alone): there is then nothing to shut down at \
                the end, so the last batch is lost. Keep it in a variable of `main`'s until the server stops, then \
                shut it down."
                .into(),
            Mistake::ServiceName { found } => match found.as_deref() {
                Some(name) if name.starts_with("unknown_service") => format!(
                    "The spans are named {name:?}: the SDK's name when none is given. Give the provider a \
                     resource whose `service.name` is \"fib\", keeping OTEL_SERVICE_NAME's value when it is set."
                ),
                found => format!(
                    "service.name is {found:?}; the workshop's backends and puzzles look for \"fib\" (unless \
                     OTEL_SERVICE_NAME says otherwise). Set it on the provider's resource."
                ),
            },
        }
    }
}

fn name(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::HttpProtobuf => "OTLP/HTTP",
        Protocol::Grpc => "OTLP/gRPC",
    }
}

pub(super) fn expect(judge: &mut Judge, evidence: &Evidence) {
    let run = &evidence.main;
    let arrived = judge.expect(
        2,
        "spans reach the OTLP endpoint (OTLP/HTTP, protobuf)",
        arrival(judge.sources, run),
    );
    // Without spans, nothing after this is worth checking, in this step or the next.
    judge.require(arrived);
    judge.expect(
        2,
        "spans are sent while the app runs, in batches",
        if run.early.is_empty() {
            fail("none before SIGTERM; all at exit", Mistake::SpansLate)
        } else {
            Ok(())
        },
    );
    let flush = flushed(judge.sources, run);
    let lost = flush.is_err() && !judge.blocked;
    judge.expect(
        2,
        "the last request's spans arrive too: the app flushes them when it stops",
        flush,
    );
    judge.last_spans_lost = lost;
    step_01::server_spans(judge, 2, run);
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
    if let Some(grpc) = &evidence.grpc {
        let earned = grpc.as_ref().is_ok_and(|grpc| {
            !grpc.spans.is_empty()
                && grpc
                    .requests
                    .iter()
                    .any(|request| request.transport == Transport::Grpc)
        });
        judge.bonus(
            2,
            "with OTEL_EXPORTER_OTLP_PROTOCOL=grpc, spans arrive over OTLP/gRPC",
            earned,
            GRPC_HOW,
        );
    }
}

/// Did the spans arrive over OTLP/HTTP with protobuf? If not, why not, as precisely as the
/// evidence tells.
fn arrival(sources: &Sources, run: &Run) -> Expectation {
    let expected = Protocol::HttpProtobuf;
    let over_protocol = run
        .requests
        .iter()
        .any(|request| request.transport == expected.transport());
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
                sent: Protocol::Grpc,
                port_of: expected,
            },
        );
    }
    // Nothing at all reached the checker. Did the app say where it tried to send?
    let elsewhere = run.endpoint.as_deref().and_then(|endpoint| {
        reported_destination(&run.output).filter(|d| origin(d) != origin(endpoint))
    });
    if let Some(destination) = elsewhere {
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

/// The URL in the app's "could not send … to URL: reason" line, if it printed one: a base URL
/// (`http://localhost:4318`, as the kit's older wrapper said it) or the full one the exporter used
/// (`http://localhost:4318/v1/traces`, as `sequence::warnings` says it).
fn reported_destination(output: &str) -> Option<String> {
    output.lines().find_map(|line| {
        let (_, sent) = line.split_once("could not send ")?;
        let (_, to) = sent.split_once(" to ")?;
        let url = to.split_whitespace().next()?;
        Some(url.trim_end_matches([':', ',', '.', ')']).to_string())
    })
}

/// `scheme://host:port` of a URL, without its path: what an endpoint and the URL of one of its
/// signals (`…/v1/traces`) share.
fn origin(url: &str) -> &str {
    let host = url.find("://").map_or(0, |at| at + 3);
    let end = url[host..].find('/').map_or(url.len(), |at| host + at);
    &url[..end]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_destination_is_read_from_the_old_and_the_new_message() {
        // The kit's older wrapper: the base URL, then the reason.
        let old =
            "telemetry: could not send 3 span(s) to http://localhost:4318: connection refused\n";
        assert_eq!(
            reported_destination(old).as_deref(),
            Some("http://localhost:4318")
        );
        // `sequence::warnings`: the full URL the exporter used, then an indented advice line.
        let new = "telemetry: could not send spans to http://127.0.0.1:4317/v1/traces: \
                   error sending request (connection refused)\n  \
                   is the Collector or the explorer running? Start one with `./run.sh explorer`\n";
        assert_eq!(
            reported_destination(new).as_deref(),
            Some("http://127.0.0.1:4317/v1/traces")
        );
        let logs =
            "telemetry: could not send log records to https://api.honeycomb.io/v1/logs: 401\n";
        assert_eq!(
            reported_destination(logs).as_deref(),
            Some("https://api.honeycomb.io/v1/logs")
        );
        assert_eq!(reported_destination("all fine\n"), None);
    }

    #[test]
    fn a_full_url_is_at_the_endpoint_whose_origin_it_has() {
        let endpoint = "http://127.0.0.1:4318";
        assert_eq!(origin("http://127.0.0.1:4318/v1/traces"), endpoint);
        assert_eq!(origin(endpoint), endpoint);
        assert_eq!(origin("http://127.0.0.1:4318/"), endpoint);
        assert_ne!(origin("http://127.0.0.1:43181/v1/traces"), endpoint);
        assert_ne!(origin("http://localhost:4317/v1/traces"), endpoint);
    }
}
