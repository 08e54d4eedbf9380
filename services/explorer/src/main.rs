//! The explorer as a program. Run with: `./run.sh explorer` (or `cargo run -p explorer`).
//!
//! `--help` lists the settings; each can also come from the environment (`EXPLORER_PORT`, …).

use clap::Parser;

/// The kit's built-in trace explorer: receives OTLP traces, metrics and logs and shows them at
/// its URL.
#[derive(Parser)]
#[command(name = "explorer", version)]
struct Cli {
    #[command(flatten)]
    settings: explorer::Settings,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match explorer::Explorer::start(&cli.settings).await {
        Ok(explorer) => {
            // The code itself is the instructor's to say; the line only tells that one is needed.
            let room = if cli.settings.required_code().is_some() {
                ", room code required (x-room-code)".to_string()
            } else if let Ok(Some(room)) = cli.settings.forward() {
                format!(
                    "; forwarding a copy to the room at {} as {}",
                    room.url, room.learner
                )
            } else {
                String::new()
            };
            println!(
                "Trace explorer: {}  (receiving OTLP on {} gRPC and {} HTTP{room}; Ctrl-C to stop)",
                explorer.url(),
                explorer.grpc_endpoint(),
                explorer.http_endpoint()
            );
            let _ = tokio::signal::ctrl_c().await;
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
