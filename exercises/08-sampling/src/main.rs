//! # Step 08: sampling, in the SDK and in the Collector
//!
//! Run with: `OTEL_TRACES_SAMPLER=parentbased_traceidratio OTEL_TRACES_SAMPLER_ARG=0.25` in
//! `.env`, then `./run.sh 08` (or `cargo run -p exercise-08-sampling`), press **Go** a few times, and
//! count the traces in the explorer: about one click in four, each trace whole, each of its
//! spans saying `SampleRate = 4`. The metrics still count every request. Stuck at a
//! `TODO(08)`? `./run.sh hint 08` gives a hint, one level more each time you ask.
//!
//! `GET /fib?index=N` answers F(N), asking *this same server* for F(N-1) and F(N-2) over HTTP
//! and remembering each number once known (step 06), with traces, metrics and logs (step 07).
//! At scale, keeping every trace costs more than it tells: this step keeps a share of them,
//! decided once at the root of each trace and followed by every span after it (the
//! `traceparent` header carries the decision), and leaves errors and slow traces to the
//! Collector's tail sampling (`collector/sampling.yaml`).
//!
//! Six files, as in step 07, and one to write (`sampler.rs`: see the `TODO(08)` below):
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
// TODO(08): The sampler gets a file of its own, `src/sampler.rs` (its TODO says what goes in):
//   declare it here as a module.
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
