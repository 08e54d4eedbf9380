//! The deck's sources, expanded without Marp: `cargo test -p deck --test deck`.
//!
//! - the real deck expands: every region it names exists, every image and link is there;
//! - every Rust snippet on a slide comes from a solution by a region, never pasted;
//! - the sections carry the steps' numbers, and every region marked in the code is on a slide;
//! - on a small kit made here: a region that does not exist fails the build, with its place, and
//!   changing a marked region changes the built slide.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use deck::{Edition, expand};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// The deck's Markdown sources: `slides/*.md` but the README.
fn sources(root: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(root.join("slides"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension().is_some_and(|ext| ext == "md")
                && path.file_name().is_some_and(|name| name != "README.md")
        })
        .collect();
    found.sort();
    found
}

/// The lines of a Markdown text that are not fence lines, numbered from 1, each with whether it
/// stands inside a ```` ```rust ```` fence: read with the deck's own fence parser.
fn lines_and_rust_fences(text: &str) -> Vec<(usize, &str, bool)> {
    let mut lines = Vec::new();
    // The open fence: its mark, its length, and whether it is Rust.
    let mut fence: Option<(char, usize, bool)> = None;
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match fence {
            Some((mark, len, _)) if expand::closes_fence(trimmed, mark, len) => fence = None,
            Some((_, _, rust)) => lines.push((n + 1, line, rust)),
            None => match expand::opens_fence(trimmed) {
                Some((mark, len)) => {
                    let rust = trimmed.trim_start_matches(mark).trim() == "rust";
                    fence = Some((mark, len, rust));
                }
                None => lines.push((n + 1, line, false)),
            },
        }
    }
    lines
}

/// Every `{{#include path:region}}` of the sources, as (source, the path from the root, region),
/// with whether it stands inside a ```` ```rust ```` fence.
fn includes(root: &Path) -> Vec<(String, PathBuf, Option<String>, bool)> {
    let mut found = Vec::new();
    for source in sources(root) {
        let text = std::fs::read_to_string(&source).unwrap();
        let name = source.file_name().unwrap().to_string_lossy().into_owned();
        for (_, line, in_rust) in lines_and_rust_fences(&text) {
            if let Some((path, region)) = expand::include_directive(line) {
                let path = source.parent().unwrap().join(path).canonicalize().unwrap();
                let path = path.strip_prefix(root).unwrap().to_path_buf();
                found.push((name.clone(), path, region.map(str::to_owned), in_rust));
            }
        }
    }
    found
}

#[test]
fn the_real_deck_expands_with_every_region_image_and_link_in_place() {
    let root = repo_root();
    let out = root.join(deck::OUT_DIR);
    let editions = deck::expand_all(&root, &out).unwrap_or_else(|err| panic!("{err:#}"));
    for (output, md) in &editions {
        assert!(
            !md.contains("{{#include"),
            "{:?}: an include left",
            output.edition
        );
        assert!(
            md.contains("](data:image/svg+xml;base64,"),
            "images are embedded"
        );
        assert!(
            md.contains("](../../exercises/01-stdout/README.md)"),
            "links are relative to slides/dist"
        );
        // Code from a solution, as it is there (without the marker lines).
        assert!(md.contains("global::set_text_map_propagator(TraceContextPropagator::new());"));
        assert!(!md.contains("ANCHOR"), "a marker line reached a slide");
    }
    let presenter = &editions[0].1;
    let learners = &editions[1].1;
    assert_eq!(editions[0].0.edition, Edition::Presenter);
    // The puzzles' answers are in the presenter's notes, and nowhere in the learners' deck.
    assert_eq!(
        presenter.matches("Answer:").count(),
        3,
        "one answer per puzzle"
    );
    assert!(!learners.contains("Answer:"));
    assert!(
        !learners.contains("<!--\n"),
        "a note left in the learners' deck"
    );
    // Directives stay in both: they shape the slides.
    assert!(learners.contains("<!-- _class: step -->"));
}

