//! The Collector and Jaeger, checked without Docker: `cargo test -p kit --test compose`.
//!
//! No Docker engine runs where the kit is built, so `docker-compose.yml` and the Collector's
//! configuration (`collector/`) are checked statically:
//! - `docker compose config` (or Debian's `docker-compose config`) validates the compose file, with
//!   the hosted backend off and on; without either tool the test is skipped, except in CI.
//! - A lint walks the Collector's configuration as the Collector will see it (`config.yaml` with
//!   each overlay merged over it): every component a pipeline names is defined, every one defined
//!   is used, no removed component, `memory_limiter` first and `batch` in every pipeline, and no
//!   key written where an `${env:…}` substitution belongs.
//! - The tail-sampling overlay (`collector/sampling.yaml`, step 08) passes the checker's own lint
//!   of it (`checker::sampling::collector::lint`), the one `./run.sh check 08` runs on the
//!   learner's copy: one lint for both.
//! - The ports agree: the Collector's receivers, what compose publishes, the kit's OTLP defaults,
//!   `.env.example`, and the ports the cloud IDEs forward.
//!
//! The lint is tested on broken configurations too, so that it is known to catch mistakes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use stack::compose::memory_size;
use stack::config::{component_type, entries, merge, scalar, strings};
use yaml_rust2::Yaml;

/// The OTLP ports the kit's exporters default to (the OTLP specification's): gRPC and HTTP.
const OTLP_GRPC_PORT: u16 = 4317;
const OTLP_HTTP_PORT: u16 = 4318;
/// Jaeger's UI.
const JAEGER_UI_PORT: u16 = 16686;
/// The whole stack's memory must stay under this (learners' laptops, Codespaces).
const STACK_MEMORY_LIMIT: u64 = 1024 * 1024 * 1024;

const INSTALL_HINT: &str = "install Debian's package with `apt-get install docker-compose`, \
                            or Docker's compose plugin (`docker compose`)";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|err| panic!("{path}: {err}"))
}

/// `true` in CI (`CI=true`): a missing tool fails the test instead of skipping it.
fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true" || value == "1")
}

/// The first document of a YAML text; an empty document is an empty map, as for the Collector.
fn parse(name: &str, text: &str) -> Yaml {
    stack::config::parse(name, text).unwrap_or_else(|err| panic!("{err}"))
}

// ------------------------------------------------------------------------------------------------
// The Collector's configuration

/// Exporters that the Collector no longer has, and what replaces them.
const REMOVED_EXPORTERS: [(&str, &str); 2] = [
    (
        "logging",
        "removed from the Collector: use `debug` (with `verbosity: basic` or `detailed`)",
    ),
    (
        "jaeger",
        "removed from the Collector: Jaeger takes OTLP, use `otlp_grpc` to jaeger:4317",
    ),
];

/// Exporter names that still load in the pinned release but log a deprecation warning.
const DEPRECATED_EXPORTERS: [(&str, &str); 2] = [("otlp", "otlp_grpc"), ("otlphttp", "otlp_http")];

/// A header whose value is a secret: it must come from the environment.
fn is_secret_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "key",
        "token",
        "secret",
        "auth",
        "x-honeycomb-team",
        "password",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// `${env:NAME}` (with an optional `:-default`), the whole value.
fn is_env_substitution(value: &str) -> bool {
    let value = value.trim().trim_matches(['"', '\'']);
    value
        .strip_prefix("${env:")
        .and_then(|rest| rest.strip_suffix('}'))
        .is_some_and(|inner| {
            let name = inner.split(":-").next().unwrap_or_default();
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        })
}

