//! The Collector and Jaeger under a room's load: their memory against the `mem_limit`s that
//! `docker-compose.yml` sets, as the native stack runs them (services/stack).
//!
//! Run with: `./run.sh bench` (or `./run.sh stack build && cargo build --release -p
//! solution-05-hosted && cargo bench -p bench --bench stack`). `APP_BINARY` names another app.
//!
//! For each of the default overlay and the tail-sampling one (which holds every trace for 12 s
//! before it decides): the stack with the very files compose mounts, step 05's app (every number
//! asked for again: the most spans per click) exporting every span to the Collector, and the load
//! generator's default room (`./run.sh load`: 5 learners pressing Go up to index 10) for 30 s. Each
//! program's peak resident memory, which the kernel keeps (`VmHWM`), is what a container's limit
//! is measured against. Reported, not asserted: machines differ.

mod common;

use std::time::Duration;

use stack::collector::Settings;
use stack::compose::Compose;
use stack::{Programs, Stack, jaeger};
use testkit::App;

const LOAD: Duration = Duration::from_secs(30);
const OVERLAYS: [&str; 2] = ["none", "sampling"];

fn mib(bytes: u64) -> String {
    format!("{:>5.0} MiB", bytes as f64 / (1024.0 * 1024.0))
}

#[tokio::main]
async fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let Some(programs) = Programs::cached(&root).expect("the stack's recipes read") else {
        println!("skipped: the native Collector and Jaeger are not built (./run.sh stack build)");
        return;
    };
    let app_binary = common::binary("APP_BINARY", "solution-05-hosted");
    let compose = Compose::read(&root).expect("docker-compose.yml reads");
    println!(
        "The Collector and Jaeger under `./run.sh load` for {}s (5 users, up to index 10), step 05's \
         app (release) exporting every span; peak resident memory against compose's mem_limit:",
        LOAD.as_secs()
    );
    for overlay in OVERLAYS {
        let ports = jaeger::Ports::free().unwrap();
        let mut running = tokio::task::block_in_place(|| {
            Stack::start(&root, &programs, &ports, Settings::new(overlay))
        })
        .unwrap_or_else(|err| panic!("{err:#}"));
        let endpoint = running.collector.otlp_http_endpoint();
        let app = App::start(&app_binary, &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)]).await;

        let options = loadgen::Options {
            url: app.url.clone(),
            users: 5,
            duration: LOAD,
            max_index: 10,
            max_requests: None,
            seed: 42,
        };
        let summary = loadgen::run_until(options, std::future::pending())
            .await
            .expect("the load runs");
        // The tail-sampling overlay decides 12 s after a trace's first span: let the last ones go.
        tokio::time::sleep(Duration::from_secs(if overlay == "sampling" {
            14
        } else {
            2
        }))
        .await;
        let peak = |process: &stack::process::Process| {
            process.memory().expect("/proc/<pid>/status reads").peak
        };
        let (collector, jaeger) = (
            peak(&running.collector.process),
            peak(&running.jaeger.process),
        );
        let answered =
            summary.counts.status_2xx + summary.counts.status_4xx + summary.counts.status_5xx;
        println!(
            "  overlay {overlay}: {answered} requests of the virtual learners answered (each \
             /fib?index=N makes c(N) requests inside the app)"
        );
        for (name, service, bytes) in [
            ("Collector", "collector", collector),
            ("Jaeger", "jaeger", jaeger),
        ] {
            let limit = compose.mem_limit(service).unwrap();
            println!(
                "    {name:<9} peak {}  of mem_limit {}  ({:>3.0} %)",
                mib(bytes),
                mib(limit),
                bytes as f64 * 100.0 / limit as f64
            );
        }
        drop(app);
        tokio::task::block_in_place(|| running.stop()).unwrap_or_else(|err| panic!("{err:#}"));
    }
}
