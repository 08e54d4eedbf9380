//! Prints what a step's app sends for one request, as a tree of spans: the sample output in the
//! steps' READMEs comes from here.
//!
//! Run with: `cargo build -p solution-04-attributes && cargo run -p testkit --example sample --
//! target/debug/solution-04-attributes 3` (the binary, then the index; `abc` for a bad one).

use std::collections::BTreeMap;

use receiver::{ReceivedSpan, Receiver};
use testkit::App;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let binary = args.next().expect("usage: sample <step binary> [index]");
    let index = args.next().unwrap_or_else(|| "3".into());

    let receiver = Receiver::start()
        .await
        .expect("an OTLP receiver on loopback");
    let endpoint = receiver.http_endpoint();
    let mut app = App::start(&binary, &[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint)]).await;
    let (status, body) = app.get(&format!("/fib?index={index}")).await;
    println!(
        "$ curl 'http://127.0.0.1:8090/fib?index={index}'\n{}   (HTTP {status})\n",
        body.trim()
    );
    app.terminate();
    app.exit_status(std::time::Duration::from_secs(20)).await;

    for (trace_id, spans) in receiver.traces() {
        println!(
            "trace {trace_id}: {} span(s), service.name = {:?}",
            spans.len(),
            spans[0].service_name()
        );
        let mut children: BTreeMap<Option<&str>, Vec<&ReceivedSpan>> = BTreeMap::new();
        for span in &spans {
            children
                .entry(span.parent_span_id.as_deref())
                .or_default()
                .push(span);
        }
        for root in children.get(&None).cloned().unwrap_or_default() {
            print_tree(root, &children, "", true);
        }
        println!();
    }
}

fn print_tree(
    span: &ReceivedSpan,
    children: &BTreeMap<Option<&str>, Vec<&ReceivedSpan>>,
    prefix: &str,
    last: bool,
) {
    let branch = if prefix.is_empty() {
        ""
    } else if last {
        "└─ "
    } else {
        "├─ "
    };
    let attributes: Vec<String> = span
        .attributes
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    let status = match span.status.code {
        receiver::StatusCode::Error => format!("  ERROR {:?}", span.status.message),
        _ => String::new(),
    };
    println!(
        "{prefix}{branch}{} [{:?}]{status}  {}",
        span.name,
        span.kind,
        attributes.join(" ")
    );
    for event in &span.events {
        let attributes: Vec<String> = event
            .attributes
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        println!(
            "{prefix}{}   event {:?} {}",
            if last { "  " } else { "│ " },
            event.name,
            attributes.join(" ")
        );
    }
    let kids = children
        .get(&Some(span.span_id.as_str()))
        .cloned()
        .unwrap_or_default();
    let next_prefix = if prefix.is_empty() {
        "  ".to_string()
    } else {
        format!("{prefix}{}", if last { "   " } else { "│  " })
    };
    for (n, child) in kids.iter().enumerate() {
        print_tree(child, children, &next_prefix, n + 1 == kids.len());
    }
}
