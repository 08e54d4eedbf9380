//! `./run.sh` and `./run.sh NN`: the app and the trace explorer, side by side.
//!
//! In this order:
//! 1. build both (cargo's progress shows; the first build takes a minute or two);
//! 2. start the explorer and wait for the line with its URL, passing its output through. If its
//!    ports are taken (a Collector runs, say), it says so and the app starts anyway: its spans go
//!    to whatever listens there;
//! 3. start the app, whose output goes straight to the terminal;
//! 4. build ahead, in the background, what comes next (`crate::prebuild`), and wait for the app
//!    to stop;
//! 5. then stop the explorer.
//!
//! # Stopping: one Ctrl-C, the app first, the explorer last
//!
//! The app must stop before the explorer, so that its last spans, flushed as it stops, still
//! find the explorer listening. So the explorer runs in a process group of its own: the
//! terminal's Ctrl-C (a SIGINT to its whole foreground group) reaches the kit and the app, not
//! the explorer. The app stops gracefully and flushes; once it has exited, the kit stops the
//! explorer with a SIGTERM (and kills it if it has not within [`EXPLORER_STOP`]). The explorer
//! keeps its spans in memory only: SIGTERM, which it leaves to the system, ends it at once, with
//! nothing lost that stopping would have kept.
//!
//! A SIGINT or SIGTERM that reaches the kit is passed on to the app as a SIGTERM: that is how
//! `kill <the kit's PID>` stops the app. The kit cannot tell whether the app got the terminal's
//! SIGINT too, so after a Ctrl-C the app gets two signals a tenth of a second apart. The app
//! counts them as one press (`sequence::shutdown`: a signal within half a second of the last one
//! is the same Ctrl-C); only a second Ctrl-C, later than that, stops it without waiting. The
//! terminal closing (SIGHUP) is noted the same way, so that the explorer is stopped then too.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use signals::Signal;

use crate::prebuild;
use crate::project::{EXPLORER_PACKAGE, Project};

/// How long the explorer may take to print its URL once built.
const EXPLORER_START: Duration = Duration::from_secs(10);
/// How long the explorer gets to stop after the app has.
const EXPLORER_STOP: Duration = Duration::from_secs(3);

/// Builds `package` (and the explorer unless `explorer` is false), then runs them as above, and
/// builds `ahead` in the background once the app has started.
pub fn app_with_explorer(
    project: &Project,
    package: &str,
    explorer: bool,
    ahead: &[String],
) -> anyhow::Result<ExitCode> {
    project.load_env_file()?;
    prebuild::note_if_running(project);
    if !explorer && std::env::var("ROOM_URL").is_ok_and(|url| !url.trim().is_empty()) {
        eprintln!(
            "You are in a room, but without the explorer nothing goes there: it is your explorer \
             that sends the room a copy (run the step without --no-explorer)."
        );
    }
    eprintln!(
        "Building {}. The first build takes a minute or two; after that, a few seconds.",
        if explorer {
            format!("{package} and the trace explorer")
        } else {
            package.to_string()
        }
    );
    // One build each rather than one for both: built alone, each package gets the same features
    // as when it is built for `./run.sh check` or `./run.sh explorer`, and reuses that build.
    let packages = if explorer {
        vec![EXPLORER_PACKAGE, package]
    } else {
        vec![package]
    };
    for package in packages {
        let status = project
            .cargo()
            .args(["build", "--package", package])
            .status()
            .context("could not start cargo")?;
        if !status.success() {
            return Ok(ExitCode::from(
                status.code().unwrap_or(1).clamp(1, 255) as u8
            ));
        }
    }

    let binaries = project.target_dir().join("debug");
    let mut explorer = match explorer {
        true => start_explorer(&binaries.join(EXPLORER_PACKAGE)),
        false => None,
    };
    let mut app = Command::new(binaries.join(package))
        .current_dir(&project.root)
        .spawn()
        .with_context(|| format!("could not start {package}"))?;
    prebuild::start(project, ahead);
    // Ctrl-C, SIGTERM and SIGHUP are noted, not obeyed: the kit outlives the app, so that it can
    // stop the explorer once the app is done.
    signals::noted::install();
    let status = loop {
        if signals::noted::requested() {
            signals::send(app.id(), Signal::Terminate);
        }
        if let Some(status) = app.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if let Some(explorer) = explorer.as_mut() {
        stop(explorer);
    }
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}

/// Starts the explorer and waits for its first line (its URL, or why it could not start).
/// `None` when it did not start: the app runs without it.
fn start_explorer(binary: &std::path::Path) -> Option<Child> {
    let mut command = Command::new(binary);
    command.stdout(Stdio::piped());
    // A group of its own, out of the terminal's reach: the kit stops it, after the app.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(err) => {
            eprintln!("The trace explorer did not start ({err}); the app starts without it.");
            return None;
        }
    };
    // Its output is passed on line by line, from a thread, for as long as it runs.
    let stdout = child.stdout.take().expect("stdout is piped");
    let (first_line, arrived) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            println!("{line}");
            let _ = first_line.send(());
        }
    });
    let deadline = Instant::now() + EXPLORER_START;
    loop {
        if arrived.recv_timeout(Duration::from_millis(50)).is_ok() {
            return Some(child);
        }
        // It has already said why on stderr (its ports are taken, most likely).
        if let Ok(Some(_)) = child.try_wait() {
            eprintln!(
                "The trace explorer did not start (see above); the app starts anyway, and its \
                 spans go to whatever listens on the OTLP ports."
            );
            return None;
        }
        if Instant::now() > deadline {
            eprintln!("The trace explorer is slow to start; the app starts meanwhile.");
            return Some(child);
        }
    }
}

/// Asks the explorer to stop (SIGTERM), and kills it if it has not within [`EXPLORER_STOP`].
fn stop(explorer: &mut Child) {
    signals::send(explorer.id(), Signal::Terminate);
    let deadline = Instant::now() + EXPLORER_STOP;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = explorer.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = explorer.kill();
    let _ = explorer.wait();
}

/// `./run.sh NN [--solution] [--no-explorer]`: which package, and whether with the explorer.
pub fn step_options(args: &[String]) -> anyhow::Result<(bool, bool)> {
    let (mut solution, mut explorer) = (false, true);
    for arg in &args[1..] {
        match arg.as_str() {
            "--solution" => solution = true,
            "--no-explorer" => explorer = false,
            other => bail!(
                "./run.sh {} takes --solution and --no-explorer, not {other:?}",
                args[0]
            ),
        }
    }
    Ok((solution, explorer))
}
