//! The app's settings: command-line flags, environment variables, or `.env`, in that order of precedence.
//!
//! Every setting has a default that works on a laptop, so `cargo run` needs none of them.
//! `.env.example` at the top of the repository documents each variable; `--help` lists them too.

use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::Duration;

use clap::Parser;

/// The port the app listens on unless `APP_PORT` says otherwise. Not 5000 or 7000, which macOS
/// gives to AirPlay, and not 8080, which too many other dev servers take.
pub const DEFAULT_PORT: u16 = 8090;

/// The highest index `/fib` accepts unless `FIB_MAX_INDEX` says otherwise. Each index costs about
/// 1.6 times the one before; index 15 makes 1,973 requests and takes about 0.8 s in a debug
/// build on 2 cores (README.md, "Benchmarks"), and keeps up to about a thousand connections to
/// itself open at once.
pub const DEFAULT_MAX_INDEX: u32 = 15;

/// No cap may be set above this. Index 20 makes 21,891 requests to answer one, with some 10,000
/// connections open at once: more than most systems let one process have.
pub const HARD_MAX_INDEX: u32 = 20;

/// The demo app: computes Fibonacci numbers by calling itself over HTTP.
#[derive(Debug, Clone, Parser)]
#[command(version, about, long_about = None)]
pub struct Config {
    /// Address to listen on: 127.0.0.1 for this machine only, 0.0.0.0 for every interface
    /// (needed in some cloud IDEs and containers).
    #[arg(long, env = "APP_HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Port to listen on; 0 picks a free one.
    #[arg(long, env = "APP_PORT", default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// The largest index `/fib` accepts; larger ones get 400.
    #[arg(long, env = "FIB_MAX_INDEX", default_value_t = DEFAULT_MAX_INDEX,
          value_parser = clap::value_parser!(u32).range(0..=HARD_MAX_INDEX as i64))]
    pub max_index: u32,

    /// Where `/fib` sends its two sub-requests. Unset: to this same server.
    #[arg(long, env = "FIB_UPSTREAM_URL", value_parser = parse_base_url)]
    pub upstream_url: Option<String>,

    /// How long one sub-request may take, in milliseconds, before it counts as failed (502).
    #[arg(long, env = "FIB_UPSTREAM_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub upstream_timeout_ms: u64,

    /// On Ctrl-C or SIGTERM, how many seconds requests in flight get to finish.
    #[arg(long, env = "SHUTDOWN_GRACE_SECS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(0..=600))]
    pub shutdown_grace_secs: u64,

    /// The trace explorer's pages, where the page links each number's trace (from step 03).
    /// Unset: the page's own host, at EXPLORER_PORT.
    #[arg(long, env = "EXPLORER_URL", value_parser = parse_base_url)]
    pub explorer_url: Option<String>,

    /// The trace explorer's port, for the page's links when EXPLORER_URL is unset (0: no link).
    #[arg(long, env = "EXPLORER_PORT", default_value_t = DEFAULT_EXPLORER_PORT)]
    pub explorer_port: u16,

    /// Jaeger's UI, e.g. http://localhost:16686: the page then links each number's trace there
    /// too. Unset: no Jaeger link.
    #[arg(long, env = "JAEGER_UI_URL", value_parser = parse_base_url)]
    pub jaeger_ui_url: Option<String>,
}

/// The trace explorer's pages' port unless `EXPLORER_PORT` says otherwise (`services/explorer`).
pub const DEFAULT_EXPLORER_PORT: u16 = 8091;

/// The settings [`Config::load`] read, for the parts of the kit that a step's code does not
/// hand them to (the page's links to traces).
static LOADED: OnceLock<Config> = OnceLock::new();

/// The settings the app started with, if it read them with [`Config::load`].
pub fn loaded() -> Option<&'static Config> {
    LOADED.get()
}

impl Config {
    /// Reads `.env` (if there is one, in this folder or a parent), then flags and environment.
    ///
    /// A bad value stops the program with a message naming the variable and the accepted values,
    /// as `clap` does for flags (exit status 2).
    pub fn load() -> Config {
        if let Err(err) = dotenvy::dotenv()
            && !err.not_found()
        {
            eprintln!("error: could not read .env: {err}");
            eprintln!(
                "  Fix that line, or delete .env and run ./run.sh to start again from .env.example."
            );
            std::process::exit(2);
        }
        let config = Config::parse();
        let _ = LOADED.set(config.clone());
        config
    }

    /// Where `/fib` sends its sub-requests: `FIB_UPSTREAM_URL`, or else the app itself at
    /// `own_url`.
    pub fn upstream(&self, own_url: &str) -> String {
        self.upstream_url
            .clone()
            .unwrap_or_else(|| own_url.to_string())
    }

    pub fn upstream_timeout(&self) -> Duration {
        Duration::from_millis(self.upstream_timeout_ms)
    }

    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

/// Accepts `http://host:port` or `https://host:port/prefix`, and drops a trailing `/` so that
/// `{upstream}/fib` is always well formed.
fn parse_base_url(value: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(value)
        .map_err(|err| format!("{err}; expected a URL like http://127.0.0.1:8090"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!(
            "expected an http:// or https:// URL, not {}://",
            url.scheme()
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("expected a base URL without ?query or #fragment".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Config::try_parse_from(std::iter::once("app").chain(args.iter().copied()))
    }

    #[test]
    fn defaults_need_no_settings() {
        let config = parse(&[]).unwrap();
        assert_eq!(config.port, DEFAULT_PORT);
        assert_eq!(config.max_index, DEFAULT_MAX_INDEX);
        assert_eq!(config.upstream_url, None);
    }

    #[test]
    fn a_cap_above_the_hard_maximum_is_refused_with_the_range() {
        let err = parse(&["--max-index", "40"]).unwrap_err().to_string();
        assert!(err.contains("0..=20"), "{err}");
    }

    #[test]
    fn the_trace_links_settings_are_read_and_checked() {
        let config = parse(&[]).unwrap();
        assert_eq!(config.explorer_port, DEFAULT_EXPLORER_PORT);
        assert_eq!((config.explorer_url, config.jaeger_ui_url), (None, None));
        let config = parse(&[
            "--jaeger-ui-url",
            "http://localhost:16686/",
            "--explorer-url",
            "http://192.0.2.1:8091",
        ])
        .unwrap();
        assert_eq!(
            config.jaeger_ui_url.as_deref(),
            Some("http://localhost:16686")
        );
        assert_eq!(
            config.explorer_url.as_deref(),
            Some("http://192.0.2.1:8091")
        );
        let err = parse(&["--jaeger-ui-url", "localhost:16686"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("http://"), "{err}");
    }

    #[test]
    fn upstream_urls_are_checked_and_normalised() {
        let config = parse(&["--upstream-url", "http://127.0.0.1:9/"]).unwrap();
        assert_eq!(config.upstream_url.as_deref(), Some("http://127.0.0.1:9"));
        let err = parse(&["--upstream-url", "localhost:9"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("http://"), "{err}");
    }
}
