//! Regions of a source file, between `ANCHOR: name` and `ANCHOR_END: name` comment lines.
//!
//! The markers are mdBook's: a solution marks the lines a slide shows,
//!
//! ```text
//! // ANCHOR: provider
//! let provider = SdkTracerProvider::builder()
//!     .with_simple_exporter(opentelemetry_stdout::SpanExporter::default())
//!     .build();
//! // ANCHOR_END: provider
//! ```
//!
//! and a slide names the region: `{{#include ../solutions/01-stdout/src/telemetry.rs:provider}}`.
//! Any comment syntax works (`//`, `#`, `<!-- -->`), so a YAML file can mark regions too.
//! Regions may overlap or nest; the marker lines themselves never show, on a slide or to a
//! learner (the drift check and `./run.sh diff` leave them out, see [`strip`]).

use std::collections::BTreeMap;

use thiserror::Error;

/// What is wrong with a file's markers, or with the region asked for.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum AnchorError {
    #[error("there is no region {name:?}; {}", available(.found))]
    Missing { name: String, found: Vec<String> },
    #[error("line {line}: `ANCHOR: {name}` has no `ANCHOR_END: {name}` after it")]
    Unclosed { name: String, line: usize },
    #[error("line {line}: `ANCHOR_END: {name}` has no `ANCHOR: {name}` before it")]
    Unopened { name: String, line: usize },
    #[error("line {line}: a second `ANCHOR: {name}`; a region's name is given once per file")]
    Twice { name: String, line: usize },
    #[error("region {name:?} (line {line}) holds no code")]
    Empty { name: String, line: usize },
}

fn available(found: &[String]) -> String {
    if found.is_empty() {
        "the file marks none (`// ANCHOR: name` … `// ANCHOR_END: name`)".to_string()
    } else {
        format!("the file has: {}", found.join(", "))
    }
}

/// A marker line: the start or the end of the region `name`.
#[derive(Debug, PartialEq, Eq)]
pub enum Marker<'a> {
    Start(&'a str),
    End(&'a str),
}

/// The marker on `line`, if it is one: a comment holding only `ANCHOR: name` or
/// `ANCHOR_END: name`.
pub fn marker(line: &str) -> Option<Marker<'_>> {
    let text = line.trim();
    let text = ["//", "#", "<!--", "/*"]
        .iter()
        .find_map(|leader| text.strip_prefix(leader))?;
    let text = text.trim_end_matches("-->").trim_end_matches("*/").trim();
    let (kind, name) = text.split_once(':')?;
    let name = name.trim();
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    match kind.trim() {
        "ANCHOR" if valid => Some(Marker::Start(name)),
        "ANCHOR_END" if valid => Some(Marker::End(name)),
        _ => None,
    }
}

/// `text` without its marker lines: what a learner sees, and what the drift check compares.
pub fn strip(text: &str) -> String {
    text.lines()
        .filter(|line| marker(line).is_none())
        .flat_map(|line| [line, "\n"])
        .collect()
}

/// Every region of `text`, by name, as 1-based line ranges of their content (markers excluded):
/// checks that every region opens once and closes.
pub fn regions(text: &str) -> Result<BTreeMap<String, (usize, usize)>, AnchorError> {
    let mut open: BTreeMap<&str, usize> = BTreeMap::new();
    let mut done = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        match marker(line) {
            Some(Marker::Start(name)) => {
                if open.contains_key(name) || done.contains_key(name) {
                    return Err(AnchorError::Twice {
                        name: name.to_string(),
                        line: line_no,
                    });
                }
                open.insert(name, line_no);
            }
            Some(Marker::End(name)) => {
                let Some(start) = open.remove(name) else {
                    return Err(AnchorError::Unopened {
                        name: name.to_string(),
                        line: line_no,
                    });
                };
                done.insert(name.to_string(), (start + 1, line_no - 1));
            }
            None => {}
        }
    }
    if let Some((name, line)) = open.into_iter().next() {
        return Err(AnchorError::Unclosed {
            name: name.to_string(),
            line,
        });
    }
    Ok(done)
}

