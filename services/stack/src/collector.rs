//! The Collector, started as compose starts it: the command from `docker-compose.yml` (the
//! `--config` of `collector/config.yaml` and of the overlay), the environment compose gives it,
//! and the files themselves, never a copy.
//!
//! What differs from a container is the network, and only `--set` flags say so:
//! - every endpoint the Collector listens on (the `0.0.0.0:PORT` of its receivers, extensions and
//!   the Prometheus exporter, found in the merged files) moves to a free loopback port, or, for
//!   `./run.sh stack up`, stays where compose publishes it;
//! - the Collector's own metrics, on port 8888 unless told otherwise, move too;
//! - whatever sends to a compose service by name (`jaeger:4317`: the exporter to Jaeger, and the
//!   Collector's own spans) is sent where that program listens here.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use anyhow::{Context, bail};

use crate::compose::{Compose, Variables};
use crate::config;
use crate::process::{FreePorts, Port, Process, Protocol};

/// The service's name in `docker-compose.yml`.
pub const SERVICE: &str = "collector";
/// The compose variable that chooses the overlay.
pub const OVERLAY_VARIABLE: &str = "COLLECTOR_OVERLAY";
/// The overlays the kit ships in `collector/` (see [`crate::config::overlays`] for all there are).
pub const OVERLAYS: [&str; 3] = ["none", "hosted", "sampling"];
/// The setting of the Collector's own metrics' port, which no file of ours names.
const TELEMETRY: &str = "service.telemetry.metrics.readers";

/// Where the Collector's listeners go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    /// Each on a free port of 127.0.0.1 (the tests).
    FreeLoopbackPorts,
    /// Where the files say (`0.0.0.0:4317` …), as compose publishes them (`./run.sh stack up`).
    AsWritten,
}

/// How to start the Collector.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `none`, `hosted` or `sampling`: `COLLECTOR_OVERLAY`.
    pub overlay: String,
    /// The other variables compose would read from `.env` (`HONEYCOMB_API_KEY`, …).
    pub variables: Variables,
    /// Variables the program gets beyond compose's (e.g. `SSL_CERT_FILE` for a test's
    /// certificate; a container would have the certificate in its image).
    pub extra_env: Vec<(String, String)>,
    pub listen: Listen,
    /// Print each line the Collector prints after this prefix, as `docker compose logs` would.
    pub echo: Option<&'static str>,
    /// Where the compose services the Collector sends to listen here, by name: `jaeger` →
    /// `127.0.0.1:PORT` of Jaeger's OTLP/gRPC receiver ([`crate::Stack`] sets it).
    pub services: BTreeMap<String, SocketAddr>,
}

impl Settings {
    /// The given overlay, on free loopback ports.
    pub fn new(overlay: &str) -> Settings {
        Settings {
            overlay: overlay.to_string(),
            variables: Variables::new(),
            extra_env: Vec::new(),
            listen: Listen::FreeLoopbackPorts,
            echo: None,
            services: BTreeMap::new(),
        }
    }

    /// Sets a variable compose would read from `.env`.
    pub fn variable(mut self, name: &str, value: &str) -> Settings {
        self.variables.insert(name.to_string(), value.to_string());
        self
    }

    /// The program's command line and environment, as compose gives them, plus the `--set` flags
    /// that move the ports; and where each listener ended up, by its setting's path.
    fn command(
        &self,
        root: &Path,
        binary: &Path,
    ) -> anyhow::Result<(Command, BTreeMap<String, SocketAddr>)> {
        let compose = Compose::read(root)?;
        let mut variables = self.variables.clone();
        variables.insert(OVERLAY_VARIABLE.to_string(), self.overlay.clone());
        let mut command = Command::new(binary);
        command
            .args(compose.command(SERVICE, &variables)?)
            .env_clear()
            .envs(compose.environment(SERVICE, &variables)?)
            .envs(self.extra_env.iter().map(|(name, value)| (name, value)));

        let merged = config::read_merged(root, &self.overlay)?;
        let mut listeners = BTreeMap::new();
        let mut ports = FreePorts::default();
        for (path, endpoint) in config::listeners(&merged) {
            let address: SocketAddr = match self.listen {
                Listen::FreeLoopbackPorts => {
                    SocketAddr::from(([127, 0, 0, 1], ports.pick(Protocol::Tcp)?))
                }
                Listen::AsWritten => endpoint
                    .parse()
                    .with_context(|| format!("{path}: {endpoint:?} is not an address and port"))?,
            };
            if self.listen == Listen::FreeLoopbackPorts {
                command.arg(format!("--set={path}={address}"));
            }
            listeners.insert(path, address);
        }
        // The Collector's own metrics: on a free port of loopback, out of the way of Jaeger's
        // (which also defaults to 8888).
        let telemetry = ports.pick(Protocol::Tcp)?;
        command.arg(format!(
            "--set={TELEMETRY}=[{{pull: {{exporter: {{prometheus: {{host: 127.0.0.1, port: {telemetry}}}}}}}}}]"
        ));
        listeners.insert(
            TELEMETRY.to_string(),
            SocketAddr::from(([127, 0, 0, 1], telemetry)),
        );

        // Whatever sends to a compose service by name (`jaeger:4317`: the exporter to Jaeger,
        // the Collector's own spans): where that program listens here.
        let to = |host: &str| self.services.get(host).map(ToString::to_string);
        for (path, value) in config::redirects(&merged, &to) {
            command.arg(format!("--set={path}={value}"));
        }
        Ok((command, listeners))
    }
}

