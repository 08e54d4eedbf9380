//! The spans as a test sees them: flat, owned, easy to assert on; and their conversion from the
//! OTLP messages that opentelemetry-proto generates.
//!
//! OTLP nests spans three deep (resource → instrumentation scope → span) and keeps ids as bytes,
//! enums as integers and attribute values as a `oneof`. A test wants `span.name`,
//! `span.attribute("fib.index")?.as_i64()` and `span.service_name()`, so each span here carries a
//! copy of its resource and scope, ids in lower-case hex, and enums with names.
//!
//! [`Value`] and the conversions of attributes serve [`crate::metrics`] and [`crate::logs`] too.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{Span, span, status};

/// One span, as received, with the resource and scope it was sent under.
#[derive(Clone, Debug, PartialEq)]
pub struct ReceivedSpan {
    /// 32 lower-case hex digits.
    pub trace_id: String,
    /// 16 lower-case hex digits.
    pub span_id: String,
    /// 16 lower-case hex digits; `None` for a root span (OTLP sends it empty).
    pub parent_span_id: Option<String>,
    pub name: String,
    pub kind: SpanKind,
    pub start_time_unix_nano: u64,
    pub end_time_unix_nano: u64,
    pub attributes: BTreeMap<String, Value>,
    pub events: Vec<Event>,
    pub links: Vec<Link>,
    pub status: Status,
    /// The resource's attributes, e.g. `service.name`.
    pub resource: BTreeMap<String, Value>,
    /// The instrumentation scope: the name given to `provider.tracer(name)`.
    pub scope_name: String,
    pub scope_version: String,
}

impl ReceivedSpan {
    /// The span's attribute `key`, if it has one.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        self.attributes.get(key)
    }

    /// The resource's attribute `key`, if it has one.
    pub fn resource_attribute(&self, key: &str) -> Option<&Value> {
        self.resource.get(key)
    }

    /// The resource's `service.name`: what a backend lists the span under.
    pub fn service_name(&self) -> Option<&str> {
        self.resource_attribute("service.name")
            .and_then(Value::as_str)
    }

    /// The first event called `name`, if any.
    pub fn event(&self, name: &str) -> Option<&Event> {
        self.events.iter().find(|event| event.name == name)
    }

    /// `true` when the span has no parent: the first span of its trace.
    pub fn is_root(&self) -> bool {
        self.parent_span_id.is_none()
    }

    /// End minus start; zero if a client sent an end before the start.
    pub fn duration(&self) -> Duration {
        Duration::from_nanos(
            self.end_time_unix_nano
                .saturating_sub(self.start_time_unix_nano),
        )
    }
}

/// What a span stands for: a request served, a request made, work inside a process, or messaging.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SpanKind {
    Unspecified,
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

/// A span's outcome. `Unset` is what an SDK sends unless the code said otherwise.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub code: StatusCode,
    /// The description given with an error; empty otherwise.
    pub message: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum StatusCode {
    #[default]
    Unset,
    Ok,
    Error,
}

/// Something that happened at one moment during a span, e.g. an exception.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub name: String,
    pub time_unix_nano: u64,
    pub attributes: BTreeMap<String, Value>,
}

impl Event {
    /// The event's attribute `key`, if it has one.
    pub fn attribute(&self, key: &str) -> Option<&Value> {
        self.attributes.get(key)
    }
}

/// A reference from a span to another span, possibly in another trace.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub trace_id: String,
    pub span_id: String,
    pub attributes: BTreeMap<String, Value>,
}

/// An attribute value: OTLP's `AnyValue`.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// An `AnyValue` with nothing set (OTLP allows it).
    Empty,
    String(String),
    Bool(bool),
    Int(i64),
    Double(f64),
    Bytes(Vec<u8>),
    Array(Vec<Value>),
    Map(BTreeMap<String, Value>),
}

impl Value {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(value) => Some(value),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(value) => Some(*value),
            _ => None,
        }
    }

    /// A double, or an integer widened to one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Double(value) => Some(*value),
            Value::Int(value) => Some(*value as f64),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(value) => Some(*value),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(values) => Some(values),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::String(value.to_string())
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::String(value)
    }
}

impl From<bool> for Value {
    fn from(value: bool) -> Self {
        Value::Bool(value)
    }
}

impl From<i32> for Value {
    fn from(value: i32) -> Self {
        Value::Int(value.into())
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::Int(value)
    }
}

impl From<f64> for Value {
    fn from(value: f64) -> Self {
        Value::Double(value)
    }
}

