//! # `explorer`: the kit's own trace backend, for when there is no Docker and no account
//!
//! Run with: `./run.sh explorer` (`./run.sh` and `./run.sh NN` start it too), then open
//! <http://127.0.0.1:8091>.
//!
//! It takes the place of the Collector and Jaeger on a laptop: it receives OTLP traces, metrics
//! and logs where an exporter sends them by default (gRPC on 4317, HTTP on 4318, protobuf or
//! JSON), keeps the most recent spans and log records and the latest value of each metric series
//! in memory, and answers the questions the workshop asks:
//!
//! - `/`: the newest traces, with their root span, service, duration, span and error counts;
//! - `/trace/ID`: one trace as a waterfall, each span with its attributes, events, log records
//!   and resource (and `=`/`≠` beside each value, to query the spans that share it or not);
//! - `/search?q=…`: the spans that contain a phrase in any field, and which field (the box on top
//!   of every page);
//! - `/query`: COUNT, P50/P95/P99/MAX of the duration and a HEATMAP, WHERE, GROUP BY, ORDER BY
//!   and HAVING: enough to answer the three puzzles from your own data; a region of the heatmap
//!   selected, with its slowest traces and how it differs from the rest;
//! - `/logs`: the newest log records, filtered by severity, trace and text, each linked to its
//!   trace;
//! - `/metrics`: each metric's series at their latest value, histograms with their buckets;
//! - `/room`: in a classroom, a row per learner (their checks' verdicts and their telemetry);
//! - `/api/...`: the same as JSON, for the checker, the tests and `curl`.
//!
//! ## Layout
//! - `span`: the compact span the window keeps, converted from opentelemetry-proto's messages;
//! - `window`: the bounded window (by count and bytes, a fair share per learner), the [`Shared`]
//!   state the servers write to (the receiver's `Sink`) and its counters, and a trace's summary;
//! - `logs` and `metrics`: the log records (a bounded ring) and the metrics' series (the latest
//!   point of each, a bounded number), made from what the `receiver` crate reads from their OTLP
//!   messages (its `ReceivedLog` and `ReceivedMetric`);
//! - `params`: the URL parameters the queries and the log filters share (`limit=`);
//! - `query`: the query language (its parts, reading and writing them) and, apart, its one-pass
//!   evaluation over the window and what it finds;
//! - `room` and `forward`: the classroom. A room's explorer keeps a board of its learners (their
//!   checks' verdicts, when each was last heard from) beside their shares of the window; a
//!   joined learner's explorer forwards a copy of what it receives to the room;
//! - `api` and `pages`: the JSON API and the web pages, a module a page (askama templates, no
//!   CDN, no framework).
//!
//! The modules depend on each other one way, leaves first: `span` and `params`; `logs`,
//! `metrics`, `room` and `forward`; `window`; `query`; `api`; `pages`.
//!
//! The OTLP servers are the `receiver` crate's, the same code the tests and the checker use.

pub mod api;
pub mod forward;
pub mod logs;
pub mod metrics;
pub mod pages;
pub mod params;
pub mod query;
pub mod room;
pub mod span;
pub mod window;

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use anyhow::anyhow;
use tokio::net::TcpListener;

pub use window::{Limits, Shared};

