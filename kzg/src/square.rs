//! The committed square: commitments for all `2k` rows, cell proofs, the extension check, and
//! repair (`specs/03-kzg.md`).
//!
//! # Flow
//! 1. [`KzgProver::commit_square`]: Fr extension of the data (`da-erasure`), one commitment per
//!    original row, the `k` extended commitments by linearity (a G1 FFT of size `k`). This is all
//!    a header needs.
//! 2. [`CommittedSquare::prove`]: FK20 on the `k` original rows; the extended rows' proofs by
//!    linearity, `π_{r,c} = Σ λ_{r,i} π_{i,c}`, one G1 column extension per cell column.
//! 3. Light clients run [`KzgVerifier::verify_extension`](crate::KzgVerifier::verify_extension)
//!    on a header's `2k` commitments, then every cell proof they check
//!    ([`verify_cells`](crate::KzgVerifier::verify_cells)) proves the cell belongs to a
//!    correctly extended square.
//! 4. Full nodes collect [`VerifiedCell`]s into a [`PartialSquare`] and
//!    [`KzgProver::repair`] it, recomputing every commitment and proof.

use da_erasure::{
    field::{frs_from_bytes, frs_to_bytes},
    ColumnCodec, ExtendedData, PartialData,
};
use da_types::{
    consts::{BYTES_PER_ROW, CELLS_PER_ROW, FIELD_ELEMENTS_PER_ROW},
    CellIndex, IndexEntry, OriginalSquare,
};
use ekzg_bls12_381::{ff::Field, group::Group};
use rayon::prelude::*;

use crate::{
    curve::{Fr, G1ColumnCode, G1},
    error::{KzgError, Result},
    prover::KzgProver,
    types::{Cell, Commitment, Proof, VerifiedCell},
};

/// How [`CommittedSquare::prove`] computes the extended rows' proofs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ProofStrategy {
    /// FK20 on the `k` original rows, extended rows by linear combination of proofs (G1 FFT).
    #[default]
    Linear,
    /// FK20 on every one of the `2k` rows.
    PerRow,
}

/// A square with its data extended and all `2k` row commitments: everything a header needs.
#[derive(Clone, Debug)]
pub struct CommittedSquare {
    codec: ColumnCodec,
    g1code: G1ColumnCode,
    data: ExtendedData,
    commitments: Vec<Commitment>,
    index: Vec<IndexEntry>,
    /// FK20's first phase of each original row, when it produced the commitments (contexts
    /// with prover tables); [`CommittedSquare::prove`] then only runs the second phase.
    fk20_h: Option<Vec<Vec<G1>>>,
}

/// A square with every cell proof: what full nodes store and serve.
#[derive(Clone, Debug)]
pub struct ExtendedSquare {
    committed: CommittedSquare,
    proofs: Vec<Proof>,
}

/// Whether a row is all zeros (padding of a square whose `k` was rounded up).
fn is_zero_row(row: &[Fr]) -> bool {
    row.iter().all(|f| bool::from(f.is_zero()))
}

fn parse_rows(k: usize, rows: &[u8]) -> Result<Vec<Fr>> {
    if rows.len() != k * BYTES_PER_ROW {
        return Err(KzgError::InvalidLength {
            what: "original rows",
            got: rows.len(),
            expected: k * BYTES_PER_ROW,
        });
    }
    Ok(frs_from_bytes(rows)?)
}

impl KzgProver {
    /// Extends the data and computes all `2k` commitments (no proofs yet).
    pub fn commit_square(&self, square: &OriginalSquare) -> Result<CommittedSquare> {
        let k = square.k();
        let codec = ColumnCodec::new(k)?;
        let orig = parse_rows(k, square.rows())?;
        let data = ExtendedData::encode(&codec, &orig)?;
        let g1code = G1ColumnCode::new(k)?;
        let (commitments, fk20_h) = self.commit_rows(&g1code, &data)?;
        Ok(CommittedSquare {
            codec,
            g1code,
            data,
            commitments,
            index: square.index().to_vec(),
            fk20_h,
        })
    }

