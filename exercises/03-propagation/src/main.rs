//! # Step 03: one trace per click, carried across HTTP calls
//!
//! Run with: `docker compose up -d`, then `./run.sh 03` (or `cargo run -p exercise-03-propagation`),
//! ask for `/fib?index=5`, and look in Jaeger at <http://localhost:16686>: fifteen traces of one
//! span each, where there should be one trace of 29.
//!
//! The step's README.md has the goal and what you should see. Each `TODO(03)` says what to do
//! there; stuck, `./run.sh hint 03` gives a hint, one level more each time you ask.
//!
//! `GET /fib?index=N` answers F(N), the N-th Fibonacci number. For N ≥ 2 it does not compute
//! anything itself: it asks *this same server* for F(N-1) and F(N-2) over HTTP, both at once,
//! and adds the answers. So one `/fib?index=5` makes 15 requests in all, 5 of them for index 1.
//! Why that gets slow, and how to see it, is what the workshop is about.
//!
//! Three files:
//! - `main.rs` (this one): start, serve, stop;
//! - `server.rs`: the routes and the `/fib` handler;
//! - `telemetry.rs`: the tracer provider, and its shutdown.
//!
//! The parts that no step changes (the page, reading `?index=`, the settings) are in the
//! `sequence` crate under `services/sequence`.

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

    // What the libraries have to say, on the console, once and plainly. From step 02 on, that
    // includes "could not send spans to …": the OpenTelemetry SDK says so no other way.
    sequence::warnings::init();

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

    // Every request has been answered: now flush their spans.
    telemetry::shutdown(tracer_provider).await;
    println!("Stopped.");
    Ok(())
}