/// Everything wrong with a Collector configuration (already merged), one sentence each.
fn lint_collector(config: &Yaml) -> Vec<String> {
    let mut problems = Vec::new();
    let defined = |section: &str| -> BTreeSet<String> {
        entries(&config[section])
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    };
    let (receivers, processors, exporters, connectors) = (
        defined("receivers"),
        defined("processors"),
        defined("exporters"),
        defined("connectors"),
    );

    let pipelines = entries(&config["service"]["pipelines"]);
    if pipelines.is_empty() {
        problems.push("`service.pipelines` defines no pipeline".to_string());
    }
    if !pipelines
        .iter()
        .any(|(name, _)| component_type(name) == "traces")
    {
        problems.push("no traces pipeline (`traces` or `traces/NAME`)".to_string());
    }

    let mut used: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for (name, pipeline) in &pipelines {
        for (role, section, known) in [
            ("receiver", "receivers", &receivers),
            ("processor", "processors", &processors),
            ("exporter", "exporters", &exporters),
        ] {
            let ids = strings(&pipeline[section]);
            if ids.is_empty() && role != "processor" {
                problems.push(format!("pipeline `{name}` has no {section}"));
            }
            for id in ids {
                let is_connector = role != "processor" && connectors.contains(&id);
                if !known.contains(&id) && !is_connector {
                    problems.push(format!(
                        "pipeline `{name}` uses {role} `{id}`, which is not defined under `{section}:`"
                    ));
                }
                used.entry(section).or_default().insert(id);
            }
        }

        let steps = strings(&pipeline["processors"]);
        match steps.first().map(|id| component_type(id)) {
            Some("memory_limiter") => {}
            Some(first) => problems.push(format!(
                "pipeline `{name}`: `memory_limiter` must be the first processor, but `{first}` \
                 comes first ({})",
                steps.join(", ")
            )),
            None => problems.push(format!(
                "pipeline `{name}` has no processors: it needs `memory_limiter` first, then `batch`"
            )),
        }
        if !steps.iter().any(|id| component_type(id) == "batch") {
            problems.push(format!("pipeline `{name}` has no `batch` processor"));
        }
    }

    for (section, role, ids) in [
        ("receivers", "receiver", &receivers),
        ("processors", "processor", &processors),
        ("exporters", "exporter", &exporters),
    ] {
        for id in ids {
            if !used.get(section).is_some_and(|used| used.contains(id)) {
                problems.push(format!("{role} `{id}` is defined but no pipeline uses it"));
            }
        }
    }

    // Extensions run only when `service.extensions` lists them.
    let extensions = defined("extensions");
    let enabled: BTreeSet<String> = strings(&config["service"]["extensions"])
        .into_iter()
        .collect();
    for id in extensions.difference(&enabled) {
        problems.push(format!(
            "extension `{id}` is defined but `service.extensions` does not list it"
        ));
    }
    for id in enabled.difference(&extensions) {
        problems.push(format!(
            "`service.extensions` lists `{id}`, which is not defined under `extensions:`"
        ));
    }

    let named_exporters: BTreeSet<String> = exporters
        .iter()
        .cloned()
        .chain(used.get("exporters").into_iter().flatten().cloned())
        .collect();
    for id in &named_exporters {
        let kind = component_type(id);
        if let Some((_, why)) = REMOVED_EXPORTERS.iter().find(|(name, _)| *name == kind) {
            problems.push(format!("exporter `{id}`: the `{kind}` exporter was {why}"));
        }
        if let Some((_, new)) = DEPRECATED_EXPORTERS.iter().find(|(old, _)| *old == kind) {
            problems.push(format!(
                "exporter `{id}`: `{kind}` is a deprecated alias in the pinned Collector, use `{new}`"
            ));
        }
    }

    for (id, exporter) in entries(&config["exporters"]) {
        for (header, value) in entries(&exporter["headers"]) {
            if is_secret_header(&header) && !is_env_substitution(&scalar(value)) {
                problems.push(format!(
                    "exporter `{id}`: header `{header}` holds a literal value; a secret must come \
                     from the environment, e.g. `{header}: ${{env:HONEYCOMB_API_KEY}}`"
                ));
            }
        }
    }
    problems
}

/// Lines of a text that write a secret where an `${env:…}` substitution belongs: whatever follows
/// `x-honeycomb-team:` (in YAML, comments included) must be one.
fn secret_literals(file: &str, text: &str) -> Vec<String> {
    let marker = "x-honeycomb-team:";
    text.lines()
        .enumerate()
        .filter_map(|(number, line)| {
            let at = line.to_ascii_lowercase().find(marker)?;
            // The value, without what may follow it in Markdown: `x-honeycomb-team: ${env:K}`,
            let value = line[at + marker.len()..]
                .split(|c: char| c.is_whitespace() || c == '`' || c == ',')
                .find(|word| !word.is_empty())
                .unwrap_or_default();
            (!is_env_substitution(value)).then(|| {
                format!(
                    "{file}:{}: `x-honeycomb-team:` must be followed by an `${{env:NAME}}` \
                     substitution, never by the key itself",
                    number + 1
                )
            })
        })
        .collect()
}

// ------------------------------------------------------------------------------------------------
// The compose file

fn compose() -> Yaml {
    parse("docker-compose.yml", &read("docker-compose.yml"))
}

