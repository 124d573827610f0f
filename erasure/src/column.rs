//! The column code: `k` original rows extended to `2k` on the `2k`th roots of unity.
//!
//! Row `r` of the extended square sits at `x_r = ω_{2k}^{brp_{2k}(r)}` (bit-reversed order), so
//! rows `0..k` are the `k`th roots in bit-reversed order (systematic) and rows `k..2k` the coset
//! `ω_{2k}·H_k`. Extension is interpolation on `H_k` then evaluation on the coset: one inverse
//! FFT and one coset FFT of size `k`, over `Fr` for data and over G1 for commitments and proofs
//! (the map is linear, so `C_r = Σ λ_{r,i} C_i`).

use ekzg_bls12_381::{batch_inversion::batch_inverse, ff::Field};
use ekzg_polynomial::{domain::Domain, CosetFFT};

use crate::{
    error::{ErasureError, Result},
    field::{bit_reverse, reverse_bits, root_of_unity, Fr, G1},
    g1fft::G1Fft,
};

/// Encoder and decoder of the `[2k, k]` column code.
#[derive(Debug, Clone)]
pub struct ColumnCodec {
    k: usize,
    domain: Option<Domain>,
    coset: CosetFFT,
    g1fft: G1Fft,
    points: Vec<Fr>,
}

impl ColumnCodec {
    /// Builds the codec for `k` original rows (a power of two in `1..=K_MAX`).
    pub fn new(k: usize) -> Result<Self> {
        da_types::layout::check_k(k)?;
        let n = 2 * k;
        let w = root_of_unity(n);
        let bits = n.trailing_zeros();
        let points = (0..n)
            .map(|r| w.pow_vartime([reverse_bits(r, bits) as u64]))
            .collect();
        Ok(Self {
            k,
            domain: (k > 1).then(|| Domain::new(k)),
            coset: CosetFFT::new(w),
            g1fft: G1Fft::new(k),
            points,
        })
    }

    /// Number of original rows.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The evaluation points `x_r` of all `2k` rows, in row order.
    pub fn points(&self) -> &[Fr] {
        &self.points
    }

    fn check_len(&self, got: usize) -> Result<()> {
        if got != self.k {
            return Err(ErasureError::WrongLength {
                what: "column",
                got,
                expected: self.k,
            });
        }
        Ok(())
    }

    /// Extends `k` field elements (rows `0..k` of a column) to the `k` parity values (rows
    /// `k..2k`).
    pub fn extend_fr(&self, original: &[Fr]) -> Result<Vec<Fr>> {
        self.check_len(original.len())?;
        let Some(domain) = &self.domain else {
            return Ok(original.to_vec());
        };
        let mut natural = original.to_vec();
        bit_reverse(&mut natural);
        let coeffs = domain.ifft_scalars(natural);
        let mut parity = domain.coset_fft_scalars(coeffs, &self.coset);
        bit_reverse(&mut parity);
        Ok(parity)
    }

    /// Extends `k` G1 points (commitments or proofs of rows `0..k`) to the `k` parity points.
    pub fn extend_g1(&self, original: &[G1]) -> Result<Vec<G1>> {
        self.check_len(original.len())?;
        let Some(domain) = &self.domain else {
            return Ok(original.to_vec());
        };
        // G1 scalar multiplications dominate: the unscaled inverse FFT and the forward FFT skip
        // unit twiddles (`G1Fft`), and the 1/k and the coset shift ω_{2k}^j are fused into a
        // single multiplication per coefficient.
        let mut v = original.to_vec();
        bit_reverse(&mut v);
        self.g1fft.ifft_unscaled(&mut v);
        let mut scale = domain.domain_size_inv;
        for c in &mut v {
            *c *= scale;
            scale *= self.coset.generator;
        }
        self.g1fft.fft(&mut v);
        bit_reverse(&mut v);
        Ok(v)
    }

    /// [`extend_g1`](Self::extend_g1) of many columns at once, with every layer's
    /// multiplications by one twiddle batched across the columns (`G1Fft::fft_many`).
    pub fn extend_g1_many(&self, columns: &mut [Vec<G1>]) -> Result<()> {
        for c in columns.iter() {
            self.check_len(c.len())?;
        }
        let Some(domain) = &self.domain else {
            return Ok(());
        };
        for c in columns.iter_mut() {
            bit_reverse(c);
        }
        self.g1fft.ifft_unscaled_many(columns);
        let mut scale = domain.domain_size_inv;
        let mut batch = Vec::with_capacity(columns.len());
        for j in 0..self.k {
            batch.clear();
            batch.extend(columns.iter().map(|c| c[j]));
            crate::batch_mul::mul_many(&mut batch, &scale);
            for (c, p) in columns.iter_mut().zip(&batch) {
                c[j] = *p;
            }
            scale *= self.coset.generator;
        }
        self.g1fft.fft_many(columns);
        for c in columns.iter_mut() {
            bit_reverse(c);
        }
        Ok(())
    }

