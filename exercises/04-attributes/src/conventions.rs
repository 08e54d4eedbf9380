//! The HTTP semantic conventions: what a request is, in the attribute names every backend knows.

// TODO(04): Write the attributes of a request, in the names every backend knows: the HTTP
//   semantic conventions, whose names are constants in opentelemetry-semantic-conventions (a
//   typo is then a compile error). Two functions, each returning the attributes as a list:
//   - `server_attributes`, of the request the server received (axum's `Request`): its method,
//     scheme ("http"), path, query (when there is one), route (when there is one), and the
//     address and port (an integer) the client asked for, from its `Host` header
//     ("127.0.0.1:8090");
//   - `client_attributes`, of a sub-request (reqwest's `Request`): its method, full URL, and
//     the address and port of the server it goes to.
//   Look up: the `attribute` module of opentelemetry-semantic-conventions, `KeyValue`, reqwest's
//   `Request::url` and the `Url` it gives.
//   https://docs.rs/opentelemetry-semantic-conventions/0.33.1/opentelemetry_semantic_conventions/attribute/index.html
//   https://docs.rs/opentelemetry/0.33.1/opentelemetry/struct.KeyValue.html
//   https://docs.rs/url/2.5.8/url/struct.Url.html
