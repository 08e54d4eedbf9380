//! What each step's app must do, judged on what it did ([`Evidence`]), never on how it is written.
//!
//! # Layout
//!
//! One file per step, `step_NN.rs`, holds all that step asks: its expectations, the mistakes
//! they recognise (the step's own `enum Mistake`) and the hint for each, next to the code that
//! tells them. Adding an expectation is editing that one file (the expectation, its mistake and
//! hint), plus a broken copy of the solution in `tests/variants.rs` that must be told it.
//! [`Mistake`] gathers the steps' mistakes into the one type a verdict holds, so that a step may
//! also point to an earlier step's (step 08's callers that start traces of their own are step
//! 03's missing extraction).
//!
//! A hint says what the symptom means and where to act, for code written with the OpenTelemetry
//! API (as the steps are) and, where it differs, with `tracing`. It names the items at fault,
//! but does not write the code: the report points to `./run.sh hint NN` for the step the
//! mistake belongs to ([`Mistake::step`]), whose levels go from the idea to the solution's code
//! (`services/kit/src/hint.rs`), and to `./run.sh diff NN`.
//!
//! This file holds what the steps share:
//! - [`STEPS`], the table of steps: number, topic, whether a step keeps the expectations of the
//!   one before, and what its own expectations need a check to run ([`Need`]). Every question
//!   "is this step at or past that one?" is asked of it: adding a step is adding a row, its
//!   file, and its line in `gathered!` below;
//! - the [`Judge`], which collects each expectation's [`Outcome`];
//! - the app's own expectations (it answers, it stops), judged before any step's;
//! - helpers to read spans and attribute values.
//!
//! # How a verdict is reached
//!
//! Step NN is judged on its own expectations after those of the steps it keeps: from 03 on,
//! each keeps the one before (the learner's step 04 must still propagate); 02 starts afresh
//! (step 01 prints, the others export). Each expectation passes, fails with a mistake, or is
//! not checked, for one of two reasons:
//! - one it depends on failed (no spans at all says nothing about their names): see
//!   `Judge::require`;
//! - a failure already told explains it. Without a flush at exit, the last request's spans are
//!   lost with the batch; every expectation that counts them would fail too, and name the wrong
//!   mistake ("15 server spans for 16 requests: the middleware…"). Step 02 records the loss, and
//!   an expectation whose failure the loss explains is not checked
//!   (`Judge::expect_unless_lost`). One mistake, one ✗.
//!
//! A bonus (`Judge::bonus`) is earned or not; it is never a failure, and not one of the "N of
//! M expectations": OTLP/gRPC is one (the steps export over HTTP).

use std::collections::BTreeMap;

use receiver::{ReceivedSpan, Value};

pub mod step_01;
pub mod step_02;
pub mod step_03;
pub mod step_04;
pub mod step_05;
pub mod step_06;
pub mod step_07;
pub mod step_08;

use crate::run::Run;
use crate::sources::Sources;

/// The service name the steps give themselves.
pub const SERVICE_NAME: &str = "fib";

/// One step, as the checker sees it.
pub struct Step {
    pub number: u32,
    /// As in its folders: `otlp` for `exercises/02-otlp`.
    pub topic: &'static str,
    /// Its expectations include those of the step before (and so on back).
    pub keeps_previous: bool,
    /// What its own expectations need a check to do; the steps it keeps add theirs.
    pub needs: &'static [Need],
    /// Its own expectations.
    expect: fn(&mut Judge, &Evidence),
}

/// What a check does for a step, beyond starting it and asking for `/fib?index=5` and `abc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Read its spans from what it prints (the stdout exporter).
    Stdout,
    /// Receive its spans over OTLP/HTTP, and over OTLP/gRPC for the bonus.
    Otlp,
    /// Run it once more with its upstream down: a failed sub-request.
    UpstreamDown,
    /// Give every run the hosted backend's settings, [`step_05::HOSTED_ENV`].
    HostedEnv,
    /// Measure how the cost of `/fib` grows with the index ([`crate::growth`]).
    Growth,
    /// Run it with head sampling on ([`crate::sampling`]).
    Sampling,
}

