//! `./run.sh puzzle --record`: the learner's step 04 asked for `/fib?index=4` and `5`, its spans
//! sent to the running explorer, for the learner to look at there before answering; for when
//! pressing Go is not enough (a busy machine, no time for `./run.sh load`).
//!
//! The recording is not judged on behind the learner's back: it lands in the explorer, among
//! what the puzzles are judged on, and its time range is kept ([`Recording`]) so that P99 over
//! exactly the recording, as the links printed after it show it, counts as a reading too.

use std::io::IsTerminal;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;

use super::explorer::{Explorer, now_unix_ms};
use super::{P99Reading, Recording};
use crate::app::{self, App};

/// How many times each of index 4 and index 5 is asked, for the P99s.
pub const ROUNDS: usize = 100;

/// How long the explorer may take to show the recording once the app has stopped (it flushes
/// its spans on the way out).
const ARRIVE_WITHIN: Duration = Duration::from_secs(15);

/// What a recording left in the explorer.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub recording: Recording,
    /// P99 of each index over the recording, as the explorer shows it.
    pub reading: P99Reading,
}

/// Runs `binary` (the learner's step 04 or later) exporting to `explorer`: one `/fib?index=5`,
/// then [`ROUNDS`] rounds of index 4 and 5, one request at a time; stops it (it flushes), and
/// waits until the explorer shows every call.
pub async fn record(binary: &Path, package: &str, explorer: &Explorer) -> anyhow::Result<Recorded> {
    let spans_before = explorer.spans().await?; // running, or say what to do
    let from = now_unix_ms().saturating_sub(1);
    let mut app = App::start(
        binary,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", explorer.otlp_http.as_str()),
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
    let to = now_unix_ms() + 1;
    let recording = Recording {
        package: package.to_string(),
        explorer: explorer.url.clone(),
        from_unix_ms: from,
        to_unix_ms: to,
    };
    let deadline = Instant::now() + ARRIVE_WITHIN;
    loop {
        let reading = explorer
            .p99_between("your recording", 0, Some(from), Some(to))
            .await?;
        match reading {
            Some(reading)
                if reading.count_4 >= ROUNDS as u64 && reading.count_5 > ROUNDS as u64 =>
            {
                return Ok(Recorded { recording, reading });
            }
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(200)).await,
            _ if explorer.spans().await? > spans_before => bail!(
                "{package}'s spans reached the explorer at {}, but not one root span of /fib?index=4 \
                 or 5 with url.query: that attribute is step 04's, and the puzzles need it (./run.sh \
                 check 04 says what is missing)",
                explorer.url
            ),
            _ => bail!(
                "{package} answered every request, but none of its spans reached the explorer at {}: \
                 they were sent to {} (is that where it receives OTLP/HTTP? EXPLORER_OTLP_HTTP_PORT). \
                 What the app printed:\n{}",
                explorer.url,
                explorer.otlp_http,
                app.output()
            ),
        }
    }
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

/// Where to look at the recording: one of its traces of index 5, and P99 by index over it.
pub fn links(explorer: &Explorer, recording: &Recording) -> [String; 2] {
    let (from, to) = (
        recording.from_unix_ms.to_string(),
        recording.to_unix_ms.to_string(),
    );
    [
        explorer.link(
            "/traces",
            &[
                ("where", "is_root"),
                ("where", "url.query = index=5"),
                ("from", &from),
                ("to", &to),
            ],
        ),
        explorer.link(
            "/query",
            &[
                ("visualize", "P99(duration)"),
                ("visualize", "COUNT"),
                ("where", "is_root"),
                ("group_by", "url.query"),
                ("from", &from),
                ("to", &to),
            ],
        ),
    ]
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
}
