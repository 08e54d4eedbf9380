//! The mistakes learners make, each made on purpose in a copy of a solution: every one must fail
//! its check with its own hint. Run with: `cargo test -p checker --test variants`.
//!
//! The copies live in a temporary workspace (the kit's `Cargo.toml` and `Cargo.lock`, and one
//! crate per variant) built into the kit's own target folder, so that the dependencies and the
//! shared crates are not compiled again. Each variant is a solution plus textual edits; an edit
//! whose text is no longer in the solution fails the test, so the table cannot rot silently.
//!
//! Each must be told by its own hint, and by that one alone: a variant with one mistake fails
//! exactly one expectation (a second ✗ would send the learner after a mistake they did not make).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use checker::check::{self, Subject};
use checker::expect::{Mistake, Verdict, step_02, step_03, step_04};
use checker::report::{self, Style};
use checker::run::Protocol;
use receiver::SpanKind;
use testkit::kit_root;

/// One broken copy: a solution, edits as (file, text, replacement), and the mistake expected.
struct Variant {
    name: &'static str,
    step: u32,
    solution: &'static str,
    edits: &'static [(&'static str, &'static str, &'static str)],
}

const VARIANTS: &[Variant] = &[
    Variant {
        name: "no-provider",
        step: 2,
        solution: "02-otlp",
        edits: &[(
            "src/telemetry.rs",
            "global::set_tracer_provider(provider.clone());",
            "",
        )],
    },
    Variant {
        name: "dropped-early",
        step: 2,
        solution: "02-otlp",
        edits: &[
            (
                "src/main.rs",
                "let tracer_provider = telemetry::init_traces()?;",
                "let _ = telemetry::init_traces()?;",
            ),
            (
                "src/main.rs",
                "telemetry::shutdown(tracer_provider).await;",
                "",
            ),
        ],
    },
    Variant {
        name: "no-shutdown-alone",
        step: 2,
        solution: "02-otlp",
        edits: &[(
            "src/main.rs",
            "telemetry::shutdown(tracer_provider).await;",
            "",
        )],
    },
    Variant {
        name: "no-shutdown",
        step: 2,
        solution: "02-otlp",
        edits: &[
            (
                "src/main.rs",
                "let tracer_provider = telemetry::init_traces()?;",
                "let _tracer_provider = telemetry::init_traces()?;",
            ),
            (
                "src/main.rs",
                "telemetry::shutdown(tracer_provider).await;",
                "",
            ),
        ],
    },
    Variant {
        name: "wrong-protocol",
        step: 2,
        solution: "02-otlp",
        edits: &[
            // The learner who goes for the bonus turns gRPC on first; then uses it always.
            (
                "Cargo.toml",
                "opentelemetry-otlp.workspace = true",
                "opentelemetry-otlp = { workspace = true, features = [\"grpc-tonic\"] }",
            ),
            (
                "src/telemetry.rs",
                ".with_http()\n                .with_protocol(Protocol::HttpBinary)\n",
                ".with_tonic()\n",
            ),
        ],
    },
    Variant {
        name: "no-service-name",
        step: 2,
        solution: "02-otlp",
        edits: &[(
            "src/telemetry.rs",
            "SdkTracerProvider::builder().with_resource(resource());",
            "SdkTracerProvider::builder(); let _ = resource;",
        )],
    },
    Variant {
        name: "no-propagator",
        step: 3,
        solution: "03-propagation",
        edits: &[(
            "src/telemetry.rs",
            "global::set_text_map_propagator(TraceContextPropagator::new());",
            "let _ = TraceContextPropagator::new;",
        )],
    },
    Variant {
        name: "no-extraction",
        step: 3,
        solution: "03-propagation",
        edits: &[(
            "src/server.rs",
            "propagator.extract(&HeaderExtractor(request.headers()))",
            "propagator.extract(&HeaderExtractor(&HeaderMap::new()))",
        )],
    },
    Variant {
        name: "no-client-spans",
        step: 3,
        solution: "03-propagation",
        edits: &[
            (
                "src/server.rs",
                "let span = state\n        .tracer\n        .span_builder(\"GET\")\n        .with_kind(SpanKind::Client)\n        .start(state.tracer.as_ref());\n    let cx = Context::current_with_span(span);",
                "let cx = Context::current();",
            ),
            (
                "src/server.rs",
                "    cx.span().end();\n    result\n}",
                "    result\n}",
            ),
        ],
    },
    Variant {
        name: "missing-attributes",
        step: 4,
        solution: "04-attributes",
        edits: &[(
            "src/server.rs",
            ".with_attributes(conventions::server_attributes(&request))",
            "",
        )],
    },
    Variant {
        name: "string-fib-index",
        step: 4,
        solution: "04-attributes",
        edits: &[(
            "src/server.rs",
            "KeyValue::new(\"fib.index\", i64::from(index))",
            "KeyValue::new(\"fib.index\", index.to_string())",
        )],
    },
    Variant {
        name: "missing-error-status",
        step: 4,
        solution: "04-attributes",
        edits: &[(
            "src/server.rs",
            "            span.record_error(err);\n            span.set_status(Status::error(err.to_string()));",
            "            span.record_error(err);",
        )],
    },
];

