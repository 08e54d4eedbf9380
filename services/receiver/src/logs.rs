//! Log records as a test sees them: flat, owned, easy to assert on; and their conversion from the
//! OTLP messages that opentelemetry-proto generates.
//!
//! As with spans, each record carries a copy of its resource and scope, and its ids in
//! lower-case hex; its body is text, as [`crate::model::value_text`] writes any value.

use std::collections::BTreeMap;

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::logs::v1::LogRecord;

use crate::model::{Value, attributes, hex, resource_attributes, value_text};

/// One log record, as received, with the resource and scope it was sent under.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedLog {
    /// When it happened; 0 when the client did not say.
    pub time_unix_nano: u64,
    /// When the SDK (or a Collector) saw it.
    pub observed_time_unix_nano: u64,
    /// 1–4 TRACE, 5–8 DEBUG, 9–12 INFO, 13–16 WARN, 17–20 ERROR, 21–24 FATAL; 0 unspecified.
    pub severity_number: i32,
    /// The level as the source named it, e.g. `WARN`; may be empty.
    pub severity_text: String,
    /// The message; a structured body as text (maps in braces, lists in brackets); empty when
    /// there is none.
    pub body: String,
    pub attributes: BTreeMap<String, Value>,
    /// The trace of the span it was emitted in: 32 lower-case hex digits, or empty when none.
    pub trace_id: String,
    /// The span it was emitted in: 16 lower-case hex digits, or empty when none.
    pub span_id: String,
    /// The resource's attributes, e.g. `service.name`.
    pub resource: BTreeMap<String, Value>,
    /// The instrumentation scope: the name given to `provider.logger(name)`, or the appender's.
    pub scope_name: String,
    /// The scope's version; often empty.
    pub scope_version: String,
}

impl ReceivedLog {
    /// The record's attribute `key`, if it has one.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        self.attributes.get(key)
    }

    /// The resource's attribute `key`, if it has one.
    pub fn resource_attribute(&self, key: &str) -> Option<&Value> {
        self.resource.get(key)
    }

    /// The resource's `service.name`: what a backend lists the record under.
    pub fn service_name(&self) -> Option<&str> {
        self.resource_attribute("service.name")
            .and_then(Value::as_str)
    }
}

/// Flattens one export request into its log records, in the order they were sent: what the
/// receiver keeps, and what the explorer keeps its records from (the one place that reads OTLP's
/// logs messages).
///
/// A record's trace and span ids are optional, but when present must have the right length, as
/// for spans: an id of the wrong length is refused. The error is one line, for the 400 or
/// `INVALID_ARGUMENT` the client gets.
pub fn from_request(request: ExportLogsServiceRequest) -> Result<Vec<ReceivedLog>, String> {
    let mut logs = Vec::new();
    for resource_logs in request.resource_logs {
        let resource = resource_attributes(resource_logs.resource);
        for scope_logs in resource_logs.scope_logs {
            let (scope_name, scope_version) = scope_logs
                .scope
                .map(|scope| (scope.name, scope.version))
                .unwrap_or_default();
            for record in scope_logs.log_records {
                logs.push(received_log(
                    record,
                    &resource,
                    &scope_name,
                    &scope_version,
                )?);
            }
        }
    }
    Ok(logs)
}

fn received_log(
    record: LogRecord,
    resource: &BTreeMap<String, Value>,
    scope_name: &str,
    scope_version: &str,
) -> Result<ReceivedLog, String> {
    let body = record
        .body
        .and_then(|body| body.value)
        .map(value_text)
        .unwrap_or_default();
    Ok(ReceivedLog {
        trace_id: optional_id(&record.trace_id, 16, "trace id", &body)?,
        span_id: optional_id(&record.span_id, 8, "span id", &body)?,
        time_unix_nano: record.time_unix_nano,
        observed_time_unix_nano: record.observed_time_unix_nano,
        severity_number: record.severity_number,
        severity_text: record.severity_text,
        attributes: attributes(record.attributes),
        resource: resource.clone(),
        scope_name: scope_name.to_string(),
        scope_version: scope_version.to_string(),
        body,
    })
}

/// An id in lower-case hex; empty when absent, or all zeros (OTLP's other way of saying "none").
fn optional_id(bytes: &[u8], len: usize, what: &str, body: &str) -> Result<String, String> {
    if bytes.is_empty() {
        Ok(String::new())
    } else if bytes.len() != len {
        // The body names the record; its start is enough.
        let body: String = body.chars().take(60).collect();
        Err(format!(
            "log record {body:?}: the {what} has {} bytes, not {len}",
            bytes.len()
        ))
    } else if bytes.iter().all(|&byte| byte == 0) {
        Ok(String::new())
    } else {
        Ok(hex(bytes))
    }
}
