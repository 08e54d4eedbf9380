//! The window: the most recent spans, up to a number and a size, the oldest dropped first.
//!
//! Each learner has a share of the window (a room's explorer gets spans from many, each resource
//! naming its learner in `learner.name`; spans that name none share one part): its spans sit in
//! arrival order in a ring ([`VecDeque`]), each with a sequence number, so that the index of its
//! traces (trace id → the sequence numbers of its spans) stays valid as the ring turns.
//!
//! # Fair shares
//! When a bound is passed, the span dropped is the oldest of the largest share. So a learner who
//! floods the room (`./run.sh load`, `/fib?index=25`) drops their own oldest spans, never those
//! of a learner who sends less than an even part of the window; when everyone sends more, the
//! shares end up even. Without learners (a laptop's explorer) there is one share, and the
//! oldest spans go first, as they always did.
//!
//! ## Layout
//! - here: the [`Window`] and its [`Limits`];
//! - `shared`: the [`Shared`] state the OTLP servers write to and the pages read (the window, the
//!   log records, the metrics, behind locks of their own) and its counters, [`Stats`];
//! - `summary`: a trace in a line, as the trace list and the trace page head show it.

mod shared;
mod summary;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

pub use shared::{
    DROPS_LISTED, Exports, LearnerDrops, MISSING_CODE, ROOM_CODE_HEADER, Shared, Stats, WRONG_CODE,
};
pub use summary::{TraceSummary, summary};

use crate::room::ShareStats;
use crate::span::{Origin, StoredSpan, Str};

/// The most learners with a share of their own; spans of more share the nameless part (a room
/// of a few dozen is the aim; names beyond that are strays, or someone making them up).
pub const MAX_SHARES: usize = 1_000;

/// How big the window may grow. Whichever bound is reached first drops the oldest spans; the
/// log records have bounds of their own, and so do the metrics' series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_spans: usize,
    /// By [`StoredSpan::estimated_bytes`].
    pub max_bytes: usize,
    /// The most log records kept; older ones are dropped first.
    pub max_logs: usize,
    /// The most memory the log records may take, by [`crate::logs::StoredLog::estimated_bytes`].
    pub max_log_bytes: usize,
    /// The most metric series (metric, attributes, service); points of new ones beyond it are
    /// dropped.
    pub max_series: usize,
}

impl Default for Limits {
    /// 200 000 spans (a whole class clicking Go for a while) or 256 MiB, whichever comes first;
    /// 20 000 log records or 64 MiB; 5 000 metric series (the workshop's app makes a few dozen).
    fn default() -> Self {
        Limits {
            max_spans: 200_000,
            max_bytes: 256 * 1024 * 1024,
            max_logs: 20_000,
            max_log_bytes: 64 * 1024 * 1024,
            max_series: 5_000,
        }
    }
}

/// One learner's part of the window (or the part of spans that name no learner): its spans in
/// arrival order, each with its arrival number in the whole window, and the index of its traces.
struct Share {
    learner: Option<Str>,
    spans: VecDeque<StoredSpan>,
    /// The arrival number of each span in `spans`, in the same order.
    arrivals: VecDeque<u64>,
    /// The sequence number of `spans[0]` within this share.
    first_seq: u64,
    traces: HashMap<[u8; 16], VecDeque<u64>>,
    bytes: usize,
    /// Spans received, root spans received, and spans dropped to make room.
    received: u64,
    roots: u64,
    dropped: u64,
}

impl Share {
    fn new(learner: Option<Str>) -> Share {
        Share {
            learner,
            spans: VecDeque::new(),
            arrivals: VecDeque::new(),
            first_seq: 0,
            traces: HashMap::new(),
            bytes: 0,
            received: 0,
            roots: 0,
            dropped: 0,
        }
    }

    fn push(&mut self, span: StoredSpan, arrival: u64) -> usize {
        let seq = self.first_seq + self.spans.len() as u64;
        self.traces.entry(span.trace_id).or_default().push_back(seq);
        let bytes = span.estimated_bytes();
        self.bytes += bytes;
        self.received += 1;
        self.roots += u64::from(span.is_root());
        self.spans.push_back(span);
        self.arrivals.push_back(arrival);
        bytes
    }

