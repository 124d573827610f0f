//! Test support shared by the crates' integration tests, examples and benchmarks.
//!
//! This crate owns:
//! - [`cluster`]: in-process producers, full nodes and light clients on 127.0.0.1 with ephemeral
//!   ports, temporary data dirs, one genesis file and one shared KZG context;
//! - [`forge`]: block headers and certificates built by hand, valid or forged;
//! - [`grpc`]: channels and clients to a node's gRPC API, submit requests;
//! - [`http`]: a raw HTTP GET for the nodes' and light clients' HTTP endpoints;
//! - [`hostile`]: a libp2p peer below the codec: garbage frames, oversized prefixes, slow
//!   streams, floods, and hostile answers to sample requests;
//! - [`wait`]: bounded polling that fails with a message instead of hanging;
//! - [`gen`]: seeded byte and namespace generators (the same seed gives the same bytes).
//!
//! Tests panic on set-up failures: `expect` with what failed is the right error here.
#![allow(clippy::unwrap_used)]

pub mod cluster;
pub mod forge;
pub mod gen;
pub mod grpc;
pub mod hostile;
pub mod http;
pub mod wait;

pub use cluster::{p2p_addrs, Cluster};
