//! # Step 07: metrics and logs, beside the traces
//!
//! Run with: `./run.sh 07 --solution` (or `cargo run -p solution-07-metrics-logs`), press **Go**,
//! and open the explorer's **Metrics** page (the requests' durations by route and status, the
//! computations by index) and its **Logs** page (a line per number computed, a warning per bad
//! index), each log line linked to the trace of the request that wrote it.
//!
//! `GET /fib?index=N` answers F(N), the N-th Fibonacci number, asking *this same server* for
//! F(N-1) and F(N-2) over HTTP and remembering each number once it is known (step 06). Traces
//! show one request at a time; this step adds the other two signals of OpenTelemetry:
//! - **metrics**, numbers added up in the app and sent every few seconds: how long requests
//!   take (`http.server.request.duration`), how often each index is computed (`fib.calls`);
//! - **logs**, the app's own `tracing` events as log records, each carrying the trace id and
//!   span id of the request it was written in.
//!
//! Six files:
//! - `main.rs` (this one): start, serve, stop;
//! - `server.rs`: the routes and the `/fib` handler, with their spans, counter and log events;
//! - `conventions.rs`: the HTTP semantic conventions' attributes of a request (step 04);
//! - `telemetry.rs`: the three providers together, the traces' own, and their shutdown;
//! - `metrics.rs`: the meter provider, the instruments, and the request duration's middleware;
//! - `logs.rs`: the logger provider, and the bridge from `tracing` events to log records.
//!
//! The parts that no step changes (the page, reading `?index=`, the settings) are in the
//! `sequence` crate under `services/sequence`.

mod conventions;
mod logs;
mod metrics;
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

    // The console's warnings, which `main` installed alone until step 06, are a layer of the
    // app's own `tracing` subscriber now (see `logs.rs`): a process has one subscriber.

    // Telemetry first, so that every request is traced, measured and logged: the instruments
    // are made in `AppState::new`, from the meter provider. `main` owns the providers until the
    // end.
    let telemetry = telemetry::init()?;

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

    // Every request has been answered: now flush their spans, metrics and log records.
    telemetry::shutdown(telemetry).await;
    println!("Stopped.");
    Ok(())
}
