//! Building the learner's crate with cargo, showing its progress, and reading its errors.
//!
//! cargo runs with `--message-format json-diagnostic-rendered-ansi`: its progress bar and
//! `Compiling …` lines still go to the terminal as they come (a first build takes a minute or
//! two, and must not look stuck), while the compiler's messages come back as JSON, with their
//! error codes, so that a known mistake gets its hint.

use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::Context;
use serde_json::Value;

/// How a build went.
pub enum Build {
    Built { binary: PathBuf },
    Failed(BuildFailure),
}

/// A failed build: what the compiler (or cargo) said, and the hint for it.
pub struct BuildFailure {
    /// The errors, as the compiler rendered them.
    pub errors: Vec<String>,
    /// What cargo itself printed, when it failed before compiling (e.g. a dependency it can't find).
    pub cargo_output: String,
    pub hint: String,
}

/// What to say before building `package`: that the first build takes a minute or two, but only
/// when `first` (the first build of this run: in watch mode, later builds reuse its work) and
/// the package's binary is not in the target directory yet. Otherwise just what is built.
pub fn building_note(root: &Path, package: &str, first: bool) -> String {
    note_before_building(&binary_path(root, package), package, first)
}

fn note_before_building(binary: &Path, package: &str, first: bool) -> String {
    if first && !binary.exists() {
        format!("Building {package} (the first build takes a minute or two)…")
    } else {
        format!("Building {package}…")
    }
}

/// Where cargo puts `package`'s debug binary: under `CARGO_TARGET_DIR` when it is set (relative
/// to `root`, where cargo runs), else `root/target`.
fn binary_path(root: &Path, package: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| root.join(dir))
        .unwrap_or_else(|| root.join("target"));
    target
        .join("debug")
        .join(format!("{package}{}", std::env::consts::EXE_SUFFIX))
}