/// The steps the checker knows, in order.
pub const STEPS: [Step; 8] = [
    Step {
        number: 1,
        topic: "stdout",
        keeps_previous: false,
        needs: &[Need::Stdout],
        expect: step_01::expect,
    },
    Step {
        number: 2,
        topic: "otlp",
        keeps_previous: false,
        needs: &[Need::Otlp],
        expect: step_02::expect,
    },
    Step {
        number: 3,
        topic: "propagation",
        keeps_previous: true,
        needs: &[],
        expect: step_03::expect,
    },
    Step {
        number: 4,
        topic: "attributes",
        keeps_previous: true,
        needs: &[Need::UpstreamDown],
        expect: step_04::expect,
    },
    Step {
        number: 5,
        topic: "hosted",
        keeps_previous: true,
        needs: &[Need::HostedEnv],
        expect: step_05::expect,
    },
    Step {
        number: 6,
        topic: "fix-it",
        keeps_previous: true,
        needs: &[Need::Growth],
        expect: step_06::expect,
    },
    Step {
        number: 7,
        topic: "metrics-logs",
        keeps_previous: true,
        needs: &[],
        expect: step_07::expect,
    },
    Step {
        number: 8,
        topic: "sampling",
        keeps_previous: true,
        needs: &[Need::Sampling],
        expect: step_08::expect,
    },
];

/// Step `number`, if the checker knows it (step 00, the app alone, has nothing to check).
pub fn step(number: u32) -> Option<&'static Step> {
    STEPS.iter().find(|step| step.number == number)
}

/// The steps a check of step `number` judges, oldest first: the ones it keeps, then itself.
pub fn ladder(number: u32) -> Vec<&'static Step> {
    let mut ladder: Vec<&Step> = Vec::new();
    let mut next = step(number);
    while let Some(step) = next {
        ladder.insert(0, step);
        next = if step.keeps_previous {
            STEPS.iter().rfind(|other| other.number < step.number)
        } else {
            None
        };
    }
    ladder
}

/// Whether a check of step `number` does what `need` says.
pub fn needs(number: u32, need: Need) -> bool {
    ladder(number).iter().any(|step| step.needs.contains(&need))
}

/// The runs of one check.
pub struct Evidence {
    /// `/fib?index=5` and `/fib?index=abc`: on stdout ([`Need::Stdout`]), or over OTLP/HTTP.
    pub main: Run,
    /// The same with `OTEL_EXPORTER_OTLP_PROTOCOL=grpc` ([`Need::Otlp`]), for the bonus; an
    /// error when the app did not start so (the SDK's HTTP exporter refuses `grpc`).
    pub grpc: Option<Result<Run, String>>,
    /// With the upstream down ([`Need::UpstreamDown`]).
    pub failure: Option<Run>,
    /// How the cost of `/fib` grows with the index ([`Need::Growth`]).
    pub growth: Option<crate::growth::Growth>,
    /// With head sampling on ([`Need::Sampling`]).
    pub sampling: Option<crate::sampling::Sampled>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    Failed {
        found: String,
        mistake: Mistake,
    },
    /// Not checked, and why: [`NEEDS_ABOVE`] or [`LAST_SPANS_LOST`].
    NotChecked {
        because: &'static str,
    },
    /// A bonus, earned or not, and how to earn it; never a failure.
    Bonus {
        earned: bool,
        how: &'static str,
    },
}

/// Why an expectation was not checked: one it depends on failed.
pub const NEEDS_ABOVE: &str = "needs the one above";

/// Why an expectation was not checked: what it counts went with the unflushed batch.
pub const LAST_SPANS_LOST: &str =
    "the last request's spans were lost with the unflushed batch: see step 02's flush above";

