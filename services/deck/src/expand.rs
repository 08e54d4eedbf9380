//! From the deck's Markdown sources to the one Markdown file Marp renders.
//!
//! [`expand`] reads `slides/deck.md` and, line by line:
//! 1. replaces `{{#include path:region}}` inside a code fence by that region of the file (see
//!    [`crate::anchors`]), and `{{#include path}}` by the whole file without its markers; outside a
//!    fence, `{{#include file.md}}` brings in a section of the deck, expanded the same way;
//! 2. embeds every local image as a `data:` URI, so that the built deck is one file that needs
//!    nothing else to present;
//! 3. checks that every local link points at a file that exists, and rewrites it to be relative
//!    to the folder the deck is written to;
//! 4. keeps the speaker notes (HTML comments that are not Marp directives) for the presenter's
//!    edition and leaves them out of the learners' one.
//!
//! Paths in a source are relative to that source's folder, as in any Markdown file. Every problem
//! found is reported with its file and line, all at once, and nothing is written.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

use base64::Engine as _;

use crate::anchors;

/// Which deck to make: the presenter's has the speaker notes (and the puzzles' answers in them),
/// the learners' has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edition {
    Presenter,
    Learners,
}

/// Marp's directives: a comment made only of these is a directive, any other is a speaker note.
const DIRECTIVES: &[&str] = &[
    "marp",
    "theme",
    "style",
    "headingDivider",
    "lang",
    "size",
    "math",
    "title",
    "author",
    "description",
    "paginate",
    "header",
    "footer",
    "class",
    "backgroundColor",
    "backgroundImage",
    "backgroundPosition",
    "backgroundRepeat",
    "backgroundSize",
    "color",
    "transition",
];

/// How deep Markdown includes may nest: deeper is certainly a loop.
const MAX_DEPTH: usize = 8;

/// Expands `entry` (a Markdown file under `root`) for a deck written into `out_dir`: Markdown for
/// Marp, with every include, image and link resolved. Fails with every problem found, one per
/// line, each with its file and line.
pub fn expand(
    root: &Path,
    entry: &Path,
    out_dir: &Path,
    edition: Edition,
) -> anyhow::Result<String> {
    let mut expander = Expander {
        root: normalize(root),
        out_dir: normalize(out_dir),
        edition,
        problems: Vec::new(),
    };
    let markdown = expander.file(&normalize(entry), None, &mut Vec::new());
    if expander.problems.is_empty() {
        Ok(markdown)
    } else {
        anyhow::bail!(
            "the deck has {} problem{}:\n{}",
            expander.problems.len(),
            if expander.problems.len() == 1 {
                ""
            } else {
                "s"
            },
            expander.problems.join("\n")
        )
    }
}

struct Expander {
    root: PathBuf,
    out_dir: PathBuf,
    edition: Edition,
    problems: Vec<String>,
}

/// A place in a source, for messages: `slides/01-stdout.md:12`.
struct At<'a>(&'a str, usize);

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.0, self.1)
    }
}

impl Expander {
    /// `path` relative to the root, with `/`, for messages.
    fn shown(&self, path: &Path) -> String {
        let relative = path.strip_prefix(&self.root).unwrap_or(path);
        relative.to_string_lossy().replace('\\', "/")
    }

