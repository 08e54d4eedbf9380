//! What a classroom's telemetry carries on the wire, in the one place its three parties read:
//! the room's explorer (which keeps it), a learner's explorer (which forwards the app's
//! telemetry to the room) and the checker (which reports each check's verdict).
//!
//! - Every export to a room carries the room's code in [`CODE_HEADER`] (gRPC: metadata).
//! - Every resource sent to a room names its learner in [`LEARNER_NAME`]: the forwarding
//!   explorer sets it on whatever the app exported (replacing any the app set itself), and the
//!   checker on its verdicts. The Room page has a row per name.
//! - A check's verdict is one OTLP log record ([`Verdict`]) under the scope [`CHECK_SCOPE`]: the
//!   step, passed or not, and the failing expectation with its hint's title, in the checker's
//!   words. Never code, paths or secrets: nothing of the learner's files is in it.
//! - `./run.sh join` claims a name with a log record under [`JOIN_SCOPE`], whose resource has
//!   [`LEARNER_NAME`] and [`LEARNER_MACHINE`] (a hash, not the machine's name): a room refuses a
//!   name another machine claimed first. The kit writes that record as OTLP/JSON itself (it does
//!   not build this crate), with these same names.

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValueKind;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;

use crate::logs::ReceivedLog;
use crate::model::Value;

/// The header (gRPC: metadata key) that carries a room's code.
pub const CODE_HEADER: &str = "x-room-code";
/// The resource attribute that says whose telemetry it is.
pub const LEARNER_NAME: &str = "learner.name";
/// The resource attribute of a join's claim: which machine claims the name.
pub const LEARNER_MACHINE: &str = "learner.machine";
/// The instrumentation scope of a check's verdict.
pub const CHECK_SCOPE: &str = "kit.check";
/// The instrumentation scope of a join's claim.
pub const JOIN_SCOPE: &str = "kit.join";
/// The service name the checker's verdicts are sent under.
pub const CHECK_SERVICE: &str = "workshop-checker";

/// The attributes of a verdict's log record.
pub mod attribute {
    pub const STEP: &str = "kit.check.step";
    pub const PASSED: &str = "kit.check.passed";
    /// "3 of 5": expectations met, of how many.
    pub const SCORE: &str = "kit.check.score";
    /// What the first failing expectation asks, e.g. "sub-requests carry traceparent".
    pub const EXPECTATION: &str = "kit.check.expectation";
    /// The first sentence of its hint: what the symptom means.
    pub const HINT: &str = "kit.check.hint";
}

/// The longest learner name a room keeps; longer ones are cut (a name is what the join line's
/// `--name` allows: 32 characters).
pub const MAX_NAME_CHARS: usize = 32;
/// The longest expectation or hint title a verdict carries.
pub const MAX_TEXT_CHARS: usize = 160;

/// One check's verdict, as the Room page shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub step: u32,
    pub passed: bool,
    /// "3 of 5".
    pub score: String,
    /// The first expectation that failed, and its hint's title; `None` when it passed.
    pub expectation: Option<String>,
    pub hint: Option<String>,
}

impl Verdict {
    /// The verdict as an export request from `learner`, at `time_unix_nano`.
    pub fn to_request(&self, learner: &str, time_unix_nano: u64) -> ExportLogsServiceRequest {
        let mut attributes = vec![
            key_value(
                attribute::STEP,
                AnyValueKind::IntValue(i64::from(self.step)),
            ),
            key_value(attribute::PASSED, AnyValueKind::BoolValue(self.passed)),
            key_value(attribute::SCORE, text(&self.score)),
        ];
        for (key, value) in [
            (attribute::EXPECTATION, &self.expectation),
            (attribute::HINT, &self.hint),
        ] {
            if let Some(value) = value {
                attributes.push(key_value(key, text(&cut(value, MAX_TEXT_CHARS))));
            }
        }
        let body = match (self.passed, &self.expectation) {
            (true, _) => format!("step {:02} passed ({})", self.step, self.score),
            (false, Some(expectation)) => format!("step {:02}: {expectation}", self.step),
            (false, None) => format!("step {:02} failed ({})", self.step, self.score),
        };
        let record = LogRecord {
            time_unix_nano,
            observed_time_unix_nano: time_unix_nano,
            // INFO for a pass, WARN for a failure: the logs page colours them so.
            severity_number: if self.passed { 9 } else { 13 },
            severity_text: if self.passed { "INFO" } else { "WARN" }.into(),
            body: Some(AnyValue {
                value: Some(text(&body)),
            }),
            attributes,
            ..LogRecord::default()
        };
        one_record(
            vec![
                key_value("service.name", text(CHECK_SERVICE)),
                key_value(LEARNER_NAME, text(learner)),
            ],
            CHECK_SCOPE,
            record,
        )
    }

