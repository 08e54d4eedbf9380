//! The compose path run for real: the Collector and Jaeger built from their Go modules, started as
//! processes with the very files `docker-compose.yml` mounts, and the workshop's apps sending
//! through them. Run with: `cargo test -p stack-tests --test native` (after `./run.sh stack build`).
//!
//! - [`validate`]: the Collector's own `validate` on config.yaml with each overlay;
//! - [`traces`]: step 03 → Collector → Jaeger, one whole trace per request, over HTTP and gRPC;
//! - [`signals`]: step 07's metrics on the Prometheus endpoint, its logs in the debug exporter;
//! - [`hosted`]: the hosted overlay's fan-out to Jaeger and a stand-in for Honeycomb, over TLS;
//! - [`sampling`]: the tail-sampling overlay keeps errors and slow traces, and a share of the rest;
//! - [`faults`]: Jaeger restarted, the Collector stopped;
//! - [`pages`]: the Collector's zpages and health check.

mod faults;
mod hosted;
mod pages;
mod sampling;
mod signals;
mod traces;
mod validate;
