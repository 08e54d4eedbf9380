//! How a check reads in the terminal: each expectation passed (✓), failed (✗) with what was found,
//! a hint, and the `./run.sh hint NN` that says more, or not checked (–, and why); each bonus
//! earned (bonus ✓) or not (bonus –, and how); then what to do next.

use std::fmt::Write;

use crate::check::Report;
use crate::expect::{self, Mistake, Need, Outcome, Verdict};

/// Colours when printing to a terminal; none in a pipe, a file or with `NO_COLOR`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Color,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        match self {
            Style::Plain => text.to_string(),
            Style::Color => format!("\x1b[{code}m{text}\x1b[0m"),
        }
    }
}

const WIDTH: usize = 96;

/// The whole report of one check.
pub fn render(report: &Report, style: Style) -> String {
    let subject = &report.subject;
    let step = format!("{:02}", subject.step);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        style.paint(
            "1",
            &format!(
                "Step {step}: checking {} ({})",
                subject.crate_dir.display(),
                subject.package
            )
        )
    );
    let readme = subject.crate_dir.join("README.md");
    let outcomes = match &report.outcome {
        Err(failure) => {
            let _ = writeln!(out, "{} it does not build:\n", style.paint("31", "✗"));
            for error in &failure.errors {
                out.push_str(error);
            }
            if failure.errors.is_empty() {
                out.push_str(&failure.cargo_output);
            }
            let _ = writeln!(out, "\n{}", wrap("hint: ", &failure.hint));
            let _ = writeln!(out, "\nRead: {}", readme.display());
            let _ = writeln!(out, "{}", stuck(&step));
            return out;
        }
        Ok(outcomes) => outcomes,
    };
    let _ = writeln!(
        out,
        "  built in {:.1} s, ran in {:.1} s: /fib?index=5 and /fib?index=abc{}",
        report.build_took.as_secs_f64(),
        report.run_took.as_secs_f64(),
        if expect::needs(subject.step, Need::Stdout) {
            ", spans read from what it printed"
        } else {
            ", over OTLP/HTTP (and OTLP/gRPC, for a bonus), to the checker's receiver"
        }
    );
    out.push_str(&render_outcomes(outcomes, style));
    let (passed, total) = report.score();
    let bonuses = match report.bonuses() {
        (_, 0) => String::new(),
        (earned, of) => format!(" Bonus: {earned} of {of}."),
    };
    out.push('\n');
    if report.passed() {
        let _ = writeln!(
            out,
            "{} all {total} expectations met.{bonuses}",
            style.paint("32", &format!("Step {step} done:"))
        );
        return out;
    }
    if let Some(first) = report.markers.first() {
        let _ = writeln!(
            out,
            "{} {} TODO({step}) place{} left in {}, the first at {}:{}:\n    {}",
            style.paint("33", "Not done yet:"),
            report.markers.len(),
            if report.markers.len() == 1 { "" } else { "s" },
            subject.crate_dir.display(),
            first.file.display(),
            first.line,
            first.text
        );
    }
    let _ = writeln!(
        out,
        "{passed} of {total} expectations met. Read {}.\n{}",
        readme.display(),
        stuck(&step)
    );
    out
}

/// Where to go from a check that fails, for step `step` (`02`).
fn stuck(step: &str) -> String {
    format!(
        "Stuck? ./run.sh hint {step} gives a hint, one level more each time; ./run.sh diff {step} \
         compares with the solution."
    )
}

/// The line under a failed expectation's hint: the `./run.sh hint NN` of the step it belongs to.
fn more(mistake: &Mistake) -> Option<String> {
    let step = mistake.step()?;
    Some(format!(
        "./run.sh hint {step:02}, one level more each time: the idea, the API, the code"
    ))
}

