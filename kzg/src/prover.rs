//! [`KzgProver`]: commitments and EIP-7594 cell proofs (`specs/03-kzg.md`), on top of a
//! [`KzgVerifier`] it dereferences to, so a node holding a prover also verifies.
//!
//! A prover builds what proving needs and a verifier never does: the monomial SRS as a commit
//! key, FK20's fixed bases (`fk20.rs`) and, with [`ProverConfig::precompute`], their 10-bit
//! window tables (~400 MB, about a second). The square operations (`commit_square`, `prove`,
//! `repair`) are in `square.rs`; this file holds the per-row spec operations, run by the
//! [`ProverBackend`] the config selects.

use std::{ops::Deref, sync::OnceLock};

use da_erasure::{field::frs_from_bytes, row::row_codec};
use da_types::consts::{CELLS_PER_ROW, FIELD_ELEMENTS_PER_CELL, FIELD_ELEMENTS_PER_ROW};
use ekzg_multi_open::commit_key::CommitKey;

use crate::{
    ckzg::{blob_ref, cell_ref, ck_err, from_ckzg},
    curve::{Fr, ShiftedBases, G1},
    error::{KzgError, Result},
    fk20::Fk20,
    types::{Cell, Commitment, Proof},
    verifier::KzgVerifier,
};

/// Which implementation runs the prover's per-row spec operations (`blob_to_kzg_commitment`,
/// `compute_cells_and_kzg_proofs`, `recover_cells_and_kzg_proofs`). Verification always runs
/// on c-kzg ([`KzgVerifier`]); the square (`commit_square`, `prove`, `repair`) always runs our
/// FK20 and column extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ProverBackend {
    /// Our FK20 (`fk20.rs`, rust-eth-kzg's algorithm on blstrs with our MSM and G1 FFTs) and a
    /// monomial MSM for commitments; recovery decodes the row with `da-erasure` and re-proves
    /// it with FK20.
    #[default]
    Fk20,
    /// `c-kzg` (Ethereum's C reference on blst), single-threaded.
    CKzg,
}

/// How to build a [`KzgProver`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProverConfig {
    /// The implementation of the per-row spec operations.
    pub backend: ProverBackend,
    /// Build fixed-base window tables (FK20's 10-bit tables, and c-kzg's with
    /// [`ProverBackend::CKzg`]): faster proofs and commitments, ~400 MB and about a second to
    /// build. Producers want them; tests and repairing full nodes do not.
    pub precompute: bool,
}

impl ProverConfig {
    /// Default: our FK20, no window tables.
    pub const DEFAULT: Self = Self {
        backend: ProverBackend::Fk20,
        precompute: false,
    };

    /// Sets the backend.
    pub fn with_backend(mut self, backend: ProverBackend) -> Self {
        self.backend = backend;
        self
    }

    /// Enables or disables the window tables.
    pub fn with_precompute(mut self, precompute: bool) -> Self {
        self.precompute = precompute;
        self
    }
}

impl Default for ProverConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Window of c-kzg's fixed-base tables when precomputing (its recommended 8).
const CKZG_PRECOMP_WIDTH: u64 = 8;
/// Window of our FK20's tables: 10 bits, ~400 MB in 2 MiB pages. Against 8 bits (~100 MB) it
/// makes a k = 64 square ~6% faster (`benches/RESULTS.md`); 11 and 12 bits add 0.4 and 1.2 GB
/// for 1–2% more.
const FK20_WINDOW_BITS: usize = 10;
/// Window of the row-commitment MSM's shifted bases ([`ShiftedBases`]): 12 bits, 22 shifts of
/// the 4096 monomial points (8.6 MiB). Timed once from 8 to 14 bits, 12 and 13 were fastest
/// (`benches/RESULTS.md`, "Row commitments on shifted bases"); 12 has the smaller table.
const ROW_MSM_WINDOW_BITS: usize = 12;

