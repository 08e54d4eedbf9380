//! What each step's telemetry must look like, checked on what the app really sent.
//!
//! Steps 02 on export to a real OTLP receiver on loopback ([`receiver::Receiver`]), over
//! HTTP/protobuf or gRPC as a learner would configure them (`OTEL_EXPORTER_OTLP_ENDPOINT`,
//! `OTEL_EXPORTER_OTLP_PROTOCOL`). Step 01 prints spans, and is checked on its output. Every
//! check drives the same requests, `/fib?index=5` and the bad `/fib?index=abc`, then stops the
//! app with SIGTERM, so that its shutdown flushes the last spans.
//!
//! A step's expectations include the earlier steps' ([`expectations`]): a solution passes its
//! own step's, and an exercise, its previous solution plus hints, fails them.

use std::collections::BTreeMap;
use std::time::Duration;

use receiver::{ReceivedRequest, ReceivedSpan, Receiver, SpanKind};

use crate::App;

/// The OTLP transports a step is tested over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    HttpProtobuf,
    Grpc,
}

impl Protocol {
    /// The value of `OTEL_EXPORTER_OTLP_PROTOCOL` that selects it.
    pub fn env_value(self) -> &'static str {
        match self {
            Protocol::HttpProtobuf => "http/protobuf",
            Protocol::Grpc => "grpc",
        }
    }

    /// The receiver's endpoint for it, the value of `OTEL_EXPORTER_OTLP_ENDPOINT`.
    pub fn endpoint(self, receiver: &Receiver) -> String {
        match self {
            Protocol::HttpProtobuf => receiver.http_endpoint(),
            Protocol::Grpc => receiver.grpc_endpoint(),
        }
    }

    /// How the receiver records requests sent with it.
    pub fn transport(self) -> receiver::Transport {
        match self {
            Protocol::HttpProtobuf => receiver::Transport::HttpProtobuf,
            Protocol::Grpc => receiver::Transport::Grpc,
        }
    }
}

/// The service name the steps give themselves when `OTEL_SERVICE_NAME` is unset.
pub const SERVICE_NAME: &str = "fib";

/// What the app printed and what the receiver got, for one run.
pub struct Run {
    pub output: String,
    pub spans: Vec<ReceivedSpan>,
    /// Every export request, with its headers.
    pub requests: Vec<ReceivedRequest>,
}

impl Run {
    fn server_spans(&self) -> Vec<&ReceivedSpan> {
        self.spans
            .iter()
            .filter(|span| span.kind == SpanKind::Server)
            .collect()
    }

    fn traces(&self) -> BTreeMap<&str, Vec<&ReceivedSpan>> {
        let mut traces: BTreeMap<&str, Vec<&ReceivedSpan>> = BTreeMap::new();
        for span in &self.spans {
            traces.entry(span.trace_id.as_str()).or_default().push(span);
        }
        traces
    }
}

/// Starts `binary` exporting to `receiver`, asks for `/fib?index=5` and `/fib?index=abc`, and
/// stops it with SIGTERM.
pub async fn drive(
    binary: &str,
    receiver: &Receiver,
    protocol: Protocol,
    env: &[(&str, &str)],
) -> Run {
    let endpoint = protocol.endpoint(receiver);
    let mut all_env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.env_value()),
    ];
    all_env.extend_from_slice(env);
    let mut app = App::start(binary, &all_env).await;
    assert_eq!(app.get("/fib?index=5").await, (200, "5\n".into()));
    assert_eq!(app.get("/fib?index=abc").await.0, 400);
    let output = app.stop(Duration::from_secs(20)).await;
    Run {
        output,
        spans: receiver.spans(),
        requests: receiver.requests(),
    }
}

/// Checks `run` against the expectations of `step` and every step before it; `Err` names the
/// first one not met.
pub fn expectations(step: u32, run: &Run) -> Result<(), String> {
    if step >= 2 {
        step_02(run)?;
    }
    if step >= 3 {
        step_03(run)?;
    }
    if step >= 4 {
        step_04(run)?;
    }
    if step >= 5 {
        step_05(run)?;
    }
    Ok(())
}

/// A hosted backend's API key, as a test sets it: it must arrive, and never be printed.
pub const TEST_API_KEY: &str = "test-key-5f3c9a";

