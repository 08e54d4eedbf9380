//! Queries over the window: VISUALIZE some calculations, WHERE some filters hold, GROUP BY some
//! fields, in a time range. The pages and the JSON API read the same query from a URL's query
//! string, so every result has a link that can be shared, bookmarked or fetched by a test:
//!
//! ```text
//! /query?visualize=COUNT&visualize=P99(duration)&where=name = fib&group_by=fib.index&last=15m
//! ```
//!
//! - `visualize`: `COUNT`, `P50(duration)`, `P95(duration)`, `P99(duration)`, `MAX(duration)`,
//!   `AVG(duration)`, `HEATMAP(duration)`; several, or one with commas.
//! - `where`: one filter each, all must hold: `field = value`, `!=`, `>`, `>=`, `<`, `<=`,
//!   `field contains text`, `field exists`, `field does-not-exist`, and `is_root`.
//! - `group_by`: fields, several or with commas.
//! - `last` (`15m`, `1h`, `30s`) or `from`/`to` (Unix milliseconds, fractions allowed).
//!
//! A field is `name`, `kind`, `status`, `service.name`, `trace.id`, `span.id`, `duration`
//! (compared in milliseconds, or with a unit: `250us`, `1.5s`), `is_root`, or any attribute of
//! the span or of its resource.
//!
//! One pass over the window does it all: a query over a million spans takes tens of milliseconds
//! (see the benchmark in services/bench/benches/explorer.rs).

use std::collections::HashMap;
use std::fmt;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rustc_hash::FxBuildHasher;
use serde::Serialize;
use serde_json::Value as Json;

use crate::span::{StoredSpan, Val, hex, kind_name, millis, parse_trace_id, status_name};
use crate::window::Window;

/// One query, as read from a URL.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    pub visualize: Vec<Calc>,
    pub filters: Vec<Filter>,
    pub group_by: Vec<Field>,
    /// Inclusive start and exclusive end, in Unix nanoseconds, of the spans' start times.
    pub from: Option<u64>,
    pub to: Option<u64>,
    /// How many groups to show.
    pub limit: usize,
}

/// What a query computes for each group.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Calc {
    Count,
    /// A percentile of the duration, by the nearest rank: 50, 95, 99.
    Percentile(u8),
    Max,
    Avg,
    Heatmap,
}

impl fmt::Display for Calc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Calc::Count => f.write_str("COUNT"),
            Calc::Percentile(p) => write!(f, "P{p}(duration)"),
            Calc::Max => f.write_str("MAX(duration)"),
            Calc::Avg => f.write_str("AVG(duration)"),
            Calc::Heatmap => f.write_str("HEATMAP(duration)"),
        }
    }
}

/// The calculations a learner can pick, in the order the page lists them.
pub const CALCS: [Calc; 7] = [
    Calc::Count,
    Calc::Percentile(50),
    Calc::Percentile(95),
    Calc::Percentile(99),
    Calc::Max,
    Calc::Avg,
    Calc::Heatmap,
];

/// Something a span has, to filter or group on.
#[derive(Clone, Debug, PartialEq)]
pub enum Field {
    Name,
    Kind,
    Status,
    Service,
    TraceId,
    SpanId,
    Duration,
    IsRoot,
    /// An attribute of the span, else of its resource.
    Attribute(String),
}

impl Field {
    pub fn parse(text: &str) -> Result<Field, String> {
        let text = text.trim();
        Ok(match text {
            "" => return Err("a field name is missing".into()),
            "name" | "span.name" => Field::Name,
            "kind" | "span.kind" => Field::Kind,
            "status" | "status.code" | "status_code" => Field::Status,
            "service.name" | "service" | "service_name" => Field::Service,
            "trace.id" | "trace_id" | "trace.trace_id" => Field::TraceId,
            "span.id" | "span_id" => Field::SpanId,
            "duration" | "duration_ms" => Field::Duration,
            "is_root" => Field::IsRoot,
            attribute if attribute.chars().any(char::is_whitespace) => {
                return Err(format!(
                    "{attribute:?} is not a field name: names have no spaces"
                ));
            }
            attribute => Field::Attribute(attribute.to_string()),
        })
    }

    /// The span's value for this field, if it has one.
    fn get<'a>(&self, span: &'a StoredSpan) -> Option<Got<'a>> {
        Some(match self {
            Field::Name => Got::Text(&span.name),
            Field::Kind => Got::Text(kind_name(span.kind)),
            Field::Status => Got::Text(status_name(span.status)),
            Field::Service => Got::Text(&span.origin.service_name),
            Field::TraceId => Got::Owned(hex(&span.trace_id)),
            Field::SpanId => Got::Owned(hex(&span.span_id)),
            Field::Duration => Got::Nanos(span.duration_nanos()),
            Field::IsRoot => Got::Bool(span.is_root()),
            Field::Attribute(key) => Got::Val(span.attribute(key)?),
        })
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Name => "name",
            Field::Kind => "kind",
            Field::Status => "status",
            Field::Service => "service.name",
            Field::TraceId => "trace.id",
            Field::SpanId => "span.id",
            Field::Duration => "duration",
            Field::IsRoot => "is_root",
            Field::Attribute(key) => key,
        })
    }
}

