//! The checker's command line; `./run.sh check` and `./run.sh puzzle` hand over to it.
//!
//! Run with: `./run.sh check 02`, `./run.sh check 02 --watch`, `./run.sh check`,
//! `./run.sh puzzle`, `./run.sh puzzle 2 1.6x` (or `cargo run -p checker -- check 02`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, bail};
use checker::check::{self, Subject};
use checker::puzzle::{self, Judgement};
use checker::report::{self, Style};
use checker::{compile, progress, settings};
use clap::{Parser, Subcommand};
use notify::Watcher;

#[derive(Parser)]
#[command(name = "./run.sh", bin_name = "./run.sh")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check your copy of step NN (exercises/NN-*): build it, run it, say what is right and what
    /// is not, with hints. With no step: a table of every step.
    Check {
        /// The step, e.g. 02.
        step: Option<String>,
        /// Check again each time a file of the step is saved (Ctrl-C to stop).
        #[arg(long)]
        watch: bool,
        /// Check the step's solution instead of your copy.
        #[arg(long)]
        solution: bool,
        /// Check this package instead (another way to solve the step, e.g. with tracing).
        #[arg(long, value_name = "PACKAGE", conflicts_with = "solution")]
        package: Option<String>,
    },
    /// Answer a puzzle: `puzzle 1 7`. With no answer, the question; with no number, all three.
    Puzzle {
        number: Option<u32>,
        /// Your answer; several words are taken together.
        answer: Vec<String>,
        /// Record the data again from your app (the first answer records it once).
        #[arg(long)]
        again: bool,
        /// Record from this package instead of your step 04 (exercises/04-*).
        #[arg(long, value_name = "PACKAGE")]
        package: Option<String>,
        /// Keep the data in this file instead of target/workshop/puzzles.json.
        #[arg(long, value_name = "FILE", hide = true)]
        data: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let style = if std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        Style::Color
    } else {
        Style::Plain
    };
    let result = root().and_then(|root| match cli.command {
        Command::Check {
            step: None,
            watch: true,
            ..
        } => bail!("--watch needs a step to watch: ./run.sh check 02 --watch"),
        Command::Check { step: None, .. } => table(&root, style),
        Command::Check {
            step: Some(step),
            watch,
            solution,
            package,
        } => {
            let subject = subject(&root, &step, solution, package)?;
            if watch {
                watch_loop(&root, &subject, style)
            } else {
                check_once(&root, &subject, style, true)
            }
        }
        Command::Puzzle {
            number,
            answer,
            again,
            package,
            data,
        } => {
            let file = data.unwrap_or_else(|| puzzle::data_file(&root));
            puzzles(&root, &file, number, &answer.join(" "), again, package)
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// The kit's folder: the nearest one, from here upwards, with `run.sh` and a `Cargo.toml`.
fn root() -> anyhow::Result<PathBuf> {
    let here = std::env::current_dir()?;
    here.ancestors()
        .find(|dir| dir.join("run.sh").is_file() && dir.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
        .with_context(|| {
            format!(
                "{} is not inside the workshop kit: cd into its folder",
                here.display()
            )
        })
}

fn subject(
    root: &Path,
    step: &str,
    solution: bool,
    package: Option<String>,
) -> anyhow::Result<Subject> {
    let found = steps::find(root, step)?;
    if checker::expect::step(found.number).is_none() {
        bail!(
            "step {} has nothing to check (step 00 is the app before any telemetry); start with ./run.sh check 01",
            found.id()
        );
    }
    let (package, dir) = match (package, solution) {
        (Some(package), _) => {
            let dir = package_dir(root, &package)?;
            (package, dir)
        }
        (None, true) => (
            found
                .solution_package()
                .context("this step has no solution")?,
            found
                .solution
                .clone()
                .context("this step has no solution")?,
        ),
        (None, false) => (found.exercise_package(), found.exercise.clone()),
    };
    Ok(Subject {
        step: found.number,
        package,
        crate_dir: dir.strip_prefix(root).unwrap_or(&dir).to_path_buf(),
    })
}

/// The folder of a workspace package, by asking cargo.
fn package_dir(root: &Path, package: &str) -> anyhow::Result<PathBuf> {
    let output = std::process::Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()))
        .current_dir(root)
        .args(["metadata", "--no-deps", "--format-version", "1"])
        .output()
        .context("could not run cargo metadata")?;
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == package)
        .and_then(|p| p["manifest_path"].as_str())
        .and_then(|manifest| Path::new(manifest).parent().map(Path::to_path_buf))
        .with_context(|| format!("no package {package:?} in the workspace"))
}

/// Builds and checks the step once. `first`: the first build of this run, the only one that may
/// be slow (see [`compile::building_note`]).
fn check_once(
    root: &Path,
    subject: &Subject,
    style: Style,
    first: bool,
) -> anyhow::Result<ExitCode> {
    eprintln!("{}", compile::building_note(root, &subject.package, first));
    let report = check::check(root, subject, false)?;
    print!("{}", report::render(&report, style));
    let notes = settings::notes(&root.join(".env"));
    if !notes.is_empty() {
        println!("\nYour .env (it does not change this check, but it does your own runs):");
        for note in notes {
            println!("{}", report::wrap("  - ", &note));
        }
    }
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Checks, then waits for a save in the step's folder, and checks again; until Ctrl-C.
fn watch_loop(root: &Path, subject: &Subject, style: Style) -> anyhow::Result<ExitCode> {
    let (tx, rx) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !matches!(event.kind, notify::EventKind::Access(_))
            && event.paths.iter().any(|path| is_source(path))
        {
            let _ = tx.send(());
        }
    })?;
    let dir = root.join(&subject.crate_dir);
    watcher
        .watch(&dir, notify::RecursiveMode::Recursive)
        .with_context(|| format!("could not watch {}", dir.display()))?;
    let mut first = true;
    loop {
        if style == Style::Color {
            print!("\x1b[2J\x1b[H"); // a clean screen for each check
        }
        check_once(root, subject, style, first)?;
        first = false;
        println!(
            "\nWatching {} — save a file to check again; Ctrl-C to stop.",
            subject.crate_dir.display()
        );
        // One save can be several events (write, rename, metadata): wait for them to settle.
        if rx.recv().is_err() {
            return Ok(ExitCode::SUCCESS);
        }
        while rx.recv_timeout(Duration::from_millis(300)).is_ok() {}
    }
}

