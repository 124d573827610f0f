//! The consensus paths of the commitments (`specs/11-consensus.md`, `CONSENSUS.md` §4.5): what
//! a proposer computes before its header is ready, and what a validator checks before it votes.
//!
//! - [`KzgProver::square_commitments`]: the `2k` commitments of a square without extending its
//!   data or computing any proof: one MSM per original row (its coefficients over the monomial
//!   points with every window's shift precomputed, `curve::shifted`), the parity rows by
//!   linearity (a G1 column extension). Cell proofs are computed after the decision.
//! - [`KzgProver::check_square_commitments`]: a voter's check that `2k` commitments belong to
//!   the rows it holds, with one MSM instead of `k`: for random `r_i` (from the caller's
//!   randomness, unknown to the proposer), `commit(Σ r_i·row_i) = Σ r_i·C_i`, then
//!   `verify_extension` on all `2k`. A wrong commitment passes with probability about `1/r`.

use da_erasure::field::frs_from_bytes;
use da_types::{consts::FIELD_ELEMENTS_PER_ROW, OriginalSquare};
use ekzg_bls12_381::{ff::Field, group::Group, lincomb::g1_lincomb, reduce_bytes_to_scalar_bias};
use rayon::prelude::*;

use crate::{
    curve::{Fr, G1ColumnCode, G1},
    error::{KzgError, Result},
    prover::KzgProver,
    types::Commitment,
};

impl KzgProver {
    /// Commits to one row given as field elements (the identity for an all-zero row).
    fn commit_row(&self, row: &[Fr]) -> G1 {
        if row.iter().all(|f| bool::from(f.is_zero())) {
            return G1::identity();
        }
        self.commit_row_fast(row)
    }

    /// The `2k` row commitments of `square`, without extending its data or proving: the
    /// proposer's critical path.
    pub fn square_commitments(&self, square: &OriginalSquare) -> Result<Vec<Commitment>> {
        let k = square.k();
        let rows = frs_from_bytes(square.rows())?;
        if rows.len() != k * FIELD_ELEMENTS_PER_ROW {
            return Err(KzgError::InvalidLength {
                what: "original rows",
                got: rows.len(),
                expected: k * FIELD_ELEMENTS_PER_ROW,
            });
        }
        let orig = rows
            .par_chunks(FIELD_ELEMENTS_PER_ROW)
            .map(|row| self.commit_row(row))
            .collect::<Vec<G1>>();
        let parity = G1ColumnCode::new(k)?.extend(&orig)?;
        let mut all = orig;
        all.extend(parity);
        Ok(Commitment::from_projective(&all))
    }

    /// Whether `commitments` are the `2k` commitments of `square`'s rows: one random linear
    /// combination of the `k` original rows committed once and compared with the same
    /// combination of the commitments, then `verify_extension`. `seed` must be local
    /// randomness the proposer cannot predict; the coefficients are reductions of
    /// `blake3("da/commitment-rlc/v1" ‖ seed ‖ u64_be(i))`.
    pub fn check_square_commitments(
        &self,
        square: &OriginalSquare,
        commitments: &[Commitment],
        seed: &[u8; 32],
    ) -> Result<bool> {
        let k = square.k();
        if commitments.len() != 2 * k {
            return Ok(false);
        }
        let rows = frs_from_bytes(square.rows())?;
        if rows.len() != k * FIELD_ELEMENTS_PER_ROW {
            return Err(KzgError::InvalidLength {
                what: "original rows",
                got: rows.len(),
                expected: k * FIELD_ELEMENTS_PER_ROW,
            });
        }
        let coeffs: Vec<Fr> = (0..k as u64)
            .map(|i| {
                let mut h = blake3::Hasher::new();
                h.update(b"da/commitment-rlc/v1");
                h.update(seed);
                h.update(&i.to_be_bytes());
                reduce_bytes_to_scalar_bias(*h.finalize().as_bytes())
            })
            .collect();
        let combined: Vec<Fr> = (0..FIELD_ELEMENTS_PER_ROW)
            .into_par_iter()
            .map(|j| {
                coeffs.iter().enumerate().fold(Fr::ZERO, |acc, (i, r)| {
                    acc + *r * rows[i * FIELD_ELEMENTS_PER_ROW + j]
                })
            })
            .collect();
        let lhs = self.commit_row(&combined);
        let points = commitments[..k]
            .iter()
            .map(|c| c.decompress())
            .collect::<Result<Vec<_>>>()?;
        let rhs = g1_lincomb(&points, &coeffs).ok_or_else(|| KzgError::LengthMismatch {
            what: "commitments and coefficients".into(),
        })?;
        if lhs != rhs {
            return Ok(false);
        }
        self.verify_extension(commitments)
    }
}

#[cfg(test)]
mod tests {
    use da_types::{Blob, Namespace, SquareLayout};

    use super::*;
    use crate::ProverConfig;

    fn square(seed: u8) -> OriginalSquare {
        let ns = Namespace::new_v0(&[seed, 1, 2]).expect("namespace");
        let blobs: Vec<Blob> = (0..3)
            .map(|i| {
                Blob::new(
                    ns,
                    (0..200_000)
                        .map(|j| (j * 31 + i + seed as usize) as u8)
                        .collect(),
                )
                .expect("blob")
            })
            .collect();
        SquareLayout::build(&blobs).expect("layout")
    }

    #[test]
    fn commitments_match_the_full_square_and_pass_the_check() {
        let kzg = KzgProver::new(ProverConfig::default());
        let sq = square(1);
        let fast = kzg.square_commitments(&sq).expect("commitments");
        let full = kzg.commit_square(&sq).expect("committed");
        assert_eq!(fast, full.commitments());
        assert!(kzg
            .check_square_commitments(&sq, &fast, &[7; 32])
            .expect("check"));
    }

    #[test]
    fn one_wrong_commitment_or_other_rows_fail_the_check() {
        let kzg = KzgProver::new(ProverConfig::default());
        let sq = square(1);
        let good = kzg.square_commitments(&sq).expect("commitments");
        // One original commitment replaced by another row's.
        let mut bad = good.clone();
        bad.swap(0, 1);
        assert!(!kzg
            .check_square_commitments(&sq, &bad, &[7; 32])
            .expect("check"));
        // A parity commitment wrong: the extension check catches it.
        let mut bad = good.clone();
        let k = sq.k();
        bad[k] = good[0];
        assert!(!kzg
            .check_square_commitments(&sq, &bad, &[7; 32])
            .expect("check"));
        // Commitments of another square.
        let other = kzg.square_commitments(&square(2)).expect("commitments");
        assert!(!kzg
            .check_square_commitments(&sq, &other, &[7; 32])
            .expect("check"));
        // Too few.
        assert!(!kzg
            .check_square_commitments(&sq, &good[..k], &[7; 32])
            .expect("check"));
    }
}
