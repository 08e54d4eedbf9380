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
        let mut child = Command::new("bash")
            .arg(repo_root().join("run.sh"))
            .args(args)
            .current_dir(repo_root())
            .env("CARGO_TARGET_DIR", target_dir())
            .envs(env.iter().map(|(name, value)| (name, value)))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
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
    let mut run = Started::new(
        &[],
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