    /// Reads `path` (or its `region`); `None` after noting the problem.
    fn read(&mut self, path: &Path, region: Option<&str>, at: &At) -> Option<String> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) => {
                self.problems
                    .push(format!("{at}: cannot read {}: {err}", self.shown(path)));
                return None;
            }
        };
        let result = match region {
            Some(name) => anchors::region(&text, name),
            None => anchors::regions(&text).map(|_| anchors::strip(&text)),
        };
        result
            .map_err(|err| {
                self.problems
                    .push(format!("{at}: in {}: {err}", self.shown(path)));
            })
            .ok()
    }

    /// One Markdown source, expanded. `stack` holds the sources that include it, to refuse loops.
    fn file(&mut self, path: &Path, region: Option<&str>, stack: &mut Vec<PathBuf>) -> String {
        let shown = self.shown(path);
        if stack.iter().any(|seen| seen == path) || stack.len() > MAX_DEPTH {
            let through = stack.last().map(|p| self.shown(p)).unwrap_or_default();
            self.problems.push(format!(
                "{through}: includes {shown}, which includes it again: a loop"
            ));
            return String::new();
        }
        let Some(text) = self.read(path, region, &At(&shown, 0)) else {
            return String::new();
        };
        stack.push(path.to_path_buf());
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        let mut out = String::with_capacity(text.len());
        let mut fence: Option<(char, usize)> = None;
        let mut comment: Option<String> = None;
        for (n, line) in text.lines().enumerate() {
            let at = At(&shown, n + 1);
            // Inside an HTML comment: gather it whole, then keep it or not.
            if let Some(gathered) = comment.as_mut() {
                gathered.push_str(line);
                gathered.push('\n');
                if line.contains("-->") {
                    let gathered = comment.take().unwrap_or_default();
                    self.comment(&mut out, &gathered);
                }
                continue;
            }
            let trimmed = line.trim_start();
            let include = include_directive(line);
            if let Some((mark, len)) = fence {
                if closes_fence(trimmed, mark, len) {
                    fence = None;
                    out.push_str(line);
                } else if let Some((target, name)) = include {
                    // Code: the region as it is in the source, markers left out.
                    let code = self.read(&normalize(&dir.join(target)), name, &at);
                    let code = code.unwrap_or_default();
                    out.push_str(code.trim_end_matches('\n'));
                } else {
                    out.push_str(line);
                }
            } else if let Some(opened) = opens_fence(trimmed) {
                fence = Some(opened);
                out.push_str(line);
            } else if let Some((target, name)) = include {
                // A section of the deck: Markdown, expanded in its turn.
                let section = self.file(&normalize(&dir.join(target)), name, stack);
                out.push_str(section.trim_end_matches('\n'));
            } else if trimmed.starts_with("<!--") {
                if line.contains("-->") {
                    self.comment(&mut out, &format!("{line}\n"));
                } else {
                    comment = Some(format!("{line}\n"));
                }
                continue;
            } else {
                let rewritten = self.links(line, &dir, &at);
                out.push_str(&rewritten);
            }
            out.push('\n');
        }
        if fence.is_some() {
            self.problems
                .push(format!("{shown}: a code fence is never closed"));
        }
        if comment.is_some() {
            self.problems
                .push(format!("{shown}: a comment (`<!--`) is never closed"));
        }
        stack.pop();
        out
    }

    /// A whole HTML comment: a directive always stays; a note stays in the presenter's edition.
    fn comment(&self, out: &mut String, comment: &str) {
        if is_directive(comment) {
            out.push_str(comment);
        } else if self.edition == Edition::Presenter {
            out.push_str(&reflow(comment));
        }
    }

    /// `line` with each local image embedded and each local link checked and made relative to
    /// the output folder. Code spans (between backticks) are left alone.
    fn links(&mut self, line: &str, dir: &Path, at: &At) -> String {
        let mut out = String::with_capacity(line.len());
        for (i, part) in line.split('`').enumerate() {
            if i > 0 {
                out.push('`');
            }
            if i % 2 == 1 {
                out.push_str(part);
                continue;
            }
            let mut rest = part;
            while let Some(open) = rest.find("](") {
                let start = open + 2;
                let Some(len) = rest[start..].find(')') else {
                    break;
                };
                let target = &rest[start..start + len];
                let is_image = rest[..open]
                    .rfind('[')
                    .is_some_and(|bracket| bracket > 0 && rest.as_bytes()[bracket - 1] == b'!');
                out.push_str(&rest[..start]);
                out.push_str(&self.target(target, is_image, dir, at));
                rest = &rest[start + len..];
            }
            out.push_str(rest);
        }
        out
    }

    /// What a link or image target becomes in the built deck.
    fn target(&mut self, target: &str, is_image: bool, dir: &Path, at: &At) -> String {
        let external = ["http://", "https://", "mailto:", "data:", "#"];
        if target.is_empty() || external.iter().any(|scheme| target.starts_with(scheme)) {
            return target.to_string();
        }
        let (file, fragment) = match target.split_once('#') {
            Some((file, fragment)) => (file, Some(fragment)),
            None => (target, None),
        };
        let path = normalize(&dir.join(file));
        if !path.exists() {
            let what = if is_image { "an image" } else { "a link" };
            self.problems.push(format!(
                "{at}: {what} to {target}, which does not exist ({})",
                self.shown(&path)
            ));
            return target.to_string();
        }
        if is_image {
            return self.embed(&path, at).unwrap_or_else(|| target.to_string());
        }
        let mut relative = pathdiff::diff_paths(&path, &self.out_dir)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        if let Some(fragment) = fragment {
            let _ = write!(relative, "#{fragment}");
        }
        relative
    }

    /// The image at `path` as a `data:` URI.
    fn embed(&mut self, path: &Path, at: &At) -> Option<String> {
        let extension = path
            .extension()
            .and_then(|ext| ext.to_str())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mime = match extension.as_str() {
            "svg" => "image/svg+xml",
            "png" => "image/png",
            "jpg" | "jpeg" => "image/jpeg",
            "gif" => "image/gif",
            "webp" => "image/webp",
            _ => {
                self.problems.push(format!(
                    "{at}: {} is not an image the deck can embed (svg, png, jpg, gif, webp)",
                    self.shown(path)
                ));
                return None;
            }
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                let data = base64::engine::general_purpose::STANDARD.encode(bytes);
                Some(format!("data:{mime};base64,{data}"))
            }
            Err(err) => {
                self.problems
                    .push(format!("{at}: cannot read {}: {err}", self.shown(path)));
                None
            }
        }
    }
}

