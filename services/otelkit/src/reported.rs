//! Saying, once and plainly, that spans cannot be sent.
//!
//! When nothing listens at the OTLP endpoint, the SDK's exporter fails quietly, batch after
//! batch, and the learner sees an empty Jaeger. [`Reported`] wraps any exporter and prints one
//! line on the first failure, with what to start, and one line when spans get through again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::resource::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

#[derive(Debug)]
pub struct Reported<E> {
    inner: E,
    /// Where the spans go, for the message: e.g. `http://localhost:4318`.
    destination: String,
    failing: AtomicBool,
}

impl<E: SpanExporter> Reported<E> {
    /// Wraps `exporter`, which sends to `destination` (shown in the messages).
    pub fn new(exporter: E, destination: impl Into<String>) -> Reported<E> {
        Reported {
            inner: exporter,
            destination: destination.into(),
            failing: AtomicBool::new(false),
        }
    }
}

/// The OTLP endpoint the standard variables point at, or the default for `protocol`: the
/// destination to name in [`Reported`]'s messages.
pub fn otlp_destination(protocol: opentelemetry_otlp::Protocol) -> String {
    [
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .iter()
    .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
    .unwrap_or_else(|| match protocol {
        opentelemetry_otlp::Protocol::Grpc => "http://localhost:4317".into(),
        _ => "http://localhost:4318".into(),
    })
}

impl<E: SpanExporter> SpanExporter for Reported<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let count = batch.len();
        let result = self.inner.export(batch).await;
        match &result {
            Err(err) if !self.failing.swap(true, Ordering::Relaxed) => {
                let reason = err.to_string();
                let reason = reason.lines().next().unwrap_or_default();
                eprintln!(
                    "telemetry: could not send {count} span(s) to {}: {reason}\n  \
                     Is a Collector listening there? Start one with `docker compose up`, or point \
                     OTEL_EXPORTER_OTLP_ENDPOINT elsewhere (gRPC uses port 4317, HTTP 4318). \
                     The app keeps serving; this is said once.",
                    self.destination
                );
            }
            Ok(()) if self.failing.swap(false, Ordering::Relaxed) => {
                eprintln!("telemetry: spans are reaching {} again.", self.destination);
            }
            _ => {}
        }
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}
