//! Head sampling: which traces to keep, decided once, at the root of each trace.
//!
//! At scale, keeping every trace costs more than it tells. A head sampler decides when a trace
//! starts, before anything is known about it, and every span after that follows the decision:
//! the `traceparent` header carries it to the next process (its last two digits, `-01` kept,
//! `-00` dropped). Errors and slow traces, which only the end of a trace reveals, are left to
//! the Collector's tail sampling (`collector/sampling.yaml`).
//!
//! Each kept span also says how many traces it stands for (`SampleRate`), so that a backend can
//! count the requests that were not kept.

use opentelemetry::trace::{Link, SpanKind, TraceId};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::trace::{Sampler, SamplingDecision, SamplingResult, ShouldSample};

/// The app's sampler: the share of new traces `OTEL_TRACES_SAMPLER_ARG` gives (0.25 keeps one in
/// four), decided by trace id; a span with a parent does as its parent did.
pub fn sampler() -> anyhow::Result<WithSampleRate> {
    // The share to keep, from 0 to 1. The kit reads it as the SDK would, but refuses what the
    // SDK would silently take for "keep everything" (`0,25`, `25%`), with a message that says
    // what to write.
    let ratio = otelkit::sampler_ratio()?;
    // ANCHOR: sampler
    // Two samplers, one inside the other. The inner one decides for traces that start here: it
    // keeps those whose trace id falls in the first `ratio` of all ids, so every process that
    // sees the same trace id decides the same way. The outer one lets a span with a parent do as
    // its parent did, which keeps each /fib trace whole across its sub-requests.
    let sampler = Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio)));
    // ANCHOR_END: sampler
    Ok(WithSampleRate::new(sampler, ratio))
}

/// The attribute that says how many traces a kept one stands for. The name is Honeycomb's
/// convention (a backend that knows it multiplies counts by it); other backends show it as any
/// other attribute.
const SAMPLE_RATE: &str = "SampleRate";

/// A sampler that decides exactly as another one does, and writes on every span it keeps how
/// many traces that span stands for.
///
/// Why: with a ratio of 0.25, one trace in four is kept. A backend that counts the kept traces
/// counts a quarter of the requests, and a dashboard of "requests per minute" is four times too
/// low, unless every kept span says `SampleRate = 4`: the backend then counts each one four
/// times. The SDK's samplers decide, but they add no attribute; this one does.
#[derive(Debug, Clone)]
pub struct WithSampleRate {
    /// The sampler that decides.
    inner: Sampler,
    /// round(1 / ratio): 4 for 0.25, 10 for 0.1, 1 when everything is kept. `None` for a ratio
    /// of 0: no new trace is kept, and a span kept because its caller decided so (a sampled
    /// `traceparent`) stands for an unknown number of traces.
    rate: Option<i64>,
}

impl WithSampleRate {
    /// Wraps `inner`, which keeps the share `ratio` (0 to 1) of new traces.
    pub fn new(inner: Sampler, ratio: f64) -> WithSampleRate {
        // An integer, as Honeycomb expects: 1 / 0.3 = 3.33 becomes 3.
        let rate = (ratio > 0.0).then(|| (1.0 / ratio).round() as i64);
        WithSampleRate { inner, rate }
    }
}

/// The SDK asks its sampler once per span, before the span exists, with what is known by then:
/// the parent's context (and in it, whether the parent was sampled), the trace id, the span's
/// name, kind, first attributes and links.
impl ShouldSample for WithSampleRate {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        trace_id: TraceId,
        name: &str,
        span_kind: &SpanKind,
        attributes: &[KeyValue],
        links: &[Link],
    ) -> SamplingResult {
        // ANCHOR: sample-rate
        // 1. The decision is the inner sampler's, untouched.
        let mut result =
            self.inner
                .should_sample(parent_context, trace_id, name, span_kind, attributes, links);
        // 2. A kept span gets the rate. The SDK adds the attributes of the result to the span
        //    it creates; a dropped span is never created, so it needs none.
        if result.decision == SamplingDecision::RecordAndSample
            && let Some(rate) = self.rate
        {
            result.attributes.push(KeyValue::new(SAMPLE_RATE, rate));
        }
        result
        // ANCHOR_END: sample-rate
    }
}
