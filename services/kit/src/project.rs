//! The kit's folder, its `.env`, and cargo run in it.
//!
//! `.env` holds the learner's settings and, later, API keys: it is git-ignored, and the kit
//! never prints a value from it whose name looks secret.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// The package that `./run.sh` starts: the app before any telemetry.
pub const APP_PACKAGE: &str = "exercise-00-app";
/// The trace explorer's package, which `./run.sh NN` starts beside the app from step 01.
pub const EXPLORER_PACKAGE: &str = "explorer";
/// The checker's package, which `./run.sh check` and `./run.sh puzzle` run.
pub const CHECKER_PACKAGE: &str = "checker";

pub struct Project {
    pub root: PathBuf,
}

impl Project {
    /// The nearest folder, from here upwards, that holds `run.sh` and `.env.example`.
    pub fn find() -> anyhow::Result<Project> {
        let here = std::env::current_dir().context("cannot read the current folder")?;
        match here
            .ancestors()
            .find(|dir| dir.join("run.sh").is_file() && dir.join(".env.example").is_file())
        {
            Some(root) => Ok(Project {
                root: root.to_path_buf(),
            }),
            None => bail!(
                "{} is not inside the workshop kit (no run.sh and .env.example found here or above); \
                 cd into the kit's folder and try again",
                here.display()
            ),
        }
    }

    /// `cargo`, to run in the kit's folder: the one that runs the kit (`CARGO`), if any.
    pub fn cargo(&self) -> Command {
        let mut command = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        command.current_dir(&self.root);
        command
    }

    /// Where cargo builds: `CARGO_TARGET_DIR` (relative to the kit's folder) or `target/`.
    pub fn target_dir(&self) -> PathBuf {
        match std::env::var_os("CARGO_TARGET_DIR") {
            // An absolute CARGO_TARGET_DIR replaces the root when joined.
            Some(dir) => self.root.join(dir),
            None => self.root.join("target"),
        }
    }

    pub fn env_file(&self) -> PathBuf {
        self.root.join(".env")
    }

    /// Creates `.env` from `.env.example` when it is missing, and says so.
    pub fn ensure_env_file(&self) -> anyhow::Result<()> {
        let env_file = self.env_file();
        if !env_file.exists() {
            std::fs::copy(self.root.join(".env.example"), &env_file)
                .with_context(|| format!("could not create {}", env_file.display()))?;
            eprintln!(
                "Created .env from .env.example: your settings go there (it is git-ignored)."
            );
        }
        Ok(())
    }

    /// Loads `.env` into this process's environment, without overriding variables already set,
    /// so that the programs the kit starts see the settings.
    pub fn load_env_file(&self) -> anyhow::Result<()> {
        dotenvy::from_path(self.env_file()).map_err(|err| env_file_error(&self.env_file(), err))
    }

    /// The settings in `.env`, as `NAME=value` with secret values hidden, for display.
    pub fn describe_env_file(&self) -> anyhow::Result<Vec<String>> {
        let entries = dotenvy::from_path_iter(self.env_file())
            .map_err(|err| env_file_error(&self.env_file(), err))?;
        let mut settings = Vec::new();
        for entry in entries {
            let (name, value) = entry.map_err(|err| env_file_error(&self.env_file(), err))?;
            settings.push(display_setting(&name, &value));
        }
        Ok(settings)
    }
}

fn env_file_error(path: &Path, err: dotenvy::Error) -> anyhow::Error {
    anyhow::anyhow!(
        "could not read {}: {err}\n  Fix that line, or delete .env to start again from .env.example.",
        path.display()
    )
}

/// `NAME=value`, or `NAME=(set, hidden)` when the name says the value is a secret.
pub fn display_setting(name: &str, value: &str) -> String {
    const SECRET_WORDS: [&str; 6] = ["KEY", "TOKEN", "SECRET", "PASSWORD", "HEADERS", "AUTH"];
    let upper = name.to_ascii_uppercase();
    if value.is_empty() {
        format!("{name}=(empty)")
    } else if SECRET_WORDS.iter().any(|word| upper.contains(word)) {
        format!("{name}=(set, hidden)")
    } else {
        format!("{name}={value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_are_never_displayed() {
        for name in [
            "HONEYCOMB_API_KEY",
            "OTEL_EXPORTER_OTLP_HEADERS",
            "some_token",
            "DB_PASSWORD",
        ] {
            let shown = display_setting(name, "hunter2");
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        assert_eq!(display_setting("APP_PORT", "9000"), "APP_PORT=9000");
    }
}
