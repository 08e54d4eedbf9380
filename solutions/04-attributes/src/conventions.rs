//! The HTTP semantic conventions: what a request is, in the attribute names every backend knows.
//!
//! A span named `GET /fib` says little by itself. Its attributes say which method, path, query
//! and route, and which server was asked; a backend that knows these names (Jaeger, Honeycomb,
//! any vendor) shows them in its own columns, and the puzzles query them. The names are the
//! current stable ones (`http.request.method`, `url.path`, …), from
//! `opentelemetry_semantic_conventions`, so that a typo is a compile error.

use axum::extract::{MatchedPath, Request};
use axum::http::header::HOST;
use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::{
    HTTP_REQUEST_METHOD, HTTP_ROUTE, SERVER_ADDRESS, SERVER_PORT, URL_FULL, URL_PATH, URL_QUERY,
    URL_SCHEME,
};

/// The server span's attributes, from the request: method, path, query, route, and the address
/// the client asked for (the `Host` header).
pub fn server_attributes(request: &Request) -> Vec<KeyValue> {
    let uri = request.uri();
    // ANCHOR: server-attributes
    let mut attributes = vec![
        KeyValue::new(HTTP_REQUEST_METHOD, request.method().as_str().to_owned()),
        KeyValue::new(URL_SCHEME, "http"),
        KeyValue::new(URL_PATH, uri.path().to_owned()),
    ];
    if let Some(query) = uri.query() {
        attributes.push(KeyValue::new(URL_QUERY, query.to_owned()));
    }
    if let Some(route) = request.extensions().get::<MatchedPath>() {
        attributes.push(KeyValue::new(HTTP_ROUTE, route.as_str().to_owned()));
    }
    // ANCHOR_END: server-attributes
    let host = request
        .headers()
        .get(HOST)
        .and_then(|host| host.to_str().ok());
    attributes.extend(host.map(address_attributes).unwrap_or_default());
    attributes
}

/// `server.address` and `server.port` from a `Host` header: `127.0.0.1:8090` gives both,
/// `localhost` the address alone.
fn address_attributes(host: &str) -> Vec<KeyValue> {
    let parsed = host
        .rsplit_once(':')
        .and_then(|(address, port)| Some((address, port.parse::<i64>().ok()?)));
    match parsed {
        Some((address, port)) => vec![
            KeyValue::new(SERVER_ADDRESS, address.to_owned()),
            KeyValue::new(SERVER_PORT, port),
        ],
        None => vec![KeyValue::new(SERVER_ADDRESS, host.to_owned())],
    }
}

/// The client span's attributes, from the request: method, full URL, and where it goes.
pub fn client_attributes(request: &reqwest::Request) -> Vec<KeyValue> {
    let url = request.url();
    vec![
        KeyValue::new(HTTP_REQUEST_METHOD, request.method().as_str().to_owned()),
        KeyValue::new(URL_FULL, url.as_str().to_owned()),
        KeyValue::new(
            SERVER_ADDRESS,
            url.host_str().unwrap_or_default().to_owned(),
        ),
        KeyValue::new(
            SERVER_PORT,
            i64::from(url.port_or_known_default().unwrap_or_default()),
        ),
    ]
}
