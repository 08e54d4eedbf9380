//! One check of one step: build it, run it (over HTTP, over gRPC, with its upstream down, at the
//! same time), judge what it did, and gather what the report needs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::compile::{self, Build, BuildFailure};
use crate::expect::{self, Evidence, Need, Outcome, step_05::HOSTED_ENV};
use crate::run::{self, Protocol, Scenario, Sink};
use crate::sources::{Marker, Sources};

/// What is checked: a step's number, its package, and the folder of its code.
#[derive(Debug, Clone)]
pub struct Subject {
    pub step: u32,
    pub package: String,
    /// The crate's folder, relative to the kit's root when possible (for messages).
    pub crate_dir: PathBuf,
}

/// The result of one check.
pub struct Report {
    pub subject: Subject,
    pub outcome: Result<Vec<Outcome>, BuildFailure>,
    /// `TODO(NN)` markers of the step still in the code.
    pub markers: Vec<Marker>,
    pub build_took: Duration,
    pub run_took: Duration,
}

impl Report {
    /// Every expectation met (bonuses aside: they never fail a check).
    pub fn passed(&self) -> bool {
        matches!(&self.outcome, Ok(outcomes) if outcomes.iter().all(Outcome::passed))
    }

    /// How many expectations passed, of how many; bonuses are not counted.
    pub fn score(&self) -> (usize, usize) {
        let required = self.required();
        (
            required.iter().filter(|o| o.passed()).count(),
            required.len(),
        )
    }

    /// How many bonuses were earned, of how many.
    pub fn bonuses(&self) -> (usize, usize) {
        let outcomes = self.outcome.as_deref().unwrap_or_default();
        let bonuses: Vec<&Outcome> = outcomes.iter().filter(|o| o.is_bonus()).collect();
        let earned = bonuses
            .iter()
            .filter(|o| matches!(o.verdict, expect::Verdict::Bonus { earned: true, .. }))
            .count();
        (earned, bonuses.len())
    }

    fn required(&self) -> Vec<&Outcome> {
        let outcomes = self.outcome.as_deref().unwrap_or_default();
        outcomes.iter().filter(|o| !o.is_bonus()).collect()
    }
}

/// Builds and checks `subject` in the workspace at `root`. `quiet` hides cargo's progress and
/// warnings (the progress table).
pub fn check(root: &Path, subject: &Subject, quiet: bool) -> anyhow::Result<Report> {
    let started = Instant::now();
    let build = compile::build(root, &subject.package, quiet)?;
    let build_took = started.elapsed();
    let sources = Sources::read(&root.join(&subject.crate_dir));
    let markers = sources.markers(subject.step).into_iter().cloned().collect();
    let binary = match build {
        Build::Built { binary } => binary,
        Build::Failed(failure) => {
            return Ok(Report {
                subject: subject.clone(),
                outcome: Err(failure),
                markers,
                build_took,
                run_took: Duration::ZERO,
            });
        }
    };
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut evidence = runtime.block_on(examine(subject.step, &binary))?;
    // Step 08's Collector part is a file the learner edits, judged as it is.
    if let Some(sampled) = &mut evidence.sampling {
        sampled.collector = Some(crate::sampling::CollectorFile::read(root));
    }
    let outcomes = expect::judge(subject.step, &evidence, &sources);
    Ok(Report {
        subject: subject.clone(),
        outcome: Ok(outcomes),
        markers,
        build_took,
        run_took: started.elapsed(),
    })
}

/// Runs `binary` as step `step` needs ([`expect::needs`]), all runs at once, and returns what
/// they saw.
pub async fn examine(step: u32, binary: &Path) -> anyhow::Result<Evidence> {
    let needs = |need| expect::needs(step, need);
    let env: &[(&str, &str)] = if needs(Need::HostedEnv) {
        &HOSTED_ENV
    } else {
        &[]
    };
    if needs(Need::Stdout) {
        let main = run::run(binary, Sink::Stdout, Scenario::Normal, env).await?;
        return Ok(Evidence {
            main,
            grpc: None,
            failure: None,
            growth: None,
            sampling: None,
        });
    }
    let http = Sink::Otlp(Protocol::HttpProtobuf);
    let (main, grpc, failure, growth, sampling) = tokio::join!(
        run::run(binary, http, Scenario::Normal, env),
        run::run(binary, Sink::Otlp(Protocol::Grpc), Scenario::Normal, env),
        async {
            if needs(Need::UpstreamDown) {
                Some(run::run(binary, http, Scenario::UpstreamDown, env).await)
            } else {
                None
            }
        },
        async {
            if needs(Need::Growth) {
                Some(crate::growth::run(binary, env).await)
            } else {
                None
            }
        },
        async {
            if needs(Need::Sampling) {
                Some(crate::sampling::run(binary, env).await)
            } else {
                None
            }
        }
    );
    Ok(Evidence {
        main: main?,
        // The gRPC run is for a bonus: an app that refuses to start so is a bonus not earned.
        grpc: Some(grpc.map_err(|err| format!("{err:#}"))),
        failure: failure.transpose()?,
        growth: growth.transpose()?,
        sampling: sampling.transpose()?,
    })
}
