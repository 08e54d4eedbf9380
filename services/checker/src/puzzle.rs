//! The three puzzles, answered from the learner's own spans.
//!
//! 1. How many times is `/fib?index=1` inside a call to `/fib?index=5`?
//! 2. How much longer (P99) does `/fib` of 5 take than of 4?
//! 3. Why is it so slow as the index grows?
//!
//! The right answers are not written here: they are computed from spans the learner's step 04
//! app sends to the checker's receiver ([`record`]), kept in `target/workshop/puzzles.json` so
//! that every attempt is judged on the same data. A wrong answer gets a nudge, never the answer.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use receiver::{ReceivedSpan, Receiver, SpanKind};
use serde::{Deserialize, Serialize};

use crate::app::{self, App};

/// How many times each of index 4 and index 5 is asked, for the P99s.
pub const ROUNDS: usize = 100;

pub const QUESTIONS: [&str; 3] = [
    "How many times is /fib?index=1 inside a call to /fib?index=5?",
    "How much longer (P99) does /fib?index=5 take than /fib?index=4? Answer as a ratio (1.5x) or a difference (12ms).",
    "Why is it so slow as the index grows? Answer in a few words.",
];

/// What the puzzles are judged on, measured from the learner's spans.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Data {
    /// The package the spans came from, e.g. `exercise-04-attributes`.
    pub package: String,
    /// Server spans for `/fib?index=1` in the trace of one `/fib?index=5`.
    pub index1_in_index5: usize,
    /// Spans in each trace, by the index asked at its root.
    pub spans_per_trace: BTreeMap<u32, usize>,
    /// Durations of the root server spans in milliseconds, by index.
    pub durations_ms: BTreeMap<u32, Vec<f64>>,
    /// The puzzles answered right so far.
    #[serde(default)]
    pub solved: Vec<u32>,
}

impl Data {
    /// The 99th percentile of the durations of `/fib?index=<index>`, in milliseconds.
    pub fn p99(&self, index: u32) -> Option<f64> {
        percentile(self.durations_ms.get(&index)?, 0.99)
    }
}

/// The `q`-quantile by the nearest-rank method: the smallest value with at least `q` of all at
/// or below it.
pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// Where the data is kept: under `target/`, with the build, out of git.
pub fn data_file(root: &Path) -> PathBuf {
    root.join("target").join("workshop").join("puzzles.json")
}

pub fn load(file: &Path) -> anyhow::Result<Option<Data>> {
    match std::fs::read_to_string(file) {
        Ok(text) => Ok(Some(serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is damaged; delete it, and the data is recorded again",
                file.display()
            )
        })?)),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("could not read {}", file.display())),
    }
}

pub fn save(file: &Path, data: &Data) -> anyhow::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(file, serde_json::to_string_pretty(data)?)
        .with_context(|| format!("could not write {}", file.display()))
}

/// Runs `binary` (the learner's step 04 or later) against a receiver: one `/fib?index=5`, then
/// [`ROUNDS`] rounds of index 4 and 5, one request at a time; and measures the puzzles' data.
pub async fn record(binary: &Path, package: &str) -> anyhow::Result<Data> {
    let receiver = Receiver::start().await?;
    let endpoint = receiver.http_endpoint();
    let mut app = App::start(
        binary,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_BSP_SCHEDULE_DELAY", "200"),
        ],
    )
    .await?;
    let total = 1 + 2 * ROUNDS;
    let terminal = std::io::stderr().is_terminal();
    let mut done = 0;
    let mut ask = async |index: u32| -> anyhow::Result<()> {
        let url = format!("{}/fib?index={index}", app.url);
        match app::get(&url).await {
            Ok((200, _)) => {}
            Ok((status, body)) => bail!("{url} answered {status}: {}", body.trim()),
            Err(err) => bail!("{err}"),
        }
        done += 1;
        if let Some(update) = progress(done, total, terminal) {
            eprint!("{update}");
        }
        Ok(())
    };
    ask(5).await?;
    for _ in 0..ROUNDS {
        ask(4).await?;
        ask(5).await?;
    }
    if terminal {
        eprintln!();
    }
    app.terminate();
    app.wait(crate::run::STOP_TIMEOUT).await;
    let spans = receiver.spans();
    measure(&spans, package)
}

