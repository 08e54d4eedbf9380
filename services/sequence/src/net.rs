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
            suggest_port(config.host, config.port),
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

/// The ports the rest of the kit listens on by default, which an app must not take: the trace
/// explorer's pages (8091) and OTLP (4317 gRPC, 4318 HTTP, which the Collector also holds), and the
/// Collector's and Jaeger's from `docker-compose.yml` (Jaeger's UI 16686, the health check 13133,
/// zpages 55679, the Collector's own metrics 8888, the app's metrics for Prometheus 8889).
pub const KIT_PORTS: [u16; 8] = [8091, 4317, 4318, 16686, 13133, 55679, 8888, 8889];

/// A port to suggest when `taken` is busy: the first one after it that none of the kit's
/// services uses ([`KIT_PORTS`]) and that is free on `host` right now (probed by binding it, then
/// letting it go). Without one free within a hundred ports, the first after `taken` that the kit
/// does not use.
pub fn suggest_port(host: IpAddr, taken: u16) -> u16 {
    let candidates = (taken.max(1023).saturating_add(1)..=u16::MAX)
        .filter(|port| !KIT_PORTS.contains(port))
        .take(100);
    let mut first = None;
    for port in candidates {
        first.get_or_insert(port);
        if std::net::TcpListener::bind(SocketAddr::new(host, port)).is_ok() {
            return port;
        }
    }
    // Only at the very top of the range is there nothing after `taken`.
    first.unwrap_or(1024)
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
        let suggested = err.split("APP_PORT=").nth(1).unwrap();
        let suggested: u16 = suggested[..suggested.find(' ').unwrap()].parse().unwrap();
        assert_ne!(suggested, config.port, "{err}");
        assert!(!KIT_PORTS.contains(&suggested), "{err}");
    }

    #[test]
    fn the_suggested_port_is_none_of_the_kits() {
        let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
        // 8090 is the app's default; 8091 is the explorer's pages, so the advice skips it.
        let suggested = suggest_port(localhost, 8090);
        assert!(suggested > 8091, "{suggested}");
        assert!(!KIT_PORTS.contains(&suggested), "{suggested}");
        // 4317 and 4318 are OTLP: after 4316 comes 4319 or later.
        assert!(suggest_port(localhost, 4316) >= 4319);
        // Never a port below 1024, which needs root.
        assert!(suggest_port(localhost, 80) >= 1024);
    }

    #[test]
    fn the_suggested_port_is_free_now() {
        let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
        // Two ports in a row held: the suggestion after the first skips the second.
        let (first, second) = loop {
            let first = std::net::TcpListener::bind((localhost, 0)).unwrap();
            let port = first.local_addr().unwrap().port();
            if port < u16::MAX - 1
                && !KIT_PORTS.contains(&(port + 1))
                && let Ok(second) = std::net::TcpListener::bind((localhost, port + 1))
            {
                break (first, second);
            }
        };
        let taken = first.local_addr().unwrap().port();
        let suggested = suggest_port(localhost, taken);
        assert!(
            suggested > second.local_addr().unwrap().port(),
            "{suggested}"
        );
        assert!(std::net::TcpListener::bind((localhost, suggested)).is_ok());
    }
}