    /// The verdict a received log record carries, if it is one: under [`CHECK_SCOPE`], with a
    /// step and passed-or-not.
    pub fn read(log: &ReceivedLog) -> Option<Verdict> {
        if log.scope_name != CHECK_SCOPE {
            return None;
        }
        let step = match log.attribute(attribute::STEP)? {
            Value::Int(step) => u32::try_from(*step).ok()?,
            _ => return None,
        };
        let passed = match log.attribute(attribute::PASSED)? {
            Value::Bool(passed) => *passed,
            _ => return None,
        };
        let text = |key| {
            log.attribute(key)
                .and_then(Value::as_str)
                .map(|value| cut(value, MAX_TEXT_CHARS))
        };
        Some(Verdict {
            step,
            passed,
            score: text(attribute::SCORE).unwrap_or_default(),
            expectation: text(attribute::EXPECTATION),
            hint: text(attribute::HINT),
        })
    }
}

/// A join's claim, read from a received log record: the name and the machine claiming it.
pub fn read_claim(log: &ReceivedLog) -> Option<(String, String)> {
    if log.scope_name != JOIN_SCOPE {
        return None;
    }
    let name = learner(&log.resource)?;
    let machine = log.resource_attribute(LEARNER_MACHINE)?.as_str()?;
    Some((name, machine.to_string()))
}

/// The learner a resource's attributes name, cut to [`MAX_NAME_CHARS`]; `None` when it names
/// none (or an empty one).
pub fn learner(resource: &std::collections::BTreeMap<String, Value>) -> Option<String> {
    learner_name(resource.get(LEARNER_NAME)?.as_str()?)
}

/// A learner's name as a room keeps it: trimmed, cut to [`MAX_NAME_CHARS`]; `None` if empty.
pub fn learner_name(raw: &str) -> Option<String> {
    Some(raw.trim())
        .filter(|name| !name.is_empty())
        .map(|name| cut(name, MAX_NAME_CHARS))
}

/// Sets `learner.name` on a resource (made if there is none), replacing any the app set: what
/// a learner's explorer does to each resource it forwards to the room.
pub fn name_resource(resource: &mut Option<Resource>, learner: &str) {
    let resource = resource.get_or_insert_with(Resource::default);
    resource.attributes.retain(|kv| kv.key != LEARNER_NAME);
    resource
        .attributes
        .push(key_value(LEARNER_NAME, text(learner)));
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((at, _)) => format!("{}…", &text[..at]),
    }
}

fn one_record(resource: Vec<KeyValue>, scope: &str, record: LogRecord) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: resource,
                ..Resource::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: scope.into(),
                    ..InstrumentationScope::default()
                }),
                log_records: vec![record],
                ..ScopeLogs::default()
            }],
            ..ResourceLogs::default()
        }],
    }
}

fn key_value(key: &str, value: AnyValueKind) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(value) }),
        ..KeyValue::default()
    }
}

fn text(value: &str) -> AnyValueKind {
    AnyValueKind::StringValue(value.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn received(request: ExportLogsServiceRequest) -> ReceivedLog {
        crate::logs::from_request(request).unwrap().remove(0)
    }

    #[test]
    fn a_verdict_reads_back_as_sent() {
        for verdict in [
            Verdict {
                step: 3,
                passed: false,
                score: "2 of 4".into(),
                expectation: Some("sub-requests carry traceparent".into()),
                hint: Some("The sub-requests start new traces.".into()),
            },
            Verdict {
                step: 1,
                passed: true,
                score: "3 of 3".into(),
                expectation: None,
                hint: None,
            },
        ] {
            let log = received(verdict.to_request("ada", 1));
            assert_eq!(Verdict::read(&log), Some(verdict));
            assert_eq!(learner(&log.resource).as_deref(), Some("ada"));
            assert_eq!(log.service_name(), Some(CHECK_SERVICE));
            assert_eq!(read_claim(&log), None);
        }
    }

    #[test]
    fn long_texts_and_names_are_cut() {
        let verdict = Verdict {
            step: 2,
            passed: false,
            score: "0 of 3".into(),
            expectation: Some("é".repeat(400)),
            hint: None,
        };
        let log = received(verdict.to_request(&"n".repeat(100), 1));
        let read = Verdict::read(&log).unwrap();
        assert_eq!(
            read.expectation.unwrap().chars().count(),
            MAX_TEXT_CHARS + 1
        );
        assert_eq!(
            learner(&log.resource).unwrap().chars().count(),
            MAX_NAME_CHARS + 1
        );
    }

    #[test]
    fn naming_a_resource_replaces_the_apps_own_name() {
        let mut resource = Some(Resource {
            attributes: vec![key_value(LEARNER_NAME, text("someone-else"))],
            ..Resource::default()
        });
        name_resource(&mut resource, "ada");
        let names: Vec<_> = resource
            .unwrap()
            .attributes
            .into_iter()
            .filter(|kv| kv.key == LEARNER_NAME)
            .collect();
        assert_eq!(names.len(), 1);
        assert_eq!(
            names[0].value,
            Some(AnyValue {
                value: Some(text("ada"))
            })
        );
        let mut none = None;
        name_resource(&mut none, "ada");
        assert_eq!(none.unwrap().attributes.len(), 1);
    }
}
