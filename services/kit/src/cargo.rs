//! Handing over to cargo: to run the app, and to run the tests.
//!
//! On Unix the kit *becomes* cargo (`exec`), and cargo becomes the app: Ctrl-C then reaches the
//! app itself, which stops gracefully, and the exit status is the app's.

use std::process::{Command, ExitCode};

use anyhow::{Context, bail};

use crate::project::{APP_PACKAGE, Project};

/// `./run.sh`: builds and starts the app; the app prints its URL once it listens.
pub fn run_app(project: &Project) -> anyhow::Result<ExitCode> {
    project.load_env_file()?;
    eprintln!(
        "Building and starting the app ({APP_PACKAGE}). The first build takes a minute or two; \
         after that, a few seconds."
    );
    let mut command = cargo(project);
    command.args(["run", "--package", APP_PACKAGE]);
    hand_over(command)
}

/// `./run.sh NN [--solution]`: builds and starts a step's exercise, or its solution.
pub fn run_step(project: &Project, args: &[String]) -> anyhow::Result<ExitCode> {
    let step = kit::steps::find(&project.root, &args[0])?;
    let package = match args.get(1).map(String::as_str) {
        None => step.exercise_package(),
        Some("--solution") => step.solution_package().with_context(|| {
            format!(
                "step {} has nothing to solve, so no solution: run ./run.sh {}",
                step.id(),
                step.id()
            )
        })?,
        Some(other) => bail!(
            "./run.sh {} takes --solution or nothing, not {other:?}",
            step.id()
        ),
    };
    project.load_env_file()?;
    eprintln!("Building and starting {package} (step {}).", step.id());
    let mut command = cargo(project);
    command.args(["run", "--package", &package]);
    hand_over(command)
}

/// `./run.sh test`: every test of the workspace. Tests run hermetically: they do not read `.env`.
pub fn test(project: &Project, args: &[String]) -> anyhow::Result<ExitCode> {
    let mut command = cargo(project);
    command.args(["test", "--workspace"]).args(args);
    hand_over(command)
}

/// `./run.sh check …` and `./run.sh puzzle …`: the checker, a program of its own (it brings an
/// OTLP receiver, which the app's first start should not wait for).
pub fn checker(project: &Project, command: &str, args: &[String]) -> anyhow::Result<ExitCode> {
    let mut cargo = cargo(project);
    cargo.arg("run");
    // Once the checker is built, cargo's own lines would only be noise before its report.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| project.root.join("target"));
    if target.join("debug/checker").exists() {
        cargo.arg("--quiet");
    } else {
        eprintln!("Building the checker, once (a minute or two)…");
    }
    cargo
        .args(["--package", "checker", "--", command])
        .args(args);
    hand_over(cargo)
}

pub fn cargo(project: &Project) -> Command {
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(&project.root);
    command
}

#[cfg(unix)]
fn hand_over(mut command: Command) -> anyhow::Result<ExitCode> {
    use std::os::unix::process::CommandExt;
    let err = command.exec(); // returns only if cargo could not be started
    anyhow::bail!("could not start cargo: {err}")
}

#[cfg(not(unix))]
fn hand_over(mut command: Command) -> anyhow::Result<ExitCode> {
    let status = command.status()?;
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}