    /// Commits to the `k` original rows and extends the commitments; also returns FK20's first
    /// phase of every original row when it produced the commitments.
    ///
    /// With prover tables, each row runs FK20's first phase, which yields the commitment almost
    /// for free (`fk20.rs`) and leaves `prove` only the final FFTs. Without them, the rows go
    /// through c-kzg's `blob_to_kzg_commitment` (a single-threaded Pippenger MSM over the
    /// Lagrange points), one row per core: on this machine that is ~30% less wall time than
    /// blstrs' internally threaded MSM per row (`benches/RESULTS.md`).
    #[allow(clippy::type_complexity)]
    fn commit_rows(
        &self,
        g1code: &G1ColumnCode,
        data: &ExtendedData,
    ) -> Result<(Vec<Commitment>, Option<Vec<Vec<G1>>>)> {
        if self.fk20.has_tables() {
            // Padding rows commit to the zero polynomial: identity commitment, empty `h`.
            let live: Vec<usize> = (0..data.k())
                .filter(|&r| !is_zero_row(data.row_blob(r)))
                .collect();
            let coefficients = live
                .par_iter()
                .map(|&r| self.fk20.coefficients(data.row_blob(r)))
                .collect();
            let mut orig = vec![G1::identity(); data.k()];
            let mut h = vec![Vec::new(); data.k()];
            for (&r, (c, hr)) in live.iter().zip(self.fk20.commit_and_h_many(coefficients)) {
                orig[r] = c;
                h[r] = hr;
            }
            let parity = g1code.extend(&orig)?;
            let mut all = orig;
            all.extend(parity);
            return Ok((Commitment::from_projective(&all), Some(h)));
        }
        let orig: Vec<G1> = (0..data.k())
            .into_par_iter()
            .map(|r| {
                if is_zero_row(data.row_blob(r)) {
                    // Padding rows commit to the zero polynomial: the identity, no MSM.
                    return Ok(G1::identity());
                }
                let mut bytes = Vec::with_capacity(BYTES_PER_ROW);
                frs_to_bytes(data.row_blob(r), &mut bytes);
                let blob = c_kzg::Blob::from_bytes(&bytes).map_err(|e| KzgError::Backend {
                    backend: "c-kzg",
                    message: format!("{e:?}"),
                })?;
                let c =
                    self.ckzg()
                        .blob_to_kzg_commitment(&blob)
                        .map_err(|e| KzgError::Backend {
                            backend: "c-kzg",
                            message: format!("{e:?}"),
                        })?;
                Ok(G1::from(
                    Commitment(c.to_bytes().into_inner()).decompress()?,
                ))
            })
            .collect::<Result<_>>()?;
        let parity = g1code.extend(&orig)?;
        let mut all = orig;
        all.extend(parity);
        Ok((Commitment::from_projective(&all), None))
    }

