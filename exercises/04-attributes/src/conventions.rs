//! The HTTP semantic conventions: what a request is, in the attribute names every backend knows.

// TODO(04): Write the attributes of a request, in the names every backend knows: the HTTP
//   semantic conventions, whose names are constants of
//   `opentelemetry_semantic_conventions::attribute` (a typo is then a compile error).
//   1. `pub fn server_attributes(request: &axum::extract::Request) -> Vec<KeyValue>`:
//      `KeyValue::new(HTTP_REQUEST_METHOD, …)`, `URL_SCHEME` ("http"), `URL_PATH`, `URL_QUERY`
//      (when there is a query), `HTTP_ROUTE` (the `MatchedPath` extension, when there is one),
//      and `SERVER_ADDRESS` and `SERVER_PORT` (an integer) from the `Host` header
//      ("127.0.0.1:8090").
//   2. `pub fn client_attributes(request: &reqwest::Request) -> Vec<KeyValue>`:
//      `HTTP_REQUEST_METHOD`, `URL_FULL`, `SERVER_ADDRESS` (`url.host_str()`) and `SERVER_PORT`
//      (`url.port_or_known_default()`).
