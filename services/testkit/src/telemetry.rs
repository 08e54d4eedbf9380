//! What each step's telemetry must look like, checked on what the app really sent.
//!
//! The expectations are the learner's checker's (`services/checker`, `./run.sh check NN`): a
//! solution passes its step's check, and an exercise, its previous solution plus hints, fails
//! it. The tests here add what a check does not: every span arrives after SIGTERM under load,
//! an unreachable Collector is said once, and `https://` endpoints work.

use std::path::Path;
use std::time::Duration;

use checker::run::Protocol;
use receiver::{Receiver, SpanKind};

use crate::App;

use checker::expect::{Outcome, Verdict};
use checker::sources::Sources;

/// Runs `binary` as `./run.sh check` runs step `step` (over OTLP/HTTP, over gRPC for the bonus,
/// and with its upstream down from step 04 on), and returns the checker's verdicts.
async fn judged(step: u32, binary: &str, sources: &Sources) -> Vec<Outcome> {
    let mut evidence = checker::check::examine(step, Path::new(binary))
        .await
        .unwrap_or_else(|err| panic!("{binary} could not be run: {err:#}"));
    // Step 08's Collector part: the kit's own file, as `./run.sh check` reads it.
    if let Some(sampled) = &mut evidence.sampling {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        sampled.collector = Some(checker::sampling::CollectorFile::read(&root));
    }
    checker::expect::judge(step, &evidence, sources)
}

/// A solution passes every expectation of its step, and of the steps before it.
pub async fn assert_solved(step: u32, binary: &str) {
    let outcomes = judged(step, binary, &Sources::default()).await;
    let failed: Vec<_> = outcomes.iter().filter(|o| !o.passed()).collect();
    assert!(
        failed.is_empty(),
        "step {step:02}: {binary} fails its check:\n{}",
        checker::report::render_outcomes(&outcomes, checker::report::Style::Plain)
    );
}

/// An exercise, not done yet, fails an expectation of its own step, and still has the step's
/// `TODO(NN)` markers, from which the check says "not done yet".
pub async fn assert_unsolved(step: u32, binary: &str, crate_dir: &str) {
    let sources = Sources::read(Path::new(crate_dir));
    assert!(
        !sources.markers(step).is_empty(),
        "the exercise of step {step:02} has no TODO({step:02}) marker left"
    );
    let outcomes = judged(step, binary, &sources).await;
    assert!(
        outcomes
            .iter()
            .any(|o| o.step == step && matches!(o.verdict, Verdict::Failed { .. })),
        "the exercise of step {step:02} already meets its step's expectations:\n{}",
        checker::report::render_outcomes(&outcomes, checker::report::Style::Plain)
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
    // Sub-requests go through a counting proxy: how many requests the app handled is what it
    // must have sent spans for (every one of c(10) = 177 per user, until step 06 remembers).
    let proxy = crate::CountingProxy::start()
        .await
        .expect("a proxy on loopback");
    let mut app = App::start(
        binary,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("FIB_UPSTREAM_TIMEOUT_MS", "120000"),
            ("FIB_UPSTREAM_URL", &proxy.url),
        ],
    )
    .await;
    proxy.forward_to(&app.url);
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
    let sub_requests = proxy.seen().len();
    if step < 6 {
        let per_request = sequence::requests_for(INDEX) as usize;
        assert_eq!(sub_requests, answered * (per_request - 1), "sub-requests");
    }
    let servers = receiver
        .spans()
        .iter()
        .filter(|span| span.kind == SpanKind::Server)
        .count();
    assert_eq!(
        servers,
        answered + sub_requests,
        "server spans of {answered} answered requests of /fib?index={INDEX} and their {sub_requests} sub-requests"
    );
    if step >= 3 {
        let clients = receiver
            .spans()
            .iter()
            .filter(|span| span.kind == SpanKind::Client)
            .count();
        assert_eq!(clients, sub_requests, "client spans");
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

/// An `https://` endpoint, as a hosted backend has: spans arrive over TLS, by OTLP/HTTP, trusting
/// the certificate named by `SSL_CERT_FILE` (the system's roots, in real life).
pub async fn https_endpoint_works(binary: &str) {
    let protocol = Protocol::HttpProtobuf;
    let receiver = Receiver::start()
        .await
        .expect("an OTLP receiver on loopback");
    let plain = protocol.endpoint(&receiver);
    let front = crate::tls::TlsFront::start(plain.trim_start_matches("http://")).await;
    let endpoint = front.endpoint();
    let ca_file = front.ca_file.to_string_lossy().into_owned();
    let proxy = crate::CountingProxy::start()
        .await
        .expect("a proxy on loopback");
    let mut app = App::start(
        binary,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.env_value()),
            ("SSL_CERT_FILE", &ca_file),
            ("FIB_UPSTREAM_URL", &proxy.url),
        ],
    )
    .await;
    proxy.forward_to(&app.url);
    assert_eq!(app.get("/fib?index=3").await, (200, "2\n".into()));
    let output = app.stop(Duration::from_secs(20)).await;
    let servers = receiver
        .spans()
        .iter()
        .filter(|span| span.kind == SpanKind::Server)
        .count();
    // One for the request, one per sub-request: 5 for index 3, or 2 once step 06 remembers.
    assert_eq!(
        servers,
        1 + proxy.seen().len(),
        "server spans over {endpoint} ({protocol:?}); app output:\n{output}"
    );
    assert!(
        receiver
            .requests()
            .iter()
            .all(|request| request.transport == protocol.transport())
    );
}
