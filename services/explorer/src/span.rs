//! The spans as the explorer keeps them: compact, because a window holds up to a million.
//!
//! OTLP nests spans under their resource and scope and repeats every attribute key in every span.
//! Here a resource is kept once per export batch and shared ([`Arc`]), and strings that repeat
//! (keys, names, most values) are shared through [`Strings`], so a span costs its numbers and a
//! slice of pointers. [`StoredSpan::estimated_bytes`] is what the window's byte bound counts.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use receiver::{SpanKind, StatusCode};
use serde_json::{Map, Value as Json, json};

/// A string shared by every span that carries it.
pub type Str = Arc<str>;

/// An attribute value. Lists, maps and bytes are rare in spans; they are kept as text.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Str(Str),
    Int(i64),
    Double(f64),
    Bool(bool),
}

impl Val {
    /// The value as a number, for `>`/`<` filters and sorting groups: integers, doubles, and
    /// strings that read as numbers.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Val::Int(value) => Some(*value as f64),
            Val::Double(value) => Some(*value),
            Val::Str(value) => value.trim().parse().ok(),
            Val::Bool(_) => None,
        }
    }

    /// Whether the value reads as `text`: `1` is the integer 1 and the string "1".
    pub fn equals(&self, text: &str) -> bool {
        match self {
            Val::Str(value) => **value == *text,
            Val::Int(value) => text.trim().parse::<i64>() == Ok(*value),
            Val::Double(value) => text.trim().parse::<f64>() == Ok(*value),
            Val::Bool(value) => text.trim().parse::<bool>() == Ok(*value),
        }
    }

    pub fn to_json(&self) -> Json {
        match self {
            Val::Str(value) => Json::from(&**value),
            Val::Int(value) => Json::from(*value),
            Val::Double(value) => Json::from(*value),
            Val::Bool(value) => Json::from(*value),
        }
    }
}

impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::Str(value) => f.write_str(value),
            Val::Int(value) => write!(f, "{value}"),
            Val::Double(value) => write!(f, "{value}"),
            Val::Bool(value) => write!(f, "{value}"),
        }
    }
}

/// Attributes in the order they were sent. A handful per span: a slice beats a map.
pub type Attributes = Box<[(Str, Val)]>;

/// A span's attributes, in the order they were sent: its part of one allocation that holds the
/// attributes of every span of its export request, in order. A query that reads an attribute of
/// every span then reads memory in order; with a box per span they lay scattered over the heap
/// (wherever the decoder's freed buffers had been), and reading them was most of a query's time.
/// It reads as a slice; the same size as a box (16 bytes).
#[derive(Clone)]
pub struct SpanAttributes {
    batch: Arc<Vec<(Str, Val)>>,
    start: u32,
    len: u32,
}

impl std::ops::Deref for SpanAttributes {
    type Target = [(Str, Val)];

    fn deref(&self) -> &[(Str, Val)] {
        let start = self.start as usize;
        &self.batch[start..start + self.len as usize]
    }
}

impl fmt::Debug for SpanAttributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// A span's own attributes, in an allocation of their own (tests build spans this way).
impl From<Vec<(Str, Val)>> for SpanAttributes {
    fn from(attributes: Vec<(Str, Val)>) -> SpanAttributes {
        SpanAttributes {
            len: u32::try_from(attributes.len()).expect("fewer than 2³² attributes"),
            start: 0,
            batch: Arc::new(attributes),
        }
    }
}

/// Finds `key` in `attributes`.
pub fn lookup<'a>(attributes: &'a [(Str, Val)], key: &str) -> Option<&'a Val> {
    attributes
        .iter()
        .find(|(name, _)| **name == *key)
        .map(|(_, value)| value)
}

/// What a span was sent under: its resource (`service.name`, …) and instrumentation scope.
#[derive(Debug)]
pub struct Origin {
    pub resource: Attributes,
    pub service_name: Str,
    pub scope_name: Str,
    pub scope_version: Str,
    /// The resource's `learner.name`, in a room (cut as the room cuts names): whose share of the
    /// window its spans are in.
    pub learner: Option<Str>,
}

#[derive(Debug)]
pub struct SpanEvent {
    pub name: Str,
    pub time_unix_nano: u64,
    pub attributes: Attributes,
}

