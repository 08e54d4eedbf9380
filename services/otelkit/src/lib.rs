//! # `otelkit`: OpenTelemetry plumbing that every step shares
//!
//! The steps' `telemetry.rs` files build the interesting parts themselves: the resource, the
//! exporter, the processor, the provider, the propagator. What is left here is what no learner
//! should have to write during a workshop:
//!
//! - [`settings`]: the standard `OTEL_*` variables that the SDK does not read by itself
//!   (`OTEL_TRACES_EXPORTER`, `OTEL_EXPORTER_OTLP_PROTOCOL`'s default), and batch defaults
//!   better suited to a workshop than the SDK's;
//! - [`reported`]: an exporter wrapper that says, once and in plain words, when spans cannot be
//!   sent, and what to start. The SDK otherwise keeps export errors to itself.

pub mod reported;
pub mod settings;

pub use reported::{Reported, otlp_destination};
pub use settings::{TracesExporter, batch_config, otlp_protocol, traces_exporter};
