//! `./run.sh diff NN`: your copy of a step against its solution. `cargo test -p kit --test diff`.

use std::path::{Path, PathBuf};

use kit::diff::{Scope, Style, render};

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

/// `./run.sh diff NN`, as a pipe gets it.
fn plain_diff(root: &Path, step: &str) -> String {
    render_plain(root, step, Scope::Lesson)
}

fn render_plain(root: &Path, step: &str, scope: Scope) -> String {
    render(root, &steps::find(root, step).unwrap(), scope, Style::Plain).unwrap()
}

/// `count` lines, `line 1` to `line N`, but for line `at`, which is `changed`.
fn numbered(count: usize, at: usize, changed: &str) -> String {
    (1..=count)
        .map(|n| {
            if n == at {
                format!("{changed}\n")
            } else {
                format!("line {n}\n")
            }
        })
        .collect()
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
    let out = render(
        &root,
        &steps::find(&root, "02").unwrap(),
        Scope::Lesson,
        Style::Color,
    )
    .unwrap();
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
        ("exercises/01-x/HINTS.md", "## 1. The idea\n"),
        ("solutions/01-x/Cargo.toml", "[package]\n"),
        ("solutions/01-x/src/main.rs", MAIN),
        ("solutions/01-x/README.md", "# the solution's\n"),
        ("solutions/01-x/target/debug/junk", "built\n"),
        ("exercises/01-x/src/.main.rs.swp", "an editor's\n"),
    ]);
    for scope in [Scope::Lesson, Scope::All] {
        let out = render_plain(root.path(), "01", scope);
        assert!(out.contains("Your copy matches the solution"), "{out}");
        assert!(!out.contains("@@"), "{out}");
        for skipped in ["README", "HINTS", "target", "swp"] {
            assert!(!out.contains(skipped), "{out}");
        }
    }
}

#[test]
fn a_change_is_shown_with_three_lines_of_context_and_the_line_numbers_of_each_side() {
    let (yours, solution) = (numbered(20, 10, "todo"), numbered(20, 10, "done"));
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
    let error = render(root.path(), &step, Scope::Lesson, Style::Plain)
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
    let error = render(&root, &step, Scope::Lesson, Style::Plain)
        .unwrap_err()
        .to_string();
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
        std::fs::write(
            root.path().join(side).join("01-x/src/logo.png"),
            [0x89, byte],
        )
        .unwrap();
    }
    let out = plain_diff(root.path(), "01");
    assert!(
        out.contains(
            "--- exercises/01-x/src/logo.png\n+++ solutions/01-x/src/logo.png\nbinary files differ\n"
        ),
        "{out}"
    );
    assert!(out.ends_with("\n1 file differs.\n"), "{out}");
}

