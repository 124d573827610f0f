//! [`KzgVerifier`]: every check a light client or a full node runs (`specs/03-kzg.md`), and of
//! a prover's work only the one-point opening a rollup's proof of publication needs.
//!
//! It needs c-kzg's settings for the embedded Ethereum trusted setup (no fixed-base tables) and
//! nothing else: no FK20 bases, no monomial commit key, no `rust_eth_kzg` context. c-kzg's loader
//! still computes its own FK20 columns (most of its ~1–3 s, and not optional in its API), so
//! [`KzgVerifier::new`] returns at once and loads the settings on a background thread.
//!
//! Cell batches ([`KzgVerifier::verify_cells`], [`KzgVerifier::verify_cell_kzg_proof_batch`]:
//! everything a light client checks) never wait for it: until c-kzg's settings are loaded they
//! run on the light verifier (`crate::light`: `ekzg-multi-open` on the 65+65-point verification
//! key, built in milliseconds), afterwards on c-kzg ([`CellBackend`]). Blob and point-opening
//! checks run on **c-kzg** and wait for the load; the commitment extension check and
//! [`KzgVerifier::extend_commitments`] need no setup and are our own G1 arithmetic
//! (`crate::curve`). `kzg/examples/contexts.rs` measures all of this.
//!
//! Every method validates lengths first, then deserializes, computes and serializes.
//! Verification methods return `Ok(false)` for well-formed inputs whose proof fails and `Err`
//! for malformed inputs, as the consensus-spec vectors require.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc, Once, OnceLock,
};

use da_erasure::ColumnCodec;
use da_types::{consts::CELLS_PER_ROW, layout::check_k, CellIndex};
use ekzg_bls12_381::{ff::Field, group::Group, lincomb::g1_lincomb, reduce_bytes_to_scalar_bias};

use crate::{
    ckzg::{b48, blob_ref, cell_ref, check_len, ck_err},
    curve::{Fr, G1ColumnCode, G1},
    error::{KzgError, Result},
    light::LightVerifier,
    types::{Cell, Commitment, Proof, VerifiedCell},
};

/// Set once c-kzg's settings without tables are loaded (by the background load or any check).
static CKZG_READY: AtomicBool = AtomicBool::new(false);

/// Which implementation checks a cell batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellBackend {
    /// c-kzg once its settings are loaded, the light verifier until then (the default).
    Auto,
    /// c-kzg (waits for its settings).
    CKzg,
    /// `ekzg-multi-open` on the verification key alone (never waits for c-kzg).
    Light,
}

/// Verification of cells, blobs, point openings and the commitment extension; cheap to build
/// and to clone (it names process-wide c-kzg settings).
#[derive(Clone)]
pub struct KzgVerifier {
    /// c-kzg's table width for the settings this verifier uses (0 unless a c-kzg prover with
    /// tables shares them).
    ckzg_precompute: u64,
}

impl std::fmt::Debug for KzgVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KzgVerifier").finish_non_exhaustive()
    }
}

impl Default for KzgVerifier {
    fn default() -> Self {
        Self::new()
    }
}

impl KzgVerifier {
    /// A verifier on the embedded Ethereum mainnet trusted setup. Returns at once: a background
    /// thread (once per process) builds the light cell verifier, then loads c-kzg's settings;
    /// cell checks never wait for c-kzg, the other checks that need it do (see
    /// [`wait_ready`](Self::wait_ready)).
    pub fn new() -> Self {
        static LOAD: Once = Once::new();
        LOAD.call_once(|| {
            // If no thread can be spawned, the first check loads the setup instead.
            let _ = std::thread::Builder::new()
                .name("kzg-setup".into())
                .spawn(|| {
                    // The light verifier first (milliseconds): a cell check arriving meanwhile
                    // waits only for it, never for c-kzg.
                    let _ = LightVerifier::shared();
                    c_kzg::ethereum_kzg_settings(0);
                    CKZG_READY.store(true, Ordering::Release);
                });
        });
        Self { ckzg_precompute: 0 }
    }

    /// Builds the light cell verifier now (a few milliseconds, once per process) instead of on
    /// the first cell check that needs it; for callers that want the cost up front.
    pub fn warm_light(&self) -> Result<()> {
        LightVerifier::shared().map(|_| ())
    }

    /// Whether a cell check would run on c-kzg now (its settings are loaded) rather than on
    /// the light verifier.
    pub fn ckzg_ready(&self) -> bool {
        self.ckzg_precompute != 0 || CKZG_READY.load(Ordering::Acquire)
    }

