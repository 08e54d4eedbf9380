//! Step 08's expectations: head sampling in the app, tail sampling in the Collector.
//!
//! From one run ([`crate::sampling`]) with `OTEL_TRACES_SAMPLER=parentbased_traceidratio` and
//! `OTEL_TRACES_SAMPLER_ARG=0.25`:
//! - **a quarter**: of [`NEW_TRACES`] new traces, between [`MIN_KEPT`] and [`MAX_KEPT`] are kept
//!   (see there for why so wide);
//! - **whole**: every kept trace has all its spans: each span's parent is there (or is the
//!   caller's span), and there is a server span for each request the app received and a client
//!   span for each sub-request it made, as the proxy counted them for that trace;
//! - **the caller decides**: every request whose `traceparent` says sampled is kept, none of those
//!   whose `traceparent` says not;
//! - **`SampleRate`**: every kept span says how many traces it stands for, the integer 4. The SDK
//!   already reads `OTEL_TRACES_SAMPLER` by itself, so an app that has not done the step passes
//!   the three above: this one is the step's code.
//!
//! And, when the check gives it the file, the Collector's tail sampling in
//! `collector/sampling.yaml` ([`crate::sampling::collector`]).

use std::collections::{BTreeMap, BTreeSet};

use receiver::{ReceivedSpan, SpanKind, Value};

use super::{AppMistake, Evidence, Expectation, Judge, describe, fail, step_03};
use crate::sampling::{CALLERS, Caller, NEW_TRACES, Part, SAMPLE_RATE, Sampled, collector};

/// The fewest and most of the [`NEW_TRACES`] new traces a ratio of 0.25 may keep and pass.
///
/// The number kept is binomial(40, 0.25): 10 on average, with a standard deviation of 2.7. A
/// correct app fails this with probability P(X = 0) + P(X ≥ 22) = 1.0e-5 + 4.9e-5 = 5.9e-5, under
/// one in 10,000 checks (the test `the_bounds_fail_a_correct_app_less_than_once_in_10000`
/// computes it). Any narrower range fails correct apps more often: [1, 20] fails 1.9e-4, [2, 21]
/// 1.9e-4. What it catches is what goes wrong in practice: every trace kept (the sampler not
/// installed, or `AlwaysOn` wrapped), or none (a ratio of 0, `RecordOnly`, `always_off`).
pub const MIN_KEPT: usize = 1;
pub const MAX_KEPT: usize = 21;

/// What goes wrong in step 08.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mistake {
    /// The share of new traces kept is far from `OTEL_TRACES_SAMPLER_ARG`'s.
    SampledShare { kept: usize, of: usize },
    /// Kept traces lack some of their spans.
    PartialTraces { partial: usize, of: usize },
    /// The caller's decision (the sampled flag of `traceparent`) is not followed.
    CallerDecisionIgnored {
        kept_sampled: usize,
        kept_unsampled: usize,
    },
    /// Kept spans lack `SampleRate`, or it is not the integer round(1 / ratio).
    NoSampleRate { found: Option<String> },
    /// The Collector's tail sampling (`collector/sampling.yaml`) is not right yet.
    TailSampling { problems: Vec<String> },
}

