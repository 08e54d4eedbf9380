//! The functional tests: what the app does, the same for every step. [`functional_tests!`]
//! declares each of these as a test of a step's binary.
//!
//! [`functional_tests!`]: crate::functional_tests

use std::time::{Duration, Instant};

use sequence::config::DEFAULT_MAX_INDEX;
use sequence::fib_iterative;

use crate::app::get;
use crate::{App, CountingProxy};
use checker::app::client;

/// The tests that load both cores take turns: run side by side on a 2-core machine, they would
/// slow each other down past the app's timeouts, and test the machine instead of the app.
async fn heavy() -> tokio::sync::MutexGuard<'static, ()> {
    static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    HEAVY.lock().await
}

/// A generous timeout for sub-requests, for tests about something else than timeouts: a debug
/// build answers `/fib?index=15` in about a second, but a busy CI machine can take much longer.
const PATIENT: (&str, &str) = ("FIB_UPSTREAM_TIMEOUT_MS", "120000");

/// Starts the app with its sub-requests going through a counting proxy, and returns both.
async fn app_behind_proxy(binary: &str, env: &[(&str, &str)]) -> (App, CountingProxy) {
    let proxy = CountingProxy::start().await.expect("a proxy on loopback");
    let mut env = env.to_vec();
    env.push(("FIB_UPSTREAM_URL", &proxy.url));
    let app = App::start(binary, &env).await;
    proxy.forward_to(&app.url);
    (app, proxy)
}

pub async fn fib_answers_every_index_up_to_the_cap_with_the_iterative_value(binary: &str) {
    let _turn = heavy().await;
    let app = App::start(binary, &[PATIENT]).await; // the default cap
    for index in 0..=DEFAULT_MAX_INDEX {
        let (status, body) = app.get(&format!("/fib?index={index}")).await;
        let expected = fib_iterative(index).to_string();
        assert_eq!(
            (status, body.trim()),
            (200, expected.as_str()),
            "/fib?index={index}"
        );
    }
}

pub async fn fib_of_5_makes_15_requests_over_http_5_of_them_for_index_1(binary: &str) {
    let (_app, proxy) = app_behind_proxy(binary, &[]).await;
    // The first request goes through the proxy too, so it sees every request the app handles.
    let (status, body) = get(&format!("{}/fib?index=5", proxy.url)).await;
    assert_eq!((status, body.trim()), (200, "5"));

    let seen = proxy.seen();
    assert_eq!(seen.len(), 15, "requests seen: {seen:?}");
    let per_index: Vec<usize> = (0..=5)
        .map(|index| proxy.count(&format!("/fib?index={index}")))
        .collect();
    // index:              0  1  2  3  4  5
    assert_eq!(per_index, [3, 5, 3, 2, 1, 1], "requests seen: {seen:?}");
}

/// Once step 06 remembers numbers: each index is asked for once, the first time, and a request
/// whose numbers are known makes no sub-request at all.
pub async fn fib_of_5_asks_for_each_index_once_then_remembers(binary: &str) {
    let (_app, proxy) = app_behind_proxy(binary, &[]).await;
    let (status, body) = get(&format!("{}/fib?index=5", proxy.url)).await;
    assert_eq!((status, body.trim()), (200, "5"));
    let per_index: Vec<usize> = (0..=5)
        .map(|index| proxy.count(&format!("/fib?index={index}")))
        .collect();
    // index:              0  1  2  3  4  5
    assert_eq!(
        per_index,
        [0, 0, 1, 1, 1, 1],
        "requests seen: {:?}",
        proxy.seen()
    );

    // Asked again, and asked for the next one: answered from what is known.
    for (index, expected) in [(5, "5"), (6, "8")] {
        let before = proxy.seen().len();
        let (status, body) = get(&format!("{}/fib?index={index}", proxy.url)).await;
        assert_eq!((status, body.trim()), (200, expected));
        assert_eq!(
            proxy.seen().len(),
            before + 1,
            "/fib?index={index} made sub-requests: {:?}",
            proxy.seen()
        );
    }
}

