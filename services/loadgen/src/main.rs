//! The load generator's command line: flags and environment variables in, the summary out.
//!
//! Run with: `cargo run -p loadgen` (the app running in another terminal: `./run.sh`), or
//! `cargo run -p loadgen -- --users 20 --duration 2m --seed 42`. `--help` lists every flag.
//!
//! The work is in the library (`src/lib.rs`). Exit status: 0 after a run, even one with errors
//! in it (they are in the summary); 1 when no run could start; 2 for a bad flag.

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use loadgen::options::{self, MAX_INDEX, MAX_USERS};

/// Imitates a room of learners pressing Go and Stop on the app's page, so that the trace
/// explorer's heatmaps and P99s have data.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// The app's URL.
    #[arg(long, env = "LOAD_URL", default_value_t = default_url(), value_parser = options::parse_url)]
    url: String,

    /// How many learners press Go at the same time.
    #[arg(long, env = "LOAD_USERS", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_USERS)))]
    users: u32,

    /// How long to run: 30s, 2m, 500ms, or a number of seconds; at most 10m.
    #[arg(long, env = "LOAD_DURATION", default_value = "30s", value_parser = options::duration_arg)]
    duration: Duration,

    /// The highest index a learner waits for before pressing Stop; each stops at a random one
    /// from 1 up to this. Indexes above the app's cap (FIB_MAX_INDEX) get 400.
    #[arg(long, env = "LOAD_MAX_INDEX", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_INDEX)))]
    max_index: u32,

    /// Stop after this many requests, if the duration has not passed before.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    requests: Option<u64>,

    /// Repeat a run: the same seed gives every learner the same stop points and think times.
    /// Without it, a new seed each run (printed in the summary).
    #[arg(long)]
    seed: Option<u64>,
}

/// Where `./run.sh` starts the app unless told otherwise.
fn default_url() -> String {
    format!("http://127.0.0.1:{}", sequence::config::DEFAULT_PORT)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let options = loadgen::Options {
        url: args.url,
        users: args.users,
        duration: args.duration,
        max_index: args.max_index,
        max_requests: args.requests,
        seed: args.seed.unwrap_or_else(loadgen::rng::seed_from_clock),
    };
    match loadgen::run(options).await {
        Ok(summary) => {
            print!("{summary}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
