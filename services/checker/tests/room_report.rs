//! A check's verdict as the room gets it: read off real outcomes, sent to a real receiver, and
//! not sent where nothing listens, where it is refused, or when nobody joined.
//! Run with: `cargo test -p checker --test room_report`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use checker::check::{Report, Subject};
use checker::compile::{self, BuildFailure};
use checker::expect::{self, Evidence, Outcome, Verdict as Judged};
use checker::room::{self, Room};
use checker::run::{Answer, Protocol, Run, Scenario, Sink};
use checker::sources::Sources;
use receiver::Receiver;
use receiver::room::{CODE_HEADER, Verdict};

fn report(step: u32, outcome: Result<Vec<Outcome>, BuildFailure>) -> Report {
    Report {
        subject: Subject {
            step,
            package: format!("exercises-{step:02}"),
            crate_dir: PathBuf::from(format!("exercises/{step:02}-step")),
        },
        outcome,
        markers: Vec::new(),
        build_took: Duration::from_secs(1),
        run_took: Duration::from_secs(1),
    }
}

/// A run of an app that answers as it should and stops cleanly, but exports nothing.
fn silent_run() -> Run {
    let answer = |path: &str, status, body: &str| Answer {
        path: path.into(),
        result: Ok((status, body.into())),
    };
    Run {
        sink: Sink::Otlp(Protocol::HttpProtobuf),
        scenario: Scenario::Normal,
        endpoint: Some("http://127.0.0.1:4318".into()),
        answers: vec![
            answer("/fib?index=5", 200, "5\n"),
            answer("/fib?index=abc", 400, "bad index"),
        ],
        exit: Some(std::os::unix::process::ExitStatusExt::from_raw(0)),
        stop_took: Duration::from_millis(100),
        output: String::new(),
        early: Vec::new(),
        spans: Vec::new(),
        requests: Vec::new(),
        rejected: Vec::new(),
        sub_requests: Vec::new(),
        metrics: Vec::new(),
        logs: Vec::new(),
    }
}

fn a_failing_step_02() -> Report {
    let evidence = Evidence {
        main: silent_run(),
        grpc: Some(Err("not started".into())),
        failure: None,
        growth: None,
        sampling: None,
    };
    report(2, Ok(expect::judge(2, &evidence, &Sources::default())))
}

fn a_room(url: &str) -> Room {
    Room {
        url: url.into(),
        code: "ABCDEF".into(),
        learner: "ada".into(),
    }
}

#[test]
fn a_failing_check_gives_its_first_failed_expectation_and_the_first_sentence_of_its_hint() {
    let report = a_failing_step_02();
    let Ok(outcomes) = &report.outcome else {
        panic!("step 02 did not build");
    };
    let first_failed = outcomes
        .iter()
        .find(|o| matches!(o.verdict, Judged::Failed { .. }))
        .unwrap();
    let (met, of) = report.score();
    assert!(met >= 2 && met < of, "{met} of {of}");

    let verdict = room::verdict(&report);
    assert_eq!(
        verdict,
        Verdict {
            step: 2,
            passed: false,
            score: format!("{met} of {of}"),
            expectation: Some(first_failed.what.clone()),
            hint: Some(
                "Nothing was exported: no tracer provider is installed, so `global::tracer` hands \
                 out tracers that record nothing."
                    .into()
            ),
        }
    );
}

#[test]
fn a_passing_check_gives_its_score_and_nothing_else_and_bonuses_do_not_count() {
    let outcome = |what: &str, verdict| Outcome {
        step: 2,
        what: what.into(),
        verdict,
    };
    let report = report(
        2,
        Ok(vec![
            outcome("answers", Judged::Passed),
            outcome("exports", Judged::Passed),
            outcome(
                "over gRPC too",
                Judged::Bonus {
                    earned: false,
                    how: "turn it on",
                },
            ),
        ]),
    );
    assert_eq!(
        room::verdict(&report),
        Verdict {
            step: 2,
            passed: true,
            score: "2 of 2".into(),
            expectation: None,
            hint: None,
        }
    );
}

