//! The Room page, `/room`: a row per learner (their furthest passed step, the check failing now
//! and its hint's title, their spans and traces, a link to their traces) under a summary (how
//! many are on each step, what most are stuck on). The board part is also served alone,
//! `/room/board`, which the page's one script fetches every few seconds and swaps in: a board
//! that keeps itself current without the flicker of a reload.
//!
//! Everything on it came from the network: askama escapes it all, and the page's
//! Content-Security-Policy allows no script but its own file, so nothing a learner sends (a
//! name, an expectation) can run in the instructor's browser.

use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::scripts::with_policy;
use super::{Header, clock, render};
use crate::room::{Board, now_unix_nano};
use crate::window::Shared;

/// How often the page fetches the board again.
pub const REFRESH_SECONDS: u32 = 3;

#[derive(Template)]
#[template(path = "room.html")]
struct RoomPage {
    header: Header,
    board: BoardView,
    refresh_seconds: u32,
}

#[derive(Template)]
#[template(path = "room_board.html")]
struct BoardView {
    learners: usize,
    steps: Vec<String>,
    stuck: Vec<StuckView>,
    rows: Vec<RowView>,
}

struct StuckView {
    learners: usize,
    step: String,
    expectation: String,
    hint: String,
}

struct RowView {
    name: String,
    last_seen: String,
    passed: String,
    /// The latest check: `✓ 03`, `✗ 03`, or empty.
    checked: String,
    failing: bool,
    expectation: String,
    hint: String,
    spans: u64,
    traces: u64,
    dropped: u64,
    traces_link: String,
}

pub(super) async fn room_page(State(shared): State<Arc<Shared>>) -> Response {
    let header = Header::from(shared.stats());
    let page = RoomPage {
        header,
        board: view(shared.board(), now_unix_nano()),
        refresh_seconds: REFRESH_SECONDS,
    };
    with_policy(render(page, StatusCode::OK))
}

pub(super) async fn board_fragment(State(shared): State<Arc<Shared>>) -> Response {
    with_policy(render(
        view(shared.board(), now_unix_nano()),
        StatusCode::OK,
    ))
}

fn step(step: u32) -> String {
    format!("{step:02}")
}

fn view(board: Board, now: u64) -> BoardView {
    let rows = board
        .learners
        .iter()
        .map(|row| {
            let failing = row.failing.as_ref();
            RowView {
                name: row.name.clone(),
                last_seen: ago(row.last_seen_unix_nano, now),
                passed: row.passed_step.map_or_else(|| "–".into(), step),
                checked: match (row.checked_step, row.checked_passed) {
                    (Some(s), Some(true)) => format!("✓ {}", step(s)),
                    (Some(s), _) => format!("✗ {}", step(s)),
                    _ => String::new(),
                },
                failing: failing.is_some(),
                expectation: failing.map(|f| f.expectation.clone()).unwrap_or_default(),
                hint: failing.and_then(|f| f.hint.clone()).unwrap_or_default(),
                spans: row.spans_received,
                traces: row.traces_received,
                dropped: row.spans_dropped,
                traces_link: traces_link(&row.name),
            }
        })
        .collect();
    BoardView {
        learners: board.learners.len(),
        steps: board
            .steps
            .iter()
            .map(|count| match count.failing {
                0 => format!("step {}: {}", step(count.step), count.learners),
                failing => format!(
                    "step {}: {} ({failing} failing)",
                    step(count.step),
                    count.learners
                ),
            })
            .collect(),
        stuck: board
            .stuck
            .iter()
            .take(5)
            .map(|stuck| StuckView {
                learners: stuck.learners,
                step: step(stuck.failing.step),
                expectation: stuck.failing.expectation.clone(),
                hint: stuck.failing.hint.clone().unwrap_or_default(),
            })
            .collect(),
        rows,
    }
}

/// The trace list filtered to one learner.
fn traces_link(name: &str) -> String {
    let filter: String =
        form_urlencoded::byte_serialize(format!("learner.name = {name}").as_bytes()).collect();
    format!("/traces?where={filter}")
}

/// "12 s ago", "3 min ago", or the clock time for longer; "never" for no time.
fn ago(unix_nano: u64, now: u64) -> String {
    if unix_nano == 0 {
        return "never".into();
    }
    let seconds = now.saturating_sub(unix_nano) / 1_000_000_000;
    match seconds {
        0..60 => format!("{seconds} s ago"),
        60..3600 => format!("{} min ago", seconds / 60),
        _ => clock(unix_nano),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_a_board_says_them() {
        let now = 10_000 * 1_000_000_000;
        assert_eq!(ago(now - 12_000_000_000, now), "12 s ago");
        assert_eq!(ago(now - 180_000_000_000, now), "3 min ago");
        assert_eq!(ago(0, now), "never");
    }

    #[test]
    fn the_traces_link_filters_on_the_name() {
        assert_eq!(traces_link("ada-l"), "/traces?where=learner.name+%3D+ada-l");
    }
}
