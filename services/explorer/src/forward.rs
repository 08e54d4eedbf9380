//! Forwarding to the room: a joined learner's explorer sends the room a copy of everything it
//! keeps, so that the instructor's board shows the learner's own telemetry while the learner's
//! puzzles and waterfall keep working here, with or without the room.
//!
//! In this order, for each export the explorer admits:
//! 1. the request (as decoded, whatever transport it came by) is copied, and every resource in
//!    it gets `learner.name` (replacing any the app set itself);
//! 2. the copy is encoded as OTLP/HTTP protobuf and queued ([`QUEUED`] at most: a room that does
//!    not answer costs the learner's explorer a bounded amount of memory, counted as dropped);
//! 3. one task sends the queue in order, to the room's `/v1/traces`, `/v1/metrics` or
//!    `/v1/logs`, with the room's code in `x-room-code` and nothing else: the headers the app
//!    sent (an API key for a hosted backend, say) stay here.
//!
//! What happens is counted ([`ForwardStats`], on every page's line) and said once on stderr: the
//! first failure, and the recovery after one.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use receiver::room::{CODE_HEADER, name_resource};
use serde::Serialize;
use tokio::sync::mpsc;

/// The most requests waiting to go to the room.
pub const QUEUED: usize = 256;
/// How long the room gets to answer one request.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Where to forward, and as whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Room {
    /// The room's OTLP/HTTP endpoint, e.g. `http://192.168.1.20:4318`.
    pub url: String,
    pub code: Option<String>,
    pub learner: String,
}

/// What forwarding has done so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ForwardStats {
    pub url: String,
    pub learner: String,
    /// Requests the room took, refused or never answered, and dropped here (the queue was full).
    pub sent: u64,
    pub failed: u64,
    pub dropped: u64,
    /// Why the last failure failed, in a few words.
    pub last_error: Option<String>,
}

/// The forwarding end: queues copies for the task that sends them.
pub struct Forwarder {
    room: Room,
    queue: mpsc::Sender<(&'static str, Vec<u8>)>,
    stats: Arc<Mutex<ForwardStats>>,
}

impl Forwarder {
    /// Starts the sending task on the current tokio runtime.
    pub fn start(room: Room) -> Forwarder {
        let (queue, waiting) = mpsc::channel(QUEUED);
        let stats = Arc::new(Mutex::new(ForwardStats {
            url: room.url.clone(),
            learner: room.learner.clone(),
            ..ForwardStats::default()
        }));
        tokio::spawn(send_all(room.clone(), waiting, stats.clone()));
        Forwarder { room, queue, stats }
    }

    pub fn traces(&self, request: &ExportTraceServiceRequest) {
        let mut copy = request.clone();
        for resource_spans in &mut copy.resource_spans {
            name_resource(&mut resource_spans.resource, &self.room.learner);
        }
        self.queue("/v1/traces", copy.encode_to_vec());
    }

    pub fn metrics(&self, request: &ExportMetricsServiceRequest) {
        let mut copy = request.clone();
        for resource_metrics in &mut copy.resource_metrics {
            name_resource(&mut resource_metrics.resource, &self.room.learner);
        }
        self.queue("/v1/metrics", copy.encode_to_vec());
    }

    pub fn logs(&self, request: &ExportLogsServiceRequest) {
        let mut copy = request.clone();
        for resource_logs in &mut copy.resource_logs {
            name_resource(&mut resource_logs.resource, &self.room.learner);
        }
        self.queue("/v1/logs", copy.encode_to_vec());
    }

    fn queue(&self, path: &'static str, body: Vec<u8>) {
        if self.queue.try_send((path, body)).is_err() {
            lock(&self.stats).dropped += 1;
        }
    }

    pub fn stats(&self) -> ForwardStats {
        lock(&self.stats).clone()
    }
}

/// Sends what is queued, one request at a time, in order, until the explorer stops.
async fn send_all(
    room: Room,
    mut waiting: mpsc::Receiver<(&'static str, Vec<u8>)>,
    stats: Arc<Mutex<ForwardStats>>,
) {
    let client = match reqwest::Client::builder().timeout(TIMEOUT).build() {
        Ok(client) => client,
        Err(err) => {
            eprintln!("explorer: cannot forward to the room ({err}); everything stays here");
            return;
        }
    };
    let mut failing = false;
    while let Some((path, body)) = waiting.recv().await {
        let mut request = client
            .post(format!("{}{path}", room.url))
            .header("content-type", "application/x-protobuf")
            .body(body);
        if let Some(code) = &room.code {
            request = request.header(CODE_HEADER, code);
        }
        let failure = match request.send().await {
            Ok(response) if response.status().is_success() => None,
            Ok(response) => {
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                Some(format!("HTTP {}: {}", status.as_u16(), text.trim()))
            }
            Err(err) if err.is_timeout() => Some("no answer within 5 s".to_string()),
            Err(err) if err.is_connect() => Some("nothing answers there".to_string()),
            Err(_) => Some("the request failed".to_string()),
        };
        let mut stats = lock(&stats);
        match failure {
            None => {
                stats.sent += 1;
                if failing {
                    eprintln!(
                        "explorer: the room at {} takes the app's telemetry again",
                        room.url
                    );
                    failing = false;
                }
            }
            Some(reason) => {
                stats.failed += 1;
                if !failing {
                    eprintln!(
                        "explorer: the room at {} did not take the app's telemetry ({reason}); \
                         this explorer keeps all of it",
                        room.url
                    );
                    failing = true;
                }
                stats.last_error = Some(reason);
            }
        }
    }
}

/// Counting cannot leave the stats half-written: a poisoned lock is used anyway.
fn lock(stats: &Mutex<ForwardStats>) -> std::sync::MutexGuard<'_, ForwardStats> {
    stats.lock().unwrap_or_else(PoisonError::into_inner)
}
