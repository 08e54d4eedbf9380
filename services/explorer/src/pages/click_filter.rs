//! Click to filter: beside each value in a span's details, an `=` button ("show only where field
//! = value") and a `≠` button (field != value), each opening the query page with that filter
//! added to the query the learner came from. So a value noticed in one trace is one click from
//! every span that shares it, or from every span that does not.
//!
//! The trace page carries the query it was reached from as `query=<the query page's query
//! string>`; without one, the filter goes to [`DEFAULT_QUERY`], a count and a heatmap by name.
//!
//! The query is written once on the page, as the hidden fields of one form to `/query`
//! ([`base_fields`]); each button belongs to that form and adds its filter as one more `where`
//! when pressed. A link per value would repeat the whole query each time: some 4 KB per span,
//! 25 MB more for a trace of 6 000 spans.

use std::collections::HashMap;
use std::sync::Arc;

use crate::query::{Field, Filter, Query, Test};
use crate::span::StoredSpan;

/// The query a filter is added to when the trace page was not reached from one.
pub(super) const DEFAULT_QUERY: &str = "visualize=COUNT&visualize=HEATMAP(duration)&group_by=name";

/// The two filters of one value, as written (`url.query = index=25`, `url.query != index=25`):
/// what its `=` and `≠` buttons add to the query.
pub(super) struct FilterButtons {
    pub equals: String,
    pub not_equals: String,
}

/// The query the buttons add to, as the hidden fields of their form: name and value pairs.
pub(super) fn base_fields(base: &Query) -> Vec<(String, String)> {
    form_urlencoded::parse(base.to_query_string().as_bytes())
        .into_owned()
        .collect()
}

/// The query the filters are added to: `query=` as given, else [`DEFAULT_QUERY`]; and, when the
/// given one does not read, why (the buttons then start from the default).
pub(super) fn base_query(given: Option<&str>) -> (Query, Option<String>) {
    let default = || Query::from_query_string(DEFAULT_QUERY).expect("the default query reads");
    match given.map(Query::from_query_string) {
        None => (default(), None),
        Some(Ok(query)) => (query, None),
        Some(Err(err)) => (default(), Some(err)),
    }
}

/// Makes the buttons' filters of a page's values, each distinct field and value once: a trace's
/// spans repeat their kinds, services, resources and most attribute values, and the trace of a
/// request for index 20 has some 65 000 spans.
pub(super) struct Linker {
    base: Query,
    made: HashMap<(String, String), Option<Arc<FilterButtons>>>,
}

impl Linker {
    /// Filters to be added to `base`.
    pub(super) fn new(base: Query) -> Linker {
        Linker {
            base,
            made: HashMap::new(),
        }
    }

    /// The filters on `field` being (or not being) `value`, the value `span` shows, for its
    /// buttons; none where a filter could not say it:
    /// - the field's value in a query is not the value shown (an attribute named like a field of
    ///   the span itself, `name` or `duration`; a resource attribute that a span attribute of
    ///   the same key hides);
    /// - the filter would read back as another (a value that spans lines, since the query page's
    ///   box takes one filter per line; an empty one; one in quotes or with spaces at its ends).
    pub(super) fn links(
        &mut self,
        field: &Field,
        value: &str,
        span: &StoredSpan,
    ) -> Option<Arc<FilterButtons>> {
        if value.contains(['\n', '\r']) || field.value_text(span).as_deref() != Some(value) {
            return None;
        }
        let base = &self.base;
        self.made
            .entry((field.to_string(), value.to_string()))
            .or_insert_with(|| make(base, field, value).map(Arc::new))
            .clone()
    }
}