/// The host and container ports a service publishes, from the short (`"4317:4317"`,
/// `"127.0.0.1:4317:4317"`, `"4317"`) or the long form (`published:` and `target:`).
fn published_ports(service: &Yaml) -> Vec<(Option<u16>, u16)> {
    let port = |text: &str| -> u16 {
        let text = text.split('/').next().unwrap_or(text); // "4317/tcp"
        text.parse()
            .unwrap_or_else(|_| panic!("a port range or a bad port: {text:?}"))
    };
    service["ports"]
        .as_vec()
        .into_iter()
        .flatten()
        .map(|entry| match entry {
            Yaml::Hash(_) => {
                let published = scalar(&entry["published"]);
                let host = (!published.is_empty()).then(|| port(&published));
                (host, port(&scalar(&entry["target"])))
            }
            _ => {
                let text = scalar(entry);
                let parts: Vec<&str> = text.rsplitn(3, ':').collect();
                match parts.as_slice() {
                    [container] => (None, port(container)),
                    [container, host, ..] => (Some(port(host)), port(container)),
                    [] => unreachable!(),
                }
            }
        })
        .collect()
}

/// `true` for an image reference with a tag that is not `latest` (a digest is fine too).
fn image_problem(service: &str, image: &str) -> Option<String> {
    if image.is_empty() {
        return Some(format!("service `{service}` has no image"));
    }
    if image.contains("@sha256:") {
        return None;
    }
    let name = image.rsplit('/').next().unwrap_or(image);
    match name.split_once(':') {
        None => Some(format!(
            "service `{service}`: image `{image}` has no tag; pin a release, e.g. `{image}:1.2.3`"
        )),
        Some((_, "latest")) => Some(format!(
            "service `{service}`: image `{image}` is `latest`; pin a release tag"
        )),
        Some(_) => None,
    }
}

/// Everything wrong with the compose file, one sentence each.
fn lint_compose(compose: &Yaml) -> Vec<String> {
    let mut problems = Vec::new();
    let services = entries(&compose["services"]);
    let mut total = 0;
    for (name, service) in &services {
        problems.extend(image_problem(name, &scalar(&service["image"])));
        let limit = scalar(&service["mem_limit"]);
        match memory_size(&limit) {
            Some(bytes) => total += bytes,
            None => problems.push(format!(
                "service `{name}` has no `mem_limit` (found {limit:?}): the stack must stay under 1 GiB"
            )),
        }
        if scalar(&service["restart"]) != "unless-stopped" {
            problems.push(format!(
                "service `{name}`: `restart: unless-stopped`, please"
            ));
        }
    }
    if total >= STACK_MEMORY_LIMIT {
        problems.push(format!(
            "the services' mem_limit add up to {} MiB: keep the stack under 1024 MiB",
            total >> 20
        ));
    }
    for name in ["collector", "jaeger"] {
        if !services.iter().any(|(service, _)| service == name) {
            problems.push(format!("no `{name}` service"));
        }
    }
    let depends_on = &compose["services"]["collector"]["depends_on"];
    let on_jaeger = strings(depends_on).contains(&"jaeger".to_string())
        || entries(depends_on).iter().any(|(name, _)| name == "jaeger");
    if !on_jaeger {
        problems.push("service `collector` must `depends_on` jaeger".to_string());
    }
    let jaeger_published: Vec<u16> = published_ports(&compose["services"]["jaeger"])
        .into_iter()
        .map(|(_, container)| container)
        .collect();
    for port in [OTLP_GRPC_PORT, OTLP_HTTP_PORT] {
        if jaeger_published.contains(&port) {
            problems.push(format!(
                "service `jaeger` publishes {port}: the Collector owns the host's OTLP ports"
            ));
        }
    }
    problems
}

/// The Collector's `--config` sources from the compose file, as paths in the repository:
/// `(the base config, the default overlay, the overlay's variable)`.
fn collector_sources(compose: &Yaml) -> (String, String, String) {
    let collector = &compose["services"]["collector"];
    // "./collector:/etc/otelcol-contrib:ro": container folder -> repository folder.
    let (host, container) = strings(&collector["volumes"])
        .iter()
        .find_map(|volume| {
            let mut parts = volume.split(':');
            let host = parts.next()?.trim_start_matches("./").to_string();
            let container = parts.next()?.to_string();
            (host == "collector").then_some((host, container))
        })
        .expect("the collector service mounts ./collector");
    let to_repo = |path: &str| -> String {
        let relative = path
            .strip_prefix(&container)
            .unwrap_or_else(|| panic!("--config={path} is outside the mounted {container}"));
        format!("{host}{relative}")
    };
    let configs: Vec<String> = strings(&collector["command"])
        .into_iter()
        .filter_map(|argument| argument.strip_prefix("--config=").map(str::to_string))
        .collect();
    assert_eq!(
        configs.len(),
        2,
        "the collector gets two `--config=` sources, the config and an overlay: {configs:?}"
    );
    // ".../${COLLECTOR_OVERLAY:-none}.yaml": the variable and its default.
    let overlay = &configs[1];
    let start = overlay
        .find("${")
        .expect("the overlay's name comes from a variable");
    let end = start + overlay[start..].find('}').unwrap();
    let (variable, default) = overlay[start + 2..end]
        .split_once(":-")
        .expect("the overlay variable has a default, `${NAME:-none}`");
    let default_path = format!("{}{default}{}", &overlay[..start], &overlay[end + 1..]);
    (
        to_repo(&configs[0]),
        to_repo(&default_path),
        variable.to_string(),
    )
}

