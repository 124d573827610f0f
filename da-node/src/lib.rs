//! The DA node library: full node and producer, built from components.
//!
//! This crate owns:
//! - [`config`]: the node configuration (TOML, env, flags) and its validation;
//! - [`genesis`]: the genesis file and validator key files, and a one-validator chain's
//!   creation (`da-node init`, the devnet, tests);
//! - [`mempool`]: the bounded, deduplicating mempool;
//! - [`store`]: the [`store::Store`] trait with its RocksDB and in-memory backends, one atomic
//!   write per block;
//! - [`chain`]: header checks (certificates against the genesis validator set) and the one
//!   import path every block takes into the store;
//! - [`producer`]: block production behind the [`producer::BlockProducer`] seam (today the
//!   [`producer::SoloValidator`]: a one-validator BFT chain) and the driver that decides when;
//! - [`proposal`]: a proposal's body encoding, the proposer's commitments and the data rules a
//!   validator checks before voting (no I/O);
//! - [`validator`]: the node as the consensus engine's block layer (build, check, commit,
//!   serve decided blocks to syncing validators);
//! - [`sync`]: full-node sync over libp2p with repair of withheld cells;
//! - [`follow`]: following one node over gRPC instead (`follow = URL`);
//! - [`reader`]: reads for serving, off the async runtime;
//! - [`grpc`]: the `da.v1` API with reflection and health;
//! - `p2p`: header gossip and serving over libp2p;
//! - [`relay`]: blobs pooled on any node reach the proposers (announced ids, pulled blobs);
//! - [`prune`]: deleting heights past the retention window;
//! - [`metrics`]: Prometheus metrics over HTTP;
//! - [`node`]: startup, wiring the components together, and the [`NodeHandle`].
//!
//! # Module dependencies
//! They form a DAG (read `a → b` as "`b` uses `a`"); only [`node`] sees every component:
//!
//! ```text
//! error, clock, metrics, mempool → config            (leaves; config reads mempool's limits)
//! error → genesis → config                            (the genesis file's default path)
//! store → chain → { producer, sync, follow }
//! store → { reader, prune }    reader → { relay, grpc, p2p }    chain → { grpc, p2p }
//! mempool → relay → { grpc (its announcer), p2p (runs it) }
//! grpc → follow (message limit)    p2p → sync (serving peers)
//! all of the above → node (startup and wiring only)
//! ```
//!
//! The `da-node` binary and the devnet live in `da-cli`, above this crate and the light client
//! and posting adapter, none of which this crate links.

pub mod chain;
mod clock;
pub mod config;
pub mod error;
pub mod follow;
pub mod genesis;
pub mod grpc;
pub mod mempool;
pub mod metrics;
pub mod node;
mod p2p;
pub mod producer;
pub mod proposal;
pub mod prune;
pub mod reader;
pub mod relay;
pub mod store;
pub mod sync;
#[cfg(test)]
mod testing;
pub mod validator;

pub use config::{NodeConfig, Role};
pub use error::{NodeError, Result, StoreError};
pub use node::{start, start_with, NodeHandle};
