//! What tracing costs: the median latency of `/fib?index=12` for the instrumented app (solution
//! 04, exporting every span over OTLP/HTTP to a real receiver on loopback) divided by the
//! uninstrumented app's (step 00), measured in interleaved rounds so that both see the same
//! machine. Also: how many spans per second reach the receiver, and whether any were dropped.
//!
//! Run with: `./run.sh bench` (or `cargo build --release -p exercise-00-app -p
//! solution-04-attributes && cargo bench -p bench --bench overhead`).
//! `BASE_BINARY` and `TRACED_BINARY` name other binaries to compare.

mod common;

use std::time::Duration;

use common::{binary, counting_sink, quantile, time_one};
use testkit::App;

const INDEX: u32 = 12;
const ROUNDS: usize = 40;
const PER_ROUND: usize = 5;

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; this harness takes no arguments.
    let base_binary = binary("BASE_BINARY", "exercise-00-app");
    let traced_binary = binary("TRACED_BINARY", "solution-04-attributes");
    // SINK=receiver sends to the kit's test receiver instead of the counting sink.
    let full_receiver = std::env::var("SINK").is_ok_and(|sink| sink == "receiver");
    let receiver = receiver::Receiver::start().await.expect("an OTLP receiver");
    let (sink_url, sink_spans) = counting_sink().await;
    let endpoint = if full_receiver {
        receiver.http_endpoint()
    } else {
        sink_url
    };
    let patient = ("FIB_UPSTREAM_TIMEOUT_MS", "60000");
    let base = App::start(&base_binary, &[patient]).await;
    // TRACED_EXPORTER=none measures recording spans without sending them.
    let exporter = std::env::var("TRACED_EXPORTER").unwrap_or_else(|_| "otlp".into());
    let mut traced = App::start(
        &traced_binary,
        &[
            patient,
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_TRACES_EXPORTER", &exporter),
        ],
    )
    .await;
    let (base_url, traced_url) = (
        format!("{}/fib?index={INDEX}", base.url),
        format!("{}/fib?index={INDEX}", traced.url),
    );

    for _ in 0..10 {
        time_one(&base_url).await;
        time_one(&traced_url).await;
    }
    let (mut base_samples, mut traced_samples) = (Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        // Alternate which goes first, so that neither always follows the other's export burst.
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for traced_turn in order {
            for _ in 0..PER_ROUND {
                if traced_turn {
                    traced_samples.push(time_one(&traced_url).await);
                } else {
                    base_samples.push(time_one(&base_url).await);
                }
            }
        }
    }

    // Stop the traced app: its shutdown flushes the last batch.
    traced.terminate();
    traced.exit_status(Duration::from_secs(30)).await;
    let requests = 10 + ROUNDS * PER_ROUND;
    let per_request =
        2 * sequence::requests_for(INDEX) as usize - 1 + sequence::requests_for(INDEX) as usize;
    let expected = requests * per_request;
    let received = if full_receiver {
        receiver.spans().len()
    } else {
        sink_spans.total()
    };

    let (base_median, traced_median) = (
        quantile(&mut base_samples, 0.5),
        quantile(&mut traced_samples, 0.5),
    );
    println!(
        "/fib?index={INDEX}, release builds, {} requests each, interleaved:",
        ROUNDS * PER_ROUND
    );
    println!(
        "  uninstrumented (exercise-00-app):          median {:>7.2} ms",
        base_median.as_secs_f64() * 1e3
    );
    println!(
        "  traced, OTLP/HTTP (solution-04-attributes): median {:>7.2} ms",
        traced_median.as_secs_f64() * 1e3
    );
    println!(
        "  ratio traced / uninstrumented: {:.3} (goal ≤ 1.15)",
        traced_median.as_secs_f64() / base_median.as_secs_f64()
    );
    let traced_time: Duration = traced_samples.iter().sum();
    println!(
        "  spans: {received} received of {expected} sent ({} dropped); {:.0} spans/s while the traced app was busy",
        expected.saturating_sub(received),
        (ROUNDS * PER_ROUND * per_request) as f64 / traced_time.as_secs_f64()
    );
}
