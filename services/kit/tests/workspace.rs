//! Guards for the maintainer: the facts the README and the learners rely on, checked against the
//! files themselves. `cargo test -p kit --test workspace`.

use std::collections::{BTreeMap, BTreeSet};
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

#[test]
fn no_crate_has_an_import_cycle_between_its_modules() {
    let members = workspace_manifest()["workspace"]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|member| member.as_str().unwrap().to_string())
        .collect::<Vec<_>>();
    assert!(members.len() > 10, "{members:?}");
    let mut cycles = Vec::new();
    for member in &members {
        let graph = module_graph(&repo_root().join(member).join("src"));
        cycles.extend(
            find_cycles(&graph)
                .into_iter()
                .map(|cycle| format!("{member}: {}", cycle.join(" → "))),
        );
    }
    assert!(
        cycles.is_empty(),
        "modules that use each other, in a circle: move what they share to where it belongs, or \
         to a small module of its own\n  {}",
        cycles.join("\n  ")
    );
}

#[test]
fn every_crate_inherits_the_workspace_lints_and_only_the_signals_crate_is_unsafe() {
    let manifest = workspace_manifest();
    let lints = &manifest["workspace"]["lints"];
    assert_eq!(
        lints["rust"]["unsafe_code"].as_str(),
        Some("deny"),
        "{lints:?}"
    );
    let members = manifest["workspace"]["members"].as_array().unwrap();
    let mut problems = Vec::new();
    for member in members.iter().map(|member| member.as_str().unwrap()) {
        let crate_manifest: toml::Table = read(&format!("{member}/Cargo.toml")).parse().unwrap();
        let inherits = crate_manifest
            .get("lints")
            .and_then(|lints| lints.get("workspace"))
            .and_then(|workspace| workspace.as_bool());
        if inherits != Some(true) {
            problems.push(format!(
                "{member}/Cargo.toml: no `[lints] workspace = true`"
            ));
        }
        if member == "services/signals" {
            continue;
        }
        for dir in ["src", "tests", "benches"] {
            let dir = repo_root().join(member).join(dir);
            if !dir.is_dir() {
                continue;
            }
            for file in rust_files(&dir) {
                let code = code_of(&std::fs::read_to_string(&file).unwrap());
                // Spelt in two halves, so that this file does not match itself.
                let word = ["un", "safe"].concat();
                let patterns = [
                    format!("{word} {{"),
                    format!("{word} fn"),
                    format!("{word} impl"),
                    format!("allow({word}_code)"),
                ];
                if patterns
                    .iter()
                    .any(|pattern| code.contains(pattern.as_str()))
                {
                    problems.push(format!(
                        "{}: `unsafe` outside services/signals, the one place that calls libc",
                        file.strip_prefix(repo_root()).unwrap().display()
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Which top-level modules of the crate in `src` (`src/x.rs` or `src/x/`; the crate root
/// `lib.rs` or `main.rs` aside) name which others through `crate::`: in `use` lines, grouped
/// ones (`use crate::{a, b::c}`) included, and in paths (`crate::a::f()`). Comment lines and
/// `#[cfg(test)] mod tests` blocks do not count.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            files.entry(name).or_default().extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") && name != "lib" && name != "main"
        {
            files.entry(name).or_default().push(path);
        }
    }
    let mut graph = BTreeMap::new();
    for (module, paths) in &files {
        let mut uses = BTreeSet::new();
        for path in paths {
            let code = code_of(&std::fs::read_to_string(path).unwrap());
            for named in named_after_crate(&code) {
                if named != *module && files.contains_key(&named) {
                    uses.insert(named);
                }
            }
        }
        graph.insert(module.clone(), uses);
    }
    graph
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
    found
}

/// `text` without its comment lines and its `#[cfg(test)] mod tests { … }` blocks (from the
/// attribute to the first `}` at the start of a line).
fn code_of(text: &str) -> String {
    let mut code = String::new();
    let mut in_tests = false;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let next_is_tests = lines
            .peek()
            .is_some_and(|next| next.trim_start().starts_with("mod tests"));
        if line.trim() == "#[cfg(test)]" && next_is_tests {
            in_tests = true;
        } else if in_tests {
            in_tests = line != "}";
        } else if !line.trim_start().starts_with("//") {
            code.push_str(line);
            code.push('\n');
        }
    }
    code
}

/// The first name after each `crate::` in `code`: `a` in `crate::a::f`, `a` and `b` in
/// `crate::{a, b::c}`.
fn named_after_crate(code: &str) -> Vec<String> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let first_name =
        |path: &str| -> String { path.trim().chars().take_while(|&c| is_name(c)).collect() };
    let mut names = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        if code[..at].ends_with(is_name) {
            continue; // `othercrate::`, not this crate
        }
        let rest = &code[at + "crate::".len()..];
        match rest.strip_prefix('{') {
            Some(group) => {
                // Up to the brace that closes the group; a comma at its top level ends a path.
                let (mut depth, mut start) = (0, 0);
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            names.push(first_name(&group[start..i]));
                            break;
                        }
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            names.push(first_name(&group[start..i]));
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
            }
            None => names.push(first_name(rest)),
        }
    }
    names.retain(|name| !name.is_empty() && name != "self");
    names
}

/// Every cycle in `graph`, each spelled from a module back to itself: `["a", "b", "a"]`.
fn find_cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    fn visit(
        module: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        cycles: &mut Vec<Vec<String>>,
    ) {
        if let Some(at) = path.iter().position(|on_path| on_path == module) {
            let mut cycle = path[at..].to_vec();
            cycle.push(module.to_string());
            cycles.push(cycle);
            return;
        }
        if done.contains(module) {
            return;
        }
        path.push(module.to_string());
        for next in &graph[module] {
            visit(next, graph, path, done, cycles);
        }
        path.pop();
        done.insert(module.to_string());
    }
    let (mut done, mut cycles) = (BTreeSet::new(), Vec::new());
    for module in graph.keys() {
        visit(module, graph, &mut Vec::new(), &mut done, &mut cycles);
    }
    cycles
}

#[test]
fn the_cycle_finder_reads_grouped_uses_and_paths_and_skips_comments_and_tests() {
    let code = code_of(
        "use crate::{a, b::{c, d}, self as me};\n\
         // crate::commented\n\
         fn f() { crate::e::g(); othercrate::h(); }\n\
         #[cfg(test)]\n\
         mod tests {\n    use crate::tested;\n}\n\
         fn after() { crate::f::x() }\n",
    );
    assert_eq!(named_after_crate(&code), ["a", "b", "e", "f"]);

    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(module, uses)| {
        (
            module.to_string(),
            uses.into_iter().map(String::from).collect(),
        )
    })
    .collect();
    assert_eq!(find_cycles(&graph), [["a", "b", "c", "a"]]);
}
