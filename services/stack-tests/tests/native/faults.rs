//! What a room runs into: Jaeger restarted under the Collector, and the Collector gone from under
//! the app.

use std::time::{Duration, Instant};

use stack::Jaeger;

/// Requests of `/fib?index=4`: c(4) = 9, of which 8 sub-requests.
const SERVERS_4: usize = 9;
const CLIENTS_4: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jaeger_restarted_while_the_app_sends_the_collector_runs_on_and_later_traces_arrive() {
    let programs = stack_tests::programs_or_skip!();
    let mut stack = stack_tests::start(programs, "none", |settings| settings);
    let binary = stack_tests::binary("solution-03-propagation");
    let app = stack_tests::app(&binary, &stack.collector, "http/protobuf", &[]).await;
    let fib = |index: u32| {
        let (app, expected) = (&app, format!("{}\n", sequence::fib_iterative(index)));
        async move {
            assert_eq!(
                app.get(&format!("/fib?index={index}")).await,
                (200, expected)
            )
        }
    };
    fib(3).await;
    let url = stack.jaeger.query_url();
    let before =
        stack_tests::wait_for_traces(&url, "fib", Duration::from_secs(20), |t| t.len() == 1).await;
    assert_eq!(before.len(), 1, "{}", stack.output());

    // Jaeger goes away (`docker compose restart jaeger`, or its container dies); the app goes
    // on sending, and the Collector's exporter cannot deliver.
    stack.jaeger.stop().expect("Jaeger stops on SIGTERM");
    for _ in 0..3 {
        fib(3).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(
        stack.collector.process.is_running(),
        "the Collector stopped with Jaeger:\n{}",
        stack.collector.process.output()
    );

    // Jaeger comes back where it was (its traces were in memory: gone), and the next request's
    // trace arrives whole.
    let ports = stack.jaeger.ports.clone();
    stack.jaeger = tokio::task::block_in_place(|| {
        Jaeger::start(&stack_tests::root(), &programs.jaeger, &ports)
            .unwrap_or_else(|err| panic!("{err:#}"))
    });
    fib(4).await;
    let after = stack_tests::wait_for_traces(&url, "fib", Duration::from_secs(30), |traces| {
        traces
            .iter()
            .any(|trace| trace.count("server") == SERVERS_4 && trace.count("client") == CLIENTS_4)
    })
    .await;
    assert!(
        after.iter().any(|trace| {
            trace.count("server") == SERVERS_4
                && trace.count("client") == CLIENTS_4
                && trace.roots().len() == 1
        }),
        "no whole trace of /fib?index=4 in the restarted Jaeger: {after:#?}\n{}",
        stack.output()
    );
    assert!(stack.collector.process.is_running());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_collector_stopped_the_app_serves_on_and_says_once_that_it_cannot_send() {
    let programs = stack_tests::programs_or_skip!();
    let mut stack = stack_tests::start(programs, "none", |settings| settings);
    let binary = stack_tests::binary("solution-03-propagation");
    let mut app = stack_tests::app(&binary, &stack.collector, "http/protobuf", &[]).await;
    assert_eq!(app.get("/fib?index=3").await, (200, "2\n".to_string()));
    let url = stack.jaeger.query_url();
    let arrived =
        stack_tests::wait_for_traces(&url, "fib", Duration::from_secs(20), |t| t.len() == 1).await;
    assert_eq!(arrived.len(), 1, "{}", stack.output());

    stack
        .collector
        .stop()
        .expect("the Collector stops on SIGTERM");
    for _ in 0..5 {
        assert_eq!(app.get("/fib?index=5").await, (200, "5\n".to_string()));
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let started = Instant::now();
    let output = app.stop(Duration::from_secs(15)).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the app took {:?} to stop",
        started.elapsed()
    );
    assert_eq!(
        output.matches("could not send").count(),
        1,
        "the app says once, plainly, that it cannot send:\n{output}"
    );
    assert!(
        output.contains(&stack.collector.otlp_http_endpoint()),
        "{output}"
    );
}
