//! # Step 05 solved with `tracing` + `tracing-opentelemetry`, an alternative the checker must accept
//!
//! Run with: `cargo run -p alternative-05-tracing`, with `OTEL_EXPORTER_OTLP_ENDPOINT` at a
//! hosted backend and its key in `HONEYCOMB_API_KEY` or `OTEL_EXPORTER_OTLP_HEADERS` (`.env`).
//!
//! The spans of step 04 (the same `server.rs`), and the exports of `solutions/05-hosted`: every
//! export carries `x-honeycomb-team` when `HONEYCOMB_API_KEY` is set (`telemetry.rs`).

// Step 05 changes nothing in the spans: step 04's server, as it is.
#[path = "../../04-tracing/src/server.rs"]
mod server;
mod telemetry;

use sequence::Config;
use sequence::shutdown::Drain;

// A start-up error (a taken port, a bad setting) is printed as one line that says what to do,
// with no backtrace whatever RUST_BACKTRACE says, and the app exits with status 1.
#[tokio::main]
async fn main() -> Result<(), sequence::Fatal> {
    let config = Config::load();

    // The provider, kept here: the layer's tracer keeps it alive, so dropping this handle would
    // not flush; only `telemetry::shutdown` at the end does.
    let tracer_provider = telemetry::init_traces()?;

    let listener = sequence::net::bind(&config).await?;
    let url = sequence::net::local_url(listener.local_addr()?);
    let state = server::AppState::new(&config, &url)?;

    let drain = Drain::new(config.shutdown_grace());
    let app = drain.track(server::app(state));
    println!("Sequence of numbers: {url}  (Ctrl-C to stop)");
    axum::serve(listener, app)
        .with_graceful_shutdown(drain.stop_requested())
        .await?;

    telemetry::shutdown(tracer_provider).await;
    println!("Stopped.");
    Ok(())
}
