//! Step 08's Collector part, checked without a Collector: the tail sampling the learner writes in
//! `collector/sampling.yaml`.
//!
//! No Collector runs where the checker does, so the file is read as the Collector would read it,
//! and [`lint`] says, one sentence each, what would keep it from doing what the step asks:
//! - a `tail_sampling` processor, in a traces pipeline, after `memory_limiter` and before `batch`
//!   (the overlay's list of processors replaces `config.yaml`'s when the files merge);
//! - a `status_code` policy keeping `ERROR`, a `latency` policy with a threshold, and a
//!   `probabilistic` policy keeping a share of the rest, each written the way the pinned
//!   Collector (contrib 0.161.0) reads it;
//! - no policy that keeps everything, so that the others mean something.
//!
//! The kit's own test of the Collector's files (`services/kit/tests/compose.rs`) runs the same
//! lint on the solution's file: one lint, for the learner and for the kit.

use std::collections::BTreeSet;

use yaml_rust2::{Yaml, YamlLoader};

/// The policy types the tail_sampling processor knows (contrib 0.161.0, its `config.go`).
pub const POLICY_TYPES: [&str; 17] = [
    "always_sample",
    "latency",
    "numeric_attribute",
    "probabilistic",
    "status_code",
    "string_attribute",
    "rate_limiting",
    "bytes_limiting",
    "span_count",
    "trace_state",
    "trace_flags",
    "boolean_attribute",
    "ottl_condition",
    "and",
    "not",
    "drop",
    "composite",
];

/// The status codes a `status_code` policy accepts, spelled as the Collector spells them.
const STATUS_CODES: [&str; 3] = ["OK", "ERROR", "UNSET"];

/// Everything in `overlay` (the text of `collector/sampling.yaml`) that keeps it from sampling as
/// step 08 asks, one sentence each; empty when it is right.
pub fn lint(overlay: &str) -> Vec<String> {
    let config = match YamlLoader::load_from_str(overlay) {
        Ok(documents) => documents.into_iter().next().unwrap_or(Yaml::Null),
        Err(err) => return vec![format!("the file is not valid YAML: {err}")],
    };
    let mut problems = Vec::new();

    let samplers: Vec<(String, &Yaml)> = entries(&config["processors"])
        .into_iter()
        .filter(|(id, _)| component_type(id) == "tail_sampling")
        .collect();
    let Some((id, sampler)) = samplers.first() else {
        problems.push(
            "no `tail_sampling` processor under `processors:`: define one, with its `policies`"
                .to_string(),
        );
        return problems;
    };
    problems.extend(pipeline(&config, id));
    problems.extend(settings(id, sampler));

    let policies = match &sampler["policies"] {
        Yaml::Array(policies) if !policies.is_empty() => policies,
        Yaml::Array(_) | Yaml::Null | Yaml::BadValue => {
            problems.push(format!(
                "`{id}` has no policies: it needs a list under `policies:`, one item per policy"
            ));
            return problems;
        }
        _ => {
            problems.push(format!(
                "`{id}.policies` must be a list: one `- name: …` item per policy"
            ));
            return problems;
        }
    };

    let mut names = BTreeSet::new();
    for (number, policy) in policies.iter().enumerate() {
        let name = scalar(&policy["name"]);
        let label = if name.is_empty() {
            format!("policy {}", number + 1)
        } else {
            format!("policy `{name}`")
        };
        if name.is_empty() {
            problems.push(format!("{label} has no `name`: give each policy one"));
        } else if !names.insert(name.clone()) {
            problems.push(format!("{label}: two policies have this name"));
        }
        let kind = scalar(&policy["type"]);
        if kind.is_empty() {
            problems.push(format!("{label} has no `type` (e.g. `type: status_code`)"));
            continue;
        }
        if !POLICY_TYPES.contains(&kind.as_str()) {
            problems.push(format!(
                "{label}: the tail_sampling processor has no policy type `{kind}`; it knows {}",
                POLICY_TYPES.join(", ")
            ));
            continue;
        }
        match kind.as_str() {
            "status_code" => problems.extend(status_code(&label, policy)),
            "latency" => problems.extend(latency(&label, policy)),
            "probabilistic" => problems.extend(probabilistic(&label, policy)),
            "always_sample" => problems.push(format!(
                "{label}: `always_sample` keeps every trace, so the other policies change nothing"
            )),
            _ => {}
        }
    }

    let required = [
        (
            "status_code",
            "keep every trace with an error: a `status_code` policy with `status_codes: [ERROR]`",
        ),
        (
            "latency",
            "keep every slow trace: a `latency` policy with `threshold_ms`",
        ),
        (
            "probabilistic",
            "keep a share of the rest: a `probabilistic` policy with `sampling_percentage`",
        ),
    ];
    for (kind, what) in required {
        // A policy of the type, even a wrong one: its own finding above says what is wrong.
        if !policies
            .iter()
            .any(|policy| scalar(&policy["type"]) == kind)
        {
            problems.push(format!("no policy to {what}"));
        }
    }
    problems
}

