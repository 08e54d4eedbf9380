//! Which trace an answer is in: the `traceresponse` header, from which the page links each number
//! to its trace (in the trace explorer, and in Jaeger when `JAEGER_UI_URL` says where it is).
//!
//! The page learns the trace from the answer itself: the kit adds the W3C Trace Context Level 2
//! response header `traceresponse: 00-<trace id>-<span id>-<flags>`, and the page's script reads
//! it. Not a line of it is in the learner's code; it happens in three places every request
//! passes anyway:
//!
//! 1. [`layer`], which [`Drain::track`](crate::shutdown::Drain::track) applies (every step's
//!    `main` passes its router through it), runs each request that starts a trace with an empty
//!    slot of its own, a tokio task-local, outside the learner's middleware;
//! 2. the `/fib` handler reads its index with [`crate::index::parse`], inside the context the
//!    learner's middleware made current (`with_context`): its server span's, or from step 04 the
//!    `fib` span's just inside it. `parse` notes that span in the slot ([`note_current_span`]);
//!    an app whose spans are `tracing`'s works the same, since `tracing-opentelemetry` makes the
//!    entered span's context the current one;
//! 3. once the answer is ready, [`layer`] writes the header from what was noted.
//!
//! The header is written only when it leads to the whole trace of one click:
//! - the request starts its trace: it came without a `traceparent`, as the page's and `curl`'s
//!   requests do. The page never sends one of its own, so the learner's server span stays the
//!   root of its trace, which is what `is_root` means in the explorer's queries and the puzzles;
//! - the app propagates context: a propagator is installed (`global::set_text_map_propagator`,
//!   step 03). Before that, each sub-request of a click starts a trace of its own, and the page
//!   says why its numbers have no link yet.
//!
//! The trace id is the one the learner's spans carry. The span id is that of the span current
//! when the index was read: the server span, the trace's root (step 03), or the `fib` span just
//! inside it (step 04 on; the API gives no way from a span to its parent). The flags say
//! whether the trace is sampled (step 08): an unsampled trace is sent nowhere, and the page says
//! "not sampled" rather than link to a trace that will never arrive.

use std::cell::Cell;

use axum::Router;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use opentelemetry::trace::{SpanId, TraceContextExt, TraceFlags, TraceId};
use opentelemetry::{Context, global};

/// The response header that names the trace an answer is in (W3C Trace Context Level 2).
pub const TRACERESPONSE: &str = "traceresponse";

/// The request header that makes a request part of its caller's trace (W3C Trace Context).
const TRACEPARENT: &str = "traceparent";

/// The span a request was handled in, as `traceresponse` gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Noted {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub flags: TraceFlags,
}

impl Noted {
    /// The header's value: `00-<32 hex digits>-<16 hex digits>-<2 hex digits>`, as `traceparent`.
    pub fn header_value(&self) -> String {
        format!(
            "00-{}-{}-{:02x}",
            self.trace_id,
            self.span_id,
            self.flags.to_u8()
        )
    }

