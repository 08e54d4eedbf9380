//! # `steps`: the workshop's steps on disk
//!
//! Used by `./run.sh NN`, `./run.sh diff NN` (`services/kit`) and `./run.sh check NN`
//! (`services/checker`); it has no command of its own.
//!
//! Step NN lives in `exercises/NN-topic` (the learner's copy) and `solutions/NN-topic` (done).
//! Step 00 has nothing to solve: its app, `exercises/00-app`, is also its solution. The folders
//! are the only list of steps there is: [`all`] reads them, and refuses an exercise without its
//! solution or a solution without its exercise; [`find`] picks one by the name a learner types
//! (`2`, `02` or `02-otlp`). A [`Step`] knows its folders and its cargo packages.
//!
//! What an exercise may differ from its solution in (the drift check) is the kit's business,
//! not this crate's: see `services/kit/src/drift.rs`.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// One step of the ladder.
#[derive(Debug, Clone)]
pub struct Step {
    pub number: u32,
    /// `stdout` for `01-stdout`.
    pub topic: String,
    pub exercise: PathBuf,
    /// `None` for step 00, whose exercise is its own solution.
    pub solution: Option<PathBuf>,
}

impl Step {
    /// `01` for step 1: how folders, slides, hints and the checker name it.
    pub fn id(&self) -> String {
        format!("{:02}", self.number)
    }

    /// The cargo package of the exercise, e.g. `exercise-01-stdout`.
    pub fn exercise_package(&self) -> String {
        format!("exercise-{}-{}", self.id(), self.topic)
    }

    /// The step's finished code: its solution, or step 00's exercise, which is its own solution.
    pub fn finished(&self) -> &Path {
        self.solution.as_deref().unwrap_or(&self.exercise)
    }

    /// `HINTS.md` in the exercise: what `./run.sh hint NN` shows before the code (see
    /// `services/kit/src/hint.rs`).
    pub fn hints_file(&self) -> PathBuf {
        self.exercise.join("HINTS.md")
    }

    /// The cargo package of the solution, e.g. `solution-01-stdout`.
    pub fn solution_package(&self) -> Option<String> {
        self.solution
            .as_ref()
            .map(|_| format!("solution-{}-{}", self.id(), self.topic))
    }
}

/// Every step, in order, from the folders under `exercises/` and `solutions/` of the kit's
/// folder `root`.
pub fn all(root: &Path) -> anyhow::Result<Vec<Step>> {
    let solutions = numbered_folders(&root.join("solutions"))?;
    let mut steps = Vec::new();
    for (number, topic, exercise) in numbered_folders(&root.join("exercises"))? {
        let solution = solutions
            .iter()
            .find(|(n, t, _)| *n == number && *t == topic)
            .map(|(_, _, path)| path.clone());
        if solution.is_none() && number != 0 {
            bail!("exercises/{number:02}-{topic} has no solutions/{number:02}-{topic}");
        }
        steps.push(Step {
            number,
            topic,
            exercise,
            solution,
        });
    }
    for (number, topic, _) in &solutions {
        if !steps.iter().any(|step| step.number == *number) {
            bail!("solutions/{number:02}-{topic} has no exercises/{number:02}-{topic}");
        }
    }
    steps.sort_by_key(|step| step.number);
    Ok(steps)
}

/// The step before `step`, whose finished code `step`'s exercise starts from; `None` for the
/// first.
pub fn previous(root: &Path, step: &Step) -> anyhow::Result<Option<Step>> {
    Ok(all(root)?
        .into_iter()
        .rfind(|other| other.number < step.number))
}

/// Step `number`, given as `1`, `01` or `01-stdout`.
pub fn find(root: &Path, name: &str) -> anyhow::Result<Step> {
    let steps = all(root)?;
    let wanted = name
        .split('-')
        .next()
        .unwrap_or_default()
        .parse::<u32>()
        .ok();
    let known = || steps.iter().map(Step::id).collect::<Vec<_>>().join(", ");
    match wanted.and_then(|number| steps.iter().find(|step| step.number == number)) {
        Some(step) => Ok(step.clone()),
        None => bail!("there is no step {name:?}; the steps are {}", known()),
    }
}

/// `(number, topic, path)` of the `NN-topic` folders in `dir`.
fn numbered_folders(dir: &Path) -> anyhow::Result<Vec<(u32, String, PathBuf)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some((number, topic)) = name.split_once('-')
            && entry.file_type()?.is_dir()
            && number.len() == 2
            && let Ok(number) = number.parse()
        {
            found.push((number, topic.to_string(), entry.path()));
        }
    }
    Ok(found)
}