    /// The baseline: extend the data, then every one of the `2k` rows through
    /// `blob_to_kzg_commitment` and `compute_cells_and_kzg_proofs` of the configured backend
    /// (rayon over rows). Returns commitments and the proofs row by row.
    pub fn naive_square(&self, square: &OriginalSquare) -> Result<(Vec<Commitment>, Vec<Proof>)> {
        let k = square.k();
        let codec = ColumnCodec::new(k)?;
        let orig = parse_rows(k, square.rows())?;
        let mut blobs: Vec<Vec<Fr>> = orig
            .chunks(FIELD_ELEMENTS_PER_ROW)
            .map(<[Fr]>::to_vec)
            .collect();
        let parity: Vec<Vec<Fr>> = (0..FIELD_ELEMENTS_PER_ROW)
            .into_par_iter()
            .map(|p| {
                codec.extend_fr(
                    &(0..k)
                        .map(|r| orig[r * FIELD_ELEMENTS_PER_ROW + p])
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<std::result::Result<_, _>>()?;
        blobs.extend((0..k).map(|i| parity.iter().map(|col| col[i]).collect::<Vec<_>>()));
        let rows: Vec<(Commitment, Vec<Proof>)> = blobs
            .par_iter()
            .map(|b| {
                let mut bytes = Vec::with_capacity(BYTES_PER_ROW);
                frs_to_bytes(b, &mut bytes);
                let c = self.blob_to_kzg_commitment(&bytes)?;
                let (_, p) = self.compute_cells_and_kzg_proofs(&bytes)?;
                Ok((c, p))
            })
            .collect::<Result<_>>()?;
        let commitments = rows.iter().map(|(c, _)| *c).collect();
        let proofs = rows.into_iter().flat_map(|(_, p)| p).collect();
        Ok((commitments, proofs))
    }

    /// Repairs a partial square of verified cells and recomputes every proof; fails if the
    /// repaired data does not match `commitments`.
    pub fn repair(
        &self,
        partial: PartialSquare,
        commitments: &[Commitment],
    ) -> Result<ExtendedSquare> {
        let k = partial.data.k();
        if commitments.len() != 2 * k {
            return Err(KzgError::LengthMismatch {
                what: format!(
                    "{} commitments for a square of {} rows",
                    commitments.len(),
                    2 * k
                ),
            });
        }
        let codec = ColumnCodec::new(k)?;
        let g1code = G1ColumnCode::new(k)?;
        let data = partial.data.repair(&codec)?;
        let (recomputed, fk20_h) = self.commit_rows(&g1code, &data)?;
        if recomputed != commitments {
            return Err(KzgError::InvalidProof(
                "repaired data does not match the row commitments".into(),
            ));
        }
        let committed = CommittedSquare {
            codec,
            g1code,
            data,
            commitments: recomputed,
            index: Vec::new(),
            fk20_h,
        };
        committed.prove(self, ProofStrategy::Linear)
    }
}

impl CommittedSquare {
    /// Number of original rows.
    pub fn k(&self) -> usize {
        self.codec.k()
    }

    /// All `2k` row commitments.
    pub fn commitments(&self) -> &[Commitment] {
        &self.commitments
    }

    /// The square's index entries (empty for a repaired square; decode them from row 0).
    pub fn index(&self) -> &[IndexEntry] {
        &self.index
    }

    /// The extended data.
    pub fn data(&self) -> &ExtendedData {
        &self.data
    }

    /// Cell `(r, c)` serialized.
    pub fn cell(&self, r: usize, c: usize) -> Cell {
        Cell::from_frs(self.data.cell(r, c))
    }

    /// Extended row `r` as a 131072-byte blob (valid for EIP-4844 operations).
    pub fn row_blob(&self, r: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(BYTES_PER_ROW);
        frs_to_bytes(self.data.row_blob(r), &mut out);
        out
    }

    /// Computes every cell proof.
    pub fn prove(mut self, ctx: &KzgProver, strategy: ProofStrategy) -> Result<ExtendedSquare> {
        // FK20's first phase is only needed here; do not keep it with the proven square.
        let fk20_h = self.fk20_h.take();
        let k = self.k();
        let rows = match strategy {
            ProofStrategy::Linear => k,
            ProofStrategy::PerRow => 2 * k,
        };
        // Rows whose FK20 first phase came with the commitments finish in one batch; the
        // others (no prover tables, or the parity rows of `PerRow`) run FK20 whole.
        let zero = |r: usize| is_zero_row(self.data.row_blob(r));
        let mut proofs = vec![G1::identity(); rows * CELLS_PER_ROW];
        let (batched, whole): (Vec<usize>, Vec<usize>) = (0..rows)
            .filter(|&r| !zero(r))
            .partition(|&r| fk20_h.as_ref().is_some_and(|h| r < h.len()));
        if let Some(h) = &fk20_h {
            let hs = batched.iter().map(|&r| h[r].clone()).collect();
            for (&r, p) in batched.iter().zip(ctx.fk20.proofs_from_h_many(hs)) {
                proofs[r * CELLS_PER_ROW..][..CELLS_PER_ROW].copy_from_slice(&p);
            }
        }
        let computed: Vec<(usize, Vec<G1>)> = whole
            .into_par_iter()
            .map(|r| (r, ctx.fk20.prove(self.data.row_blob(r))))
            .collect();
        for (r, p) in computed {
            proofs[r * CELLS_PER_ROW..][..CELLS_PER_ROW].copy_from_slice(&p);
        }
        if strategy == ProofStrategy::Linear {
            let mut columns: Vec<Vec<G1>> = (0..CELLS_PER_ROW)
                .map(|c| (0..k).map(|r| proofs[r * CELLS_PER_ROW + c]).collect())
                .collect();
            let chunk = CELLS_PER_ROW.div_ceil(rayon::current_num_threads());
            columns
                .par_chunks_mut(chunk)
                .try_for_each(|cs| self.g1code.extend_many(cs))?;
            for i in 0..k {
                proofs.extend(columns.iter().map(|col| col[i]));
            }
        }
        let proofs = proofs
            .par_chunks(CELLS_PER_ROW)
            .flat_map_iter(Proof::from_projective)
            .collect();
        Ok(ExtendedSquare {
            committed: self,
            proofs,
        })
    }
}

impl ExtendedSquare {
    /// The header-ready part (commitments, data, index).
    pub fn committed(&self) -> &CommittedSquare {
        &self.committed
    }

    /// Number of original rows.
    pub fn k(&self) -> usize {
        self.committed.k()
    }

    /// All `2k` row commitments.
    pub fn commitments(&self) -> &[Commitment] {
        &self.committed.commitments
    }

    /// The proof of cell `(r, c)`.
    pub fn proof(&self, r: usize, c: usize) -> Proof {
        self.proofs[r * CELLS_PER_ROW + c]
    }

    /// All proofs, row-major.
    pub fn proofs(&self) -> &[Proof] {
        &self.proofs
    }

    /// Cell `(r, c)` with its proof, bounds-checked.
    pub fn sample(&self, index: CellIndex) -> Result<(Cell, Proof)> {
        let (r, c) = (index.row as usize, index.col as usize);
        if r >= 2 * self.k() || c >= CELLS_PER_ROW {
            return Err(da_types::Error::CellOutOfRange {
                row: r,
                col: c,
                rows: 2 * self.k(),
                cols: CELLS_PER_ROW,
            }
            .into());
        }
        Ok((self.committed.cell(r, c), self.proof(r, c)))
    }
}

/// A square being collected from [`VerifiedCell`]s for repair.
#[derive(Clone, Debug)]
pub struct PartialSquare {
    data: PartialData,
}

impl PartialSquare {
    /// An empty square of `k` original rows.
    pub fn new(k: usize) -> Result<Self> {
        Ok(Self {
            data: PartialData::new(k)?,
        })
    }

    /// Adds a verified cell.
    pub fn insert(&mut self, cell: &VerifiedCell) -> Result<()> {
        let frs = cell.cell.to_frs()?;
        self.data
            .insert(cell.index.row as usize, cell.index.col as usize, &frs)?;
        Ok(())
    }

    /// Cells still missing.
    pub fn missing(&self) -> usize {
        self.data.missing()
    }
}

#[cfg(test)]
mod tests {
    use ekzg_bls12_381::{group::Curve, G1Point};

    use super::*;

    #[test]
    fn affine_round_trip() {
        let g = G1::generator();
        let a: G1Point = g.to_affine();
        assert_eq!(Commitment::from_point(&a).decompress().expect("point"), a);
    }
}
