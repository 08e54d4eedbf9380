//! Search: the spans that contain a phrase anywhere, for the learner who remembers a value
//! (`index=25`, an error's message, a trace id copied from a log line) but not where it was.
//!
//! A span matches when the phrase is in its name, kind, status or status message, its
//! `service.name`, its trace id, span id or parent span id (in lower-case hex, as the pages show
//! them), any attribute's key or value, any event's name or attribute, any resource attribute,
//! or its scope's name; ignoring case. Each match says which field matched, with its value, named
//! as the learner would write it: `url.query`, `name`, `trace.id`, `event computed: fib.result`,
//! `resource service.name`. The fields are tried in that order and the first match is the one
//! shown.
//!
//! A search looks at every span of the window, so the test of one span allocates nothing: ASCII
//! case folding on the bytes where they are (a phrase with other letters takes a slower path),
//! numbers written into a buffer on the stack, and each resource tried once per batch of spans
//! that share it rather than once per span. Over a million spans shaped like the workshop's it
//! takes a few tens of milliseconds (services/bench/benches/explorer.rs).

use std::cmp::Reverse;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

use crate::span::{Origin, StoredSpan, Val, hex, kind_name, millis, status_name};
use crate::window::Window;

/// What a learner searches for: the text as typed (trimmed), and how to look for it.
#[derive(Clone, Debug)]
pub struct Phrase {
    text: String,
    /// The text in lower case: what the fields are compared with, each folded as it is read.
    lower: String,
    /// Whether `lower` is ASCII: then the fields' bytes are compared as they are, folded by
    /// byte. Otherwise a field is lowered whole (allocating) before it is compared.
    ascii: bool,
    /// Whether it can be part of a span's id in hex (only hex digits, at most 32): otherwise the
    /// ids are not even written out.
    hex: bool,
    /// Whether it can be part of a number as written (`-12`, `2.5`, `NaN`, `inf`): otherwise
    /// numeric attributes are not written out either.
    numeric: bool,
}

impl Phrase {
    /// The phrase to look for; an empty one (or only spaces) is refused, since every span would
    /// match it.
    pub fn new(text: &str) -> Result<Phrase, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err(
                "search for what? Type a word or a value that is in the spans you want: \
                 a name (fib), a value (index=25), an error's message, a trace id"
                    .into(),
            );
        }
        let lower = text.to_lowercase();
        Ok(Phrase {
            ascii: lower.is_ascii(),
            hex: lower.len() <= 32 && lower.bytes().all(|b| b.is_ascii_hexdigit()),
            numeric: lower.bytes().all(|b| b"0123456789-.infa".contains(&b)),
            text: text.to_string(),
            lower,
        })
    }

    /// As typed, trimmed.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether `text` contains the phrase, ignoring case.
    pub fn is_in(&self, text: &str) -> bool {
        if self.ascii {
            contains_folded(text.as_bytes(), self.lower.as_bytes())
        } else {
            // Lower case of ASCII text is ASCII, and cannot hold the phrase's other letters.
            !text.is_ascii() && text.to_lowercase().contains(&self.lower)
        }
    }

    /// Where the phrase is in `text`, ignoring case: the byte range of its first occurrence, for
    /// a page to mark.
    pub fn find_in(&self, text: &str) -> Option<(usize, usize)> {
        if self.ascii {
            let (hay, needle) = (text.as_bytes(), self.lower.as_bytes());
            // An ASCII phrase starts and ends on ASCII bytes: the range is on char boundaries.
            return (0..=hay.len().checked_sub(needle.len())?)
                .find(|&at| hay[at..at + needle.len()].eq_ignore_ascii_case(needle))
                .map(|at| (at, at + needle.len()));
        }
        // Lowering may change a letter's length in bytes, so the text is walked a char at a time
        // from each start, lowering as it goes.
        text.char_indices().find_map(|(start, _)| {
            let mut wanted = self.lower.chars().peekable();
            for (at, c) in text[start..].char_indices() {
                for lowered in c.to_lowercase() {
                    if wanted.next() != Some(lowered) {
                        return None;
                    }
                }
                if wanted.peek().is_none() {
                    return Some((start, start + at + c.len_utf8()));
                }
            }
            None
        })
    }

    /// `text` cut around the phrase's first occurrence, for a page to mark it; all of it in
    /// `before` if the phrase is not in it.
    pub fn mark(&self, text: &str) -> Marked {
        match self.find_in(text) {
            Some((start, end)) => Marked {
                before: text[..start].to_string(),
                matched: text[start..end].to_string(),
                after: text[end..].to_string(),
            },
            None => Marked {
                before: text.to_string(),
                matched: String::new(),
                after: String::new(),
            },
        }
    }

    fn is_in_value(&self, value: &Val) -> bool {
        match value {
            Val::Str(text) => self.is_in(text),
            Val::Int(number) if self.numeric => {
                contains_folded(int_text(*number, &mut [0; 20]), self.lower.as_bytes())
            }
            Val::Double(number) if self.numeric => {
                // Rare in spans, and then written out by the standard library (a double's
                // shortest text is not a few lines' work).
                let mut text = String::new();
                let _ = write!(text, "{number}");
                self.is_in(&text)
            }
            Val::Bool(value) => self.is_in(if *value { "true" } else { "false" }),
            Val::Int(_) | Val::Double(_) => false,
        }
    }

    fn is_in_id(&self, id: &[u8]) -> bool {
        let mut text = [0u8; 32];
        contains_folded(hex_into(id, &mut text), self.lower.as_bytes())
    }
}