#[derive(Debug)]
pub struct SpanLink {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
}

/// One span in the window.
#[derive(Debug)]
pub struct StoredSpan {
    pub trace_id: [u8; 16],
    pub span_id: [u8; 8],
    pub parent_span_id: Option<[u8; 8]>,
    pub name: Str,
    pub kind: SpanKind,
    pub status: StatusCode,
    /// The description given with an error status; usually none.
    pub status_message: Option<Box<str>>,
    pub start_unix_nano: u64,
    pub end_unix_nano: u64,
    pub attributes: SpanAttributes,
    pub events: Box<[SpanEvent]>,
    pub links: Box<[SpanLink]>,
    pub origin: Arc<Origin>,
}

impl StoredSpan {
    /// End minus start, in nanoseconds; zero if a client sent an end before the start.
    pub fn duration_nanos(&self) -> u64 {
        self.end_unix_nano.saturating_sub(self.start_unix_nano)
    }

    pub fn is_root(&self) -> bool {
        self.parent_span_id.is_none()
    }

    /// The span's attribute `key`, else its resource's: `service.name` is found either way.
    pub fn attribute(&self, key: &str) -> Option<&Val> {
        lookup(&self.attributes, key).or_else(|| lookup(&self.origin.resource, key))
    }

    /// What the span costs in memory, roughly: itself, its slices and the strings it does not
    /// share with other spans (status messages; attribute values are counted as if unshared, so
    /// the estimate errs high). The resource is shared by a batch and not counted.
    pub fn estimated_bytes(&self) -> usize {
        let attributes = |attributes: &[(Str, Val)]| {
            attributes
                .iter()
                .map(|(_, value)| match value {
                    Val::Str(text) => text.len(),
                    _ => 0,
                })
                .sum::<usize>()
                + std::mem::size_of_val(attributes)
        };
        std::mem::size_of::<StoredSpan>()
            + attributes(&self.attributes)
            + self.status_message.as_ref().map_or(0, |m| m.len())
            + self
                .events
                .iter()
                .map(|event| std::mem::size_of::<SpanEvent>() + attributes(&event.attributes))
                .sum::<usize>()
            + std::mem::size_of_val(&*self.links)
    }

    /// The span as the JSON API shows it: ids in hex, times in nanoseconds since the epoch, the
    /// duration in milliseconds, attributes as an object.
    pub fn to_json(&self) -> Json {
        json!({
            "trace_id": hex(&self.trace_id),
            "span_id": hex(&self.span_id),
            "parent_span_id": self.parent_span_id.map(|id| hex(&id)),
            "name": &*self.name,
            "kind": kind_name(self.kind),
            "status": {
                "code": status_name(self.status),
                "message": self.status_message.as_deref().unwrap_or_default(),
            },
            "start_unix_nano": self.start_unix_nano,
            "end_unix_nano": self.end_unix_nano,
            "duration_ms": millis(self.duration_nanos()),
            "attributes": attributes_json(&self.attributes),
            "events": self.events.iter().map(|event| json!({
                "name": &*event.name,
                "time_unix_nano": event.time_unix_nano,
                "attributes": attributes_json(&event.attributes),
            })).collect::<Vec<_>>(),
            "links": self.links.iter().map(|link| json!({
                "trace_id": hex(&link.trace_id),
                "span_id": hex(&link.span_id),
            })).collect::<Vec<_>>(),
            "resource": attributes_json(&self.origin.resource),
            "scope": {
                "name": &*self.origin.scope_name,
                "version": &*self.origin.scope_version,
            },
        })
    }
}

pub fn attributes_json(attributes: &[(Str, Val)]) -> Json {
    Json::Object(
        attributes
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_json()))
            .collect::<Map<_, _>>(),
    )
}

/// Nanoseconds as milliseconds, the unit the pages and the API speak.
pub fn millis(nanos: u64) -> f64 {
    nanos as f64 / 1e6
}

