//! The state the OTLP servers write to (it is the receiver's [`Sink`]) and the pages and the API
//! read: the window, the log records and the metrics, the strings they share, and the counts of
//! exports and refused requests.
//!
//! Both servers add spans while pages and the API read, so the window is behind one `RwLock`:
//! a query reads it whole, an export batch takes the write lock only to push its spans.
//!
//! Log records and metrics have their own keepers ([`Logs`], [`Metrics`]) behind locks of their
//! own, so that an app exporting all three signals never makes a span query wait.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError, RwLock, RwLockReadGuard};

use axum::http::HeaderMap;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use receiver::room::{Verdict, learner, read_claim};
use receiver::{RejectedRequest, Sink, Transport};
use serde::Serialize;

use super::{Limits, Window};
use crate::forward::{ForwardStats, Forwarder};
use crate::logs::{self, Logs};
use crate::metrics::{self, Metrics};
use crate::room::{Board, Room, now_unix_nano};
use crate::span::{self, StoredSpan, Strings};

/// How many refused requests are remembered for the pages (the newest).
const REJECTIONS_KEPT: usize = 10;
/// How many distinct strings are shared before the table starts afresh.
const STRINGS_KEPT: usize = 100_000;

/// The numbers on top of every page, and `GET /api/stats`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Stats {
    pub spans: usize,
    pub traces: usize,
    pub bytes: usize,
    pub dropped_spans: u64,
    pub max_spans: usize,
    pub max_bytes: usize,
    /// Log records kept, received (kept or not) and dropped (the oldest, to make room).
    pub logs: usize,
    pub logs_received: u64,
    pub dropped_logs: u64,
    pub log_bytes: usize,
    pub max_logs: usize,
    pub max_log_bytes: usize,
    /// Metric series kept, points received, and points dropped (of series beyond the limit).
    pub series: usize,
    pub metric_points_received: u64,
    pub dropped_metric_points: u64,
    pub max_series: usize,
    /// Export requests received (of any signal), by transport.
    pub exports: Exports,
    /// Requests refused (wrong path, content type, body…): how many, and the newest.
    pub rejected: u64,
    pub last_rejections: Vec<String>,
    /// Export requests refused for the room code (not counted in `rejected`): in all, and
    /// without an `x-room-code` or with a wrong one.
    pub refused_requests: u64,
    pub refused_missing_code: u64,
    pub refused_wrong_code: u64,
    /// In a room: the learners whose spans were dropped to make room, most first (at most
    /// [`DROPS_LISTED`]), with how many.
    pub dropped_by_learner: Vec<LearnerDrops>,
    /// A joined learner's explorer: what went to the room.
    pub forward: Option<ForwardStats>,
    /// This explorer is a room's (it requires a code): the puzzles narrow their queries to the
    /// learner asking (`learner.name`).
    pub room: bool,
}

/// How many learners the stats name for their dropped spans.
pub const DROPS_LISTED: usize = 3;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LearnerDrops {
    pub learner: String,
    pub spans: u64,
}

/// The header that carries a room's code, on OTLP/HTTP and as gRPC metadata.
pub const ROOM_CODE_HEADER: &str = receiver::room::CODE_HEADER;
/// The refusals' lines: never the code received, which may be someone else's.
pub const MISSING_CODE: &str =
    "no x-room-code header: this explorer is a room's; join it with ./run.sh join";
pub const WRONG_CODE: &str = "wrong x-room-code: ask the instructor for the room's code";

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Exports {
    pub grpc: u64,
    pub http_protobuf: u64,
    pub http_json: u64,
}

/// The window, the log records and the metrics, and their bookkeeping, shared by the OTLP
/// servers (a [`Sink`]) and the web pages.
pub struct Shared {
    window: RwLock<Window>,
    logs: RwLock<Logs>,
    metrics: RwLock<Metrics>,
    strings: Mutex<Strings>,
    exports: Mutex<Exports>,
    rejections: Mutex<(u64, VecDeque<String>)>,
    /// The code every export must carry, if any, and the refusals for it (missing, wrong).
    room_code: Option<String>,
    room_refusals: Mutex<(u64, u64)>,
    /// What the room knows of each learner beyond their spans (a room's explorer).
    room: Mutex<Room>,
    /// Where a joined learner's explorer forwards a copy of everything.
    forward: Option<Forwarder>,
}

