//! Binding the listener, and the URL it is reached at.

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use anyhow::anyhow;
use tokio::net::{TcpListener, TcpSocket};

use crate::Config;

/// Binds `APP_HOST:APP_PORT`, turning the usual failures into a message that says what to do.
///
/// It also raises this process's limit of open files as far as the system allows: one click on
/// **Go** near the cap keeps thousands of connections to itself open at once (two sockets each,
/// the client's and the server's), and the usual soft limit (256 on macOS, 1024 on many Linux
/// shells) would turn that into failed requests.
pub async fn bind(config: &Config) -> anyhow::Result<TcpListener> {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let addr = SocketAddr::new(config.host, config.port);
    listen(addr).map_err(|err| match err.kind() {
        ErrorKind::AddrInUse => anyhow!(
            "port {} is already in use, perhaps by another copy of the app.\n  \
             Stop that one, or pick another port: APP_PORT={} ./run.sh (or set APP_PORT in .env; 0 picks any free port)",
            config.port,
            config.port.wrapping_add(1).max(1024),
        ),
        ErrorKind::AddrNotAvailable => anyhow!(
            "APP_HOST={} is not an address of this machine: use 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)",
            config.host
        ),
        ErrorKind::PermissionDenied => anyhow!(
            "not allowed to listen on {addr}: ports below 1024 need root; pick APP_PORT between 1024 and 65535"
        ),
        _ => anyhow!("could not listen on {addr}: {err}"),
    })
}

/// Like `TcpListener::bind`, with a longer queue of connections waiting to be accepted (4096
/// rather than 1024): a burst of sub-requests opens hundreds of connections within a millisecond.
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    // Lets a restarted app take its port back at once, while old connections linger in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

/// The HTTP client for `/fib`'s sub-requests: one for the whole app, so that connections are
/// kept open and reused.
///
/// Its waits are bounded: a sub-request that hangs becomes a `502` after `FIB_UPSTREAM_TIMEOUT_MS`,
/// not a page waiting forever. It keeps enough idle connections for the next click, without
/// hoarding thousands.
pub fn client(config: &Config) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .connect_timeout(std::time::Duration::from_secs(2))
        .timeout(config.upstream_timeout())
        .pool_max_idle_per_host(256)
        .build()?)
}

/// The base URL at which a browser on this machine, and the app itself, reach the listener:
/// `0.0.0.0` (every interface) is reached at `127.0.0.1`.
pub fn local_url(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip if ip.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unspecified_address_is_reached_on_loopback() {
        assert_eq!(
            local_url("0.0.0.0:8090".parse().unwrap()),
            "http://127.0.0.1:8090"
        );
        assert_eq!(local_url("[::]:8090".parse().unwrap()), "http://[::1]:8090");
        assert_eq!(
            local_url("127.0.0.1:1".parse().unwrap()),
            "http://127.0.0.1:1"
        );
    }

    #[tokio::test]
    async fn a_busy_port_gets_a_message_with_the_fix() {
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let config = Config {
            host: "127.0.0.1".parse().unwrap(),
            port: taken.local_addr().unwrap().port(),
            ..<Config as clap::Parser>::parse_from(["app"])
        };
        let err = bind(&config).await.unwrap_err().to_string();
        assert!(
            err.contains("already in use") && err.contains("APP_PORT="),
            "{err}"
        );
    }
}
