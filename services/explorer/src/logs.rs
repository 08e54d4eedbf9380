//! Log records as the explorer keeps them, and the ring that keeps the newest.
//!
//! A record emitted inside a span carries that span's trace and span ids (the SDK stamps them
//! from the active context), which is what lets the trace page show each span's records with the
//! span. Records share their resource and scope per export batch, as spans do ([`Origin`]).
//!
//! A record is made from the receiver's [`ReceivedLog`], but not kept as one: that carries its
//! own copy of the resource, its ids as text and its strings unshared, several times the size of
//! a short record here, which the byte bound would count.
//!
//! The ring is bounded like the span window, by a count and by an estimate of the bytes (a body
//! can be a whole response), the oldest dropped first. It has no index by trace: the trace page
//! scans it, which takes well under a millisecond for the 20 000 records it holds by default, and
//! there is nothing to keep in step as the ring turns.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use receiver::{ReceivedLog, Value};
use serde_json::{Value as Json, json};

use crate::span::{self, Attributes, Origin, Str, Strings, Val, attributes_json, hex};

/// OTLP's severity levels: numbers 1–4 are TRACE (TRACE, TRACE2…), 5–8 DEBUG, 9–12 INFO, 13–16
/// WARN, 17–20 ERROR, 21–24 FATAL.
const LEVELS: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

/// One log record.
#[derive(Debug)]
pub struct StoredLog {
    /// When it happened; when the client did not say, when the SDK saw it.
    pub time_unix_nano: u64,
    /// 1–24, see `LEVELS`; 0 when the client did not say.
    pub severity_number: i32,
    /// The level as the source named it, e.g. `WARN`; may be empty.
    pub severity_text: Str,
    /// The message; a structured body as text.
    pub body: Box<str>,
    pub attributes: Attributes,
    /// The span it was emitted in, if any.
    pub trace_id: Option<[u8; 16]>,
    pub span_id: Option<[u8; 8]>,
    pub origin: Arc<Origin>,
}

impl StoredLog {
    /// The severity number; when the client sent only a text (`WARN`), the number of that level.
    pub fn severity(&self) -> i32 {
        match self.severity_number {
            0 => level(&self.severity_text).unwrap_or(0),
            number => number,
        }
    }

    /// The severity as the source named it, else as OTLP names its number (`INFO`, `WARN2`).
    pub fn severity_name(&self) -> String {
        if !self.severity_text.is_empty() {
            return self.severity_text.to_string();
        }
        match self.severity_number {
            number @ 1..=24 => {
                let name = LEVELS[(number as usize - 1) / 4];
                match (number - 1) % 4 {
                    0 => name.to_string(),
                    step => format!("{name}{}", step + 1),
                }
            }
            _ => String::new(),
        }
    }

    /// What the record costs in memory, roughly, as [`span::StoredSpan::estimated_bytes`] counts
    /// a span: itself, its body and its attributes' values as if unshared.
    pub fn estimated_bytes(&self) -> usize {
        std::mem::size_of::<StoredLog>()
            + self.body.len()
            + std::mem::size_of_val(&*self.attributes)
            + self
                .attributes
                .iter()
                .map(|(_, value)| match value {
                    Val::Str(text) => text.len(),
                    _ => 0,
                })
                .sum::<usize>()
    }

    /// The record as the JSON API shows it: ids in hex (`null` when none), the time in
    /// nanoseconds since the epoch, attributes as an object.
    pub fn to_json(&self) -> Json {
        json!({
            "time_unix_nano": self.time_unix_nano,
            "severity_number": self.severity_number,
            "severity_text": &*self.severity_text,
            "body": &*self.body,
            "attributes": attributes_json(&self.attributes),
            "trace_id": self.trace_id.map(|id| hex(&id)),
            "span_id": self.span_id.map(|id| hex(&id)),
            "service": &*self.origin.service_name,
            "scope": {
                "name": &*self.origin.scope_name,
                "version": &*self.origin.scope_version,
            },
        })
    }
}

/// The number of a level's name (`warn` → 13), any case; `WARNING` as `WARN`.
fn level(name: &str) -> Option<i32> {
    let name = name.trim().to_ascii_uppercase();
    let name = if name == "WARNING" { "WARN" } else { &name };
    LEVELS
        .iter()
        .position(|level| *level == name)
        .map(|i| i as i32 * 4 + 1)
}

