//! Your copy of a step against its solution, as a unified diff to read in a terminal.
//!
//! Run with: `./run.sh diff 02` (your `exercises/02-otlp` against `solutions/02-otlp`), or
//! `./run.sh diff 02 --all` for every file.
//!
//! `-` lines are yours, `+` lines the solution's: what the solution has that your copy does not
//! yet. By default only the lesson is shown: the files under `src/`, without what differs by
//! design, as the drift check leaves it out ([`drift::lesson_lines`]): each `.rs` file's leading
//! `//!` block (the "Run with" header names the step) and the slides' region markers
//! (`// ANCHOR: name`). With `--all`, every file of the two crate folders is compared
//! (`Cargo.toml`, whose package name differs, `tests/`, …) with its header, but for `README.md`,
//! `HINTS.md` (what `./run.sh hint NN` shows), `target/` and hidden files; region markers are
//! never shown. A file on one side only is shown whole, as all `+` (only in the solution) or all
//! `-` (only in yours). The count at the end counts the files shown.
//!
//! Hunks have 3 lines of context and `@@ -a,b +c,d @@` headers whose numbers are lines of the
//! files themselves, hidden lines included: the hunk starts at line `a` of your file and spans
//! `b` of its lines (`c` and `d` in the solution's), so an editor's "go to line" finds it.
//!
//! Line endings do not count: `\r\n` reads as `\n`, so an editor's Windows line endings are no
//! difference. No output line ends in whitespace of the diff's making: an unchanged blank line is
//! printed empty, not as a lone space, and a colour always ends before its line does. A file
//! without a final newline gets git's `\ No newline at end of file`; one that is not UTF-8, the
//! line `binary files differ`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};
use similar::{ChangeTag, DiffOp, TextDiff};
use steps::Step;

use crate::drift;

/// What [`render`] compares: `./run.sh diff NN` shows [`Scope::Lesson`], `--all` [`Scope::All`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The files under `src/`, without each `.rs` file's leading `//!` block.
    Lesson,
    /// Every file (`Cargo.toml`, `tests/`, …), headers included.
    All,
}

/// How [`render`] prints: the caller picks [`Style::Color`] when stdout is a terminal and
/// `NO_COLOR` is unset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Text only, without a single escape code: for pipes, files and `NO_COLOR`.
    Plain,
    /// ANSI colours: red `-`, green `+`, cyan hunk headers, bold file headers.
    Color,
}

/// Lines of unchanged text shown around each change.
const CONTEXT: usize = 3;

/// What `./run.sh diff NN` prints: every file in `scope` that differs between the exercise and
/// the solution of `step`.
pub fn render(root: &Path, step: &Step, scope: Scope, style: Style) -> anyhow::Result<String> {
    let Some(solution) = &step.solution else {
        let solved: Vec<String> = steps::all(root)?
            .iter()
            .filter(|other| other.solution.is_some())
            .map(Step::id)
            .collect();
        bail!(
            "step {} has no solution to compare with: {} is the app as it is, with nothing to \
             solve; the steps with a solution are {}",
            step.id(),
            shown(root, &step.exercise),
            solved.join(", ")
        );
    };
    let (yours_dir, solution_dir) = (shown(root, &step.exercise), shown(root, solution));
    let paint = Paint(style);
    let mut out = String::new();
    paint.line(
        &mut out,
        BOLD,
        &format!(
            "Step {} · {}: your copy ({yours_dir}) → the solution ({solution_dir})",
            step.id(),
            step.topic
        ),
    );
    let _ = writeln!(
        out,
        "{} yours, {} solution",
        paint.red("-"),
        paint.green("+")
    );

    let differing = compare(&mut out, paint, root, &step.exercise, solution, scope)?;

    let _ = match differing {
        0 => writeln!(out, "\nYour copy matches the solution: no file differs."),
        1 => writeln!(out, "\n1 file differs."),
        n => writeln!(out, "\n{n} files differ."),
    };
    Ok(out)
}

/// The code of step `step`'s `TODO(NN)` places as its solution writes it: every change from the
/// code the step starts from (the previous step's solution, which the exercise is plus its
/// `TODO(NN)` comments: the drift check's rule A) to the solution, in the lesson's files. The
/// last level of `./run.sh hint NN`, taken from the solutions so that it cannot drift from them.
pub fn solution_changes(root: &Path, step: &Step, style: Style) -> anyhow::Result<String> {
    let solution = step
        .solution
        .as_ref()
        .with_context(|| format!("step {} has no solution", step.id()))?;
    let previous = steps::previous(root, step)?
        .with_context(|| format!("step {} has no step before it", step.id()))?;
    let mut out = String::new();
    compare(
        &mut out,
        Paint(style),
        root,
        previous.finished(),
        solution,
        Scope::Lesson,
    )?;
    Ok(out)
}