/// The mistake each variant must be told, by name.
fn expected(name: &str) -> Mistake {
    match name {
        "no-provider" => step_02::Mistake::NoProvider.into(),
        "dropped-early" => step_02::Mistake::DroppedEarly.into(),
        "no-shutdown" | "no-shutdown-alone" => step_02::Mistake::NoShutdown.into(),
        "wrong-protocol" => step_02::Mistake::TransportMixup {
            sent: Protocol::Grpc,
            port_of: Protocol::HttpProtobuf,
        }
        .into(),
        "no-service-name" => step_02::Mistake::ServiceName {
            found: Some("unknown_service:variant-no-service-name".into()),
        }
        .into(),
        "no-propagator" => step_03::Mistake::NoInjection.into(),
        "no-extraction" => step_03::Mistake::NoExtraction.into(),
        "no-client-spans" => step_03::Mistake::NoClientSpans.into(),
        "missing-attributes" => step_04::Mistake::MissingAttributes {
            kind: SpanKind::Server,
            names: [
                "http.request.method",
                "http.route",
                "url.path",
                "url.query",
                "server.address",
            ]
            .map(String::from)
            .to_vec(),
        }
        .into(),
        "string-fib-index" => step_04::Mistake::AttributeType {
            key: "fib.index".into(),
            found: "a string",
            expected: "an integer (i64)",
        }
        .into(),
        "missing-error-status" => step_04::Mistake::ErrorNotRecorded {
            status: false,
            exception: true,
        }
        .into(),
        other => panic!("no expected mistake for {other}"),
    }
}

/// The temporary workspace, made and built once for all the tests of this file.
fn workspace() -> &'static Path {
    static WORKSPACE: OnceLock<tempfile::TempDir> = OnceLock::new();
    WORKSPACE
        .get_or_init(|| {
            let dir = tempfile::tempdir().expect("a temporary folder");
            make_workspace(&kit_root(), dir.path());
            dir
        })
        .path()
}

fn make_workspace(kit: &Path, dir: &Path) {
    let manifest = std::fs::read_to_string(kit.join("Cargo.toml")).unwrap();
    let members_start = manifest.find("members = [").expect("a members list");
    let members_end = members_start + manifest[members_start..].find(']').unwrap() + 1;
    // The shared crates stay where they are (their absolute path makes them the same packages,
    // already built); only the copies are members here.
    let mut manifest = format!(
        "{}members = [\"variants/*\", \"broken\"]{}",
        &manifest[..members_start],
        &manifest[members_end..]
    )
    .replace("default-members = [\"services/kit\"]\n", "");
    for shared in ["sequence", "otelkit"] {
        let path = kit.join("services").join(shared);
        manifest = manifest.replace(
            &format!("{shared} = {{ path = \"services/{shared}\" }}"),
            &format!("{shared} = {{ path = {:?} }}", path.display().to_string()),
        );
    }
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(kit.join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    for variant in VARIANTS {
        let to = dir.join("variants").join(variant.name);
        copy_crate(
            &kit.join("solutions").join(variant.solution),
            &to,
            variant.name,
        );
        for (file, from, into) in variant.edits {
            let path = to.join(file);
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(
                text.matches(from).count(),
                1,
                "{}: {from:?} should be in {file} once; did the solution change?",
                variant.name
            );
            std::fs::write(&path, text.replacen(from, into, 1)).unwrap();
        }
    }
    // A crate that does not compile: `init_traces` returns a Result, used as the provider.
    copy_crate(
        &kit.join("solutions/02-otlp"),
        &dir.join("broken"),
        "broken",
    );
    let main = dir.join("broken/src/main.rs");
    let text = std::fs::read_to_string(&main).unwrap();
    let from = "telemetry::init_traces()?;";
    assert!(text.contains(from));
    std::fs::write(&main, text.replacen(from, "telemetry::init_traces();", 1)).unwrap();

    // Every build here goes to the kit's target folder, the checker's too: only the copies compile.
    std::fs::create_dir_all(dir.join(".cargo")).unwrap();
    std::fs::write(
        dir.join(".cargo/config.toml"),
        format!(
            "[build]\ntarget-dir = {:?}\n",
            target_dir(kit).display().to_string()
        ),
    )
    .unwrap();
    // One cargo build for all of them, so that they compile side by side.
    let status = std::process::Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()))
        .current_dir(dir)
        .args([
            "build",
            "--workspace",
            "--exclude",
            "variant-broken",
            "--quiet",
        ])
        .status()
        .unwrap();
    assert!(status.success(), "the variants should build");
}

