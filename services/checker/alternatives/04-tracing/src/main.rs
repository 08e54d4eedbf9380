//! # Step 04 solved with `tracing` + `tracing-opentelemetry`, an alternative the checker must accept
//!
//! Run with: `cargo run -p alternative-04-tracing` (a Collector at `localhost:4318`, or
//! `OTEL_EXPORTER_OTLP_ENDPOINT` elsewhere).
//!
//! The same app and the same spans as `solutions/04-attributes`: server and client spans with
//! the HTTP semantic conventions' attributes, one trace per click, an internal span `fib` per
//! request with `fib.index` and `fib.result`, a `sum` event, and errors as status Error with an
//! `exception` event. The spans are `tracing` spans, which the OpenTelemetry layer turns into
//! OpenTelemetry spans (`telemetry.rs`).

mod server;
// Step 03's telemetry, unchanged: step 04 is all in server.rs.
#[path = "../../03-tracing/src/telemetry.rs"]
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
