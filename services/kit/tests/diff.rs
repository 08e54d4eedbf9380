//! `./run.sh diff NN`: your copy of a step against its solution. `cargo test -p kit --test diff`.

use std::path::{Path, PathBuf};

use kit::diff::{Style, render};
use kit::steps;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A kit of its own: `exercises/00-app` (no solution, as in the real one) and the given files,
/// each as `(path from the kit's folder, content)`.
fn fake_kit(files: &[(&str, &str)]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let app = [("exercises/00-app/src/main.rs", "fn main() {}\n")];
    for (path, content) in app.iter().chain(files) {
        let path = root.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    root
}

fn plain_diff(root: &Path, step: &str) -> String {
    render(root, &steps::find(root, step).unwrap(), Style::Plain).unwrap()
}

const MAIN: &str = "fn main() {\n    println!(\"hello\");\n}\n";

#[test]
fn the_real_step_02_shows_the_todo_lines_as_yours_and_the_solutions_lines_as_added() {
    let out = plain_diff(&repo_root(), "02");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "Step 02 · otlp: your copy (exercises/02-otlp) → the solution (solutions/02-otlp)"
    );
    assert_eq!(lines[1], "- yours, + solution");
    for wanted in [
        "--- exercises/02-otlp/src/telemetry.rs",
        "+++ solutions/02-otlp/src/telemetry.rs",
        "--- exercises/02-otlp/src/main.rs",
        "+++ solutions/02-otlp/src/main.rs",
        "-    let tracer_provider = telemetry::init_traces();",
        "+    let tracer_provider = telemetry::init_traces()?;",
    ] {
        assert!(lines.contains(&wanted), "no line {wanted:?} in:\n{out}");
    }
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with('-') && line.contains("TODO(02)")),
        "the hints are not shown as yours:\n{out}"
    );
    assert!(
        !lines
            .iter()
            .any(|line| line.starts_with('+') && line.contains("TODO(")),
        "the solution has no hints:\n{out}"
    );
    let hunk_headers: Vec<&&str> = lines
        .iter()
        .filter(|line| line.starts_with("@@ -"))
        .collect();
    assert!(!hunk_headers.is_empty(), "no hunk headers:\n{out}");
    for header in hunk_headers {
        let ranges = header
            .strip_prefix("@@ -")
            .and_then(|rest| rest.strip_suffix(" @@"))
            .unwrap_or_else(|| panic!("a malformed hunk header: {header:?}"));
        let (old, new) = ranges.split_once(" +").unwrap();
        for range in [old, new] {
            assert!(
                range.split(',').all(|n| n.parse::<usize>().is_ok()),
                "{header:?}"
            );
        }
    }
    for line in &lines {
        assert_eq!(line.trim_end(), *line, "trailing whitespace: {line:?}");
    }
    assert!(
        !lines
            .iter()
            .any(|line| line.starts_with("---") && line.contains("README")),
        "README.md differs by design and is not shown:\n{out}"
    );
}

#[test]
fn plain_output_has_no_escape_codes() {
    let out = plain_diff(&repo_root(), "02");
    assert!(!out.contains('\x1b'), "{out}");
}

#[test]
fn color_output_paints_yours_red_the_solution_green_and_hunk_headers_cyan() {
    let root = repo_root();
    let out = render(&root, &steps::find(&root, "02").unwrap(), Style::Color).unwrap();
    for wanted in [
        "\x1b[31m-",
        "\x1b[32m+",
        "\x1b[36m@@ -",
        "\x1b[1m--- exercises/02-otlp/src/telemetry.rs\x1b[0m",
    ] {
        assert!(out.contains(wanted), "no {wanted:?} in:\n{out}");
    }
    for line in out.lines() {
        if let Some(at) = line.rfind('\x1b') {
            assert!(
                line[at..].starts_with("\x1b[0m"),
                "a colour runs past its line: {line:?}"
            );
        }
    }
    // The same text once the colours are gone.
    let plain = plain_diff(&root, "02");
    let stripped = ["\x1b[31m", "\x1b[32m", "\x1b[36m", "\x1b[1m", "\x1b[0m"]
        .iter()
        .fold(out, |text, code| text.replace(code, ""));
    assert_eq!(stripped, plain);
}

#[test]
fn a_copy_equal_to_the_solution_but_for_line_endings_readmes_builds_and_hidden_files_matches() {
    let windows_main = MAIN.replace('\n', "\r\n");
    let root = fake_kit(&[
        ("exercises/01-x/Cargo.toml", "[package]\n"),
        ("exercises/01-x/src/main.rs", windows_main.as_str()),
        ("exercises/01-x/README.md", "# yours\n"),
        ("solutions/01-x/Cargo.toml", "[package]\n"),
        ("solutions/01-x/src/main.rs", MAIN),
        ("solutions/01-x/README.md", "# the solution's\n"),
        ("solutions/01-x/target/debug/junk", "built\n"),
        ("exercises/01-x/src/.main.rs.swp", "an editor's\n"),
    ]);
    let out = plain_diff(root.path(), "01");
    assert!(out.contains("Your copy matches the solution"), "{out}");
    assert!(!out.contains("@@"), "{out}");
    for skipped in ["README", "target", "swp"] {
        assert!(!out.contains(skipped), "{out}");
    }
}