/// The settings a learner puts in `.env` for a hosted backend; the endpoint is the receiver's.
pub const HOSTED_ENV: [(&str, &str); 2] = [
    ("HONEYCOMB_API_KEY", TEST_API_KEY),
    ("OTEL_EXPORTER_OTLP_HEADERS", "x-workshop=fib-kit"),
];

/// Step 05: with `HONEYCOMB_API_KEY` set, every export carries `x-honeycomb-team`, as well as
/// the headers of `OTEL_EXPORTER_OTLP_HEADERS`; and the key is never printed.
fn step_05(run: &Run) -> Result<(), String> {
    check(!run.requests.is_empty(), || {
        "expected export requests at the receiver".into()
    })?;
    for request in &run.requests {
        check(
            request.header("x-honeycomb-team") == Some(TEST_API_KEY),
            || {
                format!(
                    "expected every export to carry the header x-honeycomb-team from HONEYCOMB_API_KEY; one carried {:?}",
                    request.header("x-honeycomb-team")
                )
            },
        )?;
        check(request.header("x-workshop") == Some("fib-kit"), || {
            "expected every export to carry the headers of OTEL_EXPORTER_OTLP_HEADERS too".into()
        })?;
    }
    check(!run.output.contains(TEST_API_KEY), || {
        "the API key was printed: a secret must never be".into()
    })
}

/// Step 02: a server span for each of the 16 requests, under `service.name` = `fib`.
fn step_02(run: &Run) -> Result<(), String> {
    let servers = run.server_spans();
    if run.spans.is_empty() {
        return Err("no span reached the OTLP receiver".into());
    }
    check(servers.len() == 16, || {
        format!(
            "expected 16 server spans (15 for /fib?index=5, 1 for /fib?index=abc), got {}: {}",
            servers.len(),
            names(&servers)
        )
    })?;
    check(servers.iter().all(|span| span.name == "GET /fib"), || {
        format!(
            "expected every server span to be named \"GET /fib\": {}",
            names(&servers)
        )
    })?;
    let services: Vec<_> = run.spans.iter().map(|span| span.service_name()).collect();
    check(
        services.iter().all(|name| *name == Some(SERVICE_NAME)),
        || format!("expected service.name = {SERVICE_NAME:?} on every span, got {services:?}"),
    )
}

/// Step 03: one trace per request: 15 server and 14 client spans for `/fib?index=5`, every
/// parent link right; a trace of its own for the bad request.
fn step_03(run: &Run) -> Result<(), String> {
    let traces = run.traces();
    check(traces.len() == 2, || {
        format!(
            "expected 2 traces (one per request you made), got {}: propagation is missing",
            traces.len()
        )
    })?;
    let (big, small): (Vec<_>, Vec<_>) = traces
        .values()
        .partition(|spans| spans.iter().any(|span| span.kind == SpanKind::Client));
    let (Some(fib5), Some(bad)) = (big.first(), small.first()) else {
        return Err(format!(
            "expected one trace with client spans (/fib?index=5) and one without (/fib?index=abc), got sizes {:?}",
            traces.values().map(Vec::len).collect::<Vec<_>>()
        ));
    };
    let bad_servers = bad
        .iter()
        .filter(|span| span.kind == SpanKind::Server)
        .count();
    check(bad_servers == 1, || {
        format!("expected the bad request's trace to hold one server span, got {bad_servers}")
    })?;
    let count = |kind| fib5.iter().filter(|span| span.kind == kind).count();
    check(
        count(SpanKind::Server) == 15 && count(SpanKind::Client) == 14,
        || {
            format!(
                "expected the trace of /fib?index=5 to hold 15 server and 14 client spans, got {} server and {} client",
                count(SpanKind::Server),
                count(SpanKind::Client)
            )
        },
    )?;
    let by_id: BTreeMap<&str, &ReceivedSpan> = fib5
        .iter()
        .map(|span| (span.span_id.as_str(), *span))
        .collect();
    // The nearest ancestor that is a server or client span (internal spans may sit between).
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
    check(
        roots.len() == 1 && roots[0].kind == SpanKind::Server,
        || format!("expected one root, a server span; got {}", roots.len()),
    )?;
    for span in fib5
        .iter()
        .filter(|span| !span.is_root() && span.kind != SpanKind::Internal)
    {
        let expected = if span.kind == SpanKind::Server {
            SpanKind::Client
        } else {
            SpanKind::Server
        };
        let parent = http_parent(span);
        check(parent.is_some_and(|parent| parent.kind == expected), || {
            format!(
                "expected {:?} ({:?}) to sit under a {expected:?} span of the same trace, got {:?}",
                span.name,
                span.kind,
                parent.map(|parent| (&parent.name, parent.kind))
            )
        })?;
    }
    // Each server span that asked for sub-results has exactly two client spans under it.
    for server in fib5.iter().filter(|span| span.kind == SpanKind::Server) {
        let children = fib5
            .iter()
            .filter(|span| span.kind == SpanKind::Client)
            .filter(|span| http_parent(span).is_some_and(|parent| parent.span_id == server.span_id))
            .count();
        check(children == 0 || children == 2, || {
            format!(
                "expected a server span to have 0 or 2 client spans under it, one has {children}"
            )
        })?;
    }
    Ok(())
}