/// Prover state (FK20 bases and tables, commit key) plus a [`KzgVerifier`]; build once, share
/// with `Arc`.
pub struct KzgProver {
    verifier: KzgVerifier,
    backend: ProverBackend,
    pub(crate) fk20: Fk20,
    commit_key: CommitKey,
    /// The monomial points with their window shifts, for row commitments: built with
    /// [`ProverConfig::precompute`], else on first use.
    row_bases: OnceLock<ShiftedBases>,
}

impl std::fmt::Debug for KzgProver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KzgProver")
            .field("backend", &self.backend)
            .field("fk20", &self.fk20)
            .finish_non_exhaustive()
    }
}

impl Deref for KzgProver {
    type Target = KzgVerifier;

    fn deref(&self) -> &KzgVerifier {
        &self.verifier
    }
}

impl KzgProver {
    /// Builds the prover from the embedded Ethereum mainnet trusted setup.
    pub fn new(config: ProverConfig) -> Self {
        // c-kzg's tables only speed up its own FK20 (cells, proofs, recovery), which runs only
        // with the c-kzg backend; the square always uses ours (`fk20.rs`).
        let ckzg_precompute = if config.precompute && config.backend == ProverBackend::CKzg {
            CKZG_PRECOMP_WIDTH
        } else {
            0
        };
        // A prover loads c-kzg's settings now rather than on its first square.
        c_kzg::ethereum_kzg_settings(ckzg_precompute);
        let setup = rust_eth_kzg::TrustedSetup::default();
        let fk20 = Fk20::new(
            &setup.g1_monomial,
            config.precompute.then_some(FK20_WINDOW_BITS),
        );
        let prover = Self {
            verifier: KzgVerifier::with_settings(ckzg_precompute),
            backend: config.backend,
            commit_key: CommitKey::new(setup.g1_monomial),
            fk20,
            row_bases: OnceLock::new(),
        };
        if config.precompute {
            prover.row_bases();
        }
        prover
    }

    /// The monomial SRS with its window shifts (built on first use: 0.24 s on two cores of the
    /// 2 vCPU Xeon, release build).
    fn row_bases(&self) -> &ShiftedBases {
        self.row_bases
            .get_or_init(|| ShiftedBases::new(&self.commit_key.g1s, ROW_MSM_WINDOW_BITS))
    }

    /// The commitment of one row given by its `N` evaluations (blob order): its coefficients
    /// (one inverse FFT) in one MSM over the shifted monomial bases. Equal to EIP-4844's
    /// `blob_to_kzg_commitment` of the row: as fast as c-kzg's for one row alone on one thread
    /// (46 ms), 0.79× of its time for a `k = 64` square on both cores (`benches/RESULTS.md`).
    pub(crate) fn commit_row_fast(&self, evaluations: &[Fr]) -> G1 {
        let bases = self.row_bases();
        debug_assert_eq!(bases.len(), evaluations.len(), "a whole row");
        bases.msm(&self.fk20.coefficients(evaluations))
    }

    /// The verifier inside (cheap to clone and hand to verifying components).
    pub fn verifier(&self) -> &KzgVerifier {
        &self.verifier
    }

    /// The backend running the per-row spec operations.
    pub fn backend(&self) -> ProverBackend {
        self.backend
    }

    /// EIP-4844 `blob_to_kzg_commitment`.
    pub fn blob_to_kzg_commitment(&self, blob: &[u8]) -> Result<Commitment> {
        let blob = blob_ref(blob)?;
        match self.backend {
            ProverBackend::CKzg => {
                let b = c_kzg::Blob::new(*blob);
                let c = self.ckzg().blob_to_kzg_commitment(&b).map_err(ck_err)?;
                Ok(Commitment(c.to_bytes().into_inner()))
            }
            ProverBackend::Fk20 => {
                let coefficients = self.fk20.coefficients(&frs_from_bytes(blob)?);
                Ok(Commitment::from_point(
                    &self.commit_key.commit_g1(&coefficients).into(),
                ))
            }
        }
    }

