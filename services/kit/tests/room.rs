//! `./run.sh join` and `./run.sh leave` against a real room: the trace explorer with a room code,
//! on loopback. The kit runs in a folder of its own (a `run.sh` and an `.env.example` make it the
//! kit's folder), so that its `.env` is the test's.

use std::path::Path;
use std::process::{Command, Output};

use explorer::{Explorer, Settings};

const CODE: &str = "KQFZRM";

/// A folder the kit takes for its own, with a `.env` of the learner's.
fn kit_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("run.sh"), "").unwrap();
    std::fs::write(dir.path().join(".env.example"), "").unwrap();
    std::fs::write(dir.path().join(".env"), "# mine\nAPP_PORT=9000\n").unwrap();
    dir
}

fn kit(folder: &Path, args: &[&str]) -> Output {
    kit_on(folder, args, "the test's machine")
}

/// The kit as run on `machine` (its id, as `/etc/machine-id` would give it).
fn kit_on(folder: &Path, args: &[&str], machine: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kit"))
        .args(args)
        .current_dir(folder)
        .env_remove("ROOM_CODE")
        .env("KIT_MACHINE_ID", machine)
        .output()
        .unwrap()
}

fn printed(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn env_file(folder: &Path) -> String {
    std::fs::read_to_string(folder.join(".env")).unwrap()
}

async fn room() -> Explorer {
    let settings = Settings {
        require_code: Some(CODE.into()),
        ..Settings::loopback()
    };
    Explorer::start(&settings).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_checks_the_room_and_the_code_then_writes_env_and_leaving_undoes_it() {
    let room = room().await;
    let address = room.http_endpoint();
    let folder = kit_folder();
    let dir = folder.path().to_path_buf();

    let joined = {
        let (dir, address) = (dir.clone(), address.clone());
        tokio::task::spawn_blocking(move || {
            kit(&dir, &["join", &address, "--name", "ada", "--code", CODE])
        })
        .await
        .unwrap()
    };
    assert!(joined.status.success(), "{}", printed(&joined));
    assert!(
        printed(&joined).contains("joined the room"),
        "{}",
        printed(&joined)
    );
    let text = env_file(&dir);
    assert!(text.starts_with("# mine\nAPP_PORT=9000\n"), "{text}");
    for line in [
        format!("ROOM_URL={address}"),
        format!("ROOM_CODE={CODE}"),
        "LEARNER_NAME=ada".into(),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in:\n{text}");
    }

    let left = tokio::task::spawn_blocking(move || kit(&dir, &["leave"]))
        .await
        .unwrap();
    assert!(left.status.success(), "{}", printed(&left));
    assert_eq!(env_file(folder.path()), "# mine\nAPP_PORT=9000\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_code_is_refused_and_env_is_left_alone() {
    let room = room().await;
    let address = room.http_endpoint();
    let folder = kit_folder();
    let dir = folder.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        kit(
            &dir,
            &["join", &address, "--name", "ada", "--code", "WRONGX"],
        )
    })
    .await
    .unwrap();
    let text = printed(&output);
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("refused the code"), "{text}");
    assert!(text.contains("wrong"), "the room's own words: {text}");
    assert_eq!(env_file(folder.path()), "# mine\nAPP_PORT=9000\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_another_machine_has_is_refused_but_the_same_machine_may_join_again() {
    let room = room().await;
    let address = room.http_endpoint();
    let (first, second, again) = (kit_folder(), kit_folder(), kit_folder());
    let (a, b, c) = (
        first.path().to_path_buf(),
        second.path().to_path_buf(),
        again.path().to_path_buf(),
    );
    let outputs = tokio::task::spawn_blocking(move || {
        let join = ["join", &address, "--name", "ada", "--code", CODE];
        (
            kit_on(&a, &join, "machine-1"),
            kit_on(&b, &join, "machine-2"),
            kit_on(&c, &join, "machine-1"),
        )
    })
    .await
    .unwrap();
    assert!(outputs.0.status.success(), "{}", printed(&outputs.0));
    let text = printed(&outputs.1);
    assert!(!outputs.1.status.success(), "{text}");
    assert!(
        text.contains("\"ada\" is taken by another machine"),
        "{text}"
    );
    assert!(text.contains("--name"), "says what to do: {text}");
    assert_eq!(env_file(second.path()), "# mine\nAPP_PORT=9000\n");
    assert!(outputs.2.status.success(), "{}", printed(&outputs.2));
    // The board has ada, once.
    let board = room.shared.board();
    assert_eq!(board.learners.len(), 1, "{board:?}");
    assert_eq!(board.learners[0].name, "ada");
}

#[test]
fn a_room_that_does_not_answer_and_a_bad_name_are_said_plainly() {
    let folder = kit_folder();
    // A port just freed: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("127.0.0.1:{port}");
    let output = kit(
        folder.path(),
        &["join", &address, "--name", "ada", "--code", CODE],
    );
    let text = printed(&output);
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("does not answer"), "{text}");
    assert!(text.contains("nothing listens there"), "{text}");

    let output = kit(
        folder.path(),
        &["join", &address, "--name", "ada lovelace", "--code", CODE],
    );
    let text = printed(&output);
    assert!(!output.status.success(), "{text}");
    assert!(text.contains("cannot be your name"), "{text}");
    assert_eq!(env_file(folder.path()), "# mine\nAPP_PORT=9000\n");
}

/// `./run.sh room` up to the explorer's start (cargo is `true` here, so it ends there): the join
/// line with a new code, which `.env` keeps, so that a restarted room has the same one.
#[test]
fn the_room_prints_the_join_line_and_keeps_its_code() {
    let folder = kit_folder();
    let open = || {
        Command::new(env!("CARGO_BIN_EXE_kit"))
            .arg("room")
            .current_dir(folder.path())
            .env_remove("ROOM_CODE")
            .env("CARGO", "true")
            .output()
            .unwrap()
    };
    let first = open();
    let text = printed(&first);
    assert!(first.status.success(), "{text}");
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("./run.sh join "))
        .unwrap_or_else(|| panic!("no join line in:\n{text}"));
    let code = line.rsplit(' ').next().unwrap();
    assert_eq!(code.len(), 6, "{line}");
    assert!(line.contains("--name THEIR-NAME --code "), "{line}");
    assert!(
        env_file(folder.path()).contains(&format!("ROOM_CODE={code}\n")),
        "{}",
        env_file(folder.path())
    );
    let again = printed(&open());
    assert!(again.contains(&format!("--code {code}")), "{again}");
}
