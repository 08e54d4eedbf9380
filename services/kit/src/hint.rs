//! `./run.sh hint NN`: a hint for step NN, one level more each time it is asked, as rustlings'
//! `hint` gives one.
//!
//! Run with: `./run.sh hint 01`, again for the next level; `./run.sh hint 01 --reset` to start
//! again from the first.
//!
//! A `TODO(NN)` in an exercise says what to achieve there and which API items to look up. How to
//! write it is here, in three levels, from the least to the most given away:
//! 1. **the idea**: what the step's places are for, and why it is done that way;
//! 2. **the API**: the items to use and how they fit together, each with a link to its docs for
//!    the version in `Cargo.lock` (a test, `tests/hints.rs`, keeps the versions true);
//! 3. **the code**: the solution's own lines at the `TODO(NN)` places
//!    ([`diff::solution_changes`]), taken from the solutions so that they cannot drift from them.
//!
//! Levels 1 and 2 are written in the exercise's `HINTS.md` (its shape: `hints_md.rs`); the
//! drift check (`drift.rs`) parses every step's, and refuses a `TODO(NN)` or a `HINTS.md` that
//! spells out a line of the solution's code: that is level 3's to show. The checker's failing
//! hints point here.
//!
//! Which level each step's hints reached is kept in `target/workshop/hints.json`
//! ([`progress_file`]), beside the checker's puzzle data: out of git with no line of its own in
//! `.gitignore`, and nothing new at the kit's top level. `cargo clean` deletes it, which costs no
//! more than the hints starting again from level 1. A file that cannot be read or is damaged is
//! left as it is: the hint is shown as if no level had been, with a note that names the file and
//! says what to do.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::{Map, Value};
use steps::Step;

use crate::diff::{self, Style};
use crate::hints_md::Written;

/// How many levels each step's hints have.
pub const LEVELS: usize = 3;

/// What each level gives, as its title says it.
const TITLES: [&str; LEVELS] = ["the idea", "the API", "the code"];

/// What asking again will show, after each level.
const NEXT: [&str; LEVELS - 1] = [
    "the API items, with links to their docs",
    "the solution's code",
];

/// Where the levels shown are kept, under the kit's folder `root`.
pub fn progress_file(root: &Path) -> PathBuf {
    root.join("target").join("workshop").join("hints.json")
}

/// Step `step`'s `HINTS.md`, read; an error that says why for a step without hints.
pub fn written(root: &Path, step: &Step) -> anyhow::Result<Written> {
    if step.solution.is_none() {
        let with_hints: Vec<String> = steps::all(root)?
            .iter()
            .filter(|other| other.solution.is_some())
            .map(Step::id)
            .collect();
        bail!(
            "step {} has no hints: there is nothing to write in it ({} is the app as it is: read \
             it and run it); the steps with hints are {}",
            step.id(),
            shown(root, &step.exercise),
            with_hints.join(", ")
        );
    }
    let file = step.hints_file();
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("could not read {}", shown(root, &file)))?;
    Written::parse(&text).map_err(|problem| anyhow::anyhow!("{}: {problem}", shown(root, &file)))
}

/// The level to show when `shown` levels have been shown already: the next one, or the last
/// again (then `true`).
pub fn next_level(shown: usize) -> (usize, bool) {
    if shown >= LEVELS {
        (LEVELS, true)
    } else {
        (shown + 1, false)
    }
}

/// Which level of each step's hints was shown last, as the file keeps it: `{"01": 2, "03": 1}`.
/// Entries it does not know (a step since removed) are kept as they are.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    levels: Map<String, Value>,
}

