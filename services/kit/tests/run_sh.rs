//! `./run.sh` itself, run as a learner runs it: `cargo test -p kit --test run_sh`.
//!
//! The tests that need cargo run `run.sh` in a copy of the kit's sources in a temporary folder
//! (so that the real `.env` is never touched), building into the workspace's own target folder.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The workspace's target folder: `CARGO_TARGET_TMPDIR` is `<target>/tmp`.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A copy of the kit's sources (no `target/`, no `.git`, no `.env`, none of the slides' npm
/// packages or built deck) in a temporary folder.
fn copy_of_the_kit() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            let skipped = [".git", "target", ".env", "node_modules", "dist"];
            if skipped.iter().any(|skip| name == *skip) {
                continue;
            }
            let (from, to) = (entry.path(), to.join(&name));
            if entry.file_type().unwrap().is_dir() {
                copy(&from, &to);
            } else {
                std::fs::copy(&from, &to).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&repo_root(), dir.path());
    dir
}

fn run_sh(root: &Path, args: &[&str]) -> Output {
    Command::new("bash")
        .arg(root.join("run.sh"))
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("APP_PORT", "0") // the doctor checks a port; 0 is always free
        // Nothing built ahead in the background: it would compile beside the other tests.
        .env("KIT_PREBUILD", "0")
        .output()
        .expect("bash runs")
}

fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn an_unknown_command_prints_the_usage_and_fails() {
    let kit = copy_of_the_kit();
    let output = run_sh(kit.path(), &["bulid"]);
    let text = printed(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("unrecognized subcommand 'bulid'"), "{text}");
    assert!(text.contains("Usage: ./run.sh [COMMAND]"), "{text}");
    assert!(
        !kit.path().join(".env").exists(),
        "a mistyped command changes nothing"
    );
}

