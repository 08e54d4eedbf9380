//! The two programs compose would pull as images, built here from their Go modules instead:
//! the Collector with the OpenTelemetry Collector Builder from `go/collector/builder.yaml`, Jaeger
//! with `go build` from `go/jaeger/go.mod` (whose `go.sum` pins every dependency).
//!
//! Each build takes a few minutes on a 2-core machine, so the programs are kept in a cache outside
//! the clone (`~/.cache/otel-workshop-kit/stack`, or `$KIT_STACK_CACHE`), one folder per program
//! and version, beside a copy of the recipe they were built from: a changed manifest or `go.mod`
//! builds again, the same one never does, and a fresh clone on the same machine finds them.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail};

use crate::config::{parse, scalar};

/// Where the Go sources of the two programs live, relative to the kit's root.
pub const GO_FOLDER: &str = "services/stack/go";

/// Jaeger's module versions and the image tags of the same releases. Jaeger tags each release
/// twice on one commit, `v1.x` and `v2.y`; Go's module proxy serves only the `v1` tags of the
/// module path `github.com/jaegertracing/jaeger`, and the images carry the `v2` number. Module
/// v1.75.0 (tagged 2025-11-13) is the release Jaeger's RELEASE.md schedules as 2.12.0.
pub const JAEGER_RELEASES: [(&str, &str); 1] = [("v1.75.0", "2.12.0")];

/// The variable that moves the cache.
pub const CACHE_VARIABLE: &str = "KIT_STACK_CACHE";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    Collector,
    Jaeger,
}

/// How a build shows its progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Go's own output, as it comes (`./run.sh stack build`).
    Shown,
    /// One line to say what is happening; Go's output only if the build fails (the tests).
    Quiet,
}

impl Program {
    pub const ALL: [Program; 2] = [Program::Collector, Program::Jaeger];

