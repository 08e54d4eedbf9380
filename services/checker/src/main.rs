//! The checker's command line; `./run.sh check` and `./run.sh puzzle` hand over to it.
//!
//! Run with: `./run.sh check 02`, `./run.sh check 02 --watch`, `./run.sh check`,
//! `./run.sh puzzle`, `./run.sh puzzle 1 7`, `./run.sh puzzle --record` (or
//! `cargo run -p checker -- check 02`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, bail};
use checker::check::{self, Subject};
use checker::puzzle::explorer::Explorer;
use checker::puzzle::{self, Judgement, record};
use checker::report::{self, Style};
use checker::room::{self, Room};
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
    /// Answer a puzzle: `puzzle 1 7`, judged on what the trace explorer shows. With no answer,
    /// the question and where to look; with no number, all three.
    Puzzle {
        number: Option<u32>,
        /// Your answer; several words are taken together.
        answer: Vec<String>,
        /// Send your step 04's requests to the explorer, to look at there before answering (when
        /// pressing Go is not enough).
        #[arg(long)]
        record: bool,
        /// Record this package instead of your step 04 (exercises/04-*).
        #[arg(long, value_name = "PACKAGE", requires = "record")]
        package: Option<String>,
        /// The explorer to judge on [default: EXPLORER_URL, else http://127.0.0.1:EXPLORER_PORT].
        #[arg(long, value_name = "URL")]
        explorer: Option<String>,
        /// Keep the progress in this file instead of target/workshop/puzzles.json.
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
            record,
            package,
            explorer,
            data,
        } => {
            let file = data.unwrap_or_else(|| puzzle::data_file(&root));
            let mut explorer = Explorer::locate(&root, explorer.as_deref())?;
            // In a room's explorer, the puzzles are the learner's own: their spans only. An
            // explorer that does not answer is said so by the question that needs it.
            if let Ok(runtime) = tokio::runtime::Runtime::new() {
                let _ = runtime.block_on(explorer.narrow_to_learner(&root));
            }
            let answer = answer.join(" ");
            if record {
                if number.is_some() || !answer.trim().is_empty() {
                    bail!(
                        "--record sends your step 04's requests to the explorer, for you to look at \
                         before answering: ./run.sh puzzle --record, then ./run.sh puzzle 1 <answer>"
                    );
                }
                record_into_explorer(&root, &file, package, &explorer)
            } else {
                puzzles(&file, number, &answer, &explorer)
            }
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
    tell_the_room(root, &report);
    Ok(if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Sends the check's verdict to the room, if the learner joined one (`.env`'s `ROOM_URL`,
/// `ROOM_CODE`, `LEARNER_NAME`), and says in one line whether it got there. A room that did not
/// get it is said once per run (`--watch` checks again and again), and never fails the check.
fn tell_the_room(root: &Path, report: &check::Report) {
    static ROOM_MISSED_TOLD: AtomicBool = AtomicBool::new(false);
    let Some(room) = Room::joined(&root.join(".env")) else {
        return;
    };
    match room.send_blocking(&room::verdict(report)) {
        Ok(()) => println!("\nSent to the room as {}.", room.learner),
        Err(why) => {
            if !ROOM_MISSED_TOLD.swap(true, Ordering::Relaxed) {
                println!(
                    "\n{}",
                    report::wrap(
                        "",
                        &format!(
                            "The room at {} did not get this check ({why}); the check itself is above.",
                            room.url
                        )
                    )
                );
            }
        }
    }
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
    let solved = puzzle::load(&puzzle::data_file(root))?.solved;
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
    file: &Path,
    number: Option<u32>,
    answer: &str,
    explorer: &Explorer,
) -> anyhow::Result<ExitCode> {
    let Some(number) = number else {
        let solved = puzzle::load(file)?.solved;
        for (i, question) in puzzle::QUESTIONS.iter().enumerate() {
            let n = i as u32 + 1;
            let mark = if solved.contains(&n) { "✓" } else { " " };
            println!("{mark} {n}. {question}");
        }
        println!(
            "\nAnswer with ./run.sh puzzle N ANSWER, e.g. ./run.sh puzzle 1 7: judged on what the \
             trace explorer at {} shows. ./run.sh puzzle N tells where to look.",
            explorer.url
        );
        return Ok(ExitCode::SUCCESS);
    };
    let Some(question) = puzzle::QUESTIONS.get(number.wrapping_sub(1) as usize) else {
        bail!("there are three puzzles: 1, 2 and 3");
    };
    if answer.trim().is_empty() {
        let look = puzzle::WHERE_TO_LOOK[number as usize - 1];
        println!(
            "{number}. {question}\n\nIn the trace explorer: {look}.\n  {}\n\nAnswer with \
             ./run.sh puzzle {number} ANSWER",
            link(explorer, number)
        );
        return Ok(ExitCode::SUCCESS);
    }
    puzzle::check_format(number, answer)?;
    let runtime = tokio::runtime::Runtime::new()?;
    let mut progress = puzzle::load(file)?;
    let judgement = runtime.block_on(async {
        match number {
            1 => puzzle::judge_count(answer, &explorer.index5_traces().await?),
            2 => {
                let readings = explorer.p99_readings(progress.recording.as_ref()).await?;
                puzzle::judge_p99(answer, &readings)
            }
            _ => Ok(puzzle::judge_why(answer, &explorer.spans_per_trace().await)),
        }
    })?;
    Ok(match judgement {
        Judgement::Right(why) => {
            println!("{}", report::wrap("✓ Right. ", &why));
            if !progress.solved.contains(&number) {
                progress.solved.push(number);
                progress.solved.sort();
            }
            puzzle::save(file, &progress)?;
            ExitCode::SUCCESS
        }
        Judgement::Wrong(nudge) => {
            println!("{}", report::wrap("✗ Not quite. ", &nudge));
            ExitCode::FAILURE
        }
    })
}

/// The explorer's page for puzzle `number`, with the filters it needs.
fn link(explorer: &Explorer, number: u32) -> String {
    match number {
        1 => explorer.link(
            "/traces",
            &[("where", "is_root"), ("where", "url.query = index=5")],
        ),
        2 => explorer.link(
            "/query",
            &[
                ("visualize", "P99(duration)"),
                ("visualize", "COUNT"),
                ("where", "is_root"),
                ("group_by", "url.query"),
                ("order_by", "P99(duration) desc"),
            ],
        ),
        _ => explorer.link(
            "/traces",
            &[("where", "is_root"), ("where", "url.query = index=4")],
        ),
    }
}

/// Builds the learner's step 04 (or `package`), runs it exporting to the explorer, and says where
/// to look at what it sent.
fn record_into_explorer(
    root: &Path,
    file: &Path,
    package: Option<String>,
    explorer: &Explorer,
) -> anyhow::Result<ExitCode> {
    let package = match package {
        Some(package) => package,
        None => steps::find(root, "04")?.exercise_package(),
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(explorer.spans())?; // said before a build that may take a minute
    eprintln!(
        "Sending the spans of {package} to the trace explorer at {}: building it, then asking it \
         for /fib?index=4 and 5, {} times each…",
        explorer.url,
        record::ROUNDS
    );
    let binary = match checker::compile::build(root, &package, false)? {
        checker::compile::Build::Built { binary } => binary,
        checker::compile::Build::Failed(failure) => {
            bail!("{package} does not build: {}", failure.hint)
        }
    };
    let recorded = runtime.block_on(record::record(&binary, &package, explorer))?;
    let mut progress = puzzle::load(file)?;
    progress.recording = Some(recorded.recording.clone());
    puzzle::save(file, &progress)?;
    let [traces, query] = record::links(explorer, &recorded.recording);
    println!(
        "Recorded: {} calls of /fib?index=4 and {} of index=5 from {package}, in the explorer now. \
         Look at them there:\n  its traces of index 5: {traces}\n  P99 by index: {query}\n\
         Then answer: ./run.sh puzzle 1 <answer> (and 2, 3).",
        recorded.reading.count_4, recorded.reading.count_5
    );
    Ok(ExitCode::SUCCESS)
}
