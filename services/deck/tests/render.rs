//! The built deck, in headless Chromium: `cargo test -p deck --test render`.
//!
//! Builds both editions with Marp CLI into `<target>/test-artifacts/slides/`, opens each from the
//! file system as a presenter would, steps through it with the arrow key and checks, slide by
//! slide, that the slide renders, that its content fits (nothing cut at an edge, no code block
//! that scrolls), and that every image loaded. Then, for the whole file: every link into the repo
//! leads to a file that exists, nothing was fetched from the network, and the speaker notes are
//! in the presenter's edition (its presenter view shows them) and not in the learners'.
//!
//! It needs Marp CLI (`npm ci` in `slides/`, which `./run.sh slides` does once) and Chromium with
//! ChromeDriver. Without them it skips with the reason; in CI (`CI=true`) it fails instead.
//! Every slide's screenshot is kept in `<target>/test-artifacts/slides/`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use deck::Edition;
use serde_json::Value;
use testkit::browser::{Browser, artifacts_folder};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The active slide, as the checks need it.
const ACTIVE_SLIDE: &str = r#"
const active = document.querySelector('svg.bespoke-marp-slide.bespoke-marp-active');
if (!active) return null;
const section = active.querySelector('section');
const box = section.getBoundingClientRect();
const outside = [];
for (const child of section.children) {
  const r = child.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1) {
    outside.push(child.tagName + ' "' + child.innerText.trim().slice(0, 50) + '"');
  }
}
const scrolling = [...section.querySelectorAll('pre, table')]
  .filter(el => el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)
  .map(el => el.tagName + ' "' + el.innerText.trim().split('\n')[0].slice(0, 50) + '"');
const images = [...section.querySelectorAll('img')]
  .map(img => ({ loaded: img.complete && img.naturalWidth > 0, src: img.src.slice(0, 40) }));
return {
  page: Number(section.id),
  width: box.width,
  height: box.height,
  text: section.innerText.trim(),
  outside,
  scrolling,
  images,
};
"#;

#[tokio::test]
async fn every_slide_renders_fits_and_links_only_to_what_exists() {
    let root = repo_root();
    let slides = root.join("slides");
    if !deck::marp::command(&slides).exists() {
        let reason = "Marp CLI is not installed in slides/node_modules: run `./run.sh slides` \
                      once (npm ci), or `npm ci` in slides/";
        assert!(!testkit::in_ci(), "{reason}");
        eprintln!("skipped: {reason}");
        return;
    }
    let Some(browser) = Browser::start().await else {
        return;
    };
    let out = artifacts_folder().join("slides");
    let outputs = deck::build(&root, &out).unwrap_or_else(|err| panic!("{err:#}"));
    for output in &outputs {
        let html = std::fs::read_to_string(&output.html).unwrap();
        for remote in [
            "src=\"http",
            "url(http",
            "@import url(\"http",
            "@import \"http",
        ] {
            assert!(
                !html.contains(remote),
                "{}: loads something from the network ({remote}…): it must present offline",
                output.html.display()
            );
        }
        check_edition(&browser, &root, &output.html, output.edition).await;
    }
    browser.close().await;
}

