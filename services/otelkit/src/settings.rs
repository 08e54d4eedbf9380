//! The standard `OTEL_*` variables the SDK leaves to the application.
//!
//! The SDK reads `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`,
//! `OTEL_BSP_*`, `OTEL_BLRP_*`, `OTEL_METRIC_EXPORT_INTERVAL` and most `OTEL_EXPORTER_OTLP_*`
//! variables itself. It does not read `OTEL_TRACES_EXPORTER`, `OTEL_METRICS_EXPORTER` or
//! `OTEL_LOGS_EXPORTER`. These functions read them as the specification says, and pick defaults
//! better suited to a workshop where the SDK's are made for production.

use std::time::Duration;

use anyhow::bail;
use opentelemetry_sdk::trace::{BatchConfig, BatchConfigBuilder};

/// Where a signal goes, from `OTEL_TRACES_EXPORTER`, `OTEL_METRICS_EXPORTER` or
/// `OTEL_LOGS_EXPORTER`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exporter {
    /// `otlp`, the default: to a Collector, Jaeger, the explorer or a hosted backend.
    Otlp,
    /// `console` (or `stdout`): printed on the terminal.
    Console,
    /// `none`: recorded but not sent anywhere.
    None,
}

/// `OTEL_TRACES_EXPORTER`: `otlp` (the default), `console` or `none`.
pub fn traces_exporter() -> anyhow::Result<Exporter> {
    exporter("OTEL_TRACES_EXPORTER")
}

/// `OTEL_METRICS_EXPORTER`: `otlp` (the default), `console` or `none`.
pub fn metrics_exporter() -> anyhow::Result<Exporter> {
    exporter("OTEL_METRICS_EXPORTER")
}

/// `OTEL_LOGS_EXPORTER`: `otlp` (the default), `console` or `none`.
pub fn logs_exporter() -> anyhow::Result<Exporter> {
    exporter("OTEL_LOGS_EXPORTER")
}

fn exporter(name: &str) -> anyhow::Result<Exporter> {
    parse_exporter(name, variable(name).as_deref())
}

/// The exporter `value` (already trimmed and lower-cased) names; `name` is for the error.
fn parse_exporter(name: &str, value: Option<&str>) -> anyhow::Result<Exporter> {
    Ok(match value {
        None | Some("otlp") => Exporter::Otlp,
        Some("console" | "stdout") => Exporter::Console,
        Some("none") => Exporter::None,
        Some(other) => bail!("{name}={other:?} is not one of otlp, console, none"),
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

/// How often the periodic reader collects and sends metrics: `OTEL_METRIC_EXPORT_INTERVAL`
/// (milliseconds) when it is set, else every 5 s, not the SDK's 60 s: a learner who clicks and
/// looks for the numbers should see them move. At shutdown the reader sends once more anyway.
///
/// Give it to `PeriodicReader::builder(…).with_interval(…)`: the builder reads the variable as
/// well, but falls back to 60 s.
pub fn metric_export_interval() -> anyhow::Result<Duration> {
    parse_interval(variable("OTEL_METRIC_EXPORT_INTERVAL").as_deref())
}

/// The workshop's default interval between two exports of metrics.
const METRIC_EXPORT_INTERVAL: Duration = Duration::from_secs(5);

fn parse_interval(value: Option<&str>) -> anyhow::Result<Duration> {
    let Some(value) = value else {
        return Ok(METRIC_EXPORT_INTERVAL);
    };
    match value.parse::<u64>() {
        Ok(millis) if millis > 0 => Ok(Duration::from_millis(millis)),
        _ => bail!(
            "OTEL_METRIC_EXPORT_INTERVAL={value:?} is not a number of milliseconds above 0, \
             e.g. 5000 for every 5 s"
        ),
    }
}

/// A variable's value, trimmed and lower-cased, or `None` when unset or empty.
fn variable(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|value| value.trim().to_ascii_lowercase())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_signal_is_sent_over_otlp_unless_its_variable_says_otherwise() {
        let parse = |value| parse_exporter("OTEL_METRICS_EXPORTER", value).unwrap();
        assert_eq!(parse(None), Exporter::Otlp);
        assert_eq!(parse(Some("otlp")), Exporter::Otlp);
        assert_eq!(parse(Some("console")), Exporter::Console);
        assert_eq!(parse(Some("stdout")), Exporter::Console);
        assert_eq!(parse(Some("none")), Exporter::None);
    }

    #[test]
    fn an_unknown_exporter_is_refused_naming_its_variable_and_the_choices() {
        let err = parse_exporter("OTEL_LOGS_EXPORTER", Some("loki")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "OTEL_LOGS_EXPORTER=\"loki\" is not one of otlp, console, none"
        );
    }

    #[test]
    fn metrics_are_sent_every_5_s_unless_the_variable_says_otherwise() {
        assert_eq!(parse_interval(None).unwrap(), Duration::from_secs(5));
        assert_eq!(
            parse_interval(Some("250")).unwrap(),
            Duration::from_millis(250)
        );
        // What a tired learner types is refused, saying what is expected: the SDK would take
        // any of these for its 60 s, and the numbers would seem never to come.
        for typed in ["5s", "0", "-1", "5000ms"] {
            let err = parse_interval(Some(typed)).unwrap_err().to_string();
            assert!(err.contains("milliseconds") && err.contains(typed), "{err}");
        }
    }
}