    /// Lagrange coefficients that give each row in `missing` from the values at `known` (exactly
    /// `k` distinct rows): `value[m] = Σ_j out[m][j] · value[known[j]]`.
    pub fn recovery_matrix(&self, known: &[usize], missing: &[usize]) -> Result<Vec<Vec<Fr>>> {
        self.check_len(known.len())?;
        let xs: Vec<Fr> = known.iter().map(|&r| self.points[r]).collect();
        // Barycentric weights w_j = 1 / Π_{i≠j} (x_j − x_i).
        let mut w: Vec<Fr> = xs
            .iter()
            .enumerate()
            .map(|(j, xj)| {
                xs.iter()
                    .enumerate()
                    .filter(|(i, _)| *i != j)
                    .fold(Fr::ONE, |acc, (_, xi)| acc * (*xj - xi))
            })
            .collect();
        batch_inverse(&mut w);
        missing
            .iter()
            .map(|&m| {
                let xm = self.points[m];
                let mut diffs: Vec<Fr> = xs.iter().map(|xj| xm - xj).collect();
                let ell = diffs.iter().fold(Fr::ONE, |acc, d| acc * d);
                batch_inverse(&mut diffs);
                Ok(diffs
                    .iter()
                    .zip(&w)
                    .map(|(inv, wj)| ell * wj * inv)
                    .collect())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use ekzg_bls12_381::group::Group;

    use super::*;

    fn eval(coeffs: &[Fr], x: Fr) -> Fr {
        coeffs.iter().rev().fold(Fr::ZERO, |acc, c| acc * x + c)
    }

    #[test]
    fn batched_g1_extension_equals_one_column_at_a_time() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(9);
        for k in [1usize, 2, 8] {
            let codec = ColumnCodec::new(k).expect("codec");
            let cols: Vec<Vec<G1>> = (0..6)
                .map(|_| (0..k).map(|_| G1::random(&mut rng)).collect())
                .collect();
            let mut many = cols.clone();
            codec.extend_g1_many(&mut many).expect("many");
            for (c, got) in cols.iter().zip(&many) {
                assert_eq!(got, &codec.extend_g1(c).expect("one"), "k={k}");
            }
        }
    }

    #[test]
    fn extension_evaluates_the_interpolant_on_the_coset() {
        for k in [1usize, 2, 4, 16] {
            let codec = ColumnCodec::new(k).expect("codec");
            let poly: Vec<Fr> = (0..k as u64).map(|i| Fr::from(i * 7 + 3)).collect();
            let all: Vec<Fr> = codec.points().iter().map(|x| eval(&poly, *x)).collect();
            assert_eq!(
                codec.extend_fr(&all[..k]).expect("extend"),
                all[k..].to_vec()
            );
            // The first k points are the kth roots of unity (systematic layout), the rest are not.
            for (r, x) in codec.points().iter().enumerate() {
                assert_eq!(x.pow_vartime([k as u64]) == Fr::ONE, r < k, "row {r}");
            }
        }
    }

    #[test]
    fn g1_extension_matches_scalar_extension() {
        let k = 8;
        let codec = ColumnCodec::new(k).expect("codec");
        let vals: Vec<Fr> = (0..k as u64).map(|i| Fr::from(i * i + 1)).collect();
        let g = G1::generator();
        let pts: Vec<G1> = vals.iter().map(|v| g * v).collect();
        let ext = codec.extend_fr(&vals).expect("fr");
        let ext_g1 = codec.extend_g1(&pts).expect("g1");
        for (a, b) in ext.iter().zip(&ext_g1) {
            assert_eq!(g * a, *b);
        }
    }

    #[test]
    fn recovery_matrix_interpolates_any_k_rows() {
        let k = 4;
        let codec = ColumnCodec::new(k).expect("codec");
        let vals: Vec<Fr> = (0..k as u64).map(|i| Fr::from(100 + i)).collect();
        let mut all = vals.clone();
        all.extend(codec.extend_fr(&vals).expect("extend"));
        let known = [1, 4, 6, 7];
        let missing = [0, 2, 3, 5];
        let m = codec.recovery_matrix(&known, &missing).expect("matrix");
        for (row, &mi) in m.iter().zip(&missing) {
            let v = row
                .iter()
                .zip(&known)
                .fold(Fr::ZERO, |acc, (c, &j)| acc + *c * all[j]);
            assert_eq!(v, all[mi]);
        }
        assert!(codec.recovery_matrix(&known[..3], &missing).is_err());
        assert!(ColumnCodec::new(3).is_err());
        assert!(codec.extend_fr(&vals[..3]).is_err());
    }
}