/// Every Collector configuration the compose file can start: the base merged with each overlay
/// in `collector/` (`none.yaml`, `hosted.yaml`, …), by overlay file name.
fn collector_variants() -> Vec<(String, Yaml)> {
    let (base_path, default_overlay, _) = collector_sources(&compose());
    let base = parse(&base_path, &read(&base_path));
    let mut overlays: Vec<String> = std::fs::read_dir(repo_root().join("collector"))
        .unwrap()
        .map(|entry| format!("collector/{}", entry.unwrap().file_name().to_string_lossy()))
        .filter(|path| path.ends_with(".yaml") && *path != base_path)
        .collect();
    overlays.sort();
    assert!(
        overlays.contains(&default_overlay),
        "the default overlay {default_overlay} exists: {overlays:?}"
    );
    overlays
        .into_iter()
        .map(|path| {
            let overlay = parse(&path, &read(&path));
            (path, merge(&base, &overlay))
        })
        .collect()
}

// ------------------------------------------------------------------------------------------------
// docker compose config

/// `docker compose` (Docker's plugin) or `docker-compose` (Debian's package), whichever runs.
fn compose_command() -> Option<Vec<&'static str>> {
    [vec!["docker", "compose"], vec!["docker-compose"]]
        .into_iter()
        .find(|command| {
            Command::new(command[0])
                .args(&command[1..])
                .arg("version")
                .output()
                .is_ok_and(|output| output.status.success())
        })
}

/// Runs `<compose> --env-file <empty> -f docker-compose.yml config <extra>` with only `variables`
/// set of the ones the file reads: neither the real `.env` nor the caller's environment (which
/// may hold a real key) takes part.
fn compose_config(command: &[&str], variables: &[(&str, &str)], extra: &[&str]) -> Output {
    let empty_env = tempfile::NamedTempFile::new().unwrap();
    let mut run = Command::new(command[0]);
    run.args(&command[1..])
        .arg("--env-file")
        .arg(empty_env.path())
        .args(["-f", "docker-compose.yml", "config"])
        .args(extra)
        .current_dir(repo_root());
    for name in compose_variables().iter().map(String::as_str).chain([
        "COMPOSE_FILE",
        "COMPOSE_PROJECT_NAME",
        "COMPOSE_PROFILES",
    ]) {
        run.env_remove(name);
    }
    run.envs(variables.iter().copied());
    run.output().expect("compose runs")
}

/// The variables the compose file reads: `NAME` of every `${NAME…}`.
fn compose_variables() -> BTreeSet<String> {
    stack::compose::Compose::read(&repo_root())
        .and_then(|compose| compose.variables())
        .unwrap_or_else(|err| panic!("{err:#}"))
        .into_iter()
        .collect()
}

fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn docker_compose_validates_the_file_with_each_overlay() {
    let Some(command) = compose_command() else {
        if in_ci() {
            panic!("neither `docker compose` nor `docker-compose` runs; {INSTALL_HINT}");
        }
        eprintln!("skipped: neither `docker compose` nor `docker-compose` runs; {INSTALL_HINT}");
        return;
    };
    let (_, _, switch) = collector_sources(&compose());
    let fake_key = "fake-key-for-the-test";
    let hosted = [(switch.as_str(), "hosted"), ("HONEYCOMB_API_KEY", fake_key)];
    let sampling = [(switch.as_str(), "sampling")];
    for (variant, variables) in [
        ("off", &[][..]),
        ("on", &hosted[..]),
        ("sampling", &sampling[..]),
    ] {
        let quiet = compose_config(&command, variables, &["-q"]);
        assert!(
            quiet.status.success(),
            "`{} config -q` with the hosted backend {variant}: {}",
            command.join(" "),
            printed(&quiet)
        );
        // The resolved file: the overlay the Collector gets, and the key passed through.
        let output = compose_config(&command, variables, &[]);
        assert!(output.status.success(), "{}", printed(&output));
        let resolved = parse("resolved", &String::from_utf8_lossy(&output.stdout));
        let collector = &resolved["services"]["collector"];
        let arguments = strings(&collector["command"]).join(" ");
        let key = scalar(&collector["environment"]["HONEYCOMB_API_KEY"]);
        match variant {
            "on" => {
                assert!(arguments.contains("/hosted.yaml"), "{arguments}");
                assert_eq!(key, fake_key, "compose passes HONEYCOMB_API_KEY through");
            }
            "sampling" => {
                assert!(arguments.contains("/sampling.yaml"), "{arguments}");
                assert_eq!(key, "", "no key unless .env sets one");
            }
            _ => {
                assert!(arguments.contains("/none.yaml"), "{arguments}");
                assert_eq!(key, "", "no key unless .env sets one");
            }
        }
        assert_eq!(
            scalar(&collector["environment"]["HOSTED_OTLP_ENDPOINT"]),
            "https://api.honeycomb.io"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// The lint on the real files

#[test]
fn every_collector_configuration_passes_the_lint() {
    let variants = collector_variants();
    let names: Vec<&str> = variants.iter().map(|(name, _)| name.as_str()).collect();
    assert!(
        names.contains(&"collector/none.yaml")
            && names.contains(&"collector/hosted.yaml")
            && names.contains(&"collector/sampling.yaml"),
        "{names:?}"
    );
    for (overlay, config) in &variants {
        let problems = lint_collector(config);
        assert!(
            problems.is_empty(),
            "collector/config.yaml with {overlay}:\n  {}",
            problems.join("\n  ")
        );
    }

    let base = parse("collector/config.yaml", &read("collector/config.yaml"));
    let by_name: BTreeMap<&str, &Yaml> = variants
        .iter()
        .map(|(name, config)| (name.as_str(), config))
        .collect();
    // The default overlay changes nothing; the hosted one adds a pipeline to the hosted backend,
    // beside the one to Jaeger.
    assert_eq!(by_name["collector/none.yaml"], &base);
    let hosted = by_name["collector/hosted.yaml"];
    let pipelines = entries(&hosted["service"]["pipelines"]);
    assert!(pipelines.len() >= 2, "{pipelines:?}");
    assert_eq!(
        strings(&hosted["service"]["pipelines"]["traces"]["exporters"]),
        strings(&base["service"]["pipelines"]["traces"]["exporters"]),
        "the hosted overlay leaves the pipeline to Jaeger as it is"
    );
    let to_hosted = pipelines.iter().any(|(_, pipeline)| {
        strings(&pipeline["exporters"])
            .iter()
            .any(|id| component_type(id) == "otlp_http")
    });
    assert!(
        to_hosted,
        "the hosted overlay sends to an otlp_http exporter"
    );
    assert_eq!(
        scalar(&hosted["exporters"]["otlp_http/hosted"]["headers"]["x-honeycomb-team"]),
        "${env:HONEYCOMB_API_KEY}"
    );
}

#[test]
fn the_sampling_overlay_puts_tail_sampling_between_memory_limiter_and_batch() {
    // The checker's lint of step 08's file, on the solution's form: tail_sampling in the traces
    // pipeline, errors, slow traces and a share of the rest kept.
    let text = read("collector/sampling.yaml");
    let problems = checker::sampling::collector::lint(&text);
    assert!(
        problems.is_empty(),
        "collector/sampling.yaml:\n  {}",
        problems.join("\n  ")
    );

    // Merged as the Collector merges it: the pipeline to Jaeger keeps its receivers and exporters,
    // and gets the overlay's processors, tail_sampling between memory_limiter and batch.
    let base = parse("collector/config.yaml", &read("collector/config.yaml"));
    let merged = merge(&base, &parse("collector/sampling.yaml", &text));
    let traces = &merged["service"]["pipelines"]["traces"];
    assert_eq!(
        strings(&traces["processors"]),
        ["memory_limiter", "tail_sampling", "batch"]
    );
    for list in ["receivers", "exporters"] {
        assert_eq!(
            strings(&traces[list]),
            strings(&base["service"]["pipelines"]["traces"][list]),
            "the sampling overlay leaves the traces pipeline's {list} as they are"
        );
    }
    // Metrics and logs are not traces: they go on unsampled.
    for signal in ["metrics", "logs"] {
        assert_eq!(
            merged["service"]["pipelines"][signal],
            base["service"]["pipelines"][signal]
        );
    }
}

#[test]
fn the_collector_sends_to_jaeger_inside_the_compose_network_and_fits_its_memory_limit() {
    let compose = compose();
    let base = parse("collector/config.yaml", &read("collector/config.yaml"));
    let to_jaeger: Vec<String> = entries(&base["exporters"])
        .into_iter()
        .filter(|(id, _)| component_type(id) == "otlp_grpc")
        .map(|(_, exporter)| scalar(&exporter["endpoint"]))
        .collect();
    assert_eq!(
        to_jaeger,
        [format!("jaeger:{OTLP_GRPC_PORT}")],
        "an otlp_grpc exporter to the `jaeger` service's OTLP gRPC port"
    );
    assert!(!compose["services"]["jaeger"].is_badvalue());
    assert_eq!(
        base["exporters"]["otlp_grpc/jaeger"]["tls"]["insecure"],
        Yaml::Boolean(true),
        "plain text inside the compose network"
    );
    assert_eq!(scalar(&base["exporters"]["debug"]["verbosity"]), "basic");

    // memory_limiter's hard limit stays under the container's, with room for the Go runtime.
    let limiter = base["processors"]["memory_limiter"]["limit_mib"]
        .as_i64()
        .and_then(|mib| u64::try_from(mib).ok())
        .expect("memory_limiter.limit_mib");
    let container = memory_size(&scalar(&compose["services"]["collector"]["mem_limit"]))
        .expect("collector mem_limit");
    assert!(
        limiter << 20 <= container * 85 / 100,
        "memory_limiter.limit_mib = {limiter} MiB is too close to the container's {} MiB",
        container >> 20
    );
}

#[test]
fn the_compose_file_passes_the_lint() {
    let problems = lint_compose(&compose());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_ports_agree_between_collector_compose_kit_and_cloud_ides() {
    let base = parse("collector/config.yaml", &read("collector/config.yaml"));
    let compose = compose();
    for (protocol, port) in [("grpc", OTLP_GRPC_PORT), ("http", OTLP_HTTP_PORT)] {
        // The receiver listens on the kit's default ports…
        let endpoint = scalar(&base["receivers"]["otlp"]["protocols"][protocol]["endpoint"]);
        assert!(
            endpoint.ends_with(&format!(":{port}")),
            "the otlp receiver's {protocol} endpoint: {endpoint}"
        );
    }
    // …and every listener (receivers, zpages, health check, Prometheus) on every interface of
    // the container, its port published on the same host port.
    let listeners = stack::config::listeners(&base);
    for name in [
        "receivers.otlp.protocols.grpc.endpoint",
        "extensions.zpages.endpoint",
        "extensions.health_check.endpoint",
        "exporters.prometheus.endpoint",
    ] {
        assert!(
            listeners.iter().any(|(path, _)| path == name),
            "collector/config.yaml has no {name}: {listeners:?}"
        );
    }
    let published = published_ports(&compose["services"]["collector"]);
    for (path, endpoint) in &listeners {
        let port: u16 = endpoint
            .strip_prefix("0.0.0.0:")
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "{path}: {endpoint}: inside a container, listen on 0.0.0.0:PORT, or a \
                     published port does not reach it"
                )
            });
        assert!(
            published.contains(&(Some(port), port)),
            "the collector publishes {port}:{port} for {path}: {published:?}"
        );
    }
    let jaeger = published_ports(&compose["services"]["jaeger"]);
    assert_eq!(jaeger, [(Some(JAEGER_UI_PORT), JAEGER_UI_PORT)]);

    // The apps' exporters take the SDK's default endpoint, the Collector's HTTP port; the
    // console's warning names the same one when no variable gives another (services/sequence).
    let warnings = read("services/sequence/src/warnings.rs");
    assert!(
        warnings.contains(&format!("\"http://localhost:{OTLP_HTTP_PORT}\"")),
        "services/sequence/src/warnings.rs no longer falls back to the OTLP/HTTP port {OTLP_HTTP_PORT}"
    );

    // .env.example's OTLP endpoints on this machine (the Collector) point at one of them;
    // hosted backends' endpoints (https://…) have ports of their own.
    for line in read(".env.example").lines() {
        let line = line.trim_start_matches('#').trim();
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        if matches!(
            name,
            "OTEL_EXPORTER_OTLP_ENDPOINT" | "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
        ) && (value.starts_with("http://localhost") || value.starts_with("http://127.0.0.1"))
        {
            let port: Option<u16> = value
                .trim_end_matches('/')
                .rsplit(':')
                .next()
                .and_then(|rest| rest.split('/').next())
                .and_then(|port| port.parse().ok());
            assert!(
                port == Some(OTLP_GRPC_PORT) || port == Some(OTLP_HTTP_PORT),
                ".env.example: {name}={value} is not on port {OTLP_GRPC_PORT} or {OTLP_HTTP_PORT}"
            );
        }
    }

    // The cloud IDEs forward the Collector's and Jaeger's ports.
    let devcontainer: serde_json::Value =
        serde_json::from_str(&read(".devcontainer/devcontainer.json")).unwrap();
    let forwarded: Vec<u64> = devcontainer["forwardPorts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(serde_json::Value::as_u64)
        .collect();
    let gitpod = read(".gitpod.yml");
    for port in [OTLP_GRPC_PORT, OTLP_HTTP_PORT, JAEGER_UI_PORT] {
        assert!(
            forwarded.contains(&u64::from(port)),
            "devcontainer.json forwards {port}: {forwarded:?}"
        );
        assert!(
            gitpod.contains(&format!("- port: {port}")),
            ".gitpod.yml forwards {port}"
        );
    }
}

#[test]
fn no_secret_is_written_and_every_variable_is_documented() {
    let mut files = vec!["docker-compose.yml".to_string(), ".env.example".to_string()];
    for entry in std::fs::read_dir(repo_root().join("collector")).unwrap() {
        files.push(format!(
            "collector/{}",
            entry.unwrap().file_name().to_string_lossy()
        ));
    }
    let problems: Vec<String> = files
        .iter()
        .flat_map(|file| secret_literals(file, &read(file)))
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // Compose passes the key through from .env, never with a value of its own.
    let key = scalar(&compose()["services"]["collector"]["environment"]["HONEYCOMB_API_KEY"]);
    assert!(
        key.starts_with("${HONEYCOMB_API_KEY") && key.ends_with('}'),
        "HONEYCOMB_API_KEY: {key}"
    );

    // Every variable the compose file reads is documented in .env.example, and every one the
    // Collector's files read is set by compose.
    let example = read(".env.example");
    for name in compose_variables() {
        assert!(
            example.contains(&format!("# {name}=")),
            ".env.example does not document {name}, which docker-compose.yml reads"
        );
    }
    let environment: BTreeSet<String> = entries(&compose()["services"]["collector"]["environment"])
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    for entry in std::fs::read_dir(repo_root().join("collector")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|extension| extension != "yaml") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for rest in text.split("${env:").skip(1) {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            assert!(
                environment.contains(&name),
                "{} reads {name}, which docker-compose.yml does not pass to the collector",
                path.display()
            );
        }
    }
}

// ------------------------------------------------------------------------------------------------
// The lint on broken configurations: it must catch these.

const GOOD: &str = "
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: 0.0.0.0:4317
processors:
  memory_limiter:
    check_interval: 1s
    limit_mib: 200
  batch: {}
exporters:
  otlp_grpc/jaeger:
    endpoint: jaeger:4317
  debug: {}
service:
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlp_grpc/jaeger, debug]
";