/// A span's value for a field, borrowed where it can be.
enum Got<'a> {
    Text(&'a str),
    Owned(String),
    Val(&'a crate::span::Val),
    Nanos(u64),
    Bool(bool),
}

impl Got<'_> {
    fn equals(&self, text: &str) -> bool {
        match self {
            Got::Text(value) => *value == text,
            Got::Owned(value) => value.eq_ignore_ascii_case(text.trim()),
            Got::Val(value) => value.equals(text),
            Got::Nanos(nanos) => parse_duration(text).is_ok_and(|wanted| wanted == *nanos as f64),
            Got::Bool(value) => text.trim().parse::<bool>() == Ok(*value),
        }
    }

    /// As a number: durations in nanoseconds (filters convert their value to match).
    fn number(&self) -> Option<f64> {
        match self {
            Got::Val(value) => value.as_f64(),
            Got::Nanos(nanos) => Some(*nanos as f64),
            Got::Text(text) => text.trim().parse().ok(),
            Got::Owned(_) | Got::Bool(_) => None,
        }
    }

    fn contains(&self, text: &str) -> bool {
        match self {
            Got::Text(value) => value.contains(text),
            Got::Owned(value) => value.contains(text),
            Got::Val(Val::Str(value)) => value.contains(text),
            other => other.key().to_string().contains(text),
        }
    }

    fn key(&self) -> Key {
        match self {
            Got::Text(text) => Key::Text(text.to_string()),
            Got::Owned(text) => Key::Text(text.clone()),
            Got::Val(Val::Str(text)) => Key::Text(text.to_string()),
            Got::Val(Val::Int(value)) => Key::Int(*value),
            Got::Val(Val::Double(value)) => Key::Double(value.to_bits()),
            Got::Val(Val::Bool(value)) | Got::Bool(value) => Key::Bool(*value),
            Got::Nanos(nanos) => Key::Double(millis(*nanos).to_bits()),
        }
    }
}

/// A group's value for one field. Ordered so that numbers sort as numbers and a missing value
/// comes last.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Bool(bool),
    Int(i64),
    /// The bits of an `f64`, so that it can be hashed.
    Double(u64),
    Text(String),
    Missing,
}

impl Key {
    fn rank(&self) -> (u8, f64) {
        match self {
            Key::Bool(value) => (0, f64::from(u8::from(*value))),
            Key::Int(value) => (1, *value as f64),
            Key::Double(bits) => (1, f64::from_bits(*bits)),
            Key::Text(_) => (2, 0.0),
            Key::Missing => (3, 0.0),
        }
    }

    fn cmp(&self, other: &Key) -> std::cmp::Ordering {
        let (a, b) = (self.rank(), other.rank());
        a.0.cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then_with(|| match (self, other) {
                (Key::Text(a), Key::Text(b)) => a.cmp(b),
                _ => std::cmp::Ordering::Equal,
            })
    }

    pub fn to_json(&self) -> Json {
        match self {
            Key::Bool(value) => Json::from(*value),
            Key::Int(value) => Json::from(*value),
            Key::Double(bits) => Json::from(f64::from_bits(*bits)),
            Key::Text(text) => Json::from(text.as_str()),
            Key::Missing => Json::Null,
        }
    }

    /// The value as it is written in a filter: `fib.index = 5` finds the group of 5.
    pub fn filter_text(&self) -> Option<String> {
        match self {
            Key::Missing => None,
            other => Some(other.to_string()),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Bool(value) => write!(f, "{value}"),
            Key::Int(value) => write!(f, "{value}"),
            Key::Double(bits) => write!(f, "{}", f64::from_bits(*bits)),
            Key::Text(text) => f.write_str(text),
            Key::Missing => f.write_str("(none)"),
        }
    }
}

