//! The learner's `.env`, looked over for the mix-ups that send spans nowhere; and one setting
//! read as the kit's programs read it ([`value`]: the environment first, then `.env`).
//!
//! A check runs the app with settings of its own, so `.env` cannot make it fail; but the same
//! mistakes there lose the learner's spans when they run the app themselves. Values are never
//! printed: `.env` may hold keys.

use std::path::Path;

/// Notes on the settings in `env_file`, one line each; none when all is well or there is no file.
pub fn notes(env_file: &Path) -> Vec<String> {
    let Ok(entries) = dotenvy::from_path_iter(env_file) else {
        return Vec::new();
    };
    let settings: Vec<(String, String)> = entries.flatten().collect();
    let get = |name: &str| {
        settings
            .iter()
            .rev()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim().to_string())
    };
    notes_for(
        get("OTEL_EXPORTER_OTLP_ENDPOINT"),
        get("OTEL_EXPORTER_OTLP_PROTOCOL"),
    )
}

/// The setting `name` as `./run.sh` gives it to the app and the explorer: from the environment,
/// else from `env_file` (its last line for `name`); `None` when unset or empty.
pub fn value(env_file: &Path, name: &str) -> Option<String> {
    let given = |value: String| Some(value.trim().to_string()).filter(|v| !v.is_empty());
    if let Ok(value) = std::env::var(name) {
        return given(value);
    }
    dotenvy::from_path_iter(env_file)
        .ok()?
        .flatten()
        .filter(|(key, _)| key == name)
        .last()
        .and_then(|(_, value)| given(value))
}

fn notes_for(endpoint: Option<String>, protocol: Option<String>) -> Vec<String> {
    let mut notes = Vec::new();
    let grpc = protocol.as_deref() == Some("grpc");
    let Some(endpoint) = endpoint.filter(|e| !e.is_empty()) else {
        return notes;
    };
    let port = endpoint
        .rsplit(':')
        .next()
        .map(|rest| rest.split('/').next().unwrap_or_default().to_string());
    match (port.as_deref(), grpc) {
        (Some("4317"), false) => notes.push(
            "OTEL_EXPORTER_OTLP_ENDPOINT is on port 4317, the Collector's gRPC port, but the protocol \
             is HTTP: use port 4318, or set OTEL_EXPORTER_OTLP_PROTOCOL=grpc."
                .into(),
        ),
        (Some("4318"), true) => notes.push(
            "OTEL_EXPORTER_OTLP_PROTOCOL=grpc, but the endpoint is on port 4318, the Collector's HTTP \
             port: use port 4317 for gRPC."
                .into(),
        ),
        _ => {}
    }
    if endpoint.trim_end_matches('/').ends_with("/v1/traces") {
        notes.push(
            "OTEL_EXPORTER_OTLP_ENDPOINT ends with /v1/traces, but it is a base: the exporter adds \
             /v1/traces itself (…/v1/traces/v1/traces gets 404). Remove it, or use \
             OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, which is taken as given."
                .into(),
        );
    }
    if !endpoint.starts_with("http://") && !endpoint.starts_with("https://") {
        notes.push(
            "OTEL_EXPORTER_OTLP_ENDPOINT has no scheme: write http://localhost:4318 (or https:// for a \
             hosted backend); without one, gRPC takes it as https and stops at start-up."
                .into(),
        );
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notes(endpoint: &str, protocol: Option<&str>) -> Vec<String> {
        notes_for(Some(endpoint.into()), protocol.map(Into::into))
    }

    #[test]
    fn port_mix_ups_are_noted() {
        assert!(notes("http://localhost:4317", None)[0].contains("4318"));
        assert!(notes("http://localhost:4318", Some("grpc"))[0].contains("4317"));
        assert!(notes("http://localhost:4318", None).is_empty());
        assert!(notes("http://localhost:4317", Some("grpc")).is_empty());
    }

    #[test]
    fn a_value_comes_from_the_last_line_of_the_file_unless_the_environment_has_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(".env");
        std::fs::write(
            &file,
            "# CHECKER_TEST_PORT=1\nCHECKER_TEST_PORT=8092\nCHECKER_TEST_PORT=8093\nCHECKER_TEST_EMPTY=\n",
        )
        .unwrap();
        assert_eq!(value(&file, "CHECKER_TEST_PORT").as_deref(), Some("8093"));
        assert_eq!(value(&file, "CHECKER_TEST_EMPTY"), None);
        assert_eq!(value(&file, "CHECKER_TEST_UNSET"), None);
        assert_eq!(value(&dir.path().join("none"), "CHECKER_TEST_PORT"), None);
        // PATH is always in the environment, and wins over the file.
        std::fs::write(&file, "PATH=/nowhere\n").unwrap();
        assert_ne!(value(&file, "PATH").as_deref(), Some("/nowhere"));
    }

    #[test]
    fn a_path_or_a_missing_scheme_is_noted() {
        assert!(notes("http://localhost:4318/v1/traces", None)[0].contains("base"));
        assert!(notes("localhost:4317", Some("grpc"))[0].contains("scheme"));
        assert!(notes_for(None, None).is_empty());
    }
}
