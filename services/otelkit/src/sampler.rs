//! The share of traces to keep, as `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` say, with
//! errors that say what to type. Step 08 builds its sampler from it; the kit builds none.
//!
//! The SDK reads both variables by itself, but a value it cannot use (`0,25`, `25%`, a typo in
//! the sampler's name) makes it fall back to keeping every trace, with a warning only its internal
//! logs show: the learner sees all their traces and concludes that sampling does not work.
//! [`sampler_ratio`] reads the same variables, the same way, and refuses such a value with a
//! sentence that names the fix. It gives the share of new traces to keep, which the learner's
//! sampler uses, and which the SDK's `Sampler` does not tell: what a backend needs to weight the
//! kept traces (step 08's `SampleRate`).
//!
//! The values, as the specification defines them (names are case-insensitive; surrounding
//! spaces are ignored; an empty variable counts as unset):
//!
//! | `OTEL_TRACES_SAMPLER` | new traces kept | a span whose parent is known |
//! |---|---|---|
//! | `always_on` | all | kept |
//! | `always_off` | none | dropped |
//! | `traceidratio` | the share `OTEL_TRACES_SAMPLER_ARG` gives | decided by its trace id, as a new one |
//! | `parentbased_always_on` (the default) | all | does as its parent did |
//! | `parentbased_always_off` | none | does as its parent did |
//! | `parentbased_traceidratio` | the share `OTEL_TRACES_SAMPLER_ARG` gives | does as its parent did |
//!
//! `OTEL_TRACES_SAMPLER_ARG` is a number from 0 to 1, `1.0` when unset, read by the two ratio
//! samplers only, as the specification says (the others ignore it).

use anyhow::bail;

/// The samplers the specification names and this SDK implements, in the specification's order.
pub const SAMPLER_NAMES: [&str; 6] = [
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
];

/// The default when `OTEL_TRACES_SAMPLER` is unset.
pub const DEFAULT_SAMPLER: &str = "parentbased_always_on";

/// Names the specification knows but the Rust SDK does not implement.
const NOT_IMPLEMENTED: [&str; 3] = ["jaeger_remote", "parentbased_jaeger_remote", "xray"];

/// The share of new traces, from 0 to 1, that `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`
/// ask to keep: the argument for the ratio samplers, 1 for `always_on` and the default, 0 for
/// `always_off`. Or an error that says what is wrong with them and what to write instead.
///
/// Step 08 builds its own sampler from it,
/// `Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(ratio)))`, which keeps that share
/// of the traces that start in the app, and follows the caller's decision in the others.
pub fn sampler_ratio() -> anyhow::Result<f64> {
    let sampler = std::env::var("OTEL_TRACES_SAMPLER").ok();
    let argument = std::env::var("OTEL_TRACES_SAMPLER_ARG").ok();
    let (_name, ratio) = parse_head_sampler(sampler.as_deref(), argument.as_deref())?;
    Ok(ratio)
}

/// The sampler the variables' values name (`None` when unset), as the specification spells it,
/// and the share of new traces it keeps: 1 for `always_on`, 0 for `always_off`, the argument for
/// the ratio samplers. Or why they are not a sampler.
fn parse_head_sampler(
    sampler: Option<&str>,
    argument: Option<&str>,
) -> anyhow::Result<(&'static str, f64)> {
    let given = sampler.map(str::trim).filter(|value| !value.is_empty());
    let name = match given {
        None => DEFAULT_SAMPLER,
        Some(value) => known_name(value)?,
    };
    let ratio = match name {
        "always_on" | "parentbased_always_on" => 1.0,
        "always_off" | "parentbased_always_off" => 0.0,
        _ => ratio(argument)?,
    };
    Ok((name, ratio))
}

/// The specification's spelling of `value`, or why it is not a sampler.
fn known_name(value: &str) -> anyhow::Result<&'static str> {
    let lower = value.to_ascii_lowercase();
    if let Some(name) = SAMPLER_NAMES.iter().find(|name| **name == lower) {
        return Ok(name);
    }
    let valid = format!(
        "one of {} (the default: {DEFAULT_SAMPLER})",
        SAMPLER_NAMES.join(", ")
    );
    if NOT_IMPLEMENTED.contains(&lower.as_str()) {
        bail!(
            "OTEL_TRACES_SAMPLER={value:?} is in the specification but not in the Rust SDK: use {valid}"
        );
    }
    if lower.parse::<f64>().is_ok() || lower.ends_with('%') {
        bail!(
            "OTEL_TRACES_SAMPLER={value:?} looks like a ratio: OTEL_TRACES_SAMPLER names the sampler \
             and OTEL_TRACES_SAMPLER_ARG holds the ratio, e.g. OTEL_TRACES_SAMPLER=parentbased_traceidratio \
             and OTEL_TRACES_SAMPLER_ARG=0.25"
        );
    }
    match nearest(&lower) {
        Some(name) => bail!(
            "OTEL_TRACES_SAMPLER={value:?} is not a sampler: did you mean {name}? It must be {valid}"
        ),
        None => bail!("OTEL_TRACES_SAMPLER={value:?} is not a sampler: it must be {valid}"),
    }
}

