//! Reading `?index=N` strictly.
//!
//! `"+3".parse::<u32>()` is `Ok(3)` in Rust, and `serde` would take the last of `index=3&index=4`:
//! both are friendlier than we want. Only one `index`, made of ASCII digits `0`–`9`, from 0 to
//! the cap, is an index; everything else gets a one-line reason that names the valid range.

use std::fmt;

/// Why a query is not a valid index. Its `Display` is the one line the client sees with the 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct BadIndex {
    pub problem: Problem,
    /// The cap in force, so that the message can name the range.
    pub max: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    Missing,
    Repeated(usize),
    /// Not made of ASCII digits alone; holds the value as given, shortened.
    NotAWholeNumber(String),
    /// Digits, but above the cap.
    AboveCap(String),
}

impl fmt::Display for BadIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::Missing => write!(f, "missing index")?,
            Problem::Repeated(times) => write!(f, "index given {times} times")?,
            Problem::NotAWholeNumber(value) => write!(f, "bad index {value:?}")?,
            Problem::AboveCap(value) => {
                write!(f, "index {value} is above the cap (FIB_MAX_INDEX)")?
            }
        }
        write!(
            f,
            ": use one whole number from 0 to {}, as in /fib?index=5",
            self.max
        )
    }
}

/// Finds the one `index` in a raw query string (`index=5&other=x`) and checks it is in `0..=max`.
///
/// Every step's `/fib` handler calls it first, inside the span the learner's middleware made
/// current: it also notes that span, so that the answer can say which trace it is in and the page
/// link the number to it (see [`crate::trace_link`]).
pub fn parse(query: Option<&str>, max: u32) -> Result<u32, BadIndex> {
    crate::trace_link::note_current_span();
    let bad = |problem| BadIndex { problem, max };
    // Percent-decoding follows HTML forms: `%35` is `5`, and `+` is a space.
    let values: Vec<_> = form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(key, _)| key == "index")
        .map(|(_, value)| value)
        .collect();
    let value = match values.as_slice() {
        [] => return Err(bad(Problem::Missing)),
        [value] => value,
        more => return Err(bad(Problem::Repeated(more.len()))),
    };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad(Problem::NotAWholeNumber(shorten(value))));
    }
    // Only digits now, so parsing fails only when the number does not fit in a u32.
    match value.parse::<u32>() {
        Ok(index) if index <= max => Ok(index),
        _ => Err(bad(Problem::AboveCap(shorten(value)))),
    }
}

/// Echoes at most 24 characters of what the client sent: enough to recognise a typo.
fn shorten(value: &str) -> String {
    const KEEP: usize = 24;
    match value.char_indices().nth(KEEP) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: u32 = 20;

    #[test]
    fn accepts_every_index_from_zero_to_the_cap() {
        for index in 0..=MAX {
            assert_eq!(parse(Some(&format!("index={index}")), MAX), Ok(index));
        }
        assert_eq!(parse(Some("index=%35&x=1"), MAX), Ok(5));
        assert_eq!(parse(Some("index=007"), MAX), Ok(7));
    }

    #[test]
    fn refuses_what_a_tired_learner_types_and_names_the_range() {
        let cases = [
            (None, Problem::Missing),
            (Some(""), Problem::Missing),
            (Some("idx=5"), Problem::Missing),
            (Some("index="), Problem::NotAWholeNumber("".into())),
            (Some("index"), Problem::NotAWholeNumber("".into())),
            (Some("index=abc"), Problem::NotAWholeNumber("abc".into())),
            (Some("index=-1"), Problem::NotAWholeNumber("-1".into())),
            (Some("index=+3"), Problem::NotAWholeNumber(" 3".into())),
            (Some("index=%2B3"), Problem::NotAWholeNumber("+3".into())),
            (Some("index=1.5"), Problem::NotAWholeNumber("1.5".into())),
            (Some("index=1e3"), Problem::NotAWholeNumber("1e3".into())),
            (Some("index=0x10"), Problem::NotAWholeNumber("0x10".into())),
            (Some("index=%205"), Problem::NotAWholeNumber(" 5".into())),
            (
                Some("index=%EF%BC%95"),
                Problem::NotAWholeNumber("５".into()),
            ),
            (Some("index=21"), Problem::AboveCap("21".into())),
            (
                Some("index=4294967296"),
                Problem::AboveCap("4294967296".into()),
            ),
            (
                Some("index=123456789012345678901234567890"),
                Problem::AboveCap("123456789012345678901234…".into()),
            ),
            (Some("index=3&index=4"), Problem::Repeated(2)),
        ];
        for (query, problem) in cases {
            let err = parse(query, MAX).unwrap_err();
            assert_eq!(err.problem, problem, "query {query:?}");
            assert!(err.to_string().contains("from 0 to 20"), "{err}");
        }
    }
}
