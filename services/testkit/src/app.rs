//! Starting a step's binary, as `./run.sh` would, and talking to it.

use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// A running step binary, stopped (SIGKILL) when dropped.
pub struct App {
    child: Child,
    /// The base URL it printed, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// Everything it printed so far, stdout and stderr interleaved by line.
    output: Arc<Mutex<String>>,
    /// The folder it runs in: empty, so that no `.env` is found.
    _dir: tempfile::TempDir,
}

impl App {
    /// Starts `binary` on a free loopback port with only the given variables set (plus `PATH`),
    /// and waits for it to print its URL.
    pub async fn start(binary: &str, env: &[(&str, &str)]) -> App {
        let dir = tempfile::tempdir().expect("a temporary folder");
        // The app runs in another folder: a relative path must be resolved from here first.
        let binary = std::fs::canonicalize(binary).unwrap_or_else(|err| panic!("{binary}: {err}"));
        let binary = binary.to_str().expect("a UTF-8 path");
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("APP_HOST", "127.0.0.1")
            .env("APP_PORT", "0")
            .envs(env.iter().copied())
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .unwrap_or_else(|err| panic!("could not start {binary}: {err}"));

        let output = Arc::new(Mutex::new(String::new()));
        let (lines_tx, mut lines_rx) = mpsc::unbounded_channel();
        collect(
            child.stdout.take().unwrap(),
            output.clone(),
            lines_tx.clone(),
        );
        collect(child.stderr.take().unwrap(), output.clone(), lines_tx);

        let url = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines_rx.recv().await {
                if let Some(start) = line.find("http://") {
                    let url = line[start..].split_whitespace().next().unwrap_or_default();
                    return Some(url.to_string());
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| {
            panic!(
                "{binary} did not print its URL; it printed:\n{}",
                output.lock().unwrap()
            )
        });
        App {
            child,
            url,
            output,
            _dir: dir,
        }
    }

    /// `GET {url}{path}`: the status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        get(&format!("{}{path}", self.url)).await
    }

    /// What the app has printed so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Sends SIGTERM, as `kill` or `docker stop` does.
    pub fn terminate(&self) {
        let pid = self.child.id().expect("the app is still running") as libc::pid_t;
        // SAFETY: kill(2) with a pid we own and a valid signal number has no memory effects.
        let rc = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(rc, 0, "kill -TERM {pid} failed");
    }

    /// Sends SIGTERM, waits for the app to exit (at most `within`) and checks it exited with 0:
    /// a graceful stop, telemetry flushed. Returns everything it printed.
    pub async fn stop(&mut self, within: Duration) -> String {
        self.terminate();
        let status = self.exit_status(within).await;
        let output = self.output();
        assert!(
            status.success(),
            "exit status {status:?}; output:\n{output}"
        );
        output
    }

    /// Waits for the app to exit, at most `within`.
    pub async fn exit_status(&mut self, within: Duration) -> ExitStatus {
        match tokio::time::timeout(within, self.child.wait()).await {
            Ok(status) => status.expect("waiting for the app"),
            Err(_) => panic!(
                "the app did not exit within {within:?}; it printed:\n{}",
                self.output()
            ),
        }
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

/// A loopback URL where nothing listens: a port bound, read, and released at once.
pub fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    format!(
        "http://{}",
        listener.local_addr().expect("the bound address")
    )
}

/// One shared client for the tests' own requests.
pub fn client() -> &'static reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("a reqwest client")
    })
}

/// `GET url`: the status and body. Panics if no answer comes at all.
pub async fn get(url: &str) -> (u16, String) {
    let response = client()
        .get(url)
        .send()
        .await
        .unwrap_or_else(|err| panic!("GET {url}: {err}"));
    let status = response.status().as_u16();
    (status, response.text().await.expect("a body"))
}
