//! The light cell-batch verifier (crate-private): EIP-7594 `verify_cell_kzg_proof_batch` on
//! `ekzg-multi-open`'s verifier, built from the verification key alone.
//!
//! This module owns the embedded verification key (`verification_key.bin`: the first 65 G1
//! monomial points, 48 bytes each compressed, then the 65 G2 monomial points, 96 bytes each, of
//! the Ethereum mainnet setup; a test checks them against `rust_eth_kzg`'s embedded JSON setup)
//! and the process-wide verifier built from it. Building it decompresses 130 points and takes
//! milliseconds, against seconds for c-kzg's settings (which always include prover state), so
//! [`crate::KzgVerifier`] checks cells on it until c-kzg is loaded (`specs/03-kzg.md`).

use std::{collections::HashMap, sync::OnceLock};

use da_types::consts::{BYTES_PER_CELL, CELLS_PER_ROW};
use ekzg_bls12_381::{G1Point, G2Point, Scalar};
use ekzg_multi_open::{verification_key::VerificationKey, Verifier};

use crate::error::{KzgError, Result};

/// The verification key: 65 compressed G1 monomial points, then 65 compressed G2 points.
const VK_BYTES: &[u8] = include_bytes!("verification_key.bin");
/// Points of each group in [`VK_BYTES`].
const VK_POINTS: usize = 65;
/// Field elements in a cell (the coset size).
const FIELD_ELEMENTS_PER_CELL: usize = BYTES_PER_CELL / 32;
/// Coefficients of a row polynomial (EIP-4844's `FIELD_ELEMENTS_PER_BLOB`).
const FIELD_ELEMENTS_PER_BLOB: usize = 4096;

/// `ekzg-multi-open`'s cell-batch verifier on the embedded verification key.
pub(crate) struct LightVerifier {
    /// The multi-opening verifier (cosets of 64 points, 128 cells per extended row).
    inner: Verifier,
}

/// The verification key's points, decompressed (with subgroup checks).
pub(crate) fn verification_key_points() -> Result<(Vec<G1Point>, Vec<G2Point>)> {
    let (g1, g2) = VK_BYTES.split_at(VK_POINTS * 48);
    let g1 = g1
        .chunks_exact(48)
        .map(|c| {
            let b: &[u8; 48] = c.try_into().map_err(|_| vk_err())?;
            Option::from(G1Point::from_compressed(b)).ok_or_else(vk_err)
        })
        .collect::<Result<Vec<_>>>()?;
    let g2 = g2
        .chunks_exact(96)
        .map(|c| {
            let b: &[u8; 96] = c.try_into().map_err(|_| vk_err())?;
            Option::from(G2Point::from_compressed(b)).ok_or_else(vk_err)
        })
        .collect::<Result<Vec<_>>>()?;
    if g1.len() != VK_POINTS || g2.len() != VK_POINTS {
        return Err(vk_err());
    }
    Ok((g1, g2))
}

/// The embedded key is corrupt (a build defect, never an input's fault).
fn vk_err() -> KzgError {
    KzgError::Backend {
        backend: "light verifier",
        message: "embedded verification key is corrupt".into(),
    }
}

impl LightVerifier {
    /// Builds the verifier from the embedded verification key.
    pub(crate) fn new() -> Result<Self> {
        let (g1, g2) = verification_key_points()?;
        let vk = VerificationKey::new(g1, g2, FIELD_ELEMENTS_PER_CELL, FIELD_ELEMENTS_PER_BLOB);
        Ok(Self {
            inner: Verifier::new(vk, FIELD_ELEMENTS_PER_CELL * CELLS_PER_ROW, CELLS_PER_ROW),
        })
    }

    /// The process-wide verifier, built on first use (a few milliseconds).
    pub(crate) fn shared() -> Result<&'static Self> {
        static V: OnceLock<std::result::Result<LightVerifier, KzgError>> = OnceLock::new();
        V.get_or_init(Self::new).as_ref().map_err(Clone::clone)
    }

    /// EIP-7594 `verify_cell_kzg_proof_batch` on already length-checked inputs (parallel
    /// slices, cell indices below 128). `Ok(false)` when well-formed inputs fail to verify;
    /// `Err` for a point or field element that does not deserialize.
    pub(crate) fn verify_cell_batch(
        &self,
        commitments: &[&[u8; 48]],
        cell_indices: &[u64],
        cells: &[&[u8; BYTES_PER_CELL]],
        proofs: &[&[u8; 48]],
    ) -> Result<bool> {
        let n = cells.len();
        if commitments.len() != n || cell_indices.len() != n || proofs.len() != n {
            return Err(KzgError::LengthMismatch {
                what: "light verifier inputs".into(),
            });
        }
        if let Some(&bad) = cell_indices.iter().find(|i| **i >= CELLS_PER_ROW as u64) {
            return Err(KzgError::CellIndexOutOfRange {
                index: bad,
                max: CELLS_PER_ROW as u64 - 1,
            });
        }
        // Deduplicate the commitments (the spec's challenge hashes the distinct ones in order
        // of first appearance, as c-kzg and rust_eth_kzg do).
        let mut unique: Vec<&[u8; 48]> = Vec::new();
        let mut seen: HashMap<&[u8; 48], u64> = HashMap::new();
        let row_indices: Vec<u64> = commitments
            .iter()
            .map(|c| {
                *seen.entry(c).or_insert_with(|| {
                    unique.push(c);
                    unique.len() as u64 - 1
                })
            })
            .collect();
        let coms = unique
            .iter()
            .map(|c| g1("commitment", c))
            .collect::<Result<Vec<_>>>()?;
        let prfs = proofs
            .iter()
            .map(|p| g1("proof", p))
            .collect::<Result<Vec<_>>>()?;
        let evals = cells
            .iter()
            .map(|c| {
                c.chunks_exact(32)
                    .map(|s| {
                        let b: &[u8; 32] = s.try_into().map_err(|_| KzgError::InvalidLength {
                            what: "field element",
                            got: s.len(),
                            expected: 32,
                        })?;
                        Option::<Scalar>::from(Scalar::from_bytes_be(b)).ok_or_else(|| {
                            KzgError::Backend {
                                backend: "light verifier",
                                message: "cell holds a non-canonical field element".into(),
                            }
                        })
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        if n == 0 {
            return Ok(true);
        }
        Ok(self
            .inner
            .verify_multi_opening(&coms, &row_indices, cell_indices, &evals, &prfs)
            .is_ok())
    }
}

/// A compressed G1 point of the prime-order subgroup.
fn g1(what: &'static str, b: &[u8; 48]) -> Result<G1Point> {
    Option::from(G1Point::from_compressed(b)).ok_or(KzgError::InvalidPoint { what })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_key_equals_the_setup() {
        let setup = rust_eth_kzg::TrustedSetup::default();
        let (g1, g2) = verification_key_points().expect("embedded key");
        assert_eq!(g1, setup.g1_monomial[..VK_POINTS]);
        assert_eq!(g2, setup.g2_monomial);
    }
}
