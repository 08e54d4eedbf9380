//! Starting a step's binary as `./run.sh` would, talking to it, and stopping it with SIGTERM.
//!
//! Nothing here panics: a learner's app that does not start, or never prints its URL, or hangs
//! on SIGTERM, is a finding to report, not a crash of the checker.

use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// How long an app may take to print its URL: a debug build starts in well under a second.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running step binary, killed when dropped.
pub struct App {
    child: Child,
    /// The base URL it printed, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// Everything it printed so far, stdout and stderr interleaved by line.
    output: Arc<Mutex<String>>,
    /// The folder it runs in: empty, so that no `.env` is found there.
    _dir: tempfile::TempDir,
}

impl App {
    /// Starts `binary` on a free loopback port with only the given variables set (plus `PATH`),
    /// and waits for it to print its URL.
    pub async fn start(binary: &Path, env: &[(&str, &str)]) -> anyhow::Result<App> {
        let dir = tempfile::tempdir().context("could not make a temporary folder")?;
        // The app runs in another folder: a relative path must be resolved from here first.
        let binary = std::fs::canonicalize(binary)
            .with_context(|| format!("no program at {}", binary.display()))?;
        let mut child = Command::new(&binary)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("APP_HOST", "127.0.0.1")
            .env("APP_PORT", "0")
            .envs(env.iter().copied())
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("could not start {}", binary.display()))?;

        let output = Arc::new(Mutex::new(String::new()));
        let (lines_tx, mut lines_rx) = mpsc::unbounded_channel();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        collect(stdout, output.clone(), lines_tx.clone());
        collect(stderr, output.clone(), lines_tx);

        // The URL is the first `http://…` the app prints; if both pipes close first, it died.
        let url = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines_rx.recv().await {
                if let Some(start) = line.find("http://") {
                    let url = line[start..].split_whitespace().next().unwrap_or_default();
                    return Some(url.to_string());
                }
            }
            None
        })
        .await;
        let printed = || output.lock().unwrap().clone();
        match url {
            Ok(Some(url)) => Ok(App {
                child,
                url,
                output,
                _dir: dir,
            }),
            Ok(None) => {
                let status = child.wait().await.ok();
                bail!(
                    "the app stopped before it served ({}); it printed:\n{}",
                    describe_exit(status),
                    printed()
                )
            }
            Err(_) => bail!(
                "the app did not print its URL within {START_TIMEOUT:?}; it printed:\n{}",
                printed()
            ),
        }
    }

    /// What the app has printed so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Sends SIGTERM, as `kill` or `docker stop` does.
    pub fn terminate(&self) {
        if let Some(pid) = self.child.id() {
            signals::send(pid, signals::Signal::Terminate);
        }
    }

    /// Waits for the app to exit, at most `within`; `None` if it is still running, and then it
    /// is killed.
    pub async fn wait(&mut self, within: Duration) -> Option<ExitStatus> {
        match tokio::time::timeout(within, self.child.wait()).await {
            Ok(status) => status.ok(),
            Err(_) => {
                let _ = self.child.kill().await;
                None
            }
        }
    }
}

/// `exit status 0`, `killed by signal 15`, or `still running`, for messages.
pub fn describe_exit(status: Option<ExitStatus>) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status {
        None => "it did not stop".into(),
        Some(status) => match (status.code(), status.signal()) {
            (Some(code), _) => format!("exit status {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            (None, None) => format!("{status}"),
        },
    }
}

fn collect(
    stream: impl AsyncRead + Unpin + Send + 'static,
    output: Arc<Mutex<String>>,
    lines_tx: mpsc::UnboundedSender<String>,
) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut output = output.lock().unwrap();
            output.push_str(&line);
            output.push('\n');
            let _ = lines_tx.send(line);
        }
    });
}

/// One client for the requests made to an app (the checker's, the tests', the proxy's), with a
/// bound on every wait: a patient one, for a debug build on a busy machine.
pub fn client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("a reqwest client with default settings")
    })
}

/// `GET url`: the status and body, or what went wrong.
pub async fn get(url: &str) -> Result<(u16, String), String> {
    get_with(url, None).await
}

/// `GET url` as a caller that has a trace of its own: with its W3C `traceparent` header.
pub async fn get_with(url: &str, traceparent: Option<&str>) -> Result<(u16, String), String> {
    let mut request = client().get(url);
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    let response = request
        .send()
        .await
        .map_err(|err| format!("GET {url}: {err}"))?;
    let status = response.status().as_u16();
    let body = response.text().await.map_err(|err| err.to_string())?;
    Ok((status, body))
}

/// A loopback URL where nothing listens: a port bound, read, and released at once.
pub fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    format!(
        "http://{}",
        listener.local_addr().expect("the bound address")
    )
}