/// Readable in a failed assertion or a checker's message: strings bare, lists in brackets.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Empty => f.write_str("(empty)"),
            Value::String(value) => f.write_str(value),
            Value::Bool(value) => write!(f, "{value}"),
            Value::Int(value) => write!(f, "{value}"),
            Value::Double(value) => write!(f, "{value}"),
            Value::Bytes(bytes) => f.write_str(&hex(bytes)),
            Value::Array(values) => {
                f.write_str("[")?;
                for (i, value) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{value}")?;
                }
                f.write_str("]")
            }
            Value::Map(entries) => {
                f.write_str("{")?;
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{key}: {value}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Flattens one export request into its spans, in the order they were sent.
///
/// Ids of the wrong length are refused, as the Collector refuses them: every span here has a
/// 32-digit trace id and a 16-digit span id, so an assertion on ids can trust them. The error is
/// one line, for the 400 or `INVALID_ARGUMENT` the client gets.
pub(crate) fn spans_from_request(
    request: ExportTraceServiceRequest,
) -> Result<Vec<ReceivedSpan>, String> {
    let mut spans = Vec::new();
    for resource_spans in request.resource_spans {
        let resource = resource_attributes(resource_spans.resource);
        for scope_spans in resource_spans.scope_spans {
            let (scope_name, scope_version) = scope_spans
                .scope
                .map(|scope| (scope.name, scope.version))
                .unwrap_or_default();
            for span in scope_spans.spans {
                spans.push(received_span(span, &resource, &scope_name, &scope_version)?);
            }
        }
    }
    Ok(spans)
}

fn received_span(
    span: Span,
    resource: &BTreeMap<String, Value>,
    scope_name: &str,
    scope_version: &str,
) -> Result<ReceivedSpan, String> {
    let trace_id = id(&span.trace_id, 16, "trace id", &span.name)?;
    let span_id = id(&span.span_id, 8, "span id", &span.name)?;
    let parent_span_id = if span.parent_span_id.is_empty() {
        None
    } else {
        Some(id(&span.parent_span_id, 8, "parent span id", &span.name)?)
    };
    let status = span.status.unwrap_or_default();
    let links = span
        .links
        .into_iter()
        .map(|link| {
            Ok(Link {
                trace_id: id(&link.trace_id, 16, "link's trace id", &span.name)?,
                span_id: id(&link.span_id, 8, "link's span id", &span.name)?,
                attributes: attributes(link.attributes),
            })
        })
        .collect::<Result<_, String>>()?;
    Ok(ReceivedSpan {
        trace_id,
        span_id,
        parent_span_id,
        kind: span_kind(span.kind),
        start_time_unix_nano: span.start_time_unix_nano,
        end_time_unix_nano: span.end_time_unix_nano,
        attributes: attributes(span.attributes),
        events: span
            .events
            .into_iter()
            .map(|event| Event {
                name: event.name,
                time_unix_nano: event.time_unix_nano,
                attributes: attributes(event.attributes),
            })
            .collect(),
        links,
        status: Status {
            code: status_code(status.code),
            message: status.message,
        },
        resource: resource.clone(),
        scope_name: scope_name.to_string(),
        scope_version: scope_version.to_string(),
        name: span.name,
    })
}

/// An id in lower-case hex, or why it is not one.
fn id(bytes: &[u8], len: usize, what: &str, span_name: &str) -> Result<String, String> {
    if bytes.len() == len {
        Ok(hex(bytes))
    } else {
        Err(format!(
            "span {span_name:?}: the {what} has {} bytes, not {len}",
            bytes.len()
        ))
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The generated enum names the integers; an integer it does not know is `Unspecified`, as
/// protobuf treats an unknown enum value.
pub fn span_kind(kind: i32) -> SpanKind {
    match span::SpanKind::try_from(kind) {
        Ok(span::SpanKind::Internal) => SpanKind::Internal,
        Ok(span::SpanKind::Server) => SpanKind::Server,
        Ok(span::SpanKind::Client) => SpanKind::Client,
        Ok(span::SpanKind::Producer) => SpanKind::Producer,
        Ok(span::SpanKind::Consumer) => SpanKind::Consumer,
        Ok(span::SpanKind::Unspecified) | Err(_) => SpanKind::Unspecified,
    }
}

/// OTLP's status code, named; an unknown integer is `Unset`.
pub fn status_code(code: i32) -> StatusCode {
    match status::StatusCode::try_from(code) {
        Ok(status::StatusCode::Ok) => StatusCode::Ok,
        Ok(status::StatusCode::Error) => StatusCode::Error,
        Ok(status::StatusCode::Unset) | Err(_) => StatusCode::Unset,
    }
}

/// Attributes by key. OTLP forbids duplicate keys; should a client send some, the last one wins.
pub(crate) fn attributes(key_values: Vec<KeyValue>) -> BTreeMap<String, Value> {
    key_values
        .into_iter()
        .map(|key_value| (key_value.key, value(key_value.value)))
        .collect()
}

/// A resource's attributes; none when the client sent no resource.
pub(crate) fn resource_attributes(resource: Option<Resource>) -> BTreeMap<String, Value> {
    resource
        .map(|resource| attributes(resource.attributes))
        .unwrap_or_default()
}

/// An OTLP value as the text [`Value`]'s `Display` gives: lists in brackets, maps in braces,
/// bytes in hex. For keepers of spans that store anything but scalars as text.
pub fn value_text(any_value: any_value::Value) -> String {
    value(Some(AnyValue {
        value: Some(any_value),
    }))
    .to_string()
}

fn value(any_value: Option<AnyValue>) -> Value {
    match any_value.and_then(|any_value| any_value.value) {
        None => Value::Empty,
        Some(any_value::Value::StringValue(value)) => Value::String(value),
        Some(any_value::Value::BoolValue(value)) => Value::Bool(value),
        Some(any_value::Value::IntValue(value)) => Value::Int(value),
        Some(any_value::Value::DoubleValue(value)) => Value::Double(value),
        Some(any_value::Value::BytesValue(value)) => Value::Bytes(value),
        Some(any_value::Value::ArrayValue(array)) => {
            Value::Array(array.values.into_iter().map(Some).map(value).collect())
        }
        Some(any_value::Value::KvlistValue(list)) => Value::Map(attributes(list.values)),
        // An index into a profile's string table: profiles only, meaningless in a span.
        Some(any_value::Value::StringValueStrindex(_)) => Value::Empty,
    }
}
