//! The Collector's own check of our files: `validate` with the `--config` flags compose passes,
//! for `config.yaml` with each overlay; a broken copy fails it, so the check can fail. And the
//! Collector built from the manifest holds exactly the components the files use.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use stack::collector::{self, OVERLAYS};
use stack::compose::Variables;
use stack::config::{self, component_type, entries};

/// What `.env` would hold for the hosted overlay: a key (a fake one) and the default endpoint.
fn variables() -> Variables {
    Variables::from([(
        "HONEYCOMB_API_KEY".to_string(),
        "validation-only".to_string(),
    )])
}

fn printed(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn config_yaml_with_each_overlay_passes_the_collector_s_validate() {
    let programs = stack_tests::programs_or_skip!();
    let root = stack_tests::root();
    let overlays = config::overlays(&root).unwrap();
    for shipped in OVERLAYS {
        assert!(
            overlays.iter().any(|overlay| overlay == shipped),
            "{overlays:?}"
        );
    }
    for overlay in &overlays {
        let output =
            collector::validate(&root, &programs.collector, overlay, &variables()).unwrap();
        assert!(
            output.status.success(),
            "collector/config.yaml with {overlay}.yaml: {}",
            printed(&output)
        );
    }
}

/// A copy of the kit's compose file and Collector files in a temporary folder, with `from`
/// replaced by `to` in `collector/config.yaml`: what `validate` says of it.
fn validate_broken_copy(from: &str, to: &str) -> String {
    let programs = stack_tests::programs().expect("checked by the caller");
    let root = stack_tests::root();
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(
        root.join("docker-compose.yml"),
        copy.path().join("docker-compose.yml"),
    )
    .unwrap();
    std::fs::create_dir(copy.path().join("collector")).unwrap();
    for entry in std::fs::read_dir(root.join("collector")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(
            &path,
            copy.path()
                .join("collector")
                .join(path.file_name().unwrap()),
        )
        .unwrap();
    }
    let config = copy.path().join("collector/config.yaml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains(from),
        "collector/config.yaml no longer has {from:?}"
    );
    std::fs::write(&config, text.replacen(from, to, 1)).unwrap();

    let output =
        collector::validate(copy.path(), &programs.collector, "none", &variables()).unwrap();
    assert!(
        !output.status.success(),
        "validate passed collector/config.yaml with {from:?} → {to:?}"
    );
    printed(&output)
}

#[test]
fn a_broken_copy_fails_validate_with_the_collector_s_reason() {
    let _ = stack_tests::programs_or_skip!();
    // A misspelt field.
    let said = validate_broken_copy("limit_mib: 200", "limit_mb: 200");
    assert!(said.contains("invalid keys: limit_mb"), "{said}");
    // A component this Collector does not have (nor does the contrib image: it was removed).
    let said = validate_broken_copy("  debug:\n", "  logging: {}\n  debug:\n");
    assert!(said.contains("logging"), "{said}");
    // A pipeline naming an exporter no one defined.
    let said = validate_broken_copy(
        "exporters: [otlp_grpc/jaeger, debug]",
        "exporters: [otlp_grpc/jaeger, debug, otlp_http/honeycomb]",
    );
    assert!(said.contains("otlp_http/honeycomb"), "{said}");
}

/// The kinds of component a Collector has.
const KINDS: [&str; 5] = [
    "receivers",
    "processors",
    "exporters",
    "extensions",
    "connectors",
];

/// The component types a configuration names, by kind: `("exporters", "otlp_grpc")`, ….
fn named_components(config: &yaml_rust2::Yaml) -> BTreeSet<(String, String)> {
    let mut named = BTreeSet::new();
    for kind in KINDS {
        for (id, _) in entries(&config[kind]) {
            named.insert((kind.to_string(), component_type(&id).to_string()));
        }
    }
    named
}

#[test]
fn the_built_collector_holds_exactly_the_components_the_files_use() {
    let programs = stack_tests::programs_or_skip!();
    let root = stack_tests::root();
    let mut used = BTreeSet::new();
    for overlay in config::overlays(&root).unwrap() {
        used.extend(named_components(
            &config::read_merged(&root, &overlay).unwrap(),
        ));
    }

    let output = Command::new(&programs.collector)
        .arg("components")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", printed(&output));
    let listed = config::parse("components", &String::from_utf8_lossy(&output.stdout)).unwrap();
    let mut built = BTreeSet::new();
    for kind in KINDS {
        for component in listed[kind].as_vec().into_iter().flatten() {
            built.insert((kind.to_string(), config::scalar(&component["name"])));
        }
    }
    assert_eq!(
        used,
        built,
        "the components collector/*.yaml use (left) and those {} holds (right): \
         services/stack/go/collector/builder.yaml must list exactly the first",
        Path::new(&programs.collector).display()
    );
}
