//! # `otelkit`: OpenTelemetry plumbing that every step shares
//!
//! The steps' `telemetry.rs` files build the interesting parts themselves: the resource, the
//! exporter, the processor, the provider, the propagator. What is left here is what no learner
//! should have to write during a workshop:
//!
//! - [`settings`]: the standard `OTEL_*` variables that the SDK does not read by itself
//!   (`OTEL_TRACES_EXPORTER`, `OTEL_METRICS_EXPORTER`, `OTEL_LOGS_EXPORTER`,
//!   `OTEL_EXPORTER_OTLP_PROTOCOL`'s default), and batch and export intervals better suited to a
//!   workshop than the SDK's;
//! - [`reported`]: an exporter wrapper, for spans, metrics and log records, that says once and in
//!   plain words when telemetry cannot be sent, and what to start. The SDK otherwise keeps export
//!   errors to itself;
//! - [`sampler`]: the head sampler `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` ask for,
//!   with the share of traces it keeps, and an error that names the fix where the SDK would
//!   silently keep everything (`0,25`, `25%`, a misspelt name).

pub mod reported;
pub mod sampler;
pub mod settings;

pub use reported::{Reported, Signal, otlp_destination, otlp_destination_of};
pub use sampler::{HeadSampler, head_sampler};
pub use settings::{
    Exporter, batch_config, logs_exporter, metric_export_interval, metrics_exporter, otlp_protocol,
    traces_exporter,
};
