//! Click to filter: beside each value in a span's details, an `=` link ("show only where field =
//! value") and a `≠` link (field != value), each to the query page with that filter added to the
//! query the learner came from. So a value noticed in one trace is one click from every span
//! that shares it, or from every span that does not.
//!
//! The trace page carries the query it was reached from as `query=<the query page's query
//! string>`; without one, the filter goes to [`DEFAULT_QUERY`], a count and a heatmap by name.

use std::collections::HashMap;
use std::sync::Arc;

use crate::query::{Field, Filter, Query, Test};
use crate::span::StoredSpan;

/// The query a filter is added to when the trace page was not reached from one.
pub(super) const DEFAULT_QUERY: &str = "visualize=COUNT&visualize=HEATMAP(duration)&group_by=name";

/// The two links of one value.
pub(super) struct FilterLinks {
    /// The field as a filter writes it (`service.name`, `url.query`), and the value: the links'
    /// titles say them.
    pub field: String,
    pub value: String,
    pub equals: String,
    pub not_equals: String,
}

/// The query the filters are added to: `query=` as given, else [`DEFAULT_QUERY`]; and, when the
/// given one does not read, why (the links then start from the default).
pub(super) fn base_query(given: Option<&str>) -> (Query, Option<String>) {
    let default = || Query::from_query_string(DEFAULT_QUERY).expect("the default query reads");
    match given.map(Query::from_query_string) {
        None => (default(), None),
        Some(Ok(query)) => (query, None),
        Some(Err(err)) => (default(), Some(err)),
    }
}

/// Makes the links of a page's values, each distinct field and value once: a trace's spans repeat
/// their kinds, services, resources and most attribute values, and the trace of a request for
/// index 20 has some 65 000 spans.
pub(super) struct Linker {
    base: Query,
    made: HashMap<(String, String), Option<Arc<FilterLinks>>>,
}

impl Linker {
    /// Links that add their filter to `base`.
    pub(super) fn new(base: Query) -> Linker {
        Linker {
            base,
            made: HashMap::new(),
        }
    }

    /// The links that filter on `field` being (or not being) `value`, the value `span` shows;
    /// none where a filter could not say it:
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
    ) -> Option<Arc<FilterLinks>> {
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

fn make(base: &Query, field: &Field, value: &str) -> Option<FilterLinks> {
    let link = |test: Test| {
        let filter = Filter {
            field: field.clone(),
            test,
        };
        if Filter::parse(&filter.to_string()).ok()? != filter {
            return None;
        }
        let mut query = base.clone();
        query.filters.push(filter);
        Some(format!("/query?{}", query.to_query_string()))
    };
    Some(FilterLinks {
        field: field.to_string(),
        value: value.to_string(),
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

    /// The filters of a link, as the query page reads them.
    fn filters(link: &str) -> Vec<String> {
        let query = Query::from_query_string(link.strip_prefix("/query?").unwrap()).unwrap();
        query.filters.iter().map(Filter::to_string).collect()
    }

    #[test]
    fn a_filter_is_added_to_the_query_the_learner_came_from() {
        let span = span(vec![("url.query", Val::Str("index=25".into()))]);
        let (base, error) = base_query(Some("visualize=P99(duration)&where=is_root&group_by=kind"));
        assert_eq!(error, None);
        let field = Field::parse("url.query").unwrap();
        let links = Linker::new(base).links(&field, "index=25", &span).unwrap();
        assert_eq!(filters(&links.equals), ["is_root", "url.query = index=25"]);
        assert_eq!(
            filters(&links.not_equals),
            ["is_root", "url.query != index=25"]
        );
        assert!(links.equals.contains("group_by=kind"), "{}", links.equals);
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
