//! Running a step's app the way the checker needs, and keeping everything it did as evidence.
//!
//! One run, in order:
//! 1. start an OTLP receiver (steps 02 on) and a proxy for the app's sub-requests;
//! 2. start the app, exporting to the receiver by `OTEL_EXPORTER_OTLP_ENDPOINT` and
//!    `OTEL_EXPORTER_OTLP_PROTOCOL`, as a learner configures it;
//! 3. ask for `/fib?index=5`, and wait for its spans: a batch processor sends them within its
//!    delay ([`BATCH_DELAY_MS`]), so they arrive while the app runs;
//! 4. ask for `/fib?index=abc`, and at once send SIGTERM: that request's spans are still in the
//!    batch, so they arrive only if the app flushes when it stops.
//!
//! What arrived before step 4 and after it is how "no shutdown" is told from "no provider".
//!
//! Steps 1 and 2 are [`start`], which every run of the checker begins with, step 06's
//! ([`crate::growth`]) and step 08's ([`crate::sampling`]) too.

use std::path::Path;
use std::time::{Duration, Instant};

use receiver::{
    ReceivedLog, ReceivedMetric, ReceivedRequest, ReceivedSpan, Receiver, RejectedRequest, SpanKind,
};

use crate::app::{self, App};
use crate::upstream::{SubRequest, Upstream};

/// The batch delay the checker asks for (`OTEL_BSP_SCHEDULE_DELAY`), in milliseconds: short, so
/// that the check is quick, and long enough that the last request's spans are still waiting when
/// SIGTERM comes.
pub const BATCH_DELAY_MS: u64 = 400;

/// How long to wait for the spans of `/fib?index=5` before going on without them.
const EXPORT_WAIT: Duration = Duration::from_millis(2 * BATCH_DELAY_MS + 1200);

/// How long an app may take to stop after SIGTERM.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// The OTLP transports the checker receives.
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

    /// The port a Collector listens on for it.
    pub fn collector_port(self) -> u16 {
        match self {
            Protocol::HttpProtobuf => 4318,
            Protocol::Grpc => 4317,
        }
    }
}

/// Where the spans are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    /// Step 01: the app prints them (the stdout exporter).
    Stdout,
    /// Steps 02 on: the app sends them to the checker's receiver.
    Otlp(Protocol),
}

/// What the run asks of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// `/fib?index=5`, then `/fib?index=abc` and SIGTERM.
    Normal,
    /// Sub-requests go to a closed port: `/fib?index=3` is answered 502 (step 04's errors).
    UpstreamDown,
}

/// An answer the app gave: the path asked, and the status and body, or the failure.
#[derive(Debug, Clone)]
pub struct Answer {
    pub path: String,
    pub result: Result<(u16, String), String>,
}

/// Everything one run saw.
#[derive(Debug, Clone)]
pub struct Run {
    pub sink: Sink,
    pub scenario: Scenario,
    /// The endpoint the app was given, for messages.
    pub endpoint: Option<String>,
    pub answers: Vec<Answer>,
    /// How it stopped after SIGTERM, and how long that took.
    pub exit: Option<std::process::ExitStatus>,
    pub stop_took: Duration,
    /// Everything it printed, stdout and stderr.
    pub output: String,
    /// The spans that arrived before the last request was made (see the module's doc).
    pub early: Vec<ReceivedSpan>,
    /// Every span that arrived.
    pub spans: Vec<ReceivedSpan>,
    /// Every export request accepted, with its headers.
    pub requests: Vec<ReceivedRequest>,
    /// Every export request refused (wrong port, wrong path…).
    pub rejected: Vec<RejectedRequest>,
    /// The app's sub-requests, with their `traceparent`.
    pub sub_requests: Vec<SubRequest>,
    /// Every metric data point and log record that arrived (step 07 on).
    pub metrics: Vec<ReceivedMetric>,
    pub logs: Vec<ReceivedLog>,
}

impl Run {
    pub fn server_spans(&self) -> Vec<&ReceivedSpan> {
        of_kind(&self.spans, SpanKind::Server)
    }

    /// How many requests `/fib?index=5` made the app handle: itself and its sub-requests, as
    /// the proxy counted them. 15 while the recursion asks for everything again (steps 00–05);
    /// fewer once known numbers are remembered (step 06).
    pub fn fib5_requests(&self) -> usize {
        1 + self
            .sub_requests
            .iter()
            .filter(|sub| sub.path.starts_with("/fib"))
            .count()
    }

    pub fn answer(&self, path: &str) -> Option<&Answer> {
        self.answers.iter().find(|answer| answer.path == path)
    }

    /// `true` when the app exited with status 0 after SIGTERM.
    pub fn stopped_cleanly(&self) -> bool {
        self.exit.is_some_and(|status| status.success())
    }
}

pub fn of_kind(spans: &[ReceivedSpan], kind: SpanKind) -> Vec<&ReceivedSpan> {
    spans.iter().filter(|span| span.kind == kind).collect()
}

/// Where the app's sub-requests go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubRequests {
    /// Through the checker's proxy, back to the app itself: the proxy sees their headers.
    Proxied,
    /// To a closed port: every sub-request fails (step 04's errors).
    Refused,
}