/// One WHERE clause.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    pub field: Field,
    pub test: Test,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Test {
    Equals(String),
    NotEquals(String),
    Contains(String),
    Exists,
    Missing,
    /// `>`, `>=`, `<`, `<=` against a number (for `duration`, in nanoseconds).
    Compare(Comparison, f64),
    /// `trace.id = …`, compared as bytes: the trace page's and a heatmap cell's links use it.
    TraceIs([u8; 16]),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Comparison {
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

const FILTER_FORMS: &str = "write a filter as `field = value` (or !=, >, >=, <, <=), \
    `field contains text`, `field exists`, `field does-not-exist`, or `is_root`";

impl Filter {
    /// Reads one filter, e.g. `fib.index = 1`, `duration > 10ms`, `error.type exists`.
    pub fn parse(text: &str) -> Result<Filter, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err(format!("an empty filter: {FILTER_FORMS}"));
        }
        if text == "is_root" || text == "!is_root" {
            return Ok(Filter {
                field: Field::IsRoot,
                test: Test::Equals((text == "is_root").to_string()),
            });
        }
        let end = text
            .find(|c: char| c.is_whitespace() || "!=<>".contains(c))
            .unwrap_or(text.len());
        let field = Field::parse(&text[..end])
            .map_err(|err| format!("{err} in filter {text:?}: {FILTER_FORMS}"))?;
        let rest = text[end..].trim();
        let operand = |op: &str| unquote(rest[op.len()..].trim());
        let test = if let Some(op) = ["!=", ">=", "<=", "==", "=", ">", "<"]
            .into_iter()
            .find(|op| rest.starts_with(op))
        {
            let value = operand(op);
            if value.is_empty() {
                return Err(format!(
                    "filter {text:?} has no value after {op}: {FILTER_FORMS}"
                ));
            }
            let number = || -> Result<f64, String> {
                if field == Field::Duration {
                    parse_duration(value)
                } else {
                    value.parse().map_err(|_| {
                        format!("filter {text:?}: {op} compares numbers, and {value:?} is not one")
                    })
                }
            };
            match op {
                "!=" => Test::NotEquals(value.to_string()),
                "=" | "==" => match (&field, parse_trace_id(value)) {
                    (Field::TraceId, Some(id)) => Test::TraceIs(id),
                    (Field::TraceId, None) => {
                        return Err(format!(
                            "filter {text:?}: a trace id is 32 hexadecimal digits"
                        ));
                    }
                    (Field::Duration, _) => {
                        number()?; // only checked: equality compares the parsed duration
                        Test::Equals(value.to_string())
                    }
                    _ => Test::Equals(value.to_string()),
                },
                ">" => Test::Compare(Comparison::Greater, number()?),
                ">=" => Test::Compare(Comparison::GreaterOrEqual, number()?),
                "<" => Test::Compare(Comparison::Less, number()?),
                _ => Test::Compare(Comparison::LessOrEqual, number()?),
            }
        } else {
            let (word, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            match (word.to_ascii_lowercase().as_str(), unquote(value.trim())) {
                ("contains", value) if !value.is_empty() => Test::Contains(value.to_string()),
                ("exists", "") => Test::Exists,
                ("does-not-exist" | "!exists" | "not-exists" | "missing", "") => Test::Missing,
                ("not" | "does", "exists" | "exist" | "not exist") => Test::Missing,
                ("", _) => {
                    return Err(format!(
                        "filter {text:?} says nothing about {field}: {FILTER_FORMS}"
                    ));
                }
                _ => return Err(format!("filter {text:?} is not understood: {FILTER_FORMS}")),
            }
        };
        Ok(Filter { field, test })
    }

    pub fn matches(&self, span: &StoredSpan) -> bool {
        if let Test::TraceIs(id) = &self.test {
            return span.trace_id == *id;
        }
        let value = self.field.get(span);
        match (&self.test, value) {
            (Test::Exists, value) => value.is_some(),
            (Test::Missing, value) => value.is_none(),
            (_, None) => false,
            (Test::Equals(text), Some(value)) => value.equals(text),
            (Test::NotEquals(text), Some(value)) => !value.equals(text),
            (Test::Contains(text), Some(value)) => value.contains(text),
            (Test::Compare(comparison, wanted), Some(value)) => {
                value.number().is_some_and(|number| match comparison {
                    Comparison::Greater => number > *wanted,
                    Comparison::GreaterOrEqual => number >= *wanted,
                    Comparison::Less => number < *wanted,
                    Comparison::LessOrEqual => number <= *wanted,
                })
            }
            (Test::TraceIs(_), Some(_)) => unreachable!("handled above"),
        }
    }
}

/// As the filter is written, so that a page can show it and a link can carry it.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = &self.field;
        match &self.test {
            Test::Equals(value) if *field == Field::IsRoot => f.write_str(if value == "true" {
                "is_root"
            } else {
                "!is_root"
            }),
            Test::Equals(value) => write!(f, "{field} = {value}"),
            Test::NotEquals(value) => write!(f, "{field} != {value}"),
            Test::Contains(value) => write!(f, "{field} contains {value}"),
            Test::Exists => write!(f, "{field} exists"),
            Test::Missing => write!(f, "{field} does-not-exist"),
            Test::TraceIs(id) => write!(f, "{field} = {}", hex(id)),
            Test::Compare(comparison, number) => {
                let op = match comparison {
                    Comparison::Greater => ">",
                    Comparison::GreaterOrEqual => ">=",
                    Comparison::Less => "<",
                    Comparison::LessOrEqual => "<=",
                };
                if *field == Field::Duration {
                    write!(f, "{field} {op} {number}ns")
                } else {
                    write!(f, "{field} {op} {number}")
                }
            }
        }
    }
}

fn unquote(text: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = text.strip_prefix(quote).and_then(|t| t.strip_suffix(quote)) {
            return inner;
        }
    }
    text
}

/// A duration in nanoseconds: `250us`, `12ms`, `1.5s`, `3m`, `400ns`; a bare number is in
/// milliseconds, the unit the pages show.
pub fn parse_duration(text: &str) -> Result<f64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration: write 12ms, 250us, 1.5s or 12"))?;
    let scale = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "" | "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        other => {
            return Err(format!(
                "{other:?} in {text:?} is not a unit of time: ns, us, ms, s, m or h"
            ));
        }
    };
    Ok(number * scale)
}

