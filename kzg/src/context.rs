//! [`KzgContext`]: the trusted setup and the EIP-4844/EIP-7594 operations, named as in the specs.
//!
//! Every method validates lengths first, then deserializes, computes and serializes. Verification
//! methods return `Ok(false)` for well-formed inputs whose proof fails and `Err` for malformed
//! inputs, as the consensus-spec vectors require.

use std::sync::{Arc, OnceLock};

use da_erasure::field::frs_from_bytes;
use da_types::consts::{BYTES_PER_CELL, BYTES_PER_ROW, CELLS_PER_ROW};
use ekzg_bls12_381::fixed_base_msm::UsePrecomp;
use ekzg_multi_open::commit_key::CommitKey;

use crate::{
    error::{KzgError, Result},
    fk20::Fk20,
    types::{Cell, Commitment, Proof},
};

/// Which library runs the per-row spec operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Backend {
    /// `c-kzg` (Ethereum's C reference, blst).
    CKzg,
    /// `rust_eth_kzg` (pure-Rust FK20 over blstrs). Default for spec operations; the square
    /// mixes both where each measured better (`specs/03-kzg.md`).
    #[default]
    RustEthKzg,
}

/// How to build a [`KzgContext`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KzgConfig {
    /// The backend for spec operations.
    pub backend: Backend,
    /// Precompute fixed-base tables for proving (faster proofs, ~hundreds of MiB, seconds to
    /// build). Producers want it; verifiers do not.
    pub precompute: bool,
}

impl KzgConfig {
    /// Default: the faster backend, no prover tables (verification and tests).
    pub const DEFAULT: Self = Self {
        backend: Backend::RustEthKzg,
        precompute: false,
    };

    /// Sets the backend.
    pub fn with_backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// Enables or disables prover precomputation.
    pub fn with_precompute(mut self, precompute: bool) -> Self {
        self.precompute = precompute;
        self
    }
}

impl Default for KzgConfig {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Window of c-kzg's fixed-base tables when precomputing (its recommended 8).
const PRECOMP_WIDTH: usize = 8;
/// Window of our FK20's tables: 10 bits, ~400 MB in 2 MiB pages. Against 8 bits (~100 MB) it
/// makes a k = 64 square ~6% faster (`benches/RESULTS.md`); 11 and 12 bits add 0.4 and 1.2 GB
/// for 1–2% more.
const FK20_WINDOW_BITS: usize = 10;

/// The trusted setup and every KZG operation; build once, share with `Arc`.
pub struct KzgContext {
    backend: Backend,
    pub(crate) ckzg: &'static c_kzg::KzgSettings,
    eth: rust_eth_kzg::DASContext,
    pub(crate) fk20: Fk20,
    commit_key: CommitKey,
}

impl std::fmt::Debug for KzgContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KzgContext")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

fn ck_err(e: c_kzg::Error) -> KzgError {
    KzgError::Backend {
        backend: "c-kzg",
        message: format!("{e:?}"),
    }
}

fn eth_err(e: rust_eth_kzg::Error) -> KzgError {
    KzgError::Backend {
        backend: "rust_eth_kzg",
        message: format!("{e:?}"),
    }
}

/// Converts c-kzg's cells and proofs into ours.
fn from_ckzg(cells: &[c_kzg::Cell], proofs: &[c_kzg::KzgProof]) -> (Vec<Cell>, Vec<Proof>) {
    (
        cells.iter().map(|c| Cell(Box::new(c.to_bytes()))).collect(),
        proofs
            .iter()
            .map(|p| Proof(p.to_bytes().into_inner()))
            .collect(),
    )
}

fn check_len(what: &'static str, b: &[u8], expected: usize) -> Result<()> {
    if b.len() != expected {
        return Err(KzgError::InvalidLength {
            what,
            got: b.len(),
            expected,
        });
    }
    Ok(())
}

fn blob_ref(b: &[u8]) -> Result<&[u8; BYTES_PER_ROW]> {
    b.try_into().map_err(|_| KzgError::InvalidLength {
        what: "blob",
        got: b.len(),
        expected: BYTES_PER_ROW,
    })
}

fn cell_ref(b: &[u8]) -> Result<&[u8; BYTES_PER_CELL]> {
    b.try_into().map_err(|_| KzgError::InvalidLength {
        what: "cell",
        got: b.len(),
        expected: BYTES_PER_CELL,
    })
}

fn b48<'a>(what: &'static str, b: &'a [u8]) -> Result<&'a [u8; 48]> {
    b.try_into().map_err(|_| KzgError::InvalidLength {
        what,
        got: b.len(),
        expected: 48,
    })
}

impl KzgContext {
    /// Builds a context from the embedded Ethereum mainnet trusted setup.
    pub fn new(config: KzgConfig) -> Self {
        // c-kzg's tables only speed up its own FK20 (cells, proofs, recovery), which runs only
        // with the c-kzg backend; the default backend uses ours (`fk20.rs`).
        let precompute = if config.precompute && matches!(config.backend, Backend::CKzg) {
            PRECOMP_WIDTH as u64
        } else {
            0
        };
        let setup = rust_eth_kzg::TrustedSetup::default();
        let fk20 = Fk20::new(
            &setup.g1_monomial,
            config.precompute.then_some(FK20_WINDOW_BITS),
        );
        Self {
            backend: config.backend,
            ckzg: c_kzg::ethereum_kzg_settings(precompute),
            eth: rust_eth_kzg::DASContext::new(&setup, UsePrecomp::No),
            commit_key: CommitKey::new(setup.g1_monomial.clone()),
            fk20,
        }
    }