/// Step 01 of a kit of its own, as the real steps differ: each `main.rs` with its own `//!`
/// header, the solution's with a slide's region markers, each `Cargo.toml` with its own package
/// name, each `tests/` its own; and one change where the learner works, at line 9 of the
/// exercise's `main.rs` and line 11 of the solution's.
fn step_with_headers() -> tempfile::TempDir {
    let exercise_main = "\
//! Step 01, your copy.
//!
//! Run with: `cargo run -p exercise-01-x`.

fn main() {
    let a = 1;
    let b = 2;
    let c = 3;
    // TODO(01): greet
    let d = 4;
    let e = 5;
    let f = 6;
}
";
    let solution_main = "\
//! Step 01, solved.
//!
//! Run with: `cargo run -p solution-01-x`.
//! It greets.

fn main() {
    let a = 1;
    let b = 2;
    // ANCHOR: greet
    let c = 3;
    println!(\"hello\");
    // ANCHOR_END: greet
    let d = 4;
    let e = 5;
    let f = 6;
}
";
    fake_kit(&[
        (
            "exercises/01-x/Cargo.toml",
            "[package]\nname = \"exercise-01-x\"\n",
        ),
        ("exercises/01-x/src/main.rs", exercise_main),
        ("exercises/01-x/tests/functional.rs", "// yours\n"),
        (
            "solutions/01-x/Cargo.toml",
            "[package]\nname = \"solution-01-x\"\n",
        ),
        ("solutions/01-x/src/main.rs", solution_main),
        ("solutions/01-x/tests/functional.rs", "// the solution's\n"),
    ])
}

#[test]
fn by_default_only_the_lesson_is_shown_without_headers_markers_cargo_toml_or_tests() {
    let root = step_with_headers();
    let out = plain_diff(root.path(), "01");
    let expected = "\
--- exercises/01-x/src/main.rs
+++ solutions/01-x/src/main.rs
@@ -6,7 +7,9 @@
     let a = 1;
     let b = 2;
     let c = 3;
-    // TODO(01): greet
+    println!(\"hello\");
     let d = 4;
     let e = 5;
     let f = 6;
";
    assert!(out.contains(expected), "{out}");
    for hidden in [
        "Run with",
        "//!",
        "ANCHOR",
        "Cargo.toml",
        "tests/",
        "functional",
    ] {
        assert!(!out.contains(hidden), "{hidden:?} is shown:\n{out}");
    }
    assert!(out.ends_with("\n1 file differs.\n"), "{out}");
}

#[test]
fn with_all_every_file_is_shown_with_its_header_but_never_the_markers() {
    let root = step_with_headers();
    let out = render_plain(root.path(), "01", Scope::All);
    for wanted in [
        "--- exercises/01-x/Cargo.toml",
        "-name = \"exercise-01-x\"",
        "+name = \"solution-01-x\"",
        "--- exercises/01-x/tests/functional.rs",
        "+// the solution's",
        "-//! Run with: `cargo run -p exercise-01-x`.",
        "+//! It greets.",
        "+    println!(\"hello\");",
    ] {
        assert!(
            out.lines().any(|line| line == wanted),
            "no line {wanted:?} in:\n{out}"
        );
    }
    assert!(!out.contains("ANCHOR"), "{out}");
    assert!(out.ends_with("\n3 files differ.\n"), "{out}");
}

#[test]
fn a_file_that_differs_only_in_its_header_is_not_counted_by_default() {
    let root = fake_kit(&[
        ("exercises/01-x/src/main.rs", "//! Yours.\n\nfn main() {}\n"),
        (
            "solutions/01-x/src/main.rs",
            "//! The solution.\n//! Two lines.\nfn main() {}\n",
        ),
    ]);
    let out = plain_diff(root.path(), "01");
    assert!(
        out.contains("Your copy matches the solution: no file differs."),
        "{out}"
    );
    let out = render_plain(root.path(), "01", Scope::All);
    assert!(out.contains("@@ -1,3 +1,3 @@"), "{out}");
    assert!(out.ends_with("\n1 file differs.\n"), "{out}");
}

#[test]
fn hunk_headers_give_the_line_numbers_of_the_files_themselves() {
    let header = |side: &str| format!("//! {side}\n//!\n//! Run with: cargo run\n\n");
    let body = |changed: &str| numbered(12, 6, changed);
    let solution = format!("{}{}", header("The solution."), body("done"))
        .replace("line 3\n", "// ANCHOR: here\nline 3\n")
        .replace("line 8\n", "line 8\n// ANCHOR_END: here\n");
    let root = fake_kit(&[
        (
            "exercises/01-x/src/lib.rs",
            &format!("//! Yours.\n\n{}", body("todo")),
        ),
        ("solutions/01-x/src/lib.rs", &solution),
        // Added at the very top of the body, after a header of its own.
        ("exercises/01-x/src/new.rs", "//! Yours.\n\nfn one() {}\n"),
        (
            "solutions/01-x/src/new.rs",
            "//! Solved.\n\nfn zero() {}\nfn one() {}\n",
        ),
    ]);
    let out = plain_diff(root.path(), "01");
    // Yours: "line 3" is line 5 of the file, after a 2-line header, and "line 9" line 11. The
    // solution's "line 3" is line 8, after a 4-line header, two lines and a region marker, and
    // its "line 9" line 15, after the region's end.
    let expected = "\
@@ -5,7 +8,8 @@
 line 3
 line 4
 line 5
-todo
+done
 line 7
 line 8
 line 9
";
    assert!(out.contains(expected), "{out}");
    assert!(
        out.contains("@@ -3 +3,2 @@\n+fn zero() {}\n fn one() {}\n"),
        "{out}"
    );
    assert_hunks_point_at_the_real_lines(root.path(), &out);
    assert_hunks_point_at_the_real_lines(root.path(), &render_plain(root.path(), "01", Scope::All));
}

#[test]
fn the_real_steps_hunk_headers_point_at_the_real_lines() {
    let root = repo_root();
    for step in steps::all(&root)
        .unwrap()
        .iter()
        .filter(|step| step.solution.is_some())
    {
        for scope in [Scope::Lesson, Scope::All] {
            let out = render_plain(&root, &step.id(), scope);
            assert_hunks_point_at_the_real_lines(&root, &out);
        }
    }
}

/// Each hunk of `out` (plain) starts and ends, on each side, with the line its `@@` header
/// names in that file.
fn assert_hunks_point_at_the_real_lines(root: &Path, out: &str) {
    let file_lines = |path: &str| -> Vec<String> {
        match path {
            "/dev/null" => Vec::new(),
            path => std::fs::read_to_string(root.join(path))
                .unwrap()
                .lines()
                .map(|line| line.trim_end().to_string())
                .collect(),
        }
    };
    let (mut old_file, mut new_file) = (Vec::new(), Vec::new());
    let lines: Vec<&str> = out.lines().collect();
    let mut checked = 0;
    for (at, line) in lines.iter().enumerate() {
        if let Some(path) = line.strip_prefix("--- ") {
            old_file = file_lines(path);
        } else if let Some(path) = line.strip_prefix("+++ ") {
            new_file = file_lines(path);
        } else if let Some(ranges) = line
            .strip_prefix("@@ -")
            .and_then(|r| r.strip_suffix(" @@"))
        {
            let (old_range, new_range) = ranges.split_once(" +").unwrap();
            let hunk = hunk_lines(&lines[at + 1..]);
            for (range, file, mark) in [(old_range, &old_file, '-'), (new_range, &new_file, '+')] {
                let side: Vec<&str> = hunk
                    .iter()
                    .filter(|line| {
                        line.is_empty() || line.starts_with(' ') || line.starts_with(mark)
                    })
                    .map(|line| line.get(1..).unwrap_or("").trim_end())
                    .collect();
                let (start, span) = match range.split_once(',') {
                    Some((start, span)) => (
                        start.parse::<usize>().unwrap(),
                        span.parse::<usize>().unwrap(),
                    ),
                    None => (range.parse().unwrap(), 1),
                };
                if span == 0 {
                    assert!(side.is_empty(), "{line}: {side:?}");
                    continue;
                }
                assert_eq!(file[start - 1], side[0], "{line}: the first line");
                assert_eq!(
                    file[start + span - 2],
                    side[side.len() - 1],
                    "{line}: the last line"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 0 || !out.contains("@@"), "{out}");
}

/// The lines of the hunk that starts `rest`: up to the next hunk, file or summary. A blank line
/// is an unchanged blank line of the files unless it separates two files, or the last file from
/// the summary.
fn hunk_lines<'a>(rest: &[&'a str]) -> Vec<&'a str> {
    let ends_a_file = |next: Option<&&str>| {
        next.is_none_or(|line| {
            line.starts_with("--- ")
                || line.starts_with("only in ")
                || line.ends_with(" differ.")
                || line.ends_with(" differs.")
        })
    };
    let mut hunk = Vec::new();
    for (at, line) in rest.iter().enumerate() {
        let blank_context = line.is_empty() && !ends_a_file(rest.get(at + 1));
        let changed = line.starts_with([' ', '-', '+', '\\']) && !line.starts_with("--- ");
        if line.starts_with("@@") || !(blank_context || changed) {
            break;
        }
        hunk.push(*line);
    }
    hunk
}
