//! Posting adapter: rollups post batches to the DA layer and keep only a short commitment on L1.
//!
//! It is an OP Stack Alt-DA DA server ([`http`]) and a CLI (`posting-adapter post|get|prove|serve`),
//! both thin layers over [`adapter::Adapter`], which talks to a node through the reusable
//! [`da_client`] library and stores nothing itself. Commitment bytes: [`commitment`]; the L1 cost
//! comparison: [`cost`]; metrics: [`metrics`]; proofs of publication for L1 (`prove`):
//! [`proof_json`].

pub mod adapter;
pub mod commitment;
pub mod cost;
pub mod http;
pub mod http_client;
pub mod metrics;
pub mod proof_json;

pub use adapter::{Adapter, AdapterConfig, AdapterError, VerifyMode};
pub use commitment::{Commitment, CommitmentError, Manifest};
