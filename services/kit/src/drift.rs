//! The drift check: each exercise is its previous step's solution plus hints, and differs from
//! its own solution only where the hints are.
//!
//! Run with: `cargo test -p kit --test steps` (it checks every step of the kit).
//!
//! Step NN lives in `exercises/NN-topic` (the learner's copy) and `solutions/NN-topic` (done);
//! the `steps` crate (`services/steps`) finds them. Step 00 has nothing to solve: its app,
//! `exercises/00-app`, is also its solution. Three rules keep every exercise honest, and
//! [`check`] checks them:
//!
//! - **A. The exercise is the previous solution plus hints.** Exercise NN has every line of
//!   solution NN-1, in order, and adds only `TODO(NN)` comment blocks (and blank lines). A file
//!   that is new in the exercise holds nothing but such blocks.
//! - **B. The solution differs from the exercise only in the TODO places.** A place is a
//!   `TODO(NN)` block and the lines after it up to the next blank line; a file holding nothing
//!   but TODO blocks is one place as a whole. New lines may also go right next to a place,
//!   blank lines between them aside (a new function after the one the hint is in).
//! - **C. A hint says what, and leaves the how to `./run.sh hint NN`.** A `TODO(NN)` block says
//!   what to achieve at its place and which API items to look up, with docs.rs links; the
//!   exercise's `HINTS.md` holds the levels before the code (`hints_md.rs`), and must parse. Neither
//!   may spell out a line of code that the solution adds: not as a whole line, nor in
//!   `backquotes`. A line counts when it says enough to be code given away (`mod telemetry;`,
//!   `let cx = parent.with_span(span);`), not when it only names an item (`SpanKind::Server`,
//!   `.with_http()`, `tracing_subscriber::registry()`). The code is the hint's last level, taken
//!   from the solution. That the links name Cargo.lock's versions is `tests/hints.rs`'s to check.
//!
//! Exempt: each `.rs` file's leading `//!` block (it names the step and its run command), the
//! slides' region markers in solutions (`// ANCHOR: name`, see `services/deck`; an exercise has
//! none), `README.md`, `HINTS.md` (but for rule C) and `tests/` (they differ by design).
//! [`lesson_lines`] is what is left of a file, and `./run.sh diff NN` shows the same.
//! `Cargo.toml` must equal the solution's, apart from the package's name and description.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use similar::{DiffOp, TextDiff};
use steps::Step;