/// What to print after `done` of `total` requests, if anything. On a terminal, one line that
/// redraws itself (`\r`) every 20 requests, ended by the caller; elsewhere (piped, in a log,
/// in an editor's output pane, where `\r` would glue the updates into one run-on line) a line
/// of its own every 100 requests and at the end.
fn progress(done: usize, total: usize, terminal: bool) -> Option<String> {
    let text = format!("  asked {done} of {total} requests");
    match terminal {
        true if done.is_multiple_of(20) || done == total => Some(format!("\r{text}")),
        false if done.is_multiple_of(100) || done == total => Some(format!("{text}\n")),
        _ => None,
    }
}

/// The index a server span was asked for, from `url.query` (`index=N`).
fn index_of(span: &ReceivedSpan) -> Option<u32> {
    let query = span.attribute("url.query")?.as_str()?;
    query_index(query)
}

fn query_index(query: &str) -> Option<u32> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("index="))?
        .parse()
        .ok()
}

/// The puzzles' data from the spans of a recording.
pub fn measure(spans: &[ReceivedSpan], package: &str) -> anyhow::Result<Data> {
    let mut traces: BTreeMap<&str, Vec<&ReceivedSpan>> = BTreeMap::new();
    for span in spans {
        traces.entry(span.trace_id.as_str()).or_default().push(span);
    }
    let mut durations_ms: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    let mut spans_per_trace = BTreeMap::new();
    let mut index1_in_index5 = None;
    for trace in traces.values() {
        let Some(root) = trace
            .iter()
            .find(|s| s.is_root() && s.kind == SpanKind::Server)
        else {
            continue;
        };
        let Some(index) = index_of(root) else {
            continue;
        };
        durations_ms
            .entry(index)
            .or_default()
            .push(root.duration().as_secs_f64() * 1000.0);
        spans_per_trace.insert(index, trace.len());
        if index == 5 && index1_in_index5.is_none() {
            let ones = trace
                .iter()
                .filter(|s| s.kind == SpanKind::Server && index_of(s) == Some(1))
                .count();
            index1_in_index5 = Some(ones);
        }
    }
    let enough = |index| durations_ms.get(&index).map_or(0, Vec::len) >= ROUNDS / 2;
    let Some(index1_in_index5) = index1_in_index5.filter(|_| enough(4) && enough(5)) else {
        bail!(
            "the spans of {package} do not tell which index each request asked for: the puzzles need \
             step 04's data (server spans with url.query, one trace per request). Run ./run.sh check 04"
        );
    };
    Ok(Data {
        package: package.to_string(),
        index1_in_index5,
        spans_per_trace,
        durations_ms,
        solved: Vec::new(),
    })
}

/// How an answer was judged.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    /// Right, with what it means.
    Right(String),
    /// Wrong, with a nudge.
    Wrong(String),
}

/// Reads `answer` as puzzle `number` takes it, before any data is recorded: a typo is told at once.
pub fn check_format(number: u32, answer: &str) -> anyhow::Result<()> {
    match number {
        1 => parse_count(answer).map(drop),
        2 => parse_longer(answer).map(drop),
        3 => Ok(()),
        _ => bail!("there are three puzzles: 1, 2 and 3"),
    }
}

fn parse_count(answer: &str) -> anyhow::Result<usize> {
    answer.trim().parse::<usize>().ok().with_context(|| {
        format!("{answer:?} is not a whole number: puzzle 1 takes one, e.g. ./run.sh puzzle 1 7")
    })
}

/// Judges `answer` to puzzle `number`; `Err` when the answer cannot be read (the learner is told
/// how to write it).
pub fn judge(number: u32, answer: &str, data: &Data) -> anyhow::Result<Judgement> {
    match number {
        1 => judge_count(answer, data),
        2 => judge_p99(answer, data),
        3 => Ok(judge_why(answer, data)),
        _ => bail!("there are three puzzles: 1, 2 and 3"),
    }
}