    /// Reads a header's value back (version `00`, lower-case hex, valid ids only), for tests
    /// and tools.
    pub fn parse(value: &str) -> Option<Noted> {
        fn hex(part: &str, len: usize) -> Option<&str> {
            (part.len() == len && part.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
                .then_some(part)
        }
        let mut parts = value.split('-');
        let (Some("00"), Some(trace), Some(span), Some(flags), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return None;
        };
        let noted = Noted {
            trace_id: TraceId::from_hex(hex(trace, 32)?).ok()?,
            span_id: SpanId::from_hex(hex(span, 16)?).ok()?,
            flags: TraceFlags::new(u8::from_str_radix(hex(flags, 2)?, 16).ok()?),
        };
        (noted.trace_id != TraceId::INVALID && noted.span_id != SpanId::INVALID).then_some(noted)
    }

    /// Whether the trace is kept and sent (the flags' last bit).
    pub fn is_sampled(&self) -> bool {
        self.flags.is_sampled()
    }
}

tokio::task_local! {
    /// The span the current request is handled in, once the handler has read its index.
    static NOTED: Cell<Option<Noted>>;
}

/// Wraps the app so that an answer to a request that starts a trace says which trace that is,
/// in `traceresponse`, once the app propagates context (see the module's documentation).
pub fn layer(app: Router) -> Router {
    app.layer(middleware::from_fn(answer_with_trace))
}

async fn answer_with_trace(request: Request, next: Next) -> Response {
    // A sub-request, or any request that continues a trace, gets nothing: the link would lead to
    // a trace that this request is not the root of. Nothing is noted for it either.
    if request.headers().contains_key(TRACEPARENT) {
        return next.run(request).await;
    }
    NOTED
        .scope(Cell::new(None), async move {
            let mut response = next.run(request).await;
            if let Some(value) = header(NOTED.with(Cell::get), propagates()) {
                response.headers_mut().insert(TRACERESPONSE, value);
            }
            response
        })
        .await
}

/// The header for what was noted, if the app propagates context; `None` otherwise.
fn header(noted: Option<Noted>, propagates: bool) -> Option<HeaderValue> {
    let noted = noted.filter(|_| propagates)?;
    Some(HeaderValue::try_from(noted.header_value()).expect("hex digits and dashes"))
}

/// Whether the app has installed a propagator: the default one reads and writes no header.
fn propagates() -> bool {
    global::get_text_map_propagator(|propagator| propagator.fields().next().is_some())
}

/// Notes the span current now as the one the request is handled in, unless one was noted
/// already. [`crate::index::parse`] calls it; outside a request that starts a trace, or when no
/// span is current (step 00), it does nothing.
pub fn note_current_span() {
    let _ = NOTED.try_with(|slot| {
        if slot.get().is_some() {
            return;
        }
        let cx = Context::current();
        let span = cx.span();
        let span_context = span.span_context();
        if span_context.is_valid() {
            slot.set(Some(Noted {
                trace_id: span_context.trace_id(),
                span_id: span_context.span_id(),
                flags: span_context.trace_flags(),
            }));
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanContext, TraceState};

    fn noted(flags: u8) -> Noted {
        Noted {
            trace_id: TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736").unwrap(),
            span_id: SpanId::from_hex("00f067aa0ba902b7").unwrap(),
            flags: TraceFlags::new(flags),
        }
    }

    #[test]
    fn the_header_is_a_traceparent_in_form_and_reads_back() {
        let kept = noted(1);
        assert_eq!(
            kept.header_value(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
        assert_eq!(Noted::parse(&kept.header_value()), Some(kept));
        assert!(kept.is_sampled());
        let dropped = noted(0);
        assert!(dropped.header_value().ends_with("-00"));
        assert!(!Noted::parse(&dropped.header_value()).unwrap().is_sampled());
    }

    #[test]
    fn malformed_headers_read_as_nothing() {
        for value in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-00",
            "00-+bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(Noted::parse(value), None, "{value:?}");
        }
    }

    #[test]
    fn no_header_until_the_app_propagates_context() {
        assert_eq!(header(Some(noted(1)), false), None);
        assert_eq!(header(None, true), None);
        assert_eq!(
            header(Some(noted(1)), true).unwrap(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        );
    }

    #[tokio::test]
    async fn the_first_span_current_in_the_request_is_noted_and_none_outside_one() {
        let span_context = |span: &str| {
            SpanContext::new(
                noted(1).trace_id,
                SpanId::from_hex(span).unwrap(),
                TraceFlags::SAMPLED,
                false,
                TraceState::default(),
            )
        };
        // Outside a request's scope: nothing to note in, and no panic.
        let _outside = Context::new()
            .with_remote_span_context(span_context("00000000000000aa"))
            .attach();
        note_current_span();

        let seen = NOTED
            .scope(Cell::new(None), async {
                // No span current (as in step 00): nothing noted.
                {
                    let _none = Context::new().attach();
                    note_current_span();
                    assert_eq!(NOTED.with(Cell::get), None);
                }
                {
                    let _server = Context::new()
                        .with_remote_span_context(span_context("00000000000000bb"))
                        .attach();
                    note_current_span();
                }
                let _later = Context::new()
                    .with_remote_span_context(span_context("00000000000000cc"))
                    .attach();
                note_current_span();
                NOTED.with(Cell::get)
            })
            .await;
        assert_eq!(
            seen.map(|noted| noted.span_id),
            Some(SpanId::from_hex("00000000000000bb").unwrap())
        );
    }
}
