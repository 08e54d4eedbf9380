//! Guards for the maintainer: the facts the README and the learners rely on, checked against the
//! files themselves. `cargo test -p kit --test workspace`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::CommandFactory;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn workspace_manifest() -> toml::Table {
    read("Cargo.toml").parse().expect("Cargo.toml parses")
}

/// `"1.88"` or `"1.85.0"` as numbers, for comparing: `[1, 88, 0]`, `[1, 85, 0]`.
fn version(text: &str) -> Vec<u64> {
    let mut parts: Vec<u64> = text.split('.').map(|part| part.parse().unwrap()).collect();
    parts.resize(3, 0);
    parts
}

#[test]
fn the_rust_version_covers_every_dependency() {
    let manifest = workspace_manifest();
    let declared = manifest["workspace"]["package"]["rust-version"]
        .as_str()
        .unwrap();
    let output = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(repo_root())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut needs = Vec::new();
    for package in metadata["packages"].as_array().unwrap() {
        if let Some(rust_version) = package["rust_version"].as_str() {
            needs.push((
                version(rust_version),
                package["name"].as_str().unwrap().to_string(),
            ));
        }
    }
    let (highest, who) = needs.iter().max().unwrap();
    assert!(
        version(declared) >= *highest,
        "rust-version = {declared} in Cargo.toml, but {who} needs {highest:?}: raise it (and the README)"
    );
    assert!(
        read("README.md").contains(&format!("Rust {declared}")),
        "the README names the MSRV"
    );
}

#[test]
fn the_opentelemetry_crates_are_on_one_version_line() {
    let manifest = workspace_manifest();
    let dependencies = manifest["workspace"]["dependencies"].as_table().unwrap();
    let minor = |name: &str| -> u64 {
        let spec = &dependencies[name];
        let text = spec
            .as_str()
            .or_else(|| spec.get("version").and_then(|v| v.as_str()))
            .unwrap();
        let parts = version(text.trim_start_matches(['=', '^']));
        assert_eq!(parts[0], 0, "{name} {text}: the kit expects the 0.x line");
        parts[1]
    };
    let line = minor("opentelemetry");
    for name in [
        "opentelemetry_sdk",
        "opentelemetry-otlp",
        "opentelemetry-stdout",
        "opentelemetry-http",
        "opentelemetry-semantic-conventions",
    ] {
        assert_eq!(
            minor(name),
            line,
            "{name} must be on opentelemetry's 0.{line} line"
        );
    }
    // tracing-opentelemetry's minor is one above the opentelemetry line it is made for.
    assert_eq!(
        minor("tracing-opentelemetry"),
        line + 1,
        "tracing-opentelemetry 0.{} pairs with opentelemetry 0.{line}",
        line + 1
    );
}

/// The variables the app and the trace explorer read, from their own settings parsers.
fn app_variables() -> BTreeSet<String> {
    #[derive(clap::Parser)]
    struct Explorer {
        #[command(flatten)]
        settings: explorer::Settings,
    }
    [sequence::Config::command(), Explorer::command()]
        .iter()
        .flat_map(|command| command.get_arguments())
        .filter_map(|arg| arg.get_env())
        .map(|name| name.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn env_example_and_readme_document_every_variable_the_app_reads() {
    let example = read(".env.example");
    let documented: BTreeSet<String> = example
        .lines()
        .map(|line| line.trim_start_matches("# ").trim())
        .filter_map(|line| line.split_once('='))
        .map(|(name, _)| name.to_string())
        .filter(|name| {
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
        .collect();
    let read_by_app = app_variables();
    assert!(read_by_app.len() >= 6, "{read_by_app:?}");
    let undocumented: Vec<_> = read_by_app.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        ".env.example does not document {undocumented:?}"
    );
    let readme = read("README.md");
    for name in &read_by_app {
        assert!(
            readme.contains(&format!("`{name}`")),
            "README.md does not document `{name}`"
        );
    }
    // .env.example is committed: it holds no secret value.
    for line in example.lines().filter(|line| !line.starts_with('#')) {
        assert!(
            line.trim().is_empty(),
            ".env.example sets a value; keep every line commented: {line}"
        );
    }
}

#[test]
fn cloud_ides_forward_the_app_port_and_build_ahead() {
    let port = sequence::config::DEFAULT_PORT;
    let devcontainer: serde_json::Value =
        serde_json::from_str(&read(".devcontainer/devcontainer.json")).unwrap();
    let forwarded: Vec<u64> = devcontainer["forwardPorts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_u64().unwrap())
        .collect();
    assert!(forwarded.contains(&u64::from(port)), "{forwarded:?}");
    assert!(
        devcontainer["postCreateCommand"]
            .as_str()
            .unwrap()
            .starts_with("cargo build --workspace")
    );
    assert_eq!(devcontainer["containerEnv"]["APP_HOST"], "0.0.0.0");

    let gitpod = read(".gitpod.yml");
    assert!(gitpod.contains(&format!("- port: {port}")), "{gitpod}");
    assert!(gitpod.contains("init: cargo build --workspace"), "{gitpod}");
    assert!(gitpod.contains("APP_HOST: 0.0.0.0"), "{gitpod}");
}

#[test]
fn git_ignores_build_outputs_and_env() {
    let ignore = read(".gitignore");
    for entry in ["target/", ".env"] {
        assert!(
            ignore.lines().any(|line| line == entry),
            ".gitignore lacks {entry}"
        );
    }
}