#[test]
fn a_change_is_shown_with_three_lines_of_context_and_the_line_numbers_of_each_side() {
    let numbered = |changed: &str| {
        (1..=20)
            .map(|n| {
                if n == 10 {
                    format!("{changed}\n")
                } else {
                    format!("line {n}\n")
                }
            })
            .collect::<String>()
    };
    let (yours, solution) = (numbered("todo"), numbered("done"));
    let root = fake_kit(&[
        ("exercises/01-x/src/lib.rs", &yours),
        ("solutions/01-x/src/lib.rs", &solution),
    ]);
    let out = plain_diff(root.path(), "1");
    let expected = "\
--- exercises/01-x/src/lib.rs
+++ solutions/01-x/src/lib.rs
@@ -7,7 +7,7 @@
 line 7
 line 8
 line 9
-todo
+done
 line 11
 line 12
 line 13
";
    assert!(out.contains(expected), "{out}");
    assert!(out.ends_with("\n1 file differs.\n"), "{out}");
}

#[test]
fn a_file_only_in_the_solution_is_listed_with_its_content_as_added() {
    let root = fake_kit(&[
        ("exercises/01-x/src/main.rs", MAIN),
        ("exercises/01-x/src/old.rs", "// gone\n"),
        ("solutions/01-x/src/main.rs", MAIN),
        (
            "solutions/01-x/src/telemetry.rs",
            "pub fn init() {}\n\npub fn stop() {}\n",
        ),
    ]);
    let out = plain_diff(root.path(), "01");
    let expected = "\
only in the solution: src/telemetry.rs
--- /dev/null
+++ solutions/01-x/src/telemetry.rs
@@ -0,0 +1,3 @@
+pub fn init() {}
+
+pub fn stop() {}
";
    assert!(out.contains(expected), "{out}");
    let expected = "\
only in yours: src/old.rs
--- exercises/01-x/src/old.rs
+++ /dev/null
@@ -1 +0,0 @@
-// gone
";
    assert!(out.contains(expected), "{out}");
    assert!(
        !out.contains("src/main.rs"),
        "main.rs is the same on both sides:\n{out}"
    );
    assert!(out.ends_with("\n2 files differ.\n"), "{out}");
}

#[test]
fn a_file_without_a_final_newline_is_marked_as_such() {
    let root = fake_kit(&[
        ("exercises/01-x/src/main.rs", "fn main() {}"),
        ("solutions/01-x/src/main.rs", "fn main() {}\n"),
    ]);
    let out = plain_diff(root.path(), "01");
    let expected = "\
@@ -1 +1 @@
-fn main() {}
\\ No newline at end of file
+fn main() {}
";
    assert!(out.contains(expected), "{out}");
}

#[test]
fn unchanged_blank_lines_and_windows_line_endings_leave_no_trailing_whitespace() {
    let root = fake_kit(&[
        ("exercises/01-x/src/main.rs", "a\r\n\r\nb\r\n"),
        ("solutions/01-x/src/main.rs", "a\r\n\r\nc\r\n"),
    ]);
    let out = plain_diff(root.path(), "01");
    assert!(out.contains("@@ -1,3 +1,3 @@\n a\n\n-b\n+c\n"), "{out:?}");
    assert!(!out.contains('\r'), "{out:?}");
}

#[test]
fn step_00_has_no_solution_and_the_error_names_the_steps_that_have_one() {
    let root = fake_kit(&[
        ("exercises/01-x/src/main.rs", MAIN),
        ("solutions/01-x/src/main.rs", MAIN),
        ("exercises/02-y/src/main.rs", MAIN),
        ("solutions/02-y/src/main.rs", MAIN),
    ]);
    let step = steps::find(root.path(), "00").unwrap();
    let error = render(root.path(), &step, Style::Plain)
        .unwrap_err()
        .to_string();
    assert!(error.contains("step 00 has no solution"), "{error}");
    assert!(error.contains("exercises/00-app"), "{error}");
    assert!(
        error.ends_with("the steps with a solution are 01, 02"),
        "{error}"
    );

    let root = repo_root();
    let step = steps::find(&root, "00").unwrap();
    let error = render(&root, &step, Style::Plain).unwrap_err().to_string();
    assert!(error.contains("01, 02, 03"), "{error}");
}

#[test]
fn an_unknown_step_is_an_error_that_lists_the_steps_there_are() {
    let root = repo_root();
    let error = steps::find(&root, "42").unwrap_err().to_string();
    assert!(error.contains("there is no step \"42\""), "{error}");
    assert!(error.contains("00, 01, 02"), "{error}");
}

#[test]
fn a_file_that_is_not_text_is_said_to_differ_without_its_bytes() {
    let root = fake_kit(&[
        ("exercises/01-x/src/main.rs", MAIN),
        ("solutions/01-x/src/main.rs", MAIN),
    ]);
    for (side, byte) in [("exercises", 0xff), ("solutions", 0xfe)] {
        std::fs::write(root.path().join(side).join("01-x/logo.png"), [0x89, byte]).unwrap();
    }
    let out = plain_diff(root.path(), "01");
    assert!(
        out.contains(
            "--- exercises/01-x/logo.png\n+++ solutions/01-x/logo.png\nbinary files differ\n"
        ),
        "{out}"
    );
}