#[test]
fn the_first_run_creates_env_from_the_example_and_the_doctor_passes() {
    let kit = copy_of_the_kit();
    let env_file = kit.path().join(".env");
    assert!(!env_file.exists());

    let output = run_sh(kit.path(), &["doctor"]);
    let text = printed(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("Created .env from .env.example"), "{text}");
    assert_eq!(
        std::fs::read_to_string(&env_file).unwrap(),
        std::fs::read_to_string(kit.path().join(".env.example")).unwrap()
    );
    assert!(
        text.contains("✓ Rust") && text.contains("✓ app port"),
        "{text}"
    );

    // The second run keeps the learner's .env as it is, and never prints a secret from it.
    std::fs::write(
        &env_file,
        "FIB_MAX_INDEX=12\nHONEYCOMB_API_KEY=hunter2-secret\n",
    )
    .unwrap();
    let output = run_sh(kit.path(), &["doctor"]);
    let text = printed(&output);
    assert!(output.status.success(), "{text}");
    assert!(!text.contains("Created .env"), "{text}");
    assert!(
        text.contains("FIB_MAX_INDEX=12") && text.contains("HONEYCOMB_API_KEY=(set, hidden)"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "a secret was printed: {text}");
}

#[test]
fn the_doctor_names_the_fix_for_a_bad_setting() {
    let kit = copy_of_the_kit();
    std::fs::write(kit.path().join(".env"), "FIB_MAX_INDEX=99\n").unwrap();
    let output = run_sh(kit.path(), &["doctor"]);
    let text = printed(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("✗ app port") && text.contains("FIB_MAX_INDEX") && text.contains("fix:"),
        "{text}"
    );
}

#[test]
fn without_cargo_it_says_how_to_install_rust() {
    // A PATH with only what run.sh needs before cargo (`dirname`), and a HOME without ~/.cargo.
    let empty_home = tempfile::tempdir().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let dirname = ["/usr/bin/dirname", "/bin/dirname"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap();
    std::os::unix::fs::symlink(dirname, bin.path().join("dirname")).unwrap();
    let output = Command::new("/bin/bash")
        .arg(repo_root().join("run.sh"))
        .env_clear()
        .env("PATH", bin.path())
        .env("HOME", empty_home.path())
        .output()
        .unwrap();
    let text = printed(&output);
    assert_eq!(output.status.code(), Some(127), "{text}");
    assert!(
        text.contains("cargo (Rust) is not installed") && text.contains("https://rustup.rs"),
        "{text}"
    );
}

#[test]
fn diff_check_puzzle_load_and_explorer_are_run_sh_commands() {
    let root = repo_root();
    let output = run_sh(&root, &["diff", "02"]);
    assert!(output.status.success(), "{}", printed(&output));
    assert!(printed(&output).starts_with("Step 02 · otlp: your copy (exercises/02-otlp)"));

    // `check` and `puzzle` hand over to the checker, arguments and exit status included.
    let output = run_sh(&root, &["check", "01", "--solution"]);
    assert!(output.status.success(), "{}", printed(&output));
    assert!(
        printed(&output).contains("Step 01 done"),
        "{}",
        printed(&output)
    );
    let output = run_sh(&root, &["puzzle", "9", "x"]);
    assert_eq!(output.status.code(), Some(2), "{}", printed(&output));
    assert!(printed(&output).contains("three puzzles"));

    // So do `load` (to the load generator) and `explorer`.
    let output = run_sh(&root, &["load", "--users", "0"]);
    assert_eq!(output.status.code(), Some(2), "{}", printed(&output));
    assert!(printed(&output).contains("--users"), "{}", printed(&output));
    let output = run_sh(&root, &["explorer", "--max-spans", "lots"]);
    assert_eq!(output.status.code(), Some(2), "{}", printed(&output));
    assert!(
        printed(&output).contains("--max-spans"),
        "{}",
        printed(&output)
    );
}

/// A loopback port that was free a moment ago.
#[test]
fn slides_builds_the_deck_and_refuses_a_slide_whose_region_is_gone() {
    let kit = copy_of_the_kit();
    // A slide naming a region that the solution does not have: the build fails, saying where.
    let section = kit.path().join("slides/01-stdout.md");
    let text = std::fs::read_to_string(&section).unwrap();
    assert!(text.contains("telemetry.rs:provider}}"));
    std::fs::write(
        &section,
        text.replace("telemetry.rs:provider}}", "telemetry.rs:provder}}"),
    )
    .unwrap();
    let output = run_sh(kit.path(), &["slides"]);
    let printed_text = printed(&output);
    assert_eq!(output.status.code(), Some(1), "{printed_text}");
    assert!(
        printed_text.contains(
            "in solutions/01-stdout/src/telemetry.rs: there is no region \"provder\"; \
             the file has: provider, shutdown"
        ) && printed_text.contains("slides/01-stdout.md:"),
        "{printed_text}"
    );
    assert!(!kit.path().join("slides/dist/deck.html").exists());
    std::fs::write(&section, text).unwrap();

    // The real deck, with the Marp CLI that `npm ci` installed in the kit's own slides/.
    let marp = repo_root().join("slides/node_modules");
    if !marp.join(".bin/marp").exists() {
        let reason = "Marp CLI is not installed: `npm ci` in slides/";
        let in_ci = std::env::var("CI").is_ok_and(|value| value == "true" || value == "1");
        assert!(!in_ci, "{reason}");
        eprintln!("skipped the build: {reason}");
        return;
    }
    std::os::unix::fs::symlink(&marp, kit.path().join("slides/node_modules")).unwrap();
    let output = run_sh(kit.path(), &["slides"]);
    let printed_text = printed(&output);
    assert!(output.status.success(), "{printed_text}");
    assert!(
        printed_text.contains("slides/dist/deck.html  to present"),
        "{printed_text}"
    );
    assert!(
        printed_text.contains("slides/dist/deck-learners.html  to share"),
        "{printed_text}"
    );
    for file in [
        "deck.html",
        "deck-learners.html",
        "deck.md",
        "deck-learners.md",
    ] {
        assert!(kit.path().join("slides/dist").join(file).exists(), "{file}");
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET http://127.0.0.1:{port}{path}` with HTTP/1.0 over a plain socket: the body.
fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .unwrap_or(response)
}

/// `./run.sh ARGS` started in the kit's folder, its stdout read line by line on a thread.
struct Started {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Started {
    fn new(args: &[&str], env: &[(&str, String)]) -> Started {
        use std::io::BufRead;
        use std::os::unix::process::CommandExt;
        let mut child = Command::new("bash")
            .arg(repo_root().join("run.sh"))
            .args(args)
            .current_dir(repo_root())
            .env("CARGO_TARGET_DIR", target_dir())
            .env("KIT_PREBUILD", "0")
            .envs(env.iter().map(|(name, value)| (name, value)))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            // A process group of its own, as a terminal gives a command it runs: the group's id
            // is the child's PID, for a Ctrl-C to the whole group.
            .process_group(0)
            .spawn()
            .unwrap();
        let (sender, lines) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let sender = sender.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stream)
                    .lines()
                    .map_while(Result::ok)
                {
                    let _ = sender.send(line);
                }
            });
        }
        Started {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads lines until one contains `text` (builds included: at most five minutes).
    fn wait_for(&mut self, text: &str) -> String {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        panic!("expected {text:?}; printed:\n{}", self.seen.join("\n"));
    }

    fn terminate(&self) {
        signals::send(self.child.id(), signals::Signal::Terminate);
    }

    /// One Ctrl-C, as a terminal sends it: a SIGINT to every process of the group.
    fn interrupt_group(&self) {
        signals::send_to_group(self.child.id(), signals::Signal::Interrupt);
    }

    fn exit_status(&mut self) -> std::process::ExitStatus {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "./run.sh did not stop; printed:\n{}",
                self.seen.join("\n")
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Drop for Started {
    /// When a test fails half-way, the kit is asked to stop as `kill` would (thawed first, if the
    /// test froze it), so that it stops the explorer too, which has a process group of its own;
    /// if it has not within 5 s, its group (the kit and the app) is killed.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            signals::send(self.child.id(), signals::Signal::Thaw);
            signals::send(self.child.id(), signals::Signal::Terminate);
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
            while std::time::Instant::now() < deadline {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            signals::send_to_group(self.child.id(), signals::Signal::Kill);
            let _ = self.child.wait();
        }
    }
}

/// The first `./run.sh` is step 00, which sends no telemetry: the app starts alone, so that its
/// URL comes as soon as it is built, and the explorer's port stays free.
#[test]
fn the_first_run_starts_step_00_alone_and_says_when_the_explorer_comes() {
    let (app, ui) = (free_port(), free_port());
    let mut run = Started::new(
        &[],
        &[
            ("APP_PORT", app.to_string()),
            ("EXPLORER_PORT", ui.to_string()),
        ],
    );
    run.wait_for("the trace explorer starts from step 01 on");
    run.wait_for(&format!("Sequence of numbers: http://127.0.0.1:{app}"));
    assert_eq!(http_get(app, "/fib?index=10").trim(), "55");
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", ui)).is_ok(),
        "the explorer's port is taken; printed:\n{}",
        run.seen.join("\n")
    );
    run.terminate();
    assert!(run.exit_status().success(), "{}", run.seen.join("\n"));
}

/// What `./run.sh NN` runs in the background once the app is up: each package built in turn,
/// reported, and the PID file that keeps a second one from starting removed at the end.
#[test]
fn building_ahead_builds_each_package_and_says_so() {
    let root = repo_root();
    let output = run_sh(&root, &["prebuild", "exercise-00-app"]);
    let printed = printed(&output);
    assert!(output.status.success(), "{printed}");
    assert!(
        printed.contains("building ahead: cargo build --package exercise-00-app"),
        "{printed}"
    );
    assert!(
        printed.contains("building ahead: exercise-00-app: exit status: 0"),
        "{printed}"
    );
    assert!(printed.contains("building ahead: done"), "{printed}");
    assert!(!target_dir().join("kit/prebuild.pid").exists());
}

#[test]
fn run_sh_starts_the_app_and_the_explorer_and_stops_both() {
    let (app, ui, grpc, http) = (free_port(), free_port(), free_port(), free_port());
    let mut run = Started::new(
        &["04", "--solution"],
        &[
            ("APP_PORT", app.to_string()),
            ("EXPLORER_PORT", ui.to_string()),
            ("EXPLORER_OTLP_GRPC_PORT", grpc.to_string()),
            ("EXPLORER_OTLP_HTTP_PORT", http.to_string()),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{http}"),
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".into()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
        ],
    );
    let explorer_line = run.wait_for("Trace explorer: ");
    assert!(
        explorer_line.contains(&format!("http://127.0.0.1:{ui}")),
        "{explorer_line}"
    );
    run.wait_for(&format!("Sequence of numbers: http://127.0.0.1:{app}"));

    // One click's worth: /fib?index=5 and its 14 sub-requests, traced into the explorer.
    assert_eq!(http_get(app, "/fib?index=5").trim(), "5");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let spans = loop {
        let stats: serde_json::Value = serde_json::from_str(&http_get(ui, "/api/stats")).unwrap();
        let spans = stats["spans"].as_u64().unwrap();
        if spans >= 44 || std::time::Instant::now() > deadline {
            break spans;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(spans, 44, "printed:\n{}", run.seen.join("\n"));

    // SIGTERM to the kit stops the app, and then the explorer: its ports are free again.
    run.terminate();
    let status = run.exit_status();
    assert!(
        status.success(),
        "{status:?}; printed:\n{}",
        run.seen.join("\n")
    );
    for port in [app, ui, grpc, http] {
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "port {port} is still taken; printed:\n{}",
            run.seen.join("\n")
        );
    }
}

#[test]
fn when_the_otlp_port_is_taken_the_app_starts_anyway_and_says_why() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let http = taken.local_addr().unwrap().port();
    // A step with the explorer beside it (step 00 starts alone).
    let mut run = Started::new(
        &["03", "--solution"],
        &[
            ("APP_PORT", "0".into()),
            ("EXPLORER_PORT", "0".into()),
            ("EXPLORER_OTLP_GRPC_PORT", "0".into()),
            ("EXPLORER_OTLP_HTTP_PORT", http.to_string()),
        ],
    );
    let why = run.wait_for("is already taken");
    assert!(why.contains(&format!("port {http} (OTLP/HTTP)")), "{why}");
    run.wait_for("the app starts anyway");
    let line = run.wait_for("Sequence of numbers: http://127.0.0.1:");
    // A request answered means the app is serving, and so listening for SIGTERM too.
    // "Sequence of numbers: http://127.0.0.1:PORT  (Ctrl-C to stop)"
    let port = line
        .split_once("127.0.0.1:")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|port| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    assert_eq!(http_get(port, "/fib?index=1").trim(), "1");
    run.terminate();
    let status = run.exit_status();
    assert!(
        status.success(),
        "{status:?}; printed:\n{}",
        run.seen.join("\n")
    );
}

#[test]
fn the_doctor_says_when_the_otlp_ports_are_taken_and_that_it_is_fine() {
    let kit = copy_of_the_kit();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    std::fs::write(
        kit.path().join(".env"),
        format!("EXPLORER_OTLP_HTTP_PORT={port}\nEXPLORER_PORT=0\n"),
    )
    .unwrap();
    let output = run_sh(kit.path(), &["doctor"]);
    let text = printed(&output);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "– explorer ports: OTLP port(s) {port} already in use, most likely by a Collector"
        )),
        "{text}"
    );
}

