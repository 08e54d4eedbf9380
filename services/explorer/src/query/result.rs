//! What a query finds: a row per group (its [`Key`]s and calculations) and, for HEATMAP, the
//! counts of spans by start time and duration. Serialized as is by `/api/query`; the query page
//! draws them.

use std::fmt;

use serde::Serialize;
use serde_json::Value as Json;

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

    pub(super) fn cmp(&self, other: &Key) -> std::cmp::Ordering {
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
