//! A check's verdict, sent to the classroom's room: so that the instructor's Room page shows who
//! is on which step, and who is stuck on what, without walking round the room.
//!
//! A learner who ran `./run.sh join ADDRESS --name NAME --code CODE` has `ROOM_URL` (the room's
//! OTLP/HTTP endpoint), `ROOM_CODE` and `LEARNER_NAME` in the kit's `.env`: that is a [`Room`].
//! Without all three there is none, and nothing is sent (an instructor's `.env` has
//! `ROOM_CODE` alone: it is their explorer's code, not a room to report to).
//!
//! What is sent is [`receiver::room::Verdict`], one OTLP log record, whose wire format is
//! written once in `services/receiver/src/room.rs` for the three programs that read or write it.
//! [`verdict`] fills it in the checker's own words: the step, passed or not, the score, and for
//! a failure the first expectation that failed and the first sentence of its hint. Never the
//! learner's code, paths or settings: the board is on the wall for everyone to see.
//!
//! Sending ([`Room::send`]) is one OTLP/HTTP export with the room's code in its header, given
//! [`TIMEOUT`] to be answered. A room that does not answer, or refuses, does not change the
//! check: the caller says so, once, and the check's own verdict stands.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use prost::Message;
use receiver::room::{CODE_HEADER, MAX_TEXT_CHARS, Verdict};

use crate::check::Report;
use crate::expect::{self, Outcome};
use crate::settings;

/// How long the room gets to take a verdict: one on the same network answers in milliseconds,
/// and a learner waiting at the end of a check should not wait long for one that is gone.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// The room a learner joined: where it takes OTLP, its code, and the learner's name there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Room {
    /// The room's OTLP/HTTP endpoint, without a path, e.g. `http://192.168.1.20:4318`.
    pub url: String,
    pub code: String,
    pub learner: String,
}

impl Room {
    /// The room the kit's settings name (the environment first, then `env_file`, as the kit
    /// reads them: [`settings::value`]); `None` unless all three are set and not empty.
    pub fn joined(env_file: &Path) -> Option<Room> {
        Room::from_settings(|name| settings::value(env_file, name))
    }

    /// The room that `setting` (a setting's value, by name) names, if all three are there.
    pub fn from_settings(setting: impl Fn(&str) -> Option<String>) -> Option<Room> {
        let given = |name| setting(name).filter(|value| !value.trim().is_empty());
        Some(Room {
            url: given("ROOM_URL")?.trim().trim_end_matches('/').to_string(),
            code: given("ROOM_CODE")?.trim().to_string(),
            learner: given("LEARNER_NAME")?.trim().to_string(),
        })
    }

    /// Sends `verdict` to the room as one OTLP/HTTP log export: `Ok` when it answered 2xx, else
    /// why not, in a few words for the learner.
    pub async fn send(&self, verdict: &Verdict) -> Result<(), String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos() as u64);
        let body = verdict.to_request(&self.learner, now).encode_to_vec();
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|err| format!("no HTTP client: {err}"))?;
        let response = client
            .post(format!("{}/v1/logs", self.url.trim_end_matches('/')))
            .header("content-type", "application/x-protobuf")
            .header(CODE_HEADER, &self.code)
            .body(body)
            .send()
            .await
            .map_err(|err| {
                // A connection that times out is a timeout too: that is asked first.
                if err.is_timeout() {
                    format!("it did not answer within {} s", TIMEOUT.as_secs())
                } else if err.is_connect() {
                    "nothing listens there".to_string()
                } else {
                    format!("it could not be reached: {err}")
                }
            })?;
        match response.status() {
            status if status.is_success() => Ok(()),
            reqwest::StatusCode::UNAUTHORIZED => Err(
                "it refused the room code: ./run.sh join again with the code the instructor gives"
                    .into(),
            ),
            status => Err(format!("it answered {status}")),
        }
    }

    /// [`Room::send`] for code without a runtime of its own (the command line), on one made for
    /// it, as `main.rs` makes them.
    pub fn send_blocking(&self, verdict: &Verdict) -> Result<(), String> {
        let runtime =
            tokio::runtime::Runtime::new().map_err(|err| format!("no async runtime: {err}"))?;
        runtime.block_on(self.send(verdict))
    }
}

