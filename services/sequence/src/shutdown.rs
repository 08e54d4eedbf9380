//! Stopping cleanly on Ctrl-C or SIGTERM.
//!
//! A server usually stops listening as soon as it is asked to stop, then finishes the requests it
//! has. This one cannot: a `/fib` request in flight still has to call *this same server* for its
//! sub-results, and those calls would find the door shut. So [`Drain`] waits for the requests in
//! flight to finish (listening all the while) and only then lets `axum` close the listener; `main`
//! then flushes the telemetry and prints "Stopped.".
//!
//! # One Ctrl-C, one stop
//!
//! A Ctrl-C in a terminal often reaches the app twice. The terminal sends SIGINT to its whole
//! foreground process group: `./run.sh`'s launcher and the app both get it. The launcher, which
//! cannot tell a Ctrl-C from a `kill <its pid>`, passes what it gets on to the app as a SIGTERM
//! (it must, or `kill` would stop nothing): a tenth of a second later, the app has a second
//! signal. So signals are counted as *presses*: a signal less than [`SAME_PRESS`] (half a second)
//! after the last press is that same press, and changes nothing. A person who means it presses
//! again later than that:
//!
//! 1. the first press: stop listening once the requests in flight are done (at most the grace,
//!    `SHUTDOWN_GRACE_SECS`), then `main` flushes the telemetry as usual;
//! 2. a second press: stop now. The requests in flight are no longer waited for (`axum` returns,
//!    and their sub-requests fail), but `main` still flushes what telemetry is ready, for at most
//!    [`STOP_NOW_FLUSH`]: then the process exits with status 130 whatever is left. The bound is
//!    ours, not the SDK's: its shutdown waits up to 5 s for each of the three providers, and an
//!    export to a Collector that does not answer can take the exporter's own timeout (10 s);
//! 3. a third press: exit at once, status 130.

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::task::TaskTracker;

/// Two signals closer together than this are one press of Ctrl-C: the terminal's SIGINT and the
/// SIGTERM that `./run.sh` passes on.
pub const SAME_PRESS: Duration = Duration::from_millis(500);

/// After a second press ("stop now"), how long `main` still has to flush its telemetry before
/// the process exits anyway.
pub const STOP_NOW_FLUSH: Duration = Duration::from_secs(3);

/// Counts the requests in flight, and tells `axum` when to stop.
#[derive(Clone)]
pub struct Drain {
    in_flight: TaskTracker,
    grace: Duration,
}

impl Drain {
    /// `grace`: how long requests in flight get to finish once a stop is asked for.
    pub fn new(grace: Duration) -> Drain {
        Drain {
            in_flight: TaskTracker::new(),
            grace,
        }
    }

    /// Wraps the app so that every request is counted while it runs.
    ///
    /// Every step's `main` passes its router through here, from outside: so this is also where
    /// the kit tells the page which trace each answer is in ([`crate::trace_link::layer`]),
    /// without a line in the learner's code.
    pub fn track(&self, app: Router) -> Router {
        let in_flight = self.in_flight.clone();
        crate::trace_link::layer(app).layer(middleware::from_fn(
            move |request: Request, next: Next| in_flight.track_future(next.run(request)),
        ))
    }

    /// Completes once a stop was asked for and the requests in flight are done (or `grace` ran
    /// out, or a second press asked to stop now). Pass it to
    /// `axum::serve(…).with_graceful_shutdown(…)`.
    pub async fn stop_requested(self) {
        let mut presses = Presses::of_signals();
        presses.next().await;
        let busy = self.in_flight.len();
        if busy > 0 {
            eprintln!(
                "Stopping: finishing {busy} request(s) in flight (at most {} s; Ctrl-C again to stop now)…",
                self.grace.as_secs()
            );
        } else {
            eprintln!("Stopping…");
        }
        self.in_flight.close();

        // The later presses are watched for from a task of their own, until the process ends:
        // the flush that follows in `main` may take a while too.
        let (stop_now, stop_now_asked) = oneshot::channel();
        tokio::spawn(async move {
            presses.next().await;
            eprintln!(
                "Stopping now, without waiting for the requests in flight; sending the telemetry \
                 that is ready (at most {} s; Ctrl-C again to skip it)…",
                STOP_NOW_FLUSH.as_secs()
            );
            let _ = stop_now.send(());
            tokio::select! {
                () = tokio::time::sleep(STOP_NOW_FLUSH) => {},
                () = presses.next() => {},
            }
            eprintln!("Stopped without sending all of the telemetry.");
            std::process::exit(130);
        });

        tokio::select! {
            finished = tokio::time::timeout(self.grace, self.in_flight.wait()) => {
                if finished.is_err() {
                    eprintln!(
                        "Stopping: {} request(s) still running after {} s; they will fail.",
                        self.in_flight.len(),
                        self.grace.as_secs()
                    );
                }
            }
            _ = stop_now_asked => {}
        }
    }
}

