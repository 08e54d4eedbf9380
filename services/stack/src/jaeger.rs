//! Jaeger v2, started as compose starts it: no configuration file (so Jaeger takes its built-in
//! all-in-one configuration: in-memory storage, OTLP in, the query API and UI on 16686), the
//! `--set` flags and the environment of `docker-compose.yml`.
//!
//! Jaeger's image sets `JAEGER_LISTEN_HOST=0.0.0.0`; here it is `127.0.0.1`, and each of the
//! fifteen ports the all-in-one configuration opens moves by one more `--set` (see [`LISTENERS`]):
//! to free ones for the tests, which may run several Jaegers at once, and beside a learner's own
//! programs on 4317 and 4318. After the start, Jaeger must listen on these ports and no other:
//! a new one in a later Jaeger is then an error that names it, not a clash on some machine.
//!
//! Jaeger built from its Go module has no UI: the UI's assets are built with npm in Jaeger's
//! release process and are not in the module, so `/` shows a placeholder. Its HTTP API
//! (`/api/services`, `/api/traces?service=fib`) is all there, and is what the tests read.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::bail;

use crate::compose::{Compose, Variables};
use crate::process::{FreePorts, Port, Process, Protocol};

/// The service's name in `docker-compose.yml`.
pub const SERVICE: &str = "jaeger";

/// Every port Jaeger's all-in-one configuration opens (module v1.75.0), by the setting that
/// moves it.
pub const LISTENERS: [(&str, Protocol); 15] = [
    ("receivers.otlp.protocols.grpc.endpoint", Protocol::Tcp),
    ("receivers.otlp.protocols.http.endpoint", Protocol::Tcp),
    ("receivers.jaeger.protocols.grpc.endpoint", Protocol::Tcp),
    (
        "receivers.jaeger.protocols.thrift_http.endpoint",
        Protocol::Tcp,
    ),
    (
        "receivers.jaeger.protocols.thrift_binary.endpoint",
        Protocol::Udp,
    ),
    (
        "receivers.jaeger.protocols.thrift_compact.endpoint",
        Protocol::Udp,
    ),
    ("receivers.zipkin.endpoint", Protocol::Tcp),
    ("extensions.jaeger_query.http.endpoint", Protocol::Tcp),
    ("extensions.jaeger_query.grpc.endpoint", Protocol::Tcp),
    ("extensions.remote_sampling.http.endpoint", Protocol::Tcp),
    ("extensions.remote_sampling.grpc.endpoint", Protocol::Tcp),
    ("extensions.healthcheckv2.http.endpoint", Protocol::Tcp),
    ("extensions.healthcheckv2.grpc.endpoint", Protocol::Tcp),
    ("extensions.expvar.endpoint", Protocol::Tcp),
    ("extensions.zpages.endpoint", Protocol::Tcp),
];
/// Jaeger's own metrics (port 8888 by default), set apart: the setting is a list.
const TELEMETRY: &str = "service.telemetry.metrics.readers";
/// The query API and UI, which compose publishes.
const QUERY: &str = "extensions.jaeger_query.http.endpoint";
/// Its OTLP/gRPC receiver, where the Collector sends.
const OTLP_GRPC: &str = "receivers.otlp.protocols.grpc.endpoint";

/// Where each of Jaeger's listeners goes. Kept, so that a Jaeger started again (a restart in a
/// test) listens where the first one did, and the Collector finds it.
#[derive(Debug, Clone)]
pub struct Ports {
    addresses: BTreeMap<&'static str, SocketAddr>,
    telemetry: u16,
}

impl Ports {
    /// Every listener on a free port of 127.0.0.1.
    pub fn free() -> anyhow::Result<Ports> {
        let mut picker = FreePorts::default();
        let mut addresses = BTreeMap::new();
        for (setting, protocol) in LISTENERS {
            addresses.insert(
                setting,
                SocketAddr::from(([127, 0, 0, 1], picker.pick(protocol)?)),
            );
        }
        let telemetry = picker.pick(Protocol::Tcp)?;
        Ok(Ports {
            addresses,
            telemetry,
        })
    }

    /// As [`Ports::free`], but the query API and UI on `query` (`0.0.0.0:16686`, as compose
    /// publishes it), for `./run.sh stack up`.
    pub fn with_query_at(query: SocketAddr) -> anyhow::Result<Ports> {
        let mut ports = Ports::free()?;
        ports.addresses.insert(QUERY, query);
        Ok(ports)
    }

    /// Where the Collector sends: Jaeger's OTLP/gRPC receiver.
    pub fn otlp_grpc(&self) -> SocketAddr {
        self.addresses[OTLP_GRPC]
    }

    /// The query API (and the UI's placeholder): `http://127.0.0.1:PORT`.
    pub fn query_url(&self) -> String {
        let address = self.addresses[QUERY];
        let host = if address.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            address.ip().to_string()
        };
        format!("http://{host}:{}", address.port())
    }

    fn expected(&self) -> BTreeSet<Port> {
        LISTENERS
            .iter()
            .map(|(setting, protocol)| Port {
                protocol: *protocol,
                number: self.addresses[setting].port(),
            })
            .chain([Port {
                protocol: Protocol::Tcp,
                number: self.telemetry,
            }])
            .collect()
    }
}

/// A running Jaeger; stopped (SIGKILL) when dropped, unless [`Jaeger::stop`] stopped it.
pub struct Jaeger {
    pub process: Process,
    pub ports: Ports,
}

impl Jaeger {
    /// Starts Jaeger built at `binary` as compose starts it, with its listeners at `ports`, and
    /// waits until it says it is ready and listens where it was told.
    pub fn start(root: &Path, binary: &Path, ports: &Ports) -> anyhow::Result<Jaeger> {
        let compose = Compose::read(root)?;
        let variables = Variables::new();
        let mut command = Command::new(binary);
        command
            .args(compose.command(SERVICE, &variables)?)
            .env_clear()
            .envs(compose.environment(SERVICE, &variables)?)
            .env("JAEGER_LISTEN_HOST", "127.0.0.1");
        for (setting, address) in &ports.addresses {
            command.arg(format!("--set={setting}={address}"));
        }
        command.arg(format!(
            "--set={TELEMETRY}=[{{pull: {{exporter: {{prometheus: {{host: 127.0.0.1, port: {}}}}}}}}}]",
            ports.telemetry
        ));
        let mut process = Process::spawn("Jaeger", command)?;
        process.ready()?;
        let stray: Vec<String> = process
            .listening_ports()
            .difference(&ports.expected())
            .map(ToString::to_string)
            .collect();
        if !stray.is_empty() {
            bail!(
                "Jaeger listens on {} too, which no --set moved: a port of this Jaeger's \
                 all-in-one configuration that services/stack/src/jaeger.rs does not know; add \
                 its setting to LISTENERS",
                stray.join(", ")
            );
        }
        Ok(Jaeger {
            process,
            ports: ports.clone(),
        })
    }

    /// The query API: `http://127.0.0.1:PORT`.
    pub fn query_url(&self) -> String {
        self.ports.query_url()
    }

    /// Stops it as `docker stop` does (SIGTERM). Its traces are in memory, and go with it.
    pub fn stop(&mut self) -> anyhow::Result<()> {
        let status = self.process.stop(Duration::from_secs(20))?;
        if !status.success() {
            bail!(
                "Jaeger exited with {status} on SIGTERM; it printed:\n{}",
                self.process.output()
            );
        }
        Ok(())
    }
}
