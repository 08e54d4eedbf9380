//! What the libraries the app uses have to say, on the console: once, and in plain words.
//!
//! The OpenTelemetry SDK does not print when it cannot send telemetry. It reports a failed
//! export only as a `tracing` event (its "internal logs"), which nothing shows unless the app
//! installs a subscriber; and it reports every failed batch, several a second. So the learner
//! sees an empty Jaeger and no reason. [`init`] installs a subscriber with one layer,
//! [`Warnings`], which reads those events and prints one line when sending starts failing, with
//! the URL and what to start, and one line when it works again.
//!
//! Every step's `main.rs` calls [`init`] first. From step 07 on, the app installs a subscriber of
//! its own (its `tracing` events become log records), and adds [`layer`] to it instead: a
//! process has one global subscriber.
//!
//! The events read, by their `name` field (opentelemetry 0.33):
//! - `BatchSpanProcessor.ExportError`, `BatchLogProcessor.ExportError`,
//!   `PeriodicReader.ExportError` (target `opentelemetry_sdk`, level ERROR): a batch was lost;
//! - `HttpClient.NetworkError`, `HttpClient.StatusError` (target `opentelemetry-otlp`, DEBUG):
//!   the same failure, with the URL it was sent to;
//! - `HttpClient.ExportSucceeded`, `Tonic…Client.ExportSucceeded` (DEBUG): it works again.
//!
//! Nothing else is enabled, so the libraries' other events cost nothing.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::io::Write;
use std::sync::{Mutex, PoisonError};

use tracing_core::field::{Field, Visit};
use tracing_core::{Event, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{Filtered, Targets};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// Installs a global `tracing` subscriber with the [`Warnings`] layer alone, printing to stderr.
///
/// Call it once, first thing in `main`. If the app already installed a subscriber, this one is
/// not installed and nothing else happens: the app's own should then hold [`layer`].
pub fn init() {
    let _ = tracing_subscriber::registry().with(layer()).try_init();
}

/// The [`Warnings`] layer, printing to stderr, for an app that installs its own subscriber:
/// `tracing_subscriber::registry().with(…).with(sequence::warnings::layer()).try_init()`.
pub fn layer<S>() -> Filtered<Warnings, Targets, S>
where
    S: Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    Warnings::to(Box::new(std::io::stderr())).with_filter(
        Targets::new()
            .with_target("opentelemetry_sdk", Level::WARN)
            .with_target("opentelemetry-otlp", Level::DEBUG),
    )
}