fn make(base: &Query, field: &Field, value: &str) -> Option<FilterButtons> {
    let link = |test: Test| {
        let filter = Filter {
            field: field.clone(),
            test,
        };
        let text = filter.to_string();
        if Filter::parse(&text).ok()? != filter {
            return None;
        }
        // The query with it must read too (it does, unless the base is at a limit).
        let mut query = base.clone();
        query.filters.push(filter);
        Query::from_query_string(&query.to_query_string()).ok()?;
        Some(text)
    };
    Some(FilterButtons {
        equals: link(Test::Equals(value.to_string()))?,
        not_equals: link(Test::NotEquals(value.to_string()))?,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use receiver::{SpanKind, StatusCode};

    use super::*;
    use crate::span::{Origin, Val};

    fn span(attributes: Vec<(&str, Val)>) -> StoredSpan {
        StoredSpan {
            trace_id: [1; 16],
            span_id: [2; 8],
            parent_span_id: None,
            name: "GET /fib".into(),
            kind: SpanKind::Server,
            status: StatusCode::Unset,
            status_message: None,
            start_unix_nano: 1,
            end_unix_nano: 2,
            attributes: attributes
                .into_iter()
                .map(|(key, value)| (key.into(), value))
                .collect::<Vec<_>>()
                .into(),
            events: Box::new([]),
            links: Box::new([]),
            origin: Arc::new(Origin {
                resource: vec![("service.name".into(), Val::Str("fib".into()))].into(),
                service_name: "fib".into(),
                scope_name: "".into(),
                scope_version: "".into(),
                learner: None,
            }),
        }
    }

    /// The query a button asks for, as a browser sends its form: the base's fields, then the
    /// button's `where`.
    fn pressed(base: &Query, filter: &str) -> Query {
        let mut fields = base_fields(base);
        fields.push(("where".into(), filter.into()));
        Query::from_pairs(fields).unwrap()
    }

    fn filters(query: &Query) -> Vec<String> {
        query.filters.iter().map(Filter::to_string).collect()
    }

    #[test]
    fn a_filter_is_added_to_the_query_the_learner_came_from() {
        let span = span(vec![("url.query", Val::Str("index=25".into()))]);
        let (base, error) = base_query(Some("visualize=P99(duration)&where=is_root&group_by=kind"));
        assert_eq!(error, None);
        let field = Field::parse("url.query").unwrap();
        let links = Linker::new(base.clone())
            .links(&field, "index=25", &span)
            .unwrap();
        let equals = pressed(&base, &links.equals);
        assert_eq!(filters(&equals), ["is_root", "url.query = index=25"]);
        assert_eq!(
            filters(&pressed(&base, &links.not_equals)),
            ["is_root", "url.query != index=25"]
        );
        assert_eq!(equals.group_by, [Field::parse("kind").unwrap()]);
        assert_eq!(equals.visualize, base.visualize);
        // Without a query, or with one that does not read: the default, and why.
        let (base, error) = base_query(None);
        assert_eq!(
            (base.to_query_string(), error),
            (
                Query::from_query_string(DEFAULT_QUERY)
                    .unwrap()
                    .to_query_string(),
                None
            )
        );
        let (_, error) = base_query(Some("visualize=MEDIAN"));
        assert!(error.unwrap().contains("not a calculation"));
    }

    #[test]
    fn values_a_filter_cannot_say_get_no_links() {
        let span = span(vec![
            ("note", Val::Str("two\nlines".into())),
            ("empty", Val::Str("".into())),
            ("quoted", Val::Str("\"x\"".into())),
            ("name", Val::Str("not the span's name".into())),
            ("fib.index", Val::Int(25)),
        ]);
        let mut linker = Linker::new(base_query(None).0);
        let mut links = |key: &str, value: &str| {
            linker
                .links(&Field::parse(key).unwrap(), value, &span)
                .is_some()
        };
        assert!(!links("note", "two\nlines"));
        assert!(!links("empty", ""));
        assert!(!links("quoted", "\"x\""));
        assert!(!links("name", "not the span's name"));
        assert!(links("name", "GET /fib"));
        assert!(links("fib.index", "25"));
        assert!(links("service.name", "fib"));
        assert!(links("kind", "server"));
    }
}
