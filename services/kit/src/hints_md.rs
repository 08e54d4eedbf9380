//! The shape of a step's `HINTS.md`: what `./run.sh hint NN` (`hint.rs`) shows as levels 1 and
//! 2, and what the drift check (`drift.rs`, rule C) reads to make sure every step has them.
//!
//! ```markdown
//! # Step 01: hints
//!
//! <!-- Notes for maintainers: not shown. -->
//!
//! ## 1. The idea
//!
//! What the step's places are for, and why.
//!
//! ## 2. The API
//!
//! The items to use and how they fit together, with docs.rs links.
//! ```
//!
//! Level 3, the code, is not written here: it is taken from the solution.

/// The headings of a `HINTS.md`, in this order: levels 1 and 2.
pub const HEADINGS: [&str; 2] = ["## 1. The idea", "## 2. The API"];

/// Levels 1 and 2 of a step's hints, as written in its `HINTS.md`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub idea: String,
    pub api: String,
}

impl Written {
    /// Reads a `HINTS.md`: a title and notes for maintainers (not shown), then the headings
    /// [`HEADINGS`], in order, each followed by the Markdown of its level, not empty. Other `##`
    /// headings are refused, so that a level cannot go missing unnoticed; `###` headings are
    /// welcome inside a level, to take its `TODO(NN)` places one by one.
    pub fn parse(text: &str) -> Result<Written, String> {
        let mut bodies = [String::new(), String::new()];
        let mut current: Option<usize> = None;
        let mut in_code = false;
        for (number, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            if !in_code && line.starts_with("## ") {
                let next = current.map_or(0, |level| level + 1);
                let Some(expected) = HEADINGS.get(next) else {
                    return Err(format!(
                        "line {}: {:?} after {:?}, the last level written here (the code, level \
                         3, comes from the solution)",
                        number + 1,
                        line.trim_end(),
                        HEADINGS[HEADINGS.len() - 1]
                    ));
                };
                if line.trim_end() != *expected {
                    return Err(format!(
                        "line {}: {:?} where {expected:?} was expected",
                        number + 1,
                        line.trim_end()
                    ));
                }
                current = Some(next);
                continue;
            }
            if let Some(level) = current {
                bodies[level].push_str(line);
                bodies[level].push('\n');
            }
        }
        let found = current.map_or(0, |level| level + 1);
        if let Some(missing) = HEADINGS.get(found) {
            return Err(format!("no {missing:?} heading"));
        }
        if let Some((heading, _)) = HEADINGS
            .iter()
            .zip(&bodies)
            .find(|(_, body)| body.trim().is_empty())
        {
            return Err(format!("nothing under {heading:?}"));
        }
        let [idea, api] = bodies.map(|body| body.trim().to_string());
        Ok(Written { idea, api })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HINTS: &str = "\
# Step 01: hints

<!-- For maintainers: shown by ./run.sh hint 01. -->

## 1. The idea

A span per request.

### A part of its own

```rust
## not a heading, in code
```

## 2. The API

- `Tracer`: https://docs.rs/opentelemetry/0.33.1/opentelemetry/trace/trait.Tracer.html
";

    #[test]
    fn hints_md_gives_its_two_levels_without_the_title_and_notes() {
        let written = Written::parse(HINTS).unwrap();
        assert!(written.idea.starts_with("A span per request."));
        assert!(written.idea.contains("### A part of its own"));
        assert!(written.idea.contains("## not a heading, in code"));
        assert!(!written.idea.contains("maintainers"));
        assert_eq!(
            written.api,
            "- `Tracer`: https://docs.rs/opentelemetry/0.33.1/opentelemetry/trace/trait.Tracer.html"
        );
    }

    #[test]
    fn a_hints_md_with_a_level_missing_misplaced_empty_or_extra_is_refused() {
        let error = |text: &str| Written::parse(text).unwrap_err();
        let api_only = HINTS.replace("## 1. The idea", "### The idea");
        assert!(error(&api_only).contains("where \"## 1. The idea\""));
        let no_api = &HINTS[..HINTS.find("## 2.").unwrap()];
        assert_eq!(error(no_api), "no \"## 2. The API\" heading");
        let empty = HINTS.replace("A span per request.", "");
        let empty = empty.replace("### A part of its own", "");
        let empty = empty.replace("```rust\n## not a heading, in code\n```", "");
        assert_eq!(error(&empty), "nothing under \"## 1. The idea\"");
        let third = format!("{HINTS}\n## 3. The code\n\nfn main() {{}}\n");
        assert!(error(&third).contains("the code, level 3, comes from the solution"));
        assert!(error("").contains("no \"## 1. The idea\" heading"));
    }
}