impl Query {
    /// Reads a query from a URL's query string (`visualize=…&where=…&group_by=…`).
    pub fn from_query_string(query: &str) -> Result<Query, String> {
        Query::from_pairs(form_urlencoded::parse(query.as_bytes()).into_owned())
    }

    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Result<Query, String> {
        let mut query = Query {
            limit: 100,
            ..Query::default()
        };
        let mut last = None;
        for (name, value) in pairs {
            match name.as_str() {
                "visualize" => {
                    for calc in value.split(',').filter(|c| !c.trim().is_empty()) {
                        query.visualize.push(parse_calc(calc)?);
                    }
                }
                // The page's box takes one filter per line.
                "where" => {
                    for line in value.lines().filter(|line| !line.trim().is_empty()) {
                        query.filters.push(Filter::parse(line)?);
                    }
                }
                "group_by" => {
                    for field in value.split(',').filter(|f| !f.trim().is_empty()) {
                        query.group_by.push(Field::parse(field)?);
                    }
                }
                "last" if value.trim().is_empty() || value == "all" => {}
                "last" => last = Some(parse_duration(&value)? as u64),
                "from" | "to" if value.trim().is_empty() => {}
                "from" => query.from = Some(parse_unix_millis(&value)?),
                "to" => query.to = Some(parse_unix_millis(&value)?),
                "limit" => query.limit = parse_limit(&value)?,
                other => {
                    return Err(format!(
                        "unknown parameter {other:?}: a query takes visualize, where, group_by, \
                         last, from, to and limit"
                    ));
                }
            }
        }
        if let Some(last) = last {
            let now = now_unix_nanos();
            query.from = Some(now.saturating_sub(last));
        }
        if query.visualize.is_empty() {
            query.visualize.push(Calc::Count);
        }
        Ok(query)
    }

    /// The query as a URL query string: the inverse of [`Query::from_query_string`].
    pub fn to_query_string(&self) -> String {
        let mut url = form_urlencoded::Serializer::new(String::new());
        for calc in &self.visualize {
            url.append_pair("visualize", &calc.to_string());
        }
        for filter in &self.filters {
            url.append_pair("where", &filter.to_string());
        }
        for field in &self.group_by {
            url.append_pair("group_by", &field.to_string());
        }
        if let Some(from) = self.from {
            url.append_pair("from", &unix_millis_text(from));
        }
        if let Some(to) = self.to {
            url.append_pair("to", &unix_millis_text(to));
        }
        url.finish()
    }

    /// Whether a span falls in the time range and passes every filter.
    pub fn selects(&self, span: &StoredSpan) -> bool {
        self.from.is_none_or(|from| span.start_unix_nano >= from)
            && self.to.is_none_or(|to| span.start_unix_nano < to)
            && self.filters.iter().all(|filter| filter.matches(span))
    }
}

/// Reads one calculation, e.g. `P99(duration)`, `p99` or `heatmap`.
/// `limit=`: how many rows a page or the API shows, 1 to 1000 (the queries' and the logs').
pub fn parse_limit(value: &str) -> Result<usize, String> {
    value
        .trim()
        .parse()
        .ok()
        .filter(|limit| (1..=1000).contains(limit))
        .ok_or_else(|| format!("limit {value:?}: a number from 1 to 1000"))
}

pub fn parse_calc(text: &str) -> Result<Calc, String> {
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let (name, argument) = match compact.split_once('(') {
        Some((name, rest)) => (name.to_string(), rest.strip_suffix(')').unwrap_or(rest)),
        None => (compact.clone(), ""),
    };
    let needs_duration = |calc: Calc| match argument {
        "" | "DURATION" | "DURATION_MS" => Ok(calc),
        other => Err(format!(
            "{text:?}: only the duration can be aggregated, as in {name}(duration), not {}",
            other.to_ascii_lowercase()
        )),
    };
    match name.as_str() {
        "COUNT" if argument.is_empty() => Ok(Calc::Count),
        "P50" => needs_duration(Calc::Percentile(50)),
        "P95" => needs_duration(Calc::Percentile(95)),
        "P99" => needs_duration(Calc::Percentile(99)),
        "MAX" => needs_duration(Calc::Max),
        "AVG" => needs_duration(Calc::Avg),
        "HEATMAP" => needs_duration(Calc::Heatmap),
        _ => Err(format!(
            "{:?} is not a calculation: pick COUNT, P50(duration), P95(duration), \
             P99(duration), MAX(duration), AVG(duration) or HEATMAP(duration)",
            text.trim()
        )),
    }
}

/// Unix milliseconds, with up to six decimals, to nanoseconds: read as decimal digits, since an
/// `f64` would round the nanoseconds of today's times away and a heatmap cell's link would miss.
fn parse_unix_millis(text: &str) -> Result<u64, String> {
    let error = || format!("{text:?} is not a time: from and to are Unix milliseconds");
    let (whole, fraction) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !(fraction.is_empty() || digits(fraction)) || fraction.len() > 6 {
        return Err(error());
    }
    let whole: u64 = whole.parse().map_err(|_| error())?;
    let fraction: u64 = format!("{fraction:0<6}").parse().map_err(|_| error())?;
    whole
        .checked_mul(1_000_000)
        .and_then(|nanos| nanos.checked_add(fraction))
        .ok_or_else(error)
}

