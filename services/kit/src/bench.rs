//! `./run.sh bench`: the numbers README.md quotes, measured again in one run.
//!
//! 1. `/fib?index=N` latency for N = 5, 10, 12, 15: criterion (`services/bench`) against the
//!    release build, one request at a time; the median of each is read back from criterion's
//!    `estimates.json`.
//! 2. What tracing costs: `/fib?index=12` of solution 04, exporting over OTLP, against the
//!    untraced app, in interleaved rounds (`services/bench/benches/overhead.rs`).
//! 3. Step 06's fix: spans and P99 of `/fib?index=10` and `15` before (solution 05) and after
//!    (solution 06), first request and asked again (`services/bench/benches/fixit.rs`, which
//!    prints its own table).
//! 4. The trace explorer: OTLP/HTTP ingest from the real exporter, queries over a window of a
//!    million spans, memory per span (`services/bench/benches/explorer.rs`, which prints its
//!    own table).
//! 5. The Collector and Jaeger of `docker-compose.yml`, built natively, under a room's load: their
//!    peak memory against compose's `mem_limit`s (`services/bench/benches/stack.rs`; skipped
//!    with a line when `./run.sh stack build` has not run).
//! 6. A classroom's room: the explorer's release binary as `./run.sh room` runs it, 60 learners
//!    sending solution 04's traces as they press Go for 60 s, and the Room page fetched all
//!    along: spans in per second, whose spans were dropped (none under a fair share, the goal),
//!    peak memory against `--max-mib` and the page's P99 (`services/bench/benches/room.rs`,
//!    which prints its own table).
//! 7. Build times: a cold build of the whole workspace, and the rebuild after touching the step's
//!    `main.rs` (median of three);
//! 8. what a newcomer waits for, from an empty target folder (the registry downloaded), in the
//!    order they meet it ([`learner_waits`]): the first `./run.sh` until it prints the app's URL;
//!    the first build of step 01; the checker's build (which `./run.sh` does in the background);
//!    the first `./run.sh check 01` once both are built; and step 01 alone from an empty folder.
//!    `./run.sh bench builds` measures only these (a few minutes). Wall clock, one run each.
//!
//! Figures are compared as ratios within the run; machines differ too much for absolute goals.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::project::{APP_PACKAGE, Project};

/// The median of `/fib?index=12` for the original workshop's Node.js app, untraced, production
/// build, measured side by side with ours on this machine kind (2 cores) in December 2026 (README,
/// "How fast"): 127 ms.
const NODE_FIB_12_MS: f64 = 127.0;
const INDEXES: [u32; 4] = [5, 10, 12, 15];
/// The traced app the overhead benchmark compares with the untraced one.
const TRACED_PACKAGE: &str = "solution-04-attributes";
/// The apps step 06's benchmark compares: every number asked for again, then remembered.
const BEFORE_FIX_PACKAGE: &str = "solution-05-hosted";
const AFTER_FIX_PACKAGE: &str = "solution-06-fix-it";

