//! Telemetry for step 01: a tracer provider whose spans are printed on the terminal.
//!
//! The order of things, which every later step keeps:
//! 1. `main` calls [`init_traces`] first, before the server exists, so that no request goes
//!    untraced;
//! 2. `main` keeps the provider it returns for as long as the server runs;
//! 3. once the server has stopped, `main` calls [`shutdown`], which flushes the spans that are
//!    still waiting. Skip it, and the last requests' spans are lost.

use opentelemetry::global;
use opentelemetry_sdk::trace::SdkTracerProvider;

/// Builds the tracer provider, the factory of tracers, and installs it for the whole app.
pub fn init_traces() -> SdkTracerProvider {
    // The stdout exporter prints every span. A "simple" processor hands each span to it as soon
    // as the span ends: good for a first look, too slow for real traffic (step 02 batches).
    // ANCHOR: provider
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(opentelemetry_stdout::SpanExporter::default())
        .build();

    // Installed globally, `global::tracer(…)` anywhere in the app hands out tracers of this
    // provider. Until then it hands out tracers that record nothing.
    global::set_tracer_provider(provider.clone());
    // ANCHOR_END: provider
    provider
}

/// Sends what is left, then stops the exporter. Call it after the server has stopped.
pub async fn shutdown(provider: SdkTracerProvider) {
    // `shutdown` blocks until the exporter is done: run it on a thread meant for blocking,
    // not on one of the few threads that run async tasks.
    // ANCHOR: shutdown
    match tokio::task::spawn_blocking(move || provider.shutdown()).await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => eprintln!("telemetry: shutting down the tracer provider: {err}"),
        Err(err) => eprintln!("telemetry: shutting down the tracer provider: {err}"),
    }
    // ANCHOR_END: shutdown
}
