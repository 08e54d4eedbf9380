//! # Step 02 solved with `tracing` + `tracing-opentelemetry`, an alternative the checker must accept
//!
//! Run with: `cargo run -p alternative-02-tracing` (a Collector at `localhost:4318`, or
//! `OTEL_EXPORTER_OTLP_ENDPOINT` elsewhere).
//!
//! The same app and the same spans as `solutions/02-otlp`: a server span `GET /fib` per request,
//! sent over OTLP under the service name `fib`. Only the way spans are made differs: `tracing`
//! spans, which the OpenTelemetry layer turns into OpenTelemetry spans (`telemetry.rs`).

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