/// `path` made absolute and without `.` and `..` parts, without asking the file system: the
/// same file always has the same name in messages.
fn normalize(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut normal = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

/// A note with its paragraphs on one line each. The presenter view keeps a note's line breaks,
/// so the source's wrapping at 100 columns would show as ragged lines.
fn reflow(comment: &str) -> String {
    let inner = comment
        .trim()
        .trim_start_matches("<!--")
        .trim_end_matches("-->");
    let paragraphs: Vec<String> = inner
        .split("\n\n")
        .map(|paragraph| paragraph.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|paragraph| !paragraph.is_empty())
        .collect();
    format!("<!--\n{}\n-->\n", paragraphs.join("\n\n"))
}

/// `{{#include path}}` or `{{#include path:region}}` alone on a line: the path and the region.
pub fn include_directive(line: &str) -> Option<(&str, Option<&str>)> {
    let inner = line
        .trim()
        .strip_prefix("{{#include ")?
        .strip_suffix("}}")?
        .trim();
    match inner.rsplit_once(':') {
        Some((path, region)) if !region.contains('/') => Some((path, Some(region))),
        _ => Some((inner, None)),
    }
}

/// A line that opens a code fence: its character and length (```` ``` ```` or `~~~`, 3 or more).
pub fn opens_fence(trimmed: &str) -> Option<(char, usize)> {
    let mark = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let len = trimmed.chars().take_while(|c| *c == mark).count();
    (len >= 3).then_some((mark, len))
}

/// Whether `trimmed` closes a fence opened by `len` times `mark`.
pub fn closes_fence(trimmed: &str, mark: char, len: usize) -> bool {
    let run = trimmed.chars().take_while(|c| *c == mark).count();
    run >= len && trimmed[run * mark.len_utf8()..].trim().is_empty()
}

/// Whether an HTML comment is made only of Marp directives (`_class: lead`, `paginate: false`).
fn is_directive(comment: &str) -> bool {
    let inner = comment
        .trim()
        .trim_start_matches("<!--")
        .trim_end_matches("-->")
        .trim();
    !inner.is_empty()
        && inner.lines().filter(|l| !l.trim().is_empty()).all(|line| {
            line.split_once(':').is_some_and(|(key, _)| {
                let key = key.trim();
                DIRECTIVES.contains(&key.strip_prefix('_').unwrap_or(key))
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_are_read_with_or_without_a_region() {
        assert_eq!(
            include_directive("{{#include ../solutions/01-stdout/src/telemetry.rs:provider}}"),
            Some(("../solutions/01-stdout/src/telemetry.rs", Some("provider")))
        );
        assert_eq!(
            include_directive("  {{#include 01-stdout.md}}  "),
            Some(("01-stdout.md", None))
        );
        assert_eq!(include_directive("see {{#include x}}"), None);
    }

    #[test]
    fn directives_are_told_from_notes() {
        assert!(is_directive("<!-- _class: lead -->"));
        assert!(is_directive("<!--\n_paginate: false\n_class: lead\n-->"));
        assert!(!is_directive("<!-- Ask the room: who has used Jaeger? -->"));
        assert!(!is_directive(
            "<!-- Answer: 5, because the tree has 5 leaves of index 1 -->"
        ));
    }

    #[test]
    fn notes_read_as_paragraphs() {
        assert_eq!(
            reflow("<!--\nOne line,\n  and its rest.\n\nA second\nparagraph.\n-->\n"),
            "<!--\nOne line, and its rest.\n\nA second paragraph.\n-->\n"
        );
        assert_eq!(reflow("<!-- short -->\n"), "<!--\nshort\n-->\n");
    }

    #[test]
    fn fences_open_and_close_with_the_same_mark() {
        assert_eq!(opens_fence("```rust"), Some(('`', 3)));
        assert_eq!(opens_fence("~~~~"), Some(('~', 4)));
        assert_eq!(opens_fence("``x``"), None);
        assert!(closes_fence("```", '`', 3));
        assert!(!closes_fence("```rust", '`', 3));
        assert!(!closes_fence("~~~", '`', 3));
    }
}