/// The lines of region `name`, without the markers inside it and with the indentation they
/// share removed, so that a method's body reads from the left edge of the slide.
pub fn region(text: &str, name: &str) -> Result<String, AnchorError> {
    let all = regions(text)?;
    let Some(&(first, last)) = all.get(name) else {
        return Err(AnchorError::Missing {
            name: name.to_string(),
            found: all.into_keys().collect(),
        });
    };
    let lines: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(n, line)| (first..=last).contains(&(n + 1)) && marker(line).is_none())
        .map(|(_, line)| line)
        .collect();
    let indent = lines
        .iter()
        .filter(|line| !line.trim().is_empty())
        .map(|line| line.len() - line.trim_start().len())
        .min()
        .ok_or_else(|| AnchorError::Empty {
            name: name.to_string(),
            line: first - 1,
        })?;
    Ok(lines
        .iter()
        .map(|line| line.get(indent..).unwrap_or("").trim_end())
        .flat_map(|line| [line, "\n"])
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
fn main() {
    // ANCHOR: body
    let a = 1;
    // ANCHOR: inner
    if a > 0 {
        println!(\"{a}\");
    }
    // ANCHOR_END: inner
    // ANCHOR_END: body
}
# ANCHOR: yaml
key: value
# ANCHOR_END: yaml
";

    #[test]
    fn a_region_is_its_lines_dedented_without_the_markers_inside() {
        assert_eq!(
            region(FILE, "body").unwrap(),
            "let a = 1;\nif a > 0 {\n    println!(\"{a}\");\n}\n"
        );
        assert_eq!(
            region(FILE, "inner").unwrap(),
            "if a > 0 {\n    println!(\"{a}\");\n}\n"
        );
        assert_eq!(region(FILE, "yaml").unwrap(), "key: value\n");
    }

    #[test]
    fn a_missing_region_names_the_ones_the_file_has() {
        let err = region(FILE, "bdy").unwrap_err();
        assert_eq!(
            err.to_string(),
            "there is no region \"bdy\"; the file has: body, inner, yaml"
        );
        let err = region("fn main() {}\n", "body").unwrap_err();
        assert!(err.to_string().contains("the file marks none"), "{err}");
    }

    #[test]
    fn markers_that_do_not_pair_are_errors_with_their_line() {
        let unclosed = "// ANCHOR: a\nx\n";
        assert_eq!(
            regions(unclosed).unwrap_err(),
            AnchorError::Unclosed {
                name: "a".into(),
                line: 1
            }
        );
        let unopened = "x\n// ANCHOR_END: a\n";
        assert_eq!(
            regions(unopened).unwrap_err(),
            AnchorError::Unopened {
                name: "a".into(),
                line: 2
            }
        );
        let twice = "// ANCHOR: a\n// ANCHOR_END: a\n// ANCHOR: a\n// ANCHOR_END: a\n";
        assert_eq!(
            regions(twice).unwrap_err(),
            AnchorError::Twice {
                name: "a".into(),
                line: 3
            }
        );
        let empty = "// ANCHOR: a\n\n// ANCHOR_END: a\n";
        assert_eq!(
            region(empty, "a").unwrap_err(),
            AnchorError::Empty {
                name: "a".into(),
                line: 1
            }
        );
    }

    #[test]
    fn strip_removes_only_marker_lines() {
        assert_eq!(
            strip(FILE),
            "fn main() {\n    let a = 1;\n    if a > 0 {\n        println!(\"{a}\");\n    }\n}\nkey: value\n"
        );
        // Comments that merely mention the word are code, not markers.
        let prose = "// ANCHOR: lines mark what the slides show\n// see ANCHOR: x\n";
        assert_eq!(strip(prose), prose);
    }

    #[test]
    fn every_comment_syntax_marks() {
        assert_eq!(marker("  // ANCHOR: a-b_1"), Some(Marker::Start("a-b_1")));
        assert_eq!(marker("# ANCHOR_END: x"), Some(Marker::End("x")));
        assert_eq!(marker("<!-- ANCHOR: note -->"), Some(Marker::Start("note")));
        assert_eq!(marker("/* ANCHOR_END: c */"), Some(Marker::End("c")));
        assert_eq!(marker("let anchor = 1; // ANCHOR: a"), None);
    }
}
