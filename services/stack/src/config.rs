//! The Collector's configuration as the Collector sees it: `collector/config.yaml` with an overlay
//! merged over it, walked as a YAML tree.
//!
//! The same reading serves three readers: the native stack (which endpoints the Collector listens
//! on, so that the tests can move them), the kit's static checks of the files
//! (`services/kit/tests/compose.rs`) and step 08's lint of the learner's tail sampling
//! (`checker::sampling::collector`).

use std::path::Path;

use anyhow::{Context, anyhow};
use yaml_rust2::{Yaml, YamlLoader};

/// The folder of the Collector's files, relative to the kit's root.
pub const FOLDER: &str = "collector";
/// The base configuration; the overlays (`none`, `hosted`, `sampling`) are merged over it.
pub const BASE: &str = "config.yaml";

/// The first document of a YAML text; an empty document is an empty map, as for the Collector.
pub fn parse(name: &str, text: &str) -> anyhow::Result<Yaml> {
    let documents = YamlLoader::load_from_str(text).map_err(|err| anyhow!("{name}: {err}"))?;
    Ok(match documents.into_iter().next() {
        None | Some(Yaml::Null) => Yaml::Hash(Default::default()),
        Some(document) => document,
    })
}

/// Merges `overlay` over `base` as the Collector merges its `--config` sources: maps merge key by
/// key, anything else (lists included) is replaced.
pub fn merge(base: &Yaml, overlay: &Yaml) -> Yaml {
    match (base, overlay) {
        (Yaml::Hash(base), Yaml::Hash(overlay)) => {
            let mut merged = base.clone();
            for (key, value) in overlay {
                let value = match merged.get(key) {
                    Some(old) => merge(old, value),
                    None => value.clone(),
                };
                merged.insert(key.clone(), value);
            }
            Yaml::Hash(merged)
        }
        (_, Yaml::Null) => base.clone(),
        (_, overlay) => overlay.clone(),
    }
}

/// The overlays in `collector/`: every `NAME.yaml` but `config.yaml`, sorted (`hosted`, `none`,
/// `sampling`, and any a maintainer adds for another vendor).
pub fn overlays(root: &Path) -> anyhow::Result<Vec<String>> {
    let folder = root.join(FOLDER);
    let mut overlays = Vec::new();
    for entry in std::fs::read_dir(&folder)
        .with_context(|| format!("could not read {}", folder.display()))?
    {
        let file = entry?.file_name().to_string_lossy().into_owned();
        if let Some(name) = file.strip_suffix(".yaml")
            && file != BASE
        {
            overlays.push(name.to_string());
        }
    }
    overlays.sort();
    Ok(overlays)
}

/// `collector/config.yaml` with `collector/<overlay>.yaml` merged over it.
pub fn read_merged(root: &Path, overlay: &str) -> anyhow::Result<Yaml> {
    let read = |file: &str| -> anyhow::Result<Yaml> {
        let path = root.join(FOLDER).join(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("could not read {}", path.display()))?;
        parse(&format!("{FOLDER}/{file}"), &text)
    };
    Ok(merge(&read(BASE)?, &read(&format!("{overlay}.yaml"))?))
}

/// Where the Collector listens: every `endpoint` of a receiver's protocol, an extension, or an
/// exporter that serves (the `prometheus` exporter), as `(the setting's path, its value)`, e.g.
/// `("receivers.otlp.protocols.grpc.endpoint", "0.0.0.0:4317")`. Exporters that send (to Jaeger,
/// to a hosted backend) are not listed: their endpoints are somewhere else.
pub fn listeners(config: &Yaml) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (section, serving) in [
        ("receivers", None),
        ("extensions", None),
        ("exporters", Some("prometheus")),
    ] {
        for (id, component) in entries(&config[section]) {
            if serving.is_some_and(|kind| component_type(&id) != kind) {
                continue;
            }
            endpoints(&format!("{section}.{id}"), component, &mut found);
        }
    }
    found
}