impl Mistake {
    pub fn hint(&self) -> String {
        match self {
            Mistake::SampledShare { kept, of } if kept == of => format!(
                "All {of} new traces were kept, with OTEL_TRACES_SAMPLER=parentbased_traceidratio and \
                 OTEL_TRACES_SAMPLER_ARG=0.25. The sampler given to `with_sampler` replaces the one the SDK read \
                 from the environment: it must keep a share of the new traces (the SDK's ratio sampler, inside a \
                 parent-based one), with the ratio `otelkit::sampler_ratio()` reads, not keep them all."
            ),
            Mistake::SampledShare { kept, of } => format!(
                "{kept} of {of} new traces were kept, far from a quarter. Let the SDK's ratio sampler \
                 (`TraceIdRatioBased`) decide, with the ratio `otelkit::sampler_ratio()` reads from \
                 OTEL_TRACES_SAMPLER_ARG, and keep its decision as it is: `RecordAndSample` exports a span, \
                 `RecordOnly` records it and exports nothing, `Drop` drops it."
            ),
            Mistake::PartialTraces { partial, of } => format!(
                "{partial} of {of} kept traces lack spans. The decision must be the same for every span of a \
                 trace: a span is kept when its parent was, and dropped when it was not. A parent-based sampler \
                 (`parentbased_traceidratio`) does that, across processes too, from the flag at the end of \
                 `traceparent`; a decision of your own per span (a random number) splits traces. Pass \
                 `parent_context` on to the inner sampler unchanged."
            ),
            Mistake::CallerDecisionIgnored {
                kept_sampled,
                kept_unsampled,
            } => format!(
                "A caller that sends `traceparent: …-01` has kept the trace, and `…-00` has dropped it: a \
                 parent-based sampler does the same, whatever the ratio. Here {kept_sampled} of the sampled and \
                 {kept_unsampled} of the unsampled callers' traces were kept. `traceidratio` alone decides by the \
                 trace id and ignores the caller: use `parentbased_traceidratio`, and give the inner sampler the \
                 `parent_context` your wrapper receives."
            ),
            Mistake::NoSampleRate { found: None } => "Kept spans carry no `SampleRate`, so a backend counts each \
                kept trace once where it stands for four. The SDK's samplers add no attribute: a sampler of your \
                own (`ShouldSample`) around the SDK's must add it to the spans it keeps, an integer, \
                round(1 / ratio), and be the one given to `with_sampler`."
                .into(),
            Mistake::NoSampleRate { found: Some(found) } => format!(
                "`SampleRate` must be the integer round(1 / ratio), 4 for a ratio of 0.25; found {found}. A backend \
                 multiplies counts by it: an `i64`, not a string or a double, computed from the ratio \
                 `otelkit::sampler_ratio()` returns."
            ),
            Mistake::TailSampling { problems } => format!(
                "Tail sampling lives in collector/sampling.yaml: a `tail_sampling` processor in the traces \
                 pipeline, between `memory_limiter` and `batch`, whose policies keep every error (`status_code`), \
                 every slow trace (`latency`) and a share of the rest (`probabilistic`). First to fix: {}",
                problems.first().map_or("", String::as_str)
            ),
        }
    }
}

pub(super) fn expect(judge: &mut Judge, evidence: &Evidence) {
    if let Some(sampled) = &evidence.sampling {
        sampling(judge, sampled);
    }
}

fn sampling(judge: &mut Judge, sampled: &Sampled) {
    let answered = judge.expect(
        8,
        &format!(
            "with head sampling on, all {} requests are answered as before",
            NEW_TRACES + 2 * CALLERS
        ),
        answers(sampled),
    );
    judge.within(|judge| {
        judge.require(answered);
        judge.expect(
            8,
            &format!(
                "OTEL_TRACES_SAMPLER_ARG=0.25 keeps about a quarter of {NEW_TRACES} new traces \
                 ({MIN_KEPT} to {MAX_KEPT})"
            ),
            a_quarter(sampled),
        );
        judge.expect(
            8,
            "every kept trace is whole: each span's parent is there, a server span for every request",
            whole(sampled),
        );
        judge.expect(
            8,
            &format!(
                "the caller decides: {CALLERS} of {CALLERS} requests with a sampled traceparent \
                 (-01) kept, none of {CALLERS} with an unsampled one (-00)"
            ),
            callers_followed(sampled),
        );
        judge.expect(
            8,
            &format!("every kept span has SampleRate = {SAMPLE_RATE}, an integer"),
            sample_rate(sampled),
        );
        if let Some(file) = &sampled.collector {
            judge.expect(
                8,
                &format!(
                    "{}: tail sampling keeps errors, slow traces and a share of the rest",
                    file.path
                ),
                tail_sampling(&file.text),
            );
        }
    });
}

/// Every request answered 200 with F(index).
fn answers(sampled: &Sampled) -> Expectation {
    for answer in sampled
        .new_traces
        .answers
        .iter()
        .chain(&sampled.callers.answers)
    {
        let index: Option<u32> = answer
            .path
            .strip_prefix("/fib?index=")
            .and_then(|index| index.parse().ok());
        let expected = index.map(|index| sequence::fib_iterative(index).to_string());
        match &answer.result {
            Ok((200, body)) if Some(body.trim()) == expected.as_deref() => {}
            Ok((status, body)) => {
                return fail(
                    format!("{} got {status}: {}", answer.path, body.trim()),
                    AppMistake::Broken,
                );
            }
            Err(err) => return fail(err.clone(), AppMistake::Broken),
        }
    }
    Ok(())
}

