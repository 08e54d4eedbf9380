//! The window: the most recent spans, up to a number and a size, the oldest dropped first.
//!
//! Spans sit in arrival order in a ring ([`VecDeque`]); each gets a sequence number, so that the
//! index of traces (trace id → the sequence numbers of its spans) stays valid as the ring turns.
//!
//! ## Layout
//! - here: the [`Window`] and its [`Limits`];
//! - `shared`: the [`Shared`] state the OTLP servers write to and the pages read (the window, the
//!   log records, the metrics, behind locks of their own) and its counters, [`Stats`];
//! - `summary`: a trace in a line, as the trace list and the trace page head show it.

mod shared;
mod summary;

use std::collections::{HashMap, VecDeque};

pub use shared::{Exports, MISSING_CODE, ROOM_CODE_HEADER, Shared, Stats, WRONG_CODE};
pub use summary::{TraceSummary, summary};

use crate::span::StoredSpan;

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

pub struct Window {
    spans: VecDeque<StoredSpan>,
    /// The sequence number of `spans[0]`.
    first_seq: u64,
    traces: HashMap<[u8; 16], VecDeque<u64>>,
    bytes: usize,
    dropped: u64,
    limits: Limits,
}

impl Window {
    pub fn new(limits: Limits) -> Window {
        Window {
            spans: VecDeque::new(),
            first_seq: 0,
            traces: HashMap::new(),
            bytes: 0,
            dropped: 0,
            limits,
        }
    }

    /// Adds spans at the new end, then drops from the old end until both bounds hold.
    pub fn push(&mut self, spans: Vec<StoredSpan>) {
        for span in spans {
            let seq = self.first_seq + self.spans.len() as u64;
            self.traces.entry(span.trace_id).or_default().push_back(seq);
            self.bytes += span.estimated_bytes();
            self.spans.push_back(span);
        }
        while self.spans.len() > self.limits.max_spans || self.bytes > self.limits.max_bytes {
            let Some(oldest) = self.spans.pop_front() else {
                break;
            };
            self.bytes -= oldest.estimated_bytes();
            // The oldest span is the first of its trace's list: sequence numbers only grow.
            if let Some(seqs) = self.traces.get_mut(&oldest.trace_id) {
                seqs.pop_front();
                if seqs.is_empty() {
                    self.traces.remove(&oldest.trace_id);
                }
            }
            self.first_seq += 1;
            self.dropped += 1;
        }
    }

    /// Every span, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &StoredSpan> + ExactSizeIterator {
        self.spans.iter()
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The spans of one trace that are still in the window, in arrival order.
    pub fn trace(&self, trace_id: &[u8; 16]) -> Vec<&StoredSpan> {
        self.traces
            .get(trace_id)
            .into_iter()
            .flatten()
            .filter_map(|seq| self.spans.get((seq - self.first_seq) as usize))
            .collect()
    }

    pub fn trace_count(&self) -> usize {
        self.traces.len()
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
}
