//! The checker as a learner runs it (`./run.sh check …`, `./run.sh puzzle …`), and the puzzles
//! judged on real and on planted data. Run with: `cargo test -p checker --test cli`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use checker::compile::{self, Build};
use checker::puzzle::{self, Data, Judgement};

fn kit_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("services/checker is two levels below the kit")
        .to_path_buf()
}

fn checker(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_checker"))
        .current_dir(kit_root())
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .expect("the checker runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_solution_passes_its_check_and_exits_0() {
    let output = checker(&["check", "02", "--solution"]);
    let text = text(&output);
    assert!(output.status.success(), "{text}");
    // Eight expectations; OTLP/gRPC is a bonus, shown and never counted.
    assert!(
        text.contains("Step 02 done: all 8 expectations met. Bonus: "),
        "{text}"
    );
    assert!(
        text.contains("bonus ✓ with OTEL_EXPORTER_OTLP_PROTOCOL=grpc")
            || text.contains("bonus – with OTEL_EXPORTER_OTLP_PROTOCOL=grpc"),
        "{text}"
    );
}

#[test]
fn an_untouched_exercise_is_not_done_yet_with_its_first_todo_and_exits_1() {
    let output = checker(&["check", "03"]);
    let text = text(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("Not done yet: "), "{text}");
    assert!(
        text.contains("TODO(03) places left in exercises/03-propagation"),
        "{text}"
    );
    assert!(text.contains("./run.sh diff 03"), "{text}");
    assert!(
        text.contains("✗ each sub-request carries a W3C traceparent header"),
        "{text}"
    );
}

#[test]
fn the_tracing_alternative_of_step_04_passes_the_same_check() {
    let output = checker(&["check", "04", "--package", "alternative-04-tracing"]);
    let text = text(&output);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("Step 04 done"), "{text}");
}