/// Nanoseconds as Unix milliseconds with every digit kept, so that a link round-trips exactly.
fn unix_millis_text(nanos: u64) -> String {
    let text = format!("{}.{:06}", nanos / 1_000_000, nanos % 1_000_000);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

pub fn now_unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as u64)
}

/// What a query found.
#[derive(Clone, Debug, Serialize)]
pub struct QueryResult {
    /// The calculations, as written: the columns of every row's `values`.
    pub visualize: Vec<String>,
    pub group_by: Vec<String>,
    pub rows: Vec<Row>,
    /// Groups left out by the limit.
    pub more_rows: usize,
    pub heatmap: Option<Heatmap>,
    /// Spans that passed the filters, and spans looked at.
    pub matched: usize,
    pub scanned: usize,
    pub took_ms: f64,
}

/// One group: its values of the GROUP BY fields, and its calculations (`null` where there is
/// nothing to compute). Durations are in milliseconds.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    #[serde(serialize_with = "keys_json")]
    pub group: Vec<Key>,
    pub values: Vec<Option<f64>>,
    pub count: u64,
    /// The trace of the group's slowest span: where a click on the row leads.
    pub example_trace: Option<String>,
}

fn keys_json<S: serde::Serializer>(keys: &[Key], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(keys.iter().map(Key::to_json))
}

/// Counts of spans by start time (columns) and duration (rows, on a log scale).
#[derive(Clone, Debug, Serialize)]
pub struct Heatmap {
    pub columns: Vec<Bucket>,
    /// Duration bounds in nanoseconds, shortest first: `from` inclusive, `to` exclusive.
    pub rows: Vec<Bucket>,
    /// `counts[row][column]`.
    pub counts: Vec<Vec<u64>>,
    pub max_count: u64,
}

#[derive(Clone, Copy, Debug, Serialize, PartialEq)]
pub struct Bucket {
    pub from: u64,
    pub to: u64,
}

pub const HEATMAP_COLUMNS: usize = 40;
pub const HEATMAP_ROWS: usize = 16;

#[derive(Default)]
struct Group {
    count: u64,
    durations: Vec<u64>,
    slowest: Option<(u64, [u8; 16])>,
}