#[test]
fn every_rust_snippet_on_a_slide_is_a_region_of_a_solution() {
    let root = repo_root();
    for source in sources(&root) {
        let text = std::fs::read_to_string(&source).unwrap();
        for (n, line, in_rust) in lines_and_rust_fences(&text) {
            let trimmed = line.trim();
            assert!(
                !in_rust || trimmed.starts_with("{{#include ") && trimmed.contains(':'),
                "{}:{}: Rust on a slide is taken from a solution by a region \
                 ({{{{#include ../solutions/…/file.rs:region}}}}), not written there: {line}",
                source.display(),
                n
            );
        }
    }
    let rust: Vec<_> = includes(&root)
        .into_iter()
        .filter(|(.., in_rust)| *in_rust)
        .collect();
    assert!(rust.len() >= 15, "the deck shows code: {rust:#?}");
    for (source, path, _, _) in rust {
        // Step 00's app is its own solution.
        assert!(
            path.starts_with("solutions") || path.starts_with("exercises/00-app"),
            "{source}: Rust from {}, which CI does not run as a solution",
            path.display()
        );
    }
}

#[test]
fn each_step_has_its_section_with_its_number_in_the_deck() {
    let root = repo_root();
    let steps: Vec<String> = kit_steps(&root);
    let sections: Vec<String> = sources(&root)
        .iter()
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|name| name.as_bytes()[0].is_ascii_digit())
        .collect();
    assert_eq!(
        sections, steps,
        "slides/NN-topic.md for each exercises/NN-topic"
    );
    // deck.md includes them in that order.
    let deck = std::fs::read_to_string(root.join(deck::ENTRY)).unwrap();
    let order: Vec<usize> = steps
        .iter()
        .map(|step| {
            deck.find(&format!("{{{{#include {step}.md}}}}"))
                .unwrap_or_else(|| panic!("slides/deck.md does not include {step}.md"))
        })
        .collect();
    assert!(order.is_sorted(), "sections out of order: {steps:?}");
    // And each section's slides say which step they are.
    for step in &steps {
        let text = std::fs::read_to_string(root.join(format!("slides/{step}.md"))).unwrap();
        let (number, topic) = step.split_once('-').unwrap();
        assert!(
            text.contains(&format!("# **{number}** "))
                && text.contains(&format!("header: '{number} · ")),
            "slides/{step}.md: the title and header name step {number} ({topic})"
        );
    }
}

/// `NN-topic` of every step folder under `exercises/`.
fn kit_steps(root: &Path) -> Vec<String> {
    let mut steps: Vec<String> = std::fs::read_dir(root.join("exercises"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.as_bytes()[0].is_ascii_digit())
        .collect();
    steps.sort();
    steps
}

#[test]
fn every_region_marked_in_the_code_is_shown_on_a_slide() {
    let root = repo_root();
    let shown: BTreeSet<(PathBuf, String)> = includes(&root)
        .into_iter()
        .filter_map(|(_, path, region, _)| region.map(|region| (path, region)))
        .collect();
    let mut marked = BTreeSet::new();
    let mut files = Vec::new();
    for dir in ["solutions", "exercises/00-app/src", "collector"] {
        walk(&root.join(dir), &mut files);
    }
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let regions =
            deck::anchors::regions(&text).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
        let relative = file.strip_prefix(&root).unwrap().to_path_buf();
        marked.extend(regions.into_keys().map(|name| (relative.clone(), name)));
    }
    let unused: Vec<_> = marked.difference(&shown).collect();
    assert!(
        unused.is_empty(),
        "regions marked but on no slide (remove the markers, or show them): {unused:#?}"
    );
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, found);
        } else {
            found.push(path);
        }
    }
}

/// A kit of two files in a temporary folder: a solution with a region, and a deck showing it.
struct Fixture {
    dir: tempfile::TempDir,
}