/// Where the explorer listens, and how much it keeps.
#[derive(Clone, Debug, clap::Args)]
pub struct Settings {
    /// The address to listen on: 127.0.0.1 (this machine) or 0.0.0.0 (every interface).
    #[arg(long, env = "EXPLORER_HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// The web pages' port.
    #[arg(long, env = "EXPLORER_PORT", default_value_t = 8091)]
    pub port: u16,
    /// OTLP/gRPC's port (4317, where exporters send gRPC by default).
    #[arg(long, env = "EXPLORER_OTLP_GRPC_PORT", default_value_t = 4317)]
    pub grpc_port: u16,
    /// OTLP/HTTP's port (4318, where exporters send HTTP by default).
    #[arg(long, env = "EXPLORER_OTLP_HTTP_PORT", default_value_t = 4318)]
    pub http_port: u16,
    /// The most spans kept; older ones are dropped first.
    #[arg(long, env = "EXPLORER_MAX_SPANS", default_value_t = Limits::default().max_spans as u64,
          value_parser = clap::value_parser!(u64).range(1..=50_000_000))]
    pub max_spans: u64,
    /// The most memory the spans may take, in MiB (an estimate; see the README).
    #[arg(long, env = "EXPLORER_MAX_MIB", default_value_t = (Limits::default().max_bytes >> 20) as u64,
          value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub max_mib: u64,
    /// The explorer is a room's (`./run.sh room`): every OTLP export must carry this code in an
    /// `x-room-code` header (gRPC: metadata), or is refused (401, `UNAUTHENTICATED`). Empty or
    /// unset: none needed.
    #[arg(long, env = "EXPLORER_ROOM_CODE", hide_env_values = true)]
    pub require_code: Option<String>,
    /// A joined learner's explorer forwards a copy of everything to this room (its OTLP/HTTP
    /// endpoint, e.g. http://192.168.1.20:4318), as LEARNER_NAME; `./run.sh join` sets it.
    #[arg(long, env = "ROOM_URL")]
    pub room_url: Option<String>,
    /// The code the room requires, sent with what is forwarded.
    #[arg(long, env = "ROOM_CODE", hide_env_values = true)]
    pub room_code: Option<String>,
    /// The name the room shows the forwarded telemetry under (its `learner.name`).
    #[arg(long, env = "LEARNER_NAME")]
    pub learner_name: Option<String>,
}

impl Settings {
    /// Every port 0 (any free one) on loopback, with the default limits: for tests.
    pub fn loopback() -> Settings {
        Settings {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            grpc_port: 0,
            http_port: 0,
            max_spans: Limits::default().max_spans as u64,
            max_mib: (Limits::default().max_bytes >> 20) as u64,
            require_code: None,
            room_url: None,
            room_code: None,
            learner_name: None,
        }
    }

    /// The room code exports must carry, if any (an empty one is none): a room's explorer.
    pub fn required_code(&self) -> Option<&str> {
        self.require_code.as_deref().filter(|code| !code.is_empty())
    }

    /// The room to forward to, if this is a joined learner's explorer: `ROOM_URL` and
    /// `LEARNER_NAME` both set. A room's own explorer never forwards (it would be forwarding to
    /// itself, or to another room). Half a setting is an error that says what is missing.
    pub fn forward(&self) -> anyhow::Result<Option<forward::Room>> {
        let set = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        if self.required_code().is_some() {
            return Ok(None);
        }
        let (url, learner) = match (set(&self.room_url), set(&self.learner_name)) {
            (None, None) => return Ok(None),
            (Some(_), None) => anyhow::bail!(
                "ROOM_URL is set but LEARNER_NAME is not: ./run.sh join sets both (./run.sh leave \
                 removes both)"
            ),
            (None, Some(_)) => return Ok(None),
            (Some(url), Some(learner)) => (url, learner),
        };
        if !url.starts_with("http://") && !url.starts_with("https://") {
            anyhow::bail!("ROOM_URL={url:?} is not a room's address: ./run.sh join writes it");
        }
        let learner = receiver::room::learner_name(&learner)
            .ok_or_else(|| anyhow!("LEARNER_NAME is empty"))?;
        Ok(Some(forward::Room {
            url: url.trim_end_matches('/').to_string(),
            code: set(&self.room_code),
            learner,
        }))
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_spans: self.max_spans as usize,
            max_bytes: (self.max_mib as usize) << 20,
            ..Limits::default()
        }
    }
}

/// A running explorer: three servers on the current tokio runtime. Dropping it stops them.
pub struct Explorer {
    pub shared: Arc<Shared>,
    ui: SocketAddr,
    grpc: SocketAddr,
    http: SocketAddr,
    _otlp: receiver::Servers,
    /// Tells the pages' runtime to stop serving; dropped with the explorer.
    _stop_pages: tokio::sync::oneshot::Sender<()>,
}

