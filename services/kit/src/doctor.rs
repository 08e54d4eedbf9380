//! `./run.sh doctor`: is this machine ready for the workshop?
//!
//! Each check prints ✓ (fine), ✗ (must be fixed: the fix follows) or – (optional, for
//! information). The exit status is 1 when any check shows ✗.

use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::Parser;

use crate::project::Project;

enum Outcome {
    Ok(String),
    Problem { what: String, fix: String },
    Info(String),
}

pub fn run(project: &Project) -> anyhow::Result<ExitCode> {
    println!(
        "Checking this machine for the workshop ({}):",
        project.root.display()
    );
    let checks = [
        ("Rust", rust()),
        (".env", env_file(project)),
        ("app port", app_port(project)),
        ("explorer ports", explorer_ports()),
        ("Docker", docker()),
        ("Go", go(project)),
        ("Chromium", chromium()),
    ];
    let mut problems = 0;
    for (name, outcome) in checks {
        match outcome {
            Outcome::Ok(detail) => println!("  ✓ {name}: {detail}"),
            Outcome::Info(detail) => println!("  – {name}: {detail}"),
            Outcome::Problem { what, fix } => {
                problems += 1;
                println!("  ✗ {name}: {what}\n      fix: {fix}");
            }
        }
    }
    if problems == 0 {
        println!("Ready. Start with ./run.sh");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("{problems} problem(s) to fix before the workshop.");
        Ok(ExitCode::FAILURE)
    }
}

/// The oldest Rust that builds the kit: the workspace's `rust-version`.
const MSRV: &str = env!("CARGO_PKG_RUST_VERSION");

fn rust() -> Outcome {
    // The cargo that runs the kit (`cargo run` names itself in $CARGO), else the one on PATH.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let Some(version) = output_of(&cargo, &["--version"]) else {
        return Outcome::Problem {
            what: "cargo not found".into(),
            fix: "install Rust from https://rustup.rs, then open a new terminal".into(),
        };
    };
    // "cargo 1.95.0 (f2d3ce0bd 2026-03-21)"
    let number = version.split_whitespace().nth(1).unwrap_or_default();
    if version_at_least(number, MSRV) {
        Outcome::Ok(format!("cargo {number} (the kit needs {MSRV} or newer)"))
    } else {
        Outcome::Problem {
            what: format!("{number} is older than the {MSRV} the kit needs"),
            fix: "rustup update stable (or install from https://rustup.rs)".into(),
        }
    }
}

fn env_file(project: &Project) -> Outcome {
    match project.describe_env_file() {
        Ok(settings) if settings.is_empty() => {
            Outcome::Ok("present, no settings changed (the defaults apply)".into())
        }
        Ok(settings) => Outcome::Ok(format!("present: {}", settings.join(", "))),
        Err(err) => Outcome::Problem {
            what: format!("{err:#}"),
            fix: "correct the line in .env, or delete .env and run ./run.sh doctor again".into(),
        },
    }
}

fn app_port(project: &Project) -> Outcome {
    if let Err(err) = project.load_env_file() {
        return Outcome::Problem {
            what: format!("{err:#}"),
            fix: "see .env above".into(),
        };
    }
    // The app's own settings parser, so that the doctor and the app agree on every value.
    let config = match sequence::Config::try_parse_from(["app"]) {
        Ok(config) => config,
        Err(err) => {
            return Outcome::Problem {
                what: err
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                fix: "correct that setting in .env or in your environment (see .env.example)"
                    .into(),
            };
        }
    };
    listen_check(std::net::SocketAddr::new(config.host, config.port))
}

/// Can the app listen on `addr`? When it is taken, the fix names a port that is free now and
/// that none of the kit's services uses (not 8091, the explorer's pages).
fn listen_check(addr: std::net::SocketAddr) -> Outcome {
    match std::net::TcpListener::bind(addr) {
        Ok(_) => Outcome::Ok(format!("{addr} is free (APP_HOST, APP_PORT)")),
        Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => Outcome::Problem {
            what: format!("{addr} is already in use, perhaps by another ./run.sh"),
            fix: format!(
                "stop the other program, or set APP_PORT={} in .env",
                sequence::net::suggest_port(addr.ip(), addr.port())
            ),
        },
        Err(err) => Outcome::Problem {
            what: format!("cannot listen on {addr}: {err}"),
            fix: "set APP_HOST=127.0.0.1 and an APP_PORT between 1024 and 65535 in .env".into(),
        },
    }
}