    /// Drops the oldest span; what it took.
    fn pop(&mut self) -> Option<usize> {
        let oldest = self.spans.pop_front()?;
        self.arrivals.pop_front();
        let bytes = oldest.estimated_bytes();
        self.bytes -= bytes;
        // The oldest span is the first of its trace's list: sequence numbers only grow.
        if let Some(seqs) = self.traces.get_mut(&oldest.trace_id) {
            seqs.pop_front();
            if seqs.is_empty() {
                self.traces.remove(&oldest.trace_id);
            }
        }
        self.first_seq += 1;
        self.dropped += 1;
        Some(bytes)
    }

    fn trace<'a>(&'a self, trace_id: &[u8; 16], into: &mut Vec<&'a StoredSpan>) {
        for seq in self.traces.get(trace_id).into_iter().flatten() {
            if let Some(span) = self.spans.get((seq - self.first_seq) as usize) {
                into.push(span);
            }
        }
    }
}

pub struct Window {
    shares: Vec<Share>,
    /// Where each learner's share is in `shares` (`None`: the spans that name no learner).
    places: HashMap<Option<Str>, usize>,
    next_arrival: u64,
    len: usize,
    bytes: usize,
    dropped: u64,
    limits: Limits,
}

impl Window {
    pub fn new(limits: Limits) -> Window {
        Window {
            shares: Vec::new(),
            places: HashMap::new(),
            next_arrival: 0,
            len: 0,
            bytes: 0,
            dropped: 0,
            limits,
        }
    }

    /// Adds spans at the new end of their learner's share, then drops spans until both bounds
    /// hold: each time the oldest of the largest share (by count when the count is over, else
    /// by bytes), so that a share within its fair part of the window is never dropped from.
    pub fn push(&mut self, spans: Vec<StoredSpan>) {
        // A batch comes from one resource, mostly: its share is looked up once per change.
        let mut last: Option<(*const Origin, usize)> = None;
        for span in spans {
            let origin = Arc::as_ptr(&span.origin);
            let place = match last {
                Some((seen, place)) if seen == origin => place,
                _ => {
                    let place = self.place(span.origin.learner.clone());
                    last = Some((origin, place));
                    place
                }
            };
            let arrival = self.next_arrival;
            self.next_arrival += 1;
            self.bytes += self.shares[place].push(span, arrival);
            self.len += 1;
        }
        while self.len > self.limits.max_spans || self.bytes > self.limits.max_bytes {
            let by_count = self.len > self.limits.max_spans;
            let largest = self
                .shares
                .iter()
                .enumerate()
                .max_by_key(|(_, share)| {
                    if by_count {
                        share.spans.len()
                    } else {
                        share.bytes
                    }
                })
                .map(|(place, _)| place);
            let Some(bytes) = largest.and_then(|place| self.shares[place].pop()) else {
                break;
            };
            self.bytes -= bytes;
            self.len -= 1;
            self.dropped += 1;
        }
    }

    /// The share of `learner`, made if new. Past [`MAX_SHARES`] learners, newcomers share the
    /// nameless part.
    fn place(&mut self, learner: Option<Str>) -> usize {
        if let Some(&place) = self.places.get(&learner) {
            return place;
        }
        let learner = learner.filter(|_| self.shares.len() < MAX_SHARES);
        if let Some(&place) = self.places.get(&learner) {
            return place;
        }
        self.shares.push(Share::new(learner.clone()));
        self.places.insert(learner, self.shares.len() - 1);
        self.shares.len() - 1
    }

    /// Every span, each share's oldest first (a query's order does not matter).
    pub fn iter(&self) -> impl Iterator<Item = &StoredSpan> {
        self.shares.iter().flat_map(|share| share.spans.iter())
    }

