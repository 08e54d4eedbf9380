//! Saying, once and plainly, that telemetry cannot be sent.
//!
//! When nothing listens at the OTLP endpoint, the SDK's exporters fail quietly, batch after
//! batch, and the learner sees an empty Jaeger. [`Reported`] wraps any exporter, of spans, metrics
//! or log records, and prints one line on the first failure, with what to start, and one line
//! when everything gets through again.
//!
//! "Once" holds for the whole process: an app that sends traces, metrics and logs to an endpoint
//! where nothing listens has three exporters failing, and one line says so. The wrappers share
//! which signals are failing at which destination; the first failure there is said, and the
//! recovery of the last one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter};
use opentelemetry_sdk::metrics::Temporality;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::exporter::PushMetricExporter;
use opentelemetry_sdk::resource::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// What an exporter sends: how the messages name it, and where the standard variables say it
/// goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    /// What one export carries, counted: `15 span(s)`.
    fn items(self) -> &'static str {
        match self {
            Signal::Traces => "span(s)",
            Signal::Metrics => "metric(s)",
            Signal::Logs => "log record(s)",
        }
    }

    /// The variable that gives this signal an endpoint of its own, used as given.
    fn endpoint_variable(self) -> &'static str {
        match self {
            Signal::Traces => "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            Signal::Metrics => "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            Signal::Logs => "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        }
    }
}

/// An exporter that says when it cannot send (see the module's doc).
#[derive(Debug)]
pub struct Reported<E> {
    inner: E,
    /// Where it sends, for the message: e.g. `http://localhost:4318`.
    destination: String,
    /// What every wrapper of the process knows about failures.
    health: &'static Health,
}

/// The failures of the whole process, shared by every [`Reported`] made with [`Reported::new`].
static PROCESS: Health = Health::new();

impl<E> Reported<E> {
    /// Wraps `exporter`, which sends to `destination` (shown in the messages).
    pub fn new(exporter: E, destination: impl Into<String>) -> Reported<E> {
        Reported::sharing(exporter, destination, &PROCESS)
    }

    /// Wraps `exporter`, sharing what it knows with `health` only (the tests' own).
    fn sharing(exporter: E, destination: impl Into<String>, health: &'static Health) -> Self {
        Reported {
            inner: exporter,
            destination: destination.into(),
            health,
        }
    }

    /// Notes how an export of `count` items of `signal` went, and says what needs saying.
    fn observe(&self, signal: Signal, count: usize, result: &OTelSdkResult) {
        let message = match result {
            Err(err) => {
                let reason = err.to_string();
                let reason = reason.lines().next().unwrap_or_default();
                self.health.failed(&self.destination, signal, count, reason)
            }
            Ok(()) => self.health.succeeded(&self.destination, signal),
        };
        if let Some(message) = message {
            eprintln!("{message}");
        }
    }
}

/// The OTLP endpoint the standard variables point spans at, or the default for `protocol`: the
/// destination to name in [`Reported`]'s messages.
pub fn otlp_destination(protocol: opentelemetry_otlp::Protocol) -> String {
    otlp_destination_of(Signal::Traces, protocol)
}

