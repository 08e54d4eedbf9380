//! What a run did: every request's outcome, counted by status, and latencies per index.
//!
//! Percentiles use the nearest-rank method: P99 of 100 sorted latencies is the 99th one, an
//! actual request's latency, never an interpolation between two. That is what a heatmap shows
//! too, and with a few hundred requests the difference from other methods is noise anyway.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

/// One request a virtual user made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record {
    pub index: u32,
    pub outcome: Outcome,
    /// From sending the request to the last byte of the answer.
    pub latency: Duration,
}

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The app answered with this status. `right`: the body was F(index) (only a 2xx can be).
    Answered { status: u16, right: bool },
    /// Nothing listens at the URL any more (the app stopped or crashed).
    FailedToConnect,
    /// No whole answer within the per-request timeout.
    TimedOut,
    /// Connected, then the connection broke before a whole answer arrived.
    Failed,
}

impl Outcome {
    /// A right answer: a 2xx whose body is F(index). Anything else stops the user's Go-run, as
    /// an error stops the page's.
    pub fn is_success(self) -> bool {
        matches!(
            self,
            Outcome::Answered {
                status: 200..=299,
                right: true
            }
        )
    }
}

/// Why the run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// `--duration` had passed.
    Duration,
    /// `--requests` requests were made.
    Requests,
    /// Ctrl-C (or the caller's stop signal).
    Interrupted,
}

/// Requests counted by how they ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub status_2xx: u64,
    /// Of the 2xx, those whose body was not F(index): an app that answers, wrongly.
    pub wrong_answers: u64,
    pub status_4xx: u64,
    pub status_5xx: u64,
    /// 1xx and 3xx, which the app never sends.
    pub other_statuses: u64,
    pub failed_to_connect: u64,
    pub timed_out: u64,
    pub failed: u64,
}

/// The requests for one index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexStats {
    /// Every request for this index, whatever its outcome.
    pub requests: u64,
    /// The latencies of those that got an answer (any status), sorted. Requests that got none
    /// are left out: their "latency" is a timeout or an instant refusal, and they are counted in
    /// [`Counts`]. What remains is what the app's own traces show.
    pub latencies: Vec<Duration>,
}

impl IndexStats {
    /// The nearest-rank percentile `p` (0 to 100) of the latencies; `None` without any.
    pub fn percentile(&self, p: u32) -> Option<Duration> {
        percentile(&self.latencies, p)
    }
}

/// The nearest-rank percentile `p` (0 to 100) of `sorted`: the smallest value with at least `p`%
/// of the values at or below it, which is the one at rank ⌈p × n / 100⌉ (counting from 1).
pub fn percentile(sorted: &[Duration], p: u32) -> Option<Duration> {
    let n = sorted.len();
    let p = p.min(100) as usize;
    let rank = (p * n).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// The result of [`crate::run`]. Its `Display` is the table the command prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub url: String,
    pub users: u32,
    pub seed: u64,
    pub stopped: StopReason,
    /// From the start of the users to the last one stopping.
    pub elapsed: Duration,
    pub counts: Counts,
    pub by_index: BTreeMap<u32, IndexStats>,
    /// Requests still in flight when a second Ctrl-C abandoned them: sent, never counted.
    pub abandoned: u64,
}

impl Summary {
    pub fn new(
        options: &crate::Options,
        stopped: StopReason,
        elapsed: Duration,
        records: &[Record],
    ) -> Summary {
        let mut counts = Counts::default();
        let mut by_index = BTreeMap::<u32, IndexStats>::new();
        for record in records {
            let stats = by_index.entry(record.index).or_default();
            stats.requests += 1;
            match record.outcome {
                Outcome::Answered { status, right } => {
                    stats.latencies.push(record.latency);
                    match status {
                        200..=299 => {
                            counts.status_2xx += 1;
                            counts.wrong_answers += u64::from(!right);
                        }
                        400..=499 => counts.status_4xx += 1,
                        500..=599 => counts.status_5xx += 1,
                        _ => counts.other_statuses += 1,
                    }
                }
                Outcome::FailedToConnect => counts.failed_to_connect += 1,
                Outcome::TimedOut => counts.timed_out += 1,
                Outcome::Failed => counts.failed += 1,
            }
        }
        for stats in by_index.values_mut() {
            stats.latencies.sort_unstable();
        }
        Summary {
            url: options.url.clone(),
            users: options.users,
            seed: options.seed,
            stopped,
            elapsed,
            counts,
            by_index,
            abandoned: 0,
        }
    }

    /// Every request counted, whatever its outcome.
    pub fn total(&self) -> u64 {
        self.by_index.values().map(|stats| stats.requests).sum()
    }