    /// A process-wide context with the default config (verification-oriented).
    pub fn shared() -> Arc<Self> {
        static CTX: OnceLock<Arc<KzgContext>> = OnceLock::new();
        CTX.get_or_init(|| Arc::new(Self::new(KzgConfig::DEFAULT)))
            .clone()
    }

    /// The backend running spec operations.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Switches the backend that runs spec operations.
    pub fn with_backend(self, backend: Backend) -> Self {
        Self { backend, ..self }
    }

    /// EIP-4844 `blob_to_kzg_commitment`.
    pub fn blob_to_kzg_commitment(&self, blob: &[u8]) -> Result<Commitment> {
        let blob = blob_ref(blob)?;
        match self.backend {
            Backend::CKzg => {
                let b = c_kzg::Blob::new(*blob);
                let c = self.ckzg.blob_to_kzg_commitment(&b).map_err(ck_err)?;
                Ok(Commitment(c.to_bytes().into_inner()))
            }
            Backend::RustEthKzg => {
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
            Backend::CKzg => {
                let b = c_kzg::Blob::new(*blob);
                let (cells, proofs) = self.ckzg.compute_cells_and_kzg_proofs(&b).map_err(ck_err)?;
                Ok(from_ckzg(&cells[..], &proofs[..]))
            }
            Backend::RustEthKzg => {
                // Our FK20 (`fk20.rs`: rust-eth-kzg's algorithm, faster MSM and G1 FFTs), which
                // honours this context's precomputation setting.
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
            Backend::CKzg => {
                let cs: Vec<c_kzg::Cell> = refs.iter().map(|c| c_kzg::Cell::new(**c)).collect();
                let (cells, proofs) = self
                    .ckzg
                    .recover_cells_and_kzg_proofs(cell_indices, &cs)
                    .map_err(ck_err)?;
                Ok(from_ckzg(&cells[..], &proofs[..]))
            }
            Backend::RustEthKzg => {
                let (cells, proofs) = self
                    .eth
                    .recover_cells_and_kzg_proofs(cell_indices.to_vec(), refs)
                    .map_err(eth_err)?;
                Ok((
                    cells.into_iter().map(Cell).collect(),
                    proofs.map(Proof).to_vec(),
                ))
            }
        }
    }

    /// EIP-7594 `verify_cell_kzg_proof_batch`: `commitments[i]` is the commitment of the row
    /// holding cell `i`. `Ok(false)` when well-formed inputs fail to verify.
    pub fn verify_cell_kzg_proof_batch(
        &self,
        commitments: &[&[u8]],
        cell_indices: &[u64],
        cells: &[&[u8]],
        proofs: &[&[u8]],
    ) -> Result<bool> {
        self.verify_cell_batch_with(self.backend, commitments, cell_indices, cells, proofs)
    }

    /// [`Self::verify_cell_kzg_proof_batch`] on a given backend.
    pub(crate) fn verify_cell_batch_with(
        &self,
        backend: Backend,
        commitments: &[&[u8]],
        cell_indices: &[u64],
        cells: &[&[u8]],
        proofs: &[&[u8]],
    ) -> Result<bool> {
        let n = cells.len();
        if commitments.len() != n || cell_indices.len() != n || proofs.len() != n {
            return Err(KzgError::LengthMismatch {
                what: format!(
                    "{} commitments, {} cell indices, {} cells, {} proofs",
                    commitments.len(),
                    cell_indices.len(),
                    n,
                    proofs.len()
                ),
            });
        }
        if let Some(&bad) = cell_indices.iter().find(|i| **i >= CELLS_PER_ROW as u64) {
            return Err(KzgError::CellIndexOutOfRange {
                index: bad,
                max: CELLS_PER_ROW as u64 - 1,
            });
        }
        let coms = commitments
            .iter()
            .map(|c| b48("commitment", c))
            .collect::<Result<Vec<_>>>()?;
        let prfs = proofs
            .iter()
            .map(|p| b48("proof", p))
            .collect::<Result<Vec<_>>>()?;
        let cs = cells
            .iter()
            .map(|c| cell_ref(c))
            .collect::<Result<Vec<_>>>()?;
        match backend {
            Backend::CKzg => {
                let coms: Vec<c_kzg::Bytes48> =
                    coms.iter().map(|c| c_kzg::Bytes48::new(**c)).collect();
                let prfs: Vec<c_kzg::Bytes48> =
                    prfs.iter().map(|c| c_kzg::Bytes48::new(**c)).collect();
                let cs: Vec<c_kzg::Cell> = cs.iter().map(|c| c_kzg::Cell::new(**c)).collect();
                self.ckzg
                    .verify_cell_kzg_proof_batch(&coms, cell_indices, &cs, &prfs)
                    .map_err(ck_err)
            }
            Backend::RustEthKzg => {
                match self
                    .eth
                    .verify_cell_kzg_proof_batch(coms, cell_indices, cs, prfs)
                {
                    Ok(()) => Ok(true),
                    Err(e) if e.is_proof_invalid() => Ok(false),
                    Err(e) => Err(eth_err(e)),
                }
            }
        }
    }

    /// EIP-4844 `verify_blob_kzg_proof_batch` (c-kzg).
    pub fn verify_blob_kzg_proof_batch(
        &self,
        blobs: &[&[u8]],
        commitments: &[&[u8]],
        proofs: &[&[u8]],
    ) -> Result<bool> {
        if blobs.len() != commitments.len() || blobs.len() != proofs.len() {
            return Err(KzgError::LengthMismatch {
                what: format!(
                    "{} blobs, {} commitments, {} proofs",
                    blobs.len(),
                    commitments.len(),
                    proofs.len()
                ),
            });
        }
        let bs = blobs
            .iter()
            .map(|b| blob_ref(b).map(|b| c_kzg::Blob::new(*b)))
            .collect::<Result<Vec<_>>>()?;
        let cs = commitments
            .iter()
            .map(|c| b48("commitment", c).map(|c| c_kzg::Bytes48::new(*c)))
            .collect::<Result<Vec<_>>>()?;
        let ps = proofs
            .iter()
            .map(|c| b48("proof", c).map(|c| c_kzg::Bytes48::new(*c)))
            .collect::<Result<Vec<_>>>()?;
        self.ckzg
            .verify_blob_kzg_proof_batch(&bs, &cs, &ps)
            .map_err(ck_err)
    }

    /// EIP-4844 `compute_kzg_proof`: opens a row at `z`, returning the proof and `y = p(z)`.
    pub fn compute_kzg_proof(&self, blob: &[u8], z: &[u8]) -> Result<(Proof, [u8; 32])> {
        let blob = blob_ref(blob)?;
        check_len("z", z, 32)?;
        let z = c_kzg::Bytes32::from_bytes(z).map_err(ck_err)?;
        let (proof, y) = self
            .ckzg
            .compute_kzg_proof(&c_kzg::Blob::new(*blob), &z)
            .map_err(ck_err)?;
        let mut y_out = [0u8; 32];
        y_out.copy_from_slice(y.as_slice());
        Ok((Proof(proof.to_bytes().into_inner()), y_out))
    }

    /// EIP-4844 `verify_kzg_proof` (what the L1 point-evaluation precompile checks).
    pub fn verify_kzg_proof(
        &self,
        commitment: &Commitment,
        z: &[u8],
        y: &[u8],
        proof: &Proof,
    ) -> Result<bool> {
        check_len("z", z, 32)?;
        check_len("y", y, 32)?;
        let z = c_kzg::Bytes32::from_bytes(z).map_err(ck_err)?;
        let y = c_kzg::Bytes32::from_bytes(y).map_err(ck_err)?;
        self.ckzg
            .verify_kzg_proof(
                &c_kzg::Bytes48::new(commitment.0),
                &z,
                &y,
                &c_kzg::Bytes48::new(proof.0),
            )
            .map_err(ck_err)
    }
}
