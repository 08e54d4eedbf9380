//! # `loadgen`: a room full of learners pressing Go and Stop
//!
//! Run with: `cargo run -p loadgen` while the app runs in another terminal (`./run.sh`), or
//! `cargo run -p loadgen -- --users 20 --duration 2m --max-index 12 --seed 42`.
//!
//! A heatmap or a P99 in the trace explorer needs hundreds of requests: more than one person
//! clicking Go makes. So this imitates a room of them. Each virtual user thinks a moment, presses
//! Go (which asks `/fib?index=0`, `1`, `2`, … one after another, as the page does), presses Stop
//! at a random index, and starts again. The stop points and think times come from `--seed`, so a
//! run can be repeated.
//!
//! # Layout
//!
//! - `lib.rs` (this file): [`run`], which checks that the app is up, starts the users, prints a
//!   progress line every second, and stops them;
//! - [`user`]: one virtual user, and the one request it makes at a time;
//! - [`options`]: what a run is asked to do, and its limits;
//! - [`summary`]: the counts and latencies, and the table printed at the end;
//! - [`rng`]: the small seeded random number generator;
//! - `main.rs`: the command line.
//!
//! # Stopping
//!
//! A run stops by itself once `duration` has passed or `max_requests` requests were made,
//! whichever comes first, or early on Ctrl-C. Either way the users start no new request, and
//! the requests in flight finish (each within 10 s) and are counted: the summary matches what
//! the app served. A second Ctrl-C abandons the requests in flight, as the app's own second
//! Ctrl-C does.

pub mod options;
pub mod rng;
pub mod summary;
pub mod user;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub use options::{Options, parse_duration};
pub use summary::{Counts, IndexStats, Outcome, StopReason, Summary};

use rng::Rng;
use user::Shared;

/// Runs the load until it stops by itself or Ctrl-C is pressed, and returns what happened.
///
/// Fails before any load is made when an option is out of range or when no app answers at
/// `options.url`.
pub async fn run(options: Options) -> anyhow::Result<Summary> {
    let options = prepare(options).await?;
    // Only now does Ctrl-C stop the run: until here it ends the process, as usual.
    let (presses, listener) = count_ctrl_c();
    let interrupt = next_press(presses.clone());
    // Called when the run stops, so that only a Ctrl-C pressed after that abandons anything.
    let abandon = move || next_press(presses);
    let result = drive(options, interrupt, Some(abandon)).await;
    listener.abort();
    result
}

/// As [`run`], but stopped early by `stop` completing instead of by Ctrl-C (for callers that
/// have their own way to stop, and for tests).
pub async fn run_until(
    options: Options,
    stop: impl Future<Output = ()>,
) -> anyhow::Result<Summary> {
    let options = prepare(options).await?;
    let no_abandon = None::<fn() -> std::future::Pending<()>>;
    drive(options, stop, no_abandon).await
}

/// Checks the options, and that the app is up; returns the options with the URL normalised.
async fn prepare(options: Options) -> anyhow::Result<Options> {
    options.check()?;
    let url = options::parse_url(&options.url).map_err(anyhow::Error::msg)?;
    check_app(&url).await?;
    Ok(Options { url, ..options })
}

/// Counts Ctrl-C presses from now on, in a task of their own, so that none is missed between
/// the first (stop) and the next (abandon the requests in flight).
fn count_ctrl_c() -> (watch::Receiver<u32>, JoinHandle<()>) {
    let (presses, receiver) = watch::channel(0);
    let listener = tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            presses.send_modify(|count| *count += 1);
        }
    });
    (receiver, listener)
}