    pub fn requests_per_second(&self) -> f64 {
        self.total() as f64 / self.elapsed.as_secs_f64().max(0.001)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stopped = match self.stopped {
            StopReason::Duration => "the duration had passed",
            StopReason::Requests => "the requests were all made",
            StopReason::Interrupted => "interrupted (Ctrl-C)",
        };
        writeln!(
            f,
            "{} users at {} (seed {}); stopped: {stopped}",
            self.users, self.url, self.seed
        )?;
        writeln!(
            f,
            "{} requests in {:.1} s: {:.1} per second",
            self.total(),
            self.elapsed.as_secs_f64(),
            self.requests_per_second()
        )?;
        let c = &self.counts;
        let rows = [
            ("2xx", c.status_2xx, true),
            ("  with a wrong number", c.wrong_answers, false),
            ("4xx", c.status_4xx, true),
            ("5xx", c.status_5xx, true),
            ("other statuses", c.other_statuses, false),
            ("failed to connect", c.failed_to_connect, true),
            ("timed out", c.timed_out, false),
            ("broken connections", c.failed, false),
            ("abandoned (not counted)", self.abandoned, false),
        ];
        // The four rows a reader looks for are always there; the rare ones only when they happened.
        for (name, count, always) in rows {
            if always || count > 0 {
                writeln!(f, "  {name:<24}{count:>8}")?;
            }
        }
        writeln!(f)?;
        writeln!(
            f,
            "{:>5}  {:>8}  {:>9}  {:>9}  {:>9}",
            "index", "requests", "P50", "P99", "max"
        )?;
        for (index, stats) in &self.by_index {
            let show = |latency: Option<Duration>| latency.map_or("-".into(), milliseconds);
            writeln!(
                f,
                "{index:>5}  {:>8}  {:>9}  {:>9}  {:>9}",
                stats.requests,
                show(stats.percentile(50)),
                show(stats.percentile(99)),
                show(stats.latencies.last().copied()),
            )?;
        }
        Ok(())
    }
}

/// `12.3 ms`, or `4567 ms`: one unit down the column, so that it reads as a bar chart.
fn milliseconds(latency: Duration) -> String {
    let ms = latency.as_secs_f64() * 1000.0;
    if ms < 100.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.0} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Vec<Duration> {
        values.iter().map(|&v| Duration::from_millis(v)).collect()
    }

    #[test]
    fn nearest_rank_percentiles_are_actual_values() {
        let hundred = ms(&(1..=100).collect::<Vec<_>>());
        assert_eq!(percentile(&hundred, 50), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&hundred, 99), Some(Duration::from_millis(99)));
        assert_eq!(percentile(&hundred, 100), Some(Duration::from_millis(100)));
        // The textbook example: 15, 20, 35, 40, 50 → P30 is 20, P40 is 20, P50 is 35.
        let five = ms(&[15, 20, 35, 40, 50]);
        assert_eq!(percentile(&five, 30), Some(Duration::from_millis(20)));
        assert_eq!(percentile(&five, 40), Some(Duration::from_millis(20)));
        assert_eq!(percentile(&five, 50), Some(Duration::from_millis(35)));
        // P99 of fewer than 100 values is the largest; P0 is the smallest.
        assert_eq!(percentile(&five, 99), Some(Duration::from_millis(50)));
        assert_eq!(percentile(&five, 0), Some(Duration::from_millis(15)));
        assert_eq!(percentile(&[], 50), None);
    }

    fn options() -> crate::Options {
        crate::Options {
            url: "http://127.0.0.1:8090".into(),
            users: 2,
            duration: Duration::from_secs(2),
            max_index: 3,
            max_requests: None,
            seed: 42,
        }
    }

    fn record(index: u32, outcome: Outcome, latency_ms: u64) -> Record {
        Record {
            index,
            outcome,
            latency: Duration::from_millis(latency_ms),
        }
    }

    #[test]
    fn the_summary_counts_by_status_and_tabulates_latencies_per_index() {
        let ok = Outcome::Answered {
            status: 200,
            right: true,
        };
        let records = [
            record(0, ok, 1),
            record(0, ok, 3),
            record(0, ok, 2),
            record(1, ok, 4),
            record(
                1,
                Outcome::Answered {
                    status: 200,
                    right: false,
                },
                5,
            ),
            record(
                2,
                Outcome::Answered {
                    status: 502,
                    right: false,
                },
                250,
            ),
            record(2, Outcome::FailedToConnect, 0),
            record(
                3,
                Outcome::Answered {
                    status: 400,
                    right: false,
                },
                1,
            ),
        ];
        let summary = Summary::new(
            &options(),
            StopReason::Duration,
            Duration::from_secs(2),
            &records,
        );
        assert_eq!(summary.total(), 8);
        assert_eq!(
            summary.counts,
            Counts {
                status_2xx: 5,
                wrong_answers: 1,
                status_4xx: 1,
                status_5xx: 1,
                failed_to_connect: 1,
                ..Counts::default()
            }
        );
        assert_eq!(summary.by_index[&0].latencies, ms(&[1, 2, 3]));
        // The refused request counts for its index, but has no latency.
        assert_eq!(summary.by_index[&2].requests, 2);
        assert_eq!(summary.by_index[&2].latencies, ms(&[250]));

        let text = summary.to_string();
        let expected = "\
2 users at http://127.0.0.1:8090 (seed 42); stopped: the duration had passed
8 requests in 2.0 s: 4.0 per second
  2xx                            5
    with a wrong number          1
  4xx                            1
  5xx                            1
  failed to connect              1

index  requests        P50        P99        max
    0         3     2.0 ms     3.0 ms     3.0 ms
    1         2     4.0 ms     5.0 ms     5.0 ms
    2         2     250 ms     250 ms     250 ms
    3         1     1.0 ms     1.0 ms     1.0 ms
";
        assert_eq!(text, expected, "\n{text}");
    }
}