/// What breaks rules A, B and C for `step`, one line per problem; empty when all is well.
pub fn check(root: &Path, step: &Step) -> anyhow::Result<Vec<String>> {
    let Some(solution) = &step.solution else {
        return Ok(Vec::new()); // step 00: nothing to compare
    };
    let previous = steps::previous(root, step)?
        .with_context(|| format!("step {} has no step before it", step.id()))?;
    let previous_solution = previous.finished();

    let todo = format!("TODO({})", step.id());
    let mut problems = Vec::new();
    let exercise_files = source_files(&step.exercise)?;
    let solution_files = source_files(solution)?;
    let previous_files = source_files(previous_solution)?;
    // The solution's lines of code that the exercise does not have: no hint but the last level
    // of `./run.sh hint NN` may spell them out (rule C).
    let mut new_code = BTreeSet::new();

    for file in exercise_files
        .union(&solution_files)
        .chain(previous_files.difference(&exercise_files))
    {
        let read = |dir: &Path| {
            std::fs::read_to_string(dir.join(file))
                .ok()
                .map(|text| body(file, &text))
        };
        let exercise = read(&step.exercise);
        let where_ = format!("exercises/{}-{}/{}", step.id(), step.topic, file.display());
        // Rule A: against the previous solution.
        match (&exercise, read(previous_solution)) {
            (Some(exercise), Some(previous)) => {
                problems.extend(rule_a(exercise, &previous, &todo).into_iter().map(|p| format!("{where_}: {p}")));
            }
            (Some(exercise), None) => {
                let marks = todo_blocks(exercise, &todo);
                if let Some((n, line)) = exercise.lines().enumerate().find(|(n, line)| !line.trim().is_empty() && !marks.contains(n)) {
                    problems.push(format!("{where_}:{}: a new file holds only {todo} blocks, not {line:?}", n + 1));
                }
            }
            (None, Some(_)) => problems.push(format!(
                "{where_}: missing; the previous step's solution has it, and the exercise starts from that"
            )),
            (None, None) => {}
        }
        // Rule B: against its own solution.
        match (&exercise, read(solution)) {
            (Some(exercise), Some(solved)) => {
                problems.extend(rule_b(exercise, &solved, &todo).into_iter().map(|p| format!("{where_}: {p}")));
                let code = code_lines(&solved).difference(&code_lines(exercise)).cloned().collect();
                let text = std::fs::read_to_string(step.exercise.join(file))?;
                let hints = todo_blocks(&text, &todo).into_iter().filter_map(|n| {
                    let line = text.lines().nth(n)?;
                    Some((n + 1, line.trim_start().trim_start_matches(['/', '#']).to_string()))
                });
                problems.extend(spelled_out(hints, &code).into_iter().map(|(n, line)| format!(
                    "{where_}:{n}: the {todo} hint spells out the solution's line {line:?}: a TODO says \
                     what to achieve and which API items to look up, and leaves the code to \
                     ./run.sh hint {}", step.id()
                )));
                new_code.extend(code);
            }
            (Some(_), None) => problems.push(format!("{where_}: the solution has no such file")),
            (None, Some(_)) => problems.push(format!(
                "{where_}: missing; the solution has it, so the exercise needs it with a {todo} block"
            )),
            (None, None) => {}
        }
    }
    if !exercise_files.iter().any(|file| {
        std::fs::read_to_string(step.exercise.join(file)).is_ok_and(|text| text.contains(&todo))
    }) {
        problems.push(format!(
            "exercises/{}-{}: no {todo} marker: nothing for the learner to do",
            step.id(),
            step.topic
        ));
    }
    for file in source_files(&step.exercise)? {
        let text = std::fs::read_to_string(step.exercise.join(&file))?;
        if let Some((n, line)) = text
            .lines()
            .enumerate()
            .find(|(_, line)| deck::anchors::marker(line).is_some())
        {
            problems.push(format!(
                "exercises/{}-{}/{}:{}: a slide's region marker ({}) belongs in the solution only",
                step.id(),
                step.topic,
                file.display(),
                n + 1,
                line.trim()
            ));
        }
    }
    for (dir, allowed) in [(&step.exercise, Some(&todo)), (solution, None)] {
        for file in source_files(dir)? {
            let text = std::fs::read_to_string(dir.join(&file))?;
            for (n, line) in text.lines().enumerate() {
                if let Some(at) = line.find("TODO(")
                    && allowed.is_none_or(|todo| !line[at..].starts_with(todo.as_str()))
                {
                    problems.push(format!(
                        "{}/{}:{}: a stray marker: {}",
                        dir.display(),
                        file.display(),
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    problems.extend(compare_manifests(&step.exercise, solution)?);
    problems.extend(check_hints(root, step, &new_code));
    Ok(problems)
}

/// Rule C for `HINTS.md`: it is there and holds levels 1 and 2 (see `hint.rs`), and neither
/// spells out a line of the solution's code (`new_code`): the code is level 3's.
fn check_hints(root: &Path, step: &Step, new_code: &BTreeSet<String>) -> Vec<String> {
    let file = step.hints_file();
    let where_ = file
        .strip_prefix(root)
        .unwrap_or(&file)
        .display()
        .to_string();
    let written = match std::fs::read_to_string(&file) {
        Ok(text) => crate::hints_md::Written::parse(&text).map(|_| text),
        Err(err) => Err(format!(
            "missing ({err}): it holds what `./run.sh hint {}` shows before the code",
            step.id()
        )),
    };
    let text = match written {
        Ok(text) => text,
        Err(problem) => return vec![format!("{where_}: {problem}")],
    };
    let lines = text
        .lines()
        .enumerate()
        .map(|(n, line)| (n + 1, line.to_string()));
    spelled_out(lines, new_code)
        .into_iter()
        .map(|(n, line)| {
            format!(
                "{where_}:{n}: spells out the solution's line {line:?}: levels 1 and 2 give the \
                 idea and the API items; the code is level 3, taken from the solution"
            )
        })
        .collect()
}

/// The lines of code in `text` (not comments, not chained calls alone: `.with_http()` names an
/// API item as much as it is code), normalised as [`normalised`] does, that are long enough to be
/// code given away.
fn code_lines(text: &str) -> BTreeSet<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("//") && !line.starts_with('.'))
        .map(normalised)
        .filter(|line| is_code(line))
        .collect()
}

/// Whether a normalised line says enough to be a line of code given away: `mod logs` or
/// `Ok(provider)` do; `response`, `}`, a path alone, called or not (`metrics::record_duration`,
/// `tracing_subscriber::registry()`), or a short call (`cx.span()`), which name an API item as
/// much as they are code, do not.
fn is_code(line: &str) -> bool {
    const ITEMS: [&str; 7] = ["mod ", "use ", "let ", "pub ", "fn ", "impl ", "struct "];
    let path =
        (line.trim_end_matches("()").chars()).all(|c| c.is_alphanumeric() || c == '_' || c == ':');
    (line.len() >= 12 && line.contains(['(', ':', '=', '!']) && !path)
        || (line.len() >= 8 && ITEMS.iter().any(|item| line.starts_with(item)))
}

/// A line as rule C compares it: spaces collapsed, no `;`, `,` or `{` at the end.
fn normalised(line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    words
        .join(" ")
        .trim_end_matches([';', ',', '{', ' '])
        .to_string()
}

/// Of the hint lines `hints` (number, text), those that spell out a line of `code`: as a
/// whole, or in one of their `backquoted` spans. Each with its number and the line it spells.
fn spelled_out(
    hints: impl Iterator<Item = (usize, String)>,
    code: &BTreeSet<String>,
) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in hints {
        let spans = line.split('`').skip(1).step_by(2);
        if let Some(fragment) = std::iter::once(line.as_str())
            .chain(spans)
            .map(normalised)
            .find(|fragment| code.contains(fragment))
        {
            found.push((n, fragment));
        }
    }
    found
}

/// The files the rules cover: everything under `src/`, relative to the crate folder.
fn source_files(crate_dir: &Path) -> anyhow::Result<BTreeSet<PathBuf>> {
    fn walk(dir: &Path, base: &Path, found: &mut BTreeSet<PathBuf>) -> anyhow::Result<()> {
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                walk(&path, base, found)?;
            } else {
                found.insert(path.strip_prefix(base)?.to_path_buf());
            }
        }
        Ok(())
    }
    let mut found = BTreeSet::new();
    walk(&crate_dir.join("src"), crate_dir, &mut found)?;
    Ok(found)
}

/// The lines of `file` (its path in the crate folder) that are the lesson, each with its number
/// in the file (from 1) and its line end: every line but the slides' region markers and, in a
/// `.rs` file unless `with_header`, the leading `//!` block and the blank lines after it.
pub fn lesson_lines<'a>(file: &Path, text: &'a str, with_header: bool) -> Vec<(usize, &'a str)> {
    let lines: Vec<(usize, &str)> = text
        .split_inclusive('\n')
        .enumerate()
        .map(|(n, line)| (n + 1, line))
        .filter(|(_, line)| deck::anchors::marker(line).is_none())
        .collect();
    if with_header || file.extension().is_none_or(|ext| ext != "rs") {
        return lines;
    }
    let header = lines
        .iter()
        .take_while(|(_, line)| line.starts_with("//!"))
        .count();
    let blank = lines[header..]
        .iter()
        .take_while(|(_, line)| line.trim().is_empty())
        .count();
    lines[header + blank..].to_vec()
}

