//! The room's board: for each learner, what their telemetry and their checks say of them.
//!
//! A room's explorer receives from every learner: their app's telemetry, forwarded by their own
//! explorer with `learner.name` on each resource, and each `./run.sh check`'s verdict, a log
//! record under the `kit.check` scope ([`receiver::room::Verdict`]). The spans are in the window,
//! in the learner's share; this keeps the rest, by name, for as long as the room runs:
//! - when each learner was last heard from;
//! - each step's latest verdict, and the latest verdict of all (the expectation failing now);
//! - which machine claimed the name when joining (`./run.sh join`), so that a second machine
//!   cannot take it.
//!
//! [`Room::board`] puts it together with the window's shares into the rows and the summary the
//! Room page and `/api/room` show. A learner's row outlives their app: restarting it, or every
//! span of theirs leaving the window, keeps the row.

use std::collections::{BTreeMap, HashMap};

use receiver::room::Verdict;
use serde::Serialize;

/// The most learners the board keeps; names beyond are not added (a room is a few dozen).
pub const MAX_LEARNERS: usize = 1_000;

/// Now, as the board keeps time: nanoseconds since the Unix epoch.
pub fn now_unix_nano() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos() as u64)
}

#[derive(Default)]
pub struct Room {
    learners: HashMap<String, Notes>,
}

#[derive(Default)]
struct Notes {
    last_seen_unix_nano: u64,
    /// Each step's latest verdict.
    steps: BTreeMap<u32, Verdict>,
    /// The latest verdict of all, and when it came.
    latest: Option<(Verdict, u64)>,
    machine: Option<String>,
}

/// What the window holds and dropped of one learner's spans (or of those naming none): its
/// share, as [`crate::window::Window::shares`] gives it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShareStats {
    pub learner: Option<String>,
    pub spans: usize,
    pub traces: usize,
    pub bytes: usize,
    /// Received in all, root spans received (one a trace), dropped to make room.
    pub received: u64,
    pub roots: u64,
    pub dropped: u64,
}

