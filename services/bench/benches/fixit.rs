//! Step 06's fix, measured: the spans and the latency of `/fib?index=10` and `15` before (step 05:
//! every number asked for again) and after (step 06: each remembered once known), both release
//! builds exporting every span over OTLP/HTTP to a counting sink on loopback.
//!
//! Run with: `./run.sh bench` (or `cargo build --release -p solution-05-hosted -p
//! solution-06-fix-it && cargo bench -p bench --bench fixit`). `BEFORE_BINARY` and
//! `AFTER_BINARY` name other binaries to compare.
//!
//! After the fix, a request costs two different things: the *first* `/fib?index=N` a process
//! sees computes every number up to N, one request each ("cold"); every later one finds both
//! numbers known ("warm"). Cold samples each need a fresh process, so there are fewer of them.

mod common;

use std::time::Duration;

use common::{SpanCounts, binary, counting_sink, quantile, time_one};
use testkit::App;

const INDEXES: [u32; 2] = [10, 15];
/// Timed requests per index for step 05 and for warm step 06, after [`WARM_UP`] untimed ones.
const SAMPLES: usize = 30;
const WARM_UP: usize = 3;
/// Fresh processes per index for cold step 06.
const COLD_SAMPLES: usize = 10;

/// Starts `binary` exporting to a new counting sink.
async fn start(binary: &str) -> (App, std::sync::Arc<SpanCounts>) {
    let (endpoint, counts) = counting_sink().await;
    let app = App::start(
        binary,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("FIB_UPSTREAM_TIMEOUT_MS", "60000"),
        ],
    )
    .await;
    (app, counts)
}

/// Stops `app` (its shutdown flushes every span) and gives its server and client span counts.
async fn stop(mut app: App, counts: &SpanCounts) -> (usize, usize) {
    app.terminate();
    app.exit_status(Duration::from_secs(30)).await;
    (counts.server(), counts.client())
}

fn ms(duration: Duration) -> String {
    format!("{:>8.2} ms", duration.as_secs_f64() * 1e3)
}

fn row(label: &str, spans: (usize, usize), samples: &mut [Duration]) -> Duration {
    let (p50, p99) = (quantile(samples, 0.5), quantile(samples, 0.99));
    println!(
        "  {label:<28} {:>5} spans ({:>4} server + {:>4} client)  P50 {}  P99 {}  ({} samples)",
        spans.0 + spans.1,
        spans.0,
        spans.1,
        ms(p50),
        ms(p99),
        samples.len()
    );
    p99
}

#[tokio::main]
async fn main() {
    let before = binary("BEFORE_BINARY", "solution-05-hosted");
    let after = binary("AFTER_BINARY", "solution-06-fix-it");
    println!("/fib, release builds, one request at a time, every span exported over OTLP/HTTP:");
    for index in INDEXES {
        let path = format!("/fib?index={index}");

        // Step 05: the spans of one request, from a process that served only it; then latency.
        let (app, counts) = start(&before).await;
        time_one(&format!("{}{path}", app.url)).await;
        let before_spans = stop(app, &counts).await;
        let (app, counts) = start(&before).await;
        let url = format!("{}{path}", app.url);
        for _ in 0..WARM_UP {
            time_one(&url).await;
        }
        let mut before_samples = Vec::new();
        for _ in 0..SAMPLES {
            before_samples.push(time_one(&url).await);
        }
        stop(app, &counts).await;

        // Step 06, cold: the first request of fresh processes; the spans are the first one's.
        let mut cold_samples = Vec::new();
        let mut cold_spans = (0, 0);
        for sample in 0..COLD_SAMPLES {
            let (app, counts) = start(&after).await;
            cold_samples.push(time_one(&format!("{}{path}", app.url)).await);
            let spans = stop(app, &counts).await;
            if sample == 0 {
                cold_spans = spans;
            }
        }

        // Step 06, warm: every number known; the spans are one more request's.
        let (app, counts) = start(&after).await;
        let url = format!("{}{path}", app.url);
        time_one(&url).await;
        for _ in 0..WARM_UP - 1 {
            time_one(&url).await;
        }
        let mut warm_samples = Vec::new();
        for _ in 0..SAMPLES {
            warm_samples.push(time_one(&url).await);
        }
        let (server, client) = stop(app, &counts).await;
        // What the requests after the first made, per request.
        let warm_spans = (
            (server - cold_spans.0) / (WARM_UP - 1 + SAMPLES),
            (client - cold_spans.1) / (WARM_UP - 1 + SAMPLES),
        );

        println!("{path}:");
        let before_p99 = row("before (step 05)", before_spans, &mut before_samples);
        let cold_p99 = row("after, first request (cold)", cold_spans, &mut cold_samples);
        let warm_p99 = row("after, asked again (warm)", warm_spans, &mut warm_samples);
        println!(
            "  P99 before / after: ×{:.1} cold, ×{:.1} warm",
            before_p99.as_secs_f64() / cold_p99.as_secs_f64(),
            before_p99.as_secs_f64() / warm_p99.as_secs_f64()
        );
    }
}
