//! A classroom on loopback, end to end: a room (a trace explorer requiring a code), three
//! learners each with their own explorer forwarding to it, running real step binaries and the
//! real checker, and the instructor's Room page in headless Chromium.
//!
//! - ada has solved step 03: her check passes, her app's traces reach the room;
//! - bob is stuck at step 03 (the exercise as shipped: no propagator yet): his check fails, and
//!   the board says on what, with the hint's title;
//! - cy is at step 01, whose app only prints its spans: his check's verdict is all the room
//!   gets, and enough for his row;
//! - dee typed a wrong code: her check still runs and says the room did not get it, and her
//!   explorer's copies are refused (and counted) by the room.
//!
//! Then ada restarts her app: her row stays, and the board (which refreshes itself) shows her
//! new traces without a reload. The explorers run in this process, each on its own loopback
//! ports; the apps and the checker are processes, as a learner's are.
//!
//! Run with: `cargo test -p checker --test classroom` (Chromium: see testkit's browser; skipped
//! with a reason without it, except in CI).

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use explorer::room::{Board, LearnerRow};
use explorer::{Explorer, Settings};
use testkit::app::App;
use testkit::browser::Browser;
use testkit::kit_root;

const CODE: &str = "KQFZRM";
const ARRIVE_WITHIN: Duration = Duration::from_secs(20);

/// `./run.sh check ARGS` as `learner`, joined to the room at `room_url` with `code`.
fn check(learner: &str, room_url: &str, code: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_checker"))
        .current_dir(kit_root())
        .env("NO_COLOR", "1")
        .env("ROOM_URL", room_url)
        .env("ROOM_CODE", code)
        .env("LEARNER_NAME", learner)
        .arg("check")
        .args(args)
        .output()
        .expect("the checker runs")
}

fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The binary the checker built for `package` (it builds into the same target folder as the
/// tests).
fn binary(package: &str) -> String {
    let folder = Path::new(env!("CARGO_BIN_EXE_checker"))
        .parent()
        .expect("the checker's folder");
    folder.join(package).to_string_lossy().into_owned()
}

fn package(step: &str, solution: bool) -> String {
    let found = steps::find(&kit_root(), step).expect("the step");
    if solution {
        found.solution_package().expect("a solution")
    } else {
        found.exercise_package()
    }
}

async fn learner_explorer(room: &Explorer, name: &str, code: &str) -> Explorer {
    let settings = Settings {
        room_url: Some(room.http_endpoint()),
        room_code: Some(code.into()),
        learner_name: Some(name.into()),
        ..Settings::loopback()
    };
    Explorer::start(&settings)
        .await
        .expect("a learner's explorer")
}

/// A step's app exporting to `explorer` (over OTLP/HTTP, as `./run.sh NN` points it).
async fn app(binary: &str, explorer: Option<&Explorer>) -> App {
    let endpoint = explorer.map(Explorer::http_endpoint).unwrap_or_default();
    let mut env = vec![("OTEL_BSP_SCHEDULE_DELAY", "200")];
    if explorer.is_some() {
        env.push(("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()));
    }
    App::start(binary, &env).await
}

fn row<'a>(board: &'a Board, name: &str) -> Option<&'a LearnerRow> {
    board.learners.iter().find(|row| row.name == name)
}

async fn wait_for_board(room: &Explorer, what: &str, ready: impl Fn(&Board) -> bool) -> Board {
    let deadline = Instant::now() + ARRIVE_WITHIN;
    loop {
        let board = room.shared.board();
        if ready(&board) {
            return board;
        }
        assert!(Instant::now() < deadline, "{what}; the board: {board:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_of_three_learners_shows_who_is_where_and_who_is_stuck_on_what() {
    let room = Explorer::start(&Settings {
        require_code: Some(CODE.into()),
        ..Settings::loopback()
    })
    .await
    .expect("the room");
    let room_url = room.http_endpoint();

    // The checks, as each learner types them: the checker builds each step (the first build of
    // a package can take a while), runs it, and reports to the room.
    let checks = {
        let room_url = room_url.clone();
        tokio::task::spawn_blocking(move || {
            [
                check("ada", &room_url, CODE, &["03", "--solution"]),
                check("bob", &room_url, CODE, &["03"]),
                check("cy", &room_url, CODE, &["01"]),
                check("dee", &room_url, "WRONGX", &["02", "--solution"]),
            ]
        })
        .await
        .unwrap()
    };
    let [ada, bob, cy, dee] = checks.map(|output| printed(&output));
    assert!(ada.contains("Sent to the room as ada."), "{ada}");
    assert!(bob.contains("Sent to the room as bob."), "{bob}");
    assert!(cy.contains("Sent to the room as cy."), "{cy}");
    assert!(dee.contains("did not get this check"), "{dee}");
    assert!(dee.contains("refused the room code"), "{dee}");
    assert!(
        dee.contains("Step 02 done"),
        "the check itself still ran: {dee}"
    );

    // Their apps, each exporting to the learner's own explorer, which forwards to the room.
    let ada_explorer = learner_explorer(&room, "ada", CODE).await;
    let bob_explorer = learner_explorer(&room, "bob", CODE).await;
    let dee_explorer = learner_explorer(&room, "dee", "WRONGX").await;
    let ada_binary = binary(&package("03", true));
    let mut ada_app = app(&ada_binary, Some(&ada_explorer)).await;
    let mut bob_app = app(&binary(&package("03", false)), Some(&bob_explorer)).await;
    let mut cy_app = app(&binary(&package("01", false)), None).await;
    // Dee has solved step 02: her app exports over OTLP, to her explorer.
    let mut dee_app = app(&binary(&package("02", true)), Some(&dee_explorer)).await;
    for app in [&ada_app, &bob_app, &cy_app, &dee_app] {
        assert_eq!(app.get("/fib?index=5").await.0, 200, "{}", app.output());
    }

    let board = wait_for_board(&room, "ada's and bob's spans reach the room", |board| {
        ["ada", "bob"]
            .iter()
            .all(|name| row(board, name).is_some_and(|row| row.traces_received >= 1))
    })
    .await;
    let ada_row = row(&board, "ada").unwrap();
    assert_eq!(ada_row.passed_step, Some(3), "{ada_row:?}");
    assert_eq!(ada_row.failing, None, "{ada_row:?}");
    let bob_row = row(&board, "bob").unwrap();
    let failing = bob_row.failing.as_ref().expect("bob's check failed");
    assert_eq!(failing.step, 3, "{bob_row:?}");
    let hint = failing.hint.clone().expect("the hint's title");
    assert!(!hint.is_empty() && !hint.contains('\n'), "{hint:?}");
    let cy_row = row(&board, "cy").expect("cy's row, from his check alone");
    assert_eq!(cy_row.checked_step, Some(1), "{cy_row:?}");
    assert_eq!(cy_row.spans_received, 0, "step 01 only prints its spans");
    assert!(
        row(&board, "dee").is_none(),
        "dee's code was wrong: {board:#?}"
    );
    // Two stuck, on different things: bob on step 03's propagation, cy on step 01's provider.
    let stuck: Vec<u32> = board.stuck.iter().map(|s| s.failing.step).collect();
    assert_eq!(stuck, [1, 3], "{board:#?}");

    // Dee's explorer keeps her spans; its copies are refused by the room, and counted there.
    let deadline = Instant::now() + ARRIVE_WITHIN;
    while dee_explorer.shared.stats().forward.unwrap().failed == 0 {
        assert!(
            Instant::now() < deadline,
            "{:?}",
            dee_explorer.shared.stats()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(dee_explorer.shared.stats().spans > 0);
    // Her check's verdict, and at least one copy of her spans.
    assert!(
        room.shared.stats().refused_wrong_code >= 2,
        "{:?}",
        room.shared.stats()
    );
    let forward = dee_explorer.shared.stats().forward.unwrap();
    assert!(
        forward
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("401")),
        "{forward:?}"
    );

    // The instructor's board in Chromium.
    let browser = Browser::start().await;
    if let Some(browser) = &browser {
        browser.goto(&format!("{}/room", room.url())).await;
        let rows = browser
            .read(
                "return [...document.querySelectorAll('#learners tr.learner')].map(tr => \
                 [tr.dataset.learner, tr.querySelector('.passed').textContent.trim(), \
                  tr.querySelector('.checked').textContent.trim(), \
                  tr.querySelector('.now').textContent.trim()])",
            )
            .await;
        let rows = rows.as_array().expect("rows").clone();
        let cells = |name: &str| {
            rows.iter()
                .find(|row| row[0] == name)
                .unwrap_or_else(|| panic!("{name}'s row in {rows:?}"))
                .clone()
        };
        assert_eq!(cells("ada")[1], "03", "{rows:?}");
        assert_eq!(cells("bob")[2], "✗ 03", "{rows:?}");
        assert!(
            cells("bob")[3].as_str().unwrap().contains(&hint),
            "bob's row shows the hint's title {hint:?}: {rows:?}"
        );
        assert!(cells("cy")[2].as_str().unwrap().ends_with("01"), "{rows:?}");
        let summary = browser
            .read("return document.getElementById('summary').textContent")
            .await;
        assert!(
            summary.as_str().unwrap().contains("3 learners"),
            "{summary}"
        );
    }

    // Ada restarts her app: her row stays, and her new traces are counted.
    let before = row(&room.shared.board(), "ada").unwrap().traces_received;
    ada_app.stop(Duration::from_secs(20)).await;
    let ada_app = app(&ada_binary, Some(&ada_explorer)).await;
    assert_eq!(ada_app.get("/fib?index=6").await.0, 200);
    let board = wait_for_board(&room, "ada's new trace reaches the room", |board| {
        row(board, "ada").is_some_and(|row| row.traces_received > before)
    })
    .await;
    assert_eq!(board.learners.len(), 3, "{board:#?}");
    assert_eq!(row(&board, "ada").unwrap().passed_step, Some(3));

    if let Some(browser) = browser {
        // The page refreshes itself: the new count shows without a reload.
        let expected = row(&board, "ada").unwrap().traces_received.to_string();
        browser
            .wait_for(
                Duration::from_secs(15),
                "ada's traces on the page, refreshed",
                "return document.querySelector('tr[data-learner=\"ada\"] td:nth-child(7)').textContent.trim()",
                |value| value.as_str() == Some(expected.as_str()),
            )
            .await;
        browser.save_screenshot("room-three-learners.png").await;
        browser.close().await;
    }
    for app in [&mut bob_app, &mut cy_app, &mut dee_app] {
        app.stop(Duration::from_secs(20)).await;
    }
    drop(ada_app);
}