/// A running Collector; stopped (SIGKILL) when dropped, unless [`Collector::stop`] stopped it.
pub struct Collector {
    pub process: Process,
    listeners: BTreeMap<String, SocketAddr>,
}

impl Collector {
    /// Starts the Collector built at `binary` with the kit's files at `root`, and waits until it
    /// says it is ready.
    pub fn start(root: &Path, binary: &Path, settings: &Settings) -> anyhow::Result<Collector> {
        let (command, listeners) = settings.command(root, binary)?;
        let mut process = Process::spawn_echoing("the Collector", command, settings.echo)?;
        process.ready()?;
        let expected: BTreeSet<Port> = listeners
            .values()
            .map(|address| Port {
                protocol: Protocol::Tcp,
                number: address.port(),
            })
            .collect();
        let stray: Vec<String> = process
            .listening_ports()
            .difference(&expected)
            .map(ToString::to_string)
            .collect();
        if !stray.is_empty() {
            bail!(
                "the Collector listens on {} too, which no --set moved: a listener that \
                 services/stack/src/config.rs does not find in the files",
                stray.join(", ")
            );
        }
        Ok(Collector { process, listeners })
    }

    /// Where the listener of a setting is: `collector.address("receivers.otlp.protocols.http")`.
    /// Panics if the files define no such listener: a test asking for one expects it there.
    pub fn address(&self, setting: &str) -> SocketAddr {
        let key = if setting == TELEMETRY {
            setting.to_string()
        } else {
            format!("{setting}.endpoint")
        };
        *self.listeners.get(&key).unwrap_or_else(|| {
            panic!(
                "the Collector's files define no listener at `{key}`; they define: {:?}",
                self.listeners.keys().collect::<Vec<_>>()
            )
        })
    }

    /// The OTLP/HTTP endpoint an app's exporter takes: `http://127.0.0.1:PORT`.
    pub fn otlp_http_endpoint(&self) -> String {
        format!("http://{}", self.address("receivers.otlp.protocols.http"))
    }

    /// The OTLP/gRPC endpoint an app's exporter takes: `http://127.0.0.1:PORT`.
    pub fn otlp_grpc_endpoint(&self) -> String {
        format!("http://{}", self.address("receivers.otlp.protocols.grpc"))
    }

    /// Stops it as `docker stop` does (SIGTERM): it flushes its batches and exporters first.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        let status = self.process.stop(std::time::Duration::from_secs(20))?;
        if !status.success() {
            bail!(
                "the Collector exited with {status} on SIGTERM; it printed:\n{}",
                self.process.output()
            );
        }
        Ok(())
    }
}

/// `otelcol validate` on the files compose passes for `overlay`, with compose's environment: the
/// Collector's own check that every component is known and every field is right.
pub fn validate(
    root: &Path,
    binary: &Path,
    overlay: &str,
    variables: &Variables,
) -> anyhow::Result<Output> {
    let compose = Compose::read(root)?;
    let mut variables = variables.clone();
    variables.insert(OVERLAY_VARIABLE.to_string(), overlay.to_string());
    // `validate` takes the same --config flags as a run.
    let configs: Vec<String> = compose
        .command(SERVICE, &variables)?
        .into_iter()
        .filter(|argument| argument.starts_with("--config="))
        .collect();
    Command::new(binary)
        .arg("validate")
        .args(configs)
        .env_clear()
        .envs(compose.environment(SERVICE, &variables)?)
        .stdin(Stdio::null())
        .output()
        .context("could not run the Collector's validate")
}