/// The lint's findings for GOOD with `from` replaced by `to`.
fn lint_variant(from: &str, to: &str) -> Vec<String> {
    assert!(GOOD.contains(from), "{from}");
    lint_collector(&parse("variant", &GOOD.replace(from, to)))
}

/// Asserts that one finding contains every one of `words`.
fn assert_reported(problems: &[String], words: &[&str]) {
    assert!(
        problems
            .iter()
            .any(|problem| words.iter().all(|word| problem.contains(word))),
        "no finding mentions {words:?}: {problems:#?}"
    );
}

#[test]
fn the_lint_passes_a_good_configuration() {
    assert_eq!(lint_collector(&parse("good", GOOD)), Vec::<String>::new());
}

#[test]
fn the_lint_reports_an_exporter_that_is_not_defined() {
    let problems = lint_variant(
        "exporters: [otlp_grpc/jaeger, debug]",
        "exporters: [otlp_grpc/jaeger, debug, otlp_http/honeycomb]",
    );
    assert_reported(
        &problems,
        &[
            "pipeline `traces`",
            "exporter `otlp_http/honeycomb`",
            "not defined",
        ],
    );
}

#[test]
fn the_lint_reports_the_removed_logging_and_jaeger_exporters() {
    let problems = lint_variant(
        "  debug: {}\nservice:",
        "  debug: {}\n  logging: {}\n  jaeger:\n    endpoint: jaeger:14250\nservice:",
    );
    let problems_in_use = lint_variant(
        "exporters: [otlp_grpc/jaeger, debug]",
        "exporters: [otlp_grpc/jaeger, debug, logging]",
    );
    assert_reported(&problems, &["exporter `logging`", "removed", "use `debug`"]);
    assert_reported(&problems, &["exporter `jaeger`", "removed", "otlp_grpc"]);
    assert_reported(
        &problems,
        &["exporter `logging` is defined but no pipeline uses it"],
    );
    assert_reported(&problems_in_use, &["exporter `logging`", "removed"]);
    assert_reported(&problems_in_use, &["`logging`", "not defined"]);
}