/// Signals counted as presses of Ctrl-C (see the module's documentation): each signal arrives
/// with the instant it came at.
struct Presses {
    signals: mpsc::UnboundedReceiver<Instant>,
    last: Option<Instant>,
}

impl Presses {
    /// Ctrl-C (SIGINT) and SIGTERM from now on, for as long as the process runs. The listeners
    /// are made once, here: a signal that comes between two presses is not lost.
    fn of_signals() -> Presses {
        let (sender, signals) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let mut listener = Signals::listen();
            loop {
                listener.next().await;
                if sender.send(Instant::now()).is_err() {
                    return;
                }
            }
        });
        Presses::from(signals)
    }

    fn from(signals: mpsc::UnboundedReceiver<Instant>) -> Presses {
        Presses {
            signals,
            last: None,
        }
    }

    /// Completes at the next press: the next signal at least [`SAME_PRESS`] after the last one.
    async fn next(&mut self) {
        while let Some(came) = self.signals.recv().await {
            if self
                .last
                .is_some_and(|last| came.saturating_duration_since(last) < SAME_PRESS)
            {
                continue;
            }
            self.last = Some(came);
            return;
        }
        std::future::pending::<()>().await;
    }
}

/// Ctrl-C (SIGINT) and, on Unix, SIGTERM (what `docker stop` and `kill` send), each received
/// through one listener for the life of the process.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn listen() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                interrupt: signal(SignalKind::interrupt()).expect("the Ctrl-C handler installs"),
                terminate: signal(SignalKind::terminate()).expect("the SIGTERM handler installs"),
            }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {},
            _ = self.terminate.recv() => {},
        }
        #[cfg(not(unix))]
        tokio::signal::ctrl_c()
            .await
            .expect("the Ctrl-C handler installs");
    }
}

/// Completes on Ctrl-C (SIGINT) or, on Unix, SIGTERM (what `docker stop` and `kill` send).
pub async fn signal() {
    Signals::listen().next().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Presses from signals that came at these offsets (in ms) from a start: the offsets of the
    /// presses, as many as there are.
    async fn presses_of(signals_at_ms: &[u64]) -> Vec<u64> {
        let start = Instant::now();
        let (sender, receiver) = mpsc::unbounded_channel();
        for offset in signals_at_ms {
            sender.send(start + Duration::from_millis(*offset)).unwrap();
        }
        let mut presses = Presses::from(receiver);
        let mut seen = Vec::new();
        while tokio::time::timeout(Duration::from_millis(50), presses.next())
            .await
            .is_ok()
        {
            let last = presses.last.expect("a press was noted");
            seen.push(last.duration_since(start).as_millis() as u64);
        }
        seen
    }

    #[tokio::test]
    async fn a_second_signal_within_half_a_second_is_the_same_ctrl_c() {
        // The terminal's SIGINT, then the SIGTERM that ./run.sh passes on 100 ms later.
        assert_eq!(presses_of(&[0, 100]).await, [0]);
        // Even a burst of them, as long as each is within half a second of the press.
        assert_eq!(presses_of(&[0, 1, 200, 499]).await, [0]);
    }

    #[tokio::test]
    async fn a_signal_half_a_second_or_more_after_the_press_is_another_press() {
        assert_eq!(presses_of(&[0, 500]).await, [0, 500]);
        // Ctrl-C twice, a second apart, each delivered twice: two presses, not four.
        assert_eq!(presses_of(&[0, 100, 1000, 1100]).await, [0, 1000]);
        // The half second counts from the press, not from the signals that were the same press.
        assert_eq!(presses_of(&[0, 400, 800]).await, [0, 800]);
    }
}
