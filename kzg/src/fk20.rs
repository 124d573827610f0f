//! FK20: all 128 EIP-7594 cell proofs of one row at once (`specs/03-kzg.md`, "Proving").
//!
//! This module owns the algorithm (domains, the Toeplitz/circulant embedding, the commitment from
//! FK20's spare output); the point arithmetic it runs is in `crate::curve`. The algorithm is the
//! one `rust_eth_kzg` (`ekzg-multi-open`) implements, and the proofs are equal to its and to
//! c-kzg's, point for point (tests below). Three things differ, all for speed on the producer's
//! hot path:
//! - **The fixed-base MSM stage** (128 MSMs of 64 points per row, two thirds of the library's
//!   time) sums every window of a few slots at a time in batched affine additions
//!   ([`FixedBaseTables`]), so one field inversion per tree level is shared by thousands of
//!   additions. The sum handles `P + P` and `P + (−P)` exactly, where the library assumes they
//!   never occur.
//! - **G1 FFTs** skip unit twiddles and identity inputs ([`G1Fft`]).
//! - The circulant IFFT's `1/128` is folded into the scalars (free in `Fr`) instead of 64
//!   G1 scalar multiplications, and the cells' coset evaluations are only computed on request.

use da_erasure::field::bit_reverse;
use ekzg_bls12_381::{ff::Field, g1_batch_normalize, group::Group, lincomb::g1_lincomb};
use ekzg_polynomial::domain::Domain;
use rayon::prelude::*;

use crate::curve::{FixedBaseTables, Fr, G1Fft, G1Point, G1};

/// Field elements per row (polynomial coefficients).
const N: usize = da_types::consts::FIELD_ELEMENTS_PER_ROW;
/// Field elements per cell (points per proof, FK20's `ℓ`).
const L: usize = da_types::consts::FIELD_ELEMENTS_PER_CELL;
/// Proofs per row.
const PROOFS: usize = da_types::consts::CELLS_PER_ROW;
/// Dimension of each Toeplitz matrix (`N / L`), and the length of `h`.
const M: usize = N / L;
/// Size of the circulant embedding, the number of MSM slots.
const SLOTS: usize = 2 * M;

/// The FK20 prover for one row size, with its fixed bases (optionally with window tables).
pub(crate) struct Fk20 {
    poly_domain: Domain,
    circulant: Domain,
    eval_domain: Domain,
    g1fft: G1Fft,
    bases: Bases,
    /// `[τ^t]` for the top `L` coefficients, `t ∈ N − L .. N` (the part of the commitment the
    /// circulant product leaves out).
    top_srs: Vec<G1Point>,
}

enum Bases {
    /// `[slot][l]`: one Pippenger MSM per slot (verifiers and tests; no tables to build).
    Plain(Vec<Vec<G1Point>>),
    /// Signed-window tables for every base, summed in batched affine additions.
    Tables(FixedBaseTables),
}

impl std::fmt::Debug for Fk20 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tables = match &self.bases {
            Bases::Plain(_) => None,
            Bases::Tables(t) => Some(t.window_bits()),
        };
        f.debug_struct("Fk20")
            .field("window_bits", &tables)
            .finish()
    }
}

impl Fk20 {
    /// Builds the prover from the monomial SRS (`N` points); `window_bits` builds the fixed-base
    /// tables (`Some(10)`: ~400 MB, about a second on two cores), `None` keeps only the bases.
    pub(crate) fn new(g1_monomial: &[G1Point], window_bits: Option<usize>) -> Self {
        assert!(g1_monomial.len() >= N, "the SRS is shorter than a row");
        let circulant = Domain::new(SLOTS);
        // The vectors the Toeplitz matrices multiply: the SRS reversed, without its last `L`
        // points, split into `L` strided vectors of `M − 1` points, padded to `M`.
        let reversed: Vec<G1Point> = g1_monomial[..N].iter().rev().skip(L).copied().collect();
        let vectors: Vec<Vec<G1Point>> = (0..L)
            .into_par_iter()
            .map(|l| {
                let mut v: Vec<G1> = reversed
                    .iter()
                    .skip(l)
                    .step_by(L)
                    .map(|p| G1::from(*p))
                    .collect();
                v.resize(M, G1::identity());
                g1_batch_normalize(&circulant.fft_g1(v))
            })
            .collect();
        // Transposed: slot `i` holds the `i`th FFT output of every vector.
        let per_slot: Vec<Vec<G1Point>> = (0..SLOTS)
            .map(|i| vectors.iter().map(|v| v[i]).collect())
            .collect();
        let bases = match window_bits {
            None => Bases::Plain(per_slot),
            Some(wbits) => Bases::Tables(FixedBaseTables::new(&per_slot, wbits)),
        };
        Self {
            poly_domain: Domain::new(N),
            circulant,
            eval_domain: Domain::new(2 * N),
            g1fft: G1Fft::new(PROOFS),
            bases,
            top_srs: g1_monomial[N - L..N].to_vec(),
        }
    }