/// The verdict `report` gives, as the room shows it: for a failure, the first expectation that
/// failed (a build that failed: "it builds") and the first sentence of its hint.
pub fn verdict(report: &Report) -> Verdict {
    let (met, of) = report.score();
    let passed = report.passed();
    let (expectation, hint) = match &report.outcome {
        _ if passed => (None, None),
        Err(failure) => (Some("it builds".to_string()), Some(failure.hint.clone())),
        Ok(outcomes) => first_failure(outcomes),
    };
    Verdict {
        step: report.subject.step,
        passed,
        score: format!("{met} of {of}"),
        expectation,
        hint: hint.as_deref().map(first_sentence),
    }
}

/// The first required expectation that failed, and its mistake's hint. Bonuses never fail a
/// check; one not checked always follows a failure, so it is named only if none is found.
fn first_failure(outcomes: &[Outcome]) -> (Option<String>, Option<String>) {
    let mut required = outcomes.iter().filter(|o| !o.is_bonus());
    let failed = required.clone().find_map(|o| match &o.verdict {
        expect::Verdict::Failed { mistake, .. } => Some((o.what.clone(), mistake.hint())),
        _ => None,
    });
    match failed {
        Some((what, hint)) => (Some(what), Some(hint)),
        None => (required.find(|o| !o.passed()).map(|o| o.what.clone()), None),
    }
}

/// The first sentence of `text`, up to and including its `.` (or `?`, `!`); "e.g." and "i.e."
/// do not end one. Cut at a word, with an ellipsis, when longer than a verdict carries.
pub fn first_sentence(text: &str) -> String {
    let text = text.trim();
    let end = text
        .char_indices()
        .filter(|&(at, c)| {
            let rest = &text[at + c.len_utf8()..];
            matches!(c, '.' | '?' | '!')
                && (rest.is_empty() || rest.starts_with(char::is_whitespace))
                && !["e.g", "i.e"]
                    .iter()
                    .any(|short| text[..at].ends_with(short))
        })
        .map(|(at, c)| at + c.len_utf8())
        .next()
        .unwrap_or(text.len());
    let sentence = &text[..end];
    if sentence.chars().count() <= MAX_TEXT_CHARS {
        return sentence.to_string();
    }
    let mut cut = String::new();
    for word in sentence.split_whitespace() {
        if cut.chars().count() + word.chars().count() + 1 >= MAX_TEXT_CHARS {
            break;
        }
        if !cut.is_empty() {
            cut.push(' ');
        }
        cut.push_str(word);
    }
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_is_cut_to_its_first_sentence() {
        assert_eq!(first_sentence("One. Two."), "One.");
        assert_eq!(first_sentence("Only one."), "Only one.");
        assert_eq!(first_sentence("No full stop"), "No full stop");
        assert_eq!(
            first_sentence("Is it in Cargo.toml? Add it."),
            "Is it in Cargo.toml?"
        );
        assert_eq!(
            first_sentence("Make a span (kind Internal, e.g. `fib`) in it, as 0.33 does. Then…"),
            "Make a span (kind Internal, e.g. `fib`) in it, as 0.33 does."
        );
        let long = first_sentence(&format!("{}.", "word ".repeat(100)));
        assert!(long.chars().count() <= MAX_TEXT_CHARS, "{long}");
        assert!(long.ends_with("word…"), "{long}");
    }

    #[test]
    fn a_room_needs_all_three_settings_and_the_url_loses_its_slash() {
        let settings = |url: &str, code: &str, name: &str| {
            let values = [
                ("ROOM_URL", url),
                ("ROOM_CODE", code),
                ("LEARNER_NAME", name),
            ];
            Room::from_settings(move |key| {
                values
                    .iter()
                    .find(|(name, _)| *name == key)
                    .map(|(_, value)| value.to_string())
            })
        };
        assert_eq!(
            settings("http://h:4318/", "ABCDEF", "ada"),
            Some(Room {
                url: "http://h:4318".into(),
                code: "ABCDEF".into(),
                learner: "ada".into(),
            })
        );
        assert_eq!(settings("", "ABCDEF", "ada"), None);
        assert_eq!(settings("http://h:4318", " ", "ada"), None);
        assert_eq!(settings("http://h:4318", "ABCDEF", ""), None);
    }
}
