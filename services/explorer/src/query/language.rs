//! The query language's parts: a [`Query`] of calculations ([`Calc`]), [`Filter`]s on
//! [`Field`]s, fields to group by, the groups' order ([`Order`]) and conditions on them
//! ([`Having`]), and a [`Selection`] of the heatmap to compare with the rest; each written back as
//! a learner types it (`Display`), so that a page can show it and a link can carry it. Reading
//! them is in `parse`, running them in `eval` and `compare`.

use std::fmt;

use crate::span::hex;

/// One query, as read from a URL.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Query {
    pub visualize: Vec<Calc>,
    pub filters: Vec<Filter>,
    pub group_by: Vec<Field>,
    /// Inclusive start and exclusive end, in Unix nanoseconds, of the spans' start times.
    pub from: Option<u64>,
    pub to: Option<u64>,
    /// How many groups to show, after HAVING and ORDER BY.
    pub limit: usize,
    /// The groups' order, first key first; empty: by their GROUP BY values.
    pub order_by: Vec<Order>,
    /// Conditions every group shown meets.
    pub having: Vec<Having>,
    /// A region of the heatmap, whose spans are compared with the rest.
    pub selection: Option<Selection>,
}

/// One ORDER BY key: a visualized calculation or a GROUP BY field, and its direction.
#[derive(Clone, Debug, PartialEq)]
pub struct Order {
    pub by: OrderKey,
    pub descending: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum OrderKey {
    Calc(Calc),
    Field(Field),
}

/// As it is written: `P99(duration) desc`, `fib.index asc`.
impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let direction = if self.descending { "desc" } else { "asc" };
        match &self.by {
            OrderKey::Calc(calc) => write!(f, "{calc} {direction}"),
            OrderKey::Field(field) => write!(f, "{field} {direction}"),
        }
    }
}

/// One HAVING condition: a group's calculation compared with a number, in the calculation's
/// unit (milliseconds for durations, spans for COUNT).
#[derive(Clone, Debug, PartialEq)]
pub struct Having {
    pub calc: Calc,
    pub comparison: Comparison,
    pub value: f64,
}

/// As it is written: `P99(duration) > 10ms`, `COUNT >= 5`.
impl fmt::Display for Having {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Having {
            calc,
            comparison,
            value,
        } = self;
        match calc {
            Calc::Count => write!(f, "{calc} {comparison} {value}"),
            _ => write!(f, "{calc} {comparison} {value}ms"),
        }
    }
}

/// A region of the heatmap: spans that started from `from` (inclusive) to `to` (exclusive), in
/// Unix nanoseconds, and lasted from `min` (inclusive) to `max` (exclusive) nanoseconds. A bound
/// left out does not limit.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Selection {
    pub from: Option<u64>,
    pub to: Option<u64>,
    pub min: Option<u64>,
    pub max: Option<u64>,
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
    /// Only in HAVING: a filter's `=` and `!=` compare text ([`Test::Equals`]).
    Equal,
    NotEqual,
}

impl Comparison {
    pub fn holds(self, number: f64, wanted: f64) -> bool {
        match self {
            Comparison::Greater => number > wanted,
            Comparison::GreaterOrEqual => number >= wanted,
            Comparison::Less => number < wanted,
            Comparison::LessOrEqual => number <= wanted,
            Comparison::Equal => number == wanted,
            Comparison::NotEqual => number != wanted,
        }
    }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Equal => "=",
            Comparison::NotEqual => "!=",
        })
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
            Test::Compare(op, number) => {
                if *field == Field::Duration {
                    write!(f, "{field} {op} {number}ns")
                } else {
                    write!(f, "{field} {op} {number}")
                }
            }
        }
    }
}