    /// A verifier on settings a prover has loaded (possibly with c-kzg's tables).
    pub(crate) fn with_settings(ckzg_precompute: u64) -> Self {
        if ckzg_precompute == 0 {
            CKZG_READY.store(true, Ordering::Release);
        }
        Self { ckzg_precompute }
    }

    /// Blocks until c-kzg's settings are loaded; every check that needs them does this itself
    /// (cell checks do not), so this is only for callers that want the cost up front (or
    /// measured).
    pub fn wait_ready(&self) {
        self.ckzg();
    }

    /// A process-wide verifier.
    pub fn shared() -> Arc<Self> {
        static V: OnceLock<Arc<KzgVerifier>> = OnceLock::new();
        V.get_or_init(|| Arc::new(Self::new())).clone()
    }

    /// c-kzg's settings (loading them, or waiting for the background load, the first time).
    pub(crate) fn ckzg(&self) -> &'static c_kzg::KzgSettings {
        let s = c_kzg::ethereum_kzg_settings(self.ckzg_precompute);
        if self.ckzg_precompute == 0 {
            CKZG_READY.store(true, Ordering::Release);
        }
        s
    }

    /// EIP-7594 `verify_cell_kzg_proof_batch`: `commitments[i]` is the commitment of the row
    /// holding cell `i`. `Ok(false)` when well-formed inputs fail to verify. Runs on c-kzg once
    /// its settings are loaded and on the light verifier until then ([`CellBackend::Auto`]).
    pub fn verify_cell_kzg_proof_batch(
        &self,
        commitments: &[&[u8]],
        cell_indices: &[u64],
        cells: &[&[u8]],
        proofs: &[&[u8]],
    ) -> Result<bool> {
        self.verify_cell_kzg_proof_batch_on(
            CellBackend::Auto,
            commitments,
            cell_indices,
            cells,
            proofs,
        )
    }

    /// [`verify_cell_kzg_proof_batch`](Self::verify_cell_kzg_proof_batch) on a chosen backend
    /// (both give the same answer on every input; tests and measurements pick one).
    pub fn verify_cell_kzg_proof_batch_on(
        &self,
        backend: CellBackend,
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
        let use_ckzg = match backend {
            CellBackend::Auto => self.ckzg_ready(),
            CellBackend::CKzg => true,
            CellBackend::Light => false,
        };
        if !use_ckzg {
            return LightVerifier::shared()?.verify_cell_batch(&coms, cell_indices, &cs, &prfs);
        }
        let coms: Vec<_> = coms.into_iter().map(|c| c_kzg::Bytes48::new(*c)).collect();
        let prfs: Vec<_> = prfs.into_iter().map(|p| c_kzg::Bytes48::new(*p)).collect();
        let cs: Vec<_> = cs.into_iter().map(|c| c_kzg::Cell::new(*c)).collect();
        self.ckzg()
            .verify_cell_kzg_proof_batch(&coms, cell_indices, &cs, &prfs)
            .map_err(ck_err)
    }

    /// Verifies cells against the `2k` row commitments in one batch
    /// ([`verify_cell_kzg_proof_batch`](Self::verify_cell_kzg_proof_batch): c-kzg once loaded,
    /// the light verifier until then) and returns them as [`VerifiedCell`]s; any failure rejects
    /// the whole batch.
    pub fn verify_cells(
        &self,
        commitments: &[Commitment],
        cells: Vec<(CellIndex, Cell, Proof)>,
    ) -> Result<Vec<VerifiedCell>> {
        if let Some((idx, _, _)) = cells.iter().find(|(i, _, _)| {
            i.row as usize >= commitments.len() || i.col as usize >= CELLS_PER_ROW
        }) {
            return Err(da_types::Error::CellOutOfRange {
                row: idx.row as usize,
                col: idx.col as usize,
                rows: commitments.len(),
                cols: CELLS_PER_ROW,
            }
            .into());
        }
        let coms: Vec<&[u8]> = cells
            .iter()
            .map(|(i, _, _)| &commitments[i.row as usize].0[..])
            .collect();
        let idx: Vec<u64> = cells.iter().map(|(i, _, _)| u64::from(i.col)).collect();
        let cs: Vec<&[u8]> = cells.iter().map(|(_, c, _)| c.as_bytes()).collect();
        let ps: Vec<&[u8]> = cells.iter().map(|(_, _, p)| &p.0[..]).collect();
        if !self.verify_cell_kzg_proof_batch(&coms, &idx, &cs, &ps)? {
            return Err(KzgError::InvalidProof(format!(
                "batch of {} cells does not verify",
                cells.len()
            )));
        }
        Ok(cells
            .into_iter()
            .map(|(index, cell, proof)| VerifiedCell { index, cell, proof })
            .collect())
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
        self.ckzg()
            .verify_blob_kzg_proof_batch(&bs, &cs, &ps)
            .map_err(ck_err)
    }

    /// EIP-4844 `verify_kzg_proof` on c-kzg (what the L1 point-evaluation precompile checks).
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
        self.ckzg()
            .verify_kzg_proof(
                &c_kzg::Bytes48::new(commitment.0),
                &z,
                &y,
                &c_kzg::Bytes48::new(proof.0),
            )
            .map_err(ck_err)
    }

    /// EIP-4844 `compute_kzg_proof` on c-kzg: opens a row at `z`, returning the proof and
    /// `y = p(z)` (verify with [`KzgVerifier::verify_kzg_proof`] or `pure`). A prover's job, but
    /// it needs only c-kzg's settings, so a client proving one element (a rollup's proof of
    /// publication) needs no [`KzgProver`](crate::KzgProver).
    pub fn compute_kzg_proof(&self, blob: &[u8], z: &[u8]) -> Result<(Proof, [u8; 32])> {
        let blob = blob_ref(blob)?;
        check_len("z", z, 32)?;
        let z = c_kzg::Bytes32::from_bytes(z).map_err(ck_err)?;
        let (proof, y) = self
            .ckzg()
            .compute_kzg_proof(&c_kzg::Blob::new(*blob), &z)
            .map_err(ck_err)?;
        let mut y_out = [0u8; 32];
        y_out.copy_from_slice(y.as_slice());
        Ok((Proof(proof.to_bytes().into_inner()), y_out))
    }

    /// Extends `k` original row commitments to all `2k` by linearity (`specs/03-kzg.md`, "Row
    /// commitments").
    pub fn extend_commitments(&self, original: &[Commitment]) -> Result<Vec<Commitment>> {
        let code = G1ColumnCode::new(original.len())?;
        let pts = original
            .iter()
            .map(|c| c.decompress().map(|p| G1::from(&p)))
            .collect::<Result<Vec<_>>>()?;
        let parity = code.extend(&pts)?;
        let mut all = original.to_vec();
        all.extend(Commitment::from_projective(&parity));
        Ok(all)
    }

    /// Accepts `2k` commitments only if they are a valid column extension of the first `k`
    /// (`specs/03-kzg.md`, `verify_extension`).
    ///
    /// With `x_i` the row points and `f(x) = Σ_{m<k} ρ^m x^m` for a Fiat-Shamir `ρ`, every
    /// codeword satisfies `Σ_i x_i f(x_i) C_i = 0` (the dual code of RS on a full subgroup); a
    /// non-codeword passes with probability at most `(k-1)/r`. One MSM of size `2k`.
    pub fn verify_extension(&self, commitments: &[Commitment]) -> Result<bool> {
        let n = commitments.len();
        if n < 2 || n % 2 != 0 {
            return Err(KzgError::InvalidLength {
                what: "commitment list (2k entries)",
                got: n,
                expected: n.max(2).next_power_of_two(),
            });
        }
        let k = n / 2;
        check_k(k)?;
        let pts = commitments
            .iter()
            .map(Commitment::decompress)
            .collect::<Result<Vec<_>>>()?;
        let codec = ColumnCodec::new(k)?;
        let mut h = blake3::Hasher::new();
        h.update(b"da/verify_extension/v1");
        for c in commitments {
            h.update(&c.0);
        }
        let rho = reduce_bytes_to_scalar_bias(*h.finalize().as_bytes());
        let weights: Vec<Fr> = codec
            .points()
            .iter()
            .map(|x| {
                // x · f(x) by Horner over ρ·x.
                let rx = rho * x;
                let f = (0..k).fold(Fr::ZERO, |acc, _| acc * rx + Fr::ONE);
                *x * f
            })
            .collect();
        let sum = g1_lincomb(&pts, &weights).ok_or_else(|| KzgError::LengthMismatch {
            what: "points and weights".into(),
        })?;
        Ok(bool::from(sum.is_identity()))
    }
}