pub fn hex(bytes: &[u8]) -> String {
    use fmt::Write;
    bytes.iter().fold(String::new(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

/// Reads 32 hex digits back into a trace id.
pub fn parse_trace_id(text: &str) -> Option<[u8; 16]> {
    parse_id(text)
}

/// Reads `2 * N` hex digits back into an id of `N` bytes.
pub(crate) fn parse_id<const N: usize>(text: &str) -> Option<[u8; N]> {
    let text = text.trim();
    if text.len() != 2 * N || !text.is_ascii() {
        return None;
    }
    let mut id = [0u8; N];
    for (i, byte) in id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(id)
}

pub fn kind_name(kind: SpanKind) -> &'static str {
    match kind {
        SpanKind::Unspecified => "unspecified",
        SpanKind::Internal => "internal",
        SpanKind::Server => "server",
        SpanKind::Client => "client",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
    }
}

pub fn status_name(status: StatusCode) -> &'static str {
    match status {
        StatusCode::Unset => "unset",
        StatusCode::Ok => "ok",
        StatusCode::Error => "error",
    }
}

/// Shares strings that repeat. It forgets everything when it grows past its limit, so that a
/// stream of unique values cannot grow it without bound; spans keep the strings they hold.
pub struct Strings {
    known: HashSet<Str>,
    limit: usize,
}

impl Strings {
    pub fn new(limit: usize) -> Strings {
        Strings {
            known: HashSet::new(),
            limit,
        }
    }

    pub fn share(&mut self, text: &str) -> Str {
        if let Some(known) = self.known.get(text) {
            return known.clone();
        }
        if self.known.len() >= self.limit {
            self.known.clear();
        }
        let text: Str = Arc::from(text);
        self.known.insert(text.clone());
        text
    }
}

/// Converts one export request into stored spans. Ids of the wrong length are refused, as the
/// Collector refuses them, with one line for the client's `400` or `INVALID_ARGUMENT`.
pub fn from_request(
    request: ExportTraceServiceRequest,
    strings: &mut Strings,
) -> Result<Vec<StoredSpan>, String> {
    let mut spans = Vec::new();
    // Every span's attributes, in order, in one allocation (see `SpanAttributes`); the spans get
    // their ranges as they are converted, and the allocation at the end.
    let count: usize = request
        .resource_spans
        .iter()
        .flat_map(|resource_spans| &resource_spans.scope_spans)
        .flat_map(|scope_spans| &scope_spans.spans)
        .map(|span| span.attributes.len())
        .sum();
    if u32::try_from(count).is_err() {
        return Err(format!(
            "{count} span attributes in one request are too many"
        ));
    }
    let mut batch = Vec::with_capacity(count);
    let unfilled = Arc::new(Vec::new());
    for resource_spans in request.resource_spans {
        let resource = resource_spans
            .resource
            .map(|resource| attributes(resource.attributes, strings))
            .unwrap_or_default();
        for scope_spans in resource_spans.scope_spans {
            let scope = scope_spans.scope.unwrap_or_default();
            let origin = origin(resource.clone(), &scope.name, &scope.version, strings);
            for span in scope_spans.spans {
                let what = |field: &str| format!("span {:?}: the {field}", span.name);
                let status = span.status.unwrap_or_default();
                spans.push(StoredSpan {
                    trace_id: id(&span.trace_id).ok_or_else(|| bad_id(&what("trace id"), 16))?,
                    span_id: id(&span.span_id).ok_or_else(|| bad_id(&what("span id"), 8))?,
                    parent_span_id: if span.parent_span_id.is_empty() {
                        None
                    } else {
                        Some(
                            id(&span.parent_span_id)
                                .ok_or_else(|| bad_id(&what("parent span id"), 8))?,
                        )
                    },
                    name: strings.share(&span.name),
                    kind: receiver::model::span_kind(span.kind),
                    status: receiver::model::status_code(status.code),
                    status_message: (!status.message.is_empty())
                        .then(|| status.message.into_boxed_str()),
                    start_unix_nano: span.start_time_unix_nano,
                    end_unix_nano: span.end_time_unix_nano,
                    attributes: {
                        // Both fit in a u32: `count` does, and is their sum.
                        let start = batch.len() as u32;
                        batch.extend(attributes_iter(span.attributes, strings));
                        SpanAttributes {
                            batch: unfilled.clone(),
                            start,
                            len: batch.len() as u32 - start,
                        }
                    },
                    events: span
                        .events
                        .into_iter()
                        .map(|event| SpanEvent {
                            name: strings.share(&event.name),
                            time_unix_nano: event.time_unix_nano,
                            attributes: attributes(event.attributes, strings),
                        })
                        .collect(),
                    links: span
                        .links
                        .iter()
                        .map(|link| {
                            Ok(SpanLink {
                                trace_id: id(&link.trace_id)
                                    .ok_or_else(|| bad_id(&what("link's trace id"), 16))?,
                                span_id: id(&link.span_id)
                                    .ok_or_else(|| bad_id(&what("link's span id"), 8))?,
                            })
                        })
                        .collect::<Result<_, String>>()?,
                    origin: origin.clone(),
                });
            }
        }
    }
    let batch = Arc::new(batch);
    for span in &mut spans {
        span.attributes.batch = batch.clone();
    }
    Ok(spans)
}

/// The origin of everything sent under one resource and scope, shared by all of it (log records
/// too).
pub(crate) fn origin(
    resource: Attributes,
    scope_name: &str,
    scope_version: &str,
    strings: &mut Strings,
) -> Arc<Origin> {
    let learner = match lookup(&resource, receiver::room::LEARNER_NAME) {
        Some(Val::Str(name)) => receiver::room::learner_name(name).map(|name| strings.share(&name)),
        _ => None,
    };
    Arc::new(Origin {
        service_name: service_name(lookup(&resource, "service.name"), strings),
        learner,
        resource,
        scope_name: strings.share(scope_name),
        scope_version: strings.share(scope_version),
    })
}

/// A resource's `service.name`, or `unknown_service` without one, as the SDKs call it.
pub(crate) fn service_name(name: Option<&Val>, strings: &mut Strings) -> Str {
    match name {
        Some(Val::Str(name)) => name.clone(),
        _ => strings.share("unknown_service"),
    }
}

fn id<const N: usize>(bytes: &[u8]) -> Option<[u8; N]> {
    bytes.try_into().ok()
}

fn bad_id(what: &str, len: usize) -> String {
    format!("{what} does not have {len} bytes")
}

fn attributes(key_values: Vec<KeyValue>, strings: &mut Strings) -> Attributes {
    attributes_iter(key_values, strings).collect()
}

fn attributes_iter(
    key_values: Vec<KeyValue>,
    strings: &mut Strings,
) -> impl Iterator<Item = (Str, Val)> + '_ {
    key_values.into_iter().map(|key_value| {
        (
            strings.share(&key_value.key),
            value(key_value.value, strings),
        )
    })
}

