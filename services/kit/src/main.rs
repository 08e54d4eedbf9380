//! # `kit`: the workshop's command line, behind `./run.sh`
//!
//! Run with: `./run.sh --help` (or `cargo run -p kit -- --help`).
//!
//! `run.sh` only finds cargo and calls this; everything else is here, where it can be tested:
//! - [`project`]: finding the kit's folder, its `.env` (created from `.env.example`, never
//!   printed), and cargo run there;
//! - [`cargo`]: handing over to cargo to build, run and test;
//! - [`launch`]: the app and the trace explorer side by side (`./run.sh`, `./run.sh NN`);
//! - [`doctor`]: checking the machine, with the fix for each problem;
//! - [`bench`]: the benchmarks a maintainer reruns.

mod bench;
mod cargo;
mod doctor;
mod envfile;
mod join;
mod launch;
mod prebuild;
mod project;
mod room;
mod stack;

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser, Subcommand};

/// The OpenTelemetry workshop kit. With no command, builds and starts the app.
#[derive(Parser)]
#[command(
    name = "./run.sh",
    bin_name = "./run.sh",
    version,
    after_help = "\
Steps:
  ./run.sh NN             Run your copy of step NN (exercises/NN-*), e.g. ./run.sh 02
  ./run.sh NN --solution  Run step NN's solution (solutions/NN-*)
  Add --no-explorer to either (or to ./run.sh run) to start the app alone.