#[test]
fn the_lint_reports_an_extension_not_enabled_and_one_not_defined() {
    let problems = lint_variant(
        "service:\n  pipelines:",
        "extensions:\n  zpages:\n    endpoint: 0.0.0.0:55679\nservice:\n  extensions: [health_check]\n  pipelines:",
    );
    assert_reported(&problems, &["extension `zpages`", "does not list it"]);
    assert_reported(&problems, &["`health_check`", "not defined"]);
}

#[test]
fn the_lint_reports_batch_before_memory_limiter() {
    let problems = lint_variant("[memory_limiter, batch]", "[batch, memory_limiter]");
    assert_reported(
        &problems,
        &[
            "pipeline `traces`",
            "`memory_limiter` must be the first processor",
            "`batch` comes first",
        ],
    );
    let problems = lint_variant("[memory_limiter, batch]", "[memory_limiter]");
    assert_reported(&problems, &["pipeline `traces` has no `batch` processor"]);
    assert_reported(
        &problems,
        &["processor `batch` is defined but no pipeline uses it"],
    );
}

#[test]
fn the_lint_reports_unused_and_deprecated_components_and_a_literal_key() {
    let problems = lint_variant(
        "  debug: {}\nservice:",
        "  debug: {}\n  otlp/old:\n    endpoint: jaeger:4317\n  otlp_http/hosted:\n    \
         headers:\n      x-honeycomb-team: abc123\nservice:",
    );
    assert_reported(
        &problems,
        &["exporter `otlp/old`", "deprecated", "otlp_grpc"],
    );
    assert_reported(
        &problems,
        &["exporter `otlp_http/hosted` is defined but no pipeline uses it"],
    );
    assert_reported(&problems, &["`x-honeycomb-team`", "literal", "${env:"]);
    assert!(
        problems.iter().all(|problem| !problem.contains("abc123")),
        "a finding never repeats the secret: {problems:?}"
    );
    assert_eq!(
        secret_literals("x.yaml", "headers:\n  x-honeycomb-team: abc123\n").len(),
        1
    );
    assert!(secret_literals("x.yaml", "x-honeycomb-team: ${env:HONEYCOMB_API_KEY}").is_empty());
    assert!(secret_literals("x.md", "`x-honeycomb-team: ${env:HONEYCOMB_API_KEY}`,").is_empty());
    assert_eq!(
        secret_literals("x.md", "`x-honeycomb-team: abc123`").len(),
        1
    );
    assert_eq!(
        secret_literals("x.yaml", "X-Honeycomb-Team: \"abc123\"").len(),
        1
    );
}

#[test]
fn the_compose_lint_reports_unpinned_images_and_missing_limits() {
    let compose = parse(
        "variant",
        "services:
  collector:
    image: otel/opentelemetry-collector-contrib:latest
    restart: unless-stopped
    mem_limit: 256m
    depends_on: [jaeger]
  jaeger:
    image: jaegertracing/jaeger
    restart: unless-stopped
    ports: ['4317:4317', '16686:16686']
",
    );
    let problems = lint_compose(&compose);
    assert_reported(&problems, &["`collector`", "`latest`"]);
    assert_reported(&problems, &["`jaeger`", "has no tag"]);
    assert_reported(&problems, &["`jaeger` has no `mem_limit`"]);
    assert_reported(&problems, &["`jaeger` publishes 4317"]);
}

#[test]
fn port_and_memory_parsing() {
    let service = parse(
        "ports",
        "ports: ['4317:4317', '127.0.0.1:16686:16686', '9411', {published: '4318', target: 4318}]",
    );
    assert_eq!(
        published_ports(&service),
        [
            (Some(4317), 4317),
            (Some(16686), 16686),
            (None, 9411),
            (Some(4318), 4318)
        ]
    );
}
