//! `./run.sh check` with no step: where the learner is, step by step.

use std::fmt::Write;
use std::path::Path;

use crate::check::{self, Report, Subject};
use crate::report::Style;

/// One row of the table.
pub struct Row {
    pub step: u32,
    pub topic: String,
    pub state: State,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Done,
    /// Still has its `TODO` markers and fails: not started, or under way.
    NotDone {
        passed: usize,
        total: usize,
        markers: usize,
    },
    DoesNotBuild,
}

impl State {
    pub fn of(report: &Report) -> State {
        if report.outcome.is_err() {
            return State::DoesNotBuild;
        }
        if report.passed() {
            return State::Done;
        }
        let (passed, total) = report.score();
        State::NotDone {
            passed,
            total,
            markers: report.markers.len(),
        }
    }
}

/// Checks every step's exercise, one after the other, calling `each` as each row is known.
pub fn rows(root: &Path, mut each: impl FnMut(&Row)) -> anyhow::Result<Vec<Row>> {
    let mut rows = Vec::new();
    for step in steps::all(root)? {
        if step.number == 0 {
            continue;
        }
        let subject = Subject {
            step: step.number,
            package: step.exercise_package(),
            crate_dir: step
                .exercise
                .strip_prefix(root)
                .unwrap_or(&step.exercise)
                .to_path_buf(),
        };
        let report = check::check(root, &subject, true)?;
        let row = Row {
            step: step.number,
            topic: step.topic.clone(),
            state: State::of(&report),
        };
        each(&row);
        rows.push(row);
    }
    Ok(rows)
}

pub fn render_row(row: &Row, style: Style) -> String {
    let paint = |code: &str, text: String| match style {
        Style::Plain => text,
        Style::Color => format!("\x1b[{code}m{text}\x1b[0m"),
    };
    let mut out = format!("  {:02}  {:<13} ", row.step, row.topic);
    let state = match &row.state {
        State::Done => paint("32", "✓ done".into()),
        State::DoesNotBuild => paint("31", "✗ does not build".into()),
        State::NotDone {
            passed,
            total,
            markers,
        } => {
            let todo = if *markers > 0 {
                format!(", {markers} TODO({:02}) left", row.step)
            } else {
                String::new()
            };
            paint(
                "33",
                format!("· {passed} of {total} expectations met{todo}"),
            )
        }
    };
    let _ = write!(out, "{state}");
    out
}
