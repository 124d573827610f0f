//! Validators decide every block: the Malachite BFT engine (`arc-malachitebft-app-channel`,
//! pinned exactly) behind the DA layer's own types (`specs/11-consensus.md`).
//!
//! This crate owns:
//! - the engine's context ([`context`]): heights, addresses, the consensus value (a v2 header),
//!   proposals, votes, the validator set, BLS12-381 as the signing scheme;
//! - signing and verification of consensus messages ([`signing`]);
//! - the binary wire and WAL encoding of every engine message ([`codec`]);
//! - proposal parts and their bounded reassembly ([`parts`], sans-IO);
//! - the app loop and the header voting rules ([`app`]), calling the block layer through
//!   [`app::Application`];
//! - starting the engine with its WAL under the node's data dir ([`engine`]);
//! - consensus metrics ([`metrics`]);
//! - an in-memory block layer and a local validator network for tests and benchmarks
//!   ([`local`]).
//!
//! Swapping the engine touches this crate only: the node sees [`app::Application`],
//! [`engine::start`] and `da_types` certificates.

pub mod app;
pub mod codec;
pub mod context;
pub mod engine;
pub mod local;
pub mod metrics;
pub mod parts;
pub mod signing;

pub use app::{AppError, Application, BlockData, DecidedBlock, Decision, Params, Rejection, Tip};
pub use engine::{start, Engine, EngineConfig, EngineError};
pub use metrics::ConsensusMetrics;
