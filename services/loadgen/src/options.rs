//! What a run is asked to do, and the checks on it: the same limits for the command line and for
//! a caller of [`crate::run`].
//!
//! Durations are parsed here rather than by a crate: `30s`, `2m`, `500ms`, or a plain number of
//! seconds is all a workshop needs.

use std::time::Duration;

use anyhow::bail;

/// At most this many virtual users: a large room, and far more than a laptop's app can serve.
pub const MAX_USERS: u32 = 100;

/// A run lasts at most this long, so that a forgotten terminal does not load the app for hours.
pub const MAX_DURATION: Duration = Duration::from_secs(10 * 60);

/// No index above the app's own hard cap: index 20 already makes 21,891 requests to answer one.
pub const MAX_INDEX: u32 = sequence::config::HARD_MAX_INDEX;

/// One run of the load generator.
#[derive(Debug, Clone)]
pub struct Options {
    /// The app's base URL, `http://host:port`, without a trailing `/`.
    pub url: String,
    /// How many virtual users press Go at the same time (1 to [`MAX_USERS`]).
    pub users: u32,
    /// How long the run lasts at most (up to [`MAX_DURATION`]).
    pub duration: Duration,
    /// The highest index a user asks for before pressing Stop (1 to [`MAX_INDEX`]).
    pub max_index: u32,
    /// Stop once this many requests were made, if given.
    pub max_requests: Option<u64>,
    /// Seeds every user's choices: the same seed gives every user the same stop points and
    /// think times.
    pub seed: u64,
}

impl Options {
    /// Checks the options against the same limits the command line enforces, so that a caller
    /// of [`crate::run`] gets the same messages.
    pub fn check(&self) -> anyhow::Result<()> {
        parse_url(&self.url).map_err(anyhow::Error::msg)?;
        if !(1..=MAX_USERS).contains(&self.users) {
            bail!("users: {} is not in 1..={MAX_USERS}", self.users);
        }
        check_duration(self.duration).map_err(anyhow::Error::msg)?;
        if !(1..=MAX_INDEX).contains(&self.max_index) {
            bail!("max index: {} is not in 1..={MAX_INDEX}", self.max_index);
        }
        if self.max_requests == Some(0) {
            bail!("max requests: 0 would make no request; give 1 or more, or none for no limit");
        }
        Ok(())
    }
}

/// Reads `30s`, `2m`, `500ms`, or a plain number of seconds (`30`).
///
/// Whole numbers only: `1.5s` is refused rather than guessed at; write `1500ms`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("bad duration {text:?}: use 30s, 2m, 500ms, or a number of seconds");
    let text = text.trim();
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = text.split_at(digits);
    // `u64::from_str` also takes a leading `+`; `digits` made sure there is none.
    let number: u64 = number.parse().map_err(|_| bad())?;
    let duration = match unit.trim_start() {
        "" | "s" => Duration::from_secs(number),
        "ms" => Duration::from_millis(number),
        "m" => Duration::from_secs(number.checked_mul(60).ok_or_else(bad)?),
        _ => return Err(bad()),
    };
    Ok(duration)
}

/// The value parser for `--duration`: a duration from [`parse_duration`], within the limits.
pub fn duration_arg(text: &str) -> Result<Duration, String> {
    parse_duration(text).and_then(check_duration)
}

fn check_duration(duration: Duration) -> Result<Duration, String> {
    if duration.is_zero() {
        Err("a run of 0 seconds makes no request; give 1s or more".into())
    } else if duration > MAX_DURATION {
        Err(format!(
            "{} s is longer than the {} minutes a run may last",
            duration.as_secs(),
            MAX_DURATION.as_secs() / 60
        ))
    } else {
        Ok(duration)
    }
}