/// Every `endpoint` that sends to a host `to` knows (a compose service: `jaeger:4317`,
/// `http://jaeger:4317`), wherever it is in the configuration, as the `--set` overrides that send
/// it where `to` says instead: `(setting's path, new value)`. An endpoint inside a list (the
/// Collector's own telemetry exporters) overrides the whole list, written as flow YAML, since an
/// override replaces a list whole.
pub fn redirects(config: &Yaml, to: &dyn Fn(&str) -> Option<String>) -> Vec<(String, String)> {
    let mut found = Vec::new();
    redirect_walk("", config, to, &mut found);
    found
}

fn redirect_walk(
    path: &str,
    node: &Yaml,
    to: &dyn Fn(&str) -> Option<String>,
    found: &mut Vec<(String, String)>,
) {
    for (key, value) in entries(node) {
        let path = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match value {
            Yaml::Array(_) => {
                if let Some(list) = redirected(value, to) {
                    found.push((path, flow(&list)));
                }
            }
            Yaml::Hash(_) => redirect_walk(&path, value, to, found),
            _ if key == "endpoint" => {
                if let Some(endpoint) = redirect(&scalar(value), to) {
                    found.push((path, endpoint));
                }
            }
            _ => {}
        }
    }
}

/// `node` with every endpoint in it redirected, if any is.
fn redirected(node: &Yaml, to: &dyn Fn(&str) -> Option<String>) -> Option<Yaml> {
    match node {
        Yaml::Array(items) => {
            let changed: Vec<Option<Yaml>> =
                items.iter().map(|item| redirected(item, to)).collect();
            changed.iter().any(Option::is_some).then(|| {
                Yaml::Array(
                    items
                        .iter()
                        .zip(changed)
                        .map(|(item, new)| new.unwrap_or_else(|| item.clone()))
                        .collect(),
                )
            })
        }
        Yaml::Hash(hash) => {
            let mut out = hash.clone();
            let mut any = false;
            for (key, value) in hash {
                let new = if scalar(key) == "endpoint" {
                    redirect(&scalar(value), to).map(Yaml::String)
                } else {
                    redirected(value, to)
                };
                if let Some(new) = new {
                    out.insert(key.clone(), new);
                    any = true;
                }
            }
            any.then_some(Yaml::Hash(out))
        }
        _ => None,
    }
}

/// `http://jaeger:4317` → `http://127.0.0.1:41234` when `to("jaeger")` says so.
fn redirect(endpoint: &str, to: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let (scheme, rest) = match endpoint.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), endpoint),
    };
    let (host, _port) = rest.split_once(':')?;
    Some(format!("{scheme}{}", to(host)?))
}

