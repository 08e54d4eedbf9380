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
//! - `order_by`: keys, several or with commas: a visualized calculation or a GROUP BY field, then
//!   `asc` or `desc` (`P99(duration) desc`, `fib.index`); a calculation is largest first unless
//!   told, a field smallest first. Without it, groups are in the order of their values.
//! - `having`: conditions on a group's calculation, all must hold: `P99(duration) > 10ms`,
//!   `COUNT >= 5` (`>`, `>=`, `<`, `<=`, `=`, `!=`).
//! - `limit`: how many groups, after HAVING and ORDER BY.
//! - `select_from`, `select_to` (Unix milliseconds) and `select_min`, `select_max` (durations):
//!   a region of the heatmap, whose spans are compared with the rest (see `compare`).
//! - `last` (`15m`, `1h`, `30s`) or `from`/`to` (Unix milliseconds, fractions allowed).
//!
//! A field is `name`, `kind`, `status`, `service.name`, `trace.id`, `span.id`, `duration`
//! (compared in milliseconds, or with a unit: `250us`, `1.5s`), `is_root`, or any attribute of
//! the span or of its resource.
//!
//! One pass over the window does it all: a query over a million spans takes tens of milliseconds
//! (see the benchmark in services/bench/benches/explorer.rs).
//!
//! ## Layout
//! The language apart from its evaluation, so that reading a query never needs the window:
//! - `language`: what a query is (calculations, fields, filters) and how each is written;
//! - `parse`: reading a query from a URL's query string, and writing it back as one;
//! - `eval`: a span's fields, the filters' tests, and the one pass over the window;
//! - `result`: what a query finds: its groups' rows and the heatmap;
//! - `compare`: a selection of the heatmap against the rest, field by field (BubbleUp);
//! - `search`: apart from the language, the spans that contain a phrase in any field
//!   (`/search?q=index=25`), and which field it is.
//!
//! Everything is used from here, `crate::query::…`, whichever file it is in.

mod compare;
mod eval;
mod language;
mod parse;
mod result;
mod search;

pub use compare::{FieldComparison, SAMPLE, SelectionResult, SlowTrace, ValueShare};
pub use eval::traces;
pub use language::{
    CALCS, Calc, Comparison, Field, Filter, Having, Order, OrderKey, Query, Selection, Test,
};
pub use parse::{DEFAULT_LIMIT, now_unix_nanos, parse_calc, parse_duration, unix_millis_text};
pub use result::{Bucket, HEATMAP_COLUMNS, HEATMAP_ROWS, Heatmap, Key, QueryResult, Row};
pub use search::{Finder, Marked, Phrase, Place, SearchResult, SpanMatch, search};

// `limit=` is read alike by the queries and the log records' filters; it lives in `params` so
// that the logs need not depend on the query language.
pub use crate::params::parse_limit;
