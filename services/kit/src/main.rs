//! # `kit`: the workshop's command line, behind `./run.sh`
//!
//! Run with: `./run.sh --help` (or `cargo run -p kit -- --help`).
//!
//! `run.sh` only finds cargo and calls this; everything else is here, where it can be tested:
//! - [`project`]: finding the kit's folder, and `.env` (created from `.env.example`, never printed);
//! - [`cargo`]: handing over to cargo to build, run and test;
//! - [`doctor`]: checking the machine, with the fix for each problem;
//! - [`bench`]: the benchmarks a maintainer reruns.

mod bench;
mod cargo;
mod doctor;
mod project;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The OpenTelemetry workshop kit. With no command, builds and starts the app.
#[derive(Parser)]
#[command(
    name = "./run.sh",
    bin_name = "./run.sh",
    version,
    after_help = "Settings live in .env (made from .env.example on the first run)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Build and start the app, and print its URL (the default).
    Run,
    /// Run every test of the kit (`cargo test --workspace`); more arguments go to cargo test.
    Test {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Check this machine: Rust, the app's port, .env, Docker; with the fix for each problem.
    Doctor,
    /// Measure: /fib latency (release build), cold build and rebuild times. Takes a few minutes.
    Bench,
}

fn main() -> ExitCode {
    let cli = Cli::parse(); // an unknown command prints the usage and exits with status 2
    let result = project::Project::find().and_then(|project| {
        project.ensure_env_file()?;
        match cli.command.unwrap_or(Command::Run) {
            Command::Run => cargo::run_app(&project),
            Command::Test { args } => cargo::test(&project, &args),
            Command::Doctor => doctor::run(&project),
            Command::Bench => bench::run(&project),
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