impl Query {
    /// Runs the query over the window, in one pass.
    pub fn run(&self, window: &Window) -> QueryResult {
        let started = Instant::now();
        let needs_durations = self
            .visualize
            .iter()
            .any(|calc| matches!(calc, Calc::Percentile(_) | Calc::Max | Calc::Avg));
        let needs_heatmap = self.visualize.contains(&Calc::Heatmap);
        // The groups in the order of their first span, and where each key's group is.
        let mut groups: Vec<(Vec<Key>, Group)> = Vec::new();
        // FxHash rather than the standard SipHash: a query looks its group up once per span, and
        // SipHash (made to resist crafted keys) took a quarter of its time. Crafted keys could
        // slow a query over the bounded window, not stop it.
        let mut places: HashMap<Vec<Key>, usize, FxBuildHasher> =
            HashMap::with_hasher(FxBuildHasher);
        let mut last = usize::MAX;
        let mut points: Vec<(u64, u64)> = Vec::new();
        let mut key = Vec::with_capacity(self.group_by.len());
        let mut matched = 0;
        for span in window.iter() {
            if !self.selects(span) {
                continue;
            }
            matched += 1;
            key.clear();
            key.extend(
                self.group_by
                    .iter()
                    .map(|field| field.get(span).map_or(Key::Missing, |value| value.key())),
            );
            // The previous span's group first: spans of a kind often come together, and without
            // GROUP BY there is one group. Then by slice, so that a group's key is allocated once,
            // not once per span.
            let place = match groups.get(last) {
                Some((last_key, _)) if *last_key == key => last,
                _ => {
                    last = match places.get(key.as_slice()) {
                        Some(&place) => place,
                        None => {
                            places.insert(key.clone(), groups.len());
                            groups.push((key.clone(), Group::default()));
                            groups.len() - 1
                        }
                    };
                    last
                }
            };
            let group = &mut groups[place].1;
            let duration = span.duration_nanos();
            group.count += 1;
            if needs_durations {
                group.durations.push(duration);
            }
            if group.slowest.is_none_or(|(slowest, _)| duration > slowest) {
                group.slowest = Some((duration, span.trace_id));
            }
            if needs_heatmap {
                points.push((span.start_unix_nano, duration));
            }
        }

        groups.sort_by(|(a, _), (b, _)| {
            a.iter()
                .zip(b)
                .map(|(a, b)| a.cmp(b))
                .find(|order| order.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let more_rows = groups.len().saturating_sub(self.limit);
        let rows = groups
            .into_iter()
            .take(self.limit)
            .map(|(group, mut data)| Row {
                values: self
                    .visualize
                    .iter()
                    .map(|calc| calculate(*calc, &mut data))
                    .collect(),
                count: data.count,
                example_trace: data.slowest.map(|(_, id)| hex(&id)),
                group,
            })
            .collect();
        QueryResult {
            visualize: self.visualize.iter().map(Calc::to_string).collect(),
            group_by: self.group_by.iter().map(Field::to_string).collect(),
            rows,
            more_rows,
            heatmap: needs_heatmap.then(|| heatmap(&points)),
            matched,
            scanned: window.len(),
            took_ms: started.elapsed().as_secs_f64() * 1e3,
        }
    }
}

/// One calculation over a group; durations in milliseconds.
fn calculate(calc: Calc, group: &mut Group) -> Option<f64> {
    let durations = &mut group.durations;
    match calc {
        Calc::Count => Some(group.count as f64),
        Calc::Heatmap => None,
        _ if durations.is_empty() => None,
        Calc::Max => durations.iter().max().map(|max| millis(*max)),
        // Summed as u128: a dozen spans that claim to have started in 1970 overflow a u64 sum.
        Calc::Avg => Some(millis(
            (durations
                .iter()
                .map(|&nanos| u128::from(nanos))
                .sum::<u128>()
                / durations.len() as u128) as u64,
        )),
        Calc::Percentile(p) => {
            // The nearest rank: the smallest duration with at least p% of all at or below it.
            let rank = (f64::from(p) / 100.0 * durations.len() as f64).ceil() as usize;
            let index = rank.clamp(1, durations.len()) - 1;
            let (_, nth, _) = durations.select_nth_unstable(index);
            Some(millis(*nth))
        }
    }
}

/// Buckets (start, duration) points: equal slices of time, and durations on a log scale, so that
/// 1 ms and 1 s both show.
fn heatmap(points: &[(u64, u64)]) -> Heatmap {
    let (Some(first), Some(last)) = (
        points.iter().map(|p| p.0).min(),
        points.iter().map(|p| p.0).max(),
    ) else {
        return Heatmap {
            columns: Vec::new(),
            rows: Vec::new(),
            counts: Vec::new(),
            max_count: 0,
        };
    };
    // Any u64 may arrive as a time: the arithmetic saturates rather than overflow (which panics
    // in a debug build), and the shortest stays below the longest.
    let shortest = points
        .iter()
        .map(|p| p.1)
        .min()
        .unwrap_or(0)
        .clamp(1, u64::MAX - 1);
    let longest = points
        .iter()
        .map(|p| p.1)
        .max()
        .unwrap_or(1)
        .max(shortest + 1);

    let width = (last - first) / HEATMAP_COLUMNS as u64 + 1;
    let columns: Vec<Bucket> = (0..HEATMAP_COLUMNS as u64)
        .map(|i| Bucket {
            from: first.saturating_add(i.saturating_mul(width)),
            to: first.saturating_add((i + 1).saturating_mul(width)),
        })
        .collect();
    // Row edges from `shortest` to `longest`, equal steps of log(duration); rounded to whole
    // nanoseconds, and the last edge one past the longest so that it falls inside.
    let ratio = (longest as f64 / shortest as f64).ln() / HEATMAP_ROWS as f64;
    let mut edges: Vec<u64> = (0..=HEATMAP_ROWS)
        .map(|i| (shortest as f64 * (ratio * i as f64).exp()).round() as u64)
        .collect();
    edges[0] = shortest.min(points.iter().map(|p| p.1).min().unwrap_or(0));
    edges[HEATMAP_ROWS] = longest.saturating_add(1);
    edges.dedup();
    let rows: Vec<Bucket> = edges
        .windows(2)
        .map(|pair| Bucket {
            from: pair[0],
            to: pair[1],
        })
        .collect();

    let mut counts = vec![vec![0u64; columns.len()]; rows.len()];
    for &(start, duration) in points {
        let column = ((start - first) / width) as usize;
        let row = rows.partition_point(|bucket| bucket.to <= duration);
        counts[row.min(rows.len() - 1)][column.min(columns.len() - 1)] += 1;
    }
    let max_count = counts.iter().flatten().copied().max().unwrap_or(0);
    Heatmap {
        columns,
        rows,
        counts,
        max_count,
    }
}

/// A trace as the list shows it.
#[derive(Clone, Debug, Serialize)]
pub struct TraceSummary {
    pub trace_id: String,
    /// The root span's name, or the earliest span's when the root has not arrived (yet).
    pub root_name: String,
    pub root_found: bool,
    pub service: String,
    pub start_unix_nano: u64,
    pub duration_ms: f64,
    pub span_count: usize,
    pub error_count: usize,
}

/// The newest traces with at least one span the query selects, newest first.
pub fn traces(window: &Window, query: &Query, limit: usize) -> Vec<TraceSummary> {
    let mut seen = std::collections::HashSet::new();
    let mut found = Vec::new();
    for span in window.iter().rev() {
        if found.len() >= limit {
            break;
        }
        if seen.contains(&span.trace_id) || !query.selects(span) {
            continue;
        }
        seen.insert(span.trace_id);
        found.push(summary(&span.trace_id, &window.trace(&span.trace_id)));
    }
    found
}

pub fn summary(trace_id: &[u8; 16], spans: &[&StoredSpan]) -> TraceSummary {
    let root = spans
        .iter()
        .find(|span| span.is_root())
        .or_else(|| spans.iter().min_by_key(|span| span.start_unix_nano));
    let start = spans.iter().map(|s| s.start_unix_nano).min().unwrap_or(0);
    let end = spans.iter().map(|s| s.end_unix_nano).max().unwrap_or(0);
    TraceSummary {
        trace_id: hex(trace_id),
        root_name: root.map(|span| span.name.to_string()).unwrap_or_default(),
        root_found: spans.iter().any(|span| span.is_root()),
        service: root
            .map(|span| span.origin.service_name.to_string())
            .unwrap_or_default(),
        start_unix_nano: start,
        duration_ms: millis(end.saturating_sub(start)),
        span_count: spans.len(),
        error_count: spans
            .iter()
            .filter(|span| span.status == receiver::StatusCode::Error)
            .count(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use receiver::{SpanKind, StatusCode};

    use super::*;
    use crate::span::{Origin, StoredSpan, Val};
    use crate::window::{Limits, Window};

    /// A window of `fib` spans: index `i` for `i` in `indexes`, lasting `10 × (i + 1)` ms.
    fn window(indexes: &[i64]) -> Window {
        let origin = Arc::new(Origin {
            resource: vec![("service.name".into(), Val::Str("fib".into()))].into(),
            service_name: "fib".into(),
            scope_name: "test".into(),
            scope_version: "".into(),
        });
        let mut window = Window::new(Limits::default());
        window.push(
            indexes
                .iter()
                .enumerate()
                .map(|(n, &index)| StoredSpan {
                    trace_id: [n as u8 + 1; 16],
                    span_id: [n as u8 + 1; 8],
                    parent_span_id: (index == 1).then_some([99; 8]),
                    name: "fib".into(),
                    kind: SpanKind::Internal,
                    status: StatusCode::Unset,
                    status_message: None,
                    start_unix_nano: 1_000_000_000 * n as u64,
                    end_unix_nano: 1_000_000_000 * n as u64 + 10_000_000 * (index as u64 + 1),
                    attributes: vec![("fib.index".into(), Val::Int(index))].into(),
                    events: Box::new([]),
                    links: Box::new([]),
                    origin: origin.clone(),
                })
                .collect(),
        );
        window
    }

    fn run(query: &str, window: &Window) -> QueryResult {
        Query::from_query_string(query).unwrap().run(window)
    }

    #[test]
    fn filters_read_as_written() {
        let cases = [
            ("fib.index = 1", "fib.index = 1"),
            ("name!=GET", "name != GET"),
            ("url.query contains index", "url.query contains index"),
            ("error.type exists", "error.type exists"),
            ("error.type does-not-exist", "error.type does-not-exist"),
            ("error.type !exists", "error.type does-not-exist"),
            ("duration > 10ms", "duration > 10000000ns"),
            ("duration >= 1.5s", "duration >= 1500000000ns"),
            ("is_root", "is_root"),
            ("!is_root", "!is_root"),
            ("name = \"GET /fib\"", "name = GET /fib"),
        ];
        for (typed, shown) in cases {
            let filter = Filter::parse(typed).unwrap_or_else(|err| panic!("{typed}: {err}"));
            assert_eq!(filter.to_string(), shown, "{typed}");
            assert_eq!(Filter::parse(shown).unwrap(), filter, "{shown}");
        }
    }

    #[test]
    fn mistakes_get_a_message_that_shows_the_right_form() {
        for (typed, says) in [
            ("fib.index", "says nothing about fib.index"),
            ("fib.index ~ 3", "not understood"),
            ("= 3", "field name is missing"),
            ("duration > fast", "not a duration"),
            ("fib.index > five", "is not one"),
            ("trace.id = 123", "32 hexadecimal digits"),
            ("name =", "no value after ="),
        ] {
            let err = Filter::parse(typed).unwrap_err();
            assert!(err.contains(says), "{typed}: {err}");
        }
        for (query, says) in [
            ("visualize=P99(fib.index)", "only the duration"),
            ("visualize=MEDIAN", "not a calculation"),
            ("colour=red", "unknown parameter"),
            ("last=yesterday", "not a duration"),
            ("limit=0", "from 1 to 1000"),
        ] {
            let err = Query::from_query_string(query).unwrap_err();
            assert!(err.contains(says), "{query}: {err}");
        }
    }

    #[test]
    fn a_query_round_trips_through_its_link() {
        let query = Query::from_query_string(
            "visualize=COUNT,P99(duration)&visualize=heatmap&where=fib.index%20%3E%3D%202\
             &where=is_root&group_by=name,fib.index&from=1700000000000.123456&to=1700000000001",
        )
        .unwrap();
        assert_eq!(query.from, Some(1_700_000_000_000_123_456));
        let again = Query::from_query_string(&query.to_query_string()).unwrap();
        assert_eq!(again, query);
    }

    #[test]
    fn count_and_percentiles_by_group() {
        // Index 2 four times (30 ms each), index 3 once (40 ms), index 1 once (20 ms).
        let window = window(&[2, 2, 3, 2, 1, 2]);
        let result = run(
            "visualize=COUNT&visualize=P50(duration)&visualize=MAX(duration)&group_by=fib.index",
            &window,
        );
        let rows: Vec<(String, Vec<Option<f64>>)> = result
            .rows
            .iter()
            .map(|row| (row.group[0].to_string(), row.values.clone()))
            .collect();
        assert_eq!(
            rows,
            [
                ("1".to_string(), vec![Some(1.0), Some(20.0), Some(20.0)]),
                ("2".to_string(), vec![Some(4.0), Some(30.0), Some(30.0)]),
                ("3".to_string(), vec![Some(1.0), Some(40.0), Some(40.0)]),
            ]
        );
        assert_eq!((result.matched, result.scanned), (6, 6));
    }

    #[test]
    fn the_nearest_rank_percentile() {
        let mut group = Group {
            count: 100,
            durations: (1..=100).rev().map(|ms| ms * 1_000_000).collect(),
            slowest: None,
        };
        assert_eq!(calculate(Calc::Percentile(99), &mut group), Some(99.0));
        assert_eq!(calculate(Calc::Percentile(50), &mut group), Some(50.0));
        assert_eq!(calculate(Calc::Avg, &mut group), Some(50.5));
    }

    #[test]
    fn filters_select_and_a_missing_group_comes_last() {
        let window = window(&[0, 1, 5, 5]);
        assert_eq!(run("where=fib.index%20%3E%203", &window).matched, 2);
        assert_eq!(run("where=is_root", &window).matched, 3);
        assert_eq!(run("where=duration%20%3C%2015ms", &window).matched, 1);
        assert_eq!(run("where=nothing%20does-not-exist", &window).matched, 4);
        let result = run("group_by=nothing", &window);
        assert_eq!(result.rows[0].group, [Key::Missing]);
        let trace = format!("where=trace.id%20%3D%20{}", hex(&[3; 16]));
        assert_eq!(run(&trace, &window).matched, 1);
    }

    // Property-based: written filters, and any text at all, read back as themselves through a
    // link (or are refused), and never panic.
    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 256,
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]

    #[test]
    fn written_filters_read_back_as_themselves(
        field in proptest::sample::select(vec!["name", "fib.index", "duration", "url.query", "trace.id", "kind"]),
        op in proptest::sample::select(vec!["=", "!=", ">", ">=", "<", "<=", "contains", "exists", "does-not-exist"]),
        value in proptest::prop_oneof![proptest::strategy::Just(String::new()), "[0-9]{1,3}(\\.[0-9])?(ms|s|us)?", "[a-z =/?]{1,8}", "[0-9a-f]{32}"],
        group_by in proptest::sample::subsequence(vec!["name", "fib.index", "kind"], 0..3),
        last in proptest::sample::select(vec!["", "5m", "1h", "all"]),
    ) {
        let filter = format!("{field} {op} {value}");
        let mut pairs = vec![("where".to_string(), filter), ("last".to_string(), last.to_string())];
        pairs.extend(group_by.iter().map(|field| ("group_by".to_string(), field.to_string())));
        if let Ok(query) = Query::from_pairs(pairs) {
            let again = Query::from_query_string(&query.to_query_string());
            proptest::prop_assert_eq!(again.as_ref().ok(), Some(&query), "{:?}", again);
        }
    }

    #[test]
    fn any_query_reads_or_is_refused_and_round_trips(text in ".{0,40}", filter in ".{0,30}") {
        let _ = Filter::parse(&filter);
        if let Ok(query) = Query::from_query_string(&text) {
            let again = Query::from_query_string(&query.to_query_string());
            proptest::prop_assert_eq!(again.as_ref().ok(), Some(&query), "{:?}", again);
        }
        let pairs = [("where".to_string(), filter.clone()), ("group_by".to_string(), filter)];
        if let Ok(query) = Query::from_pairs(pairs) {
            let again = Query::from_query_string(&query.to_query_string());
            proptest::prop_assert_eq!(again.as_ref().ok(), Some(&query), "{:?}", again);
        }
    }
    }

    #[test]
    fn the_heatmap_puts_every_span_in_one_cell() {
        let indexes: Vec<i64> = (0..200).map(|i| i % 12).collect();
        let window = window(&indexes);
        let heatmap = run("visualize=HEATMAP(duration)", &window).heatmap.unwrap();
        let total: u64 = heatmap.counts.iter().flatten().sum();
        assert_eq!(total, 200);
        assert_eq!(heatmap.columns.len(), HEATMAP_COLUMNS);
        // Rows cover every duration, shortest first, without gaps.
        assert_eq!(heatmap.rows[0].from, 10_000_000);
        assert!(heatmap.rows.last().unwrap().to > 120_000_000);
        assert!(
            heatmap
                .rows
                .windows(2)
                .all(|pair| pair[0].to == pair[1].from)
        );
    }
}
