//! A look at the learner's code, only to make a hint precise.
//!
//! Whether a step passes is decided on behaviour alone (what the app sent, printed and answered),
//! so that any correct solution passes, `tracing` or the API. But one symptom can have several
//! causes: "the last spans never arrive" is a missing shutdown, or a provider dropped by
//! `let _ = …`. Where the code shows which, the hint says so.

use std::path::{Path, PathBuf};

/// A `TODO(NN)` marker still in the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    /// Relative to the crate, e.g. `src/telemetry.rs`.
    pub file: PathBuf,
    pub line: usize,
    pub text: String,
}

/// The crate's Rust files, comments removed, and its `TODO` markers.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    /// Code only: `//` comments removed, so that a hint in a comment is not taken for code.
    code: String,
    markers: Vec<(u32, Marker)>,
}

impl Sources {
    /// Reads every `.rs` file under `crate_dir/src`. A folder that cannot be read gives empty
    /// sources: hints are then less precise, nothing more.
    pub fn read(crate_dir: &Path) -> Sources {
        let mut sources = Sources::default();
        let mut files = Vec::new();
        rust_files(&crate_dir.join("src"), &mut files);
        files.sort();
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let relative = file.strip_prefix(crate_dir).unwrap_or(&file).to_path_buf();
            sources.add(&relative, &text);
        }
        sources
    }

    /// Adds one file's text, as if read from `file`.
    pub fn add(&mut self, file: &Path, text: &str) {
        for (number, line) in text.lines().enumerate() {
            if let Some(step) = todo_step(line) {
                let text = line.trim().trim_start_matches("//").trim().to_string();
                let marker = Marker {
                    file: file.to_path_buf(),
                    line: number + 1,
                    text,
                };
                self.markers.push((step, marker));
            }
            let code = match line.find("//") {
                // `//` inside a string (a URL) is kept: only comments are dropped.
                Some(at) if !line[..at].contains('"') => &line[..at],
                _ => line,
            };
            self.code.push_str(code);
            self.code.push('\n');
        }
    }

    /// The `TODO(NN)` markers of step `step` still in the code.
    pub fn markers(&self, step: u32) -> Vec<&Marker> {
        self.markers
            .iter()
            .filter(|(marker_step, _)| *marker_step == step)
            .map(|(_, marker)| marker)
            .collect()
    }

    /// The code, line by line, without comments, blank lines or indentation: what two crates
    /// share when they differ only in their comments (an exercise as shipped, and the solution
    /// it starts from).
    pub fn code_lines(&self) -> impl Iterator<Item = &str> {
        self.code
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
    }

    pub fn contains(&self, needle: &str) -> bool {
        self.code.contains(needle)
    }

    /// A tracer provider is installed: globally, or as the tracer of a `tracing` layer.
    pub fn installs_provider(&self) -> bool {
        [
            "set_tracer_provider",
            "OpenTelemetryLayer",
            "tracing_opentelemetry::layer",
        ]
        .iter()
        .any(|needle| self.contains(needle))
    }

    /// The provider `init_…` returns is thrown away at once: `let _ = init_traces()?;`, or the
    /// call as a statement of its own.
    pub fn discards_provider(&self) -> bool {
        self.code.lines().map(str::trim).any(|line| {
            let call = line.strip_prefix("let _ =").map(str::trim).unwrap_or(line);
            let statement = call.ends_with(';');
            let init = call.contains("init_traces(") || call.contains("init_tracing(");
            statement && init && (call.len() < line.len() || !line.starts_with("let "))
        })
    }

    /// The code names an endpoint of its own instead of leaving it to the environment.
    pub fn sets_endpoint(&self) -> bool {
        self.contains(".with_endpoint(")
    }
}

/// `Some(NN)` when the line is a comment that starts with a `TODO(NN)` marker, as every place
/// does (`// TODO(02): send the spans over OTLP…`). A comment that only mentions one, as a
/// file's `//!` header may ("each `TODO(07)` says what to do there"), is no place to work.
fn todo_step(line: &str) -> Option<u32> {
    let text = line.trim_start().strip_prefix("//")?;
    let rest = text
        .trim_start_matches(['/', '!'])
        .trim_start()
        .strip_prefix("TODO(")?;
    rest[..rest.find(')')?].parse().ok()
}

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(text: &str) -> Sources {
        let mut sources = Sources::default();
        sources.add(Path::new("src/main.rs"), text);
        sources
    }

    #[test]
    fn markers_are_found_with_their_step_and_line() {
        let s =
            sources("fn main() {\n    // TODO(02): send spans over OTLP\n}\n// TODO(03): later\n");
        let markers = s.markers(2);
        assert_eq!(markers.len(), 1);
        assert_eq!(markers[0].line, 2);
        assert_eq!(markers[0].text, "TODO(02): send spans over OTLP");
        assert_eq!(s.markers(3).len(), 1);
        assert!(s.markers(4).is_empty());
        // Mentioned in a header, a doc comment or a string, a marker is no place to work.
        let s = sources(
            "//! Each `TODO(02)` says what to do there.\n/// See TODO(02) below.\nfn f() {\n    \
             let s = \"TODO(02)\";\n}\n",
        );
        assert!(s.markers(2).is_empty());
    }

    #[test]
    fn a_provider_thrown_away_is_seen_and_a_kept_one_is_not() {
        assert!(sources("let _ = telemetry::init_traces()?;").discards_provider());
        assert!(sources("    telemetry::init_traces()?;").discards_provider());
        assert!(!sources("let tracer_provider = telemetry::init_traces()?;").discards_provider());
        assert!(!sources("let _provider = init_traces()?;").discards_provider());
    }

    #[test]
    fn code_in_comments_does_not_count() {
        let s = sources("// global::set_tracer_provider(provider.clone());\nfn f() {}\n");
        assert!(!s.installs_provider());
        let s = sources("    global::set_tracer_provider(provider.clone()); // installed\n");
        assert!(s.installs_provider());
        assert!(
            sources("let url = \"http://localhost:4318\"; .with_endpoint(url)").sets_endpoint()
        );
    }
}