impl Explorer {
    /// Binds the three ports (each with a message that says what to do when it is taken) and
    /// starts serving.
    pub async fn start(settings: &Settings) -> anyhow::Result<Explorer> {
        let grpc = bind(settings.host, settings.grpc_port, "OTLP/gRPC").await?;
        let http = bind(settings.host, settings.http_port, "OTLP/HTTP").await?;
        let ui = bind(settings.host, settings.port, "web pages").await?;
        let addresses = (ui.local_addr()?, grpc.local_addr()?, http.local_addr()?);
        let forward = settings.forward()?;
        let shared = Arc::new(
            Shared::new(settings.limits())
                .with_room_code(settings.required_code().map(str::to_owned))
                .with_forwarder(forward.map(forward::Forwarder::start)),
        );
        let otlp =
            receiver::Servers::spawn(grpc, http, shared.clone(), receiver::DEFAULT_MAX_BODY_BYTES);
        let app = pages::routes()
            .merge(api::routes())
            .with_state(shared.clone());
        let (stop_pages, stopped) = tokio::sync::oneshot::channel::<()>();
        serve_pages(ui.into_std()?, app, stopped)?;
        Ok(Explorer {
            shared,
            ui: addresses.0,
            grpc: addresses.1,
            http: addresses.2,
            _otlp: otlp,
            _stop_pages: stop_pages,
        })
    }

    /// The pages' URL, e.g. `http://127.0.0.1:8091`.
    pub fn url(&self) -> String {
        local_url(self.ui)
    }

    /// For `OTEL_EXPORTER_OTLP_ENDPOINT` with `OTEL_EXPORTER_OTLP_PROTOCOL=grpc`.
    pub fn grpc_endpoint(&self) -> String {
        local_url(self.grpc)
    }

    /// For `OTEL_EXPORTER_OTLP_ENDPOINT` (HTTP; the exporter appends `/v1/traces`).
    pub fn http_endpoint(&self) -> String {
        local_url(self.http)
    }
}

/// Serves the pages and the API on a runtime of their own, on threads of their own, until `stop`
/// says so (or is dropped).
///
/// Why apart from the OTLP servers: a room's 60 learners keep the receivers' threads busy
/// decoding, and a page request queued behind their exports waited a third of a second (the
/// room benchmark's P99 on the runtime they shared). On threads of its own, the instructor's page
/// is scheduled by the system as soon as it asks, and waits only for the window's lock.
fn serve_pages(
    listener: std::net::TcpListener,
    app: axum::Router,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("explorer-pages")
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name("explorer-pages".into())
        .spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = TcpListener::from_std(listener) else {
                    return;
                };
                // Serving ends with the stop, or with an error of the listener itself, which
                // nothing can mend.
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stop.await;
                    })
                    .await;
            });
            // Connections still open (a browser's keep-alive) end with the runtime.
            runtime.shutdown_background();
        })?;
    Ok(())
}

/// `0.0.0.0` is reached at `127.0.0.1` from this machine.
fn local_url(address: SocketAddr) -> String {
    let ip = match address.ip() {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, address.port()))
}

async fn bind(host: IpAddr, port: u16, what: &str) -> anyhow::Result<TcpListener> {
    let address = SocketAddr::new(host, port);
    TcpListener::bind(address).await.map_err(|err| {
        let flag = match what {
            "OTLP/gRPC" => "EXPLORER_OTLP_GRPC_PORT",
            "OTLP/HTTP" => "EXPLORER_OTLP_HTTP_PORT",
            _ => "EXPLORER_PORT",
        };
        match err.kind() {
            ErrorKind::AddrInUse if port == 4317 || port == 4318 => anyhow!(
                "port {port} ({what}) is already taken: most likely a Collector is running \
                 (`docker compose up`), or another explorer.\n  \
                 Either use that one (Jaeger's UI: http://localhost:16686) and stop nothing, \
                 or stop it (`docker compose down`) and start the explorer again.\n  \
                 To run both, give the explorer other ports ({flag}=...) and point the app at \
                 them with OTEL_EXPORTER_OTLP_ENDPOINT."
            ),
            ErrorKind::AddrInUse => anyhow!(
                "port {port} ({what}) is already taken, perhaps by another explorer: stop it, \
                 or pick another port with {flag}=..."
            ),
            ErrorKind::AddrNotAvailable => anyhow!(
                "EXPLORER_HOST={host} is not an address of this machine: use 127.0.0.1 or 0.0.0.0"
            ),
            _ => anyhow!("could not listen on {address} ({what}): {err}"),
        }
    })
}
