//! Marp CLI (`@marp-team/marp-cli`, from npm) renders the expanded Markdown into one HTML file:
//! the slides, their theme and the presenter view's script, all inline.
//!
//! Its version is pinned in `slides/package.json` and `slides/package-lock.json`; [`install`]
//! runs `npm ci` there the first time. Its settings are in `slides/marp.config.mjs`: raw HTML allowed,
//! emoji left as text (Marp would otherwise fetch them from a CDN), and the kit's theme.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// Where `npm ci` puts Marp CLI's command, under the `slides/` folder.
pub fn command(slides: &Path) -> PathBuf {
    slides.join("node_modules").join(".bin").join("marp")
}

/// Marp CLI's command, installed with `npm ci` in `slides/` if it is not there yet.
pub fn install(slides: &Path) -> anyhow::Result<PathBuf> {
    let marp = command(slides);
    if marp.exists() {
        return Ok(marp);
    }
    let npm_works = Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !npm_works {
        bail!(
            "the slides are rendered by Marp CLI, from npm, and npm is not installed.\n  \
             Install Node.js 18 or later with npm (Debian/Ubuntu: `sudo apt install nodejs npm`; \
             others: https://nodejs.org), then run `./run.sh slides` again."
        );
    }
    eprintln!("Installing Marp CLI into slides/node_modules (npm ci, once; about 140 MB) …");
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(slides)
        .status()
        .context("running npm ci in slides/")?;
    if !status.success() || !marp.exists() {
        bail!(
            "`npm ci` in slides/ failed ({status}): it needs the npm registry once. \
             Check the network (or an npm proxy) and run `./run.sh slides` again."
        );
    }
    Ok(marp)
}

/// Renders `input` (Markdown) into `output` (HTML) with the settings in `slides/marp.config.mjs`.
pub fn render(marp: &Path, slides: &Path, input: &Path, output: &Path) -> anyhow::Result<()> {
    let result = Command::new(marp)
        .arg("--config-file")
        .arg(slides.join("marp.config.mjs"))
        .arg("--output")
        .arg(output)
        .arg("--")
        .arg(input)
        .current_dir(slides)
        .output()
        .with_context(|| format!("running {}", marp.display()))?;
    if !result.status.success() {
        bail!(
            "Marp CLI could not render {} ({}):\n{}",
            input.display(),
            result.status,
            String::from_utf8_lossy(&result.stderr).trim()
        );
    }
    Ok(())
}