/// The OTLP endpoint the standard variables point `signal` at (its own variable, e.g.
/// `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`, or the common one), or the default for `protocol`.
pub fn otlp_destination_of(signal: Signal, protocol: opentelemetry_otlp::Protocol) -> String {
    [signal.endpoint_variable(), "OTEL_EXPORTER_OTLP_ENDPOINT"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
        .unwrap_or_else(|| match protocol {
            opentelemetry_otlp::Protocol::Grpc => "http://localhost:4317".into(),
            _ => "http://localhost:4318".into(),
        })
}

/// Which signals are failing, by destination.
#[derive(Debug)]
struct Health {
    failing: Mutex<BTreeMap<String, BTreeSet<Signal>>>,
}

impl Health {
    const fn new() -> Health {
        Health {
            failing: Mutex::new(BTreeMap::new()),
        }
    }

    /// An export failed: the message to print if it is the first failure at `destination`.
    fn failed(
        &self,
        destination: &str,
        signal: Signal,
        count: usize,
        reason: &str,
    ) -> Option<String> {
        let mut failing = self.failing.lock().unwrap_or_else(PoisonError::into_inner);
        let signals = failing.entry(destination.to_string()).or_default();
        let first = signals.is_empty();
        signals.insert(signal);
        first.then(|| {
            format!(
                "telemetry: could not send {count} {} to {destination}: {reason}\n  \
                 Is a Collector listening there? Start one with `docker compose up`, or point \
                 OTEL_EXPORTER_OTLP_ENDPOINT elsewhere (gRPC uses port 4317, HTTP 4318). \
                 The app keeps serving; this is said once.",
                signal.items()
            )
        })
    }

    /// An export succeeded: the message to print if nothing fails at `destination` any more.
    fn succeeded(&self, destination: &str, signal: Signal) -> Option<String> {
        let mut failing = self.failing.lock().unwrap_or_else(PoisonError::into_inner);
        let signals = failing.get_mut(destination)?;
        if !signals.remove(&signal) || !signals.is_empty() {
            return None;
        }
        failing.remove(destination);
        Some(format!("telemetry: sending to {destination} again."))
    }
}

impl<E: SpanExporter> SpanExporter for Reported<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let count = batch.len();
        let result = self.inner.export(batch).await;
        self.observe(Signal::Traces, count, &result);
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

impl<E: PushMetricExporter> PushMetricExporter for Reported<E> {
    async fn export(&self, metrics: &ResourceMetrics) -> OTelSdkResult {
        let count = metrics
            .scope_metrics()
            .map(|scope| scope.metrics().count())
            .sum();
        let result = self.inner.export(metrics).await;
        self.observe(Signal::Metrics, count, &result);
        result
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn temporality(&self) -> Temporality {
        self.inner.temporality()
    }
}

impl<E: LogExporter> LogExporter for Reported<E> {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        let count = batch.iter().count();
        let result = self.inner.export(batch).await;
        self.observe(Signal::Logs, count, &result);
        result
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn event_enabled(
        &self,
        level: opentelemetry::logs::Severity,
        target: &str,
        name: Option<&str>,
    ) -> bool {
        self.inner.event_enabled(level, target, name)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use opentelemetry_sdk::error::OTelSdkError;

    const THERE: &str = "http://localhost:4318";

    /// A health of the test's own: tests run side by side, and the process's is shared.
    fn health() -> &'static Health {
        Box::leak(Box::new(Health::new()))
    }

    #[test]
    fn three_signals_failing_at_one_destination_are_said_once() {
        let health = health();
        let said: Vec<String> = [
            Signal::Traces,
            Signal::Metrics,
            Signal::Logs,
            Signal::Traces,
        ]
        .into_iter()
        .filter_map(|signal| health.failed(THERE, signal, 3, "connection refused"))
        .collect();
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(
            said[0].starts_with(
                "telemetry: could not send 3 span(s) to http://localhost:4318: connection refused\n"
            ),
            "{}",
            said[0]
        );
        assert!(said[0].contains("docker compose up"), "{}", said[0]);
    }

    #[test]
    fn recovery_is_said_when_the_last_failing_signal_gets_through() {
        let health = health();
        assert!(health.failed(THERE, Signal::Logs, 2, "refused").is_some());
        assert!(
            health
                .failed(THERE, Signal::Metrics, 4, "refused")
                .is_none()
        );
        // Traces never failed: their success says nothing.
        assert_eq!(health.succeeded(THERE, Signal::Traces), None);
        assert_eq!(health.succeeded(THERE, Signal::Logs), None);
        assert_eq!(
            health.succeeded(THERE, Signal::Metrics).as_deref(),
            Some("telemetry: sending to http://localhost:4318 again.")
        );
        // A new failure after the recovery is news again.
        assert!(
            health
                .failed(THERE, Signal::Metrics, 1, "refused")
                .is_some()
        );
    }

    #[test]
    fn a_signal_failing_alone_does_not_flap_while_the_others_succeed() {
        let health = health();
        let mut said = 0;
        for _ in 0..5 {
            said += usize::from(health.failed(THERE, Signal::Metrics, 1, "404").is_some());
            said += usize::from(health.succeeded(THERE, Signal::Traces).is_some());
            said += usize::from(health.succeeded(THERE, Signal::Logs).is_some());
        }
        assert_eq!(said, 1);
    }

    #[test]
    fn each_destination_is_said_on_its_own() {
        let health = health();
        assert!(health.failed(THERE, Signal::Traces, 1, "refused").is_some());
        let other = "https://api.honeycomb.io";
        let said = health.failed(other, Signal::Metrics, 7, "401").unwrap();
        assert!(
            said.starts_with(
                "telemetry: could not send 7 metric(s) to https://api.honeycomb.io: 401"
            ),
            "{said}"
        );
    }

    /// A span exporter whose exports fail until told otherwise.
    #[derive(Debug)]
    struct Flaky(std::sync::atomic::AtomicBool);

    impl SpanExporter for Flaky {
        async fn export(&self, _batch: Vec<SpanData>) -> OTelSdkResult {
            if self.0.load(std::sync::atomic::Ordering::Relaxed) {
                Err(OTelSdkError::InternalFailure(
                    "network error\nwith details".into(),
                ))
            } else {
                Ok(())
            }
        }
    }

    #[tokio::test]
    async fn the_wrapper_passes_results_through_and_notes_them() {
        let health = health();
        let exporter = Reported::sharing(
            Flaky(std::sync::atomic::AtomicBool::new(true)),
            THERE,
            health,
        );
        assert!(exporter.export(Vec::new()).await.is_err());
        // Noted: a failure of another signal there is no news.
        assert!(health.failed(THERE, Signal::Logs, 1, "refused").is_none());
        exporter
            .inner
            .0
            .store(false, std::sync::atomic::Ordering::Relaxed);
        assert!(exporter.export(Vec::new()).await.is_ok());
        assert!(health.succeeded(THERE, Signal::Logs).is_some());
    }

    #[test]
    fn each_signal_has_its_own_endpoint_variable_and_the_defaults_follow_the_protocol() {
        assert_eq!(
            Signal::Metrics.endpoint_variable(),
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
        );
        if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_none()
            && std::env::var_os("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT").is_none()
        {
            assert_eq!(
                otlp_destination_of(Signal::Logs, opentelemetry_otlp::Protocol::Grpc),
                "http://localhost:4317"
            );
        }
    }
}