fn judge_count(answer: &str, data: &Data) -> anyhow::Result<Judgement> {
    let n = parse_count(answer)?;
    let right = data.index1_in_index5;
    let total = data.spans_per_trace.get(&5).copied().unwrap_or_default();
    Ok(if n == right {
        Judgement::Right(format!(
            "/fib?index=1 is asked {right} times: by every index=2 and every index=3 below the top. \
             Nobody remembers an answer, so the same numbers are asked for again and again."
        ))
    } else if n == sequence::requests_for(5) as usize || n == total {
        Judgement::Wrong(
            "That counts every request in the trace. Count only the server spans whose url.query is index=1."
                .into(),
        )
    } else if n < right {
        Judgement::Wrong(
            "More than that. Open one trace of /fib?index=5 and follow each branch to its end: index=1 is asked \
             by index=2, and by index=3 too."
                .into(),
        )
    } else {
        Judgement::Wrong(
            "Fewer than that. Count in one trace of /fib?index=5 only: the server spans whose url.query is index=1."
                .into(),
        )
    })
}

/// A P99 answer: a ratio (`1.6x`, `x1.6`, `1.6 times`, `60%`) or a difference (`12ms`, `0.012s`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Longer {
    Ratio(f64),
    DifferenceMs(f64),
}

pub fn parse_longer(answer: &str) -> anyhow::Result<Longer> {
    let text: String = answer
        .to_lowercase()
        .replace("times", "x")
        .replace('×', "x")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let number = |s: &str| -> Option<f64> { s.parse::<f64>().ok().filter(|v| v.is_finite()) };
    let parsed = if let Some(n) = text.strip_suffix('x').or_else(|| text.strip_prefix('x')) {
        number(n).map(Longer::Ratio)
    } else if let Some(n) = text.strip_suffix('%') {
        number(n).map(|p| Longer::Ratio(1.0 + p / 100.0))
    } else if let Some(n) = text.strip_suffix("ms") {
        number(n).map(Longer::DifferenceMs)
    } else if let Some(n) = text.strip_suffix("µs").or_else(|| text.strip_suffix("us")) {
        number(n).map(|v| Longer::DifferenceMs(v / 1000.0))
    } else if let Some(n) = text.strip_suffix('s') {
        number(n).map(|v| Longer::DifferenceMs(v * 1000.0))
    } else {
        None
    };
    parsed.with_context(|| {
        format!(
            "{answer:?} is neither a ratio nor a duration: write 1.5x (or 50%) for how many times \
             longer, or 12ms for how much longer"
        )
    })
}

fn judge_p99(answer: &str, data: &Data) -> anyhow::Result<Judgement> {
    let longer = parse_longer(answer)?;
    let (Some(p4), Some(p5)) = (data.p99(4), data.p99(5)) else {
        bail!("the recorded data has no durations for index 4 and 5: record again with --again");
    };
    let how = "P99 is the duration 99% of the requests stay under: in Jaeger, sort the traces of \
               /fib?index=5 by duration; in the explorer, P99(duration) WHERE url.query = 'index=5'.";
    let (given, measured, tolerance, unit) = match longer {
        Longer::Ratio(r) => (r, p5 / p4, 0.25 * p5 / p4, "x"),
        Longer::DifferenceMs(d) => (d, p5 - p4, (0.5 * (p5 - p4)).max(1.0), "ms"),
    };
    let floor = if unit == "x" { 1.0 } else { 0.0 };
    Ok(if (given - measured).abs() <= tolerance {
        Judgement::Right(format!(
            "Your data says {:.2}x ({:.1} ms more): index 5 makes {} requests where index 4 makes {}, \
             and the time follows the number of requests.",
            p5 / p4,
            p5 - p4,
            sequence::requests_for(5),
            sequence::requests_for(4)
        ))
    } else if given <= floor {
        Judgement::Wrong(format!(
            "/fib?index=5 does more work than index=4, so it takes longer, not less. {how}"
        ))
    } else if given > measured {
        Judgement::Wrong(format!("Your data says less than that. {how}"))
    } else {
        Judgement::Wrong(format!("Your data says more than that. {how}"))
    })
}

