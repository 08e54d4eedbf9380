//! What a query finds: a row per group (its [`Key`]s and calculations) and, for HEATMAP, the
//! counts of spans by start time and duration. Serialized as is by `/api/query`; the query page
//! draws them.

use std::cmp::Ordering;
use std::fmt;

use serde::Serialize;
use serde_json::Value as Json;

pub use super::compare::SelectionResult;

/// What a query found.
#[derive(Clone, Debug, Serialize)]
pub struct QueryResult {
    /// The calculations, as written: the columns of every row's `values`.
    pub visualize: Vec<String>,
    pub group_by: Vec<String>,
    /// ORDER BY keys and HAVING conditions, as written.
    pub order_by: Vec<String>,
    pub having: Vec<String>,
    pub rows: Vec<Row>,
    /// Groups left out by the limit (after HAVING).
    pub more_rows: usize,
    pub heatmap: Option<Heatmap>,
    /// With a selection: its spans, its slowest traces, and how it differs from the rest.
    pub selection: Option<SelectionResult>,
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
    /// With HEATMAP and GROUP BY: the group's own cells, `[row, column, count]`, so that a page
    /// can light the group up in the heatmap.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub heatmap_cells: Vec<[u64; 3]>,
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

/// A group's value for one field. Ordered so that numbers sort as numbers, also within text
/// (`index=9` before `index=10`, see [`natural_cmp`]), and a missing value comes last.
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

    pub(super) fn cmp(&self, other: &Key) -> Ordering {
        let (a, b) = (self.rank(), other.rank());
        a.0.cmp(&b.0)
            .then(a.1.total_cmp(&b.1))
            .then_with(|| match (self, other) {
                (Key::Text(a), Key::Text(b)) => natural_cmp(a, b),
                _ => Ordering::Equal,
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

/// Text in the order people expect: texts that are both numbers (`"2.5"`, `"-10"`) compare as
/// numbers; otherwise runs of digits compare by their value and the rest as text, so that
/// `index=9` comes before `index=10` and `fib 2` before `fib 11`. Texts equal in that order
/// (`index=07`, `index=7`) fall back to plain text order, so that the order stays total.
pub(super) fn natural_cmp(a: &str, b: &str) -> Ordering {
    if let (Ok(x), Ok(y)) = (a.trim().parse::<f64>(), b.trim().parse::<f64>())
        && x.is_finite()
        && y.is_finite()
    {
        return x.total_cmp(&y).then_with(|| a.cmp(b));
    }
    let (mut x, mut y) = (a, b);
    loop {
        match (x.chars().next(), y.chars().next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let (digits_x, rest_x) = split_digits(x);
                let (digits_y, rest_y) = split_digits(y);
                // Without leading zeros, a longer run of digits is the larger number.
                let (value_x, value_y) = (
                    digits_x.trim_start_matches('0'),
                    digits_y.trim_start_matches('0'),
                );
                let order = value_x
                    .len()
                    .cmp(&value_y.len())
                    .then_with(|| value_x.cmp(value_y));
                if order.is_ne() {
                    return order;
                }
                (x, y) = (rest_x, rest_y);
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(&d);
                }
                (x, y) = (&x[c.len_utf8()..], &y[d.len_utf8()..]);
            }
        }
    }
}

/// The run of ASCII digits `text` starts with, and the rest.
fn split_digits(text: &str) -> (&str, &str) {
    text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    )
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

/// Buckets (start, duration) points: equal slices of time, and durations on a log scale, so that
/// 1 ms and 1 s both show.
pub(super) fn heatmap(points: &[(u64, u64)]) -> Heatmap {
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

    let mut heatmap = Heatmap {
        counts: vec![vec![0u64; columns.len()]; rows.len()],
        columns,
        rows,
        max_count: 0,
    };
    for &(start, duration) in points {
        let (row, column) = heatmap.cell_of(start, duration);
        heatmap.counts[row][column] += 1;
    }
    heatmap.max_count = heatmap.counts.iter().flatten().copied().max().unwrap_or(0);
    heatmap
}

impl Heatmap {
    /// The cell, `(row, column)`, of a span that started at `start` and lasted `duration`; one
    /// outside the heatmap's range is put in the nearest cell. The heatmap has a cell.
    pub fn cell_of(&self, start: u64, duration: u64) -> (usize, usize) {
        let first = self.columns[0].from;
        let width = (self.columns[0].to - first).max(1);
        let column = (start.saturating_sub(first) / width) as usize;
        let row = self.rows.partition_point(|bucket| bucket.to <= duration);
        (
            row.min(self.rows.len() - 1),
            column.min(self.columns.len() - 1),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(texts: &[&str]) -> Vec<String> {
        let mut keys: Vec<Key> = texts
            .iter()
            .map(|text| Key::Text(text.to_string()))
            .collect();
        keys.sort_by(Key::cmp);
        keys.iter().map(Key::to_string).collect()
    }

    #[test]
    fn text_keys_sort_numbers_as_numbers() {
        assert_eq!(
            sorted(&["index=10", "index=9", "index=100", "index=1"]),
            ["index=1", "index=9", "index=10", "index=100"]
        );
        assert_eq!(sorted(&["10", "9", "-3", "2.5"]), ["-3", "2.5", "9", "10"]);
        assert_eq!(sorted(&["2.10", "2.5"]), ["2.10", "2.5"]);
        assert_eq!(
            sorted(&["fib b", "fib 11", "fib 2", "fib", "GET /fib"]),
            ["GET /fib", "fib", "fib 2", "fib 11", "fib b"]
        );
        // Equal as numbers, still in one order: plain text decides.
        assert_eq!(sorted(&["index=7", "index=07"]), ["index=07", "index=7"]);
        assert_eq!(natural_cmp("a1b2", "a1b10"), Ordering::Less);
        assert_eq!(natural_cmp("é9", "é10"), Ordering::Less);
    }

    #[test]
    fn numbers_come_before_text_and_a_missing_value_last() {
        let mut keys = vec![
            Key::Missing,
            Key::Text("index=2".into()),
            Key::Int(10),
            Key::Double(2.5f64.to_bits()),
        ];
        keys.sort_by(Key::cmp);
        assert_eq!(
            keys,
            [
                Key::Double(2.5f64.to_bits()),
                Key::Int(10),
                Key::Text("index=2".into()),
                Key::Missing
            ]
        );
    }
}