/// One expectation and how it went.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The step it belongs to; 0 for the app's own behaviour.
    pub step: u32,
    pub what: String,
    pub verdict: Verdict,
}

impl Outcome {
    /// Nothing to fix here: met, or a bonus (earned or not).
    pub fn passed(&self) -> bool {
        matches!(self.verdict, Verdict::Passed | Verdict::Bonus { .. })
    }

    /// A bonus: not one of the expectations a step must meet.
    pub fn is_bonus(&self) -> bool {
        matches!(self.verdict, Verdict::Bonus { .. })
    }
}

/// Collects outcomes, and knows what makes the next ones not worth checking.
pub struct Judge<'a> {
    outcomes: Vec<Outcome>,
    sources: &'a Sources,
    /// A `Judge::require` failed: what follows is not checked.
    blocked: bool,
    /// Step 02 found that the app does not flush at exit: the last request's spans never came.
    last_spans_lost: bool,
}

impl<'a> Judge<'a> {
    fn new(sources: &'a Sources) -> Judge<'a> {
        Judge {
            outcomes: Vec::new(),
            sources,
            blocked: false,
            last_spans_lost: false,
        }
    }

    fn push(&mut self, step: u32, what: &str, verdict: Verdict) {
        self.outcomes.push(Outcome {
            step,
            what: what.to_string(),
            verdict,
        });
    }

    /// Records one expectation; `true` when it passed.
    fn expect(&mut self, step: u32, what: &str, result: Expectation) -> bool {
        self.expect_unless_lost(step, what, result, false)
    }

    /// As [`Judge::expect`], but not checked when it fails in a way the lost last spans
    /// (`explained`) account for, if they were lost; then `true`, as nothing is known against it.
    fn expect_unless_lost(
        &mut self,
        step: u32,
        what: &str,
        result: Expectation,
        explained: bool,
    ) -> bool {
        let verdict = match (self.blocked, result) {
            (true, _) => Verdict::NotChecked {
                because: NEEDS_ABOVE,
            },
            (false, Ok(())) => Verdict::Passed,
            (false, Err(_)) if explained && self.last_spans_lost => {
                self.push(
                    step,
                    what,
                    Verdict::NotChecked {
                        because: LAST_SPANS_LOST,
                    },
                );
                return true;
            }
            (false, Err((found, mistake))) => Verdict::Failed { found, mistake },
        };
        let passed = verdict == Verdict::Passed;
        self.push(step, what, verdict);
        passed
    }

    /// From here on, expectations are not checked unless `ok`.
    fn require(&mut self, ok: bool) {
        self.blocked |= !ok;
    }

    /// Runs `judge` with its `Judge::require`s kept inside: what comes after is checked as
    /// if they had not been made.
    fn within<R>(&mut self, judge: impl FnOnce(&mut Self) -> R) -> R {
        let blocked = self.blocked;
        let result = judge(self);
        self.blocked = blocked;
        result
    }

    /// Records a bonus, earned or not, with `how` to earn it. Judged even when blocked: it is
    /// a run of its own.
    fn bonus(&mut self, step: u32, what: &str, earned: bool, how: &'static str) {
        self.push(step, what, Verdict::Bonus { earned, how });
    }
}

/// Judges step `step` on `evidence`; `sources` only sharpen the hints.
pub fn judge(step: u32, evidence: &Evidence, sources: &Sources) -> Vec<Outcome> {
    let mut judge = Judge::new(sources);
    let main = &evidence.main;
    let app_ok = judge.expect(
        0,
        "answers /fib?index=5 with 5 and /fib?index=abc with 400",
        app_answers(main),
    );
    judge.expect(
        0,
        "stops within 10 s of SIGTERM, with exit status 0",
        stops_cleanly(main),
    );
    judge.require(app_ok);
    for step in ladder(step) {
        (step.expect)(&mut judge, evidence);
    }
    judge.outcomes
}

/// `Mistake`: one variant per step (and one for the app), its `hint`, the step whose lesson it
/// is, and a `From` for each, so that a step's file writes `fail(found, Mistake::NoShutdown)`
/// with its own mistake.
macro_rules! gathered {
    ($($variant:ident($mistake:ty) = $step:expr),* $(,)?) => {
        /// What went wrong, as far as the checker can tell: the app's, or one step's.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Mistake {
            $($variant($mistake),)*
        }

        impl Mistake {
            /// The hint: what it means and what to do, in a few lines.
            pub fn hint(&self) -> String {
                match self {
                    $(Mistake::$variant(mistake) => mistake.hint(),)*
                }
            }

            /// The step that teaches what this mistake gets wrong: its `./run.sh hint NN` says
            /// how to write it. `None` for the app's own mistakes.
            pub fn step(&self) -> Option<u32> {
                match self {
                    $(Mistake::$variant(_) => $step,)*
                }
            }
        }

        $(impl From<$mistake> for Mistake {
            fn from(mistake: $mistake) -> Mistake {
                Mistake::$variant(mistake)
            }
        })*
    };
}