/// The telemetry a processor sends, as the messages name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    fn items(self) -> &'static str {
        match self {
            Signal::Traces => "spans",
            Signal::Metrics => "metrics",
            Signal::Logs => "log records",
        }
    }

    /// From an URL's path: the OTLP/HTTP exporters post to `/v1/traces`, `/v1/metrics`, `/v1/logs`.
    fn of_url(url: &str) -> Option<Signal> {
        let path = url.split('?').next().unwrap_or(url);
        [
            ("/v1/traces", Signal::Traces),
            ("/v1/metrics", Signal::Metrics),
            ("/v1/logs", Signal::Logs),
        ]
        .into_iter()
        .find_map(|(suffix, signal)| path.ends_with(suffix).then_some(signal))
    }

    /// From the event's name (`BatchSpanProcessor.…`), or else the thread the SDK exports from
    /// (`OpenTelemetry.Traces.BatchProcessor`, …).
    fn of_event(name: &str) -> Option<Signal> {
        let by = |text: &str| {
            if text.contains("Span") || text.contains("Traces") {
                Some(Signal::Traces)
            } else if text.contains("PeriodicReader") || text.contains("Metrics") {
                Some(Signal::Metrics)
            } else if text.contains("Log") {
                Some(Signal::Logs)
            } else {
                None
            }
        };
        by(name).or_else(|| by(std::thread::current().name().unwrap_or_default()))
    }

    /// Where the standard variables send this signal, for a failure whose URL is not known.
    fn destination(self) -> String {
        let own = match self {
            Signal::Traces => "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            Signal::Metrics => "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
            Signal::Logs => "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        };
        [own, "OTEL_EXPORTER_OTLP_ENDPOINT"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
            .unwrap_or_else(|| "http://localhost:4318".into())
    }
}

/// The layer: see the module's doc.
pub struct Warnings {
    state: Mutex<State>,
}

/// What has been said, and where to say more: the signals failing now, where the first of them
/// failed, and the writer.
struct State {
    failing: BTreeSet<Signal>,
    destination: String,
    out: Box<dyn Write + Send>,
}

impl State {
    fn say(&mut self, line: &str) {
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
    }
}

impl Warnings {
    /// A layer that writes its lines to `out`.
    pub fn to(out: Box<dyn Write + Send>) -> Warnings {
        Warnings {
            state: Mutex::new(State {
                failing: BTreeSet::new(),
                destination: String::new(),
                out,
            }),
        }
    }

    /// A failure: said if nothing was failing before.
    fn failed(&self, signal: Signal, destination: String, reason: &str) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let first = state.failing.is_empty();
        if !state.failing.insert(signal) || !first {
            return;
        }
        let line = format!(
            "telemetry: could not send {} to {}: {reason}\n  \
             Is a Collector listening there? Start one with `docker compose up`, or point \
             OTEL_EXPORTER_OTLP_ENDPOINT elsewhere (OTLP/HTTP is port 4318). The app keeps \
             serving; this is said once.",
            signal.items(),
            destination,
        );
        state.destination = destination;
        state.say(&line);
    }

    /// A success: said if it ends the failures.
    fn succeeded(&self, signal: Signal) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.failing.remove(&signal) && state.failing.is_empty() {
            let line = format!("telemetry: sending to {} again.", state.destination);
            state.say(&line);
        }
    }
}

impl<S: Subscriber> Layer<S> for Warnings {
    fn on_event(&self, event: &Event<'_>, _cx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let name = fields.name.as_str();
        match name {
            "HttpClient.NetworkError" | "HttpClient.StatusError" => {
                let Some(signal) = Signal::of_url(&fields.url) else {
                    return;
                };
                let reason = match fields.status_code.as_str() {
                    // Steps 01–04 build without TLS, and then an https:// endpoint cannot answer.
                    "" if fields.url.starts_with("https://") => "nothing answered over TLS. \
                        Steps 01–04 build without TLS (step 05 brings it: opentelemetry-otlp's \
                        `reqwest-rustls` feature in Cargo.toml); until then, send to an http:// \
                        endpoint"
                        .to_string(),
                    "" => "nothing answered".to_string(),
                    "404" => "HTTP 404: no such path. OTEL_EXPORTER_OTLP_ENDPOINT is a base \
                              (http://host:4318), to which /v1/traces is added"
                        .to_string(),
                    code @ ("401" | "403") => {
                        format!("HTTP {code}: refused. Is the API key in .env right?")
                    }
                    code => format!("HTTP {code}"),
                };
                self.failed(signal, fields.url, &reason);
            }
            _ if name.ends_with(".ExportError") => {
                if let Some(signal) = Signal::of_event(name) {
                    let reason = fields.error.lines().next().unwrap_or_default().to_string();
                    self.failed(signal, signal.destination(), &reason);
                }
            }
            _ if name.ends_with("ExportSucceeded") => {
                if let Some(signal) = Signal::of_event(name) {
                    self.succeeded(signal);
                }
            }
            _ => {}
        }
    }
}

