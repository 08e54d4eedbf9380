//! Times, durations and numbers as the pages write them: for people, not for parsing (the API
//! keeps the raw numbers).

use crate::span::{Str, Val};

/// A time of day in UTC with milliseconds, e.g. `14:03:27.123 UTC`.
pub fn clock(unix_nanos: u64) -> String {
    let millis_of_day = (unix_nanos / 1_000_000) % 86_400_000;
    let (h, rest) = (millis_of_day / 3_600_000, millis_of_day % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    format!("{h:02}:{m:02}:{:02}.{:03} UTC", rest / 1000, rest % 1000)
}

/// A measurement for people: whole numbers as they are, others to five significant digits
/// (`0.0012346`, `2.65`), without trailing zeros.
pub fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{value:.0}");
    }
    if !value.is_finite() {
        return value.to_string();
    }
    let decimals = (4 - value.abs().log10().floor() as i32).clamp(0, 15) as usize;
    let text = format!("{value:.decimals$}");
    match text.contains('.') {
        true => text.trim_end_matches('0').trim_end_matches('.').to_string(),
        false => text,
    }
}

/// The noun that goes with a count: `one` for exactly one (`1 trace`), `many` otherwise
/// (`0 traces`, `2 traces`). The templates write the count themselves, often in its own element;
/// they pass it by reference, hence [`Count`].
pub fn plural(count: impl Count, one: &'static str, many: &'static str) -> &'static str {
    if count.is_one() { one } else { many }
}

/// A count a page writes: `usize` or `u64`, or a reference to one.
pub trait Count {
    fn is_one(&self) -> bool;
}

impl Count for usize {
    fn is_one(&self) -> bool {
        *self == 1
    }
}

impl Count for u64 {
    fn is_one(&self) -> bool {
        *self == 1
    }
}

impl<T: Count + ?Sized> Count for &T {
    fn is_one(&self) -> bool {
        (**self).is_one()
    }
}

/// Milliseconds for people: `0.42 ms`, `12.3 ms`, `1.25 s`.
pub fn duration_text(ms: f64) -> String {
    if ms >= 1000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else if ms >= 10.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{ms:.2} ms")
    }
}

pub(super) fn attributes_text(attributes: &[(Str, Val)]) -> String {
    attributes
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_of_a_thing_is_singular_and_any_other_count_plural() {
        assert_eq!(plural(1usize, "trace", "traces"), "trace");
        // As the templates pass them: by reference.
        let (one, two): (&u64, &u64) = (&1, &2);
        assert_eq!(plural(one, "span", "spans"), "span");
        assert_eq!(plural(0usize, "trace", "traces"), "traces");
        assert_eq!(plural(two, "log record", "log records"), "log records");
    }
}
