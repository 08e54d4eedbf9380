//! `loadgen::run` against a real HTTP server on a free port: what the server saw must be what a
//! room of learners pressing Go and Stop makes, and what the summary says.
//! Run with: `cargo test -p loadgen --test run`.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use loadgen::{Counts, Options, StopReason};
use support::{Behaviour, TestApp, closed_url, go_runs, has_row, start_app};

fn options(app: &TestApp) -> Options {
    Options {
        url: app.url.clone(),
        users: 3,
        duration: Duration::from_secs(2),
        max_index: 6,
        max_requests: None,
        seed: 42,
    }
}

/// The summary's requests per index, as the server counts them.
fn summary_per_index(summary: &loadgen::Summary) -> BTreeMap<u32, u64> {
    summary
        .by_index
        .iter()
        .map(|(&index, stats)| (index, stats.requests))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_users_for_two_seconds_press_go_in_order_and_stop_by_themselves() {
    let app = start_app(Behaviour::default()).await;
    let started = Instant::now();
    let summary = loadgen::run(options(&app)).await.unwrap();
    let took = started.elapsed();

    // It stopped by itself, soon after the 2 s: the requests in flight take milliseconds here.
    assert_eq!(summary.stopped, StopReason::Duration);
    assert!(took >= Duration::from_secs(2), "{took:?}");
    assert!(took < Duration::from_secs(4), "{took:?}");

    // Three users, told apart by User-Agent, each pressing Go: 0, 1, 2, … up to a stop point.
    assert_eq!(app.checks(), 1, "one start-up check");
    let users = app.by_user();
    assert_eq!(users.len(), 3, "{:?}", users.keys());
    let mut stop_points = BTreeSet::new();
    for (user, requests) in &users {
        let runs = go_runs(user, requests);
        assert!(
            runs.len() >= 3,
            "{user} pressed Go {} times in 2 s",
            runs.len()
        );
        // Every run the deadline did not cut short ends at a stop point from 1 to 6.
        for run in &runs[..runs.len() - 1] {
            let stop_point = *run.last().unwrap();
            assert!((1..=6).contains(&stop_point), "{user}: {run:?}");
            stop_points.insert(stop_point);
        }
        assert!(
            requests.iter().all(|index| index.unwrap() <= 6),
            "{requests:?}"
        );
    }
    assert!(
        stop_points.len() >= 3,
        "stop points are random: {stop_points:?}"
    );

    // The summary counts what the server served, all of it right answers.
    let served: u64 = app.per_index().values().sum();
    assert_eq!(summary.total(), served);
    assert_eq!(summary_per_index(&summary), app.per_index());
    assert_eq!(
        summary.counts,
        Counts {
            status_2xx: served,
            ..Counts::default()
        }
    );
    assert_eq!(summary.abandoned, 0);
    for stats in summary.by_index.values() {
        assert_eq!(stats.latencies.len() as u64, stats.requests);
    }
    let text = summary.to_string();
    assert!(text.contains(&format!("{served} requests in 2.")), "{text}");
    assert!(text.contains("index  requests"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_budget_of_20_requests_makes_exactly_20_however_many_users_race_for_them() {
    for users in [1, 7, 50] {
        let app = start_app(Behaviour::default()).await;
        let options = Options {
            users,
            duration: Duration::from_secs(60),
            max_requests: Some(20),
            ..options(&app)
        };
        let started = Instant::now();
        let summary = loadgen::run(options).await.unwrap();

        assert_eq!(summary.stopped, StopReason::Requests, "{users} users");
        assert!(started.elapsed() < Duration::from_secs(15), "{users} users");
        assert_eq!(summary.total(), 20, "{users} users");
        assert_eq!(summary.counts.status_2xx, 20, "{users} users");
        let served: u64 = app.per_index().values().sum();
        assert_eq!(served, 20, "{users} users");
        assert_eq!(summary_per_index(&summary), app.per_index());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_gives_each_user_the_same_stop_points() {
    // Which runs fit in the time varies; the stop points of those that finished do not.
    let stop_points = |app: &TestApp| -> Vec<Vec<u32>> {
        app.by_user()
            .iter()
            .map(|(user, requests)| {
                let runs = go_runs(user, requests);
                let finished = &runs[..runs.len() - 1];
                finished.iter().map(|run| *run.last().unwrap()).collect()
            })
            .collect()
    };
    let mut seen = Vec::new();
    for seed in [7, 7, 8] {
        let app = start_app(Behaviour::default()).await;
        let options = Options {
            seed,
            duration: Duration::from_secs(1),
            ..options(&app)
        };
        loadgen::run(options).await.unwrap();
        seen.push(stop_points(&app));
    }
    let (first, again, other) = (&seen[0], &seen[1], &seen[2]);
    for user in 0..3 {
        let n = first[user].len().min(again[user].len());
        assert!(n >= 2, "too few Go-runs to compare: {seen:?}");
        assert_eq!(first[user][..n], again[user][..n], "user {user}: {seen:?}");
    }
    let n = first.iter().chain(other).map(Vec::len).min().unwrap();
    assert_ne!(
        first.iter().map(|p| &p[..n]).collect::<Vec<_>>(),
        other.iter().map(|p| &p[..n]).collect::<Vec<_>>(),
        "another seed, other stop points"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_index_stops_the_go_run_as_on_the_page_and_counts_as_4xx() {
    // The app's cap is 3, the learners go up to 6: index 4 gets 400, and the run stops there.
    let app = start_app(Behaviour {
        cap: 3,
        ..Behaviour::default()
    })
    .await;
    let summary = loadgen::run(options(&app)).await.unwrap();

    let mut refused = 0;
    for (user, requests) in app.by_user() {
        for window in requests.windows(2) {
            match window {
                // After a 400 the user presses Go again: index 0.
                [None, next] => assert_eq!(*next, Some(0), "{user}: {requests:?}"),
                // Index 4 is the only one above the cap a user ever asks for.
                [Some(3), next] => assert!(matches!(next, None | Some(0)), "{user}: {requests:?}"),
                _ => {}
            }
        }
        refused += requests.iter().filter(|index| index.is_none()).count() as u64;
    }
    assert!(refused > 0, "some stop point above 3 was drawn in 2 s");
    assert_eq!(summary.counts.status_4xx, refused);
    assert_eq!(summary.by_index[&4].requests, refused);
    assert!(!summary.by_index.contains_key(&5));
    let served: u64 = app.per_index().values().sum();
    assert_eq!(summary.counts.status_2xx, served);
    assert_eq!(summary.total(), served + refused);
    let text = summary.to_string();
    assert!(has_row(&text, &format!("4xx {refused}")), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_number_is_counted_and_stops_the_go_run() {
    let app = start_app(Behaviour {
        wrong: Some(2),
        ..Behaviour::default()
    })
    .await;
    let summary = loadgen::run(options(&app)).await.unwrap();

    let wrong = app.per_index()[&2];
    assert!(wrong > 0);
    assert_eq!(summary.counts.wrong_answers, wrong);
    assert_eq!(summary.counts.status_2xx, summary.total());
    // Nobody went past index 2.
    assert_eq!(app.per_index().keys().max(), Some(&2));
    assert!(summary.to_string().contains("with a wrong number"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_early_lets_the_requests_in_flight_finish_and_counts_them() {
    // Index 1 and above take 1.5 s. Each user thinks for at most 1 s, gets index 0 at once and
    // asks for index 1: when the stop comes at 1.2 s, every user is waiting for that answer.
    let app = start_app(Behaviour {
        slow: Some((1, Duration::from_millis(1500))),
        ..Behaviour::default()
    })
    .await;
    let options = Options {
        duration: Duration::from_secs(60),
        ..options(&app)
    };
    let started = Instant::now();
    let stop = tokio::time::sleep(Duration::from_millis(1200));
    let summary = loadgen::run_until(options, stop).await.unwrap();
    let took = started.elapsed();

    assert_eq!(summary.stopped, StopReason::Interrupted);
    assert!(
        took >= Duration::from_millis(1500),
        "waited for the answers: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
    // Each user asked for 0, then 1, and started nothing after the stop.
    for (user, requests) in app.by_user() {
        assert_eq!(requests, [Some(0), Some(1)], "{user}");
    }
    assert_eq!(summary.total(), 6);
    assert_eq!(summary.counts.status_2xx, 6);
    assert!(summary.by_index[&1].latencies[0] >= Duration::from_millis(1500));
}

#[tokio::test]
async fn no_app_at_the_url_is_an_error_that_says_how_to_start_it() {
    let url = closed_url();
    let options = Options {
        url: url.clone(),
        users: 1,
        duration: Duration::from_secs(1),
        max_index: 1,
        max_requests: None,
        seed: 0,
    };
    let err = loadgen::run(options).await.unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "no app answers at {url}: start it with ./run.sh (or ./run.sh NN) in another terminal"
        )
    );
}

#[tokio::test]
async fn options_out_of_range_are_refused_before_any_request() {
    let app = start_app(Behaviour::default()).await;
    let err = loadgen::run(Options {
        users: 0,
        ..options(&app)
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(err.contains("users: 0 is not in 1..=100"), "{err}");
    assert!(app.seen().is_empty());
}
