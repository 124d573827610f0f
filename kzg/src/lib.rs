//! KZG for the DA square (`specs/03-kzg.md`), behind our own types.
//!
//! This crate owns:
//! - [`KzgContext`]: one object built from Ethereum's trusted setup, with the EIP-4844 and
//!   EIP-7594 operations named as in the consensus specs, on a selectable [`Backend`] (`c-kzg` or
//!   `rust_eth_kzg`);
//! - the committed square ([`square`]): header-ready commitments for all `2k` rows (the extended
//!   ones by linearity), all cell proofs, [`verify_extension`](KzgContext::verify_extension),
//!   and repair from [`VerifiedCell`]s;
//! - blob inclusion and namespace completeness proofs ([`inclusion`]) and their `da.v1` message
//!   conversions ([`convert`]);
//! - a pure-Rust verifier of row point openings on `kzg-rs` ([`pure`]), the no_std/zkVM path.
//!
//! Backend types (`c_kzg::*`, `rust_eth_kzg::*`, blstrs points) never cross this crate's API.

pub mod context;
pub mod convert;
pub mod error;
mod fk20;
pub mod inclusion;
pub mod pure;
pub mod square;
pub mod types;

pub use context::{Backend, KzgConfig, KzgContext};
pub use error::{KzgError, Result};
pub use inclusion::{BlobProof, NamespaceProof, ProvenBlob, ProvenCell};
pub use square::{CommittedSquare, ExtendedSquare, PartialSquare, ProofStrategy};
pub use types::{Cell, Commitment, Proof, VerifiedCell};