/// One trace as it arrived, beside what the proxy saw of it.
#[derive(Debug)]
struct Trace<'a> {
    trace_id: String,
    spans: Vec<&'a ReceivedSpan>,
    /// The request that started it here: a root server span, or the server span whose parent
    /// is the caller's span.
    entry: bool,
    /// Spans whose parent is neither in the trace nor the caller's span.
    orphans: usize,
    /// The app's sub-requests in this trace, as the proxy saw them.
    sub_requests: usize,
}

impl Trace<'_> {
    fn count(&self, kind: SpanKind) -> usize {
        self.spans.iter().filter(|span| span.kind == kind).count()
    }

    /// What is missing, in words; `None` when the trace is whole. A request retried by the proxy
    /// may add a server span, never remove one: only fewer spans than requests is partial.
    fn missing(&self) -> Option<String> {
        let mut missing = Vec::new();
        if !self.entry {
            missing.push("the span of the request that started it".to_string());
        }
        let servers = self.count(SpanKind::Server);
        if servers < 1 + self.sub_requests {
            missing.push(format!(
                "{} of {} server spans",
                1 + self.sub_requests - servers,
                1 + self.sub_requests
            ));
        }
        let clients = self.count(SpanKind::Client);
        if clients < self.sub_requests {
            missing.push(format!(
                "{} of {} client spans",
                self.sub_requests - clients,
                self.sub_requests
            ));
        }
        if self.orphans > 0 {
            missing.push(format!("the parents of {} span(s)", self.orphans));
        }
        (!missing.is_empty()).then(|| {
            format!(
                "trace {}… lacks {}",
                &self.trace_id[..8.min(self.trace_id.len())],
                missing.join(", ")
            )
        })
    }
}

/// The traces of `part`, whole or not, and the traces its sub-requests say were sampled though
/// none of their spans arrived. `callers` gives the span each caller's trace continues.
fn traces<'a>(part: &'a Part, callers: &[Caller]) -> (Vec<Trace<'a>>, Vec<String>) {
    let mut by_trace: BTreeMap<&str, Vec<&ReceivedSpan>> = BTreeMap::new();
    for span in &part.spans {
        by_trace.entry(&span.trace_id).or_default().push(span);
    }
    let mut sub_requests: BTreeMap<&str, (usize, bool)> = BTreeMap::new();
    for sub in &part.sub_requests {
        if !sub.path.starts_with("/fib") {
            continue;
        }
        if let (Some(trace_id), Some(sampled)) = (sub.trace_id(), sub.sampled()) {
            let entry = sub_requests.entry(trace_id).or_default();
            entry.0 += 1;
            entry.1 |= sampled;
        }
    }
    let traces = by_trace
        .into_iter()
        .map(|(trace_id, spans)| {
            let caller = callers
                .iter()
                .find(|caller| caller.trace_id == trace_id)
                .map(|caller| caller.span_id.as_str());
            let ids: BTreeSet<&str> = spans.iter().map(|span| span.span_id.as_str()).collect();
            let entry = spans.iter().any(|span| {
                span.kind == SpanKind::Server && span.parent_span_id.as_deref() == caller
            });
            let orphans = spans
                .iter()
                .filter(|span| {
                    span.parent_span_id
                        .as_deref()
                        .is_some_and(|parent| !ids.contains(parent) && Some(parent) != caller)
                })
                .count();
            Trace {
                trace_id: trace_id.to_string(),
                spans,
                entry,
                orphans,
                sub_requests: sub_requests.get(trace_id).map_or(0, |(count, _)| *count),
            }
        })
        .collect::<Vec<_>>();
    let arrived: BTreeSet<&str> = traces.iter().map(|trace| trace.trace_id.as_str()).collect();
    let lost = sub_requests
        .iter()
        .filter(|(trace_id, (_, sampled))| *sampled && !arrived.contains(*trace_id))
        .map(|(trace_id, _)| {
            format!(
                "trace {}…: its sub-requests say sampled (-01), yet none of its spans arrived",
                &trace_id[..8.min(trace_id.len())]
            )
        })
        .collect();
    (traces, lost)
}

