//! The ladder's steps on disk: every exercise is its previous step's solution plus `TODO(NN)`
//! hints, and differs from its own solution only in those places. `cargo test -p kit --test steps`.

use std::path::{Path, PathBuf};

use kit::drift;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

#[test]
fn every_exercise_is_the_previous_solution_plus_hints_and_differs_from_its_solution_only_there() {
    let root = repo_root();
    let steps = steps::all(&root).unwrap();
    assert!(steps.len() >= 2, "{steps:?}");
    for step in &steps {
        let problems = drift::check(&root, step).unwrap();
        assert!(
            problems.is_empty(),
            "step {} drifted:\n  {}",
            step.id(),
            problems.join("\n  ")
        );
    }
}

/// A copy of the kit's `exercises/` and `solutions/`, to break on purpose.
fn copy_of_the_steps() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let (from, to) = (entry.path(), to.join(entry.file_name()));
            if entry.file_type().unwrap().is_dir() {
                copy(&from, &to);
            } else {
                std::fs::copy(&from, &to).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    for part in ["exercises", "solutions"] {
        copy(&repo_root().join(part), &dir.path().join(part));
    }
    dir
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} lacks {from:?}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

fn drift_of_step_01(root: &Path) -> Vec<String> {
    let step = steps::find(root, "01").unwrap();
    drift::check(root, &step).unwrap()
}

#[test]
fn a_change_outside_the_todo_places_is_caught() {
    let copy = copy_of_the_steps();
    let server = copy.path().join("solutions/01-stdout/src/server.rs");
    edit(
        &server,
        "client: sequence::net::client(config)?,",
        "client: reqwest::Client::new(),",
    );
    let problems = drift_of_step_01(copy.path());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("outside any TODO(01) place")
                && p.contains("sequence::net::client(config)")),
        "{problems:#?}"
    );
}

#[test]
fn an_exercise_that_changes_code_instead_of_adding_hints_is_caught() {
    let copy = copy_of_the_steps();
    let main = copy.path().join("exercises/01-stdout/src/main.rs");
    edit(&main, "println!(\"Stopped.\");", "println!(\"Stopped!\");");
    let problems = drift_of_step_01(copy.path());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("only adds TODO(01) hints")),
        "{problems:#?}"
    );
}

#[test]
fn an_exercise_without_hints_or_with_stray_markers_is_caught() {
    let copy = copy_of_the_steps();
    let exercise = copy.path().join("exercises/01-stdout/src");
    for file in ["main.rs", "server.rs", "telemetry.rs"] {
        let path = exercise.join(file);
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("TODO(01)", "TODO(02)");
        std::fs::write(&path, text).unwrap();
    }
    let problems = drift_of_step_01(copy.path());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("nothing for the learner to do")),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("stray marker")),
        "{problems:#?}"
    );
}

#[test]
fn the_slides_region_markers_belong_in_solutions_and_are_not_compared() {
    let copy = copy_of_the_steps();
    // A marker added, or moved, in a solution is no drift: the slides take code from there.
    let solution = copy.path().join("solutions/01-stdout/src/telemetry.rs");
    edit(&solution, "    // ANCHOR: provider\n", "");
    edit(
        &solution,
        "pub fn init_traces()",
        "// ANCHOR: provider\npub fn init_traces()",
    );
    assert_eq!(drift_of_step_01(copy.path()), Vec::<String>::new());
    // In an exercise, one is refused: learners do not see the slides' plumbing.
    let exercise = copy.path().join("exercises/01-stdout/src/server.rs");
    edit(&exercise, "pub fn app(", "// ANCHOR: app\npub fn app(");
    let problems = drift_of_step_01(copy.path());
    assert!(
        problems
            .iter()
            .any(|p| p.contains("server.rs") && p.contains("belongs in the solution only")),
        "{problems:#?}"
    );
}

#[test]
fn a_todo_or_a_hints_md_that_spells_out_the_solutions_code_is_caught() {
    let copy = copy_of_the_steps();
    let main = copy.path().join("exercises/01-stdout/src/main.rs");
    // A TODO may name the items to look up, and say what to achieve...
    edit(
        &main,
        "//   above (your `telemetry::shutdown`)",
        "//   above (your `telemetry::shutdown`, `SdkTracerProvider::shutdown`)",
    );
    assert_eq!(drift_of_step_01(copy.path()), Vec::<String>::new());
    // ...but not write the solution's line for the learner, whole or in backquotes.
    edit(
        &main,
        "//   above (your `telemetry::shutdown`",
        "//   above (`telemetry::shutdown(tracer_provider).await;`",
    );
    let hints = copy.path().join("exercises/01-stdout/HINTS.md");
    edit(
        &hints,
        "## 2. The API\n",
        "## 2. The API\n\n```rust\n    let tracer_provider = telemetry::init_traces();\n```\n",
    );
    let problems = drift_of_step_01(copy.path());
    assert!(
        problems.iter().any(|p| p.starts_with("exercises/01-stdout/src/main.rs:")
            && p.contains("the TODO(01) hint spells out the solution's line \"telemetry::shutdown(tracer_provider).await\"")
            && p.ends_with("./run.sh hint 01")),
        "{problems:#?}"
    );
    assert!(
        problems.iter().any(|p| p.starts_with("exercises/01-stdout/HINTS.md:")
            && p.contains("spells out the solution's line \"let tracer_provider = telemetry::init_traces()\"")),
        "{problems:#?}"
    );
    assert_eq!(problems.len(), 2, "{problems:#?}");
}

#[test]
fn a_step_without_its_hints_md_or_with_a_level_missing_is_caught() {
    let copy = copy_of_the_steps();
    let hints = copy.path().join("exercises/01-stdout/HINTS.md");
    let text = std::fs::read_to_string(&hints).unwrap();
    std::fs::write(&hints, &text[..text.find("\n## 2. The API").unwrap()]).unwrap();
    assert_eq!(
        drift_of_step_01(copy.path()),
        ["exercises/01-stdout/HINTS.md: no \"## 2. The API\" heading"]
    );
    std::fs::remove_file(&hints).unwrap();
    let problems = drift_of_step_01(copy.path());
    assert!(
        problems.len() == 1
            && problems[0].starts_with("exercises/01-stdout/HINTS.md: missing (")
            && problems[0].ends_with("it holds what `./run.sh hint 01` shows before the code"),
        "{problems:#?}"
    );
}

#[test]
fn a_manifest_that_differs_from_the_solution_is_caught() {
    let copy = copy_of_the_steps();
    edit(
        &copy.path().join("exercises/01-stdout/Cargo.toml"),
        "otelkit.workspace = true\n",
        "",
    );
    let problems = drift_of_step_01(copy.path());
    assert!(
        problems.iter().any(|p| p.contains("Cargo.toml differs")),
        "{problems:#?}"
    );
}

#[test]
fn package_names_follow_the_folders() {
    let root = repo_root();
    for step in steps::all(&root).unwrap() {
        let manifest = std::fs::read_to_string(step.exercise.join("Cargo.toml")).unwrap();
        let expected = if step.number == 0 {
            "exercise-00-app".to_string()
        } else {
            step.exercise_package()
        };
        assert!(
            manifest.contains(&format!("name = \"{expected}\"")),
            "{}",
            step.exercise.display()
        );
        if let (Some(dir), Some(package)) = (&step.solution, step.solution_package()) {
            let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
            assert!(
                manifest.contains(&format!("name = \"{package}\"")),
                "{}",
                dir.display()
            );
        }
    }
}
