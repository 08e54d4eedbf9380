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
//! A search looks at every span of the window, a million of them, within the 100 ms a query is
//! allowed; so the test of one span allocates nothing and reads as little as it can:
//! - the window shares its strings (every `url.query` key is one string, and so is each
//!   `index=25`), so whether the phrase is in a string is remembered by its address, and most
//!   strings are read once per search, not once per span; integers likewise, by value;
//! - a string that is read is folded to lower case a byte at a time where it is (ASCII; a phrase
//!   with other letters takes a slower path), and numbers are written on the stack;
//! - ids are compared as numbers, a hex digit at a time, only when the phrase is all hex digits;
//! - each resource is tried once for the run of spans that share it;
//! - the spans' events, which lie apart in memory, are read ahead a run of spans at a time;
//! - a large window is searched by two threads, each half of it.
//!
//! Over a million spans shaped like the workshop's, in a release build on a machine of two cores,
//! a search took 20 to 50 ms (the median of 7 runs, for phrases from `fib`, which every span has,
//! to ones no span has, hex digits and numbers); up to 80 ms while other builds shared the cores.

use std::cmp::Reverse;
use std::fmt::Write as _;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Instant;

use receiver::{SpanKind, StatusCode};
use serde::Serialize;

use crate::span::{Origin, StoredSpan, Str, Val, hex, kind_name, millis, status_name};
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
    /// When it is all hex digits (at most 32), the digits as a number: the ids are compared
    /// with it as numbers. Otherwise the ids are not looked at.
    hex: Option<HexDigits>,
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
            hex: HexDigits::new(&lower),
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

    /// Whether an id of `digits` hex digits (32 for a trace, 16 for a span), read as the number
    /// `id`, contains the phrase.
    fn is_in_id(&self, id: u128, digits: u32) -> bool {
        self.hex.as_ref().is_some_and(|hex| hex.are_in(id, digits))
    }
}

/// A phrase of hex digits as a number, to look for in ids without writing them out: a hex digit is
/// 4 bits, so the digits are in an id when the id, shifted by some multiple of 4 bits, ends in
/// them.
#[derive(Clone, Debug)]
struct HexDigits {
    value: u128,
    /// How many digits, 1 to 32.
    length: u32,
    /// The first two digits, as a byte (for a phrase of two digits or more).
    first: u8,
}

impl HexDigits {
    fn new(lower: &str) -> Option<HexDigits> {
        if lower.len() > 32 || !lower.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(HexDigits {
            value: u128::from_str_radix(lower, 16).ok()?,
            length: lower.len() as u32,
            first: lower
                .get(..2)
                .and_then(|first| u8::from_str_radix(first, 16).ok())
                .unwrap_or(0),
        })
    }

    fn are_in(&self, id: u128, digits: u32) -> bool {
        if self.length > digits {
            return false;
        }
        // Most ids hold the first two digits nowhere: a pair of digits is a byte of the id, or
        // of the id shifted by one digit, and all 16 bytes are compared at once (below). Only
        // the others are tried at every shift. (A single digit is in most ids anyway.)
        if self.length >= 2 && !has_byte(id, self.first) && !has_byte(id << 4, self.first) {
            return false;
        }
        let mask = u128::MAX >> (128 - 4 * self.length);
        (0..=digits - self.length).any(|shift| (id >> (4 * shift)) & mask == self.value)
    }
}

/// Whether any of the 16 bytes of `bytes` is `byte`: the bytes equal to it are zero in `x`, and a
/// zero byte is the one whose top bit is set in `x - 0x0101…01` and not in `x`.
fn has_byte(bytes: u128, byte: u8) -> bool {
    const ONES: u128 = u128::MAX / 0xff;
    let x = bytes ^ (ONES * u128::from(byte));
    x.wrapping_sub(ONES) & !x & (ONES << 7) != 0
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

/// Whether the phrase is in each of the values a finder has read, in a table of a few thousand
/// slots, a value's slot picked by its key's hash; a value whose slot holds another is read again
/// and takes the slot, so the table never grows.
struct Memo {
    slots: Box<[Option<(u64, bool)>]>,
}

/// 4 096 slots of 16 bytes: enough for the strings of a room's spans, small enough to stay in
/// the processor's cache.
const MEMO_BITS: u32 = 12;

impl Memo {
    fn new() -> Memo {
        Memo {
            slots: vec![None; 1 << MEMO_BITS].into_boxed_slice(),
        }
    }

    /// Whether the phrase is in the value of `key`, remembered, or found by `read` (and then
    /// remembered).
    fn remember(&mut self, key: u64, read: impl FnOnce() -> bool) -> bool {
        // Fibonacci hashing: the key times 2⁶⁴/φ, its top bits.
        let slot = (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - MEMO_BITS)) as usize;
        match self.slots[slot] {
            Some((seen, found)) if seen == key => found,
            _ => {
                let found = read();
                self.slots[slot] = Some((key, found));
                found
            }
        }
    }
}