impl Progress {
    /// The levels kept in `file`; none yet when there is no such file. An error says why the
    /// file cannot be used (unreadable, or not what this module writes): leave it alone then.
    pub fn load(file: &Path) -> Result<Progress, String> {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Progress { levels: Map::new() });
            }
            Err(err) => return Err(format!("it cannot be read ({err})")),
        };
        let levels = match serde_json::from_str(&text) {
            Ok(Value::Object(levels)) => levels,
            Ok(_) => return Err("it is damaged (not a JSON object)".to_string()),
            Err(err) => return Err(format!("it is damaged (not JSON: {err})")),
        };
        if let Some((step, value)) = levels.iter().find(|(_, value)| !value.is_u64()) {
            return Err(format!(
                "it is damaged (step {step:?} has {value}, not a level)"
            ));
        }
        Ok(Progress { levels })
    }

    /// How many levels of step `id`'s hints were shown.
    pub fn shown(&self, id: &str) -> usize {
        self.levels
            .get(id)
            .and_then(Value::as_u64)
            .map_or(0, |level| usize::try_from(level).unwrap_or(usize::MAX))
    }

    pub fn set(&mut self, id: &str, level: usize) {
        self.levels.insert(id.to_string(), Value::from(level));
    }

    /// Forgets step `id`'s level; `false` when there was none.
    pub fn forget(&mut self, id: &str) -> bool {
        self.levels.remove(id).is_some()
    }

    /// Writes the levels to `file`, whole or not at all: to a file beside it, then renamed over
    /// it, so that a process stopped half-way leaves the old file, not half a new one.
    pub fn save(&self, file: &Path) -> anyhow::Result<()> {
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("could not create {}", dir.display()))?;
        }
        let partial = file.with_extension("json.partial");
        let text = serde_json::to_string_pretty(&self.levels)? + "\n";
        std::fs::write(&partial, text)
            .with_context(|| format!("could not write {}", partial.display()))?;
        std::fs::rename(&partial, file)
            .with_context(|| format!("could not replace {}", file.display()))
    }
}

/// What `./run.sh hint NN` prints: the hint (stdout), and notes about the file of levels (stderr).
#[derive(Debug)]
pub struct Reply {
    pub text: String,
    pub notes: Vec<String>,
}

/// `./run.sh hint NN`: the next level of step `step`'s hints, remembered in `file` (see
/// [`progress_file`]).
pub fn ask(root: &Path, file: &Path, step: &Step, style: Style) -> anyhow::Result<Reply> {
    let written = written(root, step)?;
    let id = step.id();
    let progress = Progress::load(file);
    let (level, again) = next_level(progress.as_ref().map_or(0, |p| p.shown(&id)));
    let text = render(root, step, &written, level, again, style)?;
    let mut notes = Vec::new();
    match progress {
        Ok(mut progress) => {
            progress.set(&id, level);
            if let Err(err) = progress.save(file) {
                notes.push(format!(
                    "note: hint {level} is shown, but could not be remembered ({err:#}): \
                     `./run.sh hint {id}` will show it again"
                ));
            }
        }
        Err(why) => notes.push(format!(
            "note: {} keeps which hints were shown, but {why}. It is left as it is, and no \
             level is remembered until it is mended or deleted (deleting it starts every \
             step's hints again from the first level).",
            shown(root, file)
        )),
    }
    Ok(Reply { text, notes })
}

/// `./run.sh hint NN --reset`: step `step`'s hints start again from the first level.
pub fn reset(root: &Path, file: &Path, step: &Step) -> anyhow::Result<String> {
    written(root, step)?;
    let id = step.id();
    let mut progress = Progress::load(file).map_err(|why| {
        anyhow::anyhow!(
            "{} keeps which hints were shown, but {why}; nothing was reset. Delete it to start \
             every step's hints again from the first level.",
            shown(root, file)
        )
    })?;
    if progress.forget(&id) {
        progress.save(file)?;
    }
    Ok(format!(
        "Step {id}'s hints start again from the first level: ./run.sh hint {id}\n"
    ))
}

