//! The three puzzles, judged on what the learner looked at: the trace explorer's data.
//!
//! 1. How many times is `/fib?index=1` inside a call to `/fib?index=5`?
//! 2. How much longer (P99) does `/fib` of 5 take than of 4?
//! 3. Why is it so slow as the index grows?
//!
//! The right answers are not written here, nor recorded out of the learner's sight: each answer
//! asks the running explorer ([`explorer`], through its JSON API) for the numbers its pages show,
//! with the filters the README suggests. Puzzle 1 counts the `index=1` server spans in the
//! newest traces whose root is a `/fib?index=5`; puzzle 2 reads P99 of the root spans grouped by
//! `url.query`, as the query page showed it over each of its time ranges in the last few minutes
//! ([`P99Reading`]), since P99 moves as requests arrive; puzzle 3 is judged on its words, and its
//! nudge quotes the explorer's span counts when it can. When the explorer is not running or
//! holds no such calls yet, the learner is told what to do; [`record`] can send a recording of
//! their step 04 there, to look at before answering. A wrong answer gets a nudge, never the
//! answer. What is kept between answers ([`Progress`]): the puzzles solved, and that recording.

pub mod explorer;
pub mod record;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

pub const QUESTIONS: [&str; 3] = [
    "How many times is /fib?index=1 inside a call to /fib?index=5?",
    "How much longer (P99) does /fib?index=5 take than /fib?index=4? Answer as a ratio (1.5x) or a difference (12ms).",
    "Why is it so slow as the index grows? Answer in a few words.",
];

/// Where to look in the explorer, per puzzle: the filters the READMEs suggest, `is_root` first
/// (`url.query = index=5` alone also matches the sub-requests of every larger call), and the
/// shortest way the explorer's pages offer (a trace's columns, ORDER BY).
pub const WHERE_TO_LOOK: [&str; 3] = [
    "Traces, filtered on is_root and url.query = index=5: open one, type url.query in its Columns box \
     (each request's index beside its name), and count its server spans of index=1",
    "Query: VISUALIZE P99(duration), WHERE is_root, GROUP BY url.query, ORDER BY P99(duration) desc \
     (the slowest index on top, index=5 above index=4); compare the rows index=4 and index=5",
    "Traces, filtered on is_root and url.query = index=4, then index=5, then index=10: see how the \
     Spans column grows, and open one with the column url.query to see which indexes are asked for \
     again and again",
];

/// The tolerance of puzzle 2 around what the explorer showed, as a fraction of it: the page shows
/// three significant digits, and a learner rounds (1.6x for 1.64, 16 ms for 16.3 ms). See
/// [`judge_p99`].
pub const P99_MARGIN: f64 = 0.10;
/// The least tolerance for a difference, in milliseconds: the page shows 0.01 ms under 10 ms and
/// 0.1 ms above, so a difference of two rounded values is off by up to 0.1 ms; twice that.
pub const P99_MARGIN_MS: f64 = 0.2;

/// What is kept between answers, in `target/workshop/puzzles.json`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Progress {
    /// The puzzles answered right so far.
    #[serde(default)]
    pub solved: Vec<u32>,
    /// The last recording sent to the explorer with `--record`, if any.
    #[serde(default)]
    pub recording: Option<Recording>,
}

/// A recording of the learner's step 04 sent to an explorer ([`record`]): which, and when, so
/// that its P99s count among what the learner may have read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Recording {
    /// The package recorded, e.g. `exercise-04-attributes`.
    pub package: String,
    /// The explorer it went to.
    pub explorer: String,
    /// Its requests started in `from..to`, Unix milliseconds.
    pub from_unix_ms: u64,
    pub to_unix_ms: u64,
}

/// Where the progress is kept: under `target/`, with the build, out of git.
pub fn data_file(root: &Path) -> PathBuf {
    root.join("target").join("workshop").join("puzzles.json")
}

/// The progress kept in `file`; none yet when there is no file. A file of an older kit (which
/// kept its own recording's numbers there too) keeps its solved puzzles.
pub fn load(file: &Path) -> anyhow::Result<Progress> {
    match std::fs::read_to_string(file) {
        Ok(text) => serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is damaged; delete it (the puzzles you solved are forgotten)",
                file.display()
            )
        }),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Progress::default()),
        Err(err) => Err(err).with_context(|| format!("could not read {}", file.display())),
    }
}