/// How many of the new traces were kept: those whose first request's span arrived.
fn a_quarter(sampled: &Sampled) -> Expectation {
    let (traces, _) = traces(&sampled.new_traces, &[]);
    let kept = traces.iter().filter(|trace| trace.entry).count();
    if (MIN_KEPT..=MAX_KEPT).contains(&kept) {
        return Ok(());
    }
    fail(
        format!("{kept} of {NEW_TRACES} new traces kept (a quarter is 10)"),
        Mistake::SampledShare {
            kept,
            of: NEW_TRACES,
        },
    )
}

/// No kept trace misses a span.
fn whole(sampled: &Sampled) -> Expectation {
    let mut kept = 0;
    let mut partial = Vec::new();
    for (part, callers) in [
        (&sampled.new_traces, &[][..]),
        (&sampled.callers, &sampled.caller_traces[..]),
    ] {
        let (traces, lost) = traces(part, callers);
        kept += traces.len() + lost.len();
        partial.extend(traces.iter().filter_map(Trace::missing));
        partial.extend(lost);
    }
    if partial.is_empty() {
        return Ok(());
    }
    fail(
        format!(
            "{} of {kept} kept traces are partial; {}",
            partial.len(),
            partial[0]
        ),
        Mistake::PartialTraces {
            partial: partial.len(),
            of: kept,
        },
    )
}

/// The callers' sampled traces kept, their unsampled ones not, and no trace of the app's own.
fn callers_followed(sampled: &Sampled) -> Expectation {
    let (traces, _) = traces(&sampled.callers, &sampled.caller_traces);
    let of_caller = |trace: &Trace| {
        sampled
            .caller_traces
            .iter()
            .find(|caller| caller.trace_id == trace.trace_id)
    };
    let kept_sampled = traces
        .iter()
        .filter(|trace| trace.entry && of_caller(trace).is_some_and(|caller| caller.sampled))
        .count();
    let kept_unsampled = traces
        .iter()
        .filter(|trace| of_caller(trace).is_some_and(|caller| !caller.sampled))
        .count();
    let own = traces
        .iter()
        .filter(|trace| of_caller(trace).is_none())
        .count();
    let sampled_callers = sampled.caller_traces.iter().filter(|c| c.sampled).count();
    if kept_sampled == sampled_callers && kept_unsampled == 0 {
        return Ok(());
    }
    let found = format!(
        "{kept_sampled} of {sampled_callers} sampled callers' traces kept, {kept_unsampled} of {} \
         unsampled ones",
        sampled.caller_traces.len() - sampled_callers
    );
    if own > 0 && kept_sampled == 0 {
        return fail(
            format!("{found}; {own} traces of the app's own instead"),
            step_03::Mistake::NoExtraction,
        );
    }
    fail(
        found,
        Mistake::CallerDecisionIgnored {
            kept_sampled,
            kept_unsampled,
        },
    )
}

/// Every kept span has `SampleRate` = [`SAMPLE_RATE`], an integer.
fn sample_rate(sampled: &Sampled) -> Expectation {
    let spans: Vec<&ReceivedSpan> = sampled
        .new_traces
        .spans
        .iter()
        .chain(&sampled.callers.spans)
        .collect();
    if spans.is_empty() {
        return fail("no span arrived", Mistake::NoSampleRate { found: None });
    }
    let wrong: Vec<(&ReceivedSpan, Option<&Value>)> = spans
        .iter()
        .map(|span| (*span, span.attribute("SampleRate")))
        .filter(|(_, value)| value.and_then(Value::as_i64) != Some(SAMPLE_RATE))
        .collect();
    let Some((example, value)) = wrong.first() else {
        return Ok(());
    };
    let found = value.map(describe);
    fail(
        format!(
            "{} of {} kept spans: {} (e.g. `{}`)",
            wrong.len(),
            spans.len(),
            found
                .as_deref()
                .map_or("no SampleRate".to_string(), |found| format!(
                    "SampleRate {found}"
                )),
            example.name
        ),
        Mistake::NoSampleRate { found },
    )
}

