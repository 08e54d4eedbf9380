//! Step 08's run: the app with head sampling on, `parentbased_traceidratio` at 0.25.
//!
//! Two apps at once, each with a receiver and the proxy of its own ([`run::start`]), so that each
//! starts knowing no number (step 06 remembers them, and a remembered number costs no
//! sub-request):
//! - **new traces**: [`NEW_TRACES`] requests without a `traceparent`, so the app's sampler starts
//!   and decides each trace;
//! - **callers**: [`CALLERS`] requests carrying a caller's `traceparent` with the sampled flag
//!   (`-01`) and as many with it off (`-00`): the checker acts as an upstream service that has
//!   decided already, and a parent-based sampler follows.
//!
//! Then SIGTERM, so that every span is flushed, and the spans, the sub-requests the proxies saw
//! (their `traceparent` says which trace each belongs to, and its decision) and the answers are
//! the evidence ([`Sampled`]), judged in `expect::step_08`.
//!
//! Which indexes: a first `/fib?index=N` makes sub-requests only for the numbers not known yet,
//! and after it every number up to N is known. Asked in ascending order one by one, each index
//! would find N-1 known and make none. Asked two apart (3, 5, 7, … 19, with `FIB_MAX_INDEX=20`),
//! each finds N-1 unknown and N-2 known: one sub-request, so its trace crosses HTTP (two server
//! spans, a client span between them). Nine such requests use up what one app can compute; the
//! other requests are answered from what is known (a server span and the app's own span). The
//! callers' app gives its nine to the sampled callers, whose traces are all kept: nine traces
//! that must arrive whole across HTTP, whatever the ratio decided elsewhere.
//!
//! The Collector's part of the step is a file, not a run: [`collector`] checks it.

pub mod collector;

use std::path::Path;

use receiver::ReceivedSpan;

use crate::run::{self, Answer, Protocol, STOP_TIMEOUT, Sink, Started, SubRequests};
use crate::upstream::SubRequest;

/// The head sampler the app is given, as a learner would set it.
pub const SAMPLER: &str = "parentbased_traceidratio";
/// Its ratio, `OTEL_TRACES_SAMPLER_ARG`: one new trace in four.
pub const RATIO: &str = "0.25";
/// The `SampleRate` every kept span must carry: round(1 / 0.25).
pub const SAMPLE_RATE: i64 = 4;
/// How many requests start a trace of their own.
pub const NEW_TRACES: usize = 40;
/// How many requests carry a sampled caller's `traceparent`, and as many an unsampled one's.
pub const CALLERS: usize = 10;
/// `FIB_MAX_INDEX` for the run: the largest the app accepts, for the most sub-requests.
pub const MAX_INDEX: u32 = 20;
/// The Collector's tail-sampling overlay, relative to the kit's root: the file the learner edits
/// in step 08, and the one `COLLECTOR_OVERLAY=sampling` runs.
pub const COLLECTOR_FILE: &str = "collector/sampling.yaml";

/// What the run saw.
#[derive(Debug, Clone)]
pub struct Sampled {
    /// The requests without a `traceparent`: the app's sampler decided.
    pub new_traces: Part,
    /// The requests with a caller's `traceparent`.
    pub callers: Part,
    /// The callers' traces, in the order asked.
    pub caller_traces: Vec<Caller>,
    /// The learner's `collector/sampling.yaml`, when the check found one to judge (it is a file of
    /// the step, not something the run sees; `None` until a check fills it in).
    pub collector: Option<CollectorFile>,
}

/// One app's part of the run.
#[derive(Debug, Clone, Default)]
pub struct Part {
    /// Each request and its answer, in order.
    pub answers: Vec<Answer>,
    /// Every span that arrived.
    pub spans: Vec<ReceivedSpan>,
    /// The app's sub-requests, with their `traceparent`.
    pub sub_requests: Vec<SubRequest>,
    /// Everything the app printed.
    pub output: String,
}

/// A caller's span, as the checker made it up: its request continues this trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// 32 lower-case hex digits.
    pub trace_id: String,
    /// 16 lower-case hex digits: the parent the app's server span must name.
    pub span_id: String,
    /// The flag in the `traceparent`: the caller kept this trace (`-01`) or not (`-00`).
    pub sampled: bool,
}

impl Caller {
    /// A new caller's span, with random ids: the ratio, were it (wrongly) applied, would decide
    /// on them as on any trace.
    pub fn new(sampled: bool) -> Caller {
        Caller {
            trace_id: format!("{:016x}{:016x}", random(), random()),
            span_id: format!("{:016x}", random().max(1)),
            sampled,
        }
    }

    /// The W3C `traceparent` header: version, trace id, parent span id, flags.
    pub fn traceparent(&self) -> String {
        let flags = if self.sampled { "01" } else { "00" };
        format!("00-{}-{}-{flags}", self.trace_id, self.span_id)
    }
}

/// A Collector configuration file to judge: where it is, for messages, and its text or why it
/// could not be read.
#[derive(Debug, Clone)]
pub struct CollectorFile {
    pub path: String,
    pub text: Result<String, String>,
}

impl CollectorFile {
    /// Reads [`COLLECTOR_FILE`] in the kit at `root`; a missing file is a finding, not an error
    /// of the checker.
    pub fn read(root: &Path) -> CollectorFile {
        let path = root.join(COLLECTOR_FILE);
        CollectorFile {
            path: COLLECTOR_FILE.to_string(),
            text: std::fs::read_to_string(&path).map_err(|err| err.to_string()),
        }
    }
}