/// Builds `package` in the workspace at `root` and returns its binary, or why it did not build.
/// Progress goes to stderr; the learner's own warnings are printed too.
pub fn build(root: &Path, package: &str, quiet: bool) -> anyhow::Result<Build> {
    let terminal = std::io::stderr().is_terminal();
    let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command
        .current_dir(root)
        .args(["build", "--package", package, "--message-format"])
        .arg(if terminal {
            "json-diagnostic-rendered-ansi"
        } else {
            "json"
        })
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if terminal {
        // cargo's stderr is a pipe to us, but its progress bar is still wanted on the terminal.
        command
            .env("CARGO_TERM_COLOR", "always")
            .env("CARGO_TERM_PROGRESS_WHEN", "always")
            .env("CARGO_TERM_PROGRESS_WIDTH", "80");
    }
    let mut child = command.spawn().context("could not start cargo")?;

    // cargo's own output, passed on as it comes (the progress bar redraws with `\r`), and kept.
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let forward = std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buffer = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buffer) {
            if n == 0 {
                break;
            }
            if !quiet {
                let _ = std::io::stderr().write_all(&buffer[..n]);
            }
            kept.extend_from_slice(&buffer[..n]);
        }
        String::from_utf8_lossy(&kept).into_owned()
    });

    let mut binary = None;
    let mut errors = Vec::new();
    let mut codes = Vec::new();
    let stdout = child.stdout.take().expect("stdout is piped");
    for line in BufReader::new(stdout).lines() {
        let Ok(message) = serde_json::from_str::<Value>(&line.unwrap_or_default()) else {
            continue;
        };
        match message["reason"].as_str() {
            Some("compiler-artifact") => {
                let is_ours = message["target"]["name"] == package
                    && message["target"]["kind"]
                        .as_array()
                        .is_some_and(|kinds| kinds.iter().any(|k| k == "bin"));
                if is_ours && let Some(path) = message["executable"].as_str() {
                    binary = Some(PathBuf::from(path));
                }
            }
            Some("compiler-message") => {
                let diagnostic = &message["message"];
                let rendered = diagnostic["rendered"].as_str().unwrap_or_default();
                match diagnostic["level"].as_str() {
                    Some("error") => {
                        codes.push(diagnostic_text(diagnostic));
                        errors.push(rendered.to_string());
                    }
                    Some("warning") if !quiet => eprint!("{rendered}"),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    let status = child.wait().context("waiting for cargo")?;
    let cargo_output = forward.join().unwrap_or_default();
    match binary {
        Some(binary) if status.success() => Ok(Build::Built { binary }),
        _ => {
            let hint = build_hint(root, package, &codes, &cargo_output);
            Ok(Build::Failed(BuildFailure {
                errors,
                cargo_output,
                hint,
            }))
        }
    }
}

/// A diagnostic's code, message and notes, flattened, for recognising known mistakes.
fn diagnostic_text(diagnostic: &Value) -> String {
    let mut text = format!(
        "{} {}",
        diagnostic["code"]["code"].as_str().unwrap_or_default(),
        diagnostic["message"].as_str().unwrap_or_default()
    );
    for child in diagnostic["children"].as_array().into_iter().flatten() {
        text.push('\n');
        text.push_str(child["message"].as_str().unwrap_or_default());
    }
    text
}

/// The hint for a failed build: the version mismatch, a missing dependency, or the general way on.
pub fn build_hint(root: &Path, package: &str, errors: &[String], cargo_output: &str) -> String {
    let versions = lock_versions(root, "opentelemetry");
    let mismatch = errors.iter().any(|e| {
        e.starts_with("E0277")
            && e.contains("opentelemetry")
            && (e.contains("multiple different versions") || e.contains("Tracer"))
    });
    if mismatch || versions.len() > 1 {
        return format!(
            "Two versions of `opentelemetry` are in the build ({}): a type from one does not implement \
             the other's traits, hence \"the trait bound … is not satisfied\". Every OpenTelemetry crate \
             must be on one line (0.33), and `tracing-opentelemetry` on the release made for it (0.34). \
             Take the versions from the workspace: `tracing-opentelemetry.workspace = true` in the step's \
             Cargo.toml. `cargo tree -d -p {package} | grep opentelemetry` shows who brings the other one.",
            if versions.is_empty() {
                "see the note above".to_string()
            } else {
                versions.join(" and ")
            }
        );
    }
    let unresolved = errors.iter().find(|e| {
        (e.starts_with("E0432") || e.starts_with("E0433"))
            && ["tracing", "opentelemetry", "otelkit"]
                .iter()
                .any(|name| e.contains(name))
    });
    if unresolved.is_some() {
        let docs = match versions.first() {
            Some(version) => format!("https://docs.rs/opentelemetry/{version}/opentelemetry/"),
            None => "docs.rs".to_string(),
        };
        return format!(
            "A crate is not found: is it in the step's Cargo.toml? Add it under [dependencies] as \
             `name.workspace = true`; the versions are chosen once, in the top-level Cargo.toml. Or \
             the name moved: check the docs of the version in Cargo.lock ({docs}, and the same \
             version for the other opentelemetry crates)."
        );
    }
    // `.with_tonic()` without the Cargo feature that brings it: the steps leave gRPC off.
    if errors
        .iter()
        .any(|e| e.starts_with("E0599") && e.contains("with_tonic"))
    {
        return "`with_tonic` is there only with opentelemetry-otlp's `grpc-tonic` feature, which the \
                steps leave off (it adds gRPC's crates to every build). For the bonus, turn it on in the \
                step's Cargo.toml: `opentelemetry-otlp = { workspace = true, features = [\"grpc-tonic\"] }`."
            .into();
    }
    if errors.is_empty() && !cargo_output.is_empty() {
        return "cargo stopped before compiling (its message is above). A dependency it cannot find or \
                fetch is the usual cause: take versions from the workspace (`name.workspace = true`)."
            .into();
    }
    format!(
        "Read the first error above: the later ones often follow from it. `./run.sh diff {}` shows \
         what the solution has at the lines in question.",
        step_of(package)
    )
}

fn step_of(package: &str) -> String {
    package
        .split('-')
        .find(|part| part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or("NN")
        .to_string()
}

/// The versions of `name` in the workspace's Cargo.lock.
pub fn lock_versions(root: &Path, name: &str) -> Vec<String> {
    let Ok(lock) = std::fs::read_to_string(root.join("Cargo.lock")) else {
        return Vec::new();
    };
    let mut versions = Vec::new();
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == format!("name = \"{name}\"")
            && let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = "))
        {
            versions.push(version.trim_matches('"').to_string());
        }
    }
    versions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_build_is_announced_as_slow_only_before_the_binary_exists() {
        let dir = std::env::temp_dir().join(format!("checker-note-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let binary = dir.join("exercise-09-x");
        let _ = std::fs::remove_file(&binary);
        let slow = "the first build takes a minute or two";
        assert!(note_before_building(&binary, "exercise-09-x", true).contains(slow));
        // Not the first build of this run (watch mode, after a save): no warning.
        assert_eq!(
            note_before_building(&binary, "exercise-09-x", false),
            "Building exercise-09-x…"
        );
        // Built before, by an earlier run: no warning either.
        std::fs::write(&binary, "").unwrap();
        assert_eq!(
            note_before_building(&binary, "exercise-09-x", true),
            "Building exercise-09-x…"
        );
        let _ = std::fs::remove_dir_all(&dir);
        // The real path: the workspace's target directory, where the tests' own binaries are.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        assert!(
            binary_path(&root, "checker")
                .ends_with(format!("debug/checker{}", std::env::consts::EXE_SUFFIX))
        );
    }

    /// The E0277 rustc 1.95 gives for a tracing-opentelemetry made for another OpenTelemetry
    /// line (0.32 with opentelemetry 0.33), as [`diagnostic_text`] flattens it.
    const MISMATCH: &str =
        "E0277 the trait bound `SdkTracer: opentelemetry::trace::tracer::Tracer` is not satisfied
there are multiple different versions of crate `opentelemetry` in the dependency graph
you can use `cargo tree` to explore your dependency tree
the following other types implement trait `opentelemetry::trace::tracer::Tracer`
required by a bound in `OpenTelemetryLayer::<S, T>::with_tracer`";

    #[test]
    fn the_version_mismatch_gets_its_own_hint() {
        let hint = build_hint(
            Path::new("/nowhere"),
            "exercise-02-otlp",
            &[MISMATCH.into()],
            "",
        );
        assert!(hint.contains("Two versions of `opentelemetry`"), "{hint}");
        assert!(hint.contains("cargo tree -d -p exercise-02-otlp"), "{hint}");
    }

    #[test]
    fn a_missing_crate_and_other_errors_get_theirs() {
        let missing = "E0432 unresolved import `tracing_opentelemetry`".to_string();
        let hint = build_hint(
            Path::new("/nowhere"),
            "exercise-02-otlp",
            std::slice::from_ref(&missing),
            "",
        );
        assert!(hint.contains("workspace = true"), "{hint}");
        // The docs it points to are those of the version in the kit's Cargo.lock.
        let kit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let version = lock_versions(&kit, "opentelemetry").remove(0);
        let hint = build_hint(&kit, "exercise-02-otlp", &[missing], "");
        let docs = format!("https://docs.rs/opentelemetry/{version}/opentelemetry/");
        assert!(hint.contains(&docs), "{hint}");
        let other = "E0308 mismatched types".to_string();
        let hint = build_hint(Path::new("/nowhere"), "exercise-02-otlp", &[other], "");
        assert!(hint.contains("./run.sh diff 02"), "{hint}");
    }

    /// What rustc 1.95 says for `.with_tonic()` when the `grpc-tonic` feature is off.
    #[test]
    fn tonic_without_its_feature_is_told_which_feature() {
        let error = "E0599 no method named `with_tonic` found for struct \
                     `SpanExporterBuilder<NoExporterBuilderSet>` in the current scope"
            .to_string();
        let hint = build_hint(Path::new("/nowhere"), "exercise-02-otlp", &[error], "");
        assert!(hint.contains("features = [\"grpc-tonic\"]"), "{hint}");
    }

    #[test]
    fn versions_are_read_from_the_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("Cargo.lock"),
            "[[package]]\nname = \"opentelemetry\"\nversion = \"0.33.1\"\n\n[[package]]\nname = \"opentelemetry\"\nversion = \"0.32.0\"\n",
        )
        .unwrap();
        assert_eq!(
            lock_versions(dir.path(), "opentelemetry"),
            ["0.33.1", "0.32.0"]
        );
        let hint = build_hint(dir.path(), "exercise-02-otlp", &[], "");
        assert!(hint.contains("0.33.1 and 0.32.0"), "{hint}");
    }
}