/// The traces pipeline must run `id` after `memory_limiter` and before `batch`.
fn pipeline(config: &Yaml, id: &str) -> Vec<String> {
    let whole_list = "processors: [memory_limiter, tail_sampling, batch]";
    let pipelines = entries(&config["service"]["pipelines"]);
    let with_it: Vec<(String, Vec<String>)> = pipelines
        .into_iter()
        .filter(|(name, _)| component_type(name) == "traces")
        .map(|(name, pipeline)| (name, strings(&pipeline["processors"])))
        .filter(|(_, processors)| processors.iter().any(|p| p == id))
        .collect();
    if with_it.is_empty() {
        return vec![format!(
            "no traces pipeline runs `{id}`: under `service.pipelines.traces`, write the whole list \
             (lists are replaced when the files merge), `{whole_list}`"
        )];
    }
    let mut problems = Vec::new();
    for (name, processors) in with_it {
        let list = processors.join(", ");
        let at = |wanted: &str| processors.iter().position(|p| component_type(p) == wanted);
        if at("memory_limiter") != Some(0) {
            problems.push(format!(
                "pipeline `{name}` runs [{list}]: `memory_limiter` must come first (lists are \
                 replaced when the files merge, so write it here too): `{whole_list}`"
            ));
        }
        let sampler = processors.iter().position(|p| p == id);
        match at("batch") {
            None => problems.push(format!(
                "pipeline `{name}` runs [{list}]: `batch` is missing, after `{id}`: `{whole_list}`"
            )),
            Some(batch) if sampler > Some(batch) => problems.push(format!(
                "pipeline `{name}` runs [{list}]: `{id}` must come before `batch`, which groups \
                 the spans it keeps for the exporters: `{whole_list}`"
            )),
            Some(_) => {}
        }
    }
    problems
}

/// `decision_wait` and `num_traces`, when written: a duration with its unit, a positive number.
fn settings(id: &str, sampler: &Yaml) -> Vec<String> {
    let mut problems = Vec::new();
    match &sampler["decision_wait"] {
        Yaml::BadValue | Yaml::Null => {}
        Yaml::String(text) if is_duration(text) => {}
        other => problems.push(format!(
            "`{id}.decision_wait: {}` must be a duration with its unit, e.g. `12s` (a bare \
             number is read as nanoseconds)",
            scalar(other)
        )),
    }
    match &sampler["num_traces"] {
        Yaml::BadValue | Yaml::Null => {}
        Yaml::Integer(number) if *number > 0 => {}
        other => problems.push(format!(
            "`{id}.num_traces: {}` must be a whole number above 0: how many undecided traces to hold",
            scalar(other)
        )),
    }
    problems
}

/// A Go duration: numbers with units, e.g. `12s`, `500ms`, `1m30s`.
fn is_duration(text: &str) -> bool {
    let mut rest = text.trim();
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        let Some(unit) = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .iter()
            .filter(|unit| rest.starts_with(*unit))
            .max_by_key(|unit| unit.len())
        else {
            return false;
        };
        rest = &rest[unit.len()..];
    }
    true
}

