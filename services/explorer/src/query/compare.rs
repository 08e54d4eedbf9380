//! A selection compared with the rest: what Honeycomb calls BubbleUp. A learner drags over the
//! slow dots of a heatmap and asks "why are these slow?"; the answer is a field whose values are
//! spread differently among the selected spans than among the others the query matched, such as
//! `fib.index`, high inside and low outside.
//!
//! In order:
//! 1. The query's pass puts each span it selects on one side ([`Sides`]), by the selection's
//!    time range and duration range.
//! 2. Up to [`SAMPLE`] spans of each side, evenly spaced, are counted: for every field (name,
//!    kind, status, service.name, and each attribute of the span or of its resource), how many
//!    spans have each value. The work is bounded whatever the window holds, and a share of
//!    30 000 spans is within a percent of the whole side's.
//! 3. Each field gets a score: how far apart its two distributions are (half the sum, over its
//!    values, of the gap between the share inside and the share outside; 1 when no value is on
//!    both sides, 0 when the shares are equal). Values rarer than 1 % on both sides are left out
//!    of the score, so that an id, different on every span, does not look like an explanation.
//! 4. The fields by score, each with its values by gap; and the selection's slowest traces.

use std::collections::{BinaryHeap, HashMap};
use std::hash::Hash;
use std::time::Instant;

use rustc_hash::FxBuildHasher;
use serde::Serialize;
use serde_json::Value as Json;

use super::language::{Field, Filter, Test};
use super::result::Key;
use crate::span::{Origin, StoredSpan, Val, kind_name, millis, status_name};
use crate::window::{TraceSummary, Window, summary};

/// How many spans of each side are counted, at most.
pub const SAMPLE: usize = 30_000;
/// Distinct values counted per field; more (ids, say) are counted together as "other values".
const MAX_VALUES: u32 = 1_000;
/// A value counts towards its field's score if it is on at least this share of one side's spans.
const NOTABLE: f64 = 0.01;
/// How many fields, values per field and slowest traces are reported.
const FIELDS: usize = 20;
const VALUES: usize = 6;
const SLOWEST: usize = 10;

/// The spans a query selected, split by the selection.
#[derive(Default)]
pub(super) struct Sides<'a> {
    pub inside: Vec<&'a StoredSpan>,
    pub outside: Vec<&'a StoredSpan>,
}

/// What a selection holds and how it differs from the rest.
#[derive(Clone, Debug, Serialize)]
pub struct SelectionResult {
    /// Spans the query matched inside the selection, and outside it.
    pub inside: usize,
    pub outside: usize,
    /// How many of each were counted for the comparison (all of them, up to [`SAMPLE`]).
    pub compared_inside: usize,
    pub compared_outside: usize,
    /// The traces of the selection's slowest spans, slowest first.
    pub slowest: Vec<SlowTrace>,
    /// The fields, the most different first.
    pub fields: Vec<FieldComparison>,
    pub took_ms: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct SlowTrace {
    pub trace: TraceSummary,
    /// The trace's slowest span in the selection.
    pub span_id: String,
    pub span_name: String,
    pub span_duration_ms: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct FieldComparison {
    pub field: String,
    /// From 0 (spread alike) to 1 (no value on both sides).
    pub score: f64,
    pub values: Vec<ValueShare>,
}

/// One value of a field: on which share of the selection's spans, and of the rest's.
#[derive(Clone, Debug, Serialize)]
pub struct ValueShare {
    /// `null` for spans without the field.
    pub value: Json,
    pub inside: f64,
    pub outside: f64,
    /// The filter that keeps this value's spans: `fib.index = 27`, `error.type does-not-exist`.
    pub filter: String,
}

/// A value, borrowed from the window while the comparison runs.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Value<'a> {
    Text(Text<'a>),
    Int(i64),
    /// An `f64`'s bits, so that it can be hashed.
    Double(u64),
    Bool(bool),
}

/// A text known by where it lives. The window shares the strings that repeat (see
/// `crate::span::Strings`), so equal texts are mostly one allocation, and an address hashes
/// faster than the text. An equal text that lives apart is looked up by its text once, then
/// known by its address too (see [`Tally::slot`]).
#[derive(Clone, Copy)]
struct Text<'a>(&'a str);

impl PartialEq for Text<'_> {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

impl Eq for Text<'_> {}

impl Hash for Text<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_usize(self.0.as_ptr() as usize);
        state.write_usize(self.0.len());
    }
}