/// Looks for one phrase in span after span (of one window, while it is read), remembering what it
/// read: the window's shared strings and the integers, and the last origin, since the spans of a
/// batch share one and the window keeps them together.
pub struct Finder<'p, 'w> {
    phrase: &'p Phrase,
    /// By address: no two strings that live at once have one address, and every string remembered
    /// is a span's, which lives as long as `'w`, longer than the finder.
    strings: Memo,
    /// By value, when the phrase can be in a number at all.
    numbers: Memo,
    /// Whether the phrase is in each kind's and each status's name, by `as usize`.
    kinds: [bool; 6],
    statuses: [bool; 3],
    /// The last origin tried (by address, as the strings), and where the phrase is in it.
    last_origin: Option<(*const Origin, Option<InOrigin>)>,
    spans: PhantomData<&'w StoredSpan>,
}

impl<'p, 'w> Finder<'p, 'w> {
    pub fn new(phrase: &'p Phrase) -> Finder<'p, 'w> {
        let mut kinds = [false; 6];
        for kind in [
            SpanKind::Unspecified,
            SpanKind::Internal,
            SpanKind::Server,
            SpanKind::Client,
            SpanKind::Producer,
            SpanKind::Consumer,
        ] {
            kinds[kind as usize] = phrase.is_in(kind_name(kind));
        }
        let mut statuses = [false; 3];
        for status in [StatusCode::Unset, StatusCode::Ok, StatusCode::Error] {
            statuses[status as usize] = phrase.is_in(status_name(status));
        }
        Finder {
            phrase,
            strings: Memo::new(),
            numbers: Memo::new(),
            kinds,
            statuses,
            last_origin: None,
            spans: PhantomData,
        }
    }