/// The settings of a policy of type `kind`: the map under the key named like the type. A setting
/// written beside `type` instead is said to belong there.
fn policy_settings<'a>(
    label: &str,
    policy: &'a Yaml,
    kind: &str,
    keys: &[&str],
) -> Result<&'a Yaml, String> {
    let settings = &policy[kind];
    if settings.as_hash().is_some() {
        return Ok(settings);
    }
    let misplaced: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|key| !policy[*key].is_badvalue())
        .collect();
    Err(if misplaced.is_empty() {
        format!(
            "{label}: its settings go in a map named like its type, `{kind}:` (e.g. `{kind}: {{{}: …}}`)",
            keys[0]
        )
    } else {
        format!(
            "{label}: `{}` goes inside `{kind}:`, not beside `type`",
            misplaced.join("`, `")
        )
    })
}

fn status_code(label: &str, policy: &Yaml) -> Vec<String> {
    let settings = match policy_settings(label, policy, "status_code", &["status_codes"]) {
        Ok(settings) => settings,
        Err(problem) => return vec![problem],
    };
    let codes = match &settings["status_codes"] {
        Yaml::Array(_) => strings(&settings["status_codes"]),
        Yaml::String(code) => {
            return vec![format!(
                "{label}: `status_codes` is a list: `status_codes: [{code}]`"
            )];
        }
        _ => Vec::new(),
    };
    let mut problems = Vec::new();
    for code in &codes {
        if STATUS_CODES.contains(&code.as_str()) {
            continue;
        }
        let fix = if STATUS_CODES.contains(&code.to_ascii_uppercase().as_str()) {
            format!("write it in capitals, `{}`", code.to_ascii_uppercase())
        } else {
            format!("the codes are {}", STATUS_CODES.join(", "))
        };
        problems.push(format!(
            "{label}: the Collector knows no status code `{code}`: {fix}"
        ));
    }
    if problems.is_empty() && !codes.iter().any(|code| code == "ERROR") {
        problems.push(format!(
            "{label} does not keep errors: `status_codes: [ERROR]`"
        ));
    }
    problems
}

fn latency(label: &str, policy: &Yaml) -> Vec<String> {
    let settings = match policy_settings(label, policy, "latency", &["threshold_ms"]) {
        Ok(settings) => settings,
        Err(problem) => return vec![problem],
    };
    match &settings["threshold_ms"] {
        Yaml::Integer(ms) if *ms > 0 => Vec::new(),
        Yaml::BadValue | Yaml::Null => vec![format!(
            "{label} has no `threshold_ms`: how long, in milliseconds, a trace must last to be kept"
        )],
        other => vec![format!(
            "{label}: `threshold_ms: {}` must be a whole number of milliseconds above 0, e.g. 500",
            scalar(other)
        )],
    }
}

fn probabilistic(label: &str, policy: &Yaml) -> Vec<String> {
    let settings = match policy_settings(label, policy, "probabilistic", &["sampling_percentage"]) {
        Ok(settings) => settings,
        Err(problem) => return vec![problem],
    };
    let value = &settings["sampling_percentage"];
    let percentage = match value {
        Yaml::Integer(number) => Some(*number as f64),
        Yaml::Real(_) => value.as_f64(),
        _ => None,
    };
    match percentage {
        None if value.is_badvalue() || value.is_null() => vec![format!(
            "{label} has no `sampling_percentage`: the share of the other traces to keep, in percent"
        )],
        None => vec![format!(
            "{label}: `sampling_percentage: {}` must be a number, in percent (25 for a quarter)",
            scalar(value)
        )],
        Some(p) if p <= 0.0 => vec![format!(
            "{label}: `sampling_percentage: {p}` keeps none of the other traces"
        )],
        Some(p) if p >= 100.0 => vec![format!(
            "{label}: `sampling_percentage: {p}` keeps every trace, so nothing is sampled"
        )],
        Some(p) if p < 1.0 => vec![format!(
            "{label}: `sampling_percentage: {p}` is in percent, so it keeps one trace in {:.0}; \
             for a quarter write 25 (OTEL_TRACES_SAMPLER_ARG is the one that takes 0.25)",
            100.0 / p
        )],
        Some(_) => Vec::new(),
    }
}

