//! What can go wrong in `/fib`, and the response each failure becomes.
//!
//! - a bad index is the client's fault: `400 Bad Request`;
//! - a sub-request that fails (nothing listening, a timeout, an error answer) is the fault of a
//!   server further down: `502 Bad Gateway`.
//!
//! Either way the body is one line of plain text that says what happened.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::index::BadIndex;

/// How much of a failed sub-request's answer a `502` repeats. Messages nest as a failure travels up
/// the recursion; keeping only the end keeps the deepest part, which says what went wrong.
const MAX_NESTED: usize = 300;

#[derive(Debug, thiserror::Error)]
pub enum FibError {
    #[error(transparent)]
    BadIndex(#[from] BadIndex),

    /// A sub-request failed; the message names the URL and the reason.
    #[error("{0}")]
    Downstream(String),
}

impl FibError {
    /// The sub-request to `url` got no answer: nothing listening, a timeout, a broken connection.
    pub fn unreachable(url: &str, err: &reqwest::Error) -> FibError {
        let what = if err.is_timeout() {
            "timed out"
        } else if err.is_connect() {
            "could not connect"
        } else {
            "failed"
        };
        // reqwest's own message is generic ("error sending request"); the cause at the bottom of
        // the chain is the useful part ("Connection refused (os error 111)").
        let mut cause: &dyn std::error::Error = err;
        while let Some(source) = cause.source() {
            cause = source;
        }
        FibError::Downstream(format!("GET {url} {what}: {cause}"))
    }

    /// The sub-request to `url` was answered, but not with a number.
    pub fn bad_answer(url: &str, status: StatusCode, body: &str) -> FibError {
        let first_line = body.lines().next().unwrap_or_default();
        FibError::Downstream(format!("GET {url} answered {status}: {}", tail(first_line)))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            FibError::BadIndex(_) => StatusCode::BAD_REQUEST,
            FibError::Downstream(_) => StatusCode::BAD_GATEWAY,
        }
    }
}

impl IntoResponse for FibError {
    fn into_response(self) -> Response {
        (self.status(), format!("{self}\n")).into_response()
    }
}

/// Reads the answer of a sub-request: a `200` whose body is a number.
pub async fn read_number(url: &str, response: reqwest::Response) -> Result<u64, FibError> {
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|err| FibError::unreachable(url, &err))?;
    match body.trim().parse() {
        Ok(number) if status.is_success() => Ok(number),
        _ => Err(FibError::bad_answer(url, status, &body)),
    }
}

/// The last `MAX_NESTED` characters of `text`, marked with `…` when cut.
fn tail(text: &str) -> String {
    match text.char_indices().rev().nth(MAX_NESTED - 1) {
        Some((cut, _)) if cut > 0 => format!("…{}", &text[cut..]),
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nested_failure_keeps_its_deepest_cause() {
        let deep = format!(
            "{}could not connect: Connection refused",
            "GET x answered 502: ".repeat(50)
        );
        let err = FibError::bad_answer("http://h/fib?index=9", StatusCode::BAD_GATEWAY, &deep);
        let message = err.to_string();
        assert!(
            message.starts_with("GET http://h/fib?index=9 answered 502 Bad Gateway: …"),
            "{message}"
        );
        assert!(
            message.ends_with("could not connect: Connection refused"),
            "{message}"
        );
        assert!(message.chars().count() < 400, "{message}");
        assert_eq!(err.status(), StatusCode::BAD_GATEWAY);
    }
}