    /// For messages: `the Collector`, `Jaeger`.
    pub fn name(self) -> &'static str {
        match self {
            Program::Collector => "the Collector",
            Program::Jaeger => "Jaeger",
        }
    }

    /// The program's file name.
    fn binary_name(self) -> &'static str {
        match self {
            Program::Collector => "otelcol-kit",
            Program::Jaeger => "jaeger",
        }
    }

    /// The folder of its Go sources.
    pub fn source_dir(self, root: &Path) -> PathBuf {
        root.join(GO_FOLDER).join(match self {
            Program::Collector => "collector",
            Program::Jaeger => "jaeger",
        })
    }

    /// What it is built from: the builder's manifest, or Jaeger's `go.mod` and `go.sum`.
    fn recipe(self, root: &Path) -> anyhow::Result<String> {
        let dir = self.source_dir(root);
        let files: &[&str] = match self {
            Program::Collector => &["builder.yaml"],
            Program::Jaeger => &["go.mod", "go.sum"],
        };
        // Comments and blank lines left out: editing an explanation does not rebuild.
        let mut recipe = String::new();
        for file in files {
            let path = dir.join(file);
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("could not read {}", path.display()))?;
            for line in text.lines() {
                let code = line.trim();
                if !(code.is_empty() || code.starts_with('#') || code.starts_with("//")) {
                    recipe.push_str(line);
                    recipe.push('\n');
                }
            }
        }
        Ok(recipe)
    }

    /// The version it is built at: the Collector's release (`0.161.0`, the manifest's
    /// `dist.version`), or Jaeger's module version (`v1.75.0`, from `go.mod`).
    pub fn version(self, root: &Path) -> anyhow::Result<String> {
        let dir = self.source_dir(root);
        match self {
            Program::Collector => {
                let path = dir.join("builder.yaml");
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("could not read {}", path.display()))?;
                let version = scalar(&parse("builder.yaml", &text)?["dist"]["version"]);
                if version.is_empty() {
                    bail!("{}: no `dist.version`", path.display());
                }
                Ok(version)
            }
            Program::Jaeger => {
                let path = dir.join("go.mod");
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("could not read {}", path.display()))?;
                text.lines()
                    .find_map(|line| {
                        let mut words = line.split_whitespace();
                        (words.next()? == "github.com/jaegertracing/jaeger")
                            .then(|| words.next().map(str::to_string))?
                    })
                    .with_context(|| {
                        format!("{}: no github.com/jaegertracing/jaeger", path.display())
                    })
            }
        }
    }

    /// The image tag compose should pin for the version built here.
    pub fn image_tag(self, root: &Path) -> anyhow::Result<String> {
        let version = self.version(root)?;
        match self {
            Program::Collector => Ok(version),
            Program::Jaeger => JAEGER_RELEASES
                .iter()
                .find(|(module, _)| *module == version)
                .map(|(_, image)| image.to_string())
                .with_context(|| {
                    format!(
                        "Jaeger's module {version} has no image tag in JAEGER_RELEASES \
                         (services/stack/src/programs.rs): add the pair from Jaeger's release notes"
                    )
                }),
        }
    }

    /// The cache folder of this program at this version.
    fn cache_dir(self, root: &Path) -> anyhow::Result<PathBuf> {
        let name = match self {
            Program::Collector => "collector",
            Program::Jaeger => "jaeger",
        };
        Ok(cache_root()?.join(format!("{name}-{}", self.version(root)?)))
    }

    /// The program, if the cache holds it built from today's recipe.
    pub fn cached(self, root: &Path) -> anyhow::Result<Option<PathBuf>> {
        let dir = self.cache_dir(root)?;
        let binary = dir.join(self.binary_name());
        let recipe = std::fs::read_to_string(dir.join("recipe")).unwrap_or_default();
        Ok((binary.is_file() && recipe == self.recipe(root)?).then_some(binary))
    }

    /// The program, from the cache, or built now (minutes, once) if it is not there.
    pub fn get(self, root: &Path, progress: Progress) -> anyhow::Result<PathBuf> {
        match self.cached(root)? {
            Some(binary) => Ok(binary),
            None => self.build(root, progress),
        }
    }

    /// Builds the program into the cache, replacing what is there.
    pub fn build(self, root: &Path, progress: Progress) -> anyhow::Result<PathBuf> {
        let go = go_version().context(
            "Go is needed to build the Collector and Jaeger from their modules: install it from \
             https://go.dev/dl (or your package manager), then run ./run.sh stack build",
        )?;
        let version = self.version(root)?;
        let recipe = self.recipe(root)?;
        let dir = self.cache_dir(root)?;
        // Built in a folder of its own, then renamed: a build that fails or is interrupted
        // leaves nothing that looks finished.
        let staging = dir.with_file_name(format!(
            "{}.partial-{}",
            dir.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging)
            .with_context(|| format!("could not make {}", staging.display()))?;
        eprintln!(
            "Building {} {version} from its Go modules with {go} (a few minutes, once; kept in {})",
            self.name(),
            dir.display()
        );
        let binary = staging.join(self.binary_name());
        let mut command = match self {
            Program::Collector => {
                // The builder at the Collector's release writes the sources and the program to
                // the manifest's output_path (./otelcol-kit), relative to where it runs.
                let mut command = Command::new("go");
                command
                    .arg("run")
                    .arg(format!(
                        "go.opentelemetry.io/collector/cmd/builder@v{version}"
                    ))
                    .arg(format!(
                        "--config={}",
                        self.source_dir(root).join("builder.yaml").display()
                    ))
                    .current_dir(&staging);
                command
            }
            Program::Jaeger => {
                // As Jaeger's own Makefile builds it, with the version stamped in (`jaeger
                // version` prints it); -s -w leave out the debug symbols (121 MB → 85 MB).
                let mut command = Command::new("go");
                command
                    .args(["build", "-trimpath", "-o"])
                    .arg(&binary)
                    .arg(format!(
                        "-ldflags=-s -w -X github.com/jaegertracing/jaeger/internal/version.latestVersion={version}"
                    ))
                    .arg("github.com/jaegertracing/jaeger/cmd/jaeger")
                    .current_dir(self.source_dir(root));
                command
            }
        };
        run(&mut command, progress)
            .with_context(|| format!("building {} {version} failed", self.name()))?;
        if self == Program::Collector {
            let built = staging.join("otelcol-kit").join(self.binary_name());
            let moved = staging.join("program");
            std::fs::rename(&built, &moved)?;
            std::fs::remove_dir_all(staging.join("otelcol-kit"))?;
            std::fs::rename(&moved, &binary)?;
        }
        std::fs::write(staging.join("recipe"), recipe)?;
        // Another build (a second test binary) may have finished first: either one will do.
        let _ = std::fs::remove_dir_all(&dir);
        if std::fs::rename(&staging, &dir).is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
        self.cached(root)?
            .with_context(|| format!("{} was built but is not in {}", self.name(), dir.display()))
    }
}

/// Both programs.
#[derive(Debug, Clone)]
pub struct Programs {
    pub collector: PathBuf,
    pub jaeger: PathBuf,
}