/// The trace explorer's ports (its settings are read from the environment and `.env`, loaded by
/// the app's check above; the defaults are the explorer's). OTLP ports held by something else
/// are fine: a Collector, most likely, which then gets the spans.
fn explorer_ports() -> Outcome {
    let setting = |name: &str, default: &str| std::env::var(name).unwrap_or(default.into());
    let host = setting("EXPLORER_HOST", "127.0.0.1");
    let taken = |port: &str| {
        std::net::TcpListener::bind(format!("{host}:{port}"))
            .is_err_and(|err| err.kind() == std::io::ErrorKind::AddrInUse)
    };
    let pages = setting("EXPLORER_PORT", "8091");
    let otlp = [
        setting("EXPLORER_OTLP_GRPC_PORT", "4317"),
        setting("EXPLORER_OTLP_HTTP_PORT", "4318"),
    ];
    if taken(&pages) {
        return Outcome::Problem {
            what: format!("{host}:{pages} (the explorer's pages) is already in use"),
            fix: "stop the other program, or set EXPLORER_PORT to another port in .env".into(),
        };
    }
    match otlp.iter().filter(|port| taken(port)).collect::<Vec<_>>() {
        ports if ports.is_empty() => Outcome::Ok(format!(
            "{host}:{pages} (pages), {} and {} (OTLP) are free",
            otlp[0], otlp[1]
        )),
        ports => Outcome::Info(format!(
            "OTLP port(s) {} already in use, most likely by a Collector (docker compose up): the \
             app's spans go there, and ./run.sh starts the app without the explorer",
            ports
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

fn docker() -> Outcome {
    let Some(client) = output_of("docker", &["--version"]) else {
        return Outcome::Info(
            "not installed. Optional: only the Collector and Jaeger need it (docker compose up); \
             the app and its tests do not."
                .into(),
        );
    };
    let compose = output_of("docker", &["compose", "version"])
        .or_else(|| output_of("docker-compose", &["--version"]))
        .unwrap_or_else(|| {
            "no compose plugin (install docker-compose to run the Collector)".into()
        });
    let engine = match output_of("docker", &["info", "--format", "{{.ServerVersion}}"]) {
        Some(version) if !version.is_empty() => format!("engine {version} running"),
        _ => "no engine running (start Docker Desktop or the docker service to use it)".into(),
    };
    Outcome::Info(format!("{client}; {compose}; {engine}"))
}

/// Go builds the Collector and Jaeger for machines without Docker (`./run.sh stack`), and the
/// tests that run them.
fn go(project: &Project) -> Outcome {
    let Some(go) = stack::programs::go_version() else {
        return Outcome::Info(
            "not installed. Optional: with Go, ./run.sh stack builds and runs the Collector and \
             Jaeger without Docker, and ./run.sh test runs them (https://go.dev/dl)"
                .into(),
        );
    };
    let mut built = Vec::new();
    let mut missing = Vec::new();
    for program in stack::Program::ALL {
        let version = program
            .image_tag(&project.root)
            .unwrap_or_else(|err| format!("({err:#})"));
        let name = format!("{} {version}", program.name());
        match program.cached(&project.root) {
            Ok(Some(_)) => built.push(name),
            _ => missing.push(name),
        }
    }
    Outcome::Info(if missing.is_empty() {
        format!(
            "{go}; {} built natively (./run.sh stack up runs them)",
            built.join(" and ")
        )
    } else {
        format!(
            "{go}; {} not built yet: ./run.sh stack build (a few minutes, once)",
            missing.join(" and ")
        )
    })
}

fn chromium() -> Outcome {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|browser| output_of(browser, &["--version"]));
    match (found, output_of("chromedriver", &["--version"])) {
        (Some(browser), Some(_)) => Outcome::Info(format!(
            "{browser} with chromedriver (the page's browser test runs)"
        )),
        _ => Outcome::Info(
            "Chromium or chromedriver not found: the page's browser test is skipped \
             (apt-get install chromium chromium-driver to run it)"
                .into(),
        ),
    }
}

/// The first line a program prints, or `None` if it is missing, fails, or takes over 5 s.
fn output_of(program: &str, args: &[&str]) -> Option<String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match child.try_wait().ok()? {
            Some(status) if status.success() => break,
            Some(_) => return None,
            None if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take()?, &mut stdout).ok()?;
    Some(stdout.lines().next().unwrap_or_default().trim().to_string())
}

/// `"1.95.0" >= "1.88"`, comparing numbers part by part.
fn version_at_least(version: &str, minimum: &str) -> bool {
    let parts = |v: &str| -> Vec<u64> {
        v.split(['.', '-'])
            .map_while(|part| part.parse().ok())
            .collect()
    };
    parts(version) >= parts(minimum)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_by_number_not_by_text() {
        assert!(version_at_least("1.95.0", "1.88"));
        assert!(version_at_least("1.88.0", "1.88"));
        assert!(version_at_least("1.100.0", "1.88"));
        assert!(!version_at_least("1.87.1", "1.88"));
        assert!(!version_at_least("1.9.0", "1.88"));
    }

    #[test]
    fn a_taken_app_port_gets_a_free_port_the_kit_does_not_use() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = taken.local_addr().unwrap();
        let Outcome::Problem { what, fix } = listen_check(addr) else {
            panic!("a taken port passed the check");
        };
        assert!(what.contains("already in use"), "{what}");
        let port: u16 = fix
            .split("APP_PORT=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|port| port.parse().ok())
            .unwrap_or_else(|| panic!("no port in {fix:?}"));
        assert_ne!(port, addr.port(), "{fix}");
        assert!(!sequence::net::KIT_PORTS.contains(&port), "{fix}");
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "{fix}"
        );
    }
}
