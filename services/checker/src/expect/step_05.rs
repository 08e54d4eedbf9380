//! Step 05's expectations: a hosted backend's key, by the environment alone. Every export
//! carries `x-honeycomb-team` with `HONEYCOMB_API_KEY`'s value, beside the headers of
//! `OTEL_EXPORTER_OTLP_HEADERS`; the key is never printed. Over gRPC, as metadata: a bonus.

use super::{Evidence, Judge, fail};
use crate::run::Run;

/// A hosted backend's key, as the checker sets it: it must arrive, and never be printed.
pub const TEST_API_KEY: &str = "checker-key-5f3c9a";

/// The settings of step 05: a key for the hosted backend, and a header of the learner's own.
pub const HOSTED_ENV: [(&str, &str); 2] = [
    ("HONEYCOMB_API_KEY", TEST_API_KEY),
    ("OTEL_EXPORTER_OTLP_HEADERS", "x-workshop=fib-kit"),
];

/// How to earn the bonus: the key on gRPC exports too.
pub const GRPC_HOW: &str = "with `.with_tonic()` for grpc (step 02's bonus), give the key as gRPC \
    metadata too: `.with_metadata(…)`, beside `.with_headers(…)` for HTTP";

/// What goes wrong in step 05.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mistake {
    /// The hosted backend's header is missing from HTTP exports.
    MissingHostedHeader,
    /// `OTEL_EXPORTER_OTLP_HEADERS` no longer arrive.
    EnvHeadersLost,
    /// The API key was printed.
    SecretPrinted,
}

impl Mistake {
    pub fn hint(&self) -> String {
        match self {
            Mistake::MissingHostedHeader => "Exports lack the header `x-honeycomb-team` with HONEYCOMB_API_KEY's \
                value. When the key is set, the exporter must send it with every export (`with_headers`)."
                .into(),
            Mistake::EnvHeadersLost => "The headers of OTEL_EXPORTER_OTLP_HEADERS no longer arrive: your own headers \
                replaced them. Add the key's header to those of the variable instead of replacing them."
                .into(),
            Mistake::SecretPrinted => "The API key was printed. A secret never goes to the terminal or a log: print \
                that a key is set, not its value."
                .into(),
        }
    }
}

/// How many of `run`'s trace exports carry the key, of how many.
fn carrying_key(run: &Run) -> (usize, usize) {
    let carrying = run
        .requests
        .iter()
        .filter(|r| r.header("x-honeycomb-team") == Some(TEST_API_KEY))
        .count();
    (carrying, run.requests.len())
}

pub(super) fn expect(judge: &mut Judge, evidence: &Evidence) {
    let run = &evidence.main;
    let (carrying, of) = carrying_key(run);
    judge.expect(
        5,
        "with HONEYCOMB_API_KEY set, every HTTP export carries x-honeycomb-team",
        if carrying == of && carrying > 0 {
            Ok(())
        } else {
            fail(
                format!("{carrying} of {of} exports"),
                Mistake::MissingHostedHeader,
            )
        },
    );
    let env_headers = !run.requests.is_empty()
        && run
            .requests
            .iter()
            .all(|r| r.header("x-workshop") == Some("fib-kit"));
    judge.expect(
        5,
        "…and still the headers of OTEL_EXPORTER_OTLP_HEADERS",
        if env_headers {
            Ok(())
        } else {
            fail("x-workshop: fib-kit missing", Mistake::EnvHeadersLost)
        },
    );
    // What the gRPC run printed, or said when it did not start.
    let grpc_output = evidence.grpc.as_ref().map(|grpc| match grpc {
        Ok(run) => run.output.as_str(),
        Err(err) => err.as_str(),
    });
    let printed = [Some(run.output.as_str()), grpc_output]
        .into_iter()
        .flatten()
        .any(|output| output.contains(TEST_API_KEY));
    judge.expect(
        5,
        "the API key is never printed",
        if printed {
            fail("the key is in the app's output", Mistake::SecretPrinted)
        } else {
            Ok(())
        },
    );
    if let Some(grpc) = &evidence.grpc {
        let earned = grpc.as_ref().is_ok_and(|grpc| {
            let (carrying, of) = carrying_key(grpc);
            carrying == of && carrying > 0
        });
        judge.bonus(
            5,
            "over OTLP/gRPC too, every export carries x-honeycomb-team",
            earned,
            GRPC_HOW,
        );
    }
}