pub fn run(project: &Project, only_builds: bool) -> anyhow::Result<ExitCode> {
    if only_builds {
        let waits = learner_waits(project)?;
        print_waits(&waits);
        return Ok(ExitCode::SUCCESS);
    }
    let target = project.target_dir();
    step(
        project,
        "downloading dependencies (if any)",
        &["fetch"],
        None,
    )?;

    let release = [
        "build",
        "--release",
        "--package",
        APP_PACKAGE,
        "--package",
        TRACED_PACKAGE,
        "--package",
        BEFORE_FIX_PACKAGE,
        "--package",
        AFTER_FIX_PACKAGE,
        "--package",
        "explorer",
    ];
    step(
        project,
        "building the app, untraced and traced, steps 05 and 06, and the explorer (release)",
        &release,
        None,
    )?;
    let latency = ["bench", "--package", "bench", "--bench", "latency"];
    step(
        project,
        "measuring /fib latency (about a minute)",
        &latency,
        None,
    )?;
    let overhead = ["bench", "--package", "bench", "--bench", "overhead"];
    step(
        project,
        "measuring what tracing costs (about a minute)",
        &overhead,
        None,
    )?;
    let fixit = ["bench", "--package", "bench", "--bench", "fixit"];
    step(
        project,
        "measuring step 06's fix, before and after (about a minute)",
        &fixit,
        None,
    )?;
    let explorer = ["bench", "--package", "bench", "--bench", "explorer"];
    step(
        project,
        "measuring the trace explorer (about a minute)",
        &explorer,
        None,
    )?;
    let stack = ["bench", "--package", "bench", "--bench", "stack"];
    step(
        project,
        "measuring the native Collector and Jaeger under load (about two minutes)",
        &stack,
        None,
    )?;
    let room = ["bench", "--package", "bench", "--bench", "room"];
    step(
        project,
        "measuring a room's explorer under 60 learners (about a minute and a half)",
        &room,
        None,
    )?;
    let medians = INDEXES
        .iter()
        .map(|index| median_ms(&target, *index).map(|ms| (*index, ms)))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let waits = learner_waits(project)?;
    let cold = target.join("bench-cold");
    let workspace = cold_build(project, &cold, &["build", "--workspace"])?;
    let _ = std::fs::remove_dir_all(&cold);
    let rebuild = rebuild(project)?;

    println!(
        "\n/fib latency, release build, one request at a time (median of criterion's samples):"
    );
    println!(
        "  {:>5}  {:>8}  {:>10}  {:>12}",
        "index", "requests", "median", "per request"
    );
    for (index, ms) in &medians {
        let requests = sequence::requests_for(*index);
        println!(
            "  {index:>5}  {requests:>8}  {ms:>7.1} ms  {:>9.1} µs",
            ms * 1000.0 / requests as f64
        );
    }
    if let Some((_, ms)) = medians.iter().find(|(index, _)| *index == 12) {
        println!(
            "  index 12 is {:.1}× faster than the original Node.js app, untraced (its {NODE_FIB_12_MS} ms \
             measured side by side, December 2026)",
            NODE_FIB_12_MS / ms
        );
    }
    println!(
        "\nBuild times, debug profile, wall clock on {} cores:",
        cores()
    );
    println!(
        "  cold, the whole workspace:                            {:>6.1} s",
        workspace.as_secs_f64()
    );
    println!(
        "  rebuild after touching the step's main.rs (median of 3): {:>4.1} s (goal ≤ 5 s)",
        rebuild.as_secs_f64()
    );
    print_waits(&waits);
    Ok(ExitCode::SUCCESS)
}

/// What a newcomer waits for, from an empty target folder, in the order they meet it.
struct Waits {
    first_run_url: Duration,
    step_01: Duration,
    checker: Duration,
    first_check: Duration,
    step_01_alone: Duration,
}

fn print_waits(waits: &Waits) {
    println!(
        "\nWhat a newcomer waits for, from an empty target folder, wall clock on {} cores:",
        cores()
    );
    let rows = [
        (
            "the first ./run.sh, until the app's URL",
            waits.first_run_url,
            "goal < 60 s",
        ),
        (
            "then the first build of step 01",
            waits.step_01,
            "goal < 45 s",
        ),
        (
            "then the checker (./run.sh builds it ahead)",
            waits.checker,
            "in the background",
        ),
        (
            "then the first ./run.sh check 01 --solution",
            waits.first_check,
            "goal < 10 s",
        ),
        (
            "step 01 alone, from an empty folder",
            waits.step_01_alone,
            "",
        ),
    ];
    for (what, took, goal) in rows {
        println!("  {what:<46} {:>6.1} s  {goal}", took.as_secs_f64());
    }
}

