//! KZG for the DA square (`specs/03-kzg.md`), behind our own byte-level types.
//!
//! This crate owns:
//! - [`KzgVerifier`]: every check light clients and full nodes run (cells, blobs, point
//!   openings, the commitment extension), on c-kzg with the embedded Ethereum trusted setup;
//!   cheap to build, no prover state; cell batches run on a light verifier that needs only the
//!   verification key (`light`) until c-kzg's settings are loaded in the background;
//! - [`KzgProver`]: commitments and EIP-7594 cell proofs (FK20 bases, optional window tables),
//!   the per-row spec operations on a [`ProverBackend`]; it dereferences to its verifier;
//! - the committed square ([`square`]): header-ready commitments for all `2k` rows (the extended
//!   ones by linearity), all cell proofs, and repair from [`VerifiedCell`]s;
//! - blob inclusion and namespace completeness proofs ([`inclusion`]) and their `da.v1` message
//!   conversions ([`convert`]);
//! - a pure-Rust verifier of row point openings on `kzg-rs` ([`pure`]), the no_std/zkVM path;
//! - crate-private: all our own G1 arithmetic (`curve`: batched affine sums, GLV, G1 FFTs, the
//!   column code in G1, fixed-base tables) and the FK20 prover (`fk20`).
//!
//! Backend types (`c_kzg::*`, `rust_eth_kzg::*`, blstrs points and scalars) never cross this
//! crate's API: inputs and outputs are bytes, [`Commitment`], [`Proof`] and [`Cell`].

mod ckzg;
pub mod convert;
mod curve;
pub mod error;
mod fk20;
pub mod inclusion;
mod light;
pub mod proposal;
pub mod prover;
pub mod pure;
pub mod square;
pub mod types;
pub mod verifier;

pub use error::{KzgError, Result};
pub use inclusion::{BlobProof, NamespaceProof, ProvenBlob, ProvenCell};
pub use prover::{KzgProver, ProverBackend, ProverConfig};
pub use square::{CommittedSquare, ExtendedSquare, PartialSquare, ProofStrategy};
pub use types::{Cell, Commitment, Proof, VerifiedCell};
pub use verifier::{CellBackend, KzgVerifier};