/// A file as the rules compare it: its [`lesson_lines`], each ending in `\n`.
fn body(file: &Path, text: &str) -> String {
    lesson_lines(file, text, false)
        .into_iter()
        .map(|(_, line)| format!("{}\n", line.trim_end_matches(['\n', '\r'])))
        .collect()
}

/// The lines (0-based) of `text` that belong to a TODO block: the comment line that holds
/// `todo` and the comment lines that follow it.
fn todo_blocks(text: &str, todo: &str) -> BTreeSet<usize> {
    let mut marked = BTreeSet::new();
    let mut in_block = false;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let comment = trimmed.starts_with("//") || trimmed.starts_with('#');
        in_block = comment && (in_block || trimmed.contains(todo));
        if in_block {
            marked.insert(n);
        }
    }
    marked
}

/// Rule A: `exercise` is `previous` plus TODO blocks and blank lines.
fn rule_a(exercise: &str, previous: &str, todo: &str) -> Vec<String> {
    let marks = todo_blocks(exercise, todo);
    let exercise_lines: Vec<&str> = exercise.lines().collect();
    let previous_lines: Vec<&str> = previous.lines().collect();
    let diff = TextDiff::from_lines(previous, exercise);
    let mut problems = Vec::new();
    for op in diff.ops() {
        match *op {
            DiffOp::Equal { .. } => {}
            DiffOp::Insert {
                new_index, new_len, ..
            } => {
                let inserted = exercise_lines
                    .iter()
                    .enumerate()
                    .skip(new_index)
                    .take(new_len);
                for (n, line) in inserted {
                    if !line.trim().is_empty() && !marks.contains(&n) {
                        problems.push(format!(
                            "line {} is not in the previous solution and is not a {todo} hint: {:?}",
                            n + 1,
                            line.trim()
                        ));
                    }
                }
            }
            DiffOp::Delete { old_index, .. } | DiffOp::Replace { old_index, .. } => {
                problems.push(format!(
                    "differs from the previous step's solution, whose line {} is {:?}: an exercise only adds {todo} hints",
                    old_index + 1,
                    previous_lines[old_index].trim()
                ));
            }
        }
    }
    problems
}