const SOLUTION: &str = "\
fn main() {
    // ANCHOR: body
    let first_version = 1;
    println!(\"{first_version}\");
    // ANCHOR_END: body
}
";

impl Fixture {
    fn new(region: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("slides")).unwrap();
        std::fs::create_dir_all(root.join("solutions/01-x/src")).unwrap();
        std::fs::write(root.join("solutions/01-x/src/main.rs"), SOLUTION).unwrap();
        let deck = format!(
            "---\nmarp: true\n---\n\n## The code\n\n```rust\n\
             {{{{#include ../solutions/01-x/src/main.rs:{region}}}}}\n```\n\n<!-- a note -->\n"
        );
        std::fs::write(root.join(deck::ENTRY), deck).unwrap();
        Fixture { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn expand(&self) -> anyhow::Result<String> {
        let out = self.root().join("slides/dist");
        expand::expand(
            self.root(),
            &self.root().join(deck::ENTRY),
            &out,
            Edition::Presenter,
        )
    }

    fn edit_solution(&self, from: &str, to: &str) {
        let path = self.root().join("solutions/01-x/src/main.rs");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from));
        std::fs::write(&path, text.replace(from, to)).unwrap();
    }
}

#[test]
fn a_slide_naming_a_region_that_does_not_exist_fails_and_says_where() {
    let fixture = Fixture::new("bdy");
    let err = format!("{:#}", fixture.expand().unwrap_err());
    assert_eq!(
        err,
        "the deck has 1 problem:\nslides/deck.md:8: in solutions/01-x/src/main.rs: there is no \
         region \"bdy\"; the file has: body"
    );
    // The whole build stops before it writes anything (and before it needs Marp).
    let out = fixture.root().join("slides/dist");
    assert!(deck::build(fixture.root(), &out).is_err());
    assert_eq!(
        std::fs::read_dir(&out).unwrap().count(),
        0,
        "nothing written"
    );

    // A region whose end marker was deleted is named as such.
    let fixture = Fixture::new("body");
    fixture.edit_solution("    // ANCHOR_END: body\n", "");
    let err = format!("{:#}", fixture.expand().unwrap_err());
    assert!(
        err.contains("slides/deck.md:8: in solutions/01-x/src/main.rs: line 2: `ANCHOR: body` has no `ANCHOR_END: body`"),
        "{err}"
    );
}

#[test]
fn changing_a_marked_region_changes_the_built_slide() {
    let fixture = Fixture::new("body");
    let before = fixture.expand().unwrap();
    assert!(
        before.contains("```rust\nlet first_version = 1;\nprintln!(\"{first_version}\");\n```"),
        "{before}"
    );
    fixture.edit_solution("first_version", "second_version");
    let after = fixture.expand().unwrap();
    assert!(after.contains("let second_version = 1;"), "{after}");
    assert!(!after.contains("first_version"), "{after}");
}

#[test]
fn missing_images_and_dead_links_are_reported_with_their_place() {
    let fixture = Fixture::new("body");
    let deck = fixture.root().join(deck::ENTRY);
    let mut text = std::fs::read_to_string(&deck).unwrap();
    text.push_str(
        "\n---\n\n![a picture](images/none.svg)\n\nSee [the step](../exercises/01-x/README.md), \
         [the site](https://opentelemetry.io) and `[code](not/a/link)`.\n",
    );
    std::fs::write(&deck, text).unwrap();
    let err = format!("{:#}", fixture.expand().unwrap_err());
    assert!(err.starts_with("the deck has 2 problems:"), "{err}");
    assert!(
        err.contains("slides/deck.md:15: an image to images/none.svg, which does not exist"),
        "{err}"
    );
    assert!(
        err.contains(
            "slides/deck.md:17: a link to ../exercises/01-x/README.md, which does not exist"
        ),
        "{err}"
    );
}