#[test]
fn steps_that_cannot_be_checked_are_refused_with_a_reason() {
    let output = checker(&["check", "00"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output).contains("nothing to check"),
        "{}",
        text(&output)
    );
    let output = checker(&["check", "--watch"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("needs a step"), "{}", text(&output));
    let output = checker(&["check", "99"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("01"), "{}", text(&output));
}

/// Data as a learner's app would give: index 4 takes about 10 ms, index 5 about 16 ms.
fn planted() -> Data {
    let durations = |base: f64| (0..100).map(|i| base + f64::from(i) * 0.02).collect();
    Data {
        package: "exercise-04-attributes".into(),
        index1_in_index5: 5,
        spans_per_trace: BTreeMap::from([(4, 25), (5, 44)]),
        durations_ms: BTreeMap::from([(4, durations(10.0)), (5, durations(16.0))]),
        solved: Vec::new(),
    }
}

fn right(judgement: Judgement) -> bool {
    matches!(judgement, Judgement::Right(_))
}

fn nudge(judgement: Judgement) -> String {
    match judgement {
        Judgement::Wrong(nudge) => nudge,
        Judgement::Right(why) => panic!("judged right: {why}"),
    }
}

#[test]
fn puzzle_1_counts_index_1_in_the_learners_trace() {
    let data = planted();
    assert!(right(puzzle::judge(1, "5", &data).unwrap()));
    assert!(nudge(puzzle::judge(1, "15", &data).unwrap()).contains("every request"));
    assert!(nudge(puzzle::judge(1, "2", &data).unwrap()).starts_with("More"));
    assert!(nudge(puzzle::judge(1, "8", &data).unwrap()).starts_with("Fewer"));
    assert!(puzzle::judge(1, "five", &data).is_err());
}

#[test]
fn puzzle_2_takes_a_ratio_or_a_difference_within_a_tolerance() {
    let data = planted();
    let (p4, p5) = (data.p99(4).unwrap(), data.p99(5).unwrap());
    assert!((p5 / p4 - 1.55).abs() < 0.05, "{p4} {p5}");
    for answer in ["1.55x", "1.7x", "55%", "6ms", "8 ms", "0.006s"] {
        assert!(right(puzzle::judge(2, answer, &data).unwrap()), "{answer}");
    }
    assert!(nudge(puzzle::judge(2, "3x", &data).unwrap()).contains("less than that"));
    assert!(nudge(puzzle::judge(2, "1.1x", &data).unwrap()).contains("more than that"));
    assert!(nudge(puzzle::judge(2, "0.6x", &data).unwrap()).contains("not less"));
    assert!(nudge(puzzle::judge(2, "40ms", &data).unwrap()).contains("P99"));
    // A nudge never gives the measured value away.
    let wrong = nudge(puzzle::judge(2, "3x", &data).unwrap());
    assert!(!wrong.contains("1.5") && !wrong.contains("6."), "{wrong}");
}

#[test]
fn puzzle_3_wants_the_repeated_work() {
    let data = planted();
    for answer in [
        "it computes the same numbers again and again",
        "exponential fan-out",
        "no cache",
    ] {
        assert!(right(puzzle::judge(3, answer, &data).unwrap()), "{answer}");
    }
    assert!(nudge(puzzle::judge(3, "network latency", &data).unwrap()).contains("how many"));
    assert!(nudge(puzzle::judge(3, "tracing overhead", &data).unwrap()).contains("Count"));
}

#[test]
fn the_puzzles_data_comes_from_the_apps_own_spans() {
    let root = kit_root();
    let Build::Built { binary } = compile::build(&root, "solution-04-attributes", true).unwrap()
    else {
        panic!("solution 04 builds");
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let data = runtime
        .block_on(puzzle::record(&binary, "solution-04-attributes"))
        .unwrap();
    assert_eq!(data.index1_in_index5, 5);
    assert_eq!(data.spans_per_trace[&5], 15 + 14 + 15);
    assert_eq!(data.durations_ms[&4].len(), puzzle::ROUNDS);
    assert_eq!(data.durations_ms[&5].len(), puzzle::ROUNDS + 1);
    let (p4, p5) = (data.p99(4).unwrap(), data.p99(5).unwrap());
    assert!(right(
        puzzle::judge(2, &format!("{:.2}x", p5 / p4), &data).unwrap()
    ));
    assert!(!right(
        puzzle::judge(2, &format!("{:.2}x", 3.0 * p5 / p4), &data).unwrap()
    ));
}

#[test]
fn a_puzzle_answered_on_the_command_line_is_judged_and_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("puzzles.json");
    puzzle::save(&file, &planted()).unwrap();
    let data = file.to_str().unwrap();

    let output = checker(&["puzzle", "1", "15", "--data", data]);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(text(&output).contains("✗ Not quite."));

    let output = checker(&["puzzle", "1", "5", "--data", data]);
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("✓ Right."));
    assert_eq!(puzzle::load(&file).unwrap().unwrap().solved, [1]);

    let output = checker(&["puzzle", "2", "fast", "--data", data]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("write 1.5x"), "{}", text(&output));

    let output = checker(&["puzzle", "4", "x", "--data", data]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("three puzzles"));

    let output = checker(&["puzzle", "--data", data]);
    assert!(output.status.success());
    assert!(
        text(&output).contains("✓ 1. How many times"),
        "{}",
        text(&output)
    );
}

#[test]
fn watch_mode_checks_again_when_a_file_is_saved() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_checker"))
        .current_dir(kit_root())
        .env("NO_COLOR", "1")
        .args(["check", "01", "--solution", "--watch"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let wait_for = |needle: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while let Ok(line) = rx.recv_timeout(deadline - std::time::Instant::now()) {
            if line.contains(needle) {
                return true;
            }
        }
        false
    };
    assert!(wait_for("Watching solutions/01-stdout"), "the first check");
    // A save, as an editor makes it: the same text written again.
    let file = kit_root().join("solutions/01-stdout/src/main.rs");
    let text = std::fs::read(&file).unwrap();
    std::fs::write(&file, text).unwrap();
    let again = wait_for("Step 01 done") && wait_for("Watching solutions/01-stdout");
    let _ = child.kill();
    let _ = child.wait();
    assert!(again, "a save should start a second check");
}

#[test]
fn with_no_step_the_table_shows_every_step_and_what_is_next() {
    let output = checker(&["check"]);
    let text = text(&output);
    assert!(output.status.success(), "{text}");
    for row in [
        "01  stdout",
        "02  otlp",
        "03  propagation",
        "04  attributes",
        "05  hosted",
    ] {
        assert!(text.contains(row), "{row}:\n{text}");
    }
    // The exercises as they are in the repository: untouched, so not started (and not built).
    assert!(text.contains("03  propagation   · not started: "), "{text}");
    assert!(!text.contains("expectations met"), "{text}");
    assert!(!text.contains("✓ done"), "{text}");
    assert!(text.contains("Next: ./run.sh check 01"), "{text}");
}
