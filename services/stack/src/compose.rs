//! What `docker-compose.yml` starts, read from the file itself: each service's image, command and
//! environment, with compose's `${NAME:-default}` substitutions made, and the folders it mounts.
//!
//! The native stack runs the programs with exactly these arguments and variables, so that what
//! the tests prove is what `docker compose up` starts; only the ports move (see `collector.rs` and
//! `jaeger.rs`). A path inside a mounted folder (`/etc/otelcol-contrib/config.yaml`) becomes the
//! file in the repository that compose mounts there (`collector/config.yaml`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};
use yaml_rust2::Yaml;

use crate::config::{entries, parse, scalar, strings};

/// The compose file, relative to the kit's root.
pub const FILE: &str = "docker-compose.yml";

/// The variables compose substitutes, by name, as `.env` gives them. Only these take part: the
/// caller's own environment (which may hold a real API key) does not.
pub type Variables = BTreeMap<String, String>;

/// The compose file of the kit at `root`.
pub struct Compose {
    root: PathBuf,
    document: Yaml,
}

impl Compose {
    pub fn read(root: &Path) -> anyhow::Result<Compose> {
        let path = root.join(FILE);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("could not read {}", path.display()))?;
        Ok(Compose {
            root: root.to_path_buf(),
            document: parse(FILE, &text)?,
        })
    }

    fn service(&self, name: &str) -> anyhow::Result<&Yaml> {
        let service = &self.document["services"][name];
        if service.is_badvalue() {
            bail!("{FILE} has no service `{name}`");
        }
        Ok(service)
    }

    /// The names of the variables the file reads (`${NAME…}`), which `.env` may set.
    pub fn variables(&self) -> anyhow::Result<Vec<String>> {
        let text = std::fs::read_to_string(self.root.join(FILE))?;
        let mut names: Vec<String> = text
            .split("${")
            .skip(1)
            .map(|rest| {
                rest.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect::<String>()
            })
            .filter(|name| !name.is_empty())
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// `true` if the file defines the service `name`.
    pub fn has_service(&self, name: &str) -> bool {
        !self.document["services"][name].is_badvalue()
    }

    /// The service's image, as name and tag: `("jaegertracing/jaeger", "2.12.0")`.
    pub fn image(&self, service: &str) -> anyhow::Result<(String, String)> {
        let image = scalar(&self.service(service)?["image"]);
        // The tag follows a `:` after the last `/` (a registry's host may have a port).
        let last_part = image.rfind('/').map_or(0, |at| at + 1);
        match image[last_part..].find(':') {
            Some(at) => {
                let (name, tag) = image.split_at(last_part + at);
                Ok((name.to_string(), tag[1..].to_string()))
            }
            None => bail!("{FILE}: the image of `{service}` ({image:?}) has no tag"),
        }
    }

    /// The service's command, substituted, with container paths turned into repository paths.
    pub fn command(&self, service: &str, variables: &Variables) -> anyhow::Result<Vec<String>> {
        let mounts = self.mounts(service)?;
        strings(&self.service(service)?["command"])
            .iter()
            .map(|argument| {
                let mut argument = substitute(argument, variables)?;
                for (container, host) in &mounts {
                    let host = format!("{}/", host.display());
                    argument = argument.replace(&format!("{container}/"), &host);
                }
                Ok(argument)
            })
            .collect()
    }

    /// The service's environment (`NAME: value` or `- NAME=value`), substituted.
    pub fn environment(
        &self,
        service: &str,
        variables: &Variables,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let environment = &self.service(service)?["environment"];
        let pairs: Vec<(String, String)> = match environment {
            Yaml::Array(list) => list
                .iter()
                .map(|entry| {
                    let entry = scalar(entry);
                    let (name, value) = entry.split_once('=').unwrap_or((&entry, ""));
                    (name.to_string(), value.to_string())
                })
                .collect(),
            _ => entries(environment)
                .into_iter()
                .map(|(name, value)| (name, scalar(value)))
                .collect(),
        };
        pairs
            .into_iter()
            .map(|(name, value)| Ok((name, substitute(&value, variables)?)))
            .collect()
    }

    /// The host ports the service publishes (`"4317:4317"`, `"127.0.0.1:4317:4317"`).
    pub fn published_ports(&self, service: &str) -> anyhow::Result<Vec<u16>> {
        strings(&self.service(service)?["ports"])
            .iter()
            .map(|entry| {
                let parts: Vec<&str> = entry.rsplitn(3, ':').collect();
                let host = parts.get(1).unwrap_or(&parts[0]);
                host.split('/')
                    .next()
                    .and_then(|port| port.parse().ok())
                    .ok_or_else(|| anyhow!("{FILE}: `{service}` publishes {entry:?}: no port"))
            })
            .collect()
    }

    /// The memory the service's container may use (`mem_limit`), in bytes.
    pub fn mem_limit(&self, service: &str) -> anyhow::Result<u64> {
        let limit = scalar(&self.service(service)?["mem_limit"]);
        memory_size(&limit)
            .ok_or_else(|| anyhow!("{FILE}: `{service}` has no readable mem_limit ({limit:?})"))
    }

    /// The folders the service mounts: `(container folder, repository folder)`.
    fn mounts(&self, service: &str) -> anyhow::Result<Vec<(String, PathBuf)>> {
        strings(&self.service(service)?["volumes"])
            .iter()
            .map(|volume| {
                let mut parts = volume.split(':');
                match (parts.next(), parts.next()) {
                    (Some(host), Some(container)) if host.starts_with('.') => {
                        Ok((container.to_string(), self.root.join(host)))
                    }
                    _ => bail!("{FILE}: `{service}` mounts {volume:?}, not a folder of the kit"),
                }
            })
            .collect()
    }
}

