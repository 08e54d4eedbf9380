//! Building ahead: once the app is up, the kit builds in the background what comes next.
//!
//! A learner's first `./run.sh` should show the app's URL as soon as the app is built, not after
//! the trace explorer and the checker too. So `./run.sh NN` builds only what it starts; then, while
//! the learner reads the page and the step, the kit builds, one after the other:
//! 1. the trace explorer (step 00 does not start it: it sends no telemetry);
//! 2. the next step's exercise, with the crates it adds (OpenTelemetry at step 01, TLS at 05);
//! 3. the checker, so that the first `./run.sh check NN` only checks.
//!
//! Each is a plain `cargo build --package …`, as `./run.sh NN` and `./run.sh check NN` run it, so
//! that their builds find it done; at the lowest priority (`nice -n 19`), so that the app and the
//! learner's own builds come first. It runs in a process group of its own, which a Ctrl-C in the
//! terminal does not reach: stopping the app does not lose the work. Its output goes to
//! `target/kit/prebuild.log`; one runs at a time (`target/kit/prebuild.pid`). A build the learner
//! starts meanwhile waits for cargo's lock, and the kit says so first.
//!
//! `KIT_PREBUILD=0` turns it off (the kit's own tests do, and a machine short of memory may).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;

use crate::project::{CHECKER_PACKAGE, EXPLORER_PACKAGE, Project};

/// What to build ahead after starting step `number`, in order.
pub fn plan(root: &Path, number: u32) -> Vec<String> {
    let mut packages = vec![EXPLORER_PACKAGE.to_string()];
    if let Ok(next) = steps::find(root, &(number + 1).to_string()) {
        packages.push(next.exercise_package());
    }
    packages.push(CHECKER_PACKAGE.to_string());
    packages
}

/// Whether `KIT_PREBUILD` leaves building ahead on (it is, unless set to `0`, `off` or `no`).
fn enabled() -> bool {
    !matches!(
        std::env::var("KIT_PREBUILD").as_deref().map(str::trim),
        Ok("0" | "off" | "no" | "false")
    )
}

fn dir(project: &Project) -> PathBuf {
    project.target_dir().join("kit")
}

fn pid_file(project: &Project) -> PathBuf {
    dir(project).join("prebuild.pid")
}

/// The log of the last build ahead.
pub fn log_file(project: &Project) -> PathBuf {
    dir(project).join("prebuild.log")
}

/// The PID of the build ahead that is running now, if one is.
pub fn running(project: &Project) -> Option<u32> {
    let pid: u32 = std::fs::read_to_string(pid_file(project))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (pid != std::process::id() && signals::alive(pid)).then_some(pid)
}

/// Before a build of its own: says that it may wait for the one going on in the background.
pub fn note_if_running(project: &Project) {
    if running(project).is_some() {
        eprintln!(
            "(The kit is building ahead in the background: the explorer, the next step, the \
             checker. This build waits for it, then goes on; what it built is not built again.)"
        );
    }
}

/// Starts building `packages` ahead in the background, unless turned off or already at it.
/// Never fails the caller: building ahead only saves time later.
pub fn start(project: &Project, packages: &[String]) {
    if !enabled() || running(project).is_some() || packages.is_empty() {
        return;
    }
    if let Err(err) = spawn(project, packages) {
        eprintln!(
            "(Could not build ahead in the background: {err:#}. Nothing is lost: what is needed is built when it is.)"
        );
    }
}

fn spawn(project: &Project, packages: &[String]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir(project))?;
    let log = std::fs::File::create(log_file(project))
        .with_context(|| format!("cannot write {}", log_file(project).display()))?;
    let kit = std::env::current_exe().context("cannot find the kit's own binary")?;
    let mut command = Command::new(kit);
    command
        .arg("prebuild")
        .args(packages)
        .current_dir(&project.root)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    // Not waited for: it outlives this run of the kit if it must.
    command.spawn().context("cannot start the kit")?;
    Ok(())
}

/// The hidden `kit prebuild PACKAGE…` that [`start`] runs: each package built in turn.
pub fn run(project: &Project, packages: &[String]) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir(project))?;
    std::fs::write(pid_file(project), std::process::id().to_string())?;
    let result = build_each(project, packages);
    let _ = std::fs::remove_file(pid_file(project));
    result
}

fn build_each(project: &Project, packages: &[String]) -> anyhow::Result<()> {
    for package in packages {
        println!("building ahead: cargo build --package {package}");
        let status = low_priority(project, &["build", "--package", package])
            .status()
            .context("could not start cargo")?;
        // A step the learner is half-way through may not compile: its dependencies are built,
        // which is what saves the time. The next package is built all the same.
        println!("building ahead: {package}: {status}");
    }
    println!("building ahead: done");
    Ok(())
}

/// `cargo ARGS` under `nice -n 19` where `nice` is found, plain otherwise.
fn low_priority(project: &Project, args: &[&str]) -> Command {
    let cargo = project.cargo();
    let nice_found = Command::new("nice")
        .arg("true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !nice_found {
        let mut cargo = cargo;
        cargo.args(args);
        return cargo;
    }
    let mut command = Command::new("nice");
    command
        .args(["-n", "19"])
        .arg(cargo.get_program())
        .args(args)
        .current_dir(&project.root);
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kit_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    #[test]
    fn after_step_00_come_the_explorer_then_step_01_then_the_checker() {
        assert_eq!(
            plan(&kit_root(), 0),
            ["explorer", "exercise-01-stdout", "checker"]
        );
    }

    #[test]
    fn after_the_last_step_there_is_no_next_one() {
        let last = steps::all(&kit_root()).unwrap().last().unwrap().number;
        assert_eq!(plan(&kit_root(), last), ["explorer", "checker"]);
        assert_eq!(
            plan(&kit_root(), 4),
            ["explorer", "exercise-05-hosted", "checker"]
        );
    }
}
