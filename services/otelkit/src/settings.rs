//! The standard `OTEL_*` variables the SDK leaves to the application.
//!
//! The SDK reads `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`,
//! `OTEL_BSP_*` and most `OTEL_EXPORTER_OTLP_*` variables itself. It does not read
//! `OTEL_TRACES_EXPORTER`, and its choice of OTLP transport when `OTEL_EXPORTER_OTLP_PROTOCOL`
//! is unset depends on which cargo features happen to be on. These functions settle both as
//! the specification says.

use std::time::Duration;

use anyhow::bail;
use opentelemetry_otlp::Protocol;
use opentelemetry_sdk::trace::{BatchConfig, BatchConfigBuilder};

/// Where spans go, from `OTEL_TRACES_EXPORTER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TracesExporter {
    /// `otlp`, the default: to a Collector, Jaeger, the explorer or a hosted backend.
    Otlp,
    /// `console` (or `stdout`): printed on the terminal.
    Console,
    /// `none`: spans are recorded but not sent anywhere.
    None,
}

/// `OTEL_TRACES_EXPORTER`: `otlp` (the default), `console` or `none`.
pub fn traces_exporter() -> anyhow::Result<TracesExporter> {
    let value = variable("OTEL_TRACES_EXPORTER");
    Ok(match value.as_deref() {
        None | Some("otlp") => TracesExporter::Otlp,
        Some("console" | "stdout") => TracesExporter::Console,
        Some("none") => TracesExporter::None,
        Some(other) => bail!("OTEL_TRACES_EXPORTER={other:?} is not one of otlp, console, none"),
    })
}

/// The OTLP transport, from `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` or `OTEL_EXPORTER_OTLP_PROTOCOL`:
/// `http/protobuf` (the default, to port 4318), `http/json` (4318) or `grpc` (4317).
pub fn otlp_protocol() -> anyhow::Result<Protocol> {
    let value = variable("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        .or_else(|| variable("OTEL_EXPORTER_OTLP_PROTOCOL"));
    Ok(match value.as_deref() {
        None | Some("http/protobuf") => Protocol::HttpBinary,
        Some("http/json") => Protocol::HttpJson,
        Some("grpc") => Protocol::Grpc,
        Some(other) => bail!(
            "OTEL_EXPORTER_OTLP_PROTOCOL={other:?} is not one of http/protobuf (port 4318), http/json (4318), grpc (4317)"
        ),
    })
}

/// The batch processor's settings: the SDK's, except where a workshop needs others, and always
/// the `OTEL_BSP_*` variables when they are set.
///
/// - Spans are sent every second, not every 5 s: a learner who clicks and looks for the trace
///   should not wonder where it is.
/// - Up to 65,536 finished spans wait in the queue (the SDK keeps 2,048 and drops the rest):
///   one click near the cap makes some 4,000 spans within a second.
pub fn batch_config() -> BatchConfig {
    let mut config = BatchConfigBuilder::default(); // reads OTEL_BSP_* first
    if variable("OTEL_BSP_SCHEDULE_DELAY").is_none() {
        config = config.with_scheduled_delay(Duration::from_secs(1));
    }
    if variable("OTEL_BSP_MAX_QUEUE_SIZE").is_none() {
        config = config.with_max_queue_size(65_536);
    }
    config.build()
}

/// A variable's value, trimmed and lower-cased, or `None` when unset or empty.
fn variable(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_ascii_lowercase())
        .filter(|value| !value.is_empty())
}