    /// EIP-7594 `compute_cells_and_kzg_proofs`: the 128 cells and proofs of one row.
    pub fn compute_cells_and_kzg_proofs(&self, blob: &[u8]) -> Result<(Vec<Cell>, Vec<Proof>)> {
        let blob = blob_ref(blob)?;
        match self.backend {
            ProverBackend::CKzg => {
                let b = c_kzg::Blob::new(*blob);
                let (cells, proofs) = self
                    .ckzg()
                    .compute_cells_and_kzg_proofs(&b)
                    .map_err(ck_err)?;
                Ok(from_ckzg(&cells[..], &proofs[..]))
            }
            ProverBackend::Fk20 => {
                let coefficients = self.fk20.coefficients(&frs_from_bytes(blob)?);
                let proofs = self.fk20.prove_coefficients(coefficients.clone());
                Ok((
                    self.fk20
                        .cells(coefficients)
                        .iter()
                        .map(|c| Cell::from_frs(c))
                        .collect(),
                    Proof::from_projective(&proofs),
                ))
            }
        }
    }

    /// EIP-7594 `recover_cells_and_kzg_proofs`: all 128 cells and proofs of a row from at least
    /// 64 of its cells, indices strictly ascending.
    pub fn recover_cells_and_kzg_proofs(
        &self,
        cell_indices: &[u64],
        cells: &[&[u8]],
    ) -> Result<(Vec<Cell>, Vec<Proof>)> {
        if cell_indices.len() != cells.len() {
            return Err(KzgError::LengthMismatch {
                what: format!("{} cell indices, {} cells", cell_indices.len(), cells.len()),
            });
        }
        let refs = cells
            .iter()
            .map(|c| cell_ref(c))
            .collect::<Result<Vec<_>>>()?;
        match self.backend {
            ProverBackend::CKzg => {
                let cs: Vec<c_kzg::Cell> = refs.iter().map(|c| c_kzg::Cell::new(**c)).collect();
                let (cells, proofs) = self
                    .ckzg()
                    .recover_cells_and_kzg_proofs(cell_indices, &cs)
                    .map_err(ck_err)?;
                Ok(from_ckzg(&cells[..], &proofs[..]))
            }
            ProverBackend::Fk20 => self.recover_with_fk20(cell_indices, &refs),
        }
    }

    /// Recovery on [`ProverBackend::Fk20`]: the row decoder of `da-erasure`, then FK20 on the
    /// recovered blob (its first 64 cells).
    fn recover_with_fk20(
        &self,
        cell_indices: &[u64],
        cells: &[&[u8; da_types::consts::BYTES_PER_CELL]],
    ) -> Result<(Vec<Cell>, Vec<Proof>)> {
        if let Some(&bad) = cell_indices.iter().find(|i| **i >= CELLS_PER_ROW as u64) {
            return Err(KzgError::CellIndexOutOfRange {
                index: bad,
                max: CELLS_PER_ROW as u64 - 1,
            });
        }
        if let Some(at) = cell_indices.windows(2).position(|w| w[0] >= w[1]) {
            return Err(KzgError::UnsortedCellIndices {
                at: at + 1,
                index: cell_indices[at + 1],
                previous: cell_indices[at],
            });
        }
        let frs = cells
            .iter()
            .map(|c| frs_from_bytes(&c[..]))
            .collect::<std::result::Result<Vec<Vec<Fr>>, _>>()?;
        let mut by_index: Vec<Option<&[Fr]>> = vec![None; CELLS_PER_ROW];
        for (&i, c) in cell_indices.iter().zip(&frs) {
            by_index[i as usize] = Some(c);
        }
        let row = row_codec().recover(&by_index)?;
        let proofs = self.fk20.prove(&row[..FIELD_ELEMENTS_PER_ROW]);
        Ok((
            row.chunks_exact(FIELD_ELEMENTS_PER_CELL)
                .map(Cell::from_frs)
                .collect(),
            Proof::from_projective(&proofs),
        ))
    }
}