/// A text cut in three around what is marked in it, for a page (askama escapes each part).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Marked {
    pub before: String,
    pub matched: String,
    pub after: String,
}

/// Whether `hay` contains `needle` (lower case ASCII), folding `hay`'s ASCII letters as it goes.
fn contains_folded(hay: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    let Some(last_start) = hay.len().checked_sub(needle.len()) else {
        return false;
    };
    let upper = first.to_ascii_uppercase();
    // Candidates by their first byte, then the rest compared: most fields fail on the first.
    (0..=last_start).any(|at| {
        let byte = hay[at];
        (byte == first || byte == upper)
            && hay[at + 1..at + needle.len()].eq_ignore_ascii_case(rest)
    })
}

/// An integer in decimal, written into `buffer` (20 bytes hold any `i64`).
fn int_text(number: i64, buffer: &mut [u8; 20]) -> &[u8] {
    let mut at = buffer.len();
    let mut left = number.unsigned_abs();
    loop {
        at -= 1;
        buffer[at] = b'0' + (left % 10) as u8;
        left /= 10;
        if left == 0 {
            break;
        }
    }
    if number < 0 {
        at -= 1;
        buffer[at] = b'-';
    }
    &buffer[at..]
}

/// An id in lower-case hex, as [`hex`] writes it, into `buffer` (up to 16 bytes of id).
fn hex_into<'b>(id: &[u8], buffer: &'b mut [u8; 32]) -> &'b [u8] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in id.iter().enumerate() {
        buffer[2 * i] = DIGITS[usize::from(byte >> 4)];
        buffer[2 * i + 1] = DIGITS[usize::from(byte & 0xf)];
    }
    &buffer[..2 * id.len()]
}

