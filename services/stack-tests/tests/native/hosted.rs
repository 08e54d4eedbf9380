//! The hosted overlay (`COLLECTOR_OVERLAY=hosted`): the Collector fans every span out to Jaeger and
//! to a hosted backend, with the API key from the environment in the `x-honeycomb-team` header.
//!
//! The hosted backend here is a stand-in for Honeycomb: the kit's own OTLP receiver behind TLS,
//! with a certificate the test makes, which the Collector trusts through `SSL_CERT_FILE` (Go reads
//! it, as it reads the system's roots when it is unset). `collector/hosted.yaml` is used as it is:
//! its endpoint and key come from compose's variables, as `.env` would set them.

use std::collections::BTreeSet;
use std::time::Duration;

use receiver::Receiver;
use testkit::tls::TlsFront;

/// c(5) = 15 requests for one `/fib?index=5`, 14 of them sub-requests.
const SERVERS: usize = 15;
const CLIENTS: usize = 14;

/// A key no one would type, made for this run; never printed by the test.
fn made_up_key() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("hcaik_test{nanos:x}{}", std::process::id())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_span_reaches_jaeger_and_the_hosted_backend_with_the_key() {
    let programs = stack_tests::programs_or_skip!();
    let hosted = Receiver::start().await.expect("a receiver on loopback");
    let front = TlsFront::start(hosted.http_endpoint().trim_start_matches("http://")).await;
    let key = made_up_key();
    let ca_file = front.ca_file.to_string_lossy().into_owned();
    let stack = tokio::task::block_in_place(|| {
        stack_tests::start(programs, "hosted", |mut settings| {
            settings.extra_env.push(("SSL_CERT_FILE".into(), ca_file));
            settings
                .variable("HOSTED_OTLP_ENDPOINT", &front.endpoint())
                .variable("HONEYCOMB_API_KEY", &key)
        })
    });
    // Step 05's app, sending to the Collector only: the key is the Collector's business.
    let binary = stack_tests::binary("solution-05-hosted");
    let app = stack_tests::app(&binary, &stack.collector, "http/protobuf", &[]).await;
    assert_eq!(app.get("/fib?index=5").await, (200, "5\n".to_string()));

    let in_jaeger = stack_tests::wait_for_traces(
        &stack.jaeger.query_url(),
        "fib",
        Duration::from_secs(20),
        |traces| traces.iter().map(|t| t.count("server")).sum::<usize>() >= SERVERS,
    )
    .await;
    let jaeger_spans: BTreeSet<String> = in_jaeger
        .iter()
        .flat_map(|trace| trace.spans.iter().map(|span| span.span_id.clone()))
        .collect();
    let received = hosted
        .wait_for_spans(jaeger_spans.len(), Duration::from_secs(20))
        .await;
    let hosted_spans: BTreeSet<String> = received.iter().map(|span| span.span_id.clone()).collect();

    assert_eq!(
        in_jaeger.len(),
        1,
        "one trace: {in_jaeger:#?}\n{}",
        stack.output()
    );
    assert_eq!(
        (in_jaeger[0].count("server"), in_jaeger[0].count("client")),
        (SERVERS, CLIENTS)
    );
    assert_eq!(
        jaeger_spans,
        hosted_spans,
        "the same spans in Jaeger and in the hosted backend\n{}",
        stack.output()
    );

    // Every request to the hosted backend carried the key; compared, never printed.
    let requests = hosted.requests();
    assert!(!requests.is_empty());
    let with_key = requests
        .iter()
        .filter(|request| request.header("x-honeycomb-team") == Some(key.as_str()))
        .count();
    assert_eq!(
        with_key,
        requests.len(),
        "{} of {} requests to the hosted backend had the right x-honeycomb-team header",
        with_key,
        requests.len()
    );

    // And no one wrote it down: not the Collector, not Jaeger, not the app.
    let app_output = app.output();
    for (who, output) in [
        ("the Collector", stack.collector.process.output()),
        ("Jaeger", stack.jaeger.process.output()),
        ("the app", app_output),
    ] {
        assert!(
            !output.contains(&key),
            "{who} printed the API key (its output is not shown here, since it holds the key)"
        );
    }
}
