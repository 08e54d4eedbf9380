//! Changing settings in `.env` in place: the learner's own lines and comments stay as they are.
//!
//! `./run.sh join` (and `./run.sh room`, for its code) set a few names, and `./run.sh leave`
//! removes them. A name already set has its line replaced where it is; a new one is added at the
//! end, under a comment saying who added it.
//! The file is written whole or not at all (a temporary file, then a rename), so that an
//! interrupted write cannot leave a half `.env`.

use std::path::Path;

use anyhow::Context;

/// The comment above the lines this module adds.
pub const ADDED_BY: &str =
    "# Added by ./run.sh join or ./run.sh room (./run.sh leave removes them):";

/// Sets each `name` to its value: its line replaced where it is, or added at the end.
pub fn set(path: &Path, settings: &[(&str, &str)]) -> anyhow::Result<()> {
    let text = read(path)?;
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut added = Vec::new();
    for (name, value) in settings {
        let line = format!("{name}={}", quote(value));
        match lines.iter().position(|l| defines(l, name)) {
            Some(at) => lines[at] = line,
            None => added.push(line),
        }
    }
    if !added.is_empty() {
        if !lines.iter().any(|l| l == ADDED_BY) {
            if lines.last().is_some_and(|l| !l.trim().is_empty()) {
                lines.push(String::new());
            }
            lines.push(ADDED_BY.to_string());
        }
        lines.extend(added);
    }
    write(path, &lines)
}

/// Removes the lines that set any of `names`, and the comment [`set`] added once nothing is
/// under it. Returns how many settings were removed.
pub fn remove(path: &Path, names: &[&str]) -> anyhow::Result<usize> {
    let text = read(path)?;
    let before = text.lines().count();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !names.iter().any(|name| defines(l, name)))
        .map(String::from)
        .collect();
    let removed = before - lines.len();
    if let Some(at) = lines.iter().position(|l| l == ADDED_BY) {
        let next = lines.get(at + 1).map(|l| l.trim());
        if next.is_none_or(|l| l.is_empty() || l.starts_with('#')) {
            lines.remove(at);
            if at > 0 && at == lines.len() && lines[at - 1].trim().is_empty() {
                lines.pop();
            }
        }
    }
    if removed > 0 {
        write(path, &lines)?;
    }
    Ok(removed)
}

/// Whether `line` sets `name` (`NAME=…` or `export NAME=…`; comments do not count).
fn defines(line: &str, name: &str) -> bool {
    let line = line.trim_start();
    let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
    line.strip_prefix(name)
        .is_some_and(|rest| rest.trim_start().starts_with('='))
}

/// A value as dotenv reads it back unchanged: bare when it is plain, in single quotes otherwise.
fn quote(value: &str) -> String {
    let plain = value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-_.:/@".contains(&b));
    if plain && !value.is_empty() {
        value.to_string()
    } else {
        format!("'{value}'")
    }
}

fn read(path: &Path) -> anyhow::Result<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(err) => Err(err).with_context(|| format!("could not read {}", path.display())),
    }
}

fn write(path: &Path, lines: &[String]) -> anyhow::Result<()> {
    let mut text = lines.join("\n");
    text.push('\n');
    let temporary = path.with_extension("kit-new");
    std::fs::write(&temporary, text)
        .with_context(|| format!("could not write {}", temporary.display()))?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("could not replace {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_file(text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn new_settings_go_at_the_end_and_the_rest_stays_as_it_was() {
        let before = "# my settings\nAPP_PORT=9000\n# LEARNER_NAME=commented\n";
        let (_dir, path) = env_file(before);
        set(&path, &[("LEARNER_NAME", "ada"), ("ROOM_CODE", "K7QF2M")]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            format!("{before}\n{ADDED_BY}\nLEARNER_NAME=ada\nROOM_CODE=K7QF2M\n")
        );
        assert_eq!(
            dotenvy::from_path_iter(&path)
                .unwrap()
                .map(Result::unwrap)
                .collect::<Vec<_>>(),
            [
                ("APP_PORT".into(), "9000".into()),
                ("LEARNER_NAME".into(), "ada".into()),
                ("ROOM_CODE".into(), "K7QF2M".into())
            ]
        );
    }

    #[test]
    fn a_setting_already_there_is_replaced_in_place() {
        let (_dir, path) = env_file("LEARNER_NAME=old\nAPP_PORT=9000\n");
        set(&path, &[("LEARNER_NAME", "ada lovelace")]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text, "LEARNER_NAME='ada lovelace'\nAPP_PORT=9000\n");
    }

    #[test]
    fn leaving_removes_only_what_joining_added() {
        let before = "# my settings\nAPP_PORT=9000\n";
        let (_dir, path) = env_file(before);
        set(
            &path,
            &[("LEARNER_NAME", "ada"), ("ROOM_URL", "http://h:4318")],
        )
        .unwrap();
        assert_eq!(remove(&path, &["LEARNER_NAME", "ROOM_URL"]).unwrap(), 2);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
        // Nothing to remove: the file is not rewritten, and says so.
        assert_eq!(remove(&path, &["LEARNER_NAME"]).unwrap(), 0);
    }

    #[test]
    fn a_name_is_not_mistaken_for_a_longer_one_or_a_comment() {
        assert!(defines("ROOM_URL=x", "ROOM_URL"));
        assert!(defines("export ROOM_URL = x", "ROOM_URL"));
        assert!(!defines("ROOM_URL_OLD=x", "ROOM_URL"));
        assert!(!defines("# ROOM_URL=x", "ROOM_URL"));
    }
}
