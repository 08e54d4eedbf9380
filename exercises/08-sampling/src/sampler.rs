//! Head sampling: which traces to keep, decided once, at the root of each trace.

// TODO(08): Write the app's sampler, `pub fn sampler() -> anyhow::Result<WithSampleRate>`:
//   1. the share of new traces to keep, from 0 to 1: `otelkit::sampler_ratio()?` reads
//      OTEL_TRACES_SAMPLER_ARG as the SDK would, and refuses what the SDK would silently take
//      for "keep everything" (`0,25`, `25%`);
//   2. the SDK's sampler for it: `Sampler::TraceIdRatioBased(ratio)` decides for traces that
//      start here, by trace id; wrapped in `Sampler::ParentBased(Box::new(…))`, a span with a
//      parent does as its parent did (the `traceparent` header carries the decision). Why does
//      that keep each /fib trace whole?
//   3. a sampler of your own around it, `WithSampleRate`: it holds the SDK's `Sampler` and the
//      rate, round(1 / ratio), e.g. 4 for 0.25, and implements `ShouldSample`
//      (`opentelemetry_sdk::trace`). Its `should_sample` asks the inner sampler and, when the
//      decision is `SamplingDecision::RecordAndSample`, adds `KeyValue::new("SampleRate", rate)`
//      (an integer) to the result's attributes: the SDK puts them on the span. Why: a backend
//      that sees one trace in four must count each as four (Honeycomb reads `SampleRate`).
