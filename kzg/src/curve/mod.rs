//! Our own G1 arithmetic (`specs/03-kzg.md`, "Proving"): everything in this crate that adds or
//! multiplies curve points beyond a single library call lives here, crate-private.
//!
//! This module owns:
//! - [`affine`]: the chord/tangent point, batched affine sums sharing one inversion per tree
//!   level (`P + P`, `P + (−P)` and the identity handled exactly), rows of multiples `B, 2B, …`;
//! - [`glv`]: many points times one public scalar (GLV split, width-5 NAF, batched affine);
//! - [`fft`]: G1 FFTs that skip unit twiddles and identity inputs;
//! - [`column`]: the column code applied in G1 (commitment and proof extension);
//! - [`tables`]: signed-window fixed-base tables and their MSMs (FK20's MSM stage);
//! - [`shifted`]: one MSM over fixed bases with every window's shift precomputed (the
//!   proposer's row commitments).
//!
//! The FK20 algorithm itself (domains, Toeplitz embedding) is in `fk20.rs` and calls into this
//! module. Property tests against plain scalar multiplication and addition are in `proptests`.

pub(crate) mod affine;
pub(crate) mod column;
pub(crate) mod fft;
pub(crate) mod glv;
#[cfg(test)]
mod proptests;
pub(crate) mod shifted;
pub(crate) mod tables;

pub(crate) use column::G1ColumnCode;
pub(crate) use fft::G1Fft;
pub(crate) use shifted::ShiftedBases;
pub(crate) use tables::FixedBaseTables;

/// An element of the BLS12-381 scalar field.
pub(crate) type Fr = da_erasure::Fr;
/// A G1 point in projective form.
pub(crate) type G1 = ekzg_bls12_381::G1Projective;
/// A G1 point in affine form.
pub(crate) type G1Point = ekzg_bls12_381::G1Point;