gathered!(
    App(AppMistake) = None,
    Step01(step_01::Mistake) = Some(1),
    Step02(step_02::Mistake) = Some(2),
    Step03(step_03::Mistake) = Some(3),
    Step04(step_04::Mistake) = Some(4),
    Step05(step_05::Mistake) = Some(5),
    Step06(step_06::Mistake) = Some(6),
    Step07(step_07::Mistake) = Some(7),
    Step08(step_08::Mistake) = Some(8),
);

/// The app's own mistakes, before any telemetry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppMistake {
    /// The app itself does not answer as it should: not a telemetry problem.
    Broken,
    /// It did not stop promptly, or not with status 0, after SIGTERM.
    StopsBadly,
}

impl AppMistake {
    pub fn hint(&self) -> String {
        match self {
            AppMistake::Broken => "The app itself does not answer as before: this is not about telemetry yet. \
                Run its own tests (`./run.sh test -p <the step's package>`) and read the error it printed above."
                .into(),
            AppMistake::StopsBadly => "After SIGTERM the app must finish its requests, flush its spans and exit with \
                status 0 within a few seconds. A shutdown that hangs is often the exporter's `shutdown()` called \
                from async code: run it with `tokio::task::spawn_blocking`, as `telemetry::shutdown` does."
                .into(),
        }
    }
}

/// An expectation's result: met, or what was found and the mistake it points to.
type Expectation = Result<(), (String, Mistake)>;

fn fail(found: impl Into<String>, mistake: impl Into<Mistake>) -> Expectation {
    Err((found.into(), mistake.into()))
}

fn app_answers(run: &Run) -> Expectation {
    let expected = [
        ("/fib?index=5", 200, Some("5")),
        ("/fib?index=abc", 400, None),
    ];
    for (path, status, body) in expected {
        let found = match run.answer(path).map(|answer| &answer.result) {
            Some(Ok((s, b))) if *s == status && body.is_none_or(|body| b.trim() == body) => {
                continue;
            }
            Some(Ok((s, b))) => format!("{path} got {s}: {}", b.trim()),
            Some(Err(err)) => err.clone(),
            None => format!("{path} was not asked"),
        };
        return fail(found, AppMistake::Broken);
    }
    Ok(())
}

fn stops_cleanly(run: &Run) -> Expectation {
    if run.stopped_cleanly() {
        return Ok(());
    }
    fail(
        format!(
            "{} after {:.1} s",
            crate::app::describe_exit(run.exit),
            run.stop_took.as_secs_f64()
        ),
        AppMistake::StopsBadly,
    )
}

/// How many server spans the run's requests make: one per request `/fib?index=5` made (15 until
/// step 06 remembers numbers), and 1 for the bad one.
fn expected_server_spans(run: &Run) -> usize {
    run.fib5_requests() + 1
}

