//! The query language's parts: a [`Query`] of calculations ([`Calc`]), [`Filter`]s on
//! [`Field`]s and fields to group by, and each written back as a learner types it (`Display`),
//! so that a page can show it and a link can carry it. Reading them is in `parse`, running them
//! in `eval`.

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