impl Programs {
    /// Both, if the cache holds them built from today's recipes.
    pub fn cached(root: &Path) -> anyhow::Result<Option<Programs>> {
        Ok(
            match (
                Program::Collector.cached(root)?,
                Program::Jaeger.cached(root)?,
            ) {
                (Some(collector), Some(jaeger)) => Some(Programs { collector, jaeger }),
                _ => None,
            },
        )
    }

    /// Both, from the cache or built now.
    pub fn get(root: &Path, progress: Progress) -> anyhow::Result<Programs> {
        Ok(Programs {
            collector: Program::Collector.get(root, progress)?,
            jaeger: Program::Jaeger.get(root, progress)?,
        })
    }
}

/// `go1.26.8`, if Go is installed.
pub fn go_version() -> Option<String> {
    let output = Command::new("go")
        .args(["env", "GOVERSION"])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let version = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (output.status.success() && !version.is_empty()).then_some(version)
}

/// The cache of built programs: `$KIT_STACK_CACHE`, or `otel-workshop-kit/stack` in the user's
/// cache folder (`$XDG_CACHE_HOME`, else `~/.cache`).
pub fn cache_root() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os(CACHE_VARIABLE).filter(|dir| !dir.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|dir| !dir.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(
            std::env::var_os("HOME").context("neither KIT_STACK_CACHE nor HOME is set")?,
        )
        .join(".cache"),
    };
    Ok(base.join("otel-workshop-kit").join("stack"))
}

/// Runs a build command; with [`Progress::Quiet`] its output is kept, and shown if it fails.
fn run(command: &mut Command, progress: Progress) -> anyhow::Result<()> {
    command.stdin(Stdio::null());
    match progress {
        Progress::Shown => {
            let status = command.status().context("could not start go")?;
            if !status.success() {
                bail!("{status}: see Go's output above");
            }
        }
        Progress::Quiet => {
            let mut child = command
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .context("could not start go")?;
            let mut stdout = child.stdout.take().expect("piped");
            let reader = std::thread::spawn(move || {
                let mut text = String::new();
                let _ = stdout.read_to_string(&mut text);
                text
            });
            let mut printed = String::new();
            let _ = child
                .stderr
                .take()
                .expect("piped")
                .read_to_string(&mut printed);
            printed.push_str(&reader.join().unwrap_or_default());
            let status = child.wait()?;
            if !status.success() {
                // The end of it names the problem; the start is `go: downloading …`.
                let lines: Vec<&str> = printed.lines().collect();
                let tail = lines[lines.len().saturating_sub(40)..].join("\n");
                bail!("{status}; Go printed:\n{tail}");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::compose::Compose;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    #[test]
    fn compose_pins_the_images_of_the_releases_built_here() {
        let compose = Compose::read(&root()).unwrap();
        for (program, service) in [
            (Program::Collector, "collector"),
            (Program::Jaeger, "jaeger"),
        ] {
            let (_, tag) = compose.image(service).unwrap();
            assert_eq!(
                tag,
                program.image_tag(&root()).unwrap(),
                "docker-compose.yml's `{service}` image and the {} the tests build",
                program.name()
            );
        }
    }

    #[test]
    fn every_collector_module_is_at_one_release() {
        let text =
            std::fs::read_to_string(Program::Collector.source_dir(&root()).join("builder.yaml"))
                .unwrap();
        let manifest = parse("builder.yaml", &text).unwrap();
        let release = Program::Collector.version(&root()).unwrap();
        let mut stable = BTreeSet::new();
        for section in [
            "receivers",
            "processors",
            "exporters",
            "extensions",
            "connectors",
            "providers",
        ] {
            for module in manifest[section].as_vec().into_iter().flatten() {
                let gomod = scalar(&module["gomod"]);
                let (_, version) = gomod.split_once(' ').unwrap_or_else(|| panic!("{gomod}"));
                // The core's stable modules (config providers) are numbered 1.x in the same
                // release; every other module carries the release's own number.
                if version.starts_with("v1.") {
                    stable.insert(version.to_string());
                } else {
                    assert_eq!(version, format!("v{release}"), "{gomod}: not at {release}");
                }
            }
        }
        assert!(
            stable.len() <= 1,
            "the 1.x modules at more than one version: {stable:?}"
        );
    }

    #[test]
    fn jaeger_s_module_version_has_its_image_tag() {
        let version = Program::Jaeger.version(&root()).unwrap();
        assert!(version.starts_with("v1."), "{version}");
        assert!(
            Program::Jaeger
                .image_tag(&root())
                .unwrap()
                .starts_with("2.")
        );
    }
}
