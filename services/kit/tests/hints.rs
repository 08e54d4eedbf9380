//! `./run.sh hint NN`: the levels of every step, the command as a learner runs it, and the
//! docs.rs links of the hints, which must name the versions in Cargo.lock.
//! `cargo test -p kit --test hints`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kit::diff::Style;
use kit::hint::{self, LEVELS};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A kit of its own, as `Project::find` knows one (`run.sh`, `.env.example`), with step 00 and
/// one step, `01-x`, whose exercise starts from step 00's code.
fn fake_kit() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let files = [
        ("run.sh", "#!/usr/bin/env bash\n"),
        (".env.example", "APP_PORT=8090\n"),
        (".env", "APP_PORT=8090\n"),
        (
            "exercises/00-app/src/main.rs",
            "fn main() {\n    serve();\n}\n",
        ),
        (
            "exercises/01-x/src/main.rs",
            "fn main() {\n    // TODO(01): greet the room first.\n    serve();\n}\n",
        ),
        (
            "exercises/01-x/HINTS.md",
            "# Step 01: hints\n\n## 1. The idea\n\nSay hello.\n\n## 2. The API\n\n`println!`.\n",
        ),
        (
            "solutions/01-x/src/main.rs",
            "fn main() {\n    println!(\"hello\");\n    serve();\n}\n",
        ),
    ];
    for (path, content) in files {
        let path = root.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    root
}

