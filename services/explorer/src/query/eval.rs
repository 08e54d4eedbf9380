//! A query run over the window, in one pass: each span's value for a field, the filters' tests,
//! the groups and their calculations, and the trace list's selection.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::time::Instant;

use rustc_hash::FxBuildHasher;

use super::compare::Sides;
use super::language::{Calc, Field, Filter, Having, Order, OrderKey, Query, Test};
use super::parse::parse_duration;
use super::result::{Key, QueryResult, Row, heatmap};
use crate::span::{StoredSpan, Val, hex, kind_name, millis, status_name};
use crate::window::{TraceSummary, Window, summary};

impl Field {
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

    /// The span's value for this field as text, if it has one: what the trace page's columns
    /// show. A duration in milliseconds with its unit, as a filter reads it back.
    pub fn value_text(&self, span: &StoredSpan) -> Option<String> {
        Some(match self.get(span)? {
            Got::Text(text) => text.to_string(),
            Got::Owned(text) => text,
            Got::Val(value) => value.to_string(),
            Got::Nanos(nanos) => format!("{}ms", millis(nanos)),
            Got::Bool(value) => value.to_string(),
        })
    }
}

/// A span's value for a field, borrowed where it can be.
enum Got<'a> {
    Text(&'a str),
    Owned(String),
    Val(&'a Val),
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

impl Filter {
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
            (Test::Compare(comparison, wanted), Some(value)) => value
                .number()
                .is_some_and(|number| comparison.holds(number, *wanted)),
            (Test::TraceIs(_), Some(_)) => unreachable!("handled above"),
        }
    }
}

impl Query {
    /// Whether a span falls in the time range and passes every filter.
    pub fn selects(&self, span: &StoredSpan) -> bool {
        self.from.is_none_or(|from| span.start_unix_nano >= from)
            && self.to.is_none_or(|to| span.start_unix_nano < to)
            && self.filters.iter().all(|filter| filter.matches(span))
    }

