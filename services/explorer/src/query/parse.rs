//! Reading a query from a URL's query string, and writing it back as one: every result has a
//! link, and a link read back is the same query (the tests below check it on any text). The
//! messages of a query that does not read show the right form.

use std::time::{SystemTime, UNIX_EPOCH};

use super::language::{
    Calc, Comparison, Field, Filter, Having, Order, OrderKey, Query, Selection, Test,
};
use crate::params::parse_limit;
use crate::span::parse_trace_id;

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

const ORDER_FORMS: &str = "write an ORDER BY key as a visualized calculation or a GROUP BY \
    field, then asc or desc: `P99(duration) desc`, `COUNT desc`, `fib.index asc`";

impl Order {
    /// Reads one ORDER BY key, e.g. `P99(duration) desc`, `fib.index`, `count asc`. Without a
    /// direction a calculation sorts largest first (what one looks for) and a field smallest first.
    pub fn parse(text: &str) -> Result<Order, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err(format!("an empty ORDER BY key: {ORDER_FORMS}"));
        }
        let (rest, direction) = match text.rsplit_once(char::is_whitespace) {
            Some((rest, word)) if word.eq_ignore_ascii_case("desc") => (rest, Some(true)),
            Some((rest, word)) if word.eq_ignore_ascii_case("asc") => (rest, Some(false)),
            _ => (text, None),
        };
        let by = match parse_calc(rest) {
            Ok(calc) => OrderKey::Calc(calc),
            // `P99(fib.index)`, say: the calculation's own message is the better one.
            Err(err) if rest.contains('(') => return Err(err),
            Err(_) => OrderKey::Field(
                Field::parse(rest)
                    .map_err(|err| format!("order_by {text:?}: {err}: {ORDER_FORMS}"))?,
            ),
        };
        if by == OrderKey::Calc(Calc::Heatmap) {
            return Err(format!(
                "order_by {text:?}: a heatmap has no value to order by: {ORDER_FORMS}"
            ));
        }
        let descending = direction.unwrap_or(matches!(by, OrderKey::Calc(_)));
        Ok(Order { by, descending })
    }
}

const HAVING_FORMS: &str = "write a HAVING condition as a calculation, a comparison and a \
    value: `P99(duration) > 10ms`, `COUNT >= 5` (>, >=, <, <=, = or !=)";

impl Having {
    /// Reads one HAVING condition, e.g. `P99(duration) > 10ms`, `COUNT >= 5`.
    pub fn parse(text: &str) -> Result<Having, String> {
        let text = text.trim();
        let Some(at) = text.find(['<', '>', '=', '!']) else {
            return Err(format!("having {text:?} compares nothing: {HAVING_FORMS}"));
        };
        let (calc, rest) = text.split_at(at);
        if calc.trim().is_empty() {
            return Err(format!(
                "having {text:?} has no calculation: {HAVING_FORMS}"
            ));
        }
        let calc = parse_calc(calc)?;
        let (comparison, op) = [
            (Comparison::NotEqual, "!="),
            (Comparison::GreaterOrEqual, ">="),
            (Comparison::LessOrEqual, "<="),
            (Comparison::Equal, "=="),
            (Comparison::Equal, "="),
            (Comparison::Greater, ">"),
            (Comparison::Less, "<"),
        ]
        .into_iter()
        .find(|(_, op)| rest.starts_with(op))
        .ok_or_else(|| format!("having {text:?}: {HAVING_FORMS}"))?;
        let value = rest[op.len()..].trim();
        if value.is_empty() {
            return Err(format!(
                "having {text:?} has no value after {op}: {HAVING_FORMS}"
            ));
        }
        let value = match calc {
            Calc::Heatmap => {
                return Err(format!(
                    "having {text:?}: a heatmap is not a number to compare: {HAVING_FORMS}"
                ));
            }
            Calc::Count => value
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| {
                    format!(
                        "having {text:?}: COUNT is compared with a number, and {value:?} is not one"
                    )
                })?,
            // Calculations of the duration are in milliseconds, as the pages show them.
            _ => parse_duration(value).map_err(|err| format!("having {text:?}: {err}"))? / 1e6,
        };
        Ok(Having {
            calc,
            comparison,
            value,
        })
    }
}