/// The fields of an SDK event that matter here, as text.
#[derive(Default)]
struct Fields {
    name: String,
    url: String,
    error: String,
    status_code: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "name" => self.name = value.to_string(),
            "url" => self.url = value.to_string(),
            "error" => self.error = value.to_string(),
            _ => {}
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "status_code" {
            self.status_code = value.to_string();
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        let text = format!("{value:?}");
        let text = text.trim_matches('"').to_string();
        match field.name() {
            "name" if self.name.is_empty() => self.name = text,
            "url" if self.url.is_empty() => self.url = text,
            "error" if self.error.is_empty() => self.error = text,
            "status_code" => self.status_code = text,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A writer the test reads back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Captured {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    /// Runs `emit` under a subscriber holding the layer, and returns what it printed.
    fn said(emit: impl FnOnce()) -> String {
        let out = Captured::default();
        let subscriber = tracing_subscriber::registry().with(Warnings::to(Box::new(out.clone())));
        tracing::subscriber::with_default(subscriber, emit);
        out.text()
    }

    #[test]
    fn three_failing_signals_are_said_once_with_the_url() {
        let text = said(|| {
            for path in ["traces", "metrics", "logs", "traces"] {
                tracing::debug!(
                    target: "opentelemetry-otlp",
                    name = "HttpClient.NetworkError",
                    url = format!("http://127.0.0.1:9/v1/{path}").as_str(),
                    error = "error sending request"
                );
            }
            tracing::error!(target: "opentelemetry_sdk", name = "BatchSpanProcessor.ExportError", error = "HTTP export failed: network error");
        });
        assert_eq!(text.matches("could not send").count(), 1, "{text}");
        assert!(
            text.starts_with(
                "telemetry: could not send spans to http://127.0.0.1:9/v1/traces: nothing answered"
            ),
            "{text}"
        );
        assert!(text.contains("docker compose up"), "{text}");
    }

    #[test]
    fn an_https_endpoint_that_does_not_answer_is_told_about_tls() {
        let text = said(|| {
            tracing::debug!(
                target: "opentelemetry-otlp",
                name = "HttpClient.NetworkError",
                url = "https://api.example.com/v1/traces",
                error = "error sending request"
            );
        });
        assert!(text.contains("nothing answered over TLS"), "{text}");
        assert!(text.contains("reqwest-rustls"), "{text}");
    }

    #[test]
    fn a_wrong_path_is_named_and_said_once() {
        let text = said(|| {
            tracing::debug!(target: "opentelemetry-otlp", name = "HttpClient.StatusError", status_code = 404u16, url = "http://h:4318/v1/traces/v1/traces");
            tracing::debug!(target: "opentelemetry-otlp", name = "HttpClient.StatusError", status_code = 404u16, url = "http://h:4318/v1/traces/v1/metrics");
            // Not by name, not by thread: the test's thread is neither; so the URL-less events
            // are judged by their names.
            tracing::error!(target: "opentelemetry_sdk", name = "PeriodicReader.ExportError", error = "x");
        });
        assert!(text.contains("HTTP 404: no such path"), "{text}");
        assert_eq!(text.matches("could not send").count(), 1, "{text}");
    }

    #[test]
    fn a_success_after_failures_is_said_once_the_last_signal_recovers() {
        let out = Captured::default();
        let layer = Warnings::to(Box::new(out.clone()));
        layer.failed(
            Signal::Traces,
            "http://h:4318/v1/traces".into(),
            "nothing answered",
        );
        layer.failed(
            Signal::Metrics,
            "http://h:4318/v1/metrics".into(),
            "nothing answered",
        );
        layer.succeeded(Signal::Traces);
        assert!(!out.text().contains("again"), "{}", out.text());
        layer.succeeded(Signal::Metrics);
        layer.succeeded(Signal::Metrics);
        assert_eq!(
            out.text()
                .matches("sending to http://h:4318/v1/traces again.")
                .count(),
            1
        );
    }

    #[test]
    fn signals_are_told_by_url_and_by_event_name() {
        assert_eq!(Signal::of_url("http://h/v1/logs"), Some(Signal::Logs));
        assert_eq!(Signal::of_url("http://h/other"), None);
        assert_eq!(
            Signal::of_event("BatchLogProcessor.ExportError"),
            Some(Signal::Logs)
        );
        assert_eq!(
            Signal::of_event("TonicTracesClient.ExportSucceeded"),
            Some(Signal::Traces)
        );
    }
}
