//! # `deck`: the workshop's slides, whose code is the tested code
//!
//! Run with: `./run.sh slides`. It writes, into `slides/dist/`:
//! - `deck.html`: the presenter's deck, with the speaker notes (press **P** for the presenter view);
//! - `deck-learners.html`: the same slides without the notes, to share with the room;
//! - `deck.md` and `deck-learners.md`: the Markdown they were rendered from.
//!
//! Each HTML file is the whole deck: the theme, the images and the presenter view's script are
//! inline, so it presents offline, from a laptop or a USB stick.
//!
//! Slides rot when their code is pasted in. Here it is not: a slide names a region of a solution,
//! `{{#include ../solutions/01-stdout/src/telemetry.rs:provider}}`, and the solution marks it with
//! `// ANCHOR: provider` … `// ANCHOR_END: provider`. CI builds and tests every solution, so every
//! Rust snippet on a slide compiles; a slide naming a region that is gone fails the build.
//!
//! The order of things in [`build`]:
//! 1. [`expand`](expand::expand) the sources (`slides/deck.md` and the sections it includes) for
//!    each edition: code regions, images, links, notes. Nothing is written if anything is wrong;
//! 2. write the expanded Markdown into the output folder;
//! 3. render each with Marp CLI ([`marp`]), installed into `slides/node_modules` on first use.
//!
//! # Layout
//! - [`anchors`]: regions between `ANCHOR:` and `ANCHOR_END:` markers;
//! - [`expand`]: the Markdown preprocessor;
//! - [`marp`]: installing and running Marp CLI.

pub mod anchors;
pub mod expand;
pub mod marp;

use std::path::{Path, PathBuf};

use anyhow::Context;

pub use expand::Edition;

/// The deck's first source, relative to the kit's root: it includes the sections.
pub const ENTRY: &str = "slides/deck.md";
/// Where `./run.sh slides` writes the built deck, relative to the kit's root.
pub const OUT_DIR: &str = "slides/dist";

/// The files one edition of the deck is written to.
#[derive(Debug, Clone)]
pub struct Output {
    pub edition: Edition,
    pub markdown: PathBuf,
    pub html: PathBuf,
}

impl Output {
    fn new(out_dir: &Path, edition: Edition) -> Output {
        let name = match edition {
            Edition::Presenter => "deck",
            Edition::Learners => "deck-learners",
        };
        Output {
            edition,
            markdown: out_dir.join(format!("{name}.md")),
            html: out_dir.join(format!("{name}.html")),
        }
    }
}

/// Expands both editions of the deck (their Markdown) for `out_dir`, without writing anything.
pub fn expand_all(root: &Path, out_dir: &Path) -> anyhow::Result<Vec<(Output, String)>> {
    [Edition::Presenter, Edition::Learners]
        .into_iter()
        .map(|edition| {
            let expanded = expand::expand(root, &root.join(ENTRY), out_dir, edition)?;
            Ok((Output::new(out_dir, edition), expanded))
        })
        .collect()
}

/// Builds the deck of the kit at `root` into `out_dir`: both editions, Markdown and HTML.
pub fn build(root: &Path, out_dir: &Path) -> anyhow::Result<Vec<Output>> {
    std::fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let root = root.canonicalize()?;
    let out_dir = out_dir.canonicalize()?;

    // 1. Both editions expanded first: a missing region stops the build before anything changes.
    let editions = expand_all(&root, &out_dir)?;

    // 2. The Markdown, kept beside the HTML: what Marp was given, and readable without it.
    for (output, markdown) in &editions {
        std::fs::write(&output.markdown, markdown)
            .with_context(|| format!("writing {}", output.markdown.display()))?;
    }

    // 3. The HTML.
    let slides = root.join("slides");
    let marp = marp::install(&slides)?;
    for (output, _) in &editions {
        marp::render(&marp, &slides, &output.markdown, &output.html)?;
    }
    Ok(editions.into_iter().map(|(output, _)| output).collect())
}