impl Selection {
    /// Whether a span is in the region.
    pub fn contains(&self, start_unix_nano: u64, duration: u64) -> bool {
        self.from.is_none_or(|from| start_unix_nano >= from)
            && self.to.is_none_or(|to| start_unix_nano < to)
            && self.min.is_none_or(|min| duration >= min)
            && self.max.is_none_or(|max| duration < max)
    }
}

impl Query {
    /// Reads a query from a URL's query string (`visualize=…&where=…&group_by=…`).
    pub fn from_query_string(query: &str) -> Result<Query, String> {
        Query::from_pairs(form_urlencoded::parse(query.as_bytes()).into_owned())
    }

    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Result<Query, String> {
        let mut query = Query {
            limit: DEFAULT_LIMIT,
            ..Query::default()
        };
        let mut last = None;
        let mut selection = Selection::default();
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
                // The page's form sends its boxes empty when nothing was typed.
                "limit" if value.trim().is_empty() => {}
                "limit" => query.limit = parse_limit(&value)?,
                "order_by" => {
                    for key in value.split(',').filter(|k| !k.trim().is_empty()) {
                        query.order_by.push(Order::parse(key)?);
                    }
                }
                "having" => {
                    for line in value.lines().filter(|line| !line.trim().is_empty()) {
                        query.having.push(Having::parse(line)?);
                    }
                }
                "select_from" | "select_to" | "select_min" | "select_max"
                    if value.trim().is_empty() => {}
                "select_from" => selection.from = Some(parse_unix_millis(&value)?),
                "select_to" => selection.to = Some(parse_unix_millis(&value)?),
                "select_min" => selection.min = Some(parse_selection_duration(&value)?),
                "select_max" => selection.max = Some(parse_selection_duration(&value)?),
                other => {
                    return Err(format!(
                        "unknown parameter {other:?}: a query takes visualize, where, group_by, \
                         order_by, having, limit, last, from, to, and select_from, select_to, \
                         select_min and select_max for a selection"
                    ));
                }
            }
        }
        if selection != Selection::default() {
            query.selection = Some(selection);
        }
        if let Some(last) = last {
            let now = now_unix_nanos();
            query.from = Some(now.saturating_sub(last));
        }
        if query.visualize.is_empty() {
            query.visualize.push(Calc::Count);
        }
        query.check_order()?;
        Ok(query)
    }

    /// An ORDER BY key must be something the table shows: a visualized calculation or a
    /// GROUP BY field.
    fn check_order(&self) -> Result<(), String> {
        let fields = || {
            self.group_by
                .iter()
                .map(|field| format!("{field}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let calcs = || {
            self.visualize
                .iter()
                .filter(|calc| **calc != Calc::Heatmap)
                .map(|calc| format!("{calc}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let choices = || match (fields(), calcs()) {
            (fields, calcs) if fields.is_empty() => format!("a visualized calculation ({calcs})"),
            (fields, calcs) if calcs.is_empty() => format!("a GROUP BY field ({fields})"),
            (fields, calcs) => {
                format!("a GROUP BY field ({fields}) or a visualized calculation ({calcs})")
            }
        };
        for order in &self.order_by {
            match &order.by {
                OrderKey::Calc(calc) if !self.visualize.contains(calc) => {
                    return Err(format!(
                        "order_by {order:?}: {calc} is not visualized: add it to VISUALIZE, or \
                         order by {}",
                        choices(),
                        order = order.to_string()
                    ));
                }
                OrderKey::Field(field) if !self.group_by.contains(field) => {
                    return Err(format!(
                        "order_by {order:?}: {field} is not a GROUP BY field: group by it, or \
                         order by {}",
                        choices(),
                        order = order.to_string()
                    ));
                }
                _ => {}
            }
        }
        Ok(())
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
        for order in &self.order_by {
            url.append_pair("order_by", &order.to_string());
        }
        for having in &self.having {
            url.append_pair("having", &having.to_string());
        }
        if self.limit != DEFAULT_LIMIT {
            url.append_pair("limit", &self.limit.to_string());
        }
        if let Some(selection) = &self.selection {
            for (name, bound) in [("select_from", selection.from), ("select_to", selection.to)] {
                if let Some(bound) = bound {
                    url.append_pair(name, &unix_millis_text(bound));
                }
            }
            for (name, bound) in [("select_min", selection.min), ("select_max", selection.max)] {
                if let Some(bound) = bound {
                    url.append_pair(name, &format!("{bound}ns"));
                }
            }
        }
        url.finish()
    }
}

/// Reads one calculation, e.g. `P99(duration)`, `p99` or `heatmap`.
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

/// How many groups a query shows unless told.
pub const DEFAULT_LIMIT: usize = 100;

/// A selection's duration bound, in whole nanoseconds.
fn parse_selection_duration(text: &str) -> Result<u64, String> {
    let nanos = parse_duration(text)?;
    if !nanos.is_finite() || nanos < 0.0 || nanos > u64::MAX as f64 {
        return Err(format!("{text:?} is not a duration a span can have"));
    }
    Ok(nanos.round() as u64)
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
pub fn unix_millis_text(nanos: u64) -> String {
    let text = format!("{}.{:06}", nanos / 1_000_000, nanos % 1_000_000);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

pub fn now_unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn order_by_and_having_read_as_written() {
        let query = Query::from_query_string(
            "visualize=COUNT,P99(duration)&group_by=fib.index,name\
             &order_by=p99(duration), fib.index DESC&order_by=count asc&order_by=name\
             &having=P99(duration) > 10ms&having=COUNT>=5%0Amax(duration) != 1.5s",
        )
        .unwrap();
        let orders: Vec<String> = query.order_by.iter().map(Order::to_string).collect();
        assert_eq!(
            orders,
            [
                "P99(duration) desc",
                "fib.index desc",
                "COUNT asc",
                "name asc"
            ]
        );
        let havings: Vec<String> = query.having.iter().map(Having::to_string).collect();
        assert_eq!(
            havings,
            [
                "P99(duration) > 10ms",
                "COUNT >= 5",
                "MAX(duration) != 1500ms"
            ]
        );
        for written in havings.iter().chain(&orders) {
            let again = Having::parse(written).map(|h| h.to_string());
            let again = again.or_else(|_| Order::parse(written).map(|o| o.to_string()));
            assert_eq!(again.as_deref(), Ok(written.as_str()));
        }
        assert_eq!(
            Query::from_query_string(&query.to_query_string()).unwrap(),
            query
        );
    }

    #[test]
    fn order_by_and_having_mistakes_name_the_form() {
        for (query, says) in [
            (
                "visualize=COUNT&group_by=fib.index&order_by=P99(duration) desc",
                "P99(duration) is not visualized: add it to VISUALIZE, or order by a GROUP BY \
                 field (fib.index) or a visualized calculation (COUNT)",
            ),
            (
                "visualize=COUNT&group_by=name&order_by=fib.index",
                "fib.index is not a GROUP BY field: group by it, or order by",
            ),
            (
                "visualize=HEATMAP&order_by=heatmap",
                "a heatmap has no value to order by",
            ),
            ("order_by=P99(fib.index)", "only the duration"),
            ("order_by=fib index", "names have no spaces"),
            ("having=P99(duration)", "compares nothing"),
            ("having=> 10ms", "has no calculation"),
            ("having=P99(duration) >", "no value after >"),
            ("having=P99(duration) > slow", "not a duration"),
            ("having=COUNT > many", "COUNT is compared with a number"),
            ("having=HEATMAP > 3", "not a number to compare"),
            ("having=MEDIAN > 3", "not a calculation"),
            ("select_min=fast", "not a duration"),
            ("select_from=yesterday", "not a time"),
        ] {
            let err = Query::from_query_string(query).unwrap_err();
            assert!(err.contains(says), "{query}: {err}");
        }
    }

    #[test]
    fn a_selection_reads_and_round_trips() {
        let query = Query::from_query_string(
            "visualize=HEATMAP&select_from=1700000000000.5&select_to=1700000001000\
             &select_min=80ms&select_max=",
        )
        .unwrap();
        let selection = query.selection.unwrap();
        assert_eq!(selection.from, Some(1_700_000_000_000_500_000));
        assert_eq!(selection.min, Some(80_000_000));
        assert_eq!(selection.max, None);
        assert!(selection.contains(1_700_000_000_000_500_000, 80_000_000));
        assert!(!selection.contains(1_700_000_000_000_500_000, 79_999_999));
        assert!(!selection.contains(1_700_000_001_000_000_000, 90_000_000));
        assert_eq!(
            Query::from_query_string(&query.to_query_string()).unwrap(),
            query
        );
        assert_eq!(
            Query::from_query_string("select_max=").unwrap().selection,
            None
        );
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
}