/// The records the receiver flattened from an export request (it refuses ids of the wrong
/// length: see [`receiver::logs::from_request`]), as the ring keeps them.
pub fn from_received(records: Vec<ReceivedLog>, strings: &mut Strings) -> Vec<StoredLog> {
    // The receiver gives each record a copy of its resource and scope; the records that follow
    // one another under the same ones (an export's, in order) share one origin instead.
    let mut shared: Option<(OriginKey, Arc<Origin>)> = None;
    records
        .into_iter()
        .map(|record| {
            let key = (record.resource, record.scope_name, record.scope_version);
            let origin = match &shared {
                Some((kept, origin)) if *kept == key => origin.clone(),
                _ => {
                    let resource = span::received_attributes(&key.0, strings);
                    let origin = span::origin(resource, &key.1, &key.2, strings);
                    shared = Some((key, origin.clone()));
                    origin
                }
            };
            StoredLog {
                time_unix_nano: match record.time_unix_nano {
                    0 => record.observed_time_unix_nano,
                    time => time,
                },
                severity_number: record.severity_number,
                severity_text: strings.share(&record.severity_text),
                body: record.body.into_boxed_str(),
                attributes: span::received_attributes(&record.attributes, strings),
                // In hex, checked by the receiver; empty when none.
                trace_id: span::parse_id(&record.trace_id),
                span_id: span::parse_id(&record.span_id),
                origin,
            }
        })
        .collect()
}

/// A record's resource, scope name and scope version, as the receiver gives them.
type OriginKey = (BTreeMap<String, Value>, String, String);

/// The newest records, at most a number and a size.
pub struct Logs {
    records: VecDeque<StoredLog>,
    bytes: usize,
    dropped: u64,
    max_records: usize,
    max_bytes: usize,
}

impl Logs {
    pub fn new(max_records: usize, max_bytes: usize) -> Logs {
        Logs {
            records: VecDeque::new(),
            bytes: 0,
            dropped: 0,
            max_records,
            max_bytes,
        }
    }

    /// Adds records at the new end, then drops from the old end until both bounds hold.
    pub fn push(&mut self, records: Vec<StoredLog>) {
        for record in records {
            self.bytes += record.estimated_bytes();
            self.records.push_back(record);
        }
        while self.records.len() > self.max_records || self.bytes > self.max_bytes {
            let Some(oldest) = self.records.pop_front() else {
                break;
            };
            self.bytes -= oldest.estimated_bytes();
            self.dropped += 1;
        }
    }

    /// The newest records that `query` selects, newest first, at most its limit; and how many
    /// it selects in all.
    pub fn newest(&self, query: &LogQuery) -> (Vec<&StoredLog>, usize) {
        let mut matched = 0;
        let mut shown = Vec::new();
        for record in self
            .records
            .iter()
            .rev()
            .filter(|record| query.matches(record))
        {
            matched += 1;
            if shown.len() < query.limit {
                shown.push(record);
            }
        }
        (shown, matched)
    }