/// The run's spans by trace: two traces once context propagates (step 03), the larger one
/// `/fib?index=5`'s.
fn traces(run: &Run) -> BTreeMap<&str, Vec<&ReceivedSpan>> {
    let mut traces: BTreeMap<&str, Vec<&ReceivedSpan>> = BTreeMap::new();
    for span in &run.spans {
        traces.entry(span.trace_id.as_str()).or_default().push(span);
    }
    traces
}

fn text(span: &ReceivedSpan, key: &str) -> Option<String> {
    span.attribute(key)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

fn int(span: &ReceivedSpan, key: &str) -> Option<i64> {
    span.attribute(key).and_then(|v| v.as_i64())
}

/// An attribute's name, and whether a span (or a metric's point) has it right.
type Required<'a, T = ReceivedSpan> = (&'a str, &'a dyn Fn(&T) -> bool);

/// The attributes in `required` that some of `items` lack (or have wrong).
fn missing<T>(items: &[&T], required: &[Required<T>]) -> Vec<String> {
    required
        .iter()
        .filter(|(_, ok)| !items.iter().all(|item| ok(item)))
        .map(|(name, _)| name.to_string())
        .collect()
}

/// A value's type, as a hint names it: `a string`, `an integer`…
fn type_of(value: &Value) -> &'static str {
    match value {
        Value::Empty => "empty",
        Value::String(_) => "a string",
        Value::Bool(_) => "a boolean",
        Value::Int(_) => "an integer",
        Value::Double(_) => "a double",
        Value::Bytes(_) => "bytes",
        Value::Array(_) => "an array",
        Value::Map(_) => "a map",
    }
}

