//! A recording proxy between the app and itself: the app's sub-requests go through it
//! (`FIB_UPSTREAM_URL`), so the checker sees the headers they carry. That is how it tells
//! "nothing is injected" from "injected, but the server does not extract it". The functional
//! tests count the requests with it too: proof that the recursion is HTTP.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;

/// One sub-request the app made, as it crossed the proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubRequest {
    /// Path and query, e.g. `/fib?index=4`.
    pub path: String,
    /// The W3C `traceparent` header, if the app sent one.
    pub traceparent: Option<String>,
}

impl SubRequest {
    /// The parent span id inside `traceparent` (`00-<trace id>-<span id>-<flags>`).
    pub fn parent_span_id(&self) -> Option<&str> {
        self.field(2)
    }

    /// The trace id inside `traceparent`.
    pub fn trace_id(&self) -> Option<&str> {
        self.field(1)
    }

    /// The sampled flag inside `traceparent` (`-01` kept, `-00` not); `None` without one.
    pub fn sampled(&self) -> Option<bool> {
        let flags = u8::from_str_radix(self.field(3)?, 16).ok()?;
        Some(flags & 1 == 1)
    }

    fn field(&self, n: usize) -> Option<&str> {
        self.traceparent.as_deref()?.trim().split('-').nth(n)
    }
}

/// The pauses before sending a failed sub-request again (see [`forward`]).
const RETRY_PAUSES: [Duration; 2] = [Duration::from_millis(50), Duration::from_millis(500)];

#[derive(Clone, Default)]
struct Shared {
    target: Arc<OnceLock<String>>,
    seen: Arc<Mutex<Vec<SubRequest>>>,
    /// A pause before forwarding each request, in milliseconds (see [`Upstream::delay`]).
    delay_ms: Arc<AtomicU64>,
}

pub struct Upstream {
    /// The proxy's base URL, for `FIB_UPSTREAM_URL`.
    pub url: String,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Upstream {
    /// Listens on a free loopback port; forwards nothing until [`Upstream::forward_to`].
    pub async fn start() -> std::io::Result<Upstream> {
        let shared = Shared::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let app = Router::new().fallback(forward).with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Upstream {
            url,
            shared,
            server,
        })
    }

    /// Where requests go from now on: the app, once it has printed its URL.
    pub fn forward_to(&self, target: &str) {
        let _ = self.shared.target.set(target.to_string());
    }

    /// Makes every request wait `delay` before it is forwarded: a slow network, so that requests
    /// stay in flight long enough for a test to act while they are.
    pub fn delay(&self, delay: Duration) {
        let millis = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.shared.delay_ms.store(millis, Ordering::Relaxed);
    }

    /// Every sub-request seen so far, in order of arrival.
    pub fn seen(&self) -> Vec<SubRequest> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// How many requests had exactly this path and query, e.g. `/fib?index=1`.
    pub fn count(&self, path: &str) -> usize {
        self.shared
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|seen| seen.path == path)
            .count()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn forward(State(shared): State<Shared>, request: Request) -> (StatusCode, String) {
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_string();
    let traceparent = request
        .headers()
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    shared.seen.lock().unwrap().push(SubRequest {
        path: path.clone(),
        traceparent: traceparent.clone(),
    });
    let Some(target) = shared.target.get() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "not ready yet".into());
    };
    let delay = shared.delay_ms.load(Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    // Forwarded as it came, `traceparent` included, so that the app's own server sees it.
    let send = || {
        let mut outgoing = crate::app::client().get(format!("{target}{path}"));
        if let Some(traceparent) = &traceparent {
            outgoing = outgoing.header("traceparent", traceparent);
        }
        outgoing.send()
    };
    // A request that fails before the app answered is not the app's fault when the proxy itself
    // is the cause: a pooled connection the app closes just as the proxy reuses it ("connection
    // closed before message completed"), or, with thousands of sub-requests at once on a busy
    // machine, a connection the app's listen queue had no room for yet. A GET can be sent again:
    // twice more, after a pause that lets the queue drain.
    let mut sent = send().await;
    for pause in RETRY_PAUSES {
        match &sent {
            Err(err) if err.is_request() && !err.is_timeout() => {
                tokio::time::sleep(pause).await;
                sent = send().await;
            }
            _ => break,
        }
    }
    match sent {
        Ok(response) => {
            let status =
                StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
            (status, response.text().await.unwrap_or_default())
        }
        Err(err) => {
            // The whole chain: "error sending request" alone does not say what went wrong.
            let mut message = format!("checker's proxy: {err}");
            let mut source = std::error::Error::source(&err);
            while let Some(cause) = source {
                message.push_str(&format!(": {cause}"));
                source = cause.source();
            }
            (StatusCode::BAD_GATEWAY, message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SubRequest;

    fn with(traceparent: Option<&str>) -> SubRequest {
        SubRequest {
            path: "/fib?index=1".into(),
            traceparent: traceparent.map(str::to_owned),
        }
    }

    #[test]
    fn a_traceparent_gives_its_trace_id_parent_and_sampled_flag() {
        let kept = with(Some("00-abc-def-01"));
        assert_eq!(
            (kept.trace_id(), kept.parent_span_id(), kept.sampled()),
            (Some("abc"), Some("def"), Some(true))
        );
        assert_eq!(with(Some("00-abc-def-00")).sampled(), Some(false));
        assert_eq!(with(Some("garbage")).sampled(), None);
        assert_eq!(with(None).trace_id(), None);
    }
}