// One Ctrl-C in a terminal: a SIGINT to the whole foreground group, kit and app alike, while
// requests are in flight. The app must stop gracefully (once, though the kit passes a SIGTERM on
// as well), flush every span of every answered request, and say "Stopped."; the explorer must
// still be listening for those last spans.

/// The requests in flight: a few clicks' worth, each on a thread of its own.
const IN_FLIGHT: [u32; 4] = [12, 12, 12, 14];

/// A span as the explorer's API or the receiver gives it: enough to tell whether a trace is whole.
#[derive(Debug)]
struct Span {
    trace_id: String,
    span_id: String,
    parent: Option<String>,
    kind: String,
}

/// `GET /fib?index=N` for each of `indexes`, each from a thread: the answer's status line and
/// body, or `None` when no answer came.
fn send_requests(port: u16, indexes: &[u32]) -> Vec<std::thread::JoinHandle<Option<String>>> {
    indexes
        .iter()
        .map(|&index| {
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
                stream
                    .set_read_timeout(Some(std::time::Duration::from_secs(30)))
                    .ok()?;
                write!(
                    stream,
                    "GET /fib?index={index} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"
                )
                .ok()?;
                let mut response = String::new();
                stream.read_to_string(&mut response).ok()?;
                (!response.is_empty()).then_some(response)
            })
        })
        .collect()
}

