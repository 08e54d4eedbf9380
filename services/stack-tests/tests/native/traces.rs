//! Step 03's solution → the Collector → Jaeger: one `/fib?index=5` is one trace of 29 spans in
//! Jaeger (15 server spans, one per request, and 14 client spans, one per sub-request), each span's
//! parent in the trace; over OTLP/HTTP from the solution, and over OTLP/gRPC from step 03's
//! `tracing` alternative (services/checker/alternatives/03-tracing), which does the checker's
//! gRPC bonus that the solutions leave out, and exports the same spans.

use std::time::Duration;

/// c(5) = 15 requests for one `/fib?index=5`, 14 of them sub-requests.
const SERVERS: usize = 15;
const CLIENTS: usize = 14;

async fn one_trace_of_29_spans(package: &str, protocol: &str) {
    let programs = stack_tests::programs_or_skip!();
    let stack = stack_tests::start(programs, "none", |settings| settings);
    let binary = stack_tests::binary(package);
    let app = stack_tests::app(&binary, &stack.collector, protocol, &[]).await;
    assert_eq!(app.get("/fib?index=5").await, (200, "5\n".to_string()));

    let traces = stack_tests::wait_for_traces(
        &stack.jaeger.query_url(),
        "fib",
        Duration::from_secs(20),
        |traces| traces.iter().map(|t| t.spans.len()).sum::<usize>() >= SERVERS + CLIENTS,
    )
    .await;
    let output = stack.output();
    assert_eq!(
        traces.len(),
        1,
        "one trace per click: {traces:#?}\n{output}"
    );
    let trace = &traces[0];
    assert_eq!(
        (
            trace.count("server"),
            trace.count("client"),
            trace.spans.len()
        ),
        (SERVERS, CLIENTS, SERVERS + CLIENTS),
        "{trace:#?}"
    );
    // Parent links intact: one root, the server span of the request the test made, and every
    // client span's parent a server span, every other server span's parent a client span.
    let roots = trace.roots();
    assert_eq!(roots.len(), 1, "{roots:#?}");
    assert_eq!(roots[0].kind, "server");
    assert!(roots[0].parent.is_none(), "{:?}", roots[0]);
    for span in &trace.spans {
        let Some(parent) = &span.parent else { continue };
        let parent = trace.spans.iter().find(|s| &s.span_id == parent).unwrap();
        let expected = if span.kind == "client" {
            "server"
        } else {
            "client"
        };
        assert_eq!(parent.kind, expected, "{span:?} under {parent:?}");
        assert_eq!(span.service, "fib");
    }

    // The Collector's debug exporter said so too, one line per batch.
    stack_debug_said(&stack, SERVERS + CLIENTS).await;
}

/// The `debug` exporter's lines count `spans` spans in all (the app may send them in batches).
async fn stack_debug_said(stack: &stack::Stack, spans: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let output = stack.collector.process.output();
        let counted = stack_tests::debug_counts(&output, "Traces", "spans");
        if counted == spans {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the debug exporter counted {counted} spans, not {spans}:\n{output}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_03_over_http_is_one_trace_of_29_spans_in_jaeger() {
    one_trace_of_29_spans("solution-03-propagation", "http/protobuf").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_03_over_grpc_is_one_trace_of_29_spans_in_jaeger() {
    one_trace_of_29_spans("alternative-03-tracing", "grpc").await;
}