pub async fn bad_indexes_get_400_naming_the_range_and_make_no_sub_request(binary: &str) {
    let (_app, proxy) = app_behind_proxy(binary, &[]).await;
    let above_cap = format!("/fib?index={}", DEFAULT_MAX_INDEX + 1);
    let cases = [
        "/fib",
        "/fib?index=",
        "/fib?index=abc",
        "/fib?index=-1",
        "/fib?index=+3",
        "/fib?index=1.5",
        "/fib?index=1e3",
        "/fib?index=0x10",
        "/fib?index=123456789012345678901234567890",
        &above_cap,
        "/fib?index= 5",
        "/fib?index=５", // a full-width digit five
        "/fib?index=3&index=4",
    ];
    let range = format!("from 0 to {DEFAULT_MAX_INDEX}");
    for (n, case) in cases.iter().enumerate() {
        let (status, body) = get(&format!("{}{case}", proxy.url)).await;
        assert_eq!(status, 400, "{case:?} answered {body:?}");
        assert!(
            body.contains(&range),
            "{case:?}: {body:?} does not name the range"
        );
        assert_eq!(
            body.trim().lines().count(),
            1,
            "{case:?}: {body:?} is not one line"
        );
        // Only the request itself went through the proxy: no sub-request was made.
        assert_eq!(
            proxy.seen().len(),
            n + 1,
            "{case:?} made sub-requests: {:?}",
            proxy.seen()
        );
    }
}

pub async fn an_unreachable_upstream_gets_502_with_a_message_at_once(binary: &str) {
    let upstream = crate::app::closed_url();
    let app = App::start(
        binary,
        &[
            ("FIB_UPSTREAM_URL", &upstream),
            ("FIB_UPSTREAM_TIMEOUT_MS", "3000"),
        ],
    )
    .await;

    let started = Instant::now();
    let (status, body) = app.get("/fib?index=5").await;
    assert_eq!(status, 502, "{body}");
    assert!(
        body.contains(&upstream),
        "the message names the upstream: {body:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a refused connection is reported at once, not after the timeout: {:?}",
        started.elapsed()
    );
    // Indexes 0 and 1 need no sub-request, so they still work.
    assert_eq!(app.get("/fib?index=1").await, (200, "1\n".into()));
}

pub async fn a_silent_upstream_gets_502_within_the_timeout(binary: &str) {
    // An upstream that accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = format!("http://{}", silent.local_addr().unwrap());
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let app = App::start(
        binary,
        &[
            ("FIB_UPSTREAM_URL", &upstream),
            ("FIB_UPSTREAM_TIMEOUT_MS", "1000"),
        ],
    )
    .await;

    let started = Instant::now();
    let (status, body) = app.get("/fib?index=3").await;
    let elapsed = started.elapsed();
    assert_eq!(status, 502, "{body}");
    assert!(
        body.contains("timed out") && body.contains(&upstream),
        "{body:?}"
    );
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(6),
        "the timeout is 1 s, the answer came after {elapsed:?}"
    );
    holder.abort();
}

pub async fn fifty_concurrent_fib_of_10_all_succeed(binary: &str) {
    let _turn = heavy().await;
    let app = App::start(binary, &[PATIENT]).await;
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let url = format!("{}/fib?index=10", app.url);
        requests.spawn(async move { get(&url).await });
    }
    let answers = requests.join_all().await;
    let failed: Vec<_> = answers
        .iter()
        .filter(|answer| **answer != (200, "55\n".into()))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of 50 failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(3)]
    );
}

pub async fn sigterm_lets_requests_in_flight_finish_then_exits_0(binary: &str) {
    // 3 × 465 requests: enough to be in flight for a while, not so many at once that a busy
    // machine's listen queues overflow.
    sigterm_while_in_flight(binary, Duration::ZERO, 50).await;
}

/// The same, once step 06 remembers numbers: a few sub-requests each, made slow by the proxy,
/// so that they are still in flight when SIGTERM comes.
pub async fn sigterm_lets_remembering_requests_in_flight_finish_then_exits_0(binary: &str) {
    sigterm_while_in_flight(binary, Duration::from_millis(50), 3).await;
}

