//! A counting proxy: the app's sub-requests go through it (`FIB_UPSTREAM_URL`), so it sees, and
//! counts, every request that crosses the network between the app and itself.

use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

#[derive(Clone, Default)]
struct Shared {
    /// Where requests are forwarded: the app, once it has started.
    target: Arc<OnceLock<String>>,
    /// The path and query of every request seen, in order of arrival.
    seen: Arc<Mutex<Vec<String>>>,
}

pub struct CountingProxy {
    /// The proxy's base URL, to give the app as `FIB_UPSTREAM_URL`.
    pub url: String,
    shared: Shared,
}

impl CountingProxy {
    /// Starts the proxy on a free loopback port. It forwards nothing until [`forward_to`] is called.
    ///
    /// [`forward_to`]: CountingProxy::forward_to
    pub async fn start() -> CountingProxy {
        let shared = Shared::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = Router::new().fallback(forward).with_state(shared.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        CountingProxy { url, shared }
    }

    pub fn forward_to(&self, target: &str) {
        self.shared
            .target
            .set(target.to_string())
            .expect("the target is set once");
    }

    /// The path and query of every request seen so far.
    pub fn seen(&self) -> Vec<String> {
        self.shared.seen.lock().unwrap().clone()
    }

    /// How many requests had exactly this path and query, e.g. `/fib?index=1`.
    pub fn count(&self, path_and_query: &str) -> usize {
        self.seen()
            .iter()
            .filter(|seen| *seen == path_and_query)
            .count()
    }
}

async fn forward(State(shared): State<Shared>, request: Request) -> impl IntoResponse {
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_string();
    shared.seen.lock().unwrap().push(path.clone());
    let Some(target) = shared.target.get() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "proxy has no target yet".to_string(),
        );
    };
    match crate::app::client()
        .get(format!("{target}{path}"))
        .send()
        .await
    {
        Ok(response) => {
            let status = response.status();
            (status, response.text().await.unwrap_or_default())
        }
        Err(err) => (StatusCode::BAD_GATEWAY, format!("proxy: {err}")),
    }
}
