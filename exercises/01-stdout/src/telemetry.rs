//! Telemetry for step 01: a tracer provider whose spans are printed on the terminal.
//!
//! The order of things, which every later step keeps:
//! 1. `main` calls [`init_traces`] first, before the server exists, so that no request goes
//!    untraced;
//! 2. `main` keeps the provider it returns for as long as the server runs;
//! 3. once the server has stopped, `main` calls [`shutdown`], which flushes the spans that are
//!    still waiting. Skip it, and the last requests' spans are lost.

// TODO(01): Write the two functions `main` needs, then declare this module in main.rs.
//
//   pub fn init_traces() -> SdkTracerProvider
//     Build a tracer provider (`SdkTracerProvider::builder()`) whose spans go to the stdout
//     exporter (`opentelemetry_stdout::SpanExporter::default()`) one by one, as each span ends
//     (`.with_simple_exporter(…)`). Install it for the whole app
//     (`opentelemetry::global::set_tracer_provider(provider.clone())`) and return it.
//
//   pub async fn shutdown(provider: SdkTracerProvider)
//     Call `provider.shutdown()` and print the error if there is one. It blocks until the
//     exporter is done, so run it with `tokio::task::spawn_blocking(move || …).await`.
//
//   Docs: https://docs.rs/opentelemetry_sdk/0.33.1/opentelemetry_sdk/trace/struct.SdkTracerProvider.html