impl<'a> Value<'a> {
    fn of(value: &'a Val) -> Value<'a> {
        match value {
            Val::Str(text) => Value::Text(Text(text)),
            Val::Int(number) => Value::Int(*number),
            Val::Double(number) => Value::Double(number.to_bits()),
            Val::Bool(yes) => Value::Bool(*yes),
        }
    }

    fn json(self) -> Json {
        match self {
            Value::Text(text) => Json::from(text.0),
            Value::Int(number) => Json::from(number),
            Value::Double(bits) => Json::from(f64::from_bits(bits)),
            Value::Bool(yes) => Json::from(yes),
        }
    }

    fn text(self) -> String {
        match self {
            Value::Text(text) => text.0.to_string(),
            Value::Int(number) => number.to_string(),
            Value::Double(bits) => f64::from_bits(bits).to_string(),
            Value::Bool(yes) => yes.to_string(),
        }
    }
}

/// The fields every span has, before its attributes.
const BUILT_IN: [&str; 4] = ["name", "kind", "status", "service.name"];

/// Counts of values per field, on both sides.
#[derive(Default)]
struct Tally<'a> {
    /// Each field's place, by the address of its name and by the name, and its name.
    addresses: HashMap<Text<'a>, u32, FxBuildHasher>,
    places: HashMap<&'a str, u32, FxBuildHasher>,
    names: Vec<&'a str>,
    /// Per field: spans that have it, on each side, and how many distinct values it has.
    present: Vec<[u64; 2]>,
    distinct: Vec<u32>,
    /// Each value's counts, `[inside, outside]`, and which field and value they are of.
    counts: Vec<[u64; 2]>,
    values: Vec<(u32, Value<'a>)>,
    /// Where a value's counts are: by its address, and for a text also by the text, so that an
    /// equal text elsewhere in memory finds them too (and is then known by its address as well).
    slots: HashMap<(u32, Value<'a>), usize, FxBuildHasher>,
    texts: HashMap<(u32, &'a str), usize, FxBuildHasher>,
    /// The spans counted per resource (most spans share a handful): a resource's attributes are
    /// counted once for all its spans, at the end.
    origins: HashMap<*const Origin, (&'a Origin, [u64; 2]), FxBuildHasher>,
}

impl<'a> Tally<'a> {
    fn new() -> Tally<'a> {
        let mut tally = Tally::default();
        for name in BUILT_IN {
            tally.place(name);
        }
        tally
    }

    fn place(&mut self, name: &'a str) -> u32 {
        if let Some(&place) = self.addresses.get(&Text(name)) {
            return place;
        }
        let place = match self.places.get(name) {
            Some(&place) => place,
            None => {
                let place = self.names.len() as u32;
                self.places.insert(name, place);
                self.names.push(name);
                self.present.push([0; 2]);
                self.distinct.push(0);
                place
            }
        };
        self.addresses.insert(Text(name), place);
        place
    }

    fn count(&mut self, field: u32, value: Value<'a>, side: usize, spans: u64) {
        self.present[field as usize][side] += spans;
        let slot = match self.slots.get(&(field, value)) {
            Some(&slot) => slot,
            None => match self.slot(field, value) {
                Some(slot) => slot,
                // Counted as present, under no value of its own.
                None => return,
            },
        };
        self.counts[slot][side] += spans;
    }

    /// The counts of a value not met at this address yet: those of an equal text met elsewhere,
    /// or new ones while the field has fewer than [`MAX_VALUES`].
    fn slot(&mut self, field: u32, value: Value<'a>) -> Option<usize> {
        let known = match value {
            Value::Text(text) => self.texts.get(&(field, text.0)).copied(),
            _ => None,
        };
        let slot = match known {
            Some(slot) => slot,
            None if self.distinct[field as usize] < MAX_VALUES => {
                self.distinct[field as usize] += 1;
                self.counts.push([0; 2]);
                self.values.push((field, value));
                if let Value::Text(text) = value {
                    self.texts.insert((field, text.0), self.counts.len() - 1);
                }
                self.counts.len() - 1
            }
            None => return None,
        };
        self.slots.insert((field, value), slot);
        Some(slot)
    }

    /// One span's fields: the built-in ones and its attributes; its resource's come at the end.
    fn span(&mut self, span: &'a StoredSpan, side: usize) {
        self.count(0, Value::Text(Text(&span.name)), side, 1);
        self.count(1, Value::Text(Text(kind_name(span.kind))), side, 1);
        self.count(2, Value::Text(Text(status_name(span.status))), side, 1);
        for (key, value) in span.attributes.iter() {
            let field = self.place(key);
            self.count(field, Value::of(value), side, 1);
        }
        let origin: &'a Origin = &span.origin;
        self.origins
            .entry(std::ptr::from_ref(origin))
            .or_insert((origin, [0; 2]))
            .1[side] += 1;
    }

    /// Each resource's service name and attributes, once for all its spans. A key that is both
    /// a span's attribute and its resource's counts twice: rare, and its shares are capped at 1.
    fn resources(&mut self) {
        let origins: Vec<(&'a Origin, [u64; 2])> = self.origins.values().copied().collect();
        for (origin, spans) in origins {
            for (side, spans) in spans.into_iter().enumerate() {
                if spans == 0 {
                    continue;
                }
                self.count(3, Value::Text(Text(&origin.service_name)), side, spans);
                for (key, value) in origin.resource.iter() {
                    if &**key != "service.name" {
                        let field = self.place(key);
                        self.count(field, Value::of(value), side, spans);
                    }
                }
            }
        }
    }
}

impl<'a> Sides<'a> {
    pub(super) fn compare(self, window: &Window) -> SelectionResult {
        let started = Instant::now();
        let mut tally = Tally::new();
        let mut compared = [0usize; 2];
        for (side, spans) in [&self.inside, &self.outside].into_iter().enumerate() {
            for span in spans.iter().step_by(spans.len().div_ceil(SAMPLE).max(1)) {
                tally.span(span, side);
                compared[side] += 1;
            }
        }
        tally.resources();
        // With one side empty there is nothing to compare.
        let fields = if compared.contains(&0) {
            Vec::new()
        } else {
            rank(&tally, compared)
        };
        SelectionResult {
            inside: self.inside.len(),
            outside: self.outside.len(),
            compared_inside: compared[0],
            compared_outside: compared[1],
            slowest: slowest(&self.inside, window),
            fields,
            took_ms: started.elapsed().as_secs_f64() * 1e3,
        }
    }
}

/// The fields by score, each with its values by gap.
fn rank(tally: &Tally, totals: [usize; 2]) -> Vec<FieldComparison> {
    let share = |count: u64, side: usize| match totals[side] {
        0 => 0.0,
        total => (count as f64 / total as f64).min(1.0),
    };
    let mut values: Vec<Vec<(Option<Value>, f64, f64)>> = vec![Vec::new(); tally.names.len()];
    for (&(field, value), &[inside, outside]) in tally.values.iter().zip(&tally.counts) {
        values[field as usize].push((Some(value), share(inside, 0), share(outside, 1)));
    }
    let mut fields: Vec<FieldComparison> = values
        .into_iter()
        .enumerate()
        .map(|(place, mut values)| {
            let [inside, outside] = tally.present[place];
            values.push((None, 1.0 - share(inside, 0), 1.0 - share(outside, 1)));
            values.retain(|(_, inside, outside)| inside.max(*outside) >= NOTABLE);
            let score = values
                .iter()
                .map(|(_, inside, outside)| (inside - outside).abs())
                .sum::<f64>()
                / 2.0;
            // Sums of shares stray from 1 in the last bits.
            let score = score.clamp(0.0, 1.0);
            // By gap (to a millionth: shares computed two ways differ in the last bits); of two
            // alike, the one that describes the selection first, then by value (`9` before `10`).
            let gap = |value: &(Option<Value>, f64, f64)| ((value.1 - value.2) * 1e6).round();
            values.sort_by(|a, b| {
                let (gap_a, gap_b) = (gap(a), gap(b));
                gap_b
                    .abs()
                    .total_cmp(&gap_a.abs())
                    .then(gap_b.total_cmp(&gap_a))
                    .then_with(|| key(a.0).cmp(&key(b.0)))
            });
            values.truncate(VALUES);
            let name = tally.names[place];
            let field = Field::parse(name).unwrap_or_else(|_| Field::Attribute(name.into()));
            FieldComparison {
                field: name.to_string(),
                score,
                values: values
                    .into_iter()
                    .map(|(value, inside, outside)| ValueShare {
                        value: value.map_or(Json::Null, Value::json),
                        inside,
                        outside,
                        filter: Filter {
                            field: field.clone(),
                            test: value.map_or(Test::Missing, |value| Test::Equals(value.text())),
                        }
                        .to_string(),
                    })
                    .collect(),
            }
        })
        .collect();
    fields.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.field.cmp(&b.field))
    });
    fields.truncate(FIELDS);
    fields
}

/// A value as a group's key, for its order: numbers as numbers, text naturally, none last.
fn key(value: Option<Value>) -> Key {
    match value {
        None => Key::Missing,
        Some(Value::Text(text)) => Key::Text(text.0.to_string()),
        Some(Value::Int(number)) => Key::Int(number),
        Some(Value::Double(bits)) => Key::Double(bits),
        Some(Value::Bool(yes)) => Key::Bool(yes),
    }
}

/// The traces of the slowest spans in the selection, each once, slowest first.
fn slowest(inside: &[&StoredSpan], window: &Window) -> Vec<SlowTrace> {
    // The slowest spans by a bounded heap (smallest on top), then a trace per span: a trace's
    // spans nest, so a few hundred spans hold the ten slowest traces unless they are very deep.
    let mut heap = BinaryHeap::new();
    for (at, span) in inside.iter().enumerate() {
        let duration = span.duration_nanos();
        if heap.len() < 50 * SLOWEST {
            heap.push(std::cmp::Reverse((duration, at)));
        } else if heap
            .peek()
            .is_some_and(|std::cmp::Reverse((fastest, _))| duration > *fastest)
        {
            heap.pop();
            heap.push(std::cmp::Reverse((duration, at)));
        }
    }
    let spans: Vec<&StoredSpan> = heap
        .into_sorted_vec()
        .into_iter()
        .map(|std::cmp::Reverse((_, at))| inside[at])
        .collect();
    let mut seen = std::collections::HashSet::new();
    spans
        .into_iter()
        .filter(|span| seen.insert(span.trace_id))
        .take(SLOWEST)
        .map(|span| SlowTrace {
            trace: summary(&span.trace_id, &window.trace(&span.trace_id)),
            span_id: crate::span::hex(&span.span_id),
            span_name: span.name.to_string(),
            span_duration_ms: millis(span.duration_nanos()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use receiver::{SpanKind, StatusCode};

    use crate::query::Query;
    use crate::span::{Origin, StoredSpan, Val};
    use crate::window::{Limits, Window};

    /// Planted spans where the answer is known: 3 000 `fib` spans of indexes 1 to 30, each
    /// lasting `10 × index` ms, with `url.query` saying the index, a user agent that has nothing
    /// to do with it (one of three, in turn for each round of indexes), a request id different on every span, and
    /// `cache.hit` on the fast half only of indexes 1 to 10.
    fn planted() -> Window {
        let origin = Arc::new(Origin {
            resource: vec![
                ("service.name".into(), Val::Str("fib".into())),
                ("host.name".into(), Val::Str("laptop".into())),
            ]
            .into(),
            service_name: "fib".into(),
            scope_name: "test".into(),
            scope_version: "".into(),
            learner: None,
        });
        let mut window = Window::new(Limits::default());
        let spans = (0..3_000u64)
            .map(|n| {
                let index = n % 30 + 1;
                let mut attributes = vec![
                    ("fib.index".into(), Val::Int(index as i64)),
                    (
                        "url.query".into(),
                        Val::Str(format!("index={index}").into()),
                    ),
                    (
                        "user_agent.original".into(),
                        Val::Str(["curl", "firefox", "chromium"][(n / 30) as usize % 3].into()),
                    ),
                    ("request.id".into(), Val::Str(format!("req-{n}").into())),
                ];
                if index <= 10 && n % 2 == 0 {
                    attributes.push(("cache.hit".into(), Val::Bool(true)));
                }
                StoredSpan {
                    trace_id: (n as u128 + 1).to_be_bytes(),
                    span_id: (n + 1).to_be_bytes(),
                    parent_span_id: None,
                    name: "GET /fib".into(),
                    kind: SpanKind::Server,
                    status: StatusCode::Unset,
                    status_message: None,
                    start_unix_nano: 1_000_000_000 * n,
                    end_unix_nano: 1_000_000_000 * n + 10_000_000 * index,
                    attributes: attributes.into(),
                    events: Box::new([]),
                    links: Box::new([]),
                    origin: origin.clone(),
                }
            })
            .collect();
        window.push(spans);
        window
    }

    #[test]
    fn the_slow_region_is_explained_by_the_index() {
        let window = planted();
        // Slower than 200 ms: indexes 20 to 30, 1 100 spans.
        let result = Query::from_query_string("visualize=HEATMAP&select_min=200ms")
            .unwrap()
            .run(&window);
        let selection = result.selection.unwrap();
        assert_eq!((selection.inside, selection.outside), (1_100, 1_900));
        let order: Vec<&str> = selection.fields.iter().map(|f| f.field.as_str()).collect();
        // The index, written two ways, explains it entirely; the cache a little (only fast
        // spans have it); the rest not at all.
        let mut first_two = order[..2].to_vec();
        first_two.sort();
        assert_eq!(first_two, ["fib.index", "url.query"], "{order:?}");
        assert_eq!(order[2], "cache.hit", "{order:?}");
        let score = |name: &str| {
            selection
                .fields
                .iter()
                .find(|f| f.field == name)
                .map_or(0.0, |f| f.score)
        };
        assert!((score("fib.index") - 1.0).abs() < 1e-9);
        assert!((score("cache.hit") - 500.0 / 1_900.0).abs() < 1e-9);
        for unrelated in ["user_agent.original", "request.id", "name", "host.name"] {
            assert!(score(unrelated) < 0.01, "{unrelated}: {}", score(unrelated));
        }
        // Values by gap, each with the filter that keeps it.
        let index = &selection
            .fields
            .iter()
            .find(|f| f.field == "fib.index")
            .unwrap();
        assert_eq!(index.values.len(), 6);
        for value in &index.values {
            let n = value.value.as_i64().unwrap();
            let (inside, outside) = if n >= 20 {
                (100.0 / 1_100.0, 0.0)
            } else {
                (0.0, 100.0 / 1_900.0)
            };
            assert!((value.inside - inside).abs() < 1e-9 && (value.outside - outside).abs() < 1e-9);
            assert_eq!(value.filter, format!("fib.index = {n}"));
        }
        let cache = &selection
            .fields
            .iter()
            .find(|f| f.field == "cache.hit")
            .unwrap();
        assert_eq!(cache.values[0].filter, "cache.hit does-not-exist");
        assert_eq!(cache.values[0].inside, 1.0);
        // The slowest traces: index 30's, slowest first, each once.
        assert_eq!(selection.slowest.len(), 10);
        assert!(
            selection
                .slowest
                .iter()
                .all(|slow| slow.span_duration_ms == 300.0 && slow.trace.span_count == 1)
        );
    }

    #[test]
    fn a_selection_by_time_and_duration_and_an_empty_side() {
        let window = planted();
        // The first 300 seconds (300 spans), slower than 250 ms: indexes 25 to 30, 60 spans.
        let query = "visualize=COUNT&select_from=0&select_to=300000&select_min=250ms";
        let selection = Query::from_query_string(query)
            .unwrap()
            .run(&window)
            .selection
            .unwrap();
        assert_eq!((selection.inside, selection.outside), (60, 2_940));
        // A selection of everything leaves nothing to compare with, and one of nothing too.
        for (query, sides) in [
            ("select_min=0ns", (3_000, 0)),
            ("select_min=1s", (0, 3_000)),
        ] {
            let selection = Query::from_query_string(query)
                .unwrap()
                .run(&window)
                .selection
                .unwrap();
            assert_eq!((selection.inside, selection.outside), sides);
            assert!(selection.fields.is_empty());
            assert_eq!(selection.slowest.len(), usize::from(sides.0 > 0) * 10);
        }
    }
}