pub fn save(file: &Path, progress: &Progress) -> anyhow::Result<()> {
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(file, serde_json::to_string_pretty(progress)?)
        .with_context(|| format!("could not write {}", file.display()))
}

/// The index a `url.query` asks for (`index=N`, among other parameters or alone).
pub fn query_index(query: &str) -> Option<u32> {
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("index="))?
        .parse()
        .ok()
}

/// One trace of `/fib?index=5` as the explorer shows it (puzzle 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Index5Trace {
    pub trace_id: String,
    /// Every span of the trace.
    pub spans: usize,
    /// Its server spans whose `url.query` asks for index 1.
    pub index1_servers: usize,
}

/// P99 of the root spans of `/fib?index=4` and `5`, as the explorer's query page showed it at
/// one time over one of its time ranges (puzzle 2). Durations in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct P99Reading {
    /// The page's time range: "everything in the window", "the last 15m", "your recording".
    pub range: String,
    /// How long ago the page showed it, in seconds: 0 is now.
    pub ago_secs: u64,
    pub p99_4: f64,
    pub p99_5: f64,
    /// How many root spans of each index the P99 is of.
    pub count_4: u64,
    pub count_5: u64,
}

impl P99Reading {
    pub fn ratio(&self) -> f64 {
        self.p99_5 / self.p99_4
    }

    pub fn difference_ms(&self) -> f64 {
        self.p99_5 - self.p99_4
    }

    /// "now, over everything in the window", "2 min ago, over the last 15m".
    pub fn when(&self) -> String {
        let ago = match self.ago_secs {
            0 => "now".to_string(),
            secs if secs < 60 => format!("{secs} s ago"),
            secs => format!("{} min ago", secs / 60),
        };
        format!("{ago}, over {}", self.range)
    }
}

/// How an answer was judged.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    /// Right, with what it means.
    Right(String),
    /// Wrong, with a nudge.
    Wrong(String),
}

/// Reads `answer` as puzzle `number` takes it, before the explorer is asked: a typo is told at
/// once.
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

/// Puzzle 1, judged on the newest traces of `/fib?index=5` in the explorer (at least one). The
/// learner opened one of them: a count that any of them shows is right. They agree unless
/// different apps sent them (step 06's remembers answers, and asks for index 1 less often).
pub fn judge_count(answer: &str, traces: &[Index5Trace]) -> anyhow::Result<Judgement> {
    let n = parse_count(answer)?;
    let Some(usual) = most_common(traces.iter().map(|t| t.index1_servers)) else {
        bail!("no trace of /fib?index=5 to judge on");
    };
    let spans: Vec<usize> = traces.iter().map(|t| t.spans).collect();
    let step_04s = sequence::fib_iterative(5) as usize;
    Ok(if traces.iter().any(|t| t.index1_servers == n) {
        Judgement::Right(if n == step_04s {
            format!(
                "/fib?index=1 is asked {n} times: by every index=2 and every index=3 below the top. \
                 Nobody remembers an answer, so the same numbers are asked for again and again."
            )
        } else {
            format!(
                "{n}, as the explorer's trace of /fib?index=5 shows. The app that sent it asks for \
                 index=1 less often than step 04's ({step_04s} times): it remembers answers, as \
                 step 06 does."
            )
        })
    } else if n == sequence::requests_for(5) as usize || spans.contains(&n) {
        Judgement::Wrong(
            "That counts every request in the trace. Count only the server spans whose url.query is index=1."
                .into(),
        )
    } else if n < usual {
        Judgement::Wrong(
            "More than that. Open one trace of /fib?index=5 (Traces, filtered on is_root and \
             url.query = index=5) and follow each branch to its end: index=1 is asked by index=2, \
             and by index=3 too. The column url.query (the Columns box above the waterfall) shows \
             each request's index beside its name."
                .into(),
        )
    } else {
        Judgement::Wrong(
            "Fewer than that. Count in one trace of /fib?index=5 only (Traces, filtered on is_root \
             and url.query = index=5: without is_root, the larger calls that ask for 5 on their way \
             are listed too): the server spans whose url.query is index=1. A search for index=1 \
             marks the client span that asks as well as the server span that answers; in the \
             column url.query, only the server spans show it."
                .into(),
        )
    })
}

