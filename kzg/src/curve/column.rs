//! The column code of `specs/02-erasure.md` applied in G1: `k` original rows' commitments (or
//! one cell column's proofs) extended to the `k` parity rows, `C_r = Σ_i λ_{r,i} C_i`.
//!
//! The same map as `da_erasure::ColumnCodec::extend_fr` (interpolation on the `k`th roots of
//! unity in bit-reversed order, evaluation on the coset `ω_{2k}·H_k`), with the scalar
//! multiplications that dominate arranged to be as few and as batched as possible: the unscaled
//! inverse FFT and the forward FFT skip unit twiddles ([`G1Fft`]), and the `1/k` and the coset
//! shift `ω_{2k}^j` are fused into one multiplication per coefficient.

use da_erasure::field::{bit_reverse, root_of_unity};
use ekzg_bls12_381::ff::Field;

use super::{fft::G1Fft, glv::mul_many, Fr, G1};
use crate::error::{KzgError, Result};

/// Extends G1 columns of `k` points to their `k` parity points.
#[derive(Debug, Clone)]
pub(crate) struct G1ColumnCode {
    k: usize,
    fft: G1Fft,
    /// `1/k`.
    k_inv: Fr,
    /// `ω_{2k}`, the coset shift.
    shift: Fr,
}

impl G1ColumnCode {
    /// The code for `k` original rows (a valid square size).
    pub(crate) fn new(k: usize) -> Result<Self> {
        da_types::layout::check_k(k)?;
        Ok(Self {
            k,
            fft: G1Fft::new(k),
            k_inv: Fr::from(k as u64).invert().unwrap_or(Fr::ONE),
            shift: root_of_unity(2 * k),
        })
    }

    fn check_len(&self, got: usize) -> Result<()> {
        if got != self.k {
            return Err(KzgError::LengthMismatch {
                what: format!("a G1 column of {got} points for k = {}", self.k),
            });
        }
        Ok(())
    }

    /// Extends `k` points (rows `0..k`) to the `k` parity points (rows `k..2k`).
    pub(crate) fn extend(&self, original: &[G1]) -> Result<Vec<G1>> {
        self.check_len(original.len())?;
        if self.k == 1 {
            return Ok(original.to_vec());
        }
        let mut v = original.to_vec();
        bit_reverse(&mut v);
        self.fft.ifft_unscaled(&mut v);
        let mut scale = self.k_inv;
        for c in &mut v {
            *c *= scale;
            scale *= self.shift;
        }
        self.fft.fft(&mut v);
        bit_reverse(&mut v);
        Ok(v)
    }

    /// [`extend`](Self::extend) of many columns in place (each of `k` points becomes its `k`
    /// parity points), with every layer's multiplications by one twiddle batched across the
    /// columns ([`G1Fft::fft_many`]).
    pub(crate) fn extend_many(&self, columns: &mut [Vec<G1>]) -> Result<()> {
        for c in columns.iter() {
            self.check_len(c.len())?;
        }
        if self.k == 1 {
            return Ok(());
        }
        for c in columns.iter_mut() {
            bit_reverse(c);
        }
        self.fft.ifft_unscaled_many(columns);
        let mut scale = self.k_inv;
        let mut batch = Vec::with_capacity(columns.len());
        for j in 0..self.k {
            batch.clear();
            batch.extend(columns.iter().map(|c| c[j]));
            mul_many(&mut batch, &scale);
            for (c, p) in columns.iter_mut().zip(&batch) {
                c[j] = *p;
            }
            scale *= self.shift;
        }
        self.fft.fft_many(columns);
        for c in columns.iter_mut() {
            bit_reverse(c);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use da_erasure::ColumnCodec;
    use ekzg_bls12_381::group::Group;
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn batched_g1_extension_equals_one_column_at_a_time() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
        for k in [1usize, 2, 8] {
            let code = G1ColumnCode::new(k).expect("code");
            let cols: Vec<Vec<G1>> = (0..6)
                .map(|_| (0..k).map(|_| G1::random(&mut rng)).collect())
                .collect();
            let mut many = cols.clone();
            code.extend_many(&mut many).expect("many");
            for (c, got) in cols.iter().zip(&many) {
                assert_eq!(got, &code.extend(c).expect("one"), "k={k}");
            }
        }
    }

    #[test]
    fn g1_extension_matches_scalar_extension() {
        for k in [1usize, 2, 8] {
            let codec = ColumnCodec::new(k).expect("codec");
            let code = G1ColumnCode::new(k).expect("code");
            let vals: Vec<Fr> = (0..k as u64).map(|i| Fr::from(i * i + 1)).collect();
            let g = G1::generator();
            let pts: Vec<G1> = vals.iter().map(|v| g * v).collect();
            let ext = codec.extend_fr(&vals).expect("fr");
            let ext_g1 = code.extend(&pts).expect("g1");
            assert_eq!(ext.len(), ext_g1.len());
            for (a, b) in ext.iter().zip(&ext_g1) {
                assert_eq!(g * a, *b, "k={k}");
            }
        }
        assert!(G1ColumnCode::new(3).is_err());
        assert!(G1ColumnCode::new(4)
            .expect("code")
            .extend(&[G1::generator(); 3])
            .is_err());
    }
}
