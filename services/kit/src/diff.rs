//! Your copy of a step against its solution, as a unified diff to read in a terminal.
//!
//! Run with: `./run.sh diff 02` (your `exercises/02-otlp` against `solutions/02-otlp`).
//!
//! `-` lines are yours, `+` lines the solution's: what the solution has that your copy does not
//! yet. Every file of the two crate folders is compared (`Cargo.toml`, `src/`, `tests/`, …), but
//! for `README.md`, `target/` and hidden files; a file on one side only is shown whole, as all
//! `+` (only in the solution) or all `-` (only in yours). Hunks have 3 lines of context and
//! `@@ -a,b +c,d @@` headers, whose line numbers find the place in each file.
//!
//! Line endings do not count: `\r\n` reads as `\n`, so an editor's Windows line endings are no
//! difference. No output line ends in whitespace of the diff's making: an unchanged blank line is
//! printed empty, not as a lone space, and a colour always ends before its line does. A file
//! without a final newline gets git's `\ No newline at end of file`; one that is not UTF-8, the
//! line `binary files differ`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, bail};
use similar::{ChangeTag, TextDiff};

use crate::steps::{self, Step};

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

/// What `./run.sh diff NN` prints: every file that differs between the exercise and the
/// solution of `step`.
pub fn render(root: &Path, step: &Step, style: Style) -> anyhow::Result<String> {
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

    let yours = files(&step.exercise)?;
    let theirs = files(solution)?;
    let mut differing = 0;
    for file in yours.union(&theirs) {
        let name = slashed(file);
        let old = read(&step.exercise, file, yours.contains(file))?;
        let new = read(solution, file, theirs.contains(file))?;
        if old == new {
            continue;
        }
        differing += 1;
        out.push('\n');
        let (old_label, new_label) = match (&old, &new) {
            (Some(_), None) => {
                paint.line(&mut out, BOLD, &format!("only in yours: {name}"));
                (format!("{yours_dir}/{name}"), "/dev/null".to_string())
            }
            (None, Some(_)) => {
                paint.line(&mut out, BOLD, &format!("only in the solution: {name}"));
                ("/dev/null".to_string(), format!("{solution_dir}/{name}"))
            }
            _ => (
                format!("{yours_dir}/{name}"),
                format!("{solution_dir}/{name}"),
            ),
        };
        paint.line(&mut out, BOLD, &format!("--- {old_label}"));
        paint.line(&mut out, BOLD, &format!("+++ {new_label}"));
        match (Content::text(&old), Content::text(&new)) {
            (Some(old), Some(new)) => hunks(&mut out, paint, old, new),
            _ => out.push_str("binary files differ\n"),
        }
    }

    let _ = match differing {
        0 => writeln!(out, "\nYour copy matches the solution: no file differs."),
        1 => writeln!(out, "\n1 file differs."),
        n => writeln!(out, "\n{n} files differ."),
    };
    Ok(out)
}

/// The hunks of `old` → `new`, each with its `@@` header.
fn hunks(out: &mut String, paint: Paint, old: &str, new: &str) {
    let diff = TextDiff::from_lines(old, new);
    let mut unified = diff.unified_diff();
    unified.context_radius(CONTEXT).missing_newline_hint(true);
    for hunk in unified.iter_hunks() {
        paint.line(out, CYAN, &hunk.header().to_string());
        for change in hunk.iter_changes() {
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
            if hunk.missing_newline_hint() && change.missing_newline() {
                out.push_str("\\ No newline at end of file\n");
            }
        }
    }
}

/// The files of a crate folder, relative to it: all but `README.md`, `target/` and hidden ones.
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
                || (dir == base && name == "README.md");
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

/// A file as compared: its text, with `\r\n` read as `\n`; its bytes when it is not UTF-8.
#[derive(PartialEq)]
enum Content {
    Text(String),
    Bytes(Vec<u8>),
}

impl Content {
    /// The text of a file, `""` when that side has none, `None` when it is not text.
    fn text(content: &Option<Content>) -> Option<&str> {
        match content {
            None => Some(""),
            Some(Content::Text(text)) => Some(text),
            Some(Content::Bytes(_)) => None,
        }
    }
}

/// `dir/file`, or `None` when that side has no such file.
fn read(dir: &Path, file: &Path, present: bool) -> anyhow::Result<Option<Content>> {
    if !present {
        return Ok(None);
    }
    let path = dir.join(file);
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Some(match String::from_utf8(bytes) {
        // The slides' region markers (`// ANCHOR: name`) are not part of the lesson.
        Ok(text)
            if text
                .lines()
                .any(|line| deck::anchors::marker(line).is_some()) =>
        {
            Content::Text(deck::anchors::strip(&text.replace("\r\n", "\n")))
        }
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