Settings live in .env (made from .env.example on the first run)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Build and start the app, step 00, and print its URL (the default); `./run.sh NN` starts
    /// the trace explorer beside it from step 01 on.
    Run {
        /// Start the app alone, without the trace explorer.
        #[arg(long)]
        no_explorer: bool,
    },
    /// Start the trace explorer alone (`--help` for its settings).
    #[command(disable_help_flag = true)]
    Explorer {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// For the instructor: the trace explorer open to the room, with a room code, and the line
    /// learners type to join.
    #[command(disable_help_flag = true)]
    Room {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Join the instructor's room: `join 192.168.1.20 --name ada --code KQFZRM` (checks the room
    /// answers and takes the code, then writes ROOM_URL, ROOM_CODE and LEARNER_NAME into .env).
    Join {
        /// The room's address, as the instructor's join line gives it.
        address: String,
        /// Your name on the room's board.
        #[arg(long)]
        name: String,
        /// The room's code, from the instructor's join line.
        #[arg(long)]
        code: String,
    },
    /// Leave the room: ROOM_URL, ROOM_CODE and LEARNER_NAME out of .env.
    Leave,
    /// Send load to the running app, like a room pressing Go (`--help` for its settings).
    #[command(disable_help_flag = true)]
    Load {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run every test of the kit (`cargo test --workspace`); more arguments go to cargo test.
    Test {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Check this machine: Rust, the app's port, .env, Docker; with the fix for each problem.
    Doctor,
    /// Check your step NN: `check 02` (`--watch` to check again on every save); with no step,
    /// your progress through every step.
    #[command(disable_help_flag = true)]
    Check {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Show what the solution of step NN has that your copy does not, in src/ and without each
    /// file's `//!` header: `diff 02` (`--all` for every file).
    Diff {
        /// The step, e.g. 02.
        step: String,
        /// Every file, headers included: Cargo.toml, tests/, … (not README.md or HINTS.md).
        #[arg(long)]
        all: bool,
    },
    /// A hint for step NN, one level more each time you ask: the idea, then the API items with
    /// links to their docs, then the solution's code: `hint 02` (`--reset` starts again).
    Hint {
        /// The step, e.g. 02.
        step: String,
        /// Start this step's hints again from the first level.
        #[arg(long)]
        reset: bool,
    },
    /// Answer a puzzle, judged on what the explorer shows: `puzzle 1 7`; no number: all three.
    #[command(disable_help_flag = true)]
    Puzzle {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Build the slides into slides/dist/: deck.html (with speaker notes) and deck-learners.html.
    Slides,
    /// The Collector and Jaeger without Docker, built with Go: `stack build`, `stack up`,
    /// `stack validate`.
    #[command(subcommand)]
    Stack(stack::StackCommand),
    /// Measure: /fib latency (release build), cold build and rebuild times, and what a newcomer
    /// waits for. Takes a quarter of an hour; `bench builds` only the newcomer's waits.
    Bench {
        /// `builds`: only what a newcomer waits for (first run, step 01, first check).
        only: Option<BenchOnly>,
    },
    /// Build packages one after the other, at low priority: what `./run.sh NN` starts in the
    /// background once the app is up (see src/prebuild.rs).
    #[command(hide = true)]
    Prebuild { packages: Vec<String> },
    /// `NN [--solution]`: a step's number (see "Steps" below).
    #[command(external_subcommand)]
    Step(Vec<String>),
}

/// What `./run.sh bench` can measure alone.
#[derive(Clone, Copy, clap::ValueEnum)]
enum BenchOnly {
    /// What a newcomer waits for: the first run, step 01's first build, the first check.
    Builds,
}

/// `./run.sh slides`: the deck, built from `slides/` with code from the solutions.
fn slides(project: &project::Project) -> anyhow::Result<ExitCode> {
    let outputs = deck::build(&project.root, &project.root.join(deck::OUT_DIR))?;
    println!("The deck is built; each file presents offline, on its own:");
    for output in outputs {
        let shown = output
            .html
            .strip_prefix(&project.root)
            .unwrap_or(&output.html);
        let what = match output.edition {
            deck::Edition::Presenter => "to present: P opens the presenter view with the notes",
            deck::Edition::Learners => "to share: the same slides, no notes (no puzzle answers)",
        };
        println!("  {}  {what}", shown.display());
    }
    println!("Open one in a browser; F for full screen, arrows to move.");
    Ok(ExitCode::SUCCESS)
}

/// Colours when stdout is a terminal and `NO_COLOR` is unset.
fn style() -> kit::diff::Style {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none() {
        kit::diff::Style::Color
    } else {
        kit::diff::Style::Plain
    }
}

/// `./run.sh diff NN`: printed here, coloured when it goes to a terminal.
fn diff(project: &project::Project, step: &str, all: bool) -> anyhow::Result<ExitCode> {
    let step = steps::find(&project.root, step)?;
    let scope = if all {
        kit::diff::Scope::All
    } else {
        kit::diff::Scope::Lesson
    };
    print!(
        "{}",
        kit::diff::render(&project.root, &step, scope, style())?
    );
    Ok(ExitCode::SUCCESS)
}

/// `./run.sh hint NN`: the next level of the step's hints, remembered under target/.
fn hint(project: &project::Project, step: &str, reset: bool) -> anyhow::Result<ExitCode> {
    let step = steps::find(&project.root, step)?;
    let file = kit::hint::progress_file(&project.root);
    if reset {
        print!("{}", kit::hint::reset(&project.root, &file, &step)?);
        return Ok(ExitCode::SUCCESS);
    }
    let reply = kit::hint::ask(&project.root, &file, &step, style())?;
    print!("{}", reply.text);
    for note in reply.notes {
        eprintln!("\n{note}");
    }
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    let cli = Cli::parse(); // an unknown command prints the usage and exits with status 2
    if let Some(Command::Step(args)) = &cli.command
        && !args[0].bytes().all(|b| b.is_ascii_digit())
    {
        let message = format!("unrecognized subcommand '{}'", args[0]);
        Cli::command()
            .error(ErrorKind::InvalidSubcommand, message)
            .exit();
    }
    let result = project::Project::find().and_then(|project| {
        project.ensure_env_file()?;
        match cli.command.unwrap_or(Command::Run { no_explorer: false }) {
            Command::Run { no_explorer } => cargo::run_app(&project, !no_explorer),
            Command::Explorer { args } => cargo::explorer(&project, &args),
            Command::Load { args } => cargo::load(&project, &args),
            Command::Room { args } => room::run(&project, &args),
            Command::Join {
                address,
                name,
                code,
            } => join::join(&project, &address, &name, &code).map(|()| ExitCode::SUCCESS),
            Command::Leave => join::leave(&project).map(|()| ExitCode::SUCCESS),
            Command::Test { args } => cargo::test(&project, &args),
            Command::Doctor => doctor::run(&project),
            Command::Check { args } => cargo::checker(&project, "check", &args),
            Command::Puzzle { args } => cargo::checker(&project, "puzzle", &args),
            Command::Diff { step, all } => diff(&project, &step, all),
            Command::Hint { step, reset } => hint(&project, &step, reset),
            Command::Slides => slides(&project),
            Command::Stack(command) => stack::run(&project, command),
            Command::Bench { only } => bench::run(&project, only.is_some()),
            Command::Step(args) => cargo::run_step(&project, &args),
            Command::Prebuild { packages } => {
                prebuild::run(&project, &packages).map(|()| ExitCode::SUCCESS)
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
