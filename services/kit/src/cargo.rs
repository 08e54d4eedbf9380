//! Handing over to cargo: to run the app, and to run the tests.
//!
//! On Unix the kit *becomes* cargo (`exec`), and cargo becomes the app: Ctrl-C then reaches the
//! app itself, which stops gracefully, and the exit status is the app's.

use std::process::{Command, ExitCode};

use anyhow::Context;

use crate::launch;
use crate::prebuild;
use crate::project::{CHECKER_PACKAGE, EXPLORER_PACKAGE, Project};

/// `./run.sh [--no-explorer]`: step 00, the app before any telemetry.
pub fn run_app(project: &Project, explorer: bool) -> anyhow::Result<ExitCode> {
    let mut args = vec!["00".to_string()];
    if !explorer {
        args.push("--no-explorer".into());
    }
    run_step(project, &args)
}

/// `./run.sh NN [--solution] [--no-explorer]`: a step's exercise or solution, and the explorer
/// from step 01 on; then, in the background, what comes next ([`prebuild`]).
pub fn run_step(project: &Project, args: &[String]) -> anyhow::Result<ExitCode> {
    let step = steps::find(&project.root, &args[0])?;
    let (solution, mut explorer) = launch::step_options(args)?;
    let package = if solution {
        step.solution_package().with_context(|| {
            format!(
                "step {} has nothing to solve, so no solution: run ./run.sh {}",
                step.id(),
                step.id()
            )
        })?
    } else {
        step.exercise_package()
    };
    eprintln!("Step {}: {package}.", step.id());
    if step.number == 0 && explorer {
        eprintln!(
            "Step 00 sends no telemetry yet, so the trace explorer starts from step 01 on (it is \
             built in the background meanwhile)."
        );
        explorer = false;
    }
    let ahead = prebuild::plan(&project.root, step.number);
    launch::app_with_explorer(project, &package, explorer, &ahead)
}

/// `./run.sh explorer …`: the explorer alone (e.g. for an app started some other way).
pub fn explorer(project: &Project, args: &[String]) -> anyhow::Result<ExitCode> {
    project.load_env_file()?;
    explorer_with(project, args, &[])
}

/// The explorer with settings of its own on top of the environment (`./run.sh room`).
pub fn explorer_with(
    project: &Project,
    args: &[String],
    env: &[(&str, String)],
) -> anyhow::Result<ExitCode> {
    prebuild::note_if_running(project);
    let mut command = cargo_run(project, EXPLORER_PACKAGE, "the trace explorer");
    command.args(args);
    command.envs(env.iter().map(|(name, value)| (name, value)));
    hand_over(command)
}

/// `./run.sh load …`: the load generator, against the app at `APP_PORT` unless told otherwise.
pub fn load(project: &Project, args: &[String]) -> anyhow::Result<ExitCode> {
    project.load_env_file()?;
    let mut command = cargo_run(project, "loadgen", "the load generator");
    command.args(args);
    if std::env::var_os("LOAD_URL").is_none() {
        let port = std::env::var("APP_PORT").unwrap_or_else(|_| "8090".into());
        command.env("LOAD_URL", format!("http://127.0.0.1:{port}"));
    }
    hand_over(command)
}

/// `./run.sh test`: every test of the workspace. Tests run hermetically: they do not read `.env`.
pub fn test(project: &Project, args: &[String]) -> anyhow::Result<ExitCode> {
    let mut command = project.cargo();
    command.args(["test", "--workspace"]).args(args);
    hand_over(command)
}

/// `./run.sh check …` and `./run.sh puzzle …`: the checker, a program of its own (it brings an
/// OTLP receiver, which the app's first start should not wait for).
pub fn checker(project: &Project, command: &str, args: &[String]) -> anyhow::Result<ExitCode> {
    prebuild::note_if_running(project);
    let mut cargo = cargo_run(project, CHECKER_PACKAGE, "the checker");
    cargo.arg(command).args(args);
    hand_over(cargo)
}

/// `cargo run --package <package> --`, quiet once the program is built: cargo's own lines would
/// only be noise before its output. The first time, it says what is being built.
fn cargo_run(project: &Project, package: &str, what: &str) -> Command {
    let mut cargo = project.cargo();
    cargo.arg("run");
    if project.target_dir().join("debug").join(package).exists() {
        cargo.arg("--quiet");
    } else {
        eprintln!("Building {what}, once (a minute or two)…");
    }
    cargo.args(["--package", package, "--"]);
    cargo
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
