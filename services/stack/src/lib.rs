//! # `stack`: the Collector and Jaeger of `docker-compose.yml`, without Docker
//!
//! Run with: `./run.sh stack build` (once: builds both from their Go modules), then
//! `./run.sh stack up` to run them natively, or `cargo test -p stack-tests` for the tests.
//!
//! The workshop's central path is app → OpenTelemetry Collector → Jaeger, which learners start
//! with `docker compose up`. No Docker engine runs where the kit is built and tested, so this crate
//! builds the same programs from their Go modules and runs them as processes, with **the very
//! files compose mounts** and the command and environment compose gives them: what the tests
//! prove about `collector/*.yaml` and Jaeger's flags is what a room will run. Only the network
//! differs, and only by `--set` flags: each program's ports move to free ones on loopback, and the
//! Collector's `jaeger:4317` becomes wherever Jaeger listens.
//!
//! # Layout
//! - [`programs`]: building the two programs (the Collector Builder's manifest in
//!   `go/collector/builder.yaml`, Jaeger's `go/jaeger/go.mod`) into a cache kept by version;
//! - [`compose`]: what `docker-compose.yml` starts, read from it;
//! - [`config`]: the Collector's files merged as the Collector merges them, and where it listens;
//! - [`collector`], [`jaeger`]: starting each as compose would, on ports of our choosing;
//! - [`process`]: a running program: its output, readiness, sockets, memory, and a SIGTERM stop.
//!
//! The tests (`services/stack-tests`) need the programs built, which needs Go. Without them they
//! skip with a line that says so, except in CI (`CI=true`), where they build them.

pub mod collector;
pub mod compose;
pub mod config;
pub mod jaeger;
pub mod process;
pub mod programs;

use std::path::Path;

pub use collector::Collector;
pub use jaeger::Jaeger;
pub use programs::{Program, Programs, Progress};

/// Jaeger and the Collector, started in the order compose starts them (`depends_on`).
pub struct Stack {
    pub jaeger: Jaeger,
    pub collector: Collector,
}

impl Stack {
    /// Starts Jaeger with its listeners at `jaeger_ports`, then the Collector as `settings` say,
    /// sending to that Jaeger; each waits until it says it is ready.
    pub fn start(
        root: &Path,
        programs: &Programs,
        jaeger_ports: &jaeger::Ports,
        mut settings: collector::Settings,
    ) -> anyhow::Result<Stack> {
        let jaeger = Jaeger::start(root, &programs.jaeger, jaeger_ports)?;
        settings
            .services
            .insert(jaeger::SERVICE.to_string(), jaeger_ports.otlp_grpc());
        let collector = Collector::start(root, &programs.collector, &settings)?;
        Ok(Stack { jaeger, collector })
    }

    /// What both programs printed, for a message when something went wrong.
    pub fn output(&self) -> String {
        format!(
            "--- the Collector printed:\n{}\n--- Jaeger printed:\n{}",
            self.collector.process.output(),
            self.jaeger.process.output()
        )
    }

    /// Stops the Collector first, which sends what it holds, then Jaeger.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        self.collector.stop()?;
        self.jaeger.stop()
    }
}
