//! What `main` returns when the app cannot start or run: one clear message, never a backtrace.
//!
//! `main` returning `anyhow::Result<()>` prints the error with `{:?}`, which adds the backtrace
//! `anyhow` captured when `RUST_BACKTRACE=1` is set (as many Rust developers have it): a port
//! already in use came with 32 frames under it. The errors a learner meets at start-up (a
//! taken port, a bad setting, an exporter that cannot be built) are theirs to fix, and the
//! message says how; the frames only bury it. [`Fatal`] prints the message and its causes on
//! one line, and `main` exits with status 1.

use std::fmt;

/// The error type of the app's `main`: `async fn main() -> Result<(), sequence::Fatal>`. Any
/// error converts into it with `?`, as into `anyhow::Error`.
pub struct Fatal(anyhow::Error);

impl<E: Into<anyhow::Error>> From<E> for Fatal {
    fn from(err: E) -> Fatal {
        Fatal(err.into())
    }
}

/// What the standard library prints after `Error: ` when `main` returns it: the message and its
/// causes (`{:#}`), without the backtrace.
impl fmt::Debug for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_and_its_causes_are_printed_without_a_backtrace() {
        let io = std::io::Error::new(std::io::ErrorKind::AddrInUse, "address in use");
        let err = anyhow::Error::new(io).context("port 8090 is already in use");
        let fatal = Fatal::from(err);
        assert_eq!(
            format!("{fatal:?}"),
            "port 8090 is already in use: address in use"
        );
        // Errors of any kind convert, as with `anyhow`.
        let parsed: Result<u16, Fatal> = "x".parse::<u16>().map_err(Fatal::from);
        assert!(format!("{:?}", parsed.unwrap_err()).contains("invalid digit"));
    }
}