/// The learner's tail sampling, linted.
fn tail_sampling(text: &Result<String, String>) -> Expectation {
    let problems = match text {
        Ok(text) => collector::lint(text),
        Err(err) => vec![format!("the file could not be read: {err}")],
    };
    if problems.is_empty() {
        return Ok(());
    }
    fail(problems.join("; "), Mistake::TailSampling { problems })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expect::{Mistake as Any, Verdict};
    use crate::run::Answer;
    use crate::sampling::CollectorFile;
    use crate::sources::Sources;
    use crate::upstream::SubRequest;
    use receiver::{Status, StatusCode};

    /// A span of `trace`, with `SampleRate` = 4 unless `rate` says otherwise.
    fn span(trace: &str, id: &str, parent: Option<&str>, kind: SpanKind) -> ReceivedSpan {
        ReceivedSpan {
            trace_id: trace.to_string(),
            span_id: id.to_string(),
            parent_span_id: parent.map(str::to_string),
            name: "GET /fib".to_string(),
            kind,
            start_time_unix_nano: 1,
            end_time_unix_nano: 2,
            attributes: BTreeMap::from([("SampleRate".to_string(), Value::Int(SAMPLE_RATE))]),
            events: Vec::new(),
            links: Vec::new(),
            status: Status {
                code: StatusCode::Unset,
                message: String::new(),
            },
            resource: BTreeMap::new(),
            scope_name: "fib".to_string(),
            scope_version: String::new(),
        }
    }

    /// A trace id made of one hex digit.
    fn tid(digit: char) -> String {
        std::iter::repeat_n(digit, 32).collect()
    }

    /// A trace with one sub-request, as /fib?index=3 makes it: a server span (root, or the
    /// caller's child), its `fib` span, a client span, and the sub-request's server and `fib`
    /// spans; and the sub-request as the proxy saw it.
    fn fib_trace(trace: &str, caller: Option<&str>) -> (Vec<ReceivedSpan>, SubRequest) {
        let p = &trace[..4];
        let spans = vec![
            span(trace, &format!("{p}000000000001"), caller, SpanKind::Server),
            span(
                trace,
                &format!("{p}000000000002"),
                Some(&format!("{p}000000000001")),
                SpanKind::Internal,
            ),
            span(
                trace,
                &format!("{p}000000000003"),
                Some(&format!("{p}000000000002")),
                SpanKind::Client,
            ),
            span(
                trace,
                &format!("{p}000000000004"),
                Some(&format!("{p}000000000003")),
                SpanKind::Server,
            ),
            span(
                trace,
                &format!("{p}000000000005"),
                Some(&format!("{p}000000000004")),
                SpanKind::Internal,
            ),
        ];
        let sub = SubRequest {
            path: "/fib?index=2".to_string(),
            traceparent: Some(format!("00-{trace}-{p}000000000003-01")),
        };
        (spans, sub)
    }

    /// `traceparent` with its flags replaced.
    fn with_flag(traceparent: &str, flags: &str) -> String {
        format!("{}{flags}", &traceparent[..traceparent.len() - 2])
    }

    fn answer(index: u32) -> Answer {
        Answer {
            path: format!("/fib?index={index}"),
            result: Ok((200, format!("{}\n", sequence::fib_iterative(index)))),
        }
    }

    /// What a correct app gives: `kept` of the 40 new traces (one sub-request each), and the
    /// callers' sampled traces whole; the dropped traces' sub-requests say `-00`.
    fn good(kept: usize) -> Sampled {
        let mut new_traces = Part::default();
        for n in 0..NEW_TRACES {
            let trace = format!("{n:02x}{}", &tid('a')[2..]);
            let (spans, mut sub) = fib_trace(&trace, None);
            if n < kept {
                new_traces.spans.extend(spans);
            } else {
                sub.traceparent = sub.traceparent.map(|tp| with_flag(&tp, "00"));
            }
            new_traces.sub_requests.push(sub);
            new_traces.answers.push(answer(3));
        }
        let mut callers = Part::default();
        let mut caller_traces = Vec::new();
        for n in 0..2 * CALLERS {
            let caller = Caller {
                trace_id: format!("{n:02x}{}", &tid('c')[2..]),
                span_id: format!("{n:02x}ffffffffffffff"),
                sampled: n < CALLERS,
            };
            if caller.sampled {
                let (spans, sub) = fib_trace(&caller.trace_id, Some(&caller.span_id));
                callers.spans.extend(spans);
                callers.sub_requests.push(sub);
            }
            callers.answers.push(answer(1));
            caller_traces.push(caller);
        }
        Sampled {
            new_traces,
            callers,
            caller_traces,
            collector: None,
        }
    }

    fn judged(sampled: &Sampled) -> Vec<(String, Verdict)> {
        let sources = Sources::default();
        let mut judge = Judge::new(&sources);
        sampling(&mut judge, sampled);
        judge
            .outcomes
            .into_iter()
            .map(|outcome| (outcome.what, outcome.verdict))
            .collect()
    }

    /// The mistakes found, in order.
    fn mistakes(sampled: &Sampled) -> Vec<Any> {
        judged(sampled)
            .into_iter()
            .filter_map(|(_, verdict)| match verdict {
                Verdict::Failed { mistake, .. } => Some(mistake),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_bounds_fail_a_correct_app_less_than_once_in_10000() {
        // P(X = k) for X ~ binomial(40, 1/4), exactly enough in f64.
        let n = NEW_TRACES as i32;
        let pmf = |k: i32| {
            let choose = (0..k).fold(1.0, |c, i| c * f64::from(n - i) / f64::from(i + 1));
            choose * 0.25f64.powi(k) * 0.75f64.powi(n - k)
        };
        let outside: f64 = (0..=n)
            .filter(|k| !(MIN_KEPT as i32..=MAX_KEPT as i32).contains(k))
            .map(pmf)
            .sum();
        assert!(outside < 1e-4, "{outside:e}");
        assert!(
            (outside - 5.9e-5).abs() < 0.1e-5,
            "{outside:e}, as the doc says"
        );
        // Narrower on either side is above 1e-4.
        let without = |k: i32| outside + pmf(k);
        assert!(without(MIN_KEPT as i32) > 1e-4 && without(MAX_KEPT as i32) > 1e-4);
    }

    #[test]
    fn a_correct_app_passes_everything() {
        for kept in [1, 10, 21] {
            let outcomes = judged(&good(kept));
            assert_eq!(outcomes.len(), 5);
            for (what, verdict) in outcomes {
                assert_eq!(verdict, Verdict::Passed, "{kept}: {what}");
            }
        }
    }

    #[test]
    fn an_app_without_the_wrapper_fails_only_sample_rate() {
        let mut sampled = good(10);
        for span in sampled
            .new_traces
            .spans
            .iter_mut()
            .chain(&mut sampled.callers.spans)
        {
            span.attributes.clear();
        }
        assert_eq!(
            mistakes(&sampled),
            [Any::from(Mistake::NoSampleRate { found: None })]
        );
        // A string or a double is not the integer a backend multiplies by.
        sampled.new_traces.spans[0]
            .attributes
            .insert("SampleRate".into(), Value::String("4".into()));
        sampled.callers.spans.clear();
        for span in &mut sampled.new_traces.spans[1..] {
            span.attributes
                .insert("SampleRate".into(), Value::Int(SAMPLE_RATE));
        }
        let found = mistakes(&sampled);
        assert_eq!(
            found.last(),
            Some(&Any::from(Mistake::NoSampleRate {
                found: Some("the string \"4\"".into())
            }))
        );
    }

    #[test]
    fn every_trace_kept_or_none_is_not_a_quarter() {
        for kept in [0, 22, NEW_TRACES] {
            assert!(
                mistakes(&good(kept)).contains(&Any::from(Mistake::SampledShare {
                    kept,
                    of: NEW_TRACES
                })),
                "{kept}"
            );
        }
    }

    #[test]
    fn a_trace_missing_a_span_is_partial() {
        // The sub-request's server span dropped while its parent was kept: a decision per span.
        let mut sampled = good(10);
        let lost = sampled
            .new_traces
            .spans
            .iter()
            .position(|span| span.span_id.ends_with("04"))
            .unwrap();
        sampled.new_traces.spans.remove(lost);
        let outcomes = judged(&sampled);
        let (_, verdict) = &outcomes[2];
        let Verdict::Failed { found, mistake } = verdict else {
            panic!("{outcomes:?}");
        };
        assert_eq!(
            mistake,
            &Any::from(Mistake::PartialTraces { partial: 1, of: 20 })
        );
        assert!(found.contains("1 of 2 server spans"), "{found}");
        assert!(found.contains("the parents of 1 span"), "{found}");

        // A root dropped, its children kept.
        let mut sampled = good(10);
        sampled
            .callers
            .spans
            .retain(|span| !span.span_id.ends_with("01"));
        assert!(
            mistakes(&sampled)
                .iter()
                .any(|m| matches!(m, Any::Step08(Mistake::PartialTraces { partial: 10, .. })))
        );

        // A trace whose sub-requests say sampled, with none of its spans.
        let mut sampled = good(10);
        let dropped = sampled.new_traces.sub_requests[20].clone();
        sampled.new_traces.sub_requests[20].traceparent =
            dropped.traceparent.map(|tp| with_flag(&tp, "01"));
        assert!(
            mistakes(&sampled).contains(&Any::from(Mistake::PartialTraces { partial: 1, of: 21 }))
        );
    }

    #[test]
    fn the_callers_decision_ignored() {
        // traceidratio without parentbased: some unsampled callers kept, some sampled not.
        let mut sampled = good(10);
        let unsampled = sampled.caller_traces[CALLERS].clone();
        let (spans, _) = fib_trace(&unsampled.trace_id, Some(&unsampled.span_id));
        sampled.callers.spans.extend(spans);
        let first = sampled.caller_traces[0].trace_id.clone();
        sampled.callers.spans.retain(|span| span.trace_id != first);
        sampled.callers.sub_requests.retain(|sub| {
            !sub.traceparent
                .as_deref()
                .unwrap_or_default()
                .contains(&first)
        });
        assert_eq!(
            mistakes(&sampled),
            [Any::from(Mistake::CallerDecisionIgnored {
                kept_sampled: 9,
                kept_unsampled: 1
            })]
        );
        // No extraction: the caller's requests start traces of their own.
        let mut sampled = good(10);
        for span in &mut sampled.callers.spans {
            span.trace_id = tid('e');
            // The server spans that continued a caller's span now start traces of their own.
            span.parent_span_id = span
                .parent_span_id
                .take()
                .filter(|parent| !parent.ends_with("ffffffffffffff"));
        }
        assert!(mistakes(&sampled).contains(&Any::from(step_03::Mistake::NoExtraction)));
    }

    #[test]
    fn a_broken_answer_stops_the_rest() {
        let mut sampled = good(10);
        sampled.callers.answers[3].result = Ok((502, "upstream down".into()));
        let outcomes = judged(&sampled);
        assert!(matches!(
            &outcomes[0].1,
            Verdict::Failed { mistake: Any::App(AppMistake::Broken), found } if found.contains("502")
        ));
        assert!(
            outcomes[1..]
                .iter()
                .all(|(_, v)| matches!(v, Verdict::NotChecked { .. }))
        );
    }

    #[test]
    fn the_collector_file_is_judged_when_given() {
        let mut sampled = good(10);
        sampled.collector = Some(CollectorFile {
            path: "collector/sampling.yaml".into(),
            text: Ok("processors: {}\n".into()),
        });
        let outcomes = judged(&sampled);
        assert_eq!(outcomes.len(), 6);
        let Verdict::Failed { mistake, found } = &outcomes[5].1 else {
            panic!("{outcomes:?}");
        };
        assert!(found.contains("no `tail_sampling` processor"), "{found}");
        assert!(
            matches!(mistake, Any::Step08(Mistake::TailSampling { problems }) if problems.len() == 1)
        );
        sampled.collector = Some(CollectorFile {
            path: "collector/sampling.yaml".into(),
            text: Ok(include_str!("../../../../collector/sampling.yaml").into()),
        });
        assert_eq!(judged(&sampled)[5].1, Verdict::Passed);
    }
}