/// The known name closest to `value`: the same letters with other separators
/// (`parent-based-traceidratio`), or a few typos away.
fn nearest(value: &str) -> Option<&'static str> {
    let letters =
        |text: &str| -> String { text.chars().filter(|c| c.is_ascii_alphanumeric()).collect() };
    if let Some(name) = SAMPLER_NAMES
        .iter()
        .find(|name| letters(name) == letters(value))
    {
        return Some(name);
    }
    // A name with something added (`traceidratiobased`): the longest name it contains.
    if let Some(name) = SAMPLER_NAMES
        .iter()
        .filter(|name| letters(value).contains(&letters(name)))
        .max_by_key(|name| name.len())
    {
        return Some(name);
    }
    let (distance, name) = SAMPLER_NAMES
        .iter()
        .map(|name| (strsim::levenshtein(&letters(value), &letters(name)), *name))
        .min()?;
    // A third of the name may be wrong, and still it is recognisably that name.
    (distance <= (name.len() / 3).max(2)).then_some(name)
}

/// `OTEL_TRACES_SAMPLER_ARG`: a number from 0 to 1, 1 when unset.
fn ratio(argument: Option<&str>) -> anyhow::Result<f64> {
    let Some(text) = argument.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(1.0);
    };
    let name = "OTEL_TRACES_SAMPLER_ARG";
    let range = "the share of new traces to keep, from 0 (none) to 1 (all)";
    if let Some(percent) = text.strip_suffix('%') {
        let example = percent
            .trim()
            .replace(',', ".")
            .parse::<f64>()
            .ok()
            .filter(|percent| (0.0..=100.0).contains(percent))
            .map(|percent| format!(": {percent}% is {}", percent / 100.0))
            .unwrap_or_default();
        bail!("{name}={text:?} is a percentage; write {range}{example}");
    }
    if let Some((whole, fraction)) = text.split_once(',')
        && let Ok(number) = format!("{whole}.{fraction}").parse::<f64>()
    {
        bail!("{name}={text:?}: write the number with a decimal point, {number}");
    }
    if let Some((top, bottom)) = text.split_once('/')
        && let (Ok(top), Ok(bottom)) = (top.trim().parse::<f64>(), bottom.trim().parse::<f64>())
        && bottom != 0.0
    {
        bail!(
            "{name}={text:?}: write the ratio as a decimal number, {}",
            top / bottom
        );
    }
    let number = match text.parse::<f64>() {
        Ok(number) if number.is_finite() => number,
        _ => bail!("{name}={text:?} is not a number: write {range}, e.g. 0.25"),
    };
    if number < 0.0 {
        bail!("{name}={text} is below 0: write {range}");
    }
    if number > 1.0 {
        // 25 is likely 25 %; 1.5 is more likely a slip than 1.5 %.
        let guess = if number <= 100.0 && (number.fract() == 0.0 || number >= 5.0) {
            format!("; for {number}% write {}", number / 100.0)
        } else {
            String::new()
        };
        bail!("{name}={text} is above 1: write {range}{guess}");
    }
    Ok(number)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error's text, for a sampler and argument that must be refused.
    fn error(sampler: Option<&str>, argument: Option<&str>) -> String {
        match parse_head_sampler(sampler, argument) {
            Ok(head) => panic!("{sampler:?} {argument:?} was accepted: {head:?}"),
            Err(err) => err.to_string(),
        }
    }

    fn ratio_of(sampler: &str, argument: Option<&str>) -> f64 {
        parse_head_sampler(Some(sampler), argument).unwrap().1
    }

    #[test]
    fn unset_is_parentbased_always_on_keeping_everything() {
        for (sampler, argument) in [(None, None), (Some(""), Some("")), (Some("  "), None)] {
            let head = parse_head_sampler(sampler, argument).unwrap();
            assert_eq!(head.0, "parentbased_always_on");
            assert_eq!(head.1, 1.0);
        }
    }

    #[test]
    fn every_sampler_of_the_specification_with_its_ratio() {
        let expected = [
            ("always_on", 1.0),
            ("always_off", 0.0),
            ("traceidratio", 0.25),
            ("parentbased_always_on", 1.0),
            ("parentbased_always_off", 0.0),
            ("parentbased_traceidratio", 0.25),
        ];
        for (name, ratio) in expected {
            let head = parse_head_sampler(Some(name), Some("0.25")).unwrap();
            assert_eq!(head.0, name);
            assert_eq!(head.1, ratio, "{name}");
        }
    }

    #[test]
    fn spaces_and_capitals_are_tolerated() {
        let head =
            parse_head_sampler(Some("  ParentBased_TraceIdRatio \n"), Some(" 0.25 ")).unwrap();
        assert_eq!(head.0, "parentbased_traceidratio");
        assert_eq!(head.1, 0.25);
    }

    #[test]
    fn the_argument_defaults_to_one_and_accepts_every_ratio_from_0_to_1() {
        assert_eq!(ratio_of("traceidratio", None), 1.0);
        assert_eq!(ratio_of("parentbased_traceidratio", Some("")), 1.0);
        for (text, value) in [
            ("0", 0.0),
            ("1", 1.0),
            ("0.5", 0.5),
            (".1", 0.1),
            ("1e-2", 0.01),
            ("1.0", 1.0),
        ] {
            assert_eq!(ratio_of("parentbased_traceidratio", Some(text)), value);
        }
        // The samplers without a ratio ignore it, as the specification says.
        assert_eq!(ratio_of("always_on", Some("0,25")), 1.0);
        assert_eq!(ratio_of("parentbased_always_off", Some("abc")), 0.0);
    }

    #[test]
    fn a_decimal_comma_is_refused_with_the_decimal_point() {
        let message = error(Some("parentbased_traceidratio"), Some("0,25"));
        assert!(
            message.contains("OTEL_TRACES_SAMPLER_ARG=\"0,25\""),
            "{message}"
        );
        assert!(message.contains("decimal point, 0.25"), "{message}");
    }

    #[test]
    fn a_percentage_is_refused_with_the_ratio() {
        let message = error(Some("parentbased_traceidratio"), Some("25%"));
        assert!(message.contains("is a percentage"), "{message}");
        assert!(message.contains("25% is 0.25"), "{message}");
        let message = error(Some("traceidratio"), Some("25 %"));
        assert!(message.contains("25% is 0.25"), "{message}");
    }

    #[test]
    fn a_ratio_above_1_is_refused_and_a_whole_percentage_recognised() {
        let message = error(Some("parentbased_traceidratio"), Some("1.5"));
        assert!(message.contains("=1.5 is above 1"), "{message}");
        assert!(message.contains("from 0 (none) to 1 (all)"), "{message}");
        let message = error(Some("parentbased_traceidratio"), Some("25"));
        assert!(message.contains("for 25% write 0.25"), "{message}");
        let message = error(Some("parentbased_traceidratio"), Some("400"));
        assert!(!message.contains("write 4"), "{message}");
        let message = error(Some("parentbased_traceidratio"), Some("1.5"));
        assert!(!message.contains("1.5%"), "{message}");
    }

    #[test]
    fn a_negative_ratio_is_refused() {
        let message = error(Some("parentbased_traceidratio"), Some("-0.1"));
        assert!(message.contains("=-0.1 is below 0"), "{message}");
    }

    #[test]
    fn what_is_not_a_number_is_refused() {
        for text in ["abc", "NaN", "inf", "0.25.1", "quarter"] {
            let message = error(Some("traceidratio"), Some(text));
            assert!(message.contains("is not a number"), "{text}: {message}");
        }
        let message = error(Some("traceidratio"), Some("1/4"));
        assert!(message.contains("as a decimal number, 0.25"), "{message}");
    }

    #[test]
    fn an_unknown_sampler_lists_the_valid_ones_and_suggests_the_nearest() {
        for (typed, meant) in [
            ("parentbased_traceidration", "parentbased_traceidratio"),
            ("parent_based_traceidratio", "parentbased_traceidratio"),
            ("parentbased-traceidratio", "parentbased_traceidratio"),
            ("traceidratiobased", "traceidratio"),
            ("alwayson", "always_on"),
            ("always-off", "always_off"),
            ("parentbased_alwayson", "parentbased_always_on"),
        ] {
            let message = error(Some(typed), Some("0.25"));
            assert!(
                message.contains(&format!("did you mean {meant}?")),
                "{typed}: {message}"
            );
            for name in SAMPLER_NAMES {
                assert!(message.contains(name), "{typed}: {message}");
            }
        }
        let message = error(Some("zipkin"), None);
        assert!(!message.contains("did you mean"), "{message}");
        assert!(
            message.contains("the default: parentbased_always_on"),
            "{message}"
        );
    }

    #[test]
    fn a_ratio_in_place_of_the_sampler_says_where_it_goes() {
        for typed in ["0.25", "25%"] {
            let message = error(Some(typed), None);
            assert!(message.contains("looks like a ratio"), "{message}");
            assert!(
                message.contains("OTEL_TRACES_SAMPLER_ARG=0.25"),
                "{message}"
            );
        }
    }

    #[test]
    fn samplers_the_rust_sdk_lacks_are_named_as_such() {
        let message = error(Some("jaeger_remote"), None);
        assert!(message.contains("not in the Rust SDK"), "{message}");
        assert!(message.contains("parentbased_traceidratio"), "{message}");
    }
}