/// Rule B: `solution` differs from `exercise` only in the TODO places.
fn rule_b(exercise: &str, solution: &str, todo: &str) -> Vec<String> {
    let lines: Vec<&str> = exercise.lines().collect();
    let marks = todo_blocks(exercise, todo);
    let whole_file = !marks.is_empty()
        && lines
            .iter()
            .enumerate()
            .all(|(n, line)| line.trim().is_empty() || marks.contains(&n));
    // A place: a TODO block and the lines after it, up to the next blank line.
    let mut places = BTreeSet::new();
    let mut in_place = false;
    for (n, line) in lines.iter().enumerate() {
        in_place = marks.contains(&n) || (in_place && !line.trim().is_empty());
        if in_place || whole_file {
            places.insert(n);
        }
    }
    let diff = TextDiff::from_lines(exercise, solution);
    let mut problems = Vec::new();
    for op in diff.ops() {
        let (start, len) = match *op {
            DiffOp::Equal { .. } => continue,
            DiffOp::Delete {
                old_index, old_len, ..
            } => (old_index, old_len),
            DiffOp::Replace {
                old_index, old_len, ..
            } => (old_index, old_len),
            DiffOp::Insert { old_index, .. } => (old_index, 0),
        };
        let inside = if len == 0 {
            // An insertion before line `start`: it must touch a place, blank lines aside.
            let blank = |n: usize| lines.get(n).is_some_and(|line| line.trim().is_empty());
            let after = (start..lines.len()).find(|&n| !blank(n));
            let before = (0..start).rev().find(|&n| !blank(n));
            [after, before]
                .into_iter()
                .flatten()
                .any(|n| places.contains(&n))
        } else {
            (start..start + len).all(|n| places.contains(&n))
        };
        if !inside {
            let shown = lines.get(start).map_or("(end of file)", |line| line.trim());
            problems.push(format!(
                "line {}: the solution differs here, outside any {todo} place: {shown:?}",
                start + 1
            ));
        }
    }
    problems
}

/// `Cargo.toml` of exercise and solution: the same, but for the package's name and description.
fn compare_manifests(exercise: &Path, solution: &Path) -> anyhow::Result<Vec<String>> {
    let normalise = |dir: &Path| -> anyhow::Result<String> {
        let text = std::fs::read_to_string(dir.join("Cargo.toml"))
            .with_context(|| format!("reading {}/Cargo.toml", dir.display()))?;
        Ok(text
            .lines()
            .filter(|line| !line.starts_with("name = ") && !line.starts_with("description = "))
            .map(|line| format!("{line}\n"))
            .collect())
    };
    let (ex, sol) = (normalise(exercise)?, normalise(solution)?);
    Ok(if ex == sol {
        Vec::new()
    } else {
        vec![format!(
            "{}/Cargo.toml differs from the solution's beyond its name and description",
            exercise.display()
        )]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_c_tells_code_given_away_from_the_names_of_api_items() {
        let solution = "\
mod telemetry;
    let cx = parent.with_span(span);
    global::set_text_map_propagator(TraceContextPropagator::new());
        .with_kind(SpanKind::Server)
    let response = next.run(request).with_context(cx.clone()).await;
    tracing_subscriber::registry()
    cx.span()
    response
    // A comment of the solution's, not code.
";
        let code = code_lines(solution);
        let hint = |text: &str| spelled_out([(1, text.to_string())].into_iter(), &code);
        // Code given away, as a whole line or in backquotes, spaces and a final `;` aside.
        for given_away in [
            "//   declare it: `mod telemetry;`",
            "let cx  =  parent.with_span(span)",
            "install it, `global::set_text_map_propagator(TraceContextPropagator::new())`",
        ] {
            assert_eq!(hint(given_away).len(), 1, "{given_away:?}");
        }
        // Names of items, a part of a line, or what is not code at all.
        for named in [
            "`SpanKind::Server` and `SpanBuilder::with_kind`",
            "`.with_kind(SpanKind::Server)`",
            "`tracing_subscriber::registry()`, then `cx.span()`",
            "`next.run(request)` returns a future: `FutureExt::with_context`",
            "return the `response`",
            "A comment of the solution's, not code.",
        ] {
            assert_eq!(hint(named), [], "{named:?}");
        }
    }
}