/// Where in a span the phrase was found: the first field that holds it, in the order the fields
/// are tried.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Place<'a> {
    Name,
    Kind,
    Status,
    StatusMessage,
    Service,
    TraceId,
    SpanId,
    ParentSpanId,
    /// A span attribute's key or value.
    Attribute(&'a str, &'a Val),
    /// An event's name.
    Event(&'a str),
    /// An event's attribute: the event's name, the key and the value.
    EventAttribute(&'a str, &'a str, &'a Val),
    /// A resource attribute's key or value.
    Resource(&'a str, &'a Val),
    Scope,
}

impl Place<'_> {
    /// The field, as the learner would name it (in a query where it can be one).
    pub fn field(&self) -> String {
        match self {
            Place::Name => "name".into(),
            Place::Kind => "kind".into(),
            Place::Status => "status".into(),
            Place::StatusMessage => "status.message".into(),
            Place::Service => "service.name".into(),
            Place::TraceId => "trace.id".into(),
            Place::SpanId => "span.id".into(),
            Place::ParentSpanId => "parent.span.id".into(),
            Place::Attribute(key, _) => key.to_string(),
            Place::Event(_) => "event".into(),
            Place::EventAttribute(event, key, _) => format!("event {event}: {key}"),
            Place::Resource(key, _) => format!("resource {key}"),
            Place::Scope => "scope".into(),
        }
    }

    /// The field's value in `span` (the span the place was found in), as text.
    pub fn value(&self, span: &StoredSpan) -> String {
        match self {
            Place::Name => span.name.to_string(),
            Place::Kind => kind_name(span.kind).into(),
            Place::Status => status_name(span.status).into(),
            Place::StatusMessage => span.status_message.as_deref().unwrap_or("").into(),
            Place::Service => span.origin.service_name.to_string(),
            Place::TraceId => hex(&span.trace_id),
            Place::SpanId => hex(&span.span_id),
            Place::ParentSpanId => span.parent_span_id.map(|id| hex(&id)).unwrap_or_default(),
            Place::Attribute(_, value)
            | Place::EventAttribute(_, _, value)
            | Place::Resource(_, value) => value.to_string(),
            Place::Event(name) => name.to_string(),
            Place::Scope => span.origin.scope_name.to_string(),
        }
    }
}

/// Where in an origin (a batch's resource and scope) the phrase was found.
#[derive(Clone, Copy)]
enum InOrigin {
    Service,
    /// The resource attribute at this index.
    Resource(usize),
    Scope,
}

/// Looks for one phrase in span after span. It remembers the last origin it tried, since the
/// spans of a batch share one (and the window keeps a batch's spans together).
pub struct Finder<'p> {
    phrase: &'p Phrase,
    last_origin: Option<(*const Origin, Option<InOrigin>)>,
}

impl<'p> Finder<'p> {
    pub fn new(phrase: &'p Phrase) -> Finder<'p> {
        Finder {
            phrase,
            last_origin: None,
        }
    }

    /// The first field of `span` that holds the phrase, if any.
    pub fn find<'a>(&mut self, span: &'a StoredSpan) -> Option<Place<'a>> {
        let phrase = self.phrase;
        if phrase.is_in(&span.name) {
            return Some(Place::Name);
        }
        if phrase.is_in(kind_name(span.kind)) {
            return Some(Place::Kind);
        }
        if phrase.is_in(status_name(span.status)) {
            return Some(Place::Status);
        }
        if span
            .status_message
            .as_deref()
            .is_some_and(|message| phrase.is_in(message))
        {
            return Some(Place::StatusMessage);
        }
        let in_origin = self.in_origin(&span.origin);
        if let Some(InOrigin::Service) = in_origin {
            return Some(Place::Service);
        }
        if phrase.hex {
            if phrase.is_in_id(&span.trace_id) {
                return Some(Place::TraceId);
            }
            if phrase.is_in_id(&span.span_id) {
                return Some(Place::SpanId);
            }
            if span.parent_span_id.is_some_and(|id| phrase.is_in_id(&id)) {
                return Some(Place::ParentSpanId);
            }
        }
        for (key, value) in span.attributes.iter() {
            if phrase.is_in(key) || phrase.is_in_value(value) {
                return Some(Place::Attribute(key, value));
            }
        }
        for event in span.events.iter() {
            if phrase.is_in(&event.name) {
                return Some(Place::Event(&event.name));
            }
            for (key, value) in event.attributes.iter() {
                if phrase.is_in(key) || phrase.is_in_value(value) {
                    return Some(Place::EventAttribute(&event.name, key, value));
                }
            }
        }
        match in_origin? {
            InOrigin::Resource(index) => {
                let (key, value) = &span.origin.resource[index];
                Some(Place::Resource(key, value))
            }
            InOrigin::Scope => Some(Place::Scope),
            InOrigin::Service => unreachable!("returned above"),
        }
    }

    /// Where the origin holds the phrase: tried once for each run of spans that share it.
    fn in_origin(&mut self, origin: &Arc<Origin>) -> Option<InOrigin> {
        // The pointer is only compared, while the window's lock keeps every origin alive: the
        // same pointer is the same origin.
        let pointer = Arc::as_ptr(origin);
        if let Some((last, found)) = self.last_origin
            && last == pointer
        {
            return found;
        }
        let phrase = self.phrase;
        let found = if phrase.is_in(&origin.service_name) {
            Some(InOrigin::Service)
        } else if let Some(index) = origin
            .resource
            .iter()
            .position(|(key, value)| phrase.is_in(key) || phrase.is_in_value(value))
        {
            Some(InOrigin::Resource(index))
        } else if phrase.is_in(&origin.scope_name) {
            Some(InOrigin::Scope)
        } else {
            None
        };
        self.last_origin = Some((pointer, found));
        found
    }
}