/// The value seen most often; the first of those seen as often.
fn most_common(values: impl Iterator<Item = usize>) -> Option<usize> {
    let mut seen: Vec<(usize, usize)> = Vec::new();
    for value in values {
        match seen.iter_mut().find(|(v, _)| *v == value) {
            Some((_, times)) => *times += 1,
            None => seen.push((value, 1)),
        }
    }
    let most = seen.iter().map(|(_, times)| *times).max()?;
    seen.iter()
        .find(|(_, times)| *times == most)
        .map(|(value, _)| *value)
}

/// A P99 answer: a ratio (`1.6x`, `x1.6`, `1.6 times`, `60%`) or a difference (`12ms`, `0.012s`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Longer {
    Ratio(f64),
    DifferenceMs(f64),
}

impl Longer {
    /// The number answered.
    fn value(self) -> f64 {
        match self {
            Longer::Ratio(value) | Longer::DifferenceMs(value) => value,
        }
    }

    /// The same measure of what the explorer showed.
    fn of(self, reading: &P99Reading) -> f64 {
        match self {
            Longer::Ratio(_) => reading.ratio(),
            Longer::DifferenceMs(_) => reading.difference_ms(),
        }
    }

    /// How far from `value` an answer may be: [`P99_MARGIN`] of it, and for a difference at
    /// least [`P99_MARGIN_MS`].
    fn tolerance(self, value: f64) -> f64 {
        match self {
            Longer::Ratio(_) => value.abs() * P99_MARGIN,
            Longer::DifferenceMs(_) => (value.abs() * P99_MARGIN).max(P99_MARGIN_MS),
        }
    }