impl Shared {
    pub fn new(limits: Limits) -> Shared {
        Shared {
            window: RwLock::new(Window::new(limits)),
            logs: RwLock::new(Logs::new(limits.max_logs, limits.max_log_bytes)),
            metrics: RwLock::new(Metrics::new(limits.max_series)),
            strings: Mutex::new(Strings::new(STRINGS_KEPT)),
            exports: Mutex::default(),
            rejections: Mutex::default(),
            room_code: None,
            room_refusals: Mutex::default(),
            room: Mutex::default(),
            forward: None,
        }
    }

    /// Forwards a copy of every admitted export to the room.
    pub fn with_forwarder(self, forward: Option<Forwarder>) -> Shared {
        Shared { forward, ..self }
    }

    /// The room's board: a row per learner, and the summary.
    pub fn board(&self) -> Board {
        let shares = self.read().shares();
        self.room().board(&shares)
    }

    fn room(&self) -> std::sync::MutexGuard<'_, Room> {
        self.room.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Requires `code` in every export's `x-room-code` (`None`: no code needed).
    pub fn with_room_code(self, code: Option<String>) -> Shared {
        Shared {
            room_code: code,
            ..self
        }
    }

    /// Reads the window. A panic elsewhere cannot leave it half-written (pushes do not panic),
    /// so a poisoned lock is read anyway.
    pub fn read(&self) -> RwLockReadGuard<'_, Window> {
        self.window.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the log records; poisoned or not, as [`Shared::read`].
    pub fn logs(&self) -> RwLockReadGuard<'_, Logs> {
        self.logs.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reads the metrics; poisoned or not, as [`Shared::read`].
    pub fn metrics(&self) -> RwLockReadGuard<'_, Metrics> {
        self.metrics.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds spans already converted (tests and benchmarks fill the window this way too).
    pub fn push(&self, spans: Vec<StoredSpan>) {
        self.window
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(spans);
    }

    fn strings(&self) -> std::sync::MutexGuard<'_, Strings> {
        self.strings.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn count_export(&self, transport: Transport) {
        let mut exports = self.exports.lock().unwrap_or_else(PoisonError::into_inner);
        match transport {
            Transport::Grpc => exports.grpc += 1,
            Transport::HttpProtobuf => exports.http_protobuf += 1,
            Transport::HttpJson => exports.http_json += 1,
        }
    }

    pub fn stats(&self) -> Stats {
        let (rejected, last_rejections) = {
            let rejections = self
                .rejections
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            (rejections.0, rejections.1.iter().rev().cloned().collect())
        };
        let (refused_missing_code, refused_wrong_code) = *self
            .room_refusals
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let exports = self
            .exports
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        // One lock at a time: the numbers need not agree to the instant.
        let (logs, logs_received, dropped_logs, log_bytes) = {
            let logs = self.logs();
            let received = logs.len() as u64 + logs.dropped();
            (logs.len(), received, logs.dropped(), logs.bytes())
        };
        let (series, metric_points_received, dropped_metric_points, max_series) = {
            let metrics = self.metrics();
            let max = metrics.max_series();
            (metrics.series(), metrics.received(), metrics.dropped(), max)
        };
        let window = self.read();
        let limits = window.limits();
        let mut dropped_by_learner: Vec<LearnerDrops> = window
            .shares()
            .into_iter()
            .filter(|share| share.dropped > 0)
            .filter_map(|share| {
                Some(LearnerDrops {
                    learner: share.learner?,
                    spans: share.dropped,
                })
            })
            .collect();
        dropped_by_learner.sort_by_key(|drops| std::cmp::Reverse(drops.spans));
        dropped_by_learner.truncate(DROPS_LISTED);
        Stats {
            spans: window.len(),
            traces: window.trace_count(),
            bytes: window.bytes(),
            dropped_spans: window.dropped(),
            max_spans: limits.max_spans,
            max_bytes: limits.max_bytes,
            logs,
            logs_received,
            dropped_logs,
            log_bytes,
            max_logs: limits.max_logs,
            max_log_bytes: limits.max_log_bytes,
            series,
            metric_points_received,
            dropped_metric_points,
            max_series,
            exports,
            rejected,
            last_rejections,
            refused_requests: refused_missing_code + refused_wrong_code,
            refused_missing_code,
            refused_wrong_code,
            dropped_by_learner,
            forward: self.forward.as_ref().map(Forwarder::stats),
            room: self.room_code.is_some(),
        }
    }
}

