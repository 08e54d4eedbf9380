//! `./run.sh stack …`: the Collector and Jaeger of `docker-compose.yml`, without Docker, for a
//! machine with Go (services/stack).
//!
//! - `build`: builds both from their Go modules, once per version (a few minutes);
//! - `up`: runs them as compose would, on the ports compose publishes, with the overlay `.env`
//!   chooses (`COLLECTOR_OVERLAY`) or `--overlay` names; Ctrl-C stops the Collector first, so
//!   that its last batch reaches Jaeger, then Jaeger;
//! - `validate`: the Collector's own check of `collector/config.yaml` with each overlay.

use std::net::{SocketAddr, TcpListener};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Subcommand;
use stack::collector::{self, Listen, Settings};
use stack::compose::{Compose, Variables};
use stack::{Program, Programs, Progress, Stack, jaeger};

use crate::project::Project;

#[derive(Subcommand)]
pub enum StackCommand {
    /// Build the Collector and Jaeger from their Go modules (needs Go; a few minutes, once).
    Build,
    /// Run the Collector and Jaeger natively, as `docker compose up` would; Ctrl-C stops both.
    Up {
        /// The Collector's overlay: none, hosted or sampling (default: COLLECTOR_OVERLAY in .env).
        #[arg(long)]
        overlay: Option<String>,
    },
    /// Check collector/config.yaml with each overlay, with the Collector's own `validate`.
    Validate,
}

pub fn run(project: &Project, command: StackCommand) -> anyhow::Result<ExitCode> {
    match command {
        StackCommand::Build => {
            for program in Program::ALL {
                let binary = program.get(&project.root, Progress::Shown)?;
                println!(
                    "✓ {} {}: {}",
                    program.name(),
                    program.version(&project.root)?,
                    binary.display()
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        StackCommand::Up { overlay } => up(project, overlay),
        StackCommand::Validate => validate(project),
    }
}

/// The variables compose would read from `.env`: those it names, from `.env` and the environment.
fn compose_variables(project: &Project, compose: &Compose) -> anyhow::Result<Variables> {
    project.load_env_file()?;
    Ok(compose
        .variables()?
        .into_iter()
        .filter_map(|name| std::env::var(&name).ok().map(|value| (name, value)))
        .collect())
}

/// The overlay's name, refused unless `collector/<name>.yaml` exists.
fn overlay_name(
    project: &Project,
    chosen: Option<String>,
    variables: &Variables,
) -> anyhow::Result<String> {
    let name = chosen
        .or_else(|| variables.get(collector::OVERLAY_VARIABLE).cloned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "none".to_string());
    let overlays = stack::config::overlays(&project.root)?;
    if !overlays.contains(&name) {
        bail!(
            "there is no overlay `{name}`: collector/ has {} (COLLECTOR_OVERLAY in .env, or \
             --overlay)",
            overlays.join(", ")
        );
    }
    Ok(name)
}

fn up(project: &Project, overlay: Option<String>) -> anyhow::Result<ExitCode> {
    let root = &project.root;
    let compose = Compose::read(root)?;
    let variables = compose_variables(project, &compose)?;
    let overlay = overlay_name(project, overlay, &variables)?;

    // The ports compose publishes must be free here: a trace explorer (./run.sh) or a running
    // compose stack holds 4317 and 4318.
    for service in [collector::SERVICE, jaeger::SERVICE] {
        for port in compose.published_ports(service)? {
            if let Err(err) = TcpListener::bind(("0.0.0.0", port)) {
                bail!(
                    "port {port} is taken ({err}): stop what holds it first (the trace explorer of \
                     ./run.sh, or `docker compose down`), then try again"
                );
            }
        }
    }
    let programs = Programs::get(root, Progress::Shown)?;
    let query_port = compose
        .published_ports(jaeger::SERVICE)?
        .first()
        .copied()
        .context("docker-compose.yml publishes no port of Jaeger's")?;
    let ports = jaeger::Ports::with_query_at(SocketAddr::from(([0, 0, 0, 0], query_port)))?;
    let settings = Settings {
        variables,
        listen: Listen::AsWritten,
        echo: Some("collector | "),
        ..Settings::new(&overlay)
    };
    let mut stack = Stack::start(root, &programs, &ports, settings)?;
    let (collector, jaeger) = (&stack.collector, &stack.jaeger);

    let at = |setting: &str| collector.address(setting).port();
    println!(
        "The Collector {} and Jaeger {} run natively, as `docker compose up` would start them, with \
         collector/config.yaml and collector/{overlay}.yaml:",
        Program::Collector.version(root)?,
        Program::Jaeger.image_tag(root)?,
    );
    println!(
        "  OTLP in:  http://localhost:{} (HTTP) and http://localhost:{} (gRPC), the apps' defaults",
        at("receivers.otlp.protocols.http"),
        at("receivers.otlp.protocols.grpc")
    );
    println!(
        "  Jaeger:   {}/api/traces?service=fib (its HTTP API: a Jaeger built from its Go module \
         has no UI; the trace explorer, ./run.sh explorer, shows traces offline)",
        jaeger.query_url().replace("127.0.0.1", "localhost")
    );
    println!(
        "  Metrics:  http://localhost:{}/metrics (step 07)",
        at("exporters.prometheus")
    );
    println!(
        "  The Collector's own pages: http://localhost:{}/debug/servicez, /debug/tracez; health: http://localhost:{}/",
        at("extensions.zpages"),
        at("extensions.health_check")
    );
    println!("Ctrl-C to stop.");

    signals::noted::install();
    let code = loop {
        if signals::noted::requested() {
            break ExitCode::SUCCESS;
        }
        let jaeger_runs = stack.jaeger.process.is_running();
        if !stack.collector.process.is_running() || !jaeger_runs {
            // The Collector's lines are on the terminal already; Jaeger's are not.
            match jaeger_runs {
                true => eprintln!("The Collector stopped by itself."),
                false => eprintln!(
                    "Jaeger stopped by itself:\n{}",
                    stack.jaeger.process.output()
                ),
            }
            break ExitCode::FAILURE;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    println!("Stopping the Collector (it sends what it holds), then Jaeger…");
    stack.stop()?;
    println!("Stopped.");
    Ok(code)
}

fn validate(project: &Project) -> anyhow::Result<ExitCode> {
    let root = &project.root;
    let compose = Compose::read(root)?;
    let variables = compose_variables(project, &compose)?;
    let binary = Program::Collector.get(root, Progress::Shown)?;
    let mut failed = 0;
    for overlay in stack::config::overlays(root)? {
        let output = collector::validate(root, &binary, &overlay, &variables)?;
        if output.status.success() {
            println!("✓ collector/config.yaml with {overlay}.yaml");
        } else {
            failed += 1;
            println!(
                "✗ collector/config.yaml with {overlay}.yaml:\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