// The YAML walking the Collector's files need, shared with the native stack and the kit's checks.
pub use stack::config::{component_type, entries, scalar, strings};

#[cfg(test)]
mod tests {
    use super::*;

    /// The solution's form, as in `collector/sampling.yaml`.
    const GOOD: &str = "
processors:
  tail_sampling:
    decision_wait: 12s
    num_traces: 5000
    policies:
      - name: errors
        type: status_code
        status_code:
          status_codes: [ERROR]
      - name: slow
        type: latency
        latency:
          threshold_ms: 500
      - name: a-quarter-of-the-rest
        type: probabilistic
        probabilistic:
          sampling_percentage: 25
service:
  pipelines:
    traces:
      processors: [memory_limiter, tail_sampling, batch]
";

    /// The lint's findings for GOOD with `from` replaced by `to`.
    fn variant(from: &str, to: &str) -> Vec<String> {
        assert!(GOOD.contains(from), "{from}");
        lint(&GOOD.replace(from, to))
    }

    /// Asserts that exactly one finding was made, and that it contains every one of `words`.
    fn assert_one(problems: &[String], words: &[&str]) {
        assert_eq!(problems.len(), 1, "{problems:#?}");
        for word in words {
            assert!(
                problems[0].contains(word),
                "{word:?} not in {:?}",
                problems[0]
            );
        }
    }

    #[test]
    fn the_solution_passes() {
        assert_eq!(lint(GOOD), Vec::<String>::new());
        // The policies as flow maps, as the Collector's README writes them, pass too.
        let flow = GOOD.replace(
            "        status_code:\n          status_codes: [ERROR]",
            "        status_code: {status_codes: [ERROR]}",
        );
        assert_eq!(lint(&flow), Vec::<String>::new());
    }

    #[test]
    fn the_kit_file_passes() {
        let text = include_str!("../../../../collector/sampling.yaml");
        assert_eq!(lint(text), Vec::<String>::new());
    }

    #[test]
    fn no_tail_sampling_at_all() {
        assert_one(&lint("{}"), &["no `tail_sampling` processor"]);
        assert_one(&lint(""), &["no `tail_sampling` processor"]);
        assert_one(&lint("processors: [oops"), &["not valid YAML"]);
    }

    #[test]
    fn tail_sampling_not_in_the_pipeline_or_in_the_wrong_place() {
        let problems = variant(
            "[memory_limiter, tail_sampling, batch]",
            "[memory_limiter, batch]",
        );
        assert_one(
            &problems,
            &["no traces pipeline runs `tail_sampling`", "whole list"],
        );
        let problems = variant(
            "[memory_limiter, tail_sampling, batch]",
            "[tail_sampling, batch]",
        );
        assert_one(&problems, &["`memory_limiter` must come first", "replaced"]);
        let problems = variant(
            "[memory_limiter, tail_sampling, batch]",
            "[memory_limiter, batch, tail_sampling]",
        );
        assert_one(&problems, &["must come before `batch`"]);
        let problems = variant(
            "[memory_limiter, tail_sampling, batch]",
            "[memory_limiter, tail_sampling]",
        );
        assert_one(&problems, &["`batch` is missing"]);
        // A pipeline of its own is fine, as long as it is a traces pipeline.
        let problems = variant("    traces:\n", "    traces/sampled:\n");
        assert_eq!(problems, Vec::<String>::new());
        let problems = variant("    traces:\n", "    logs:\n");
        assert_one(&problems, &["no traces pipeline runs"]);
    }

    #[test]
    fn each_policy_is_required() {
        let without = |name: &str, next: &str| {
            let start = GOOD.find(&format!("      - name: {name}")).unwrap();
            let end = GOOD.find(next).unwrap();
            lint(&format!("{}{}", &GOOD[..start], &GOOD[end..]))
        };
        assert_one(
            &without("errors", "      - name: slow"),
            &["no policy to keep every trace with an error", "[ERROR]"],
        );
        assert_one(
            &without("slow", "      - name: a-quarter"),
            &["no policy to keep every slow trace", "threshold_ms"],
        );
        assert_one(
            &without("a-quarter-of-the-rest", "service:"),
            &[
                "no policy to keep a share of the rest",
                "sampling_percentage",
            ],
        );
        let problems = variant("    policies:", "    policies: []\n    unused:");
        assert_one(&problems, &["has no policies"]);
    }