/// Accepts the app's base URL, `http://host:port`, and drops a trailing `/` so that
/// `{url}/fib?index=0` is always well formed.
pub fn parse_url(text: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(text)
        .map_err(|err| format!("{err}; expected a URL like http://127.0.0.1:8090"))?;
    match url.scheme() {
        "http" => {}
        // reqwest is built without TLS (see Cargo.toml): the app runs on this machine.
        "https" => {
            return Err("https:// is not supported: give the app's plain http:// URL".into());
        }
        other => return Err(format!("expected an http:// URL, not {other}://")),
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("expected the app's base URL, without ?query or #fragment".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_seconds_minutes_milliseconds_or_a_plain_number() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        assert_eq!(parse_duration(" 10 s "), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn durations_refuse_other_units_fractions_signs_and_words() {
        for text in [
            "", "abc", "s", "1.5s", "-3s", "+3s", "3h", "3 sec", "3S", "3s5", "ms",
        ] {
            let err = parse_duration(text).unwrap_err();
            assert!(err.contains("use 30s, 2m, 500ms"), "{text:?}: {err}");
        }
        // Too many minutes to count in seconds is a bad duration, not an overflow panic.
        assert!(parse_duration(&format!("{}m", u64::MAX)).is_err());
        assert!(parse_duration("99999999999999999999999s").is_err());
    }

    #[test]
    fn the_duration_argument_is_between_a_millisecond_and_ten_minutes() {
        assert_eq!(duration_arg("10m"), Ok(MAX_DURATION));
        assert_eq!(duration_arg("1ms"), Ok(Duration::from_millis(1)));
        let err = duration_arg("11m").unwrap_err();
        assert!(err.contains("longer than the 10 minutes"), "{err}");
        let err = duration_arg("0s").unwrap_err();
        assert!(err.contains("0 seconds"), "{err}");
    }

    #[test]
    fn urls_are_plain_http_base_urls() {
        assert_eq!(
            parse_url("http://127.0.0.1:8090/"),
            Ok("http://127.0.0.1:8090".into())
        );
        assert_eq!(
            parse_url("http://localhost:9/app/"),
            Ok("http://localhost:9/app".into())
        );
        for (text, expected) in [
            ("not-a-url", "expected a URL like http://127.0.0.1:8090"),
            (
                "127.0.0.1:8090",
                "expected a URL like http://127.0.0.1:8090",
            ),
            (
                "localhost:8090",
                "expected an http:// URL, not localhost://",
            ),
            ("https://example.com", "https:// is not supported"),
            ("http://127.0.0.1:8090/fib?index=3", "without ?query"),
        ] {
            let err = parse_url(text).unwrap_err();
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }

    fn options() -> Options {
        Options {
            url: "http://127.0.0.1:8090".into(),
            users: 5,
            duration: Duration::from_secs(30),
            max_index: 10,
            max_requests: None,
            seed: 1,
        }
    }

    #[test]
    fn options_outside_the_limits_are_refused_with_the_range() {
        options().check().unwrap();
        let cases = [
            (
                Options {
                    users: 0,
                    ..options()
                },
                "1..=100",
            ),
            (
                Options {
                    users: 101,
                    ..options()
                },
                "1..=100",
            ),
            (
                Options {
                    max_index: 0,
                    ..options()
                },
                "1..=20",
            ),
            (
                Options {
                    max_index: 21,
                    ..options()
                },
                "1..=20",
            ),
            (
                Options {
                    duration: Duration::ZERO,
                    ..options()
                },
                "0 seconds",
            ),
            (
                Options {
                    duration: MAX_DURATION * 2,
                    ..options()
                },
                "10 minutes",
            ),
            (
                Options {
                    max_requests: Some(0),
                    ..options()
                },
                "no limit",
            ),
            (
                Options {
                    url: "nope".into(),
                    ..options()
                },
                "expected a URL",
            ),
        ];
        for (options, expected) in cases {
            let err = options.check().unwrap_err().to_string();
            assert!(err.contains(expected), "{options:?}: {err}");
        }
    }
}