/// What every run starts with: an OTLP receiver, the proxy the app's sub-requests cross, and the
/// app, running.
pub struct Started {
    pub receiver: Receiver,
    pub upstream: Upstream,
    pub app: App,
    /// The OTLP endpoint the app was given; `None` when it prints its spans (step 01).
    pub endpoint: Option<String>,
}

/// Starts a receiver and the proxy, then `binary`, exporting to the receiver as `sink` says
/// (with the checker's short batch delay, [`BATCH_DELAY_MS`]) and sending its sub-requests as
/// `sub_requests` says; `extra_env` comes last, so it may override any of these.
pub async fn start(
    binary: &Path,
    sink: Sink,
    sub_requests: SubRequests,
    extra_env: &[(&str, &str)],
) -> anyhow::Result<Started> {
    let receiver = Receiver::start().await?;
    let upstream = Upstream::start().await?;
    let closed = app::closed_url();
    let delay = BATCH_DELAY_MS.to_string();

    let mut env: Vec<(&str, &str)> = vec![("OTEL_BSP_SCHEDULE_DELAY", &delay)];
    let endpoint = match sink {
        Sink::Stdout => None,
        Sink::Otlp(protocol) => Some(protocol.endpoint(&receiver)),
    };
    if let (Sink::Otlp(protocol), Some(endpoint)) = (sink, &endpoint) {
        env.push(("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint));
        env.push(("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.env_value()));
    }
    env.push((
        "FIB_UPSTREAM_URL",
        match sub_requests {
            SubRequests::Proxied => &upstream.url,
            SubRequests::Refused => &closed,
        },
    ));
    env.extend_from_slice(extra_env);

    let app = App::start(binary, &env).await?;
    upstream.forward_to(&app.url);
    Ok(Started {
        receiver,
        upstream,
        app,
        endpoint,
    })
}

/// Runs `binary` once as described, with `extra_env` on top of what the checker sets.
pub async fn run(
    binary: &Path,
    sink: Sink,
    scenario: Scenario,
    extra_env: &[(&str, &str)],
) -> anyhow::Result<Run> {
    let sub_requests = match scenario {
        Scenario::Normal => SubRequests::Proxied,
        Scenario::UpstreamDown => SubRequests::Refused,
    };
    let Started {
        receiver,
        upstream,
        mut app,
        endpoint,
    } = start(binary, sink, sub_requests, extra_env).await?;

    let mut answers = Vec::new();
    let early = match scenario {
        Scenario::Normal => {
            answers.push(ask(&app, "/fib?index=5", None).await);
            let early = wait_for_first_spans(&receiver, &app, &upstream, sink).await;
            answers.push(ask(&app, "/fib?index=abc", None).await);
            early
        }
        Scenario::UpstreamDown => {
            answers.push(ask(&app, "/fib?index=3", None).await);
            Vec::new()
        }
    };

    app.terminate();
    let stopping = Instant::now();
    let exit = app.wait(STOP_TIMEOUT).await;
    let stop_took = stopping.elapsed();
    let output = app.output();
    let spans = match sink {
        Sink::Stdout => crate::stdout::spans(&output),
        Sink::Otlp(_) => receiver.spans(),
    };
    Ok(Run {
        sink,
        scenario,
        endpoint,
        answers,
        exit,
        stop_took,
        output,
        early,
        spans,
        // The trace exports: what every expectation so far is about (headers, transports).
        requests: receiver
            .requests()
            .into_iter()
            .filter(|request| request.signal == receiver::Signal::Traces)
            .collect(),
        rejected: receiver.rejected(),
        sub_requests: upstream.seen(),
        metrics: receiver.metrics(),
        logs: receiver.logs(),
    })
}

/// How long the checker waits for an answer: `/fib?index=5` takes milliseconds.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Asks `app` for `path` (with a caller's `traceparent`, when given), at most [`ANSWER_TIMEOUT`].
pub(crate) async fn ask(app: &App, path: &str, traceparent: Option<&str>) -> Answer {
    let url = format!("{}{path}", app.url);
    let result = tokio::time::timeout(ANSWER_TIMEOUT, app::get_with(&url, traceparent))
        .await
        .unwrap_or_else(|_| Err(format!("GET {url}: no answer within {ANSWER_TIMEOUT:?}")));
    Answer {
        path: path.to_string(),
        result,
    }
}

/// Waits until the server spans of `/fib?index=5` are there (one per request it made, as the
/// proxy saw them), or [`EXPORT_WAIT`] has passed; returns what arrived.
async fn wait_for_first_spans(
    receiver: &Receiver,
    app: &App,
    upstream: &Upstream,
    sink: Sink,
) -> Vec<ReceivedSpan> {
    let expected = 1 + upstream.seen().len();
    let deadline = Instant::now() + EXPORT_WAIT;
    loop {
        let spans = match sink {
            Sink::Stdout => crate::stdout::spans(&app.output()),
            Sink::Otlp(_) => receiver.spans(),
        };
        if of_kind(&spans, SpanKind::Server).len() >= expected || Instant::now() >= deadline {
            return spans;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
