//! Latency of `GET /fib?index=N` for N = 5, 10, 12, 15, one request at a time, against the app's
//! release binary on loopback.
//!
//! Run with: `./run.sh bench` (or `cargo build --release -p exercise-00-app && cargo bench -p bench`).
//! `APP_BINARY` names another binary to measure, e.g. a later step's.

use std::path::PathBuf;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// The indexes measured; `./run.sh bench` reads their results back by these names.
const INDEXES: [u32; 4] = [5, 10, 12, 15];

fn app_binary() -> PathBuf {
    match std::env::var_os("APP_BINARY") {
        Some(path) => PathBuf::from(path),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/release/exercise-00-app")
        }
    }
}

fn fib_latency(c: &mut Criterion) {
    let binary = app_binary();
    assert!(
        binary.exists(),
        "{} not found: build it first with cargo build --release -p exercise-00-app",
        binary.display()
    );
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let app = runtime.block_on(testkit::App::start(
        binary.to_str().expect("a UTF-8 path"),
        &[("FIB_UPSTREAM_TIMEOUT_MS", "60000")],
    ));
    let client = reqwest::Client::new();

    let mut group = c.benchmark_group("fib");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(6));
    for index in INDEXES {
        let url = format!("{}/fib?index={index}", app.url);
        group.bench_with_input(BenchmarkId::from_parameter(index), &url, |b, url| {
            b.to_async(&runtime).iter(|| async {
                let response = client.get(url).send().await.expect("an answer");
                assert!(
                    response.status().is_success(),
                    "{url}: {}",
                    response.status()
                );
                response.bytes().await.expect("a body")
            });
        });
    }
    group.finish();
}

criterion_group!(benches, fib_latency);
criterion_main!(benches);