/// Completes on the next Ctrl-C counted after the call.
fn next_press(mut presses: watch::Receiver<u32>) -> impl Future<Output = ()> {
    presses.borrow_and_update();
    async move {
        // When no handler could be installed, the counting task has ended, and Ctrl-C keeps its
        // default (it ends the process). Then this must never complete: that would stop the run.
        if presses.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The run itself, once [`prepare`]d: `interrupt` stops it early; `abandon`, if given, is
/// called when the run stops, and its future gives up on the requests still in flight.
async fn drive<A: Future<Output = ()>>(
    options: Options,
    interrupt: impl Future<Output = ()>,
    abandon: Option<impl FnOnce() -> A>,
) -> anyhow::Result<Summary> {
    // One client per user, all built before the first starts, so that a failure is an error
    // here rather than a user quietly missing.
    let clients = (1..=options.users)
        .map(|number| user::client(&format!("user-{number}")))
        .collect::<Result<Vec<_>, _>>()?;
    let shared = Arc::new(Shared {
        url: options.url.clone(),
        max_index: options.max_index,
        think_ms: think_ms(options.duration),
        tickets_left: AtomicU64::new(options.max_requests.unwrap_or(u64::MAX)),
        done: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        in_flight: AtomicU64::new(0),
        records: Mutex::new(Vec::new()),
        stop: watch::channel(None).0,
    });

    eprintln!(
        "loadgen: {} users pressing Go at {} (index 0 up to {}) for {:?}{}; Ctrl-C stops early",
        options.users,
        options.url,
        options.max_index,
        options.duration,
        options
            .max_requests
            .map_or(String::new(), |n| format!(" or {n} requests"))
    );
    let started = Instant::now();
    // Each user gets its own generator, seeded from one made with the run's seed: the same seed
    // gives every user the same stop points and think times, and users differ from each other.
    let mut seeds = Rng::new(options.seed);
    let mut users = JoinSet::new();
    for client in clients {
        users.spawn(user::run(
            client,
            Rng::new(seeds.next_u64()),
            shared.clone(),
        ));
    }
    let progress = tokio::spawn(report_progress(shared.clone(), started));

    // 1. Run until the duration has passed, a user found the request budget spent, or Ctrl-C.
    let mut stopped = shared.stop.subscribe();
    tokio::select! {
        () = tokio::time::sleep_until((started + options.duration).into()) => {
            shared.stop(StopReason::Duration);
        }
        () = interrupt => shared.stop(StopReason::Interrupted),
        _ = stopped.wait_for(Option::is_some) => {}
    }
    let reason = shared
        .stop
        .borrow()
        .expect("a reason to stop was set just above");

    // 2. Let the requests in flight finish; users start no new one. From now on (not before),
    //    `abandon` gives up on them.
    let abandon = abandon.map(|abandon| abandon());
    let in_flight = shared.in_flight.load(Ordering::SeqCst);
    if in_flight > 0 {
        eprintln!(
            "loadgen: stopping: waiting for {in_flight} requests in flight (at most {:?}{})",
            user::REQUEST_TIMEOUT,
            if abandon.is_some() {
                "; Ctrl-C abandons them"
            } else {
                ""
            }
        );
    }
    let mut abandon = pin!(async move {
        match abandon {
            Some(abandon) => abandon.await,
            None => std::future::pending().await,
        }
    });
    let mut abandoned = false;
    loop {
        tokio::select! {
            next = users.join_next() => match next {
                None => break,
                Some(Ok(())) => {}
                // An abandoned user; its request in flight is counted below.
                Some(Err(err)) if err.is_cancelled() => {}
                // A user panicked: a bug, to be seen as one.
                Some(Err(err)) => std::panic::resume_unwind(err.into_panic()),
            },
            () = &mut abandon, if !abandoned => {
                users.abort_all();
                abandoned = true;
            }
        }
    }
    let elapsed = started.elapsed();
    progress.abort();

    let records = std::mem::take(&mut *shared.records.lock().expect("no user panicked"));
    let mut summary = Summary::new(&options, reason, elapsed, &records);
    // A user counts a request out of flight right after recording it, and an abandoned user
    // was stopped at its `.await`, between the two: so what is still in flight was never recorded.
    summary.abandoned = shared.in_flight.load(Ordering::SeqCst);
    Ok(summary)
}

/// Asks the app for `/fib?index=0` once, to say plainly when it is not running.
async fn check_app(url: &str) -> anyhow::Result<()> {
    let client = user::client("check")?;
    let record = user::ask(&client, url, 0).await;
    match record.outcome {
        outcome if outcome.is_success() => Ok(()),
        Outcome::FailedToConnect => bail!(
            "no app answers at {url}: start it with ./run.sh (or ./run.sh NN) in another terminal"
        ),
        Outcome::TimedOut => bail!(
            "the app at {url} did not answer /fib?index=0 within {:?}: is it stuck? Restart it",
            user::REQUEST_TIMEOUT
        ),
        Outcome::Failed => bail!(
            "the app at {url} closed the connection without answering /fib?index=0: \
             is it the workshop app?"
        ),
        Outcome::Answered { status, .. } => {
            bail!("{url}/fib?index=0 answered {status}, not the number 0: is it the workshop app?")
        }
    }
}

/// Think times, in milliseconds: 100 ms to 1 s, as a learner's, but shorter for short runs, so
/// that a 2 s run is not mostly thinking (one twentieth of the run at most).
pub fn think_ms(duration: Duration) -> (u64, u64) {
    let high = (duration.as_millis() / 20).clamp(1, 1000) as u64;
    (high / 10, high)
}

/// One line on stderr every second: the summary goes to stdout, and stays clean for a pipe.
async fn report_progress(shared: Arc<Shared>, started: Instant) {
    let second = Duration::from_secs(1);
    let mut ticks = tokio::time::interval_at((started + second).into(), second);
    loop {
        ticks.tick().await;
        eprintln!(
            "loadgen: {:>5.1} s  {:>7} requests  {:>5} errors",
            started.elapsed().as_secs_f64(),
            shared.done.load(Ordering::SeqCst),
            shared.errors.load(Ordering::SeqCst),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_can_be_spawned_on_another_task() {
        fn assert_send<T: Send>(_: &T) {}
        let options = Options {
            url: "http://127.0.0.1:9".into(),
            users: 1,
            duration: Duration::from_secs(1),
            max_index: 1,
            max_requests: None,
            seed: 0,
        };
        assert_send(&run(options.clone()));
        assert_send(&run_until(options, async {}));
    }

    #[test]
    fn think_times_are_a_learners_but_shorter_for_short_runs() {
        assert_eq!(think_ms(Duration::from_secs(30)), (100, 1000));
        assert_eq!(think_ms(Duration::from_secs(600)), (100, 1000));
        assert_eq!(think_ms(Duration::from_secs(2)), (10, 100));
        assert_eq!(think_ms(Duration::from_millis(1)), (0, 1));
    }
}