/// Scalars as they are; lists, maps and bytes as the text `receiver` prints for them.
fn value(any_value: Option<AnyValue>, strings: &mut Strings) -> Val {
    match any_value.and_then(|any_value| any_value.value) {
        Some(any_value::Value::StringValue(value)) => Val::Str(strings.share(&value)),
        Some(any_value::Value::BoolValue(value)) => Val::Bool(value),
        Some(any_value::Value::IntValue(value)) => Val::Int(value),
        Some(any_value::Value::DoubleValue(value)) => Val::Double(value),
        Some(any_value::Value::BytesValue(bytes)) => Val::Str(hex(&bytes).into()),
        Some(other) => {
            let text = receiver::model::value_text(other);
            Val::Str(text.into())
        }
        None => Val::Str(strings.share("")),
    }
}

/// The attributes of the receiver's metrics and log records (which it reads from OTLP for the
/// explorer), kept as [`value`] keeps a span's; in key order, as the receiver's map gives them.
pub(crate) fn received_attributes(
    attributes: &BTreeMap<String, receiver::Value>,
    strings: &mut Strings,
) -> Attributes {
    attributes
        .iter()
        .map(|(key, value)| (strings.share(key), received_value(value, strings)))
        .collect()
}

pub(crate) fn received_value(value: &receiver::Value, strings: &mut Strings) -> Val {
    match value {
        receiver::Value::String(value) => Val::Str(strings.share(value)),
        receiver::Value::Bool(value) => Val::Bool(*value),
        receiver::Value::Int(value) => Val::Int(*value),
        receiver::Value::Double(value) => Val::Double(*value),
        receiver::Value::Empty => Val::Str(strings.share("")),
        // Bytes in hex, lists and maps as text: the receiver prints them as `value` does.
        other => Val::Str(other.to_string().into()),
    }
}
