//! # Step 07: metrics and logs, beside the traces
//!
//! Run with: `./run.sh 07` (or `cargo run -p exercise-07-metrics-logs`), press **Go**, and look
//! for the explorer's **Metrics** and **Logs** pages to fill: they stay empty until this step is
//! done. `./run.sh check 07` says how far you are; stuck at a `TODO(07)`, `./run.sh hint 07`
//! gives a hint, one level more each time you ask.
//!
//! `GET /fib?index=N` answers F(N), the N-th Fibonacci number, asking *this same server* for
//! F(N-1) and F(N-2) over HTTP and remembering each number once it is known (step 06). Traces
//! show one request at a time; this step adds the other two signals of OpenTelemetry:
//! - **metrics**, numbers added up in the app and sent every few seconds: how long requests
//!   take (`http.server.request.duration`), how often each index is computed (`fib.calls`);
//! - **logs**, the app's own `tracing` events as log records, each carrying the trace id and
//!   span id of the request it was written in.
//!
//! Four files so far, and two to write (`metrics.rs`, `logs.rs`: see the `TODO(07)` below):
//! - `main.rs` (this one): start, serve, stop;
//! - `server.rs`: the routes and the `/fib` handler;
//! - `conventions.rs`: the HTTP semantic conventions' attributes of a request;
//! - `telemetry.rs`: the tracer provider, and its shutdown.
//!
//! The parts that no step changes (the page, reading `?index=`, the settings) are in the
//! `sequence` crate under `services/sequence`.

mod conventions;
// TODO(07): Two new files, `src/metrics.rs` and `src/logs.rs` (their TODOs say what goes in):
//   declare them here as modules.
mod server;
mod telemetry;

use sequence::Config;
use sequence::shutdown::Drain;

// A start-up error (a taken port, a bad setting) is printed as one line that says what to do,
// with no backtrace whatever RUST_BACKTRACE says, and the app exits with status 1.
#[tokio::main]
async fn main() -> Result<(), sequence::Fatal> {
    // 1. Settings from flags, the environment or `.env`; every one has a default (see `--help`).
    let config = Config::load();

    // TODO(07): From this step, the app installs a `tracing` subscriber of its own (in `logs.rs`),
    //   and a process has only one: these warnings move into yours, as one of its layers
    //   (`sequence::warnings::layer`), and are no longer installed here.
    // What the libraries have to say, on the console, once and plainly. From step 02 on, that
    // includes "could not send spans to …": the OpenTelemetry SDK says so no other way.
    sequence::warnings::init();

    // TODO(07): Set up the three signals with one call (your `telemetry::init`), and keep what it
    //   returns until the end.
    // Telemetry first, so that every request is traced. `main` owns the provider until the end.
    let tracer_provider = telemetry::init_traces()?;

    // 2. Listen before anything else: `/fib` calls this server, so it needs to know its own URL.
    let listener = sequence::net::bind(&config).await?;
    let url = sequence::net::local_url(listener.local_addr()?);
    let state = server::AppState::new(&config, &url)?;

    // 3. Serve until Ctrl-C or SIGTERM. `Drain` lets the requests in flight finish first: they
    //    still need this server to answer their sub-requests.
    let drain = Drain::new(config.shutdown_grace());
    let app = drain.track(server::app(state));
    println!("Sequence of numbers: {url}  (Ctrl-C to stop)");
    axum::serve(listener, app)
        .with_graceful_shutdown(drain.stop_requested())
        .await?;

    // TODO(07): Shut all three down here, with what `init` returned: what would a short run lose
    //   otherwise?
    // Every request has been answered: now flush their spans.
    telemetry::shutdown(tracer_provider).await;
    println!("Stopped.");
    Ok(())
}
