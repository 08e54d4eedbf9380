//! A tiny stand-in for the app, for the load generator's tests: it answers `/fib?index=N` with
//! F(N) at once (no recursion, so the tests measure the load generator, not the app) and writes
//! down every request it gets, with the `User-Agent` that tells the virtual users apart.

#![allow(dead_code)] // each test file uses its own part of this

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::get;

/// How the stand-in behaves; [`Behaviour::default`] is the app with its default cap.
#[derive(Clone, Copy)]
pub struct Behaviour {
    /// Indexes above this get 400, as the app's `FIB_MAX_INDEX`.
    pub cap: u32,
    /// Answers for this index and above take this long.
    pub slow: Option<(u32, Duration)>,
    /// Answers for this index are off by one.
    pub wrong: Option<u32>,
}

impl Default for Behaviour {
    fn default() -> Behaviour {
        Behaviour {
            cap: sequence::config::DEFAULT_MAX_INDEX,
            slow: None,
            wrong: None,
        }
    }
}

/// One request the stand-in got.
#[derive(Debug, Clone)]
pub struct Seen {
    pub user_agent: String,
    /// The index asked for; `None` when it was refused with 400.
    pub index: Option<u32>,
}

#[derive(Clone)]
struct AppState {
    behaviour: Behaviour,
    seen: Arc<Mutex<Vec<Seen>>>,
}

pub struct TestApp {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// Starts the stand-in on a free loopback port; it runs until the test ends.
pub async fn start_app(behaviour: Behaviour) -> TestApp {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let state = AppState {
        behaviour,
        seen: seen.clone(),
    };
    let app = Router::new().route("/fib", get(fib)).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free loopback port");
    let url = format!(
        "http://{}",
        listener.local_addr().expect("the bound address")
    );
    tokio::spawn(async move {
        axum::serve(listener, app)
            .await
            .expect("the test app serves")
    });
    TestApp { url, seen }
}

async fn fib(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> (StatusCode, String) {
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let behaviour = state.behaviour;
    let index = sequence::index::parse(query.as_deref(), behaviour.cap);
    // Written down on arrival, so that a request the client abandons is seen too.
    state.seen.lock().unwrap().push(Seen {
        user_agent,
        index: index.as_ref().ok().copied(),
    });
    let index = match index {
        Ok(index) => index,
        Err(bad) => return (StatusCode::BAD_REQUEST, format!("{bad}\n")),
    };
    if let Some((from, delay)) = behaviour.slow
        && index >= from
    {
        tokio::time::sleep(delay).await;
    }
    let mut value = sequence::fib_iterative(index);
    if behaviour.wrong == Some(index) {
        value += 1;
    }
    (StatusCode::OK, format!("{value}\n"))
}

impl TestApp {
    /// Every request so far, in the order they arrived.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The load: what each virtual user asked for, in order, keyed by `User-Agent` (the start-up
    /// check left out). `None` for a refused index.
    pub fn by_user(&self) -> BTreeMap<String, Vec<Option<u32>>> {
        let mut users = BTreeMap::<String, Vec<Option<u32>>>::new();
        for seen in self.seen().into_iter().filter(|seen| !is_check(seen)) {
            users.entry(seen.user_agent).or_default().push(seen.index);
        }
        users
    }

    /// How many requests the load made for each index (the start-up check left out).
    pub fn per_index(&self) -> BTreeMap<u32, u64> {
        let mut counts = BTreeMap::new();
        for seen in self.seen().into_iter().filter(|seen| !is_check(seen)) {
            if let Some(index) = seen.index {
                *counts.entry(index).or_default() += 1;
            }
        }
        counts
    }

    /// How many start-up checks the stand-in answered.
    pub fn checks(&self) -> usize {
        self.seen().iter().filter(|seen| is_check(seen)).count()
    }
}

fn is_check(seen: &Seen) -> bool {
    seen.user_agent.ends_with(" check")
}

/// A loopback URL where nothing listens: a port bound, read, and released at once.
pub fn closed_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    format!("http://{}", listener.local_addr().unwrap())
}

/// Splits one user's requests into Go-runs, checking as it goes that each run is what the page
/// does: index 0, 1, 2, … in order, with no gap and no repeat.
pub fn go_runs(user: &str, requests: &[Option<u32>]) -> Vec<Vec<u32>> {
    let mut runs: Vec<Vec<u32>> = Vec::new();
    for (position, request) in requests.iter().enumerate() {
        let index = request.unwrap_or_else(|| panic!("{user}: a refused request at {position}"));
        match runs.last_mut() {
            Some(run) if index > 0 => {
                let last = *run.last().unwrap();
                assert_eq!(
                    index,
                    last + 1,
                    "{user} skipped from {last} to {index}: {requests:?}"
                );
                run.push(index);
            }
            _ => {
                assert_eq!(index, 0, "{user} began a Go-run at {index}: {requests:?}");
                runs.push(vec![0]);
            }
        }
    }
    runs
}

/// Whether `text` has a line made of these words, however they are spaced: a row of the summary.
pub fn has_row(text: &str, row: &str) -> bool {
    text.lines()
        .any(|line| line.split_whitespace().eq(row.split_whitespace()))
}
