//! # `otelkit`: OpenTelemetry plumbing that every step shares
//!
//! The steps' `telemetry.rs` files build the interesting parts themselves: the resource, the
//! exporter, the processor, the provider, the propagator. What is left here is what no learner
//! should have to write during a workshop:
//!
//! - [`settings`]: the standard `OTEL_*` variables that the SDK does not read by itself
//!   (`OTEL_TRACES_EXPORTER`, `OTEL_METRICS_EXPORTER`, `OTEL_LOGS_EXPORTER`), and batch and
//!   export intervals better suited to a workshop than the SDK's;
//! - [`sampler`]: the share of new traces that `OTEL_TRACES_SAMPLER` and
//!   `OTEL_TRACES_SAMPLER_ARG` ask to keep (step 08 builds its sampler from it), and an error
//!   that names the fix where the SDK would silently keep everything (`0,25`, `25%`, a misspelt
//!   name).
//!
//! That telemetry cannot be sent is said by `sequence::warnings`, from the SDK's own internal
//! logs: no wrapper around the exporters.

pub mod sampler;
pub mod settings;

pub use sampler::sampler_ratio;
pub use settings::{
    Exporter, batch_config, logs_exporter, metric_export_interval, metrics_exporter,
    traces_exporter,
};