/// A value as a hint shows it: `the string "4"`, `the double 4.0`, `1`.
fn describe(value: &Value) -> String {
    match value {
        Value::Int(number) => number.to_string(),
        Value::String(text) => format!("the string {text:?}"),
        Value::Double(number) => format!("the double {number:?}"),
        Value::Bool(flag) => format!("the boolean {flag}"),
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::{Answer, Protocol, Scenario, Sink};
    use crate::upstream::SubRequest;
    use receiver::{Event, SpanKind, Status, StatusCode};

    /// The spans a correct step 04 app sends, one at a time.
    struct App {
        spans: Vec<ReceivedSpan>,
        sub_requests: Vec<SubRequest>,
    }

    impl App {
        fn span(
            &mut self,
            trace: &str,
            parent: Option<&str>,
            kind: SpanKind,
            name: &str,
        ) -> String {
            let id = format!("{:016x}", self.spans.len() + 1);
            self.spans.push(ReceivedSpan {
                trace_id: trace.to_string(),
                span_id: id.clone(),
                parent_span_id: parent.map(str::to_string),
                name: name.to_string(),
                kind,
                start_time_unix_nano: 1,
                end_time_unix_nano: 2,
                attributes: BTreeMap::new(),
                events: Vec::new(),
                links: Vec::new(),
                status: Status {
                    code: StatusCode::Unset,
                    message: String::new(),
                },
                resource: BTreeMap::from([(
                    "service.name".into(),
                    Value::String(SERVICE_NAME.into()),
                )]),
                scope_name: "fib".into(),
                scope_version: String::new(),
            });
            id
        }

        fn set(&mut self, id: &str, key: &str, value: Value) {
            let span = self
                .spans
                .iter_mut()
                .find(|span| span.span_id == id)
                .unwrap();
            span.attributes.insert(key.into(), value);
        }

        fn event(&mut self, id: &str, name: &str) {
            let span = self
                .spans
                .iter_mut()
                .find(|span| span.span_id == id)
                .unwrap();
            span.events.push(Event {
                name: name.into(),
                time_unix_nano: 1,
                attributes: BTreeMap::new(),
            });
        }

        /// `/fib?index=N`: a server span, the `fib` span inside, and a client span and a
        /// request of its own for each of N-1 and N-2.
        fn request(
            &mut self,
            trace: &str,
            parent: Option<&str>,
            query: &str,
            status: i64,
        ) -> String {
            let server = self.span(trace, parent, SpanKind::Server, "GET /fib");
            for (key, value) in [
                ("http.request.method", "GET"),
                ("http.route", "/fib"),
                ("url.path", "/fib"),
                ("url.query", query),
                ("server.address", "127.0.0.1"),
            ] {
                self.set(&server, key, Value::String(value.into()));
            }
            self.set(&server, "http.response.status_code", Value::Int(status));
            let Some(index) = query
                .strip_prefix("index=")
                .and_then(|i| i.parse::<i64>().ok())
            else {
                let span = self.spans.last_mut().unwrap();
                span.status.code = StatusCode::Error;
                self.event(&server, "exception");
                return server;
            };
            let fib = self.span(trace, Some(&server), SpanKind::Internal, "fib");
            self.set(&fib, "fib.index", Value::Int(index));
            let result = sequence::fib_iterative(index as u32) as i64;
            self.set(&fib, "fib.result", Value::Int(result));
            if index >= 2 {
                self.event(&fib, "sum");
                for sub in [index - 1, index - 2] {
                    let client = self.span(trace, Some(&fib), SpanKind::Client, "GET");
                    self.set(&client, "http.request.method", Value::String("GET".into()));
                    let url = format!("http://127.0.0.1:1/fib?index={sub}");
                    self.set(&client, "url.full", Value::String(url));
                    self.set(&client, "server.address", Value::String("127.0.0.1".into()));
                    self.set(&client, "http.response.status_code", Value::Int(200));
                    self.sub_requests.push(SubRequest {
                        path: format!("/fib?index={sub}"),
                        traceparent: Some(format!("00-{trace}-{client}-01")),
                    });
                    self.request(trace, Some(&client), &format!("index={sub}"), 200);
                }
            }
            server
        }
    }

    /// A run of a correct step 04 app, or of one that does not flush at exit (`flushed`).
    fn run(flushed: bool) -> Run {
        let mut app = App {
            spans: Vec::new(),
            sub_requests: Vec::new(),
        };
        app.request(&"a".repeat(32), None, "index=5", 200);
        let early = app.spans.clone();
        if flushed {
            app.request(&"b".repeat(32), None, "index=abc", 400);
        }
        let answer = |path: &str, status, body: &str| Answer {
            path: path.into(),
            result: Ok((status, body.into())),
        };
        Run {
            sink: Sink::Otlp(Protocol::HttpProtobuf),
            scenario: Scenario::Normal,
            endpoint: Some("http://127.0.0.1:4318".into()),
            answers: vec![
                answer("/fib?index=5", 200, "5\n"),
                answer("/fib?index=abc", 400, "bad index"),
            ],
            exit: Some(std::os::unix::process::ExitStatusExt::from_raw(0)),
            stop_took: std::time::Duration::from_millis(100),
            output: String::new(),
            early,
            spans: app.spans,
            requests: vec![receiver::ReceivedRequest {
                signal: receiver::Signal::Traces,
                transport: receiver::Transport::HttpProtobuf,
                headers: BTreeMap::new(),
                span_count: 1,
            }],
            rejected: Vec::new(),
            sub_requests: app.sub_requests,
            metrics: Vec::new(),
            logs: Vec::new(),
        }
    }

    /// The failed sub-request's run: its spans, or none when they went unflushed.
    fn failure(flushed: bool) -> Run {
        let mut failure = run(flushed);
        failure.spans.clear();
        if flushed {
            let mut app = App {
                spans: Vec::new(),
                sub_requests: Vec::new(),
            };
            let server = app.request(&"c".repeat(32), None, "index=0", 502);
            let client = app.span(&"c".repeat(32), Some(&server), SpanKind::Client, "GET");
            app.event(&client, "exception");
            for span in &mut app.spans {
                span.status.code = StatusCode::Error;
            }
            failure.spans = app.spans;
        }
        failure
    }

    fn judged(flushed: bool) -> Vec<Outcome> {
        let evidence = Evidence {
            main: run(flushed),
            grpc: None,
            failure: Some(failure(flushed)),
            growth: None,
            sampling: None,
        };
        judge(4, &evidence, &Sources::default())
    }

    #[test]
    fn a_correct_step_04_meets_every_expectation() {
        let outcomes = judged(true);
        let report = crate::report::render_outcomes(&outcomes, crate::report::Style::Plain);
        assert!(outcomes.iter().all(Outcome::passed), "{report}");
    }

    #[test]
    fn without_a_flush_the_shutdown_is_the_one_mistake_and_what_it_loses_is_not_checked() {
        let outcomes = judged(false);
        let report = crate::report::render_outcomes(&outcomes, crate::report::Style::Plain);
        let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.passed()).collect();
        let told: Vec<&Outcome> = failed
            .iter()
            .copied()
            .filter(|o| matches!(o.verdict, Verdict::Failed { .. }))
            .collect();
        assert_eq!(told.len(), 1, "{report}");
        assert_eq!(
            told[0].verdict,
            Verdict::Failed {
                found: "15 of 16 server spans; none after SIGTERM".into(),
                mistake: step_02::Mistake::NoShutdown.into(),
            }
        );
        // The server spans' count, the two traces, the bad index's error, the failed sub-request.
        let lost = Verdict::NotChecked {
            because: LAST_SPANS_LOST,
        };
        assert_eq!(
            failed.iter().filter(|o| o.verdict == lost).count(),
            4,
            "{report}"
        );
        assert!(
            report.contains(&format!("(not checked: {LAST_SPANS_LOST})")),
            "{report}"
        );
    }

    #[test]
    fn each_step_keeps_the_ones_before_it_from_02_on() {
        let numbers = |step| ladder(step).iter().map(|s| s.number).collect::<Vec<_>>();
        assert_eq!(numbers(1), [1]);
        assert_eq!(numbers(2), [2]);
        assert_eq!(numbers(4), [2, 3, 4]);
        assert_eq!(numbers(8), [2, 3, 4, 5, 6, 7, 8]);
        assert!(ladder(0).is_empty() && ladder(9).is_empty());
        assert!(needs(1, Need::Stdout) && !needs(2, Need::Stdout));
        assert!(!needs(3, Need::UpstreamDown) && needs(4, Need::UpstreamDown));
        assert!(needs(8, Need::HostedEnv) && needs(8, Need::Otlp));
    }

    #[test]
    fn the_table_names_the_steps_as_their_folders_do() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for step in &STEPS {
            let folder = format!("{:02}-{}", step.number, step.topic);
            assert!(
                root.join("exercises").join(&folder).is_dir(),
                "the table's step {folder} has no exercises/{folder}"
            );
        }
        let folders = std::fs::read_dir(root.join("exercises")).unwrap();
        for folder in folders.flatten() {
            let name = folder.file_name().to_string_lossy().into_owned();
            let number: u32 = name[..2].parse().unwrap();
            assert!(
                number == 0 || step(number).is_some(),
                "exercises/{name} has no row in STEPS"
            );
        }
    }

    #[test]
    fn a_failure_the_lost_spans_explain_is_not_checked_and_others_are_told() {
        let sources = Sources::default();
        let mut judge = Judge::new(&sources);
        judge.last_spans_lost = true;
        let failed = || fail("15 of 16", AppMistake::Broken);
        assert!(judge.expect_unless_lost(2, "explained", failed(), true));
        assert!(!judge.expect_unless_lost(2, "not explained", failed(), false));
        assert_eq!(
            judge.outcomes[0].verdict,
            Verdict::NotChecked {
                because: LAST_SPANS_LOST
            }
        );
        assert!(matches!(judge.outcomes[1].verdict, Verdict::Failed { .. }));
    }
}