/// Appends to `out` each file in `scope` that differs between the crate folders `old_dir` (yours)
/// and `new_dir` (the solution), as a unified diff; returns how many do.
fn compare(
    out: &mut String,
    paint: Paint,
    root: &Path,
    old_dir: &Path,
    new_dir: &Path,
    scope: Scope,
) -> anyhow::Result<usize> {
    let (yours_dir, solution_dir) = (shown(root, old_dir), shown(root, new_dir));
    let yours = files(old_dir)?;
    let theirs = files(new_dir)?;
    let with_header = scope == Scope::All;
    let mut differing = 0;
    for file in yours.union(&theirs) {
        if scope == Scope::Lesson && !file.starts_with("src") {
            continue;
        }
        let name = slashed(file);
        let old = read(old_dir, file, yours.contains(file))?;
        let new = read(new_dir, file, theirs.contains(file))?;
        let (old_shown, new_shown) = (
            Shown::new(file, &old, with_header),
            Shown::new(file, &new, with_header),
        );
        if old.is_some() == new.is_some() && old_shown.same(&new_shown) {
            continue;
        }
        differing += 1;
        out.push('\n');
        let (old_label, new_label) = match (&old, &new) {
            (Some(_), None) => {
                paint.line(out, BOLD, &format!("only in yours: {name}"));
                (format!("{yours_dir}/{name}"), "/dev/null".to_string())
            }
            (None, Some(_)) => {
                paint.line(out, BOLD, &format!("only in the solution: {name}"));
                ("/dev/null".to_string(), format!("{solution_dir}/{name}"))
            }
            _ => (
                format!("{yours_dir}/{name}"),
                format!("{solution_dir}/{name}"),
            ),
        };
        paint.line(out, BOLD, &format!("--- {old_label}"));
        paint.line(out, BOLD, &format!("+++ {new_label}"));
        match (old_shown, new_shown) {
            (Shown::Lines(old), Shown::Lines(new)) => hunks(out, paint, &old, &new),
            _ => out.push_str("binary files differ\n"),
        }
    }
    Ok(differing)
}