/// Checks that `spans` are every span of `answered` requests, and no more: one trace per request,
/// whose root is the request's server span; every span's parent is there; every client span (a
/// sub-request) has the server span that answered it. Returns how many server spans there are.
fn assert_whole(spans: &[Span], answered: usize, printed: &str) -> usize {
    use std::collections::{BTreeMap, HashSet};
    let mut traces: BTreeMap<&str, Vec<&Span>> = BTreeMap::new();
    for span in spans {
        traces.entry(&span.trace_id).or_default().push(span);
    }
    assert_eq!(
        traces.len(),
        answered,
        "one trace per request; printed:\n{printed}"
    );
    for (trace, spans) in &traces {
        let ids: HashSet<&str> = spans.iter().map(|span| span.span_id.as_str()).collect();
        let roots: Vec<_> = spans.iter().filter(|span| span.parent.is_none()).collect();
        assert!(
            roots.len() == 1 && roots[0].kind == "server",
            "trace {trace}: roots {roots:?}"
        );
        for span in spans {
            if let Some(parent) = &span.parent {
                assert!(
                    ids.contains(parent.as_str()),
                    "trace {trace}: the parent of {span:?} never arrived; printed:\n{printed}"
                );
            }
            if span.kind == "client" {
                let answers = spans
                    .iter()
                    .filter(|s| s.kind == "server" && s.parent.as_deref() == Some(&span.span_id))
                    .count();
                assert_eq!(
                    answers, 1,
                    "trace {trace}: the server span of {span:?}; printed:\n{printed}"
                );
            }
        }
    }
    spans.iter().filter(|span| span.kind == "server").count()
}