/// Measures [`Waits`] in a target folder of its own (`target/bench-cold`, removed after).
fn learner_waits(project: &Project) -> anyhow::Result<Waits> {
    let cold = project.target_dir().join("bench-cold");
    let _ = std::fs::remove_dir_all(&cold);
    let first_run_url = first_run(project, &cold)?;
    let step_01 = step(
        project,
        "step 01's first build",
        &["build", "--package", "exercise-01-stdout"],
        Some(&cold),
    )?;
    let checker = step(
        project,
        "the checker's build",
        &["build", "--package", "checker"],
        Some(&cold),
    )?;
    // Step 01's solution, built as the check builds it, then checked: the first check's wait.
    step(
        project,
        "step 01's solution",
        &["build", "--package", "solution-01-stdout"],
        Some(&cold),
    )?;
    let first_check = step(
        project,
        "the first check",
        &[
            "run",
            "--quiet",
            "--package",
            "checker",
            "--",
            "check",
            "01",
            "--solution",
        ],
        Some(&cold),
    )?;
    let step_01_alone = cold_build(
        project,
        &cold,
        &["build", "--package", "exercise-01-stdout"],
    )?;
    let _ = std::fs::remove_dir_all(&cold);
    Ok(Waits {
        first_run_url,
        step_01,
        checker,
        first_check,
        step_01_alone,
    })
}

/// `./run.sh` from an empty target folder, timed until the app prints its URL; then stopped.
fn first_run(project: &Project, cold: &Path) -> anyhow::Result<Duration> {
    use std::io::{BufRead, BufReader};
    eprintln!("bench: the first ./run.sh, until the app's URL");
    let started = Instant::now();
    let mut child = Command::new("bash")
        .arg(project.root.join("run.sh"))
        .current_dir(&project.root)
        .env("CARGO_TARGET_DIR", cold)
        // Nothing built ahead: it would go on after the app is stopped, into the next figure.
        .env("KIT_PREBUILD", "0")
        .env("APP_PORT", free_port()?.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("could not start ./run.sh")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut took = None;
    for line in BufReader::new(stdout).lines() {
        if line?.contains("http://127.0.0.1:") {
            took = Some(started.elapsed());
            break;
        }
    }
    signals::send(child.id(), signals::Signal::Terminate);
    let status = child.wait()?;
    took.with_context(|| format!("./run.sh printed no URL ({status})"))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Runs `cargo <args>` with the output shown, and fails if cargo fails.
fn step(
    project: &Project,
    what: &str,
    args: &[&str],
    target: Option<&Path>,
) -> anyhow::Result<Duration> {
    eprintln!("bench: {what}: cargo {}", args.join(" "));
    let mut command: Command = project.cargo();
    command.args(args);
    if let Some(target) = target {
        command.env("CARGO_TARGET_DIR", target);
    }
    let started = Instant::now();
    let status = command.status().context("could not start cargo")?;
    if !status.success() {
        bail!("cargo {} failed ({status})", args.join(" "));
    }
    Ok(started.elapsed())
}

/// A build from an empty target folder.
fn cold_build(project: &Project, cold: &Path, args: &[&str]) -> anyhow::Result<Duration> {
    let _ = std::fs::remove_dir_all(cold);
    step(project, "cold build", args, Some(cold))
}

/// The rebuild a learner waits for after saving the step's `main.rs`.
fn rebuild(project: &Project) -> anyhow::Result<Duration> {
    let main_rs = project.root.join("exercises/00-app/src/main.rs");
    let build = ["build", "--package", APP_PACKAGE];
    step(project, "warm build", &build, None)?;
    let mut times = Vec::new();
    for _ in 0..3 {
        let file = std::fs::File::options().append(true).open(&main_rs)?;
        file.set_modified(std::time::SystemTime::now())?; // like `touch`
        times.push(step(
            project,
            "rebuild after touching main.rs",
            &build,
            None,
        )?);
    }
    times.sort();
    Ok(times[1])
}

/// Criterion's median estimate for `fib/<index>`, in milliseconds.
fn median_ms(target: &Path, index: u32) -> anyhow::Result<f64> {
    let path = target.join(format!("criterion/fib/{index}/new/estimates.json"));
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("criterion wrote no {}", path.display()))?;
    let estimates: serde_json::Value = serde_json::from_str(&text)?;
    let ns = estimates["median"]["point_estimate"]
        .as_f64()
        .with_context(|| format!("no median in {}", path.display()))?;
    Ok(ns / 1e6)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
