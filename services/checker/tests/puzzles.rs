//! The puzzles judged on what a real explorer shows: an explorer on loopback (ports 0), fed calls
//! of `/fib` over real OTLP/HTTP with the durations each test plants, so that the P99s are
//! known; then the checker's judge, as a library and as `./run.sh puzzle` runs it, accepts the
//! answer that data gives and refuses others. And what the learner is told when the explorer is
//! not running or holds nothing to judge on; and `--record` with solution 04.
//! Run with: `cargo test -p checker --test puzzles`.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime};

use checker::compile::{self, Build};
use checker::puzzle::explorer::Explorer as Client;
use checker::puzzle::{self, Judgement, record};
use explorer::{Explorer, Settings};
use opentelemetry::trace::{SpanKind, TraceContextExt as _, Tracer as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::{SpanExporter, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use testkit::kit_root;

/// One call of `/fib?index=N` to plant: when it started and how long its root span lasted.
#[derive(Clone, Copy)]
struct Call {
    index: u32,
    start: SystemTime,
    duration: Duration,
}

/// `count` calls of `index`, the k-th (from 1) lasting `k × step`, started from `first` on, one
/// millisecond apart.
fn calls(index: u32, count: u32, step: Duration, first: SystemTime) -> Vec<Call> {
    (1..=count)
        .map(|k| Call {
            index,
            start: first + Duration::from_millis(u64::from(k)),
            duration: step * k,
        })
        .collect()
}

fn ago(secs: u64) -> SystemTime {
    SystemTime::now() - Duration::from_secs(secs)
}

/// Sends `calls` to the explorer, each as step 04's app serves it: a server span `GET /fib` with
/// `url.query = index=N` (none when `with_query` is false, as before step 04), and under it the
/// calls of N-1 and N-2, down to 1 and 0. Waits until the explorer has them all.
async fn plant(explorer: &Explorer, calls: Vec<Call>, with_query: bool) {
    let before = explorer.shared.stats().spans;
    let spans: usize = calls
        .iter()
        .map(|call| sequence::requests_for(call.index) as usize)
        .sum();
    let endpoint = format!("{}/v1/traces", explorer.http_endpoint());
    // The blocking HTTP client must not run on the runtime's threads.
    tokio::task::spawn_blocking(move || {
        let exporter = SpanExporter::builder()
            .with_http()
            .with_endpoint(endpoint)
            .build()
            .expect("an OTLP/HTTP exporter");
        let provider = SdkTracerProvider::builder()
            .with_resource(Resource::builder().with_service_name("fib").build())
            .with_batch_exporter(exporter)
            .build();
        let tracer = provider.tracer("puzzle-tests");
        for (i, call) in calls.iter().enumerate() {
            serve(&tracer, &Context::new(), *call, with_query);
            // The batch processor's queue holds 2048 spans: let it drain now and then.
            if i % 50 == 49 {
                provider.force_flush().expect("a flush");
            }
        }
        provider.shutdown().expect("every span sent");
    })
    .await
    .expect("the sender thread");
    let deadline = Instant::now() + Duration::from_secs(20);
    while explorer.shared.stats().spans < before + spans {
        assert!(
            Instant::now() < deadline,
            "the planted spans did not arrive"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn serve(tracer: &SdkTracer, parent: &Context, call: Call, with_query: bool) {
    let mut attributes = vec![KeyValue::new("http.route", "/fib")];
    if with_query {
        attributes.push(KeyValue::new("url.query", format!("index={}", call.index)));
    }
    let span = tracer
        .span_builder("GET /fib")
        .with_kind(SpanKind::Server)
        .with_start_time(call.start)
        .with_attributes(attributes)
        .start_with_context(tracer, parent);
    let cx = parent.with_span(span);
    if call.index >= 2 {
        for index in [call.index - 1, call.index - 2] {
            let sub = Call {
                index,
                start: call.start + call.duration / 10,
                duration: call.duration / 3,
            };
            serve(tracer, &cx, sub, with_query);
        }
    }
    cx.span().end_with_timestamp(call.start + call.duration);
}

fn client(explorer: &Explorer) -> Client {
    Client::at(&explorer.url(), &explorer.http_endpoint())
}

/// `./run.sh puzzle ARGS`, off the runtime's threads (the explorer answers on them): its exit
/// code, and what it printed.
async fn run_puzzle(args: &[&str]) -> (Option<i32>, String) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let output: Output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_checker"))
            .current_dir(kit_root())
            .env("NO_COLOR", "1")
            .arg("puzzle")
            .args(&args)
            .output()
            .expect("the checker runs")
    })
    .await
    .unwrap();
    // One line: the messages are wrapped to the terminal's width.
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    (output.status.code(), text)
}

fn right(judgement: &Judgement) -> bool {
    matches!(judgement, Judgement::Right(_))
}

fn nudge(judgement: Judgement) -> String {
    match judgement {
        Judgement::Wrong(nudge) => nudge,
        Judgement::Right(why) => panic!("judged right: {why}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn puzzles_1_and_3_are_judged_on_the_traces_whose_root_is_a_call_of_index_5() {
    let explorer = Explorer::start(&Settings::loopback()).await.unwrap();
    let step = Duration::from_micros(100);
    plant(&explorer, calls(4, 20, step, ago(30)), true).await;
    plant(&explorer, calls(5, 20, step, ago(20)), true).await;
    // Newer calls of index 6 ask for index 5 on their way, and hold 8 spans of index 1.
    plant(&explorer, calls(6, 20, step, ago(10)), true).await;

    // Without is_root, the list shows those first: the filter the README suggested before.
    let response = reqwest::get(format!(
        "{}/api/traces?where=url.query%20%3D%20index%3D5&limit=1",
        explorer.url()
    ))
    .await
    .unwrap();
    let listed: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(listed[0]["span_count"], 25, "{listed}");

    let client = client(&explorer);
    let traces = client.index5_traces().await.unwrap();
    assert_eq!(traces.len(), 10);
    for trace in &traces {
        assert_eq!((trace.spans, trace.index1_servers), (15, 5), "{trace:?}");
    }
    assert!(right(&puzzle::judge_count("5", &traces).unwrap()));
    assert!(nudge(puzzle::judge_count("8", &traces).unwrap()).starts_with("Fewer"));
    assert!(nudge(puzzle::judge_count("15", &traces).unwrap()).contains("every request"));

    let counts = client.spans_per_trace().await;
    assert_eq!(counts, std::collections::BTreeMap::from([(4, 9), (5, 15)]));
    let why = nudge(puzzle::judge_why("the network", &counts));
    assert!(
        why.contains("9 spans for index 4, 15 spans for index 5"),
        "{why}"
    );

    // As the learner answers.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("puzzles.json");
    let data = data.to_str().unwrap();
    let url = explorer.url();
    let (code, text) = run_puzzle(&["1", "8", "--explorer", &url, "--data", data]).await;
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("✗ Not quite. Fewer"), "{text}");
    let (code, text) = run_puzzle(&["1", "5", "--explorer", &url, "--data", data]).await;
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("✓ Right."), "{text}");
    assert_eq!(puzzle::load(Path::new(data)).unwrap().solved, [1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn puzzle_2_is_judged_on_the_p99s_the_query_page_shows() {
    let explorer = Explorer::start(&Settings::loopback()).await.unwrap();
    // P99 by the nearest rank of 100 calls: the 99th. 9.9 ms for index 4, 19.8 ms for index 5:
    // 2x, 9.9 ms more (the README's example answer, 1.6x, is not that).
    plant(
        &explorer,
        calls(4, 100, Duration::from_micros(100), ago(20)),
        true,
    )
    .await;
    plant(
        &explorer,
        calls(5, 100, Duration::from_micros(200), ago(10)),
        true,
    )
    .await;

    let readings = client(&explorer).p99_readings(None).await.unwrap();
    let now = &readings[0];
    assert_eq!(
        (now.ago_secs, now.range.as_str()),
        (0, "everything in the window")
    );
    assert_eq!(
        (now.p99_4, now.p99_5, now.count_4, now.count_5),
        (9.9, 19.8, 100, 100)
    );
    for reading in &readings {
        assert_eq!(reading.ratio(), 2.0, "{reading:?}");
    }
    for answer in [
        "2x",
        "1.85x",
        "2.15 times",
        "100%",
        "9.9ms",
        "10 ms",
        "0.0095s",
    ] {
        let judgement = puzzle::judge_p99(answer, &readings).unwrap();
        assert!(right(&judgement), "{answer}: {judgement:?}");
    }
    for (answer, nudged) in [
        ("1.6x", "more than that"),
        ("2.5x", "less than that"),
        ("0.9x", "not less"),
        ("8ms", "more than that"),
        ("20ms", "less than that"),
    ] {
        let text = nudge(puzzle::judge_p99(answer, &readings).unwrap());
        assert!(text.contains(nudged), "{answer}: {text}");
    }

    // As the learner answers: judged, and the solved puzzles kept.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("puzzles.json");
    let data = data.to_str().unwrap();
    let url = explorer.url();
    let (code, text) = run_puzzle(&["2", "1.6x", "--explorer", &url, "--data", data]).await;
    assert_eq!(code, Some(1), "{text}");
    let (code, text) = run_puzzle(&["2", "2x", "--explorer", &url, "--data", data]).await;
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("2.00x (9.9 ms more) now"), "{text}");
    let (code, text) = run_puzzle(&["3", "no cache", "--explorer", &url, "--data", data]).await;
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(puzzle::load(Path::new(data)).unwrap().solved, [2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn puzzle_2_takes_what_the_page_showed_before_the_newest_calls_arrived() {
    let explorer = Explorer::start(&Settings::loopback()).await.unwrap();
    // Four minutes ago: 2x. In the last seconds, slower calls of index 5: 6x over everything.
    plant(
        &explorer,
        calls(4, 100, Duration::from_micros(100), ago(250)),
        true,
    )
    .await;
    plant(
        &explorer,
        calls(5, 100, Duration::from_micros(200), ago(245)),
        true,
    )
    .await;
    let slow = |index, ms| {
        (0..50).map(move |i| Call {
            index,
            start: ago(10) + Duration::from_millis(i),
            duration: Duration::from_millis(ms),
        })
    };
    plant(&explorer, slow(4, 10).chain(slow(5, 60)).collect(), true).await;

    let readings = client(&explorer).p99_readings(None).await.unwrap();
    assert_eq!(readings[0].ratio(), 6.0, "{readings:?}");
    assert!(
        readings
            .iter()
            .any(|r| r.ago_secs >= 30 && r.ratio() == 2.0),
        "{readings:?}"
    );
    match puzzle::judge_p99("2x", &readings).unwrap() {
        Judgement::Right(why) => assert!(why.contains("That is what it showed"), "{why}"),
        wrong => panic!("{wrong:?}"),
    }
    assert!(right(&puzzle::judge_p99("6x", &readings).unwrap()));
    assert!(nudge(puzzle::judge_p99("1.2x", &readings).unwrap()).contains("more than that"));
    assert!(nudge(puzzle::judge_p99("9x", &readings).unwrap()).contains("less than that"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn with_nothing_to_judge_on_the_learner_is_told_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("puzzles.json");
    let data = data.to_str().unwrap();

    // No explorer.
    let closed = checker::app::closed_url();
    let (code, text) = run_puzzle(&["1", "5", "--explorer", &closed, "--data", data]).await;
    assert_eq!(code, Some(2), "{text}");
    for said in [
        "does not answer",
        "./run.sh 04",
        "./run.sh load",
        "./run.sh explorer",
    ] {
        assert!(text.contains(said), "{said}: {text}");
    }
    let (code, text) = run_puzzle(&["2", "2x", "--explorer", &closed, "--data", data]).await;
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("does not answer"), "{text}");
    let (code, text) = run_puzzle(&["--record", "--explorer", &closed, "--data", data]).await;
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("does not answer"), "{text}");
    // Puzzle 3 is judged on its words: the explorer is not needed.
    let (code, text) =
        run_puzzle(&["3", "exponential", "--explorer", &closed, "--data", data]).await;
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(puzzle::load(Path::new(data)).unwrap().solved, [3]);

    // An explorer with nothing yet.
    let explorer = Explorer::start(&Settings::loopback()).await.unwrap();
    let url = explorer.url();
    let (code, text) = run_puzzle(&["2", "2x", "--explorer", &url, "--data", data]).await;
    assert_eq!(code, Some(2), "{text}");
    for said in [
        "holds no spans yet",
        "./run.sh load",
        "./run.sh puzzle --record",
    ] {
        assert!(text.contains(said), "{said}: {text}");
    }

    // Spans of a step before 04: no url.query.
    plant(
        &explorer,
        calls(5, 3, Duration::from_millis(1), ago(5)),
        false,
    )
    .await;
    let (code, text) = run_puzzle(&["1", "5", "--explorer", &url, "--data", data]).await;
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("no call of /fib with url.query on its root span")
            && text.contains("./run.sh check 04"),
        "{text}"
    );

    // Calls of index 4 only.
    plant(
        &explorer,
        calls(4, 3, Duration::from_millis(1), ago(5)),
        true,
    )
    .await;
    let (code, text) = run_puzzle(&["2", "2x", "--explorer", &url, "--data", data]).await;
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("no call of /fib?index=5 yet"), "{text}");
    let (code, text) = run_puzzle(&["1", "5", "--explorer", &url, "--data", data]).await;
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("no call of /fib?index=5 yet"), "{text}");
    // What was solved is still there.
    assert_eq!(puzzle::load(Path::new(data)).unwrap().solved, [3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_recording_of_solution_04_goes_to_the_explorer_and_is_judged_there() {
    let explorer = Explorer::start(&Settings::loopback()).await.unwrap();
    let Build::Built { binary } =
        compile::build(&kit_root(), "solution-04-attributes", true).unwrap()
    else {
        panic!("solution 04 builds");
    };
    let client = client(&explorer);
    let recorded = record::record(&binary, "solution-04-attributes", &client)
        .await
        .unwrap();
    let reading = &recorded.reading;
    assert_eq!((reading.count_4, reading.count_5), (100, 101));
    assert_eq!(recorded.recording.explorer, explorer.url());

    // Puzzle 1: a server span, a `fib` span and a client span per sub-request.
    let traces = client.index5_traces().await.unwrap();
    for trace in &traces {
        assert_eq!((trace.spans, trace.index1_servers), (15 + 15 + 14, 5));
    }
    assert!(right(&puzzle::judge_count("5", &traces).unwrap()));

    // Puzzle 2: the recording's own P99s are among what the learner may have read.
    let readings = client
        .p99_readings(Some(&recorded.recording))
        .await
        .unwrap();
    let own = readings
        .iter()
        .find(|r| r.range == "your recording")
        .expect("a reading over the recording");
    assert_eq!(own.p99_4, reading.p99_4);
    let ratio = own.ratio();
    assert!(right(
        &puzzle::judge_p99(&format!("{ratio:.2}x"), &readings).unwrap()
    ));
    assert!(!right(
        &puzzle::judge_p99(&format!("{:.2}x", 3.0 * ratio), &readings).unwrap()
    ));

    let [traces_link, query_link] = record::links(&client, &recorded.recording);
    let from = format!("from={}", recorded.recording.from_unix_ms);
    assert!(traces_link.contains("where=is_root") && traces_link.contains(&from));
    assert!(query_link.contains("P99") && query_link.contains(&from));
    let page = reqwest::get(&query_link)
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("index=5"), "{page}");
}

/// A room's explorer holds everyone's spans: a joined learner's puzzles keep to theirs
/// (`learner.name`), and the room's query page groups by learner.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_a_room_the_puzzles_keep_to_the_learners_own_spans() {
    let room = Explorer::start(&Settings {
        require_code: Some("KQFZRM".into()),
        ..Settings::loopback()
    })
    .await
    .unwrap();
    let step = Duration::from_micros(100);
    for (name, count) in [("ada", 3), ("bob", 4)] {
        // Each learner's own explorer, forwarding to the room.
        let own = Explorer::start(&Settings {
            room_url: Some(room.http_endpoint()),
            room_code: Some("KQFZRM".into()),
            learner_name: Some(name.into()),
            ..Settings::loopback()
        })
        .await
        .unwrap();
        let before = room.shared.stats().spans;
        plant(&own, calls(5, count, step, ago(20)), true).await;
        let deadline = Instant::now() + Duration::from_secs(20);
        while room.shared.stats().spans < before + 15 * count as usize {
            assert!(Instant::now() < deadline, "{:?}", room.shared.stats());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let mut client = client(&room);
    assert_eq!(
        client.index5_traces().await.unwrap().len(),
        7,
        "the whole room"
    );
    client.learner = Some("ada".into());
    assert_eq!(client.index5_traces().await.unwrap().len(), 3, "ada's own");
    assert!(
        client
            .link("/query", &[("where", "is_root")])
            .ends_with("where=is_root&where=learner.name+%3D+ada"),
        "{}",
        client.link("/query", &[])
    );

    let response = reqwest::get(format!(
        "{}/api/query?visualize=COUNT&where=is_root&group_by=learner.name",
        room.url()
    ))
    .await
    .unwrap();
    let result: serde_json::Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    let rows: Vec<(String, u64)> = result["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["group"][0].as_str().unwrap_or_default().to_string(),
                row["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [("ada".to_string(), 3), ("bob".to_string(), 4)],
        "{result}"
    );
}