    /// The records of one trace, by time.
    pub fn of_trace(&self, trace_id: &[u8; 16]) -> Vec<&StoredLog> {
        let mut records: Vec<&StoredLog> = self
            .records
            .iter()
            .filter(|record| record.trace_id.as_ref() == Some(trace_id))
            .collect();
        records.sort_by_key(|record| record.time_unix_nano);
        records
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// Which records a logs page or `/api/logs` shows: `severity` (that level and above),
/// `trace_id`, `contains` (in the body, any case) and `limit`. An empty value means no filter,
/// as a form sends a box left empty.
#[derive(Clone, Debug, PartialEq)]
pub struct LogQuery {
    pub severity: Option<i32>,
    pub trace_id: Option<[u8; 16]>,
    /// In lower case.
    pub contains: Option<String>,
    pub limit: usize,
}

impl Default for LogQuery {
    fn default() -> Self {
        LogQuery {
            severity: None,
            trace_id: None,
            contains: None,
            limit: 100,
        }
    }
}

impl LogQuery {
    pub fn from_query_string(raw: &str) -> Result<LogQuery, String> {
        let mut query = LogQuery::default();
        for (name, value) in form_urlencoded::parse(raw.as_bytes()) {
            let value = value.trim();
            match &*name {
                "severity" | "trace_id" | "contains" if value.is_empty() => {}
                "severity" => query.severity = Some(parse_severity(value)?),
                "trace_id" => {
                    query.trace_id = Some(span::parse_trace_id(value).ok_or_else(|| {
                        format!("trace_id {value:?}: a trace id is 32 hexadecimal digits")
                    })?);
                }
                "contains" => query.contains = Some(value.to_lowercase()),
                "limit" => query.limit = crate::params::parse_limit(value)?,
                other => {
                    return Err(format!(
                        "unknown parameter {other:?}: the logs take severity, trace_id, contains \
                         and limit"
                    ));
                }
            }
        }
        Ok(query)
    }

    pub fn matches(&self, record: &StoredLog) -> bool {
        self.severity
            .is_none_or(|severity| record.severity() >= severity)
            && self
                .trace_id
                .is_none_or(|trace_id| record.trace_id == Some(trace_id))
            && self
                .contains
                .as_ref()
                .is_none_or(|text| record.body.to_lowercase().contains(text))
    }
}

/// A level's name (`WARN`, any case) or a number from 1 to 24.
pub fn parse_severity(text: &str) -> Result<i32, String> {
    level(text)
        .or_else(|| text.parse().ok().filter(|number| (1..=24).contains(number)))
        .ok_or_else(|| {
            format!(
                "severity {text:?}: TRACE, DEBUG, INFO, WARN, ERROR or FATAL (that level and \
                 above), or a number from 1 to 24"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_of_one_resource_and_scope_share_their_origin_and_keep_their_ids() {
        let trace_id = "0123456789abcdef0123456789abcdef";
        let record = |body: &str, trace_id: &str, span_id: &str| ReceivedLog {
            time_unix_nano: 0,
            observed_time_unix_nano: 7,
            severity_number: 9,
            severity_text: "INFO".into(),
            body: body.into(),
            attributes: BTreeMap::new(),
            trace_id: trace_id.into(),
            span_id: span_id.into(),
            resource: BTreeMap::from([("service.name".to_string(), Value::from("fib"))]),
            scope_name: "app".into(),
            scope_version: "1.0".into(),
        };
        let records = vec![
            record("in a span", trace_id, "0123456789abcdef"),
            record("in none", "", ""),
        ];
        let stored = from_received(records, &mut Strings::new(100));
        assert!(Arc::ptr_eq(&stored[0].origin, &stored[1].origin));
        let json = stored[0].to_json();
        assert_eq!(
            (&json["trace_id"], &json["span_id"]),
            (&json!(trace_id), &json!("0123456789abcdef"))
        );
        assert_eq!(json["scope"], json!({ "name": "app", "version": "1.0" }));
        assert_eq!(json["service"], "fib");
        // No time: when the SDK saw it.
        assert_eq!(json["time_unix_nano"], 7);
        assert_eq!((stored[1].trace_id, stored[1].span_id), (None, None));
    }

    #[test]
    fn severities_read_as_names_or_numbers_and_nonsense_is_refused() {
        assert_eq!(parse_severity("warn"), Ok(13));
        assert_eq!(parse_severity("WARNING"), Ok(13));
        assert_eq!(parse_severity("17"), Ok(17));
        for nonsense in ["loud", "0", "25", "-1"] {
            let err = parse_severity(nonsense).unwrap_err();
            assert!(err.contains("TRACE, DEBUG, INFO"), "{err}");
        }
    }

    #[test]
    fn empty_boxes_are_no_filter_and_unknown_parameters_are_named() {
        let query = LogQuery::from_query_string("severity=&trace_id=&contains=").unwrap();
        assert_eq!(query, LogQuery::default());
        let err = LogQuery::from_query_string("level=INFO").unwrap_err();
        assert!(err.contains("unknown parameter \"level\""), "{err}");
        let err = LogQuery::from_query_string("limit=abc").unwrap_err();
        assert_eq!(err, "limit \"abc\": a number from 1 to 1000");
    }
}
