//! The `loadgen` command as a learner runs it: flags, exit statuses, the summary on stdout, the
//! progress on stderr, and Ctrl-C. Run with: `cargo test -p loadgen --test cli`.

mod support;

use std::process::Output;
use std::time::Duration;

use support::{Behaviour, closed_url, has_row, start_app};
use tokio::process::Command;

/// The built binary, with none of the developer's `LOAD_*` settings leaking in.
fn loadgen(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_loadgen"));
    for name in ["LOAD_URL", "LOAD_USERS", "LOAD_DURATION", "LOAD_MAX_INDEX"] {
        command.env_remove(name);
    }
    command.args(args).kill_on_drop(true);
    command
}

async fn output(mut command: Command) -> Output {
    let output = command.output();
    tokio::time::timeout(Duration::from_secs(30), output)
        .await
        .expect("loadgen ends within 30 s")
        .expect("loadgen runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn bad_flags_exit_2_and_name_the_accepted_values() {
    let cases = [
        (&["--users", "0"][..], "0 is not in 1..=100"),
        (&["--users", "101"], "101 is not in 1..=100"),
        (
            &["--duration", "abc"],
            "use 30s, 2m, 500ms, or a number of seconds",
        ),
        (&["--duration", "11m"], "longer than the 10 minutes"),
        (
            &["--url", "not-a-url"],
            "expected a URL like http://127.0.0.1:8090",
        ),
        (
            &["--url", "https://example.com"],
            "give the app's plain http:// URL",
        ),
        (&["--max-index", "0"], "0 is not in 1..=20"),
        (&["--requests", "0"], "0 is not in 1.."),
        (
            &["--seed", "abc"],
            "invalid value 'abc' for '--seed <SEED>'",
        ),
    ];
    for (args, expected) in cases {
        let output = output(loadgen(args)).await;
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
    }
}

#[tokio::test]
async fn bad_environment_variables_exit_2_as_bad_flags_do() {
    for (name, value, expected) in [
        ("LOAD_USERS", "0", "0 is not in 1..=100"),
        ("LOAD_DURATION", "soon", "bad duration \"soon\""),
        ("LOAD_URL", "localhost:8090", "expected an http:// URL"),
        ("LOAD_MAX_INDEX", "99", "99 is not in 1..=20"),
    ] {
        let mut command = loadgen(&[]);
        command.env(name, value);
        let output = output(command).await;
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{name}={value}: {stderr}");
        assert!(stderr.contains(expected), "{name}={value}: {stderr}");
    }
}

#[tokio::test]
async fn no_app_exits_1_and_says_how_to_start_it() {
    let url = closed_url();
    let output = output(loadgen(&["--url", &url])).await;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "error: no app answers at {url}: start it with ./run.sh (or ./run.sh NN) in another \
             terminal\n"
        )
    );
    assert!(output.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_prints_progress_on_stderr_and_the_summary_on_stdout() {
    let app = start_app(Behaviour::default()).await;
    let mut command = loadgen(&["--users", "2", "--max-index", "4", "--seed", "5"]);
    // The environment works as the flags do.
    command
        .env("LOAD_URL", &app.url)
        .env("LOAD_DURATION", "1500ms");
    let output = output(command).await;
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stderr}");

    let served: u64 = app.per_index().values().sum();
    assert!(served > 0);
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "2 users at {} (seed 5); stopped: the duration had passed",
                app.url
            )
            .as_str()
        )
    );
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with(&format!("{served} requests in 1.")),
        "{stdout}"
    );
    assert!(has_row(&stdout, &format!("2xx {served}")), "{stdout}");
    assert!(
        stdout.contains("index  requests        P50        P99        max\n"),
        "{stdout}"
    );
    // One table row per index asked for, 0 to 4 at most.
    let rows = stdout
        .lines()
        .skip_while(|line| !line.starts_with("index"))
        .skip(1);
    assert_eq!(rows.count(), app.per_index().len(), "{stdout}");

    // Progress: a line as it starts, and one a second after.
    assert!(
        stderr.starts_with("loadgen: 2 users pressing Go at"),
        "{stderr}"
    );
    assert!(stderr.contains("loadgen:   1.0 s "), "{stderr}");
}

/// Ctrl-C is SIGINT, sent with `kill -INT`: Unix only.
#[cfg(unix)]
mod signals {
    use super::*;

    use std::process::Stdio;

    use tokio::io::{AsyncBufReadExt, BufReader, Lines};
    use tokio::process::{Child, ChildStderr};

    /// Starts `loadgen` with its stderr piped, to follow its progress while it runs.
    fn spawn(args: &[&str]) -> (Child, Lines<BufReader<ChildStderr>>) {
        let mut child = loadgen(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("loadgen starts");
        let stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        (child, stderr)
    }

    /// Reads stderr until a line contains `wanted`; panics after 10 s.
    async fn wait_for_line(stderr: &mut Lines<BufReader<ChildStderr>>, wanted: &str) -> String {
        let read = async {
            while let Some(line) = stderr.next_line().await.unwrap() {
                if line.contains(wanted) {
                    return line;
                }
            }
            panic!("stderr ended without {wanted:?}");
        };
        tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .unwrap_or_else(|_| panic!("no {wanted:?} on stderr within 10 s"))
    }

    /// Presses Ctrl-C for the process: sends it SIGINT.
    fn ctrl_c(child: &Child) {
        let pid = child.id().expect("still running").to_string();
        let status = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ctrl_c_stops_early_and_still_prints_the_summary() {
        let app = start_app(Behaviour::default()).await;
        let (child, mut stderr) = spawn(&["--url", &app.url, "--duration", "10m"]);
        wait_for_line(&mut stderr, "loadgen:   1.0 s").await;
        ctrl_c(&child);

        let output = tokio::time::timeout(Duration::from_secs(5), child.wait_with_output())
            .await
            .expect("loadgen stops within 5 s of Ctrl-C")
            .unwrap();
        let stdout = text(&output.stdout);
        assert!(output.status.success(), "{stdout}");
        assert!(stdout.contains("stopped: interrupted (Ctrl-C)"), "{stdout}");
        let served: u64 = app.per_index().values().sum();
        assert!(
            stdout.contains(&format!("\n{served} requests in ")),
            "{stdout}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_second_ctrl_c_abandons_the_requests_in_flight() {
        // Index 1 and above take a minute: the users are soon all waiting.
        let app = start_app(Behaviour {
            slow: Some((1, Duration::from_secs(60))),
            ..Behaviour::default()
        })
        .await;
        let (child, mut stderr) = spawn(&["--url", &app.url, "--users", "2", "--seed", "1"]);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while app.per_index().get(&1) != Some(&2) {
            assert!(tokio::time::Instant::now() < deadline, "{:?}", app.seen());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        ctrl_c(&child);
        let line = wait_for_line(&mut stderr, "stopping").await;
        assert_eq!(
            line,
            "loadgen: stopping: waiting for 2 requests in flight (at most 10s; Ctrl-C abandons them)"
        );
        ctrl_c(&child);
        let output = tokio::time::timeout(Duration::from_secs(5), child.wait_with_output())
            .await
            .expect("loadgen stops within 5 s of the second Ctrl-C, not after the 10 s timeout")
            .unwrap();
        let stdout = text(&output.stdout);
        assert!(output.status.success(), "{stdout}");
        // The two answered index-0 requests are counted; the two abandoned ones are not.
        assert!(stdout.contains("\n2 requests in "), "{stdout}");
        assert!(has_row(&stdout, "abandoned (not counted) 2"), "{stdout}");
    }
}