/// The text of one level of step `step`'s hints; `again` when it was shown before, and is the
/// last.
fn render(
    root: &Path,
    step: &Step,
    written: &Written,
    level: usize,
    again: bool,
    style: Style,
) -> anyhow::Result<String> {
    let id = step.id();
    let mut out = bold(
        style,
        &format!(
            "Step {id} · {}: hint {level} of {LEVELS}, {}",
            step.topic,
            TITLES[level - 1]
        ),
    );
    out.push('\n');
    if again {
        out.push_str(&format!(
            "(Asked again: all {LEVELS} levels are shown, and this one is the last.)\n"
        ));
    }
    out.push('\n');
    match level {
        1 => out.push_str(&written.idea),
        2 => out.push_str(&written.api),
        _ => {
            let previous = steps::previous(root, step)?
                .with_context(|| format!("step {id} has no step before it"))?;
            let start = shown(root, previous.finished());
            out.push_str(&format!(
                "The solution's code at the TODO({id}) places, as changes to the code your \
                 exercise started from:\nlines marked + are the solution's, lines marked - what \
                 they replace. (Your exercise, as shipped,\nis {start} plus its TODO({id}) \
                 comments.)\n"
            ));
            out.push_str(diff::solution_changes(root, step, style)?.trim_end());
        }
    }
    out.push_str("\n\n");
    out.push_str(&match level {
        LEVELS => format!(
            "That was the last level.\n\
             \x20 ./run.sh diff {id}           what your copy still lacks, against the solution\n\
             \x20 ./run.sh check {id}          whether your copy works\n\
             \x20 ./run.sh hint {id} --reset   this step's hints again, from the first level\n"
        ),
        _ => format!(
            "{} more: ./run.sh hint {id} again shows {}.\n",
            match LEVELS - level {
                1 => "One level".to_string(),
                more => format!("{more} levels"),
            },
            NEXT[level - 1]
        ),
    });
    Ok(out)
}

fn bold(style: Style, text: &str) -> String {
    match style {
        Style::Plain => text.to_string(),
        Style::Color => format!("\x1b[1m{text}\x1b[0m"),
    }
}

/// `path` as printed: relative to the kit's folder when inside it.
fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_ask_shows_the_next_level_and_then_the_last_again() {
        assert_eq!(next_level(0), (1, false));
        assert_eq!(next_level(1), (2, false));
        assert_eq!(next_level(2), (3, false));
        assert_eq!(next_level(3), (3, true));
        // A level from a file written with more levels than there are now: the last, again.
        assert_eq!(next_level(7), (3, true));
    }

    #[test]
    fn the_progress_file_keeps_each_steps_level_and_what_it_does_not_know() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("target/workshop/hints.json");
        let mut progress = Progress::load(&file).unwrap();
        assert_eq!(progress.shown("01"), 0);
        progress.set("01", 2);
        progress.set("03", 1);
        progress.save(&file).unwrap();
        std::fs::write(
            &file,
            std::fs::read_to_string(&file)
                .unwrap()
                .replace("\"01\"", "\"42\": 3,\n  \"01\""),
        )
        .unwrap();
        let mut progress = Progress::load(&file).unwrap();
        assert_eq!((progress.shown("01"), progress.shown("03")), (2, 1));
        assert!(progress.forget("03"));
        assert!(!progress.forget("03"));
        progress.save(&file).unwrap();
        let progress = Progress::load(&file).unwrap();
        assert_eq!((progress.shown("01"), progress.shown("03")), (2, 0));
        assert_eq!(progress.shown("42"), 3, "an entry it does not know is kept");
        assert!(!file.with_extension("json.partial").exists());
    }

    #[test]
    fn a_damaged_or_unreadable_progress_file_says_why_and_is_not_taken_for_empty() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("hints.json");
        for (text, why) in [
            ("{\"01\": 2", "not JSON"),
            ("[1, 2]", "not a JSON object"),
            ("{\"01\": \"two\"}", "step \"01\" has \"two\", not a level"),
            ("{\"01\": -1}", "step \"01\" has -1, not a level"),
        ] {
            std::fs::write(&file, text).unwrap();
            let error = Progress::load(&file).unwrap_err();
            assert!(error.contains("damaged") && error.contains(why), "{error}");
        }
        let folder = dir.path().join("a-folder.json");
        std::fs::create_dir(&folder).unwrap();
        let error = Progress::load(&folder).unwrap_err();
        assert!(error.starts_with("it cannot be read ("), "{error}");
    }
}
