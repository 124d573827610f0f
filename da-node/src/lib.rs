//! The DA node library: full node and producer.
//!
//! This crate owns:
//! - [`config`]: the node configuration (TOML, env, flags) and its validation;
//! - [`mempool`]: the bounded, deduplicating mempool;
//! - [`store`]: the [`store::Store`] trait with its RocksDB and in-memory backends, one atomic
//!   write per block;
//! - [`node`]: startup, pruning;
//! - [`producer`]: block production behind the [`producer::BlockProducer`] seam (today one
//!   ed25519 signer) and the driver that decides when;
//! - [`chain`]: header checks and the one import path every block takes into the store;
//! - [`follow`]: following one node over gRPC instead of syncing over libp2p (`follow = URL`);
//! - [`grpc`]: the `da.v1` API with reflection and health;
//! - [`metrics`]: Prometheus metrics over HTTP;
//! - [`sync`]: full-node sync over libp2p with repair of withheld cells.
//!
//! The `da-node` binary and the devnet live in `da-cli`, above this crate and the light client
//! and posting adapter, none of which this crate links.

pub mod chain;
mod clock;
pub mod config;
pub mod error;
pub mod follow;
pub mod grpc;
pub mod mempool;
pub mod metrics;
pub mod node;
mod p2p;
pub mod producer;
pub mod store;
pub mod sync;

pub use config::{NodeConfig, Role};
pub use error::{NodeError, Result, StoreError};
pub use node::{start, start_with, NodeHandle};
