//! Head sampling: which traces to keep, decided once, at the root of each trace.

// TODO(08): Write the app's sampler, `sampler`, for `init_traces` to install:
//   1. the share of new traces to keep, from 0 to 1, as OTEL_TRACES_SAMPLER_ARG gives it
//      (`otelkit::sampler_ratio` reads it as the SDK would, and refuses what the SDK would
//      silently take for "keep everything": `0,25`, `25%`);
//   2. the SDK's sampler for it: a share of the traces that start here, decided by trace id,
//      and for a span with a parent, whatever the parent decided (the `traceparent` header
//      carries the decision). Why does that keep each /fib trace whole?
//   3. a sampler of your own around it, `WithSampleRate`, which decides exactly as the SDK's
//      does, and writes `SampleRate` (an integer, round(1 / ratio): 4 for 0.25) on every span
//      it keeps. Why: a backend that sees one trace in four must count each as four (Honeycomb
//      reads `SampleRate`).
//   Look up: the SDK's `Sampler`, `ShouldSample`, `SamplingResult` and `SamplingDecision`.
//   https://docs.rs/opentelemetry_sdk/0.33.1/opentelemetry_sdk/trace/enum.Sampler.html
//   https://docs.rs/opentelemetry_sdk/0.33.1/opentelemetry_sdk/trace/trait.ShouldSample.html
