//! Telemetry for step 01: a tracer provider whose spans are printed on the terminal.
//!
//! The order of things, which every later step keeps:
//! 1. `main` calls [`init_traces`] first, before the server exists, so that no request goes
//!    untraced;
//! 2. `main` keeps the provider it returns for as long as the server runs;
//! 3. once the server has stopped, `main` calls [`shutdown`], which flushes the spans that are
//!    still waiting. Skip it, and the last requests' spans are lost.

// TODO(01): Write the two functions `main` needs, then declare this module in main.rs.
//   - `init_traces`: builds a tracer provider whose spans are printed on the terminal, each as
//     soon as it ends; installs it for the whole app, so that `global::tracer` hands out its
//     tracers; and returns it, for `main` to keep.
//   - `shutdown` (async): shuts that provider down, which sends what it still holds, and says
//     so if that fails. It blocks until the exporter is done: keep it off the async threads.
//   Look up: `SdkTracerProvider` and its builder, `opentelemetry_stdout::SpanExporter`,
//   `global::set_tracer_provider`, `tokio::task::spawn_blocking`.
//   https://docs.rs/opentelemetry_sdk/0.33.1/opentelemetry_sdk/trace/struct.SdkTracerProvider.html
//   https://docs.rs/opentelemetry/0.33.1/opentelemetry/global/index.html
//   https://docs.rs/tokio/1.54.1/tokio/task/fn.spawn_blocking.html