/// `./run.sh hint …` in the kit at `root`, as a pipe gets it.
fn hint(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kit"))
        .current_dir(root)
        .arg("hint")
        .args(args)
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("the kit runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn each_hint_shows_one_level_more_then_the_last_again_and_reset_starts_over() {
    let kit = fake_kit();
    let first = hint(kit.path(), &["01"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let text = stdout(&first);
    assert!(
        text.starts_with("Step 01 · x: hint 1 of 3, the idea\n\nSay hello.\n"),
        "{text}"
    );
    assert!(
        text.ends_with(
            "2 levels more: ./run.sh hint 01 again shows the API items, with links to their docs.\n"
        ),
        "{text}"
    );
    assert_eq!(stderr(&first), "", "no note when all is well");

    // `1` is step 01, as for `./run.sh check` and `./run.sh diff`.
    let text = stdout(&hint(kit.path(), &["1"]));
    assert!(
        text.starts_with("Step 01 · x: hint 2 of 3, the API\n\n`println!`.\n"),
        "{text}"
    );
    assert!(
        text.ends_with("One level more: ./run.sh hint 01 again shows the solution's code.\n"),
        "{text}"
    );

    // The code comes from the solutions: step 00's code → solution 01, at the TODO's place.
    let text = stdout(&hint(kit.path(), &["01-x"]));
    assert!(
        text.starts_with("Step 01 · x: hint 3 of 3, the code\n\n"),
        "{text}"
    );
    for line in [
        "--- exercises/00-app/src/main.rs",
        "+++ solutions/01-x/src/main.rs",
        " fn main() {",
        "+    println!(\"hello\");",
        "     serve();",
    ] {
        assert!(text.lines().any(|l| l == line), "no {line:?} in:\n{text}");
    }
    assert!(
        !text.contains("greet the room"),
        "the TODO is no part of the code:\n{text}"
    );
    assert!(text.contains("That was the last level."), "{text}");
    assert!(text.contains("./run.sh diff 01"), "{text}");
    assert!(!text.contains("Asked again"), "{text}");

    let again = stdout(&hint(kit.path(), &["01"]));
    assert!(
        again.contains("(Asked again: all 3 levels are shown, and this one is the last.)"),
        "{again}"
    );
    assert!(again.contains("+    println!(\"hello\");"), "{again}");

    let file = kit.path().join("target/workshop/hints.json");
    let kept: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(kept, serde_json::json!({"01": 3}));

    let reset = hint(kit.path(), &["01", "--reset"]);
    assert!(reset.status.success(), "{}", stderr(&reset));
    assert_eq!(
        stdout(&reset),
        "Step 01's hints start again from the first level: ./run.sh hint 01\n"
    );
    let text = stdout(&hint(kit.path(), &["01"]));
    assert!(text.starts_with("Step 01 · x: hint 1 of 3"), "{text}");
}

#[test]
fn a_step_that_does_not_exist_or_has_no_hints_is_a_clear_error() {
    let kit = fake_kit();
    for (step, error) in [
        (
            "99",
            "error: there is no step \"99\"; the steps are 00, 01\n",
        ),
        (
            "abc",
            "error: there is no step \"abc\"; the steps are 00, 01\n",
        ),
        (
            "0",
            "error: step 00 has no hints: there is nothing to write in it (exercises/00-app is \
             the app as it is: read it and run it); the steps with hints are 01\n",
        ),
    ] {
        let output = hint(kit.path(), &[step]);
        assert_eq!(output.status.code(), Some(1), "{step}");
        assert_eq!(stderr(&output), error);
        assert_eq!(stdout(&output), "");
    }
    let output = hint(kit.path(), &[]);
    assert_eq!(output.status.code(), Some(2), "clap's usage error");
    assert!(stderr(&output).contains("<STEP>"), "{}", stderr(&output));
    assert!(
        !kit.path().join("target").exists(),
        "no level is remembered for a hint not shown"
    );

    std::fs::remove_file(kit.path().join("exercises/01-x/HINTS.md")).unwrap();
    let output = hint(kit.path(), &["01"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).starts_with("error: could not read exercises/01-x/HINTS.md"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_damaged_progress_file_is_left_as_it_is_and_the_note_says_what_to_do() {
    let kit = fake_kit();
    let file = kit.path().join("target/workshop/hints.json");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let damaged = "{\"01\": 2, \"03\": ";
    std::fs::write(&file, damaged).unwrap();
    for _ in 0..2 {
        let output = hint(kit.path(), &["01"]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(stdout(&output).starts_with("Step 01 · x: hint 1 of 3"));
        let note = stderr(&output);
        assert!(
            note.contains("note: target/workshop/hints.json keeps which hints were shown, but it is damaged (not JSON: "),
            "{note}"
        );
        assert!(
            note.contains(
                "It is left as it is, and no level is remembered until it is mended or deleted"
            ),
            "{note}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), damaged);
    }
    let output = hint(kit.path(), &["01", "--reset"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("nothing was reset. Delete it to start every step's hints"),
        "{}",
        stderr(&output)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), damaged);

    // Deleted, as the note says: the levels count again.
    std::fs::remove_file(&file).unwrap();
    hint(kit.path(), &["01"]);
    let text = stdout(&hint(kit.path(), &["01"]));
    assert!(text.starts_with("Step 01 · x: hint 2 of 3"), "{text}");
}

#[test]
fn every_step_with_a_solution_has_its_three_levels_and_the_last_is_its_solutions_code() {
    let root = repo_root();
    let progress = tempfile::tempdir().unwrap();
    let file = progress.path().join("hints.json");
    let steps = steps::all(&root).unwrap();
    assert!(steps.iter().filter(|s| s.solution.is_some()).count() >= 8);
    for step in steps.iter().filter(|step| step.solution.is_some()) {
        let levels: Vec<String> = (0..LEVELS)
            .map(|_| {
                let reply = hint::ask(&root, &file, step, Style::Plain).unwrap();
                assert!(reply.notes.is_empty(), "{:?}", reply.notes);
                reply.text
            })
            .collect();
        for (n, text) in levels.iter().enumerate() {
            let heading = format!("Step {} · {}: hint {} of 3", step.id(), step.topic, n + 1);
            assert!(text.starts_with(&heading), "{text}");
        }
        let code = &levels[LEVELS - 1];
        let solution = format!("+++ solutions/{}-{}/src/", step.id(), step.topic);
        assert!(code.contains(&solution), "{code}");
        assert!(
            code.lines().filter(|line| line.starts_with('+')).count() > 1,
            "{code}"
        );
        let diff_lines = code.lines().skip_while(|line| !line.starts_with("--- "));
        for line in diff_lines {
            assert!(
                !line.contains("TODO("),
                "a hint in the code: {line:?}\n{code}"
            );
            assert!(
                !line.contains("ANCHOR"),
                "a slides' marker in the code: {line:?}"
            );
        }
    }
}

/// The versions of each crate in Cargo.lock.
fn lock_versions() -> BTreeMap<String, BTreeSet<String>> {
    let lock: toml::Table = std::fs::read_to_string(repo_root().join("Cargo.lock"))
        .unwrap()
        .parse()
        .unwrap();
    let mut versions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for package in lock["package"].as_array().unwrap() {
        let name = package["name"].as_str().unwrap().to_string();
        let version = package["version"].as_str().unwrap().to_string();
        versions.entry(name).or_default().insert(version);
    }
    versions
}

/// Every `https://docs.rs/…` link in `text`, with its line number.
fn docs_rs_links(text: &str) -> Vec<(usize, String)> {
    let mut links = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("https://docs.rs/") {
            let link: String = rest[at..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !"()<>`\"'[]".contains(*c))
                .collect();
            rest = &rest[at + link.len()..];
            links.push((
                n + 1,
                link.trim_end_matches(['.', ',', ';', ':']).to_string(),
            ));
        }
    }
    links
}

/// What is wrong with one docs.rs link, if anything: it must name a crate of Cargo.lock, the
/// version Cargo.lock has (or a `{placeholder}` that code fills in), and the crate's library as
/// its first path segment. A link to a
/// crate's page without a version (`https://docs.rs/tracing`) is let through only where
/// `versioned` is false.
fn link_problem(
    link: &str,
    versions: &BTreeMap<String, BTreeSet<String>>,
    versioned: bool,
) -> Option<String> {
    let path = link.strip_prefix("https://docs.rs/").unwrap();
    let parts: Vec<&str> = path.split('/').collect();
    let krate = parts[0];
    let known = versions
        .get(krate)
        .or_else(|| versions.get(&krate.replace('_', "-")))
        .or_else(|| versions.get(&krate.replace('-', "_")));
    let Some(known) = known else {
        return Some(format!("{krate} is not in Cargo.lock"));
    };
    let Some(version) = parts.get(1).filter(|v| !v.is_empty()) else {
        return versioned.then(|| format!("names no version; Cargo.lock has {known:?}"));
    };
    // `{version}`: a link that code fills in, from Cargo.lock itself (the checker's build hints).
    let filled_in = version.starts_with('{') && version.ends_with('}');
    if !known.contains(*version) && !filled_in {
        return Some(format!("names {krate} {version}; Cargo.lock has {known:?}"));
    }
    match parts.get(2) {
        Some(library) if *library == krate.replace('-', "_") => None,
        Some(library) => Some(format!(
            "the path starts with {library:?}, not the crate's library {:?}",
            krate.replace('-', "_")
        )),
        None => None,
    }
}

/// The files the hints are in: every file of `exercises/` (the `TODO(NN)` comments, `HINTS.md`,
/// the READMEs) and the checker's hint texts.
fn hint_files(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                if entry.file_name() != "target" {
                    walk(&path, found);
                }
            } else {
                found.push(path);
            }
        }
    }
    let mut found = Vec::new();
    walk(&root.join("exercises"), &mut found);
    walk(&root.join("services/checker/src"), &mut found);
    found
}

#[test]
fn every_docs_rs_link_in_the_hints_names_the_version_in_cargo_lock() {
    let root = repo_root();
    let versions = lock_versions();
    let mut problems = Vec::new();
    let mut count = 0;
    for file in hint_files(&root) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (line, link) in docs_rs_links(&text) {
            count += 1;
            if let Some(problem) = link_problem(&link, &versions, true) {
                let file = file.strip_prefix(&root).unwrap().display();
                problems.push(format!("{file}:{line}: {link}: {problem}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        count >= 40,
        "only {count} docs.rs links: is the search broken?"
    );
}

#[test]
fn a_docs_rs_link_of_another_version_or_none_is_told() {
    let versions = BTreeMap::from([
        (
            "opentelemetry".to_string(),
            BTreeSet::from(["0.33.1".to_string()]),
        ),
        (
            "opentelemetry-otlp".to_string(),
            BTreeSet::from(["0.33.1".to_string()]),
        ),
    ]);
    let problem = |link: &str| link_problem(link, &versions, true);
    assert_eq!(
        problem("https://docs.rs/opentelemetry/0.33.1/opentelemetry/trace/trait.Tracer.html"),
        None
    );
    assert_eq!(
        problem("https://docs.rs/opentelemetry-otlp/0.33.1/opentelemetry_otlp/"),
        None
    );
    assert!(
        problem("https://docs.rs/opentelemetry/0.32.0/opentelemetry/")
            .unwrap()
            .contains("names opentelemetry 0.32.0; Cargo.lock has {\"0.33.1\"}")
    );
    assert!(
        problem("https://docs.rs/opentelemetry/latest/opentelemetry/")
            .unwrap()
            .contains("names opentelemetry latest")
    );
    assert_eq!(
        problem("https://docs.rs/opentelemetry/{version}/opentelemetry/"),
        None
    );
    assert!(
        problem("https://docs.rs/opentelemetry")
            .unwrap()
            .contains("names no version")
    );
    assert_eq!(
        link_problem("https://docs.rs/opentelemetry", &versions, false),
        None
    );
    assert!(
        problem("https://docs.rs/opentelemetry-otlp/0.33.1/opentelemetry-otlp/")
            .unwrap()
            .contains("not the crate's library \"opentelemetry_otlp\"")
    );
    assert!(
        problem("https://docs.rs/tokio/1.0.0/tokio/")
            .unwrap()
            .contains("tokio is not in Cargo.lock")
    );
    let text = "see https://docs.rs/a/1.0/a/ (and `https://docs.rs/b/2.0/b/x.html#method.y`).\n";
    assert_eq!(
        docs_rs_links(text),
        [
            (1, "https://docs.rs/a/1.0/a/".to_string()),
            (1, "https://docs.rs/b/2.0/b/x.html#method.y".to_string())
        ]
    );
}

#[test]
fn a_versioned_docs_rs_link_anywhere_in_the_kit_names_the_version_in_cargo_lock() {
    // READMEs, slides and the services' docs may link a crate's page without a version; a
    // version they name must be Cargo.lock's.
    let root = repo_root();
    let versions = lock_versions();
    let mut problems = Vec::new();
    let files = ["README.md", "slides", "solutions", "services", "collector"];
    let mut found = Vec::new();
    fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            if dir.is_file() {
                found.push(dir.to_path_buf());
            }
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if ["target", "node_modules", "dist", ".git"]
                .iter()
                .any(|n| name == *n)
            {
                continue;
            }
            walk(&entry.path(), found);
        }
    }
    for part in files {
        walk(&root.join(part), &mut found);
    }
    // This file's own examples of bad links aside.
    let this_file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/hints.rs")
        .canonicalize()
        .unwrap();
    for file in found.into_iter().filter(|file| *file != this_file) {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (line, link) in docs_rs_links(&text) {
            if let Some(problem) = link_problem(&link, &versions, false) {
                let file = file.strip_prefix(&root).unwrap().display();
                problems.push(format!("{file}:{line}: {link}: {problem}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