/// The environment of a run whose spans leave the app only at its flush (or in full batches):
/// without the flush, most would never arrive.
fn flushed_only_at_the_end(app: u16, otlp_http: String) -> Vec<(&'static str, String)> {
    vec![
        ("APP_PORT", app.to_string()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", otlp_http),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".into()),
        ("OTEL_BSP_SCHEDULE_DELAY", "60000".into()),
        ("OTEL_BLRP_SCHEDULE_DELAY", "60000".into()),
        ("OTEL_METRIC_EXPORT_INTERVAL", "60000".into()),
    ]
}

/// Requests sent, one Ctrl-C to the group once they are in flight (`after`), and their answers,
/// each checked. Returns the line the app printed as it began to stop, and the requests answered.
///
/// `freeze_the_kit`: the kit is frozen (SIGSTOP) just before, so that it cannot stop the explorer
/// until the test has read it; its SIGINT waits, and comes when it is thawed.
fn ctrl_c_while_busy(
    run: &mut Started,
    app: u16,
    after: std::time::Duration,
    freeze_the_kit: bool,
) -> (String, Vec<u32>) {
    let requests = send_requests(app, &IN_FLIGHT);
    std::thread::sleep(after);
    if freeze_the_kit {
        signals::send(run.child.id(), signals::Signal::Freeze);
    }
    run.interrupt_group();
    let stopping = run.wait_for("Stopping");
    let answers: Vec<_> = requests.into_iter().map(|r| r.join().unwrap()).collect();
    let mut answered = Vec::new();
    for (index, answer) in IN_FLIGHT.iter().zip(answers) {
        let answer = answer.unwrap_or_else(|| {
            panic!(
                "/fib?index={index} in flight got no answer; printed:\n{}",
                run.seen.join("\n")
            )
        });
        assert!(
            answer.starts_with("HTTP/1.0 200")
                && answer
                    .trim_end()
                    .ends_with(&sequence::fib_iterative(*index).to_string()),
            "/fib?index={index}: {answer}"
        );
        answered.push(*index);
    }
    (stopping, answered)
}

/// What every such run must have printed: one graceful stop, to the end.
fn assert_stopped_once(run: &Started) {
    let printed = run.seen.join("\n");
    assert!(
        run.seen.iter().any(|line| line.trim() == "Stopped."),
        "{printed}"
    );
    assert!(!printed.contains("Stopping now"), "{printed}");
    assert!(!printed.contains("Stopped without"), "{printed}");
}

