//! The accept loop both servers run: HTTP/1.1 and HTTP/2 (gRPC) on one loopback socket.
//!
//! Ours rather than `axum::serve` because of how the receiver stops. `axum::serve` spawns every
//! connection as a task of its own, and those outlive the server until the client hangs up; an
//! exporter's connection pool keeps them open long after a test is done. Here the connections are
//! tasks of a `JoinSet` owned by the server task, so aborting the server task (dropping the
//! `Receiver`) closes the listening socket and every connection with it. (An HTTP/2 request
//! runs in a task of its own, spawned by hyper; it ends with the request.)

use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

/// Serves `router` on `listener` until the returned task is aborted.
pub(crate) fn spawn(listener: TcpListener, router: Router) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let service = TowerToHyperService::new(router.clone());
                        connections.spawn(async move {
                            // A connection ends in an error when the client hangs up mid-request;
                            // that is the client's business, and the server goes on.
                            let _ = auto::Builder::new(TokioExecutor::new())
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                    // Out of file descriptors, most likely: wait for some to be freed rather
                    // than spin.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                },
                // Reaps finished connections, so that the set holds only live ones.
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    })
}