    /// Where "longer" turns into "not longer": a ratio of 1, a difference of 0.
    fn floor(self) -> f64 {
        match self {
            Longer::Ratio(_) => 1.0,
            Longer::DifferenceMs(_) => 0.0,
        }
    }
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

/// Puzzle 2, judged on what the explorer's query page showed (`readings`, the first being now
/// over everything in the window, the page's default). P99 moves as requests arrive, and the
/// learner read it some time before answering, over the time range they chose: an answer is
/// right when it is within [`P99_MARGIN`] (and, for a difference, [`P99_MARGIN_MS`]) of what the
/// page showed over one time range, at one of the times read or in between two consecutive ones
/// (it went through the values in between). Under `./run.sh load` that is the span of values
/// the page went through; once the requests stop, one value per time range.
pub fn judge_p99(answer: &str, readings: &[P99Reading]) -> anyhow::Result<Judgement> {
    let longer = parse_longer(answer)?;
    let Some(now) = readings.first() else {
        bail!("no P99 of /fib?index=4 and 5 to judge on");
    };
    let given = longer.value();
    let value = |reading: &P99Reading| longer.of(reading);
    let widen = |value: f64| longer.tolerance(value);
    let floor = longer.floor();
    // Between two times the page moved through the values in between: one interval per time
    // range and pair of consecutive times.
    let mut matched = None;
    for reading in readings {
        let before = readings
            .iter()
            .filter(|r| r.range == reading.range && r.ago_secs > reading.ago_secs)
            .min_by_key(|r| r.ago_secs)
            .unwrap_or(reading);
        let (a, b) = (value(reading), value(before));
        if given >= a.min(b) - widen(a.min(b)) && given <= a.max(b) + widen(a.max(b)) {
            let closer = if (given - a).abs() <= (given - b).abs() {
                reading
            } else {
                before
            };
            matched = Some(closer);
            break;
        }
    }
    let lowest = readings.iter().map(value).fold(f64::INFINITY, f64::min);
    let highest = readings.iter().map(value).fold(f64::NEG_INFINITY, f64::max);
    let how = "P99 is the duration 99% of the requests stay under. In the explorer: Query, \
               VISUALIZE P99(duration), WHERE is_root (the calls themselves, not the sub-requests \
               of larger ones), GROUP BY url.query, ORDER BY P99(duration) desc (the slowest \
               first); then compare the rows index=4 and index=5.";
    Ok(if let Some(reading) = matched {
        let seen = if reading == now {
            String::new()
        } else {
            format!(
                " That is what it showed {}; P99 moves as requests arrive.",
                reading.when()
            )
        };
        Judgement::Right(format!(
            "The explorer shows {:.2}x ({:.1} ms more) {}: P99 over {} calls of index 5 and {} of \
             index 4.{seen} Index 5 makes {} requests where index 4 makes {} ({:.1}x), and the time \
             roughly follows the number of requests; P99, the slowest 1%, also catches the \
             machine's hiccups and, under load, the waiting for a turn.",
            now.ratio(),
            now.difference_ms(),
            now.when(),
            now.count_5,
            now.count_4,
            sequence::requests_for(5),
            sequence::requests_for(4),
            sequence::requests_for(5) as f64 / sequence::requests_for(4) as f64,
        ))
    } else if given <= floor && lowest > floor {
        Judgement::Wrong(format!(
            "/fib?index=5 does more work than index=4, so it takes longer, not less. {how}"
        ))
    } else if given > highest {
        Judgement::Wrong(format!("The explorer says less than that. {how}"))
    } else if given < lowest {
        Judgement::Wrong(format!("The explorer says more than that. {how}"))
    } else {
        // Between two readings far apart, e.g. those of two time ranges: neither.
        Judgement::Wrong(format!(
            "The explorer never showed that: read it again, over one time range. {how}"
        ))
    })
}

/// Puzzle 3, judged on its words. `spans_per_trace`: the spans of one trace by its root's index,
/// from the explorer, for the nudge (empty when it could not be asked).
pub fn judge_why(answer: &str, spans_per_trace: &BTreeMap<u32, usize>) -> Judgement {
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
    let look = if spans_per_trace.is_empty() {
        "in the explorer's Traces, filter on is_root and url.query = index=4, then index=5, then \
         index=10, and compare their Spans; open one with the column url.query"
            .to_string()
    } else {
        let counts: Vec<String> = spans_per_trace
            .iter()
            .map(|(index, spans)| format!("{spans} spans for index {index}"))
            .collect();
        format!("the explorer has one trace of {}", counts.join(", "))
    };
    Judgement::Wrong(format!(
        "{nudge}: {look}. What does each request ask for that another has already asked?"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn the_most_common_value_and_the_first_of_a_tie() {
        assert_eq!(most_common([5, 1, 5].into_iter()), Some(5));
        assert_eq!(most_common([1, 5].into_iter()), Some(1));
        assert_eq!(most_common([].into_iter()), None);
    }

    #[test]
    fn a_reading_says_when_and_over_what() {
        let reading = |ago_secs| P99Reading {
            range: "the last 15m".into(),
            ago_secs,
            p99_4: 10.0,
            p99_5: 16.0,
            count_4: 1,
            count_5: 1,
        };
        assert_eq!(reading(0).when(), "now, over the last 15m");
        assert_eq!(reading(30).when(), "30 s ago, over the last 15m");
        assert_eq!(reading(120).when(), "2 min ago, over the last 15m");
        assert_eq!(reading(0).ratio(), 1.6);
        assert_eq!(reading(0).difference_ms(), 6.0);
    }

    #[test]
    fn an_older_kits_file_keeps_its_solved_puzzles() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("puzzles.json");
        std::fs::write(
            &file,
            r#"{"package": "exercise-04-attributes", "index1_in_index5": 5,
                "spans_per_trace": {"4": 26, "5": 44}, "durations_ms": {"4": [10.0]},
                "solved": [1, 3]}"#,
        )
        .unwrap();
        assert_eq!(
            load(&file).unwrap(),
            Progress {
                solved: vec![1, 3],
                recording: None
            }
        );
        assert_eq!(
            load(&dir.path().join("none.json")).unwrap(),
            Progress::default()
        );
        std::fs::write(&file, "{").unwrap();
        assert!(format!("{:#}", load(&file).unwrap_err()).contains("damaged"));
    }
}
