//! `./run.sh check` with no step: where the learner is, step by step.
//!
//! A step whose exercise the learner has not touched is "not started", without a build or a
//! run: it would only fail its own expectations, and "43 of 44 expectations met" would say
//! the opposite of the truth (the steps before it pass). Untouched, as [`untouched`] decides:
//! the exercise's code is still the previous step's solution's, comments and blank lines aside,
//! and its `TODO(NN)` hints are still there. An exercise ships so: the previous solution plus
//! `TODO(NN)` comment blocks, which the drift check (`services/kit/src/drift.rs`, rule A) keeps
//! true. The first line of code a learner writes, or a hint they delete, starts the step.

use std::fmt::Write;
use std::path::Path;

use crate::check::{self, Report, Subject};
use crate::expect;
use crate::report::Style;
use crate::sources::Sources;

/// One row of the table.
pub struct Row {
    pub step: u32,
    pub topic: String,
    pub state: State,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Done,
    /// The exercise as it was shipped: see [`untouched`].
    NotStarted {
        markers: usize,
    },
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
    let all = steps::all(root)?;
    for (previous, step) in all.iter().zip(&all[1..]) {
        if expect::step(step.number).is_none() {
            continue;
        }
        let started = previous.finished();
        if let Some(markers) = untouched(&step.exercise, started, step.number) {
            let row = Row {
                step: step.number,
                topic: step.topic.clone(),
                state: State::NotStarted { markers },
            };
            each(&row);
            rows.push(row);
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
        State::NotStarted { markers } => format!(
            "· not started: {markers} TODO({:02}) place{} to do",
            row.step,
            if *markers == 1 { "" } else { "s" }
        ),
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

/// `Some(markers)` when the exercise in `exercise` is as shipped: its code, comments and blank
/// lines aside, is the code of `previous` (the previous step's solution), and it still holds
/// `markers` `TODO(step)` hints, at least one.
pub fn untouched(exercise: &Path, previous: &Path, step: u32) -> Option<usize> {
    let exercise = Sources::read(exercise);
    let markers = exercise.markers(step).len();
    let same_code = exercise
        .code_lines()
        .eq(Sources::read(previous).code_lines());
    (markers > 0 && same_code).then_some(markers)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A crate whose only file, `src/main.rs`, holds `text`.
    fn crate_with(text: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("src/main.rs"), text).unwrap();
        dir
    }

    const PREVIOUS: &str = "//! Step 01.\n\nfn main() {\n    serve();\n}\n";

    #[test]
    fn an_exercise_as_shipped_is_untouched_and_code_or_a_deleted_hint_starts_it() {
        let previous = crate_with(PREVIOUS);
        let shipped = "//! Step 02: its own header.\n\nfn main() {\n    // TODO(02): send spans over OTLP.\n    //   Hints, on more lines.\n\n    serve();\n}\n";
        let exercise = crate_with(shipped);
        assert_eq!(untouched(exercise.path(), previous.path(), 2), Some(1));
        // Saved by an editor that reindents, or with a comment of the learner's: still untouched.
        let reindented = shipped.replace("    serve();", "  serve(); // later");
        let exercise = crate_with(&reindented);
        assert_eq!(untouched(exercise.path(), previous.path(), 2), Some(1));

        let with_code = shipped.replace(
            "    serve();",
            "    let provider = init_traces()?;\n    serve();",
        );
        let exercise = crate_with(&with_code);
        assert_eq!(untouched(exercise.path(), previous.path(), 2), None);
        let hint_deleted = shipped.replace("    // TODO(02): send spans over OTLP.\n", "");
        let exercise = crate_with(&hint_deleted);
        assert_eq!(untouched(exercise.path(), previous.path(), 2), None);
        // Another step's marker does not count.
        let exercise = crate_with(shipped);
        assert_eq!(untouched(exercise.path(), previous.path(), 3), None);
    }

    #[test]
    fn a_new_file_of_hints_alone_leaves_the_exercise_untouched() {
        let previous = crate_with(PREVIOUS);
        let exercise = crate_with(PREVIOUS);
        let new_file = exercise.path().join("src/conventions.rs");
        std::fs::write(
            &new_file,
            "// TODO(04): the attributes of the conventions.\n",
        )
        .unwrap();
        assert_eq!(untouched(exercise.path(), previous.path(), 4), Some(1));
        std::fs::write(
            &new_file,
            "// TODO(04): the attributes.\npub fn attributes() {}\n",
        )
        .unwrap();
        assert_eq!(untouched(exercise.path(), previous.path(), 4), None);
    }

    #[test]
    fn the_kits_exercises_are_untouched_as_shipped() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let all = steps::all(&root).unwrap();
        for (previous, step) in all.iter().zip(&all[1..]) {
            let started = previous.finished();
            assert!(
                untouched(&step.exercise, started, step.number).is_some(),
                "exercises/{}-{} should count as not started",
                step.id(),
                step.topic
            );
        }
    }
}