/// A YAML tree on one line, in flow style (JSON, which YAML reads), for a `--set` value.
pub fn flow(node: &Yaml) -> String {
    match node {
        Yaml::Hash(hash) => {
            let items: Vec<String> = hash
                .iter()
                .map(|(key, value)| format!("{}: {}", flow(key), flow(value)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Yaml::Array(items) => {
            let items: Vec<String> = items.iter().map(flow).collect();
            format!("[{}]", items.join(", "))
        }
        Yaml::String(text) => {
            let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
            format!("\"{escaped}\"")
        }
        Yaml::Null | Yaml::BadValue => "null".to_string(),
        other => scalar(other),
    }
}

/// Every `endpoint:` at or below `node`, with its path.
fn endpoints(path: &str, node: &Yaml, found: &mut Vec<(String, String)>) {
    for (key, value) in entries(node) {
        let path = format!("{path}.{key}");
        if key == "endpoint" {
            found.push((path, scalar(value)));
        } else {
            endpoints(&path, value, found);
        }
    }
}

/// The entries of a map, keys as text; empty for anything but a map.
pub fn entries(node: &Yaml) -> Vec<(String, &Yaml)> {
    node.as_hash()
        .map(|hash| {
            hash.iter()
                .map(|(key, value)| (scalar(key), value))
                .collect()
        })
        .unwrap_or_default()
}

/// A scalar as text (`500` and `"500"` alike); empty for anything else.
pub fn scalar(node: &Yaml) -> String {
    match node {
        Yaml::String(text) | Yaml::Real(text) => text.clone(),
        Yaml::Integer(number) => number.to_string(),
        Yaml::Boolean(value) => value.to_string(),
        _ => String::new(),
    }
}

/// A list of scalars as text; empty for anything else.
pub fn strings(node: &Yaml) -> Vec<String> {
    node.as_vec()
        .map(|items| items.iter().map(scalar).collect())
        .unwrap_or_default()
}

/// A component's type: `tail_sampling` for `tail_sampling/slow`.
pub fn component_type(id: &str) -> &str {
    id.split('/').next().unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_follows_the_collector_maps_merge_lists_replace() {
        let base = parse("base", "a: {x: 1, list: [1, 2]}\nb: 2\n").unwrap();
        let overlay = parse("overlay", "a: {y: 3, list: [9]}\n").unwrap();
        let merged = merge(&base, &overlay);
        assert_eq!(merged["a"]["x"], Yaml::Integer(1));
        assert_eq!(merged["a"]["y"], Yaml::Integer(3));
        assert_eq!(strings(&merged["a"]["list"]), ["9"]);
        assert_eq!(merged["b"], Yaml::Integer(2));
        assert_eq!(merge(&base, &parse("empty", "{}").unwrap()), base);
        assert_eq!(
            merge(&base, &parse("empty", "# a comment\n").unwrap()),
            base
        );
    }

    #[test]
    fn endpoints_to_a_service_are_redirected_lists_whole() {
        let config = parse(
            "config",
            "
exporters:
  otlp_grpc/jaeger: {endpoint: 'jaeger:4317', tls: {insecure: true}}
  otlp_http/hosted: {endpoint: 'https://api.honeycomb.io'}
service:
  telemetry:
    traces:
      processors:
        - batch: {exporter: {otlp: {protocol: grpc, endpoint: 'http://jaeger:4317'}}}
",
        )
        .unwrap();
        let to = |host: &str| (host == "jaeger").then(|| "127.0.0.1:9".to_string());
        assert_eq!(
            redirects(&config, &to),
            [
                ("exporters.otlp_grpc/jaeger.endpoint", "127.0.0.1:9"),
                (
                    "service.telemetry.traces.processors",
                    r#"[{"batch": {"exporter": {"otlp": {"protocol": "grpc", "endpoint": "http://127.0.0.1:9"}}}}]"#
                ),
            ]
            .map(|(path, value)| (path.to_string(), value.to_string()))
        );
        // What --set makes of it: YAML again, the same tree.
        let list = parse("flow", &redirects(&config, &to)[1].1).unwrap();
        assert_eq!(
            scalar(&list[0]["batch"]["exporter"]["otlp"]["endpoint"]),
            "http://127.0.0.1:9"
        );
    }

    #[test]
    fn listeners_are_what_serves_not_where_exporters_send() {
        let config = parse(
            "config",
            "
receivers:
  otlp:
    protocols:
      grpc: {endpoint: '0.0.0.0:4317'}
      http: {endpoint: '0.0.0.0:4318'}
extensions:
  zpages: {endpoint: '0.0.0.0:55679'}
exporters:
  otlp_grpc/jaeger: {endpoint: 'jaeger:4317'}
  prometheus: {endpoint: '0.0.0.0:8889'}
",
        )
        .unwrap();
        assert_eq!(
            listeners(&config),
            [
                ("receivers.otlp.protocols.grpc.endpoint", "0.0.0.0:4317"),
                ("receivers.otlp.protocols.http.endpoint", "0.0.0.0:4318"),
                ("extensions.zpages.endpoint", "0.0.0.0:55679"),
                ("exporters.prometheus.endpoint", "0.0.0.0:8889"),
            ]
            .map(|(path, value)| (path.to_string(), value.to_string()))
        );
    }
}