/// What a search found: how many spans matched in all, and the newest of them.
#[derive(Clone, Debug, Serialize)]
pub struct SearchResult {
    /// As typed, trimmed.
    pub phrase: String,
    /// Spans that contain the phrase, and spans looked at.
    pub matched: usize,
    pub scanned: usize,
    pub took_ms: f64,
    /// The newest `limit` of the matching spans, newest first.
    pub matches: Vec<SpanMatch>,
}

/// One span that contains the phrase: which it is, and where the phrase is in it.
#[derive(Clone, Debug, Serialize)]
pub struct SpanMatch {
    pub trace_id: String,
    pub span_id: String,
    pub name: String,
    pub service: String,
    pub start_unix_nano: u64,
    pub duration_ms: f64,
    /// The field that holds the phrase (`url.query`, `event computed: fib.result`), and its
    /// value.
    pub field: String,
    pub value: String,
}

/// Looks for `phrase` in every span of the window: counts the spans that contain it, and keeps
/// the newest `limit` of them (at most `limit` of each learner's share, then the newest of
/// those). An empty phrase is refused with a message that says what to type.
pub fn search(window: &Window, phrase: &str, limit: usize) -> Result<SearchResult, String> {
    let started = Instant::now();
    let phrase = Phrase::new(phrase)?;
    let mut finder = Finder::new(&phrase);
    let mut matched = 0;
    let mut newest: Vec<(u64, &StoredSpan)> = Vec::new();
    for share in window.newest_by_share() {
        let mut kept = 0;
        for (arrival, span) in share {
            if finder.find(span).is_none() {
                continue;
            }
            matched += 1;
            if kept < limit {
                kept += 1;
                newest.push((arrival, span));
            }
        }
    }
    newest.sort_unstable_by_key(|&(arrival, _)| Reverse(arrival));
    newest.truncate(limit);
    let matches = newest
        .into_iter()
        .filter_map(|(_, span)| {
            let place = finder.find(span)?;
            Some(SpanMatch {
                trace_id: hex(&span.trace_id),
                span_id: hex(&span.span_id),
                name: span.name.to_string(),
                service: span.origin.service_name.to_string(),
                start_unix_nano: span.start_unix_nano,
                duration_ms: millis(span.duration_nanos()),
                field: place.field(),
                value: place.value(span),
            })
        })
        .collect();
    Ok(SearchResult {
        phrase: phrase.text,
        matched,
        scanned: window.len(),
        took_ms: started.elapsed().as_secs_f64() * 1e3,
        matches,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use receiver::{SpanKind, StatusCode};

    use super::*;
    use crate::span::{Origin, SpanEvent};
    use crate::window::Limits;

    fn origin(service: &str, scope: &str) -> Arc<Origin> {
        Arc::new(Origin {
            resource: vec![
                ("service.name".into(), Val::Str(service.into())),
                ("host.name".into(), Val::Str("Laptop-Ada".into())),
            ]
            .into(),
            service_name: service.into(),
            scope_name: scope.into(),
            scope_version: "".into(),
            learner: None,
        })
    }

    /// A `GET /fib` server span of index `index`, with ids made of `id`, a `computed` event and
    /// `fib.index`, `url.query` and `http.response.status_code`.
    fn span(id: u8, index: i64, origin: &Arc<Origin>) -> StoredSpan {
        StoredSpan {
            trace_id: [id; 16],
            span_id: [id; 8],
            parent_span_id: Some([0xab; 8]),
            name: "GET /fib".into(),
            kind: SpanKind::Server,
            status: StatusCode::Unset,
            status_message: None,
            start_unix_nano: 1_000_000 * u64::from(id),
            end_unix_nano: 1_000_000 * u64::from(id) + 2_500_000,
            attributes: vec![
                ("fib.index".into(), Val::Int(index)),
                (
                    "url.query".into(),
                    Val::Str(format!("index={index}").into()),
                ),
                ("http.response.status_code".into(), Val::Int(200)),
            ]
            .into(),
            events: vec![SpanEvent {
                name: "computed".into(),
                time_unix_nano: 1_000_000 * u64::from(id) + 1,
                attributes: vec![("fib.result".into(), Val::Int(-7_654_321))].into(),
            }]
            .into(),
            links: Box::new([]),
            origin: origin.clone(),
        }
    }

    /// Where `phrase` is found in `span`: the field and its value.
    fn found(phrase: &str, span: &StoredSpan) -> Option<(String, String)> {
        let phrase = Phrase::new(phrase).unwrap();
        Finder::new(&phrase)
            .find(span)
            .map(|place| (place.field(), place.value(span)))
    }

    fn pair(field: &str, value: &str) -> Option<(String, String)> {
        Some((field.to_string(), value.to_string()))
    }

    #[test]
    fn each_field_is_found_and_named_as_a_learner_writes_it() {
        let fib = origin("fib", "fib-scope");
        let span = span(0x3c, 25, &fib);
        assert_eq!(found("fib", &span), pair("name", "GET /fib"));
        assert_eq!(found("server", &span), pair("kind", "server"));
        assert_eq!(found("unset", &span), pair("status", "unset"));
        assert_eq!(found("index=25", &span), pair("url.query", "index=25"));
        // A key matches too, with its value shown.
        assert_eq!(found("query", &span), pair("url.query", "index=25"));
        // Numbers are found as they are written.
        assert_eq!(found("25", &span), pair("fib.index", "25"));
        assert_eq!(
            found("200", &span),
            pair("http.response.status_code", "200")
        );
        assert_eq!(found("computed", &span), pair("event", "computed"));
        assert_eq!(
            found("-7654", &span),
            pair("event computed: fib.result", "-7654321")
        );
        assert_eq!(
            found("laptop", &span),
            pair("resource host.name", "Laptop-Ada")
        );
        assert_eq!(found("-SCOPE", &span), pair("scope", "fib-scope"));
        assert_eq!(found("index=26", &span), None);
    }

    #[test]
    fn the_service_name_is_found_before_the_attributes() {
        let span = span(1, 3, &origin("checkout", ""));
        assert_eq!(found("checkout", &span), pair("service.name", "checkout"));
        // And when the resource names it under `service.name`, that is the one field.
        assert_eq!(
            found("service.name", &span),
            pair("resource service.name", "checkout")
        );
    }

    #[test]
    fn case_is_ignored_both_ways() {
        let span = span(1, 3, &origin("fib", ""));
        assert_eq!(found("INDEX=3", &span), pair("url.query", "index=3"));
        assert_eq!(found("get /FIB", &span), pair("name", "GET /fib"));
        assert_eq!(
            found("laptop-ADA", &span),
            pair("resource host.name", "Laptop-Ada")
        );
        // Beyond ASCII: lower case is compared with lower case.
        let mut span = span;
        span.status = StatusCode::Error;
        span.status_message = Some("Überlauf: ZAHL ZU GROß".into());
        assert_eq!(
            found("überlauf", &span),
            pair("status.message", "Überlauf: ZAHL ZU GROß")
        );
        assert_eq!(
            found("groß", &span),
            pair("status.message", "Überlauf: ZAHL ZU GROß")
        );
        assert_eq!(found("ERROR", &span), pair("status", "error"));
    }

    #[test]
    fn ids_are_found_in_lower_case_hex() {
        let span = span(0x3c, 4, &origin("fib", ""));
        let trace_id = hex(&[0x3c; 16]);
        assert_eq!(found(&trace_id, &span), pair("trace.id", &trace_id));
        assert_eq!(
            found(&trace_id.to_uppercase(), &span),
            pair("trace.id", &trace_id)
        );
        // A span id is shorter than a trace id: its 16 digits are in the trace id's 32 here, so
        // the trace id is found first; a span of other ids shows the span id.
        let mut other = span;
        other.trace_id = [0x11; 16];
        assert_eq!(
            found("3c3c3c3c3c3c3c3c", &other),
            pair("span.id", "3c3c3c3c3c3c3c3c")
        );
        assert_eq!(
            found("abababab", &other),
            pair("parent.span.id", "abababababababab")
        );
    }

    #[test]
    fn marks_cut_around_the_first_occurrence() {
        let phrase = Phrase::new("Index=2").unwrap();
        assert_eq!(
            phrase.mark("url index=25"),
            Marked {
                before: "url ".into(),
                matched: "index=2".into(),
                after: "5".into(),
            }
        );
        assert_eq!(phrase.mark("nothing").before, "nothing");
        let phrase = Phrase::new("GROSS ß").unwrap();
        assert_eq!(phrase.find_in("x gross ß!"), Some((2, 10)));
        let phrase = Phrase::new("ü").unwrap();
        assert_eq!(phrase.mark("Über").matched, "Ü");
    }

    #[test]
    fn an_empty_phrase_is_refused() {
        for empty in ["", "   ", "\n\t"] {
            let err = Phrase::new(empty).unwrap_err();
            assert!(err.contains("search for what"), "{err}");
            let window = Window::new(Limits::default());
            assert!(search(&window, empty, 10).is_err());
        }
    }

    #[test]
    fn the_newest_matches_are_kept_and_all_counted() {
        let fib = origin("fib", "");
        let mut window = Window::new(Limits::default());
        // Indexes 0..40: `index=1` is in index=1 and index=10..=19.
        window.push((0..40).map(|i| span(i as u8 + 1, i, &fib)).collect());
        let result = search(&window, "index=1", 5).unwrap();
        assert_eq!((result.matched, result.scanned), (11, 40));
        let values: Vec<&str> = result.matches.iter().map(|m| m.value.as_str()).collect();
        assert_eq!(
            values,
            ["index=19", "index=18", "index=17", "index=16", "index=15"]
        );
        assert_eq!(result.matches[0].field, "url.query");
        assert_eq!(result.matches[0].span_id, hex(&[20; 8]));
        assert_eq!(result.matches[0].duration_ms, 2.5);
        // Every span has the name; only the newest `limit` are listed.
        assert_eq!(search(&window, "get", 3).unwrap().matched, 40);
    }

    #[test]
    fn numbers_are_written_as_rust_writes_them() {
        for number in [0, 7, -7, 10, 1_234_567_890, i64::MIN, i64::MAX] {
            let mut buffer = [0; 20];
            assert_eq!(int_text(number, &mut buffer), number.to_string().as_bytes());
        }
        let mut buffer = [0; 32];
        assert_eq!(hex_into(&[0, 0xab, 0x3c], &mut buffer), b"00ab3c");
    }
}
