//! # `checker`: tells a learner whether their step is right, and why not
//!
//! Run with: `./run.sh check 02` (or `cargo run -p checker -- check 02`); `./run.sh check` for a
//! table of every step; `./run.sh check 02 --watch` to check again on every save;
//! `./run.sh puzzle 1 7` to answer a puzzle.
//!
//! A check builds the learner's crate, starts it on a free port exporting to the checker's own
//! OTLP receiver, asks for `/fib?index=5` and `/fib?index=abc`, stops it with SIGTERM, and judges
//! what arrived: behaviour, never code, so that any correct solution passes. When something is
//! missing, the hint names the likely mistake.
//!
//! In the order a check runs:
//! - [`compile`]: cargo, with its progress on screen, and hints for build errors;
//! - [`app`], [`upstream`], [`run`]: starting the app, a proxy that sees its sub-requests'
//!   headers, and the runs (over HTTP and gRPC, with the upstream down);
//! - [`growth`]: step 06's run, how the cost of `/fib` grows with the index;
//! - [`sampling`]: step 08's run, with head sampling on;
//! - [`stdout`]: step 01's spans, read back from what it printed;
//! - [`expect`]: the table of steps, and each step's expectations, judged on the evidence, in a
//!   file of its own with the mistakes it recognises and their hints; [`sources`] sharpens them;
//! - [`check`], [`report`]: one check, and how it reads;
//! - [`progress`]: the table of every step, an untouched one "not started"; [`settings`]: the
//!   learner's `.env`, looked over, and a setting read as the kit reads it;
//! - [`room`]: a check's verdict, sent to the classroom's room when the learner joined one;
//! - [`puzzle`]: the three puzzles, judged on what the learner's trace explorer shows (asked
//!   through its API), and `--record`, which sends the learner's step 04 calls there.

pub mod app;
pub mod check;
pub mod compile;
pub mod expect;
pub mod growth;
pub mod progress;
pub mod puzzle;
pub mod report;
pub mod room;
pub mod run;
pub mod sampling;
pub mod settings;
pub mod sources;
pub mod stdout;
pub mod upstream;