/// Step 04: the data the puzzles need. HTTP semantic conventions on server and client spans;
/// a span of our own per request with the index and the result; an event; errors recorded.
fn step_04(run: &Run) -> Result<(), String> {
    let text = |span: &ReceivedSpan, key: &str| {
        span.attribute(key)
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    let int = |span: &ReceivedSpan, key: &str| span.attribute(key).and_then(|v| v.as_i64());
    for span in run
        .spans
        .iter()
        .filter(|span| span.kind == SpanKind::Server)
    {
        let expected = [
            ("http.request.method", Some("GET")),
            ("http.route", Some("/fib")),
            ("url.path", Some("/fib")),
        ];
        for (key, value) in expected {
            check(text(span, key).as_deref() == value, || {
                format!(
                    "expected {key} = {value:?} on every server span, got {:?}",
                    span.attribute(key)
                )
            })?;
        }
        check(
            text(span, "url.query").is_some_and(|q| q.starts_with("index=")),
            || {
                format!(
                    "expected url.query (\"index=…\") on every server span, got {:?}",
                    span.attribute("url.query")
                )
            },
        )?;
        check(text(span, "server.address").is_some(), || {
            "expected server.address on every server span".into()
        })?;
        check(
            matches!(int(span, "http.response.status_code"), Some(200 | 400)),
            || {
                format!(
                    "expected http.response.status_code (an integer, 200 or 400) on every server span, got {:?}",
                    span.attribute("http.response.status_code")
                )
            },
        )?;
    }
    for span in run
        .spans
        .iter()
        .filter(|span| span.kind == SpanKind::Client)
    {
        check(
            text(span, "http.request.method").as_deref() == Some("GET"),
            || {
                format!(
                    "expected http.request.method = \"GET\" on every client span, got {:?}",
                    span.attribute("http.request.method")
                )
            },
        )?;
        check(
            text(span, "url.full").is_some_and(|url| url.contains("/fib?index=")),
            || {
                format!(
                    "expected url.full on every client span, got {:?}",
                    span.attribute("url.full")
                )
            },
        )?;
        check(text(span, "server.address").is_some(), || {
            "expected server.address on every client span".into()
        })?;
        check(int(span, "http.response.status_code") == Some(200), || {
            format!(
                "expected http.response.status_code = 200 on every client span, got {:?}",
                span.attribute("http.response.status_code")
            )
        })?;
    }
    // A span of our own: an internal span with the index and the result.
    let ours: Vec<_> = run
        .spans
        .iter()
        .filter(|span| span.kind == SpanKind::Internal)
        .collect();
    let with_index: Vec<_> = ours
        .iter()
        .filter(|span| int(span, "fib.index").is_some())
        .collect();
    check(with_index.len() >= 15, || {
        format!(
            "expected an internal span with fib.index (an integer) for each of the 15 /fib requests that had an index, got {}",
            with_index.len()
        )
    })?;
    for span in &with_index {
        let (index, result) = (int(span, "fib.index").unwrap(), int(span, "fib.result"));
        let expected = sequence::fib_iterative(index as u32) as i64;
        check(result == Some(expected), || {
            format!("expected fib.result = {expected} where fib.index = {index}, got {result:?}")
        })?;
    }
    check(
        run.spans
            .iter()
            .any(|span| span.events.iter().any(|event| event.name != "exception")),
        || "expected at least one span event (besides exceptions)".into(),
    )?;
    // The bad request: 400 on its server span, an error with an exception event on a span.
    let bad_server = run.spans.iter().find(|span| {
        span.kind == SpanKind::Server && int(span, "http.response.status_code") == Some(400)
    });
    let Some(bad_server) = bad_server else {
        return Err(
            "expected a server span with http.response.status_code = 400 for /fib?index=abc".into(),
        );
    };
    let failed = run.spans.iter().find(|span| {
        span.trace_id == bad_server.trace_id
            && span.status.code == receiver::StatusCode::Error
            && span.event("exception").is_some()
    });
    check(failed.is_some(), || {
        "expected the bad request's trace to hold a span with status Error and an `exception` event"
            .into()
    })
}

/// Step 04, a downstream failure: the sub-requests fail, and the spans say so.
pub fn step_04_failure(run: &Run) -> Result<(), String> {
    let errors = |kind| {
        run.spans
            .iter()
            .filter(|span| span.kind == kind)
            .filter(|span| span.status.code == receiver::StatusCode::Error)
            .collect::<Vec<_>>()
    };
    let clients = errors(SpanKind::Client);
    check(
        !clients.is_empty() && clients.iter().all(|span| span.event("exception").is_some()),
        || {
            format!(
                "expected the failed sub-requests' client spans to have status Error and an `exception` event; {} of them do",
                clients.len()
            )
        },
    )?;
    let servers = errors(SpanKind::Server);
    check(
        servers.iter().any(|span| {
            span.attribute("http.response.status_code")
                .and_then(|v| v.as_i64())
                == Some(502)
        }),
        || {
            "expected the server span of a request answered 502 to have status Error and http.response.status_code = 502".into()
        },
    )
}

fn check(ok: bool, message: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(message()) }
}