/// The indexes asked without a `traceparent`: two apart while there are numbers to compute (each
/// makes one sub-request), then every index in turn (each answered from what is known).
pub fn new_trace_indexes() -> Vec<u32> {
    let first: Vec<u32> = (3..MAX_INDEX).step_by(2).collect();
    let rest = (0..=MAX_INDEX).cycle().take(NEW_TRACES - first.len());
    first.into_iter().chain(rest).collect()
}

/// The callers' requests: the sampled ones first, two apart, then the unsampled ones.
pub fn caller_indexes() -> Vec<(u32, bool)> {
    let sampled = (3..MAX_INDEX)
        .step_by(2)
        .chain([MAX_INDEX])
        .take(CALLERS)
        .map(|index| (index, true));
    let unsampled = (0..CALLERS as u32).map(|index| (index, false));
    sampled.chain(unsampled).collect()
}

/// Runs `binary` as described above, with `extra_env` on top of what the checker sets.
pub async fn run(binary: &Path, extra_env: &[(&str, &str)]) -> anyhow::Result<Sampled> {
    let max_index = MAX_INDEX.to_string();
    let mut env: Vec<(&str, &str)> = extra_env.to_vec();
    env.extend([
        ("OTEL_TRACES_SAMPLER", SAMPLER),
        ("OTEL_TRACES_SAMPLER_ARG", RATIO),
        ("FIB_MAX_INDEX", max_index.as_str()),
    ]);
    let callers: Vec<(u32, Caller)> = caller_indexes()
        .into_iter()
        .map(|(index, sampled)| (index, Caller::new(sampled)))
        .collect();
    let new_requests: Vec<(u32, Option<Caller>)> =
        new_trace_indexes().into_iter().map(|i| (i, None)).collect();
    let caller_requests: Vec<(u32, Option<Caller>)> = callers
        .iter()
        .map(|(index, caller)| (*index, Some(caller.clone())))
        .collect();
    let (new_traces, from_callers) = tokio::join!(
        part(binary, &env, &new_requests),
        part(binary, &env, &caller_requests)
    );
    Ok(Sampled {
        new_traces: new_traces?,
        callers: from_callers?,
        caller_traces: callers.into_iter().map(|(_, caller)| caller).collect(),
        collector: None,
    })
}

/// One app: started, asked `requests` one after the other, stopped.
async fn part(
    binary: &Path,
    env: &[(&str, &str)],
    requests: &[(u32, Option<Caller>)],
) -> anyhow::Result<Part> {
    let Started {
        receiver,
        upstream,
        mut app,
        ..
    } = run::start(
        binary,
        Sink::Otlp(Protocol::HttpProtobuf),
        SubRequests::Proxied,
        env,
    )
    .await?;
    let mut answers = Vec::new();
    for (index, caller) in requests {
        let traceparent = caller.as_ref().map(Caller::traceparent);
        let path = format!("/fib?index={index}");
        answers.push(run::ask(&app, &path, traceparent.as_deref()).await);
    }
    app.terminate();
    app.wait(STOP_TIMEOUT).await;
    Ok(Part {
        answers,
        spans: receiver.spans(),
        sub_requests: upstream.seen(),
        output: app.output(),
    })
}

/// A random number: SipHash of a counter, keyed at random for the process (std's `RandomState`).
fn random() -> u64 {
    use std::hash::BuildHasher;
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static KEYS: std::sync::OnceLock<std::collections::hash_map::RandomState> =
        std::sync::OnceLock::new();
    KEYS.get_or_init(Default::default)
        .hash_one(COUNTER.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_traces_make_nine_sub_requests_then_ask_what_is_known() {
        let indexes = new_trace_indexes();
        assert_eq!(indexes.len(), NEW_TRACES);
        assert_eq!(&indexes[..9], [3, 5, 7, 9, 11, 13, 15, 17, 19]);
        assert!(indexes.iter().all(|index| *index <= MAX_INDEX));
        // With every number up to the last asked known, a request for N makes a sub-request only
        // when N-1 is not known: once for each of the first nine.
        let mut known = 1;
        let mut sub_requests = 0;
        for index in indexes {
            if index >= 2 && index - 1 > known {
                sub_requests += index - 1 - known;
            }
            known = known.max(index);
        }
        assert_eq!(sub_requests, 9);
    }

    #[test]
    fn the_sampled_callers_come_first_and_cross_http() {
        let requests = caller_indexes();
        assert_eq!(requests.len(), 2 * CALLERS);
        let sampled: Vec<u32> = requests
            .iter()
            .filter(|(_, sampled)| *sampled)
            .map(|(index, _)| *index)
            .collect();
        assert_eq!(sampled, [3, 5, 7, 9, 11, 13, 15, 17, 19, 20]);
        assert!(requests[..CALLERS].iter().all(|(_, sampled)| *sampled));
    }

    #[test]
    fn a_caller_has_random_valid_ids() {
        let (a, b) = (Caller::new(true), Caller::new(false));
        assert_ne!(a.trace_id, b.trace_id);
        assert_eq!(a.trace_id.len(), 32);
        assert_eq!(a.span_id.len(), 16);
        assert!(a.traceparent().ends_with("-01") && b.traceparent().ends_with("-00"));
        assert_eq!(
            a.traceparent(),
            format!("00-{}-{}-01", a.trace_id, a.span_id)
        );
    }
}
