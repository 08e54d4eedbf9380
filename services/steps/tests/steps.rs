//! The steps as the folders say, and a step found by the name a learner types.
//! `cargo test -p steps`.

use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A kit of its own with the given step folders, each holding nothing.
fn fake_kit(folders: &[&str]) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for folder in ["exercises", "solutions"].iter().chain(folders) {
        std::fs::create_dir_all(root.path().join(folder)).unwrap();
    }
    root
}

#[test]
fn the_real_steps_are_numbered_from_00_and_each_after_00_has_a_solution() {
    let steps = steps::all(&repo_root()).unwrap();
    let ids: Vec<String> = steps.iter().map(steps::Step::id).collect();
    assert_eq!(ids[..3], ["00", "01", "02"], "{ids:?}");
    assert!(steps[0].solution.is_none(), "{:?}", steps[0]);
    assert_eq!(steps[0].exercise_package(), "exercise-00-app");
    for step in &steps[1..] {
        assert!(step.solution.is_some(), "{step:?}");
    }
}

#[test]
fn a_step_is_found_by_its_number_with_or_without_zero_or_topic() {
    let root = repo_root();
    for name in ["1", "01", "01-stdout"] {
        let step = steps::find(&root, name).unwrap();
        assert_eq!(step.id(), "01");
        assert_eq!(step.topic, "stdout");
        assert_eq!(step.exercise_package(), "exercise-01-stdout");
        assert_eq!(
            step.solution_package().as_deref(),
            Some("solution-01-stdout")
        );
    }
    let error = steps::find(&root, "42").unwrap_err().to_string();
    assert!(error.contains("there is no step \"42\""), "{error}");
    assert!(error.contains("00, 01, 02"), "{error}");
}

#[test]
fn an_exercise_without_its_solution_or_a_solution_without_its_exercise_is_an_error() {
    let root = fake_kit(&["exercises/00-app", "exercises/01-x"]);
    let error = steps::all(root.path()).unwrap_err().to_string();
    assert_eq!(error, "exercises/01-x has no solutions/01-x");

    let root = fake_kit(&["exercises/00-app", "solutions/02-y"]);
    let error = steps::all(root.path()).unwrap_err().to_string();
    assert_eq!(error, "solutions/02-y has no exercises/02-y");
}

#[test]
fn folders_that_are_not_nn_topic_are_not_steps() {
    let root = fake_kit(&[
        "exercises/00-app",
        "exercises/notes",
        "exercises/1-short",
        "exercises/01-x",
        "solutions/01-x",
    ]);
    std::fs::write(root.path().join("exercises/02-file"), "not a folder").unwrap();
    let steps = steps::all(root.path()).unwrap();
    let ids: Vec<String> = steps.iter().map(steps::Step::id).collect();
    assert_eq!(ids, ["00", "01"]);
}