impl Sink for Shared {
    fn export(
        &self,
        transport: Transport,
        _headers: &HeaderMap,
        request: ExportTraceServiceRequest,
    ) -> Result<(), String> {
        if let Some(forward) = &self.forward {
            forward.traces(&request);
        }
        // Converted outside the window's lock: pages keep reading meanwhile.
        let spans = span::from_request(request, &mut self.strings())?;
        // The learners heard from (a batch is mostly one resource: one name, seen once).
        let mut last: Option<&span::Str> = None;
        let now = now_unix_nano();
        for span in &spans {
            if let Some(name) = &span.origin.learner
                && last != Some(name)
            {
                self.room().seen(name, now);
                last = Some(name);
            }
        }
        self.push(spans);
        self.count_export(transport);
        Ok(())
    }

    fn export_logs(
        &self,
        transport: Transport,
        _headers: &HeaderMap,
        request: ExportLogsServiceRequest,
    ) -> Result<(), String> {
        // Read from OTLP by the receiver, outside every lock; only the sharing of strings takes
        // one.
        if let Some(forward) = &self.forward {
            forward.logs(&request);
        }
        let records = receiver::logs::from_request(request)?;
        // A join's claim, a check's verdict, or any record a learner's app sent.
        let now = now_unix_nano();
        for record in &records {
            if let Some((name, machine)) = read_claim(record) {
                self.room().claim(&name, &machine, now)?;
            } else if let Some(name) = learner(&record.resource) {
                match Verdict::read(record) {
                    Some(verdict) => self.room().verdict(&name, verdict, now),
                    None => self.room().seen(&name, now),
                }
            }
        }
        let records = logs::from_received(records, &mut self.strings());
        self.logs
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(records);
        self.count_export(transport);
        Ok(())
    }

    fn export_metrics(
        &self,
        transport: Transport,
        _headers: &HeaderMap,
        request: ExportMetricsServiceRequest,
    ) -> Result<(), String> {
        if let Some(forward) = &self.forward {
            forward.metrics(&request);
        }
        let points = receiver::metrics::from_request(request)?;
        let points = metrics::from_received(points, &mut self.strings());
        self.metrics
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .record(points);
        self.count_export(transport);
        Ok(())
    }

    fn admit(&self, headers: &HeaderMap) -> Result<(), String> {
        let Some(code) = &self.room_code else {
            return Ok(());
        };
        let refusal = match headers.get(ROOM_CODE_HEADER) {
            // Exactly the code: nothing trimmed, no case folded.
            Some(given) if given.as_bytes() == code.as_bytes() => return Ok(()),
            Some(_) => WRONG_CODE,
            None => MISSING_CODE,
        };
        let mut refusals = self
            .room_refusals
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if refusal == MISSING_CODE {
            refusals.0 += 1;
        } else {
            refusals.1 += 1;
        }
        Err(refusal.to_string())
    }

    fn reject(&self, rejected: RejectedRequest) {
        let mut rejections = self
            .rejections
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        rejections.0 += 1;
        rejections.1.push_back(format!(
            "{} {} → {}: {}",
            rejected.method, rejected.path, rejected.status, rejected.message
        ));
        if rejections.1.len() > REJECTIONS_KEPT {
            rejections.1.pop_front();
        }
    }
}
