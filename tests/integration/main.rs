//! The integration tests: one binary, a module per topic, so that the suite builds and links
//! once. Tests that need a process of their own stay apart: `cli.rs` (runs the command),
//! `compile_fail.rs` (trybuild), `conformance_env.rs` (writes the process environment),
//! `no_copies.rs`, `no_copies_remote.rs` and `peak_heap.rs` (a global allocator that watches
//! every allocation).

#[macro_use]
#[path = "../common/mod.rs"]
mod common;
#[cfg(any(feature = "azure", feature = "gcp"))]
#[path = "../servers/mod.rs"]
mod servers;

mod audit;
mod auto_traits;
mod aws;
mod azure;
mod conformance;
mod detector;
mod dotenv;
mod dotenv_differential;
mod edge;
mod edge_http;
mod encodings;
mod errors;
mod file_provider;
mod gcp;
mod keyring;
mod layers;
mod manager;
mod manager_async;
mod manager_guard;
mod manager_usage;
mod mask;
mod redactor;
mod remote_manager;
mod rotation;
mod scan_precision;
mod scope;
mod stream;
mod usage;
mod vault;
