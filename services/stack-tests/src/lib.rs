//! # `stack-tests`: the compose path run for real, and what its tests share
//!
//! Run with: `cargo test -p stack-tests` (after `./run.sh stack build`).
//!
//! The tests (`tests/native/`) run the Collector and Jaeger that `services/stack` builds, with the
//! files compose mounts, and send the workshop's apps through them. This library is what every
//! one of them needs: the two programs (or a reason to skip), a Jaeger and a Collector started as
//! compose starts them, the apps pointed at them, and Jaeger's HTTP API read back.
//!
//! A package of its own, apart from `stack`: the tests need the checker and the testkit, which
//! depend on `stack` (through `kit`); as `stack`'s own tests they would make a dev-dependency
//! cycle.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use checker::compile::{self, Build};
use serde_json::Value;
use stack::collector::Settings;
use stack::{Collector, Programs, Progress, Stack, jaeger};
use testkit::App;

/// The kit's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the kit's root")
}

/// The two programs, or `None` (after one line saying why) when this machine cannot have them.
///
/// From the cache when built (`./run.sh stack build`); in CI built now if need be, since CI must
/// run these tests; elsewhere skipped, so that `./run.sh test` stays quick for a learner: the
/// line says how to get them.
pub fn programs() -> Option<&'static Programs> {
    static PROGRAMS: OnceLock<Option<Programs>> = OnceLock::new();
    let programs = PROGRAMS.get_or_init(|| {
        let root = root();
        if let Some(programs) = Programs::cached(&root).expect("the stack's recipes read") {
            return Some(programs);
        }
        if testkit::in_ci() {
            return Some(
                Programs::get(&root, Progress::Quiet).unwrap_or_else(|err| panic!("{err:#}")),
            );
        }
        let how = match stack::programs::go_version() {
            Some(go) => format!("{go} is here: run ./run.sh stack build (a few minutes, once)"),
            None => "install Go (https://go.dev/dl), then run ./run.sh stack build".to_string(),
        };
        eprintln!(
            "skipped: the native Collector and Jaeger are not built; to run these tests, {how}"
        );
        None
    });
    programs.as_ref()
}

/// Skips the test (returns) unless the programs are there.
#[macro_export]
macro_rules! programs_or_skip {
    () => {
        match $crate::programs() {
            Some(programs) => programs,
            None => return,
        }
    };
}

/// Jaeger and the Collector, started as `docker compose up` starts them, with `overlay` (`none`,
/// `hosted`, `sampling`) and whatever else `settings` adds to what compose gives the Collector.
pub fn start(
    programs: &Programs,
    overlay: &str,
    settings: impl FnOnce(Settings) -> Settings,
) -> Stack {
    let ports = jaeger::Ports::free().expect("free ports");
    Stack::start(&root(), programs, &ports, settings(Settings::new(overlay)))
        .unwrap_or_else(|err| panic!("{err:#}"))
}

/// Builds a package of the workspace (a step's solution) and returns its binary.
pub fn binary(package: &str) -> String {
    match compile::build(&root(), package, true).expect("cargo runs") {
        Build::Built { binary } => binary.to_string_lossy().into_owned(),
        Build::Failed(failure) => panic!("{package} does not build: {:?}", failure.errors),
    }
}

/// Starts a step's app, sending to the Collector over OTLP `protocol` (`http/protobuf` or
/// `grpc`), every 100 ms rather than every second, with `extra` settings.
pub async fn app(
    binary: &str,
    collector: &Collector,
    protocol: &str,
    extra: &[(&str, &str)],
) -> App {
    let endpoint = match protocol {
        "grpc" => collector.otlp_grpc_endpoint(),
        _ => collector.otlp_http_endpoint(),
    };
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    env.extend_from_slice(extra);
    App::start(binary, &env).await
}

/// A span as Jaeger's HTTP API gives it.
#[derive(Debug, Clone)]
pub struct JaegerSpan {
    pub trace_id: String,
    pub span_id: String,
    /// The span it is a child of, if any.
    pub parent: Option<String>,
    pub operation: String,
    /// `server`, `client`, `internal`, … (the `span.kind` tag).
    pub kind: String,
    /// Every tag, as text.
    pub tags: BTreeMap<String, String>,
    /// The service that sent it.
    pub service: String,
    pub start_us: u64,
    pub duration_us: u64,
}