    /// The polynomial's coefficients from a row's `N` evaluations (blob order).
    pub(crate) fn coefficients(&self, data: &[Fr]) -> Vec<Fr> {
        let mut d = data.to_vec();
        bit_reverse(&mut d);
        self.poly_domain.ifft_scalars(d).0
    }

    /// The row's `2N` evaluations grouped into its 128 cells (EIP-7594 order).
    pub(crate) fn cells(&self, coefficients: Vec<Fr>) -> Vec<Vec<Fr>> {
        let mut evals = self.eval_domain.fft_scalars(coefficients.into());
        bit_reverse(&mut evals);
        evals.chunks_exact(L).map(<[Fr]>::to_vec).collect()
    }

    /// Whether the fixed-base tables were built (the fast path for producers).
    pub(crate) fn has_tables(&self) -> bool {
        matches!(self.bases, Bases::Tables(_))
    }

    /// The 128 cell proofs of a row given by its `N` evaluations, in cell order.
    pub(crate) fn prove(&self, data: &[Fr]) -> Vec<G1> {
        assert_eq!(data.len(), N, "FK20 row of the wrong length");
        self.prove_coefficients(self.coefficients(data))
    }

    /// The 128 cell proofs of a polynomial in coefficient form.
    pub(crate) fn prove_coefficients(&self, coeffs: Vec<Fr>) -> Vec<G1> {
        let (_, h) = self.commit_and_h(coeffs);
        self.proofs_from_h(h)
    }

    /// FK20's first phase for a polynomial in coefficient form: its commitment and `h`, the
    /// `M` points whose FFT are the proofs.
    ///
    /// The commitment comes almost free: output `SLOTS − 1` of the circulant product, which FK20
    /// discards, is `Σ_{t < N − L} c_t·[τ^t]` (the Toeplitz row above the first), so only the top
    /// `L` coefficients need their own (64-point) MSM. This replaces a 4096-point MSM per row
    /// (`specs/03-kzg.md`).
    pub(crate) fn commit_and_h(&self, coeffs: Vec<Fr>) -> (G1, Vec<G1>) {
        let (top, mut h) = self.h_hat(coeffs);
        self.g1fft.ifft_unscaled(&mut h);
        Self::finish_h(top, h)
    }

    /// [`commit_and_h`](Self::commit_and_h) for many rows: the MSM stages in parallel, then
    /// the inverse FFTs batched (`G1Fft::ifft_unscaled_many`) in one chunk per thread.
    pub(crate) fn commit_and_h_many(&self, rows: Vec<Vec<Fr>>) -> Vec<(G1, Vec<G1>)> {
        let (tops, mut hats): (Vec<G1>, Vec<Vec<G1>>) =
            rows.into_par_iter().map(|c| self.h_hat(c)).unzip();
        let chunk = hats.len().div_ceil(rayon::current_num_threads()).max(1);
        hats.par_chunks_mut(chunk)
            .for_each(|c| self.g1fft.ifft_unscaled_many(c));
        tops.into_iter()
            .zip(hats)
            .map(|(top, h)| Self::finish_h(top, h))
            .collect()
    }

    /// The commitment (spare output plus the top coefficients' part) and `h`.
    fn finish_h(top: G1, mut h: Vec<G1>) -> (G1, Vec<G1>) {
        let commitment = h[SLOTS - 1] + top;
        h.truncate(M);
        (commitment, h)
    }