/// A file a learner edits: Rust, TOML or Markdown, not an editor's swap or backup file.
fn is_source(path: &Path) -> bool {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    !name.starts_with('.')
        && !name.ends_with('~')
        && path
            .extension()
            .is_some_and(|ext| ext == "rs" || ext == "toml")
        && !path.components().any(|c| c.as_os_str() == "target")
}

fn table(root: &Path, style: Style) -> anyhow::Result<ExitCode> {
    println!("Your progress (checking each step's exercise; this takes a little while):");
    let rows = progress::rows(root, |row| println!("{}", progress::render_row(row, style)))?;
    let data = puzzle::load(&puzzle::data_file(root))?;
    let solved = data.map(|d| d.solved).unwrap_or_default();
    let puzzles: Vec<String> = (1..=3)
        .map(|n| format!("{n} {}", if solved.contains(&n) { "✓" } else { "·" }))
        .collect();
    println!("  puzzles: {}", puzzles.join("  "));
    let next = rows.iter().find(|row| row.state != progress::State::Done);
    match next {
        Some(row) => println!("\nNext: ./run.sh check {:02}", row.step),
        None => println!("\nEvery step done."),
    }
    Ok(ExitCode::SUCCESS)
}

fn puzzles(
    root: &Path,
    file: &Path,
    number: Option<u32>,
    answer: &str,
    again: bool,
    package: Option<String>,
) -> anyhow::Result<ExitCode> {
    let Some(number) = number else {
        let solved = puzzle::load(file)?.map(|d| d.solved).unwrap_or_default();
        for (i, question) in puzzle::QUESTIONS.iter().enumerate() {
            let n = i as u32 + 1;
            let mark = if solved.contains(&n) { "✓" } else { " " };
            println!("{mark} {n}. {question}");
        }
        println!("\nAnswer with ./run.sh puzzle N ANSWER, e.g. ./run.sh puzzle 1 7");
        return Ok(ExitCode::SUCCESS);
    };
    let Some(question) = puzzle::QUESTIONS.get(number.wrapping_sub(1) as usize) else {
        bail!("there are three puzzles: 1, 2 and 3");
    };
    if answer.trim().is_empty() {
        println!("{number}. {question}\n\nAnswer with ./run.sh puzzle {number} ANSWER");
        return Ok(ExitCode::SUCCESS);
    }
    puzzle::check_format(number, answer)?;
    let mut data = match puzzle::load(file)? {
        Some(data) if !again => data,
        _ => record(root, file, package)?,
    };
    let judgement = puzzle::judge(number, answer, &data)?;
    Ok(match judgement {
        Judgement::Right(why) => {
            println!("{}", report::wrap("✓ Right. ", &why));
            if !data.solved.contains(&number) {
                data.solved.push(number);
                data.solved.sort();
            }
            puzzle::save(file, &data)?;
            ExitCode::SUCCESS
        }
        Judgement::Wrong(nudge) => {
            println!("{}", report::wrap("✗ Not quite. ", &nudge));
            ExitCode::FAILURE
        }
    })
}

/// Builds the learner's step 04 (or `package`), runs it, and keeps the puzzles' data.
fn record(root: &Path, file: &Path, package: Option<String>) -> anyhow::Result<puzzle::Data> {
    let package = match package {
        Some(package) => package,
        None => steps::find(root, "04")?.exercise_package(),
    };
    eprintln!(
        "The puzzles are judged on your own spans: building {package} and asking it for \
         /fib?index=4 and 5, {} times each…",
        puzzle::ROUNDS
    );
    let binary = match checker::compile::build(root, &package, false)? {
        checker::compile::Build::Built { binary } => binary,
        checker::compile::Build::Failed(failure) => {
            bail!("{package} does not build: {}", failure.hint)
        }
    };
    let runtime = tokio::runtime::Runtime::new()?;
    let data = runtime.block_on(puzzle::record(&binary, &package))?;
    puzzle::save(file, &data)?;
    eprintln!("Recorded. To record again (after changing your app): --again");
    Ok(data)
}