/// A trace from Jaeger's API.
#[derive(Debug, Clone)]
pub struct JaegerTrace {
    pub spans: Vec<JaegerSpan>,
}

impl JaegerTrace {
    pub fn count(&self, kind: &str) -> usize {
        self.spans.iter().filter(|span| span.kind == kind).count()
    }

    /// The spans whose parent is not in the trace: one, the root, in a whole trace.
    pub fn roots(&self) -> Vec<&JaegerSpan> {
        self.spans
            .iter()
            .filter(|span| {
                span.parent
                    .as_ref()
                    .is_none_or(|parent| !self.spans.iter().any(|s| &s.span_id == parent))
            })
            .collect()
    }

    /// From its first span's start to its last span's end.
    pub fn duration(&self) -> Duration {
        let start = self.spans.iter().map(|s| s.start_us).min().unwrap_or(0);
        let end = self
            .spans
            .iter()
            .map(|s| s.start_us + s.duration_us)
            .max()
            .unwrap_or(0);
        Duration::from_micros(end - start)
    }

    pub fn has_error(&self) -> bool {
        self.spans.iter().any(|span| {
            span.tags
                .get("otel.status_code")
                .is_some_and(|code| code == "ERROR")
        })
    }
}

/// Every trace of `service` that Jaeger holds (up to 5000), by Jaeger's HTTP API.
pub async fn traces(jaeger_url: &str, service: &str) -> Vec<JaegerTrace> {
    let url = format!("{jaeger_url}/api/traces?service={service}&limit=5000&lookback=1h");
    let Ok(response) = reqwest::get(&url).await else {
        return Vec::new();
    };
    let text = response.text().await.unwrap_or_default();
    let Ok(body) = serde_json::from_str::<Value>(&text) else {
        return Vec::new();
    };
    body["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|trace| {
            let processes = &trace["processes"];
            let spans = trace["spans"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|span| {
                    let tags: BTreeMap<String, String> = span["tags"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|tag| {
                            let value = match &tag["value"] {
                                Value::String(text) => text.clone(),
                                other => other.to_string(),
                            };
                            (tag["key"].as_str().unwrap_or_default().to_string(), value)
                        })
                        .collect();
                    let parent = span["references"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|reference| reference["refType"] == "CHILD_OF")
                        .and_then(|reference| reference["spanID"].as_str())
                        .map(str::to_string);
                    let process = span["processID"].as_str().unwrap_or_default();
                    JaegerSpan {
                        trace_id: span["traceID"].as_str().unwrap_or_default().to_string(),
                        span_id: span["spanID"].as_str().unwrap_or_default().to_string(),
                        parent,
                        operation: span["operationName"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                        kind: tags
                            .get("span.kind")
                            .cloned()
                            .unwrap_or_else(|| "internal".into()),
                        tags,
                        service: processes[process]["serviceName"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string(),
                        start_us: span["startTime"].as_u64().unwrap_or(0),
                        duration_us: span["duration"].as_u64().unwrap_or(0),
                    }
                })
                .collect();
            JaegerTrace { spans }
        })
        .collect()
}

/// Reads Jaeger's traces of `service` until `done` says they are all there, at most `within`;
/// returns the last reading either way, for the test's assertions to judge.
pub async fn wait_for_traces(
    jaeger_url: &str,
    service: &str,
    within: Duration,
    done: impl Fn(&[JaegerTrace]) -> bool,
) -> Vec<JaegerTrace> {
    let deadline = Instant::now() + within;
    loop {
        let traces = traces(jaeger_url, service).await;
        if done(&traces) || Instant::now() >= deadline {
            return traces;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The spans counted in the Collector's `debug` exporter's lines for `signal` (`Traces`,
/// `Metrics`, `Logs`): with `verbosity: basic` it prints one line per batch, e.g.
/// `info Traces {…, "resource spans": 1, "spans": 29}`.
pub fn debug_counts(output: &str, signal: &str, field: &str) -> usize {
    output
        .lines()
        .filter(|line| {
            line.contains(&format!("\t{signal}\t")) || line.contains(&format!(" {signal} "))
        })
        .filter(|line| line.contains("\"otelcol.component.id\": \"debug\""))
        .filter_map(|line| {
            let at = line.find(&format!("\"{field}\": "))? + field.len() + 4;
            line[at..]
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse::<usize>()
                .ok()
        })
        .sum()
}
