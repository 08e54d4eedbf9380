//! The learner's `.env`, looked over for the mix-ups that send spans nowhere.
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
    fn a_path_or_a_missing_scheme_is_noted() {
        assert!(notes("http://localhost:4318/v1/traces", None)[0].contains("base"));
        assert!(notes("localhost:4317", Some("grpc"))[0].contains("scheme"));
        assert!(notes_for(None, None).is_empty());
    }
}
