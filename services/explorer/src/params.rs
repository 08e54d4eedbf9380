//! The URL parameters that queries and log filters read alike: `limit=`, for now.
//!
//! A module of its own, and not part of the query language, so that the logs (which the window
//! keeps) need not depend on the queries (which run over the window): the modules' dependencies
//! go one way.

/// `limit=`: how many rows a page or the API shows, 1 to 1000 (the queries' and the logs').
pub fn parse_limit(value: &str) -> Result<usize, String> {
    value
        .trim()
        .parse()
        .ok()
        .filter(|limit| (1..=1000).contains(limit))
        .ok_or_else(|| format!("limit {value:?}: a number from 1 to 1000"))
}
