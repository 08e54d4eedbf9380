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
//! 6. Build times: a cold build (empty target folder, registry already downloaded) of what
//!    `./run.sh` needs first, a cold build of the whole workspace, and the rebuild after touching
//!    the step's `main.rs`: wall clock, one run each (three for the rebuild, median).
//!
//! Figures are compared as ratios within the run; machines differ too much for absolute goals.

use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::project::{APP_PACKAGE, Project};

/// The median of `/fib?index=12` for the original workshop's Node.js app on this machine kind.
const NODE_FIB_12_MS: f64 = 390.0;
const INDEXES: [u32; 4] = [5, 10, 12, 15];
/// The traced app the overhead benchmark compares with the untraced one.
const TRACED_PACKAGE: &str = "solution-04-attributes";
/// The apps step 06's benchmark compares: every number asked for again, then remembered.
const BEFORE_FIX_PACKAGE: &str = "solution-05-hosted";
const AFTER_FIX_PACKAGE: &str = "solution-06-fix-it";

pub fn run(project: &Project) -> anyhow::Result<ExitCode> {
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
    ];
    step(
        project,
        "building the app, untraced and traced, and steps 05 and 06 (release)",
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
    let medians = INDEXES
        .iter()
        .map(|index| median_ms(&target, *index).map(|ms| (*index, ms)))
        .collect::<anyhow::Result<Vec<_>>>()?;

    let cold = target.join("bench-cold");
    let first = cold_build(
        project,
        &cold,
        &["build", "--package", "kit", "--package", APP_PACKAGE],
    )?;
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
            "  index 12 is {:.1}× faster than the original Node.js app (≈{NODE_FIB_12_MS} ms; goal ≥ 10×)",
            NODE_FIB_12_MS / ms
        );
    }
    println!(
        "\nBuild times, debug profile, wall clock on {} cores:",
        cores()
    );
    println!(
        "  cold, what ./run.sh needs first (kit + {APP_PACKAGE}): {:>6.1} s (goal ≤ 120 s)",
        first.as_secs_f64()
    );
    println!(
        "  cold, the whole workspace:                            {:>6.1} s",
        workspace.as_secs_f64()
    );
    println!(
        "  rebuild after touching the step's main.rs (median of 3): {:>4.1} s (goal ≤ 5 s)",
        rebuild.as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
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
