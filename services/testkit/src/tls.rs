//! An `https://` front for a plain receiver, so that a test can prove the exporters speak TLS to
//! a hosted backend without a network: it terminates TLS with a certificate made for the test
//! (trusted by pointing `SSL_CERT_FILE` at it) and passes the bytes on to a loopback port.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// A TLS listener on loopback in front of `backend`; stops when dropped.
pub struct TlsFront {
    port: u16,
    /// The PEM file of the certificate it presents: give it to the app as `SSL_CERT_FILE`.
    pub ca_file: PathBuf,
    _dir: tempfile::TempDir,
    task: JoinHandle<()>,
}

impl TlsFront {
    /// Starts a front for `backend` (`host:port`), with a certificate for `localhost`.
    pub async fn start(backend: &str) -> TlsFront {
        let key = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])
            .expect("a certificate");
        let dir = tempfile::tempdir().expect("a temporary folder");
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, key.cert.pem()).expect("the certificate written");

        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let private =
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.signing_key.serialize_der()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(vec![key.cert.der().clone()], private)
            .expect("a TLS configuration");
        // gRPC needs HTTP/2, which TLS clients ask for by ALPN.
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = TlsAcceptor::from(Arc::new(config));

        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().unwrap().port();
        let backend = backend.to_string();
        let task = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (acceptor, backend) = (acceptor.clone(), backend.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(socket).await else {
                        return;
                    };
                    let Ok(mut plain) = TcpStream::connect(&backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        TlsFront {
            port,
            ca_file,
            _dir: dir,
            task,
        }
    }

    /// The endpoint to give the exporter: `https://localhost:<port>`.
    pub fn endpoint(&self) -> String {
        format!("https://localhost:{}", self.port)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}