    #[test]
    fn status_codes_in_capitals_and_error_among_them() {
        assert_one(
            &variant("[ERROR]", "[error]"),
            &["no status code `error`", "capitals, `ERROR`"],
        );
        assert_one(&variant("[ERROR]", "[UNSET]"), &["does not keep errors"]);
        assert_one(&variant("[ERROR]", "[FAILED]"), &["OK, ERROR, UNSET"]);
        assert_one(
            &variant("status_codes: [ERROR]", "status_codes: ERROR"),
            &["is a list"],
        );
    }

    #[test]
    fn settings_beside_type_are_said_to_belong_inside() {
        let problems = variant(
            "        latency:\n          threshold_ms: 500",
            "        threshold_ms: 500",
        );
        assert_one(&problems, &["`threshold_ms` goes inside `latency:`"]);
        let problems = variant(
            "        probabilistic:\n          sampling_percentage: 25",
            "",
        );
        assert_one(&problems, &["a map named like its type, `probabilistic:`"]);
    }

    #[test]
    fn a_threshold_is_whole_milliseconds() {
        assert_one(
            &variant("threshold_ms: 500", "threshold_ms: 0.5s"),
            &["whole number"],
        );
        assert_one(
            &variant("threshold_ms: 500", "upper_threshold_ms: 900"),
            &["no `threshold_ms`"],
        );
    }

    #[test]
    fn a_percentage_not_a_ratio() {
        assert_one(
            &variant("sampling_percentage: 25", "sampling_percentage: 0.25"),
            &["in percent", "one trace in 400", "write 25"],
        );
        assert_one(
            &variant("sampling_percentage: 25", "sampling_percentage: 100"),
            &["keeps every trace"],
        );
        assert_one(
            &variant("sampling_percentage: 25", "sampling_percentage: 0"),
            &["keeps none"],
        );
        assert_eq!(
            variant("sampling_percentage: 25", "sampling_percentage: 12.5"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn unknown_types_names_and_always_sample() {
        // The policy meant as the latency one does not count as one.
        let problems = variant("type: latency", "type: duration");
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems[0].contains("no policy type `duration`; it knows always_sample, latency"));
        assert!(problems[1].contains("no policy to keep every slow trace"));
        let problems = variant("      - name: slow\n", "      - name: errors\n");
        assert_one(&problems, &["policy `errors`: two policies have this name"]);
        let problems = variant(
            "    policies:\n",
            "    policies:\n      - name: everything\n        type: always_sample\n",
        );
        assert_one(&problems, &["`always_sample` keeps every trace"]);
    }

    #[test]
    fn decision_wait_is_a_duration_and_num_traces_a_count() {
        assert_one(
            &variant("decision_wait: 12s", "decision_wait: 12"),
            &["duration with its unit", "nanoseconds"],
        );
        assert_eq!(
            variant("decision_wait: 12s", "decision_wait: 1m30s"),
            Vec::<String>::new()
        );
        assert_one(&variant("num_traces: 5000", "num_traces: 0"), &["above 0"]);
        assert!(
            is_duration("500ms") && is_duration("1.5s") && !is_duration("s") && !is_duration("")
        );
    }

    #[test]
    fn the_exercise_form_fails_with_every_todo() {
        // What the learner starts from: the processor, no policies, not in the pipeline.
        let exercise = GOOD[..GOOD.find("    policies:").unwrap()].to_string()
            + "    policies: []\nservice:\n  pipelines:\n    traces:\n      processors: [memory_limiter, batch]\n";
        let problems = lint(&exercise);
        assert_eq!(problems.len(), 2, "{problems:#?}");
        assert!(problems[0].contains("no traces pipeline runs"));
        assert!(problems[1].contains("has no policies"));
    }
}