fn judge_why(answer: &str, data: &Data) -> Judgement {
    let text = answer.to_lowercase();
    let right = [
        "exponential",
        "recomput",
        "re-comput",
        "recalculat",
        "again",
        "over and over",
        "repeat",
        "duplicat",
        "same number",
        "same value",
        "same result",
        "same request",
        "cache",
        "memo",
        "2^n",
        "2^",
        "o(2",
        "fan-out",
        "fan out",
        "fans out",
        "twice",
    ];
    let counts: Vec<String> = data
        .spans_per_trace
        .iter()
        .map(|(index, spans)| format!("{spans} spans for index {index}"))
        .collect();
    if right.iter().any(|word| text.contains(word)) {
        return Judgement::Right(
            "Each request asks for numbers that other requests already asked for: /fib?index=N makes \
             1 + c(N-1) + c(N-2) requests, which grows like F(N) itself, about 1.6 times per index. \
             Step 06 remembers answers (a cache) and the traces shrink to a line."
                .into(),
        );
    }
    let nudge = if ["network", "http", "latency", "loopback", "socket"]
        .iter()
        .any(|w| text.contains(w))
    {
        "Each HTTP call is quick (look at one client span). What matters is how many there are"
    } else if ["trac", "telemetry", "span", "otel", "export"]
        .iter()
        .any(|w| text.contains(w))
    {
        "Telemetry costs a little per request, and the app is slow without it too. Count the requests instead"
    } else {
        "Count the spans in one trace per index and see how they grow"
    };
    Judgement::Wrong(format!(
        "{nudge}: your data has {}. What does each request ask for that another has already asked?",
        counts.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_redraws_one_line_on_a_terminal_and_writes_lines_elsewhere() {
        let updates = |terminal| -> String {
            (1..=201)
                .filter_map(|done| progress(done, 201, terminal))
                .collect()
        };
        let on_terminal = updates(true);
        assert!(!on_terminal.contains('\n'), "{on_terminal:?}");
        assert!(on_terminal.starts_with("\r  asked 20 of 201 requests\r"));
        assert!(on_terminal.ends_with("\r  asked 201 of 201 requests"));

        let piped = updates(false);
        assert!(!piped.contains('\r'), "{piped:?}");
        assert_eq!(
            piped.lines().collect::<Vec<_>>(),
            [
                "  asked 100 of 201 requests",
                "  asked 200 of 201 requests",
                "  asked 201 of 201 requests"
            ]
        );
    }

    #[test]
    fn the_nearest_rank_percentile() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 0.99), Some(99.0));
        assert_eq!(percentile(&values, 0.5), Some(50.0));
        assert_eq!(percentile(&[3.0], 0.99), Some(3.0));
        assert_eq!(percentile(&[], 0.99), None);
    }

    #[test]
    fn ratios_percentages_and_durations_are_read() {
        assert_eq!(parse_longer("1.6x").unwrap(), Longer::Ratio(1.6));
        assert_eq!(parse_longer("x 1.6").unwrap(), Longer::Ratio(1.6));
        assert_eq!(parse_longer("1.6 times").unwrap(), Longer::Ratio(1.6));
        assert_eq!(parse_longer("60%").unwrap(), Longer::Ratio(1.6));
        assert_eq!(parse_longer("12ms").unwrap(), Longer::DifferenceMs(12.0));
        assert_eq!(parse_longer("12 ms").unwrap(), Longer::DifferenceMs(12.0));
        assert_eq!(parse_longer("0.012s").unwrap(), Longer::DifferenceMs(12.0));
        assert_eq!(parse_longer("1500us").unwrap(), Longer::DifferenceMs(1.5));
        for bad in ["1.6", "fast", "", "x", "NaNx", "12 parsecs"] {
            let err = parse_longer(bad).unwrap_err().to_string();
            assert!(err.contains("1.5x") && err.contains("12ms"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_index_is_read_from_the_query() {
        assert_eq!(query_index("index=5"), Some(5));
        assert_eq!(query_index("a=1&index=12"), Some(12));
        assert_eq!(query_index("index=abc"), None);
    }
}