    /// Runs the query over the window, in one pass: each selected span into its group (and
    /// the heatmap, and the selection's side); then each group's calculations, the groups that
    /// meet HAVING, in the ORDER BY order, up to the limit.
    pub fn run(&self, window: &Window) -> QueryResult {
        let started = Instant::now();
        let needs_durations = self
            .visualize
            .iter()
            .chain(self.having.iter().map(|having| &having.calc))
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
        // The heatmap's points, and each point's group.
        let mut points: Vec<(u64, u64)> = Vec::new();
        let mut point_groups: Vec<u32> = Vec::new();
        let mut sides = self.selection.map(|_| Sides::default());
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
                point_groups.push(place as u32);
            }
            if let (Some(sides), Some(selection)) = (&mut sides, &self.selection) {
                if selection.contains(span.start_unix_nano, duration) {
                    sides.inside.push(span);
                } else {
                    sides.outside.push(span);
                }
            }
        }

        // Every group's calculations, since HAVING and ORDER BY may need any group's; then the
        // groups that meet HAVING.
        let mut rows: Vec<(usize, Row)> = groups
            .into_iter()
            .enumerate()
            .filter_map(|(place, (group, mut data))| {
                let meets = self.having.iter().all(|having| {
                    calculate(having.calc, &mut data)
                        .is_some_and(|value| having.comparison.holds(value, having.value))
                });
                meets.then(|| {
                    let row = Row {
                        values: self
                            .visualize
                            .iter()
                            .map(|calc| calculate(*calc, &mut data))
                            .collect(),
                        count: data.count,
                        example_trace: data.slowest.map(|(_, id)| hex(&id)),
                        group,
                        heatmap_cells: Vec::new(),
                    };
                    (place, row)
                })
            })
            .collect();
        rows.sort_by(|(_, a), (_, b)| self.order(a, b));
        let more_rows = rows.len().saturating_sub(self.limit);
        rows.truncate(self.limit);

        let heatmap = needs_heatmap.then(|| heatmap(&points));
        // Each row's own cells of the heatmap, so that the page can light a group up in it.
        if let Some(heatmap) = heatmap.as_ref().filter(|_| !self.group_by.is_empty()) {
            let mut row_of_place = vec![u32::MAX; places.len()];
            for (row, (place, _)) in rows.iter().enumerate() {
                row_of_place[*place] = row as u32;
            }
            let mut cells: Vec<HashMap<(u16, u16), u64, FxBuildHasher>> =
                (0..rows.len()).map(|_| HashMap::default()).collect();
            for (&(start, duration), &place) in points.iter().zip(&point_groups) {
                if let Some(cells) = cells.get_mut(row_of_place[place as usize] as usize) {
                    let (r, c) = heatmap.cell_of(start, duration);
                    *cells.entry((r as u16, c as u16)).or_default() += 1;
                }
            }
            for ((_, row), cells) in rows.iter_mut().zip(cells) {
                row.heatmap_cells = cells
                    .into_iter()
                    .map(|((r, c), count)| [u64::from(r), u64::from(c), count])
                    .collect();
                row.heatmap_cells.sort_unstable();
            }
        }
        let selection = sides.map(|sides| sides.compare(window));
        QueryResult {
            visualize: self.visualize.iter().map(Calc::to_string).collect(),
            group_by: self.group_by.iter().map(Field::to_string).collect(),
            order_by: self.order_by.iter().map(Order::to_string).collect(),
            having: self.having.iter().map(Having::to_string).collect(),
            rows: rows.into_iter().map(|(_, row)| row).collect(),
            more_rows,
            heatmap,
            selection,
            matched,
            scanned: window.len(),
            took_ms: started.elapsed().as_secs_f64() * 1e3,
        }
    }

    /// The order of two rows: by each ORDER BY key in turn, then by their GROUP BY values. A
    /// group with no value for a key (nothing to compute, or no such field) comes last, whichever
    /// the direction.
    fn order(&self, a: &Row, b: &Row) -> Ordering {
        for order in &self.order_by {
            let (missing, ordering) = match &order.by {
                OrderKey::Field(field) => {
                    let Some(at) = self.group_by.iter().position(|f| f == field) else {
                        continue;
                    };
                    let (x, y) = (&a.group[at], &b.group[at]);
                    ((*x == Key::Missing, *y == Key::Missing), x.cmp(y))
                }
                OrderKey::Calc(calc) => {
                    let Some(at) = self.visualize.iter().position(|c| c == calc) else {
                        continue;
                    };
                    let (x, y) = (a.values[at], b.values[at]);
                    let ordering = x.zip(y).map_or(Ordering::Equal, |(x, y)| x.total_cmp(&y));
                    ((x.is_none(), y.is_none()), ordering)
                }
            };
            let ordering = match missing {
                (false, true) => Ordering::Less,
                (true, false) => Ordering::Greater,
                _ if order.descending => ordering.reverse(),
                _ => ordering,
            };
            if ordering.is_ne() {
                return ordering;
            }
        }
        a.group
            .iter()
            .zip(&b.group)
            .map(|(a, b)| a.cmp(b))
            .find(|order| order.is_ne())
            .unwrap_or(Ordering::Equal)
    }
}