async fn check_edition(browser: &Browser, root: &Path, html: &Path, edition: Edition) {
    let url = format!("file://{}", html.display());
    browser.goto(&format!("{url}#1")).await;
    let total = browser
        .read("return document.querySelectorAll('svg.bespoke-marp-slide').length;")
        .await
        .as_u64()
        .unwrap();
    assert!(total >= 40, "{}: only {total} slides", html.display());

    // The on-screen controls would cover the screenshots.
    browser
        .read("document.querySelector('.bespoke-marp-osc')?.remove(); return true;")
        .await;

    // Slide by slide, as a presenter moves: the arrow key.
    let mut problems = Vec::new();
    let mut puzzle = None;
    for page in 1..=total {
        if page > 1 {
            browser
                .read(
                    "document.dispatchEvent(new KeyboardEvent('keydown', \
                     { key: 'ArrowRight', code: 'ArrowRight', bubbles: true })); return true;",
                )
                .await;
        }
        let slide = browser
            .wait_for(
                Duration::from_secs(10),
                &format!("slide {page} active"),
                ACTIVE_SLIDE,
                |slide| slide["page"].as_u64() == Some(page),
            )
            .await;
        problems.extend(slide_problems(page, &slide));
        let text = slide["text"].as_str().unwrap_or_default();
        if text.contains("Puzzle 1") {
            puzzle = Some(page);
        }
        if edition == Edition::Presenter {
            browser
                .save_screenshot(&format!("slides/{page:02}.png"))
                .await;
        }
    }
    assert!(
        problems.is_empty(),
        "{}:\n{}\n(screenshots in {})",
        html.display(),
        problems.join("\n"),
        artifacts_folder().join("slides").display()
    );

    // Links into the repo lead to files; nothing came from the network.
    let links = browser
        .read(
            "return [...document.querySelectorAll('a[href]')].map(a => \
             ({ href: a.getAttribute('href'), protocol: a.protocol, path: decodeURIComponent(a.pathname) }));",
        )
        .await;
    let mut local = 0;
    for link in links.as_array().unwrap() {
        match link["protocol"].as_str().unwrap() {
            "file:" => {
                local += 1;
                let path = Path::new(link["path"].as_str().unwrap());
                assert!(
                    path.exists() && path.starts_with(root),
                    "{}: a dead link, {} ({})",
                    html.display(),
                    link["href"],
                    path.display()
                );
            }
            "http:" | "https:" | "mailto:" => {}
            other => panic!(
                "{}: a link of an unexpected kind: {other} {}",
                html.display(),
                link["href"]
            ),
        }
    }
    assert!(
        local >= 10,
        "{}: only {local} links into the repo",
        html.display()
    );
    let fetched = browser
        .read("return performance.getEntriesByType('resource').map(e => e.name);")
        .await;
    for name in fetched.as_array().unwrap() {
        let name = name.as_str().unwrap();
        assert!(
            ["file:", "data:", "blob:"]
                .iter()
                .any(|scheme| name.starts_with(scheme)),
            "{}: fetched {name} while presenting",
            html.display()
        );
    }

    // The notes: the presenter's view shows them, with the puzzles' answers; the learners' deck
    // has none.
    let notes = browser
        .read(
            "return [...document.querySelectorAll('.bespoke-marp-note')]\
             .map(n => n.textContent.trim()).filter(t => t.length > 0);",
        )
        .await;
    let notes: Vec<&str> = notes
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let puzzle = puzzle.expect("a slide titled Puzzle 1");
    match edition {
        Edition::Presenter => {
            assert!(
                notes.len() * 2 >= total as usize,
                "notes on most slides: {}",
                notes.len()
            );
            assert_eq!(notes.iter().filter(|n| n.contains("Answer:")).count(), 3);
            browser
                .goto(&format!("{url}?view=presenter#{puzzle}"))
                .await;
            let shown = browser
                .wait_for(
                    Duration::from_secs(10),
                    "puzzle 1's note in the presenter view",
                    "const note = document.querySelector('.bespoke-marp-note.active'); \
                     return note ? note.innerText : '';",
                    |note| note.as_str().is_some_and(|n| n.contains("Answer:")),
                )
                .await;
            assert!(shown.as_str().unwrap().contains("Answer: 5."), "{shown}");
            browser.save_screenshot("slides/presenter-view.png").await;
        }
        Edition::Learners => {
            assert_eq!(notes, Vec::<&str>::new(), "the learners' deck has no notes");
        }
    }
}

/// What is wrong with one slide, as read by [`ACTIVE_SLIDE`].
fn slide_problems(page: u64, slide: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let text = slide["text"].as_str().unwrap_or_default();
    let title = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    if slide["width"].as_f64().unwrap_or(0.0) < 100.0
        || slide["height"].as_f64().unwrap_or(0.0) < 100.0
    {
        problems.push(format!("slide {page}: not rendered ({slide})"));
    }
    if text.is_empty() && slide["images"].as_array().is_none_or(|i| i.is_empty()) {
        problems.push(format!("slide {page}: empty"));
    }
    for what in slide["outside"].as_array().unwrap() {
        problems.push(format!(
            "slide {page} ({title}): cut at the slide's edge: {what}"
        ));
    }
    for what in slide["scrolling"].as_array().unwrap() {
        problems.push(format!(
            "slide {page} ({title}): too big for its box: {what}"
        ));
    }
    for image in slide["images"].as_array().unwrap() {
        if image["loaded"] != Value::Bool(true) {
            problems.push(format!(
                "slide {page} ({title}): a broken image, {}",
                image["src"]
            ));
        }
    }
    problems
}
