//! The drift check: each exercise is its previous step's solution plus hints, and differs from
//! its own solution only where the hints are.
//!
//! Run with: `cargo test -p kit --test steps` (it checks every step of the kit).
//!
//! Step NN lives in `exercises/NN-topic` (the learner's copy) and `solutions/NN-topic` (done);
//! the `steps` crate (`services/steps`) finds them. Step 00 has nothing to solve: its app,
//! `exercises/00-app`, is also its solution. Two rules keep every exercise honest, and [`check`]
//! checks both:
//!
//! - **A. The exercise is the previous solution plus hints.** Exercise NN has every line of
//!   solution NN-1, in order, and adds only `TODO(NN)` comment blocks (and blank lines). A file
//!   that is new in the exercise holds nothing but such blocks.
//! - **B. The solution differs from the exercise only in the TODO places.** A place is a
//!   `TODO(NN)` block and the lines after it up to the next blank line; a file holding nothing
//!   but TODO blocks is one place as a whole. New lines may also go right next to a place,
//!   blank lines between them aside (a new function after the one the hint is in).
//!
//! Exempt: each `.rs` file's leading `//!` block (it names the step and its run command), the
//! slides' region markers in solutions (`// ANCHOR: name`, see `services/deck`; an exercise has
//! none), `README.md` and `tests/` (they differ by design). [`lesson_lines`] is what is left of
//! a file, and `./run.sh diff NN` shows the same. `Cargo.toml` must equal the solution's, apart
//! from the package's name and description.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use similar::{DiffOp, TextDiff};
use steps::Step;

/// What breaks rules A and B for `step`, one line per problem; empty when all is well.
pub fn check(root: &Path, step: &Step) -> anyhow::Result<Vec<String>> {
    let Some(solution) = &step.solution else {
        return Ok(Vec::new()); // step 00: nothing to compare
    };
    let steps = steps::all(root)?;
    let previous = steps
        .iter()
        .rfind(|other| other.number < step.number)
        .with_context(|| format!("step {} has no step before it", step.id()))?;
    let previous_solution = previous.solution.as_ref().unwrap_or(&previous.exercise);

    let todo = format!("TODO({})", step.id());
    let mut problems = Vec::new();
    let exercise_files = source_files(&step.exercise)?;
    let solution_files = source_files(solution)?;
    let previous_files = source_files(previous_solution)?;

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
    Ok(problems)
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