#[derive(Default)]
struct Group {
    count: u64,
    durations: Vec<u64>,
    slowest: Option<(u64, [u8; 16])>,
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

/// The newest traces with at least one span the query selects, newest first: the newest of each
/// learner's share (at most `limit` from each), then the newest of those.
pub fn traces(window: &Window, query: &Query, limit: usize) -> Vec<TraceSummary> {
    let mut candidates: Vec<(u64, [u8; 16])> = Vec::new();
    for share in window.newest_by_share() {
        let mut seen = std::collections::HashSet::new();
        for (arrival, span) in share {
            if seen.len() >= limit {
                break;
            }
            if seen.contains(&span.trace_id) || !query.selects(span) {
                continue;
            }
            seen.insert(span.trace_id);
            candidates.push((arrival, span.trace_id));
        }
    }
    candidates.sort_unstable_by_key(|&(arrival, _)| std::cmp::Reverse(arrival));
    let mut seen = std::collections::HashSet::new();
    candidates
        .into_iter()
        .filter(|(_, id)| seen.insert(*id))
        .take(limit)
        .map(|(_, id)| summary(&id, &window.trace(&id)))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use receiver::{SpanKind, StatusCode};

    use super::*;
    use crate::query::HEATMAP_COLUMNS;
    use crate::span::{Origin, StoredSpan, Val};
    use crate::window::{Limits, Window};

    /// A window of `fib` spans: index `i` for `i` in `indexes` (`fib.index`, and `url.query` as
    /// `index=i`), lasting `10 × (i + 1)` ms.
    fn window(indexes: &[i64]) -> Window {
        let origin = Arc::new(Origin {
            resource: vec![("service.name".into(), Val::Str("fib".into()))].into(),
            service_name: "fib".into(),
            scope_name: "test".into(),
            scope_version: "".into(),
            learner: None,
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
                    attributes: vec![
                        ("fib.index".into(), Val::Int(index)),
                        (
                            "url.query".into(),
                            Val::Str(format!("index={index}").into()),
                        ),
                    ]
                    .into(),
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
    fn groups_of_text_with_numbers_sort_by_the_numbers() {
        let window = window(&[10, 9, 2, 11, 1, 10]);
        let groups: Vec<String> = run("group_by=url.query", &window)
            .rows
            .iter()
            .map(|row| row.group[0].to_string())
            .collect();
        assert_eq!(
            groups,
            ["index=1", "index=2", "index=9", "index=10", "index=11"]
        );
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

    fn groups_and_values(result: &QueryResult) -> Vec<(String, Vec<Option<f64>>)> {
        result
            .rows
            .iter()
            .map(|row| (row.group[0].to_string(), row.values.clone()))
            .collect()
    }

    #[test]
    fn having_keeps_groups_and_order_by_sorts_them() {
        // Index i lasts 10 × (i + 1) ms; index 2 four times, 3 once, 1 once, 5 twice.
        let window = window(&[2, 2, 3, 2, 1, 2, 5, 5]);
        let result = run(
            "visualize=COUNT,P99(duration)&group_by=fib.index\
             &order_by=P99(duration) desc&having=P99(duration) > 25ms",
            &window,
        );
        assert_eq!(
            groups_and_values(&result),
            [
                ("5".to_string(), vec![Some(2.0), Some(60.0)]),
                ("3".to_string(), vec![Some(1.0), Some(40.0)]),
                ("2".to_string(), vec![Some(4.0), Some(30.0)]),
            ]
        );
        // Ties on the first key fall to the next, then to the group's value; the limit comes last.
        let result = run(
            "visualize=COUNT&group_by=fib.index&order_by=COUNT desc, fib.index desc&limit=3",
            &window,
        );
        let groups: Vec<String> = groups_and_values(&result)
            .into_iter()
            .map(|g| g.0)
            .collect();
        assert_eq!(groups, ["2", "5", "3"]);
        assert_eq!(result.more_rows, 1);
        // A HAVING calculation need not be visualized; `=` compares numbers.
        let result = run(
            "group_by=fib.index&having=COUNT = 1&having=MAX(duration) < 30ms",
            &window,
        );
        let groups: Vec<String> = groups_and_values(&result)
            .into_iter()
            .map(|g| g.0)
            .collect();
        assert_eq!(groups, ["1"]);
        assert_eq!(result.having, ["COUNT = 1", "MAX(duration) < 30ms"]);
        // No group meets it: no rows, and none left out.
        let result = run("group_by=fib.index&having=COUNT > 100", &window);
        assert!(result.rows.is_empty());
        assert_eq!(result.more_rows, 0);
    }

    #[test]
    fn each_group_knows_its_cells_of_the_heatmap() {
        let indexes: Vec<i64> = (0..120).map(|i| i % 4).collect();
        let window = window(&indexes);
        let result = run("visualize=HEATMAP,COUNT&group_by=fib.index", &window);
        let heatmap = result.heatmap.as_ref().unwrap();
        let mut summed = vec![vec![0u64; heatmap.columns.len()]; heatmap.rows.len()];
        for row in &result.rows {
            let own: u64 = row.heatmap_cells.iter().map(|cell| cell[2]).sum();
            assert_eq!(own, row.count, "{:?}", row.group);
            for &[r, c, count] in &row.heatmap_cells {
                summed[r as usize][c as usize] += count;
                // A group's spans all last alike here: one row of the heatmap each.
                let duration = 10_000_000 * (row.group[0].to_string().parse::<u64>().unwrap() + 1);
                let bucket = heatmap.rows[r as usize];
                assert!(bucket.from <= duration && duration < bucket.to);
            }
        }
        assert_eq!(summed, heatmap.counts);
        // Without GROUP BY there is nothing to light up.
        let result = run("visualize=HEATMAP", &window);
        assert!(result.rows[0].heatmap_cells.is_empty());
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