/// Three `/fib?index=12` at once, SIGTERM once `seen` sub-requests have gone through a proxy
/// that waits `delay` before each: every answer is right, and the app exits with status 0.
async fn sigterm_while_in_flight(binary: &str, delay: Duration, seen: usize) {
    let _turn = heavy().await;
    let (mut app, proxy) = app_behind_proxy(binary, &[PATIENT]).await;
    proxy.delay(delay);
    let index = 12;
    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..3 {
        let url = format!("{}/fib?index={index}", app.url);
        requests.spawn(async move { get(&url).await });
    }
    // Wait until sub-requests are flowing, so that the requests are surely in flight.
    let deadline = Instant::now() + Duration::from_secs(20);
    while proxy.seen().len() < seen {
        assert!(
            Instant::now() < deadline,
            "no sub-requests seen: {}",
            app.output()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    app.terminate();
    let expected = format!("{}\n", fib_iterative(index));
    for answer in requests.join_all().await {
        assert_eq!(
            answer,
            (200, expected.clone()),
            "a request in flight did not finish well"
        );
    }
    let status = app.exit_status(Duration::from_secs(30)).await;
    assert!(
        status.success(),
        "exit status {status:?}; output:\n{}",
        app.output()
    );
}

pub async fn the_page_has_go_and_stop_and_its_assets(binary: &str) {
    let app = App::start(binary, &[]).await;
    let (status, html) = app.get("/").await;
    assert_eq!(status, 200);
    for part in [
        r#"<button type="button" id="go">Go</button>"#,
        r#"<button type="button" id="stop" disabled>Stop</button>"#,
        &format!(r#"data-max-index="{DEFAULT_MAX_INDEX}""#),
        r#"src="/static/app.js""#,
        r#"href="/static/style.css""#,
    ] {
        assert!(html.contains(part), "the page lacks {part}:\n{html}");
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page loads nothing from elsewhere"
    );
    for (path, content_type) in [
        ("/static/app.js", "text/javascript"),
        ("/static/style.css", "text/css"),
    ] {
        let response = client()
            .get(format!("{}{path}", app.url))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let header = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(
            header.starts_with(content_type),
            "{path} is served as {header}"
        );
    }
    assert_eq!(app.get("/nowhere").await.0, 404);
}

pub async fn in_chromium_go_shows_the_sequence_and_stop_stops_it(binary: &str) {
    // A high cap, so that the sequence is still running when the test presses Stop.
    let _turn = heavy().await;
    let max = sequence::config::HARD_MAX_INDEX.to_string();
    let app = App::start(binary, &[("FIB_MAX_INDEX", &max), PATIENT]).await;
    crate::browser::go_shows_the_sequence_and_stop_stops_it(&app.url).await;
}

pub async fn in_chromium_go_shows_the_whole_sequence_up_to_the_cap(binary: &str) {
    let _turn = heavy().await;
    let app = App::start(binary, &[]).await; // the default cap
    crate::browser::go_shows_the_whole_sequence_up_to_the_cap(&app.url, DEFAULT_MAX_INDEX).await;
}

/// A port already taken, with `RUST_BACKTRACE=1` as many Rust developers have it: the app says so
/// in a few plain lines, with no backtrace, and exits with status 1.
pub async fn a_taken_port_is_said_plainly_without_a_backtrace_and_exits_1(binary: &str) {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port on loopback");
    let port = taken.local_addr().unwrap().port().to_string();
    let run = tokio::process::Command::new(binary)
        .env("APP_HOST", "127.0.0.1")
        .env("APP_PORT", &port)
        .env("RUST_BACKTRACE", "1")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("the app stops at once when its port is taken")
        .expect("the app runs");
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(
        said.contains(&format!("port {port} is already in use")),
        "{said}"
    );
    assert!(
        !said.to_lowercase().contains("backtrace") && said.lines().count() <= 3,
        "one clear message, no frames:\n{said}"
    );
}