/// A compose memory size (`256m`, `1g`, `512mb`, or bytes) in bytes.
pub fn memory_size(text: &str) -> Option<u64> {
    let text = text.trim().to_ascii_lowercase();
    let text = text.strip_suffix('b').unwrap_or(&text);
    let (digits, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, ""),
    };
    let factor = match unit {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        _ => return None,
    };
    digits.parse::<u64>().ok().map(|number| number * factor)
}

/// Compose's substitution: `${NAME}`, `${NAME:-default}` (the default when unset or empty),
/// `${NAME-default}` (when unset) and `$$` (a `$`). An unset variable without a default is empty,
/// as compose makes it.
pub fn substitute(text: &str, variables: &Variables) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(after) = after.strip_prefix('$') {
            out.push('$');
            rest = after;
        } else if let Some(inner) = after.strip_prefix('{') {
            let end = inner
                .find('}')
                .ok_or_else(|| anyhow!("an unclosed `${{` in {text:?}"))?;
            let expression = &inner[..end];
            let value = if let Some((name, default)) = expression.split_once(":-") {
                match variables.get(name) {
                    Some(value) if !value.is_empty() => value.clone(),
                    _ => default.to_string(),
                }
            } else if let Some((name, default)) = expression.split_once('-') {
                variables
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| default.to_string())
            } else {
                variables.get(expression).cloned().unwrap_or_default()
            };
            out.push_str(&value);
            rest = &inner[end + 1..];
        } else {
            // `$NAME` without braces: the kit's file does not use it; refuse rather than guess.
            bail!("{text:?}: write `${{NAME}}` rather than `$NAME`");
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables(pairs: &[(&str, &str)]) -> Variables {
        pairs
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect()
    }

    #[test]
    fn substitution_follows_compose() {
        let set = variables(&[("OVERLAY", "hosted"), ("EMPTY", "")]);
        let cases = [
            ("/etc/${OVERLAY:-none}.yaml", "/etc/hosted.yaml"),
            ("/etc/${MISSING:-none}.yaml", "/etc/none.yaml"),
            ("${EMPTY:-none}", "none"),
            ("${EMPTY-none}", ""),
            ("${MISSING-none}", "none"),
            ("${MISSING}", ""),
            ("a $$ b", "a $ b"),
            ("no variable", "no variable"),
        ];
        for (text, expected) in cases {
            assert_eq!(substitute(text, &set).unwrap(), expected, "{text}");
        }
        assert!(substitute("${OPEN", &set).is_err());
        assert!(substitute("$BARE", &set).is_err());
    }

    #[test]
    fn memory_sizes_read_as_compose_reads_them() {
        assert_eq!(memory_size("256m"), Some(256 << 20));
        assert_eq!(memory_size("1g"), Some(1 << 30));
        assert_eq!(memory_size("640MB"), Some(640 << 20));
        assert_eq!(memory_size("1048576"), Some(1 << 20));
        assert_eq!(memory_size(""), None);
        assert_eq!(memory_size("lots"), None);
    }

    #[test]
    fn the_kit_s_compose_file_reads() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let compose = Compose::read(&root).unwrap();
        let hosted = variables(&[("COLLECTOR_OVERLAY", "hosted")]);
        let command = compose.command("collector", &hosted).unwrap();
        let configs: Vec<&String> = command
            .iter()
            .filter(|argument| argument.starts_with("--config="))
            .collect();
        assert_eq!(configs.len(), 2, "{command:?}");
        assert!(
            configs[0].ends_with("/collector/config.yaml"),
            "{command:?}"
        );
        assert!(
            configs[1].ends_with("/collector/hosted.yaml"),
            "{command:?}"
        );
        let environment = compose.environment("collector", &Variables::new()).unwrap();
        assert!(
            environment
                .iter()
                .any(|(name, value)| name == "HONEYCOMB_API_KEY" && value.is_empty()),
            "{environment:?}"
        );
        assert!(
            compose
                .published_ports("collector")
                .unwrap()
                .contains(&4318)
        );
        assert_eq!(compose.image("jaeger").unwrap().0, "jaegertracing/jaeger");
    }
}