/// One line per expectation: ✓, ✗ with what was found and the hint, or – when not checked; a
/// bonus earned, or not with how to earn it.
pub fn render_outcomes(outcomes: &[Outcome], style: Style) -> String {
    let mut out = String::new();
    for outcome in outcomes {
        let tag = match outcome.step {
            0 => "app".to_string(),
            n => format!("{n:02}"),
        };
        match &outcome.verdict {
            Verdict::Passed => {
                let _ = writeln!(
                    out,
                    "  {tag:>3} {} {}",
                    style.paint("32", "✓"),
                    outcome.what
                );
            }
            Verdict::NotChecked { because } => {
                let _ = writeln!(
                    out,
                    "  {tag:>3} {} {}",
                    style.paint("2", "–"),
                    style.paint("2", &format!("{} (not checked: {because})", outcome.what))
                );
            }
            Verdict::Bonus { earned: true, .. } => {
                let _ = writeln!(
                    out,
                    "  {tag:>3} {} {}",
                    style.paint("32", "bonus ✓"),
                    outcome.what
                );
            }
            Verdict::Bonus { earned: false, how } => {
                let _ = writeln!(
                    out,
                    "  {tag:>3} {} {}",
                    style.paint("2", "bonus –"),
                    outcome.what
                );
                let _ = writeln!(out, "{}", style.paint("2", &wrap("        how:   ", how)));
            }
            Verdict::Failed { found, mistake } => {
                let _ = writeln!(
                    out,
                    "  {tag:>3} {} {}",
                    style.paint("31", "✗"),
                    outcome.what
                );
                let _ = writeln!(out, "{}", wrap("        found: ", found));
                let _ = writeln!(
                    out,
                    "{}",
                    style.paint("33", &wrap("        hint:  ", &mistake.hint()))
                );
                if let Some(more) = more(mistake) {
                    let _ = writeln!(
                        out,
                        "{}",
                        style.paint("33", &wrap("        more:  ", &more))
                    );
                }
            }
        }
    }
    out
}

/// `label` then `text`, wrapped to `WIDTH` columns, continuation lines indented under the text.
pub fn wrap(label: &str, text: &str) -> String {
    let indent = " ".repeat(label.chars().count());
    let mut out = label.to_string();
    let mut column = label.chars().count();
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if column > indent.len() && column + 1 + len > WIDTH {
            out.push('\n');
            out.push_str(&indent);
            column = indent.len();
        } else if column > indent.len() {
            out.push(' ');
            column += 1;
        }
        out.push_str(word);
        column += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expect::{AppMistake, step_03};

    #[test]
    fn a_failed_expectation_points_to_the_hints_of_the_step_it_belongs_to() {
        let failed = |step, mistake: Mistake| Outcome {
            step,
            what: "each sub-request carries a W3C traceparent header".into(),
            verdict: Verdict::Failed {
                found: "0 of 14 sub-requests had one".into(),
                mistake,
            },
        };
        let out = render_outcomes(
            &[failed(3, step_03::Mistake::NoInjection.into())],
            Style::Plain,
        );
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[2].starts_with("        hint:  The app's sub-requests"),
            "{out}"
        );
        assert_eq!(
            lines.last().unwrap(),
            &"        more:  ./run.sh hint 03, one level more each time: the idea, the API, the code"
        );
        // The app's own mistakes belong to no step: the footer says where to go.
        let out = render_outcomes(&[failed(0, AppMistake::Broken.into())], Style::Plain);
        assert!(!out.contains("more:"), "{out}");
        assert_eq!(
            stuck("04"),
            "Stuck? ./run.sh hint 04 gives a hint, one level more each time; ./run.sh diff 04 \
             compares with the solution."
        );
    }

    #[test]
    fn long_hints_wrap_under_their_label() {
        let text = "word ".repeat(40);
        let wrapped = wrap("  hint: ", &text);
        assert!(wrapped.lines().count() > 1);
        for line in wrapped.lines() {
            assert!(line.chars().count() <= WIDTH, "{line}");
        }
        assert!(wrapped.lines().nth(1).unwrap().starts_with("        word"));
    }
}