#[test]
fn a_build_that_failed_is_the_expectation_it_builds() {
    let no_lock = tempfile::tempdir().unwrap();
    let output = "error: no matching package named `opentelemetry-otlpp` found";
    let failure = BuildFailure {
        errors: Vec::new(),
        cargo_output: output.into(),
        hint: compile::build_hint(no_lock.path(), "exercises-03", &[], output),
    };
    let verdict = room::verdict(&report(3, Err(failure)));
    assert_eq!(verdict.step, 3);
    assert!(!verdict.passed);
    assert_eq!(verdict.expectation.as_deref(), Some("it builds"));
    assert_eq!(
        verdict.hint.as_deref(),
        Some("cargo stopped before compiling (its message is above).")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_verdict_reaches_the_room_with_its_code_and_the_learners_name() {
    let receiver = Receiver::start().await.unwrap();
    let verdict = room::verdict(&a_failing_step_02());
    // The URL as `./run.sh join` writes it, or with a slash more.
    let room = a_room(&format!("{}/", receiver.http_endpoint()));
    room.send(&verdict).await.unwrap();

    let logs = receiver.wait_for_logs(1, Duration::from_secs(5)).await;
    assert_eq!(logs.len(), 1);
    assert_eq!(Verdict::read(&logs[0]), Some(verdict));
    assert_eq!(
        receiver::room::learner(&logs[0].resource).as_deref(),
        Some("ada")
    );
    assert_eq!(receiver.requests()[0].header(CODE_HEADER), Some("ABCDEF"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_that_answers_with_an_error_did_not_get_the_check() {
    let receiver = Receiver::start().await.unwrap();
    let elsewhere = a_room(&format!("{}/somewhere", receiver.http_endpoint()));
    let why = elsewhere
        .send(&room::verdict(&a_failing_step_02()))
        .await
        .unwrap_err();
    assert!(why.starts_with("it answered 404"), "{why}");
    assert!(receiver.logs().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_where_nothing_listens_did_not_get_the_check_and_says_so_at_once() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let started = Instant::now();
    let why = a_room(&url)
        .send(&room::verdict(&a_failing_step_02()))
        .await
        .unwrap_err();
    assert_eq!(why, "nothing listens there");
    assert!(started.elapsed() < room::TIMEOUT, "{:?}", started.elapsed());
}

#[test]
fn an_env_file_without_the_three_settings_names_no_room() {
    let dir = tempfile::tempdir().unwrap();
    let env_file = dir.path().join(".env");
    let unset = ["ROOM_URL", "ROOM_CODE", "LEARNER_NAME"]
        .iter()
        .all(|name| std::env::var_os(name).is_none());
    assert!(
        unset,
        "the environment names a room: run this test without it"
    );

    assert_eq!(Room::joined(&env_file), None, "no .env at all");
    // An instructor's .env: the explorer's room code, but no room to report to.
    std::fs::write(&env_file, "ROOM_CODE=ABCDEF\nEXPLORER_PORT=8091\n").unwrap();
    assert_eq!(Room::joined(&env_file), None);
    std::fs::write(
        &env_file,
        "ROOM_URL=http://192.168.1.20:4318\nROOM_CODE=ABCDEF\nLEARNER_NAME=\n",
    )
    .unwrap();
    assert_eq!(Room::joined(&env_file), None, "an empty name");

    // As `./run.sh join` writes them.
    std::fs::write(
        &env_file,
        "# mine\nROOM_URL=http://192.168.1.20:4318\nROOM_CODE=ABCDEF\nLEARNER_NAME=ada\n",
    )
    .unwrap();
    assert_eq!(
        Room::joined(&env_file),
        Some(Room {
            url: "http://192.168.1.20:4318".into(),
            code: "ABCDEF".into(),
            learner: "ada".into(),
        })
    );
}
