//! One virtual user: think, press Go, watch the numbers arrive, press Stop, and again.
//!
//! Go asks `/fib?index=0`, then `1`, `2`, … one request after another, as the page does. The
//! user presses Stop after a stop point picked at random, or the page stops by itself at the
//! first error. Then the user thinks a moment before pressing Go again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::rng::Rng;
use crate::summary::{Outcome, Record, StopReason};

/// The longest one request may take, answer included. The app's own sub-requests give up after
/// 10 s by default (`FIB_UPSTREAM_TIMEOUT_MS`) and it answers 502, so an app that has not
/// answered by then is stuck rather than slow.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// What all users of one run share.
pub struct Shared {
    pub url: String,
    pub max_index: u32,
    /// Think times are drawn from this range, in milliseconds.
    pub think_ms: (u64, u64),
    /// The request budget (`--requests`): a user takes a ticket before each request, and stops
    /// when there is none left. Taking one is a single atomic step, so that however many users
    /// race for the last ticket, exactly one gets it: the run makes exactly `--requests` requests
    /// (unless the duration ends it first).
    pub tickets_left: AtomicU64,
    /// Requests finished, and those of them that were not a right answer: for the progress line.
    pub done: AtomicU64,
    pub errors: AtomicU64,
    /// Requests sent and not yet recorded.
    pub in_flight: AtomicU64,
    /// Every finished request. A std Mutex: it is held for one `push`, never across an `.await`.
    pub records: Mutex<Vec<Record>>,
    /// `None` while running; the first reason to stop wins and is kept.
    pub stop: watch::Sender<Option<StopReason>>,
}

impl Shared {
    /// Asks everyone to stop, for `reason` unless another reason came first.
    pub fn stop(&self, reason: StopReason) {
        self.stop.send_if_modified(|current| {
            let first = current.is_none();
            if first {
                *current = Some(reason);
            }
            first
        });
    }

    fn take_ticket(&self) -> bool {
        self.tickets_left
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            })
            .is_ok()
    }
}

/// Runs one user, with its own `client` and `rng`, until the run stops.
pub async fn run(client: reqwest::Client, mut rng: Rng, shared: Arc<Shared>) {
    let mut stop = shared.stop.subscribe();
    let (think_low, think_high) = shared.think_ms;
    loop {
        // Think first: a room of learners does not press Go at the same instant.
        let think = Duration::from_millis(rng.in_range(think_low..=think_high));
        tokio::select! {
            () = tokio::time::sleep(think) => {}
            _ = stop.wait_for(Option::is_some) => return,
        }
        let stop_point = rng.in_range(1..=u64::from(shared.max_index)) as u32;
        for index in 0..=stop_point {
            if stop.borrow().is_some() {
                return;
            }
            if !shared.take_ticket() {
                shared.stop(StopReason::Requests);
                return;
            }
            // A request in flight is not cancelled when the run stops: it finishes, or times out.
            // Only a second Ctrl-C aborts this task, here at the `.await`; then `in_flight`
            // stays up by one, and that is how the summary counts it as abandoned.
            shared.in_flight.fetch_add(1, Ordering::SeqCst);
            let record = ask(&client, &shared.url, index).await;
            shared
                .records
                .lock()
                .expect("no user panics while holding the lock")
                .push(record);
            shared.in_flight.fetch_sub(1, Ordering::SeqCst);
            shared.done.fetch_add(1, Ordering::SeqCst);
            if !record.outcome.is_success() {
                shared.errors.fetch_add(1, Ordering::SeqCst);
                break; // the page stops at the first error
            }
        }
    }
}

/// One client per user, like one browser per learner: its own connection, kept open between
/// requests, and its own `User-Agent` ending in `label` (`user-3`), so that the app's traces
/// (and the tests) can tell users apart.
pub fn client(label: &str) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(format!("loadgen/{} {label}", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(2))
        .timeout(REQUEST_TIMEOUT)
        .build()
}

/// `GET {url}/fib?index={index}`, and checks the answer against F(index).
pub async fn ask(client: &reqwest::Client, url: &str, index: u32) -> Record {
    let started = Instant::now();
    let outcome = match client.get(format!("{url}/fib?index={index}")).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            // The whole body is read, for every status: the answer's latency includes it, and a
            // connection is only reused once its response has been read to the end.
            match response.text().await {
                Ok(body) => Outcome::Answered {
                    status,
                    right: (200..300).contains(&status)
                        && body.trim() == sequence::fib_iterative(index).to_string(),
                },
                Err(err) => failure(&err),
            }
        }
        Err(err) => failure(&err),
    };
    Record {
        index,
        outcome,
        latency: started.elapsed(),
    }
}

fn failure(err: &reqwest::Error) -> Outcome {
    if err.is_connect() {
        Outcome::FailedToConnect
    } else if err.is_timeout() {
        Outcome::TimedOut
    } else {
        Outcome::Failed
    }
}