    /// The first field of `span` that holds the phrase, if any.
    pub fn find(&mut self, span: &'w StoredSpan) -> Option<Place<'w>> {
        let phrase = self.phrase;
        if self.is_in(&span.name) {
            return Some(Place::Name);
        }
        if self.kinds[span.kind as usize] {
            return Some(Place::Kind);
        }
        if self.statuses[span.status as usize] {
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
        if phrase.hex.is_some() {
            let span_id = |id: [u8; 8]| u128::from(u64::from_be_bytes(id));
            if phrase.is_in_id(u128::from_be_bytes(span.trace_id), 32) {
                return Some(Place::TraceId);
            }
            if phrase.is_in_id(span_id(span.span_id), 16) {
                return Some(Place::SpanId);
            }
            if span
                .parent_span_id
                .is_some_and(|id| phrase.is_in_id(span_id(id), 16))
            {
                return Some(Place::ParentSpanId);
            }
        }
        for (key, value) in span.attributes.iter() {
            if self.is_in(key) || self.is_in_value(value) {
                return Some(Place::Attribute(key, value));
            }
        }
        for event in span.events.iter() {
            if self.is_in(&event.name) {
                return Some(Place::Event(&event.name));
            }
            for (key, value) in event.attributes.iter() {
                if self.is_in(key) || self.is_in_value(value) {
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

    /// Whether the phrase is in one of the window's strings.
    fn is_in(&mut self, text: &'w Str) -> bool {
        let phrase = self.phrase;
        self.strings
            .remember(text.as_ptr() as usize as u64, || phrase.is_in(text))
    }

    fn is_in_value(&mut self, value: &'w Val) -> bool {
        let phrase = self.phrase;
        match value {
            Val::Str(text) => self.is_in(text),
            Val::Int(number) if phrase.numeric => self
                .numbers
                .remember(*number as u64, || phrase.is_in_value(value)),
            other => phrase.is_in_value(other),
        }
    }

    /// Where the origin holds the phrase: tried once for each run of spans that share it.
    fn in_origin(&mut self, origin: &'w Arc<Origin>) -> Option<InOrigin> {
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

/// Spans read ahead: see [`touch_events`].
const CHUNK: usize = 64;

/// Below this many spans a search is done on one thread: starting another would cost more than it
/// saves.
const SPLIT_FROM: usize = 100_000;

/// Reads, for a run of spans, their events and the events' attributes: each in an allocation of
/// its own, away from the span, and where most of a search's time went, waiting for memory one
/// event at a time. Read here, all at once, the processor fetches them together, and the search
/// then finds them in its cache.
fn touch_events<'w>(spans: impl Iterator<Item = &'w StoredSpan>) {
    let touched: usize = spans
        .flat_map(|span| span.events.iter())
        .map(|event| event.attributes.first().map_or(0, |(key, _)| key.len()))
        .sum();
    std::hint::black_box(touched);
}

/// Which half of each share a thread searches: the newer or the older.
#[derive(Clone, Copy)]
enum Half {
    Newer,
    Older,
    /// The whole share.
    All,
}

/// Searches one half of each share of the window (or all of it): how many spans match, and the
/// newest `limit` of each share's half that match, with their arrival numbers.
fn search_half<'w>(
    window: &'w Window,
    phrase: &Phrase,
    limit: usize,
    half: Half,
) -> (usize, Vec<(u64, &'w StoredSpan)>) {
    let mut finder = Finder::new(phrase);
    let mut matched = 0;
    let mut newest = Vec::new();
    let mut chunk = Vec::with_capacity(CHUNK);
    for share in window.newest_by_share() {
        // Exact: the share's spans are in a ring, which knows its length.
        let middle = share.size_hint().0 / 2;
        let mut share: Box<dyn Iterator<Item = (u64, &StoredSpan)>> = match half {
            Half::Newer => Box::new(share.take(middle)),
            Half::Older => Box::new(share.skip(middle)),
            Half::All => Box::new(share),
        };
        let mut kept = 0;
        loop {
            chunk.clear();
            chunk.extend(share.by_ref().take(CHUNK));
            if chunk.is_empty() {
                break;
            }
            touch_events(chunk.iter().map(|&(_, span)| span));
            for &(arrival, span) in &chunk {
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
    }
    (matched, newest)
}

/// Looks for `phrase` in every span of the window: counts the spans that contain it, and keeps
/// the newest `limit` of them (at most `limit` of each learner's share, then the newest of
/// those). An empty phrase is refused with a message that says what to type.
///
/// A large window is searched by two threads, each half of every share: the search waits on
/// memory more than it computes, and two cores wait together (the workshop's laptops have two
/// at least).
pub fn search(window: &Window, phrase: &str, limit: usize) -> Result<SearchResult, String> {
    let started = Instant::now();
    let phrase = Phrase::new(phrase)?;
    let (matched, mut newest) = if window.len() < SPLIT_FROM {
        search_half(window, &phrase, limit, Half::All)
    } else {
        std::thread::scope(|scope| {
            let older = scope.spawn(|| search_half(window, &phrase, limit, Half::Older));
            let (matched, mut newest) = search_half(window, &phrase, limit, Half::Newer);
            let (more, older) = older.join().expect("a search does not panic");
            newest.extend(older);
            (matched + more, newest)
        })
    };
    let mut finder = Finder::new(&phrase);
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
        // At every digit, odd or even, and not where the id has no such digits.
        other.trace_id = [
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0, 0, 0, 0, 0, 0, 0, 9,
        ];
        for digits in ["0", "01", "123", "2345", "6789abcdef", "f000", "0009", "09"] {
            assert_eq!(
                found(digits, &other).map(|(field, _)| field),
                Some("trace.id".into()),
                "{digits}"
            );
        }
        for digits in ["10", "0008", "fe", "0123456789abcdef000000000000000a"] {
            assert_eq!(found(digits, &other), None, "{digits}");
        }
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
    fn two_threads_find_what_one_finds() {
        let fib = origin("fib", "");
        let mut window = Window::new(Limits::default());
        let count = SPLIT_FROM as i64 + 1_001;
        window.push(
            (0..count)
                .map(|i| span((i % 250) as u8 + 1, i % 30, &fib))
                .collect(),
        );
        let result = search(&window, "index=2", 7).unwrap();
        let phrase = Phrase::new("index=2").unwrap();
        let (matched, _) = search_half(&window, &phrase, 7, Half::All);
        assert_eq!(result.matched, matched);
        // index=2 and index=20 to index=29, of every 30.
        let expected = (0..count).filter(|i| i % 30 == 2 || i % 30 >= 20).count();
        assert_eq!(matched, expected);
        let newest: Vec<String> = (0..count)
            .rev()
            .map(|i| format!("index={}", i % 30))
            .filter(|value| value.starts_with("index=2"))
            .take(7)
            .collect();
        let values: Vec<&str> = result.matches.iter().map(|m| m.value.as_str()).collect();
        assert_eq!(values, newest);
    }

    #[test]
    fn numbers_are_written_as_rust_writes_them() {
        for number in [0, 7, -7, 10, 1_234_567_890, i64::MIN, i64::MAX] {
            let mut buffer = [0; 20];
            assert_eq!(int_text(number, &mut buffer), number.to_string().as_bytes());
        }
    }
}