fn names(spans: &[&ReceivedSpan]) -> String {
    let mut names: Vec<_> = spans.iter().map(|span| span.name.as_str()).collect();
    names.sort();
    names.dedup();
    format!("{names:?}")
}

/// Step 01's expectation, on the app's output: a server span for each of the 16 requests.
fn step_01(output: &str) -> Result<(), String> {
    let spans = output.matches("Name         : GET /fib").count();
    let servers = output.matches("Kind         : Server").count();
    check(spans == 16 && servers == 16, || {
        format!(
            "expected 16 server spans named \"GET /fib\" printed on stdout, found {spans} named so and {servers} of kind Server"
        )
    })
}

/// Runs `binary` as step `step` is checked, and returns whether its expectations hold.
async fn outcome(step: u32, binary: &str, protocol: Protocol) -> (Result<(), String>, String) {
    let receiver = Receiver::start()
        .await
        .expect("an OTLP receiver on loopback");
    let env: &[(&str, &str)] = if step >= 5 { &HOSTED_ENV } else { &[] };
    let run = drive(binary, &receiver, protocol, env).await;
    let mut result = if step == 1 {
        step_01(&run.output)
    } else {
        expectations(step, &run)
    };
    if step >= 4 && result.is_ok() {
        let receiver = Receiver::start()
            .await
            .expect("an OTLP receiver on loopback");
        let failure = drive_failure(binary, &receiver, protocol).await;
        result = step_04_failure(&failure);
    }
    (result, run.output)
}

pub async fn assert_solved(step: u32, binary: &str, protocol: Protocol) {
    let (result, output) = outcome(step, binary, protocol).await;
    if let Err(problem) = result {
        panic!("step {step:02} over {protocol:?}: {problem}\napp output:\n{output}");
    }
}

pub async fn assert_unsolved(step: u32, binary: &str) {
    let (result, _) = outcome(step, binary, Protocol::HttpProtobuf).await;
    assert!(
        result.is_err(),
        "the exercise of step {step:02} already meets its step's expectations"
    );
}