#[test]
fn one_ctrl_c_to_the_group_stops_the_app_first_and_every_span_reaches_the_explorer() {
    let (app, ui, grpc, http) = (free_port(), free_port(), free_port(), free_port());
    let mut env = flushed_only_at_the_end(app, format!("http://127.0.0.1:{http}"));
    env.extend([
        ("EXPLORER_PORT", ui.to_string()),
        ("EXPLORER_OTLP_GRPC_PORT", grpc.to_string()),
        ("EXPLORER_OTLP_HTTP_PORT", http.to_string()),
    ]);
    let mut run = Started::new(&["07", "--solution"], &env);
    run.wait_for("Trace explorer: ");
    run.wait_for(&format!("Sequence of numbers: http://127.0.0.1:{app}"));

    // Step 07 remembers the numbers it computed: its requests are quick, so the Ctrl-C follows
    // them closely. The app stops (and exits) in a moment: the kit, which would stop the
    // explorer at once then, is frozen until the explorer has been read. (That the SIGTERM the
    // kit passes on is not a second Ctrl-C is for the step 03 test below, whose app is busy.)
    let (_, answered) =
        ctrl_c_while_busy(&mut run, app, std::time::Duration::from_millis(20), true);
    run.wait_for("Stopped.");

    let list: serde_json::Value =
        serde_json::from_str(&http_get(ui, "/api/traces?limit=1000")).unwrap();
    let mut spans = Vec::new();
    for trace in list.as_array().unwrap() {
        let id = trace["trace_id"].as_str().unwrap();
        let trace: serde_json::Value =
            serde_json::from_str(&http_get(ui, &format!("/api/traces/{id}"))).unwrap();
        for span in trace["spans"].as_array().unwrap() {
            spans.push(Span {
                trace_id: span["trace_id"].as_str().unwrap().into(),
                span_id: span["span_id"].as_str().unwrap().into(),
                parent: span["parent_span_id"].as_str().map(String::from),
                kind: span["kind"].as_str().unwrap().into(),
            });
        }
    }
    signals::send(run.child.id(), signals::Signal::Thaw);
    let status = run.exit_status();
    let printed = run.seen.join("\n");
    assert!(status.success(), "{status:?}; printed:\n{printed}");
    assert_stopped_once(&run);
    let servers = assert_whole(&spans, answered.len(), &printed);
    assert!(servers > answered.len(), "sub-requests were traced too");

    // Then the kit stopped the explorer: its ports are free again.
    for port in [app, ui, grpc, http] {
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "port {port} is still taken; printed:\n{printed}"
        );
    }
}

/// `./run.sh STEP --solution --no-explorer`, its telemetry to a receiver, one Ctrl-C while busy:
/// the spans that arrived, and the requests answered.
fn ctrl_c_without_the_explorer(
    step: &str,
    after: std::time::Duration,
) -> (Vec<Span>, Vec<u32>, String, Started) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let receiver = runtime.block_on(receiver::Receiver::start()).unwrap();
    let app = free_port();
    let env = flushed_only_at_the_end(app, receiver.http_endpoint());
    let mut run = Started::new(&[step, "--solution", "--no-explorer"], &env);
    run.wait_for(&format!("Sequence of numbers: http://127.0.0.1:{app}"));
    let (stopping, answered) = ctrl_c_while_busy(&mut run, app, after, false);
    let status = run.exit_status();
    assert!(
        status.success(),
        "{status:?}; printed:\n{}",
        run.seen.join("\n")
    );
    // Everything printed up to the exit, "Stopped." included.
    while let Ok(line) = run.lines.recv_timeout(std::time::Duration::from_secs(2)) {
        run.seen.push(line);
    }
    assert_stopped_once(&run);
    let spans = receiver
        .spans()
        .into_iter()
        .map(|span| Span {
            trace_id: span.trace_id,
            span_id: span.span_id,
            parent: span.parent_span_id,
            kind: format!("{:?}", span.kind).to_lowercase(),
        })
        .collect();
    (spans, answered, stopping, run)
}

#[test]
fn one_ctrl_c_to_the_group_without_the_explorer_flushes_every_span_of_step_07() {
    let (spans, answered, _, run) =
        ctrl_c_without_the_explorer("07", std::time::Duration::from_millis(20));
    let servers = assert_whole(&spans, answered.len(), &run.seen.join("\n"));
    assert!(servers > answered.len(), "sub-requests were traced too");
}

#[test]
fn one_ctrl_c_to_the_group_without_the_explorer_flushes_every_span_of_step_03_exactly() {
    // Step 03 computes every number anew: index 14 alone is 1,219 requests, so they are still
    // in flight a quarter of a second later.
    let (spans, answered, stopping, run) =
        ctrl_c_without_the_explorer("03", std::time::Duration::from_millis(250));
    let printed = run.seen.join("\n");
    assert!(
        stopping.contains("finishing"),
        "{stopping}; printed:\n{printed}"
    );
    let servers = assert_whole(&spans, answered.len(), &printed);
    let expected: u64 = answered.iter().map(|&i| sequence::requests_for(i)).sum();
    assert_eq!(servers as u64, expected, "printed:\n{printed}");
}