/// What of one side of a file is compared and shown.
enum Shown<'a> {
    /// Its lines (see [`drift::lesson_lines`]), each with its number in the file; none when that
    /// side has no such file.
    Lines(Vec<(usize, &'a str)>),
    /// A file that is not text.
    Binary(&'a [u8]),
}

impl<'a> Shown<'a> {
    fn new(file: &Path, content: &'a Option<Content>, with_header: bool) -> Shown<'a> {
        match content {
            None => Shown::Lines(Vec::new()),
            Some(Content::Text(text)) => Shown::Lines(drift::lesson_lines(file, text, with_header)),
            Some(Content::Bytes(bytes)) => Shown::Binary(bytes),
        }
    }

    /// Whether both show the same, wherever their lines are in the files.
    fn same(&self, other: &Shown) -> bool {
        match (self, other) {
            (Shown::Lines(one), Shown::Lines(other)) => {
                one.len() == other.len() && one.iter().zip(other).all(|((_, a), (_, b))| a == b)
            }
            (Shown::Binary(one), Shown::Binary(other)) => one == other,
            _ => false,
        }
    }
}

/// The hunks of `old` → `new`, each with its `@@` header.
fn hunks(out: &mut String, paint: Paint, old: &[(usize, &str)], new: &[(usize, &str)]) {
    let old_text: Vec<&str> = old.iter().map(|(_, line)| *line).collect();
    let new_text: Vec<&str> = new.iter().map(|(_, line)| *line).collect();
    let diff = TextDiff::from_slices(&old_text, &new_text);
    for group in diff.grouped_ops(CONTEXT) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            continue;
        };
        if group.iter().all(|op| matches!(op, DiffOp::Equal { .. })) {
            continue;
        }
        let header = format!(
            "@@ -{} +{} @@",
            range(old, first.old_range().start..last.old_range().end),
            range(new, first.new_range().start..last.new_range().end)
        );
        paint.line(out, CYAN, &header);
        for change in group.iter().flat_map(|op| diff.iter_changes(op)) {
            let text = change.value().trim_end_matches(['\n', '\r']);
            match change.tag() {
                // Trailing whitespace on an unchanged line says nothing: drop it, and the lone
                // space of a blank line with it.
                ChangeTag::Equal => {
                    let line = format!(" {text}");
                    out.push_str(line.trim_end());
                    out.push('\n');
                }
                // On a changed line it may be the very change: keep it.
                ChangeTag::Delete => paint.line(out, RED, &format!("-{text}")),
                ChangeTag::Insert => paint.line(out, GREEN, &format!("+{text}")),
            }
            if change.missing_newline() {
                out.push_str("\\ No newline at end of file\n");
            }
        }
    }
}

/// One side of a hunk header, from the `shown` lines of a file: the number in the file of the
/// hunk's first line and how many of the file's lines the hunk spans, lines hidden between them
/// included (`12,7`, or `12` for one line). A side with no line in the hunk gives the line the
/// hunk comes after, as `diff -u` does (`12,0`; `0,0` before the first line).
fn range(shown: &[(usize, &str)], hunk: Range<usize>) -> String {
    if hunk.is_empty() {
        let before = match shown.get(hunk.start) {
            Some((number, _)) => number - 1,
            None => shown.last().map_or(0, |(number, _)| *number),
        };
        return format!("{before},0");
    }
    let first = shown[hunk.start].0;
    match shown[hunk.end - 1].0 - first + 1 {
        1 => first.to_string(),
        span => format!("{first},{span}"),
    }
}

/// The files of a crate folder, relative to it: all but `README.md`, `HINTS.md`, `target/` and
/// hidden ones.
fn files(crate_dir: &Path) -> anyhow::Result<BTreeSet<PathBuf>> {
    fn walk(dir: &Path, base: &Path, found: &mut BTreeSet<PathBuf>) -> anyhow::Result<()> {
        for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let is_dir = entry.file_type()?.is_dir()
                || (entry.file_type()?.is_symlink() && entry.path().is_dir());
            let skipped = name.starts_with('.')
                || (is_dir && name == "target")
                || (dir == base && (name == "README.md" || name == "HINTS.md"));
            if skipped {
                continue;
            }
            let path = entry.path();
            if is_dir {
                walk(&path, base, found)?;
            } else {
                found.insert(path.strip_prefix(base)?.to_path_buf());
            }
        }
        Ok(())
    }
    let mut found = BTreeSet::new();
    walk(crate_dir, crate_dir, &mut found)?;
    Ok(found)
}

/// A file as read: its text, with `\r\n` read as `\n`; its bytes when it is not UTF-8.
enum Content {
    Text(String),
    Bytes(Vec<u8>),
}

/// `dir/file`, or `None` when that side has no such file.
fn read(dir: &Path, file: &Path, present: bool) -> anyhow::Result<Option<Content>> {
    if !present {
        return Ok(None);
    }
    let path = dir.join(file);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Some(match String::from_utf8(bytes) {
        Ok(text) => Content::Text(text.replace("\r\n", "\n")),
        Err(not_text) => Content::Bytes(not_text.into_bytes()),
    }))
}

/// `path` as printed: relative to the kit's folder when inside it, with `/` between parts.
fn shown(root: &Path, path: &Path) -> String {
    slashed(path.strip_prefix(root).unwrap_or(path))
}

/// `path` with `/` between its parts, on every platform.
fn slashed(path: &Path) -> String {
    path.components()
        .filter(|part| !matches!(part, Component::CurDir))
        .map(|part| part.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const CYAN: &str = "\x1b[36m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// Colours text for a [`Style`]: as is for [`Style::Plain`].
#[derive(Clone, Copy)]
struct Paint(Style);

impl Paint {
    fn paint(self, code: &str, text: &str) -> String {
        match self.0 {
            Style::Plain => text.to_string(),
            Style::Color => format!("{code}{text}{RESET}"),
        }
    }

    fn red(self, text: &str) -> String {
        self.paint(RED, text)
    }

    fn green(self, text: &str) -> String {
        self.paint(GREEN, text)
    }

    /// `text` in `code`, then a newline: the colour ends before the line does.
    fn line(self, out: &mut String, code: &str, text: &str) {
        let _ = writeln!(out, "{}", self.paint(code, text));
    }
}