    /// The MSM stage: the top coefficients' part of the commitment and `ĥ` (before the inverse
    /// FFT, whose `1/SLOTS` is already applied).
    fn h_hat(&self, mut coeffs: Vec<Fr>) -> (G1, Vec<G1>) {
        assert_eq!(coeffs.len(), N, "FK20 polynomial of the wrong length");
        let top = g1_lincomb(&self.top_srs, &coeffs[N - L..]).unwrap_or(G1::identity());
        // The circulant product ends with an inverse FFT whose 1/SLOTS is applied here, in Fr.
        let inv = Fr::from(SLOTS as u64).invert().unwrap_or(Fr::ONE);
        for c in &mut coeffs {
            *c *= inv;
        }
        coeffs.reverse();
        // Toeplitz matrix `l` has first row `coeffs[l], coeffs[l + L], ...` and first column
        // `(coeffs[l], 0, ..., 0)`; its circulant embedding's defining vector is FFT'd.
        let ffts: Vec<Vec<Fr>> = (0..L)
            .map(|l| {
                let row: Vec<Fr> = coeffs.iter().skip(l).step_by(L).copied().collect();
                let mut circ = vec![Fr::ZERO; SLOTS];
                circ[0] = row[0];
                // Second half: the row rotated left by one and reversed, first entry zero.
                for j in 1..M {
                    circ[M + j] = row[M - j];
                }
                self.circulant.fft_scalars(circ.into())
            })
            .collect();
        let scalars: Vec<Vec<Fr>> = (0..SLOTS)
            .map(|i| ffts.iter().map(|f| f[i]).collect())
            .collect();
        let h = match &self.bases {
            Bases::Plain(per_slot) => per_slot
                .iter()
                .zip(&scalars)
                .map(|(b, s)| g1_lincomb(b, s).unwrap_or(G1::identity()))
                .collect(),
            Bases::Tables(t) => t.msms(&scalars),
        };
        (top, h)
    }

    /// [`proofs_from_h`](Self::proofs_from_h) for many rows, the FFTs batched in one chunk per
    /// thread.
    pub(crate) fn proofs_from_h_many(&self, mut hs: Vec<Vec<G1>>) -> Vec<Vec<G1>> {
        for h in &mut hs {
            h.resize(PROOFS, G1::identity());
        }
        let chunk = hs.len().div_ceil(rayon::current_num_threads()).max(1);
        hs.par_chunks_mut(chunk).for_each(|c| {
            self.g1fft.fft_many(c);
            for h in c {
                bit_reverse(h);
            }
        });
        hs
    }

    /// FK20's second phase: the 128 cell proofs (cell order) from `h`.
    pub(crate) fn proofs_from_h(&self, mut h: Vec<G1>) -> Vec<G1> {
        h.resize(PROOFS, G1::identity());
        self.g1fft.fft(&mut h);
        bit_reverse(&mut h);
        h
    }
}

#[cfg(test)]
mod tests {
    use ekzg_bls12_381::fixed_base_msm::UsePrecomp;
    use ekzg_multi_open::{commit_key::CommitKey, Prover, ProverInput};
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;

    fn rng(seed: u64) -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(seed)
    }

    #[test]
    fn proofs_equal_the_libraries() {
        let setup = rust_eth_kzg::TrustedSetup::default();
        let reference = Prover::new(
            CommitKey::new(setup.g1_monomial.clone()),
            N,
            L,
            2 * N,
            UsePrecomp::No,
        );
        let plain = Fk20::new(&setup.g1_monomial, None);
        let tables = Fk20::new(&setup.g1_monomial, Some(4));
        let odd_tables = Fk20::new(&setup.g1_monomial, Some(7));
        let mut r = rng(3);
        let random: Vec<Fr> = (0..N).map(|_| Fr::random(&mut r)).collect();
        let mut sparse = vec![Fr::ZERO; N];
        sparse[7] = Fr::ONE;
        sparse[N - 1] = -Fr::ONE;
        for data in [random, sparse, vec![Fr::ZERO; N]] {
            let (want, want_cells) =
                reference.compute_multi_opening_proofs(ProverInput::Data(data.clone()));
            let want: Vec<G1> = want.iter().map(|p| G1::from(*p)).collect();
            assert_eq!(plain.prove(&data), want);
            assert_eq!(tables.prove(&data), want);
            assert_eq!(odd_tables.prove(&data), want);
            assert_eq!(plain.cells(plain.coefficients(&data)), want_cells);
            let commitment = G1::from(reference.commit(ProverInput::Data(data.clone())));
            for fk in [&plain, &tables] {
                let (c, h) = fk.commit_and_h(fk.coefficients(&data));
                assert_eq!(
                    c, commitment,
                    "commitment from the circulant's spare output"
                );
                assert_eq!(fk.proofs_from_h(h.clone()), want);
                let many = fk.commit_and_h_many(vec![fk.coefficients(&data); 3]);
                assert!(many.iter().all(|(c2, h2)| *c2 == c && *h2 == h));
                let proofs = fk.proofs_from_h_many(vec![h; 3]);
                assert!(proofs.iter().all(|p| *p == want));
            }
        }
    }
}
