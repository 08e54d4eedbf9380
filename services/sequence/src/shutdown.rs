//! Stopping cleanly on Ctrl-C or SIGTERM.
//!
//! A server usually stops listening as soon as it is asked to stop, then finishes the requests it
//! has. This one cannot: a `/fib` request in flight still has to call *this same server* for its
//! sub-results, and those calls would find the door shut. So [`Drain`] waits for the requests in
//! flight to finish (listening all the while) and only then lets `axum` close the listener. A
//! second Ctrl-C stops at once.

use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use tokio_util::task::TaskTracker;

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
    pub fn track(&self, app: Router) -> Router {
        let in_flight = self.in_flight.clone();
        app.layer(middleware::from_fn(move |request: Request, next: Next| {
            in_flight.track_future(next.run(request))
        }))
    }

    /// Completes once a stop was asked for and the requests in flight are done (or `grace` ran
    /// out). Pass it to `axum::serve(…).with_graceful_shutdown(…)`.
    pub async fn stop_requested(self) {
        signal().await;
        // From here on, a second Ctrl-C or SIGTERM ends the process without waiting.
        tokio::spawn(async {
            signal().await;
            eprintln!("Stopping now, without waiting.");
            std::process::exit(130);
        });
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
        if tokio::time::timeout(self.grace, self.in_flight.wait())
            .await
            .is_err()
        {
            eprintln!(
                "Stopping: {} request(s) still running after {} s; they will fail.",
                self.in_flight.len(),
                self.grace.as_secs()
            );
        }
    }
}

/// Completes on Ctrl-C (SIGINT) or, on Unix, SIGTERM (what `docker stop` and `kill` send).
pub async fn signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c()
            .await
            .expect("the Ctrl-C handler installs");
    };
    #[cfg(unix)]
    let terminate = async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("the SIGTERM handler installs")
            .recv()
            .await;
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