/// The board: a row per learner, and the summary above the rows.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Board {
    pub learners: Vec<LearnerRow>,
    /// How many learners are on each step (by their latest check), in step order.
    pub steps: Vec<StepCount>,
    /// The failing expectations most learners are stuck on, most first.
    pub stuck: Vec<Stuck>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LearnerRow {
    pub name: String,
    pub last_seen_unix_nano: u64,
    /// The furthest step whose latest check passed.
    pub passed_step: Option<u32>,
    /// The step of the latest check, whether it passed, and what fails (if it did not).
    pub checked_step: Option<u32>,
    pub checked_passed: Option<bool>,
    pub failing: Option<Failing>,
    /// Spans and traces (root spans) received, and the spans of theirs the window holds and
    /// dropped to make room.
    pub spans_received: u64,
    pub traces_received: u64,
    pub spans_kept: usize,
    pub spans_dropped: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Failing {
    pub step: u32,
    pub expectation: String,
    pub hint: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepCount {
    pub step: u32,
    pub learners: usize,
    /// Of them, how many failed their latest check.
    pub failing: usize,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stuck {
    pub failing: Failing,
    pub learners: usize,
}

impl Room {
    /// `name` was heard from at `now`.
    pub fn seen(&mut self, name: &str, now: u64) {
        if let Some(notes) = self.notes(name) {
            notes.last_seen_unix_nano = notes.last_seen_unix_nano.max(now);
        }
    }

    /// A check's verdict from `name`, at `now`.
    pub fn verdict(&mut self, name: &str, verdict: Verdict, now: u64) {
        if let Some(notes) = self.notes(name) {
            notes.last_seen_unix_nano = notes.last_seen_unix_nano.max(now);
            notes.steps.insert(verdict.step, verdict.clone());
            notes.latest = Some((verdict, now));
        }
    }

    /// `machine` claims `name`: refused, with the line the learner reads, when another machine
    /// claimed it first.
    pub fn claim(&mut self, name: &str, machine: &str, now: u64) -> Result<(), String> {
        let Some(notes) = self.notes(name) else {
            return Err(format!(
                "this room has {MAX_LEARNERS} learners already: ask the instructor"
            ));
        };
        match &notes.machine {
            Some(claimed) if claimed != machine => Err(format!(
                "the name {name:?} is taken by another machine in this room: choose another \
                 with --name"
            )),
            _ => {
                notes.machine = Some(machine.to_string());
                notes.last_seen_unix_nano = notes.last_seen_unix_nano.max(now);
                Ok(())
            }
        }
    }

    fn notes(&mut self, name: &str) -> Option<&mut Notes> {
        if !self.learners.contains_key(name) && self.learners.len() >= MAX_LEARNERS {
            return None;
        }
        Some(self.learners.entry(name.to_string()).or_default())
    }

    /// The board, from these notes and the window's `shares`; learners sorted by name.
    pub fn board(&self, shares: &[ShareStats]) -> Board {
        let mut rows: BTreeMap<&str, LearnerRow> = BTreeMap::new();
        let empty = |name: &str| LearnerRow {
            name: name.to_string(),
            last_seen_unix_nano: 0,
            passed_step: None,
            checked_step: None,
            checked_passed: None,
            failing: None,
            spans_received: 0,
            traces_received: 0,
            spans_kept: 0,
            spans_dropped: 0,
        };
        for share in shares {
            let Some(name) = share.learner.as_deref() else {
                continue;
            };
            let row = rows.entry(name).or_insert_with(|| empty(name));
            row.spans_received = share.received;
            row.traces_received = share.roots;
            row.spans_kept = share.spans;
            row.spans_dropped = share.dropped;
        }
        for (name, notes) in &self.learners {
            let row = rows.entry(name).or_insert_with(|| empty(name));
            row.last_seen_unix_nano = notes.last_seen_unix_nano;
            row.passed_step = notes
                .steps
                .values()
                .filter(|verdict| verdict.passed)
                .map(|verdict| verdict.step)
                .max();
            if let Some((latest, _)) = &notes.latest {
                row.checked_step = Some(latest.step);
                row.checked_passed = Some(latest.passed);
                row.failing = (!latest.passed).then(|| Failing {
                    step: latest.step,
                    expectation: latest
                        .expectation
                        .clone()
                        .unwrap_or_else(|| format!("{} expectations met", latest.score)),
                    hint: latest.hint.clone(),
                });
            }
        }
        let learners: Vec<LearnerRow> = rows.into_values().collect();

        let mut steps: BTreeMap<u32, StepCount> = BTreeMap::new();
        let mut stuck: HashMap<&Failing, usize> = HashMap::new();
        for row in &learners {
            if let Some(step) = row.checked_step {
                let count = steps.entry(step).or_insert(StepCount {
                    step,
                    learners: 0,
                    failing: 0,
                });
                count.learners += 1;
                count.failing += usize::from(row.failing.is_some());
            }
            if let Some(failing) = &row.failing {
                *stuck.entry(failing).or_default() += 1;
            }
        }
        let mut stuck: Vec<Stuck> = stuck
            .into_iter()
            .map(|(failing, learners)| Stuck {
                failing: failing.clone(),
                learners,
            })
            .collect();
        // Most learners first; among equals, the earlier step (and then the text) first.
        stuck.sort_by(|a, b| {
            b.learners
                .cmp(&a.learners)
                .then_with(|| a.failing.cmp(&b.failing))
        });
        Board {
            learners,
            steps: steps.into_values().collect(),
            stuck,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(step: u32, expectation: &str) -> Verdict {
        Verdict {
            step,
            passed: false,
            score: "1 of 3".into(),
            expectation: Some(expectation.into()),
            hint: Some(format!("hint for {expectation}")),
        }
    }

    fn passed(step: u32) -> Verdict {
        Verdict {
            step,
            passed: true,
            score: "3 of 3".into(),
            expectation: None,
            hint: None,
        }
    }

    #[test]
    fn the_board_shows_each_learners_furthest_step_and_what_fails_now() {
        let mut room = Room::default();
        room.verdict("ada", passed(1), 1);
        room.verdict("ada", passed(2), 2);
        room.verdict("ada", failed(3, "traceparent"), 3);
        room.verdict("bob", failed(3, "traceparent"), 4);
        room.verdict("cy", passed(1), 5);
        room.seen("dee", 6);
        let shares = [ShareStats {
            learner: Some("dee".into()),
            spans: 10,
            traces: 2,
            bytes: 100,
            received: 15,
            roots: 3,
            dropped: 5,
        }];
        let board = room.board(&shares);
        let names: Vec<_> = board.learners.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["ada", "bob", "cy", "dee"]);
        let ada = &board.learners[0];
        assert_eq!((ada.passed_step, ada.checked_step), (Some(2), Some(3)));
        assert_eq!(ada.failing.as_ref().unwrap().expectation, "traceparent");
        assert_eq!(board.learners[2].failing, None);
        let dee = &board.learners[3];
        assert_eq!(
            (dee.spans_received, dee.traces_received, dee.spans_dropped),
            (15, 3, 5)
        );
        assert_eq!(dee.last_seen_unix_nano, 6);
        let steps: Vec<_> = board
            .steps
            .iter()
            .map(|s| (s.step, s.learners, s.failing))
            .collect();
        assert_eq!(steps, [(1, 1, 0), (3, 2, 2)]);
        assert_eq!(board.stuck.len(), 1);
        assert_eq!(board.stuck[0].learners, 2);
        assert_eq!(board.stuck[0].failing.step, 3);
    }

    #[test]
    fn a_passing_check_clears_what_failed() {
        let mut room = Room::default();
        room.verdict("ada", failed(3, "traceparent"), 1);
        room.verdict("ada", passed(3), 2);
        let board = room.board(&[]);
        assert_eq!(board.learners[0].failing, None);
        assert_eq!(board.learners[0].passed_step, Some(3));
        assert!(board.stuck.is_empty());
    }

    #[test]
    fn a_name_belongs_to_the_machine_that_claimed_it_first() {
        let mut room = Room::default();
        assert!(room.claim("ada", "m1", 1).is_ok());
        assert!(room.claim("ada", "m1", 2).is_ok(), "the same machine again");
        let err = room.claim("ada", "m2", 3).unwrap_err();
        assert!(err.contains("taken by another machine"), "{err}");
        assert!(room.claim("bob", "m2", 4).is_ok());
    }
}
