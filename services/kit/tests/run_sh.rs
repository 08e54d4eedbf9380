//! `./run.sh` itself, run as a learner runs it: `cargo test -p kit --test run_sh`.
//!
//! The tests that need cargo run `run.sh` in a copy of the kit's sources in a temporary folder
//! (so that the real `.env` is never touched), building into the workspace's own target folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The workspace's target folder: `CARGO_TARGET_TMPDIR` is `<target>/tmp`.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A copy of the kit's sources (no `target/`, no `.git`, no `.env`) in a temporary folder.
fn copy_of_the_kit() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            if [".git", "target", ".env"].iter().any(|skip| name == *skip) {
                continue;
            }
            let (from, to) = (entry.path(), to.join(&name));
            if entry.file_type().unwrap().is_dir() {
                copy(&from, &to);
            } else {
                std::fs::copy(&from, &to).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&repo_root(), dir.path());
    dir
}

fn run_sh(root: &Path, args: &[&str]) -> Output {
    Command::new("bash")
        .arg(root.join("run.sh"))
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("APP_PORT", "0") // the doctor checks a port; 0 is always free
        .output()
        .expect("bash runs")
}

fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn an_unknown_command_prints_the_usage_and_fails() {
    let kit = copy_of_the_kit();
    let output = run_sh(kit.path(), &["bulid"]);
    let text = printed(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("unrecognized subcommand 'bulid'"), "{text}");
    assert!(text.contains("Usage: ./run.sh [COMMAND]"), "{text}");
    assert!(
        !kit.path().join(".env").exists(),
        "a mistyped command changes nothing"
    );
}

#[test]
fn the_first_run_creates_env_from_the_example_and_the_doctor_passes() {
    let kit = copy_of_the_kit();
    let env_file = kit.path().join(".env");
    assert!(!env_file.exists());

    let output = run_sh(kit.path(), &["doctor"]);
    let text = printed(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("Created .env from .env.example"), "{text}");
    assert_eq!(
        std::fs::read_to_string(&env_file).unwrap(),
        std::fs::read_to_string(kit.path().join(".env.example")).unwrap()
    );
    assert!(
        text.contains("✓ Rust") && text.contains("✓ app port"),
        "{text}"
    );

    // The second run keeps the learner's .env as it is, and never prints a secret from it.
    std::fs::write(
        &env_file,
        "FIB_MAX_INDEX=12\nHONEYCOMB_API_KEY=hunter2-secret\n",
    )
    .unwrap();
    let output = run_sh(kit.path(), &["doctor"]);
    let text = printed(&output);
    assert!(output.status.success(), "{text}");
    assert!(!text.contains("Created .env"), "{text}");
    assert!(
        text.contains("FIB_MAX_INDEX=12") && text.contains("HONEYCOMB_API_KEY=(set, hidden)"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "a secret was printed: {text}");
}

#[test]
fn the_doctor_names_the_fix_for_a_bad_setting() {
    let kit = copy_of_the_kit();
    std::fs::write(kit.path().join(".env"), "FIB_MAX_INDEX=99\n").unwrap();
    let output = run_sh(kit.path(), &["doctor"]);
    let text = printed(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("✗ app port") && text.contains("FIB_MAX_INDEX") && text.contains("fix:"),
        "{text}"
    );
}

#[test]
fn without_cargo_it_says_how_to_install_rust() {
    // A PATH with only what run.sh needs before cargo (`dirname`), and a HOME without ~/.cargo.
    let empty_home = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let dirname = ["/usr/bin/dirname", "/bin/dirname"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap();
    std::os::unix::fs::symlink(dirname, bin.path().join("dirname")).unwrap();
    let output = Command::new("/bin/bash")
        .arg(repo_root().join("run.sh"))
        .env_clear()
        .env("PATH", bin.path())
        .env("HOME", empty_home.path())
        .output()
        .unwrap();
    let text = printed(&output);
    assert_eq!(output.status.code(), Some(127), "{text}");
    assert!(
        text.contains("cargo (Rust) is not installed") && text.contains("https://rustup.rs"),
        "{text}"
    );
}

#[test]
fn diff_check_and_puzzle_are_run_sh_commands() {
    let root = repo_root();
    let output = run_sh(&root, &["diff", "02"]);
    assert!(output.status.success(), "{}", printed(&output));
    assert!(printed(&output).starts_with("Step 02 · otlp: your copy (exercises/02-otlp)"));

    // `check` and `puzzle` hand over to the checker, arguments and exit status included.
    let output = run_sh(&root, &["check", "01", "--solution"]);
    assert!(output.status.success(), "{}", printed(&output));
    assert!(
        printed(&output).contains("Step 01 done"),
        "{}",
        printed(&output)
    );
    let output = run_sh(&root, &["puzzle", "9", "x"]);
    assert_eq!(output.status.code(), Some(2), "{}", printed(&output));
    assert!(printed(&output).contains("three puzzles"));
}