fn target_dir(kit: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| kit.join("target"))
}

/// Copies a step crate under a new package name, without its tests (they need testkit).
fn copy_crate(from: &Path, to: &Path, name: &str) {
    copy_dir(&from.join("src"), &to.join("src"));
    let manifest = std::fs::read_to_string(from.join("Cargo.toml")).unwrap();
    let manifest = manifest[..manifest
        .find("[dev-dependencies]")
        .unwrap_or(manifest.len())]
        .lines()
        .map(|line| {
            if line.starts_with("name = ") {
                format!("name = \"variant-{name}\"")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(to.join("Cargo.toml"), manifest + "\n").unwrap();
    // An edit leaves an import or a function unused: the build's warnings would only be noise.
    let main = to.join("src/main.rs");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, format!("#![allow(unused)]\n{text}")).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let path = entry.path();
        if entry.file_name() == "target" {
            continue;
        }
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

/// Checks run one at a time: each starts three apps, and timing matters to the flush check.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn check_variant(name: &str) {
    let root = workspace();
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let variant = VARIANTS.iter().find(|v| v.name == name).unwrap();
    let subject = Subject {
        step: variant.step,
        package: format!("variant-{name}"),
        crate_dir: PathBuf::from("variants").join(name),
    };
    let report = check::check(root, &subject, true).unwrap();
    let text = report::render(&report, Style::Plain);
    let Ok(outcomes) = &report.outcome else {
        panic!("{name} did not build:\n{text}");
    };
    assert!(!report.passed(), "{name} passed its check:\n{text}");
    let mistake = expected(name);
    let failed: Vec<&Mistake> = outcomes
        .iter()
        .filter_map(|outcome| match &outcome.verdict {
            Verdict::Failed { mistake, .. } => Some(mistake),
            _ => None,
        })
        .collect();
    assert!(
        failed.contains(&&mistake),
        "{name}: expected the hint for {mistake:?}:\n{text}"
    );
    assert!(
        text.contains(&report::wrap("        hint:  ", &mistake.hint())),
        "{text}"
    );
    assert_eq!(
        failed.len(),
        1,
        "{name}: one mistake, one ✗; also told {:?}:\n{text}",
        failed
            .iter()
            .filter(|told| ***told != mistake)
            .collect::<Vec<_>>()
    );
}

#[test]
fn no_provider_installed_is_told() {
    check_variant("no-provider");
}

#[test]
fn a_provider_dropped_at_once_is_told() {
    check_variant("dropped-early");
}

#[test]
fn no_shutdown_is_told_by_the_missing_last_spans() {
    check_variant("no-shutdown");
}

#[test]
fn a_missing_shutdown_alone_is_told_once_not_also_as_a_missing_server_span() {
    check_variant("no-shutdown-alone");
}

#[test]
fn grpc_sent_to_the_http_port_is_told() {
    check_variant("wrong-protocol");
}

#[test]
fn the_sdks_unknown_service_name_is_told() {
    check_variant("no-service-name");
}

#[test]
fn no_propagator_is_told_by_the_missing_traceparent() {
    check_variant("no-propagator");
}

#[test]
fn a_server_that_does_not_extract_is_told() {
    check_variant("no-extraction");
}

#[test]
fn missing_client_spans_are_told() {
    check_variant("no-client-spans");
}

#[test]
fn missing_server_attributes_are_told() {
    check_variant("missing-attributes");
}

#[test]
fn a_string_where_an_integer_belongs_is_told_as_a_type_mismatch() {
    check_variant("string-fib-index");
}

#[test]
fn a_missing_error_status_is_told() {
    check_variant("missing-error-status");
}

#[test]
fn every_variant_gets_a_hint_of_its_own() {
    // Two variants leave out the shutdown, one renaming the provider's variable as well.
    let hints: std::collections::BTreeSet<String> =
        VARIANTS.iter().map(|v| expected(v.name).hint()).collect();
    assert_eq!(hints.len(), VARIANTS.len() - 1);
}

#[test]
fn a_build_error_is_shown_with_the_compilers_words_and_a_hint() {
    let root = workspace();
    let build = checker::compile::build(root, "variant-broken", true).unwrap();
    let checker::compile::Build::Failed(failure) = build else {
        panic!("variant-broken should not build");
    };
    let errors = failure.errors.concat();
    assert!(
        errors.contains("E0308") || errors.contains("mismatched types"),
        "{errors}"
    );
    assert!(failure.hint.contains("./run.sh diff"), "{}", failure.hint);
}