/// Under a bounded load, SIGTERM: every request answered has all its spans at the receiver.
pub async fn every_span_arrives_after_sigterm(step: u32, binary: &str) {
    const USERS: usize = 8;
    const INDEX: u32 = 10;
    let receiver = Receiver::start()
        .await
        .expect("an OTLP receiver on loopback");
    let endpoint = receiver.http_endpoint();
    let mut app = App::start(
        binary,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("FIB_UPSTREAM_TIMEOUT_MS", "120000"),
        ],
    )
    .await;
    let url = format!("{}/fib?index={INDEX}", app.url);
    let mut users = tokio::task::JoinSet::new();
    for _ in 0..USERS {
        let url = url.clone();
        users.spawn(async move { crate::app::get(&url).await });
    }
    // Some spans are sent, others still in flight or queued, when the stop comes.
    tokio::time::sleep(Duration::from_millis(150)).await;
    app.terminate();
    let answers = users.join_all().await;
    let answered = answers.iter().filter(|answer| answer.0 == 200).count();
    assert_eq!(
        answered, USERS,
        "requests in flight are finished before the app stops: {answers:?}"
    );
    let status = app.exit_status(Duration::from_secs(30)).await;
    assert!(status.success(), "{status:?}\n{}", app.output());

    // No OTEL_EXPORTER_OTLP_PROTOCOL was set: the default is HTTP/protobuf, whatever cargo
    // features the build happens to have (with `http-json` on, the SDK's own default is JSON).
    let transports: Vec<_> = receiver
        .requests()
        .iter()
        .map(|request| request.transport)
        .collect();
    assert!(
        !transports.is_empty()
            && transports
                .iter()
                .all(|t| *t == receiver::Transport::HttpProtobuf),
        "expected every export over HTTP/protobuf by default, got {transports:?}"
    );
    let per_request = sequence::requests_for(INDEX) as usize;
    let servers = receiver
        .spans()
        .iter()
        .filter(|span| span.kind == SpanKind::Server)
        .count();
    assert_eq!(
        servers,
        answered * per_request,
        "server spans of {answered} answered requests of /fib?index={INDEX}"
    );
    if step >= 3 {
        let clients = receiver
            .spans()
            .iter()
            .filter(|span| span.kind == SpanKind::Client)
            .count();
        assert_eq!(clients, answered * (per_request - 1), "client spans");
    }
}

/// Nothing listening at the endpoint: the app serves, says so once, and stops promptly.
pub async fn unreachable_collector_is_reported(_step: u32, binary: &str) {
    let closed = crate::app::closed_url();
    let mut app = App::start(
        binary,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &closed),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    )
    .await;
    for _ in 0..3 {
        assert_eq!(app.get("/fib?index=5").await, (200, "5\n".into()));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let started = std::time::Instant::now();
    let output = app.stop(Duration::from_secs(15)).await;
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "shutdown took {:?}",
        started.elapsed()
    );
    assert_eq!(
        output.matches("could not send").count(),
        1,
        "said once, plainly:\n{output}"
    );
    assert!(
        output.contains(&closed) && output.contains("docker compose up"),
        "{output}"
    );
}

/// Starts `binary` with its sub-requests going to a closed port, asks for `/fib?index=3`
/// (answered 502), and stops it.
pub async fn drive_failure(binary: &str, receiver: &Receiver, protocol: Protocol) -> Run {
    let (closed, endpoint) = (crate::app::closed_url(), protocol.endpoint(receiver));
    let mut app = App::start(
        binary,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.env_value()),
            ("FIB_UPSTREAM_URL", &closed),
        ],
    )
    .await;
    assert_eq!(app.get("/fib?index=3").await.0, 502);
    let output = app.stop(Duration::from_secs(20)).await;
    Run {
        output,
        spans: receiver.spans(),
        requests: receiver.requests(),
    }
}

/// An `https://` endpoint, as a hosted backend has: spans arrive over TLS, by HTTP and by gRPC,
/// trusting the certificate named by `SSL_CERT_FILE` (the system's roots, in real life).
pub async fn https_endpoint_works(binary: &str) {
    for protocol in [Protocol::HttpProtobuf, Protocol::Grpc] {
        let receiver = Receiver::start()
            .await
            .expect("an OTLP receiver on loopback");
        let plain = protocol.endpoint(&receiver);
        let front = crate::tls::TlsFront::start(plain.trim_start_matches("http://")).await;
        let endpoint = front.endpoint();
        let ca_file = front.ca_file.to_string_lossy().into_owned();
        let mut app = App::start(
            binary,
            &[
                ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.env_value()),
                ("SSL_CERT_FILE", &ca_file),
            ],
        )
        .await;
        assert_eq!(app.get("/fib?index=2").await, (200, "1\n".into()));
        let output = app.stop(Duration::from_secs(20)).await;
        let servers = receiver
            .spans()
            .iter()
            .filter(|span| span.kind == SpanKind::Server)
            .count();
        assert_eq!(
            servers, 3,
            "server spans over {endpoint} ({protocol:?}); app output:\n{output}"
        );
        assert!(
            receiver
                .requests()
                .iter()
                .all(|request| request.transport == protocol.transport())
        );
    }
}
