//! Starting a step's binary, as `./run.sh` would, and talking to it: the checker's
//! [`checker::app`], with every failure a test failure.

use std::path::Path;
use std::process::ExitStatus;
use std::time::Duration;

pub use checker::app::closed_url;

/// A running step binary, stopped (SIGKILL) when dropped.
pub struct App {
    inner: checker::app::App,
    /// The base URL it printed, e.g. `http://127.0.0.1:41234`.
    pub url: String,
}

impl App {
    /// Starts `binary` on a free loopback port with only the given variables set (plus `PATH`),
    /// in an empty folder (no `.env`), and waits for it to print its URL.
    pub async fn start(binary: &str, env: &[(&str, &str)]) -> App {
        let inner = checker::app::App::start(Path::new(binary), env)
            .await
            .unwrap_or_else(|err| panic!("{binary}: {err:#}"));
        let url = inner.url.clone();
        App { inner, url }
    }

    /// `GET {url}{path}`: the status and body.
    pub async fn get(&self, path: &str) -> (u16, String) {
        get(&format!("{}{path}", self.url)).await
    }

    /// What the app has printed so far, stdout and stderr interleaved by line.
    pub fn output(&self) -> String {
        self.inner.output()
    }

    /// Sends SIGTERM, as `kill` or `docker stop` does.
    pub fn terminate(&self) {
        self.inner.terminate();
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
        match self.inner.wait(within).await {
            Some(status) => status,
            None => panic!(
                "the app did not exit within {within:?}; it printed:\n{}",
                self.output()
            ),
        }
    }
}

/// `GET url`: the status and body. Panics if no answer comes at all.
pub async fn get(url: &str) -> (u16, String) {
    checker::app::get(url)
        .await
        .unwrap_or_else(|err| panic!("{err}"))
}