    /// Each share's spans newest first, with their arrival numbers (higher: newer): for the
    /// newest traces across shares.
    pub fn newest_by_share(
        &self,
    ) -> impl Iterator<Item = impl Iterator<Item = (u64, &StoredSpan)>> {
        self.shares.iter().map(|share| {
            share
                .arrivals
                .iter()
                .rev()
                .copied()
                .zip(share.spans.iter().rev())
        })
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The spans of one trace that are still in the window, in arrival order within each share.
    pub fn trace(&self, trace_id: &[u8; 16]) -> Vec<&StoredSpan> {
        let mut spans = Vec::new();
        for share in &self.shares {
            share.trace(trace_id, &mut spans);
        }
        spans
    }

    pub fn trace_count(&self) -> usize {
        self.shares.iter().map(|share| share.traces.len()).sum()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Each learner's share (and the nameless one, if any spans named none), in order of arrival.
    pub fn shares(&self) -> Vec<ShareStats> {
        self.shares
            .iter()
            .map(|share| ShareStats {
                learner: share.learner.as_deref().map(str::to_owned),
                spans: share.spans.len(),
                traces: share.traces.len(),
                bytes: share.bytes,
                received: share.received,
                roots: share.roots,
                dropped: share.dropped,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use receiver::{SpanKind, StatusCode};

    use super::*;
    use crate::span::Origin;

    fn origin(learner: Option<&str>) -> Arc<Origin> {
        Arc::new(Origin {
            resource: Default::default(),
            service_name: "fib".into(),
            scope_name: "".into(),
            scope_version: "".into(),
            learner: learner.map(Str::from),
        })
    }

    fn spans(origin: &Arc<Origin>, trace: u8, count: usize) -> Vec<StoredSpan> {
        (0..count)
            .map(|i| StoredSpan {
                trace_id: [trace; 16],
                span_id: (i as u64 + 1).to_be_bytes(),
                parent_span_id: (i > 0).then_some([1; 8]),
                name: "GET".into(),
                kind: SpanKind::Server,
                status: StatusCode::Unset,
                status_message: None,
                start_unix_nano: 1,
                end_unix_nano: 2,
                attributes: Vec::new().into(),
                events: Box::new([]),
                links: Box::new([]),
                origin: origin.clone(),
            })
            .collect()
    }

    fn limits(max_spans: usize) -> Limits {
        Limits {
            max_spans,
            ..Limits::default()
        }
    }

    #[test]
    fn one_learner_flooding_drops_only_their_own_spans() {
        let (ada, bob, flood) = (
            origin(Some("ada")),
            origin(Some("bob")),
            origin(Some("eve")),
        );
        let mut window = Window::new(limits(100));
        window.push(spans(&ada, 1, 10));
        window.push(spans(&bob, 2, 20));
        for trace in 10..50 {
            window.push(spans(&flood, trace, 25));
        }
        assert_eq!(window.len(), 100);
        assert_eq!(window.trace(&[1; 16]).len(), 10, "ada's trace is whole");
        assert_eq!(window.trace(&[2; 16]).len(), 20, "bob's trace is whole");
        let shares = window.shares();
        let eve = shares
            .iter()
            .find(|s| s.learner.as_deref() == Some("eve"))
            .unwrap();
        assert_eq!((eve.spans, eve.received, eve.dropped), (70, 1000, 930));
        assert_eq!(window.dropped(), 930);
        assert!(
            shares
                .iter()
                .filter(|s| s.learner.as_deref() != Some("eve"))
                .all(|s| s.dropped == 0)
        );
    }

    #[test]
    fn when_all_are_over_their_part_the_largest_gives_way_until_they_are_even() {
        let (ada, bob) = (origin(Some("ada")), origin(Some("bob")));
        let mut window = Window::new(limits(100));
        window.push(spans(&ada, 1, 80));
        window.push(spans(&bob, 2, 80));
        let parts: Vec<_> = window.shares().iter().map(|s| s.spans).collect();
        assert_eq!(parts, [50, 50]);
    }

    #[test]
    fn without_learners_the_oldest_go_first() {
        let nobody = origin(None);
        let mut window = Window::new(limits(30));
        for trace in 0..5 {
            window.push(spans(&nobody, trace, 10));
        }
        assert_eq!(window.len(), 30);
        assert!(window.trace(&[0; 16]).is_empty() && window.trace(&[1; 16]).is_empty());
        assert_eq!(window.trace(&[4; 16]).len(), 10);
        assert_eq!(window.trace_count(), 3);
    }

    #[test]
    fn the_newest_by_share_merge_in_arrival_order() {
        let (ada, bob) = (origin(Some("ada")), origin(Some("bob")));
        let mut window = Window::new(limits(100));
        window.push(spans(&ada, 1, 1));
        window.push(spans(&bob, 2, 1));
        window.push(spans(&ada, 3, 1));
        let mut all: Vec<(u64, u8)> = window
            .newest_by_share()
            .flatten()
            .map(|(arrival, span)| (arrival, span.trace_id[0]))
            .collect();
        all.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(all, [(2, 3), (1, 2), (0, 1)]);
    }
}
